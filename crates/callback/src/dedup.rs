//! Recognising WeCom's retries, with at-least-once delivery to the handler.
//!
//! WeCom retries a callback (up to 3 times) when it gets no HTTP 200 within 5 s. A retry carries
//! the same decrypted plaintext (only the encryption's random prefix, the nonce, the timestamp
//! and the signature change), so a retry is recognised by [`retry_key`]: a SHA-1 of the decrypted
//! plaintext, scoped by the receive id (corpid or suite id) and the agent id. Two different
//! callbacks of the same second differ in their plaintext, so they are two keys: nothing is
//! guessed from a few fields.
//!
//! A key goes through three states in a [`Dedup`] store:
//!
//! 1. [`claim`](Dedup::claim): the first delivery takes the key *in progress* for a lease
//!    (extended while the handler runs);
//! 2. [`complete`](Dedup::complete): the handler returned `Ok`: the key is *done* and later
//!    retries (or replays) are acknowledged without running the handler;
//! 3. [`release`](Dedup::release): the handler failed or panicked: the key is forgotten, so
//!    WeCom's next retry runs the handler again.
//!
//! If the instance running a handler dies, its lease runs out and a retry gets through. This is
//! **at-least-once** delivery: a handler may run twice for one callback (a crash after the work
//! but before `complete`, a store that is down), never zero times while WeCom still retries.
//!
//! [`MemoryDedup`] (bounded, with an injectable clock) serves one instance; `RedisDedup`
//! (feature `redis`) serves several instances behind one callback URL.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

// SHA-1 is enough here: two callbacks share a key only if their plaintexts collide, and WeCom
// composes the plaintexts (a sender controls at most a message's content, and a collision would
// only hide that sender's own second message). It is the digest already used by the protocol.

/// A boxed, sendable future (keeps [`Dedup`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The key under which WeCom's retries of one callback are recognised:
/// `<receive id>/<agent id or ->/<SHA-1 of the decrypted plaintext, hex>`.
///
/// * `receive_id`: the corpid (self-built app), the suite id (suite callbacks) or `""`
///   (robots): the one the crypto checked;
/// * `agent_id`: the callback's `AgentID` when it has one (only digits are kept; anything
///   else counts as absent);
/// * `plaintext`: the decrypted message exactly as received (XML or JSON).
///
/// Identical plaintexts (a retry, or a captured delivery replayed) give the same key; any
/// difference (another `ExternalUserID`, another changed field, another `InfoType` payload)
/// gives another key.
///
/// ```
/// use wecom_callback::dedup::retry_key;
/// let a = retry_key("wwcorp", Some("1000002"), "<xml><UserID>a</UserID></xml>");
/// let b = retry_key("wwcorp", Some("1000002"), "<xml><UserID>b</UserID></xml>");
/// assert_ne!(a, b);
/// assert_eq!(a, retry_key("wwcorp", Some("1000002"), "<xml><UserID>a</UserID></xml>"));
/// assert_ne!(a, retry_key("wwother", Some("1000002"), "<xml><UserID>a</UserID></xml>"));
/// assert!(a.starts_with("wwcorp/1000002/"));
/// ```
pub fn retry_key(receive_id: &str, agent_id: Option<&str>, plaintext: &str) -> String {
    let agent = agent_id
        .map(str::trim)
        .filter(|a| !a.is_empty() && a.len() <= 20 && a.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("-");
    let digest = Sha1::digest(plaintext.as_bytes());
    let mut key = String::with_capacity(receive_id.len() + agent.len() + 42);
    // A receive id is configured by the app owner; keep the key on one line and unambiguous.
    key.extend(
        receive_id
            .chars()
            .map(|c| if c == '/' || c.is_control() { '_' } else { c }),
    );
    key.push('/');
    key.push_str(agent);
    key.push('/');
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in digest {
        key.push(char::from(HEX[usize::from(byte >> 4)]));
        key.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    key
}

/// A claim on a key, returned by [`Dedup::claim`] when the key was free; hand it back to
/// [`Dedup::complete`], [`Dedup::release`] or [`Dedup::extend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    key: String,
    id: u64,
}

impl Ticket {
    /// A ticket for `key` with a fresh random id (for [`Dedup`] implementations).
    pub fn new(key: impl Into<String>) -> Self {
        Ticket {
            key: key.into(),
            id: rand::random(),
        }
    }

    /// The claimed key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What tells this claim from a later claim of the same key (after a lease ran out).
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// The answer of [`Dedup::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free: run the handler, then [`complete`](Dedup::complete) or
    /// [`release`](Dedup::release) the ticket.
    New(Ticket),
    /// A handler for this key returned `Ok` within the keep time: a retry or a replay;
    /// acknowledge it without running the handler.
    Done,
    /// A handler for this key is running (here or on another instance) and its lease has not
    /// run out: wait for it, or answer so that WeCom retries later.
    InProgress,
}

/// A store of callback keys; see the [module docs](self) for the life of a key.
///
/// An implementation that cannot reach its store should answer [`Claim::New`]: a callback
/// handled twice is better than one lost.
pub trait Dedup: Send + Sync + 'static {
    /// Take `key` for processing during `lease`, unless it is done or already taken.
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> BoxFuture<'a, Claim>;

    /// The handler returned `Ok`: remember the key as done for at least `keep`.
    fn complete<'a>(&'a self, ticket: &'a Ticket, keep: Duration) -> BoxFuture<'a, ()>;

    /// The handler failed or panicked: forget the claim (if it is still this ticket's), so the
    /// next retry runs the handler again.
    fn release<'a>(&'a self, ticket: &'a Ticket) -> BoxFuture<'a, ()>;

    /// The handler is still running: extend the claim (if it is still this ticket's) to
    /// `lease` from now.
    fn extend<'a>(&'a self, ticket: &'a Ticket, lease: Duration) -> BoxFuture<'a, ()>;
}

