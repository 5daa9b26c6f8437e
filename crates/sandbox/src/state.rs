//! The sandbox's shared state and the operations area handlers use (deliver a message, store
//! media, check duplicates, per-area extension state).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use serde_json::Value;

use crate::callbacks::Pusher;
use crate::clock::SandboxClock;
use crate::corp::{Actor, Corp};
use crate::error::ApiError;
use crate::faults::Faults;
use crate::limits::{DuplicateChecker, DuplicateKey, RateLimiter};
use crate::store::{DeliveredMessage, Inboxes, Media, MediaStore, RobotMessage, StoreLimits};
use crate::tokens::TokenBook;

/// Whose access_token: a directory actor (an app or the contact-sync secret) or a system app's
/// own secret (客户联系, 审批 ...), which is no directory actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenOwner {
    /// An app or the contact-sync secret.
    Actor(Actor),
    /// A system app's own secret.
    System(wecom_core_auth::SystemApp),
}

/// Owner of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketOwner {
    /// The corp's jsapi_ticket.
    Corp,
    /// An app's agent_config ticket.
    Agent(u32),
}

/// Shards of the duplicate check: identical sends meet in one shard, different ones rarely wait
/// for each other.
const DUPLICATE_SHARDS: usize = 16;

/// What [`State::send_once`] decided.
#[derive(Debug)]
pub enum Once<T> {
    /// An identical request was answered within its window: answer this again, deliver nothing.
    Repeat(Value),
    /// A new request: `handle` ran and its answer is remembered.
    Fresh(T),
}

pub(crate) use crate::sync::lock;

/// Everything the sandbox knows. Handlers reach it through [`Ctx::state`](crate::Ctx::state);
/// tests through [`Admin`](crate::Admin).
pub struct State {
    corp: RwLock<Corp>,
    clock: SandboxClock,
    pub(crate) tokens: Mutex<TokenBook<TokenOwner>>,
    pub(crate) tickets: Mutex<TokenBook<TicketOwner>>,
    counters: Mutex<HashMap<String, u64>>,
    inboxes: Mutex<Inboxes>,
    media: Mutex<MediaStore>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) limiter: Mutex<RateLimiter>,
    duplicates: [Mutex<DuplicateChecker>; DUPLICATE_SHARDS],
    limits: StoreLimits,
    extensions: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    msg_seq: AtomicU64,
    pub(crate) callbacks: Pusher,
    base_url: OnceLock<String>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("base_url", &self.base_url.get())
            .finish_non_exhaustive()
    }
}

