//! Moments (客户朋友圈): corp moment tasks whose senders publish them (admin
//! [`publish_moment`]), with the customers each sender's moment is meant for and reaches.
//!
//! `add_moment_task` is asynchronous in WeCom; the sandbox creates the moment at once, so
//! `get_moment_task_result` answers status 3 (done) from the first read. The senders are the
//! members of `visible_range.sender_list` (users and departments with their subtrees), or every
//! member the caller sees when it is omitted (page 95094: "若未指定,则表示执行者为应用可见范围内所有
//! 成员"); unknown members or members outside the calling app's scope come back in
//! `invalid_sender_list`. A sender's customers are those they follow, narrowed to the corp tags
//! of `external_contact_list` when given. An app's reads list only members in its scope (page
//! 93333: "自建应用调用,只会返回应用可见范围内用户的发送情况").

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;
use wecom_externalcontact::{
    AddMomentTaskRequest, AddMomentTaskResponse, CancelMomentTaskRequest, CancelMomentTaskResponse,
    GetMomentCommentsRequest, GetMomentCommentsResponse, GetMomentCustomerListRequest,
    GetMomentCustomerListResponse, GetMomentListRequest, GetMomentListResponse,
    GetMomentSendResultRequest, GetMomentSendResultResponse, GetMomentTaskRequest,
    GetMomentTaskResponse, GetMomentTaskResultRequest, GetMomentTaskResultResponse, MassMedia,
    MassText, Moment, MomentAttachment, MomentCustomer, MomentInteraction, MomentSenders,
    MomentTask, MomentTaskResult,
};

use super::{actor, page};
use crate::areas::externalcontact::book::CustomerBook;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

/// The most moments the sandbox keeps (bounded memory under a runaway test).
const MAX_MOMENTS: usize = 10_000;
/// "3:任务完成".
const TASK_DONE: u32 = 3;

#[derive(Debug, Clone)]
struct MomentRec {
    moment_id: String,
    jobid: String,
    create_time: i64,
    text: Option<MassText>,
    attachments: Vec<MomentAttachment>,
    tags: Vec<String>,
    invalid_senders: Vec<String>,
    cancelled: bool,
    /// Sender -> when they published it.
    senders: BTreeMap<String, Option<i64>>,
    /// Sender -> comments and likes on their copy (admin [`interact_moment`]).
    interactions: BTreeMap<String, Interactions>,
}

#[derive(Debug, Clone, Default)]
struct Interactions {
    comments: Vec<MomentInteraction>,
    likes: Vec<MomentInteraction>,
}

/// The most comments and likes kept per sender's copy of a moment (bounded memory).
const MAX_INTERACTIONS: usize = 10_000;

#[derive(Debug, Default)]
struct Moments {
    list: Mutex<Vec<MomentRec>>,
    seq: Mutex<u64>,
}

fn moments(state: &State) -> std::sync::Arc<Moments> {
    state.extension::<Moments>()
}

pub(super) fn register(r: &mut Registry) {
    r.add::<AddMomentTaskRequest, _, _>(add_moment_task);
    r.add::<GetMomentTaskResultRequest, _, _>(get_moment_task_result);
    r.add::<CancelMomentTaskRequest, _, _>(cancel_moment_task);
    r.add::<GetMomentListRequest, _, _>(get_moment_list);
    r.add::<GetMomentTaskRequest, _, _>(get_moment_task);
    r.add::<GetMomentCustomerListRequest, _, _>(get_moment_customer_list);
    r.add::<GetMomentSendResultRequest, _, _>(get_moment_send_result);
    r.add::<GetMomentCommentsRequest, _, _>(get_moment_comments);
}

/// Whether the caller sees `userid` (an app: in its visible scope; the 客户联系 secret: anyone).
fn sees(ctx: &Ctx, userid: &str) -> bool {
    let corp = ctx.state().corp();
    match actor(ctx) {
        Some(a) => corp.check_user_visible(a, userid).is_ok(),
        None => corp.member(userid).is_ok(),
    }
}

