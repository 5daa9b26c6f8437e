//! Where tokens and tickets are shared: the [`TokenStore`] trait, the in-memory default
//! [`MemoryTokenStore`], and (feature `redis`) [`RedisTokenStore`](super::RedisTokenStore).
//!
//! The client always keeps an in-process copy in front of the store, so a fresh token costs no
//! store round trip; the store is read only on a miss or a refresh, and written after a fetch.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::Secret;
use crate::transport::BoxFuture;

/// What a cached credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// An `access_token` from `gettoken`.
    AccessToken,
    /// The corp's `jsapi_ticket` (for `wx.config`), fetched with an app's token.
    JsapiTicket,
    /// An app's `agent_config` ticket (for `wx.agentConfig`).
    AgentConfigTicket,
    /// A downstream corp's `access_token` (上下游 / 企业互联), from `corpgroup/corp/gettoken` with
    /// an upstream app's token. Its key names the downstream corp and app, and (see
    /// [`TokenKey::downstream`]) the upstream corp, app and `business_type` it was fetched through.
    DownstreamAccessToken,
}

impl TokenKind {
    /// A short name used in store keys: `access_token`, `jsapi_ticket`, `agent_config_ticket`,
    /// `downstream_access_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::AccessToken => "access_token",
            TokenKind::JsapiTicket => "jsapi_ticket",
            TokenKind::AgentConfigTicket => "agent_config_ticket",
            TokenKind::DownstreamAccessToken => "downstream_access_token",
        }
    }
}

/// Whose credential: an app (by agentid) or the contact-sync secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppRef {
    /// A self-built app.
    Agent(u32),
    /// The contact-sync secret (通讯录同步), its own "app".
    Contact,
    /// A system app's own secret (客户联系, 审批 ...).
    System(crate::endpoint::SystemApp),
}

impl fmt::Display for AppRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppRef::Agent(id) => write!(f, "{id}"),
            AppRef::Contact => f.write_str("contact"),
            AppRef::System(app) => write!(f, "system:{}", app.name()),
        }
    }
}

/// Identifies one cached credential: kind, corp and app. Its [`Display`](fmt::Display) form,
/// `access_token:ww0123:1000002`, is what stores use (after their own namespace prefix). A
/// downstream corp's token ([`TokenKey::downstream`]) also names what it was fetched through:
/// `downstream_access_token:wwdown:1000005:via:wwup:1000002:1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    kind: TokenKind,
    corpid: String,
    app: AppRef,
    /// For a downstream token: the upstream corp, the upstream app and the `business_type`.
    via: Option<(String, u32, u32)>,
}

impl TokenKey {
    /// A key.
    pub fn new(kind: TokenKind, corpid: impl Into<String>, app: AppRef) -> Self {
        Self {
            kind,
            corpid: corpid.into(),
            app,
            via: None,
        }
    }
    /// The key of a downstream corp's token: downstream corp `corpid` and its app `agentid`,
    /// fetched by upstream app `upstream_agentid` of `upstream_corpid` with `business_type`
    /// (0 企业互联, 1 上下游). Each of these is part of the key: a token is never used for another
    /// downstream corp, app, upstream app or link.
    pub fn downstream(
        upstream_corpid: impl Into<String>,
        upstream_agentid: u32,
        corpid: impl Into<String>,
        agentid: u32,
        business_type: u32,
    ) -> Self {
        Self {
            kind: TokenKind::DownstreamAccessToken,
            corpid: corpid.into(),
            app: AppRef::Agent(agentid),
            via: Some((upstream_corpid.into(), upstream_agentid, business_type)),
        }
    }
    /// For a downstream token: the upstream corp, upstream app and `business_type`.
    pub fn via(&self) -> Option<(&str, u32, u32)> {
        self.via.as_ref().map(|(c, a, b)| (c.as_str(), *a, *b))
    }
    /// The kind.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }
    /// The corp.
    pub fn corpid(&self) -> &str {
        &self.corpid
    }
    /// The app.
    pub fn app(&self) -> AppRef {
        self.app
    }
}

