//! The seams: backoff and lease waits follow the injected clock when it is also the sleeper.

use std::sync::Arc;
use std::time::Duration;

use wecom_core_auth::clock::{Clock, ManualClock};
use wecom_core_auth::token::{AppRef, TokenKey, TokenKind, TokenStore};
use wecom_core_auth::{MemoryTokenStore, RetryPolicy, TokenPolicy};

use crate::builder;
use crate::endpoints::Ping;
use crate::server::{CORPID, Fake, Fault};

#[tokio::test]
async fn retry_backoff_follows_test_time() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake)
        .clock(clock.clone())
        .sleep(clock.clone())
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_secs(60))
                .max_backoff(Duration::from_secs(120)),
        )
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    let t0 = clock.now();
    fake.fail_next(
        "ping",
        [
            Fault::Errcode(-1, "system busy"),
            Fault::Errcode(-1, "system busy"),
        ],
    );
    client
        .execute(Ping::default())
        .await
        .expect("the third attempt succeeds");
    assert_eq!(fake.hits("ping"), 4);
    let waited = clock.now().duration_since(t0).unwrap();
    // Backoffs of 30..=60 s and 60..=120 s, in test time.
    assert!(
        waited >= Duration::from_secs(90) && waited <= Duration::from_secs(180),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_lease_wait_follows_test_time() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let store = Arc::new(MemoryTokenStore::new());
    // Another instance took the lease and went silent (its lease lasts an hour of real time).
    let key = TokenKey::new(TokenKind::AccessToken, CORPID, AppRef::Agent(1000002));
    assert!(
        store
            .try_lease(&key, Duration::from_secs(3600))
            .await
            .unwrap()
            .is_some()
    );
    let client = builder(&fake)
        .clock(clock.clone())
        .sleep(clock.clone())
        .token_store(store)
        .token_policy(TokenPolicy::default().lease_wait(Duration::from_secs(120)))
        .build()
        .unwrap();
    let t0 = clock.now();
    client
        .execute(Ping::default())
        .await
        .expect("after waiting in vain, the instance fetches itself");
    assert_eq!(fake.gettoken_calls(), 1);
    let waited = clock.now().duration_since(t0).unwrap();
    assert!(waited >= Duration::from_secs(120), "{waited:?}");
}
