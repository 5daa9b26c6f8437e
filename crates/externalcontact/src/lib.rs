//! # wecom-externalcontact
//!
//! Customer contact (客户联系) for WeCom self-built apps. The endpoints are generated from `spec/externalcontact.toml`
//! ([`generated::externalcontact`], re-exported here) and reachable as `client.externalcontact()`.
//!
//! Hand-written conveniences: the cursor lists as streams ([`Externalcontact::customers_of`],
//! [`Externalcontact::group_chats`]) and the welcome message from a callback handler
//! ([`Externalcontact::welcome`], checking the `WelcomeCode`'s 20 s validity before any request).
//!
//! ```no_run
//! use wecom_externalcontact::*;
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! let area = client.externalcontact();
//! let customers = area.customer_list("zhangsan").await?.external_userid;
//! # let _ = customers; Ok(())
//! # }
//! ```

pub mod acquisition;
pub mod generated;
pub mod moments;
pub mod outreach;
pub mod rules;
pub mod stream;
pub mod transfer;
pub mod welcome;

pub use generated::externalcontact::*;
