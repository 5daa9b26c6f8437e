//! `wecom customer|corp-tag|contact-way` against an in-process sandbox: a contact way, a
//! simulated customer scanning it, the customer listed (streamed), tagged and read back.

use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::externalcontact::admin::ScanningCustomer;

use crate::common::at;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_is_added_listed_tagged_and_read() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let way = at(
        &sb,
        &[
            "--json",
            "contact-way",
            "add",
            "--user",
            "lina",
            "--state",
            "cli",
        ],
    )
    .await
    .json();
    let config_id = way["config_id"].as_str().expect("config_id").to_owned();
    let scan = sb
        .admin()
        .scan_contact_way(
            &config_id,
            ScanningCustomer {
                name: "王五".into(),
                ..ScanningCustomer::default()
            },
        )
        .await
        .expect("scan");
    let ext = scan.external_userid;

    let list = at(&sb, &["--json", "customer", "list", "--user", "lina"]).await;
    let rows: Vec<serde_json::Value> = list
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["external_contact"]["external_userid"], ext.as_str());
    assert_eq!(rows[0]["follow_info"]["state"], "cli");
    let text = at(&sb, &["customer", "list", "--user", "lina"]).await;
    assert!(text.ok().contains("王五"), "{}", text.ok());

    let group = at(
        &sb,
        &[
            "--json",
            "corp-tag",
            "add",
            "--group",
            "阶段",
            "--tag",
            "新客户",
        ],
    )
    .await
    .json();
    let tag_id = group["tag_group"]["tag"][0]["id"]
        .as_str()
        .expect("tag id")
        .to_owned();
    at(
        &sb,
        &["customer", "tag", &ext, "--user", "lina", "--add", &tag_id],
    )
    .await
    .ok();
    at(
        &sb,
        &[
            "customer", "remark", &ext, "--user", "lina", "--remark", "老王",
        ],
    )
    .await
    .ok();
    let got = at(&sb, &["--json", "customer", "get", &ext]).await.json();
    assert_eq!(
        got["follow_user"][0]["tags"][0]["tag_name"], "新客户",
        "{got}"
    );
    assert_eq!(got["follow_user"][0]["remark"], "老王", "{got}");

    // A group name over 30 characters fails before any request, with WeCom's errcode.
    let long = "组".repeat(31);
    let r = at(&sb, &["corp-tag", "add", "--group", &long, "--tag", "a"]).await;
    assert!(r.error_line().contains("40072"), "{}", r.error_line());
}
