//! The `kf_msg_or_event` loop: turns WeCom's "there is something new" callbacks into messages.
//!
//! The callback carries only a `Token` and the account (`OpenKfId`); the messages are read with
//! `kf/sync_msg` from a cursor. [`KfSync`] does that for you:
//!
//! - it reads from the cursor stored for the account ([`CursorStore`]: [`MemoryCursorStore`], or
//!   `RedisCursorStore` behind the `redis` feature so several instances share it), page after page
//!   while `has_more` is 1, and stores `next_cursor` after each page;
//! - it hands each message to your handler in the order WeCom returns it (oldest first);
//! - **single flight per account**: a callback that arrives while the account is being read does
//!   not start a second reader; it marks the account dirty, and the running reader reads once more
//!   when it is done (so nothing that arrived meanwhile is missed). Repeated callbacks (WeCom
//!   retries) and callbacks in any order therefore cause no second delivery;
//! - a message already handed over (by `msgid`, the last [`KfSync::DEFAULT_REMEMBERED`] per
//!   account) is never handed over again, even when a page is read twice because storing its
//!   cursor failed or the handler failed part-way;
//! - the callback's token is valid 10 minutes; when WeCom rejects it (95007) the page is read again
//!   without it (allowed, but strictly rate limited, as the page says).
//!
//! Delivery is exactly once within one process (and one `KfSync`); across a restart it is at least
//! once for the page that was being read (WeCom's cursor moves a page at a time). When the reader
//! fails (WeCom, the store or the handler), callbacks that joined it are served by the next
//! callback for that account, which reads again from the stored cursor. Several instances sharing
//! a `RedisCursorStore` share the cursor, not the single flight: route an account's callbacks to
//! one instance, or accept that two instances may read the same page at the same time.
//!
//! ```no_run
//! use std::sync::Arc;
//! use wecom_kf::sync::{KfSync, MemoryCursorStore};
//! # async fn demo(client: wecom_core_auth::Client, token: String, open_kfid: String) -> Result<(), wecom_kf::sync::SyncError> {
//! let sync = KfSync::new(client, Arc::new(MemoryCursorStore::default()), |msg: wecom_kf::KfMessage| async move {
//!     println!("{} from {:?}", msg.msgid, msg.external_userid);
//!     Ok(())
//! });
//! // In the callback handler, for Event::KfMsgOrEvent { token, open_kfid }:
//! sync.on_callback(&open_kfid, Some(&token)).await?;
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wecom_core_auth::Client;
use wecom_core_auth::transport::BoxFuture;

use crate::generated::kf::{KfMessage, KfSyncMsgRequest, KfSyncMsgResponse};

/// WeCom's errcode for a callback token that is unknown or expired (不合法的msgtoken).
pub const INVALID_MSG_TOKEN: i64 = 95007;

/// What went wrong while reading an account's messages.
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncError {
    /// `kf/sync_msg` failed.
    Api(wecom_core_auth::Error),
    /// The cursor store failed (the messages read so far were delivered; the cursor was not moved).
    Store(String),
    /// The handler failed on a message; that message and the rest of the page are read again on
    /// the next callback (the ones already handed over are skipped).
    Handler {
        /// The message the handler failed on.
        msgid: String,
        /// What the handler said.
        error: String,
    },
    /// The request was refused before any I/O (an `open_kfid` over 64 bytes, ...).
    Invalid(String),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Api(e) => write!(f, "kf/sync_msg failed: {e}"),
            SyncError::Store(e) => write!(f, "the kf cursor store failed: {e}"),
            SyncError::Handler { msgid, error } => {
                write!(
                    f,
                    "the kf message handler failed on message {msgid}: {error}"
                )
            }
            SyncError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SyncError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SyncError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// Where each account's `sync_msg` cursor is kept between callbacks (and restarts).
pub trait CursorStore: Send + Sync {
    /// The stored cursor of `open_kfid` (`None`: read from the earliest message of the last 3 days).
    fn load<'a>(&'a self, open_kfid: &'a str) -> BoxFuture<'a, Result<Option<String>, String>>;
    /// Stores `cursor` for `open_kfid`.
    fn save<'a>(&'a self, open_kfid: &'a str, cursor: &'a str)
    -> BoxFuture<'a, Result<(), String>>;
}

