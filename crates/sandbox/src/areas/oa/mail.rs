//! 邮件 (mail the app sends, `exmail/app/compose_send`). An accepted mail lands in the sandbox's
//! mailbox: one record per mail with its recipients (members resolved to their business mail,
//! else their mail address, else `userid@<corpid>.sandbox.invalid`), subject, body and the
//! attachments' names and decoded sizes (the bytes are not kept). Read it with [`sent_mails`] /
//! [`mailbox`], or over HTTP: `GET /sandbox/mail` (every mail) and `GET /sandbox/mail/{who}`
//! (those addressed to a userid or an address, in to, cc or bcc).
//!
//! The generated `validate()` has already refused what the page forbids (no recipient, more than
//! 200 attachments, over 50 MB, attachments not base64). The page names no rule for unknown
//! userids: the sandbox answers the directory's 60111 for one, as for other member references.
//! The mailbox keeps the newest [`KEEP`] mails.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;
use wecom_oa::{MailComposeSendRequest, MailComposeSendResponse, MailRecipients};

use crate::app::App;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::State;

/// How many mails the mailbox keeps (the oldest go first).
pub const KEEP: usize = 1000;

pub(super) fn register(r: &mut Registry) {
    r.add::<MailComposeSendRequest, _, _>(compose_send);
}

/// An attachment as the mailbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailFile {
    /// File name.
    pub file_name: String,
    /// Decoded size in bytes.
    pub size: usize,
}

/// One mail an app sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentMail {
    /// The mailbox's id for it (`mail-<n>`).
    pub id: String,
    /// The sending app.
    pub agentid: u32,
    /// Recipients' addresses (members resolved), in the order given.
    pub to: Vec<String>,
    /// Copy.
    pub cc: Vec<String>,
    /// Blind copy.
    pub bcc: Vec<String>,
    /// Members among the recipients (to, cc and bcc), as given.
    pub userids: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Body.
    pub content: String,
    /// `html` (the default) or `text`.
    pub content_type: String,
    /// Attachments.
    pub attachments: Vec<MailFile>,
    /// When it was accepted (sandbox clock).
    pub at: i64,
}

#[derive(Debug, Default)]
struct Mailbox {
    inner: Mutex<(u64, VecDeque<SentMail>)>,
}

fn mailbox_of(state: &State) -> Arc<Mailbox> {
    state.extension::<Mailbox>()
}

fn lock(m: &Mailbox) -> MutexGuard<'_, (u64, VecDeque<SentMail>)> {
    m.inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolves recipients to addresses; unknown userids are 60111.
fn resolve(
    state: &State,
    r: Option<&MailRecipients>,
    userids: &mut Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let Some(r) = r else {
        return Ok(Vec::new());
    };
    let corp = state.corp();
    let mut out = r.emails.clone();
    for u in &r.userids {
        let m = corp.member(u)?;
        out.push(if !m.biz_mail.is_empty() {
            m.biz_mail.clone()
        } else if !m.email.is_empty() {
            m.email.clone()
        } else {
            format!("{}@{}.sandbox.invalid", m.userid, corp.corpid())
        });
        userids.push(u.clone());
    }
    Ok(out)
}

async fn compose_send(
    ctx: Ctx,
    req: MailComposeSendRequest,
) -> Result<MailComposeSendResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let mut userids = Vec::new();
    let to = resolve(state, Some(&req.to), &mut userids)?;
    let cc = resolve(state, req.cc.as_ref(), &mut userids)?;
    let bcc = resolve(state, req.bcc.as_ref(), &mut userids)?;
    let mut attachments = Vec::with_capacity(req.attachment_list.len());
    for (i, a) in req.attachment_list.iter().enumerate() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&a.content)
            .map_err(|e| {
                ApiError::invalid_parameter(format!(
                    "attachment_list[{i}].content is not base64: {e}"
                ))
            })?;
        attachments.push(MailFile {
            file_name: a.file_name.clone(),
            size: bytes.len(),
        });
    }
    let at = state.now_secs();
    let store = mailbox_of(state);
    let mut g = lock(&store);
    g.0 += 1;
    let id = format!("mail-{}", g.0);
    g.1.push_back(SentMail {
        id,
        agentid,
        to,
        cc,
        bcc,
        userids,
        subject: req.subject,
        content: req.content,
        content_type: req.content_type.unwrap_or_else(|| "html".to_owned()),
        attachments,
        at,
    });
    while g.1.len() > KEEP {
        g.1.pop_front();
    }
    Ok(MailComposeSendResponse::new())
}

/// Every mail the apps sent, oldest first.
pub fn sent_mails(state: &State) -> Vec<SentMail> {
    lock(&mailbox_of(state)).1.iter().cloned().collect()
}

/// The mails addressed to `who` (a userid, or an address) in to, cc or bcc, oldest first.
pub fn mailbox(state: &State, who: &str) -> Vec<SentMail> {
    lock(&mailbox_of(state))
        .1
        .iter()
        .filter(|m| {
            m.userids.iter().any(|u| u.eq_ignore_ascii_case(who))
                || m.to
                    .iter()
                    .chain(&m.cc)
                    .chain(&m.bcc)
                    .any(|a| a.eq_ignore_ascii_case(who))
        })
        .cloned()
        .collect()
}

async fn all_route(AxState(app): AxState<App>) -> Response {
    axum::Json(json!({ "mails": sent_mails(&app.state) })).into_response()
}

async fn who_route(AxState(app): AxState<App>, Path(who): Path<String>) -> Response {
    axum::Json(json!({ "who": who, "mails": mailbox(&app.state, &who) })).into_response()
}

/// The web page's section: the newest 30 mails (empty when none was sent).
pub(crate) fn page_section(state: &State) -> String {
    use crate::web::escape;
    use std::fmt::Write as _;
    let mails = sent_mails(state);
    if mails.is_empty() {
        return String::new();
    }
    let mut h = String::from(
        "<section id=\"mail\"><h2>应用邮件</h2><table><tr><th>应用</th><th>收件人</th><th>标题</th><th>附件</th></tr>",
    );
    for m in mails.iter().rev().take(30) {
        let mut to = m.to.clone();
        to.extend(m.cc.iter().map(|c| format!("cc {c}")));
        let files: Vec<String> = m
            .attachments
            .iter()
            .map(|a| format!("{} ({} B)", a.file_name, a.size))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            m.agentid,
            escape(&to.join(", ")),
            escape(&m.subject),
            escape(&files.join(", "))
        );
    }
    h.push_str("</table></section>");
    h
}

/// Admin routes of the mailbox: `GET /sandbox/mail` and `GET /sandbox/mail/{who}`.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/mail", get(all_route))
        .route("/sandbox/mail/{who}", get(who_route))
}
