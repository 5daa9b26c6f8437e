//! The seq-cursor pull loop over [`FinanceSdk`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use wecom_core_auth::transport::BoxFuture;

use super::{ChatMessage, FinanceError, FinanceSdk, PrivateKeys};

/// The handler's error: anything displayable.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// One item of `GetChatData`'s `chatdata`, still encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct EncryptedChat {
    /// The message's seq (increasing; the cursor).
    pub seq: u64,
    /// The message's id.
    #[serde(default)]
    pub msgid: String,
    /// Which version of the corp's public key encrypted `encrypt_random_key`.
    #[serde(default)]
    pub publickey_ver: u32,
    /// The random key, RSA-encrypted and base64.
    #[serde(default)]
    pub encrypt_random_key: String,
    /// The message, encrypted with the random key (for `DecryptData`).
    #[serde(default)]
    pub encrypt_chat_msg: String,
}

#[derive(Deserialize)]
struct ChatDataPage {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    chatdata: Vec<EncryptedChat>,
}

/// Reads `GetChatData`'s JSON: its `chatdata`, or its non-zero `errcode` as [`FinanceError::Sdk`].
pub fn parse_chat_data(text: &str) -> Result<Vec<EncryptedChat>, FinanceError> {
    let page: ChatDataPage = serde_json::from_str(text)
        .map_err(|e| FinanceError::Json(format!("GetChatData's answer: {e}")))?;
    if page.errcode != 0 {
        return Err(FinanceError::Sdk {
            call: "GetChatData",
            code: page.errcode,
            message: page.errmsg,
        });
    }
    Ok(page.chatdata)
}

/// Where the seq of the last message handed over is kept between pulls and restarts. Implement it
/// over the database the handler writes to, in the same transaction, for exactly-once across
/// crashes (see [`ArchivePuller`]).
pub trait SeqStore: Send + Sync {
    /// The stored seq of `key` (`None`: start from 0, the first archived message).
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<u64>, String>>;
    /// Stores `seq` for `key`.
    fn save<'a>(&'a self, key: &'a str, seq: u64) -> BoxFuture<'a, Result<(), String>>;
}

/// Seqs in process memory (one instance; lost on restart).
#[derive(Debug, Default)]
pub struct MemorySeqStore {
    seqs: Mutex<HashMap<String, u64>>,
}

impl SeqStore for MemorySeqStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<u64>, String>> {
        let v = self
            .seqs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied();
        Box::pin(async move { Ok(v) })
    }

    fn save<'a>(&'a self, key: &'a str, seq: u64) -> BoxFuture<'a, Result<(), String>> {
        self.seqs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), seq);
        Box::pin(async { Ok(()) })
    }
}

/// A decrypted message with its place in the archive.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ArchivedMessage {
    /// Its seq (store it with the message to de-duplicate after a crash).
    pub seq: u64,
    /// Its msgid (from `chatdata`).
    pub msgid: String,
    /// The key version its random key was encrypted for.
    pub publickey_ver: u32,
    /// The message.
    pub message: ChatMessage,
}

/// Pulls the archive from the stored seq, page after page, and hands each message to a handler.
///
/// - Messages are handed over in seq order, one at a time; the seq is stored after each one the
///   handler accepted, so a restart continues after the last message handed over: **nothing is
///   lost** (a message that cannot be decrypted or that the handler refuses stops the pull there,
///   and the next pull starts with it) and **nothing is repeated** (a message at or below the
///   stored seq is skipped, even when the SDK returns it again).
/// - The one window left is a crash after the handler kept a message and before its seq was
///   stored: that message comes again. Close it by implementing [`SeqStore`] over the handler's
///   database (store message and seq in one transaction), or de-duplicate by seq or msgid.
/// - Single flight within the process: a [`pull`](Self::pull) that starts while another runs
///   returns at once (0) and makes the running one read once more, so a burst of
///   `msgaudit_notify` callbacks causes one reader, and nothing that arrived meanwhile waits for
///   the next callback.
pub struct ArchivePuller {
    sdk: Arc<dyn FinanceSdk>,
    keys: PrivateKeys,
    store: Arc<dyn SeqStore>,
    key: String,
    limit: u32,
    timeout_secs: u32,
    max_pages: usize,
    running: AtomicBool,
    dirty: AtomicBool,
}

