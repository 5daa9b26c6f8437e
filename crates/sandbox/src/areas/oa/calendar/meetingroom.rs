//! Meeting rooms (会议室). The rooms are a declared resource (`meetingroom_add` / `_edit` /
//! `_delete` in spec/oa.toml, served by the generic engine); this module reads them for the list
//! filters and keeps the bookings:
//! - a booking overlapping another live booking of the room is refused. The 会议室预定管理 page
//!   (93620) as the docs corpus holds it names no errcode for that, so the sandbox answers the
//!   generic 40058 and says so in the errmsg;
//! - a booking creates a schedule owned by the booking app (its id is answered); cancelling the
//!   booking deletes that schedule unless `keep_schedule`; deleting the schedule cancels the
//!   booking; a schedule holds one room (90498); another app's booking cannot be cancelled (90499);
//! - `book_by_meeting`: the sandbox has no 会议 (meetings), so every meetingid is unknown (90602
//!   会议Id不合法);
//! - `book_by_schedule` on a repeating schedule books every occurrence of its repeat rule (daily,
//!   weekly, monthly, yearly, workdays, custom intervals and days; until `repeat_until`, and at
//!   most a year ahead for one repeating forever: WeCom's horizon is beyond the docs corpus): the
//!   occurrences that overlap another live booking of the room are left out and answered in
//!   `conflict_date` (the 0:00 of their day, Beijing time), the others are booked as one-day
//!   bookings whose `master_booking_id` is the booking answered. When every occurrence conflicts
//!   the booking is refused like a single one. `cancel_book` of the answered id cancels every day,
//!   or with `cancel_date` only that day; `bookinfo/get` of it answers its first live day;
//! - events (会议室 回调事件, 95333): a member booking a room in WeCom ([`Admin::meetingroom_member_book`])
//!   pushes `book_meeting_room` to the app told about it; a member cancelling in WeCom
//!   ([`Admin::meetingroom_member_cancel`]) pushes `cancel_meeting_room` to the app that made the
//!   booking (and to the app told about it). Bookings and cancellations an app makes through the
//!   API push nothing to it: the page describes the events as following members' actions in WeCom.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use wecom_core_auth::ErrorCode;
use wecom_oa::{
    BookingStatus, MeetingRoom, MeetingRoomBooking, MeetingRoomBookings,
    MeetingroomBookByMeetingRequest, MeetingroomBookByMeetingResponse,
    MeetingroomBookByScheduleRequest, MeetingroomBookByScheduleResponse, MeetingroomBookRequest,
    MeetingroomBookResponse, MeetingroomBookinfoGetRequest, MeetingroomBookinfoGetResponse,
    MeetingroomCancelBookRequest, MeetingroomCancelBookResponse, MeetingroomGetBookingInfoRequest,
    MeetingroomGetBookingInfoResponse, MeetingroomListRequest, MeetingroomListResponse, Schedule,
    ScheduleAttendeeStatus,
};

use super::calendars;
use crate::admin::{Admin, AdminError};
use crate::callbacks::CallbackRecord;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::resources::ResourceStore;
use crate::state::State;
use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_oa::RepeatType;

/// The resource name of meeting rooms in spec/oa.toml.
const RESOURCE: &str = "meetingroom";
/// 90498 日程已预定其他会议室.
const SCHEDULE_HAS_ROOM: i64 = 90498;
/// 90499 不可取消其由他应用预定的会议室.
const OTHER_APPS_BOOKING: i64 = 90499;
/// 90602 会议Id不合法.
const BAD_MEETING_ID: i64 = 90602;
/// Beijing time, for "tomorrow 0:00" and one-day windows.
const UTC8: i64 = 8 * 3600;
/// How far ahead a repeating schedule without `repeat_until` is booked (the sandbox's choice).
const REPEAT_HORIZON: i64 = 366 * 86_400;

pub(super) fn register(r: &mut Registry) {
    r.add::<MeetingroomListRequest, _, _>(list);
    r.add::<MeetingroomGetBookingInfoRequest, _, _>(get_booking_info);
    r.add::<MeetingroomBookRequest, _, _>(book);
    r.add::<MeetingroomBookByScheduleRequest, _, _>(book_by_schedule);
    r.add::<MeetingroomBookByMeetingRequest, _, _>(book_by_meeting);
    r.add::<MeetingroomCancelBookRequest, _, _>(cancel_book);
    r.add::<MeetingroomBookinfoGetRequest, _, _>(bookinfo_get);
}

