//! Callbacks pushed for real to a receiver that decrypts them with the callback crate.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::routing::get;
use wecom_callback::{CallbackCrypto, ContactChange, EventKind, Inbound, MessageBody};
use wecom_sandbox::corp::{CallbackConfig, Member};
use wecom_sandbox::{CallbackSettings, DirectoryChange, Sandbox};

const TOKEN: &str = "QDG6eK";
const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

#[derive(Clone)]
struct Receiver {
    crypto: Arc<CallbackCrypto>,
    got: Arc<Mutex<Vec<Inbound>>>,
    /// Answer this many POSTs late (beyond the sandbox's timeout) before answering in time.
    slow: Arc<AtomicU32>,
    posts: Arc<AtomicU32>,
    wrong_echo: bool,
}

#[derive(serde::Deserialize)]
struct Q {
    msg_signature: String,
    timestamp: String,
    nonce: String,
    echostr: Option<String>,
}

async fn verify(State(r): State<Receiver>, Query(q): Query<Q>) -> String {
    let echo = r
        .crypto
        .verify_url(
            &q.msg_signature,
            &q.timestamp,
            &q.nonce,
            q.echostr.as_deref().unwrap_or(""),
        )
        .unwrap_or_default();
    if r.wrong_echo {
        format!("\"{echo}\"")
    } else {
        echo
    }
}

