//! WeCom (企业微信) callbacks for self-built apps: receive the encrypted messages and events
//! WeCom POSTs to your callback URL, and answer them.
//!
//! * [`CallbackCrypto`]: the WXBizMsgCrypt protocol — constant-time signature check, AES-256-CBC,
//!   receive id always checked, optional timestamp window, size limit, typed [`CallbackError`]s
//!   carrying the sample library's codes;
//! * [`Inbound`]: typed messages and events (with an `Unknown` variant that keeps the raw XML),
//!   each convertible back to WeCom's XML;
//! * [`Reply`]: passive replies (text, image, voice, video, news, update_button);
//! * [`router`] (feature `axum`, on by default): an axum router for the callback URL, with
//!   de-duplication of WeCom's retries ([`MemoryDedup`], or `RedisDedup` with feature `redis`).
//!
//! # Delivery contract of the router: at-least-once
//!
//! * A retry is recognised by what is identical across WeCom's retries: the decrypted
//!   plaintext (hashed, [`retry_key`]), scoped by receive id and agent id. Two different
//!   callbacks of the same second are two callbacks.
//! * WeCom gets its HTTP 200 only after the handler returned (`Ok`, with
//!   [`CallbackRouter::try_new`](router::CallbackRouter::try_new)). A handler that panics or
//!   fails is answered 500 and its callback is not recorded, so WeCom's retry runs it again; a
//!   handler still running at the acknowledgement deadline is answered 503 and WeCom's retry
//!   waits for it. The handler may therefore run more than once for one callback: make it
//!   idempotent. Details in the [`router`] docs.
//! * Requests more than 5 minutes from now are refused by default (replays), and handled
//!   callbacks are remembered for longer than a timestamp stays acceptable.
//! * The URL check answers only a plaintext shaped like an echostr ([`MAX_ECHOSTR`]): it
//!   cannot be used to decrypt captured deliveries.
//!
//! ```
//! use wecom_callback::{CallbackCrypto, Inbound, Reply};
//! let crypto = CallbackCrypto::new("Token", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwcorp")?;
//!
//! // What WeCom sends (here made by seal_delivery, as the sandbox does):
//! let xml = "<xml><ToUserName>wwcorp</ToUserName><FromUserName>zhangsan</FromUserName>\
//!            <CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>click</Event>\
//!            <EventKey>menu_1</EventKey><AgentID>1000002</AgentID></xml>";
//! let (body, signature) = crypto.seal_delivery(xml, "wwcorp", 1000002, "1700000000", "n1");
//!
//! // What your server does with it:
//! let plaintext = crypto.open_delivery(&signature, "1700000000", "n1", body.as_bytes())?;
//! let inbound = Inbound::parse(&plaintext)?;
//! let reply_body = Reply::text("clicked").seal(&crypto, &inbound, "1700000001", "n2");
//! assert!(reply_body.starts_with("<xml><Encrypt>"));
//! # Ok::<(), wecom_callback::CallbackError>(())
//! ```

pub mod crypto;
pub mod dedup;
mod error;
pub mod event;
pub mod generated;
pub mod reply;
#[cfg(feature = "axum")]
pub mod router;
pub mod xml;

pub use crypto::{CallbackCrypto, DEFAULT_MAX_BODY, Delivery, Envelope, Format, MAX_ECHOSTR};
#[cfg(feature = "redis")]
pub use dedup::RedisDedup;
pub use dedup::{Claim, Dedup, MemoryDedup, Ticket, retry_key};
pub use error::CallbackError;
pub use event::{
    BatchJob, ContactChange, ContactUser, Event, EventKind, Header, Inbound, Message, MessageBody,
    Party, ScanCodeInfo, SelectedItem, SendLocationInfo, SendPicsInfo, TagChange,
    TemplateCardEvent, Unknown,
};
pub use reply::{Article, Reply};