#[derive(Debug, Clone)]
struct Booking {
    booking_id: String,
    /// For one day of a repeating booking: the repeating booking's id.
    master: Option<String>,
    meetingroom_id: u32,
    /// The app that booked it; `None` for a member's booking in WeCom.
    agentid: Option<u32>,
    schedule_id: Option<String>,
    start: u32,
    end: u32,
    booker: String,
    status: BookingStatus,
}

impl Booking {
    fn out(&self) -> MeetingRoomBooking {
        let mut b = MeetingRoomBooking::new()
            .booking_id(self.booking_id.clone())
            .start_time(self.start)
            .end_time(self.end)
            .booker(self.booker.clone())
            .status(self.status);
        b.schedule_id = self.schedule_id.clone();
        b.master_booking_id = self.master.clone();
        b
    }

    fn live(&self) -> bool {
        self.status != BookingStatus::Cancelled
    }
}

#[derive(Debug, Default)]
struct Bookings {
    inner: Mutex<(u64, Vec<Booking>)>,
}

impl Bookings {
    fn lock(&self) -> MutexGuard<'_, (u64, Vec<Booking>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn bookings(state: &State) -> Arc<Bookings> {
    state.extension::<Bookings>()
}

/// Cancels the bookings whose schedule was deleted (by the app or a member).
pub(super) fn release_deleted(state: &State) {
    let deleted: Vec<String> = {
        let cals = calendars(state);
        let book = cals.lock();
        book.schedules
            .iter()
            .filter(|(_, s)| s.deleted && s.booking.is_some())
            .map(|(id, _)| id.clone())
            .collect()
    };
    let store = bookings(state);
    let mut b = store.lock();
    for booking in b.1.iter_mut() {
        if booking
            .schedule_id
            .as_ref()
            .is_some_and(|s| deleted.contains(s))
        {
            booking.status = BookingStatus::Cancelled;
        }
    }
}

fn rooms(state: &State) -> Vec<MeetingRoom> {
    let corpid = state.corp().corpid().to_owned();
    state
        .extension::<ResourceStore>()
        .objects(&corpid, RESOURCE)
        .into_iter()
        .filter_map(|o| serde_json::from_value(Value::Object(o)).ok())
        .collect()
}

/// The room, or 40058 (the page names no code for an unknown room).
fn room(state: &State, id: u32) -> Result<MeetingRoom, ApiError> {
    let corpid = state.corp().corpid().to_owned();
    state
        .extension::<ResourceStore>()
        .object(&corpid, RESOURCE, &json!(id))
        .and_then(|o| serde_json::from_value(Value::Object(o)).ok())
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "meetingroom_id {id} names no meeting room (the page names no errcode for this; the sandbox answers the generic one)"
            ))
        })
}

fn matches(
    room: &MeetingRoom,
    city: &Option<String>,
    building: &Option<String>,
    floor: &Option<String>,
) -> bool {
    let eq = |want: &Option<String>, have: &Option<String>| {
        want.as_deref()
            .is_none_or(|w| w.is_empty() || have.as_deref() == Some(w))
    };
    eq(city, &room.city) && eq(building, &room.building) && eq(floor, &room.floor)
}

async fn list(ctx: Ctx, req: MeetingroomListRequest) -> Result<MeetingroomListResponse, ApiError> {
    ctx.agentid()?;
    let out: Vec<MeetingRoom> = rooms(ctx.state())
        .into_iter()
        .filter(|r| matches(r, &req.city, &req.building, &req.floor))
        .filter(|r| req.equipment.iter().all(|e| r.equipment.contains(e)))
        .collect();
    Ok(MeetingroomListResponse::new().meetingroom_list(out))
}

/// The Beijing day (its 0:00 as unix seconds) that `t` falls in.
fn day_start(t: i64) -> i64 {
    (t + UTC8).div_euclid(86_400) * 86_400 - UTC8
}

