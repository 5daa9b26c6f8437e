//! `wecom approval ...` and `wecom checkin ...` against an in-process sandbox.

use wecom_sandbox::Sandbox;

use crate::common::at;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_template_apply_get_and_a_wrong_value() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let t = at(&sb, &["approval", "template", "sandbox-expense"]).await;
    assert!(t.ok().contains("金额"), "{}", t.ok());
    let v = at(
        &sb,
        &[
            "--json",
            "approval",
            "apply",
            "sandbox-expense",
            "--creator",
            "lina",
            "--set",
            "事由=团建",
            "--set",
            "金额=300.5",
            "--approver",
            "zhangwei",
        ],
    )
    .await
    .json();
    let sp_no = v["sp_no"].as_str().expect("an sp_no").to_owned();
    let got = at(&sb, &["--json", "approval", "get", &sp_no]).await.json();
    assert_eq!(got["sp_status"], 1, "{got}");
    // A wrong value for a Money control: refused before any call, naming the control.
    sb.admin().reset_counters();
    let bad = at(
        &sb,
        &[
            "approval",
            "apply",
            "sandbox-expense",
            "--creator",
            "lina",
            "--set",
            "事由=x",
            "--set",
            "金额=lots",
        ],
    )
    .await;
    assert!(bad.error_line().contains("金额"), "{}", bad.stderr);
    assert_eq!(sb.admin().count("approval_apply"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_month_report() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let out = at(
        &sb,
        &[
            "checkin",
            "report",
            "month",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--users",
            "lina,zhangwei",
        ],
    )
    .await;
    let text = out.ok();
    assert!(text.contains("lina") && text.contains("21"), "{text}");
    let records = at(
        &sb,
        &[
            "checkin",
            "records",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-02",
            "--users",
            "lina",
        ],
    )
    .await;
    assert!(records.ok().starts_with("2 records"), "{}", records.ok());
}