async fn deliver(State(r): State<Receiver>, Query(q): Query<Q>, body: Bytes) -> String {
    r.posts.fetch_add(1, Ordering::SeqCst);
    if r.slow.load(Ordering::SeqCst) > 0 {
        r.slow.fetch_sub(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let plain = r
        .crypto
        .open_delivery(&q.msg_signature, &q.timestamp, &q.nonce, &body)
        .expect("signed and encrypted for us");
    r.got
        .lock()
        .expect("lock")
        .push(Inbound::parse(&plain).expect("typed callback"));
    String::new()
}

async fn receiver(corpid: &str, slow: u32, wrong_echo: bool) -> (String, Receiver) {
    let r = Receiver {
        crypto: Arc::new(CallbackCrypto::new(TOKEN, AES_KEY, corpid).expect("valid key")),
        got: Arc::default(),
        slow: Arc::new(AtomicU32::new(slow)),
        posts: Arc::default(),
        wrong_echo,
    };
    let app = Router::new()
        .route("/cb", get(verify).post(deliver))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/cb", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, r)
}

fn config(url: &str) -> CallbackConfig {
    CallbackConfig {
        url: url.to_owned(),
        token: TOKEN.into(),
        encoding_aes_key: AES_KEY.into(),
    }
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .callbacks(CallbackSettings {
            timeout: Duration::from_millis(300),
            retries: 3,
        })
        .start()
        .await
        .expect("sandbox starts")
}

#[tokio::test]
async fn text_and_click_reach_the_app() {
    let sb = sandbox().await;
    let corpid = sb.credentials().corpid;
    let (url, r) = receiver(&corpid, 0, false).await;
    sb.admin()
        .set_app_callback(1000002, Some(config(&url)))
        .await
        .expect("URL verified");

    let recs = sb
        .admin()
        .member_sends_text("lina", 1000002, "请假三天")
        .await
        .expect("sent");
    assert_eq!(recs.len(), 1);
    assert!(recs[0].delivered && recs[0].attempts == 1, "{recs:?}");
    let recs = sb
        .admin()
        .member_clicks("lina", 1000002, "APPLY_LEAVE")
        .await
        .expect("clicked");
    assert!(recs[0].delivered);
    let got = r.got.lock().expect("lock").clone();
    match &got[0] {
        Inbound::Message(m) => {
            assert_eq!(m.header.from_user_name, "lina");
            assert_eq!(m.header.to_user_name, corpid);
            assert_eq!(m.header.agent_id, Some(1000002));
            assert_eq!(
                m.body,
                MessageBody::Text {
                    content: "请假三天".into()
                }
            );
        }
        other => panic!("expected a text message, got {other:?}"),
    }
    match &got[1] {
        Inbound::Event(e) => assert_eq!(
            e.kind,
            EventKind::Click {
                event_key: "APPLY_LEAVE".into()
            }
        ),
        other => panic!("expected a click, got {other:?}"),
    }
    // A member outside the app's scope cannot use it.
    let e = sb
        .admin()
        .member_sends_text("huangli", 1000003, "hi")
        .await
        .expect_err("outside scope");
    assert!(e.to_string().contains("60011"), "{e}");
}

#[tokio::test]
async fn retries_until_answered_in_time() {
    let sb = sandbox().await;
    let (url, r) = receiver(&sb.credentials().corpid, 2, false).await;
    sb.admin()
        .set_app_callback(1000002, Some(config(&url)))
        .await
        .expect("URL verified");
    let recs = sb
        .admin()
        .member_sends_text("zhangwei", 1000002, "hello")
        .await
        .expect("sent");
    assert!(recs[0].delivered, "{recs:?}");
    assert_eq!(recs[0].attempts, 3, "two late answers, then one in time");
    assert_eq!(r.posts.load(Ordering::SeqCst), 3);

    // Never answering in time: 1 attempt + 3 retries, then given up.
    r.slow.store(10, Ordering::SeqCst);
    let recs = sb
        .admin()
        .member_sends_text("zhangwei", 1000002, "again")
        .await
        .expect("sent");
    assert!(!recs[0].delivered);
    assert_eq!(recs[0].attempts, 4);
    assert!(
        recs[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("no answer within 300 ms"),
        "{recs:?}"
    );
    assert_eq!(sb.admin().callback_log().len(), 2);
}

#[tokio::test]
async fn verification_must_echo_exactly() {
    let sb = sandbox().await;
    let (url, _r) = receiver(&sb.credentials().corpid, 0, true).await;
    let e = sb
        .admin()
        .set_app_callback(1000002, Some(config(&url)))
        .await
        .expect_err("quoted echo refused");
    assert!(
        e.to_string().contains("instead of the decrypted echostr"),
        "{e}"
    );
    assert!(
        sb.admin()
            .corp()
            .app(1000002)
            .expect("app")
            .callback
            .is_none(),
        "not saved"
    );
    let e = sb
        .admin()
        .set_app_callback(1000002, Some(config("http://127.0.0.1:9/cb")))
        .await
        .expect_err("unreachable");
    assert!(e.to_string().contains("did not answer"), "{e}");
}

#[tokio::test]
async fn directory_changes_push_change_contact() {
    let sb = sandbox().await;
    let corpid = sb.credentials().corpid;
    let (url_all, all) = receiver(&corpid, 0, false).await;
    let (url_weekly, weekly) = receiver(&corpid, 0, false).await;
    let (url_contact, contact) = receiver(&corpid, 0, false).await;
    sb.admin()
        .set_app_callback(1000002, Some(config(&url_all)))
        .await
        .expect("verified");
    sb.admin()
        .set_app_callback(1000003, Some(config(&url_weekly)))
        .await
        .expect("verified");
    sb.admin()
        .set_contact_callback(Some(config(&url_contact)))
        .await
        .expect("verified");

    // A member in 人事部: the whole-corp app and the contact-sync assistant hear of it; 研发周报 does not see 人事部.
    let m = Member::new("xinren", "新人", vec![6]).with_mobile("13900000077");
    let recs = sb
        .admin()
        .change_directory(DirectoryChange::CreateMember {
            member: Box::new(m),
        })
        .await
        .expect("created");
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert!(recs.iter().all(|r| r.delivered));
    assert_eq!(weekly.got.lock().expect("lock").len(), 0);
    for r in [&all, &contact] {
        match &r.got.lock().expect("lock")[0] {
            Inbound::Event(e) => match &e.kind {
                EventKind::ChangeContact(ContactChange::CreateUser(u)) => {
                    assert_eq!(u.user_id, "xinren");
                    assert_eq!(u.name.as_deref(), Some("新人"));
                    assert_eq!(u.department, Some(vec![6]));
                    assert_eq!(e.header.from_user_name, "sys");
                }
                other => panic!("expected create_user, got {other:?}"),
            },
            other => panic!("expected an event, got {other:?}"),
        }
    }
    // Deleting a member of 前端组 reaches 研发周报 too, and the member is gone afterwards.
    let recs = sb
        .admin()
        .change_directory(DirectoryChange::DeleteMember {
            userid: "lina".into(),
        })
        .await
        .expect("deleted");
    assert_eq!(recs.len(), 3);
    assert!(sb.admin().corp().member("lina").is_err());
    match &weekly.got.lock().expect("lock")[0] {
        Inbound::Event(e) => {
            assert_eq!(
                e.kind,
                EventKind::ChangeContact(ContactChange::DeleteUser {
                    user_id: "lina".into()
                })
            )
        }
        other => panic!("expected delete_user, got {other:?}"),
    }
    // Update with a JSON patch.
    let fields = serde_json::json!({"position": "CTO"})
        .as_object()
        .cloned()
        .expect("object");
    sb.admin()
        .change_directory(DirectoryChange::UpdateMember {
            userid: "zhangwei".into(),
            fields,
        })
        .await
        .expect("updated");
    assert_eq!(
        sb.admin()
            .corp()
            .member("zhangwei")
            .expect("member")
            .position,
        "CTO"
    );
    // A refused change answers WeCom's code and pushes nothing.
    let before = sb.admin().callback_log().len();
    let e = sb
        .admin()
        .change_directory(DirectoryChange::DeleteDepartment { id: 1 })
        .await
        .expect_err("root");
    assert!(e.to_string().contains("60007"), "{e}");
    assert_eq!(sb.admin().callback_log().len(), before);
}
