//! `wecom media upload|get`: the messages crate's streamed, checked media transfers.

use std::path::Path;

use serde_json::json;
use wecom::messages::{Media, MediaType};

use super::Ctx;
use crate::cli::MediaCmd;
use crate::error::CliError;

pub async fn run(ctx: &Ctx, cmd: MediaCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let media = Media::new(&client);
    match cmd {
        MediaCmd::Upload { file, kind } => {
            let r = media
                .upload_path(MediaType::from(kind.as_str()), &file)
                .await?;
            ctx.out.emit(&r, || {
                format!(
                    "{}\n(uploaded {} as a {} media; valid for 3 days)",
                    r.media_id,
                    file.display(),
                    r.media_type
                )
            })
        }
        MediaCmd::Get { media_id, output } => {
            if output == Path::new("-") {
                let mut stdout = tokio::io::stdout();
                let n = media.download(&media_id, &mut stdout).await?;
                tokio::io::AsyncWriteExt::flush(&mut stdout)
                    .await
                    .map_err(|e| CliError::io("cannot write to stdout", e))?;
                eprintln!("wrote {n} bytes of media {media_id} to stdout");
                return Ok(());
            }
            let n = media.download_to_path(&media_id, &output).await?;
            ctx.out.emit(
                &json!({"media_id": media_id, "bytes": n, "path": output.display().to_string()}),
                || format!("wrote {n} bytes to {}", output.display()),
            )
        }
    }
}
