//! `wecom drive upload|download|ls`: the wedrive crate's streamed block uploads, ranged and
//! resumable downloads and folder listings, with a progress bar on transfers.

use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wecom::wedrive::{Drive, DriveError, Progress, SortType};

use super::Ctx;
use crate::cli::DriveCmd;
use crate::error::CliError;

impl From<DriveError> for CliError {
    fn from(e: DriveError) -> Self {
        match e {
            DriveError::Wecom(e) => CliError::Api(e),
            other => CliError::Failed(other.to_string()),
        }
    }
}

/// A byte progress bar on stderr (hidden with `--json` or when stderr is not a terminal).
fn bar(ctx: &Ctx) -> Arc<ProgressBar> {
    let bar = if ctx.out.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    Arc::new(bar)
}

fn show(bar: &ProgressBar, p: Progress) {
    if let Some(total) = p.total {
        bar.set_length(total);
    }
    bar.set_position(p.done);
}

pub async fn run(ctx: &Ctx, cmd: DriveCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    match cmd {
        DriveCmd::Upload {
            file,
            space,
            folder,
            name,
            concurrency,
        } => {
            let bar = bar(ctx);
            let b = Arc::clone(&bar);
            let drive = Drive::new(&client)
                .concurrency(concurrency)
                .on_progress(move |p| show(&b, p));
            let folder = folder.unwrap_or_else(|| space.clone());
            let up = match name {
                Some(n) => drive.upload_path_as(&space, &folder, &n, &file).await,
                None => drive.upload_path(&space, &folder, &file).await,
            };
            bar.finish_and_clear();
            let up = up?;
            ctx.out.emit(
                &json!({
                    "fileid": up.fileid,
                    "size": up.size,
                    "sha1": up.sha1,
                    "hit_exist": up.hit_exist,
                    "blocks_sent": up.blocks_sent,
                }),
                || {
                    let how = if up.hit_exist {
                        "WeCom already had this content: nothing was sent".to_owned()
                    } else {
                        format!("{} blocks of 2 MB", up.blocks_sent)
                    };
                    format!(
                        "{}\n(uploaded {} bytes of {}; {how}; sha1 {})",
                        up.fileid,
                        up.size,
                        file.display(),
                        up.sha1
                    )
                },
            )
        }
        DriveCmd::Download {
            fileid,
            output,
            resume,
        } => {
            if output == Path::new("-") {
                let mut stdout = tokio::io::stdout();
                let n = Drive::new(&client).download(&fileid, &mut stdout).await?;
                eprintln!("wrote {n} bytes of {fileid} to stdout");
                return Ok(());
            }
            let bar = bar(ctx);
            let b = Arc::clone(&bar);
            let drive = Drive::new(&client).on_progress(move |p| show(&b, p));
            let n = if resume {
                drive.resume_to_path(&fileid, &output).await
            } else {
                drive.download_to_path(&fileid, &output).await
            };
            bar.finish_and_clear();
            let n = n?;
            ctx.out.emit(
                &json!({"fileid": fileid, "bytes": n, "path": output.display().to_string(), "resumed": resume}),
                || {
                    if resume {
                        format!("added {n} bytes to {}", output.display())
                    } else {
                        format!("wrote {n} bytes to {}", output.display())
                    }
                },
            )
        }
        DriveCmd::Ls { space, folder } => {
            let folder = folder.unwrap_or_else(|| space.clone());
            let items = Drive::new(&client)
                .list_all(&space, &folder, SortType::NameAsc)
                .await?;
            ctx.out.emit(&json!({ "items": items }), || {
                let mut out = String::new();
                for f in &items {
                    let kind = match f.file_type.as_ref().map(|t| t.code()) {
                        Some(1) => "dir ",
                        Some(2) => "file",
                        _ => "doc ",
                    };
                    out.push_str(&format!(
                        "{kind} {:>12}  {}  {}\n",
                        f.file_size.unwrap_or(0),
                        f.fileid,
                        f.file_name.as_deref().unwrap_or("")
                    ));
                }
                out.push_str(&format!("{} entries", items.len()));
                out
            })
        }
    }
}
