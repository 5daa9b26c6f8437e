//! High-definition voice, attachments, upload by URL, task cards, send statistics and messages to
//! linked corps (spec/messages.toml; issue 16 part 3).
//!
//! - `media/get/jssdk`: the sandbox has no JS-SDK `uploadVoice`; a stored `voice` file stands for
//!   one and is answered as `voice/speex` (the bytes as stored: the sandbox does not transcode).
//!   Any other media_id answers 40007.
//! - `media/upload_attachment`: stored like media/upload (3 days); `created_at` is a number, as
//!   on page 95098.
//! - `media/upload_by_url`: the sandbox fetches the URL in the background, compares its MD5 and
//!   stores it; `media/get_upload_by_url_result` answers status 1 while it works and 2 when it
//!   ended, with the outcome in `detail` (errcode 0 and the media_id, or 40058 and why). The
//!   page's status numbering and its detail errcodes are beyond the excerpt the docs corpus holds:
//!   these are the sandbox's. Only the credential that started a job may read it. When the job
//!   ends, `upload_media_job_finish` (JobId only) is pushed to the calling app's callback.
//! - `message/update_taskcard`: recipients outside the app's visible scope come back in
//!   `invaliduser`; the clicks are kept ([`taskcard_clicks`]).
//! - `message/get_statistics`: deliveries (人次) per app for the sandbox's today or yesterday
//!   (UTC+8 days), from the inboxes.
//! - `linkedcorp/message/send`: recipients are resolved against the linked corps
//!   ([`super::directory_extra::LinkedDirectory`]) and delivered to inboxes named
//!   `CorpId/userid`; unknown ones come back in the invalid lists, 81013 when all are invalid.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use md5::{Digest, Md5};
use serde_json::Value;
use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_core_auth::ErrorCode;
use wecom_messages::generated::messages::{
    LinkedcorpMessageSendRequest, LinkedcorpMessageSendResponse, MediaGetJssdkRequest,
    MediaGetUploadByUrlResultRequest, MediaGetUploadByUrlResultResponse, MediaType,
    MediaUploadAttachmentRequest, MediaUploadAttachmentResponse, MediaUploadByUrlRequest,
    MediaUploadByUrlResponse, MessageGetStatisticsRequest, MessageGetStatisticsResponse,
    MessageStatistics, MessageUpdateTaskcardRequest, MessageUpdateTaskcardResponse,
    UploadByUrlDetail,
};

use crate::areas::directory_extra::linked_directory;
use crate::areas::messages::{Uploaded, sender};
use crate::corp::Actor;
use crate::error::ApiError;
use crate::registry::{Binary, Caller, Ctx, Registry};
use crate::state::{State, lock};

/// Registers the endpoints.
pub fn register(r: &mut Registry) {
    r.add_binary::<MediaGetJssdkRequest, _, _>(media_get_jssdk);
    r.add::<Uploaded<MediaUploadAttachmentRequest>, _, _>(media_upload_attachment);
    r.add::<MediaUploadByUrlRequest, _, _>(media_upload_by_url);
    r.add::<MediaGetUploadByUrlResultRequest, _, _>(media_get_upload_by_url_result);
    r.add::<MessageUpdateTaskcardRequest, _, _>(message_update_taskcard);
    r.add::<MessageGetStatisticsRequest, _, _>(message_get_statistics);
    r.add::<LinkedcorpMessageSendRequest, _, _>(linkedcorp_message_send);
}

async fn media_get_jssdk(ctx: Ctx, req: MediaGetJssdkRequest) -> Result<Binary, ApiError> {
    ctx.agentid()?;
    let media = ctx
        .state()
        .media(&req.media_id)
        .filter(|m| m.kind == "voice")
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::INVALID_MEDIA_ID,
                format!(
                    "invalid media_id `{}`: unknown, expired, or not a voice",
                    req.media_id
                ),
            )
        })?;
    Ok(Binary {
        bytes: media.bytes,
        content_type: "voice/speex".to_owned(),
        filename: format!("{}.speex", media.media_id),
        range: None,
    })
}

async fn media_upload_attachment(
    ctx: Ctx,
    req: Uploaded<MediaUploadAttachmentRequest>,
) -> Result<MediaUploadAttachmentResponse, ApiError> {
    let kind = req.request.media_type.clone();
    let state = ctx.state();
    let id = state.store_media(
        kind.as_str(),
        req.file.bytes.clone(),
        &req.file.content_type,
        req.file.file_name(),
        false,
    );
    Ok(MediaUploadAttachmentResponse::new(kind, id).created_at(Value::from(state.now_secs())))
}

// ------------------------------------------------------------------------------------------------
// Upload by URL

#[derive(Debug)]
struct UrlJob {
    owner: Caller,
    detail: Option<UploadByUrlDetail>,
}

#[derive(Debug, Default)]
struct UrlJobs {
    inner: Mutex<UrlJobsInner>,
}

#[derive(Debug, Default)]
struct UrlJobsInner {
    next: u64,
    jobs: HashMap<String, UrlJob>,
}

