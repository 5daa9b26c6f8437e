//! Calendars and schedules (日程), meeting rooms (会议室, `calendar/meetingroom.rs`), live
//! streams (直播, `calendar/living.rs`), corp-paid calls and 紧急通知 calls (`calendar/calls.rs`).
//!
//! The rules kept here are the pages': an app sees only the calendars and schedules it created
//! (日历/日程不可跨应用操作: 90466), a deleted calendar or schedule answers 90459 / 90460, an
//! unknown id 90457 / 90461, admins must be among the shares or attendees (90492), a public or
//! corp calendar needs a public range (90483), a schedule without `cal_id` goes to the app's
//! default calendar (90708 when it has none), a schedule with a booked meeting room cannot move
//! (90700), "仅修改此日程" needs a repeating schedule (90484).
//!
//! Callbacks: WeCom pushes the calendar and schedule events when a *member* acts in the client
//! (an admin edits or deletes an API calendar, an attendee answers ...), not for the app's own
//! API calls. The sandbox's member actions ([`member_responds`], [`member_modifies_schedule`],
//! [`member_deletes_schedule`], [`member_adds_schedule`], [`member_modifies_calendar`],
//! [`member_deletes_calendar`]) change the state and push the event to the callback of the app
//! that created the calendar.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_oa::{
    AttendeeResponse, Calendar, CalendarAddRequest, CalendarAddResponse, CalendarDeleteRequest,
    CalendarDeleteResponse, CalendarFailResult, CalendarFailedShare, CalendarGetRequest,
    CalendarGetResponse, CalendarShare, CalendarUpdateRequest, CalendarUpdateResponse, Schedule,
    ScheduleAddAttendeesRequest, ScheduleAddAttendeesResponse, ScheduleAddRequest,
    ScheduleAddResponse, ScheduleAttendee, ScheduleAttendeeStatus, ScheduleDelAttendeesRequest,
    ScheduleDelAttendeesResponse, ScheduleDeleteRequest, ScheduleDeleteResponse,
    ScheduleExcludedTime, ScheduleGetByCalendarRequest, ScheduleGetByCalendarResponse,
    ScheduleGetRequest, ScheduleGetResponse, ScheduleUpdateRequest, ScheduleUpdateResponse,
};

use crate::callbacks::CallbackRecord;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::State;

mod calls;
mod living;
mod meetingroom;

pub use calls::record_dial_call;
pub use living::set_living_status;
pub(crate) use meetingroom::routes as meetingroom_routes;

/// 90457 日历ID异常.
const BAD_CAL_ID: i64 = 90457;
/// 90459 日历已删除.
const CAL_DELETED: i64 = 90459;
/// 90460 日程已删除.
const SCHEDULE_DELETED: i64 = 90460;
/// 90461 日程ID异常.
const BAD_SCHEDULE_ID: i64 = 90461;
/// 90466 不能操作别的应用创建的日历/日程.
const OTHER_APP: i64 = 90466;
/// 90483 公共日历或全员日历需要提供public_range.
const NEEDS_PUBLIC_RANGE: i64 = 90483;
/// 90484 "仅修改此日程"模式，仅可用于重复日程.
const ONLY_FOR_REPEATING: i64 = 90484;
/// 90492 管理员不在成员列表中.
const ADMIN_NOT_MEMBER: i64 = 90492;
/// 90700 更新日程前需要取消会议室预定.
const CANCEL_BOOKING_FIRST: i64 = 90700;
/// 90708 日程创建者没有默认日历，需要传日历参数.
const NO_DEFAULT_CALENDAR: i64 = 90708;

