//! `wecom meeting ...`, `wecom health ...` and `wecom mail send` against an in-process sandbox.

use std::time::{SystemTime, UNIX_EPOCH};

use wecom_sandbox::Sandbox;

use crate::common::at;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meeting_create_get_list_and_cancel() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let start = (now + 3600).to_string();
    let created = at(
        &sb,
        &[
            "--json",
            "meeting",
            "create",
            "--admin",
            "lina",
            "--title",
            "周会",
            "--start",
            &start,
            "--duration",
            "1800",
            "--invitee",
            "zhangwei",
        ],
    )
    .await
    .json();
    let id = created["meetingid"]
        .as_str()
        .expect("a meetingid")
        .to_owned();
    let got = at(&sb, &["--json", "meeting", "get", &id]).await.json();
    assert_eq!(got["title"], "周会", "{got}");
    assert_eq!(got["status"], 1, "{got}");
    let listed = at(
        &sb,
        &[
            "--json",
            "meeting",
            "list",
            "--user",
            "zhangwei",
            "--from",
            &now.to_string(),
        ],
    )
    .await
    .json();
    assert_eq!(listed["meetingids"], serde_json::json!([id]), "{listed}");
    let text = at(&sb, &["meeting", "cancel", &id]).await;
    assert!(text.ok().contains("cancelled"), "{}", text.ok());
    let got = at(&sb, &["--json", "meeting", "get", &id]).await.json();
    assert_eq!(got["status"], 4, "{got}");

    // A duration the page forbids never leaves the command.
    sb.admin().reset_counters();
    let bad = at(
        &sb,
        &[
            "meeting",
            "create",
            "--admin",
            "lina",
            "--title",
            "x",
            "--start",
            &start,
            "--duration",
            "60",
        ],
    )
    .await;
    assert!(
        bad.error_line().contains("meeting_duration"),
        "{}",
        bad.stderr
    );
    assert_eq!(sb.admin().count("meeting_create"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_jobs_and_answers_and_mail_send() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let jobs = at(&sb, &["--json", "health", "jobs"]).await.json();
    let list = jobs["jobs"].as_array().expect("jobs");
    assert!(!list.is_empty(), "{jobs}");
    let jobid = list[0]["jobid"].as_str().expect("a jobid").to_owned();
    let answers = at(&sb, &["--json", "health", "answers", &jobid])
        .await
        .json();
    assert!(
        answers["answers"].as_array().is_some_and(|a| !a.is_empty()),
        "{answers}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.txt");
    std::fs::write(&file, b"hello").expect("write");
    let sent = at(
        &sb,
        &[
            "--json",
            "mail",
            "send",
            "--to",
            "lina",
            "--to",
            "x@example.org",
            "--subject",
            "周报",
            "--content",
            "<b>hi</b>",
            "--attach",
            file.to_str().expect("utf-8 path"),
        ],
    )
    .await
    .json();
    assert_eq!(sent["sent"], true, "{sent}");
    let mails = wecom_sandbox::areas::oa::mail::mailbox(sb.admin().state(), "x@example.org");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "周报");
    assert_eq!(mails[0].attachments[0].size, 5);
}
