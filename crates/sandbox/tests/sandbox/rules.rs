//! The messages area's hand-written rules (`wecom_messages::rules`, `media`) refuse raw wire
//! requests too: the registry runs the generated `validate()`, which calls the check the spec
//! names, before any handler (the handlers no longer call the rules themselves).

use serde_json::{Value, json};
use wecom_sandbox::Sandbox;

use crate::common::{client, demo, errcode, get_json, post_json};

async fn token(c: &reqwest::Client, sb: &Sandbox) -> String {
    let creds = sb.credentials();
    let app = creds.apps.first().expect("an app");
    let url = format!(
        "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
        sb.base_url(),
        creds.corpid,
        app.secret.expose()
    );
    get_json(c, &url, 200).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn refused(v: &Value, code: i64, field: &str) {
    assert_eq!(errcode(v), code, "{v}");
    let msg = v["errmsg"].as_str().unwrap_or_default();
    assert!(msg.contains(field), "errmsg names `{field}`: {v}");
}

#[tokio::test]
async fn message_send_rules_refuse_raw_requests() {
    let sb = demo().await;
    let c = client();
    let tok = token(&c, &sb).await;
    let agentid = sb.credentials().apps[0].agentid;
    let url = format!("{}/cgi-bin/message/send?access_token={tok}", sb.base_url());

    let mixed = json!({"touser": "@all|lina", "msgtype": "text", "agentid": agentid,
        "text": {"content": "hi"}});
    refused(
        &post_json(&c, &url, mixed.to_string(), 200).await,
        40031,
        "touser",
    );

    let news = json!({"touser": "lina", "msgtype": "news", "agentid": agentid, "safe": 1,
        "news": {"articles": [{"title": "t", "url": "https://example.com"}]}});
    refused(
        &post_json(&c, &url, news.to_string(), 200).await,
        40074,
        "safe",
    );

    assert!(sb.admin().inbox("lina").is_empty(), "nothing delivered");
}

#[tokio::test]
async fn update_template_card_rules_refuse_raw_requests() {
    let sb = demo().await;
    let c = client();
    let tok = token(&c, &sb).await;
    let agentid = sb.credentials().apps[0].agentid;
    let url = format!(
        "{}/cgi-bin/message/update_template_card?access_token={tok}",
        sb.base_url()
    );
    let body = json!({"agentid": agentid, "response_code": "code", "userids": ["lina"],
        "template_card": {"card_type": "text_notice",
            "main_title": {"title": "t"},
            "card_action": {"type": 1, "url": "https://example.com"},
            "action_menu": {"desc": "more", "action_list": [{"text": "a", "key": "k"}]}}});
    refused(
        &post_json(&c, &url, body.to_string(), 200).await,
        42014,
        "task_id",
    );
}

#[tokio::test]
async fn robot_and_upload_rules_refuse_raw_requests() {
    let sb = demo().await;
    let c = client();
    let url = format!(
        "{}/cgi-bin/webhook/send?key={}",
        sb.base_url(),
        wecom_sandbox::corp::DEMO_ROBOT_KEY
    );
    let card = json!({"msgtype": "template_card", "template_card": {"card_type": "text_notice",
        "card_action": {"type": 1, "url": "https://example.com"}}});
    refused(
        &post_json(&c, &url, card.to_string(), 200).await,
        40058,
        "main_title",
    );
    assert!(sb.admin().robot_messages().is_empty(), "nothing posted");

    let tok = token(&c, &sb).await;
    let url = format!(
        "{}/cgi-bin/media/uploadimg?access_token={tok}",
        sb.base_url()
    );
    let body = "--x\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.png\"\r\n\
                Content-Type: image/png\r\n\r\n12345\r\n--x--\r\n";
    let v: Value = c
        .post(&url)
        .header("content-type", "multipart/form-data; boundary=x")
        .body(body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    refused(&v, 40006, "media");
    assert!(sb.admin().media().is_empty(), "nothing stored");
}
