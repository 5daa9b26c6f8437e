//! `wecom transfer ...` against an in-process sandbox: start, status on the sandbox clock,
//! unassigned customers, with `--json`.

use serde_json::{Value, json};
use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::externalcontact::book::{Customer, CustomerBook, Follow};

use crate::common::{run_async, sandbox_env, sandbox_secrets, wecom};

async fn json_at(sandbox: &Sandbox, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let mut cmd = wecom(&all);
    sandbox_env(&mut cmd, sandbox);
    let r = run_async(cmd).await;
    let secrets = sandbox_secrets(sandbox);
    r.assert_no_secret(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
    r.json()
}

fn seed(sandbox: &Sandbox, id: &str, userid: &str) {
    CustomerBook::of(sandbox.admin().state()).with(|c| {
        c.insert(
            id.to_owned(),
            Customer {
                external_userid: id.to_owned(),
                name: id.to_owned(),
                kind: 1,
                follows: vec![Follow {
                    userid: userid.to_owned(),
                    ..Follow::default()
                }],
                ..Customer::default()
            },
        )
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_start_status_and_unassigned() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    seed(&sandbox, "wmA", "wangfang");
    seed(&sandbox, "wmGone", "someone-who-left");

    let started = json_at(
        &sandbox,
        &[
            "transfer", "start", "--from", "wangfang", "--to", "lina", "wmA", "wmX",
        ],
    )
    .await;
    assert_eq!(
        started["customers"],
        json!([{"external_userid": "wmA", "errcode": 0}, {"external_userid": "wmX", "errcode": 40096}])
    );
    let status = json_at(
        &sandbox,
        &["transfer", "status", "--from", "wangfang", "--to", "lina"],
    )
    .await;
    assert_eq!(
        status["customers"][0]["status"],
        json!(2),
        "waiting: {status}"
    );

    sandbox.admin().advance_time(24 * 3600);
    let status = json_at(
        &sandbox,
        &["transfer", "status", "--from", "wangfang", "--to", "lina"],
    )
    .await;
    assert_eq!(status["customers"][0]["status"], json!(1), "done: {status}");
    assert!(CustomerBook::of(sandbox.admin().state()).follows("wmA", "lina"));

    let waiting = json_at(&sandbox, &["transfer", "unassigned"]).await;
    assert_eq!(
        waiting["customers"],
        json!([{"handover_userid": "someone-who-left", "external_userid": "wmGone", "dimission_time": null}])
    );
    sandbox.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_group_and_acquisition_links() {
    use wecom_sandbox::areas::externalcontact::admin::NewCustomerGroup;
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let (chat, _) = sandbox
        .admin()
        .create_customer_group(NewCustomerGroup {
            owner: "wangfang".into(),
            name: "VIP".into(),
            members: Vec::new(),
        })
        .await
        .expect("group");
    let moved = json_at(
        &sandbox,
        &["transfer", "group", "--to", "lina", &chat, "wrNone"],
    )
    .await;
    assert_eq!(
        moved["groups"],
        json!([{"chat_id": chat, "errcode": 0}, {"chat_id": "wrNone", "errcode": 40050, "errmsg": "chatid not found"}])
    );
    let resigned = json_at(
        &sandbox,
        &["transfer", "group", "--resigned", "--to", "wangfang", &chat],
    )
    .await;
    assert_eq!(
        resigned["groups"][0]["errcode"],
        json!(90500),
        "lina has not left: {resigned}"
    );

    let created = json_at(
        &sandbox,
        &[
            "acquisition",
            "link",
            "create",
            "春季",
            "--user",
            "wangfang,lina",
        ],
    )
    .await;
    let link_id = created["link_id"].as_str().expect("a link_id").to_owned();
    let listed = json_at(&sandbox, &["acquisition", "link", "list"]).await;
    assert_eq!(listed["links"][0]["link_id"], json!(link_id));
    assert_eq!(listed["links"][0]["user_list"], json!(["wangfang", "lina"]));
    assert_eq!(listed["links"][0]["skip_verify"], json!(true));
    let quota = json_at(&sandbox, &["acquisition", "quota"]).await;
    assert_eq!(quota["balance"], json!(0));
    let deleted = json_at(&sandbox, &["acquisition", "link", "delete", &link_id]).await;
    assert_eq!(deleted["deleted"], json!(link_id));
    let listed = json_at(&sandbox, &["acquisition", "link", "list"]).await;
    assert_eq!(listed["links"], json!([]));
}
