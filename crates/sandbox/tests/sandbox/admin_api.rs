//! The admin API under /sandbox/ and the in-process Admin handle.

use serde_json::json;
use wecom_sandbox::{Fault, RateLimits, Sandbox, TokenTarget};

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
    // The corp as TOML and JSON: the directory as it is, every secret masked.
    let creds = sb.credentials();
    let app_secret = creds.apps[0].secret.expose().to_owned();
    let contact_secret = creds.contact_secret.expose().to_owned();
    let robot_key = wecom_sandbox::corp::DEMO_ROBOT_KEY;
    for url in [
        format!("{base}/sandbox/corp?format=toml"),
        format!("{base}/sandbox/corp"),
    ] {
        let text = c
            .get(&url)
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text");
        assert!(text.contains("lina"), "{url}: the directory is shown");
        for secret in [&app_secret, &contact_secret, &robot_key.to_owned()] {
            assert!(
                !text.contains(secret.as_str()),
                "{url} shows a secret: {text}"
            );
        }
        assert!(
            text.contains(&format!("{}***", &app_secret[..3])),
            "{url}: masked"
        );
    }
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
            .header("content-type", "application/json")
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

/// Cross-site requests: a web page's `text/plain` or form POST, another Origin, a rebound Host.
#[tokio::test]
async fn admin_api_refuses_other_sites_and_non_json_posts() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let advance = format!("{base}/sandbox/time/advance");
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = c
            .post(&advance)
            .header("content-type", ct)
            .body(r#"{"seconds": 7200}"#)
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status().as_u16(), 415, "{ct}");
        let v: serde_json::Value = r.json().await.expect("JSON error");
        assert!(
            v["errmsg"]
                .as_str()
                .unwrap_or("")
                .contains("application/json"),
            "{v}"
        );
    }
    let r = c
        .post(&advance)
        .body(r#"{"seconds": 7200}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 415, "no content type");
    let r = c
        .post(&advance)
        .header("content-type", "application/json")
        .header("origin", "https://evil.example")
        .body(r#"{"seconds": 7200}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 403, "another web origin");
    let r = c
        .get(format!("{base}/sandbox/corp"))
        .header("host", "rebound.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 403, "a DNS-rebound host name");
    let r = c
        .get(format!("{base}/"))
        .header("host", "rebound.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 403, "the page too");
    assert_eq!(sb.admin().state().clock().offset_secs(), 0, "nothing moved");
    // WeCom's own API is not gated: clients reach the sandbox under any name.
    let r = c
        .get(format!("{base}/cgi-bin/gettoken?corpid=x&corpsecret=y"))
        .header("host", "qyapi.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);

    // Same-site JSON with a local Origin works; so does a configured host name.
    let r = c
        .post(&advance)
        .header("content-type", "application/json; charset=utf-8")
        .header("origin", base)
        .body(r#"{"seconds": 60}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);
    let named = Sandbox::builder()
        .admin_hosts(["sandbox.test"])
        .start()
        .await
        .expect("starts");
    let r = c
        .get(format!("{}/sandbox/state", named.base_url()))
        .header("host", "sandbox.test:8080")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200, "an allowed name");
}

/// A writer collecting log output in memory.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn listening_beyond_loopback_warns() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let text =
        || String::from_utf8_lossy(&logs.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned();

    let local = Sandbox::start().await.expect("starts");
    assert!(!text().contains("beyond loopback"), "{}", text());
    drop(local);
    let wide = Sandbox::builder()
        .bind("0.0.0.0:0".parse().expect("address"))
        .start()
        .await
        .expect("starts");
    let logged = text();
    assert!(
        logged.contains("WARN")
            && logged.contains("beyond loopback")
            && logged.contains("admin_hosts"),
        "{logged}"
    );
    drop(wide);
}