async fn media_upload_by_url(
    ctx: Ctx,
    req: MediaUploadByUrlRequest,
) -> Result<MediaUploadByUrlResponse, ApiError> {
    let owner = ctx.caller().clone();
    let state = Arc::clone(ctx.state());
    let jobs = state.extension::<UrlJobs>();
    let jobid = {
        let mut inner = lock(&jobs.inner);
        inner.next += 1;
        let jobid = format!("jobid_upload_{}_{}", state.now_secs(), inner.next);
        inner.jobs.insert(
            jobid.clone(),
            UrlJob {
                owner,
                detail: None,
            },
        );
        jobid
    };
    let id = jobid.clone();
    let caller = ctx.caller().clone();
    tokio::spawn(async move {
        let detail = fetch_and_store(&state, &req).await;
        let jobs = state.extension::<UrlJobs>();
        if let Some(job) = lock(&jobs.inner).jobs.get_mut(&id) {
            job.detail = Some(detail);
        }
        notify_upload_finished(&state, &caller, &id).await;
    });
    Ok(MediaUploadByUrlResponse::new(jobid))
}

/// Pushes `upload_media_job_finish` (JobId only) to the calling app's callback, if it has one.
async fn notify_upload_finished(state: &State, caller: &Caller, jobid: &str) {
    let Caller::App(agentid) = caller else { return };
    let (corpid, config) = {
        let corp = state.corp();
        (
            corp.corpid().to_owned(),
            corp.app(*agentid).ok().and_then(|a| a.callback.clone()),
        )
    };
    let Some(config) = config else { return };
    let now = state.now_secs();
    let xml = Inbound::Event(Event {
        header: Header {
            to_user_name: corpid.clone(),
            from_user_name: "sys".into(),
            create_time: now,
            agent_id: Some(i64::from(*agentid)),
        },
        kind: EventKind::UploadMediaJobFinish {
            job_id: jobid.to_owned(),
        },
    })
    .to_xml();
    state
        .callbacks
        .push(&config, &corpid, Some(*agentid), &xml, now)
        .await;
}

/// The most the sandbox fetches: 200 MB ("最高支持200M").
const MAX_URL_UPLOAD: usize = 200 * 1024 * 1024;

async fn fetch_and_store(state: &State, req: &MediaUploadByUrlRequest) -> UploadByUrlDetail {
    let failed = |why: String| {
        let mut d = UploadByUrlDetail::new(ErrorCode::INVALID_PARAMETER.code());
        d.errmsg = Some(why);
        d
    };
    let body = match reqwest::get(&req.url).await {
        Ok(resp) if resp.status().is_success() => match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return failed(format!("could not read the file at the url: {e}")),
        },
        Ok(resp) => return failed(format!("the url answered HTTP {}", resp.status())),
        Err(e) => return failed(format!("could not fetch the url: {e}")),
    };
    if body.len() > MAX_URL_UPLOAD {
        return failed(format!(
            "the file is {} bytes, more than 200 MB",
            body.len()
        ));
    }
    let md5: String = Md5::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !md5.eq_ignore_ascii_case(&req.md5) {
        return failed(format!(
            "md5 of the downloaded file is {md5}, the request said {}",
            req.md5
        ));
    }
    let content_type = match req.media_type {
        MediaType::Video => "video/mp4",
        _ => "application/octet-stream",
    };
    let media_id = state.store_media(
        req.media_type.as_str(),
        Bytes::from(body.to_vec()),
        content_type,
        &req.filename,
        false,
    );
    let mut d = UploadByUrlDetail::new(0);
    d.errmsg = Some("ok".to_owned());
    d.media_id = Some(media_id);
    d.created_at = Some(Value::from(state.now_secs()));
    d
}

async fn media_get_upload_by_url_result(
    ctx: Ctx,
    req: MediaGetUploadByUrlResultRequest,
) -> Result<MediaGetUploadByUrlResultResponse, ApiError> {
    let jobs = ctx.state().extension::<UrlJobs>();
    let inner = lock(&jobs.inner);
    let job = inner
        .jobs
        .get(&req.jobid)
        .filter(|j| &j.owner == ctx.caller())
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "invalid jobid `{}`: unknown, or started with another credential",
                req.jobid
            ))
        })?;
    Ok(match &job.detail {
        None => MediaGetUploadByUrlResultResponse::new(1),
        Some(d) => MediaGetUploadByUrlResultResponse::new(2).detail(d.clone()),
    })
}

// ------------------------------------------------------------------------------------------------
// Task cards, statistics

#[derive(Debug, Default)]
struct TaskCards {
    /// task_id -> userid -> clicked_key
    clicks: Mutex<HashMap<String, BTreeMap<String, String>>>,
}

/// The members whose task card `task_id` was updated, with the key shown as clicked.
pub fn taskcard_clicks(state: &State, task_id: &str) -> Vec<(String, String)> {
    lock(&state.extension::<TaskCards>().clicks)
        .get(task_id)
        .map(|m| m.iter().map(|(u, k)| (u.clone(), k.clone())).collect())
        .unwrap_or_default()
}

