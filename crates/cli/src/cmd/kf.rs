//! `wecom kf ...`: 微信客服 accounts, reading messages (kf/sync_msg) and answering a customer
//! (kf/send_msg). The credential is the 微信客服 secret when the profile has one, else the app's.

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use wecom::kf::{KfExt as _, KfSendContent, KfSendText};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom kf ...`
#[derive(Debug, Subcommand)]
pub enum KfCmd {
    /// List the 微信客服 accounts.
    Accounts(AccountsArgs),
    /// Read messages and events of the last 3 days (kf/sync_msg); prints them and the next cursor.
    Sync(SyncArgs),
    /// Send a text to a WeChat customer (within 48 hours of their last message, 5 at most).
    Send(SendKfArgs),
}

/// `wecom kf accounts`
#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// Offset of the first account.
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
    /// How many, 1 to 100.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
}

/// `wecom kf sync`
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The account (open_kfid).
    #[arg(long, value_name = "OPEN_KFID")]
    pub open_kfid: String,
    /// Continue after this cursor (the `next_cursor` printed last time).
    #[arg(long)]
    pub cursor: Option<String>,
    /// The callback's Token (valid 10 minutes; without it WeCom limits the rate strictly).
    #[arg(long)]
    pub token: Option<String>,
    /// Messages per call, 1 to 1000.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Follow `has_more` until the end.
    #[arg(long)]
    pub all: bool,
}

/// `wecom kf send`
#[derive(Debug, Args)]
pub struct SendKfArgs {
    /// The sending account (open_kfid).
    #[arg(long, value_name = "OPEN_KFID")]
    pub open_kfid: String,
    /// The customer's external_userid.
    #[arg(long, value_name = "EXTERNAL_USERID")]
    pub to: String,
    /// The text (at most 2048 bytes).
    pub text: String,
}

pub async fn run(ctx: &Ctx, cmd: KfCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let kf = client.kf();
    match cmd {
        KfCmd::Accounts(a) => {
            let list = kf
                .kf_account_list()
                .offset(a.offset)
                .limit(a.limit)
                .await?
                .account_list;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|x| {
                    vec![
                        x.open_kfid.clone(),
                        x.name.clone().unwrap_or_default(),
                        x.manage_privilege.map_or(String::new(), |m| m.to_string()),
                    ]
                })
                .collect();
            ctx.out.emit(&json!({ "account_list": list }), || {
                table(&["open_kfid", "name", "managed"], &rows)
            })
        }
        KfCmd::Sync(a) => {
            let mut cursor = a.cursor;
            let mut messages: Vec<Value> = Vec::new();
            loop {
                let mut call = kf.kf_sync_msg().open_kfid(&a.open_kfid).limit(a.limit);
                if let Some(c) = &cursor {
                    call = call.cursor(c);
                }
                if let Some(t) = &a.token {
                    call = call.token(t);
                }
                let page = call.await?;
                for m in &page.msg_list {
                    messages.push(serde_json::to_value(m).unwrap_or(Value::Null));
                }
                if page.next_cursor.is_some() {
                    cursor = page.next_cursor;
                }
                if !(a.all && page.has_more == Some(1)) {
                    let has_more = page.has_more == Some(1);
                    return ctx.out.emit(
                        &json!({"msg_list": messages, "next_cursor": cursor, "has_more": has_more}),
                        || {
                            let mut t = String::new();
                            for m in &messages {
                                t.push_str(&describe(m));
                                t.push('\n');
                            }
                            t.push_str(&format!(
                                "{} message(s); next cursor: {}{}",
                                messages.len(),
                                cursor.as_deref().unwrap_or("-"),
                                if has_more {
                                    " (more: pass --cursor or --all)"
                                } else {
                                    ""
                                }
                            ));
                            t
                        },
                    );
                }
            }
        }
        KfCmd::Send(a) => {
            let content = KfSendContent::Text(KfSendText::new(a.text));
            let r = kf.kf_send_msg(&a.to, &a.open_kfid, content).await?;
            ctx.out.emit(&json!({ "msgid": r.msgid }), || {
                format!("sent: msgid {}", r.msgid.as_deref().unwrap_or("-"))
            })
        }
    }
}

/// One line per message: time, origin, who, type and text.
fn describe(m: &Value) -> String {
    let kind = m["msgtype"].as_str().unwrap_or("?");
    let body = match kind {
        "text" => m["text"]["content"].as_str().unwrap_or_default().to_owned(),
        "event" => m["event"]["event_type"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        other => m[other].to_string(),
    };
    format!(
        "{} {} {} {kind}: {body}",
        m["send_time"],
        m["msgid"].as_str().unwrap_or_default(),
        m["external_userid"].as_str().unwrap_or("-"),
    )
}
