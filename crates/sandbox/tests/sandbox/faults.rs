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

/// Faults after handling: the message is delivered, and the answer is lost, late or replaced.
#[tokio::test]
async fn faults_after_handling_do_the_work_and_lose_the_answer() {
    let sb = demo().await;
    let c = client();
    let tok = token(&c, &sb).await;
    let url = format!("{}/cgi-bin/message/send?access_token={tok}", sb.base_url());
    let send = |text: &str| {
        c.post(&url).body(
            serde_json::json!({"touser": "lina", "msgtype": "text", "agentid": 1000002, "text": {"content": text}})
                .to_string(),
        )
    };
    let texts = || -> Vec<String> {
        sb.admin()
            .inbox("lina")
            .iter()
            .map(|m| {
                m.message["text"]["content"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };

    sb.admin().add_fault(
        Fault::drop_connection("message_send")
            .after_handling()
            .times(1),
    );
    let e = send("dropped").send().await.expect_err("no answer");
    assert!(e.is_request() || e.is_body(), "{e:?}");
    assert_eq!(
        texts(),
        ["dropped"],
        "delivered although the answer was lost"
    );

    sb.admin()
        .add_fault(Fault::http("message/send", 502).after_handling().times(1));
    let r = send("bad gateway").send().await.expect("answered");
    assert_eq!(r.status().as_u16(), 502);
    assert_eq!(texts(), ["dropped", "bad gateway"]);

    sb.admin()
        .add_fault(Fault::errcode("message_send", -1).after_handling().times(1));
    let v: serde_json::Value = send("busy")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(errcode(&v), -1);
    assert_eq!(texts(), ["dropped", "bad gateway", "busy"]);

    // Later than the client waits (over the admin API's JSON form).
    let f = crate::common::post_json(
        &c,
        &format!("{}/sandbox/faults", sb.base_url()),
        r#"{"endpoint":"message_send","kind":"delay","ms":2000,"when":"after","times":1}"#,
        200,
    )
    .await;
    assert_eq!(f["faults"][0]["when"], "after");
    let e = send("late")
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .expect_err("the client gave up");
    assert!(e.is_timeout(), "{e:?}");
    // The handler may still be running on a busy machine: wait for it (bounded, not timed).
    for _ in 0..200 {
        if texts().len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        texts(),
        ["dropped", "bad gateway", "busy", "late"],
        "handled before the delay: delivered although the client timed out"
    );
    assert_eq!(sb.admin().count("message_send"), 4);
    assert!(sb.admin().faults().is_empty());
}