async fn get_booking_info(
    ctx: Ctx,
    req: MeetingroomGetBookingInfoRequest,
) -> Result<MeetingroomGetBookingInfoResponse, ApiError> {
    ctx.agentid()?;
    let now = ctx.state().now_secs();
    let start = req.start_time.map_or(now, i64::from);
    let end = req
        .end_time
        .map_or_else(|| day_start(start) + 86_400, i64::from);
    // 不支持跨天查询: the window ends at the latest at the next 0:00 (Beijing time).
    if end > day_start(start) + 86_400 {
        return Err(ApiError::invalid_parameter(
            "the window spans more than one day (不支持跨天查询); query one day at a time",
        ));
    }
    if let Some(id) = req.meetingroom_id {
        room(ctx.state(), id)?;
    }
    let store = bookings(ctx.state());
    let b = store.lock();
    let out: Vec<MeetingRoomBookings> = rooms(ctx.state())
        .into_iter()
        .filter(|r| req.meetingroom_id.is_none_or(|id| id == r.meetingroom_id))
        .filter(|r| matches(r, &req.city, &req.building, &req.floor))
        .map(|r| {
            let list: Vec<MeetingRoomBooking> =
                b.1.iter()
                    .filter(|k| k.meetingroom_id == r.meetingroom_id)
                    .filter(|k| i64::from(k.start) < end && i64::from(k.end) > start)
                    .map(Booking::out)
                    .collect();
            MeetingRoomBookings::new(r.meetingroom_id).schedule(list)
        })
        .collect();
    Ok(MeetingroomGetBookingInfoResponse::new().booking_list(out))
}

fn check_booker(ctx: &Ctx, booker: &str) -> Result<(), ApiError> {
    ctx.state().corp().member(booker)?;
    Ok(())
}

/// The live booking of the room overlapping `[start, end)`, if any.
fn overlapping(b: &[Booking], meetingroom_id: u32, start: u32, end: u32) -> Option<&Booking> {
    b.iter()
        .find(|k| k.live() && k.meetingroom_id == meetingroom_id && k.start < end && k.end > start)
}

fn conflict(meetingroom_id: u32, other: &Booking) -> ApiError {
    ApiError::invalid_parameter(format!(
        "meeting room {meetingroom_id} is booked from {} to {} (booking {}); pick another time or room (the page names no errcode for a conflict; the sandbox answers the generic one)",
        other.start, other.end, other.booking_id
    ))
}

fn next_booking_id(b: &mut (u64, Vec<Booking>)) -> String {
    b.0 += 1;
    format!("bksbx{:019x}", b.0)
}

/// Stores a booking unless it overlaps a live one of the room.
fn reserve_in(
    state: &State,
    agentid: Option<u32>,
    meetingroom_id: u32,
    schedule_id: Option<String>,
    start: u32,
    end: u32,
    booker: &str,
) -> Result<String, ApiError> {
    if end <= start {
        return Err(ApiError::invalid_parameter(format!(
            "end_time {end} is not after start_time {start}"
        )));
    }
    let store = bookings(state);
    let mut b = store.lock();
    if let Some(other) = overlapping(&b.1, meetingroom_id, start, end) {
        return Err(conflict(meetingroom_id, other));
    }
    let booking_id = next_booking_id(&mut b);
    b.1.push(Booking {
        booking_id: booking_id.clone(),
        master: None,
        meetingroom_id,
        agentid,
        schedule_id,
        start,
        end,
        booker: booker.to_owned(),
        status: BookingStatus::Booked,
    });
    Ok(booking_id)
}

