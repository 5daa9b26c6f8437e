//! `wecom contacts export --async`: WeCom's asynchronous export (`export/*`) through
//! [`wecom::contacts::export::Export`], with a progress bar. Records are written as they are
//! decrypted (CSV rows, or JSON Lines with `--format json`), so memory stays bounded whatever the
//! directory's size.

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wecom::contacts::export::{Export, ExportError, ExportKind, ExportProgress, ExportRecord};

use super::Ctx;
use crate::cli::{AsyncExportKind, ExportFormat};
use crate::error::CliError;

fn kind_of(kind: AsyncExportKind, tagid: Option<u32>) -> Result<ExportKind, CliError> {
    Ok(match kind {
        AsyncExportKind::SimpleUser => ExportKind::SimpleUser,
        AsyncExportKind::User => ExportKind::User,
        AsyncExportKind::Department => ExportKind::Department,
        AsyncExportKind::Taguser => ExportKind::TagUser(tagid.ok_or_else(|| {
            CliError::Failed("--kind taguser needs --tagid ID (the tag to export)".to_owned())
        })?),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn ids(list: &[u32]) -> String {
    list.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

fn header(kind: ExportKind) -> &'static str {
    match kind {
        ExportKind::Department => "id,name,parentid,order\n",
        ExportKind::TagUser(_) => "type,id,name\n",
        _ => "userid,name,department_ids,position,status\n",
    }
}

/// One CSV row of a record.
fn csv_row(r: &ExportRecord) -> String {
    let opt = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    match r {
        ExportRecord::Member(m) => format!(
            "{},{},{},,\n",
            csv_field(&m.userid),
            opt(&m.name),
            ids(&m.department)
        ),
        ExportRecord::MemberDetail(m) => format!(
            "{},{},{},{},{}\n",
            csv_field(&m.userid),
            opt(&m.name),
            ids(&m.department),
            opt(&m.position),
            m.status
                .as_ref()
                .map_or_else(String::new, ToString::to_string)
        ),
        ExportRecord::Department(d) => format!(
            "{},{},{},{}\n",
            d.id,
            opt(&d.name),
            d.parentid.map_or_else(String::new, |p| p.to_string()),
            d.order.map_or_else(String::new, |o| o.to_string())
        ),
        ExportRecord::TagMember(t) => format!("user,{},{}\n", csv_field(&t.userid), opt(&t.name)),
        ExportRecord::TagDepartment(d) => format!("department,{d},\n"),
        other => format!("# {}\n", json_line(other).trim_end()),
    }
}

/// One JSON line of a record.
fn json_line(r: &ExportRecord) -> String {
    let v = match r {
        ExportRecord::Member(m) => json!({"member": m}),
        ExportRecord::MemberDetail(m) => json!({"member": m}),
        ExportRecord::Department(d) => json!({"department": d}),
        ExportRecord::TagMember(t) => json!({"tag_member": t}),
        ExportRecord::TagDepartment(d) => json!({"tag_department": d}),
        ExportRecord::Other { key, value } => json!({ "other": key, "value": value }),
        _ => json!(null),
    };
    let mut s = v.to_string();
    s.push('\n');
    s
}

fn show(bar: &ProgressBar, p: &ExportProgress) {
    match p {
        ExportProgress::Started { jobid } => bar.set_message(format!("export job {jobid} started")),
        ExportProgress::Waiting { status, polls } => {
            bar.set_message(format!(
                "waiting for the export job: {status:?} (poll {polls})"
            ));
        }
        ExportProgress::Downloading {
            file,
            files,
            bytes,
            total_bytes,
            records,
        } => {
            if bar.length() != Some(*total_bytes) {
                bar.set_length(*total_bytes);
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {bar:30} {bytes}/{total_bytes} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            bar.set_position(*bytes);
            bar.set_message(format!("file {}/{files}, {records} records", file + 1));
        }
        _ => {}
    }
}

pub async fn run(
    ctx: &Ctx,
    format: ExportFormat,
    output: &Path,
    kind: AsyncExportKind,
    tagid: Option<u32>,
    block_size: Option<u32>,
) -> Result<(), CliError> {
    let kind = kind_of(kind, tagid)?;
    let client = ctx.client()?;
    let to_stdout = output == Path::new("-");
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        let file = File::create(output)
            .map_err(|e| CliError::io(format!("cannot create {}", output.display()), e))?;
        Box::new(BufWriter::new(file))
    };
    if format == ExportFormat::Csv {
        out.write_all(header(kind).as_bytes())
            .map_err(|e| CliError::io("cannot write the export", e))?;
    }
    let bar = if ctx.out.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut export = Export::new(&client, kind);
    if let Some(n) = block_size {
        export = export.block_size(n);
    }
    let result = export
        .run(
            |record| {
                let line = match format {
                    ExportFormat::Csv => csv_row(&record),
                    ExportFormat::Json => json_line(&record),
                };
                out.write_all(line.as_bytes())
            },
            |p| show(&bar, &p),
        )
        .await;
    bar.finish_and_clear();
    let summary = result.map_err(|e| match e {
        ExportError::Wecom(e) => CliError::Api(e),
        other => CliError::Failed(other.to_string()),
    })?;
    out.flush()
        .map_err(|e| CliError::io("cannot write the export", e))?;
    drop(out);
    let text = format!(
        "exported {} record(s) from {} encrypted file(s) ({} bytes) to {}",
        summary.records,
        summary.files,
        summary.bytes,
        if to_stdout {
            "stdout".to_owned()
        } else {
            output.display().to_string()
        }
    );
    let report = json!({
        "records": summary.records,
        "files": summary.files,
        "bytes": summary.bytes,
        "polls": summary.polls,
        "job_type": kind.job_type(),
        "path": output.display().to_string(),
    });
    if to_stdout {
        if !ctx.out.json {
            eprintln!("{text}");
        }
        Ok(())
    } else {
        ctx.out.emit(&report, || text)
    }
}
