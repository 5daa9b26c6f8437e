//! Requests WeCom would refuse: answered with WeCom-like errcodes, never a 500 or a hang.

use crate::common::{client, demo, errcode, get_json, post_json};

#[tokio::test]
async fn unknown_paths() {
    let sb = demo().await;
    let c = client();
    let base = sb.base_url();
    let v = get_json(
        &c,
        &format!("{base}/cgi-bin/no/such/api?access_token=x"),
        200,
    )
    .await;
    assert_eq!(errcode(&v), 48001);
    assert!(
        v["errmsg"]
            .as_str()
            .expect("errmsg")
            .contains("from ip: 127.0.0.1"),
        "{v}"
    );
    let v = post_json(&c, &format!("{base}/cgi-bin/"), "{", 200).await;
    assert_eq!(errcode(&v), 48001);
    let v = get_json(&c, &format!("{base}/elsewhere"), 404).await;
    assert_eq!(errcode(&v), 48001);
}

fn panicking(r: &mut wecom_sandbox::Registry) {
    use wecom_core_auth::generated::auth::{GetcallbackipRequest, GetcallbackipResponse};
    r.add::<GetcallbackipRequest, _, _>(|_ctx, _req| async {
        let empty: Vec<u8> = Vec::new();
        // A handler bug: indexing out of bounds.
        let _ = empty[usize::from(empty.is_empty())];
        Ok(GetcallbackipResponse::default())
    });
}

#[tokio::test]
async fn a_panicking_handler_answers_system_busy() {
    let sb = wecom_sandbox::Sandbox::builder()
        .register(panicking)
        .start()
        .await
        .expect("starts");
    let c = client();
    let creds = sb.credentials();
    let secret = creds.app(1000002).expect("app").secret.expose().to_owned();
    let url = format!(
        "{}/cgi-bin/gettoken?corpid={}&corpsecret={secret}",
        sb.base_url(),
        creds.corpid
    );
    let tok = get_json(&c, &url, 200).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let url = format!("{}/cgi-bin/getcallbackip?access_token={tok}", sb.base_url());
    let v = get_json(&c, &url, 200).await;
    assert_eq!(errcode(&v), -1);
    assert_eq!(
        errcode(&get_json(&c, &url, 200).await),
        -1,
        "the server keeps serving"
    );
}
