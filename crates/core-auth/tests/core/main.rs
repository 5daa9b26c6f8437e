//! Integration tests of wecom-core-auth against a local counting fake of qyapi (loopback only).

mod endpoints;
mod server;

mod config;
mod cool_down;
mod debug_output;
mod downstream;
mod expiry;
mod jssdk_oauth;
mod observability;
mod raw;
mod retries;
mod seams;
mod storms;
mod tickets;
mod token_life;
mod uploads;

#[cfg(feature = "redis")]
mod redis_store;

use std::time::Duration;

use server::{CORPID, Fake, SECRET_A, SECRET_B};
use wecom_core_auth::{Client, ClientBuilder, RetryPolicy};

/// A builder for a client of the fake corp with apps 1000002 and 1000003 and fast retries.
pub fn builder(fake: &Fake) -> ClientBuilder {
    Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .app(1000003, SECRET_B)
        .base_url(fake.base_url())
        .timeout(Duration::from_secs(10))
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
}

/// Runs `n` copies of `f` concurrently and collects their results.
pub async fn concurrently<F, Fut, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("task panicked"));
    }
    out
}

/// The official callback vectors (`tests/vectors/callback-crypto.json`).
pub use wecom_testkit::callback_vectors as vectors;