fn reserve(
    ctx: &Ctx,
    meetingroom_id: u32,
    schedule_id: Option<String>,
    start: u32,
    end: u32,
    booker: &str,
) -> Result<String, ApiError> {
    let agentid = ctx.agentid()?;
    reserve_in(
        ctx.state(),
        Some(agentid),
        meetingroom_id,
        schedule_id,
        start,
        end,
        booker,
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// The start times of a schedule's occurrences: its own start for a single schedule; for a
/// repeating one every occurrence of its rule up to `repeat_until` (inclusive), at most
/// [`REPEAT_HORIZON`] after the first. Days are counted in the schedule's timezone (default 8).
fn occurrences(s: &Schedule) -> Vec<i64> {
    let start = i64::from(s.start_time.unwrap_or(0));
    let Some(r) = s.reminders.as_ref().filter(|r| r.is_repeat == Some(true)) else {
        return vec![start];
    };
    let tz = i64::from(r.timezone.unwrap_or(8)) * 3600;
    let until = match r.repeat_until {
        Some(u) if u > 0 => i64::from(u).min(start + REPEAT_HORIZON),
        _ => start + REPEAT_HORIZON,
    };
    let custom = r.is_custom_repeat == Some(true);
    let interval = i64::from(if custom {
        r.repeat_interval.unwrap_or(1).max(1)
    } else {
        1
    });
    let first_day = (start + tz).div_euclid(86_400);
    let time_of_day = (start + tz).rem_euclid(86_400);
    let (fy, fm, fd) = civil(first_day);
    // Monday = 1 ... Sunday = 7 (1970-01-01 was a Thursday).
    let weekday = |day: i64| ((day + 3).rem_euclid(7) + 1) as u32;
    let mut out = Vec::new();
    let mut day = first_day;
    let last_day = (until + tz).div_euclid(86_400);
    while day <= last_day && out.len() < 4000 {
        let (y, m, d) = civil(day);
        let hit = match r.repeat_type.unwrap_or_default() {
            RepeatType::Daily => (day - first_day) % interval == 0,
            RepeatType::Workdays => weekday(day) <= 5,
            RepeatType::Weekly => {
                let week = (day - first_day + i64::from(weekday(first_day)) - 1).div_euclid(7);
                let days = if custom && !r.repeat_day_of_week.is_empty() {
                    r.repeat_day_of_week.clone()
                } else {
                    vec![weekday(first_day)]
                };
                week % interval == 0 && days.contains(&weekday(day))
            }
            RepeatType::Monthly => {
                let months = (y - fy) * 12 + i64::from(m) - i64::from(fm);
                let days = if custom && !r.repeat_day_of_month.is_empty() {
                    r.repeat_day_of_month.clone()
                } else {
                    vec![fd]
                };
                // A day past the month's end (31 in April) falls on its last day.
                let dim = days_in_month(y, m);
                months % interval == 0 && days.iter().any(|want| (*want).min(dim) == d)
            }
            RepeatType::Yearly => (y - fy) % interval == 0 && m == fm && d == fd,
            _ => day == first_day,
        };
        let at = day * 86_400 + time_of_day - tz;
        if hit && at >= start && at <= until {
            out.push(at);
        }
        day += 1;
    }
    if out.is_empty() {
        out.push(start);
    }
    out
}

async fn book(ctx: Ctx, req: MeetingroomBookRequest) -> Result<MeetingroomBookResponse, ApiError> {
    let agentid = ctx.agentid()?;
    room(ctx.state(), req.meetingroom_id)?;
    check_booker(&ctx, &req.booker)?;
    // The booking's schedule: the booker and the attendees, titled by the subject.
    let mut s = Schedule::new(String::new());
    s.summary = req.subject.clone();
    s.start_time = Some(req.start_time);
    s.end_time = Some(req.end_time);
    let mut attendees = vec![req.booker.clone()];
    attendees.extend(req.attendees.iter().filter(|a| **a != req.booker).cloned());
    s.attendees = attendees
        .into_iter()
        .map(ScheduleAttendeeStatus::new)
        .collect();
    let cals = calendars(ctx.state());
    let mut book = cals.lock();
    let schedule_id = book.insert_schedule(agentid, s);
    let booking = reserve(
        &ctx,
        req.meetingroom_id,
        Some(schedule_id.clone()),
        req.start_time,
        req.end_time,
        &req.booker,
    );
    match booking {
        Ok(booking_id) => {
            if let Some(e) = book.schedules.get_mut(&schedule_id) {
                e.booking = Some(booking_id.clone());
            }
            Ok(MeetingroomBookResponse::new(booking_id).schedule_id(schedule_id))
        }
        Err(e) => {
            book.schedules.remove(&schedule_id);
            Err(e)
        }
    }
}

async fn book_by_schedule(
    ctx: Ctx,
    req: MeetingroomBookByScheduleRequest,
) -> Result<MeetingroomBookByScheduleResponse, ApiError> {
    let agentid = ctx.agentid()?;
    room(ctx.state(), req.meetingroom_id)?;
    check_booker(&ctx, &req.booker)?;
    let cals = calendars(ctx.state());
    let mut book = cals.lock();
    let entry = book.own_schedule(agentid, &req.schedule_id)?;
    if let Some(b) = &entry.booking {
        return Err(ApiError::new(
            SCHEDULE_HAS_ROOM,
            format!(
                "schedule {} already holds a meeting room (booking {b}); cancel it first",
                req.schedule_id
            ),
        ));
    }
    let (start, end) = (
        entry.schedule.start_time.unwrap_or(0),
        entry.schedule.end_time.unwrap_or(0),
    );
    let days = occurrences(&entry.schedule);
    if days.len() <= 1 {
        let booking_id = reserve(
            &ctx,
            req.meetingroom_id,
            Some(req.schedule_id.clone()),
            start,
            end,
            &req.booker,
        )?;
        entry.booking = Some(booking_id.clone());
        return Ok(MeetingroomBookByScheduleResponse::new()
            .booking_id(booking_id)
            .schedule_id(req.schedule_id));
    }
    if end <= start {
        return Err(ApiError::invalid_parameter(format!(
            "the schedule ends ({end}) before it starts ({start})"
        )));
    }
    let span = end - start;
    let store = bookings(ctx.state());
    let mut b = store.lock();
    let mut conflict_date = Vec::new();
    let mut free = Vec::new();
    let mut first_conflict = None;
    for at in days {
        let (s, e) = (at as u32, at as u32 + span);
        match overlapping(&b.1, req.meetingroom_id, s, e) {
            Some(other) => {
                conflict_date.push(day_start(at) as u32);
                first_conflict.get_or_insert_with(|| conflict(req.meetingroom_id, other));
            }
            None => free.push((s, e)),
        }
    }
    if free.is_empty() {
        return Err(first_conflict.unwrap_or_else(|| {
            ApiError::invalid_parameter("the schedule has no occurrence to book")
        }));
    }
    let master = next_booking_id(&mut b);
    for (s, e) in free {
        let id = next_booking_id(&mut b);
        b.1.push(Booking {
            booking_id: id,
            master: Some(master.clone()),
            meetingroom_id: req.meetingroom_id,
            agentid: Some(agentid),
            schedule_id: Some(req.schedule_id.clone()),
            start: s,
            end: e,
            booker: req.booker.clone(),
            status: BookingStatus::Booked,
        });
    }
    entry.booking = Some(master.clone());
    Ok(MeetingroomBookByScheduleResponse::new()
        .booking_id(master)
        .schedule_id(req.schedule_id)
        .conflict_date(conflict_date))
}

async fn book_by_meeting(
    ctx: Ctx,
    req: MeetingroomBookByMeetingRequest,
) -> Result<MeetingroomBookByMeetingResponse, ApiError> {
    ctx.agentid()?;
    room(ctx.state(), req.meetingroom_id)?;
    check_booker(&ctx, &req.booker)?;
    Err(ApiError::new(
        BAD_MEETING_ID,
        format!(
            "meetingid {} names no meeting: the sandbox has no WeCom meetings (会议); book with a time or a schedule",
            req.meetingid
        ),
    ))
}

async fn cancel_book(
    ctx: Ctx,
    req: MeetingroomCancelBookRequest,
) -> Result<MeetingroomCancelBookResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let cals = calendars(ctx.state());
    let mut book = cals.lock();
    let store = bookings(ctx.state());
    let mut b = store.lock();
    // The booking itself, or the days of a repeating booking (one day with `cancel_date`).
    let targets: Vec<usize> =
        b.1.iter()
            .enumerate()
            .filter(|(_, k)| {
                k.live()
                    && (k.booking_id == req.booking_id
                        || (k.master.as_deref() == Some(req.booking_id.as_str())
                            && req
                                .cancel_date
                                .is_none_or(|d| day_start(i64::from(k.start)) == i64::from(d))))
            })
            .map(|(i, _)| i)
            .collect();
    if targets.is_empty() {
        return Err(ApiError::invalid_parameter(format!(
            "booking_id {} names no live booking{} (the page names no errcode for this; the sandbox answers the generic one)",
            req.booking_id,
            req.cancel_date
                .map(|d| format!(" on the day starting at {d}"))
                .unwrap_or_default()
        )));
    }
    if targets.iter().any(|i| b.1[*i].agentid != Some(agentid)) {
        return Err(ApiError::new(
            OTHER_APPS_BOOKING,
            format!("booking {} was made by another app", req.booking_id),
        ));
    }
    let schedule_id = b.1[targets[0]].schedule_id.clone();
    for i in &targets {
        b.1[*i].status = BookingStatus::Cancelled;
    }
    // The schedule is freed (and deleted unless kept) once no day of it holds the room.
    let still_held = schedule_id.as_ref().is_some_and(|sid| {
        b.1.iter()
            .any(|k| k.live() && k.schedule_id.as_ref() == Some(sid))
    });
    if !still_held
        && let Some(s) = schedule_id
            .as_ref()
            .and_then(|id| book.schedules.get_mut(id))
    {
        s.booking = None;
        if req.keep_schedule != Some(true) {
            s.deleted = true;
        }
    }
    Ok(MeetingroomCancelBookResponse::new())
}

async fn bookinfo_get(
    ctx: Ctx,
    req: MeetingroomBookinfoGetRequest,
) -> Result<MeetingroomBookinfoGetResponse, ApiError> {
    ctx.agentid()?;
    let store = bookings(ctx.state());
    let b = store.lock();
    let own =
        b.1.iter()
            .find(|k| k.booking_id == req.booking_id && k.meetingroom_id == req.meetingroom_id)
            .cloned();
    // A repeating booking's own id: its first live day (else its first day), under that id.
    let repeating = || {
        let days = b.1.iter().filter(|k| {
            k.master.as_deref() == Some(req.booking_id.as_str())
                && k.meetingroom_id == req.meetingroom_id
        });
        let mut first = days
            .clone()
            .find(|k| k.live())
            .or_else(|| days.clone().next())?
            .clone();
        first.booking_id = req.booking_id.clone();
        first.master = None;
        Some(first)
    };
    let booking = own
        .or_else(repeating)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::INVALID_PARAMETER,
                format!(
                    "no booking {} of meeting room {} (the page names no errcode for this; the sandbox answers the generic one)",
                    req.booking_id, req.meetingroom_id
                ),
            )
        })?;
    Ok(MeetingroomBookinfoGetResponse::new()
        .meetingroom_id(booking.meetingroom_id)
        .schedule(booking.out()))
}

