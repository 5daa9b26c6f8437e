//! `wecom transfer ...`: hand customers over to another member (在职继承, or 离职继承 with
//! `--resigned`), read the transfers' state, list the customers of members who left, and hand
//! customer groups to a new owner (`wecom transfer group`).

use std::io::IsTerminal;
use std::time::Duration;

use futures_util::TryStreamExt;
use indicatif::ProgressBar;
use serde_json::json;
use wecom::externalcontact::ExternalcontactExt;

use super::Ctx;
use crate::cli::TransferCmd;
use crate::error::CliError;
use crate::output::table;

/// The state names of the result pages (94082: 1-接替完毕 2-等待接替 3-客户拒绝 4-接替成员客户达到上限).
fn status_name(status: Option<u32>) -> &'static str {
    match status {
        Some(1) => "done",
        Some(2) => "waiting",
        Some(3) => "refused",
        Some(4) => "takeover member full",
        _ => "unknown",
    }
}

pub async fn run(ctx: &Ctx, cmd: TransferCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let ec = client.externalcontact();
    match cmd {
        TransferCmd::Start {
            from,
            to,
            customers,
            resigned,
            message,
        } => {
            let results = if resigned {
                ec.resigned_transfer_customer(from, to, customers)
                    .await?
                    .customer
            } else {
                let mut call = ec.transfer_customer(from, to, customers);
                if let Some(m) = message {
                    call = call.transfer_success_msg(m);
                }
                call.await?.customer
            };
            let value = json!({
                "customers": results.iter().map(|c| json!({
                    "external_userid": c.external_userid,
                    "errcode": c.errcode,
                })).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let rows: Vec<Vec<String>> = results
                    .iter()
                    .map(|c| {
                        let what = if c.errcode == 0 {
                            "started (moves after 24 hours)".to_owned()
                        } else {
                            let code = wecom::ErrorCode::new(c.errcode);
                            format!("errcode {}: {}", c.errcode, code.meaning())
                        };
                        vec![c.external_userid.clone(), what]
                    })
                    .collect();
                table(&["customer", "result"], &rows)
            })
        }
        TransferCmd::Status { from, to, resigned } => {
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let (page, next) = if resigned {
                    let mut call = ec.resigned_transfer_result(from.clone(), to.clone());
                    if let Some(c) = cursor.clone() {
                        call = call.cursor(c);
                    }
                    let r = call.await?;
                    (r.customer, r.next_cursor)
                } else {
                    let mut call = ec.transfer_result(from.clone(), to.clone());
                    if let Some(c) = cursor.clone() {
                        call = call.cursor(c);
                    }
                    let r = call.await?;
                    (r.customer, r.next_cursor)
                };
                all.extend(page);
                match next.filter(|n| !n.is_empty()) {
                    Some(n) if cursor.as_deref() != Some(n.as_str()) => cursor = Some(n),
                    _ => break,
                }
            }
            let value = json!({
                "customers": all.iter().map(|c| json!({
                    "external_userid": c.external_userid,
                    "status": c.status,
                    "takeover_time": c.takeover_time,
                })).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|c| {
                        vec![
                            c.external_userid.clone(),
                            status_name(c.status).to_owned(),
                            c.takeover_time.map(|t| t.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&["customer", "state", "takeover_time"], &rows)
            })
        }
        TransferCmd::Group {
            to,
            chats,
            resigned,
        } => {
            let failed = if resigned {
                ec.groupchat_transfer(chats.clone(), to)
                    .await?
                    .failed_chat_list
            } else {
                ec.groupchat_onjob_transfer(chats.clone(), to)
                    .await?
                    .failed_chat_list
            };
            let value = json!({
                "groups": chats.iter().map(|id| {
                    match failed.iter().find(|f| &f.chat_id == id) {
                        Some(f) => json!({"chat_id": id, "errcode": f.errcode, "errmsg": f.errmsg}),
                        None => json!({"chat_id": id, "errcode": 0}),
                    }
                }).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let rows: Vec<Vec<String>> = chats
                    .iter()
                    .map(|id| {
                        let what = match failed.iter().find(|f| &f.chat_id == id) {
                            Some(f) => {
                                let code = wecom::ErrorCode::new(f.errcode);
                                format!("errcode {}: {}", f.errcode, code.meaning())
                            }
                            None => "handed over".to_owned(),
                        };
                        vec![id.clone(), what]
                    })
                    .collect();
                table(&["group", "result"], &rows)
            })
        }
        TransferCmd::Unassigned => {
            let bar = if ctx.out.json || !std::io::stderr().is_terminal() {
                ProgressBar::hidden()
            } else {
                ProgressBar::new_spinner()
            };
            bar.enable_steady_tick(Duration::from_millis(120));
            let mut all = Vec::new();
            let mut stream = std::pin::pin!(ec.unassigned(1000));
            while let Some(c) = stream.try_next().await? {
                all.push(c);
                bar.set_message(format!("{} customers", all.len()));
            }
            bar.finish_and_clear();
            let value = json!({
                "customers": all.iter().map(|c| json!({
                    "handover_userid": c.handover_userid,
                    "external_userid": c.external_userid,
                    "dimission_time": c.dimission_time,
                })).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|c| vec![c.handover_userid.clone(), c.external_userid.clone()])
                    .collect();
                table(&["member who left", "customer"], &rows)
            })
        }
    }
}
