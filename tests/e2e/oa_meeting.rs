//! Office automation part 3, meetings end to end: booking, changing, cancelling and reading
//! meetings through the typed client against the sandbox (a meeting belongs to the app that
//! booked it; only a booked meeting changes), the member's meeting ids streamed over the cursor,
//! and bad input refused before any request.

use futures_util::TryStreamExt;
use wecom_core_auth::{Client, Error, Secret};
use wecom_oa::{MeetingInvitees, MeetingReminders, MeetingSettings, MeetingUsers, OaExt};
use wecom_sandbox::areas::oa::meeting as sbx;
use wecom_sandbox::corp::{App, Corp, Member};
use wecom_sandbox::{Sandbox, SandboxClock};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CORPID: &str = "wwoameeting000001";
const ONE: u32 = 1_000_001;
const TWO: u32 = 1_000_002;
/// 2026-12-03 02:00 UTC (10:00 in Beijing), the sandbox clock.
const NOW: u32 = 1_796_263_200;
const HOUR: u32 = 3600;

fn secret(agentid: u32) -> String {
    format!("app-secret-{agentid}-for-the-meeting-tests")
}

fn corp() -> Corp {
    let mut c = Corp::new(CORPID, "公司", "contact-secret-for-the-meeting-tests");
    for id in ["alice", "bob", "carol"] {
        c.create_member(
            Member::new(id, id.to_uppercase(), vec![1]).with_email(format!("{id}@example.com")),
        )
        .expect("member");
    }
    for agentid in [ONE, TWO] {
        let mut app = App::new(agentid, format!("App {agentid}"), secret(agentid));
        app.allow_users = vec!["alice".into(), "bob".into()];
        c.add_app(app).expect("app");
    }
    c
}

