//! The JS-SDK signature against the shared vector, and the OAuth2 authorize URL.

use wecom_core_auth::generated::auth::AuthExt;
use wecom_core_auth::jssdk::{WxConfig, signature};
use wecom_core_auth::oauth::{AuthorizeUrl, OAuthScope, OAuthUser};
use wecom_core_auth::{Client, Error, Secret};

use crate::builder;
use crate::server::{CORPID, Fake};

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

#[tokio::test]
async fn oauth_codes_are_exchanged_for_members_or_non_members() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let member = client.oauth_user("member-code").await.unwrap();
    let OAuthUser::Member {
        userid,
        user_ticket: Some(ticket),
    } = &member
    else {
        panic!("{member:?}")
    };
    assert_eq!(userid, "zhangsan");
    assert_eq!(member.userid(), Some("zhangsan"));
    assert!(
        !format!("{member:?}").contains("USERTICKET"),
        "the user_ticket is a secret"
    );
    let detail = client.oauth_user_detail(ticket).await.unwrap();
    assert_eq!(detail.mobile.as_deref(), Some("13800000000"));

    let guest = client.oauth_user("guest-code").await.unwrap();
    assert_eq!(
        guest,
        OAuthUser::NonMember {
            openid: "oGUEST".into(),
            external_userid: Some("wmEXT".into())
        }
    );
    assert_eq!(guest.userid(), None);

    let e = client.oauth_user("odd-code").await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Decode {
                endpoint: "auth_getuserinfo",
                ..
            }
        ),
        "{e:?}"
    );
    let e = client.oauth_user("used-code").await.unwrap_err();
    assert_eq!(e.errcode(), Some(40029));
    let e = client.oauth_user("").await.unwrap_err();
    assert!(
        matches!(e, Error::Invalid(_)),
        "an empty code is rejected before I/O: {e:?}"
    );

    let session = client.miniprogram_session("js-code").await.unwrap();
    assert_eq!(
        (session.corpid.as_str(), session.userid.as_str()),
        (CORPID, "lisi")
    );
    // The generated raw call works through the same client.
    let raw = client.auth().auth_getuserinfo("member-code").await.unwrap();
    assert_eq!(raw.userid.as_deref(), Some("zhangsan"));
}
