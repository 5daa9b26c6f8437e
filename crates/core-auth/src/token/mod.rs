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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use tracing::Instrument;

use crate::client::{Inner, Selection};
use crate::clock::now_millis;
use crate::error::{
    ApiError, CoolDownError, Error, ErrorClass, TransportError, TransportErrorKind,
};
use crate::generated::auth::{GetJsapiTicketRequest, GettokenRequest, TicketGetRequest};
use crate::secret::Secret;
use crate::transport::BoxFuture;

#[cfg(feature = "redis")]
mod redis_store;
mod refresher;
mod store;

#[cfg(feature = "redis")]
pub use redis_store::{RedisTokenStore, RedisTokenStoreBuilder};
pub use refresher::RefresherHandle;
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
}

/// Where a slot lives in the client, so a detached refresh task can find it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotId {
    /// App number N's access_token.
    AppToken(usize),
    /// The jsapi ticket fetched with app number N's token.
    Jsapi(usize),
    /// App number N's agent_config ticket.
    AgentConfig(usize),
    /// The contact-sync secret's access_token.
    Contact,
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
    pub(crate) id: SlotId,
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
        id: SlotId,
        kind: TokenKind,
        corpid: &str,
        app: AppRef,
        label: String,
        source: SlotSource,
    ) -> Self {
        Self {
            id,
            key: TokenKey::new(kind, corpid, app),
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
        }
    }
}

impl Inner {
    /// The slot with this id.
    pub(crate) fn slot(&self, id: SlotId) -> &Slot {
        match id {
            SlotId::AppToken(i) => &self.apps[i].token,
            SlotId::Jsapi(i) => &self.apps[i].jsapi,
            SlotId::AgentConfig(i) => &self.apps[i].agent_config,
            SlotId::Contact => self
                .contact
                .as_ref()
                .expect("a contact slot id exists only when the contact secret is configured"),
        }
    }

    /// The value of `slot`, fetching or refreshing it as needed.
    pub(crate) async fn token(&self, slot: &Slot) -> Result<Arc<Cached>, Error> {
        let now = now_millis(&*self.clock);
        if let Some(c) = slot.current.load_full() {
            if now < c.soft_at {
                return Ok(c);
            }
            if now < c.hard_at {
                return Ok(self.refresh_early(slot, c, now).await);
            }
        }
        self.refresh_needed(slot).await
    }

    /// Writes the slot's value into `out` (percent-encoded) and returns which value it was: the
    /// call pipeline's lookup. The fresh case touches no reference count.
    pub(crate) async fn token_into(
        &self,
        slot: &Slot,
        out: &mut String,
        encode: impl Fn(&str, &mut String),
    ) -> Result<TokenUse, Error> {
        let now = now_millis(&*self.clock);
        if let Some(used) = slot.with_fresh(now, |c| {
            encode(c.value.expose(), out);
            c.token_use()
        }) {
            return Ok(used);
        }
        let c = self.token(slot).await?;
        encode(c.value.expose(), out);
        Ok(c.token_use())
    }

    /// Drops the value a business call was rejected with (40001/40014/42001) if it is still the
    /// slot's value, by serial or by value (a re-installed copy of it, from the store or from
    /// a server that answered with it again), so a wave of such failures causes one refresh.
    pub(crate) fn invalidate(&self, slot: &Slot, used: TokenUse) {
        let current = slot.current.load();
        let Some(failed) = current
            .as_ref()
            .filter(|c| c.serial == used.serial || c.fingerprint == used.fingerprint)
        else {
            return;
        };
        let value = failed.value.clone();
        let serial = failed.serial;
        let previous = slot.current.compare_and_swap(&*current, None);
        let swapped = previous.as_ref().is_some_and(|p| p.serial == serial);
        if swapped {
            slot.state().revoked = Some(value);
            tracing::info!(credential = %slot.label, "dropped a token WeCom rejected");
        }
    }

    /// A strong handle on this client, for refreshes that must outlive their caller.
    fn handle(&self) -> Arc<Inner> {
        self.me
            .upgrade()
            .expect("a client's Inner is only reached through its Arc")
    }

