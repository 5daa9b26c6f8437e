//! # wecom-kf
//!
//! WeChat customer service (微信客服) for WeCom self-built apps. The endpoints are generated from `spec/kf.toml`
//! ([`generated::kf`], re-exported here) and reachable as `client.kf()`.
//!
//! ```no_run
//! use wecom_kf::*;
//! # fn demo(client: &wecom_core_auth::Client) {
//! let _area = client.kf();
//! # }
//! ```

pub mod generated;

pub use generated::kf::*;
