//! The token and ticket cache.
//!
//! One [`Slot`] per credential: per (corp, app) access_token, the contact-sync token, and per app
//! the jsapi and agent_config tickets. A slot keeps the current value in an `ArcSwap` (a lookup is
//! a few atomic loads, no lock), and:
//!
//! - **soft window**: from a random point (jitter) shortly before expiry, the first caller to
//!   notice refreshes while everyone else keeps using the still-valid value; a failed early
//!   refresh keeps it and is not retried for `early_retry_interval`;
//! - **hard margin**: past `expires_at - hard_margin` nobody uses the value; callers wait for a
//!   refresh;
//! - **single flight**: refreshes are serialized per slot; callers that waited on a refresh take
//!   its result (its value, or its error) instead of starting another. A refresh runs as a task
//!   of its own, so a caller that gives up (a timeout around the call, a dropped request) does
//!   not abandon it: whoever waits behind it gets its value, and its store lease is released;
//! - **same value until expiry**: WeCom answers `gettoken` (and the ticket endpoints) with the
//!   value it already gave until that expires, with `expires_in` = what is left. Such an answer
//!   keeps the value's original lifetime, and the slot learns that refreshing ahead is useless:
//!   from then on values are used until they expire and fetched once after (one fetch per
//!   lifetime). `expires_in` is kept within [`MIN_LIFETIME`]..=[`MAX_LIFETIME`] for new values;
//! - **invalidate-if-same**: a business call rejected with 40001/40014/42001 drops the value only
//!   if it is still the one that failed (by serial, or by value for a re-installed copy), so a
//!   wave of failures causes one refresh;
//! - **cool-down**: when `gettoken` says the secret or corpid is wrong (or a fetch is rate
//!   limited), further fetches for that slot are refused, with the same error, for a while: here,
//!   and through the store in every instance sharing it (restarted ones included);
//! - **shared store** ([`TokenStore`]): read on a miss, written after a fetch; a lease makes one
//!   instance fetch (renewing the lease while its fetch runs) while the others wait for its
//!   result as long as the lease lives; a store failure is logged and the slot carries on with
//!   its in-process value.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use arc_swap::ArcSwapOption;

use crate::error::Error;
use crate::secret::Secret;
use crate::transport::BoxFuture;

mod cache;
#[cfg(feature = "redis")]
mod redis_store;
mod refresher;
mod store;

pub(crate) use cache::{Fetch, TokenCache};
#[cfg(feature = "redis")]
pub use redis_store::{RedisTokenStore, RedisTokenStoreBuilder};
pub use refresher::RefresherHandle;
pub(crate) use refresher::spawn_refresher;
pub use store::{
    AppRef, CoolDownMarker, LeaseId, MemoryTokenStore, StoreError, StoredToken, TokenKey,
    TokenKind, TokenStore,
};

/// Serial numbers of cached values.
static SERIAL: AtomicU64 = AtomicU64::new(1);

/// Errcodes from `gettoken` that mean the secret or corpid is wrong: retrying cannot help and
/// repeated attempts get the caller's IP banned, so the slot cools down.
const BAD_CREDENTIAL: &[i64] = &[40001, 40013, 40091, 41002, 41004];

/// The shortest lifetime accepted from the server for a new value: `expires_in: 0` would make
/// every call fetch. WeCom's documented lifetime is 7200 s.
pub const MIN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest lifetime accepted from the server (a huge `expires_in` is cut to this).
pub const MAX_LIFETIME: Duration = Duration::from_secs(86_400);

/// Timings of the token and ticket cache.
///
/// ```
/// use std::time::Duration;
/// use wecom_core_auth::TokenPolicy;
/// let policy = TokenPolicy::default()
///     .soft_window(Duration::from_secs(600))
///     .bad_secret_cool_down(Duration::from_secs(1800));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    soft_window: Duration,
    soft_jitter: Duration,
    hard_margin: Duration,
    bad_secret_cool_down: Duration,
    rate_limit_cool_down: Duration,
    early_retry_interval: Duration,
    lease_ttl: Duration,
    lease_wait: Duration,
    poll_interval: Duration,
    store_timeout: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            soft_window: Duration::from_secs(600),
            soft_jitter: Duration::from_secs(300),
            hard_margin: Duration::from_secs(180),
            bad_secret_cool_down: Duration::from_secs(600),
            rate_limit_cool_down: Duration::from_secs(60),
            early_retry_interval: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(10),
            lease_wait: Duration::from_secs(30),
            poll_interval: Duration::from_millis(25),
            store_timeout: Duration::from_millis(500),
        }
    }
}

