//! RedisDedup against a real redis-server on loopback (wecom-testkit). Skipped (with a note) when
//! redis-server is not on PATH, unless the env var CI is set: then it fails.

use std::time::Duration;

use wecom_callback::{Dedup, RedisDedup};
use wecom_testkit::RedisServer;

#[tokio::test]
async fn redis_dedup_uses_set_nx_ex() {
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
    assert!(dedup.first_seen("msg:1").await, "first time");
    assert!(!dedup.first_seen("msg:1").await, "a retry");
    assert!(dedup.first_seen("msg:2").await, "another message");
    let other_app = dedup.clone().with_prefix("other:");
    assert!(
        other_app.first_seen("msg:1").await,
        "prefixes separate apps"
    );

    // Keys expire: a 1-second TTL, observed through Redis' own TTL.
    let short = RedisDedup::connect(&url, Duration::from_millis(10))
        .await
        .expect("connect");
    assert!(short.first_seen("msg:ttl").await);
    let client = redis::Client::open(url.as_str()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    let ttl: i64 = redis::cmd("TTL")
        .arg("wecom:callback:dedup:msg:ttl")
        .query_async(&mut conn)
        .await
        .expect("TTL");
    assert!(
        (0..=1).contains(&ttl),
        "TTL is the configured 1 s minimum, got {ttl}"
    );
}
