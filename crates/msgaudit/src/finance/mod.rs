//! The archived chat content, through Tencent's Finance SDK (feature `finance`).
//!
//! WeCom gives the archived messages out only through its C library `libWeWorkFinanceSdk_C`
//! (page 获取会话内容, <https://developer.work.weixin.qq.com/document/path/91774>, 最后更新
//! 2026/01/19; Linux x86/arm and Windows builds are downloaded from that page). This crate does not
//! ship, link or imitate that library: you bind it yourself (a few `extern "C"` declarations, or an
//! existing binding crate) and implement [`FinanceSdk`] over it. Everything the page defines that
//! needs no SDK is here, on top of the trait:
//!
//! | piece | what it does |
//! |---|---|
//! | [`FinanceSdk`] | the three SDK calls the rest needs: `GetChatData`, `DecryptData`, `GetMediaData` |
//! | [`PrivateKeys`] | the corp's RSA private keys by `publickey_ver`; decrypts each message's `encrypt_random_key` (RSA-PKCS#1 v1.5, base64) |
//! | [`ChatMessage`] | a decrypted message, typed by `msgtype` as the page documents them; anything else kept as raw JSON ([`ChatContent::Unknown`]) |
//! | [`ArchivePuller`] | the seq-cursor loop: pulls pages, decrypts, hands each message over in seq order, stores the seq after each ([`SeqStore`], [`MemorySeqStore`]) |
//! | [`download_media`] | reads a media file (`sdkfileid`) chunk by chunk with `GetMediaData`'s `indexbuf` until `is_finish` |
//!
//! ## What you need
//!
//! - **The library**: `libWeWorkFinanceSdk_C.so` (or `WeWorkFinanceSdk.dll`) from the page, loaded by
//!   your binding. Its `NewSdk()` + `Init(sdk, corpid, secret)` come first; keep one SDK object for
//!   the process (your [`FinanceSdk`] implementation owns it).
//! - **The 会话内容存档 secret** (管理后台 → 管理工具 → 会话内容存档 → Secret): `Init` takes it. The
//!   same secret's token calls the HTTP endpoints of this crate
//!   (`ClientBuilder::system_secret(SystemApp::MsgAudit, ..)`).
//! - **The corp's RSA key pair**: the public key is set in the admin console (消息加密公钥), which
//!   gives it a version; WeCom encrypts each message's random key with it. Keep every private key
//!   whose version may still appear (`publickey_ver` of each message) in [`PrivateKeys`]: a PEM
//!   (`BEGIN RSA PRIVATE KEY` or `BEGIN PRIVATE KEY`) per version.
//!
//! ## The flow (as the page describes it)
//!
//! 1. `GetChatData(seq, limit, proxy, passwd, timeout)` returns a JSON page
//!    `{"errcode":0,"errmsg":"ok","chatdata":[{"seq","msgid","publickey_ver","encrypt_random_key","encrypt_chat_msg"}]}`
//!    of the messages after `seq` (start from 0).
//! 2. For each item, decrypt `encrypt_random_key` (base64, RSA-PKCS#1 v1.5) with the private key of
//!    its `publickey_ver`: [`PrivateKeys::decrypt_random_key`].
//! 3. `DecryptData(random_key, encrypt_chat_msg)` gives the message's JSON: [`ChatMessage::from_json`].
//! 4. Media (`sdkfileid` of images, voice, video, files ...) come with `GetMediaData(indexbuf,
//!    sdkfileid, proxy, passwd, timeout)`, one chunk at a time: [`download_media`].
//!
//! The `msgaudit_notify` callback (产生会话回调事件) says new messages are there (at most one
//! every 15 seconds): call [`ArchivePuller::pull`] from its handler, or on a timer.
//!
//! ```no_run
//! use std::sync::Arc;
//! use wecom_msgaudit::finance::*;
//! # async fn demo(sdk: Arc<dyn FinanceSdk>, pem: &str) -> Result<(), FinanceError> {
//! let keys = PrivateKeys::new().with_pem(1, pem)?;
//! let puller = ArchivePuller::new(sdk, keys, Arc::new(MemorySeqStore::default()));
//! let pulled = puller
//!     .pull(|m: ArchivedMessage| async move {
//!         println!("{} {:?}", m.seq, m.message.content);
//!         Ok(())
//!     })
//!     .await?;
//! println!("{pulled} new messages");
//! # Ok(()) }
//! ```

mod keys;
mod message;
mod pull;

use std::fmt;

use wecom_core_auth::transport::BoxFuture;

pub use keys::PrivateKeys;
pub use message::*;
pub use pull::{
    ArchivePuller, ArchivedMessage, EncryptedChat, HandlerError, MemorySeqStore, SeqStore,
    parse_chat_data,
};

/// What went wrong reading the archive.
#[derive(Debug)]
#[non_exhaustive]
pub enum FinanceError {
    /// The SDK call failed: its non-zero return code (the page's SDK error table explains them) or
    /// the `errcode`/`errmsg` of the JSON it returned.
    Sdk {
        /// Which call (`GetChatData`, `DecryptData`, `GetMediaData`).
        call: &'static str,
        /// The return code or `errcode`.
        code: i64,
        /// What it said.
        message: String,
    },
    /// A message's key version has no private key: add it with [`PrivateKeys::with_pem`].
    UnknownKeyVersion(u32),
    /// A private key could not be read, or decryption failed (wrong key for this version, or a
    /// damaged `encrypt_random_key`). Never carries key material.
    Key(String),
    /// The SDK's JSON could not be read.
    Json(String),
    /// A media download did not finish properly (no `sdkfileid`, no progress, too many chunks).
    Media(String),
    /// The seq store failed (the messages handed over so far stay stored; the seq was not moved).
    Store(String),
    /// The handler failed on the message at `seq`; it and the rest are pulled again next time.
    Handler {
        /// The message's seq.
        seq: u64,
        /// What the handler said.
        error: String,
    },
}

