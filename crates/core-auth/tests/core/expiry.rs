//! Expiry against an injected clock: soft window, hard margin, failed early refresh. No sleeping.

use std::collections::HashSet;
use std::time::Duration;

use wecom_core_auth::clock::ManualClock;
use wecom_core_auth::{RetryPolicy, TokenPolicy};

use crate::endpoints::Ping;
use crate::server::{Fake, Fault};
use crate::{builder, concurrently};

/// Soft window starts 600 s before the hard margin (no jitter), hard margin 180 s:
/// with expires_in 7200, soft at 6420 s, hard at 7020 s.
fn policy() -> TokenPolicy {
    TokenPolicy::default()
        .soft_window(Duration::from_secs(600))
        .soft_jitter(Duration::ZERO)
        .hard_margin(Duration::from_secs(180))
}

fn tokens_used(fake: &Fake) -> Vec<String> {
    fake.seen()
        .into_iter()
        .filter(|s| s.path == "ping")
        .filter_map(|s| s.query.get("access_token").cloned())
        .collect()
}

#[tokio::test]
async fn an_expired_token_is_refetched_without_waiting_for_real_time() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(policy())
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    clock.advance(Duration::from_secs(3600));
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 1, "still fresh after an hour");
    assert!(client.cached_token_expiry().is_some());
    clock.advance(Duration::from_secs(3700));
    assert!(
        client.cached_token_expiry().is_none(),
        "expired by the clock"
    );
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 2);
    let used = tokens_used(&fake);
    assert_ne!(used[0], used[2], "the call after expiry used the new token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_soft_window_one_caller_refreshes_while_the_others_keep_the_valid_token() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(policy())
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    let first = tokens_used(&fake)[0].clone();

    clock.advance(Duration::from_secs(6500)); // inside the soft window, before the hard margin
    fake.set_gettoken_delay(Duration::from_millis(500));
    let results = concurrently(200, |_| {
        let c = client.clone();
        async move { c.execute(Ping::default()).await }
    })
    .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fake.gettoken_calls(), 2, "exactly one early refresh");
    let used = tokens_used(&fake);
    let distinct: HashSet<_> = used.iter().collect();
    assert_eq!(distinct.len(), 2);
    let old_uses = used.iter().filter(|t| **t == first).count();
    assert!(
        old_uses > 100,
        "callers kept using the valid token while one refreshed ({old_uses} of 201)"
    );

    // After the refresh, the new token is fresh: no more fetches.
    fake.set_gettoken_delay(Duration::ZERO);
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 2);
    assert_ne!(tokens_used(&fake).last().unwrap(), &first);
}

#[tokio::test]
async fn a_failed_early_refresh_keeps_the_valid_token_and_backs_off() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(policy().early_retry_interval(Duration::from_secs(30)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    let first = tokens_used(&fake)[0].clone();

    clock.advance(Duration::from_secs(6500));
    fake.fail_next("gettoken", [Fault::Errcode(-1, "system busy")]);
    client
        .execute(Ping::default())
        .await
        .expect("the call succeeds with the still-valid token");
    assert_eq!(fake.gettoken_calls(), 2, "one early refresh was tried");
    for _ in 0..5 {
        client.execute(Ping::default()).await.unwrap();
    }
    assert_eq!(
        fake.gettoken_calls(),
        2,
        "no new attempt within early_retry_interval"
    );
    assert!(tokens_used(&fake).iter().all(|t| *t == first));

    clock.advance(Duration::from_secs(31));
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(
        fake.gettoken_calls(),
        3,
        "tried again after the interval, and succeeded"
    );
    client.execute(Ping::default()).await.unwrap();
    assert_ne!(tokens_used(&fake).last().unwrap(), &first);
}

#[tokio::test]
async fn past_the_hard_margin_nobody_uses_the_old_token() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(policy())
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    let first = tokens_used(&fake)[0].clone();
    clock.advance(Duration::from_secs(7100)); // after hard (7020), before expiry (7200)
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 2);
    assert_ne!(
        tokens_used(&fake)[1],
        first,
        "the call waited for the new token"
    );
}

#[tokio::test]
async fn past_the_hard_margin_a_failed_refresh_is_an_error() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .token_policy(policy())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    clock.advance(Duration::from_secs(7100));
    fake.fail_next("gettoken", [Fault::Status(502)]);
    let err = client.execute(Ping::default()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(
        fake.hits("ping"),
        1,
        "the call was not sent with the old token"
    );
    client
        .execute(Ping::default())
        .await
        .expect("the next call fetches again");
}

#[tokio::test]
async fn short_lived_tokens_get_proportional_windows() {
    let fake = Fake::start().await;
    fake.state
        .expires_in
        .store(100, std::sync::atomic::Ordering::SeqCst);
    let clock = ManualClock::new();
    let client = builder(&fake).clock(clock.clone()).build().unwrap();
    client.execute(Ping::default()).await.unwrap();
    clock.advance(Duration::from_secs(50));
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(
        fake.gettoken_calls(),
        1,
        "half-way through a 100 s token it is still used"
    );
    clock.advance(Duration::from_secs(45));
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(
        fake.gettoken_calls(),
        2,
        "within the last tenth it is refreshed"
    );
}