/// Cursors in process memory (one instance; lost on restart).
#[derive(Debug, Default)]
pub struct MemoryCursorStore {
    cursors: Mutex<HashMap<String, String>>,
}

impl CursorStore for MemoryCursorStore {
    fn load<'a>(&'a self, open_kfid: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
        let v = lock(&self.cursors).get(open_kfid).cloned();
        Box::pin(async move { Ok(v) })
    }

    fn save<'a>(
        &'a self,
        open_kfid: &'a str,
        cursor: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        lock(&self.cursors).insert(open_kfid.to_owned(), cursor.to_owned());
        Box::pin(async { Ok(()) })
    }
}

/// One page of `kf/sync_msg`: the seam between [`KfSync`] and WeCom ([`Client`] implements it).
pub trait SyncSource: Send + Sync {
    /// Calls `kf/sync_msg` with this request.
    fn sync_page(
        &self,
        request: KfSyncMsgRequest,
    ) -> BoxFuture<'_, Result<KfSyncMsgResponse, wecom_core_auth::Error>>;
}

impl SyncSource for Client {
    fn sync_page(
        &self,
        request: KfSyncMsgRequest,
    ) -> BoxFuture<'_, Result<KfSyncMsgResponse, wecom_core_auth::Error>> {
        Box::pin(self.execute(request))
    }
}

/// The handler's error: anything displayable.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

type Handler = dyn Fn(KfMessage) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync;

/// What one [`KfSync::on_callback`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncOutcome {
    /// This call read the account: `delivered` messages went to the handler, over `pages` pages.
    Read {
        /// Messages handed to the handler.
        delivered: usize,
        /// `sync_msg` calls made.
        pages: usize,
    },
    /// Another call was already reading the account; it will read once more for this callback.
    Joined,
}

#[derive(Default)]
struct Slot {
    running: bool,
    dirty: bool,
    token: Option<String>,
}

#[derive(Default)]
struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
}

/// Reads 微信客服 messages after `kf_msg_or_event` callbacks, in order, each message once.
/// See the [module docs](self).
pub struct KfSync {
    source: Arc<dyn SyncSource>,
    store: Arc<dyn CursorStore>,
    handler: Arc<Handler>,
    limit: u32,
    remembered: usize,
    slots: Mutex<HashMap<String, Slot>>,
    seen: Mutex<HashMap<String, Seen>>,
}