async fn message_update_taskcard(
    ctx: Ctx,
    req: MessageUpdateTaskcardRequest,
) -> Result<MessageUpdateTaskcardResponse, ApiError> {
    let agentid = sender(&ctx, req.agentid)?;
    let (valid, invalid) = {
        let corp = ctx.state().corp();
        let mut valid = Vec::new();
        let mut invalid = Vec::new();
        for u in &req.userids {
            match corp.check_user_visible(Actor::App(agentid), u) {
                Ok(m) => valid.push(m.userid.clone()),
                Err(_) => invalid.push(u.clone()),
            }
        }
        (valid, invalid)
    };
    let cards = ctx.state().extension::<TaskCards>();
    let mut clicks = lock(&cards.clicks);
    let entry = clicks.entry(req.task_id.clone()).or_default();
    for u in valid {
        entry.insert(u, req.clicked_key.clone());
    }
    Ok(MessageUpdateTaskcardResponse::new().invaliduser(invalid))
}

/// Start of the UTC+8 day holding `now` (Unix seconds).
fn day_start(now: i64) -> i64 {
    const OFFSET: i64 = 8 * 3600;
    (now + OFFSET).div_euclid(86_400) * 86_400 - OFFSET
}

async fn message_get_statistics(
    ctx: Ctx,
    req: MessageGetStatisticsRequest,
) -> Result<MessageGetStatisticsResponse, ApiError> {
    ctx.agentid()?;
    let state = ctx.state();
    let today = day_start(state.now_secs());
    let (from, to) = match req.time_type.unwrap_or(0) {
        1 => (today - 86_400, today),
        _ => (today, i64::MAX),
    };
    let (apps, users): (Vec<(u32, String)>, Vec<String>) = {
        let corp = state.corp();
        (
            corp.apps().map(|a| (a.agentid, a.name.clone())).collect(),
            corp.members().map(|m| m.userid.clone()).collect(),
        )
    };
    let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
    for u in users {
        for m in state.inbox(&u) {
            if m.at >= from && m.at < to {
                *counts.entry(m.agentid).or_default() += 1;
            }
        }
    }
    let rows = apps.into_iter().filter_map(|(agentid, name)| {
        let n = *counts.get(&agentid)?;
        let mut row = MessageStatistics::new(agentid, n);
        row.app_name = Some(name);
        Some(row)
    });
    Ok(MessageGetStatisticsResponse::new().statistics(rows))
}

// ------------------------------------------------------------------------------------------------
// Messages to linked corps

async fn linkedcorp_message_send(
    ctx: Ctx,
    req: LinkedcorpMessageSendRequest,
) -> Result<LinkedcorpMessageSendResponse, ApiError> {
    let agentid = sender(&ctx, req.agentid)?;
    let state = ctx.state();
    let dir = linked_directory(state);
    let mut to: Vec<String> = Vec::new();
    let mut invaliduser = Vec::new();
    let mut invalidparty = Vec::new();
    // The sandbox keeps no linked tags: every tag is invalid.
    let invalidtag = req.totag.clone();
    if req.toall == Some(true) {
        to.extend(
            dir.all_members()
                .map(|(c, m)| format!("{}/{}", c.corpid, m.userid)),
        );
    } else {
        for u in &req.touser {
            match dir.member(u) {
                Some((c, m)) => to.push(format!("{}/{}", c.corpid, m.userid)),
                None => invaliduser.push(u.clone()),
            }
        }
        for p in &req.toparty {
            match dir.members_of(p, true) {
                Ok((c, members)) => {
                    to.extend(members.iter().map(|m| format!("{}/{}", c.corpid, m.userid)));
                }
                Err(_) => invalidparty.push(p.clone()),
            }
        }
    }
    to.sort();
    to.dedup();
    if to.is_empty() {
        return Err(ApiError::new(
            ErrorCode::ALL_RECIPIENTS_INVALID,
            "all recipients are invalid: no linked-corp member, department or tag matched",
        ));
    }
    let mut message = serde_json::to_value(&req.content).unwrap_or(Value::Null);
    let msgtype = message
        .get("msgtype")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(o) = message.as_object_mut() {
        o.insert("agentid".into(), Value::from(agentid));
    }
    let msgid = state.next_msgid();
    for u in &to {
        state.deliver(agentid, u, &msgid, &msgtype, message.clone());
    }
    Ok(LinkedcorpMessageSendResponse::new()
        .invaliduser(invaliduser)
        .invalidparty(invalidparty)
        .invalidtag(invalidtag))
}

#[cfg(test)]
mod tests {
    use super::day_start;

    #[test]
    fn days_start_at_midnight_in_china() {
        // 2026-01-05 09:00:00 UTC = 17:00 in UTC+8; the day began 2026-01-04 16:00:00 UTC.
        assert_eq!(day_start(1_767_603_600), 1_767_542_400);
        assert_eq!(day_start(1_767_542_400), 1_767_542_400);
        assert_eq!(day_start(1_767_542_399), 1_767_542_400 - 86_400);
    }
}
