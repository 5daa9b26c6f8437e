//! One call through the client vs the same request made directly with reqwest, against the same
//! local server with the token already cached; and the cached-token lookup, alone and with two
//! threads contending.
//!
//! `cargo bench -p wecom-core-auth --bench client`
//!
//! The machine may be shared, so the two call benchmarks interleave their work (each times only
//! its own calls while the other kind runs in between), and an A/B report at the end prints the
//! median ratio over alternating rounds.

#![allow(dead_code, missing_debug_implementations)]

#[path = "../tests/core/endpoints.rs"]
mod endpoints;
#[path = "../tests/core/server.rs"]
mod server;

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use serde::Deserialize;
use wecom_core_auth::Client;

use endpoints::Ping;
use server::{CORPID, Fake, SECRET_A};

#[derive(Deserialize)]
struct Envelope {
    errcode: i64,
}

#[derive(Deserialize)]
struct Answer {
    owner: String,
}

struct Setup {
    rt: tokio::runtime::Runtime,
    _fake: Fake,
    client: Client,
    direct: reqwest::Client,
    url: String,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fake = rt.block_on(Fake::start());
    let client = Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    let token = rt.block_on(client.access_token()).unwrap();
    let direct = reqwest::Client::builder().build().unwrap();
    let url = format!(
        "{}/cgi-bin/ping?access_token={}",
        fake.base_url(),
        token.expose()
    );
    Setup {
        rt,
        _fake: fake,
        client,
        direct,
        url,
    }
}

async fn via_client(client: &Client) {
    let r = client.execute(Ping::default()).await.unwrap();
    black_box(r.owner);
}

async fn via_reqwest(direct: &reqwest::Client, url: &str) {
    let resp = direct.get(url).send().await.unwrap();
    let body = resp.bytes().await.unwrap();
    let env: Envelope = serde_json::from_slice(&body).unwrap();
    assert_eq!(env.errcode, 0);
    let a: Answer = serde_json::from_slice(&body).unwrap();
    black_box(a.owner);
}

fn calls(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("call");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));
    group.bench_function("through_client", |b| {
        b.iter_custom(|iters| {
            s.rt.block_on(async {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    via_client(&s.client).await;
                    timed += t.elapsed();
                    via_reqwest(&s.direct, &s.url).await;
                }
                timed
            })
        })
    });
    group.bench_function("direct_reqwest", |b| {
        b.iter_custom(|iters| {
            s.rt.block_on(async {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    via_client(&s.client).await;
                    let t = Instant::now();
                    via_reqwest(&s.direct, &s.url).await;
                    timed += t.elapsed();
                }
                timed
            })
        })
    });
    group.finish();
}

/// This thread's CPU time (user + system) in clock ticks, from `/proc/thread-self/stat`.
/// The bench's runtime is single-threaded (server, client and reqwest all run on it, and the
/// server is reached by IP so no resolver thread is involved), so CPU time counts all the work
/// of a call and none of the time the thread waits while other processes use the cores.
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Alternating rounds of client and direct calls (the order swapped every round); prints the
/// ratio client/direct three ways: by CPU time, by the fastest round, and by the median round.
fn ab_report() {
    let s = setup();
    let (rounds, per_round) = (11, 3000);
    let mut wall = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
    let mut cpu = [0u64; 2];
    s.rt.block_on(async {
        for _ in 0..500 {
            via_client(&s.client).await;
            via_reqwest(&s.direct, &s.url).await;
        }
        for round in 0..rounds {
            for k in 0..2 {
                let client_turn = (k == 0) == (round % 2 == 0);
                let side = usize::from(!client_turn);
                let (t, c) = (Instant::now(), thread_cpu_ticks());
                for _ in 0..per_round {
                    if client_turn {
                        via_client(&s.client).await;
                    } else {
                        via_reqwest(&s.direct, &s.url).await;
                    }
                }
                wall[side].push(t.elapsed().as_secs_f64());
                if let (Some(a), Some(b)) = (c, thread_cpu_ticks()) {
                    cpu[side] += b - a;
                }
            }
        }
    });
    let per_call_us = |secs: f64| secs * 1e6 / per_round as f64;
    let ratios: Vec<f64> = {
        let mut r: Vec<f64> = wall[0].iter().zip(&wall[1]).map(|(c, d)| c / d).collect();
        r.sort_by(f64::total_cmp);
        r
    };
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!("\nA/B report ({rounds} alternating rounds of {per_round} calls per side):");
    if cpu[1] > 0 {
        println!(
            "  CPU time   client/direct = {:.3}  ({} vs {} ticks)",
            cpu[0] as f64 / cpu[1] as f64,
            cpu[0],
            cpu[1]
        );
    }
    println!(
        "  fastest    client/direct = {:.3}  ({:.1} vs {:.1} us/call)",
        min(&wall[0]) / min(&wall[1]),
        per_call_us(min(&wall[0])),
        per_call_us(min(&wall[1]))
    );
    println!(
        "  median     client/direct = {:.3}  (per-round ratios from {:.3} to {:.3})",
        ratios[rounds / 2],
        ratios[0],
        ratios[rounds - 1]
    );
}

fn lookup(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fake = rt.block_on(Fake::start());
    let client = Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    rt.block_on(client.access_token()).unwrap();
    assert!(client.cached_token_expiry().is_some());

    let mut group = c.benchmark_group("cached_token_lookup");
    group.bench_function("one_thread", |b| {
        b.iter(|| black_box(client.cached_token_expiry()))
    });
    group.bench_function("two_threads_contending", |b| {
        b.iter_custom(|iters| {
            let barrier = Arc::new(Barrier::new(2));
            let other = {
                let (client, barrier) = (client.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..iters {
                        black_box(client.cached_token_expiry());
                    }
                })
            };
            barrier.wait();
            let started = Instant::now();
            for _ in 0..iters {
                black_box(client.cached_token_expiry());
            }
            let elapsed = started.elapsed();
            other.join().unwrap();
            elapsed
        })
    });
    group.finish();
}

criterion_group!(benches, calls, lookup);

fn main() {
    benches();
    // Only under `cargo bench` (criterion's test mode runs each benchmark once).
    if std::env::args().any(|a| a == "--bench") {
        ab_report();
    }
    Criterion::default().configure_from_args().final_summary();
}
