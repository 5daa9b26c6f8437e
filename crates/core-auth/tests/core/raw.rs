//! The raw escape hatch (`Client::raw`) and the generated `CALLS` tables (`JsonEndpoint`): the
//! same pipeline as every generated call (token, retries by class, typed errors, masking).

use serde_json::json;
use wecom_core_auth::{CredentialKind, Error, Method};

use crate::builder;
use crate::server::{Fake, Fault, SECRET_A};

#[tokio::test]
async fn a_raw_get_carries_the_app_token_and_its_query() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let answer = client
        .raw(Method::Get, "/cgi-bin/externalcontact/list")
        .query("userid", "zhang san&x")
        .send()
        .await
        .expect("answered");
    assert_eq!(answer["owner"], "app1000002");
    assert_eq!(answer["method"], "GET");
    let seen = fake.seen();
    let call = seen
        .iter()
        .find(|s| s.path == "externalcontact/list")
        .unwrap();
    assert_eq!(
        call.query["userid"], "zhang san&x",
        "percent-encoded and decoded back"
    );
    assert!(call.query.contains_key("access_token"));
    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test]
async fn a_raw_post_sends_its_json_and_is_not_resent_unless_idempotent() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let body = json!({"cursor": "", "limit": 10});
    let answer = client
        .raw(Method::Post, "externalcontact/batch/get_by_user")
        .json(body.clone())
        .send()
        .await
        .unwrap();
    let echoed: serde_json::Value = serde_json::from_str(answer["echo"].as_str().unwrap()).unwrap();
    assert_eq!(echoed, body);

    fake.fail_next("raw/write", [Fault::Errcode(-1, "system busy")]);
    let e = client
        .raw(Method::Post, "raw/write")
        .json(json!({}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(-1));
    assert_eq!(fake.hits("raw/write"), 1, "a POST is not resent by default");

    fake.fail_next(
        "raw/write",
        [Fault::Errcode(-1, "system busy"), Fault::Status(503)],
    );
    client
        .raw(Method::Post, "raw/write")
        .json(json!({}))
        .idempotent(true)
        .send()
        .await
        .expect("resent when the caller says it is idempotent");
    assert_eq!(fake.hits("raw/write"), 4);

    fake.fail_next("raw/read", [Fault::Errcode(-1, "system busy")]);
    client
        .raw(Method::Get, "raw/read")
        .send()
        .await
        .expect("a GET is resent");
    assert_eq!(fake.hits("raw/read"), 2);
}

#[tokio::test]
async fn a_rejected_token_is_refetched_and_the_raw_call_sent_once_more() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    client.raw(Method::Get, "raw/read").send().await.unwrap();
    fake.revoke_all_tokens();
    client
        .raw(Method::Post, "raw/write")
        .json(json!({"a": 1}))
        .send()
        .await
        .expect("the token is refreshed once, even for a non-idempotent POST");
    assert_eq!(fake.gettoken_calls(), 2);
    assert_eq!(fake.hits("raw/write"), 2);
}

#[tokio::test]
async fn bad_raw_input_is_refused_before_any_io_and_errors_mask_the_token() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    for (path, hint) in [
        ("", "is empty"),
        ("user/get?userid=a", "query"),
        ("user/../gettoken", ".."),
        ("user/ get", "contains"),
    ] {
        let e = client.raw(Method::Get, path).send().await.unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{path}: {e}");
        assert!(e.to_string().contains(hint), "{path}: {e}");
    }
    let e = client
        .raw(Method::Get, "user/get")
        .query("access_token", "mine")
        .send()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("access_token"), "{e}");
    let call = client
        .raw(Method::Get, "gettoken")
        .query("corpsecret", SECRET_A)
        .json(json!({"secret": SECRET_A}));
    let shown = format!("{call:?}");
    assert!(
        !shown.contains(SECRET_A) && shown.contains("corpsecret"),
        "{shown}"
    );
    let e = client
        .raw(Method::Post, "user/create")
        .credential(CredentialKind::Contact)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "no contact secret: {e}");
    assert_eq!(fake.seen().len(), 0, "nothing was sent");

    fake.fail_next("raw/down", [Fault::Status(502)]);
    let e = client
        .raw(Method::Post, "raw/down")
        .send()
        .await
        .unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("raw/down"), "{shown}");
    assert!(shown.contains("access_token=***"), "{shown}");
    for token in fake.issued_tokens() {
        assert!(!shown.contains(&token), "token leaked: {shown}");
    }
    assert!(!shown.contains(SECRET_A));
}

#[tokio::test]
async fn a_json_endpoint_reads_validates_and_sends_the_typed_request() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let calls = wecom_core_auth::generated::auth::CALLS;
    let userinfo = calls
        .iter()
        .find(|e| e.meta.name == "auth_getuserinfo")
        .expect("in the table");
    assert_eq!(userinfo.meta.path, "auth/getuserinfo");
    let answer = (userinfo.call)(&client, json!({"code": "member-code"}))
        .await
        .unwrap();
    assert_eq!(answer["userid"], "zhangsan");

    let e = (userinfo.call)(&client, json!({})).await.unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    assert!(e.to_string().contains("code"), "names the field: {e}");
    let e = (userinfo.call)(&client, json!(["code"])).await.unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    let e = (userinfo.call)(&client, json!({"code": ""}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "validate() runs: {e}");
    assert_eq!(
        fake.hits("auth/getuserinfo"),
        1,
        "only the good call was sent"
    );
}

#[tokio::test]
async fn a_verbatim_call_answers_final_errcodes_and_files_as_they_came() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    fake.fail_next(
        "raw/denied",
        [Fault::Errcode(
            60011,
            "no privilege to access/modify contact/party/agent",
        )],
    );
    let answer = client
        .raw(Method::Get, "raw/denied")
        .send_verbatim()
        .await
        .expect("a final errcode is an answer");
    assert_eq!(answer.errcode, Some(60011));
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(v["errcode"], 60011);

    let file = client
        .raw(Method::Get, "media/get")
        .send_verbatim()
        .await
        .unwrap();
    assert_eq!(file.errcode, None);
    assert_eq!(&file.body[..], b"\x89PNG raw bytes");
    assert_eq!(
        file.content_type.as_deref(),
        Some("application/octet-stream")
    );

    fake.revoke_all_tokens();
    let answer = client
        .raw(Method::Post, "upload")
        .body("multipart/form-data; boundary=XYZ", "--XYZ--\r\n")
        .send_verbatim()
        .await
        .unwrap();
    assert_eq!(
        answer.errcode,
        Some(0),
        "the rejected token was refreshed and the call resent"
    );
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(v["content_type"], "multipart/form-data; boundary=XYZ");
    assert_eq!(fake.hits("upload"), 2);
}
