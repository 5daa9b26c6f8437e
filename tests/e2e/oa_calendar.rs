//! Office automation part 2 end to end: calendars and schedules (an app sees only its own;
//! attendees; repeat rules refused before any request when inconsistent), meeting rooms (the
//! declared resource, filters, bookings and their conflicts), the calendar callbacks members
//! cause, live streams with `living_status_change`, corp-paid call records and 紧急通知 calls.

use wecom_callback::{EventKind, Inbound};
use wecom_core_auth::{Client, Error, Secret};
use wecom_oa::{
    AttendeeResponse, CalendarChange, CalendarNew, CalendarPermission, CalendarShare, DialParty,
    DialRecord, LivingStatus, MeetingRoomCoordinate, OaExt, RepeatType, ScheduleChange,
    ScheduleNew, ScheduleReminders,
};
use wecom_sandbox::areas::oa::calendar as sbx;
use wecom_sandbox::corp::{App, CallbackConfig, Corp, Member};
use wecom_sandbox::{CallbackRecord, Sandbox};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CORPID: &str = "wwoacalendar00001";
const ONE: u32 = 1_000_001;
const TWO: u32 = 1_000_002;
/// 2024-01-01 10:00 +08:00.
const T0: u32 = 1_704_074_400;

fn secret(agentid: u32) -> String {
    format!("app-secret-{agentid}-for-the-calendar-tests")
}

fn corp() -> Corp {
    let mut c = Corp::new(CORPID, "公司", "contact-secret-for-the-calendar-tests");
    for id in ["alice", "bob", "carol"] {
        c.create_member(
            Member::new(id, id.to_uppercase(), vec![1]).with_email(format!("{id}@example.com")),
        )
        .expect("member");
    }
    for agentid in [ONE, TWO] {
        let mut app = App::new(agentid, format!("App {agentid}"), secret(agentid));
        app.allow_parties = vec![1];
        // Nobody listens there: the push fails, and its record keeps the plaintext.
        app.callback = Some(CallbackConfig {
            url: "http://127.0.0.1:9/callback".into(),
            token: Secret::new("calendar-token".to_owned()),
            encoding_aes_key: Secret::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".to_owned()),
        });
        c.add_app(app).expect("app");
    }
    c
}

async fn start() -> Result<Sandbox, Box<dyn std::error::Error>> {
    Ok(Sandbox::builder()
        .corp(corp())
        .callbacks(wecom_sandbox::CallbackSettings {
            retries: 0,
            ..Default::default()
        })
        .start()
        .await?)
}

fn client(sb: &Sandbox, agentid: u32) -> Result<Client, Error> {
    Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(agentid, Secret::new(secret(agentid)))
        .build()
}

