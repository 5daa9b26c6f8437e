//! The loop fed with repeated, out-of-order and racing callbacks: each message reaches the
//! handler exactly once, in WeCom's order. A scripted `sync_msg` (cursor = index into the
//! account's message log, a few messages per page) stands in for WeCom; it yields between calls so
//! concurrent callbacks really interleave.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use serde_json::json;
use wecom_core_auth::ApiError;

use super::*;

#[derive(Default)]
struct FakeWeCom {
    /// Per account, the messages in order.
    log: Mutex<HashMap<String, Vec<String>>>,
    page: usize,
    calls: AtomicUsize,
    /// Tokens WeCom no longer accepts (95007).
    expired: Mutex<HashSet<String>>,
    /// Calls that carried a token.
    with_token: AtomicUsize,
}

impl FakeWeCom {
    fn new(page: usize) -> Self {
        Self {
            page,
            ..Self::default()
        }
    }

    fn customer_writes(&self, open_kfid: &str, n: usize) {
        let mut log = lock(&self.log);
        let msgs = log.entry(open_kfid.to_owned()).or_default();
        for _ in 0..n {
            let i = msgs.len();
            msgs.push(format!("{open_kfid}-m{i}"));
        }
    }
}

impl SyncSource for Arc<FakeWeCom> {
    fn sync_page(
        &self,
        request: KfSyncMsgRequest,
    ) -> BoxFuture<'_, Result<KfSyncMsgResponse, wecom_core_auth::Error>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            if let Some(t) = &request.token {
                if lock(&self.expired).contains(t) {
                    return Err(wecom_core_auth::Error::Api(ApiError::new(
                        "kf_sync_msg",
                        95007,
                        "invalid msg token",
                    )));
                }
                self.with_token.fetch_add(1, Ordering::SeqCst);
            }
            let kfid = request.open_kfid.clone().unwrap_or_default();
            let start: usize = request
                .cursor
                .as_deref()
                .map_or(0, |c| c.trim_start_matches('c').parse().unwrap_or(0));
            let limit = (request.limit.unwrap_or(1000) as usize).min(self.page);
            let log = lock(&self.log).get(&kfid).cloned().unwrap_or_default();
            let end = (start + limit).min(log.len());
            let msgs: Vec<_> = log[start.min(end)..end]
                .iter()
                .map(|id| {
                    json!({"msgid": id, "open_kfid": kfid, "external_userid": "wmC", "send_time": 1,
                           "origin": 3, "msgtype": "text", "text": {"content": id}})
                })
                .collect();
            let body = json!({
                "next_cursor": format!("c{end}"),
                "has_more": u32::from(end < log.len()),
                "msg_list": msgs,
            });
            Ok(serde_json::from_value(body).expect("a valid sync_msg answer"))
        })
    }
}

type Received = Arc<Mutex<Vec<String>>>;

fn sync_with(wecom: &Arc<FakeWeCom>, store: Arc<dyn CursorStore>) -> (KfSync, Received) {
    let got: Received = Arc::default();
    let sink = Arc::clone(&got);
    let sync = KfSync::new(Arc::clone(wecom), store, move |m: KfMessage| {
        let sink = Arc::clone(&sink);
        async move {
            // The handler yields too, so racing callbacks arrive while it runs.
            tokio::task::yield_now().await;
            lock(&sink).push(m.msgid);
            Ok(())
        }
    });
    (sync, got)
}