/// Registers the handlers of this part.
pub fn register(r: &mut Registry) {
    r.add::<CalendarAddRequest, _, _>(calendar_add);
    r.add::<CalendarUpdateRequest, _, _>(calendar_update);
    r.add::<CalendarGetRequest, _, _>(calendar_get);
    r.add::<CalendarDeleteRequest, _, _>(calendar_delete);
    r.add::<ScheduleAddRequest, _, _>(schedule_add);
    r.add::<ScheduleUpdateRequest, _, _>(schedule_update);
    r.add::<ScheduleGetRequest, _, _>(schedule_get);
    r.add::<ScheduleDeleteRequest, _, _>(schedule_delete);
    r.add::<ScheduleGetByCalendarRequest, _, _>(schedule_get_by_calendar);
    r.add::<ScheduleAddAttendeesRequest, _, _>(schedule_add_attendees);
    r.add::<ScheduleDelAttendeesRequest, _, _>(schedule_del_attendees);
    meetingroom::register(r);
    living::register(r);
    calls::register(r);
}

// ------------------------------------------------------------------------------------------------
// State

/// A calendar and the app that created it.
#[derive(Debug, Clone)]
struct CalendarEntry {
    agentid: u32,
    calendar: Calendar,
    deleted: bool,
}

/// A schedule and the app that created it.
#[derive(Debug, Clone)]
pub(crate) struct ScheduleEntry {
    pub(crate) agentid: u32,
    pub(crate) schedule: Schedule,
    pub(crate) deleted: bool,
    /// The meeting-room booking holding this schedule, if any.
    pub(crate) booking: Option<String>,
}

/// Calendars and schedules of the sandbox corp (kept in `State::extension`).
#[derive(Debug, Default)]
pub(crate) struct Calendars {
    inner: Mutex<Book>,
}

#[derive(Debug, Default)]
pub(crate) struct Book {
    next: u64,
    calendars: BTreeMap<String, CalendarEntry>,
    /// Creation order of calendar ids.
    calendar_order: Vec<String>,
    pub(crate) schedules: BTreeMap<String, ScheduleEntry>,
    schedule_order: Vec<String>,
    /// Each app's default calendar (`set_as_default`).
    defaults: BTreeMap<u32, String>,
}

impl Calendars {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Book> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn calendars(state: &State) -> Arc<Calendars> {
    state.extension::<Calendars>()
}

impl Book {
    fn next_id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:024X}", self.next)
    }

    /// A calendar the app may use: 90457 unknown, 90466 another app's, 90459 deleted.
    fn own_calendar(&mut self, agentid: u32, cal_id: &str) -> Result<&mut CalendarEntry, ApiError> {
        let entry = self
            .calendars
            .get_mut(cal_id)
            .ok_or_else(|| ApiError::new(BAD_CAL_ID, format!("invalid cal_id: {cal_id}")))?;
        if entry.agentid != agentid {
            return Err(ApiError::new(
                OTHER_APP,
                format!("calendar {cal_id} was created by another app; an app sees only its own"),
            ));
        }
        if entry.deleted {
            return Err(ApiError::new(
                CAL_DELETED,
                format!("calendar {cal_id} was deleted"),
            ));
        }
        Ok(entry)
    }

    /// A schedule the app may use: 90461 unknown, 90466 another app's, 90460 deleted.
    pub(crate) fn own_schedule(
        &mut self,
        agentid: u32,
        schedule_id: &str,
    ) -> Result<&mut ScheduleEntry, ApiError> {
        let entry = self.schedules.get_mut(schedule_id).ok_or_else(|| {
            ApiError::new(
                BAD_SCHEDULE_ID,
                format!("invalid schedule_id: {schedule_id}"),
            )
        })?;
        if entry.agentid != agentid {
            return Err(ApiError::new(
                OTHER_APP,
                format!(
                    "schedule {schedule_id} was created by another app; an app sees only its own"
                ),
            ));
        }
        if entry.deleted {
            return Err(ApiError::new(
                SCHEDULE_DELETED,
                format!("schedule {schedule_id} was deleted"),
            ));
        }
        Ok(entry)
    }

    /// Stores a new schedule; answers its id.
    pub(crate) fn insert_schedule(&mut self, agentid: u32, mut schedule: Schedule) -> String {
        let id = self.next_id("");
        let id = id.to_lowercase();
        schedule.schedule_id = id.clone();
        schedule.sequence = Some(1);
        schedule.status = Some(0);
        self.schedules.insert(
            id.clone(),
            ScheduleEntry {
                agentid,
                schedule,
                deleted: false,
                booking: None,
            },
        );
        self.schedule_order.push(id.clone());
        id
    }
}

