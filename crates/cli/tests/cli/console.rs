//! `wecom api` (by name, by path, --list, --help, --raw) against an in-process sandbox, and
//! `wecom proxy` as a child process forwarding to it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Stdio};

use serde_json::{Value, json};
use wecom_sandbox::Sandbox;
use wecom_sandbox::admin::{NamedTarget, TokenTarget};

use crate::common::{at, run, sandbox_env, sandbox_secrets, wecom};

#[test]
fn list_and_help_come_from_the_spec_without_any_configuration() {
    let listed = run(wecom(&["api", "--list", "contacts"]));
    let out = listed.ok();
    assert!(
        out.contains("user_get") && out.contains("department/create"),
        "{out}"
    );
    assert!(
        !out.contains("message_send"),
        "only the contacts area: {out}"
    );
    let all = run(wecom(&["--json", "api", "--list"])).json();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"message_send") && names.contains(&"gettoken"),
        "{names:?}"
    );

    let help = run(wecom(&["api", "user_get", "--help"]));
    let text = help.ok();
    assert!(text.contains("GET /cgi-bin/user/get"), "{text}");
    assert!(text.contains("1-64 bytes"), "{text}");
    assert!(
        text.contains("https://developer.work.weixin.qq.com/document/path/90196"),
        "{text}"
    );
    let usage = run(wecom(&["api", "--help"]));
    assert!(usage.ok().contains("--raw"), "{}", usage.stdout);

    let typo = run(wecom(&["api", "user_gett", "--help"]));
    assert!(
        typo.error_line().contains("user_get"),
        "suggests: {}",
        typo.stderr
    );
    assert_eq!(typo.code, 2);
    let area = run(wecom(&["api", "--list", "nosuch"]));
    assert!(area.error_line().contains("contacts"), "{}", area.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_any_endpoint_by_name_or_path_with_the_spec_checks_first() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let admin = sb.admin();
    let member = at(&sb, &["--json", "api", "user_get", "-f", "userid=chenjing"])
        .await
        .json();
    assert_eq!(member["name"], "陈静");
    let by_path = at(
        &sb,
        &[
            "--json",
            "api",
            "/cgi-bin/user/get",
            "-f",
            "userid=chenjing",
        ],
    )
    .await
    .json();
    assert_eq!(by_path, member);
    let before = admin.count("user_get");

    // Checked by the typed request's validate() before any I/O, with the field and errcode named.
    let bad = at(&sb, &["api", "user_get", "-f", "userid=bad id"]).await;
    let line = bad.error_line();
    assert!(line.contains("userid") && line.contains("40003"), "{line}");
    let missing = at(&sb, &["api", "user_list"]).await;
    assert!(
        missing.error_line().contains("department_id"),
        "{}",
        missing.stderr
    );
    let unknown_field = at(&sb, &["api", "user_get", "-f", "user=chenjing"]).await;
    assert!(
        unknown_field.error_line().contains("userid"),
        "{}",
        unknown_field.stderr
    );
    assert_eq!(admin.count("user_get"), before, "nothing bad was sent");

    // A message, its nested fields by dotted names: it arrives in the member's inbox.
    let sent = at(
        &sb,
        &[
            "--json",
            "api",
            "message_send",
            "-f",
            "touser=chenjing",
            "-f",
            "msgtype=text",
            "-f",
            "text.content=hello from wecom api",
            "-f",
            "agentid=1000002",
        ],
    )
    .await
    .json();
    assert!(sent["msgid"].is_string(), "{sent}");
    let inbox = admin.inbox("chenjing");
    assert!(
        inbox
            .iter()
            .any(|m| m.message["text"]["content"] == "hello from wecom api"),
        "{inbox:?}"
    );

    // A body file plus fields; an errcode from WeCom is explained.
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("dept.json");
    std::fs::write(
        &body,
        json!({"name": "控制台部", "parentid": 1}).to_string(),
    )
    .unwrap();
    let created = at(
        &sb,
        &[
            "--json",
            "api",
            "department_create",
            "--body",
            body.to_str().unwrap(),
            "-f",
            "order=3",
        ],
    )
    .await
    .json();
    assert!(created["id"].as_u64().is_some(), "{created}");
    let again = at(
        &sb,
        &["api", "department_create", "--body", body.to_str().unwrap()],
    )
    .await;
    let line = again.error_line();
    assert!(
        line.contains("60008"),
        "the duplicate name is explained: {line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_calls_reach_paths_the_spec_does_not_have_and_explain_the_errcode() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let got = at(
        &sb,
        &[
            "--json",
            "api",
            "--raw",
            "GET",
            "user/get",
            "-q",
            "userid=chenjing",
            "--credential",
            "app-or-contact",
        ],
    )
    .await
    .json();
    assert_eq!(got["name"], "陈静");
    assert_eq!(got["errcode"], 0);
    // A path the spec does not declare (a wave-3 smart-sheet call): the sandbox does not know it.
    let unknown = at(&sb, &["api", "--raw", "post", "wedoc/smartsheet/get_sheet"]).await;
    let line = unknown.error_line();
    assert!(
        line.contains("48001") && line.contains("not authorized"),
        "{line}"
    );
    let token = at(
        &sb,
        &["api", "--raw", "GET", "user/get", "-q", "access_token=x"],
    )
    .await;
    assert!(
        token.error_line().contains("access_token"),
        "{}",
        token.stderr
    );
    let usage = at(&sb, &["api", "--raw", "GET"]).await;
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}

