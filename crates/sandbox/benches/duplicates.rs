//! Cost of the `message/send` duplicate check per send, with N sends remembered.
//!
//! `cargo bench -p wecom-sandbox --bench duplicates`. Each iteration checks one new message and
//! remembers it, as `message/send` with `enable_duplicate_check` does, against a checker that
//! already remembers N sends inside their window: the window is WeCom's longest (14,400 s)
//! and send i happens at i × 14,400 s / N, so N sends are remembered at every step.
//!
//! `scan` is the checker the sandbox used before (kept here only as the baseline: one map keyed
//! by the whole request text, every entry visited on each check to drop the expired ones);
//! `hashed` is [`DuplicateChecker`].

use std::collections::HashMap;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use wecom_sandbox::limits::{DuplicateChecker, DuplicateKey};

const WINDOW_SECS: u64 = 14_400;

/// Sandbox time of send `i` when N sends fill the window.
fn at(i: u64, remembered: u64) -> i64 {
    i64::try_from(i * (WINDOW_SECS * 1000 / remembered)).unwrap_or(i64::MAX)
}

fn request(i: u64) -> (String, String) {
    (
        format!("u{i}"),
        format!(r#"{{"msgtype":"text","text":{{"content":"hello #{i}"}}}}"#),
    )
}

/// The previous checker: check scans every entry.
#[derive(Default)]
struct Scan {
    seen: HashMap<String, (i64, Value)>,
}

impl Scan {
    fn key(i: u64) -> String {
        let (to, content) = request(i);
        format!("message_send:1000002:{to}:{content}")
    }
    fn check(&mut self, key: &str, now_ms: i64) -> Option<Value> {
        self.seen.retain(|_, (until, _)| *until > now_ms);
        self.seen.get(key).map(|(_, v)| v.clone())
    }
    fn record(&mut self, key: String, now_ms: i64, answer: Value) {
        self.seen
            .insert(key, (now_ms + WINDOW_SECS as i64 * 1000, answer));
    }
}

fn hashed_key(i: u64) -> DuplicateKey {
    let (to, content) = request(i);
    DuplicateKey::new(1000002, &to, content.as_bytes())
}

fn per_send(c: &mut Criterion) {
    let mut group = c.benchmark_group("duplicate_check_per_send");
    let answer = json!({"msgid": "m"});
    for remembered in [1_000u64, 10_000, 100_000] {
        let mut scan = Scan::default();
        for i in 0..remembered {
            scan.record(Scan::key(i), at(i, remembered), answer.clone());
        }
        let mut next = remembered;
        group.bench_with_input(BenchmarkId::new("scan", remembered), &remembered, |b, _| {
            b.iter(|| {
                next += 1;
                let k = Scan::key(next);
                let seen = scan.check(&k, at(next, remembered));
                scan.record(k, at(next, remembered), answer.clone());
                seen
            })
        });
        drop(scan);

        let mut hashed = DuplicateChecker::with_capacity(usize::MAX);
        for i in 0..remembered {
            hashed.record(
                hashed_key(i),
                WINDOW_SECS,
                at(i, remembered),
                answer.clone(),
            );
        }
        let mut next = remembered;
        group.bench_with_input(
            BenchmarkId::new("hashed", remembered),
            &remembered,
            |b, _| {
                b.iter(|| {
                    next += 1;
                    let k = hashed_key(next);
                    let seen = hashed.check(&k, at(next, remembered));
                    hashed.record(k, WINDOW_SECS, at(next, remembered), answer.clone());
                    seen
                })
            },
        );
        assert!(hashed.len() <= remembered as usize + 1, "steady state");
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = per_send
}
criterion_main!(benches);
