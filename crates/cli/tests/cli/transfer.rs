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
