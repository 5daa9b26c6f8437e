//! Redis-backed sharing against a real `redis-server` started here on a free loopback port.
//! Without redis-server installed these tests are skipped with a message, unless `CI` is set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wecom_core_auth::token::TokenStore;
use wecom_core_auth::{Client, RedisTokenStore, TokenPolicy};
use wecom_testkit::RedisServer;

use crate::endpoints::{ContactPing, Ping};
use crate::server::{CORPID, Fake, SECRET_CONTACT};
use crate::{builder, concurrently};

/// Client settings for a healthy Redis on a possibly saturated machine: the dedup assertions
/// below are about a working store, so a slow answer must not count as "Redis is down" (which
/// rightly makes an instance fetch on its own).
fn patient() -> TokenPolicy {
    TokenPolicy::default()
        .store_timeout(Duration::from_secs(5))
        .lease_wait(Duration::from_secs(30))
        .lease_ttl(Duration::from_secs(30))
}

fn patient_store(redis: &RedisServer, prefix: &str) -> Arc<RedisTokenStore> {
    Arc::new(
        RedisTokenStore::builder(redis.url())
            .prefix(prefix)
            .connect_timeout(Duration::from_secs(3))
            .response_timeout(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
}

fn store(redis: &RedisServer, prefix: &str) -> Arc<RedisTokenStore> {
    Arc::new(
        RedisTokenStore::builder(redis.url())
            .prefix(prefix)
            .build()
            .unwrap(),
    )
}

async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_cause_one_gettoken_for_a_thousand_cold_calls() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(50));
    let a = builder(&fake)
        .token_store(patient_store(&redis, "t1"))
        .token_policy(patient())
        .build()
        .unwrap();
    let b = builder(&fake)
        .token_store(patient_store(&redis, "t1"))
        .token_policy(patient())
        .build()
        .unwrap();
    let results = concurrently(1000, |i| {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { c.execute(Ping::default()).await }
    })
    .await;
    for r in &results {
        r.as_ref().expect("every call succeeds");
    }
    assert_eq!(
        fake.gettoken_calls(),
        1,
        "one gettoken across both instances"
    );
    assert_eq!(fake.hits("ping"), 1000);
    assert_eq!(
        a.access_token().await.unwrap(),
        b.access_token().await.unwrap()
    );
}

#[tokio::test]
async fn keys_are_namespaced_with_a_ttl_and_leases_are_released() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    let client = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .token_store(store(&redis, "myapp:wecom"))
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    client.execute(ContactPing::default()).await.unwrap();
    let mut conn = raw(&redis).await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            format!("myapp:wecom:access_token:{CORPID}:1000002"),
            format!("myapp:wecom:access_token:{CORPID}:contact")
        ],
        "no lease left behind"
    );
    for key in &keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 7_000_000 && ttl <= 7_200_000, "{key}: {ttl}");
    }
    let value: String = redis::cmd("GET")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    let token = client.access_token().await.unwrap();
    assert!(value.ends_with(&format!("|{}", token.expose())));
}

#[tokio::test]
async fn a_fresh_token_costs_no_redis_round_trip() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    let client = builder(&fake)
        .token_store(store(&redis, "t3"))
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    redis.kill();
    let started = Instant::now();
    for _ in 0..50 {
        client.execute(Ping::default()).await.unwrap();
    }
    // Had any of these calls touched the dead store, the warning path would have run; the count
    // of gettoken calls proves none needed a refresh.
    assert_eq!(fake.gettoken_calls(), 1);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refreshed_once_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    let a = builder(&fake)
        .token_store(patient_store(&redis, "t4"))
        .token_policy(patient())
        .build()
        .unwrap();
    let b = builder(&fake)
        .token_store(patient_store(&redis, "t4"))
        .token_policy(patient())
        .build()
        .unwrap();
    a.execute(Ping::default()).await.unwrap();
    b.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 1);
    fake.revoke_all_tokens();
    fake.set_gettoken_delay(Duration::from_millis(50));
    let results = concurrently(400, |i| {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { c.execute(Ping::default()).await }
    })
    .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fake.gettoken_calls(), 2, "one refresh for both instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_calls_keep_succeeding() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    let policy = TokenPolicy::default().store_timeout(Duration::from_millis(200));
    let a = builder(&fake)
        .token_store(store(&redis, "t5"))
        .token_policy(policy)
        .build()
        .unwrap();
    let b = builder(&fake)
        .token_store(store(&redis, "t5"))
        .token_policy(policy)
        .build()
        .unwrap();
    a.execute(Ping::default()).await.unwrap();
    b.execute(Ping::default()).await.unwrap();

    redis.kill();
    // Tokens revoked while Redis is down: every refresh must go around the store.
    fake.revoke_all_tokens();
    let results = concurrently(200, |i| {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { c.execute(Ping::default()).await }
    })
    .await;
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} calls failed, first: {}",
        failed.len(),
        failed[0]
    );
    let after = fake.gettoken_calls();
    assert!(
        (2..=3).contains(&after),
        "each instance refreshed at most once on its own: {after}"
    );

    // A new instance whose Redis is gone from the start works too.
    let c = builder(&fake)
        .token_store(store(&redis, "t5"))
        .token_policy(policy)
        .build()
        .unwrap();
    c.execute(Ping::default())
        .await
        .expect("a dead store never fails a call");
}

#[tokio::test]
async fn an_unreachable_redis_never_fails_calls() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fake = Fake::start().await;
    let dead = Arc::new(RedisTokenStore::new(&format!("redis://127.0.0.1:{port}/0")).unwrap());
    assert!(
        dead.get(&wecom_core_auth::token::TokenKey::new(
            wecom_core_auth::token::TokenKind::AccessToken,
            CORPID,
            wecom_core_auth::token::AppRef::Contact
        ))
        .await
        .is_err()
    );
    let client = Client::builder(CORPID)
        .app(1000002, crate::server::SECRET_A)
        .base_url(fake.base_url())
        .token_store(dead)
        .build()
        .unwrap();
    let results = concurrently(50, |_| {
        let c = client.clone();
        async move { c.execute(Ping::default()).await }
    })
    .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fake.gettoken_calls(), 1, "still single flight in process");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_slower_than_the_lease_keeps_it_in_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(1500));
    let policy = patient().lease_ttl(Duration::from_millis(300));
    let a = builder(&fake)
        .token_store(patient_store(&redis, "t7"))
        .token_policy(policy)
        .build()
        .unwrap();
    let b = builder(&fake)
        .token_store(patient_store(&redis, "t7"))
        .token_policy(policy)
        .build()
        .unwrap();
    let first = {
        let a = a.clone();
        tokio::spawn(async move { a.execute(Ping::default()).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    b.execute(Ping::default()).await.unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(fake.gettoken_calls(), 1, "the lease was renewed");
}

#[tokio::test]
async fn a_wrong_secret_cool_down_is_shared_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    let make = || {
        Client::builder(CORPID)
            .app(1000002, "wrong-secret-ZZZZ-9876543210")
            .base_url(fake.base_url())
            .token_store(patient_store(&redis, "t8"))
            .token_policy(patient())
            .build()
            .unwrap()
    };
    let e = make().execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(40001));
    let e = make().execute(Ping::default()).await.unwrap_err();
    assert!(
        matches!(&e, wecom_core_auth::Error::CoolDown(_)),
        "a restarted worker cools down too: {e:?}"
    );
    assert_eq!(e.errcode(), Some(40001));
    assert_eq!(fake.gettoken_calls(), 1);
}
