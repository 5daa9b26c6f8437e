//! `wecom corpgroup apps` and `wecom api --downstream`, against an in-process sandbox with its two
//! demo downstream corps.

use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::corpgroup::DEMO_DOWNSTREAM;

use crate::common::{run_async, sandbox_env, sandbox_secrets, wecom};

async fn json(sandbox: &Sandbox, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let mut cmd = wecom(&all);
    sandbox_env(&mut cmd, sandbox);
    let r = run_async(cmd).await;
    let secrets = sandbox_secrets(sandbox);
    r.assert_no_secret(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_lists_the_downstream_corps_and_api_calls_as_one_of_them() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let v = json(&sb, &["corpgroup", "apps", "--limit", "1"]).await;
    let listed: Vec<(&str, u64)> = v["corp_list"]
        .as_array()
        .expect("corp_list")
        .iter()
        .map(|c| {
            (
                c["corpid"].as_str().unwrap(),
                c["agentid"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, u64)> = DEMO_DOWNSTREAM
        .iter()
        .map(|(corpid, _, agentid, _)| (*corpid, u64::from(*agentid)))
        .collect();
    assert_eq!(listed, expected, "every page followed: {v}");

    let (corpid, _, agentid, _) = DEMO_DOWNSTREAM[1];
    let agent = agentid.to_string();
    let v = json(
        &sb,
        &[
            "api",
            "agent_get",
            "-f",
            &format!("agentid={agent}"),
            "--downstream",
            corpid,
            "--downstream-agent",
            &agent,
        ],
    )
    .await;
    assert_eq!(v["agentid"], agentid, "served by the downstream corp: {v}");
    assert_eq!(sb.admin().count("corpgroup_corp_gettoken"), 1);
}
