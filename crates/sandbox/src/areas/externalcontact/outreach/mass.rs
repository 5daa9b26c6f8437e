//! Mass sends (企业群发): tasks per member, confirmed through the admin API, results read back.

use std::collections::BTreeMap;
use std::sync::Mutex;

use wecom_core_auth::ErrorCode;
use wecom_externalcontact::{
    AddMsgTemplateRequest, AddMsgTemplateResponse, CancelGroupmsgSendRequest,
    CancelGroupmsgSendResponse, GetGroupmsgListV2Request, GetGroupmsgListV2Response,
    GetGroupmsgSendResultRequest, GetGroupmsgSendResultResponse, GetGroupmsgTaskRequest,
    GetGroupmsgTaskResponse, GroupMsg, GroupMsgSend, GroupMsgTask, MassAttachment, MassTagFilter,
    MassText, RemindGroupmsgSendRequest, RemindGroupmsgSendResponse,
};

use super::{check_member, page};
use crate::areas::externalcontact::book::CustomerBook;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

/// The most mass-send tasks the sandbox keeps (bounded memory under a runaway test).
const MAX_TASKS: usize = 10_000;
/// 提醒成员群发: "24小时内每个群发最多触发三次提醒".
const REMINDERS_PER_DAY: usize = 3;
const DAY: i64 = 24 * 3600;

/// WeCom's errcodes of this part (spec/errcodes.toml).
const MISSING_MSGID: i64 = 41046;
const INVALID_MSGID: i64 = 41047;
const NO_CUSTOMER_TO_SEND: i64 = 41048;
const TASK_CANCELLED: i64 = 41093;
const REMIND_TOO_OFTEN: i64 = 41094;

#[derive(Debug, Clone)]
struct MemberTask {
    /// external_userids (customer mass sends) or chat ids (group mass sends).
    recipients: Vec<String>,
    sent_at: Option<i64>,
}

#[derive(Debug, Clone)]
struct Task {
    msgid: String,
    group: bool,
    create_time: i64,
    text: Option<MassText>,
    attachments: Vec<MassAttachment>,
    cancelled: bool,
    reminders: Vec<i64>,
    members: BTreeMap<String, MemberTask>,
}

#[derive(Debug, Default)]
struct MassSends {
    tasks: Mutex<Vec<Task>>,
}

fn sends(state: &State) -> std::sync::Arc<MassSends> {
    state.extension::<MassSends>()
}

pub(super) fn register(r: &mut Registry) {
    r.add::<AddMsgTemplateRequest, _, _>(add_msg_template);
    r.add::<GetGroupmsgListV2Request, _, _>(get_groupmsg_list_v2);
    r.add::<GetGroupmsgTaskRequest, _, _>(get_groupmsg_task);
    r.add::<GetGroupmsgSendResultRequest, _, _>(get_groupmsg_send_result);
    r.add::<CancelGroupmsgSendRequest, _, _>(cancel_groupmsg_send);
    r.add::<RemindGroupmsgSendRequest, _, _>(remind_groupmsg_send);
}

/// Whether the tags of a follow relation pass `filter`: every group has a tag in `tag_ids`.
fn passes(filter: Option<&MassTagFilter>, tag_ids: &[String]) -> bool {
    filter.is_none_or(|f| {
        f.group_list
            .iter()
            .all(|g| g.tag_list.is_empty() || g.tag_list.iter().any(|t| tag_ids.contains(t)))
    })
}

