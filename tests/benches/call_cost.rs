//! What a call through [`Client`] costs next to the same call made with reqwest alone.
//!
//! `cargo bench -p wecom-tests --bench call_cost` (30 rounds, well under a minute of calls);
//! `cargo bench -p wecom-tests --bench call_cost -- --long` for 150 rounds (a few minutes).
//! `CALL_COST_ROUNDS` and `CALL_COST_CALLS` override the number of rounds and of calls per side
//! per round; `-- --only client` (or `reqwest`) makes that many calls of one side alone and prints
//! nothing, for a profiler.
//!
//! Both sides make sequential `user/get` calls against the sandbox (the demo corp, in a child
//! process so that the server's work is not counted), each over one keep-alive connection, and
//! decode the answer into the same typed struct ([`Member`]) after checking `errcode`. The
//! baseline uses a reqwest client with the transport's settings (user agent, no redirects, no
//! proxy, the same per-request timeout) and builds its URL per call as the client does.
//!
//! Rounds alternate the order (client then reqwest, reqwest then client, ...). For each side of
//! each round the calling thread's CPU time (`/proc/thread-self/schedstat`, in ns: the runtime is
//! single-threaded and the server lives in another process, so this is the calling side's work
//! alone) and the wall time are taken; the ratio of each round's pair is a sample. The report
//! prints medians with their interquartile range and min-max, and `RESULT` lines that
//! `cargo xtask bench` reads. The machine may be shared: the spread says how much to trust a
//! median, and nothing here asserts a timing.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use wecom_contacts::{ContactsExt, Member};
use wecom_core_auth::{Client, Secret};

/// The demo corp member every call reads.
const USERID: &str = "zhangwei";
/// The client's default per-call timeout, set on the baseline's requests too.
const TIMEOUT: Duration = Duration::from_secs(30);

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errcode: i64,
}

/// CPU time of this thread so far, in nanoseconds: the first field of
/// `/proc/thread-self/schedstat` (time spent on a CPU). The runtime is single-threaded (the
/// client, reqwest's connection and the timers all run on this thread; the server is reached by
/// IP, so no resolver thread is involved).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat (Linux with schedstats) is needed for CPU time")
}

fn sandbox_child() -> Res {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = wecom_sandbox::Sandbox::start().await?;
        let creds = sandbox.credentials();
        println!(
            "{} {} {}",
            creds.base_url,
            creds.corpid,
            creds.contact_secret.expose()
        );
        std::io::stdout().flush()?;
        // Until the parent closes our stdin (or dies).
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        drop(sandbox);
        Ok(())
    })
}

/// The sandbox in a child process: (child, base URL, corpid, contact-sync secret).
fn spawn_sandbox() -> Res<(Child, String, String, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--sandbox-child")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the sandbox child")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(url), Some(corpid), Some(secret)) if url.starts_with("http://") => {
            Ok((child, url.to_owned(), corpid.to_owned(), secret.to_owned()))
        }
        _ => {
            let _ = child.kill();
            Err(format!("the sandbox child did not start: {line:?}").into())
        }
    }
}

async fn via_client(client: &Client) -> Member {
    client
        .contacts()
        .user_get(USERID)
        .await
        .expect("user/get through the client")
}

async fn via_reqwest(direct: &reqwest::Client, base: &str, token: &str) -> Member {
    let url = format!("{base}/cgi-bin/user/get?access_token={token}&userid={USERID}");
    let resp = direct
        .get(url)
        .timeout(TIMEOUT)
        .send()
        .await
        .expect("user/get with reqwest");
    assert!(resp.status().is_success(), "HTTP {}", resp.status());
    let body = resp.bytes().await.expect("user/get body");
    let env: Envelope = serde_json::from_slice(&body).expect("an errcode envelope");
    assert_eq!(env.errcode, 0, "user/get with reqwest answered an error");
    serde_json::from_slice(&body).expect("a Member")
}

/// Median, quartiles and range of some samples.
struct Spread {
    median: f64,
    q1: f64,
    q3: f64,
    min: f64,
    max: f64,
}