/// A running `wecom proxy`, killed on drop.
struct ProxyProcess {
    child: Child,
    url: String,
}

impl ProxyProcess {
    fn start(sb: &Sandbox) -> ProxyProcess {
        let mut cmd = wecom(&["proxy", "--upstream", sb.base_url()]);
        sandbox_env(&mut cmd, sb);
        // The profile's base URL is not where the proxy forwards: --upstream is.
        cmd.env("WECOM_BASE_URL", "http://127.0.0.1:9");
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().expect("wecom proxy starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("first line is not JSON ({e}): {line:?}"));
        assert_eq!(info["upstream"], sb.base_url());
        ProxyProcess {
            child,
            url: info["proxy"].as_str().unwrap().to_owned(),
        }
    }

    /// Stops it and returns what it logged.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let _ = self.child.wait();
        err
    }
}

/// One HTTP/1.1 exchange on loopback: (status, body).
async fn http(url: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    http_typed(url, method, path, body.map(|b| ("application/json", b))).await
}

/// One HTTP/1.1 exchange with a body of the given content type.
async fn http_typed(
    url: &str,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> (u16, String) {
    let host = url.trim_start_matches("http://").to_owned();
    let request = match body {
        Some((content_type, b)) => format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        ),
        None => format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    };
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&host).expect("connect to the proxy");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}