async fn start() -> Result<Sandbox, Box<dyn std::error::Error>> {
    Ok(Sandbox::builder()
        .corp(corp())
        .clock(SandboxClock::frozen_at(i64::from(NOW) * 1000))
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

fn invalid<T: std::fmt::Debug>(result: Result<T, Error>, field: &str) {
    match result {
        Err(Error::Invalid(e)) => assert!(e.to_string().contains(field), "{e} names {field}"),
        other => panic!("expected a refusal before I/O naming {field}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_meeting_is_booked_changed_read_and_cancelled_by_its_app() -> TestResult {
    let sb = start().await?;
    let (one, two) = (client(&sb, ONE)?, client(&sb, TWO)?);
    let settings = MeetingSettings::new()
        .password("1234")
        .enable_waiting_room(false)
        .enable_enter_mute(1)
        .remind_scope(4)
        .hosts(MeetingUsers::new().userid(["bob"]))
        .ring_users(MeetingUsers::new().userid(["bob"]));
    let created = one
        .oa()
        .meeting_create("alice", "周会", HOUR)
        .meeting_start(NOW + HOUR)
        .location("广州媒体港")
        .invitees(MeetingInvitees::new().userid(["bob"]))
        .settings(settings)
        .reminders(MeetingReminders::new().remind_before([0u32, 900]))
        .await?;
    let id = created.meetingid;
    assert!(created.meeting_code.is_some_and(|c| c.len() == 9));

    let info = one.oa().meeting_get_info(id.as_str()).await?;
    assert_eq!(info.admin_userid.as_deref(), Some("alice"));
    assert_eq!(info.title.as_deref(), Some("周会"));
    assert_eq!(info.meeting_start, Some(NOW + HOUR));
    assert_eq!(info.status, Some(sbx::STATUS_BOOKED));
    assert_eq!(info.agentid, Some(ONE));
    let s = info.settings.expect("settings answered");
    assert_eq!(s.password.as_deref(), Some("1234"));
    assert_eq!(s.enable_enter_mute, Some(serde_json::json!(1)));
    assert_eq!(s.hosts.map(|h| h.userid), Some(vec!["bob".to_owned()]));
    assert_eq!(info.reminders.map(|r| r.remind_before), Some(vec![0, 900]));

    // Another app neither reads nor changes it (60011); an unknown id is 40058.
    assert_eq!(errcode(two.oa().meeting_get_info(id.as_str()).await), 60011);
    assert_eq!(errcode(two.oa().meeting_cancel(id.as_str()).await), 60011);
    assert_eq!(
        errcode(one.oa().meeting_get_info("hynosuchmeeting").await),
        40058
    );

    // A start in the past is refused by the sandbox; a new start with its duration is taken.
    assert_eq!(
        errcode(
            one.oa()
                .meeting_update(id.as_str())
                .meeting_start(NOW - 1)
                .meeting_duration(HOUR)
                .await
        ),
        40058
    );
    one.oa()
        .meeting_update(id.as_str())
        .title("周会 (改)")
        .meeting_start(NOW + 2 * HOUR)
        .meeting_duration(1800)
        .await?;
    let info = one.oa().meeting_get_info(id.as_str()).await?;
    assert_eq!(info.title.as_deref(), Some("周会 (改)"));
    assert_eq!(
        (info.meeting_start, info.meeting_duration),
        (Some(NOW + 2 * HOUR), Some(1800))
    );

    one.oa().meeting_cancel(id.as_str()).await?;
    assert_eq!(
        one.oa().meeting_get_info(id.as_str()).await?.status,
        Some(sbx::STATUS_CANCELLED)
    );
    // Only a booked meeting can be cancelled or changed again.
    assert_eq!(errcode(one.oa().meeting_cancel(id.as_str()).await), 40058);
    assert_eq!(
        errcode(one.oa().meeting_update(id.as_str()).title("x").await),
        40058
    );
    Ok(())
}

#[tokio::test]
async fn members_must_be_visible_and_a_started_meeting_is_not_booked() -> TestResult {
    let sb = start().await?;
    let one = client(&sb, ONE)?;
    // carol exists but is outside the app's scope (60011); ghost does not exist (60111).
    let to = |who: &'static str| MeetingInvitees::new().userid([who]);
    assert_eq!(
        errcode(
            one.oa()
                .meeting_create("alice", "会", HOUR)
                .invitees(to("carol"))
                .await
        ),
        60011
    );
    assert_eq!(
        errcode(
            one.oa()
                .meeting_create("alice", "会", HOUR)
                .invitees(to("ghost"))
                .await
        ),
        60111
    );
    assert_eq!(
        errcode(one.oa().meeting_create("carol", "会", HOUR).await),
        60011
    );

    let id = one
        .oa()
        .meeting_create("alice", "会", 600)
        .meeting_start(NOW + 60)
        .await?
        .meetingid;
    sb.admin().advance_time(120);
    assert_eq!(
        sbx::meeting_status(sb.admin().state(), &id),
        Some(sbx::STATUS_IN_PROGRESS)
    );
    assert_eq!(errcode(one.oa().meeting_cancel(id.as_str()).await), 40058);
    sb.admin().advance_time(600);
    assert_eq!(
        one.oa().meeting_get_info(id.as_str()).await?.status,
        Some(sbx::STATUS_ENDED)
    );
    Ok(())
}

#[tokio::test]
async fn a_members_meeting_ids_stream_page_by_page() -> TestResult {
    let sb = start().await?;
    let (one, two) = (client(&sb, ONE)?, client(&sb, TWO)?);
    let mut mine = Vec::new();
    for i in 0..205u32 {
        let admin = if i % 2 == 0 { "alice" } else { "bob" };
        let m = one
            .oa()
            .meeting_create(admin, format!("会 {i}"), 600)
            .meeting_start(NOW + HOUR + i * 60)
            .invitees(MeetingInvitees::new().userid(["bob"]))
            .await?;
        mine.push(m.meetingid);
    }
    // Another app's meeting with bob is not listed to app ONE.
    two.oa()
        .meeting_create("bob", "别的应用", 600)
        .meeting_start(NOW + HOUR)
        .await?;

    sb.admin().reset_counters();
    let pages: Vec<Vec<String>> = one
        .oa()
        .user_meeting_ids("bob", Some(NOW), Some(NOW + 10 * HOUR))
        .try_collect()
        .await?;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 100, 5]
    );
    assert_eq!(sb.admin().count("meeting_get_user_meetingid"), 3);
    let listed: Vec<String> = pages.concat();
    assert_eq!(
        listed, mine,
        "every meeting of bob booked by this app, by start time"
    );

    // alice administers every other one; a range starting after them lists none.
    let alice: Vec<String> = one
        .oa()
        .user_meeting_ids("alice", None, None)
        .try_collect::<Vec<_>>()
        .await?
        .concat();
    assert_eq!(alice.len(), 103);
    let later = one
        .oa()
        .meeting_get_user_meetingid("alice")
        .begin_time(NOW + 100 * HOUR)
        .await?;
    assert!(later.meetingid_list.is_empty());
    assert_eq!(later.next_cursor.as_deref(), Some(""));
    Ok(())
}

#[tokio::test]
async fn bad_meeting_input_never_leaves_the_client() -> TestResult {
    let sb = start().await?;
    let one = client(&sb, ONE)?;
    let oa = one.oa();
    invalid(
        oa.meeting_create("alice", "会", 299).await,
        "meeting_duration",
    );
    invalid(
        oa.meeting_create("alice", "会", 86_400).await,
        "meeting_duration",
    );
    invalid(oa.meeting_create("alice", "", HOUR).await, "title");
    invalid(
        oa.meeting_create("alice", "会".repeat(256), HOUR).await,
        "title",
    );
    invalid(
        oa.meeting_create("alice", "会", HOUR)
            .location("地".repeat(129))
            .await,
        "location",
    );
    let many: Vec<String> = (0..301).map(|i| format!("u{i}")).collect();
    invalid(
        oa.meeting_create("alice", "会", HOUR)
            .invitees(MeetingInvitees::new().userid(many))
            .await,
        "userid",
    );
    invalid(oa.meeting_create("", "会", HOUR).await, "admin_userid");
    invalid(
        oa.meeting_update("hy1").meeting_start(NOW + HOUR).await,
        "meeting_duration",
    );
    invalid(
        oa.meeting_get_user_meetingid("alice")
            .begin_time(NOW)
            .end_time(NOW + 180 * 86_400 + 1)
            .await,
        "end_time",
    );
    invalid(
        oa.meeting_get_user_meetingid("alice").limit(101).await,
        "limit",
    );
    invalid(
        oa.user_meeting_ids("alice", Some(NOW), Some(NOW - 1))
            .try_collect::<Vec<_>>()
            .await,
        "end_time",
    );
    assert_eq!(
        sb.admin().counters().iter().map(|(_, n)| n).sum::<u64>(),
        0,
        "no request reached the sandbox, not even gettoken"
    );
    Ok(())
}
