//! [`RedisCursorStore`]: `sync_msg` cursors shared by several instances through Redis (feature
//! `redis`). Key `{prefix}:kf_cursor:{open_kfid}`, value the cursor, no TTL (WeCom keeps messages 3
//! days; a cursor older than that simply reads from the earliest message still kept).

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use wecom_core_auth::transport::BoxFuture;

use super::CursorStore;

/// Cursors in Redis. Connects lazily and reconnects by itself; errors name the server without its
/// password.
///
/// ```no_run
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = wecom_kf::sync::RedisCursorStore::new("redis://127.0.0.1:6379/0", "myapp:wecom")?;
/// # Ok(()) }
/// ```
pub struct RedisCursorStore {
    client: redis::Client,
    conn: OnceLock<ConnectionManager>,
    prefix: String,
    display_url: String,
    /// The URL's password, scrubbed from every error message.
    password: Option<String>,
}

impl RedisCursorStore {
    /// A store at `url` (`redis://[:password@]host:port/db`) with keys under `prefix`.
    ///
    /// # Errors
    /// A URL the redis crate cannot read.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, String> {
        let display_url = redact_url(url);
        let password = password_of(url);
        let scrub = |e: redis::RedisError| scrub(&e.to_string(), password.as_deref());
        let client = redis::Client::open(url)
            .map_err(|e| format!("Redis URL {display_url} is not valid: {}", scrub(e)))?;
        Ok(Self {
            client,
            conn: OnceLock::new(),
            prefix: prefix.into(),
            display_url,
            password,
        })
    }

    /// The Redis key of an account's cursor.
    pub fn key_of(&self, open_kfid: &str) -> String {
        format!("{}:kf_cursor:{open_kfid}", self.prefix)
    }

    /// The shared connection, created on first use (inside the caller's Tokio runtime).
    fn conn(&self) -> Result<ConnectionManager, String> {
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1);
        let c = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.err(&e))?;
        Ok(self.conn.get_or_init(|| c).clone())
    }

    fn err(&self, e: &redis::RedisError) -> String {
        // The crate may echo connection info in its Display: the password is scrubbed.
        format!(
            "Redis at {}: {}",
            self.display_url,
            scrub(&e.to_string(), self.password.as_deref())
        )
    }
}

impl fmt::Debug for RedisCursorStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCursorStore")
            .field("url", &self.display_url)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl CursorStore for RedisCursorStore {
    fn load<'a>(&'a self, open_kfid: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move {
            let mut conn = self.conn()?;
            redis::cmd("GET")
                .arg(self.key_of(open_kfid))
                .query_async(&mut conn)
                .await
                .map_err(|e| self.err(&e))
        })
    }

    fn save<'a>(
        &'a self,
        open_kfid: &'a str,
        cursor: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut conn = self.conn()?;
            redis::cmd("SET")
                .arg(self.key_of(open_kfid))
                .arg(cursor)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.err(&e))
        })
    }
}

fn password_of(url: &str) -> Option<String> {
    let s = url.find("://")? + 3;
    let at = url.rfind('@')?;
    let (_, pw) = url.get(s..at)?.split_once(':')?;
    (!pw.is_empty()).then(|| pw.to_owned())
}

fn scrub(text: &str, password: Option<&str>) -> String {
    match password {
        Some(p) => text.replace(p, "***"),
        None => text.to_owned(),
    }
}

/// `redis://user:password@host` -> `redis://user:***@host`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        assert_eq!(
            redact_url("redis://:hunter2@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(redact_url("redis://127.0.0.1/0"), "redis://127.0.0.1/0");
        let s = RedisCursorStore::new("redis://u:hunter2@127.0.0.1:1/0", "p").unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
