//! `wecom contacts export --async` against an in-process sandbox (issue 16 part 3).

use serde_json::Value;
use wecom_sandbox::Sandbox;

use crate::common::at;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_export_writes_every_record_as_csv_and_json_lines() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("members.csv");
    let out = at(
        &sb,
        &["contacts", "export", "--async", "-o", csv.to_str().unwrap()],
    )
    .await
    .ok()
    .to_owned();
    assert!(out.contains("exported"), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("userid,name,department_ids,position,status")
    );
    let members = sb.admin().corp().members().count();
    assert_eq!(lines.count(), members);

    let jl = dir.path().join("departments.jsonl");
    let summary = at(
        &sb,
        &[
            "--json",
            "contacts",
            "export",
            "--async",
            "--kind",
            "department",
            "--format",
            "json",
            "-o",
            jl.to_str().unwrap(),
        ],
    )
    .await
    .json();
    assert_eq!(summary["job_type"], "export_department");
    let rows: Vec<Value> = std::fs::read_to_string(&jl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(summary["records"].as_u64().unwrap() as usize, rows.len());
    assert!(rows.iter().all(|r| r["department"]["id"].is_u64()));

    // A tag export needs the tag.
    let r = at(
        &sb,
        &[
            "contacts", "export", "--async", "--kind", "taguser", "-o", "-",
        ],
    )
    .await;
    assert!(r.error_line().contains("--tagid"), "{}", r.stderr);
}