// ------------------------------------------------------------------------------------------------
// Calendars

fn shares_failures(ctx: &Ctx, shares: &[CalendarShare]) -> Option<CalendarFailResult> {
    let corp = ctx.state().corp();
    let failed: Vec<CalendarFailedShare> = shares
        .iter()
        .filter(|s| corp.member(&s.userid).is_err())
        .map(|s| {
            CalendarFailedShare::new()
                .errcode(wecom_core_auth::ErrorCode::USERID_NOT_FOUND.code())
                .errmsg("userid not found")
                .userid(s.userid.clone())
        })
        .collect();
    (!failed.is_empty()).then(|| CalendarFailResult::new().shares(failed))
}

fn check_admins(admins: &[String], members: &[&str], among: &str) -> Result<(), ApiError> {
    match admins.iter().find(|a| !members.contains(&a.as_str())) {
        Some(a) => Err(ApiError::new(
            ADMIN_NOT_MEMBER,
            format!("admin {a} is not among the {among}; add them there first"),
        )),
        None => Ok(()),
    }
}

async fn calendar_add(ctx: Ctx, req: CalendarAddRequest) -> Result<CalendarAddResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let c = req.calendar;
    let shared: Vec<&str> = c.shares.iter().map(|s| s.userid.as_str()).collect();
    check_admins(&c.admins, &shared, "calendar's shares")?;
    let public = c.is_public == Some(true) || c.is_corp_calendar == Some(true);
    if public && c.public_range.is_none() {
        return Err(ApiError::new(
            NEEDS_PUBLIC_RANGE,
            "a public or corp calendar needs public_range",
        ));
    }
    let fail = shares_failures(&ctx, &c.shares);
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let cal_id = book.next_id("wcsbx");
    let mut cal = Calendar::new(cal_id.clone());
    cal.admins = c.admins;
    cal.summary = Some(c.summary);
    cal.color = Some(c.color);
    cal.description = c.description;
    cal.shares = c.shares;
    cal.is_public = Some(c.is_public == Some(true));
    cal.public_range = c.public_range;
    cal.is_corp_calendar = Some(c.is_corp_calendar == Some(true));
    book.calendars.insert(
        cal_id.clone(),
        CalendarEntry {
            agentid,
            calendar: cal,
            deleted: false,
        },
    );
    book.calendar_order.push(cal_id.clone());
    if c.set_as_default == Some(true) || !book.defaults.contains_key(&agentid) {
        // The page: set_as_default makes it "access_token所对应应用的默认日历". An app's first
        // calendar also serves as its default, so schedules without cal_id have a home.
        book.defaults.insert(agentid, cal_id.clone());
    }
    let mut resp = CalendarAddResponse::new(cal_id);
    resp.fail_result = fail;
    Ok(resp)
}

async fn calendar_update(
    ctx: Ctx,
    req: CalendarUpdateRequest,
) -> Result<CalendarUpdateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let c = req.calendar;
    let fail = shares_failures(&ctx, &c.shares);
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let entry = book.own_calendar(agentid, &c.cal_id)?;
    let shared: Vec<&str> = c.shares.iter().map(|s| s.userid.as_str()).collect();
    check_admins(&c.admins, &shared, "calendar's shares")?;
    // 覆盖式: the lists are replaced as sent; a title or colour is kept when absent (the page
    // requires them at creation and names no way to clear them).
    let cal = &mut entry.calendar;
    cal.admins = c.admins;
    cal.shares = c.shares;
    cal.description = c.description;
    if c.summary.is_some() {
        cal.summary = c.summary;
    }
    if c.color.is_some() {
        cal.color = c.color;
    }
    if req.skip_public_range != Some(true) {
        cal.public_range = c.public_range;
    }
    let mut resp = CalendarUpdateResponse::new();
    resp.fail_result = fail;
    Ok(resp)
}

