//! The admin API under /sandbox/ and the in-process Admin handle.

use serde_json::json;
use wecom_sandbox::{Corp, Fault, RateLimits, TokenTarget};

use crate::common::{client, demo, errcode, get_json, post_json};

#[tokio::test]
async fn state_counters_and_corp() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let state = get_json(&c, &format!("{base}/sandbox/state"), 200).await;
    assert_eq!(state["corpid"], "ww5a9c0de1b2f34a01");
    assert_eq!(state["members"], 10);
    assert_eq!(
        state["counters"][0]["endpoint"], "gettoken",
        "gettoken is listed first"
    );
    let counters = get_json(&c, &format!("{base}/sandbox/counters"), 200).await;
    assert_eq!(counters["counters"][0]["calls"], 0);
    // The corp as TOML loads back into the same corp.
    let toml = c
        .get(format!("{base}/sandbox/corp?format=toml"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert_eq!(
        Corp::from_toml_str(&toml).expect("valid TOML corp"),
        sb.admin().corp()
    );
    let json = c
        .get(format!("{base}/sandbox/corp"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert_eq!(
        Corp::from_json_str(&json).expect("valid JSON corp"),
        sb.admin().corp()
    );
}

#[tokio::test]
async fn time_faults_limits_over_http() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let before = sb.admin().state().now_secs();
    let r = post_json(
        &c,
        &format!("{base}/sandbox/time/advance"),
        r#"{"seconds": 7200}"#,
        200,
    )
    .await;
    assert!(r["now"].as_i64().expect("now") >= before + 7200);
    assert_eq!(r["offset"], 7200);

    let f = post_json(
        &c,
        &format!("{base}/sandbox/faults"),
        r#"{"endpoint":"gettoken","kind":"errcode","errcode":60020,"times":2}"#,
        200,
    )
    .await;
    assert_eq!(f["faults"][0]["errcode"], 60020);
    assert_eq!(
        sb.admin().faults(),
        vec![Fault::errcode("gettoken", 60020).times(2)]
    );
    let r = post_json(&c, &format!("{base}/sandbox/faults/clear"), "", 200).await;
    assert_eq!(r["removed"], 1);
    assert!(sb.admin().faults().is_empty());

    post_json(
        &c,
        &format!("{base}/sandbox/rate-limits"),
        r#"{"enabled": true, "per_api_per_minute": 5}"#,
        200,
    )
    .await;
    let state = get_json(&c, &format!("{base}/sandbox/state"), 200).await;
    assert_eq!(state["rate_limits"]["enabled"], true);
    assert_eq!(state["rate_limits"]["per_api_per_minute"], 5);
    assert_eq!(
        state["rate_limits"]["per_member_per_minute"], 30,
        "unnamed limits keep WeCom's defaults"
    );
    sb.admin().set_rate_limits(RateLimits::default());

    let r = post_json(
        &c,
        &format!("{base}/sandbox/tokens/revoke"),
        r#"{"target": "all"}"#,
        200,
    )
    .await;
    assert_eq!(r["revoked"], 0, "no token issued yet");
    assert_eq!(sb.admin().revoke_tokens(TokenTarget::App(1000002)), 0);
}

#[tokio::test]
async fn inbox_and_media_over_http() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let msgid = sb
        .admin()
        .deliver(
            1000002,
            "LiNa",
            json!({"msgtype": "text", "text": {"content": "你好"}}),
        )
        .expect("lina exists");
    let inbox = get_json(&c, &format!("{base}/sandbox/inbox/lina"), 200).await;
    assert_eq!(inbox["messages"][0]["msgid"], msgid.as_str());
    assert_eq!(inbox["messages"][0]["message"]["text"]["content"], "你好");
    assert_eq!(inbox["messages"][0]["userid"], "lina");
    assert!(sb.admin().deliver(1000002, "ghost", json!({})).is_err());

    let id = sb.admin().state().store_media(
        "image",
        bytes::Bytes::from_static(b"\x89PNG...."),
        "image/png",
        "a.png",
        false,
    );
    let r = c
        .get(format!("{base}/sandbox/media/{id}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(&r.bytes().await.expect("bytes")[..], b"\x89PNG....");
    let list = get_json(&c, &format!("{base}/sandbox/media"), 200).await;
    assert_eq!(list["media"][0]["filename"], "a.png");
    // Temporary media expire after 3 days.
    sb.admin().advance_time(3 * 24 * 3600);
    let gone = get_json(&c, &format!("{base}/sandbox/media/{id}"), 404).await;
    assert_eq!(errcode(&gone), 40007);
}

#[tokio::test]
async fn admin_errors_are_json_never_500() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    for (path, body) in [
        ("/sandbox/faults", "{not json"),
        ("/sandbox/faults", r#"{"endpoint":"x","kind":"volcano"}"#),
        ("/sandbox/time/advance", r#"{"seconds":"soon"}"#),
        (
            "/sandbox/directory",
            r#"{"op":"delete_member","userid":"ghost"}"#,
        ),
        (
            "/sandbox/members/ghost/send",
            r#"{"agentid":1000002,"content":"hi"}"#,
        ),
        (
            "/sandbox/members/lina/click",
            r#"{"agentid":1000002,"key":"NO_SUCH_KEY"}"#,
        ),
        ("/sandbox/oauth/code", r#"{"agentid":1,"userid":"lina"}"#),
    ] {
        let r = c
            .post(format!("{base}{path}"))
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status().as_u16(), 400, "{path} {body}");
        let v: serde_json::Value = r.json().await.expect("JSON error");
        assert!(errcode(&v) != 0, "{v}");
    }
    let r = post_json(
        &c,
        &format!("{base}/sandbox/directory"),
        r#"{"op":"delete_member","userid":"ghost"}"#,
        400,
    )
    .await;
    assert_eq!(errcode(&r), 60111);
}

#[tokio::test]
async fn huge_time_advance_saturates() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    for _ in 0..2 {
        let r = post_json(
            &c,
            &format!("{base}/sandbox/time/advance"),
            format!(r#"{{"seconds": {}}}"#, i64::MAX),
            200,
        )
        .await;
        assert_eq!(r["now"], i64::MAX / 1000, "{r}");
    }
    // The sandbox still answers calls afterwards.
    let state = get_json(&c, &format!("{base}/sandbox/state"), 200).await;
    assert_eq!(state["now"], i64::MAX / 1000);
}
