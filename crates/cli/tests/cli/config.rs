//! Configuration: environment, profile files, secret files; errors without secrets.

use crate::common::{run, run_with_stdin, wecom};

const SECRET: &str = "app-secret-that-must-not-leak-0001";
const CONTACT: &str = "contact-secret-that-must-not-leak-02";

fn profile_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
default_profile = "prod"

[profiles.prod]
corp_id = "ww0000000000000001"
base_url = "http://127.0.0.1:9"
contact_secret = "{CONTACT}"
default_app = "approval"

[profiles.prod.apps.approval]
agent_id = 1000002
secret = "{SECRET}"

[profiles.prod.apps.weekly]
agent_id = 1000003
secret = {{ env = "WEEKLY_SECRET_FOR_TEST" }}

[profiles.staging]
corp_id = "ww0000000000000002"
"#
        ),
    )
    .expect("profile written");
    path
}

#[test]
fn config_shows_the_selection_without_secret_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = profile_file(dir.path());
    let mut cmd = wecom(&["--json", "config"]);
    cmd.env("WECOM_CONFIG", &path);
    let r = run(cmd);
    let v = r.json();
    r.assert_no_secret(&[SECRET, CONTACT]);
    assert_eq!(v["corp_id"], "ww0000000000000001");
    assert_eq!(v["contact_secret"], "set");
    let apps = v["apps"].as_array().expect("apps");
    let approval = apps
        .iter()
        .find(|a| a["name"] == "approval")
        .expect("approval");
    assert_eq!(approval["selected"], true);
    assert_eq!(approval["secret"], "set");
    let weekly = apps.iter().find(|a| a["name"] == "weekly").expect("weekly");
    assert!(
        weekly["secret"].as_str().unwrap().starts_with("unreadable"),
        "{weekly}"
    );

    // --app by name or agentid, --profile.
    let mut cmd = wecom(&["--json", "--app", "1000003", "config"]);
    cmd.env("WECOM_CONFIG", &path)
        .env("WEEKLY_SECRET_FOR_TEST", "weekly-secret-value-003");
    let v = run(cmd).json();
    let weekly = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "weekly")
        .cloned()
        .unwrap();
    assert_eq!(weekly["selected"], true);
    assert_eq!(weekly["secret"], "set");

    let mut cmd = wecom(&["--json", "--profile", "staging", "config"]);
    cmd.env("WECOM_CONFIG", &path);
    assert_eq!(run(cmd).json()["corp_id"], "ww0000000000000002");
}

#[test]
fn unknown_profile_and_app_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = profile_file(dir.path());
    let mut cmd = wecom(&["--profile", "nope", "config"]);
    cmd.env("WECOM_CONFIG", &path);
    let r = run(cmd);
    let line = r.error_line();
    assert!(line.contains("no profile \"nope\""), "{line}");
    assert!(line.contains("prod, staging"), "{line}");
    assert_eq!(r.code, 2);
    r.assert_no_secret(&[SECRET, CONTACT]);

    let mut cmd = wecom(&["--app", "sales", "token"]);
    cmd.env("WECOM_CONFIG", &path);
    let r = run(cmd);
    let line = r.error_line();
    assert!(line.contains("no app \"sales\""), "{line}");
    assert!(line.contains("approval (1000002)"), "{line}");
    r.assert_no_secret(&[SECRET, CONTACT]);
}

#[test]
fn a_broken_profile_file_names_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[profiles.x]\ncorp = 1\n").unwrap();
    let mut cmd = wecom(&["config"]);
    cmd.env("WECOM_CONFIG", &path);
    let r = run(cmd);
    let line = r.error_line();
    assert!(line.contains("not valid"), "{line}");
    assert!(line.contains("corp"), "{line}");
    assert_eq!(r.code, 2);

    let r = run(wecom(&["--config", "/nonexistent/wecom.toml", "config"]));
    assert!(r.error_line().contains("does not exist"));
}

#[test]
fn no_corp_configured_says_how_to_configure_one() {
    let r = run(wecom(&["token"]));
    let line = r.error_line();
    assert!(line.contains("no corp configured"), "{line}");
    assert!(line.contains("wecom sandbox"), "{line}");
    assert_eq!(r.code, 2);
}

#[test]
fn secret_file_and_stdin_are_read_and_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    // Unreachable host: the call fails, and the error line must not contain the secret.
    let mut cmd = wecom(&["--secret-file", file.to_str().unwrap(), "--json", "config"]);
    cmd.env("WECOM_CORP_ID", "ww0000000000000001")
        .env("WECOM_AGENT_ID", "1000002");
    let r = run(cmd);
    assert_eq!(r.json()["apps"][0]["secret"], "set");
    r.assert_no_secret(&[SECRET]);

    let mut cmd = wecom(&["--secret-file", "-", "token"]);
    cmd.env("WECOM_CORP_ID", "ww0000000000000001")
        .env("WECOM_AGENT_ID", "1000002")
        .env("WECOM_BASE_URL", "http://127.0.0.1:9");
    let r = run_with_stdin(cmd, SECRET);
    let line = r.error_line();
    assert!(line.contains("connect"), "{line}");
    r.assert_no_secret(&[SECRET]);

    let mut cmd = wecom(&["--secret-file", "/nonexistent/secret", "token"]);
    cmd.env("WECOM_CORP_ID", "ww0000000000000001")
        .env("WECOM_AGENT_ID", "1000002");
    let line = run(cmd).error_line().to_owned();
    assert!(line.contains("/nonexistent/secret"), "{line}");
}

#[test]
fn env_secret_without_agent_is_refused() {
    let mut cmd = wecom(&["token"]);
    cmd.env("WECOM_CORP_ID", "ww0000000000000001")
        .env("WECOM_SECRET", SECRET);
    let r = run(cmd);
    let line = r.error_line();
    assert!(line.contains("WECOM_AGENT_ID"), "{line}");
    r.assert_no_secret(&[SECRET]);
}
