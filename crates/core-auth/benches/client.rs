//! One call through the client vs the same request made directly with reqwest, against the same
//! local server with the token already cached; and the cached-token lookup, alone and with two
//! threads contending.
//!
//! `cargo bench -p wecom-core-auth --bench client`

#![allow(dead_code, missing_debug_implementations)]

#[path = "../tests/core/endpoints.rs"]
mod endpoints;
#[path = "../tests/core/server.rs"]
mod server;

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
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

fn calls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
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

    let mut group = c.benchmark_group("call");
    group
        .sample_size(60)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));
    group.bench_function("through_client", |b| {
        b.to_async(&rt).iter(|| async {
            let r = client.execute(Ping::default()).await.unwrap();
            black_box(r.owner);
        })
    });
    group.bench_function("direct_reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = direct.get(&url).send().await.unwrap();
            let body = resp.bytes().await.unwrap();
            let env: Envelope = serde_json::from_slice(&body).unwrap();
            assert_eq!(env.errcode, 0);
            let a: Answer = serde_json::from_slice(&body).unwrap();
            black_box(a.owner);
        })
    });
    group.finish();
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
criterion_main!(benches);
