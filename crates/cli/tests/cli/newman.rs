//! The generated Postman collection (`spec/postman/`, written by `cargo xtask gen`) run by
//! Postman's own runner, newman, against `wecom sandbox`: the collection's auth flow (tokens
//! fetched by its pre-request script, cached per secret) and a handful of requests.
//! Without newman the test says so and passes, except in CI (`CI` set), where `.ci/run`
//! installs it and its absence is a failure.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::sandbox::SandboxProcess;

fn postman_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/postman")
}

fn newman_present() -> bool {
    Command::new("newman")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_sandbox_environment_matches_the_demo_corp() {
    let env: Value = serde_json::from_str(
        &std::fs::read_to_string(postman_dir().join("sandbox.postman_environment.json")).unwrap(),
    )
    .unwrap();
    let get = |key: &str| -> String {
        env["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == key)
            .and_then(|v| v["value"].as_str())
            .unwrap_or_else(|| panic!("no {key} in the environment"))
            .to_owned()
    };
    let sb = SandboxProcess::start(&[]);
    assert_eq!(get("corpid"), sb.info["corp_id"].as_str().unwrap());
    assert_eq!(
        get("corpsecret"),
        sb.info["apps"][0]["secret"].as_str().unwrap()
    );
    assert_eq!(get("agentid"), sb.info["apps"][0]["agent_id"].to_string());
    assert_eq!(
        get("contact_secret"),
        sb.info["contact_secret"].as_str().unwrap()
    );
}

#[test]
fn newman_runs_the_collection_auth_flow_and_requests_against_the_sandbox() {
    if !newman_present() {
        assert!(
            std::env::var_os("CI").is_none(),
            "newman is missing in CI: .ci/run installs it (npm install -g newman)"
        );
        eprintln!("SKIPPED: newman is not installed (npm install -g newman); CI runs this test");
        return;
    }
    let sb = SandboxProcess::start(&[]);
    let base_url = sb.info["base_url"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let folders = [
        "gettoken",
        "department_list",
        "user_get",
        "tag_list",
        "agent_get",
        "department_create",
    ];
    let mut cmd = Command::new("newman");
    cmd.current_dir(postman_dir())
        .args([
            "run",
            "wecom.postman_collection.json",
            "-e",
            "sandbox.postman_environment.json",
        ])
        .args(["--env-var", &format!("base_url={base_url}")])
        .args(["--env-var", "name=newman部", "--env-var", "parentid=1"])
        .args(["--reporters", "json", "--reporter-json-export"])
        .arg(&report)
        .arg("--color")
        .arg("off");
    for f in folders {
        cmd.args(["--folder", f]);
    }
    let out = cmd.output().expect("newman runs");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default())
        .unwrap_or_else(|e| {
            panic!(
                "newman wrote no report ({e}); stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(
        out.status.success(),
        "newman failed: {}",
        report["run"]["failures"]
    );
    let executions = report["run"]["executions"].as_array().unwrap();
    let mut seen = Vec::new();
    for e in executions {
        let name = e["item"]["name"].as_str().unwrap().to_owned();
        // The JSON reporter lists a request again when its pre-request script sent one.
        if seen.contains(&name) {
            continue;
        }
        let bytes: Vec<u8> = e["response"]["stream"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        let answer: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(answer["errcode"], 0, "{name}: {answer}");
        if name == "user_get" {
            assert_eq!(answer["name"], "陈静");
        }
        if name == "department_create" {
            assert!(answer["id"].as_u64().is_some(), "{answer}");
        }
        seen.push(name);
    }
    seen.sort();
    let mut expected = folders.to_vec();
    expected.sort();
    assert_eq!(seen, expected, "every request ran");

    // The script fetched one token per secret (app, contact-sync) and reused it: with the
    // collection's own gettoken request, three gettoken calls for six requests.
    let counters = http_get(&base_url, "/sandbox/counters");
    let gettoken = counters["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["endpoint"] == "gettoken")
        .map(|c| c["calls"].as_u64().unwrap());
    assert_eq!(gettoken, Some(3), "{counters}");
}

fn http_get(base_url: &str, path: &str) -> Value {
    use std::io::{Read as _, Write as _};
    let host = base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    let start = body.find('{').unwrap();
    let end = body.rfind('}').unwrap();
    serde_json::from_str(&body[start..=end]).unwrap()
}
