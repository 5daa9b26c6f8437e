//! # wecom-oa
//!
//! Office automation (审批, 打卡, 汇报, 日程, 会议室, 直播, 公费电话, 会议, 健康上报, 邮件) for WeCom self-built apps. The endpoints are generated from `spec/oa.toml`
//! ([`generated::oa`], re-exported here) and reachable as `client.oa()`.
//!
//! ```no_run
//! use wecom_oa::*;
//! # fn demo(client: &wecom_core_auth::Client) {
//! let _area = client.oa();
//! # }
//! ```

pub mod approval;
pub mod calendar;
pub mod checkin;
pub mod generated;
pub mod health;
pub mod journal;
pub mod mail;
pub mod meeting;
pub mod meetingroom;
pub mod schedule;

pub use generated::oa::*;
