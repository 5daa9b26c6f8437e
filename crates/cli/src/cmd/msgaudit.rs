//! `wecom msgaudit ...`: 会话内容存档, the HTTP part: archived members, customers' agreement
//! (one-to-one pairs or a group) and archived internal groups. The credential is the 会话内容存档
//! secret when the profile has one (`msg_audit`), else the app's. Chat content needs Tencent's
//! Finance SDK and is not read by the CLI.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use wecom::msgaudit::{AgreePair, MsgAuditEdition, MsgauditExt as _};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom msgaudit ...`
#[derive(Debug, Subcommand)]
pub enum MsgauditCmd {
    /// The members whose chats are archived (msgaudit/get_permit_user_list).
    #[command(name = "permit-users")]
    PermitUsers(PermitArgs),
    /// Whether customers agreed to the archiving: `USERID:EXTERNAL_ID` pairs (at most 100), or a
    /// group with --room.
    #[command(name = "check-agree")]
    CheckAgree(CheckAgreeArgs),
    /// An archived internal group: name, creator, notice, members (msgaudit/groupchat/get).
    Room(RoomArgs),
}

/// An edition of 会话内容存档.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Edition {
    /// 办公版 (1).
    Office,
    /// 服务版 (2).
    Service,
    /// 企业版 (3).
    Enterprise,
}

/// `wecom msgaudit permit-users`
#[derive(Debug, Args)]
pub struct PermitArgs {
    /// Only the members of this edition (all when omitted).
    #[arg(long, value_enum)]
    pub edition: Option<Edition>,
}

/// `wecom msgaudit check-agree`
#[derive(Debug, Args)]
pub struct CheckAgreeArgs {
    /// `USERID:EXTERNAL_ID` pairs: a member and an external contact (1 to 100).
    #[arg(
        value_name = "USERID:EXTERNAL_ID",
        required_unless_present = "room",
        conflicts_with = "room"
    )]
    pub pairs: Vec<String>,
    /// A group's roomid instead: its external members' answers.
    #[arg(long, value_name = "ROOMID")]
    pub room: Option<String>,
}

/// `wecom msgaudit room`
#[derive(Debug, Args)]
pub struct RoomArgs {
    /// The group's roomid.
    pub roomid: String,
}

fn pair(s: &str) -> Result<AgreePair, CliError> {
    match s.split_once(':') {
        Some((u, e)) if !u.is_empty() && !e.is_empty() => Ok(AgreePair::new(u, e)),
        _ => Err(CliError::Usage(format!(
            "{s:?}: write a pair as USERID:EXTERNAL_ID, e.g. zhangsan:wmAbc123"
        ))),
    }
}

pub async fn run(ctx: &Ctx, cmd: MsgauditCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let api = client.msgaudit();
    match cmd {
        MsgauditCmd::PermitUsers(a) => {
            let mut call = api.msgaudit_get_permit_user_list();
            if let Some(e) = a.edition {
                call = call.edition(match e {
                    Edition::Office => MsgAuditEdition::Office,
                    Edition::Service => MsgAuditEdition::Service,
                    Edition::Enterprise => MsgAuditEdition::Enterprise,
                });
            }
            let ids = call.await?.ids;
            ctx.out.emit(&json!({ "ids": ids }), || {
                let mut t = ids.join("\n");
                if !t.is_empty() {
                    t.push('\n');
                }
                t.push_str(&format!("{} archived member(s)", ids.len()));
                t
            })
        }
        MsgauditCmd::CheckAgree(a) => {
            let (answer, rows): (serde_json::Value, Vec<Vec<String>>) = match a.room {
                Some(room) => {
                    let info = api.msgaudit_check_room_agree(room).await?.agreeinfo;
                    let rows = info
                        .iter()
                        .map(|i| {
                            vec![
                                String::new(),
                                i.external_openid.clone().unwrap_or_default(),
                                status(i.agree_status.as_ref()),
                                i.status_change_time
                                    .map_or(String::new(), |t| t.to_string()),
                            ]
                        })
                        .collect();
                    (json!({ "agreeinfo": info }), rows)
                }
                None => {
                    let pairs = a
                        .pairs
                        .iter()
                        .map(|p| pair(p))
                        .collect::<Result<Vec<_>, _>>()?;
                    let info = api.msgaudit_check_single_agree(pairs).await?.agreeinfo;
                    let rows = info
                        .iter()
                        .map(|i| {
                            vec![
                                i.userid.clone().unwrap_or_default(),
                                i.external_openid.clone().unwrap_or_default(),
                                status(i.agree_status.as_ref()),
                                i.status_change_time
                                    .map_or(String::new(), |t| t.to_string()),
                            ]
                        })
                        .collect();
                    (json!({ "agreeinfo": info }), rows)
                }
            };
            ctx.out.emit(&answer, || {
                table(&["userid", "external", "status", "changed"], &rows)
            })
        }
        MsgauditCmd::Room(a) => {
            let g = api.msgaudit_groupchat_get(&a.roomid).await?;
            let rows: Vec<Vec<String>> = g
                .members
                .iter()
                .map(|m| {
                    vec![
                        m.memberid.clone().unwrap_or_default(),
                        m.jointime.map_or(String::new(), |t| t.to_string()),
                    ]
                })
                .collect();
            ctx.out
                .emit(&serde_json::to_value(&g).unwrap_or_default(), || {
                    format!(
                        "{} (creator {}, created {}){}\n{}",
                        g.roomname.as_deref().unwrap_or("-"),
                        g.creator.as_deref().unwrap_or("-"),
                        g.room_create_time.unwrap_or_default(),
                        g.notice
                            .as_deref()
                            .filter(|n| !n.is_empty())
                            .map(|n| format!("\nnotice: {n}"))
                            .unwrap_or_default(),
                        table(&["member", "joined"], &rows)
                    )
                })
        }
    }
}

fn status(s: Option<&wecom::msgaudit::AgreeStatus>) -> String {
    s.and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