impl TokenPolicy {
    /// How long before the hard margin early refreshes start (default 10 min; at most a quarter
    /// of the token's lifetime).
    pub fn soft_window(mut self, d: Duration) -> Self {
        self.soft_window = d;
        self
    }
    /// Random extra added to the soft window per token, so instances do not refresh in lockstep
    /// (default 5 min; at most a tenth of the lifetime).
    pub fn soft_jitter(mut self, d: Duration) -> Self {
        self.soft_jitter = d;
        self
    }
    /// A value is not used past `expires_at - hard_margin` (default 3 min; at most a tenth of
    /// the lifetime).
    pub fn hard_margin(mut self, d: Duration) -> Self {
        self.hard_margin = d;
        self
    }
    /// How long fetches are refused after `gettoken` said the secret or corpid is wrong
    /// (40001, 40013, 40091, 41002, 41004). Default 10 min.
    pub fn bad_secret_cool_down(mut self, d: Duration) -> Self {
        self.bad_secret_cool_down = d;
        self
    }
    /// How long fetches are refused after a fetch was rate limited (45009, 45033). Default 60 s.
    pub fn rate_limit_cool_down(mut self, d: Duration) -> Self {
        self.rate_limit_cool_down = d;
        self
    }
    /// After a failed early refresh, how long to keep the valid value before trying again.
    pub fn early_retry_interval(mut self, d: Duration) -> Self {
        self.early_retry_interval = d;
        self
    }
    /// How long a store lease lasts without renewal. The holder renews it every third of this
    /// while its fetch runs, so a slow fetch keeps it; a holder that died loses it after this.
    /// Default 10 s.
    pub fn lease_ttl(mut self, d: Duration) -> Self {
        self.lease_ttl = d;
        self
    }
    /// How long an instance waits, at most, for another instance's fetch while that one's lease
    /// is alive (at least as long as one fetch with its retries may take: the client's timeout
    /// times the retry attempts). When the lease ends without a value (the holder failed or
    /// died), a waiting instance fetches at once. Default 30 s.
    pub fn lease_wait(mut self, d: Duration) -> Self {
        self.lease_wait = d;
        self
    }
    /// How often a waiting instance polls the store. Default 25 ms.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }
    /// Deadline for one store operation; past it the store counts as down. Default 500 ms.
    pub fn store_timeout(mut self, d: Duration) -> Self {
        self.store_timeout = d;
        self
    }
}

/// A cached value with its deadlines (milliseconds since the Unix epoch).
pub(crate) struct Cached {
    /// Identifies this value for invalidate-if-same (unique per process).
    pub(crate) serial: u64,
    /// A keyed hash of the value: invalidate-by-value without keeping a copy per call.
    pub(crate) fingerprint: u64,
    pub(crate) value: Secret,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) soft_at: u64,
    pub(crate) hard_at: u64,
}

impl fmt::Debug for Cached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("value", &self.value)
            .field("issued_at_ms", &self.issued_at)
            .field("expires_at_ms", &self.expires_at)
            .finish()
    }
}

/// Which value a call used: what a token error invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenUse {
    serial: u64,
    fingerprint: u64,
}

impl Cached {
    pub(crate) fn token_use(&self) -> TokenUse {
        TokenUse {
            serial: self.serial,
            fingerprint: self.fingerprint,
        }
    }
}

fn fingerprint(value: &Secret) -> u64 {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    KEY.get_or_init(RandomState::new).hash_one(value.expose())
}

