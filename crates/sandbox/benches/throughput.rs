//! Requests per second against an in-process sandbox on loopback.
//!
//! `cargo bench -p wecom-sandbox --bench throughput` (set `SANDBOX_BENCH_REQUESTS` to change the
//! number of requests per scenario, default 20000; `SANDBOX_BENCH_CONCURRENCY`, default 32).
//! Each scenario gets one token first (as a caching client does) and then sends business calls
//! from concurrent tasks over keep-alive connections; it prints requests/s and the errcode mix.
//! Scenarios whose endpoint the sandbox does not serve yet are reported as skipped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use wecom_sandbox::Sandbox;

struct Scenario {
    name: &'static str,
    method: reqwest::Method,
    /// Path and query after `/cgi-bin/`; `{token}` is replaced by the access_token.
    target: String,
    body: Option<&'static str>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn token(c: &reqwest::Client, base: &str, corpid: &str, secret: &str) -> String {
    let url = format!("{base}/cgi-bin/gettoken?corpid={corpid}&corpsecret={secret}");
    let v: Value = c
        .get(url)
        .send()
        .await
        .expect("gettoken sent")
        .json()
        .await
        .expect("JSON");
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("gettoken failed: {v}"))
        .to_owned()
}

async fn send(
    c: &reqwest::Client,
    method: &reqwest::Method,
    url: &str,
    body: Option<&'static str>,
) -> Value {
    let mut req = c.request(method.clone(), url);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    match req.send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn run(c: &reqwest::Client, base: &str, s: &Scenario, total: usize, conc: usize) {
    let url = format!("{base}/cgi-bin/{}", s.target);
    // Probe: skip endpoints that are not served yet.
    let probe = send(c, &s.method, &url, s.body).await;
    if probe["errcode"] == 48001 {
        println!("{:<28} skipped: not served by the sandbox yet", s.name);
        return;
    }
    let per_task = (total / conc).max(1);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let c = c.clone();
        let url = url.clone();
        let method = s.method.clone();
        let body = s.body;
        tasks.push(tokio::spawn(async move {
            let mut codes: BTreeMap<i64, usize> = BTreeMap::new();
            for _ in 0..per_task {
                let v = send(&c, &method, &url, body).await;
                *codes
                    .entry(v["errcode"].as_i64().unwrap_or(-999))
                    .or_default() += 1;
            }
            codes
        }));
    }
    let mut codes: BTreeMap<i64, usize> = BTreeMap::new();
    for t in tasks {
        for (k, v) in t.await.expect("task") {
            *codes.entry(k).or_default() += v;
        }
    }
    let elapsed = start.elapsed().as_secs_f64().max(f64::EPSILON);
    let n = per_task * conc;
    println!(
        "{:<28} {n:>8} requests in {elapsed:>6.2} s = {:>8.0} req/s  (errcodes {codes:?})",
        s.name,
        n as f64 / elapsed
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let total = env_usize("SANDBOX_BENCH_REQUESTS", 20_000);
        let conc = env_usize("SANDBOX_BENCH_CONCURRENCY", 32).max(1);
        let sb = Sandbox::start().await.expect("sandbox starts");
        let creds = sb.credentials();
        let c = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(conc)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let base = sb.base_url().to_owned();
        let app_secret = creds.app(1000002).map(|a| a.secret.expose().to_owned()).unwrap_or_default();
        let app = token(&c, &base, &creds.corpid, &app_secret).await;
        let contact = token(&c, &base, &creds.corpid, creds.contact_secret.expose()).await;
        let get = reqwest::Method::GET;
        let scenarios = [
            Scenario {
                name: "gettoken (same secret)",
                method: get.clone(),
                target: format!("gettoken?corpid={}&corpsecret={app_secret}", creds.corpid),
                body: None,
            },
            Scenario { name: "getcallbackip", method: get.clone(), target: format!("getcallbackip?access_token={app}"), body: None },
            Scenario { name: "user/get", method: get.clone(), target: format!("user/get?access_token={app}&userid=lina"), body: None },
            Scenario {
                name: "message/send (text, 2 users)",
                method: reqwest::Method::POST,
                target: format!("message/send?access_token={app}"),
                body: Some(r#"{"touser":"lina|wangfang","msgtype":"text","agentid":1000002,"text":{"content":"bench"}}"#),
            },
            Scenario {
                name: "department/list (contact)",
                method: get.clone(),
                target: format!("department/list?access_token={contact}"),
                body: None,
            },
        ];
        println!("sandbox throughput on loopback: {total} requests per scenario, {conc} concurrent tasks");
        for s in &scenarios {
            run(&c, &base, s, total, conc).await;
        }
        client_scenario(&sb, total, conc).await;
        println!("messages in lina's inbox: {}", sb.admin().inbox("lina").len());
    });
}

/// The SDK's own client (token cached by core-auth) calling getcallbackip from concurrent tasks.
async fn client_scenario(sb: &Sandbox, total: usize, conc: usize) {
    use wecom_core_auth::generated::auth::AuthExt;
    let creds = sb.credentials();
    let Some(app) = creds.app(1000002) else {
        return;
    };
    let client = wecom_core_auth::Client::builder(creds.corpid.clone())
        .app(app.agentid, app.secret.clone())
        .base_url(sb.base_url())
        .build()
        .expect("client builds");
    let before = sb.admin().count("gettoken");
    let per_task = (total / conc).max(1);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for _ in 0..per_task {
                if client.auth().getcallbackip().await.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.expect("task");
    }
    let elapsed = start.elapsed().as_secs_f64().max(f64::EPSILON);
    let n = per_task * conc;
    println!(
        "{:<28} {n:>8} requests in {elapsed:>6.2} s = {:>8.0} req/s  ({ok} ok, {} gettoken calls)",
        "getcallbackip via Client",
        n as f64 / elapsed,
        sb.admin().count("gettoken") - before
    );
}
