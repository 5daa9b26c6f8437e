//! `wecom approval template|apply|list|get`: approvals through the oa crate's typed templates.

use std::io::IsTerminal as _;
use std::time::Duration;

use futures_util::TryStreamExt as _;
use indicatif::ProgressBar;
use serde_json::json;
use wecom::oa::OaExt as _;
use wecom::oa::approval::{ControlKind, Template, Value};

use super::Ctx;
use crate::cli::ApprovalCmd;
use crate::error::CliError;
use crate::output::table;

pub async fn run(ctx: &Ctx, cmd: ApprovalCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let oa = client.oa();
    match cmd {
        ApprovalCmd::Template { template_id } => {
            let detail = oa.approval_template_detail(template_id.clone()).await?;
            let t = Template::from_detail(template_id, &detail);
            let rows: Vec<Vec<String>> = t
                .controls
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.type_name().to_owned(),
                        c.title.clone(),
                        if c.required { "yes" } else { "" }.to_owned(),
                        options(&c.kind),
                    ]
                })
                .collect();
            ctx.out.emit(&detail, || {
                format!(
                    "{} ({})\n{}",
                    t.name,
                    t.id,
                    table(&["id", "control", "title", "required", "options"], &rows)
                )
            })
        }
        ApprovalCmd::Apply {
            template_id,
            creator,
            set,
            approver,
        } => {
            let detail = oa.approval_template_detail(template_id.clone()).await?;
            let t = Template::from_detail(template_id, &detail);
            let mut b = t.application(creator);
            for pair in &set {
                let (key, raw) = pair
                    .split_once('=')
                    .ok_or_else(|| CliError::Usage(format!("--set {pair:?}: write TITLE=VALUE")))?;
                let control = t.control(key).ok_or_else(|| {
                    CliError::Usage(format!(
                        "template \"{}\" has no control {key:?} (see `wecom approval template {}`)",
                        t.name, t.id
                    ))
                })?;
                b = b
                    .set(key, parse_value(&control.kind, raw)?)
                    .map_err(|e| CliError::Api(e.into()))?;
            }
            if !approver.is_empty() {
                b = b.approvers(approver);
            }
            let request = b.build().map_err(|e| CliError::Api(e.into()))?;
            let answer = client.execute(request).await?;
            ctx.out.emit(&json!({ "sp_no": answer.sp_no }), || {
                format!("submitted {}", answer.sp_no)
            })
        }
        ApprovalCmd::List { from, to } => {
            let bar = if ctx.out.json || !std::io::stderr().is_terminal() {
                ProgressBar::hidden()
            } else {
                ProgressBar::new_spinner()
            };
            bar.enable_steady_tick(Duration::from_millis(120));
            let mut pages = std::pin::pin!(oa.approval_numbers(
                super::checkin::parse_time(&from)?,
                super::checkin::parse_time(&to)?,
                Vec::new()
            ));
            let mut all = Vec::new();
            while let Some(page) = pages.try_next().await? {
                all.extend(page);
                bar.set_message(format!("{} applications", all.len()));
            }
            bar.finish_and_clear();
            ctx.out
                .emit(&json!({ "sp_no_list": all }), || all.join("\n"))
        }
        ApprovalCmd::Get { sp_no } => {
            let info = oa.approval_detail(sp_no).await?.info;
            ctx.out.emit(&info, || {
                let mut s = format!(
                    "{} {} {:?} by {}\n",
                    info.sp_no,
                    info.sp_name.clone().unwrap_or_default(),
                    info.sp_status,
                    info.applyer
                        .as_ref()
                        .map(|a| a.userid.as_str())
                        .unwrap_or("")
                );
                if let Some(data) = &info.apply_data {
                    for c in &data.contents {
                        let title = c.title.first().map(|t| t.text.as_str()).unwrap_or(&c.id);
                        s.push_str(&format!("  {title} ({}): {}\n", c.control, c.value));
                    }
                }
                s
            })
        }
    }
}

fn options(kind: &ControlKind) -> String {
    match kind {
        ControlKind::Selector { options, multi } => format!(
            "{}{}",
            if *multi { "multi: " } else { "" },
            options
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        ControlKind::Date { date_type } => date_type.clone(),
        _ => String::new(),
    }
}

/// A `--set` value as the control's kind reads it: text, a number, an amount, a date (Unix
/// seconds or YYYY-MM-DD), comma-separated options, members or departments, else JSON.
fn parse_value(kind: &ControlKind, raw: &str) -> Result<Value, CliError> {
    let list = || {
        raw.split(',')
            .map(|s| s.trim().to_owned())
            .collect::<Vec<_>>()
    };
    Ok(match kind {
        ControlKind::Text | ControlKind::Textarea => Value::text(raw),
        ControlKind::Number => Value::Number(raw.to_owned()),
        ControlKind::Money => Value::money(raw),
        ControlKind::Date { .. } => Value::Date(super::checkin::parse_time(raw)?),
        ControlKind::Selector { .. } => Value::Options(list()),
        ControlKind::Contact { mode } if mode == "department" => Value::Departments(list()),
        ControlKind::Contact { .. } => Value::Members(list()),
        ControlKind::File => Value::Files(list()),
        ControlKind::RelatedApproval => Value::RelatedApprovals(list()),
        _ => Value::Raw(serde_json::from_str(raw).map_err(|e| {
            CliError::Usage(format!(
                "this control takes its value as a JSON object: {e}"
            ))
        })?),
    })
}
