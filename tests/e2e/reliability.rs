//! Reliability under faults, against the sandbox on loopback: sends while WeCom misbehaves and
//! tokens are revoked, rate limits surfacing without a retry, two instances sharing Redis
//! through a revocation wave, Redis dying mid-run, and WeCom's callback retries reaching the
//! handler once.
//!
//! The soak sends `WECOM_SOAK_SENDS` messages (default 2,000; 10,000 with `WECOM_SOAK=1`) from
//! 64 tasks. Nothing here asserts on time: timeouts are generous and only bound a hung run.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use wecom_core_auth::transport::{
    BoxFuture, HttpRequest, HttpResponse, ReqwestConfig, ReqwestTransport, SendError, Transport,
};
use wecom_core_auth::{Client, ErrorClass, Secret, TransportErrorKind};
use wecom_messages::{Message, Recipients};
use wecom_sandbox::{Admin, Fault, FaultWhen, TokenTarget};
use wecom_tests::{
    BIG_AGENTID, BIG_SECRET, DEMO_APPROVAL_AGENTID, big, demo, fast_retries, member_id,
};

type Res = Result<(), Box<dyn std::error::Error>>;

/// Upper bound for a whole scenario: only a hung run ever reaches it.
const HANG: Duration = Duration::from_secs(600);

fn soak_sends() -> usize {
    if let Some(n) = std::env::var("WECOM_SOAK_SENDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var_os("WECOM_SOAK").is_some_and(|v| v == "1") {
        10_000
    } else {
        2_000
    }
}

/// Transient faults on `message_send`, 3% each (24% of calls), half of them *after* the call
/// was handled. Before handling: errcode -1, HTTP 502, a delay longer than the client's timeout
/// (the call is handled after the client gave up), a dropped connection. After handling (the
/// message is delivered and the answer lost): a dropped connection, HTTP 502, errcode -1, and an
/// answer later than the client's timeout. A retry after any of them must not deliver twice.
fn inject_transient_faults(admin: &Admin, delay_ms: u64) {
    let p = 0.03;
    for when in [FaultWhen::Before, FaultWhen::After] {
        let mut faults = [
            Fault::errcode("message_send", -1),
            Fault::http("message_send", 502),
            Fault::delay("message_send", delay_ms),
            Fault::drop_connection("message_send"),
        ];
        for f in &mut faults {
            f.when = when;
        }
        for f in faults {
            admin.add_fault(f.probability(p));
        }
    }
}

