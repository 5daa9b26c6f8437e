//! Commands that call WeCom, against an in-process sandbox: each happy path, `--json`, and the
//! sandbox's view of what happened.

use serde_json::Value;
use wecom_sandbox::Sandbox;

use crate::common::{at, run_async, sandbox_env, wecom};

/// Runs `wecom ARGS` configured for `sandbox`.
async fn json(sandbox: &Sandbox, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    at(sandbox, &all).await.json()
}

async fn start() -> Sandbox {
    Sandbox::start().await.expect("sandbox starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_fetched_once_and_not_shown() {
    let sb = start().await;
    let out = at(&sb, &["token"]).await.ok().to_owned();
    assert!(out.contains("bytes"), "{out}");
    assert!(out.contains("--reveal"), "{out}");
    let v = json(&sb, &["token"]).await;
    assert!(v["length"].as_u64().is_some_and(|n| n > 0), "{v}");
    assert!(v.get("access_token").is_none(), "{v}");
    let contact = json(&sb, &["token", "--contact"]).await;
    assert_eq!(contact["kind"], "contact");

    let revealed = at(&sb, &["token", "--reveal"]).await.ok().trim().to_owned();
    assert_eq!(revealed.len() as u64, v["length"].as_u64().unwrap());
    // The token really works: the sandbox accepts it.
    let v = http_get_json(
        sb.base_url(),
        &format!("/cgi-bin/get_jsapi_ticket?access_token={revealed}"),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
}

/// A plain HTTP/1.1 GET on loopback, the body parsed as JSON.
async fn http_get_json(base_url: &str, path: &str) -> Value {
    use std::io::{Read as _, Write as _};
    let host = base_url.trim_start_matches("http://").to_owned();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&host).expect("connect to the sandbox");
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
        // The sandbox may answer chunked: take the JSON object inside.
        let start = body.find('{').expect("a JSON body");
        let end = body.rfind('}').expect("a JSON body");
        serde_json::from_str(&body[start..=end]).expect("JSON")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departments_list_get_create_update_delete() {
    let sb = start().await;
    let tree = at(&sb, &["department", "list"]).await.ok().to_owned();
    assert!(tree.lines().count() >= 2, "{tree}");
    let v = json(&sb, &["department", "list"]).await;
    let n = v["department"].as_array().expect("department").len();
    assert!(n >= 2);
    let simple = json(&sb, &["department", "list", "--simple"]).await;
    assert_eq!(simple["department_id"].as_array().unwrap().len(), n);

    let created = json(
        &sb,
        &[
            "department",
            "create",
            "--name",
            "测试部",
            "--parent",
            "1",
            "--order",
            "5",
        ],
    )
    .await;
    let id = created["id"].as_u64().expect("new id").to_string();
    let got = json(&sb, &["department", "get", &id]).await;
    assert_eq!(got["department"]["name"], "测试部");
    at(&sb, &["department", "update", &id, "--name", "质量部"])
        .await
        .ok();
    assert_eq!(
        json(&sb, &["department", "get", &id]).await["department"]["name"],
        "质量部"
    );
    assert!(
        at(&sb, &["department", "delete", &id])
            .await
            .ok()
            .contains(&id)
    );
    let r = at(&sb, &["department", "get", &id]).await;
    let line = r.error_line();
    assert!(
        line.contains("errcode 60003") || line.contains("60003"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_find_update_list_delete() {
    let sb = start().await;
    at(
        &sb,
        &[
            "user",
            "create",
            "demo_new",
            "--name",
            "新同事",
            "--department",
            "2",
            "--mobile",
            "13900000099",
            "--email",
            "demo_new@example.com",
            "--position",
            "工程师",
        ],
    )
    .await
    .ok();
    let m = json(&sb, &["user", "get", "demo_new"]).await;
    assert_eq!(m["name"], "新同事");
    let text = at(&sb, &["user", "get", "demo_new"]).await.ok().to_owned();
    assert!(
        text.contains("position") && text.contains("工程师"),
        "{text}"
    );
    assert_eq!(
        json(&sb, &["user", "find", "--mobile", "13900000099"]).await["userid"],
        "demo_new"
    );
    at(
        &sb,
        &["user", "update", "demo_new", "--position", "高级工程师"],
    )
    .await
    .ok();
    assert_eq!(
        json(&sb, &["user", "get", "demo_new"]).await["position"],
        "高级工程师"
    );
    let list = json(&sb, &["user", "list", "--department", "2"]).await;
    assert!(
        list["userlist"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["userid"] == "demo_new")
    );
    let simple = at(&sb, &["user", "list", "--department", "2", "--simple"])
        .await
        .ok()
        .to_owned();
    assert!(simple.contains("demo_new"), "{simple}");
    at(&sb, &["user", "delete", "demo_new"]).await.ok();
    let r = at(&sb, &["user", "get", "demo_new"]).await;
    assert!(r.error_line().contains("60111"), "{}", r.stderr);

    let r = at(&sb, &["user", "update", "zhangwei"]).await;
    assert!(r.error_line().contains("nothing to change"));
    assert_eq!(r.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_and_members() {
    let sb = start().await;
    let created = json(&sb, &["tag", "create", "--name", "发布小组"]).await;
    let id = created["tagid"].as_u64().expect("tagid").to_string();
    let added = json(
        &sb,
        &[
            "tag",
            "add",
            &id,
            "--users",
            "zhangwei,nobody_here",
            "--parties",
            "3",
        ],
    )
    .await;
    assert_eq!(
        added["invalid_users"],
        serde_json::json!(["nobody_here"]),
        "{added}"
    );
    let got = json(&sb, &["tag", "get", &id]).await;
    assert_eq!(got["tagname"], "发布小组");
    assert!(
        got["userlist"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["userid"] == "zhangwei")
    );
    assert!(
        json(&sb, &["tag", "list"]).await["taglist"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["tagname"] == "发布小组")
    );
    at(&sb, &["tag", "update", &id, "--name", "轮值"])
        .await
        .ok();
    at(&sb, &["tag", "remove", &id, "--users", "zhangwei"])
        .await
        .ok();
    assert!(
        json(&sb, &["tag", "get", &id]).await["userlist"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
    at(&sb, &["tag", "delete", &id]).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_and_scope_explain_who_sees_what() {
    let sb = start().await;
    let creds = sb.credentials();
    let narrow = creds
        .apps
        .iter()
        .map(|a| a.agentid)
        .max()
        .unwrap()
        .to_string();
    let text = at(&sb, &["agent", "get"]).await.ok().to_owned();
    assert!(text.contains("visible scope"), "{text}");
    assert!(
        json(&sb, &["agent", "list"]).await["agentlist"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );
    // Another app's settings need that app's own secret: WeCom's 301002, explained.
    let r = at(&sb, &["agent", "get", &narrow]).await;
    let line = r.error_line();
    assert!(line.contains("301002") && line.contains("Fix:"), "{line}");

    // The narrow app's scope, with a reason for every member.
    let app = creds
        .apps
        .iter()
        .find(|a| a.agentid.to_string() == narrow)
        .unwrap();
    let mut cmd = wecom(&["--json", "agent", "get"]);
    sandbox_env(&mut cmd, &sb);
    cmd.env("WECOM_AGENT_ID", &narrow)
        .env("WECOM_SECRET", app.secret.expose());
    assert_eq!(run_async(cmd).await.json()["agentid"].to_string(), narrow);
    let mut cmd = wecom(&["--json", "scope"]);
    sandbox_env(&mut cmd, &sb);
    cmd.env("WECOM_AGENT_ID", &narrow)
        .env("WECOM_SECRET", app.secret.expose());
    let scope = run_async(cmd).await.json();
    let members = scope["members"].as_array().expect("members");
    assert!(!members.is_empty());
    assert_eq!(
        scope["member_count"].as_u64().unwrap() as usize,
        members.len()
    );
    for m in members {
        assert_eq!(m["visible"], true);
        assert!(!m["reasons"].as_array().unwrap().is_empty(), "{m}");
    }
    let total = json(&sb, &["contacts", "export", "--format", "json", "-o", "-"]).await;
    let everyone: Vec<String> = total["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userid"].as_str().unwrap().to_owned())
        .collect();
    let outsider = everyone
        .iter()
        .find(|u| {
            !members
                .iter()
                .any(|m| m["userid"].as_str() == Some(u.as_str()))
        })
        .expect("someone outside the narrow scope");
    let mut cmd = wecom(&["--json", "scope", "--user", outsider]);
    sandbox_env(&mut cmd, &sb);
    cmd.env("WECOM_AGENT_ID", &narrow)
        .env("WECOM_SECRET", app.secret.expose());
    let why = run_async(cmd).await.json();
    assert_eq!(why["visible"], false);
    assert!(why["text"].as_str().unwrap().contains("outside"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_every_kind_lands_in_the_inbox() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("pixel.png");
    std::fs::write(
        &png,
        [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0],
    )
    .unwrap();
    let doc = dir.path().join("notes.txt");
    std::fs::write(&doc, "meeting notes\n").unwrap();
    let card = dir.path().join("card.json");
    std::fs::write(
        &card,
        r#"{"card_type":"text_notice","main_title":{"title":"Approval"},"card_action":{"type":1,"url":"https://example.com"}}"#,
    )
    .unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["send", "--to", "zhangwei", "text", "hello"],
        vec!["send", "--to", "zhangwei", "markdown", "**bold**"],
        vec![
            "send",
            "--to",
            "zhangwei",
            "image",
            "--file",
            png.to_str().unwrap(),
        ],
        vec![
            "send",
            "--to",
            "zhangwei",
            "file",
            "--file",
            doc.to_str().unwrap(),
        ],
        vec![
            "send",
            "--to",
            "zhangwei",
            "textcard",
            "--title",
            "T",
            "--description",
            "D",
            "--url",
            "https://example.com",
        ],
        vec![
            "send",
            "--to",
            "zhangwei",
            "news",
            "--title",
            "N",
            "--url",
            "https://example.com",
        ],
        vec![
            "send",
            "--to",
            "zhangwei",
            "mpnews",
            "--title",
            "M",
            "--content",
            "<p>x</p>",
            "--file",
            png.to_str().unwrap(),
        ],
        vec![
            "send",
            "--to",
            "zhangwei",
            "miniprogram-notice",
            "--appid",
            "wx123",
            "--title",
            "会议提醒",
            "--item",
            "时间=10:00",
        ],
        vec![
            "send",
            "--to",
            "zhangwei",
            "template-card",
            card.to_str().unwrap(),
        ],
    ];
    for args in &cases {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let v = at(&sb, &all).await.json();
        assert!(
            v["msgid"].as_str().is_some_and(|m| !m.is_empty()),
            "{args:?}: {v}"
        );
        assert_eq!(v["complete"], true, "{v}");
    }
    let inbox = sb.admin().inbox("zhangwei");
    assert_eq!(inbox.len(), cases.len());

    // The same text again is answered but not delivered (WeCom's duplicate check), unless asked.
    at(&sb, &["send", "--to", "zhangwei", "text", "hello"])
        .await
        .ok();
    assert_eq!(sb.admin().inbox("zhangwei").len(), cases.len());
    at(
        &sb,
        &[
            "send",
            "--to",
            "zhangwei",
            "--no-duplicate-check",
            "text",
            "hello",
        ],
    )
    .await
    .ok();
    assert_eq!(sb.admin().inbox("zhangwei").len(), cases.len() + 1);

    // A whole message/send body from a file; agentid filled in.
    let body = dir.path().join("message.json");
    std::fs::write(
        &body,
        r#"{"touser":"zhangwei|nobody_here","msgtype":"text","text":{"content":"from a file"}}"#,
    )
    .unwrap();
    let v = at(&sb, &["send", "--json", body.to_str().unwrap()])
        .await
        .json();
    assert_eq!(
        v["invalid_users"],
        serde_json::json!(["nobody_here"]),
        "{v}"
    );
    assert_eq!(v["complete"], false);
    let text = at(&sb, &["send", body.to_str().unwrap()])
        .await
        .ok()
        .to_owned();
    assert!(
        text.contains("not delivered to members: nobody_here"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_upload_then_get_returns_the_same_bytes() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("report.txt");
    std::fs::write(&src, "quarterly numbers: 1, 2, 3\n").unwrap();
    let v = json(
        &sb,
        &["media", "upload", src.to_str().unwrap(), "--type", "file"],
    )
    .await;
    let id = v["media_id"].as_str().expect("media_id").to_owned();
    let dst = dir.path().join("copy.txt");
    let got = json(&sb, &["media", "get", &id, "-o", dst.to_str().unwrap()]).await;
    assert_eq!(got["bytes"].as_u64(), Some(27));
    assert_eq!(std::fs::read(&src).unwrap(), std::fs::read(&dst).unwrap());

    let r = at(
        &sb,
        &["media", "get", "no-such-media", "-o", dst.to_str().unwrap()],
    )
    .await;
    assert!(r.error_line().contains("40007"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_export_csv_and_json() {
    let sb = start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let out = at(&sb, &["contacts", "export", "-o", csv.to_str().unwrap()])
        .await
        .ok()
        .to_owned();
    assert!(out.contains("exported"), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("userid,name,department_ids,departments")
    );
    let members = sb.admin().corp().members().count();
    assert_eq!(lines.count(), members);
    let j = dir.path().join("people.json");
    let summary = json(
        &sb,
        &[
            "contacts",
            "export",
            "--format",
            "json",
            "-o",
            j.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(summary["members"].as_u64().unwrap() as usize, members);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    assert_eq!(doc["members"].as_array().unwrap().len(), members);
    assert!(!doc["departments"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_one_line_with_meaning_and_no_secret() {
    let sb = start().await;
    // A wrong secret: 40001 at gettoken.
    let mut cmd = wecom(&["token"]);
    sandbox_env(&mut cmd, &sb);
    cmd.env("WECOM_SECRET", "this-is-a-wrong-secret-42");
    let r = run_async(cmd).await;
    let line = r.error_line().to_owned();
    assert!(line.contains("40001"), "{line}");
    assert!(line.contains("Fix:") || line.contains("fix:"), "{line}");
    r.assert_no_secret(&["this-is-a-wrong-secret-42"]);

    // A limit broken before any request, naming the errcode WeCom would answer.
    let long = "x".repeat(1100);
    let r = at(
        &sb,
        &[
            "send",
            "--to",
            "zhangwei",
            "textcard",
            "--title",
            "t",
            "--description",
            "d",
            "--url",
            &format!("https://e.com/{long}{long}"),
        ],
    )
    .await;
    let line = r.error_line();
    assert!(line.contains("45034") && line.contains("2048"), "{line}");

    // A text longer than WeCom keeps is cut, as WeCom would, and the receipt says so.
    let long = "x".repeat(3000);
    let r = at(&sb, &["--json", "send", "--to", "zhangwei", "text", &long]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let receipt: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON receipt");
    assert_eq!(
        receipt["truncated"][0]["field"], "text.content",
        "{receipt}"
    );
    assert_eq!(receipt["truncated"][0]["length"], 3000);
    assert_eq!(receipt["truncated"][0]["limit"], 2048);

    // No recipient at all.
    let r = at(&sb, &["send", "text", "hi"]).await;
    assert!(r.error_line().contains("no recipient"));
    assert_eq!(r.code, 2);

    // --json errors are JSON on stderr.
    let r = at(&sb, &["--json", "user", "get", "no_such_user"]).await;
    assert_ne!(r.code, 0);
    let e: Value = serde_json::from_str(r.stderr.trim()).expect("JSON error");
    assert_eq!(e["error"]["errcode"], 60111);
    assert!(e["error"]["meaning"].is_string());
}

#[test]
fn demo_tells_the_whole_story_and_exits_zero() {
    let r = crate::common::run(wecom(&["demo"]));
    let out = r.ok();
    for needle in [
        "Access token",
        "Directory",
        "Visible scope",
        "Messages",
        "Media",
        "Callback",
        "passive reply",
        "http://127.0.0.1:",
    ] {
        assert!(
            out.contains(needle),
            "`{needle}` missing from the demo:\n{out}"
        );
    }
    for kind in [
        "text",
        "markdown",
        "image",
        "voice",
        "video",
        "file",
        "textcard",
        "news",
        "mpnews",
        "miniprogram_notice",
        "template_card",
    ] {
        assert!(
            out.contains(&format!("{kind} ")),
            "message type {kind} missing:\n{out}"
        );
    }
    let j = crate::common::run(wecom(&["--json", "demo"])).json();
    assert_eq!(j["ok"], true);
    assert!(j["steps"].as_array().is_some_and(|s| s.len() >= 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_shows_spans_on_stderr_without_tokens() {
    let sb = start().await;
    let r = at(&sb, &["--verbose", "token", "--reveal"]).await;
    let token = r.ok().trim().to_owned();
    assert!(!token.is_empty());
    assert!(r.stderr.contains("gettoken"), "{}", r.stderr);
    assert!(
        r.stderr.contains("close"),
        "span closes are shown: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains(&token),
        "the token leaks into the logs: {}",
        r.stderr
    );
    // Without --verbose, stderr is quiet.
    let quiet = at(&sb, &["token"]).await;
    assert!(quiet.stderr.trim().is_empty(), "{}", quiet.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jssdk_sign_fetches_the_ticket_with_the_configured_app() {
    let sb = start().await;
    let v = json(
        &sb,
        &[
            "jssdk",
            "sign",
            "--url",
            "https://app.example.com/page?x=1#top",
        ],
    )
    .await;
    let sig = v["signature"].as_str().expect("signature");
    assert_eq!(sig.len(), 40);
    assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(v["appId"], sb.credentials().corpid.as_str());
    assert_eq!(v["ticket"], "jsapi_ticket");
    let agent = json(
        &sb,
        &[
            "jssdk",
            "sign",
            "--agent",
            "--url",
            "https://app.example.com/",
        ],
    )
    .await;
    assert_eq!(agent["ticket"], "agent_config ticket");
    assert_eq!(agent["agentid"], sb.credentials().apps[0].agentid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_outside_the_visible_scope_explains_60011() {
    let sb = start().await;
    let creds = sb.credentials();
    let narrow = creds.apps.iter().max_by_key(|a| a.agentid).unwrap();
    let scope_members: Vec<String> = {
        let mut cmd = wecom(&["--json", "scope"]);
        sandbox_env(&mut cmd, &sb);
        cmd.env("WECOM_AGENT_ID", narrow.agentid.to_string())
            .env("WECOM_SECRET", narrow.secret.expose());
        run_async(cmd).await.json()["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["userid"].as_str().unwrap().to_owned())
            .collect()
    };
    let outsider = sb
        .admin()
        .corp()
        .members()
        .map(|m| m.userid.clone())
        .find(|u| !scope_members.contains(u))
        .expect("a member outside the narrow app's scope");
    // Only the app's secret: reads are limited to its scope.
    let mut cmd = wecom(&["user", "get", &outsider]);
    cmd.env("WECOM_BASE_URL", sb.base_url())
        .env("WECOM_CORP_ID", &creds.corpid)
        .env("WECOM_AGENT_ID", narrow.agentid.to_string())
        .env("WECOM_SECRET", narrow.secret.expose());
    let r = run_async(cmd).await;
    let line = r.error_line();
    assert!(line.contains("60011"), "{line}");
    assert!(
        line.contains("Fix:") && line.contains("visible scope"),
        "{line}"
    );
    r.assert_no_secret(&[narrow.secret.expose()]);
}