async fn add_moment_task(
    ctx: Ctx,
    req: AddMomentTaskRequest,
) -> Result<AddMomentTaskResponse, ApiError> {
    let state = ctx.state();
    let range = req.visible_range.clone().unwrap_or_default();
    let named = range.sender_list.clone().unwrap_or_default();
    let mut wanted: Vec<String> = named.user_list.clone();
    {
        let corp = state.corp();
        for d in &named.department_list {
            if let Ok(ms) = corp.members_of(*d, true) {
                wanted.extend(ms.iter().map(|m| m.userid.clone()));
            }
        }
        if named.user_list.is_empty() && named.department_list.is_empty() {
            wanted = corp.members().map(|m| m.userid.clone()).collect();
        }
    }
    let (mut senders, mut invalid) = (BTreeMap::new(), Vec::new());
    for u in wanted {
        if sees(&ctx, &u) {
            senders.insert(u, None);
        } else if !named.user_list.is_empty() || !named.department_list.is_empty() {
            invalid.push(u);
        }
    }
    let m = moments(state);
    let n = {
        let mut seq = lock(&m.seq);
        *seq += 1;
        *seq
    };
    let rec = MomentRec {
        moment_id: format!("mom-sandbox-{n}"),
        jobid: format!("job-moment-{n}"),
        create_time: state.now_secs(),
        text: req.text.clone(),
        attachments: req.attachments.clone(),
        tags: range
            .external_contact_list
            .map(|t| t.tag_list)
            .unwrap_or_default(),
        invalid_senders: invalid,
        cancelled: false,
        senders,
        interactions: BTreeMap::new(),
    };
    let jobid = rec.jobid.clone();
    let mut list = lock(&m.list);
    if list.len() >= MAX_MOMENTS {
        list.remove(0);
    }
    list.push(rec);
    Ok(AddMomentTaskResponse::new(jobid))
}

fn with_moment<R>(
    state: &State,
    pick: impl Fn(&MomentRec) -> bool,
    what: &str,
    f: impl FnOnce(&mut MomentRec) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let m = moments(state);
    let mut list = lock(&m.list);
    match list.iter_mut().find(|r| pick(r)) {
        Some(r) => f(r),
        None => Err(ApiError::invalid_parameter(format!("no moment has {what}"))),
    }
}

async fn get_moment_task_result(
    ctx: Ctx,
    req: GetMomentTaskResultRequest,
) -> Result<GetMomentTaskResultResponse, ApiError> {
    let what = format!("jobid {:?}", req.jobid);
    with_moment(
        ctx.state(),
        |r| r.jobid == req.jobid,
        &what,
        |r| {
            let mut result = MomentTaskResult::new();
            result.errcode = Some(0);
            result.errmsg = Some("ok".to_owned());
            result.moment_id = Some(r.moment_id.clone());
            if !r.invalid_senders.is_empty() {
                let mut s = MomentSenders::new();
                s.user_list.clone_from(&r.invalid_senders);
                result.invalid_sender_list = Some(s);
            }
            let mut answer = GetMomentTaskResultResponse::new();
            answer.status = Some(TASK_DONE);
            answer.task_type = Some("add_moment_task".to_owned());
            answer.result = Some(result);
            Ok(answer)
        },
    )
}

/// The admin side of a moment: `userid` publishes the corp moment. Answers how many customers
/// it reaches; an error for an unknown moment, a cancelled one, or a member who is not a sender.
pub fn publish_moment(state: &State, moment_id: &str, userid: &str) -> Result<usize, ApiError> {
    let now = state.now_secs();
    let (tags, _) = with_moment(
        state,
        |r| r.moment_id == moment_id,
        &format!("moment_id {moment_id:?}"),
        |r| {
            if r.cancelled {
                return Err(ApiError::invalid_parameter(format!(
                    "moment {moment_id} was cancelled"
                )));
            }
            let slot = r.senders.get_mut(userid).ok_or_else(|| {
                ApiError::invalid_parameter(format!("{userid} is not a sender of {moment_id}"))
            })?;
            slot.get_or_insert(now);
            Ok((r.tags.clone(), ()))
        },
    )?;
    Ok(audience(state, userid, &tags).len())
}