async fn calendar_get(ctx: Ctx, req: CalendarGetRequest) -> Result<CalendarGetResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let mut out = Vec::with_capacity(req.cal_id_list.len());
    for id in &req.cal_id_list {
        out.push(book.own_calendar(agentid, id)?.calendar.clone());
    }
    Ok(CalendarGetResponse::new().calendar_list(out))
}

async fn calendar_delete(
    ctx: Ctx,
    req: CalendarDeleteRequest,
) -> Result<CalendarDeleteResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    book.own_calendar(agentid, &req.cal_id)?.deleted = true;
    delete_calendar_schedules(&mut book, &req.cal_id);
    if book.defaults.get(&agentid) == Some(&req.cal_id) {
        book.defaults.remove(&agentid);
    }
    drop(book);
    meetingroom::release_deleted(ctx.state());
    Ok(CalendarDeleteResponse::new())
}

fn delete_calendar_schedules(book: &mut Book, cal_id: &str) {
    for s in book.schedules.values_mut() {
        if s.schedule.cal_id.as_deref() == Some(cal_id) {
            s.deleted = true;
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Schedules

fn attendees_out(list: Vec<ScheduleAttendee>) -> Vec<ScheduleAttendeeStatus> {
    let mut out: Vec<ScheduleAttendeeStatus> = Vec::with_capacity(list.len());
    for a in list {
        if !out.iter().any(|o| o.userid == a.userid) {
            out.push(
                ScheduleAttendeeStatus::new(a.userid).response_status(AttendeeResponse::Pending),
            );
        }
    }
    out
}

fn check_schedule_admins(
    admins: &[String],
    attendees: &[ScheduleAttendee],
) -> Result<(), ApiError> {
    let members: Vec<&str> = attendees.iter().map(|a| a.userid.as_str()).collect();
    check_admins(admins, &members, "schedule's attendees")
}

fn is_repeating(s: &Schedule) -> bool {
    s.reminders.as_ref().and_then(|r| r.is_repeat) == Some(true)
}

async fn schedule_add(ctx: Ctx, req: ScheduleAddRequest) -> Result<ScheduleAddResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let s = req.schedule;
    check_schedule_admins(&s.admins, &s.attendees)?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let cal_id = match &s.cal_id {
        Some(id) => {
            book.own_calendar(agentid, id)?;
            id.clone()
        }
        None => book.defaults.get(&agentid).cloned().ok_or_else(|| {
            ApiError::new(
                NO_DEFAULT_CALENDAR,
                "the app has no default calendar: pass cal_id (or create a calendar with set_as_default)",
            )
        })?,
    };
    let mut out = Schedule::new(String::new());
    out.admins = s.admins;
    out.attendees = attendees_out(s.attendees);
    out.summary = s.summary;
    out.description = s.description;
    out.reminders = s.reminders;
    out.location = s.location;
    out.cal_id = Some(cal_id);
    out.start_time = Some(s.start_time);
    out.end_time = Some(s.end_time);
    out.is_whole_day = Some(s.is_whole_day == Some(true));
    let id = book.insert_schedule(agentid, out);
    Ok(ScheduleAddResponse::new(id))
}

/// Whether an update touches the fields tied to a meeting-room booking (the page's list: times,
/// whole-day and the repeat rule).
fn moves_booking(old: &Schedule, new: &wecom_oa::ScheduleChange) -> bool {
    let changed = |a: Option<u32>, b: Option<u32>| b.is_some() && a != b;
    changed(old.start_time, new.start_time)
        || changed(old.end_time, new.end_time)
        || (new.is_whole_day.is_some() && old.is_whole_day != new.is_whole_day)
        || (new.reminders.is_some()
            && repeat_rule(old.reminders.as_ref()) != repeat_rule(new.reminders.as_ref()))
}

type RepeatRule = (
    Option<bool>,
    Option<wecom_oa::RepeatType>,
    Option<u32>,
    Option<bool>,
    Option<u32>,
    Vec<u32>,
    Vec<u32>,
    Option<i32>,
);

fn repeat_rule(r: Option<&wecom_oa::ScheduleReminders>) -> RepeatRule {
    match r {
        None => Default::default(),
        Some(r) => (
            r.is_repeat,
            r.repeat_type,
            r.repeat_until,
            r.is_custom_repeat,
            r.repeat_interval,
            r.repeat_day_of_week.clone(),
            r.repeat_day_of_month.clone(),
            r.timezone,
        ),
    }
}

async fn schedule_update(
    ctx: Ctx,
    req: ScheduleUpdateRequest,
) -> Result<ScheduleUpdateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let change = req.schedule;
    let op_mode = req.op_mode.unwrap_or(0);
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let entry = book.own_schedule(agentid, &change.schedule_id)?;
    if entry.booking.is_some() && moves_booking(&entry.schedule, &change) {
        return Err(ApiError::new(
            CANCEL_BOOKING_FIRST,
            format!(
                "schedule {} holds a meeting-room booking: cancel the booking before changing its time or repeat rule",
                change.schedule_id
            ),
        ));
    }
    if op_mode != 0 && !is_repeating(&entry.schedule) {
        return Err(ApiError::new(
            ONLY_FOR_REPEATING,
            "op_mode 1 and 2 apply to repeating schedules only",
        ));
    }
    let skip_attendees = req.skip_attendees == Some(true);
    if !skip_attendees {
        check_schedule_admins(&change.admins, &change.attendees)?;
    }
    let apply = |s: &mut Schedule, change: &wecom_oa::ScheduleChange| {
        // 覆盖式: the fields are replaced as sent; times are kept when absent.
        s.admins = change.admins.clone();
        if !skip_attendees {
            let old = std::mem::take(&mut s.attendees);
            s.attendees = attendees_out(change.attendees.clone())
                .into_iter()
                .map(|a| {
                    old.iter()
                        .find(|o| o.userid == a.userid)
                        .cloned()
                        .unwrap_or(a)
                })
                .collect();
        }
        s.summary = change.summary.clone();
        s.description = change.description.clone();
        s.location = change.location.clone();
        if change.reminders.is_some() {
            s.reminders = change.reminders.clone();
        }
        if change.start_time.is_some() {
            s.start_time = change.start_time;
        }
        if change.end_time.is_some() {
            s.end_time = change.end_time;
        }
        if change.is_whole_day.is_some() {
            s.is_whole_day = change.is_whole_day;
        }
        s.sequence = Some(s.sequence.unwrap_or(0) + 1);
    };
    if op_mode == 0 {
        apply(&mut entry.schedule, &change);
        return Ok(ScheduleUpdateResponse::new());
    }
    // 1: only the occurrence at op_start_time becomes its own schedule; 2: the series ends
    // before it and a new series starts there, with the changes.
    let at = req.op_start_time.ok_or_else(|| {
        ApiError::new(
            90482,
            "op_mode 1 and 2 need op_start_time (one occurrence's start)",
        )
    })?;
    let original = entry.schedule.clone();
    let reminders = entry
        .schedule
        .reminders
        .get_or_insert_with(Default::default);
    if op_mode == 1 {
        reminders
            .exclude_time_list
            .push(ScheduleExcludedTime::new().start_time(at));
    } else {
        reminders.repeat_until = Some(at.saturating_sub(1));
    }
    entry.schedule.sequence = Some(entry.schedule.sequence.unwrap_or(0) + 1);
    let mut split = original;
    let length = split
        .end_time
        .unwrap_or(0)
        .saturating_sub(split.start_time.unwrap_or(0));
    split.start_time = Some(at);
    split.end_time = Some(at.saturating_add(length));
    apply(&mut split, &change);
    if let Some(r) = split.reminders.as_mut() {
        r.exclude_time_list.clear();
        if op_mode == 1 {
            // The one occurrence, on its own: no repeat rule.
            r.is_repeat = Some(false);
            r.repeat_type = None;
            r.repeat_until = None;
            r.is_custom_repeat = None;
            r.repeat_interval = None;
            r.repeat_day_of_week.clear();
            r.repeat_day_of_month.clear();
        }
    }
    book.insert_schedule(agentid, split);
    Ok(ScheduleUpdateResponse::new())
}

async fn schedule_get(ctx: Ctx, req: ScheduleGetRequest) -> Result<ScheduleGetResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let mut out = Vec::with_capacity(req.schedule_id_list.len());
    for id in &req.schedule_id_list {
        out.push(book.own_schedule(agentid, id)?.schedule.clone());
    }
    Ok(ScheduleGetResponse::new().schedule_list(out))
}