fn texts_in_inbox(admin: &Admin, userid: &str) -> Vec<String> {
    admin
        .inbox(userid)
        .iter()
        .filter_map(|m| m.message["text"]["content"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_under_faults_and_revocations_deliver_exactly_once() -> Res {
    let members = 50;
    let sends = soak_sends();
    let tasks = 64;
    let client_timeout = Duration::from_secs(2);
    let w = big(members, fast_retries(12)).await?;
    let admin = w.admin();
    // A client of its own for the timeout (the shared helper keeps the default).
    let client = Client::builder(w.sandbox.credentials().corpid)
        .base_url(w.sandbox.base_url())
        .app(BIG_AGENTID, Secret::new(BIG_SECRET.to_owned()))
        .retry_policy(fast_retries(12))
        .timeout(client_timeout)
        .build()?;
    client.access_token().await?;
    assert_eq!(admin.count("gettoken"), 1);
    inject_transient_faults(&admin, 3_000);

    // Revoke the app's token every 2 seconds until the sends are done.
    let done = Arc::new(AtomicBool::new(false));
    let revocations = Arc::new(AtomicU64::new(0));
    let revoker = {
        let (admin, done, revocations) = (admin.clone(), done.clone(), revocations.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(2)).await;
                if admin.revoke_tokens(TokenTarget::App(BIG_AGENTID)) > 0 {
                    revocations.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    // Message i goes to two members: i % members and (i + 1) % members.
    let client = Arc::new(client);
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, next) = (Arc::clone(&client), Arc::clone(&next));
        handles.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= sends {
                    break failures;
                }
                let to = [member_id(i % members), member_id((i + 1) % members)];
                let r = Message::text(format!("soak #{i}"))
                    .to(Recipients::users(to))
                    .send(&client)
                    .await;
                if let Err(e) = r {
                    failures.push(format!("#{i}: {e}"));
                }
            }
        }));
    }
    let mut failures = Vec::new();
    for h in handles {
        failures.extend(tokio::time::timeout(HANG, h).await??);
    }
    done.store(true, Ordering::Relaxed);
    revoker.await?;
    admin.clear_faults(None);
    assert!(
        failures.is_empty(),
        "{} of {sends} sends failed after retries: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    // Every message reached each of its two recipients exactly once.
    let mut want: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..sends {
        for who in [member_id(i % members), member_id((i + 1) % members)] {
            want.entry(who).or_default().push(format!("soak #{i}"));
        }
    }
    for i in 0..members {
        let who = member_id(i);
        let mut got = texts_in_inbox(&admin, &who);
        let mut expected = want.remove(&who).unwrap_or_default();
        got.sort();
        expected.sort();
        let mut dupes = got.clone();
        dupes.dedup();
        assert_eq!(dupes.len(), got.len(), "{who} got a message twice");
        assert_eq!(got, expected, "{who}'s inbox");
    }

    let attempts = admin.count("message_send");
    assert!(
        attempts > sends as u64,
        "faults were injected: {attempts} attempts for {sends} sends"
    );
    let revoked = revocations.load(Ordering::Relaxed);
    let gettokens = admin.count("gettoken");
    assert!(
        gettokens <= revoked + 1,
        "{gettokens} gettoken calls for {revoked} revocations (at most one each, plus the first)"
    );
    eprintln!(
        "soak: {sends} sends, {attempts} attempts, {revoked} revocations, {gettokens} gettoken calls"
    );
    Ok(())
}

/// Each way an answer can be lost after WeCom did the work, once: the send (duplicate check on,
/// the default) is retried, succeeds, and the message is in the inbox once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_was_lost_is_delivered_once() -> Res {
    let w = demo().await?;
    let admin = w.admin();
    let client = Client::builder(w.sandbox.credentials().corpid)
        .base_url(w.sandbox.base_url())
        .app(
            DEMO_APPROVAL_AGENTID,
            Secret::new(wecom_tests::DEMO_APPROVAL_SECRET.to_owned()),
        )
        .retry_policy(fast_retries(3))
        .timeout(Duration::from_millis(500))
        .build()?;
    client.access_token().await?;
    let lost = [
        ("dropped", Fault::drop_connection("message_send")),
        ("502", Fault::http("message_send", 502)),
        ("-1", Fault::errcode("message_send", -1)),
        ("late", Fault::delay("message_send", 3_000)),
    ];
    let mut expected = Vec::new();
    for (what, fault) in lost {
        admin.reset_counters();
        admin.add_fault(fault.after_handling().times(1));
        let text = format!("answer lost: {what}");
        let receipt = Message::text(text.clone())
            .to(Recipients::user("lina"))
            .send(&client)
            .await
            .map_err(|e| {
                format!("{what}: the retry with the duplicate check should succeed: {e}")
            })?;
        expected.push(text);
        assert_eq!(admin.count("message_send"), 2, "{what}: one retry");
        assert_eq!(
            texts_in_inbox(&admin, "lina"),
            expected,
            "{what}: delivered once"
        );
        let msgid = receipt.msgid.ok_or("a msgid")?;
        assert_eq!(
            admin.state().deliveries(&msgid).len(),
            1,
            "{what}: the retry was answered with the first delivery's msgid"
        );
    }
    Ok(())
}

