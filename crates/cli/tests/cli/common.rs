//! Running the binary in a clean environment, and a sandbox to point it at.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use wecom_sandbox::Sandbox;

/// Every variable the command reads: removed so the tests see only what they set.
const VARS: &[&str] = &[
    "WECOM_CORP_ID",
    "WECOM_AGENT_ID",
    "WECOM_SECRET",
    "WECOM_CONTACT_SECRET",
    "WECOM_BASE_URL",
    "WECOM_PROFILE",
    "WECOM_APP",
    "WECOM_CONFIG",
    "WECOM_CALLBACK_TOKEN",
    "WECOM_CALLBACK_AES_KEY",
    "WECOM_CALLBACK_RECEIVE_ID",
    "WECOM_JSAPI_TICKET",
    "WECOM_ROBOT_KEY",
    "RUST_LOG",
];

/// The official callback vectors (`tests/vectors/callback-crypto.json`).
pub use wecom_testkit::callback_vectors as vectors;

/// A `wecom` command with a clean environment (no WECOM_* variable, no profile file).
pub fn wecom(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wecom"));
    for v in VARS {
        cmd.env_remove(v);
    }
    // No profile file of the machine's user.
    cmd.env("XDG_CONFIG_HOME", "/nonexistent/wecom-cli-tests");
    cmd.args(args);
    cmd
}

/// The result of a run, as text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let out = self.ok();
        serde_json::from_str(out.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out}"))
    }

    /// Asserts failure with one `error:` line on stderr, and returns that line.
    #[track_caller]
    pub fn error_line(&self) -> &str {
        assert_ne!(self.code, 0, "expected failure; stdout:\n{}", self.stdout);
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(
            errors.len(),
            1,
            "expected exactly one error line; stderr:\n{}",
            self.stderr
        );
        errors[0]
    }

    /// Asserts that none of `secrets` appears anywhere in the output.
    #[track_caller]
    pub fn assert_no_secret(&self, secrets: &[&str]) {
        for s in secrets {
            assert!(!s.is_empty());
            assert!(
                !self.stdout.contains(s),
                "stdout leaks a secret:\n{}",
                self.stdout
            );
            assert!(
                !self.stderr.contains(s),
                "stderr leaks a secret:\n{}",
                self.stderr
            );
        }
    }
}

/// Runs to completion with `stdin` as input.
pub fn run_with_stdin(mut cmd: Command, stdin: &str) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the wecom binary starts");
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .expect("stdin accepts the input");
    }
    Run::from(child.wait_with_output().expect("the wecom binary finishes"))
}

/// Runs to completion with empty stdin.
pub fn run(mut cmd: Command) -> Run {
    cmd.stdin(Stdio::null());
    Run::from(cmd.output().expect("the wecom binary runs"))
}

/// Runs on a blocking thread (for tests that serve a sandbox in the same runtime).
pub async fn run_async(cmd: Command) -> Run {
    tokio::task::spawn_blocking(move || run(cmd))
        .await
        .expect("the run finishes")
}

/// The environment pointing the command at a sandbox: corp, first app, contact-sync secret.
pub fn sandbox_env(cmd: &mut Command, sandbox: &Sandbox) {
    let creds = sandbox.credentials();
    let app = &creds.apps[0];
    cmd.env("WECOM_BASE_URL", &creds.base_url)
        .env("WECOM_CORP_ID", &creds.corpid)
        .env("WECOM_AGENT_ID", app.agentid.to_string())
        .env("WECOM_SECRET", app.secret.expose())
        .env("WECOM_CONTACT_SECRET", creds.contact_secret.expose());
}

/// Every secret of a sandbox's corp (to scan output for).
pub fn sandbox_secrets(sandbox: &Sandbox) -> Vec<String> {
    let creds = sandbox.credentials();
    let mut out: Vec<String> = creds
        .apps
        .iter()
        .map(|a| a.secret.expose().to_owned())
        .collect();
    out.push(creds.contact_secret.expose().to_owned());
    out
}

/// Runs `wecom ARGS` against `sandbox` (its environment set) and checks that no secret of the
/// sandbox appears in what it printed.
pub async fn at(sandbox: &Sandbox, args: &[&str]) -> Run {
    let mut cmd = wecom(args);
    sandbox_env(&mut cmd, sandbox);
    let r = run_async(cmd).await;
    let secrets = sandbox_secrets(sandbox);
    r.assert_no_secret(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
    r
}