async fn schedule_delete(
    ctx: Ctx,
    req: ScheduleDeleteRequest,
) -> Result<ScheduleDeleteResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let op_mode = req.op_mode.unwrap_or(0);
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let entry = book.own_schedule(agentid, &req.schedule_id)?;
    if op_mode != 0 && !is_repeating(&entry.schedule) {
        return Err(ApiError::new(
            ONLY_FOR_REPEATING,
            "op_mode 1 and 2 apply to repeating schedules only",
        ));
    }
    match op_mode {
        0 => entry.deleted = true,
        _ => {
            let at = req.op_start_time.ok_or_else(|| {
                ApiError::new(
                    90482,
                    "op_mode 1 and 2 need op_start_time (one occurrence's start)",
                )
            })?;
            let r = entry
                .schedule
                .reminders
                .get_or_insert_with(Default::default);
            if op_mode == 1 {
                r.exclude_time_list
                    .push(ScheduleExcludedTime::new().start_time(at));
            } else {
                r.repeat_until = Some(at.saturating_sub(1));
            }
            entry.schedule.sequence = Some(entry.schedule.sequence.unwrap_or(0) + 1);
        }
    }
    drop(book);
    meetingroom::release_deleted(ctx.state());
    Ok(ScheduleDeleteResponse::new())
}

