//! Asynchronous directory export benchmark (issue 16 part 3): a 50,000-member export started,
//! waited for, fetched and decrypted as a stream through the client, against a sandbox serving the
//! corp in a child process (so this process measures only the client).
//!
//! For each size and export kind it prints one table row: records, encrypted bytes, files, time
//! (start to last record) and the client's peak memory growth. Peak memory is the growth of this
//! process's peak RSS (`VmHWM`, reset through `/proc/self/clear_refs`) over its RSS before the
//! export; on systems without them it reads n/a. The records are counted and dropped, as a caller
//! writing them out would; the encrypted size beside the memory shows it is not held whole.
//!
//! `cargo bench -p wecom-contacts --bench export` (50,000 members; `-- --long` adds 200,000;
//! `EXPORT_BENCH_QUICK=1` or `cargo test --benches` runs a 2,000-member smoke version).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wecom_contacts::export::{Export, ExportKind, ExportRecord};
use wecom_core_auth::{Client, Secret};
use wecom_sandbox::corp::{App, Corp, CorpFile, Department, Member};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const CORPID: &str = "wwexportbench00001";
const CONTACT_SECRET: &str = "bench-export-contact-secret-000000000000001";
const AGENTID: u32 = 1_000_001;
const APP_SECRET: &str = "bench-export-app-secret-0000000000000000001";
const DEPARTMENTS: u32 = 200;

/// A corp with `members` members spread over 200 departments, an app seeing all of it.
fn corp(members: usize) -> Result<Corp, wecom_sandbox::corp::CorpError> {
    let mut app = App::new(AGENTID, "Bench", APP_SECRET);
    app.allow_parties = vec![1];
    let departments = std::iter::once(Department::new(1, "root".to_owned(), 0))
        .chain((2..=DEPARTMENTS + 1).map(|id| Department::new(id, format!("部门{id}"), 1)))
        .collect();
    let members = (0..members)
        .map(|i| {
            let id = format!("u{i:07}");
            let dept = 2 + (i as u32 % DEPARTMENTS);
            Member::new(id.clone(), format!("成员{i}"), vec![dept])
        })
        .collect();
    Corp::from_file(CorpFile {
        corpid: CORPID.into(),
        name: "Export bench".into(),
        contact_secret: Secret::new(CONTACT_SECRET.to_owned()),
        contact_callback: None,
        school: None,
        system_secrets: Default::default(),
        departments,
        members,
        tags: Vec::new(),
        apps: vec![app],
        robots: Vec::new(),
    })
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS to the current RSS; returns the current RSS in KiB.
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

/// Peak RSS growth in MiB since `reset_peak` returned `base`.
fn peak_growth(base: Option<u64>) -> String {
    match (base, status_kib("VmHWM:")) {
        (Some(b), Some(p)) => format!("{:.1}", p.saturating_sub(b) as f64 / 1024.0),
        _ => "n/a".into(),
    }
}

fn sandbox_child(members: usize) -> Res {
    let corp = corp(members)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::builder().corp(corp).start().await?;
        println!("{}", sandbox.base_url());
        std::io::stdout().flush()?;
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        drop(sandbox);
        Ok(())
    })
}

fn spawn_sandbox(members: usize) -> Res<(Child, String)> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["--sandbox-child", &members.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the sandbox child")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        let _ = child.kill();
        return Err(format!("the sandbox child did not start: {line:?}").into());
    }
    Ok((child, url))
}

async fn export(sizes: &[usize]) -> Res {
    println!(
        "## Asynchronous export, fetched and decrypted as a stream (sandbox in a child process)\n"
    );
    println!(
        "| members | export | records | encrypted bytes | files | time | client peak memory |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for &members in sizes {
        let (mut child, url) = spawn_sandbox(members)?;
        let client = Client::builder(CORPID)
            .base_url(url)
            .app(AGENTID, Secret::new(APP_SECRET.to_owned()))
            .timeout(Duration::from_secs(300))
            .build()?;
        client.access_token().await?;
        for (label, kind) in [
            ("simple_user", ExportKind::SimpleUser),
            ("user (details)", ExportKind::User),
        ] {
            let base = reset_peak();
            let started = Instant::now();
            let mut records = 0u64;
            let summary = Export::new(&client, kind)
                .poll_every(Duration::from_millis(20))
                .run(
                    |r| {
                        if matches!(r, ExportRecord::Member(_) | ExportRecord::MemberDetail(_)) {
                            records += 1;
                        }
                        Ok(())
                    },
                    |_| {},
                )
                .await?;
            let took = started.elapsed();
            let memory = peak_growth(base);
            assert_eq!(records as usize, members, "every member once");
            println!(
                "| {members} | {label} | {records} | {} | {} | {:.0} ms | {memory} MiB |",
                summary.bytes,
                summary.files,
                took.as_secs_f64() * 1000.0
            );
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    println!();
    Ok(())
}

fn main() -> Res {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--sandbox-child") {
        let n = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or("members")?;
        return sandbox_child(n);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run a tiny smoke version.
    let quick =
        std::env::var_os("EXPORT_BENCH_QUICK").is_some() || !args.iter().any(|a| a == "--bench");
    let sizes: Vec<usize> = if quick {
        vec![2_000]
    } else if args.iter().any(|a| a == "--long") {
        vec![50_000, 200_000]
    } else {
        vec![50_000]
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(export(&sizes))
}