fn json_in(body: &str) -> Value {
    let start = body.find('{').expect("a JSON body");
    let end = body.rfind('}').expect("a JSON body");
    serde_json::from_str(&body[start..=end]).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_adds_the_right_token_and_retries_once_after_a_revoked_one() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let admin = sb.admin();
    let proxy = ProxyProcess::start(&sb);
    let url = proxy.url.clone();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "loopback by default: {url}"
    );

    // The caller's token (a wrong one here) is replaced by the right one.
    let (status, body) = http(
        &url,
        "GET",
        "/cgi-bin/user/get?userid=chenjing&access_token=bogus",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json_in(&body)["name"], "陈静");

    // A directory write: the catalogue says it needs the contact-sync token.
    let (_, body) = http(
        &url,
        "POST",
        "/cgi-bin/department/create",
        Some(r#"{"name":"代理部","parentid":1}"#),
    )
    .await;
    let created = json_in(&body);
    assert_eq!(created["errcode"], 0, "{created}");

    // A revoked token: re-fetched and the call sent once more, invisibly to the caller.
    let fetched = admin.count("gettoken");
    admin.revoke_tokens(TokenTarget::Named(NamedTarget::All));
    let (_, body) = http(&url, "GET", "/cgi-bin/user/get?userid=chenjing", None).await;
    assert_eq!(json_in(&body)["name"], "陈静", "{body}");
    assert_eq!(admin.count("gettoken"), fetched + 1, "one new token");

    // A final errcode comes back as WeCom sent it.
    let (status, body) = http(&url, "GET", "/cgi-bin/user/get?userid=nosuch", None).await;
    assert_eq!(
        (status, json_in(&body)["errcode"].as_i64()),
        (200, Some(60111)),
        "{body}"
    );
    let (status, _) = http(&url, "GET", "/elsewhere", None).await;
    assert_eq!(status, 404);

    // A group robot's key is the caller's own: passed through, never replaced by a token.
    let (_, body) = http(
        &url,
        "POST",
        "/cgi-bin/webhook/send?key=sandbox-robot-key-0001",
        Some(r#"{"msgtype":"text","text":{"content":"机器人经代理"}}"#),
    )
    .await;
    assert_eq!(json_in(&body)["errcode"], 0, "{body}");
    assert!(
        admin
            .robot_messages()
            .iter()
            .any(|m| m.message.to_string().contains("机器人经代理"))
    );

    // A file upload (what curl -F sends) is forwarded as it came.
    let multipart = "--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"note.txt\"\r\nContent-Type: text/plain\r\n\r\nhello from the proxy\r\n--XyZ--\r\n";
    let (_, body) = http_typed(
        &url,
        "POST",
        "/cgi-bin/media/upload?type=file",
        Some(("multipart/form-data; boundary=XyZ", multipart)),
    )
    .await;
    let uploaded = json_in(&body);
    assert_eq!(uploaded["errcode"], 0, "{uploaded}");
    let id = uploaded["media_id"].as_str().unwrap();
    assert!(
        admin.media().iter().any(|m| m.media_id == id),
        "stored in the sandbox"
    );

    let log = proxy.stop();
    assert!(
        log.contains("GET /cgi-bin/user/get -> errcode 0: ok"),
        "{log}"
    );
    assert!(
        log.contains("errcode 60111: The UserID does not exist"),
        "{log}"
    );
    assert!(
        log.contains("POST /cgi-bin/department/create -> errcode 0"),
        "{log}"
    );
    assert!(
        !log.contains("bogus") && !log.contains("access_token="),
        "no token in the log: {log}"
    );
    for secret in sandbox_secrets(&sb) {
        assert!(!log.contains(&secret), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_off_the_command_line_and_out_of_answers() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let creds = sb.credentials();
    let secret = creds.apps[0].secret.expose().to_owned();
    let argv = at(
        &sb,
        &[
            "api",
            "gettoken",
            "-f",
            "corpid=x",
            "-f",
            &format!("corpsecret={secret}"),
        ],
    )
    .await;
    assert_eq!(argv.code, 2);
    assert!(argv.error_line().contains("--body"), "{}", argv.stderr);

    let mut cmd = wecom(&["--json", "api", "gettoken", "--body", "-"]);
    sandbox_env(&mut cmd, &sb);
    let body = json!({"corpid": creds.corpid, "corpsecret": secret}).to_string();
    let out = tokio::task::spawn_blocking(move || crate::common::run_with_stdin(cmd, &body))
        .await
        .unwrap();
    let v = out.json();
    assert!(
        v["access_token"].as_str().unwrap().starts_with("***"),
        "{v}"
    );
    assert_eq!(v["expires_in"], 7200);
    let raw = at(&sb, &["--json", "api", "--raw", "GET", "get_jsapi_ticket"])
        .await
        .json();
    assert_eq!(raw["errcode"], 0, "{raw}");
}
