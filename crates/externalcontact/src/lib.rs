//! # wecom-externalcontact
//!
//! Customer contact (客户联系) for WeCom self-built apps. The endpoints are generated from `spec/externalcontact.toml`
//! ([`generated::externalcontact`], re-exported here) and reachable as `client.externalcontact()`.
//!
//! ```no_run
//! use wecom_externalcontact::*;
//! # fn demo(client: &wecom_core_auth::Client) {
//! let _area = client.externalcontact();
//! # }
//! ```

pub mod generated;

pub use generated::externalcontact::*;