async fn schedule_get_by_calendar(
    ctx: Ctx,
    req: ScheduleGetByCalendarRequest,
) -> Result<ScheduleGetByCalendarResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    book.own_calendar(agentid, &req.cal_id)?;
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.unwrap_or(500) as usize;
    let page: Vec<Schedule> = book
        .schedule_order
        .iter()
        .filter_map(|id| book.schedules.get(id))
        .filter(|s| !s.deleted && s.schedule.cal_id.as_deref() == Some(req.cal_id.as_str()))
        .skip(offset)
        .take(limit)
        .map(|s| s.schedule.clone())
        .collect();
    Ok(ScheduleGetByCalendarResponse::new().schedule_list(page))
}

async fn schedule_add_attendees(
    ctx: Ctx,
    req: ScheduleAddAttendeesRequest,
) -> Result<ScheduleAddAttendeesResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let entry = book.own_schedule(agentid, &req.schedule_id)?;
    let s = &mut entry.schedule;
    if s.attendees.len() + req.attendees.len() > 1000 {
        return Err(ApiError::new(
            90464,
            "a schedule has at most 1000 attendees",
        ));
    }
    for a in attendees_out(req.attendees) {
        if !s.attendees.iter().any(|o| o.userid == a.userid) {
            s.attendees.push(a);
        }
    }
    s.sequence = Some(s.sequence.unwrap_or(0) + 1);
    Ok(ScheduleAddAttendeesResponse::new())
}

async fn schedule_del_attendees(
    ctx: Ctx,
    req: ScheduleDelAttendeesRequest,
) -> Result<ScheduleDelAttendeesResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = calendars(ctx.state());
    let mut book = state.lock();
    let entry = book.own_schedule(agentid, &req.schedule_id)?;
    let s = &mut entry.schedule;
    s.attendees
        .retain(|a| !req.attendees.iter().any(|d| d.userid == a.userid));
    s.admins
        .retain(|a| !req.attendees.iter().any(|d| &d.userid == a));
    s.sequence = Some(s.sequence.unwrap_or(0) + 1);
    Ok(ScheduleDelAttendeesResponse::new())
}

// ------------------------------------------------------------------------------------------------
// Member actions (what members do in the WeCom client), pushing the calendar callbacks

