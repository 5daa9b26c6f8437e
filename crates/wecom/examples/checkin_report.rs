//! A month's check-in report: every member's records and month totals, the member list and
//! the range split to WeCom's per-call limits (100 members, 30 days) and fetched concurrently,
//! with progress. Needs the `oa` and `contacts` features.
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (an app granted 打卡
//! access); with no corp configured it starts an embedded sandbox, whose records are generated
//! from a seed.
//!
//! ```text
//! cargo run -p wecom --example checkin_report --features oa,contacts
//! ```

use futures_util::TryStreamExt as _;
use wecom::oa::checkin::Fetch;
use wecom::prelude::*;

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup {
        client,
        sandbox: _sandbox,
    } = common::connect().await?;
    // Every member the app can see.
    let members: Vec<String> = client
        .contacts()
        .user_list(1)
        .fetch_child(true)
        .await?
        .userlist
        .into_iter()
        .map(|m| m.userid)
        .collect();
    // November 2026, China time.
    let (start, end) = (1_793_462_400, 1_793_462_400 + 30 * 86_400 - 1);
    let fetch = Fetch::default()
        .concurrency(4)
        .on_progress(|p| eprintln!("  {}/{} calls", p.done, p.total));

    let records: Vec<_> = client
        .oa()
        .checkin_records_in(start, end, members.clone(), fetch.clone())
        .try_concat()
        .await?;
    let late = records
        .iter()
        .filter(|r| r.exception_type.as_deref().is_some_and(|e| !e.is_empty()))
        .count();
    println!(
        "{} records for {} members, {late} with an exception",
        records.len(),
        members.len()
    );

    let months: Vec<_> = client
        .oa()
        .checkin_month_reports_in(start, end - 86_399, members, fetch)
        .try_concat()
        .await?;
    println!(
        "{:<12} {:>9} {:>14} {:>8}",
        "member", "workdays", "exception days", "hours"
    );
    for m in &months {
        let s = m.summary_info.clone().unwrap_or_default();
        println!(
            "{:<12} {:>9} {:>14} {:>8.1}",
            m.base_info.acctid,
            s.work_days.unwrap_or(0),
            s.except_days.unwrap_or(0),
            s.regular_work_sec.unwrap_or(0) as f64 / 3600.0
        );
    }
    Ok(())
}
