//! Token lifetimes against WeCom's rules: a cancelled fetch, the same token returned until it
//! expires, invalidation by value, cross-instance single flight under a slow or failing
//! gettoken, and `expires_in` from the server kept in a sane range. Counts, not timings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wecom_core_auth::clock::ManualClock;
use wecom_core_auth::{Client, Error, MemoryTokenStore, RetryPolicy, TokenPolicy};

use crate::endpoints::Ping;
use crate::server::{CORPID, Fake, Fault};
use crate::{builder, concurrently};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_of_a_cancelled_fetch_get_its_token_without_a_second_gettoken() {
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(1500));
    let client = builder(&fake)
        .token_policy(TokenPolicy::default().lease_wait(Duration::from_secs(5)))
        .build()
        .unwrap();
    let started = Instant::now();
    // The leader gives up (a timeout around the call, a web client that went away) mid-fetch.
    let leader = client.clone();
    let cancelled =
        tokio::time::timeout(Duration::from_millis(200), leader.execute(Ping::default())).await;
    assert!(cancelled.is_err(), "the leader was cancelled mid-fetch");
    let followers = concurrently(20, |_| {
        let c = client.clone();
        async move { c.execute(Ping::default()).await }
    })
    .await;
    let elapsed = started.elapsed();
    for r in &followers {
        r.as_ref().expect("every follower succeeds");
    }
    eprintln!(
        "followers of a cancelled 1.5 s gettoken done after {} ms, gettoken calls: {}",
        elapsed.as_millis(),
        fake.gettoken_calls()
    );
    assert_eq!(
        fake.gettoken_calls(),
        1,
        "the cancelled fetch finished for the followers"
    );
}

#[tokio::test]
async fn a_cancelled_early_refresh_still_completes() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(TokenPolicy::default().soft_jitter(Duration::ZERO))
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    clock.advance(Duration::from_secs(6500)); // soft window of a 7200 s token
    fake.set_gettoken_delay(Duration::from_millis(300));
    let cancelled =
        tokio::time::timeout(Duration::from_millis(50), client.execute(Ping::default())).await;
    assert!(cancelled.is_err());
    // Wait for the detached refresh to land (it keeps the lease until then).
    for _ in 0..200 {
        if client.cached_token_expiry().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fake.set_gettoken_delay(Duration::ZERO);
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 2, "one refresh, not abandoned");
    assert!(
        client.cached_token_expiry().is_some(),
        "the refreshed token is fresh"
    );
}

/// Calls once a second for `secs` seconds of injected time against a server that returns the
/// same 60 s token until it expires.
async fn run_same_token(clients: &[Client], clock: &ManualClock, secs: u64) {
    for step in 0..secs {
        let c = &clients[(step as usize) % clients.len()];
        c.execute(Ping::default())
            .await
            .unwrap_or_else(|e| panic!("call at {step} s failed: {e}"));
        clock.advance(Duration::from_secs(1));
    }
}

#[tokio::test]
async fn the_same_token_until_expiry_costs_one_gettoken_per_lifetime() {
    let fake = Fake::start().await;
    fake.state
        .expires_in
        .store(60, std::sync::atomic::Ordering::SeqCst);
    let clock = ManualClock::new();
    fake.same_token_until_expiry(&clock);
    let client = builder(&fake).clock(clock.clone()).build().unwrap();
    run_same_token(std::slice::from_ref(&client), &clock, 75).await;
    let in_75 = fake.gettoken_calls();
    run_same_token(std::slice::from_ref(&client), &clock, 225).await;
    eprintln!(
        "same-token server, 60 s tokens: {in_75} gettoken calls in 75 s, {} in 300 s",
        fake.gettoken_calls()
    );
    // Five lifetimes in 300 s; one more for the single early refresh that taught the client
    // the server's rule.
    assert!(
        fake.gettoken_calls() <= 6,
        "{} gettoken calls in 300 s",
        fake.gettoken_calls()
    );
    assert_eq!(fake.hits("ping"), 300, "no call was refused as expired");
}

#[tokio::test]
async fn instances_sharing_a_store_keep_one_gettoken_per_lifetime_with_the_same_token() {
    let fake = Fake::start().await;
    fake.state
        .expires_in
        .store(60, std::sync::atomic::Ordering::SeqCst);
    let clock = ManualClock::new();
    fake.same_token_until_expiry(&clock);
    let store = Arc::new(MemoryTokenStore::new());
    let clients: Vec<Client> = (0..3)
        .map(|_| {
            builder(&fake)
                .clock(clock.clone())
                .token_store(store.clone())
                .build()
                .unwrap()
        })
        .collect();
    run_same_token(&clients, &clock, 300).await;
    eprintln!(
        "same-token server, 60 s tokens, 3 instances sharing a store: {} gettoken calls in 300 s",
        fake.gettoken_calls()
    );
    // Five lifetimes, and one early refresh in all that taught the first instance the server's
    // rule: the others learn it from the store, not from gettoken.
    assert!(
        fake.gettoken_calls() <= 6,
        "{} gettoken calls in 300 s",
        fake.gettoken_calls()
    );
    assert_eq!(fake.hits("ping"), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinstalled_copy_of_a_rejected_token_is_dropped_too() {
    let fake = Fake::start().await;
    fake.state
        .expires_in
        .store(60, std::sync::atomic::Ordering::SeqCst);
    let clock = ManualClock::new();
    fake.same_token_until_expiry(&clock);
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(TokenPolicy::default().soft_jitter(Duration::ZERO))
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    // A slow call goes out with the token...
    fake.fail_next("ping", [Fault::Delay(Duration::from_secs(2))]);
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.execute(Ping::default()).await })
    };
    while fake.hits("ping") < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...meanwhile an early refresh gets the same token again and re-installs it...
    clock.advance(Duration::from_secs(45));
    client.execute(Ping::default()).await.unwrap();
    // ...then WeCom revokes it: the slow call's 40014 must drop the re-installed copy too.
    fake.revoke_all_tokens();
    slow.await.unwrap().expect("retried once with a new token");
    let used: Vec<String> = fake
        .seen()
        .into_iter()
        .filter_map(|s| s.query.get("access_token").cloned())
        .collect();
    assert_ne!(used.first(), used.last(), "the retry used a new token");
}