// ---- members' actions in WeCom, and the events they push ---------------------------------------

/// Pushes a meeting-room event to each app in `agentids` that has a callback.
async fn push_room_event(
    state: &Arc<State>,
    agentids: &[u32],
    userid: &str,
    kind: impl Fn() -> EventKind,
) -> Vec<CallbackRecord> {
    let corpid = state.corp().corpid().to_owned();
    let now = state.now_secs();
    let mut out = Vec::new();
    for &agentid in agentids {
        let cfg = state
            .corp()
            .app(agentid)
            .ok()
            .and_then(|a| a.callback.clone());
        let Some(cfg) = cfg else { continue };
        let xml = Inbound::Event(Event {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: userid.to_owned(),
                create_time: now,
                agent_id: Some(i64::from(agentid)),
            },
            kind: kind(),
        })
        .to_xml();
        out.push(
            state
                .callbacks
                .push(&cfg, &corpid, Some(agentid), &xml, now)
                .await,
        );
    }
    out
}

impl Admin {
    /// A member books a meeting room in WeCom (not through an API) from `start` to `end` (Unix
    /// seconds): refused when the span overlaps a live booking of the room. Pushes
    /// `book_meeting_room` to `agentid` (an app configured under 会议室 - 可调用接口的应用; `None`:
    /// no app is told). Returns the booking id and the push records.
    pub async fn meetingroom_member_book(
        &self,
        userid: &str,
        meetingroom_id: u32,
        start: u32,
        end: u32,
        agentid: Option<u32>,
    ) -> Result<(String, Vec<CallbackRecord>), AdminError> {
        let state = Arc::clone(self.state());
        let invalid =
            |e: ApiError| AdminError::Invalid(format!("{} (errcode {})", e.errmsg, e.errcode));
        state
            .corp()
            .member(userid)
            .map_err(|_| AdminError::Invalid(format!("no member {userid:?}")))?;
        room(&state, meetingroom_id).map_err(invalid)?;
        let booking_id =
            reserve_in(&state, None, meetingroom_id, None, start, end, userid).map_err(invalid)?;
        let id = booking_id.clone();
        let pushed = push_room_event(
            &state,
            &agentid.into_iter().collect::<Vec<_>>(),
            userid,
            || EventKind::BookMeetingRoom {
                meeting_room_id: i64::from(meetingroom_id),
                booking_id: id.clone(),
            },
        )
        .await;
        Ok((booking_id, pushed))
    }

