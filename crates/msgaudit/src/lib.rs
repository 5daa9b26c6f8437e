//! # wecom-msgaudit
//!
//! 会话内容存档 (message archive) for WeCom self-built apps. Two halves:
//!
//! - **HTTP** (always): which members are archived, whether customers agreed to the archiving of
//!   one-to-one and group chats, and the archived internal groups, generated from
//!   `spec/msgaudit.toml` ([`generated::msgaudit`], re-exported here) and reachable as
//!   `client.msgaudit()`. They take the 会话内容存档 secret: give it with
//!   `ClientBuilder::system_secret(SystemApp::MsgAudit, ..)`.
//! - **Chat content** (feature `finance`): WeCom hands the archived messages out only through
//!   Tencent's C library `libWeWorkFinanceSdk_C`, which this crate neither ships nor links. The
//!   [`finance`](crate#chat-content-feature-finance) module defines what the page 获取会话内容
//!   defines and what needs no SDK: a trait you implement over your binding of the library, the
//!   RSA decryption of each message's `encrypt_random_key`, the typed chat messages and a pull
//!   loop that loses and repeats no message across restarts.
//!
//! ```no_run
//! use wecom_msgaudit::*;
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! let members = client.msgaudit().msgaudit_get_permit_user_list().await?.ids;
//! let group = client.msgaudit().msgaudit_groupchat_get("wrNplhCgAAIVZohLe57zKnvIV7xBKrig").await?;
//! println!("{} archived members; group {:?}", members.len(), group.roomname);
//! # Ok(()) }
//! ```
//!
//! ## Chat content (feature `finance`)
//!
//! See the `finance` module (built with the feature) for what the SDK must provide and how the
//! pieces fit.

#[cfg(feature = "finance")]
pub mod finance;
pub mod generated;

pub use generated::msgaudit::*;
