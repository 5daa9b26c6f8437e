//! The API console (`/sandbox/console`) and the request log (`/sandbox/requests`): over HTTP,
//! and in a real headless browser (an endpoint picked, filled and sent from the page).

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{client, demo, get_json, post_json};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[tokio::test]
async fn the_request_log_records_cgi_calls_without_tokens() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let creds = sb.credentials();
    let tok = get_json(
        &c,
        &format!(
            "{base}/cgi-bin/gettoken?corpid={}&corpsecret={}",
            creds.corpid,
            creds.contact_secret.expose()
        ),
        200,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    get_json(
        &c,
        &format!("{base}/cgi-bin/user/get?userid=nosuch&access_token={tok}"),
        200,
    )
    .await;
    get_json(
        &c,
        &format!("{base}/cgi-bin/no/such/api?access_token={tok}"),
        200,
    )
    .await;

    let log = get_json(&c, &format!("{base}/sandbox/requests"), 200).await;
    let entries = log["requests"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{log}");
    assert_eq!(entries[0]["path"], "/cgi-bin/no/such/api");
    assert_eq!(entries[0]["errcode"], 48001);
    assert_eq!(entries[1]["endpoint"], "user_get");
    assert_eq!(entries[1]["method"], "GET");
    assert_eq!(entries[1]["errcode"], 60111);
    assert!(
        entries[1]["meaning"]
            .as_str()
            .unwrap()
            .contains("UserID does not exist"),
        "{log}"
    );
    assert_eq!(entries[2]["endpoint"], "gettoken");
    assert_eq!(entries[2]["errcode"], 0);
    let text = log.to_string();
    assert!(
        !text.contains(&tok) && !text.contains(creds.contact_secret.expose()),
        "{text}"
    );
    assert_eq!(sb.admin().requests().len(), 3);

    // The main page shows it too, still without any script.
    let page = c
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"requests\"") && page.contains("/cgi-bin/user/get"),
        "log on the page"
    );
    assert!(page.contains("href=\"/sandbox/console\""));
    assert!(!page.contains("<script"));
    assert!(!page.contains(&tok));
}

#[tokio::test]
async fn the_console_token_route_answers_only_the_gate_and_tokens_work() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let t = post_json(
        &c,
        &format!("{base}/sandbox/console/token"),
        json!({"credential": "contact"}).to_string(),
        200,
    )
    .await;
    let tok = t["access_token"].as_str().unwrap();
    let dept = get_json(
        &c,
        &format!("{base}/cgi-bin/department/list?access_token={tok}"),
        200,
    )
    .await;
    assert_eq!(dept["errcode"], 0, "{dept}");
    let bad = post_json(
        &c,
        &format!("{base}/sandbox/console/token"),
        json!({"credential": "app", "agentid": 42}).to_string(),
        400,
    )
    .await;
    assert!(bad["error"].as_str().unwrap().contains("42"), "{bad}");
    // Not JSON (what another web site's form could send): refused by the gate.
    let r = c
        .post(format!("{base}/sandbox/console/token"))
        .header("content-type", "text/plain")
        .body(r#"{"credential":"contact"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let m = get_json(&c, &format!("{base}/sandbox/errcode/60111"), 200).await;
    assert!(m["fix"].as_str().is_some_and(|f| !f.is_empty()), "{m}");
    let spec = get_json(&c, &format!("{base}/sandbox/openapi.json"), 200).await;
    assert!(spec["paths"]["/message/send"]["post"].is_object());
}

/// Runs the page in headless Chromium until its scripts settle, and returns the DOM.
async fn browse(url: String) -> Option<String> {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED the headless-browser part: chromium is not installed (apt-get install chromium)"
        );
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile");
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1280,1400".into(),
        // Lets the page's fetches and scripts finish before the DOM is dumped.
        "--virtual-time-budget=20000".into(),
        format!("--user-data-dir={}", profile.display()),
        "--dump-dom".into(),
        url,
    ];
    let browser = browser.to_owned();
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || Command::new(browser).args(args).output()),
    )
    .await
    .expect("chromium finished within 2 minutes")
    .expect("join")
    .expect("chromium ran");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sends_a_message_from_the_browser_and_shows_answer_meaning_and_log() {
    let sb = demo().await;
    let admin = sb.admin();
    let body = json!({"touser": "lina", "msgtype": "text", "agentid": 1000002, "text": {"content": "来自 API console 的消息"}});
    let url = format!(
        "{}/sandbox/console?{}",
        sb.base_url(),
        query(&[
            ("endpoint", "message_send"),
            ("agentid", "1000002"),
            ("body", &body.to_string()),
            ("send", "1")
        ])
    );
    let Some(dom) = browse(url).await else { return };
    assert!(
        dom.contains("data-sent=\"yes\""),
        "the page sent: {}",
        &dom[..dom.len().min(3000)]
    );
    assert!(dom.contains("errcode 0"), "{dom}");
    assert!(dom.contains("\"msgid\""), "the answer is shown: {dom}");
    assert!(
        dom.contains("access_token=***"),
        "the request is shown with the token masked"
    );
    let inbox = admin.inbox("lina");
    assert!(
        inbox
            .iter()
            .any(|m| m.message["text"]["content"] == "来自 API console 的消息"),
        "the member received it: {inbox:?}"
    );
    assert!(
        dom.contains("/cgi-bin/message/send"),
        "the log shows the call"
    );
    let requests = admin.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/cgi-bin/message/send" && r.errcode == Some(0)),
        "{requests:?}"
    );

    // A revoked token: the page gets a new one and sends once more; an errcode is explained.
    admin.revoke_tokens(wecom_sandbox::TokenTarget::Named(
        wecom_sandbox::admin::NamedTarget::All,
    ));
    let url = format!(
        "{}/sandbox/console?{}",
        sb.base_url(),
        query(&[
            ("endpoint", "user_get"),
            ("q.userid", "nosuch"),
            ("send", "1")
        ])
    );
    let Some(dom) = browse(url).await else { return };
    assert!(dom.contains("errcode 60111"), "{dom}");
    assert!(
        dom.contains("The UserID does not exist"),
        "the meaning is shown: {dom}"
    );
    let v: Value = serde_json::to_value(admin.requests()).unwrap();
    assert!(
        !v.to_string().contains("access_token"),
        "never a token in the log: {v}"
    );
}
