//! A month of check-in records for 5,000 members against a sandbox in a child process (so this
//! process measures only the client): the calls made (WeCom allows 100 members and 30 days per
//! call: 50 calls is the fewest), the time, and the growth of this process's peak RSS while the
//! records stream through batch by batch (counted, not kept).
//!
//! `cargo bench -p wecom-tests --bench checkin` (`CHECKIN_BENCH_MEMBERS` for another size).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use futures_util::TryStreamExt;
use wecom_core_auth::Client;
use wecom_oa::OaExt;
use wecom_oa::checkin::Fetch;
use wecom_tests::{BIG_AGENTID, BIG_SECRET, member_id};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const MIB: f64 = 1024.0 * 1024.0;

fn members() -> usize {
    std::env::var("CHECKIN_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000)
}

fn main() -> Res {
    if std::env::args().any(|a| a == "--sandbox-child") {
        return sandbox_child();
    }
    let (mut child, base_url) = spawn_sandbox()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = rt.block_on(run(&base_url));
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

fn sandbox_child() -> Res {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::builder()
            .corp(wecom_tests::big_corp(members())?)
            .start()
            .await?;
        println!("{}", sandbox.base_url());
        std::io::stdout().flush()?;
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        drop(sandbox);
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

fn spawn_sandbox() -> Res<(Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--sandbox-child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        let _ = child.kill();
        return Err(format!("the sandbox child printed `{url}`").into());
    }
    Ok((child, url))
}

fn rss() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

async fn calls(base_url: &str) -> Res<u64> {
    let body = reqwest::get(format!("{base_url}/sandbox/counters"))
        .await?
        .text()
        .await?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let n = v
        .get("counters")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .find(|e| e.get("endpoint").and_then(|n| n.as_str()) == Some("checkin_records"))
        .and_then(|e| e.get("calls").and_then(|c| c.as_u64()))
        .unwrap_or(0);
    Ok(n)
}

async fn run(base_url: &str) -> Res {
    let corp = wecom_tests::big_corp(0)?;
    let client = Client::builder(corp.corpid())
        .base_url(base_url)
        .app(
            BIG_AGENTID,
            wecom_core_auth::Secret::new(BIG_SECRET.to_owned()),
        )
        .build()?;
    client.access_token().await?;
    let n = members();
    let users: Vec<String> = (0..n).map(member_id).collect();
    // November 2026, China time: 30 days.
    let (start, end) = (1_793_462_400, 1_793_462_400 + 30 * 86_400 - 1);
    let before_calls = calls(base_url).await?;
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = rss().map(|r| r.0).unwrap_or(0);
    let started = Instant::now();
    let mut records = 0usize;
    let mut batches = std::pin::pin!(client.oa().checkin_records_in(
        start,
        end,
        users,
        Fetch::default().concurrency(8)
    ));
    while let Some(batch) = batches.try_next().await? {
        records += batch.len();
    }
    let elapsed = started.elapsed();
    let made = calls(base_url).await? - before_calls;
    let peak = match (reset, rss()) {
        (true, Some((_, hwm))) => format!("{:.1}", hwm.saturating_sub(before) as f64 / MIB),
        _ => "n/a".to_owned(),
    };
    println!(
        "checkin month: {n} members, 30 days: {made} calls, {:.0} ms, peak RSS growth {peak} MiB, {records} records",
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}
