//! Credentials as WeCom enforces them: gettoken, expiry, revocation, credential kinds, OAuth codes.

use std::time::Duration;

use serde_json::Value;
use wecom_sandbox::{OAuthLogin, Sandbox, SandboxClock, TokenTarget};

use crate::common::{client, demo, errcode, get_json, post_json};

const APP: u32 = 1000002;

async fn gettoken(c: &reqwest::Client, sb: &Sandbox, secret: &str) -> Value {
    let corpid = sb.credentials().corpid;
    get_json(
        c,
        &format!(
            "{}/cgi-bin/gettoken?corpid={corpid}&corpsecret={secret}",
            sb.base_url()
        ),
        200,
    )
    .await
}

async fn app_token(c: &reqwest::Client, sb: &Sandbox, agentid: u32) -> String {
    let secret = sb
        .credentials()
        .app(agentid)
        .expect("demo app")
        .secret
        .expose()
        .to_owned();
    let v = gettoken(c, sb, &secret).await;
    assert_eq!(errcode(&v), 0, "{v}");
    v["access_token"].as_str().expect("token").to_owned()
}

async fn contact_token(c: &reqwest::Client, sb: &Sandbox) -> String {
    let v = gettoken(c, sb, sb.credentials().contact_secret.expose()).await;
    v["access_token"].as_str().expect("token").to_owned()
}

async fn callback_ip(c: &reqwest::Client, sb: &Sandbox, token: &str) -> Value {
    get_json(
        c,
        &format!(
            "{}/cgi-bin/getcallbackip?access_token={token}",
            sb.base_url()
        ),
        200,
    )
    .await
}

#[tokio::test]
async fn gettoken_answers_like_wecom() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let corpid = sb.credentials().corpid;
    let secret = sb
        .credentials()
        .app(APP)
        .expect("app")
        .secret
        .expose()
        .to_owned();
    let v = gettoken(&c, &sb, &secret).await;
    assert_eq!(v["errcode"], 0);
    assert_eq!(v["errmsg"], "ok");
    assert_eq!(v["expires_in"], 7200);
    let token = v["access_token"].as_str().expect("token").to_owned();
    assert!(!token.is_empty() && token.len() <= 512);
    let again = gettoken(&c, &sb, &secret).await;
    assert_eq!(
        again["access_token"].as_str(),
        Some(token.as_str()),
        "the same token while it is valid"
    );
    let contact = contact_token(&c, &sb).await;
    assert_ne!(contact, token, "each secret has its own token");

    let q = |query: &str| format!("{base}/cgi-bin/gettoken?{query}");
    assert_eq!(
        errcode(&get_json(&c, &q(&format!("corpid=wwnope&corpsecret={secret}")), 200).await),
        40013
    );
    assert_eq!(
        errcode(&get_json(&c, &q(&format!("corpid={corpid}&corpsecret=wrong")), 200).await),
        40001
    );
    assert_eq!(
        errcode(&get_json(&c, &q(&format!("corpsecret={secret}")), 200).await),
        41002
    );
    assert_eq!(
        errcode(&get_json(&c, &q(&format!("corpid={corpid}")), 200).await),
        41004
    );
    assert_eq!(
        errcode(&get_json(&c, &q(&format!("corpid=&corpsecret={secret}")), 200).await),
        40013,
        "validate(): 1-64 bytes"
    );
    assert_eq!(sb.admin().count("gettoken"), 8);
    assert_eq!(sb.admin().counters()[0], ("gettoken".to_owned(), 8));
}

#[tokio::test]
async fn tokens_expire_and_can_be_revoked() {
    let sb = demo().await;
    let c = client();
    let token = app_token(&c, &sb, APP).await;
    assert_eq!(errcode(&callback_ip(&c, &sb, &token).await), 0);
    assert_eq!(
        callback_ip(&c, &sb, &token).await["ip_list"][0],
        "127.0.0.1"
    );
    let v = get_json(&c, &format!("{}/cgi-bin/getcallbackip", sb.base_url()), 200).await;
    assert_eq!(errcode(&v), 41001);
    assert_eq!(errcode(&callback_ip(&c, &sb, "forged").await), 40014);

    sb.admin().advance_time(7199);
    assert_eq!(
        errcode(&callback_ip(&c, &sb, &token).await),
        0,
        "valid until the last second"
    );
    sb.admin().advance_time(1);
    assert_eq!(errcode(&callback_ip(&c, &sb, &token).await), 42001);
    let fresh = app_token(&c, &sb, APP).await;
    assert_ne!(fresh, token, "a new token after expiry");

    // Revocation: per app, over HTTP too.
    let other = app_token(&c, &sb, 1000003).await;
    assert_eq!(sb.admin().revoke_tokens(TokenTarget::App(APP)), 1);
    assert_eq!(errcode(&callback_ip(&c, &sb, &fresh).await), 40014);
    assert_eq!(
        errcode(&callback_ip(&c, &sb, &other).await),
        0,
        "other apps keep their token"
    );
    post_json(
        &c,
        &format!("{}/sandbox/tokens/revoke", sb.base_url()),
        r#"{"target": 1000003}"#,
        200,
    )
    .await;
    assert_eq!(errcode(&callback_ip(&c, &sb, &other).await), 40014);
    let newest = app_token(&c, &sb, APP).await;
    assert_ne!(newest, fresh);
    assert_eq!(errcode(&callback_ip(&c, &sb, &newest).await), 0);
}

