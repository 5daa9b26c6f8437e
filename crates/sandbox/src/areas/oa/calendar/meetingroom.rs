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
//! - a repeating schedule is booked for its first occurrence's span (the sandbox does not expand
//!   repeat rules into days, so `conflict_date` stays empty).

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
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::resources::ResourceStore;
use crate::state::State;

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
    meetingroom_id: u32,
    agentid: u32,
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

fn rooms(ctx: &Ctx) -> Vec<MeetingRoom> {
    let corpid = ctx.state().corp().corpid().to_owned();
    ctx.state()
        .extension::<ResourceStore>()
        .objects(&corpid, RESOURCE)
        .into_iter()
        .filter_map(|o| serde_json::from_value(Value::Object(o)).ok())
        .collect()
}

/// The room, or 40058 (the page names no code for an unknown room).
fn room(ctx: &Ctx, id: u32) -> Result<MeetingRoom, ApiError> {
    let corpid = ctx.state().corp().corpid().to_owned();
    ctx.state()
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
    let out: Vec<MeetingRoom> = rooms(&ctx)
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
        room(&ctx, id)?;
    }
    let store = bookings(ctx.state());
    let b = store.lock();
    let out: Vec<MeetingRoomBookings> = rooms(&ctx)
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

/// Stores a booking unless it overlaps a live one of the room.
fn reserve(
    ctx: &Ctx,
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
    let agentid = ctx.agentid()?;
    let store = bookings(ctx.state());
    let mut b = store.lock();
    if let Some(other) = b
        .1
        .iter()
        .find(|k| k.live() && k.meetingroom_id == meetingroom_id && k.start < end && k.end > start)
    {
        return Err(ApiError::invalid_parameter(format!(
            "meeting room {meetingroom_id} is booked from {} to {} (booking {}); pick another time or room (the page names no errcode for a conflict; the sandbox answers the generic one)",
            other.start, other.end, other.booking_id
        )));
    }
    b.0 += 1;
    let booking_id = format!("bksbx{:019x}", b.0);
    b.1.push(Booking {
        booking_id: booking_id.clone(),
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

async fn book(ctx: Ctx, req: MeetingroomBookRequest) -> Result<MeetingroomBookResponse, ApiError> {
    let agentid = ctx.agentid()?;
    room(&ctx, req.meetingroom_id)?;
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
    room(&ctx, req.meetingroom_id)?;
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
    let booking_id = reserve(
        &ctx,
        req.meetingroom_id,
        Some(req.schedule_id.clone()),
        start,
        end,
        &req.booker,
    )?;
    entry.booking = Some(booking_id.clone());
    Ok(MeetingroomBookByScheduleResponse::new()
        .booking_id(booking_id)
        .schedule_id(req.schedule_id))
}

async fn book_by_meeting(
    ctx: Ctx,
    req: MeetingroomBookByMeetingRequest,
) -> Result<MeetingroomBookByMeetingResponse, ApiError> {
    ctx.agentid()?;
    room(&ctx, req.meetingroom_id)?;
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
    let booking = b
        .1
        .iter_mut()
        .find(|k| k.booking_id == req.booking_id && k.live())
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "booking_id {} names no live booking (the page names no errcode for this; the sandbox answers the generic one)",
                req.booking_id
            ))
        })?;
    if booking.agentid != agentid {
        return Err(ApiError::new(
            OTHER_APPS_BOOKING,
            format!("booking {} was made by another app", req.booking_id),
        ));
    }
    booking.status = BookingStatus::Cancelled;
    if let Some(s) = booking
        .schedule_id
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
    let booking = b
        .1
        .iter()
        .find(|k| k.booking_id == req.booking_id && k.meetingroom_id == req.meetingroom_id)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_beijing_midnight() {
        // 2024-01-01 00:00 +08:00 = 1704038400
        assert_eq!(day_start(1_704_038_400), 1_704_038_400);
        assert_eq!(day_start(1_704_038_400 + 86_399), 1_704_038_400);
        assert_eq!(day_start(1_704_038_399), 1_704_038_400 - 86_400);
    }
}
