//! The JS-SDK signature against the shared vector, and the OAuth2 authorize URL.

use wecom_core_auth::jssdk::{WxConfig, signature};
use wecom_core_auth::oauth::{AuthorizeUrl, OAuthScope};
use wecom_core_auth::{Client, Secret};

#[test]
fn jsapi_signature_matches_the_shared_vector() {
    let v = crate::vectors();
    let j = &v["jsapi_signature"];
    let (ticket, nonce, ts, url, expected) = (
        j["ticket"].as_str().unwrap(),
        j["noncestr"].as_str().unwrap(),
        j["timestamp"].as_str().unwrap().parse::<u64>().unwrap(),
        j["url"].as_str().unwrap(),
        j["signature"].as_str().unwrap(),
    );
    assert_eq!(signature(ticket, nonce, ts, url), expected);
    assert_eq!(
        signature(ticket, nonce, ts, &format!("{url}#frag/ment")),
        expected,
        "the fragment is not signed"
    );
    assert_ne!(signature(ticket, nonce, ts + 1, url), expected);
    let cfg = WxConfig::sign("ww1", &Secret::new(ticket), url, nonce.to_owned(), ts, &[]);
    assert_eq!(cfg.signature, expected);
}

#[test]
fn authorize_urls_are_built_and_checked() {
    let base = AuthorizeUrl::new("ww0123", "https://app.example.com/cb?a=1&b=2")
        .state("xyz")
        .build()
        .unwrap();
    assert_eq!(
        base,
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww0123&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fa%3D1%26b%3D2&response_type=code&scope=snsapi_base&state=xyz#wechat_redirect"
    );
    let private =
        AuthorizeUrl::new("ww0123", "https://app.example.com/cb").scope(OAuthScope::PrivateInfo);
    let e = private.build().unwrap_err();
    assert_eq!(e.field, "agentid");
    let url = private.agentid(1000002).build().unwrap();
    assert!(
        url.contains("scope=snsapi_privateinfo")
            && url.contains("&agentid=1000002#wechat_redirect"),
        "{url}"
    );

    let long = "a".repeat(129);
    for (state, problem) in [
        (long.as_str(), "129 bytes"),
        ("ab-c", "'-'"),
        ("状态", "'状'"),
    ] {
        let e = AuthorizeUrl::new("ww0123", "https://x.example.com/")
            .state(state)
            .build()
            .unwrap_err();
        assert_eq!(e.field, "state");
        assert!(e.problem.contains(problem), "{e}");
    }
    assert!(
        AuthorizeUrl::new("ww0123", "https://x.example.com/")
            .state("a".repeat(128))
            .build()
            .is_ok()
    );
    let e = AuthorizeUrl::new("ww0123", "/relative/cb")
        .build()
        .unwrap_err();
    assert_eq!(e.field, "redirect_uri");
    let sandbox = AuthorizeUrl::new("ww0123", "http://127.0.0.1:9/cb")
        .endpoint("http://127.0.0.1:8/connect/oauth2/authorize")
        .build()
        .unwrap();
    assert!(sandbox.starts_with("http://127.0.0.1:8/connect/oauth2/authorize?appid=ww0123"));
}

#[test]
fn the_client_prefills_corpid_and_agentid() {
    let client = Client::builder("ww0123").app(1000005, "s").build().unwrap();
    let url = client
        .authorize_url("https://app.example.com/cb")
        .scope(OAuthScope::PrivateInfo)
        .build()
        .unwrap();
    assert!(
        url.contains("appid=ww0123") && url.contains("agentid=1000005"),
        "{url}"
    );
}
