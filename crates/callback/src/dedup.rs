//! Recognising WeCom's retries.
//!
//! WeCom retries a callback (up to 3 times) when it gets no 200 within 5 s. The router asks a
//! [`Dedup`] whether each callback's [`dedup_key`](crate::Inbound::dedup_key) is new:
//! [`MemoryDedup`] (bounded, with a TTL) for one instance, `RedisDedup` (feature `redis`,
//! `SET NX EX`) for several instances behind one callback URL.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A boxed, sendable future (keeps [`Dedup`] object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Remembers callback keys for a while.
pub trait Dedup: Send + Sync + 'static {
    /// Record `key`. `true` if it was not seen within the TTL (process the callback), `false`
    /// if it was (a retry: acknowledge it without processing).
    ///
    /// An implementation that cannot tell (its store is down) should answer `true`: a
    /// callback handled twice is better than one lost.
    fn first_seen<'a>(&'a self, key: &'a str) -> BoxFuture<'a, bool>;
}

/// In-memory de-duplication: at most `capacity` keys (the oldest is forgotten first), each
/// for `ttl`.
///
/// ```
/// use std::time::{Duration, Instant};
/// use wecom_callback::MemoryDedup;
/// let dedup = MemoryDedup::new(1000, Duration::from_secs(60));
/// let now = Instant::now();
/// assert!(dedup.first_seen_at("msg:1", now));
/// assert!(!dedup.first_seen_at("msg:1", now + Duration::from_secs(5)));
/// assert!(dedup.first_seen_at("msg:1", now + Duration::from_secs(61)));
/// ```
#[derive(Debug)]
pub struct MemoryDedup {
    capacity: usize,
    ttl: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// key -> when it was recorded
    seen: HashMap<String, Instant>,
    /// (when, key) in recording order
    order: VecDeque<(Instant, String)>,
}

impl Default for MemoryDedup {
    /// 10,000 keys for 5 minutes (WeCom retries within about 15 s).
    fn default() -> Self {
        MemoryDedup::new(10_000, Duration::from_secs(300))
    }
}

impl MemoryDedup {
    /// Remember up to `capacity` keys (at least 1), each for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        MemoryDedup {
            capacity: capacity.max(1),
            ttl,
            state: Mutex::new(State::default()),
        }
    }

    /// Number of keys currently remembered.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
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

    /// [`Dedup::first_seen`] with an explicit clock (for tests).
    pub fn first_seen_at(&self, key: &str, now: Instant) -> bool {
        let mut state = self.lock();
        let ttl = self.ttl;
        // Forget expired keys (oldest first).
        while let Some((when, _)) = state.order.front() {
            if now.saturating_duration_since(*when) < ttl {
                break;
            }
            if let Some((when, old)) = state.order.pop_front()
                && state.seen.get(&old) == Some(&when)
            {
                state.seen.remove(&old);
            }
        }
        if let Some(when) = state.seen.get(key)
            && now.saturating_duration_since(*when) < ttl
        {
            return false;
        }
        state.seen.insert(key.to_owned(), now);
        state.order.push_back((now, key.to_owned()));
        while state.seen.len() > self.capacity {
            match state.order.pop_front() {
                Some((when, old)) => {
                    if state.seen.get(&old) == Some(&when) {
                        state.seen.remove(&old);
                    }
                }
                None => break,
            }
        }
        true
    }
}

impl Dedup for MemoryDedup {
    fn first_seen<'a>(&'a self, key: &'a str) -> BoxFuture<'a, bool> {
        let fresh = self.first_seen_at(key, Instant::now());
        Box::pin(std::future::ready(fresh))
    }
}

#[cfg(feature = "redis")]
mod redis_dedup {
    use std::fmt;
    use std::time::Duration;

    use redis::aio::ConnectionManager;

    use super::{BoxFuture, Dedup};

    /// De-duplication shared by several instances through Redis (`SET key 1 NX EX ttl`).
    ///
    /// When Redis cannot be reached, callbacks are processed (and a warning logged): a
    /// duplicate is better than a loss.
    #[derive(Clone)]
    pub struct RedisDedup {
        conn: ConnectionManager,
        prefix: String,
        ttl_secs: u64,
    }

    impl fmt::Debug for RedisDedup {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // The connection may embed a password in its URL: not shown.
            f.debug_struct("RedisDedup")
                .field("prefix", &self.prefix)
                .field("ttl_secs", &self.ttl_secs)
                .finish_non_exhaustive()
        }
    }

    impl RedisDedup {
        /// Connect to `url` (e.g. `redis://127.0.0.1:6379/0`); keys live for `ttl` (at least 1 s)
        /// under the prefix `wecom:callback:dedup:`.
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
                ttl_secs: ttl.as_secs().max(1),
            }
        }

        /// Change the key prefix (to separate apps sharing one Redis).
        pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
            self.prefix = prefix.into();
            self
        }
    }

    impl Dedup for RedisDedup {
        fn first_seen<'a>(&'a self, key: &'a str) -> BoxFuture<'a, bool> {
            Box::pin(async move {
                let mut conn = self.conn.clone();
                let answer: Result<Option<String>, redis::RedisError> = redis::cmd("SET")
                    .arg(format!("{}{}", self.prefix, key))
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(self.ttl_secs)
                    .query_async(&mut conn)
                    .await;
                match answer {
                    Ok(set) => set.is_some(),
                    Err(error) => {
                        tracing::warn!(%error, "redis de-duplication unavailable; processing the callback");
                        true
                    }
                }
            })
        }
    }
}

#[cfg(feature = "redis")]
pub use redis_dedup::RedisDedup;
