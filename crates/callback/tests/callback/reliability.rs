//! Issue 13, items 1-5, through the router only (what WeCom sees): distinct callbacks of the
//! same second all reach the handler, WeCom's retries do not, the URL check is no decryption
//! oracle, old deliveries are refused, a failed handler gets WeCom's retry, JSON deliveries are
//! answered in JSON.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt as _;
use wecom_callback::dedup::{Claim, Dedup};
use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, Inbound, MemoryDedup, Reply};

use crate::{KEY_A, RECEIVE_ID_A, TOKEN_A, xml_field};

/// The fixed "now" of these tests (Unix seconds), given to the crypto's clock.
const NOW: i64 = 1_700_000_000;
const TS: &str = "1700000000";

fn crypto(receive_id: &str) -> CallbackCrypto {
    CallbackCrypto::new(TOKEN_A, KEY_A, receive_id)
        .expect("valid key")
        .with_clock(|| NOW)
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String, Option<String>) {
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
        content_type,
    )
}

fn url_escape(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// A delivery as WeCom POSTs it (fresh random encryption each time, like a retry).
fn post_at(
    crypto: &CallbackCrypto,
    plaintext: &str,
    agent: &str,
    ts: &str,
    nonce: &str,
) -> Request<Body> {
    let (body, sig) = crypto.seal_delivery(plaintext, crypto.receive_id(), agent, ts, nonce);
    Request::post(format!(
        "/?msg_signature={sig}&timestamp={ts}&nonce={nonce}"
    ))
    .body(Body::from(body))
    .expect("request")
}

fn post(crypto: &CallbackCrypto, plaintext: &str, nonce: &str) -> Request<Body> {
    post_at(crypto, plaintext, "1000002", TS, nonce)
}

fn post_json(crypto: &CallbackCrypto, plaintext: &str, nonce: &str) -> Request<Body> {
    let (body, sig) = crypto.seal_delivery_json(plaintext, crypto.receive_id(), "", TS, nonce);
    Request::post(format!(
        "/?msg_signature={sig}&timestamp={TS}&nonce={nonce}"
    ))
    .body(Body::from(body))
    .expect("request")
}

/// A router whose handler records the raw text of every callback it is given.
fn recording(crypto: CallbackCrypto) -> (CallbackRouter, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let router = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = log.clone();
        async move {
            log.lock().expect("lock").push(inbound.to_xml());
            None
        }
    });
    (router, seen)
}

fn count(seen: &Arc<Mutex<Vec<String>>>) -> usize {
    seen.lock().expect("lock").len()
}

fn external_contact(external_user_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{RECEIVE_ID_A}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>{TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event>\
         <ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID>\
         <ExternalUserID><![CDATA[{external_user_id}]]></ExternalUserID><State><![CDATA[teststate]]></State>\
         <WelcomeCode><![CDATA[WELCOMECODE-{external_user_id}]]></WelcomeCode></xml>"
    )
}

fn update_user(field: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{RECEIVE_ID_A}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>{TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>\
         <ChangeType>update_user</ChangeType><UserID><![CDATA[zhangsan]]></UserID>{field}</xml>"
    )
}

fn untyped(event: &str, detail: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{RECEIVE_ID_A}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>\
         <CreateTime>{TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>\
         <Detail>{detail}</Detail><AgentID>1000002</AgentID></xml>"
    )
}

fn open_approval_change(third_no: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{RECEIVE_ID_A}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>{TS}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[open_approval_change]]></Event>\
         <AgentID>1000002</AgentID><ApprovalInfo><ThirdNo><![CDATA[{third_no}]]></ThirdNo><OpenSpStatus>1</OpenSpStatus>\
         </ApprovalInfo></xml>"
    )
}

fn suite_callback(auth_corp: &str) -> String {
    format!(
        "<xml><SuiteId><![CDATA[wwsuite0001]]></SuiteId><InfoType><![CDATA[change_auth]]></InfoType>\
         <TimeStamp>{TS}</TimeStamp><AuthCorpId><![CDATA[{auth_corp}]]></AuthCorpId></xml>"
    )
}

