//! [`RedisTokenStore`]: tokens shared by several instances through Redis (feature `redis`).
//!
//! Keys: `{prefix}:{kind}:{corpid}:{agentid|contact}` (e.g. `wecom:access_token:ww01:1000002`),
//! value `{issued_at_ms}|{expires_at_ms}|{token}`, TTL from `expires_in`. Leases: `{prefix}:lease:{key}` set with
//! `SET NX PX` to a random owner id and released by a compare-and-delete script, so an instance
//! only ever releases its own lease.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::store::{CoolDownMarker, LeaseId, StoreError, StoredToken, TokenKey, TokenStore};
use crate::Secret;
use crate::transport::BoxFuture;

/// Deletes KEYS[1] if its value is ARGV[1] (a lease owner).
const RELEASE: &str = r"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// Sets KEYS[1]'s TTL to ARGV[2] ms if its value is ARGV[1] (a lease owner); returns 1 if so.
const EXTEND: &str = r"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/// Deletes KEYS[1] if the token part of its value (after the second `|`) is ARGV[1].
const INVALIDATE: &str = r"local v = redis.call('get', KEYS[1])
if not v then return 0 end
local i = string.find(v, '|', 1, true)
if not i then return 0 end
local j = string.find(v, '|', i + 1, true)
if j and string.sub(v, j + 1) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0";

/// A [`TokenStore`] in Redis. Connects lazily (building it never fails because Redis is down)
/// and reconnects by itself; when Redis is unreachable, the client logs a warning and keeps
/// caching in process, so calls never fail because of the store.
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use wecom_core_auth::{Client, RedisTokenStore, Secret};
/// let store = RedisTokenStore::builder("redis://127.0.0.1:6379/0").prefix("myapp:wecom").build()?;
/// let client = Client::builder("ww0123").app(1000002, Secret::new("...")).token_store(Arc::new(store)).build()?;
/// # Ok(()) }
/// ```
pub struct RedisTokenStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    prefix: String,
    display_url: String,
    /// Scrubbed from every error message (the Redis crate may echo connection info).
    passwords: Vec<String>,
    connect_timeout: Duration,
    response_timeout: Duration,
    release: redis::Script,
    extend: redis::Script,
    invalidate: redis::Script,
}

/// Builds a [`RedisTokenStore`].
#[derive(Clone)]
pub struct RedisTokenStoreBuilder {
    url: String,
    prefix: String,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl fmt::Debug for RedisTokenStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStoreBuilder")
            .field("url", &mask_redis_url(&self.url))
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl RedisTokenStoreBuilder {
    /// The namespace every key starts with (default `wecom`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Deadline for connecting (default 300 ms).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Deadline for one command (default 300 ms).
    pub fn response_timeout(mut self, d: Duration) -> Self {
        self.response_timeout = d;
        self
    }

    /// Builds the store (no connection is made yet). Fails only on a malformed URL.
    pub fn build(self) -> Result<RedisTokenStore, StoreError> {
        let passwords = redis_passwords(&self.url);
        let client = redis::Client::open(self.url.as_str()).map_err(|e| {
            StoreError(scrub(
                format!("bad Redis URL {}: {e}", mask_redis_url(&self.url)),
                &passwords,
            ))
        })?;
        Ok(RedisTokenStore {
            client,
            conn: OnceCell::new(),
            prefix: self.prefix.trim_end_matches(':').to_owned(),
            display_url: mask_redis_url(&self.url),
            passwords,
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            release: redis::Script::new(RELEASE),
            extend: redis::Script::new(EXTEND),
            invalidate: redis::Script::new(INVALIDATE),
        })
    }
}

/// Query parameters of a Redis URL that carry a password (`redis+unix:///run/redis.sock?pass=...`).
const PASSWORD_PARAMS: &[&str] = &["pass", "password"];

/// The URL for display: the password (userinfo or `?pass=`) replaced by `***`.
fn mask_redis_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs()
                .any(|(k, _)| PASSWORD_PARAMS.contains(&k.as_ref()))
            {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if PASSWORD_PARAMS.contains(&k.as_ref()) {
                            "***".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "<unparsable Redis URL>".to_owned(),
    }
}

/// The passwords in a Redis URL (userinfo and `?pass=`), to scrub from the Redis crate's messages.
fn redis_passwords(url: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(url) else {
        return Vec::new();
    };
    let mut out: Vec<String> = u.password().map(str::to_owned).into_iter().collect();
    if let Some(p) = u.password() {
        // As written in the URL and decoded.
        if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
            out.push(decoded.into_owned());
        }
    }
    out.extend(
        u.query_pairs()
            .filter(|(k, _)| PASSWORD_PARAMS.contains(&k.as_ref()))
            .map(|(_, v)| v.into_owned()),
    );
    out.retain(|p| !p.is_empty());
    out
}