fn spread(samples: &[f64]) -> Spread {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    // Linear interpolation between closest ranks.
    let q = |p: f64| {
        let pos = p * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    Spread {
        median: q(0.5),
        q1: q(0.25),
        q3: q(0.75),
        min: v[0],
        max: v[v.len() - 1],
    }
}

fn print_row(label: &str, key: &str, s: &Spread, digits: usize) {
    println!(
        "  {label:<28} {:>9.digits$}   IQR {:.digits$}-{:.digits$}   min-max {:.digits$}-{:.digits$}",
        s.median, s.q1, s.q3, s.min, s.max
    );
    println!(
        "RESULT {key} median={:.4} q1={:.4} q3={:.4} min={:.4} max={:.4}",
        s.median, s.q1, s.q3, s.min, s.max
    );
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok().filter(|n| *n > 0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() -> Res {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--sandbox-child") {
        return sandbox_child();
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: then a quick smoke run.
    let benching = args.iter().any(|a| a == "--bench");
    let long = args.iter().any(|a| a == "--long");
    let (rounds, calls) = match (benching, long) {
        (false, _) => (2, 20),
        (true, false) => (30, 5000),
        (true, true) => (150, 5000),
    };
    let rounds = env_usize("CALL_COST_ROUNDS").unwrap_or(rounds).max(2);
    let calls = env_usize("CALL_COST_CALLS").unwrap_or(calls);

    let (mut child, base, corpid, secret) = spawn_sandbox()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(measure(&base, &corpid, &secret, rounds, calls));
    drop(child.stdin.take());
    let _ = child.wait();
    result
}

async fn measure(base: &str, corpid: &str, secret: &str, rounds: usize, calls: usize) -> Res {
    let client = Client::builder(corpid)
        .base_url(base)
        .contact_secret(Secret::new(secret.to_owned()))
        .timeout(TIMEOUT)
        .build()?;
    let token = client.contact_access_token().await?;
    let direct = reqwest::Client::builder()
        .user_agent(concat!("wecom-rs/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?;

    // `-- --only client|reqwest`: one side alone, for a profiler (`perf record`), no report.
    let args: Vec<String> = std::env::args().collect();
    if let Some(side) = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
    {
        for _ in 0..rounds * calls {
            if side == "client" {
                std::hint::black_box(via_client(&client).await);
            } else {
                std::hint::black_box(via_reqwest(&direct, base, token.expose()).await);
            }
        }
        return Ok(());
    }

    // Both members decode to the same thing.
    let (a, b) = (
        via_client(&client).await,
        via_reqwest(&direct, base, token.expose()).await,
    );
    assert_eq!(a.userid, b.userid);
    for _ in 0..calls.min(500) {
        std::hint::black_box(via_client(&client).await);
        std::hint::black_box(via_reqwest(&direct, base, token.expose()).await);
    }

    // [client, reqwest] per round, in µs per call.
    let mut cpu = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    let mut wall = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    for round in 0..rounds {
        for k in 0..2 {
            let side = if round % 2 == 0 { k } else { 1 - k };
            let (t, c) = (Instant::now(), thread_cpu_ns());
            for _ in 0..calls {
                let m = if side == 0 {
                    via_client(&client).await
                } else {
                    via_reqwest(&direct, base, token.expose()).await
                };
                std::hint::black_box(m);
            }
            let (c, t) = (thread_cpu_ns() - c, t.elapsed());
            cpu[side].push(c as f64 / 1e3 / calls as f64);
            wall[side].push(t.as_secs_f64() * 1e6 / calls as f64);
        }
    }
    let ratios =
        |v: &[Vec<f64>; 2]| -> Vec<f64> { v[0].iter().zip(&v[1]).map(|(a, b)| a / b).collect() };

    println!(
        "\nuser/get through Client vs reqwest alone: sandbox in a child process, {rounds} alternating rounds \
         of {calls} sequential calls per side, one keep-alive connection each; load average {} \
         (a shared machine: read the spread before the median)",
        load_average()
    );
    println!("  {:<28} {:>9}", "", "median");
    print_row("client CPU µs/call", "client_cpu_us", &spread(&cpu[0]), 2);
    print_row("reqwest CPU µs/call", "direct_cpu_us", &spread(&cpu[1]), 2);
    print_row(
        "CPU ratio client/reqwest",
        "cpu_ratio",
        &spread(&ratios(&cpu)),
        3,
    );
    print_row(
        "client wall µs/call",
        "client_wall_us",
        &spread(&wall[0]),
        2,
    );
    print_row(
        "reqwest wall µs/call",
        "direct_wall_us",
        &spread(&wall[1]),
        2,
    );
    print_row(
        "wall ratio client/reqwest",
        "wall_ratio",
        &spread(&ratios(&wall)),
        3,
    );
    Ok(())
}