async fn add_msg_template(
    ctx: Ctx,
    req: AddMsgTemplateRequest,
) -> Result<AddMsgTemplateResponse, ApiError> {
    let state = ctx.state();
    let sender = req.sender.clone().filter(|s| !s.is_empty());
    if let Some(s) = &sender {
        check_member(&ctx, s)?;
    }
    let group = req.chat_type.as_deref() == Some("group");
    let mut members: BTreeMap<String, MemberTask> = BTreeMap::new();
    let mut fail_list = Vec::new();
    let mut add = |userid: &str, recipient: String| {
        members
            .entry(userid.to_owned())
            .or_insert_with(|| MemberTask {
                recipients: Vec::new(),
                sent_at: None,
            })
            .recipients
            .push(recipient);
    };
    if group {
        // Customer groups are part 1's model; the sandbox takes the named groups as the sender's.
        let owner = sender.clone().unwrap_or_default();
        for chat in &req.chat_id_list {
            add(&owner, chat.clone());
        }
    } else {
        let book = CustomerBook::of(state);
        let filter = req.tag_filter.as_ref();
        book.with(|customers| {
            if req.external_userid.is_empty() {
                // Every customer of the sender.
                if let Some(s) = &sender {
                    for c in customers.values() {
                        if let Some(f) = c.follows.iter().find(|f| &f.userid == s)
                            && passes(filter, &f.tag_ids)
                        {
                            add(s, c.external_userid.clone());
                        }
                    }
                }
            } else {
                for id in &req.external_userid {
                    // "仅会推送给最后跟客户进行聊天互动的企业成员": the sender when it follows the
                    // customer, else the member who added the customer last.
                    let follow = customers.get(id).and_then(|c| match &sender {
                        Some(s) => c.follows.iter().find(|f| &f.userid == s),
                        None => c.follows.last(),
                    });
                    match follow {
                        Some(f) if passes(filter, &f.tag_ids) => add(&f.userid, id.clone()),
                        Some(_) => {}
                        None => fail_list.push(id.clone()),
                    }
                }
            }
        });
    }
    if members.is_empty() {
        return Err(ApiError::new(
            NO_CUSTOMER_TO_SEND,
            "no customer or customer group can receive this mass send",
        ));
    }
    let msgid = format!("msg-{}", state.next_msgid());
    let task = Task {
        msgid: msgid.clone(),
        group,
        create_time: state.now_secs(),
        text: req.text.clone(),
        attachments: req.attachments.clone(),
        cancelled: false,
        reminders: Vec::new(),
        members,
    };
    let s = sends(state);
    let mut tasks = lock(&s.tasks);
    if tasks.len() >= MAX_TASKS {
        tasks.remove(0);
    }
    tasks.push(task);
    let mut answer = AddMsgTemplateResponse::new();
    answer.msgid = Some(msgid);
    answer.fail_list = fail_list;
    Ok(answer)
}

fn with_task<R>(
    state: &State,
    msgid: &str,
    f: impl FnOnce(&mut Task) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    if msgid.is_empty() {
        return Err(ApiError::new(MISSING_MSGID, "msgid is empty"));
    }
    let s = sends(state);
    let mut tasks = lock(&s.tasks);
    match tasks.iter_mut().find(|t| t.msgid == msgid) {
        Some(t) => f(t),
        None => Err(ApiError::new(
            INVALID_MSGID,
            format!("no mass send has msgid {msgid:?}"),
        )),
    }
}

/// The admin side of a mass send: `userid` confirms the task in WeCom, which sends it to the
/// member's recipients at the sandbox's current time. Answers how many recipients it reached;
/// 41047 for an unknown msgid, 41093 after `cancel_groupmsg_send`, 60111 when the member has no
/// part in the task.
pub fn confirm_mass_send(state: &State, msgid: &str, userid: &str) -> Result<usize, ApiError> {
    let now = state.now_secs();
    with_task(state, msgid, |t| {
        if t.cancelled {
            return Err(ApiError::new(TASK_CANCELLED, "the mass send was cancelled"));
        }
        let m = t.members.get_mut(userid).ok_or_else(|| {
            ApiError::new(
                ErrorCode::INVALID_USERID.code(),
                format!("member {userid} has no part in mass send {msgid}"),
            )
        })?;
        if m.sent_at.is_none() {
            m.sent_at = Some(now);
        }
        Ok(m.recipients.len())
    })
}

/// Who a mass send goes to: each member with their recipients (for the admin API and page).
pub fn mass_send_recipients(
    state: &State,
    msgid: &str,
) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    with_task(state, msgid, |t| {
        Ok(t.members
            .iter()
            .map(|(u, m)| (u.clone(), m.recipients.clone()))
            .collect())
    })
}