    /// A member cancels a booking in WeCom (a one-day booking, or every day of a repeating one):
    /// pushes `cancel_meeting_room` to the app that made the booking and to `agentid` (an app
    /// configured under 会议室 - 可调用接口的应用). The booking's schedule stays (the member
    /// freed only the room). Returns the push records.
    pub async fn meetingroom_member_cancel(
        &self,
        userid: &str,
        booking_id: &str,
        agentid: Option<u32>,
    ) -> Result<Vec<CallbackRecord>, AdminError> {
        let state = Arc::clone(self.state());
        state
            .corp()
            .member(userid)
            .map_err(|_| AdminError::Invalid(format!("no member {userid:?}")))?;
        let (room_id, booked_by, schedule_id) = {
            let store = bookings(&state);
            let mut b = store.lock();
            let mut hit: Option<(u32, Option<u32>, Option<String>)> = None;
            for k in b.1.iter_mut().filter(|k| {
                k.live() && (k.booking_id == booking_id || k.master.as_deref() == Some(booking_id))
            }) {
                k.status = BookingStatus::Cancelled;
                hit.get_or_insert((k.meetingroom_id, k.agentid, k.schedule_id.clone()));
            }
            hit.ok_or_else(|| AdminError::Invalid(format!("no live booking {booking_id:?}")))?
        };
        if let Some(sid) = schedule_id {
            let cals = calendars(&state);
            let mut book = cals.lock();
            if let Some(s) = book.schedules.get_mut(&sid) {
                s.booking = None;
            }
        }
        let mut apps: Vec<u32> = booked_by.into_iter().collect();
        apps.extend(agentid.filter(|a| !apps.contains(a)));
        let id = booking_id.to_owned();
        Ok(
            push_room_event(&state, &apps, userid, || EventKind::CancelMeetingRoom {
                booking_id: id.clone(),
                meeting_room_id: i64::from(room_id),
            })
            .await,
        )
    }
}

