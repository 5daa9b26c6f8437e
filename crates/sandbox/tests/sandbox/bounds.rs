//! Long runs stay bounded (media, robot messages, duplicate check) and the duplicate check of
//! message/send keeps WeCom's semantics under the frozen clock.

use bytes::Bytes;
use serde_json::{Value, json};
use wecom_sandbox::{Sandbox, SandboxClock, StoreLimits};

use crate::common::{client, errcode, get_json};

const T0_MS: i64 = 1_767_603_600_000;

async fn frozen(limits: StoreLimits) -> Sandbox {
    Sandbox::builder()
        .clock(SandboxClock::frozen_at(T0_MS))
        .store_limits(limits)
        .start()
        .await
        .expect("sandbox starts")
}

async fn token(c: &reqwest::Client, sb: &Sandbox, agentid: u32) -> String {
    let creds = sb.credentials();
    let secret = creds.app(agentid).expect("app").secret.expose().to_owned();
    let v = get_json(
        c,
        &format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={secret}",
            sb.base_url(),
            creds.corpid
        ),
        200,
    )
    .await;
    v["access_token"].as_str().expect("token").to_owned()
}

async fn send(c: &reqwest::Client, url: &str, body: Value) -> Value {
    c.post(url)
        .body(body.to_string())
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON")
}

fn text(to: &str, content: &str, interval: Option<u32>) -> Value {
    let mut v =
        json!({"touser": to, "msgtype": "text", "agentid": 1000002, "text": {"content": content}});
    if let Some(i) = interval {
        v["enable_duplicate_check"] = json!(1);
        v["duplicate_check_interval"] = json!(i);
    }
    v
}

#[tokio::test]
async fn duplicate_check_window_with_the_frozen_clock() {
    let sb = frozen(StoreLimits::default()).await;
    let admin = sb.admin();
    let c = client();
    let tok = token(&c, &sb, 1000002).await;
    let url = format!("{}/cgi-bin/message/send?access_token={tok}", sb.base_url());
    let inbox = |who: &str| admin.inbox(who).len();

    let first = send(&c, &url, text("lina", "站会改到十点", Some(60))).await;
    assert_eq!(errcode(&first), 0, "{first}");
    assert_eq!(inbox("lina"), 1);

    // Within the window: answered like the first, not delivered (another interval value does
    // not make it another message).
    admin.advance_time(59);
    let again = send(&c, &url, text("lina", "站会改到十点", Some(600))).await;
    assert_eq!(errcode(&again), 0, "{again}");
    assert_eq!(again["msgid"], first["msgid"], "the first answer again");
    assert_eq!(inbox("lina"), 1, "not delivered twice");

    // Other content or other recipients are other messages.
    let other = send(&c, &url, text("lina", "站会改到十一点", Some(60))).await;
    assert_ne!(other["msgid"], first["msgid"]);
    send(&c, &url, text("lina|chenjing", "站会改到十点", Some(60))).await;
    assert_eq!(inbox("lina"), 3);
    // Without the check, a repeat is delivered.
    send(&c, &url, text("lina", "站会改到十点", None)).await;
    assert_eq!(inbox("lina"), 4);

    // When the window has passed, the same message is delivered again.
    admin.advance_time(1);
    let later = send(&c, &url, text("lina", "站会改到十点", Some(60))).await;
    assert_eq!(errcode(&later), 0, "{later}");
    assert_ne!(later["msgid"], first["msgid"], "a new message");
    assert_eq!(inbox("lina"), 5);
}

/// Identical sends arriving together: one is delivered, every caller gets its msgid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_sends_arriving_together_deliver_once() {
    let sb = frozen(StoreLimits::default()).await;
    let c = client();
    let tok = token(&c, &sb, 1000002).await;
    let url = format!("{}/cgi-bin/message/send?access_token={tok}", sb.base_url());
    for round in 0..20 {
        let content = format!("round {round}");
        let sends = (0..8).map(|_| send(&c, &url, text("lina", &content, Some(1800))));
        let answers = futures_util::future::join_all(sends).await;
        let msgid = &answers[0]["msgid"];
        assert!(answers.iter().all(|a| &a["msgid"] == msgid), "{answers:?}");
        let delivered = sb
            .admin()
            .inbox("lina")
            .iter()
            .filter(|m| m.message["text"]["content"] == content.as_str())
            .count();
        assert_eq!(delivered, 1, "round {round}");
    }
}

#[tokio::test]
async fn media_and_robot_messages_keep_the_newest() {
    let sb = frozen(StoreLimits {
        media_files: 10,
        media_bytes: 1024 * 1024,
        robot_messages: 3,
        ..StoreLimits::default()
    })
    .await;
    let state = sb.admin().state().clone();
    let chunk = Bytes::from(vec![7u8; 64 * 1024]);
    let ids: Vec<String> = (0..2_000)
        .map(|i| {
            state.store_media(
                "file",
                chunk.clone(),
                "application/octet-stream",
                &format!("{i}.bin"),
                false,
            )
        })
        .collect();
    let (files, bytes) = state.media_usage();
    eprintln!("after 2000 uploads of 64 KiB: {files} files, {bytes} bytes kept");
    assert_eq!(files, 10);
    assert_eq!(bytes, 10 * 64 * 1024);
    assert!(state.media(&ids[1_989]).is_none(), "the oldest are evicted");
    assert!(state.media(&ids[1_990]).is_some());
    assert_eq!(sb.admin().media().len(), 10);

    let c = client();
    let url = format!(
        "{}/cgi-bin/webhook/send?key={}",
        sb.base_url(),
        wecom_sandbox::corp::DEMO_ROBOT_KEY
    );
    for i in 0..5 {
        let v = send(
            &c,
            &url,
            json!({"msgtype": "text", "text": {"content": format!("r{i}")}}),
        )
        .await;
        assert_eq!(errcode(&v), 0, "{v}");
    }
    let kept: Vec<Value> = sb
        .admin()
        .robot_messages()
        .into_iter()
        .map(|m| m.message["text"]["content"].clone())
        .collect();
    assert_eq!(kept, [json!("r2"), json!("r3"), json!("r4")]);
}
