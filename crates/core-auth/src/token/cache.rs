//! The cache itself: per-slot lookups, refreshes (single flight, soft window, hard margin),
//! invalidation, cool-downs and the shared store's lease. It knows nothing of HTTP or of the
//! client: fresh values come from a [`Fetch`] (the client's call pipeline implements it; tests
//! use a fake), time from the injected [`Clock`] and waits from the injected [`Sleep`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, UNIX_EPOCH};

use tracing::Instrument;

use super::{
    BAD_CREDENTIAL, Cached, CoolDownMarker, Fill, LeaseId, MAX_LIFETIME, MIN_LIFETIME, Remaining,
    SERIAL, Slot, SlotSource, StoreError, StoredToken, TokenPolicy, TokenStore, TokenUse, Waited,
    fingerprint, millis, with_timeout,
};
use crate::clock::{Clock, Sleep, now_millis};
use crate::error::{
    ApiError, ConfigError, CoolDownError, Error, ErrorClass, TransportError, TransportErrorKind,
};
use crate::secret::Secret;
use crate::transport::BoxFuture;

/// Where fresh values come from: `gettoken` and the ticket endpoints, through the client's call
/// pipeline (so they get its transport, retries and errors).
pub(crate) trait Fetch: Send + Sync + 'static {
    /// A fresh value for `source` and its lifetime in seconds (`expires_in` as the server said).
    fn fetch<'a>(&'a self, source: &'a SlotSource) -> BoxFuture<'a, Result<(Secret, u64), Error>>;
}

/// The token and ticket cache of one client. See the [module docs](super).
pub(crate) struct TokenCache {
    /// Itself, for refreshes that run as tasks of their own.
    me: Weak<TokenCache>,
    /// Weak: the client owns the cache.
    fetcher: Weak<dyn Fetch>,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) policy: TokenPolicy,
    /// How long one fetch with its retries may take: waiting instances wait at least that long
    /// for a live lease holder.
    fetch_budget: Duration,
}

