//! Shared helpers.

use serde_json::Value;
use wecom_sandbox::Sandbox;

/// A plain HTTP client for loopback.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client builds")
}

/// Starts the demo sandbox.
pub async fn demo() -> Sandbox {
    Sandbox::start().await.expect("sandbox starts")
}

/// GET a URL and parse the JSON answer, asserting the HTTP status.
pub async fn get_json(c: &reqwest::Client, url: &str, status: u16) -> Value {
    let r = c.get(url).send().await.expect("request sent");
    assert_eq!(r.status().as_u16(), status, "status of GET {url}");
    r.json().await.expect("JSON body")
}

/// POST a JSON body and parse the JSON answer, asserting the HTTP status.
pub async fn post_json(
    c: &reqwest::Client,
    url: &str,
    body: impl Into<reqwest::Body>,
    status: u16,
) -> Value {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent");
    assert_eq!(r.status().as_u16(), status, "status of POST {url}");
    r.json().await.expect("JSON body")
}

/// The errcode of an answer.
pub fn errcode(v: &Value) -> i64 {
    v["errcode"]
        .as_i64()
        .unwrap_or_else(|| panic!("no errcode in {v}"))
}