/// How a slot's value is fetched.
pub(crate) enum SlotSource {
    /// `gettoken` with this secret.
    AccessToken(Secret),
    /// `get_jsapi_ticket` with the token of app number N.
    JsapiTicket(usize),
    /// `ticket/get?type=agent_config` with the token of app number N.
    AgentConfigTicket(usize),
    /// `corpgroup/corp/gettoken` with the token of (upstream) app number `upstream`: the token of
    /// downstream corp `corpid`'s app `agentid`.
    Downstream {
        upstream: usize,
        corpid: String,
        agentid: u32,
        business_type: u32,
    },
}

#[derive(Default)]
struct SlotState {
    /// Fetches refused until then, with the error that caused it.
    cool_down: Option<(u64, Error)>,
    /// The last failed fetch: the epoch it ended and its error (shared with callers that waited).
    last_failure: Option<(u64, Error)>,
    /// A value WeCom rejected: ignored (and deleted) when read back from the store.
    revoked: Option<Secret>,
    /// No early refresh before then (after a failed one).
    next_early: u64,
    /// The server answered a refresh with the value it had already given (WeCom's rule for
    /// gettoken and tickets: the same value until it expires). Refreshing ahead cannot get a new
    /// value then, so values are used until they expire and fetched once after.
    pins: bool,
}

/// One cached credential.
pub(crate) struct Slot {
    pub(crate) key: TokenKey,
    pub(crate) label: String,
    source: SlotSource,
    current: ArcSwapOption<Cached>,
    /// Held by whoever refreshes (owned, so a detached refresh task can hold it).
    refresh: Arc<tokio::sync::Mutex<()>>,
    state: Mutex<SlotState>,
    /// Completed fetch attempts.
    epoch: AtomicU64,
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.current.load();
        f.debug_struct("Slot")
            .field("key", &self.key.to_string())
            .field("cached", &current.is_some())
            .field(
                "expires_at",
                &current
                    .as_ref()
                    .map(|c| UNIX_EPOCH + Duration::from_millis(c.expires_at)),
            )
            .finish()
    }
}

enum Fill {
    /// Cold or past the hard margin: a value is needed.
    Needed,
    /// In the soft window: refresh if nobody else is, keep the current value otherwise.
    Early(Arc<Cached>),
}

impl Slot {
    pub(crate) fn new(
        kind: TokenKind,
        corpid: &str,
        app: AppRef,
        label: String,
        source: SlotSource,
    ) -> Self {
        Self::with_key(TokenKey::new(kind, corpid, app), label, source)
    }

    pub(crate) fn with_key(key: TokenKey, label: String, source: SlotSource) -> Self {
        Self {
            key,
            label,
            source,
            current: ArcSwapOption::empty(),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            state: Mutex::new(SlotState::default()),
            epoch: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        // A panic while holding this lock cannot leave the state inconsistent (plain fields).
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The lock-free lookup: `f` applied to the current value if it is before its soft
    /// deadline. No reference count is touched (an arc-swap guard), so concurrent readers do
    /// not contend on a cache line.
    #[inline]
    pub(crate) fn with_fresh<R>(&self, now: u64, f: impl FnOnce(&Cached) -> R) -> Option<R> {
        let guard = self.current.load();
        match guard.as_ref() {
            Some(c) if now < c.soft_at => Some(f(c)),
            _ => None,
        }
    }

    pub(crate) fn has_value(&self) -> bool {
        self.current.load().is_some()
    }

    fn what(&self) -> &'static str {
        match self.source {
            SlotSource::AccessToken(_) => "gettoken",
            SlotSource::JsapiTicket(_) => "get_jsapi_ticket",
            SlotSource::AgentConfigTicket(_) => "ticket/get (agent_config)",
            SlotSource::Downstream { .. } => "corpgroup/corp/gettoken",
        }
    }
}

enum Waited {
    Got(Arc<Cached>),
    Lease(LeaseId),
    GiveUp,
    StoreDown(StoreError),
}

struct Remaining(Duration);

impl From<u64> for Remaining {
    fn from(ms: u64) -> Self {
        Remaining(Duration::from_millis(ms))
    }
}

impl From<Duration> for Remaining {
    fn from(d: Duration) -> Self {
        Remaining(d)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn with_timeout<T>(
    limit: Duration,
    fut: BoxFuture<'_, Result<T, StoreError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(StoreError(format!(
            "no answer within {} ms",
            limit.as_millis()
        ))),
    }
}
