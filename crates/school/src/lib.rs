//! # wecom-school
//!
//! 家校沟通 (school) for a WeCom (企业微信) self-built app: the school directory (students,
//! parents and the classes, grades, stages and campuses they belong to), its tag sync setting,
//! the parent/student identity of an OAuth sign-in (`school/getuserinfo`), 上课直播 statistics and
//! 学校通知 (`externalcontact/message/send`). The endpoints are generated from `spec/school.toml`
//! ([`generated::school`], re-exported here) and reachable as `client.school()` ([`SchoolExt`]).
//!
//! Which secret: the pages say the app must be listed under 家校沟通 (「读取和编辑家校通讯录的应用」
//! for writes, also 「读取家校通讯录的应用」 / 「家长可使用应用」 for reads), and that since 2023-12-01
//! the 家校沟通 system secret works only for corps that used it before. The client uses that
//! secret when [`ClientBuilder::system_secret`](wecom_core_auth::ClientBuilder::system_secret)
//! set it for [`SystemApp::School`](wecom_core_auth::SystemApp::School), else the selected app's
//! token.
//!
//! Batch calls take at most 100 students or parents; larger lists are refused before any I/O
//! (65012 / 65011), and WeCom's answer lists the items that failed ([`StudentResult`],
//! [`ParentResult`]).
//!
//! ```no_run
//! use wecom_school::{SchoolChild, SchoolExt};
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! client.school().student_create("xiaoming", "小明", vec![11]).await?;
//! client
//!     .school()
//!     .parent_create("xiaoming_mama", "13800001111", vec![SchoolChild::new("xiaoming", "妈妈")])
//!     .await?;
//! let students = client.school().student_list(11).await?.students;
//! # let _ = students; Ok(()) }
//! ```

pub mod generated;
pub mod rules;

pub use generated::school::*;