impl fmt::Debug for KfSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KfSync")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl KfSync {
    /// How many handed-over msgids are remembered per account by default.
    pub const DEFAULT_REMEMBERED: usize = 10_000;

    /// A loop reading through `client` (any [`SyncSource`]), keeping cursors in `store` and handing
    /// each message to `handler`.
    pub fn new<S, H, Fut>(client: S, store: Arc<dyn CursorStore>, handler: H) -> Self
    where
        S: SyncSource + 'static,
        H: Fn(KfMessage) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        Self {
            source: Arc::new(client),
            store,
            handler: Arc::new(move |m| Box::pin(handler(m))),
            limit: 1000,
            remembered: Self::DEFAULT_REMEMBERED,
            slots: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Messages per `sync_msg` call, 1 to 1000 (WeCom's default and maximum: 1000).
    pub fn page_size(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, 1000);
        self
    }

    /// How many handed-over msgids to remember per account (at least 1).
    pub fn remembered(mut self, n: usize) -> Self {
        self.remembered = n.max(1);
        self
    }

    /// Handles one `kf_msg_or_event` callback: reads `open_kfid`'s new messages from its stored
    /// cursor and hands them to the handler, unless another call is already reading that account
    /// (then it returns [`SyncOutcome::Joined`] at once and that call reads once more).
    pub async fn on_callback(
        &self,
        open_kfid: &str,
        token: Option<&str>,
    ) -> Result<SyncOutcome, SyncError> {
        if open_kfid.is_empty() || open_kfid.len() > 64 {
            return Err(SyncError::Invalid(format!(
                "open_kfid must be 1 to 64 bytes (got {} bytes): pass the callback's OpenKfId",
                open_kfid.len()
            )));
        }
        if token.is_some_and(|t| t.len() > 128) {
            return Err(SyncError::Invalid(
                "the callback token is over 128 bytes: pass the callback's Token unchanged".into(),
            ));
        }
        {
            let mut slots = lock(&self.slots);
            let slot = slots.entry(open_kfid.to_owned()).or_default();
            slot.dirty = true;
            if let Some(t) = token {
                slot.token = Some(t.to_owned());
            }
            if slot.running {
                return Ok(SyncOutcome::Joined);
            }
            slot.running = true;
        }
        // This call is the account's reader until no callback is pending.
        let mut guard = RunningGuard {
            sync: self,
            open_kfid,
            armed: true,
        };
        let (mut delivered, mut pages) = (0, 0);
        loop {
            let token = {
                let mut slots = lock(&self.slots);
                let slot = slots.entry(open_kfid.to_owned()).or_default();
                if !slot.dirty {
                    slot.running = false;
                    guard.armed = false;
                    break;
                }
                slot.dirty = false;
                slot.token.take()
            };
            let (d, p) = self.drain(open_kfid, token).await?;
            delivered += d;
            pages += p;
        }
        Ok(SyncOutcome::Read { delivered, pages })
    }

    /// Reads every page after the stored cursor.
    async fn drain(
        &self,
        open_kfid: &str,
        mut token: Option<String>,
    ) -> Result<(usize, usize), SyncError> {
        let mut cursor = self.store.load(open_kfid).await.map_err(SyncError::Store)?;
        let (mut delivered, mut pages) = (0, 0);
        loop {
            let mut request = KfSyncMsgRequest::new();
            request.cursor = cursor.clone().filter(|c| !c.is_empty());
            request.token = token.clone();
            request.limit = Some(self.limit);
            request.open_kfid = Some(open_kfid.to_owned());
            let page = match self.source.sync_page(request.clone()).await {
                Err(e) if token.is_some() && e.errcode() == Some(INVALID_MSG_TOKEN) => {
                    // The token expired (10 minutes) or is unknown: read without it.
                    token = None;
                    request.token = None;
                    self.source.sync_page(request).await
                }
                other => other,
            }
            .map_err(SyncError::Api)?;
            pages += 1;
            for msg in page.msg_list {
                if self.was_seen(open_kfid, &msg.msgid) {
                    continue;
                }
                let msgid = msg.msgid.clone();
                (self.handler)(msg).await.map_err(|e| SyncError::Handler {
                    msgid: msgid.clone(),
                    error: e.to_string(),
                })?;
                self.remember(open_kfid, msgid);
                delivered += 1;
            }
            if let Some(next) = page.next_cursor.filter(|c| !c.is_empty()) {
                self.store
                    .save(open_kfid, &next)
                    .await
                    .map_err(SyncError::Store)?;
                cursor = Some(next);
            }
            if page.has_more != Some(1) {
                return Ok((delivered, pages));
            }
        }
    }

    fn was_seen(&self, open_kfid: &str, msgid: &str) -> bool {
        lock(&self.seen)
            .get(open_kfid)
            .is_some_and(|s| s.set.contains(msgid))
    }

    fn remember(&self, open_kfid: &str, msgid: String) {
        let mut seen = lock(&self.seen);
        let s = seen.entry(open_kfid.to_owned()).or_default();
        if s.set.insert(msgid.clone()) {
            s.order.push_back(msgid);
            while s.order.len() > self.remembered {
                if let Some(old) = s.order.pop_front() {
                    s.set.remove(&old);
                }
            }
        }
    }
}

/// Clears the account's `running` mark when the reader stops early (an error, or a dropped future),
/// so the next callback reads again.
struct RunningGuard<'a> {
    sync: &'a KfSync,
    open_kfid: &'a str,
    armed: bool,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(slot) = lock(&self.sync.slots).get_mut(self.open_kfid) {
            slot.running = false;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(feature = "redis")]
mod redis_store;
#[cfg(feature = "redis")]
pub use redis_store::RedisCursorStore;

#[cfg(test)]
mod tests;
