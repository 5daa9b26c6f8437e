//! RedisDedup against a real redis-server on loopback (wecom-testkit). Skipped (with a note) when
//! redis-server is not on PATH, unless the env var CI is set: then it fails.

use std::time::Duration;

use wecom_callback::RedisDedup;
use wecom_callback::dedup::{Claim, Dedup};
use wecom_testkit::RedisServer;

const LEASE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn redis_dedup_claims_completes_and_releases() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let mut dedup = None;
    for _ in 0..100 {
        match RedisDedup::connect(&url, Duration::from_secs(60)).await {
            Ok(d) => {
                dedup = Some(d);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let dedup = dedup.expect("redis-server accepted a connection within 5 s");
    assert!(
        !format!("{dedup:?}").contains("redis://"),
        "no URL (maybe with a password) in Debug"
    );
    let Claim::New(ticket) = dedup.claim("k1", LEASE).await else {
        panic!("first time")
    };
    assert_eq!(dedup.claim("k1", LEASE).await, Claim::InProgress, "running");
    // Another instance's stale ticket cannot release it.
    let other = wecom_callback::Ticket::new("k1");
    dedup.release(&other).await;
    assert_eq!(dedup.claim("k1", LEASE).await, Claim::InProgress);
    // A failure releases it: the retry runs.
    dedup.release(&ticket).await;
    let Claim::New(ticket) = dedup.claim("k1", LEASE).await else {
        panic!("released")
    };
    dedup.extend(&ticket, LEASE).await;
    dedup.complete(&ticket, Duration::from_secs(600)).await;
    assert_eq!(dedup.claim("k1", LEASE).await, Claim::Done, "a retry");
    assert!(matches!(dedup.claim("k2", LEASE).await, Claim::New(_)));
    let other_env = dedup.clone().with_prefix("other:");
    assert!(
        matches!(other_env.claim("k1", LEASE).await, Claim::New(_)),
        "prefixes separate environments"
    );

    // Done keys live for max(ttl, keep), observed through Redis' own TTL.
    let client = redis::Client::open(url.as_str()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    let ttl: i64 = redis::cmd("TTL")
        .arg("wecom:callback:dedup:k1")
        .query_async(&mut conn)
        .await
        .expect("TTL");
    assert!(
        (590..=600).contains(&ttl),
        "kept for the keep time, got {ttl}"
    );
}

/// Two routers (two corps, or two instances of one) sharing one Redis prefix.
#[cfg(feature = "axum")]
#[tokio::test]
async fn routers_sharing_one_redis_prefix() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt as _;
    use wecom_callback::router::CallbackRouter;
    use wecom_callback::{CallbackCrypto, Inbound};

    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let mut dedup = None;
    for _ in 0..100 {
        match RedisDedup::connect(&url, Duration::from_secs(60)).await {
            Ok(d) => {
                dedup = Some(d);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let dedup = dedup.expect("redis-server accepted a connection within 5 s");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .to_string();
    let plaintext = format!(
        "<xml><ToUserName>x</ToUserName><FromUserName>sys</FromUserName><CreateTime>{now}</CreateTime>\
         <MsgType>event</MsgType><Event>change_contact</Event><ChangeType>update_user</ChangeType>\
         <UserID>zhangsan</UserID><Mobile>1</Mobile></xml>"
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let app = |receive_id: &str| {
        let crypto = CallbackCrypto::new(crate::TOKEN_A, crate::KEY_A, receive_id).expect("key");
        let calls = calls.clone();
        let router = CallbackRouter::new(crypto.clone(), move |_: Inbound| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                assert_ne!(n, 0, "the very first run fails");
                None
            }
        })
        .dedup(dedup.clone())
        .into_router();
        (crypto, router)
    };
    let send = |crypto: &CallbackCrypto, router: &axum::Router, nonce: &str| {
        let (body, sig) = crypto.seal_delivery(&plaintext, crypto.receive_id(), "", &now, nonce);
        let req = Request::post(format!(
            "/?msg_signature={sig}&timestamp={now}&nonce={nonce}"
        ))
        .body(Body::from(body))
        .expect("req");
        let router = router.clone();
        async move { router.oneshot(req).await.expect("infallible").status() }
    };
    let (corp_a, app_a) = app("wwcorpA");
    let (_, app_a2) = app("wwcorpA");
    let (corp_b, app_b) = app("wwcorpB");
    // Corp A, instance 1: the handler panics; the retry on instance 2 runs it again.
    assert_eq!(
        send(&corp_a, &app_a, "1").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(send(&corp_a, &app_a2, "2").await, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // A further retry on either instance is recognised.
    assert_eq!(send(&corp_a, &app_a, "3").await, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // Corp B's identical plaintext is its own callback.
    assert_eq!(send(&corp_b, &app_b, "4").await, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
