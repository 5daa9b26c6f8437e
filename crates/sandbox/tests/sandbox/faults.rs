//! Injected faults and rate limits, seen from a client.

use std::time::{Duration, Instant};

use wecom_sandbox::{Fault, FaultAction, RateLimits};

use crate::common::{client, demo, errcode, get_json};

async fn token(c: &reqwest::Client, sb: &wecom_sandbox::Sandbox) -> String {
    let creds = sb.credentials();
    let secret = creds.app(1000002).expect("app").secret.expose().to_owned();
    let v = get_json(
        c,
        &format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={secret}",
            sb.base_url(),
            creds.corpid
        ),
        200,
    )
    .await;
    v["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn errcodes_for_the_next_n_calls() {
    let sb = demo().await;
    let c = client();
    let tok = token(&c, &sb).await;
    let url = format!("{}/cgi-bin/getcallbackip?access_token={tok}", sb.base_url());
    sb.admin()
        .add_fault(Fault::errcode("getcallbackip", -1).times(2));
    assert_eq!(errcode(&get_json(&c, &url, 200).await), -1);
    assert_eq!(errcode(&get_json(&c, &url, 200).await), -1);
    assert_eq!(
        errcode(&get_json(&c, &url, 200).await),
        0,
        "only the next 2 calls"
    );
    sb.admin()
        .add_fault(Fault::errcode("getcallbackip", 60020).times(1));
    let v = get_json(&c, &url, 200).await;
    assert_eq!(errcode(&v), 60020);
    let msg = v["errmsg"].as_str().expect("errmsg");
    assert!(
        msg.starts_with("not allow to access from your ip") && msg.contains("from ip: 127.0.0.1"),
        "{msg}"
    );
    // By path and for every endpoint.
    sb.admin().add_fault(
        Fault::new(
            "*",
            FaultAction::Errcode {
                errcode: 45009,
                errmsg: Some("busy".into()),
            },
        )
        .times(1),
    );
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 45009);
    sb.admin()
        .add_fault(Fault::errcode("gettoken", 45033).probability(0.0));
    assert!(
        !token(&c, &sb).await.is_empty(),
        "probability 0 never fires"
    );
    sb.admin()
        .add_fault(Fault::errcode("getcallbackip", 6000).probability(1.0));
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 6000);
    assert_eq!(sb.admin().clear_faults(Some("getcallbackip")), 1);
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 0);
    assert_eq!(
        sb.admin().count("getcallbackip"),
        7,
        "faulted calls are counted too"
    );
}

#[tokio::test]
async fn http_errors_delays_and_dropped_connections() {
    let sb = demo().await;
    let c = client();
    let tok = token(&c, &sb).await;
    let url = format!("{}/cgi-bin/getcallbackip?access_token={tok}", sb.base_url());
    sb.admin()
        .add_fault(Fault::http("getcallbackip", 503).times(1));
    let r = c.get(&url).send().await.expect("answered");
    assert_eq!(r.status().as_u16(), 503);

    sb.admin()
        .add_fault(Fault::delay("getcallbackip", 300).times(1));
    let t = Instant::now();
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 0);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "the answer came after the delay"
    );

    sb.admin()
        .add_fault(Fault::drop_connection("getcallbackip").times(1));
    let e = c
        .get(&url)
        .send()
        .await
        .expect_err("the connection is closed without an answer");
    assert!(e.is_request() || e.is_connect() || e.is_body(), "{e:?}");
    assert_eq!(
        errcode(&get_json(&c, &url, 200).await),
        0,
        "the next call is served"
    );
}

#[tokio::test]
async fn per_api_rate_limit_answers_45009_until_the_window_ends() {
    let sb = demo().await;
    let c = client();
    let tok = token(&c, &sb).await;
    let url = format!("{}/cgi-bin/getcallbackip?access_token={tok}", sb.base_url());
    sb.admin().set_rate_limits(RateLimits {
        enabled: true,
        per_api_per_minute: 3,
        ..RateLimits::default()
    });
    // Align to the start of a sandbox minute so the window does not roll mid-test.
    let now = sb.admin().state().now_secs();
    sb.admin().advance_time(60 - now.rem_euclid(60));
    for _ in 0..3 {
        assert_eq!(errcode(&get_json(&c, &url, 200).await), 0);
    }
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 45009);
    sb.admin().advance_time(60);
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 0, "a new minute");
}

#[tokio::test]
async fn member_rate_limit_drops_silently() {
    let sb = demo().await;
    sb.admin().set_rate_limits(RateLimits {
        enabled: true,
        ..RateLimits::default()
    });
    let now = sb.admin().state().now_secs();
    sb.admin().advance_time(60 - now.rem_euclid(60));
    let state = sb.admin().state().clone();
    let delivered = (0..35)
        .filter(|i| {
            state.deliver(
                1000002,
                "lina",
                &format!("m{i}"),
                "text",
                serde_json::json!({}),
            )
        })
        .count();
    assert_eq!(delivered, 30);
    assert_eq!(sb.admin().inbox("lina").len(), 30);
    assert!(
        state.deliver(1000003, "lina", "other-app", "text", serde_json::json!({})),
        "per app"
    );
}
