//! A wrong secret or corpid: a clear error, no retry storm, a local cool-down.

use std::time::Duration;

use wecom_core_auth::clock::ManualClock;
use wecom_core_auth::{Client, Error, ErrorClass, TokenPolicy};

use crate::endpoints::Ping;
use crate::server::{CORPID, Fake, Fault};
use crate::{builder, concurrently};

fn wrong_secret_client(fake: &Fake, clock: &ManualClock) -> Client {
    Client::builder(CORPID)
        .app(1000002, "wrong-secret-ZZZZ-9876543210")
        .base_url(fake.base_url())
        .clock(clock.clone())
        .token_policy(TokenPolicy::default().bad_secret_cool_down(Duration::from_secs(600)))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_locally_during_the_cool_down() {
    let fake = Fake::start().await;
    fake.set_gettoken_delay(Duration::from_millis(30));
    let clock = ManualClock::new();
    let client = wrong_secret_client(&fake, &clock);

    let results = concurrently(200, |_| {
        let c = client.clone();
        async move { c.execute(Ping::default()).await }
    })
    .await;
    assert_eq!(
        fake.gettoken_calls(),
        1,
        "200 concurrent callers, one gettoken"
    );
    assert_eq!(fake.hits("ping"), 0);
    let mut api_errors = 0;
    for r in results {
        let e = r.unwrap_err();
        assert_eq!(e.errcode(), Some(40001), "{e}");
        assert_eq!(e.class(), ErrorClass::Token);
        assert!(!e.is_retryable());
        match &e {
            Error::Api(api) => {
                api_errors += 1;
                assert_eq!(api.endpoint, "gettoken");
                assert_eq!(api.from_ip(), Some("127.0.0.1".parse().unwrap()));
                let text = e.to_string();
                assert!(
                    text.contains("40001")
                        && text.contains("secret (corpsecret) is invalid")
                        && text.contains("from ip: 127.0.0.1"),
                    "{text}"
                );
            }
            Error::CoolDown(c) => {
                assert!(matches!(&*c.cause, Error::Api(a) if a.code().code() == 40001));
                assert!(c.remaining > Duration::from_secs(500));
            }
            other => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(
        api_errors, 1,
        "the caller that fetched sees WeCom's error; the rest see the cool-down carrying it"
    );

    // Repeated calls do not reach gettoken during the cool-down.
    for _ in 0..20 {
        let e = client.execute(Ping::default()).await.unwrap_err();
        let Error::CoolDown(c) = &e else {
            panic!("expected a cool-down, got {e:?}")
        };
        let text = e.to_string();
        assert!(
            text.contains("refusing to call gettoken for app 1000002")
                && text.contains("40001")
                && text.contains("token_policy"),
            "{text}"
        );
        assert!(c.remaining <= Duration::from_secs(600));
    }
    assert_eq!(fake.gettoken_calls(), 1);

    // After the cool-down, one new attempt.
    clock.advance(Duration::from_secs(601));
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert!(matches!(e, Error::Api(_)), "{e:?}");
    assert_eq!(fake.gettoken_calls(), 2);
}

#[tokio::test]
async fn a_wrong_corpid_cools_down_too() {
    let fake = Fake::start().await;
    let client = Client::builder("wwWRONG")
        .app(1000002, crate::server::SECRET_A)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(40013));
    assert!(e.to_string().contains("corpid"), "{e}");
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert!(matches!(e, Error::CoolDown(_)), "{e:?}");
    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test]
async fn a_rate_limited_gettoken_is_not_retried_and_cools_down() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake).clock(clock.clone()).build().unwrap();
    fake.fail_next("gettoken", [Fault::Errcode(45009, "api freq out of limit")]);
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::RateLimit);
    assert_eq!(fake.gettoken_calls(), 1, "a rate limit is never retried");
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert!(matches!(e, Error::CoolDown(_)), "{e:?}");
    assert_eq!(e.class(), ErrorClass::RateLimit);
    assert_eq!(fake.gettoken_calls(), 1);
    clock.advance(Duration::from_secs(61));
    client
        .execute(Ping::default())
        .await
        .expect("after the window the fetch is tried again");
    assert_eq!(fake.gettoken_calls(), 2);
}

#[tokio::test]
async fn a_transient_gettoken_failure_does_not_cool_down() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .retry_policy(wecom_core_auth::RetryPolicy::none())
        .build()
        .unwrap();
    fake.fail_next("gettoken", [Fault::Errcode(-1, "system busy")]);
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(-1));
    client
        .execute(Ping::default())
        .await
        .expect("the next call fetches again at once");
    assert_eq!(fake.gettoken_calls(), 2);
}
