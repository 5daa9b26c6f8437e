//! Retries by class: transient retried only when safe; rate limits, permission and input never;
//! rejected tokens refreshed once.

use std::time::Duration;

use wecom_core_auth::{Client, Error, ErrorClass, RetryPolicy, TransportErrorKind};

use crate::builder;
use crate::endpoints::{Create, Delete, Ping, Send};
use crate::server::{CORPID, Fake, Fault, SECRET_A};
use wecom_core_auth::AuthExt;

#[tokio::test]
async fn idempotent_calls_are_retried_on_transient_errors() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next(
        "ping",
        [
            Fault::Errcode(-1, "system busy"),
            Fault::Errcode(6000, "data version conflict"),
        ],
    );
    client
        .execute(Ping::default())
        .await
        .expect("succeeds on the third attempt");
    assert_eq!(fake.hits("ping"), 3);

    fake.fail_next("ping", [Fault::Status(503), Fault::Status(502)]);
    client
        .execute(Ping::default())
        .await
        .expect("HTTP 5xx is transient");
    assert_eq!(fake.hits("ping"), 6);
}

#[tokio::test]
async fn retries_are_bounded() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next(
        "ping",
        std::iter::repeat_n(Fault::Errcode(-1, "system busy"), 5),
    );
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(-1));
    assert!(e.is_retryable());
    assert_eq!(
        fake.hits("ping"),
        3,
        "the default policy makes three attempts in all"
    );

    let fake = Fake::start().await;
    let client = builder(&fake)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(5)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    fake.fail_next(
        "ping",
        std::iter::repeat_n(Fault::Errcode(-1, "system busy"), 4),
    );
    client
        .execute(Ping::default())
        .await
        .expect("five attempts allowed");
}

#[tokio::test]
async fn a_post_that_is_not_idempotent_is_never_resent() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next("create", [Fault::Errcode(-1, "system busy")]);
    let e = client
        .execute(Create { name: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(-1));
    assert_eq!(fake.hits("create"), 1);

    fake.fail_next("create", [Fault::Status(500)]);
    let e = client
        .execute(Create { name: "x".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport(t) if t.kind == TransportErrorKind::Status(500)),
        "{e:?}"
    );
    assert_eq!(fake.hits("create"), 2);
}

#[tokio::test]
async fn rate_limits_permission_and_input_errors_are_never_retried() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    for (code, class) in [
        (45009, ErrorClass::RateLimit),
        (45033, ErrorClass::RateLimit),
        (48002, ErrorClass::Permission),
        (60011, ErrorClass::Permission),
    ] {
        let before = fake.hits("ping");
        fake.fail_next("ping", [Fault::Errcode(code, "no")]);
        let e = client.execute(Ping::default()).await.unwrap_err();
        assert_eq!(e.errcode(), Some(code));
        assert_eq!(e.class(), class, "{code}");
        assert!(!e.is_retryable());
        assert_eq!(fake.hits("ping"), before + 1, "{code} was retried");
    }
    let before = fake.hits("ping");
    fake.fail_next("ping", [Fault::Status(404)]);
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Transport(t) if t.kind == TransportErrorKind::Status(404)),
        "{e:?}"
    );
    assert_eq!(fake.hits("ping"), before + 1);
}

#[tokio::test]
async fn timeouts_are_retried_for_idempotent_calls_only() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    fake.fail_next("ping", [Fault::Delay(Duration::from_secs(2))]);
    client
        .execute(Ping::default())
        .await
        .expect("the second attempt is fast");
    assert_eq!(fake.hits("ping"), 3);

    fake.fail_next("create", [Fault::Delay(Duration::from_secs(2))]);
    let e = client
        .execute(Create { name: "x".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport(t) if t.kind == TransportErrorKind::Timeout),
        "{e:?}"
    );
    assert!(
        e.is_retryable(),
        "transient, but not safe to resend: the caller decides"
    );
    assert_eq!(fake.hits("create"), 1);
}

#[tokio::test]
async fn duplicate_checked_sends_carry_the_flag_on_every_attempt_and_are_retried() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .duplicate_check_interval(Duration::from_secs(600))
        .build()
        .unwrap();
    fake.fail_next("message/send", [Fault::Errcode(-1, "system busy")]);
    client
        .execute(Send {
            content: "hi".into(),
            enable_duplicate_check: None,
            duplicate_check_interval: None,
        })
        .await
        .unwrap();
    let bodies: Vec<serde_json::Value> = fake
        .seen()
        .iter()
        .filter(|s| s.path == "message/send")
        .map(|s| serde_json::from_slice(&s.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2, "retried once");
    for b in &bodies {
        assert_eq!(b["enable_duplicate_check"], 1, "{b}");
        assert_eq!(b["duplicate_check_interval"], 600, "{b}");
    }
    assert_eq!(bodies[0], bodies[1], "both attempts are the same request");

    // An explicit choice by the caller is kept.
    client
        .execute(Send {
            content: "hi".into(),
            enable_duplicate_check: Some(0),
            duplicate_check_interval: None,
        })
        .await
        .unwrap();
    let last: serde_json::Value =
        serde_json::from_slice(&fake.seen().last().unwrap().body).unwrap();
    assert_eq!(last["enable_duplicate_check"], 0);
}