#[derive(serde::Deserialize)]
struct MemberBookBody {
    userid: String,
    start: u32,
    end: u32,
    #[serde(default)]
    agentid: Option<u32>,
}

#[derive(serde::Deserialize)]
struct MemberCancelBody {
    userid: String,
    #[serde(default)]
    agentid: Option<u32>,
}

fn body<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(b).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

async fn member_book_route(
    axum::extract::State(app): axum::extract::State<crate::app::App>,
    axum::extract::Path(meetingroom_id): axum::extract::Path<u32>,
    b: axum::body::Bytes,
) -> Result<axum::response::Response, AdminError> {
    use axum::response::IntoResponse;
    let m: MemberBookBody = body(&b)?;
    let (booking_id, pushed) = Admin::new(Arc::clone(&app.state))
        .meetingroom_member_book(&m.userid, meetingroom_id, m.start, m.end, m.agentid)
        .await?;
    Ok(axum::Json(json!({ "booking_id": booking_id, "callbacks": pushed })).into_response())
}

async fn member_cancel_route(
    axum::extract::State(app): axum::extract::State<crate::app::App>,
    axum::extract::Path(booking_id): axum::extract::Path<String>,
    b: axum::body::Bytes,
) -> Result<axum::response::Response, AdminError> {
    use axum::response::IntoResponse;
    let m: MemberCancelBody = body(&b)?;
    let pushed = Admin::new(Arc::clone(&app.state))
        .meetingroom_member_cancel(&m.userid, &booking_id, m.agentid)
        .await?;
    Ok(axum::Json(json!({ "ok": true, "callbacks": pushed })).into_response())
}