/// Two instances sharing a store; `policy` applies to both.
fn pair(fake: &Fake, policy: TokenPolicy, store: &Arc<MemoryTokenStore>) -> (Client, Client) {
    let make = || {
        builder(fake)
            .token_policy(policy)
            .token_store(store.clone())
            .build()
            .unwrap()
    };
    (make(), make())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_slower_than_the_lease_keeps_the_lease() {
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(1500));
    let store = Arc::new(MemoryTokenStore::new());
    let policy = TokenPolicy::default()
        .lease_ttl(Duration::from_millis(300))
        .poll_interval(Duration::from_millis(20));
    let (a, b) = pair(&fake, policy, &store);
    let first = {
        let a = a.clone();
        tokio::spawn(async move { a.execute(Ping::default()).await })
    };
    // Well past the lease's TTL, while the first instance is still fetching.
    tokio::time::sleep(Duration::from_millis(700)).await;
    b.execute(Ping::default()).await.unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(
        fake.gettoken_calls(),
        1,
        "the second instance waited for the first one's fetch"
    );
    assert_eq!(
        a.access_token().await.unwrap(),
        b.access_token().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_outlasts_a_short_lease_wait_while_the_holder_is_alive() {
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(1500));
    let store = Arc::new(MemoryTokenStore::new());
    // lease_wait < lease_ttl < the fetch: the shape, scaled down.
    let policy = TokenPolicy::default()
        .lease_wait(Duration::from_millis(200))
        .lease_ttl(Duration::from_millis(500))
        .poll_interval(Duration::from_millis(20));
    let (a, b) = pair(&fake, policy, &store);
    let first = {
        let a = a.clone();
        tokio::spawn(async move { a.execute(Ping::default()).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    b.execute(Ping::default()).await.unwrap();
    first.await.unwrap().unwrap();
    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test]
async fn a_wrong_secret_cools_down_every_instance_sharing_the_store() {
    let fake = Fake::start().await;
    let store = Arc::new(MemoryTokenStore::new());
    let clock = ManualClock::new();
    let make = || {
        Client::builder(CORPID)
            .app(1000002, "wrong-secret-ZZZZ-9876543210")
            .base_url(fake.base_url())
            .clock(clock.clone())
            .token_store(store.clone())
            .build()
            .unwrap()
    };
    let a = make();
    let e = a.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(40001));
    // Another worker, and one started after the failure (a restart), do not try again.
    for c in [make(), make()] {
        let e = c.execute(Ping::default()).await.unwrap_err();
        let Error::CoolDown(cd) = &e else {
            panic!("expected a cool-down, got {e:?}")
        };
        assert_eq!(e.errcode(), Some(40001), "{e}");
        assert!(cd.remaining > Duration::from_secs(500), "{e}");
        assert!(
            e.to_string().contains("secret (corpsecret) is invalid"),
            "{e}"
        );
    }
    assert_eq!(fake.gettoken_calls(), 1, "one gettoken across instances");
    clock.advance(Duration::from_secs(601));
    let e = make().execute(Ping::default()).await.unwrap_err();
    assert!(matches!(e, Error::Api(_)), "{e:?}");
    assert_eq!(fake.gettoken_calls(), 2, "tried again after the cool-down");
}

#[tokio::test]
async fn expires_in_zero_does_not_make_every_call_fetch() {
    let fake = Fake::start().await;
    fake.state
        .expires_in
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let client = builder(&fake).build().unwrap();
    for _ in 0..10 {
        client.execute(Ping::default()).await.unwrap();
    }
    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test]
async fn a_huge_expires_in_is_capped() {
    let fake = Fake::start().await;
    fake.state
        .expires_in
        .store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 1);
    let expiry = client.cached_token_expiry().expect("cached");
    let lifetime = expiry
        .duration_since(wecom_core_auth::clock::Clock::now(&clock))
        .unwrap();
    assert!(lifetime <= Duration::from_secs(86_400), "{lifetime:?}");
    clock.advance(Duration::from_secs(86_401));
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 2, "refreshed within a day");
}