async fn get_groupmsg_list_v2(
    ctx: Ctx,
    req: GetGroupmsgListV2Request,
) -> Result<GetGroupmsgListV2Response, ApiError> {
    // chat_type defaults to single (page 96355).
    let group = req.chat_type.as_deref() == Some("group");
    // Every task of the sandbox is created through the API, so by the corp (create_type 0).
    let corp_created = req.filter_type.is_none_or(|f| f != 1);
    let s = sends(ctx.state());
    let list: Vec<GroupMsg> = lock(&s.tasks)
        .iter()
        .filter(|t| corp_created && t.group == group)
        .filter(|t| t.create_time >= req.start_time && t.create_time <= req.end_time)
        .filter(|_| req.creator.is_none())
        .map(|t| {
            let mut m = GroupMsg::new(t.msgid.clone());
            m.create_time = Some(serde_json::Value::from(t.create_time.to_string()));
            m.create_type = Some(0);
            m.text.clone_from(&t.text);
            m.attachments.clone_from(&t.attachments);
            m
        })
        .collect();
    // "最大值100,默认值50,超过最大值时取默认值" (page 96355); 0 is taken as the default too.
    let size = match req.limit {
        Some(n @ 1..=100) => n as usize,
        _ => 50,
    };
    let (items, next) = page(&list, req.cursor.as_deref(), size)?;
    let mut answer = GetGroupmsgListV2Response::new();
    answer.group_msg_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn get_groupmsg_task(
    ctx: Ctx,
    req: GetGroupmsgTaskRequest,
) -> Result<GetGroupmsgTaskResponse, ApiError> {
    let list = with_task(ctx.state(), &req.msgid, |t| {
        Ok(t.members
            .iter()
            .map(|(u, m)| {
                let mut task = GroupMsgTask::new(u.clone());
                task.status = Some(if m.sent_at.is_some() { 2 } else { 0 });
                task.send_time = m.sent_at;
                task
            })
            .collect::<Vec<_>>())
    })?;
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.limit.unwrap_or(500) as usize,
    )?;
    let mut answer = GetGroupmsgTaskResponse::new();
    answer.task_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn get_groupmsg_send_result(
    ctx: Ctx,
    req: GetGroupmsgSendResultRequest,
) -> Result<GetGroupmsgSendResultResponse, ApiError> {
    let list = with_task(ctx.state(), &req.msgid, |t| {
        let group = t.group;
        Ok(t.members
            .get(&req.userid)
            .map(|m| {
                m.recipients
                    .iter()
                    .map(|r| {
                        let mut s = GroupMsgSend::new();
                        if group {
                            s.chat_id = Some(r.clone());
                        } else {
                            s.external_userid = Some(r.clone());
                        }
                        s.userid = Some(req.userid.clone());
                        s.status = Some(u32::from(m.sent_at.is_some()));
                        s.send_time = m.sent_at;
                        s
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default())
    })?;
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.limit.unwrap_or(500) as usize,
    )?;
    let mut answer = GetGroupmsgSendResultResponse::new();
    answer.send_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn cancel_groupmsg_send(
    ctx: Ctx,
    req: CancelGroupmsgSendRequest,
) -> Result<CancelGroupmsgSendResponse, ApiError> {
    with_task(ctx.state(), &req.msgid, |t| {
        t.cancelled = true;
        Ok(CancelGroupmsgSendResponse::new())
    })
}

async fn remind_groupmsg_send(
    ctx: Ctx,
    req: RemindGroupmsgSendRequest,
) -> Result<RemindGroupmsgSendResponse, ApiError> {
    let now = ctx.state().now_secs();
    with_task(ctx.state(), &req.msgid, |t| {
        if t.cancelled {
            return Err(ApiError::new(TASK_CANCELLED, "the mass send was cancelled"));
        }
        t.reminders.retain(|at| now - at < DAY);
        if t.reminders.len() >= REMINDERS_PER_DAY {
            return Err(ApiError::new(
                REMIND_TOO_OFTEN,
                "a mass send may be reminded at most 3 times in 24 hours",
            ));
        }
        t.reminders.push(now);
        Ok(RemindGroupmsgSendResponse::new())
    })
}
