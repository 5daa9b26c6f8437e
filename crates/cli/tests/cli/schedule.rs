//! `wecom schedule ...` against an in-process sandbox: calendars, schedules with a repeat rule
//! and attendees, meeting-room bookings and their conflicts, text and `--json`.

use serde_json::Value;
use wecom_sandbox::Sandbox;

use crate::common::at;

async fn json(sandbox: &Sandbox, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    at(sandbox, &all).await.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_schedules_and_bookings() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let cal = json(
        &sb,
        &[
            "schedule",
            "calendar",
            "add",
            "--summary",
            "研发",
            "--share",
            "zhangwei",
        ],
    )
    .await;
    let cal_id = cal["cal_id"].as_str().expect("a cal_id").to_owned();
    let text = at(&sb, &["schedule", "calendar", "get", &cal_id]).await;
    assert!(text.ok().contains("研发"), "{}", text.ok());

    let added = json(
        &sb,
        &[
            "schedule",
            "add",
            "--calendar",
            &cal_id,
            "--start",
            "2024-01-01 10:00",
            "--end",
            "2024-01-01 11:00",
            "--summary",
            "周会",
            "--attendee",
            "zhangwei",
            "--repeat",
            "weekly",
            "--every",
            "2",
            "--on-weekday",
            "1",
        ],
    )
    .await;
    let id = added["schedule_id"]
        .as_str()
        .expect("a schedule_id")
        .to_owned();
    let got = json(&sb, &["schedule", "get", &id]).await;
    assert_eq!(got[0]["start_time"], 1_704_074_400);
    assert_eq!(got[0]["reminders"]["repeat_type"], 1);
    assert_eq!(got[0]["reminders"]["repeat_interval"], 2);
    let listed = at(&sb, &["schedule", "list", "--calendar", &cal_id]).await;
    assert!(listed.ok().contains("2024-01-01 10:00"), "{}", listed.ok());
    assert!(listed.ok().contains("周会"));

    let room = json(
        &sb,
        &[
            "schedule",
            "room",
            "add",
            "--name",
            "A101",
            "--capacity",
            "8",
        ],
    )
    .await;
    let room_id = room["meetingroom_id"].as_u64().expect("an id").to_string();
    let booked = json(
        &sb,
        &[
            "schedule",
            "room",
            "book",
            &room_id,
            "--start",
            "2024-01-02 09:00",
            "--end",
            "2024-01-02 10:00",
            "--booker",
            "zhangwei",
        ],
    )
    .await;
    assert!(booked["booking_id"].is_string(), "{booked}");
    // An overlapping booking: one error line with WeCom's errcode.
    let clash = at(
        &sb,
        &[
            "schedule",
            "room",
            "book",
            &room_id,
            "--start",
            "2024-01-02 09:30",
            "--end",
            "2024-01-02 10:30",
            "--booker",
            "zhangwei",
        ],
    )
    .await;
    assert!(
        clash.error_line().contains("40058"),
        "{}",
        clash.error_line()
    );
    let day = at(
        &sb,
        &[
            "schedule",
            "room",
            "bookings",
            "--room",
            &room_id,
            "--start",
            "2024-01-02 00:00",
            "--end",
            "2024-01-02 23:00",
        ],
    )
    .await;
    assert!(day.ok().contains("2024-01-02 09:00"), "{}", day.ok());

    // A time that is no time: a usage error before any request.
    let bad = at(
        &sb,
        &["schedule", "add", "--start", "soon", "--end", "later"],
    )
    .await;
    assert!(bad.error_line().contains("--start"), "{}", bad.error_line());
    sb.stop().await;
}
