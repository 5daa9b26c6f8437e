//! Meetings (会议, 预约会议基础管理). A meeting belongs to the app that booked it: only that app
//! may change, cancel or read it, and `get_user_meetingid` lists only its meetings (仅允许取消当前
//! 应用创建的会议; 只能拉取该应用创建的会议ID). The admin and the invitees must be members the app
//! can see (任何userid不合法或者不在应用可见范围,直接报错: the directory's 60111 / 60011). A
//! meeting can be changed or cancelled only while booked (仅允许修改/取消预约状态下的会议).
//!
//! The pages name no errcode for an unknown meeting, another app's meeting or one no longer
//! booked: the sandbox answers 40058 (unknown, not booked) and 60011 (another app's).
//!
//! State (`status` of `get_info`): the page's excerpt ends before its values; the sandbox uses the
//! peers' (go-wecom, WxJava): 1 待开始 before the start, 2 会议中 until the end, 3 已结束 after it,
//! 4 已取消. Nobody joins a sandbox meeting, so `attendees` is absent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wecom_oa::{
    MeetingCancelRequest, MeetingCancelResponse, MeetingCreateRequest, MeetingCreateResponse,
    MeetingGetInfoRequest, MeetingGetInfoResponse, MeetingGetUserMeetingidRequest,
    MeetingGetUserMeetingidResponse, MeetingInvitees, MeetingReminders, MeetingSettings,
    MeetingSettingsInfo, MeetingUpdateRequest, MeetingUpdateResponse,
};

use crate::corp::Actor;
use crate::error::ApiError;
use crate::paging::page;
use crate::registry::{Ctx, Registry};
use crate::state::State;

/// 待开始 (booked, not started).
pub const STATUS_BOOKED: u32 = 1;
/// 会议中.
pub const STATUS_IN_PROGRESS: u32 = 2;
/// 已结束.
pub const STATUS_ENDED: u32 = 3;
/// 已取消.
pub const STATUS_CANCELLED: u32 = 4;

pub(super) fn register(r: &mut Registry) {
    r.add::<MeetingCreateRequest, _, _>(create);
    r.add::<MeetingUpdateRequest, _, _>(update);
    r.add::<MeetingCancelRequest, _, _>(cancel);
    r.add::<MeetingGetInfoRequest, _, _>(get_info);
    r.add::<MeetingGetUserMeetingidRequest, _, _>(get_user_meetingid);
}

/// A booked meeting as the sandbox keeps it.
#[derive(Debug, Clone)]
struct Meeting {
    agentid: u32,
    admin: String,
    title: String,
    start: u32,
    duration: u32,
    description: Option<String>,
    location: Option<String>,
    invitees: Vec<String>,
    settings: Option<MeetingSettings>,
    cal_id: Option<String>,
    reminders: Option<MeetingReminders>,
    code: String,
    cancelled: bool,
}

impl Meeting {
    fn status(&self, now: i64) -> u32 {
        let (start, end) = (
            i64::from(self.start),
            i64::from(self.start) + i64::from(self.duration),
        );
        if self.cancelled {
            STATUS_CANCELLED
        } else if now < start {
            STATUS_BOOKED
        } else if now < end {
            STATUS_IN_PROGRESS
        } else {
            STATUS_ENDED
        }
    }

    fn involves(&self, userid: &str) -> bool {
        self.admin.eq_ignore_ascii_case(userid)
            || self.invitees.iter().any(|u| u.eq_ignore_ascii_case(userid))
    }
}

#[derive(Debug, Default)]
struct Meetings {
    inner: Mutex<(u64, BTreeMap<String, Meeting>)>,
}

type Guard<'a> = MutexGuard<'a, (u64, BTreeMap<String, Meeting>)>;

fn meetings(state: &State) -> Arc<Meetings> {
    state.extension::<Meetings>()
}

fn lock(m: &Meetings) -> Guard<'_> {
    m.inner.lock().unwrap_or_else(|e| e.into_inner())
}