impl<D: Dedup> Dedup for Arc<D> {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> BoxFuture<'a, Claim> {
        (**self).claim(key, lease)
    }
    fn complete<'a>(&'a self, ticket: &'a Ticket, keep: Duration) -> BoxFuture<'a, ()> {
        (**self).complete(ticket, keep)
    }
    fn release<'a>(&'a self, ticket: &'a Ticket) -> BoxFuture<'a, ()> {
        (**self).release(ticket)
    }
    fn extend<'a>(&'a self, ticket: &'a Ticket, lease: Duration) -> BoxFuture<'a, ()> {
        (**self).extend(ticket, lease)
    }
}

type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Longer than any callback needs to be remembered; keeps `Instant` arithmetic in range.
const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + d`, with `d` capped at a century (never overflows on a real clock).
fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(CENTURY)).unwrap_or(now)
}

/// In-memory de-duplication for one instance: at most `capacity` keys (past that, the oldest
/// is forgotten first); a done key is kept for `ttl` or the router's keep time, whichever is
/// longer.
///
/// ```
/// use std::time::Duration;
/// use wecom_callback::MemoryDedup;
/// use wecom_callback::dedup::{Claim, Dedup};
/// # tokio_test_block_on(async {
/// let dedup = MemoryDedup::new(1000, Duration::from_secs(600));
/// let Claim::New(ticket) = dedup.claim("k", Duration::from_secs(10)).await else { panic!() };
/// assert_eq!(dedup.claim("k", Duration::from_secs(10)).await, Claim::InProgress);
/// dedup.complete(&ticket, Duration::ZERO).await;
/// assert_eq!(dedup.claim("k", Duration::from_secs(10)).await, Claim::Done);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// ```
pub struct MemoryDedup {
    capacity: usize,
    ttl: Duration,
    clock: Clock,
    state: Mutex<State>,
}

impl fmt::Debug for MemoryDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryDedup")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    InProgress(u64),
    Done,
}

#[derive(Debug)]
struct Entry {
    mark: Mark,
    until: Instant,
    seq: u64,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// (seq, key) in recording order; stale pairs (seq no longer the entry's) are skipped.
    order: VecDeque<(u64, String)>,
    next_seq: u64,
}