#[tokio::test]
async fn token_ttl_is_configurable() {
    let sb = Sandbox::builder()
        .token_ttl(Duration::from_secs(60))
        .clock(SandboxClock::frozen_at(1_700_000_000_000))
        .start()
        .await
        .expect("starts");
    let c = client();
    let secret = sb
        .credentials()
        .app(APP)
        .expect("app")
        .secret
        .expose()
        .to_owned();
    let v = gettoken(&c, &sb, &secret).await;
    assert_eq!(v["expires_in"], 60);
    sb.admin().advance_time(20);
    assert_eq!(
        gettoken(&c, &sb, &secret).await["expires_in"],
        40,
        "remaining lifetime of the same token"
    );
    sb.admin().advance_time(40);
    let token = v["access_token"].as_str().expect("token");
    assert_eq!(errcode(&callback_ip(&c, &sb, token).await), 42001);
}

#[tokio::test]
async fn credential_kinds() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let app = app_token(&c, &sb, APP).await;
    let contact = contact_token(&c, &sb).await;
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/get_jsapi_ticket?access_token={app}"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 0);
    assert_eq!(v["expires_in"], 7200);
    let corp_ticket = v["ticket"].as_str().expect("ticket").to_owned();
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/ticket/get?access_token={app}&type=agent_config"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 0);
    assert_ne!(
        v["ticket"].as_str(),
        Some(corp_ticket.as_str()),
        "the agent ticket differs from the corp ticket"
    );
    // The contact-sync token is no app token.
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/get_jsapi_ticket?access_token={contact}"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 48002);
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/ticket/get?access_token={contact}&type=agent_config"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 42012);
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/ticket/get?access_token={app}&type=other"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 40058, "type must be agent_config");
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/ticket/get?access_token={app}"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 40058, "type is required");
}

