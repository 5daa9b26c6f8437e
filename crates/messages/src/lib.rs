//! # wecom-messages
//!
//! Messages from a WeCom (企业微信) self-built app: every message type of `message/send`
//! (text, image, voice, video, file, textcard, news, mpnews, markdown, miniprogram_notice and
//! the five template cards), recall, template card updates, media upload and download, app
//! group chats and group robots (webhooks).
//!
//! The endpoints themselves are generated from `spec/messages.toml` ([`generated::messages`],
//! re-exported here) and reachable as `client.messages()` ([`MessagesExt`]). On top of them this
//! crate adds what makes sending pleasant and safe:
//!
//! - [`Message`]: one constructor per message type, sent [`to`](Message::to) typed
//!   [`Recipients`] (members, departments, tags or everyone; joined with `|` for you);
//!   the app's `agentid` comes from the client's selected app unless you set another;
//! - every limit checked before any request (content lengths, 1000 members, 8 articles,
//!   template-card rules, media sizes), as an [`Error::Invalid`](wecom_core_auth::Error) that
//!   names the field, the limit and the errcode WeCom would answer;
//! - a [`Receipt`] with the rejected recipients as lists and the `msgid` for recall;
//! - retries that never deliver twice: the client turns on WeCom's duplicate check for
//!   `message/send` (so an identical repeat inside the window is not delivered either; send
//!   deliberate repeats with [`AppMessage::no_duplicate_check`]);
//! - [`Media`]: uploads streamed from a file or any `AsyncRead` (never loaded whole), checked
//!   against WeCom's type and size limits first; downloads in ranges into any `AsyncWrite`;
//! - [`BulkSender`]: any number of members in chunks of 1000, with an optional client-side
//!   per-member limit ([`MemberLimiter`]), progress reports and one combined receipt;
//! - [`Robot`]: group robot messages (text with mentions, markdown, inline images, news, files,
//!   template cards) and uploads.
//!
//! ```no_run
//! use wecom_messages::{Message, Recipients};
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! let receipt = Message::text("The build is green.")
//!     .to(Recipients::users(["zhangsan", "lisi"]).with_departments([2]))
//!     .send(client)
//!     .await?;
//! if !receipt.is_complete() {
//!     eprintln!("not delivered to {:?}", receipt.invalid_users);
//! }
//! # Ok(()) }
//! ```

pub mod bulk;
mod cards;
pub mod generated;
pub mod media;
mod message;
mod recipients;
pub mod robot;
pub mod rules;

pub use bulk::{BulkProgress, BulkReceipt, BulkSender, ChunkFailure, MemberLimiter};
pub use generated::messages::*;
pub use media::{Media, MediaError};
pub use message::{AppMessage, CardUpdate, Message, Receipt};
pub use recipients::Recipients;
pub use robot::Robot;