impl TokenCache {
    /// A cache fetching through `fetcher`.
    pub(crate) fn new(
        fetcher: Weak<dyn Fetch>,
        clock: Arc<dyn Clock>,
        sleep: Arc<dyn Sleep>,
        store: Arc<dyn TokenStore>,
        policy: TokenPolicy,
        fetch_budget: Duration,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| TokenCache {
            me: me.clone(),
            fetcher,
            clock,
            sleep,
            store,
            policy,
            fetch_budget,
        })
    }

    /// The value of `slot`, fetching or refreshing it as needed.
    pub(crate) async fn token(&self, slot: &Arc<Slot>) -> Result<Arc<Cached>, Error> {
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
        slot: &Arc<Slot>,
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

    /// A strong handle on this cache, for refreshes that must outlive their caller.
    fn handle(&self) -> Arc<TokenCache> {
        self.me
            .upgrade()
            .expect("a token cache is only reached through its Arc")
    }

    /// A fresh value from the fetcher (the client, which must still exist).
    async fn fetch(&self, slot: &Slot) -> Result<(Secret, u64), Error> {
        match self.fetcher.upgrade() {
            Some(fetcher) => fetcher.fetch(&slot.source).await,
            None => Err(ConfigError::new(
                format!("{} cannot be fetched: the client was dropped", slot.label),
                "keep a Client (or a clone) alive while calls and the refresher run",
            )
            .into()),
        }
    }

    /// In the soft window: one caller refreshes (in a task of its own, so that a caller that
    /// gives up does not abandon the refresh and its store lease) while the others keep the
    /// still-valid value.
    async fn refresh_early(&self, slot: &Arc<Slot>, current: Arc<Cached>, now: u64) -> Arc<Cached> {
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
        let cache = self.handle();
        let slot = Arc::clone(slot);
        let kept = Arc::clone(&current);
        let task = tokio::spawn(
            async move {
                let _guard = guard;
                cache.refresh_early_locked(&slot, current).await
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
    async fn refresh_needed(&self, slot: &Arc<Slot>) -> Result<Arc<Cached>, Error> {
        let seen_epoch = slot.epoch.load(Ordering::Acquire);
        let cache = self.handle();
        let detached = Arc::clone(slot);
        let task = tokio::spawn(
            async move { cache.refresh_needed_locked(&detached, seen_epoch).await }
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
            SlotSource::Downstream { .. } => "corpgroup_corp_gettoken",
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
            same_until_expiry: slot.state().pins,
        };
        (cached, stored)
    }

    /// [`TokenCache::fetch`], renewing the store lease every third of its TTL until the fetch
    /// ends, so that a fetch slower than the lease does not let another instance fetch too. The
    /// renewal follows real time (the lease lives in the store's time), not the [`Sleep`] seam.
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
        // Another instance may have learned that the server gives the same value until it
        // expires: adopt that knowledge rather than pay a refresh to learn it here.
        let (revoked, pins, learned) = {
            let mut st = slot.state();
            let learned = stored.same_until_expiry && !st.pins;
            if learned {
                st.pins = true;
            }
            (st.revoked.clone(), st.pins, learned)
        };
        if learned {
            tracing::info!(credential = %slot.label, "another instance saw the server answer with the value it already gave; using values until they expire from now on");
        }
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
            // whose expiry moved. Or the same one, now known to be all the server would give:
            // re-installed without a soft window, so this instance stops refreshing it early.
            Fill::Early(current) => {
                expires_at > current.expires_at || (learned && stored.value == current.value)
            }
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
        let limit = self
            .policy
            .lease_wait
            .max(self.fetch_budget.saturating_add(self.policy.lease_ttl));
        let deadline = now_millis(&*self.clock).saturating_add(millis(limit));
        let mut pause = self.policy.poll_interval;
        loop {
            self.sleep.sleep(pause).await;
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
            if now_millis(&*self.clock) >= deadline {
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
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::clock::{ManualClock, TokioSleep};
    use crate::token::{AppRef, MemoryTokenStore, TokenKind};

    /// A fetcher that counts, answers after a pause, and fails when told to.
    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
    }

    impl Fetch for Counting {
        fn fetch<'a>(
            &'a self,
            _source: &'a SlotSource,
        ) -> BoxFuture<'a, Result<(Secret, u64), Error>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                if self.fail.load(Ordering::SeqCst) {
                    return Err(ApiError::new("gettoken", -1, "system busy").into());
                }
                Ok((Secret::new(format!("token-{n}")), 7200))
            })
        }
    }

    fn cache(fetcher: &Arc<Counting>) -> Arc<TokenCache> {
        let weak: Weak<Counting> = Arc::downgrade(fetcher);
        TokenCache::new(
            weak,
            Arc::new(ManualClock::new()),
            Arc::new(TokioSleep),
            Arc::new(MemoryTokenStore::new()),
            TokenPolicy::default(),
            Duration::from_secs(30),
        )
    }

    fn slot() -> Arc<Slot> {
        Arc::new(Slot::new(
            TokenKind::AccessToken,
            "wwcorp",
            AppRef::Agent(1),
            "app 1 of corp wwcorp".to_owned(),
            SlotSource::AccessToken(Secret::new("secret")),
        ))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_on_a_cold_cache_share_one_fetch() {
        let fetcher = Arc::new(Counting::default());
        let (cache, slot) = (cache(&fetcher), slot());
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, slot) = (Arc::clone(&cache), Arc::clone(&slot));
                tokio::spawn(async move { cache.token(&slot).await.map(|c| c.value.clone()) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().expose(), "token-0");
        }
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_that_waited_on_a_failed_fetch_share_its_error() {
        let fetcher = Arc::new(Counting::default());
        fetcher.fail.store(true, Ordering::SeqCst);
        let (cache, slot) = (cache(&fetcher), slot());
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (cache, slot) = (Arc::clone(&cache), Arc::clone(&slot));
                tokio::spawn(async move { cache.token(&slot).await.map(|_| ()) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap_err().errcode(), Some(-1));
        }
        // The first fetch fails; callers that were waiting share its error. Callers that
        // arrived after it ended may start one more.
        assert!(fetcher.calls.load(Ordering::SeqCst) <= 2);
    }

    #[tokio::test]
    async fn a_fetch_needs_the_client() {
        let fetcher = Arc::new(Counting::default());
        let (cache, slot) = (cache(&fetcher), slot());
        drop(fetcher);
        let e = cache.token(&slot).await.unwrap_err();
        assert!(e.to_string().contains("client was dropped"), "{e}");
    }
}
