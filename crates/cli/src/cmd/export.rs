//! `wecom contacts export`: the contacts crate's directory walk, with a progress bar, written as
//! CSV or JSON.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wecom::contacts::{
    ContactsExt as _, Department, DirectorySnapshot, Member, WalkOptions, WalkPhase, WalkProgress,
};

use super::Ctx;
use crate::cli::{ContactsCmd, ExportFormat};
use crate::error::CliError;

/// WeCom's answer when the contact-sync secret asks for member details from a new IP.
const NEW_IP_DETAILS_REFUSED: i64 = 48009;

pub async fn run(ctx: &Ctx, cmd: ContactsCmd) -> Result<(), CliError> {
    let ContactsCmd::Export {
        format,
        output,
        async_export,
        kind,
        tagid,
        block_size,
    } = cmd;
    if async_export {
        return super::export_async::run(ctx, format, &output, kind, tagid, block_size).await;
    }
    let client = ctx.client()?;
    let bar = if ctx.out.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    bar.enable_steady_tick(Duration::from_millis(120));
    let update = |p: &WalkProgress| show(&bar, p);

    let mut detail = "full";
    let snapshot = match client.contacts().walk(WalkOptions::full(), update).await {
        Ok(s) => s,
        Err(e) if e.errcode() == Some(NEW_IP_DETAILS_REFUSED) => {
            bar.println(
                "user/list refused from this IP (48009): exporting userids and departments only",
            );
            detail = "ids";
            client
                .contacts()
                .walk(WalkOptions::ids(), |p| show(&bar, p))
                .await?
        }
        Err(e) => {
            bar.finish_and_clear();
            return Err(e.into());
        }
    };
    bar.finish_and_clear();

    let bytes = match format {
        ExportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&json!({
                "departments": snapshot.departments,
                "members": snapshot.members,
            }))
            .map_err(|e| CliError::Failed(format!("cannot encode the directory: {e}")))?;
            text.push('\n');
            text.into_bytes()
        }
        ExportFormat::Csv => csv(&snapshot).into_bytes(),
    };
    let to_stdout = output == Path::new("-");
    if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .map_err(|e| CliError::io("cannot write to stdout", e))?;
    } else {
        std::fs::write(&output, &bytes)
            .map_err(|e| CliError::io(format!("cannot write {}", output.display()), e))?;
    }
    let summary = json!({
        "members": snapshot.members.len(),
        "departments": snapshot.departments.len(),
        "format": match format { ExportFormat::Csv => "csv", ExportFormat::Json => "json" },
        "detail": detail,
        "path": output.display().to_string(),
        "bytes": bytes.len(),
    });
    let text = format!(
        "exported {} member(s) in {} department(s) to {}",
        snapshot.members.len(),
        snapshot.departments.len(),
        if to_stdout {
            "stdout".to_owned()
        } else {
            output.display().to_string()
        }
    );
    if to_stdout {
        // stdout holds the data: the summary goes to stderr.
        if !ctx.out.json {
            eprintln!("{text}");
        }
        Ok(())
    } else {
        ctx.out.emit(&summary, || text)
    }
}

fn show(bar: &ProgressBar, p: &WalkProgress) {
    match p.phase {
        WalkPhase::Starting | WalkPhase::Departments => bar.set_message("reading departments"),
        WalkPhase::Members if p.departments_read > 0 || p.rows == 0 => {
            if bar.length() != Some(p.departments as u64) {
                bar.set_length(p.departments as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} members {bar:30} {pos}/{len} departments, {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            bar.set_position(p.departments_read as u64);
            bar.set_message(format!("{} members", p.members));
        }
        WalkPhase::Members => {
            bar.set_message(format!("{} members ({} requests)", p.members, p.requests))
        }
        WalkPhase::Done => bar.set_message("done"),
    }
}

/// A CSV field, quoted when needed (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Each department's path of names from the root (`示例科技/研发部/前端组`).
fn paths(departments: &[Department]) -> HashMap<u32, String> {
    let by_id: HashMap<u32, &Department> = departments.iter().map(|d| (d.id, d)).collect();
    let mut out = HashMap::new();
    for d in departments {
        let mut names = Vec::new();
        let mut cur = Some(d);
        let mut guard = 0;
        while let Some(dep) = cur {
            names.push(dep.name.clone().unwrap_or_else(|| dep.id.to_string()));
            guard += 1;
            cur = match dep.parentid {
                Some(p) if p != dep.id && guard < 64 => by_id.get(&p).copied(),
                _ => None,
            };
        }
        names.reverse();
        out.insert(d.id, names.join("/"));
    }
    out
}

/// One row per member.
pub fn csv(snapshot: &DirectorySnapshot) -> String {
    let paths = paths(&snapshot.departments);
    let mut out = String::from(
        "userid,name,department_ids,departments,main_department,position,mobile,email,status,enable\n",
    );
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    for m in &snapshot.members {
        let Member {
            userid,
            name,
            department,
            main_department,
            position,
            mobile,
            email,
            status,
            enable,
            ..
        } = m;
        let ids = department
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(";");
        let names = department
            .iter()
            .map(|d| paths.get(d).cloned().unwrap_or_else(|| d.to_string()))
            .collect::<Vec<_>>()
            .join(";");
        let row = [
            userid.clone(),
            opt(name),
            ids,
            names,
            main_department.map_or_else(String::new, |d| d.to_string()),
            opt(position),
            opt(mobile),
            opt(email),
            status
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            enable.map_or_else(String::new, |e| e.to_string()),
        ];
        out.push_str(&row.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}
