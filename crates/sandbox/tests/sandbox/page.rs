//! The web page, in a real headless browser.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::common::{client, demo};

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
async fn page_shows_directory_scope_and_inbox() {
    let sb = demo().await;
    let admin = sb.admin();
    let image = admin.state().store_media(
        "image",
        bytes::Bytes::from_static(PNG),
        "image/png",
        "dot.png",
        false,
    );
    // The first message goes through the wire, as a client sends it.
    let c = client();
    let creds = sb.credentials();
    let secret = creds.app(1000002).expect("app").secret.expose().to_owned();
    let tok = c
        .get(format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={secret}",
            sb.base_url(),
            creds.corpid
        ))
        .send()
        .await
        .expect("sent")
        .json::<serde_json::Value>()
        .await
        .expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let sent: serde_json::Value = c
        .post(format!("{}/cgi-bin/message/send?access_token={tok}", sb.base_url()))
        .body(json!({"touser": "lina", "msgtype": "text", "agentid": 1000002, "text": {"content": "明天上午十点开会 <script>alert(1)</script>"}}).to_string())
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(sent["errcode"], 0, "{sent}");
    assert_eq!(
        admin.inbox("lina")[0].msgid,
        sent["msgid"].as_str().expect("msgid")
    );
    admin
        .deliver(1000002, "lina", json!({"msgtype": "markdown", "markdown": {"content": "**周报** 已提交 <font color=\"info\">完成</font>"}}))
        .expect("delivered");
    admin
        .deliver(
            1000003,
            "lina",
            json!({"msgtype": "textcard", "textcard": {"title": "报销单已通过", "description": "金额 120 元", "url": "https://example.com/x", "btntxt": "查看"}}),
        )
        .expect("delivered");
    admin
        .deliver(
            1000002,
            "lina",
            json!({"msgtype": "template_card", "template_card": {"card_type": "button_interaction", "main_title": {"title": "审批请求", "desc": "请假 3 天"}, "task_id": "t1", "button_list": [{"text": "同意", "key": "ok"}, {"text": "驳回", "key": "no"}]}}),
        )
        .expect("delivered");
    admin
        .deliver(
            1000002,
            "lina",
            json!({"msgtype": "image", "image": {"media_id": image}}),
        )
        .expect("delivered");

    // The HTML itself (no browser needed).
    let html = client()
        .get(format!("{}/", sb.base_url()))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("研发部") && html.contains("李娜") && html.contains("研发周报"),
        "directory and apps"
    );
    assert!(
        html.contains("明天上午十点开会 &lt;script&gt;"),
        "text escaped"
    );
    assert!(!html.contains("<script>"), "no script at all");
    assert!(
        html.contains("<b>周报</b>") && html.contains("c-info"),
        "markdown rendered"
    );
    assert!(
        html.contains("报销单已通过") && html.contains("驳回"),
        "cards rendered"
    );
    assert!(
        html.contains(&format!("/sandbox/media/{image}")),
        "image from the media store"
    );

    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED the headless-browser part: chromium is not installed (apt-get install chromium)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let shot = dir.path().join("page.png");
    let url = format!("{}/", sb.base_url());
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
        "--hide-scrollbars".into(),
        "--window-size=1280,1600".into(),
        format!("--user-data-dir={}", profile.display()),
        format!("--screenshot={}", shot.display()),
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
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains("明天上午十点开会"),
        "the DOM has the message: {}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains("报销单已通过"));
    assert!(dom.contains("inbox-lina"));
    assert_png(&shot);
    if let Ok(keep) = std::env::var("SANDBOX_SCREENSHOT") {
        let _ = std::fs::copy(&shot, keep);
    }
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).expect("screenshot written");
    assert!(bytes.len() > 1000, "screenshot is {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
}

#[tokio::test]
async fn page_forms_push_callbacks_and_report() {
    let sb = demo().await;
    // No callback configured: the page says so instead of failing.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = |path: &str| {
        c.post(format!("{}{path}", sb.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
    };
    // A form POST from another site (or with no Origin or Referer) is refused.
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let mut req = form("/sandbox/ui/send").body("agentid=1000002&userid=lina&content=x");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.expect("sent");
        assert_eq!(r.status().as_u16(), 403, "{origin:?}");
    }
    // The page's own form, as a browser sends it.
    let r = form("/sandbox/ui/send")
        .header("origin", sb.base_url())
        .body("agentid=1000002&userid=lina&content=%E4%BD%A0%E5%A5%BD")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 303);
    let loc = r.headers()["location"].to_str().expect("ascii").to_owned();
    let page = client()
        .get(format!("{}{loc}", sb.base_url()))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(page.contains("id=\"notice\""), "notice shown");
    assert!(
        page.contains("没有推送"),
        "explains that nothing was pushed"
    );
    let r = form("/sandbox/ui/click")
        .header("referer", format!("{}/", sb.base_url()))
        .body("agentid=1000003&userid=huangli&key=WEEKLY_THIS")
        .send()
        .await
        .expect("sent");
    let loc = r.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(loc.contains("60011"), "member outside the scope: {loc}");
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