fn errcode<T: std::fmt::Debug>(result: Result<T, Error>) -> i64 {
    match result {
        Err(e) => e
            .errcode()
            .unwrap_or_else(|| panic!("expected an errcode, got {e}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn event(record: Option<CallbackRecord>) -> EventKind {
    let record = record.expect("the app has a callback: the event was pushed");
    match Inbound::parse(&record.plaintext) {
        Ok(Inbound::Event(e)) => e.kind,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn calendar() -> CalendarNew {
    CalendarNew::new("研发日历", "#0000FF")
        .admins(["alice"])
        .shares([
            CalendarShare::from("alice"),
            CalendarShare::new("bob").permission(CalendarPermission::FreeBusy),
        ])
}

#[tokio::test]
async fn an_app_sees_only_the_calendars_it_created() -> TestResult {
    let sb = start().await?;
    let (one, two) = (client(&sb, ONE)?, client(&sb, TWO)?);
    let added = one
        .oa()
        .calendar_add(calendar().shares([CalendarShare::from("alice"), "ghost".into()]))
        .await?;
    let failed = added.fail_result.map(|f| f.shares).unwrap_or_default();
    assert_eq!(failed.len(), 1, "the unknown share member is reported");
    assert_eq!(failed[0].userid.as_deref(), Some("ghost"));
    let cal_id = added.cal_id;

    let got = one.oa().calendar_get([cal_id.as_str()]).await?;
    assert_eq!(got.calendar_list.len(), 1);
    assert_eq!(got.calendar_list[0].summary.as_deref(), Some("研发日历"));
    // Another app's calendar: 90466, for every operation.
    assert_eq!(
        errcode(two.oa().calendar_get([cal_id.as_str()]).await),
        90466
    );
    assert_eq!(
        errcode(two.oa().calendar_delete(cal_id.as_str()).await),
        90466
    );
    assert_eq!(
        errcode(one.oa().calendar_get(["wcnosuchcalendar"]).await),
        90457
    );

    // An admin must be among the shares (90492); the update replaces the fields.
    let bad = CalendarChange::new(cal_id.as_str())
        .admins(["carol"])
        .shares(["alice"]);
    assert_eq!(errcode(one.oa().calendar_update(bad).await), 90492);
    let change = CalendarChange::new(cal_id.as_str())
        .summary("改名")
        .shares(["alice", "carol"])
        .admins(["carol"]);
    one.oa().calendar_update(change).await?;
    let got = one.oa().calendar_get([cal_id.as_str()]).await?;
    assert_eq!(got.calendar_list[0].summary.as_deref(), Some("改名"));
    assert_eq!(got.calendar_list[0].admins, vec!["carol".to_owned()]);

    // A public calendar needs its range (90483); a bad colour never leaves the client.
    let public = calendar().is_public(true);
    assert_eq!(errcode(one.oa().calendar_add(public).await), 90483);
    let before = sb.admin().count("calendar_add");
    match one.oa().calendar_add(CalendarNew::new("x", "blue")).await {
        Err(Error::Invalid(i)) => {
            assert_eq!(i.errcode, Some(90473));
            assert!(i.field.ends_with("color"), "{i}");
        }
        other => panic!("expected a refusal before any request, got {other:?}"),
    }
    assert_eq!(sb.admin().count("calendar_add"), before);

    one.oa().calendar_delete(cal_id.as_str()).await?;
    assert_eq!(
        errcode(one.oa().calendar_get([cal_id.as_str()]).await),
        90459
    );
    sb.stop().await;
    Ok(())
}

#[tokio::test]
async fn schedules_attendees_and_repeat_rules() -> TestResult {
    let sb = start().await?;
    let (one, two) = (client(&sb, ONE)?, client(&sb, TWO)?);
    // No calendar yet: a schedule without cal_id has no home (90708).
    let plain = ScheduleNew::new(T0, T0 + 3600).summary("站会");
    assert_eq!(errcode(two.oa().schedule_add(plain.clone()).await), 90708);

    let cal_id = one.oa().calendar_add(calendar()).await?.cal_id;
    let weekly = ScheduleReminders::new()
        .is_remind(true)
        .remind_before_event_secs(900)
        .is_repeat(true)
        .repeat_type(RepeatType::Weekly)
        .is_custom_repeat(true)
        .repeat_interval(2)
        .repeat_day_of_week(vec![1, 3]);
    let schedule = ScheduleNew::new(T0, T0 + 3600)
        .summary("双周评审")
        .cal_id(cal_id.as_str())
        .attendees(["alice", "bob"])
        .admins(["alice"])
        .reminders(weekly.clone());
    let id = one.oa().schedule_add(schedule).await?.schedule_id;
    // Without cal_id: the app's default calendar (its first one).
    let other = one.oa().schedule_add(plain).await?.schedule_id;

    let got = one.oa().schedule_get([id.as_str(), other.as_str()]).await?;
    let s = &got.schedule_list[0];
    assert_eq!(s.cal_id.as_deref(), Some(cal_id.as_str()));
    assert_eq!(
        got.schedule_list[1].cal_id.as_deref(),
        Some(cal_id.as_str())
    );
    let r = s.reminders.clone().unwrap_or_default();
    assert_eq!(r.repeat_type, Some(RepeatType::Weekly));
    assert_eq!(r.repeat_day_of_week, vec![1, 3]);
    assert_eq!(s.attendees.len(), 2);
    assert_eq!(
        s.attendees[0].response_status,
        Some(AttendeeResponse::Pending)
    );
    assert_eq!(errcode(two.oa().schedule_get([id.as_str()]).await), 90466);

    // Attendees, incrementally.
    one.oa()
        .schedule_add_attendees(id.as_str(), ["carol", "alice"])
        .await?;
    one.oa()
        .schedule_del_attendees(id.as_str(), ["bob"])
        .await?;
    let s = one
        .oa()
        .schedule_get([id.as_str()])
        .await?
        .schedule_list
        .remove(0);
    let who: Vec<&str> = s.attendees.iter().map(|a| a.userid.as_str()).collect();
    assert_eq!(who, ["alice", "carol"]);

    // Paging a calendar's schedules.
    let page = one
        .oa()
        .schedule_get_by_calendar(cal_id.as_str())
        .limit(1)
        .await?;
    assert_eq!(page.schedule_list.len(), 1);
    let rest = one
        .oa()
        .schedule_get_by_calendar(cal_id.as_str())
        .offset(1)
        .limit(10)
        .await?;
    assert_eq!(rest.schedule_list.len(), 1);

    // A custom repeat without its interval is refused before any request (WeCom: 90486).
    let before = sb.admin().count("schedule_add");
    let broken = ScheduleNew::new(T0, T0 + 60).reminders(
        ScheduleReminders::new()
            .is_repeat(true)
            .is_custom_repeat(true)
            .repeat_type(RepeatType::Daily),
    );
    match one.oa().schedule_add(broken).await {
        Err(Error::Invalid(i)) => assert_eq!(i.errcode, Some(90486), "{i}"),
        other => panic!("expected a refusal before any request, got {other:?}"),
    }
    assert_eq!(sb.admin().count("schedule_add"), before);

    // "仅修改此日程" needs a repeating schedule; on one, the occurrence splits off.
    let once = ScheduleChange::new(other.as_str()).summary("x");
    assert_eq!(
        errcode(
            one.oa()
                .schedule_update(once)
                .op_mode(1)
                .op_start_time(T0)
                .await
        ),
        90484
    );
    let moved = ScheduleChange::new(id.as_str())
        .summary("这一次改到下午")
        .reminders(weekly);
    one.oa()
        .schedule_update(moved)
        .skip_attendees(true)
        .op_mode(1)
        .op_start_time(T0 + 14 * 86_400)
        .await?;
    let s = one
        .oa()
        .schedule_get([id.as_str()])
        .await?
        .schedule_list
        .remove(0);
    let excluded: Vec<Option<u32>> = s
        .reminders
        .unwrap_or_default()
        .exclude_time_list
        .iter()
        .map(|e| e.start_time)
        .collect();
    assert_eq!(excluded, vec![Some(T0 + 14 * 86_400)]);
    let listed = one.oa().schedule_get_by_calendar(cal_id.as_str()).await?;
    assert_eq!(
        listed.schedule_list.len(),
        3,
        "the changed occurrence is its own schedule"
    );

    // Deleting "this and the following" ends the series.
    one.oa()
        .schedule_delete(id.as_str())
        .op_mode(2)
        .op_start_time(T0 + 28 * 86_400)
        .await?;
    let s = one
        .oa()
        .schedule_get([id.as_str()])
        .await?
        .schedule_list
        .remove(0);
    assert_eq!(
        s.reminders.and_then(|r| r.repeat_until),
        Some(T0 + 28 * 86_400 - 1)
    );
    one.oa().schedule_delete(id.as_str()).await?;
    assert_eq!(errcode(one.oa().schedule_get([id.as_str()]).await), 90460);
    sb.stop().await;
    Ok(())
}

#[tokio::test]
async fn meeting_rooms_bookings_and_conflicts() -> TestResult {
    let sb = start().await?;
    let (one, two) = (client(&sb, ONE)?, client(&sb, TWO)?);
    let oa = one.oa();
    // The rooms are the declared `meetingroom` resource; a location is all three or none.
    let before = sb.admin().count("meetingroom_add");
    assert!(matches!(
        oa.meetingroom_add("18F-1", 10).city("深圳").await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(sb.admin().count("meetingroom_add"), before);
    let big = oa
        .meetingroom_add("18F-大会议室", 20)
        .city("深圳")
        .building("腾讯大厦")
        .floor("18F")
        .equipment(vec![1, 2])
        .coordinate(
            MeetingRoomCoordinate::new()
                .latitude("22.54")
                .longitude("113.93"),
        )
        .await?
        .meetingroom_id;
    let small = oa.meetingroom_add("小会议室", 4).await?.meetingroom_id;
    let in_sz = oa.meetingroom_list().city("深圳").await?.meetingroom_list;
    assert_eq!(in_sz.len(), 1);
    assert_eq!(in_sz[0].meetingroom_id, big);
    let with_tv = oa
        .meetingroom_list()
        .equipment(vec![2])
        .await?
        .meetingroom_list;
    assert_eq!(with_tv.len(), 1);
    oa.meetingroom_edit(small).capacity(6).await?;
    let all = oa.meetingroom_list().await?.meetingroom_list;
    assert_eq!(
        all.iter()
            .find(|r| r.meetingroom_id == small)
            .and_then(|r| r.capacity),
        Some(6)
    );

    // A booking, then one overlapping it: refused.
    let booked = oa
        .meetingroom_book(big, T0, T0 + 3600, "alice")
        .subject("评审")
        .attendees(vec!["bob".to_owned()])
        .await?;
    let schedule_id = booked.schedule_id.clone().unwrap_or_default();
    assert_eq!(
        errcode(oa.meetingroom_book(big, T0 + 1800, T0 + 5400, "bob").await),
        40058
    );
    // Back to back is fine.
    let next = oa
        .meetingroom_book(big, T0 + 3600, T0 + 7200, "bob")
        .await?;
    assert_eq!(
        errcode(oa.meetingroom_book(big, T0, T0 + 60, "ghost").await),
        60111
    );
    assert_eq!(
        errcode(
            oa.meetingroom_book_by_meeting(big, "mtnosuchmeeting", "alice")
                .await
        ),
        90602
    );

    // The booking's schedule holds the room: it cannot move, nor take a second room.
    let s = oa
        .schedule_get([schedule_id.as_str()])
        .await?
        .schedule_list
        .remove(0);
    assert_eq!(s.summary.as_deref(), Some("评审"));
    let later = ScheduleChange::new(schedule_id.as_str())
        .start_time(T0 + 60)
        .end_time(T0 + 3660);
    assert_eq!(errcode(oa.schedule_update(later).await), 90700);
    assert_eq!(
        errcode(
            oa.meetingroom_book_by_schedule(small, schedule_id.as_str(), "alice")
                .await
        ),
        90498
    );

    // The day's bookings; one window may not span two days.
    let day = oa
        .meetingroom_get_booking_info()
        .meetingroom_id(big)
        .start_time(T0 - 3600)
        .end_time(T0 + 8 * 3600)
        .await?;
    assert_eq!(day.booking_list.len(), 1);
    assert_eq!(day.booking_list[0].schedule.len(), 2);
    assert_eq!(
        errcode(
            oa.meetingroom_get_booking_info()
                .start_time(T0)
                .end_time(T0 + 86_400)
                .await
        ),
        40058
    );
    let info = oa
        .meetingroom_bookinfo_get(big, booked.booking_id.as_str())
        .await?;
    assert_eq!(
        info.schedule.and_then(|s| s.booker),
        Some("alice".to_owned())
    );

    // Another app cannot cancel it (90499); cancelling frees the room and drops the schedule.
    assert_eq!(
        errcode(
            two.oa()
                .meetingroom_cancel_book(booked.booking_id.as_str())
                .await
        ),
        90499
    );
    oa.meetingroom_cancel_book(booked.booking_id.as_str())
        .await?;
    assert_eq!(
        errcode(oa.schedule_get([schedule_id.as_str()]).await),
        90460
    );
    oa.meetingroom_book(big, T0 + 1800, T0 + 3600, "carol")
        .await?;

    // A schedule booked by its id; deleting the schedule frees the room.
    let cal_id = oa.calendar_add(calendar()).await?.cal_id;
    let meeting = oa
        .schedule_add(ScheduleNew::new(T0, T0 + 600).cal_id(cal_id.as_str()))
        .await?
        .schedule_id;
    let by_schedule = oa
        .meetingroom_book_by_schedule(small, meeting.as_str(), "alice")
        .await?;
    assert_eq!(by_schedule.schedule_id.as_deref(), Some(meeting.as_str()));
    oa.schedule_delete(meeting.as_str()).await?;
    oa.meetingroom_book(small, T0, T0 + 600, "bob").await?;

    oa.meetingroom_delete(small).await?;
    assert_eq!(errcode(oa.meetingroom_delete(small).await), 40058);
    let _ = next;
    sb.stop().await;
    Ok(())
}

#[tokio::test]
async fn members_acting_in_the_client_push_the_calendar_events() -> TestResult {
    let sb = start().await?;
    let one = client(&sb, ONE)?;
    let state = sb.admin().state().clone();
    let cal_id = one.oa().calendar_add(calendar()).await?.cal_id;
    let id = one
        .oa()
        .schedule_add(
            ScheduleNew::new(T0, T0 + 600)
                .cal_id(cal_id.as_str())
                .attendees(["bob"]),
        )
        .await?
        .schedule_id;

    let pushed = sbx::member_responds(&state, &id, "bob", AttendeeResponse::Declined).await?;
    assert_eq!(
        event(pushed),
        EventKind::RespondSchedule {
            cal_id: cal_id.clone(),
            schedule_id: id.clone()
        }
    );
    let s = one
        .oa()
        .schedule_get([id.as_str()])
        .await?
        .schedule_list
        .remove(0);
    assert_eq!(
        s.attendees[0].response_status,
        Some(AttendeeResponse::Declined)
    );
    assert!(
        sbx::member_responds(&state, &id, "carol", AttendeeResponse::AcceptedAll)
            .await
            .is_err()
    );

    let pushed = sbx::member_modifies_schedule(&state, &id, "alice", "改期").await?;
    assert!(matches!(event(pushed), EventKind::ModifySchedule { .. }));
    let (added, pushed) =
        sbx::member_adds_schedule(&state, &cal_id, "alice", "午饭", T0, T0 + 60).await?;
    assert_eq!(
        event(pushed),
        EventKind::AddSchedule {
            cal_id: cal_id.clone(),
            schedule_id: added.clone()
        }
    );
    let pushed = sbx::member_deletes_schedule(&state, &added, "alice").await?;
    assert!(matches!(event(pushed), EventKind::DeleteSchedule { .. }));

    // Only the calendar's admins may change or delete it.
    assert!(
        sbx::member_modifies_calendar(&state, &cal_id, "bob", "x")
            .await
            .is_err()
    );
    let pushed = sbx::member_modifies_calendar(&state, &cal_id, "alice", "新名字").await?;
    assert_eq!(
        event(pushed),
        EventKind::ModifyCalendar {
            cal_id: cal_id.clone()
        }
    );
    let got = one.oa().calendar_get([cal_id.as_str()]).await?;
    assert_eq!(got.calendar_list[0].summary.as_deref(), Some("新名字"));
    let pushed = sbx::member_deletes_calendar(&state, &cal_id, "alice").await?;
    assert_eq!(
        event(pushed),
        EventKind::DeleteCalendar {
            cal_id: cal_id.clone()
        }
    );
    assert_eq!(
        errcode(one.oa().calendar_get([cal_id.as_str()]).await),
        90459
    );
    assert_eq!(errcode(one.oa().schedule_get([id.as_str()]).await), 90460);
    sb.stop().await;
    Ok(())
}

#[tokio::test]
async fn live_streams_follow_their_states() -> TestResult {
    let sb = start().await?;
    let (one, two) = (client(&sb, ONE)?, client(&sb, TWO)?);
    let state = sb.admin().state().clone();
    let id = one
        .oa()
        .living_create("alice", "季度复盘", T0, 3600)
        .description("全员")
        .await?
        .livingid;
    let info = one.oa().living_get_info(id.as_str()).await?.living_info;
    assert_eq!(info.status, Some(LivingStatus::Reserved));
    assert_eq!(info.anchor_userid.as_deref(), Some("alice"));
    assert_eq!(errcode(two.oa().living_get_info(id.as_str()).await), 92008);
    one.oa()
        .living_modify(id.as_str())
        .theme("季度复盘(改)")
        .await?;
    let ids = one.oa().living_get_user_all_livingid("alice").await?;
    assert_eq!(ids.livingid_list, vec![id.clone()]);
    assert!(
        one.oa()
            .living_get_code(id.as_str(), "openid-1")
            .await?
            .living_code
            .len()
            > 4
    );

    // The anchor goes live: the app hears it, and the stream can no longer change.
    let pushed = sbx::set_living_status(&state, &id, LivingStatus::Live).await?;
    assert_eq!(
        event(pushed),
        EventKind::LivingStatusChange {
            living_id: id.clone(),
            status: 1
        }
    );
    assert_eq!(
        errcode(one.oa().living_modify(id.as_str()).theme("x").await),
        92006
    );
    assert_eq!(errcode(one.oa().living_cancel(id.as_str()).await), 92006);
    assert_eq!(
        errcode(one.oa().living_delete_replay_data(id.as_str()).await),
        92007
    );
    sbx::set_living_status(&state, &id, LivingStatus::Ended).await?;
    one.oa().living_delete_replay_data(id.as_str()).await?;
    let stat = one.oa().living_get_watch_stat(id.as_str()).await?;
    assert_eq!(stat.ending, Some(1));

    let other = one
        .oa()
        .living_create("bob", "取消的", T0, 60)
        .await?
        .livingid;
    one.oa().living_cancel(other.as_str()).await?;
    let info = one.oa().living_get_info(other.as_str()).await?.living_info;
    assert_eq!(info.status, Some(LivingStatus::Cancelled));
    let log = sb.admin().callback_log();
    assert!(
        log.iter()
            .any(|r| r.plaintext.contains("living_status_change")
                && r.plaintext.contains("<Status>4</Status>"))
    );
    sb.stop().await;
    Ok(())
}

/// 修改预约直播 (93640): "直播的标题,最多支持60个字节", "直播的简介,最多支持300个字节". Up to the
/// limit the change goes through; past it the call is refused before any request, naming the field.
#[tokio::test]
async fn living_modify_keeps_theme_and_description_within_their_bytes() -> TestResult {
    let sb = start().await?;
    let one = client(&sb, ONE)?;
    let id = one
        .oa()
        .living_create("alice", "季度复盘", T0, 3600)
        .await?
        .livingid;
    // 20 three-byte characters are 60 bytes; 21 are 63.
    one.oa()
        .living_modify(id.as_str())
        .theme("复".repeat(20))
        .description("d".repeat(300))
        .await?;
    let over_theme = one
        .oa()
        .living_modify(id.as_str())
        .theme("复".repeat(21))
        .await;
    assert!(
        matches!(&over_theme, Err(Error::Invalid(i)) if i.field == "theme"),
        "{over_theme:?}"
    );
    let over_description = one
        .oa()
        .living_modify(id.as_str())
        .description("d".repeat(301))
        .await;
    assert!(
        matches!(&over_description, Err(Error::Invalid(i)) if i.field == "description"),
        "{over_description:?}"
    );
    let info = one.oa().living_get_info(id.as_str()).await?.living_info;
    assert_eq!(info.theme.as_deref(), Some("复".repeat(20).as_str()));
    sb.stop().await;
    Ok(())
}

#[tokio::test]
async fn dial_records_and_emergency_calls() -> TestResult {
    let sb = start().await?;
    let one = client(&sb, ONE)?;
    let state = sb.admin().state().clone();
    let now = u32::try_from(state.now_secs())?;
    sbx::record_dial_call(
        &state,
        DialRecord::new()
            .call_time(now - 3600)
            .total_duration(2)
            .call_type(1)
            .caller(DialParty::new().userid("alice").duration(120))
            .callee(vec![DialParty::new().phone(13_800_000_000).duration(120)]),
    );
    sbx::record_dial_call(
        &state,
        DialRecord::new().call_time(now - 40 * 86_400).call_type(1),
    );
    // The default window is the last 30 days.
    let records = one.oa().dial_get_record().await?.record;
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].caller.as_ref().and_then(|c| c.userid.as_deref()),
        Some("alice")
    );
    assert_eq!(
        errcode(
            one.oa()
                .dial_get_record()
                .start_time(now)
                .end_time(now - 1)
                .await
        ),
        600_018
    );

    let states = one.oa().pstncc_call(["alice", "ghost"]).await?.states;
    assert_eq!(states[0].code, Some(0));
    assert_eq!(states[1].code, Some(60111));
    let callid = states[0].callid.clone().unwrap_or_default();
    let answer = one.oa().pstncc_get_states("alice", callid.as_str()).await?;
    assert_eq!(answer.istalked, Some(0));
    assert_eq!(
        errcode(one.oa().pstncc_get_states("bob", callid.as_str()).await),
        40058
    );
    sb.stop().await;
    Ok(())
}

/// The 0:00 (Beijing time) of the day `t` falls in.
fn day_of(t: u32) -> u32 {
    let t = i64::from(t);
    ((t + 8 * 3600).div_euclid(86_400) * 86_400 - 8 * 3600) as u32
}

/// A repeating schedule booked by its id: the occurrences whose room is taken are answered in
/// `conflict_date` and left out, the others are one-day bookings of the repeating booking;
/// `cancel_date` frees one day, the booking's own id all of them.
#[tokio::test]
async fn repeating_bookings_answer_their_conflict_days() -> TestResult {
    const WEEK: u32 = 7 * 86_400;
    let sb = start().await?;
    let oa_client = client(&sb, ONE)?;
    let oa = oa_client.oa();
    let room = oa.meetingroom_add("周会室", 8).await?.meetingroom_id;
    // Someone holds the room in the second week.
    oa.meetingroom_book(room, T0 + WEEK + 600, T0 + WEEK + 1200, "bob")
        .await?;
    let cal_id = oa.calendar_add(calendar()).await?.cal_id;
    // Every Monday 10:00-11:00 for four weeks.
    let weekly = ScheduleReminders::new()
        .is_repeat(true)
        .repeat_type(RepeatType::Weekly)
        .repeat_until(T0 + 3 * WEEK + 3600);
    let schedule = oa
        .schedule_add(
            ScheduleNew::new(T0, T0 + 3600)
                .cal_id(cal_id.as_str())
                .reminders(weekly),
        )
        .await?
        .schedule_id;
    let booked = oa
        .meetingroom_book_by_schedule(room, schedule.as_str(), "alice")
        .await?;
    assert_eq!(booked.conflict_date, vec![day_of(T0 + WEEK)]);
    let master = booked.booking_id.clone().ok_or("no booking id")?;
    // Week 3 holds a one-day booking of it; week 2 still only bob's.
    let week3 = oa
        .meetingroom_get_booking_info()
        .meetingroom_id(room)
        .start_time(T0 + 2 * WEEK - 3600)
        .end_time(T0 + 2 * WEEK + 7200)
        .await?;
    let days = &week3.booking_list[0].schedule;
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].master_booking_id.as_deref(), Some(master.as_str()));
    assert_eq!(days[0].start_time, Some(T0 + 2 * WEEK));
    let week2 = oa
        .meetingroom_get_booking_info()
        .meetingroom_id(room)
        .start_time(T0 + WEEK - 3600)
        .end_time(T0 + WEEK + 7200)
        .await?;
    assert_eq!(week2.booking_list[0].schedule.len(), 1);
    assert_eq!(
        week2.booking_list[0].schedule[0].booker.as_deref(),
        Some("bob")
    );
    // Cancelling one day frees it for others.
    oa.meetingroom_cancel_book(master.as_str())
        .cancel_date(day_of(T0 + 2 * WEEK))
        .await?;
    oa.meetingroom_book(room, T0 + 2 * WEEK, T0 + 2 * WEEK + 600, "carol")
        .await?;
    assert_eq!(
        errcode(
            oa.meetingroom_book(room, T0 + 3 * WEEK, T0 + 3 * WEEK + 600, "carol")
                .await
        ),
        40058,
        "week 4 is still booked"
    );
    let info = oa.meetingroom_bookinfo_get(room, master.as_str()).await?;
    assert_eq!(info.schedule.and_then(|s| s.start_time), Some(T0));
    // The whole booking: every remaining day is freed.
    oa.meetingroom_cancel_book(master.as_str())
        .keep_schedule(true)
        .await?;
    oa.meetingroom_book(room, T0 + 3 * WEEK, T0 + 3 * WEEK + 600, "carol")
        .await?;
    // Every occurrence taken: refused like a single booking.
    let again = oa
        .schedule_add(ScheduleNew::new(T0 + 2 * WEEK, T0 + 2 * WEEK + 600).cal_id(cal_id.as_str()))
        .await?
        .schedule_id;
    assert_eq!(
        errcode(
            oa.meetingroom_book_by_schedule(room, again.as_str(), "alice")
                .await
        ),
        40058
    );
    sb.stop().await;
    Ok(())
}

/// Members booking and cancelling rooms in WeCom push `book_meeting_room` and
/// `cancel_meeting_room` (page 95333), received through the callback router: a cancellation of
/// an app's booking reaches that app.
#[tokio::test]
async fn member_bookings_push_the_meeting_room_events() -> TestResult {
    use std::sync::{Arc, Mutex};
    use wecom_callback::CallbackCrypto;
    use wecom_callback::router::CallbackRouter;
    const TOKEN: &str = "meetingRoomToken";
    const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
    let sb = start().await?;
    let seen: Arc<Mutex<Vec<(String, EventKind)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let router = CallbackRouter::new(
        CallbackCrypto::new(TOKEN, KEY, CORPID)?,
        move |i: Inbound| {
            let log = Arc::clone(&log);
            async move {
                if let Inbound::Event(e) = i
                    && let Ok(mut log) = log.lock()
                {
                    log.push((e.header.from_user_name.clone(), e.kind));
                }
                None
            }
        },
    )
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let admin = sb.admin();
    admin
        .set_app_callback(
            ONE,
            Some(CallbackConfig {
                url,
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(KEY.to_owned()),
            }),
        )
        .await?;
    let oa_client = client(&sb, ONE)?;
    let oa = oa_client.oa();
    let room = oa.meetingroom_add("大会议室", 12).await?.meetingroom_id;
    // The app's own API booking pushes nothing to it.
    let api = oa.meetingroom_book(room, T0, T0 + 3600, "alice").await?;
    // A member books in WeCom: the app configured for meeting rooms is told.
    let (mine, pushed) = admin
        .meetingroom_member_book("carol", room, T0 + 3600, T0 + 7200, Some(ONE))
        .await?;
    assert!(pushed.iter().all(|r| r.delivered), "{pushed:?}");
    // Overlapping the app's booking: refused.
    assert!(
        admin
            .meetingroom_member_book("carol", room, T0 + 600, T0 + 1200, Some(ONE))
            .await
            .is_err()
    );
    // A member cancels the app's booking in WeCom: the app that made it is told.
    let pushed = admin
        .meetingroom_member_cancel("bob", &api.booking_id, None)
        .await?;
    assert_eq!(pushed.len(), 1);
    // And their own, telling the app.
    admin
        .meetingroom_member_cancel("carol", &mine, Some(ONE))
        .await?;
    let seen_log = Arc::clone(&seen);
    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(
        seen,
        vec![
            (
                "carol".to_owned(),
                EventKind::BookMeetingRoom {
                    meeting_room_id: i64::from(room),
                    booking_id: mine.clone()
                }
            ),
            (
                "bob".to_owned(),
                EventKind::CancelMeetingRoom {
                    booking_id: api.booking_id.clone(),
                    meeting_room_id: i64::from(room)
                }
            ),
            (
                "carol".to_owned(),
                EventKind::CancelMeetingRoom {
                    booking_id: mine,
                    meeting_room_id: i64::from(room)
                }
            ),
        ]
    );
    // The freed span can be booked again through the API.
    oa.meetingroom_book(room, T0, T0 + 3600, "bob").await?;
    // The same actions over the admin HTTP API (for tools outside the project).
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        http.post(format!("{}{path}", sb.base_url()))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let booked: serde_json::Value = serde_json::from_str(
        &post(
            format!("/sandbox/meetingrooms/{room}/book"),
            serde_json::json!({"userid": "alice", "start": T0 + 7200, "end": T0 + 9000, "agentid": ONE}),
        )
        .await?
        .text()
        .await?,
    )?;
    let id = booked["booking_id"]
        .as_str()
        .ok_or("no booking_id")?
        .to_owned();
    assert_eq!(booked["callbacks"][0]["delivered"], true, "{booked}");
    let cancelled: serde_json::Value = serde_json::from_str(
        &post(
            format!("/sandbox/meetingroom-bookings/{id}/cancel"),
            serde_json::json!({"userid": "alice", "agentid": ONE}),
        )
        .await?
        .text()
        .await?,
    )?;
    assert_eq!(cancelled["ok"], true, "{cancelled}");
    assert_eq!(seen_log.lock().map_err(|_| "poisoned")?.len(), 5);
    server.abort();
    sb.stop().await;
    Ok(())
}