/// A send without the duplicate check whose answer was lost after delivery: the caller must
/// not be told it failed while the message sits in the inbox twice. Either the client does not
/// retry (and says the outcome is unknown) or it retries and the member gets it twice; only the
/// first is the truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_without_duplicate_check_is_not_retried_after_a_lost_answer() -> Res {
    let w = demo().await?;
    let admin = w.admin();
    w.client.access_token().await?;
    admin.add_fault(
        Fault::drop_connection("message_send")
            .after_handling()
            .times(1),
    );
    let r = Message::text("once only")
        .to(Recipients::user("lina"))
        .no_duplicate_check()
        .send(&w.client)
        .await;
    let inbox = texts_in_inbox(&admin, "lina");
    assert_eq!(
        admin.count("message_send"),
        1,
        "not retried without the duplicate check (got {r:?}, inbox {inbox:?})"
    );
    assert_eq!(inbox, ["once only"], "delivered once");
    let err = r
        .err()
        .ok_or("the answer was lost: the caller cannot be told it worked")?;
    assert!(
        matches!(err, wecom_core_auth::Error::Transport(_)),
        "the caller learns the connection was lost, not a WeCom refusal: {err}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_not_retried_and_says_its_class() -> Res {
    let w = demo().await?;
    let admin = w.admin();
    w.client.access_token().await?;
    admin.add_fault(Fault::errcode("message_send", 45009));
    let err = Message::text("too often")
        .to(Recipients::user("lina"))
        .send(&w.client)
        .await
        .err()
        .ok_or("a send answered 45009 succeeded")?;
    assert_eq!(err.errcode(), Some(45009), "{err}");
    assert_eq!(err.class(), ErrorClass::RateLimit, "{err}");
    assert_eq!(err.class().as_str(), "rate_limit");
    assert_eq!(admin.count("message_send"), 1, "no automatic retry");
    assert_eq!(admin.count("gettoken"), 1);
    assert!(admin.inbox("lina").is_empty());
    // A client with many retries allowed behaves the same.
    admin.reset_counters();
    let eager = wecom_tests::client_for(
        &w.sandbox,
        &[(DEMO_APPROVAL_AGENTID, wecom_tests::DEMO_APPROVAL_SECRET)],
        fast_retries(20),
    )?;
    let err = Message::text("still too often")
        .to(Recipients::user("lina"))
        .send(&eager)
        .await
        .err()
        .ok_or("a send answered 45009 succeeded")?;
    assert!(matches!(err.class(), ErrorClass::RateLimit), "{err}");
    assert_eq!(admin.count("message_send"), 1, "no automatic retry");
    Ok(())
}

/// Lets `message/send` calls through, except that the second one fails as a dropped connection
/// after revoking the app's tokens: the third then meets a revoked token again.
#[derive(Debug)]
struct RevokeOnSecondSend {
    inner: ReqwestTransport,
    admin: Admin,
    agentid: u32,
    sends: AtomicUsize,
}

impl Transport for RevokeOnSecondSend {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, SendError>> {
        Box::pin(async move {
            if request.url.contains("/message/send")
                && self.sends.fetch_add(1, Ordering::SeqCst) == 1
            {
                self.admin.revoke_tokens(TokenTarget::App(self.agentid));
                return Err(SendError::new(
                    TransportErrorKind::Closed,
                    "connection dropped (test)",
                ));
            }
            self.inner.send(request).await
        })
    }
}

/// A call whose token is revoked, then fails transiently, then meets the next revocation
/// succeeds: each rejection after a transient failure gets its own refresh (bounded by the
/// retry attempts). Before the fix the second 40014 surfaced to the caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_revocation_after_a_transient_failure_is_retried_too() -> Res {
    let w = demo().await?;
    let admin = w.admin();
    let client = Client::builder(w.sandbox.credentials().corpid)
        .base_url(w.sandbox.base_url())
        .app(
            DEMO_APPROVAL_AGENTID,
            Secret::new(wecom_tests::DEMO_APPROVAL_SECRET.to_owned()),
        )
        .retry_policy(fast_retries(5))
        .transport(Arc::new(RevokeOnSecondSend {
            inner: ReqwestTransport::new(&ReqwestConfig::default())?,
            admin: admin.clone(),
            agentid: DEMO_APPROVAL_AGENTID,
            sends: AtomicUsize::new(0),
        }))
        .build()?;
    client.access_token().await?;
    admin.revoke_tokens(TokenTarget::App(DEMO_APPROVAL_AGENTID));
    // 1: 40014 (first revocation) -> refresh; 2: dropped (and revoked again);
    // 3: 40014 -> refresh; 4: delivered.
    Message::text("through two revocations")
        .to(Recipients::user("lina"))
        .send(&client)
        .await?;
    assert_eq!(admin.count("gettoken"), 3, "one gettoken per revocation");
    assert_eq!(
        admin.count("message_send"),
        3,
        "the dropped one never arrived"
    );
    assert_eq!(texts_in_inbox(&admin, "lina"), ["through two revocations"]);
    Ok(())
}

