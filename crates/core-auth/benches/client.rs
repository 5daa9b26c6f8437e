//! The cached-token lookup, alone and with two threads contending.
//!
//! `cargo bench -p wecom-core-auth --bench client`
//!
//! What a whole call costs next to reqwest alone is measured by `tests/benches/call_cost.rs` (in the cross-crate tests package, so core-auth needs no area crate).

#![allow(dead_code, missing_debug_implementations)]

#[path = "../tests/core/server.rs"]
mod server;

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use wecom_core_auth::Client;

use server::{CORPID, Fake, SECRET_A};

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

criterion_group!(benches, lookup);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