impl fmt::Display for FinanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FinanceError::Sdk {
                call,
                code,
                message,
            } => write!(f, "Finance SDK {call} failed with {code}: {message}"),
            FinanceError::UnknownKeyVersion(v) => write!(
                f,
                "no private key for publickey_ver {v}: add the private key of the message encryption public key version {v} (PrivateKeys::with_pem({v}, pem))"
            ),
            FinanceError::Key(e) => write!(f, "RSA key error: {e}"),
            FinanceError::Json(e) => write!(f, "the Finance SDK's JSON could not be read: {e}"),
            FinanceError::Media(e) => write!(f, "media download: {e}"),
            FinanceError::Store(e) => write!(f, "the archive seq store failed: {e}"),
            FinanceError::Handler { seq, error } => {
                write!(f, "the archive handler failed on seq {seq}: {error}")
            }
        }
    }
}

impl std::error::Error for FinanceError {}

/// One chunk of a media file read with `GetMediaData`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaChunk {
    /// The chunk's bytes.
    pub data: Vec<u8>,
    /// The `outindexbuf` to pass as `indexbuf` for the next chunk.
    pub next_index: String,
    /// `is_finish`: this was the last chunk.
    pub is_finish: bool,
}

/// The Finance SDK calls this module needs, implemented by you over your binding of
/// `libWeWorkFinanceSdk_C` (the SDK object made with `NewSdk` + `Init(corpid, 会话内容存档 secret)`).
///
/// The C calls block: run them on a blocking thread (`tokio::task::spawn_blocking`) inside the
/// returned futures. Proxy settings (`proxy`, `passwd`) are yours to pass to the C calls.
pub trait FinanceSdk: Send + Sync {
    /// `GetChatData(sdk, seq, limit, proxy, passwd, timeout, chatDatas)`: the JSON text of the page
    /// of messages after `seq`, as the SDK wrote it into `chatDatas` (read it with
    /// [`parse_chat_data`]). A non-zero return code is [`FinanceError::Sdk`].
    fn get_chat_data(
        &self,
        seq: u64,
        limit: u32,
        timeout_secs: u32,
    ) -> BoxFuture<'_, Result<String, FinanceError>>;

    /// `DecryptData(encrypt_key, encrypt_msg, msg)`: the message's JSON text, from the random key
    /// decrypted by [`PrivateKeys::decrypt_random_key`] and the item's `encrypt_chat_msg`.
    fn decrypt_data(
        &self,
        random_key: &str,
        encrypt_chat_msg: &str,
    ) -> Result<String, FinanceError>;

    /// `GetMediaData(sdk, indexbuf, sdkFileid, proxy, passwd, timeout, media_data)`: one chunk of a
    /// media file; `index` is empty for the first chunk, then the previous chunk's `next_index`.
    fn get_media_data<'a>(
        &'a self,
        index: &'a str,
        sdk_file_id: &'a str,
        timeout_secs: u32,
    ) -> BoxFuture<'a, Result<MediaChunk, FinanceError>>;
}

/// Reads the media file `sdk_file_id` chunk by chunk (`indexbuf` empty first, then each chunk's
/// `outindexbuf`) until the SDK says `is_finish`, handing each chunk's bytes to `sink` in order.
/// Returns the number of bytes read. At most `max_chunks` chunks are read: a file that never
/// finishes is an error, not an endless loop.
///
/// ```no_run
/// # async fn demo(sdk: &dyn wecom_msgaudit::finance::FinanceSdk) -> Result<(), wecom_msgaudit::finance::FinanceError> {
/// let mut file = Vec::new();
/// wecom_msgaudit::finance::download_media(sdk, "SDKFILEID", 10, 100_000, |chunk| {
///     file.extend_from_slice(chunk);
///     Ok(())
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn download_media(
    sdk: &dyn FinanceSdk,
    sdk_file_id: &str,
    timeout_secs: u32,
    max_chunks: usize,
    mut sink: impl FnMut(&[u8]) -> Result<(), HandlerError>,
) -> Result<u64, FinanceError> {
    if sdk_file_id.is_empty() {
        return Err(FinanceError::Media(
            "empty sdkfileid: pass the `sdkfileid` of the message's media".into(),
        ));
    }
    let mut index = String::new();
    let mut total = 0u64;
    for _ in 0..max_chunks {
        let chunk = sdk
            .get_media_data(&index, sdk_file_id, timeout_secs)
            .await?;
        total += chunk.data.len() as u64;
        sink(&chunk.data)
            .map_err(|e| FinanceError::Media(format!("the chunk sink failed: {e}")))?;
        if chunk.is_finish {
            return Ok(total);
        }
        if chunk.next_index.is_empty() || chunk.next_index == index {
            return Err(FinanceError::Media(format!(
                "the SDK returned no new outindexbuf after {total} bytes without is_finish"
            )));
        }
        index = chunk.next_index;
    }
    Err(FinanceError::Media(format!(
        "not finished after {max_chunks} chunks ({total} bytes)"
    )))
}