#[cfg(feature = "redis")]
mod redis_shared {
    use std::sync::Arc;
    use std::time::Duration;

    use wecom_core_auth::{Client, RedisTokenStore, Secret, TokenPolicy};
    use wecom_messages::{Message, Recipients};
    use wecom_sandbox::TokenTarget;
    use wecom_tests::{BIG_AGENTID, BIG_SECRET, World, big, fast_retries, member_id};

    use super::Res;

    use wecom_testkit::RedisServer;

    fn instance(
        w: &World,
        redis: &RedisServer,
        prefix: &str,
        policy: TokenPolicy,
        timeouts: Duration,
    ) -> Result<Client, Box<dyn std::error::Error>> {
        let store = RedisTokenStore::builder(redis.url())
            .prefix(prefix)
            .connect_timeout(timeouts)
            .response_timeout(timeouts)
            .build()?;
        Ok(Client::builder(w.sandbox.credentials().corpid)
            .base_url(w.sandbox.base_url())
            .app(BIG_AGENTID, Secret::new(BIG_SECRET.to_owned()))
            .retry_policy(fast_retries(5))
            .token_store(Arc::new(store))
            .token_policy(policy)
            .build()?)
    }

    /// `n` sends alternating between `a` and `b`, all at once; returns the failures.
    async fn wave(a: &Client, b: &Client, tag: &str, n: usize) -> Vec<String> {
        let mut handles = Vec::new();
        for i in 0..n {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            let text = format!("{tag} #{i}");
            handles.push(tokio::spawn(async move {
                Message::text(text)
                    .to(Recipients::user(member_id(i % 10)))
                    .send(&c)
                    .await
                    .map(|_| ())
            }));
        }
        let mut failures = Vec::new();
        for h in handles {
            match tokio::time::timeout(super::HANG, h).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => failures.push(e.to_string()),
                Ok(Err(e)) => failures.push(format!("task: {e}")),
                Err(_) => failures.push("hung".to_owned()),
            }
        }
        failures
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_instances_sharing_redis_refresh_once_per_revocation() -> Res {
        let Some(redis) = RedisServer::start() else {
            return Ok(());
        };
        let w = big(10, fast_retries(5)).await?;
        let admin = w.admin();
        // A healthy but possibly slow Redis: a slow answer must not count as "Redis is down".
        let patient = TokenPolicy::default()
            .store_timeout(Duration::from_secs(5))
            .lease_wait(Duration::from_secs(30))
            .lease_ttl(Duration::from_secs(30));
        let a = instance(&w, &redis, "rel1", patient, Duration::from_secs(3))?;
        let b = instance(&w, &redis, "rel1", patient, Duration::from_secs(3))?;
        let failures = wave(&a, &b, "warm", 20).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(admin.count("gettoken"), 1, "one gettoken across both");
        for round in 1..=5u64 {
            assert!(admin.revoke_tokens(TokenTarget::App(BIG_AGENTID)) > 0);
            let failures = wave(&a, &b, &format!("round {round}"), 200).await;
            assert!(failures.is_empty(), "round {round}: {failures:?}");
            assert_eq!(
                admin.count("gettoken"),
                1 + round,
                "one gettoken per revocation across both instances"
            );
        }
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_killed_mid_run_calls_keep_succeeding() -> Res {
        let Some(mut redis) = RedisServer::start() else {
            return Ok(());
        };
        let w = big(10, fast_retries(5)).await?;
        let admin = w.admin();
        let quick = TokenPolicy::default().store_timeout(Duration::from_millis(300));
        let a = instance(&w, &redis, "rel2", quick, Duration::from_millis(500))?;
        let b = instance(&w, &redis, "rel2", quick, Duration::from_millis(500))?;
        let failures = wave(&a, &b, "before", 50).await;
        assert!(failures.is_empty(), "{failures:?}");

        // Sends keep going while Redis dies, and tokens are revoked while it is down.
        let running = {
            let (a, b) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                for round in 0..10 {
                    failures.extend(wave(&a, &b, &format!("during {round}"), 20).await);
                }
                failures
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        redis.kill();
        admin.revoke_tokens(TokenTarget::App(BIG_AGENTID));
        let failures = tokio::time::timeout(super::HANG, running).await??;
        assert!(
            failures.is_empty(),
            "{} calls failed with Redis gone: {:?}",
            failures.len(),
            &failures[..failures.len().min(3)]
        );
        admin.revoke_tokens(TokenTarget::App(BIG_AGENTID));
        let failures = wave(&a, &b, "after", 50).await;
        assert!(failures.is_empty(), "{failures:?}");
        // Two instances, each refreshing on its own at most once per revocation (2 revocations).
        let gettokens = admin.count("gettoken");
        assert!(gettokens <= 1 + 2 * 2, "{gettokens} gettoken calls");
        Ok(())
    }
}

mod callbacks {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use wecom_callback::router::CallbackRouter;
    use wecom_callback::{CallbackCrypto, Inbound};
    use wecom_core_auth::Secret;
    use wecom_sandbox::CallbackSettings;
    use wecom_sandbox::corp::CallbackConfig;
    use wecom_tests::{DEMO_APPROVAL_AGENTID, demo};

    use super::Res;

    const TOKEN: &str = "reliabilityToken";
    const AES_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wecom_retries_of_one_delivery_reach_the_handler_once() -> Res {
        let w = demo().await?;
        let admin = w.admin();
        let corpid = w.sandbox.credentials().corpid;
        // WeCom gives up on an attempt after its timeout and retries; here 1 s, 3 retries.
        admin.set_callback_settings(CallbackSettings {
            timeout: Duration::from_secs(1),
            retries: 3,
        });
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let crypto = CallbackCrypto::new(TOKEN, AES_KEY, corpid.clone())?;
        // The handler is slower than WeCom's timeout on the first call, so WeCom retries.
        let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
            let seen = Arc::clone(&seen);
            async move {
                if matches!(inbound, Inbound::Message(_)) {
                    seen.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                None
            }
        })
        .ack_within(Duration::from_secs(30))
        .into_router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        admin
            .set_app_callback(
                DEMO_APPROVAL_AGENTID,
                Some(CallbackConfig {
                    url: url.clone(),
                    token: Secret::new(TOKEN.to_owned()),
                    encoding_aes_key: Secret::new(AES_KEY.to_owned()),
                }),
            )
            .await?;
        let records = admin
            .member_sends_text("lina", DEMO_APPROVAL_AGENTID, "hello twice")
            .await?;
        let record = records.first().ok_or("nothing was pushed")?;
        assert!(
            record.attempts >= 2,
            "the sandbox retried: {} attempt(s), last error {:?}",
            record.attempts,
            record.last_error
        );
        assert!(record.delivered, "a retry got its 200: {record:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the handler ran once");

        // The same delivery replayed as WeCom would (new signature, same message): still once.
        let crypto = CallbackCrypto::new(TOKEN, AES_KEY, corpid.clone())?;
        let http = reqwest::Client::new();
        for nonce in ["replay1", "replay2"] {
            let ts = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs()
                .to_string();
            let (body, sig) = crypto.seal_delivery(
                &record.plaintext,
                &corpid,
                DEMO_APPROVAL_AGENTID,
                &ts,
                nonce,
            );
            let answer = http
                .post(format!(
                    "{url}?msg_signature={sig}&timestamp={ts}&nonce={nonce}"
                ))
                .body(body)
                .timeout(Duration::from_secs(60))
                .send()
                .await?;
            assert_eq!(answer.status(), 200);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "replays reached it too");

        // A different message is new.
        admin
            .member_sends_text("lina", DEMO_APPROVAL_AGENTID, "another")
            .await?;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        server.abort();
        Ok(())
    }
}