impl fmt::Display for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.kind.as_str(), self.corpid, self.app)?;
        if let Some((corpid, agentid, business_type)) = &self.via {
            write!(f, ":via:{corpid}:{agentid}:{business_type}")?;
        }
        Ok(())
    }
}

/// A credential with its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token or ticket.
    pub value: Secret,
    /// When it was fetched (refresh windows are proportional to the whole lifetime).
    pub issued_at: SystemTime,
    /// When WeCom stops accepting it.
    pub expires_at: SystemTime,
    /// The server answers with this same value until it expires (WeCom's rule for `gettoken`),
    /// so refreshing ahead of `expires_at` only gets it again. Learned by the first instance that
    /// saw it happen and shared through the store so the others do not each pay one refresh to
    /// learn it; `false` when not known. Stores must keep it along with the value.
    pub same_until_expiry: bool,
}

/// The owner id of a lease: only its holder may release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseId(pub String);

impl LeaseId {
    /// A new random owner id.
    pub fn random() -> Self {
        use rand::distr::{Alphanumeric, SampleString};
        LeaseId(Alphanumeric.sample_string(&mut rand::rng(), 20))
    }
}

/// A shared note that fetching a credential is refused for a while: `gettoken` said the secret or
/// corpid is wrong (WeCom bans an IP that keeps trying), or a fetch was rate limited. Written by
/// the instance that got the answer, read by the others (and by restarted ones) before they fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoolDownMarker {
    /// Fetches are refused until then.
    pub until: SystemTime,
    /// The errcode WeCom answered.
    pub errcode: i64,
    /// WeCom's `errmsg` (already free of credentials).
    pub errmsg: String,
}

/// A store failure (unreachable, timed out, unexpected data). The client logs it and carries on
/// with its in-process cache: a store failure never fails a call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("token store: {0}")]
pub struct StoreError(pub String);

/// A shared place for tokens and tickets, so several client instances (processes, machines)
/// fetch each credential once.
///
/// Implementations must be safe for concurrent use and must never log token values.
pub trait TokenStore: Send + Sync + fmt::Debug + 'static {
    /// Reads a credential; `None` when absent or expired.
    fn get<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, Result<Option<StoredToken>, StoreError>>;

    /// Writes a credential, to be dropped by the store after `ttl`.
    fn put<'a>(
        &'a self,
        key: &'a TokenKey,
        token: &'a StoredToken,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Deletes the credential only if it is still `value` (a token WeCom rejected); returns
    /// whether it was deleted. A newer value written by someone else is kept.
    fn invalidate<'a>(
        &'a self,
        key: &'a TokenKey,
        value: &'a Secret,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Tries to take the refresh lease for `key` for `ttl` (the holder fetches, the others wait).
    /// `Ok(None)` when someone else holds it.
    fn try_lease<'a>(
        &'a self,
        key: &'a TokenKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LeaseId>, StoreError>>;

    /// Releases a lease, only if `lease` still owns it.
    fn release<'a>(
        &'a self,
        key: &'a TokenKey,
        lease: &'a LeaseId,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Extends a lease `lease` still owns to `ttl` from now (the holder's fetch is slower than
    /// the lease); returns whether it still owned it. The default does nothing and returns
    /// `Ok(false)`: the lease then expires after its first TTL, and another instance may fetch too.
    fn extend_lease<'a>(
        &'a self,
        key: &'a TokenKey,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (key, lease, ttl);
        Box::pin(std::future::ready(Ok(false)))
    }

    /// Records that fetching `key` is refused until `marker.until` (dropped by the store after
    /// `ttl`). The default does nothing: each instance then learns it from WeCom once.
    fn put_cool_down<'a>(
        &'a self,
        key: &'a TokenKey,
        marker: &'a CoolDownMarker,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (key, marker, ttl);
        Box::pin(std::future::ready(Ok(())))
    }

    /// The cool-down recorded for `key`, if any. The default has none.
    fn get_cool_down<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, Result<Option<CoolDownMarker>, StoreError>> {
        let _ = key;
        Box::pin(std::future::ready(Ok(None)))
    }
}