/// What went wrong with a member action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberActionError {
    /// No such calendar or schedule (or it was deleted).
    #[error("{0}")]
    NotFound(String),
    /// The member may not do that.
    #[error("{0}")]
    NotAllowed(String),
}

/// Pushes a calendar event, as `from` (a member), to the callback of the app `agentid` (none
/// when it has no callback).
async fn push_event(
    state: &State,
    agentid: u32,
    from: &str,
    kind: EventKind,
) -> Option<CallbackRecord> {
    let (cfg, corpid) = {
        let corp = state.corp();
        let cfg = corp.app(agentid).ok()?.callback.clone()?;
        (cfg, corp.corpid().to_owned())
    };
    let now = state.now_secs();
    let xml = Inbound::Event(Event {
        header: Header {
            to_user_name: corpid.clone(),
            from_user_name: from.to_owned(),
            create_time: now,
            agent_id: Some(i64::from(agentid)),
        },
        kind,
    })
    .to_xml();
    Some(
        state
            .callbacks
            .push(&cfg, &corpid, Some(agentid), &xml, now)
            .await,
    )
}

/// The schedule (not deleted), its app and calendar.
fn live_schedule(book: &mut Book, schedule_id: &str) -> Result<(u32, String), MemberActionError> {
    let s = book
        .schedules
        .get(schedule_id)
        .filter(|s| !s.deleted)
        .ok_or_else(|| MemberActionError::NotFound(format!("no schedule {schedule_id}")))?;
    Ok((s.agentid, s.schedule.cal_id.clone().unwrap_or_default()))
}

/// An attendee answers a schedule (接受 / 待定 / 拒绝): their `response_status` changes and the
/// app that created it gets `respond_schedule`.
pub async fn member_responds(
    state: &State,
    schedule_id: &str,
    userid: &str,
    answer: AttendeeResponse,
) -> Result<Option<CallbackRecord>, MemberActionError> {
    let (agentid, cal_id) = {
        let cals = calendars(state);
        let mut book = cals.lock();
        let ids = live_schedule(&mut book, schedule_id)?;
        let s = book
            .schedules
            .get_mut(schedule_id)
            .map(|e| &mut e.schedule)
            .ok_or_else(|| MemberActionError::NotFound(format!("no schedule {schedule_id}")))?;
        let a = s
            .attendees
            .iter_mut()
            .find(|a| a.userid == userid)
            .ok_or_else(|| {
                MemberActionError::NotAllowed(format!(
                    "{userid} is not an attendee of schedule {schedule_id}"
                ))
            })?;
        a.response_status = Some(answer);
        ids
    };
    Ok(push_event(
        state,
        agentid,
        userid,
        EventKind::RespondSchedule {
            cal_id,
            schedule_id: schedule_id.to_owned(),
        },
    )
    .await)
}

/// The organizer (or an admin) retitles a schedule in the client: `modify_schedule`.
pub async fn member_modifies_schedule(
    state: &State,
    schedule_id: &str,
    userid: &str,
    summary: &str,
) -> Result<Option<CallbackRecord>, MemberActionError> {
    let (agentid, cal_id) = {
        let cals = calendars(state);
        let mut book = cals.lock();
        let ids = live_schedule(&mut book, schedule_id)?;
        if let Some(e) = book.schedules.get_mut(schedule_id) {
            e.schedule.summary = Some(summary.to_owned());
            e.schedule.sequence = Some(e.schedule.sequence.unwrap_or(0) + 1);
        }
        ids
    };
    Ok(push_event(
        state,
        agentid,
        userid,
        EventKind::ModifySchedule {
            cal_id,
            schedule_id: schedule_id.to_owned(),
        },
    )
    .await)
}

