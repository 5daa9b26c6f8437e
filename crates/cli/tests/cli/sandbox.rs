//! `wecom sandbox` as a child process: its first line, and other commands against it.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;

use serde_json::Value;

use crate::common::wecom;

/// A running `wecom sandbox`, killed on drop.
pub struct SandboxProcess {
    child: std::process::Child,
    /// Its first stdout line.
    pub info: Value,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SandboxProcess {
    /// Starts `wecom sandbox` with `args` and reads its first line.
    pub fn start(args: &[&str]) -> SandboxProcess {
        let mut all = vec!["sandbox"];
        all.extend_from_slice(args);
        let mut cmd = wecom(&all);
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().expect("wecom sandbox starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a first line");
        let info = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("first line is not JSON ({e}): {line:?}"));
        SandboxProcess { child, info }
    }

    /// A `wecom` command configured for this sandbox through the environment.
    pub fn wecom(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = wecom(args);
        let app = &self.info["apps"][0];
        cmd.env("WECOM_BASE_URL", self.info["base_url"].as_str().unwrap())
            .env("WECOM_CORP_ID", self.info["corp_id"].as_str().unwrap())
            .env("WECOM_AGENT_ID", app["agent_id"].to_string())
            .env("WECOM_SECRET", app["secret"].as_str().unwrap())
            .env(
                "WECOM_CONTACT_SECRET",
                self.info["contact_secret"].as_str().unwrap(),
            );
        cmd
    }
}

#[test]
fn first_line_is_json_with_everything_a_client_needs() {
    let sb = SandboxProcess::start(&["--token-ttl", "60"]);
    let info = &sb.info;
    let base = info["base_url"].as_str().expect("base_url");
    assert!(base.starts_with("http://127.0.0.1:"), "{info}");
    assert!(
        info["corp_id"].as_str().is_some_and(|c| !c.is_empty()),
        "{info}"
    );
    let apps = info["apps"].as_array().expect("apps");
    assert!(!apps.is_empty());
    for app in apps {
        assert!(app["agent_id"].as_u64().is_some(), "{app}");
        assert!(
            app["secret"].as_str().is_some_and(|s| !s.is_empty()),
            "{app}"
        );
    }
    assert!(
        info["contact_secret"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(info["page"].as_str().unwrap(), format!("{base}/"));
}

#[test]
fn a_fixed_port_that_is_taken_is_one_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let r = crate::common::run(wecom(&["sandbox", "--port", &port]));
    let line = r.error_line();
    assert!(line.contains(&port), "{line}");
}

#[test]
fn other_commands_work_against_it_from_another_process() {
    let sb = SandboxProcess::start(&[]);
    let secrets: Vec<&str> = sb.info["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["secret"].as_str().unwrap())
        .chain([sb.info["contact_secret"].as_str().unwrap()])
        .collect();
    let token = crate::common::run(sb.wecom(&["--json", "token"]));
    assert!(token.json()["length"].as_u64().is_some_and(|n| n > 0));
    token.assert_no_secret(&secrets);

    let dept = crate::common::run(sb.wecom(&["department", "list"]));
    assert!(dept.ok().lines().count() >= 2);

    let sent =
        crate::common::run(sb.wecom(&["--json", "send", "--to", "@all", "text", "hello everyone"]));
    assert!(sent.json()["msgid"].is_string());
    sent.assert_no_secret(&secrets);

    let scope = crate::common::run(sb.wecom(&["scope", "--user", "zhangwei"]));
    assert!(
        scope.ok().contains("zhangwei is visible"),
        "{}",
        scope.stdout
    );
}

#[test]
fn dump_corp_round_trips_through_corp_file() {
    let dump = crate::common::run(wecom(&["sandbox", "--dump-corp"]));
    let toml = dump.ok().to_owned();
    assert!(toml.contains("[[department]]"), "{toml}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corp.toml");
    std::fs::write(&path, toml.replace("示例科技", "测试公司")).unwrap();
    let sb = SandboxProcess::start(&["--corp", path.to_str().unwrap()]);
    let dept = crate::common::run(sb.wecom(&["department", "list"]));
    assert!(dept.ok().contains("测试公司"), "{}", dept.stdout);

    std::fs::write(&path, "corpid = 1\n").unwrap();
    let r = crate::common::run(wecom(&["sandbox", "--corp", path.to_str().unwrap()]));
    let line = r.error_line();
    assert!(
        line.contains("corp.toml") && line.contains("--dump-corp"),
        "{line}"
    );
}
