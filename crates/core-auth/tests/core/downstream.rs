//! Acting as a downstream corp (`Client::downstream`): its token is a cached credential like an
//! app's, shared through the token store, single-flight, dropped and fetched once more when the
//! downstream corp rejects it, never used for another downstream corp.

use std::sync::Arc;
use std::time::Duration;

use wecom_core_auth::{BusinessType, Client, MemoryTokenStore, TokenStore};

use crate::endpoints::Ping;
use crate::server::{Fake, Fault};
use crate::{builder, concurrently};

const GETTOKEN: &str = "corpgroup/corp/gettoken";

async fn ping_as(client: &Client, corpid: &str, agentid: u32) -> String {
    client
        .downstream(corpid, agentid)
        .expect("a downstream handle")
        .execute(Ping::default())
        .await
        .expect("served")
        .owner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_a_store_fetch_one_token_per_downstream_corp() {
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(30));
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let a = builder(&fake)
        .token_store(Arc::clone(&store))
        .build()
        .unwrap();
    let b = builder(&fake).token_store(store).build().unwrap();
    let owners = concurrently(200, |i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            let (corpid, agentid) = if i % 4 < 2 {
                ("wwdownA", 5)
            } else {
                ("wwdownB", 6)
            };
            (corpid, ping_as(&client, corpid, agentid).await)
        }
    })
    .await;
    for (corpid, owner) in &owners {
        let agentid = if *corpid == "wwdownA" { 5 } else { 6 };
        assert_eq!(owner, &format!("down:{corpid}:{agentid}:1"));
    }
    assert_eq!(fake.hits(GETTOKEN), 2, "one fetch per downstream corp");
    assert_eq!(fake.gettoken_calls(), 1, "one upstream token");
    assert_eq!(fake.hits("ping"), 200);
}

#[tokio::test]
async fn a_token_the_downstream_corp_rejects_is_fetched_once_more_for_that_corp_only() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    ping_as(&client, "wwdownA", 5).await;
    ping_as(&client, "wwdownB", 6).await;
    assert_eq!(fake.hits(GETTOKEN), 2);
    for code in [42001, 40014, 40001] {
        fake.fail_next("ping", [Fault::Errcode(code, "token rejected")]);
        assert_eq!(ping_as(&client, "wwdownA", 5).await, "down:wwdownA:5:1");
    }
    assert_eq!(fake.hits(GETTOKEN), 5, "one refetch per rejection");
    assert_eq!(ping_as(&client, "wwdownB", 6).await, "down:wwdownB:6:1");
    assert_eq!(fake.hits(GETTOKEN), 5, "the other corp's token was kept");
    assert_eq!(fake.gettoken_calls(), 1, "the upstream token was kept");
}

#[tokio::test]
async fn the_link_type_and_the_upstream_app_are_part_of_the_credential() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let group = client
        .downstream_with("wwdownA", 5, BusinessType::Group)
        .unwrap()
        .execute(Ping::default())
        .await
        .unwrap();
    assert_eq!(group.owner, "down:wwdownA:5:0");
    assert_eq!(ping_as(&client, "wwdownA", 5).await, "down:wwdownA:5:1");
    let via_other_app = client.agent(1000003).unwrap();
    assert_eq!(
        ping_as(&via_other_app, "wwdownA", 5).await,
        "down:wwdownA:5:1"
    );
    assert_eq!(fake.hits(GETTOKEN), 3);
    // Each fetch used its own upstream app's token.
    assert_eq!(fake.gettoken_calls_for("app1000002"), 1);
    assert_eq!(fake.gettoken_calls_for("app1000003"), 1);
}

