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