#[tokio::test]
async fn without_retries_a_send_is_not_flagged_and_not_resent() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    fake.fail_next("message/send", [Fault::Errcode(-1, "system busy")]);
    client
        .execute(Send {
            content: "hi".into(),
            enable_duplicate_check: None,
            duplicate_check_interval: None,
        })
        .await
        .unwrap_err();
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert!(body.get("enable_duplicate_check").is_none(), "{body}");
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once_even_for_a_post() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    client.execute(Ping::default()).await.unwrap();
    fake.revoke_all_tokens();
    let r = client
        .execute(Create { name: "x".into() })
        .await
        .expect("40014 means WeCom did not run it: safe to resend");
    assert_eq!(r.owner, "app1000002");
    assert_eq!(fake.hits("create"), 2);
    assert_eq!(fake.gettoken_calls(), 2);
}

#[tokio::test]
async fn a_token_error_is_retried_only_once() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next(
        "ping",
        [
            Fault::Errcode(42001, "access_token expired"),
            Fault::Errcode(40014, "invalid access_token"),
        ],
    );
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(40014));
    assert_eq!(fake.hits("ping"), 2, "no unbounded token retries");
    assert_eq!(fake.gettoken_calls(), 2);
}

#[tokio::test]
async fn connect_errors_are_transport_errors_with_masked_urls() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let e = client.execute(Ping::default()).await.unwrap_err();
    let Error::Transport(t) = &e else {
        panic!("expected a transport error, got {e:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Connect);
    assert_eq!(t.endpoint, "gettoken");
    assert!(t.url.contains("corpsecret=***"), "{}", t.url);
    let text = format!("{e} {e:?}");
    assert!(!text.contains(SECRET_A), "{text}");
    assert!(text.contains("could not connect"), "{text}");
}

#[tokio::test]
async fn a_send_without_duplicate_check_is_never_resent() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next("message/send", [Fault::Errcode(-1, "system busy")]);
    let e = client
        .execute(Send {
            content: "hi".into(),
            enable_duplicate_check: Some(0),
            duplicate_check_interval: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(-1));
    assert_eq!(
        fake.hits("message/send"),
        1,
        "without WeCom's duplicate check a resend could deliver twice"
    );
    // A rejected token is still refreshed and the send made once more (WeCom did not run it).
    client.execute(Ping::default()).await.unwrap();
    fake.revoke_all_tokens();
    client
        .execute(Send {
            content: "hi".into(),
            enable_duplicate_check: Some(0),
            duplicate_check_interval: None,
        })
        .await
        .unwrap();
    assert_eq!(fake.hits("message/send"), 3);
}

#[tokio::test]
async fn single_use_codes_are_not_resent() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next("auth/getuserinfo", [Fault::Status(502)]);
    let e = client
        .auth()
        .auth_getuserinfo("member-code")
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(fake.hits("auth/getuserinfo"), 1, "a code works once");
    fake.fail_next("miniprogram/jscode2session", [Fault::Status(502)]);
    client
        .execute(wecom_core_auth::generated::auth::MiniprogramJscode2SessionRequest::new("js-code"))
        .await
        .unwrap_err();
    assert_eq!(fake.hits("miniprogram/jscode2session"), 1);
}

#[tokio::test]
async fn a_retried_delete_that_finds_nothing_says_the_first_attempt_may_have_worked() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next(
        "thing/delete",
        [
            Fault::Status(502),
            Fault::Errcode(60111, "userid not found"),
        ],
    );
    let e = client
        .execute(Delete {
            id: "zhangsan".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(60111));
    assert_eq!(fake.hits("thing/delete"), 2);
    let text = e.to_string();
    assert!(
        text.contains("first attempt") && text.contains("may have succeeded"),
        "{text}"
    );
    // Not said when there was no retry.
    fake.fail_next("thing/delete", [Fault::Errcode(60111, "userid not found")]);
    let e = client
        .execute(Delete {
            id: "zhangsan".into(),
        })
        .await
        .unwrap_err();
    assert!(!e.to_string().contains("first attempt"), "{e}");
}