/// The customers of `userid` a moment with corp tags `tags` is meant for.
fn audience(state: &State, userid: &str, tags: &[String]) -> Vec<String> {
    CustomerBook::of(state).with(|c| {
        c.values()
            .filter(|c| {
                c.follows.iter().any(|f| {
                    f.userid == userid
                        && (tags.is_empty() || f.tag_ids.iter().any(|t| tags.contains(t)))
                })
            })
            .map(|c| c.external_userid.clone())
            .collect()
    })
}

async fn cancel_moment_task(
    ctx: Ctx,
    req: CancelMomentTaskRequest,
) -> Result<CancelMomentTaskResponse, ApiError> {
    let what = format!("moment_id {:?}", req.moment_id);
    with_moment(
        ctx.state(),
        |r| r.moment_id == req.moment_id,
        &what,
        |r| {
            r.cancelled = true;
            Ok(CancelMomentTaskResponse::new())
        },
    )
}

fn to_moment(r: &MomentRec) -> Moment {
    let mut m = Moment::new(r.moment_id.clone());
    m.create_time = Some(Value::from(r.create_time.to_string()));
    m.create_type = Some(0);
    m.visible_type = Some(u32::from(r.tags.is_empty()));
    m.text.clone_from(&r.text);
    for a in &r.attachments {
        match a {
            MomentAttachment::Image(i) => m.image.push(MassMedia::new(i.media_id.clone())),
            MomentAttachment::Video(v) => {
                m.video = Some(serde_json::json!({ "media_id": v.media_id }));
            }
            MomentAttachment::Link(l) => {
                m.link = Some(serde_json::json!({ "title": l.title, "url": l.url }));
            }
            _ => {}
        }
    }
    m
}

