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