impl State {
    fn put(&mut self, key: &str, mark: Mark, until: Instant) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries
            .insert(key.to_owned(), Entry { mark, until, seq });
        self.order.push_back((seq, key.to_owned()));
    }

    /// The live entry of `key` at `now`.
    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.entries.get(key).filter(|e| e.until > now)
    }

    fn enforce(&mut self, capacity: usize, now: Instant) {
        if self.entries.len() > capacity {
            self.entries.retain(|_, e| e.until > now);
        }
        while self.entries.len() > capacity {
            let Some((seq, key)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&key).is_some_and(|e| e.seq == seq) {
                self.entries.remove(&key);
            }
        }
        // Stale order pairs: rebuild when they dominate.
        if self.order.len() > 2 * self.entries.len() + 64 {
            let mut live: Vec<(u64, String)> = self
                .entries
                .iter()
                .map(|(k, e)| (e.seq, k.clone()))
                .collect();
            live.sort_unstable();
            self.order = live.into();
        }
    }
}

impl Default for MemoryDedup {
    /// 10,000 keys; done keys kept 11 minutes (the router raises it to cover its timestamp
    /// window when that is longer).
    fn default() -> Self {
        MemoryDedup::new(10_000, Duration::from_secs(660))
    }
}

impl MemoryDedup {
    /// Remember up to `capacity` keys (at least 1); done keys for at least `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        MemoryDedup {
            capacity: capacity.max(1),
            ttl,
            clock: Arc::new(Instant::now),
            state: Mutex::new(State::default()),
        }
    }

    /// Replace the clock (for tests: move time without sleeping).
    pub fn with_clock(mut self, now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    /// Number of keys currently remembered (done or in progress, expired ones included until
    /// they are swept).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters here; keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> Instant {
        (self.clock)()
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let now = self.now();
        let mut state = self.lock();
        match state.live(key, now).map(|e| e.mark) {
            Some(Mark::Done) => Claim::Done,
            Some(Mark::InProgress(_)) => Claim::InProgress,
            None => {
                let ticket = Ticket::new(key);
                state.put(key, Mark::InProgress(ticket.id), after(now, lease));
                state.enforce(self.capacity, now);
                Claim::New(ticket)
            }
        }
    }

    fn complete_now(&self, ticket: &Ticket, keep: Duration) {
        let now = self.now();
        let mut state = self.lock();
        state.put(&ticket.key, Mark::Done, after(now, keep.max(self.ttl)));
        state.enforce(self.capacity, now);
    }

    fn release_now(&self, ticket: &Ticket) {
        let mut state = self.lock();
        if state
            .entries
            .get(&ticket.key)
            .is_some_and(|e| e.mark == Mark::InProgress(ticket.id))
        {
            state.entries.remove(&ticket.key);
        }
    }

    fn extend_now(&self, ticket: &Ticket, lease: Duration) {
        let now = self.now();
        let mut state = self.lock();
        if let Some(entry) = state.entries.get_mut(&ticket.key)
            && entry.mark == Mark::InProgress(ticket.id)
        {
            entry.until = after(now, lease);
        }
    }
}

impl Dedup for MemoryDedup {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> BoxFuture<'a, Claim> {
        Box::pin(std::future::ready(self.claim_now(key, lease)))
    }
    fn complete<'a>(&'a self, ticket: &'a Ticket, keep: Duration) -> BoxFuture<'a, ()> {
        self.complete_now(ticket, keep);
        Box::pin(std::future::ready(()))
    }
    fn release<'a>(&'a self, ticket: &'a Ticket) -> BoxFuture<'a, ()> {
        self.release_now(ticket);
        Box::pin(std::future::ready(()))
    }
    fn extend<'a>(&'a self, ticket: &'a Ticket, lease: Duration) -> BoxFuture<'a, ()> {
        self.extend_now(ticket, lease);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(feature = "redis")]
mod redis_dedup {
    use std::fmt;
    use std::time::Duration;

    use redis::aio::ConnectionManager;

    use super::{BoxFuture, Claim, Dedup, Ticket};

    const DONE: &str = "done";

    /// De-duplication shared by several instances through Redis.
    ///
    /// A key is `<prefix><retry key>`; its value is `run:<ticket id>` while a handler runs
    /// (`SET NX PX lease`, extended while it runs) and `done` once it returned `Ok`
    /// (`SET PX keep`). Releasing or extending a claim checks the ticket id first (a Lua
    /// script), so a late instance never removes someone else's claim.
    ///
    /// When Redis cannot be reached, callbacks are processed (and a warning logged): a
    /// duplicate is better than a loss.
    #[derive(Clone)]
    pub struct RedisDedup {
        conn: ConnectionManager,
        prefix: String,
        ttl: Duration,
    }

