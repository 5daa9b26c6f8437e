//! # wecom-corpgroup
//!
//! 上下游 / 企业互联 for WeCom self-built apps: an upstream corp's app shared with downstream corps.
//! The endpoints are generated from `spec/corpgroup.toml` ([`generated::corpgroup`], re-exported
//! here) and reachable as `client.corpgroup()`.
//!
//! The downstream corp's token is core-auth's business: [`Client::downstream`] gives a client
//! whose calls (to any area) carry the downstream corp's token, fetched with the upstream app's
//! token through `corpgroup/corp/gettoken` ([`CorpgroupCorpGettokenRequest`], re-exported from
//! core-auth), cached per downstream corp and refreshed like app tokens.
//!
//! ```no_run
//! use wecom_corpgroup::*;
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! // Which downstream corps app 1000002 is shared with (上下游: business_type 1).
//! let shares = client
//!     .corpgroup()
//!     .list_app_share_info(1000002)
//!     .business_type(1)
//!     .await?;
//! for corp in &shares.corp_list {
//!     // The same client, acting as the downstream corp.
//!     let downstream = client.downstream(&corp.corpid, corp.agentid)?;
//!     println!("{}: token expires {:?}", corp.corpid, downstream.cached_token_expiry());
//! }
//! # Ok(()) }
//! ```
//!
//! [`Client::downstream`]: wecom_core_auth::Client::downstream

pub mod generated;

pub use generated::corpgroup::*;
pub use wecom_core_auth::generated::auth::{
    CorpgroupCorpGettokenRequest, CorpgroupCorpGettokenResponse,
};