/// The meeting, if this app booked it.
fn own<'a>(
    g: &'a mut Guard<'_>,
    agentid: u32,
    meetingid: &str,
) -> Result<&'a mut Meeting, ApiError> {
    let m = g.1.get_mut(meetingid).ok_or_else(|| {
        ApiError::invalid_parameter(format!(
            "meetingid {meetingid} names no meeting (the page names no errcode for this; the sandbox answers the generic one)"
        ))
    })?;
    if m.agentid != agentid {
        return Err(ApiError::no_privilege(format!(
            "meeting {meetingid} was booked by another app (仅允许操作当前应用创建的会议)"
        )));
    }
    Ok(m)
}

/// The admin and every invitee must be members the app can see.
fn check_members(state: &State, agentid: u32, users: &[&str]) -> Result<(), ApiError> {
    let corp = state.corp();
    for u in users {
        corp.check_user_visible(Actor::App(agentid), u)?;
    }
    Ok(())
}

fn after_now(start: u32, now: i64) -> Result<(), ApiError> {
    if i64::from(start) <= now {
        return Err(ApiError::invalid_parameter(format!(
            "meeting_start {start} is not after now ({now}): 需大于当前时间"
        )));
    }
    Ok(())
}

fn invitee_ids(i: &Option<MeetingInvitees>) -> Vec<String> {
    i.as_ref().map(|i| i.userid.clone()).unwrap_or_default()
}

async fn create(ctx: Ctx, req: MeetingCreateRequest) -> Result<MeetingCreateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    let invitees = invitee_ids(&req.invitees);
    let mut users: Vec<&str> = vec![req.admin_userid.as_str()];
    users.extend(invitees.iter().map(String::as_str));
    check_members(state, agentid, &users)?;
    let start = match req.meeting_start {
        Some(s) => {
            after_now(s, now)?;
            s
        }
        // 98148 makes meeting_start optional without saying what its absence means (the
        // excerpt ends there); the sandbox starts such a meeting a minute from now.
        None => u32::try_from(now + 60).unwrap_or(u32::MAX),
    };
    let store = meetings(state);
    let mut g = lock(&store);
    g.0 += 1;
    let n = g.0;
    let id = format!("hysbx{n:019X}");
    let code = format!("{:09}", 100_000_000 + n);
    g.1.insert(
        id.clone(),
        Meeting {
            agentid,
            admin: req.admin_userid,
            title: req.title,
            start,
            duration: req.meeting_duration,
            description: req.description,
            location: req.location,
            invitees,
            settings: req.settings,
            cal_id: req.cal_id,
            reminders: req.reminders,
            code: code.clone(),
            cancelled: false,
        },
    );
    Ok(MeetingCreateResponse::new(id.clone())
        .meeting_code(code)
        .meeting_link(format!("https://meeting.sandbox.invalid/{id}")))
}

fn booked(m: &Meeting, meetingid: &str, now: i64) -> Result<(), ApiError> {
    match m.status(now) {
        STATUS_BOOKED => Ok(()),
        s => Err(ApiError::invalid_parameter(format!(
            "meeting {meetingid} is no longer booked (status {s}): only a booked meeting can be changed or cancelled"
        ))),
    }
}

async fn update(ctx: Ctx, req: MeetingUpdateRequest) -> Result<MeetingUpdateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    if let Some(s) = req.meeting_start {
        after_now(s, now)?;
    }
    if let Some(i) = &req.invitees {
        let users: Vec<&str> = i.userid.iter().map(String::as_str).collect();
        check_members(state, agentid, &users)?;
    }
    let store = meetings(state);
    let mut g = lock(&store);
    let m = own(&mut g, agentid, &req.meetingid)?;
    booked(m, &req.meetingid, now)?;
    if let Some(t) = req.title {
        m.title = t;
    }
    if let Some(s) = req.meeting_start {
        m.start = s;
    }
    if let Some(d) = req.meeting_duration {
        m.duration = d;
    }
    if req.description.is_some() {
        m.description = req.description;
    }
    if req.location.is_some() {
        m.location = req.location;
    }
    if req.invitees.is_some() {
        m.invitees = invitee_ids(&req.invitees);
    }
    if req.settings.is_some() {
        m.settings = req.settings;
    }
    if req.cal_id.is_some() {
        m.cal_id = req.cal_id;
    }
    if req.reminders.is_some() {
        m.reminders = req.reminders;
    }
    Ok(MeetingUpdateResponse::new())
}