#[tokio::test]
async fn wrong_method_and_malformed_bodies() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let app = app_token(&c, &sb, APP).await;
    let v = post_json(
        &c,
        &format!("{base}/cgi-bin/gettoken?corpid=x&corpsecret=y"),
        "",
        200,
    )
    .await;
    assert_eq!(errcode(&v), 40058);
    assert!(
        v["errmsg"]
            .as_str()
            .expect("errmsg")
            .contains("must be called with GET"),
        "{v}"
    );
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/auth/getuserdetail?access_token={app}"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 40058);
    let url = format!("{base}/cgi-bin/auth/getuserdetail?access_token={app}");
    for bad in ["{", "[]", "null", "\u{0}\u{1}", "{\"user_ticket\": "] {
        assert_eq!(
            errcode(&post_json(&c, &url, bad, 200).await),
            47001,
            "body {bad:?}"
        );
    }
    assert_eq!(
        errcode(&post_json(&c, &url, "{}", 200).await),
        40058,
        "missing user_ticket"
    );
    assert_eq!(
        errcode(&post_json(&c, &url, r#"{"user_ticket": 5}"#, 200).await),
        40058,
        "mistyped"
    );
    assert_eq!(
        errcode(&post_json(&c, &url, r#"{"user_ticket": ""}"#, 200).await),
        40058,
        "validate(): 1-512 bytes"
    );
    let r = c
        .delete(format!("{base}/cgi-bin/getcallbackip?access_token={app}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(errcode(&v), 40058);
}

#[tokio::test]
async fn oauth_codes_are_single_use_and_short_lived() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let app = app_token(&c, &sb, APP).await;
    let admin = sb.admin();
    let info =
        |code: String| format!("{base}/cgi-bin/auth/getuserinfo?access_token={app}&code={code}");

    let code = admin
        .mint_oauth_code(
            OAuthLogin::Member {
                userid: "LiNa".into(),
                privateinfo: true,
            },
            APP,
        )
        .expect("code");
    let v = get_json(&c, &info(code.clone()), 200).await;
    assert_eq!(errcode(&v), 0, "{v}");
    assert_eq!(v["userid"], "lina");
    let ticket = v["user_ticket"]
        .as_str()
        .expect("privateinfo yields a user_ticket")
        .to_owned();
    assert_eq!(
        errcode(&get_json(&c, &info(code), 200).await),
        42022,
        "a code is single use"
    );

    let detail = post_json(
        &c,
        &format!("{base}/cgi-bin/auth/getuserdetail?access_token={app}"),
        format!(r#"{{"user_ticket":"{ticket}"}}"#),
        200,
    )
    .await;
    assert_eq!(errcode(&detail), 0, "{detail}");
    assert_eq!(detail["mobile"], "13800000003");
    assert_eq!(detail["gender"], "2");
    let bad = post_json(
        &c,
        &format!("{base}/cgi-bin/auth/getuserdetail?access_token={app}"),
        r#"{"user_ticket":"nope"}"#,
        200,
    )
    .await;
    assert_eq!(errcode(&bad), 40058);

    let code = admin
        .mint_oauth_code(
            OAuthLogin::Member {
                userid: "lina".into(),
                privateinfo: false,
            },
            APP,
        )
        .expect("code");
    admin.advance_time(300);
    assert_eq!(
        errcode(&get_json(&c, &info(code), 200).await),
        40029,
        "5 minutes"
    );
    assert_eq!(
        errcode(&get_json(&c, &info("made-up".into()), 200).await),
        40029
    );
    let other = admin
        .mint_oauth_code(
            OAuthLogin::Member {
                userid: "lina".into(),
                privateinfo: false,
            },
            1000003,
        )
        .expect("code");
    assert_eq!(
        errcode(&get_json(&c, &info(other), 200).await),
        40029,
        "a code belongs to its app"
    );

    let outsider = admin
        .mint_oauth_code(
            OAuthLogin::NonMember {
                openid: "o-guest".into(),
                external_userid: Some("wm-1".into()),
            },
            APP,
        )
        .expect("code");
    let v = get_json(&c, &info(outsider), 200).await;
    assert_eq!(v["openid"], "o-guest");
    assert_eq!(v["external_userid"], "wm-1");
    assert!(v.get("userid").is_none(), "{v}");
    assert!(
        admin
            .mint_oauth_code(
                OAuthLogin::Member {
                    userid: "huangli".into(),
                    privateinfo: false
                },
                1000003
            )
            .is_err(),
        "outside the app's scope"
    );

    // Minting over HTTP.
    let v = post_json(
        &c,
        &format!("{base}/sandbox/oauth/code"),
        r#"{"agentid":1000002,"userid":"zhangwei"}"#,
        200,
    )
    .await;
    let code = v["code"].as_str().expect("code").to_owned();
    assert_eq!(get_json(&c, &info(code), 200).await["userid"], "zhangwei");
}

#[tokio::test]
async fn miniprogram_login() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let app = app_token(&c, &sb, APP).await;
    let code = sb.admin().mint_js_code("wuxia", APP).expect("js_code");
    let url = format!(
        "{base}/cgi-bin/miniprogram/jscode2session?access_token={app}&js_code={code}&grant_type=authorization_code"
    );
    let v = get_json(&c, &url, 200).await;
    assert_eq!(errcode(&v), 0, "{v}");
    assert_eq!(v["userid"], "wuxia");
    assert_eq!(v["corpid"], sb.credentials().corpid.as_str());
    assert!(v["session_key"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(errcode(&get_json(&c, &url, 200).await), 40029, "used");
    let v = get_json(&c, &format!("{base}/cgi-bin/miniprogram/jscode2session?access_token={app}&js_code=x&grant_type=other"), 200).await;
    assert_eq!(errcode(&v), 40058);
}

#[tokio::test]
async fn a_system_app_secret_gets_a_token_that_only_its_area_accepts() {
    use wecom_core_auth::SystemApp;
    let sb = demo().await;
    let c = client();
    let creds = sb.credentials();
    assert_eq!(
        creds.system_secrets.len(),
        SystemApp::ALL.len(),
        "the demo corp has every system app's secret"
    );
    let secret = creds
        .system_secret(SystemApp::ExternalContact)
        .expect("demo 客户联系 secret")
        .expose()
        .to_owned();
    let v = gettoken(&c, &sb, &secret).await;
    assert_eq!(errcode(&v), 0, "{v}");
    let token = v["access_token"].as_str().expect("token");
    // A valid token (not 40014), but an app-only API refuses a system app's token.
    let agent = get_json(
        &c,
        &format!(
            "{}/cgi-bin/agent/get?access_token={token}&agentid={APP}",
            sb.base_url()
        ),
        200,
    )
    .await;
    assert_eq!(errcode(&agent), 48002, "{agent}");
}