fn expected(open_kfid: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{open_kfid}-m{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_racing_and_out_of_order_callbacks_deliver_each_message_once_in_order() {
    let wecom = Arc::new(FakeWeCom::new(3));
    let (sync, got) = sync_with(&wecom, Arc::new(MemoryCursorStore::default()));
    let sync = Arc::new(sync);

    // Three waves: the customer writes, then a burst of callbacks for that wave arrives at once,
    // repeated (WeCom retries) and with the tokens of earlier waves mixed in (out of order).
    let mut total = 0;
    for wave in 0..3 {
        wecom.customer_writes("wkA", 7);
        total += 7;
        let tokens: Vec<String> = (0..=wave).rev().map(|w| format!("T{w}")).collect();
        let burst = (0..12).map(|i| {
            let sync = Arc::clone(&sync);
            let token = tokens[i % tokens.len()].clone();
            tokio::spawn(async move { sync.on_callback("wkA", Some(&token)).await })
        });
        for r in join_all(burst).await {
            r.expect("the task ran").expect("the callback was handled");
        }
        assert_eq!(*lock(&got), expected("wkA", total), "after wave {wave}");
    }

    // More repeats with nothing new: no message is handed over again.
    for token in ["T0", "T2", "T1", "T2"] {
        sync.on_callback("wkA", Some(token)).await.unwrap();
    }
    assert_eq!(*lock(&got), expected("wkA", 21));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_arriving_while_an_account_is_read_are_read_by_the_running_reader() {
    let wecom = Arc::new(FakeWeCom::new(2));
    let got: Received = Arc::default();
    let sink = Arc::clone(&got);
    let source = Arc::clone(&wecom);
    // The handler makes the customer write again on the first message: a callback for it arrives
    // while this reader is busy, and must be served by the same reader (Joined), not lost.
    let sync = Arc::new(KfSync::new(
        Arc::clone(&wecom),
        Arc::new(MemoryCursorStore::default()),
        move |m: KfMessage| {
            let sink = Arc::clone(&sink);
            let source = Arc::clone(&source);
            async move {
                if m.msgid == "wkB-m0" {
                    source.customer_writes("wkB", 3);
                }
                lock(&sink).push(m.msgid);
                Ok(())
            }
        },
    ));
    wecom.customer_writes("wkB", 1);
    let first = {
        let sync = Arc::clone(&sync);
        tokio::spawn(async move { sync.on_callback("wkB", Some("T")).await })
    };
    // Wait until the reader is running, then deliver the second callback.
    loop {
        if lock(&sync.slots).get("wkB").is_some_and(|s| s.running) || !lock(&got).is_empty() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let second = sync.on_callback("wkB", Some("T2")).await.unwrap();
    let first = first.await.unwrap().unwrap();
    let delivered = match (first, second) {
        (SyncOutcome::Read { delivered: a, .. }, SyncOutcome::Read { delivered: b, .. }) => a + b,
        (SyncOutcome::Read { delivered, .. }, SyncOutcome::Joined)
        | (SyncOutcome::Joined, SyncOutcome::Read { delivered, .. }) => delivered,
        other => panic!("one of them read: {other:?}"),
    };
    assert_eq!(delivered, 4);
    assert_eq!(*lock(&got), expected("wkB", 4));
}

#[tokio::test]
async fn an_expired_token_is_dropped_and_the_page_read_without_it() {
    let wecom = Arc::new(FakeWeCom::new(10));
    lock(&wecom.expired).insert("OLD".into());
    let (sync, got) = sync_with(&wecom, Arc::new(MemoryCursorStore::default()));
    wecom.customer_writes("wkC", 2);
    let out = sync.on_callback("wkC", Some("OLD")).await.unwrap();
    assert_eq!(
        out,
        SyncOutcome::Read {
            delivered: 2,
            pages: 1
        }
    );
    assert_eq!(
        wecom.calls.load(Ordering::SeqCst),
        2,
        "one refused, one without the token"
    );
    assert_eq!(wecom.with_token.load(Ordering::SeqCst), 0);
    assert_eq!(*lock(&got), expected("wkC", 2));
}

#[tokio::test]
async fn a_failing_handler_stops_and_the_next_callback_resumes_without_repeats() {
    let wecom = Arc::new(FakeWeCom::new(10));
    let got: Received = Arc::default();
    let sink = Arc::clone(&got);
    let fail_once = Arc::new(AtomicUsize::new(0));
    let f = Arc::clone(&fail_once);
    let sync = KfSync::new(
        Arc::clone(&wecom),
        Arc::new(MemoryCursorStore::default()),
        move |m: KfMessage| {
            let sink = Arc::clone(&sink);
            let f = Arc::clone(&f);
            async move {
                if m.msgid == "wkD-m2" && f.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err("database down".into());
                }
                lock(&sink).push(m.msgid);
                Ok(())
            }
        },
    );
    wecom.customer_writes("wkD", 4);
    let err = sync.on_callback("wkD", Some("T")).await.unwrap_err();
    assert!(
        matches!(&err, SyncError::Handler { msgid, .. } if msgid == "wkD-m2"),
        "{err}"
    );
    assert_eq!(*lock(&got), expected("wkD", 2));
    // The page is read again (its cursor was not stored); m0 and m1 are not handed over twice.
    sync.on_callback("wkD", Some("T")).await.unwrap();
    assert_eq!(*lock(&got), expected("wkD", 4));
}

#[tokio::test]
async fn pages_follow_has_more_and_the_cursor_is_stored_per_account() {
    let wecom = Arc::new(FakeWeCom::new(3));
    let store = Arc::new(MemoryCursorStore::default());
    let (sync, got) = sync_with(&wecom, Arc::clone(&store) as Arc<dyn CursorStore>);
    wecom.customer_writes("wkE", 7);
    wecom.customer_writes("wkF", 1);
    let out = sync.on_callback("wkE", None).await.unwrap();
    assert_eq!(
        out,
        SyncOutcome::Read {
            delivered: 7,
            pages: 3
        }
    );
    assert_eq!(store.load("wkE").await.unwrap().as_deref(), Some("c7"));
    assert_eq!(store.load("wkF").await.unwrap(), None, "wkF not read yet");
    // A second KfSync (a restart) with the same store starts from the stored cursor.
    let (again, got2) = sync_with(&wecom, store);
    wecom.customer_writes("wkE", 1);
    again.on_callback("wkE", None).await.unwrap();
    assert_eq!(*lock(&got2), vec!["wkE-m7".to_owned()]);
    assert_eq!(lock(&got).len(), 7);
}

#[tokio::test]
async fn bad_input_is_refused_before_any_call() {
    let wecom = Arc::new(FakeWeCom::new(3));
    let (sync, _) = sync_with(&wecom, Arc::new(MemoryCursorStore::default()));
    let e = sync.on_callback("", None).await.unwrap_err();
    assert!(e.to_string().contains("open_kfid"), "{e}");
    let long = "x".repeat(129);
    assert!(sync.on_callback("wk", Some(&long)).await.is_err());
    assert_eq!(wecom.calls.load(Ordering::SeqCst), 0);
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn the_redis_store_keeps_cursors_across_instances() {
    let Some(redis) = wecom_testkit::RedisServer::start() else {
        return;
    };
    let a = RedisCursorStore::new(&redis.url(), "t").unwrap();
    let b = RedisCursorStore::new(&redis.url(), "t").unwrap();
    assert_eq!(a.load("wkR").await.unwrap(), None);
    a.save("wkR", "CURSOR1").await.unwrap();
    assert_eq!(b.load("wkR").await.unwrap().as_deref(), Some("CURSOR1"));
    // The loop over two instances sharing Redis: the second continues where the first stopped.
    let wecom = Arc::new(FakeWeCom::new(2));
    wecom.customer_writes("wkS", 3);
    let (first, got1) = sync_with(&wecom, Arc::new(a));
    first.on_callback("wkS", None).await.unwrap();
    wecom.customer_writes("wkS", 2);
    let (second, got2) = sync_with(&wecom, Arc::new(b));
    second.on_callback("wkS", None).await.unwrap();
    assert_eq!(*lock(&got1), expected("wkS", 3));
    assert_eq!(*lock(&got2), vec!["wkS-m3".to_owned(), "wkS-m4".to_owned()]);
}