#[tokio::test]
async fn a_refused_fetch_names_the_downstream_corp_and_the_fix() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next(GETTOKEN, [Fault::Errcode(670001, "app not in share scope")]);
    let down = client.downstream("wwdownA", 5).unwrap();
    let e = down.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(670001));
    let shown = e.to_string();
    for part in ["wwdownA", "app 5", "1000002", "list_app_share_info"] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    assert_eq!(fake.hits("ping"), 0, "nothing sent without the token");
    // Not cached as a token, no cool-down: once shared, the next call works.
    assert_eq!(ping_as(&client, "wwdownA", 5).await, "down:wwdownA:5:1");
    let e = client
        .downstream("wwelsewhere", 7)
        .unwrap()
        .execute(Ping::default())
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(670004));
    assert!(e.to_string().contains("business_type"), "{e}");
    for token in fake.issued_tokens() {
        assert!(!shown.contains(&token) && !format!("{down:?}").contains(&token));
    }
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_fetch_one_token_per_downstream_corp() {
    use wecom_core_auth::{RedisTokenStore, TokenPolicy};
    let Some(redis) = wecom_testkit::RedisServer::start() else {
        return;
    };
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(30));
    // Patient timings: the assertion is about a working store on a busy machine.
    let policy = TokenPolicy::default()
        .store_timeout(Duration::from_secs(5))
        .lease_wait(Duration::from_secs(30))
        .lease_ttl(Duration::from_secs(30));
    let instance = || {
        let store: Arc<dyn TokenStore> = Arc::new(
            RedisTokenStore::builder(redis.url())
                .prefix("downstream-test")
                .build()
                .unwrap(),
        );
        builder(&fake)
            .token_store(store)
            .token_policy(policy)
            .build()
            .unwrap()
    };
    let (a, b) = (instance(), instance());
    let owners = concurrently(100, |i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move {
            let corpid = if i % 4 < 2 { "wwdownA" } else { "wwdownB" };
            (corpid, ping_as(&client, corpid, 5).await)
        }
    })
    .await;
    for (corpid, owner) in &owners {
        assert_eq!(owner, &format!("down:{corpid}:5:1"));
    }
    assert_eq!(fake.hits(GETTOKEN), 2, "one fetch per downstream corp");
    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test]
async fn the_downstream_token_is_refreshed_ahead_of_expiry_and_after_it() {
    use wecom_core_auth::clock::ManualClock;
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake).clock(clock.clone()).build().unwrap();
    let down = client.downstream("wwdownA", 5).unwrap();
    down.execute(Ping::default()).await.unwrap();
    let first = down.cached_token_expiry().expect("cached and fresh");
    clock.advance(Duration::from_secs(3600));
    down.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.hits(GETTOKEN), 1, "still fresh after an hour");
    // In the soft window (by default 10 min plus up to 5 min of jitter before the hard margin,
    // 3 min before expiry): the caller refreshes it and goes on.
    clock.advance(Duration::from_secs(6900 - 3600));
    down.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.hits(GETTOKEN), 2, "refreshed ahead of expiry");
    let second = down.cached_token_expiry().expect("the new one is fresh");
    assert!(second > first);
    // Long past its expiry: fetched before the call.
    clock.advance(Duration::from_secs(7300));
    assert!(down.cached_token_expiry().is_none());
    down.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.hits(GETTOKEN), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_keeps_a_downstream_token_made_after_it_started_fresh() {
    use wecom_core_auth::clock::{Clock, ManualClock};
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake).clock(clock.clone()).build().unwrap();
    let refresher = client.spawn_refresher(Duration::from_millis(10));
    // The handle is made after the refresher started, and used once.
    let down = client.downstream("wwdownA", 5).unwrap();
    down.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.hits(GETTOKEN), 1);
    // Into its soft window: the refresher fetches a new one without any call.
    clock.advance(Duration::from_secs(6900));
    let mut refreshed = false;
    for _ in 0..500 {
        if fake.hits(GETTOKEN) == 2 {
            refreshed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refreshed,
        "the downstream token was not refreshed in the background"
    );
    let expiry = down
        .cached_token_expiry()
        .expect("fresh again without any call");
    assert!(expiry > clock.now() + Duration::from_secs(7000));
    refresher.stop();
}