/// `text` with every password replaced by `***`.
fn scrub(text: String, passwords: &[String]) -> String {
    passwords.iter().fold(text, |t, p| {
        if t.contains(p.as_str()) {
            t.replace(p.as_str(), "***")
        } else {
            t
        }
    })
}

impl RedisTokenStore {
    /// A store at `url` (`redis://[:password@]host:port/db`) with the default prefix `wecom`.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).build()
    }

    /// Starts building a store at `url`.
    pub fn builder(url: impl Into<String>) -> RedisTokenStoreBuilder {
        RedisTokenStoreBuilder {
            url: url.into(),
            prefix: "wecom".to_owned(),
            connect_timeout: Duration::from_millis(300),
            response_timeout: Duration::from_millis(300),
        }
    }

    /// The Redis key of a credential.
    pub fn key_of(&self, key: &TokenKey) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// The Redis key of a credential's cool-down marker (a wrong secret, a rate limit).
    pub fn cool_down_key_of(&self, key: &TokenKey) -> String {
        format!("{}:cooldown:{key}", self.prefix)
    }

    /// The Redis key of a credential's refresh lease.
    pub fn lease_key_of(&self, key: &TokenKey) -> String {
        format!("{}:lease:{key}", self.prefix)
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        let manager = self
            .conn
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.connect_timeout))
                    .set_response_timeout(Some(self.response_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            })
            .await
            .map_err(|e| self.err(e))?;
        Ok(manager.clone())
    }

    fn err(&self, e: redis::RedisError) -> StoreError {
        StoreError(scrub(
            format!("Redis at {}: {e}", self.display_url),
            &self.passwords,
        ))
    }
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("url", &self.display_url)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// `issued_ms|expires_ms|value`, prefixed with `s|` when the server is known to give the same
/// value until it expires (values written before that flag existed read as not known).
fn encode(token: &StoredToken) -> String {
    let ms = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!(
        "{}{}|{}|{}",
        if token.same_until_expiry { "s|" } else { "" },
        ms(token.issued_at),
        ms(token.expires_at),
        token.value.expose()
    )
}

fn decode(raw: &str) -> Option<StoredToken> {
    let (same_until_expiry, raw) = match raw.strip_prefix("s|") {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (issued, rest) = raw.split_once('|')?;
    let (expires, value) = rest.split_once('|')?;
    let issued: u64 = issued.parse().ok()?;
    let expires: u64 = expires.parse().ok()?;
    if value.is_empty() || expires < issued {
        return None;
    }
    Some(StoredToken {
        value: Secret::new(value),
        issued_at: UNIX_EPOCH + Duration::from_millis(issued),
        expires_at: UNIX_EPOCH + Duration::from_millis(expires),
        same_until_expiry,
    })
}

fn encode_cool_down(m: &CoolDownMarker) -> String {
    let until = m
        .until
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{until}|{}|{}", m.errcode, m.errmsg)
}

fn decode_cool_down(raw: &str) -> Option<CoolDownMarker> {
    let (until, rest) = raw.split_once('|')?;
    let (code, msg) = rest.split_once('|')?;
    Some(CoolDownMarker {
        until: UNIX_EPOCH + Duration::from_millis(until.parse().ok()?),
        errcode: code.parse().ok()?,
        errmsg: msg.to_owned(),
    })
}

fn px(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisTokenStore {
    /// `GET key` (tokens and cool-down markers are both plain strings).
    async fn get_string(&self, key: String) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))
    }

    /// `SET key value PX ttl`.
    async fn set_px(&self, key: String, value: String, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(px(ttl))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.err(e))
    }
}