    /// In the soft window: one caller refreshes (in a task of its own, so that a caller that
    /// gives up does not abandon the refresh and its store lease) while the others keep the
    /// still-valid value.
    async fn refresh_early(&self, slot: &Slot, current: Arc<Cached>, now: u64) -> Arc<Cached> {
        {
            let st = slot.state();
            if now < st.next_early || st.cool_down.as_ref().is_some_and(|(until, _)| now < *until) {
                return current;
            }
        }
        // Someone (here or in the slow path) is already refreshing: keep the valid value.
        let Ok(guard) = Arc::clone(&slot.refresh).try_lock_owned() else {
            return current;
        };
        let inner = self.handle();
        let id = slot.id;
        let kept = Arc::clone(&current);
        let task = tokio::spawn(
            async move {
                let _guard = guard;
                inner.refresh_early_locked(inner.slot(id), current).await
            }
            .in_current_span(),
        );
        match task.await {
            Ok(v) => v,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => kept,
        }
    }

    async fn refresh_early_locked(&self, slot: &Slot, current: Arc<Cached>) -> Arc<Cached> {
        if let Some(latest) = slot.current.load_full()
            && !Arc::ptr_eq(&latest, &current)
        {
            return latest;
        }
        tracing::debug!(credential = %slot.label, "refreshing ahead of expiry");
        match self.fill(slot, Fill::Early(Arc::clone(&current))).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(credential = %slot.label, error = %e, "early refresh failed; keeping the still-valid value");
                let now = now_millis(&*self.clock);
                slot.state().next_early = now + millis(self.policy.early_retry_interval);
                self.note_failure(slot, &e, now).await;
                current
            }
        }
    }

    /// Cold or past the hard margin. The refresh runs in a task of its own: a caller that gives
    /// up (a timeout around the call, a dropped request) does not abandon it, so whoever waits
    /// behind it gets its value, and its store lease is released when it ends.
    async fn refresh_needed(&self, slot: &Slot) -> Result<Arc<Cached>, Error> {
        let seen_epoch = slot.epoch.load(Ordering::Acquire);
        let inner = self.handle();
        let id = slot.id;
        let task = tokio::spawn(
            async move {
                inner
                    .refresh_needed_locked(inner.slot(id), seen_epoch)
                    .await
            }
            .in_current_span(),
        );
        match task.await {
            Ok(r) => r,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(TransportError {
                endpoint: slot.what(),
                method: "GET",
                url: String::new(),
                kind: TransportErrorKind::Other,
                message: "the credential fetch was cancelled: the runtime is shutting down"
                    .to_owned(),
            }
            .into()),
        }
    }

    async fn refresh_needed_locked(
        &self,
        slot: &Slot,
        seen_epoch: u64,
    ) -> Result<Arc<Cached>, Error> {
        let _guard = slot.refresh.lock().await;
        let now = now_millis(&*self.clock);
        if let Some(c) = slot.current.load_full()
            && now < c.hard_at
        {
            return Ok(c);
        }
        {
            let st = slot.state();
            if let Some((until, cause)) = &st.cool_down
                && now < *until
            {
                return Err(self.cool_down_error(slot, *until - now, cause));
            }
            // A fetch ended while we waited and failed: share its error rather than start another.
            if let Some((epoch, err)) = &st.last_failure
                && *epoch > seen_epoch
            {
                return Err(err.clone());
            }
        }
        let result = self.fill(slot, Fill::Needed).await;
        let epoch = slot.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        match result {
            Ok(v) => {
                slot.state().last_failure = None;
                Ok(v)
            }
            Err(e) => {
                let now = now_millis(&*self.clock);
                let cooling = self.note_failure(slot, &e, now).await;
                slot.state().last_failure =
                    Some((epoch, cooling.clone().unwrap_or_else(|| e.clone())));
                Err(e)
            }
        }
    }

    /// Starts a cool-down when the failure calls for one (here, and in the shared store so that
    /// other instances and restarted ones do not repeat the fetch); returns the error later
    /// callers get.
    async fn note_failure(&self, slot: &Slot, err: &Error, now: u64) -> Option<Error> {
        let Error::Api(api) = err else {
            return None;
        };
        let cool = if matches!(slot.source, SlotSource::AccessToken(_))
            && BAD_CREDENTIAL.contains(&api.code().code())
        {
            self.policy.bad_secret_cool_down
        } else if api.class() == ErrorClass::RateLimit {
            self.policy.rate_limit_cool_down
        } else {
            return None;
        };
        if cool.is_zero() {
            return None;
        }
        let until = now + millis(cool);
        tracing::error!(credential = %slot.label, error = %err, cool_down_secs = cool.as_secs(), "credential fetch refused; not trying again during the cool-down");
        slot.state().cool_down = Some((until, err.clone()));
        let marker = CoolDownMarker {
            until: UNIX_EPOCH + Duration::from_millis(until),
            errcode: api.code().code(),
            errmsg: api.errmsg.clone(),
        };
        if let Err(e) = with_timeout(
            self.policy.store_timeout,
            self.store.put_cool_down(&slot.key, &marker, cool),
        )
        .await
        {
            tracing::warn!(credential = %slot.label, error = %e, "could not share the cool-down through the token store");
        }
        Some(self.cool_down_error(slot, cool, err))
    }

    /// A cool-down another instance recorded in the store: adopted here as if this instance had
    /// got WeCom's answer itself.
    async fn shared_cool_down(&self, slot: &Slot) -> Option<Error> {
        let marker = with_timeout(
            self.policy.store_timeout,
            self.store.get_cool_down(&slot.key),
        )
        .await
        .ok()??;
        let now = now_millis(&*self.clock);
        let until = crate::clock::to_millis(marker.until);
        if until <= now {
            return None;
        }
        let endpoint = match slot.source {
            SlotSource::AccessToken(_) => "gettoken",
            SlotSource::JsapiTicket(_) => "get_jsapi_ticket",
            SlotSource::AgentConfigTicket(_) => "ticket_get",
        };
        let cause: Error = ApiError::new(endpoint, marker.errcode, &marker.errmsg).into();
        tracing::warn!(credential = %slot.label, error = %cause, "another instance's fetch was refused; cooling down here too");
        slot.state().cool_down = Some((until, cause.clone()));
        Some(self.cool_down_error(slot, until - now, &cause))
    }

    fn cool_down_error(
        &self,
        slot: &Slot,
        remaining_ms: impl Into<Remaining>,
        cause: &Error,
    ) -> Error {
        // A cool-down error's cause is the original failure, never another cool-down.
        let cause = match cause {
            Error::CoolDown(c) => (*c.cause).clone(),
            other => other.clone(),
        };
        CoolDownError {
            what: slot.what(),
            credential: slot.label.clone(),
            remaining: remaining_ms.into().0,
            cause: Box::new(cause),
        }
        .into()
    }

    /// Gets a value into the slot: from the store, or by fetching (under the store's lease).
    /// Called with the slot's refresh lock held.
    async fn fill(&self, slot: &Slot, mode: Fill) -> Result<Arc<Cached>, Error> {
        let store = &*self.store;
        let timeout = self.policy.store_timeout;
        let key = &slot.key;
        let mut store_up = true;

        // 1. Another instance may have fetched it already.
        match self.store_read(slot, &mode).await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(credential = %slot.label, error = %e, "token store unavailable; falling back to in-process caching");
                store_up = false;
            }
        }

        // 2. Take the lease, or wait for whoever holds it.
        let mut lease = None;
        if store_up {
            match with_timeout(timeout, store.try_lease(key, self.policy.lease_ttl)).await {
                Ok(Some(id)) => lease = Some(id),
                Ok(None) => {
                    if let Fill::Early(current) = mode {
                        // Another instance is refreshing; our value is still good.
                        return Ok(current);
                    }
                    match self.wait_for_other(slot).await {
                        Waited::Got(v) => return Ok(v),
                        Waited::Lease(id) => lease = Some(id),
                        Waited::GiveUp => {}
                        Waited::StoreDown(e) => {
                            tracing::warn!(credential = %slot.label, error = %e, "token store unavailable; falling back to in-process caching");
                            store_up = false;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(credential = %slot.label, error = %e, "token store unavailable; falling back to in-process caching");
                    store_up = false;
                }
            }
        }
        if lease.is_some() {
            // The previous holder may have written just before we took the lease.
            if let Ok(Some(v)) = self.store_read(slot, &mode).await {
                self.release(slot, lease.as_ref()).await;
                return Ok(v);
            }
        }
        if store_up && let Some(e) = self.shared_cool_down(slot).await {
            self.release(slot, lease.as_ref()).await;
            return Err(e);
        }

        // 3. Fetch, renewing the lease while it runs.
        let fetched = match &lease {
            Some(id) => self.fetch_renewing(slot, id).await,
            None => self.fetch(slot).await,
        };
        let result = match fetched {
            Ok((value, expires_in)) => {
                let now = now_millis(&*self.clock);
                let (cached, stored) = self.adopt_fetched(slot, value, expires_in, now);
                if store_up {
                    let ttl =
                        Duration::from_millis(cached.expires_at.saturating_sub(now).max(1000));
                    if let Err(e) = with_timeout(timeout, store.put(key, &stored, ttl)).await {
                        tracing::warn!(credential = %slot.label, error = %e, "could not write the token to the store; other instances will fetch their own");
                    }
                }
                tracing::info!(credential = %slot.label, expires_in, "fetched");
                Ok(cached)
            }
            Err(e) => Err(e),
        };
        self.release(slot, lease.as_ref()).await;
        result
    }

    /// Installs a freshly fetched value. When the server answered with the value already cached
    /// (WeCom gives the same token until it expires, with `expires_in` = what is left), the value
    /// keeps its original lifetime rather than starting a new one, and the slot learns that
    /// refreshing ahead is useless with this server.
    fn adopt_fetched(
        &self,
        slot: &Slot,
        value: Secret,
        expires_in: u64,
        now: u64,
    ) -> (Arc<Cached>, StoredToken) {
        let previous = slot.current.load_full();
        let same = previous.as_ref().filter(|p| p.value == value);
        let (issued_at, expires_at) = match same {
            Some(p) => {
                let left = expires_in.min(MAX_LIFETIME.as_secs());
                if !slot.state().pins {
                    tracing::info!(credential = %slot.label, "the server answered with the value it already gave; using values until they expire from now on");
                }
                slot.state().pins = true;
                // At least a second: a server still answering with a value it says expires now
                // must not make every call fetch.
                (p.issued_at, now.saturating_add(left.max(1) * 1000))
            }
            None => {
                let life = expires_in.clamp(MIN_LIFETIME.as_secs(), MAX_LIFETIME.as_secs());
                if life != expires_in {
                    tracing::warn!(credential = %slot.label, expires_in, used = life, "the server's expires_in is out of range; using the nearest sane lifetime");
                }
                (now, now.saturating_add(life * 1000))
            }
        };
        let cached = self.install(slot, value.clone(), issued_at, expires_at, now);
        {
            let mut st = slot.state();
            if st.revoked.as_ref() == Some(&value) {
                // gettoken vouched for it again.
                st.revoked = None;
            }
        }
        let stored = StoredToken {
            value,
            issued_at: UNIX_EPOCH + Duration::from_millis(issued_at),
            expires_at: UNIX_EPOCH + Duration::from_millis(expires_at),
        };
        (cached, stored)
    }

    /// [`Inner::fetch`], renewing the store lease every third of its TTL until the fetch ends, so
    /// that a fetch slower than the lease does not let another instance fetch too.
    async fn fetch_renewing(&self, slot: &Slot, lease: &LeaseId) -> Result<(Secret, u64), Error> {
        let ttl = self.policy.lease_ttl;
        let every = (ttl / 3).max(Duration::from_millis(5));
        let fetch = self.fetch(slot);
        tokio::pin!(fetch);
        let mut renewing = true;
        loop {
            tokio::select! {
                r = &mut fetch => return r,
                () = tokio::time::sleep(every), if renewing => {
                    match with_timeout(
                        self.policy.store_timeout,
                        self.store.extend_lease(&slot.key, lease, ttl),
                    )
                    .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::debug!(credential = %slot.label, "the store lease could not be renewed (lost, or not supported by the store)");
                            renewing = false;
                        }
                        Err(e) => {
                            tracing::warn!(credential = %slot.label, error = %e, "could not renew the store lease");
                        }
                    }
                }
            }
        }
    }

    /// Reads the store; a usable value is installed and returned.
    async fn store_read(
        &self,
        slot: &Slot,
        mode: &Fill,
    ) -> Result<Option<Arc<Cached>>, StoreError> {
        let Some(stored) =
            with_timeout(self.policy.store_timeout, self.store.get(&slot.key)).await?
        else {
            return Ok(None);
        };
        let (revoked, pins) = {
            let st = slot.state();
            (st.revoked.clone(), st.pins)
        };
        if revoked.as_ref() == Some(&stored.value) {
            // WeCom rejected this one; make sure nobody else picks it up either.
            let _ = with_timeout(
                self.policy.store_timeout,
                self.store.invalidate(&slot.key, &stored.value),
            )
            .await;
            return Ok(None);
        }
        let now = now_millis(&*self.clock);
        let issued_at = crate::clock::to_millis(stored.issued_at);
        let expires_at = crate::clock::to_millis(stored.expires_at);
        let usable = match mode {
            Fill::Needed => self.hard_at(issued_at, expires_at, pins) > now,
            // Only a value that lives longer helps an early refresh: a new one, or the same one
            // whose expiry moved.
            Fill::Early(current) => expires_at > current.expires_at,
        };
        if !usable {
            return Ok(None);
        }
        Ok(Some(self.install(
            slot,
            stored.value,
            issued_at,
            expires_at,
            now,
        )))
    }

    /// Waits for the instance holding the lease: until its value appears in the store, or its
    /// lease ends without one (it failed, or died and the lease expired: then this instance takes
    /// the lease and fetches), or the wait limit passes.
    async fn wait_for_other(&self, slot: &Slot) -> Waited {
        let budget = self
            .timeout
            .saturating_mul(self.retry.attempts())
            .saturating_add(self.policy.lease_ttl);
        let deadline = tokio::time::Instant::now() + self.policy.lease_wait.max(budget);
        let mut pause = self.policy.poll_interval;
        loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2)
                .min(Duration::from_millis(250))
                .max(self.policy.poll_interval);
            match self.store_read(slot, &Fill::Needed).await {
                Ok(Some(v)) => return Waited::Got(v),
                Ok(None) => {}
                Err(e) => return Waited::StoreDown(e),
            }
            match with_timeout(
                self.policy.store_timeout,
                self.store.try_lease(&slot.key, self.policy.lease_ttl),
            )
            .await
            {
                Ok(Some(id)) => return Waited::Lease(id),
                Ok(None) => {}
                Err(e) => return Waited::StoreDown(e),
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(credential = %slot.label, "waited for another instance's fetch in vain; fetching here");
                return Waited::GiveUp;
            }
        }
    }

    async fn release(&self, slot: &Slot, lease: Option<&LeaseId>) {
        if let Some(id) = lease
            && let Err(e) =
                with_timeout(self.policy.store_timeout, self.store.release(&slot.key, id)).await
        {
            tracing::warn!(credential = %slot.label, error = %e, "could not release the store lease; it expires by itself");
        }
    }

    /// Past this, a value is not used: `expires_at` minus the hard margin (at most a tenth of
    /// the lifetime, so short-lived values stay usable most of their life). With a server that
    /// gives the same value until it expires (`pins`), a refresh before expiry would only return
    /// it again: the value is used until `expires_at` (a call that races the expiry is answered
    /// 42001 and sent once more with a new value).
    fn hard_at(&self, issued_at: u64, expires_at: u64, pins: bool) -> u64 {
        if pins {
            return expires_at;
        }
        let lifetime = expires_at.saturating_sub(issued_at);
        expires_at.saturating_sub(millis(self.policy.hard_margin).min(lifetime / 10))
    }

    fn install(
        &self,
        slot: &Slot,
        value: Secret,
        issued_at: u64,
        expires_at: u64,
        now: u64,
    ) -> Arc<Cached> {
        let pins = slot.state().pins;
        let lifetime = expires_at.saturating_sub(issued_at);
        let hard_at = self.hard_at(issued_at, expires_at, pins);
        let soft_at = if pins {
            // No early refresh: it could only return the same value.
            hard_at
        } else {
            let window = millis(self.policy.soft_window).min(lifetime / 4);
            let jitter_max = millis(self.policy.soft_jitter).min(lifetime / 10);
            let jitter = if jitter_max == 0 {
                0
            } else {
                rand::random_range(0..=jitter_max)
            };
            hard_at
                .saturating_sub(window + jitter)
                .max(now.min(hard_at))
        };
        let cached = Arc::new(Cached {
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
            fingerprint: fingerprint(&value),
            value,
            issued_at,
            expires_at,
            soft_at,
            hard_at,
        });
        slot.current.store(Some(Arc::clone(&cached)));
        cached
    }

    /// Fetches a fresh value from WeCom: `(value, expires_in seconds)`. Boxed: fetching a ticket
    /// goes through the call pipeline, which may fetch a token.
    fn fetch<'a>(&'a self, slot: &'a Slot) -> BoxFuture<'a, Result<(Secret, u64), Error>> {
        Box::pin(async move {
            match &slot.source {
                SlotSource::AccessToken(secret) => {
                    let request = GettokenRequest::new(self.corpid.clone(), secret.clone());
                    let r = self.call(&Selection::default(), request).await?;
                    Ok((r.access_token, r.expires_in))
                }
                SlotSource::JsapiTicket(app) => {
                    let sel = Selection {
                        agent: Some(*app),
                        robot: None,
                    };
                    let r = self.call(&sel, GetJsapiTicketRequest::new()).await?;
                    Ok((r.ticket, r.expires_in))
                }
                SlotSource::AgentConfigTicket(app) => {
                    let sel = Selection {
                        agent: Some(*app),
                        robot: None,
                    };
                    let r = self.call(&sel, TicketGetRequest::new()).await?;
                    Ok((r.ticket, r.expires_in))
                }
            }
        })
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