/// Admin routes of members' meeting-room actions in WeCom: `POST
/// /sandbox/meetingrooms/{meetingroom_id}/book` (`{"userid", "start", "end", "agentid"?}`,
/// pushes `book_meeting_room`) and `POST /sandbox/meetingroom-bookings/{booking_id}/cancel`
/// (`{"userid", "agentid"?}`, pushes `cancel_meeting_room`).
pub(crate) fn routes() -> axum::Router<crate::app::App> {
    axum::Router::new()
        .route(
            "/sandbox/meetingrooms/{meetingroom_id}/book",
            axum::routing::post(member_book_route),
        )
        .route(
            "/sandbox/meetingroom-bookings/{booking_id}/cancel",
            axum::routing::post(member_cancel_route),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeating(kind: RepeatType, until: u32, custom: Option<(u32, Vec<u32>)>) -> Schedule {
        let mut s = Schedule::new(String::new());
        // Monday 2024-01-01 10:00 +08:00.
        s.start_time = Some(1_704_074_400);
        s.end_time = Some(1_704_078_000);
        let mut r = wecom_oa::ScheduleReminders::new();
        r.is_repeat = Some(true);
        r.repeat_type = Some(kind);
        r.repeat_until = Some(until);
        if let Some((interval, days)) = custom {
            r.is_custom_repeat = Some(true);
            r.repeat_interval = Some(interval);
            r.repeat_day_of_week = days;
        }
        s.reminders = Some(r);
        s
    }

    #[test]
    fn repeat_rules_expand_into_days() {
        const DAY: i64 = 86_400;
        let first = 1_704_074_400_i64;
        // Daily for a week: 7 days (until the 7th day's start, inclusive).
        let d = occurrences(&repeating(
            RepeatType::Daily,
            (first + 6 * DAY) as u32,
            None,
        ));
        assert_eq!(d.len(), 7);
        assert!(d.windows(2).all(|w| w[1] - w[0] == DAY));
        // Workdays over two weeks: 10.
        let w = occurrences(&repeating(
            RepeatType::Workdays,
            (first + 13 * DAY) as u32,
            None,
        ));
        assert_eq!(w.len(), 10);
        // Weekly for four weeks: the 4 Mondays.
        let k = occurrences(&repeating(
            RepeatType::Weekly,
            (first + 27 * DAY) as u32,
            None,
        ));
        assert_eq!(
            k,
            vec![first, first + 7 * DAY, first + 14 * DAY, first + 21 * DAY]
        );
        // Custom: every 2 weeks on Monday and Wednesday, four weeks.
        let c = occurrences(&repeating(
            RepeatType::Weekly,
            (first + 27 * DAY) as u32,
            Some((2, vec![1, 3])),
        ));
        assert_eq!(
            c,
            vec![first, first + 2 * DAY, first + 14 * DAY, first + 16 * DAY]
        );
        // Monthly on the 1st for three months.
        let m = occurrences(&repeating(
            RepeatType::Monthly,
            (first + 70 * DAY) as u32,
            None,
        ));
        assert_eq!(m, vec![first, first + 31 * DAY, first + 60 * DAY]);
        // Not repeating: its own start.
        let mut single = repeating(RepeatType::Daily, 0, None);
        single.reminders = None;
        assert_eq!(occurrences(&single), vec![first]);
    }

    #[test]
    fn days_start_at_beijing_midnight() {
        // 2024-01-01 00:00 +08:00 = 1704038400
        assert_eq!(day_start(1_704_038_400), 1_704_038_400);
        assert_eq!(day_start(1_704_038_400 + 86_399), 1_704_038_400);
        assert_eq!(day_start(1_704_038_399), 1_704_038_400 - 86_400);
    }
}
