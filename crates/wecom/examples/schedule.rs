//! Calendars, schedules and meeting rooms (日程, 会议室): a calendar owned by the app, a
//! fortnightly schedule with attendees and a typed repeat rule, a meeting room booked for an
//! hour, and the conflict WeCom answers when a second booking overlaps the first. Needs the
//! `oa` feature (`wecom = { features = ["oa"] }`).
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (the app must be allowed
//! under 日程 and 会议室 "可调用接口的应用"), and `WECOM_USERID` for the member who attends and
//! books; with no corp configured it starts an embedded sandbox (a local fake WeCom).
//!
//! ```text
//! cargo run -p wecom --features oa --example schedule
//! ```

use wecom::oa::{CalendarNew, CalendarShare, RepeatType, ScheduleNew, ScheduleReminders};
use wecom::prelude::*;

#[path = "common/mod.rs"]
mod common;

/// Now, rounded up to the next full hour, as unix seconds.
fn next_hour() -> Result<u32, Box<dyn std::error::Error>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    Ok(u32::try_from((now / 3600 + 1) * 3600)?)
}

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup {
        client,
        sandbox, // kept: the sandbox must outlive the calls
    } = common::connect().await?;
    let userid = match (&sandbox, common::env("WECOM_USERID")) {
        (_, Some(u)) => u,
        (Some(sb), None) => common::first_member(sb)?,
        (None, None) => {
            return Err("set WECOM_USERID to a member of the app's visible scope".into());
        }
    };
    let oa = client.oa();

    // A calendar owned by this app (only this app can read, change or delete it).
    let calendar = oa
        .calendar_add(
            CalendarNew::new("Team calendar (example)", "#0066FF")
                .shares([CalendarShare::from(userid.as_str())])
                .admins([userid.as_str()]),
        )
        .await?;
    println!("calendar {}", calendar.cal_id);

    // Every other Monday and Wednesday, reminded 15 minutes before. An inconsistent rule (a
    // custom repeat without its interval, weekdays on a monthly repeat ...) is refused before
    // any request, with the errcode WeCom would answer.
    let start = next_hour()?;
    let rule = ScheduleReminders::new()
        .is_remind(true)
        .remind_before_event_secs(900)
        .is_repeat(true)
        .repeat_type(RepeatType::Weekly)
        .is_custom_repeat(true)
        .repeat_interval(2)
        .repeat_day_of_week(vec![1, 3]);
    let schedule = oa
        .schedule_add(
            ScheduleNew::new(start, start + 3600)
                .summary("Design review (example)")
                .cal_id(calendar.cal_id.as_str())
                .attendees([userid.as_str()])
                .reminders(rule),
        )
        .await?;
    let got = oa.schedule_get([schedule.schedule_id.as_str()]).await?;
    for s in &got.schedule_list {
        println!(
            "schedule {}: {:?} from {:?}, attendees {:?}",
            s.schedule_id,
            s.summary,
            s.start_time,
            s.attendees.iter().map(|a| &a.userid).collect::<Vec<_>>()
        );
    }

    // A meeting room for an hour tomorrow, then an overlapping booking: refused.
    let room = oa.meetingroom_add("Example room", 8).await?.meetingroom_id;
    let tomorrow = start + 86_400;
    let booking = oa
        .meetingroom_book(room, tomorrow, tomorrow + 3600, userid.as_str())
        .subject("Example booking")
        .await?;
    println!(
        "booked room {room}: booking {} (schedule {:?})",
        booking.booking_id, booking.schedule_id
    );
    match oa
        .meetingroom_book(room, tomorrow + 1800, tomorrow + 5400, userid.as_str())
        .await
    {
        Ok(b) => println!(
            "unexpected: the overlapping booking {} went through",
            b.booking_id
        ),
        Err(e) => println!("overlapping booking refused: {e}"),
    }

    // Clean up what the example created.
    oa.meetingroom_cancel_book(booking.booking_id.as_str())
        .await?;
    oa.meetingroom_delete(room).await?;
    oa.calendar_delete(calendar.cal_id.as_str()).await?;
    println!("cleaned up");
    drop(sandbox);
    Ok(())
}