impl TokenStore for RedisTokenStore {
    fn get<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, Result<Option<StoredToken>, StoreError>> {
        Box::pin(async move {
            let raw = self.get_string(self.key_of(key)).await?;
            Ok(raw.as_deref().and_then(decode))
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a TokenKey,
        token: &'a StoredToken,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.set_px(self.key_of(key), encode(token), ttl).await })
    }

    fn invalidate<'a>(
        &'a self,
        key: &'a TokenKey,
        value: &'a Secret,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let deleted: i64 = self
                .invalidate
                .key(self.key_of(key))
                .arg(value.expose())
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.err(e))?;
            Ok(deleted > 0)
        })
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a TokenKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LeaseId>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let id = LeaseId::random();
            let ok: Option<String> = redis::cmd("SET")
                .arg(self.lease_key_of(key))
                .arg(&id.0)
                .arg("NX")
                .arg("PX")
                .arg(px(ttl))
                .query_async(&mut conn)
                .await
                .map_err(|e| self.err(e))?;
            Ok(ok.map(|_| id))
        })
    }

    fn release<'a>(
        &'a self,
        key: &'a TokenKey,
        lease: &'a LeaseId,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let _: i64 = self
                .release
                .key(self.lease_key_of(key))
                .arg(&lease.0)
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.err(e))?;
            Ok(())
        })
    }

    fn extend_lease<'a>(
        &'a self,
        key: &'a TokenKey,
        lease: &'a LeaseId,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let extended: i64 = self
                .extend
                .key(self.lease_key_of(key))
                .arg(&lease.0)
                .arg(px(ttl))
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.err(e))?;
            Ok(extended > 0)
        })
    }

    fn put_cool_down<'a>(
        &'a self,
        key: &'a TokenKey,
        marker: &'a CoolDownMarker,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.set_px(self.cool_down_key_of(key), encode_cool_down(marker), ttl)
                .await
        })
    }

    fn get_cool_down<'a>(
        &'a self,
        key: &'a TokenKey,
    ) -> BoxFuture<'a, Result<Option<CoolDownMarker>, StoreError>> {
        Box::pin(async move {
            let raw = self.get_string(self.cool_down_key_of(key)).await?;
            Ok(raw.as_deref().and_then(decode_cool_down))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_urls_are_masked() {
        let t = StoredToken {
            value: Secret::new("a|b"),
            issued_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000),
            expires_at: UNIX_EPOCH + Duration::from_millis(1_700_007_200_123),
            same_until_expiry: false,
        };
        assert_eq!(encode(&t), "1700000000000|1700007200123|a|b");
        assert_eq!(decode(&encode(&t)), Some(t.clone()));
        let same = StoredToken {
            same_until_expiry: true,
            ..t
        };
        assert_eq!(encode(&same), "s|1700000000000|1700007200123|a|b");
        assert_eq!(decode(&encode(&same)), Some(same));
        assert_eq!(decode("garbage"), None);
        assert_eq!(decode("1|12|"), None);
        assert_eq!(decode("12|tok"), None);
        assert_eq!(decode("5|4|tok"), None);
        let m = CoolDownMarker {
            until: UNIX_EPOCH + Duration::from_millis(1_700_000_600_000),
            errcode: 40001,
            errmsg: "invalid credential|x".to_owned(),
        };
        assert_eq!(decode_cool_down(&encode_cool_down(&m)), Some(m));
        assert_eq!(decode_cool_down("x|1|y"), None);
        assert_eq!(
            mask_redis_url("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        let store = RedisTokenStore::new("redis://:hunter2@127.0.0.1:1/0").unwrap();
        assert!(!format!("{store:?}").contains("hunter2"));
    }

    #[test]
    fn passwords_are_masked_in_every_url_form() {
        for url in [
            "redis://alice:hunter2@127.0.0.1:6379/0",
            "redis+unix:///run/redis.sock?db=0&pass=hunter2",
            "redis+unix:///run/redis.sock?password=hunter2",
            "rediss://:hunter2@example.invalid:6380",
        ] {
            let shown = mask_redis_url(url);
            assert!(!shown.contains("hunter2"), "{url} -> {shown}");
            assert!(shown.contains("***"), "{url} -> {shown}");
            let builder = RedisTokenStore::builder(url);
            assert!(!format!("{builder:?}").contains("hunter2"), "{builder:?}");
            if let Ok(store) = builder.build() {
                assert!(!format!("{store:?}").contains("hunter2"), "{store:?}");
                let e = store.err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "connect failed",
                    "redis://:hunter2@x and pass=hunter2".to_owned(),
                )));
                assert!(!e.to_string().contains("hunter2"), "{e}");
            }
        }
    }
}