    impl fmt::Debug for RedisDedup {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // The connection may embed a password in its URL: not shown.
            f.debug_struct("RedisDedup")
                .field("prefix", &self.prefix)
                .field("ttl", &self.ttl)
                .finish_non_exhaustive()
        }
    }

    /// Milliseconds for `PX`, between 1 and a century (Redis refuses expiries that overflow).
    fn millis(d: Duration) -> u64 {
        u64::try_from(d.min(super::CENTURY).as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    impl RedisDedup {
        /// Connect to `url` (e.g. `redis://127.0.0.1:6379/0`); done keys live for at least
        /// `ttl` under the prefix `wecom:callback:dedup:`.
        pub async fn connect(url: &str, ttl: Duration) -> Result<Self, redis::RedisError> {
            let client = redis::Client::open(url)?;
            let conn = ConnectionManager::new(client).await?;
            Ok(Self::new(conn, ttl))
        }

        /// Use an existing connection manager.
        pub fn new(conn: ConnectionManager, ttl: Duration) -> Self {
            RedisDedup {
                conn,
                prefix: "wecom:callback:dedup:".to_owned(),
                ttl,
            }
        }

        /// Change the key prefix. Keys already carry the receive id and agent id, so apps
        /// and corps can share one prefix; a prefix separates environments.
        pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
            self.prefix = prefix.into();
            self
        }

        fn full(&self, key: &str) -> String {
            format!("{}{}", self.prefix, key)
        }

        async fn try_claim(&self, key: &str, lease: Duration) -> redis::RedisResult<Claim> {
            let mut conn = self.conn.clone();
            let full = self.full(key);
            for _ in 0..2 {
                let ticket = Ticket::new(key);
                let set: Option<String> = redis::cmd("SET")
                    .arg(&full)
                    .arg(format!("run:{}", ticket.id()))
                    .arg("NX")
                    .arg("PX")
                    .arg(millis(lease))
                    .query_async(&mut conn)
                    .await?;
                if set.is_some() {
                    return Ok(Claim::New(ticket));
                }
                let value: Option<String> =
                    redis::cmd("GET").arg(&full).query_async(&mut conn).await?;
                match value.as_deref() {
                    Some(DONE) => return Ok(Claim::Done),
                    Some(_) => return Ok(Claim::InProgress),
                    // Expired between SET and GET: try once more.
                    None => {}
                }
            }
            Ok(Claim::InProgress)
        }
    }

    impl Dedup for RedisDedup {
        fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> BoxFuture<'a, Claim> {
            Box::pin(async move {
                match self.try_claim(key, lease).await {
                    Ok(claim) => claim,
                    Err(error) => {
                        tracing::warn!(%error, "redis de-duplication unavailable; processing the callback");
                        Claim::New(Ticket::new(key))
                    }
                }
            })
        }

        fn complete<'a>(&'a self, ticket: &'a Ticket, keep: Duration) -> BoxFuture<'a, ()> {
            Box::pin(async move {
                let mut conn = self.conn.clone();
                let done: redis::RedisResult<()> = redis::cmd("SET")
                    .arg(self.full(ticket.key()))
                    .arg(DONE)
                    .arg("PX")
                    .arg(millis(keep.max(self.ttl)))
                    .query_async(&mut conn)
                    .await;
                if let Err(error) = done {
                    tracing::warn!(%error, "redis de-duplication unavailable; a retry of this callback may run the handler again");
                }
            })
        }

        fn release<'a>(&'a self, ticket: &'a Ticket) -> BoxFuture<'a, ()> {
            Box::pin(async move {
                let mut conn = self.conn.clone();
                let script = redis::Script::new(
                    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
                );
                let released: redis::RedisResult<i64> = script
                    .key(self.full(ticket.key()))
                    .arg(format!("run:{}", ticket.id()))
                    .invoke_async(&mut conn)
                    .await;
                if let Err(error) = released {
                    tracing::warn!(%error, "redis de-duplication unavailable; the failed callback's claim expires with its lease");
                }
            })
        }

        fn extend<'a>(&'a self, ticket: &'a Ticket, lease: Duration) -> BoxFuture<'a, ()> {
            Box::pin(async move {
                let mut conn = self.conn.clone();
                let script = redis::Script::new(
                    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end",
                );
                let extended: redis::RedisResult<i64> = script
                    .key(self.full(ticket.key()))
                    .arg(format!("run:{}", ticket.id()))
                    .arg(millis(lease))
                    .invoke_async(&mut conn)
                    .await;
                if let Err(error) = extended {
                    tracing::warn!(%error, "redis de-duplication unavailable; could not extend a running callback's claim");
                }
            })
        }
    }
}

