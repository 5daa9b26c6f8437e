//! The background refresher, and what reaches the logs (tracing spans, no secrets).

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tracing_subscriber::Layer;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use wecom_core_auth::TokenPolicy;
use wecom_core_auth::clock::{Clock, ManualClock};

use crate::builder;
use crate::endpoints::Ping;
use crate::server::{Fake, Fault, SECRET_A, SECRET_B, SECRET_CONTACT};

#[tokio::test]
async fn the_refresher_fetches_ahead_so_calls_never_wait() {
    let fake = Fake::start().await;
    let clock = ManualClock::new();
    let policy = TokenPolicy::default()
        .soft_window(Duration::from_secs(600))
        .soft_jitter(Duration::ZERO);
    let client = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .clock(clock.clone())
        .token_policy(policy)
        .build()
        .unwrap();
    let refresher = client.spawn_refresher(Duration::from_millis(10));
    wait_for(|| fake.gettoken_calls() == 3).await; // both apps and the contact-sync secret, before any call
    client.execute(Ping::default()).await.unwrap();
    assert_eq!(fake.gettoken_calls(), 3);

    clock.advance(Duration::from_secs(6500)); // into the soft window
    wait_for(|| fake.gettoken_calls() == 6).await;
    let expiry = client
        .cached_token_expiry()
        .expect("fresh again without any call");
    assert!(expiry > clock.now() + Duration::from_secs(7000));
    refresher.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    clock.advance(Duration::from_secs(6500));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake.gettoken_calls(), 6, "a stopped refresher does nothing");
}

async fn wait_for(cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 5 s");
}

thread_local! {
    /// Where this thread's log lines go, while it captures.
    static CAPTURE: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
}

/// Writes to the current thread's capture buffer (or nowhere).
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(b) = &*c.borrow() {
                b.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ThreadWriter {
    type Writer = ThreadWriter;
    fn make_writer(&'a self) -> Self::Writer {
        ThreadWriter
    }
}

/// Captures the log lines this thread produces while `f` runs. One global subscriber serves the
/// whole test binary (a thread-scoped one races with other tests over tracing's per-callsite
/// cache); it formats only on threads that capture.
async fn capture_logs<F: std::future::Future<Output = ()>>(f: F) -> String {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(ThreadWriter)
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            // Dynamic: the answer depends on the thread, so it must not be cached per callsite
            // (a plain `filter_fn` is, and would stay "never" for callsites first hit elsewhere).
            .with_filter(dynamic_filter_fn(|_, _| {
                CAPTURE.with(|c| c.borrow().is_some())
            }));
        tracing_subscriber::registry().with(layer).init();
    });
    let buffer = Arc::new(Mutex::new(Vec::new()));
    CAPTURE.with(|c| *c.borrow_mut() = Some(Arc::clone(&buffer)));
    f.await;
    CAPTURE.with(|c| *c.borrow_mut() = None);
    let bytes = buffer.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn spans_describe_each_call_and_logs_hold_no_secret() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .build()
        .unwrap();
    let logs = capture_logs(async {
        client.execute(Ping::default()).await.unwrap();
        fake.fail_next("ping", [Fault::Errcode(-1, "system busy")]);
        client.execute(Ping::default()).await.unwrap();
        fake.revoke_all_tokens();
        client.execute(Ping::default()).await.unwrap();
        fake.fail_next("ping", [Fault::Errcode(45009, "api freq out of limit")]);
        client.execute(Ping::default()).await.unwrap_err();
        let wrong = crate::server::CORPID;
        let bad = wecom_core_auth::Client::builder(wrong)
            .app(1000002, "wrong-secret-LOG-777")
            .base_url(fake.base_url())
            .build()
            .unwrap();
        bad.execute(Ping::default()).await.unwrap_err();
    })
    .await;

    assert!(logs.contains("wecom.call"), "{logs}");
    assert!(
        logs.contains("endpoint=\"ping\"") || logs.contains("endpoint=ping"),
        "{logs}"
    );
    assert!(logs.contains("agentid=1000002"), "{logs}");
    assert!(
        logs.contains("attempt=2"),
        "the retried call shows its second attempt:\n{logs}"
    );
    assert!(
        logs.contains("errcode=0") && logs.contains("errcode=45009"),
        "{logs}"
    );
    assert!(logs.contains("duration_ms="), "{logs}");
    assert!(
        logs.contains("access_token=***") && logs.contains("corpsecret=***"),
        "masked URLs at trace level:\n{logs}"
    );
    assert!(logs.contains("transient failure; retrying"), "{logs}");
    assert!(logs.contains("token rejected by WeCom"), "{logs}");
    assert!(logs.contains("cool-down"), "{logs}");
    let mut secrets: Vec<String> = [SECRET_A, SECRET_B, SECRET_CONTACT, "wrong-secret-LOG-777"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    secrets.extend(fake.issued_tokens());
    secrets.push("TOKEN0x".to_owned()); // the first token, revoked and no longer listed
    for s in &secrets {
        assert!(!logs.contains(s.as_str()), "found {s} in the logs:\n{logs}");
    }
}
