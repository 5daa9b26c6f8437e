//! Single flight: storms of concurrent callers cause one gettoken.

use std::time::Duration;

use crate::endpoints::{ContactPing, Ping};
use crate::server::{Fake, SECRET_CONTACT};
use crate::{builder, concurrently};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_on_a_cold_cache_cause_one_gettoken() {
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(50));
    let client = builder(&fake).build().unwrap();
    let results = concurrently(1000, |_| {
        let c = client.clone();
        async move { c.execute(Ping::default()).await }
    })
    .await;
    for r in &results {
        assert_eq!(r.as_ref().expect("every call succeeds").owner, "app1000002");
    }
    assert_eq!(fake.gettoken_calls(), 1);
    assert_eq!(fake.hits("ping"), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_mid_run_every_call_succeeds_with_one_refresh() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 1);

    // WeCom drops the token early: a wave of 1,000 calls all fail with 40014 on their first try.
    fake.revoke_all_tokens();
    fake.set_gettoken_delay(Duration::from_millis(30));
    let results = concurrently(1000, |_| {
        let c = client.clone();
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
    assert_eq!(
        fake.gettoken_calls(),
        2,
        "one initial fetch and exactly one refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_app_and_the_contact_secret_have_their_own_token() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .build()
        .unwrap();
    let b = client.agent(1000003).unwrap();
    let results = concurrently(300, |i| {
        let (a, b) = (client.clone(), b.clone());
        async move {
            match i % 3 {
                0 => a.execute(Ping::default()).await,
                1 => b.execute(Ping::default()).await,
                _ => a.execute(ContactPing::default()).await,
            }
        }
    })
    .await;
    for (i, r) in results.iter().enumerate() {
        let owner = &r.as_ref().unwrap().owner;
        let expected = ["app1000002", "app1000003", "contact"][i % 3];
        assert_eq!(owner, expected, "call {i} used the wrong token");
    }
    assert_eq!(fake.gettoken_calls_for("app1000002"), 1);
    assert_eq!(fake.gettoken_calls_for("app1000003"), 1);
    assert_eq!(fake.gettoken_calls_for("contact"), 1);
    assert_eq!(fake.gettoken_calls(), 3);
}