#[cfg(feature = "redis")]
pub use redis_dedup::RedisDedup;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn block_on<F: Future>(f: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    /// A MemoryDedup whose clock moves only when told (seconds).
    fn manual(capacity: usize, ttl_secs: u64) -> (MemoryDedup, Arc<AtomicU64>) {
        let base = Instant::now();
        let offset = Arc::new(AtomicU64::new(0));
        let o = offset.clone();
        let dedup = MemoryDedup::new(capacity, Duration::from_secs(ttl_secs))
            .with_clock(move || base + Duration::from_secs(o.load(Ordering::SeqCst)));
        (dedup, offset)
    }

    const LEASE: Duration = Duration::from_secs(10);

    #[test]
    fn claim_complete_release_extend() {
        let (d, clock) = manual(100, 60);
        let Claim::New(t) = block_on(d.claim("a", LEASE)) else {
            panic!("free key")
        };
        assert_eq!(block_on(d.claim("a", LEASE)), Claim::InProgress);
        // Released: free again.
        block_on(d.release(&t));
        let Claim::New(t2) = block_on(d.claim("a", LEASE)) else {
            panic!("released key")
        };
        // A stale ticket cannot release or extend someone else's claim.
        block_on(d.release(&t));
        assert_eq!(block_on(d.claim("a", LEASE)), Claim::InProgress);
        // Extended past the first lease.
        clock.store(8, Ordering::SeqCst);
        block_on(d.extend(&t2, LEASE));
        clock.store(15, Ordering::SeqCst);
        assert_eq!(block_on(d.claim("a", LEASE)), Claim::InProgress);
        // The lease runs out (a crashed handler): a retry gets through.
        clock.store(19, Ordering::SeqCst);
        let Claim::New(t3) = block_on(d.claim("a", LEASE)) else {
            panic!("expired lease")
        };
        // Done for max(ttl, keep).
        block_on(d.complete(&t3, Duration::from_secs(600)));
        clock.store(19 + 599, Ordering::SeqCst);
        assert_eq!(block_on(d.claim("a", LEASE)), Claim::Done);
        clock.store(19 + 600, Ordering::SeqCst);
        assert!(matches!(block_on(d.claim("a", LEASE)), Claim::New(_)));
    }

    #[test]
    fn capacity_forgets_the_oldest() {
        let (d, _) = manual(2, 60);
        for key in ["a", "b", "c"] {
            let Claim::New(t) = block_on(d.claim(key, LEASE)) else {
                panic!("new")
            };
            block_on(d.complete(&t, Duration::ZERO));
        }
        assert_eq!(d.len(), 2);
        assert!(matches!(block_on(d.claim("a", LEASE)), Claim::New(_)));
        assert_eq!(block_on(d.claim("c", LEASE)), Claim::Done);
    }

    #[test]
    fn keys_are_scoped_and_agent_ids_are_digits() {
        let p = "<xml/>";
        assert_ne!(retry_key("c1", Some("1"), p), retry_key("c2", Some("1"), p));
        assert_ne!(retry_key("c1", Some("1"), p), retry_key("c1", Some("2"), p));
        assert_eq!(retry_key("c1", Some("x/y"), p), retry_key("c1", None, p));
        assert!(retry_key("a/b\n", None, p).starts_with("a_b_/-/"));
        assert_eq!(retry_key("c", None, p).len(), "c/-/".len() + 40);
    }
}