#[derive(Debug, Default)]
struct MemoryState {
    tokens: HashMap<TokenKey, (StoredToken, std::time::Instant)>,
    leases: HashMap<TokenKey, (LeaseId, std::time::Instant)>,
    cool_downs: HashMap<TokenKey, (CoolDownMarker, std::time::Instant)>,
}

/// The default store: process memory. Share one `Arc<MemoryTokenStore>` between clients of the
/// same process (same corp and apps) to let them share tokens.
#[derive(Default)]
pub struct MemoryTokenStore {
    state: Mutex<MemoryState>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut MemoryState) -> R) -> Result<R, StoreError> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| StoreError("memory store lock poisoned".to_owned()))?;
        Ok(f(&mut guard))
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .state
            .lock()
            .map(|s| s.tokens.keys().map(ToString::to_string).collect())
            .unwrap_or_default();
        f.debug_struct("MemoryTokenStore")
            .field("keys", &keys)
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn get<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, Result<Option<StoredToken>, StoreError>> {
        let r = self.with(|s| {
            let now = std::time::Instant::now();
            match s.tokens.get(key) {
                Some((t, dies)) if *dies > now => Some(t.clone()),
                Some(_) => {
                    s.tokens.remove(key);
                    None
                }
                None => None,
            }
        });
        Box::pin(std::future::ready(r))
    }

    fn put<'a>(
        &'a self,
        key: &'a TokenKey,
        token: &'a StoredToken,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            s.tokens.insert(
                key.clone(),
                (token.clone(), std::time::Instant::now() + ttl),
            );
        });
        Box::pin(std::future::ready(r))
    }

    fn invalidate<'a>(
        &'a self,
        key: &'a TokenKey,
        value: &'a Secret,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let r = self.with(|s| match s.tokens.get(key) {
            Some((t, _)) if t.value == *value => {
                s.tokens.remove(key);
                true
            }
            _ => false,
        });
        Box::pin(std::future::ready(r))
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a TokenKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LeaseId>, StoreError>> {
        let r = self.with(|s| {
            let now = std::time::Instant::now();
            match s.leases.get(key) {
                Some((_, until)) if *until > now => None,
                _ => {
                    let id = LeaseId::random();
                    s.leases.insert(key.clone(), (id.clone(), now + ttl));
                    Some(id)
                }
            }
        });
        Box::pin(std::future::ready(r))
    }

    fn release<'a>(
        &'a self,
        key: &'a TokenKey,
        lease: &'a LeaseId,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            if s.leases.get(key).is_some_and(|(owner, _)| owner == lease) {
                s.leases.remove(key);
            }
        });
        Box::pin(std::future::ready(r))
    }

    fn extend_lease<'a>(
        &'a self,
        key: &'a TokenKey,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let r = self.with(|s| {
            let now = std::time::Instant::now();
            match s.leases.get_mut(key) {
                Some((owner, until)) if owner == lease && *until > now => {
                    *until = now + ttl;
                    true
                }
                _ => false,
            }
        });
        Box::pin(std::future::ready(r))
    }

    fn put_cool_down<'a>(
        &'a self,
        key: &'a TokenKey,
        marker: &'a CoolDownMarker,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let r = self.with(|s| {
            s.cool_downs.insert(
                key.clone(),
                (marker.clone(), std::time::Instant::now() + ttl),
            );
        });
        Box::pin(std::future::ready(r))
    }

    fn get_cool_down<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, Result<Option<CoolDownMarker>, StoreError>> {
        let r = self.with(|s| {
            let now = std::time::Instant::now();
            match s.cool_downs.get(key) {
                Some((m, dies)) if *dies > now => Some(m.clone()),
                Some(_) => {
                    s.cool_downs.remove(key);
                    None
                }
                None => None,
            }
        });
        Box::pin(std::future::ready(r))
    }
}
