//! `wecom meeting create|get|cancel|list`: meetings (会议) the selected app books. An app sees
//! only the meetings it booked.
//!
//! Times are unix seconds or `YYYY-MM-DD HH:MM[:SS]` in Beijing time (UTC+8), as for
//! `wecom schedule`.

use clap::Subcommand;
use futures_util::TryStreamExt as _;
use serde_json::json;
use wecom::oa::{MeetingInvitees, MeetingSettings, OaExt as _};

use super::Ctx;
use super::schedule::{parse_time, show_time};
use crate::error::CliError;
use crate::output::table;

/// `wecom meeting`
#[derive(Debug, Subcommand)]
pub enum MeetingCmd {
    /// Book a meeting (预约会议).
    Create {
        /// The meeting's admin (会议管理员), a member the app can see.
        #[arg(long)]
        admin: String,
        /// Title (1-255 characters).
        #[arg(long)]
        title: String,
        /// Start: unix seconds or `YYYY-MM-DD HH:MM` (Beijing time), after now.
        #[arg(long)]
        start: String,
        /// Duration in seconds, 300 to 86399.
        #[arg(long, default_value_t = 3600)]
        duration: u32,
        /// An invitee (repeatable, at most 300).
        #[arg(long = "invitee")]
        invitees: Vec<String>,
        /// Place (at most 128 characters).
        #[arg(long)]
        location: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Join password.
        #[arg(long)]
        password: Option<String>,
        /// A calendar this app created, to put the meeting in.
        #[arg(long)]
        calendar: Option<String>,
    },
    /// Show a meeting.
    Get {
        /// The meeting id.
        id: String,
    },
    /// Cancel a booked meeting.
    Cancel {
        /// The meeting id.
        id: String,
    },
    /// A member's meeting ids booked by this app (every page), in a range of at most 180 days.
    List {
        /// The member.
        #[arg(long)]
        user: String,
        /// Range start (meetings starting at or after it).
        #[arg(long)]
        from: Option<String>,
        /// Range end (bounds past meetings only; now by default).
        #[arg(long)]
        to: Option<String>,
    },
}

fn status_name(s: Option<u32>) -> &'static str {
    // The page's excerpt ends before the values; these are the peers' (go-wecom, WxJava).
    match s {
        Some(1) => "booked",
        Some(2) => "in progress",
        Some(3) => "ended",
        Some(4) => "cancelled",
        Some(5) => "expired",
        _ => "-",
    }
}

pub async fn run(ctx: &Ctx, cmd: MeetingCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let oa = client.oa();
    match cmd {
        MeetingCmd::Create {
            admin,
            title,
            start,
            duration,
            invitees,
            location,
            description,
            password,
            calendar,
        } => {
            let start = parse_time("--start", &start)?;
            let mut call = oa
                .meeting_create(admin, title, duration)
                .meeting_start(start);
            if !invitees.is_empty() {
                call = call.invitees(MeetingInvitees::new().userid(invitees));
            }
            if let Some(l) = location {
                call = call.location(l);
            }
            if let Some(d) = description {
                call = call.description(d);
            }
            if let Some(p) = password {
                call = call.settings(MeetingSettings::new().password(p));
            }
            if let Some(c) = calendar {
                call = call.cal_id(c);
            }
            let r = call.await?;
            ctx.out.emit(&r, || {
                let mut t = format!("meeting {}", r.meetingid);
                if let Some(code) = &r.meeting_code {
                    t.push_str(&format!(" (number {code})"));
                }
                if !r.excess_users.is_empty() {
                    t.push_str(&format!(
                        "\nnot invited (over capacity): {}",
                        r.excess_users.join(", ")
                    ));
                }
                t
            })
        }
        MeetingCmd::Get { id } => {
            let m = oa.meeting_get_info(id.as_str()).await?;
            ctx.out.emit(&m, || {
                let invited = m
                    .attendees
                    .as_ref()
                    .map(|a| a.member.len())
                    .unwrap_or_default();
                format!(
                    "{id}  {}\nadmin {}  start {}  {} min  {}\nlocation {}  attended {invited}",
                    m.title.clone().unwrap_or_default(),
                    m.admin_userid.clone().unwrap_or_default(),
                    show_time(m.meeting_start),
                    m.meeting_duration.unwrap_or_default() / 60,
                    status_name(m.status),
                    m.location.clone().unwrap_or_else(|| "-".into()),
                )
            })
        }
        MeetingCmd::Cancel { id } => {
            oa.meeting_cancel(id.as_str()).await?;
            ctx.out.emit(&json!({"cancelled": id}), || {
                format!("cancelled meeting {id}")
            })
        }
        MeetingCmd::List { user, from, to } => {
            let from = from.map(|f| parse_time("--from", &f)).transpose()?;
            let to = to.map(|t| parse_time("--to", &t)).transpose()?;
            let ids: Vec<String> = oa
                .user_meeting_ids(user.as_str(), from, to)
                .try_collect::<Vec<_>>()
                .await?
                .concat();
            ctx.out
                .emit(&json!({"userid": user, "meetingids": ids}), || {
                    let rows: Vec<Vec<String>> = ids.iter().map(|i| vec![i.clone()]).collect();
                    table(&["MEETING"], &rows)
                })
        }
    }
}