/// The organizer deletes a schedule in the client: `delete_schedule`.
pub async fn member_deletes_schedule(
    state: &State,
    schedule_id: &str,
    userid: &str,
) -> Result<Option<CallbackRecord>, MemberActionError> {
    let (agentid, cal_id) = {
        let cals = calendars(state);
        let mut book = cals.lock();
        let ids = live_schedule(&mut book, schedule_id)?;
        if let Some(e) = book.schedules.get_mut(schedule_id) {
            e.deleted = true;
        }
        ids
    };
    meetingroom::release_deleted(state);
    Ok(push_event(
        state,
        agentid,
        userid,
        EventKind::DeleteSchedule {
            cal_id,
            schedule_id: schedule_id.to_owned(),
        },
    )
    .await)
}

/// A member adds a schedule to an app's calendar in the client: `add_schedule`. Answers the new
/// schedule's id and the push.
pub async fn member_adds_schedule(
    state: &State,
    cal_id: &str,
    userid: &str,
    summary: &str,
    start_time: u32,
    end_time: u32,
) -> Result<(String, Option<CallbackRecord>), MemberActionError> {
    let (agentid, schedule_id) = {
        let cals = calendars(state);
        let mut book = cals.lock();
        let agentid = book
            .calendars
            .get(cal_id)
            .filter(|c| !c.deleted)
            .map(|c| c.agentid)
            .ok_or_else(|| MemberActionError::NotFound(format!("no calendar {cal_id}")))?;
        let mut s = Schedule::new(String::new());
        s.summary = Some(summary.to_owned());
        s.cal_id = Some(cal_id.to_owned());
        s.start_time = Some(start_time);
        s.end_time = Some(end_time);
        s.attendees = vec![
            ScheduleAttendeeStatus::new(userid).response_status(AttendeeResponse::AcceptedAll),
        ];
        (agentid, book.insert_schedule(agentid, s))
    };
    let pushed = push_event(
        state,
        agentid,
        userid,
        EventKind::AddSchedule {
            cal_id: cal_id.to_owned(),
            schedule_id: schedule_id.clone(),
        },
    )
    .await;
    Ok((schedule_id, pushed))
}

/// Checks that `userid` administers the calendar (the 概述 page: only its admins may change or
/// delete an API calendar); answers its app.
fn calendar_admin(book: &Book, cal_id: &str, userid: &str) -> Result<u32, MemberActionError> {
    let c = book
        .calendars
        .get(cal_id)
        .filter(|c| !c.deleted)
        .ok_or_else(|| MemberActionError::NotFound(format!("no calendar {cal_id}")))?;
    if !c.calendar.admins.iter().any(|a| a == userid) {
        return Err(MemberActionError::NotAllowed(format!(
            "{userid} is no admin of calendar {cal_id}: only its admins may change or delete it"
        )));
    }
    Ok(c.agentid)
}

/// A calendar admin retitles an API calendar in the client: `modify_calendar`.
pub async fn member_modifies_calendar(
    state: &State,
    cal_id: &str,
    userid: &str,
    summary: &str,
) -> Result<Option<CallbackRecord>, MemberActionError> {
    let agentid = {
        let cals = calendars(state);
        let mut book = cals.lock();
        let agentid = calendar_admin(&book, cal_id, userid)?;
        if let Some(c) = book.calendars.get_mut(cal_id) {
            c.calendar.summary = Some(summary.to_owned());
        }
        agentid
    };
    Ok(push_event(
        state,
        agentid,
        userid,
        EventKind::ModifyCalendar {
            cal_id: cal_id.to_owned(),
        },
    )
    .await)
}

/// A calendar admin deletes an API calendar in the client: `delete_calendar`.
pub async fn member_deletes_calendar(
    state: &State,
    cal_id: &str,
    userid: &str,
) -> Result<Option<CallbackRecord>, MemberActionError> {
    let agentid = {
        let cals = calendars(state);
        let mut book = cals.lock();
        let agentid = calendar_admin(&book, cal_id, userid)?;
        if let Some(c) = book.calendars.get_mut(cal_id) {
            c.deleted = true;
        }
        delete_calendar_schedules(&mut book, cal_id);
        agentid
    };
    meetingroom::release_deleted(state);
    Ok(push_event(
        state,
        agentid,
        userid,
        EventKind::DeleteCalendar {
            cal_id: cal_id.to_owned(),
        },
    )
    .await)
}
