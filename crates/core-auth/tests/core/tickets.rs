//! JS-SDK tickets: cached like tokens, per app, single flight, refreshed on expiry.

use std::sync::atomic::Ordering;
use std::time::Duration;

use wecom_core_auth::clock::ManualClock;
use wecom_core_auth::jssdk::signature;

use crate::server::Fake;
use crate::{builder, concurrently};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_are_fetched_once_for_many_callers() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let tickets = concurrently(500, |_| {
        let c = client.clone();
        async move { c.jsapi_ticket().await }
    })
    .await;
    let first = tickets[0].as_ref().unwrap().clone();
    assert!(tickets.iter().all(|t| t.as_ref().unwrap() == &first));
    assert_eq!(fake.state.jsapi_ticket_calls.load(Ordering::SeqCst), 1);
    assert_eq!(fake.gettoken_calls(), 1);

    // agent_config tickets are per app.
    let a = client.agent_config_ticket().await.unwrap();
    let b = client
        .agent(1000003)
        .unwrap()
        .agent_config_ticket()
        .await
        .unwrap();
    assert_ne!(a, b);
    assert!(a.expose().contains("app1000002") && b.expose().contains("app1000003"));
    client.agent_config_ticket().await.unwrap();
    assert_eq!(fake.state.agent_ticket_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn tickets_expire_by_the_clock_and_survive_a_revoked_token() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let client = builder(&fake).clock(clock.clone()).build().unwrap();
    let t1 = client.jsapi_ticket().await.unwrap();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(client.jsapi_ticket().await.unwrap(), t1);
    // The token is revoked and the ticket expires: the ticket fetch is rejected with 40014,
    // the token refreshed, the fetch sent once more.
    fake.revoke_all_tokens();
    clock.advance(Duration::from_secs(3700));
    let t2 = client.jsapi_ticket().await.unwrap();
    assert_ne!(t1, t2);
    assert_eq!(fake.state.jsapi_ticket_calls.load(Ordering::SeqCst), 2);
    assert_eq!(fake.gettoken_calls(), 2);
}

#[tokio::test]
async fn wx_config_parameters_are_signed_with_the_cached_ticket() {
    let fake = Fake::start().await;
    let clock = ManualClock::at(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let client = builder(&fake).clock(clock).build().unwrap();
    let url = "https://app.example.com/page?x=1#section";
    let cfg = client
        .wx_config(url, &["chooseImage", "getLocation"])
        .await
        .unwrap();
    let ticket = client.jsapi_ticket().await.unwrap();
    assert_eq!(cfg.app_id, crate::server::CORPID);
    assert_eq!(cfg.timestamp, 1_700_000_000);
    assert_eq!(cfg.nonce_str.len(), 16);
    assert_eq!(
        cfg.signature,
        signature(
            ticket.expose(),
            &cfg.nonce_str,
            cfg.timestamp,
            "https://app.example.com/page?x=1"
        )
    );
    let json = serde_json::to_value(&cfg).unwrap();
    for key in [
        "appId",
        "timestamp",
        "nonceStr",
        "signature",
        "jsApiList",
        "beta",
        "debug",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }

    let agent = client
        .agent(1000003)
        .unwrap()
        .wx_agent_config(url, &["selectExternalContact"])
        .await
        .unwrap();
    let agent_ticket = client
        .agent(1000003)
        .unwrap()
        .agent_config_ticket()
        .await
        .unwrap();
    assert_eq!(agent.agentid, 1000003);
    assert_eq!(
        agent.signature,
        signature(
            agent_ticket.expose(),
            &agent.nonce_str,
            agent.timestamp,
            url
        )
    );
    let json = serde_json::to_value(&agent).unwrap();
    for key in [
        "corpid",
        "agentid",
        "timestamp",
        "nonceStr",
        "signature",
        "jsApiList",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
}