async fn get_moment_list(
    ctx: Ctx,
    req: GetMomentListRequest,
) -> Result<GetMomentListResponse, ApiError> {
    // Every sandbox moment is a corp moment (create_type 0) without a creator.
    let corp_moments = req.filter_type.is_none_or(|f| f != 1) && req.creator.is_none();
    let m = moments(ctx.state());
    let list: Vec<Moment> = lock(&m.list)
        .iter()
        // "按时间只能取到(start_time, end_time)范围内的数据".
        .filter(|r| corp_moments && r.create_time > req.start_time && r.create_time < req.end_time)
        .map(to_moment)
        .collect();
    // "最大值20,默认值20,超过最大值时取默认值".
    let size = match req.limit {
        Some(l) if (1..=20).contains(&l) => l as usize,
        _ => 20,
    };
    let (items, next) = page(&list, req.cursor.as_deref(), size)?;
    let mut answer = GetMomentListResponse::new();
    answer.moment_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn get_moment_task(
    ctx: Ctx,
    req: GetMomentTaskRequest,
) -> Result<GetMomentTaskResponse, ApiError> {
    let what = format!("moment_id {:?}", req.moment_id);
    let senders = with_moment(
        ctx.state(),
        |r| r.moment_id == req.moment_id,
        &what,
        |r| Ok(r.senders.clone()),
    )?;
    let list: Vec<MomentTask> = senders
        .into_iter()
        .filter(|(u, _)| sees(&ctx, u))
        .map(|(u, at)| {
            let mut t = MomentTask::new(u);
            t.publish_status = Some(u32::from(at.is_some()));
            t
        })
        .collect();
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.limit.unwrap_or(1000) as usize,
    )?;
    let mut answer = GetMomentTaskResponse::new();
    answer.task_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

/// The customers of `userid` for the moment: all of them (`published_only` false) or only once
/// published.
fn customers(
    ctx: &Ctx,
    moment_id: &str,
    userid: &str,
    published_only: bool,
) -> Result<Vec<MomentCustomer>, ApiError> {
    let what = format!("moment_id {moment_id:?}");
    let (tags, sender, published) = with_moment(
        ctx.state(),
        |r| r.moment_id == moment_id,
        &what,
        |r| {
            let at = r.senders.get(userid);
            Ok((
                r.tags.clone(),
                at.is_some(),
                at.is_some_and(Option::is_some),
            ))
        },
    )?;
    if !sender || !sees(ctx, userid) || (published_only && !published) {
        return Ok(Vec::new());
    }
    Ok(audience(ctx.state(), userid, &tags)
        .into_iter()
        .map(|e| {
            let mut c = MomentCustomer::new(e);
            c.userid = Some(userid.to_owned());
            c
        })
        .collect())
}

async fn get_moment_customer_list(
    ctx: Ctx,
    req: GetMomentCustomerListRequest,
) -> Result<GetMomentCustomerListResponse, ApiError> {
    let list = customers(&ctx, &req.moment_id, &req.userid, false)?;
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.limit.unwrap_or(1000) as usize,
    )?;
    let mut answer = GetMomentCustomerListResponse::new();
    answer.customer_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn get_moment_send_result(
    ctx: Ctx,
    req: GetMomentSendResultRequest,
) -> Result<GetMomentSendResultResponse, ApiError> {
    let list = customers(&ctx, &req.moment_id, &req.userid, true)?;
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.limit.unwrap_or(5000) as usize,
    )?;
    let mut answer = GetMomentSendResultResponse::new();
    answer.customer_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

/// The admin side of moment interactions: on `userid`'s published copy of `moment_id`, `who` (an
/// external_userid starting with `wm`/`wo`, or a member's userid) comments (`like` false) or likes
/// it. An error for an unknown moment, a member who is not a sender or has not published it.
pub fn interact_moment(
    state: &State,
    moment_id: &str,
    userid: &str,
    who: &str,
    like: bool,
) -> Result<(), ApiError> {
    let now = state.now_secs();
    let is_member = state.corp().member(who).is_ok();
    with_moment(
        state,
        |r| r.moment_id == moment_id,
        &format!("moment_id {moment_id:?}"),
        |r| {
            match r.senders.get(userid) {
                Some(Some(_)) => {}
                Some(None) => {
                    return Err(ApiError::invalid_parameter(format!(
                        "{userid} has not published {moment_id} yet"
                    )));
                }
                None => {
                    return Err(ApiError::invalid_parameter(format!(
                        "{userid} is not a sender of {moment_id}"
                    )));
                }
            }
            let mut i = MomentInteraction::new();
            if is_member {
                i.userid = Some(who.to_owned());
            } else {
                i.external_userid = Some(who.to_owned());
            }
            i.create_time = Some(now);
            let slot = r.interactions.entry(userid.to_owned()).or_default();
            let list = if like {
                &mut slot.likes
            } else {
                &mut slot.comments
            };
            if list.len() >= MAX_INTERACTIONS {
                list.remove(0);
            }
            list.push(i);
            Ok(())
        },
    )
}

async fn get_moment_comments(
    ctx: Ctx,
    req: GetMomentCommentsRequest,
) -> Result<GetMomentCommentsResponse, ApiError> {
    let visible = sees(&ctx, &req.userid);
    let what = format!("moment_id {:?}", req.moment_id);
    let found = with_moment(
        ctx.state(),
        |r| r.moment_id == req.moment_id,
        &what,
        |r| Ok(r.interactions.get(&req.userid).cloned().unwrap_or_default()),
    )?;
    let mut answer = GetMomentCommentsResponse::new();
    // "自建应用调用,只会返回应用可见范围内用户的发送情况".
    if visible {
        answer.comment_list = found.comments;
        answer.like_list = found.likes;
    }
    Ok(answer)
}