fn json_event(chat: &str) -> String {
    format!(
        r#"{{"aibotid":"AIBOTID","chatid":"{chat}","chattype":"single","from":{{"userid":"zhangsan"}},"create_time":{TS},"msgtype":"event","event":{{"eventtype":"enter_chat"}}}}"#
    )
}

/// Sends each plaintext once, then each again (WeCom's retry: same plaintext, new encryption
/// and nonce); returns how many reached the handler after the first round and after the retries.
async fn distinct_then_retried(
    crypto: &CallbackCrypto,
    app: &Router,
    seen: &Arc<Mutex<Vec<String>>>,
    plaintexts: &[String],
    json: bool,
) -> (usize, usize) {
    for (i, p) in plaintexts.iter().enumerate() {
        let req = if json {
            post_json(crypto, p, &format!("first{i}"))
        } else {
            post(crypto, p, &format!("first{i}"))
        };
        let (status, _, _) = call(app, req).await;
        assert_eq!(status, StatusCode::OK, "delivery {i} acknowledged");
    }
    let first = count(seen);
    for (i, p) in plaintexts.iter().enumerate() {
        let req = if json {
            post_json(crypto, p, &format!("retry{i}"))
        } else {
            post(crypto, p, &format!("retry{i}"))
        };
        let (status, body, _) = call(app, req).await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::OK, ""),
            "retry {i} acknowledged"
        );
    }
    (first, count(seen))
}

#[tokio::test]
async fn distinct_callbacks_of_one_second_all_reach_the_handler_and_retries_do_not() {
    let cases: Vec<(&str, Vec<String>, bool)> = vec![
        (
            "change_external_contact, different ExternalUserID",
            vec![external_contact("woAAA"), external_contact("woBBB")],
            false,
        ),
        (
            "update_user for one member, different fields",
            vec![
                update_user("<Mobile>13800000000</Mobile>"),
                update_user("<Position>engineer</Position>"),
            ],
            false,
        ),
        (
            "untyped events",
            vec![
                untyped("some_new_event", "one"),
                untyped("some_new_event", "two"),
                untyped("some_new_event", "three"),
            ],
            false,
        ),
        (
            "open_approval_change",
            vec![open_approval_change("201"), open_approval_change("202")],
            false,
        ),
        (
            "JSON callbacks without msgid",
            vec![json_event("chat1"), json_event("chat2")],
            true,
        ),
    ];
    let mut measured = Vec::new();
    for (what, plaintexts, json) in cases {
        let crypto = crypto(RECEIVE_ID_A);
        let (router, seen) = recording(crypto.clone());
        let app = router.into_router();
        let counts = distinct_then_retried(&crypto, &app, &seen, &plaintexts, json).await;
        measured.push((what, plaintexts.len(), counts));
    }
    // Suite callbacks (InfoType): receive id = the suite id.
    let crypto = crypto("wwsuite0001");
    let (router, seen) = recording(crypto.clone());
    let app = router.into_router();
    let plaintexts = vec![suite_callback("wwcorp1"), suite_callback("wwcorp2")];
    let counts = distinct_then_retried(&crypto, &app, &seen, &plaintexts, false).await;
    measured.push(("suite callbacks (InfoType)", 2, counts));

    for (what, sent, (first, after_retries)) in &measured {
        eprintln!(
            "{what}: {sent} distinct sent, {first} reached the handler, {after_retries} after one retry each"
        );
    }
    for (what, sent, counts) in measured {
        assert_eq!(
            counts,
            (sent, sent),
            "{what}: every distinct callback once, no retry"
        );
    }
}