async fn cancel(ctx: Ctx, req: MeetingCancelRequest) -> Result<MeetingCancelResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let now = ctx.state().now_secs();
    let store = meetings(ctx.state());
    let mut g = lock(&store);
    let m = own(&mut g, agentid, &req.meetingid)?;
    booked(m, &req.meetingid, now)?;
    m.cancelled = true;
    Ok(MeetingCancelResponse::new())
}

fn settings_info(s: &MeetingSettings) -> MeetingSettingsInfo {
    let mut i = MeetingSettingsInfo::new();
    i.password = s.password.clone();
    i.enable_waiting_room = s.enable_waiting_room;
    i.allow_enter_before_host = s.allow_enter_before_host;
    i.enable_enter_mute = s.enable_enter_mute.map(serde_json::Value::from);
    i.allow_unmute_self = s.allow_unmute_self;
    i.mute_all = s.mute_all;
    i.allow_external_user = s.allow_external_user;
    i.enable_screen_watermark = s.enable_screen_watermark;
    i.hosts = s.hosts.clone();
    i.remind_scope = s.remind_scope;
    i.ring_users = s.ring_users.clone();
    i
}

async fn get_info(
    ctx: Ctx,
    req: MeetingGetInfoRequest,
) -> Result<MeetingGetInfoResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    let m = {
        let store = meetings(state);
        let mut g = lock(&store);
        own(&mut g, agentid, &req.meetingid)?.clone()
    };
    let main_department = {
        let corp = state.corp();
        corp.member(&m.admin)
            .ok()
            .and_then(|a| a.main_department.or_else(|| a.department.first().copied()))
    };
    let mut r = MeetingGetInfoResponse::new();
    r.admin_userid = Some(m.admin.clone());
    r.title = Some(m.title.clone());
    r.meeting_start = Some(m.start);
    r.meeting_duration = Some(m.duration);
    r.description = m.description.clone();
    r.location = m.location.clone();
    r.main_department = main_department;
    r.status = Some(m.status(now));
    r.agentid = Some(agentid);
    r.settings = m.settings.as_ref().map(settings_info);
    r.cal_id = m.cal_id.clone();
    r.reminders = m.reminders.clone();
    r.meeting_code = Some(m.code.clone());
    r.meeting_link = Some(format!("https://meeting.sandbox.invalid/{}", req.meetingid));
    Ok(r)
}

async fn get_user_meetingid(
    ctx: Ctx,
    req: MeetingGetUserMeetingidRequest,
) -> Result<MeetingGetUserMeetingidResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    state.corp().member(&req.userid)?;
    // "如果begin_time和end_time都没填的话,默认end_time为当前时间"; "end_time仅用于约束历史会议,
    // 对于未开始的会议,只要开始时间大于等于begin_time都会返回".
    let begin = i64::from(req.begin_time.unwrap_or(0));
    let end = req.end_time.map_or(now, i64::from);
    let mut found: Vec<(u32, String)> = {
        let store = meetings(state);
        let g = lock(&store);
        g.1.iter()
            .filter(|(_, m)| m.agentid == agentid && m.involves(&req.userid))
            .filter(|(_, m)| {
                let start = i64::from(m.start);
                start >= begin && (start > now || start <= end)
            })
            .map(|(id, m)| (m.start, id.clone()))
            .collect()
    };
    found.sort();
    let ids: Vec<String> = found.into_iter().map(|(_, id)| id).collect();
    let (page, next) = page(
        &ids,
        req.cursor.as_deref(),
        req.limit.unwrap_or(100) as usize,
    )?;
    Ok(MeetingGetUserMeetingidResponse::new()
        .meetingid_list(page)
        .next_cursor(next))
}

/// The state of a meeting as `get_info` would answer it (for tests and the admin API).
pub fn meeting_status(state: &State, meetingid: &str) -> Option<u32> {
    let now = state.now_secs();
    let store = meetings(state);
    let g = lock(&store);
    g.1.get(meetingid).map(|m| m.status(now))
}
