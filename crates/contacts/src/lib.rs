//! # wecom-contacts
//!
//! The corp directory and app management of WeCom (企业微信): departments, members, tags, batch
//! imports, agent settings, custom menus, and the app's visible scope.
//!
//! Every endpoint is generated from `spec/contacts.toml` ([`generated::contacts`], re-exported
//! here): a request struct checked against the spec's constraints before any I/O, a typed response,
//! and a method on [`Contacts`], which [`ContactsExt::contacts`] adds to the core client.
//!
//! Hand-written code adds what the spec cannot say:
//! - [`scope`]: the visible-scope resolver (who an app can see, and why), linear in the corp's size;
//!   [`Contacts::visible_scope`] fetches an app's rules and the directory and resolves them;
//! - [`Contacts::user_ids`]: `user/list_id` as a stream that follows `next_cursor` to the end
//!   (WeCom takes only the contact-sync secret there, doc 96067);
//! - [`Contacts::walk`]: the whole directory (departments, then members) with a progress callback,
//!   reading per department when the client has only app secrets ([`DirectorySnapshot::source`]);
//! - [`Contacts::department_move`]: a move refused before it is sent when it would make a cycle;
//! - [`menu`]: constructors for well-formed menu buttons (`MenuButton::click`, `::view`, `::group` ...).
//!
//! ```no_run
//! use wecom_contacts::ContactsExt;
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! // Required fields are arguments, optional ones setters; `.await` sends the call.
//! client
//!     .contacts()
//!     .user_create("zhangsan", "张三", [1])
//!     .mobile("13800000000")
//!     .await?;
//! let member = client.contacts().user_get("zhangsan").await?;
//! let tree = client.contacts().department_list().id(2).await?;
//! # let _ = tree;
//! assert_eq!(member.userid, "zhangsan");
//! # Ok(()) }
//! ```
//!
//! Directory writes (members, departments, batch jobs) need the contact-sync secret
//! (`ClientBuilder::contact_secret`); without it they fail before any request, naming that secret.
//! Reads use the contact-sync token when the client has it, otherwise the app's token, which only
//! sees the app's visible scope; `user/list_id` is the exception: only the contact-sync secret may
//! call it.

pub mod departments;
pub mod export;
pub mod generated;
pub mod menu;
pub mod rules;
pub mod scope;
mod walk;

pub use generated::contacts::*;
pub use scope::{Directory, Explanation, Reason, ScopeRules, Unresolved, VisibleScope};
pub use walk::{
    DirectorySnapshot, MAX_LIST_ID_PAGE, MemberDetail, MemberSource, WalkOptions, WalkPhase,
    WalkProgress,
};