impl State {
    pub(crate) fn new(
        corp: Corp,
        clock: SandboxClock,
        token_ttl_secs: u64,
        callbacks: Pusher,
        limits: StoreLimits,
    ) -> Self {
        let per_shard = limits.duplicate_checks.div_ceil(DUPLICATE_SHARDS).max(1);
        Self {
            corp: RwLock::new(corp),
            clock,
            tokens: Mutex::new(TokenBook::new(token_ttl_secs, 64)),
            tickets: Mutex::new(TokenBook::new(7200, 86)),
            counters: Mutex::new(HashMap::new()),
            inboxes: Mutex::new(Inboxes::with_limits(&limits)),
            media: Mutex::new(MediaStore::with_limits(&limits)),
            faults: Mutex::new(Faults::default()),
            limiter: Mutex::new(RateLimiter::default()),
            duplicates: std::array::from_fn(|_| {
                Mutex::new(DuplicateChecker::with_capacity(per_shard))
            }),
            limits,
            extensions: Mutex::new(HashMap::new()),
            msg_seq: AtomicU64::new(1),
            callbacks,
            base_url: OnceLock::new(),
        }
    }

    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// The sandbox's base URL (`http://127.0.0.1:PORT`), once it listens.
    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }

    /// Reads the corp. Do not hold the guard across an `.await`.
    pub fn corp(&self) -> RwLockReadGuard<'_, Corp> {
        self.corp.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the corp. Do not hold the guard across an `.await`.
    pub fn corp_mut(&self) -> RwLockWriteGuard<'_, Corp> {
        self.corp.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The sandbox clock.
    pub fn clock(&self) -> &SandboxClock {
        &self.clock
    }

    /// Sandbox time, Unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.clock.now_secs()
    }

    /// Counts one call of an endpoint.
    pub(crate) fn count(&self, name: &str) {
        let mut c = lock(&self.counters);
        match c.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                c.insert(name.to_owned(), 1);
            }
        }
    }

    /// Calls per endpoint name: `gettoken` first, then by name.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let c = lock(&self.counters);
        let mut v: Vec<(String, u64)> = c.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| {
            (a.0 != "gettoken")
                .cmp(&(b.0 != "gettoken"))
                .then(a.0.cmp(&b.0))
        });
        if !v.iter().any(|(k, _)| k == "gettoken") {
            v.insert(0, ("gettoken".to_owned(), 0));
        }
        v
    }

    /// Calls of one endpoint (by spec name).
    pub fn count_of(&self, name: &str) -> u64 {
        lock(&self.counters).get(name).copied().unwrap_or(0)
    }

    pub(crate) fn reset_counters(&self) {
        lock(&self.counters).clear();
    }

    /// A new msgid, unique within this sandbox.
    pub fn next_msgid(&self) -> String {
        let n = self.msg_seq.fetch_add(1, Ordering::Relaxed);
        format!("sandbox-msg-{}-{n}", self.now_secs())
    }

    /// Delivers a message from app `agentid` into a member's inbox. When rate limits are on and
    /// the member already got 30 messages from this app this minute (or 1000 this hour), the
    /// message is dropped silently, as WeCom does; returns whether it was delivered.
    pub fn deliver(
        &self,
        agentid: u32,
        userid: &str,
        msgid: &str,
        msgtype: &str,
        message: Value,
    ) -> bool {
        let now = self.now_secs();
        if !lock(&self.limiter).admit_message(agentid, userid, now) {
            return false;
        }
        lock(&self.inboxes).deliver(DeliveredMessage {
            msgid: msgid.to_owned(),
            agentid,
            userid: userid.to_owned(),
            msgtype: msgtype.to_owned(),
            message,
            at: now,
            recalled: false,
        });
        true
    }

    /// A member's inbox, oldest first.
    pub fn inbox(&self, userid: &str) -> Vec<DeliveredMessage> {
        lock(&self.inboxes).inbox(userid)
    }

    /// Every delivery of a msgid (to check a recall's age, for example).
    pub fn deliveries(&self, msgid: &str) -> Vec<DeliveredMessage> {
        lock(&self.inboxes).by_msgid(msgid)
    }

    /// Marks every delivery of `msgid` recalled; returns how many there were.
    pub fn recall(&self, msgid: &str) -> usize {
        lock(&self.inboxes).recall(msgid)
    }

    /// Posts a group robot message.
    pub fn post_robot(&self, chat: &str, message: Value) {
        let at = self.now_secs();
        lock(&self.inboxes).post_robot(RobotMessage {
            chat: chat.to_owned(),
            message,
            at,
        });
    }

    /// Group robot messages, oldest first.
    pub fn robot_messages(&self) -> Vec<RobotMessage> {
        lock(&self.inboxes).robot_messages()
    }

    pub(crate) fn clear_inboxes(&self) {
        lock(&self.inboxes).clear();
    }

    /// Stores an uploaded file and returns its media_id. `permanent` for media/uploadimg.
    pub fn store_media(
        &self,
        kind: &str,
        bytes: Bytes,
        content_type: &str,
        filename: &str,
        permanent: bool,
    ) -> String {
        let now = self.now_secs();
        lock(&self.media).store(kind, bytes, content_type, filename, now, permanent)
    }

    /// A stored file that has not expired.
    pub fn media(&self, media_id: &str) -> Option<Media> {
        let now = self.now_secs();
        lock(&self.media).get(media_id, now).cloned()
    }

    /// Every stored file, newest first (expired ones too).
    pub fn media_list(&self) -> Vec<Media> {
        lock(&self.media).list().into_iter().cloned().collect()
    }

    /// The URL the sandbox serves a stored file at (for media/uploadimg's `url` and the page).
    pub fn media_url(&self, media_id: &str) -> String {
        format!("{}/sandbox/media/{media_id}", self.base_url())
    }

    /// The caps on what the sandbox keeps.
    pub fn store_limits(&self) -> &StoreLimits {
        &self.limits
    }

    /// Uploaded media kept: files and total bytes.
    pub fn media_usage(&self) -> (usize, u64) {
        lock(&self.media).usage()
    }

    /// `enable_duplicate_check`: the earlier answer to an identical request (`key`) still inside
    /// its window, if any.
    pub fn duplicate_of(&self, key: &DuplicateKey) -> Option<Value> {
        let now = self.clock.now_ms();
        lock(self.duplicate_shard(key)).check(key, now)
    }

    /// Remembers the answer to a request for `interval_secs` (0: 1800 s; at most 14400 s).
    pub fn record_duplicate(&self, key: DuplicateKey, interval_secs: u64, answer: Value) {
        let now = self.clock.now_ms();
        lock(self.duplicate_shard(&key)).record(key, interval_secs, now, answer);
    }

    /// The duplicate check as one step: if an identical request (`key`) was answered within its
    /// window, returns [`Once::Repeat`] with that answer; otherwise runs `handle`, remembers the
    /// answer it returns for `interval_secs` and returns [`Once::Fresh`] with its result.
    /// Identical requests arriving together are handled one after the other, so only one of them
    /// is fresh. `handle` must be quick and must not deliver (do that after, with the result):
    /// it runs under the lock of the key's shard.
    pub fn send_once<T>(
        &self,
        key: DuplicateKey,
        interval_secs: u64,
        handle: impl FnOnce() -> Result<(T, Value), ApiError>,
    ) -> Result<Once<T>, ApiError> {
        let mut shard = lock(self.duplicate_shard(&key));
        if let Some(answer) = shard.check(&key, self.clock.now_ms()) {
            return Ok(Once::Repeat(answer));
        }
        let (result, answer) = handle()?;
        shard.record(key, interval_secs, self.clock.now_ms(), answer);
        Ok(Once::Fresh(result))
    }

    fn duplicate_shard(&self, key: &DuplicateKey) -> &Mutex<DuplicateChecker> {
        &self.duplicates[key.shard(DUPLICATE_SHARDS)]
    }

    /// The state an area keeps for itself, created empty on first use. Lets an area add its own
    /// bookkeeping (batch jobs, app chats, OAuth codes ...) without changing this struct.
    pub fn extension<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut ext = lock(&self.extensions);
        let entry = ext
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>);
        match Arc::clone(entry).downcast::<T>() {
            Ok(t) => t,
            // The map is keyed by TypeId, so the downcast cannot fail; stay total anyway.
            Err(_) => Arc::new(T::default()),
        }
    }
}