#[tokio::test]
async fn a_captured_delivery_replayed_as_the_url_check_is_refused() {
    let crypto = crypto(RECEIVE_ID_A);
    let (router, _) = recording(crypto.clone());
    let app = router.into_router();
    let secret = external_contact("woSECRET");
    let (body, sig) = crypto.seal_delivery(&secret, RECEIVE_ID_A, 1000002, TS, "n1");
    let encrypt = xml_field(&body, "Encrypt").expect("Encrypt");
    let uri = format!(
        "/?msg_signature={sig}&timestamp={TS}&nonce=n1&echostr={}",
        url_escape(&encrypt)
    );
    let (status, answer, _) = call(&app, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert!(
        !answer.contains("woSECRET") && !answer.contains("<xml>"),
        "the plaintext never appears in the answer: {answer}"
    );
    assert_ne!(status, StatusCode::OK, "refused");

    // A real URL check still works.
    let echo = "4820539587420350391";
    let encrypted = crypto.encrypt(echo);
    let sig = crypto.sign(TS, "n2", &encrypted);
    let uri = format!(
        "/?msg_signature={sig}&timestamp={TS}&nonce=n2&echostr={}",
        url_escape(&encrypted)
    );
    let (status, answer, _) = call(&app, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert_eq!((status, answer.as_str()), (StatusCode::OK, echo));
}

#[tokio::test]
async fn an_old_delivery_is_refused_by_default() {
    let crypto = crypto(RECEIVE_ID_A);
    let (router, seen) = recording(crypto.clone());
    let app = router.into_router();
    // Captured 10 minutes ago, replayed now.
    let old = (NOW - 600).to_string();
    let (status, _, _) = call(
        &app,
        post_at(&crypto, &untyped("x", "replayed"), "1000002", &old, "r1"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "outside the default window");
    assert_eq!(count(&seen), 0);
}

#[tokio::test]
async fn a_panicking_handler_gets_a_retry() {
    let crypto = crypto(RECEIVE_ID_A);
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = CallbackRouter::new(crypto.clone(), move |_: Inbound| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                panic!("handler bug on the first attempt");
            }
            Some(Reply::text("second time lucky"))
        }
    })
    .into_router();
    let plaintext = untyped("x", "panics once");
    let (status, _, _) = call(&app, post(&crypto, &plaintext, "p1")).await;
    assert_ne!(status, StatusCode::OK, "a panic is not acknowledged");
    let (status, body, _) = call(&app, post(&crypto, &plaintext, "p2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the retry ran the handler");
    let reply = crypto.open_reply(&body).expect("a sealed reply");
    assert_eq!(
        xml_field(&reply, "Content").as_deref(),
        Some("second time lucky")
    );
    // And now it is done: a further retry does not run it again.
    let (status, body, _) = call(&app, post(&crypto, &plaintext, "p3")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_json_delivery_gets_a_json_reply_plaintext() {
    let crypto = crypto(RECEIVE_ID_A);
    let app = CallbackRouter::new(crypto.clone(), |_: Inbound| async {
        Some(Reply::text("hello\nI'm the bot"))
    })
    .into_router();
    let (status, body, ct) = call(&app, post_json(&crypto, &json_event("c9"), "j1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct.as_deref(), Some("application/json"));
    let plaintext = crypto.open_reply(&body).expect("the reply verifies");
    let value: serde_json::Value =
        serde_json::from_str(&plaintext).expect("the reply plaintext is JSON, not XML");
    assert_eq!(
        value,
        serde_json::json!({"msgtype": "text", "text": {"content": "hello\nI'm the bot"}})
    );
}

/// A clock (seconds from `NOW`) shared by a crypto and a `MemoryDedup`, moved by the test.
#[derive(Clone, Default)]
struct TestClock(Arc<std::sync::atomic::AtomicI64>);

impl TestClock {
    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    fn crypto(&self, receive_id: &str) -> CallbackCrypto {
        let offset = self.0.clone();
        CallbackCrypto::new(TOKEN_A, KEY_A, receive_id)
            .expect("valid key")
            .with_clock(move || NOW + offset.load(Ordering::SeqCst))
    }
    fn dedup(&self) -> MemoryDedup {
        let offset = self.0.clone();
        let base = std::time::Instant::now();
        MemoryDedup::new(1000, Duration::ZERO).with_clock(move || {
            base + Duration::from_secs(u64::try_from(offset.load(Ordering::SeqCst)).unwrap_or(0))
        })
    }
}

#[tokio::test]
async fn apps_and_corps_sharing_one_store_all_get_their_callbacks() {
    let store = Arc::new(MemoryDedup::default());
    // Same plaintext (a contact change has no AgentID) for two corps.
    let corp_a = crypto(RECEIVE_ID_A);
    let corp_b = crypto("wwcorpB");
    let (router_a, seen_a) = recording(corp_a.clone());
    let (router_b, seen_b) = recording(corp_b.clone());
    let app_a = router_a.dedup(store.clone()).into_router();
    let app_b = router_b.dedup(store.clone()).into_router();
    let change = update_user("<Mobile>1</Mobile>");
    assert_eq!(
        call(&app_a, post(&corp_a, &change, "a")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app_b, post(&corp_b, &change, "b")).await.0,
        StatusCode::OK
    );
    assert_eq!((count(&seen_a), count(&seen_b)), (1, 1), "two corps");

    // Two apps of one corp: the envelope's AgentID tells them apart when the plaintext has none.
    let (router_c, seen_c) = recording(corp_a.clone());
    let app_c = router_c.dedup(store.clone()).into_router();
    let other_app = call(&app_c, post_at(&corp_a, &change, "1000003", TS, "c")).await;
    assert_eq!(other_app.0, StatusCode::OK);
    assert_eq!(count(&seen_c), 1, "another app of the same corp");
    // ... and the plaintext's own AgentID when it has one.
    let for_app = |agent: &str| {
        format!(
            "<xml><ToUserName>{RECEIVE_ID_A}</ToUserName><FromUserName>lisi</FromUserName><CreateTime>{TS}</CreateTime>\
             <MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><AgentID>{agent}</AgentID></xml>"
        )
    };
    call(&app_a, post(&corp_a, &for_app("1000002"), "d")).await;
    call(
        &app_c,
        post_at(&corp_a, &for_app("1000003"), "1000003", TS, "e"),
    )
    .await;
    assert_eq!((count(&seen_a), count(&seen_c)), (2, 2));
    // Retries are still recognised across the shared store.
    call(&app_b, post(&corp_b, &change, "f")).await;
    assert_eq!(count(&seen_b), 1);
}

#[tokio::test]
async fn a_replay_is_de_duplicated_while_its_timestamp_is_accepted_then_refused() {
    let clock = TestClock::default();
    let crypto = clock.crypto(RECEIVE_ID_A);
    let (router, seen) = recording(crypto.clone());
    let app = router.dedup(clock.dedup()).into_router();
    // A timestamp 299 s ahead of this server's clock is accepted (window 300 s) ...
    let ts = (NOW + 299).to_string();
    let plaintext = untyped("x", "captured");
    let first = call(&app, post_at(&crypto, &plaintext, "1000002", &ts, "r0")).await;
    assert_eq!(first.0, StatusCode::OK);
    // ... and still 598 s later (299 s behind): the replay is recognised as handled.
    clock.advance(598);
    let replay = call(&app, post_at(&crypto, &plaintext, "1000002", &ts, "r1")).await;
    assert_eq!((replay.0, replay.1.as_str()), (StatusCode::OK, ""));
    assert_eq!(count(&seen), 1, "the replay did not reach the handler");
    // Past the window it is refused outright.
    clock.advance(3);
    let replay = call(&app, post_at(&crypto, &plaintext, "1000002", &ts, "r2")).await;
    assert_eq!(replay.0, StatusCode::FORBIDDEN);
    assert_eq!(count(&seen), 1);

    // The window is configurable, and can be turned off explicitly.
    let (router, seen) = recording(crypto.clone());
    let app = router
        .timestamp_window(Duration::from_secs(30))
        .into_router();
    let ts = (NOW + 598 + 3 - 31).to_string();
    assert_eq!(
        call(&app, post_at(&crypto, &plaintext, "1000002", &ts, "w1"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (router, _) = recording(crypto.clone());
    let app = router.no_timestamp_window().into_router();
    assert_eq!(
        call(&app, post_at(&crypto, &plaintext, "1000002", "1", "w2"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(count(&seen), 0);
}

#[tokio::test]
async fn a_callback_running_on_another_instance_is_waited_for_and_a_dead_instance_is_taken_over() {
    let clock = TestClock::default();
    let store = Arc::new(clock.dedup());
    let crypto = clock.crypto(RECEIVE_ID_A);
    let plaintext = untyped("x", "shared");

    // Instance A: its handler blocks until released.
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let release_rx = Arc::new(tokio::sync::Mutex::new(Some(release_rx)));
    let calls_a = Arc::new(AtomicUsize::new(0));
    let counter = calls_a.clone();
    let app_a = CallbackRouter::new(crypto.clone(), move |_: Inbound| {
        counter.fetch_add(1, Ordering::SeqCst);
        let release_rx = release_rx.clone();
        async move {
            if let Some(rx) = release_rx.lock().await.take() {
                let _ = rx.await;
            }
            None
        }
    })
    .dedup(store.clone())
    .ack_within(Duration::from_millis(20))
    .into_router();
    let (router_b, seen_b) = recording(crypto.clone());
    let app_b = router_b
        .dedup(store.clone())
        .ack_within(Duration::from_millis(20))
        .into_router();

    assert_eq!(
        call(&app_a, post(&crypto, &plaintext, "a1")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // WeCom's retry lands on B while A still runs: B does not run it, and does not ack it.
    assert_eq!(
        call(&app_b, post(&crypto, &plaintext, "b1")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(count(&seen_b), 0);
    release_tx.send(()).expect("A still running");
    let mut acked = false;
    for i in 0..50 {
        let (status, _, _) = call(&app_b, post(&crypto, &plaintext, &format!("b{i}x"))).await;
        if status == StatusCode::OK {
            acked = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(acked, "once A recorded it, B acknowledges the retry");
    assert_eq!((calls_a.load(Ordering::SeqCst), count(&seen_b)), (1, 0));

    // An instance that died mid-handler (a claim never completed): once its lease runs out,
    // a retry on B runs the handler.
    let dead = untyped("x", "dead instance");
    let key = wecom_callback::retry_key(RECEIVE_ID_A, Some("1000002"), &dead);
    let Claim::New(_abandoned) = store.claim(&key, Duration::from_secs(10)).await else {
        panic!("free key")
    };
    assert_eq!(
        call(&app_b, post(&crypto, &dead, "d1")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    clock.advance(11);
    // The crypto clock moved too: sign with the new time.
    let ts = (NOW + 11).to_string();
    assert_eq!(
        call(&app_b, post_at(&crypto, &dead, "1000002", &ts, "d2"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(count(&seen_b), 1, "taken over after the lease");
}

#[tokio::test]
async fn huge_settings_do_not_overflow() {
    let crypto = crypto(RECEIVE_ID_A);
    let (router, seen) = recording(crypto.clone());
    let app = router
        .timestamp_window(Duration::MAX)
        .ack_within(Duration::MAX)
        .lease(Duration::MAX)
        .into_router();
    let plaintext = untyped("x", "huge");
    assert_eq!(
        call(&app, post(&crypto, &plaintext, "h1")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, post(&crypto, &plaintext, "h2")).await.0,
        StatusCode::OK
    );
    assert_eq!(count(&seen), 1);
    let dedup = MemoryDedup::new(10, Duration::MAX);
    let Claim::New(ticket) = dedup.claim("k", Duration::MAX).await else {
        panic!("free")
    };
    dedup.extend(&ticket, Duration::MAX).await;
    dedup.complete(&ticket, Duration::MAX).await;
    assert_eq!(dedup.claim("k", Duration::MAX).await, Claim::Done);
}