impl std::fmt::Debug for ArchivePuller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchivePuller")
            .field("keys", &self.keys)
            .field("key", &self.key)
            .field("limit", &self.limit)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

/// Clears the running flag when a pull ends early (an error, or the future dropped).
struct Running<'a> {
    flag: &'a AtomicBool,
    armed: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(false, Ordering::Release);
        }
    }
}

impl ArchivePuller {
    /// Pages of 100, a 5-second SDK timeout, at most 1000 pages per pull, store key `"default"`.
    pub fn new(sdk: Arc<dyn FinanceSdk>, keys: PrivateKeys, store: Arc<dyn SeqStore>) -> Self {
        Self {
            sdk,
            keys,
            store,
            key: "default".into(),
            limit: 100,
            timeout_secs: 5,
            max_pages: 1000,
            running: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
        }
    }

    /// The name under which the seq is stored (one per corp when several share a store).
    pub fn store_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Messages per `GetChatData` call (at least 1). The page's limit for it lies beyond what this
    /// crate could read; peers use at most 1000.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.max(1);
        self
    }

    /// The `timeout` passed to the SDK, seconds.
    pub fn timeout_secs(mut self, secs: u32) -> Self {
        self.timeout_secs = secs;
        self
    }

    /// At most this many pages per pull (the rest waits for the next pull).
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// The stored seq (0 before the first message).
    pub async fn seq(&self) -> Result<u64, FinanceError> {
        Ok(self
            .store
            .load(&self.key)
            .await
            .map_err(FinanceError::Store)?
            .unwrap_or(0))
    }

    /// Pulls every new message and hands each to `handler`; returns how many were handed over.
    /// See the type's docs for the guarantees.
    pub async fn pull<F, Fut>(&self, handler: F) -> Result<usize, FinanceError>
    where
        F: Fn(ArchivedMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        if self.running.swap(true, Ordering::AcqRel) {
            self.dirty.store(true, Ordering::Release);
            return Ok(0);
        }
        let mut running = Running {
            flag: &self.running,
            armed: true,
        };
        let mut handed = 0;
        loop {
            self.dirty.store(false, Ordering::Release);
            handed += self.pull_pages(&handler).await?;
            if self.dirty.load(Ordering::Acquire) {
                continue;
            }
            // Done: release, then look once more, so a pull that found this one running just
            // after the check above is not left waiting for the next callback.
            running.armed = false;
            self.running.store(false, Ordering::Release);
            if self.dirty.load(Ordering::Acquire) && !self.running.swap(true, Ordering::AcqRel) {
                running.armed = true;
                continue;
            }
            return Ok(handed);
        }
    }

    async fn pull_pages<F, Fut>(&self, handler: &F) -> Result<usize, FinanceError>
    where
        F: Fn(ArchivedMessage) -> Fut,
        Fut: Future<Output = Result<(), HandlerError>>,
    {
        let mut cursor = self.seq().await?;
        let mut handed = 0;
        for _ in 0..self.max_pages {
            let text = self
                .sdk
                .get_chat_data(cursor, self.limit, self.timeout_secs)
                .await?;
            let page = parse_chat_data(&text)?;
            let mut moved = false;
            for item in page {
                if item.seq <= cursor {
                    continue;
                }
                let random_key = self
                    .keys
                    .decrypt_random_key(item.publickey_ver, &item.encrypt_random_key)?;
                let plain = self.sdk.decrypt_data(&random_key, &item.encrypt_chat_msg)?;
                let message = ChatMessage::from_json(&plain)?;
                let seq = item.seq;
                handler(ArchivedMessage {
                    seq,
                    msgid: item.msgid,
                    publickey_ver: item.publickey_ver,
                    message,
                })
                .await
                .map_err(|e| FinanceError::Handler {
                    seq,
                    error: e.to_string(),
                })?;
                self.store
                    .save(&self.key, seq)
                    .await
                    .map_err(FinanceError::Store)?;
                cursor = seq;
                handed += 1;
                moved = true;
            }
            if !moved {
                break;
            }
        }
        Ok(handed)
    }
}
