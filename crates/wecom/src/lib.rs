//! # wecom: the WeCom (企业微信) SDK for self-built apps
//!
//! One dependency for a company's own WeCom app (自建应用): access tokens cached and refreshed
//! ahead of expiry (single flight, optional Redis sharing), typed errors that say what to do,
//! the callback protocol (WXBizMsgCrypt, typed events, passive replies, an axum router),
//! OAuth2 web login and JS-SDK signatures. Every endpoint is declared once in the project's
//! spec and generated, so requests are checked against WeCom's limits before any I/O.
//!
//! ```no_run
//! use wecom::prelude::*;
//!
//! # async fn run() -> Result<(), wecom::Error> {
//! let client = Client::builder("ww0123456789abcdef")              // your corpid
//!     .app(1000002, Secret::new(std::env::var("WECOM_SECRET").unwrap_or_default()))
//!     .build()?;                                                  // tokens: cached, refreshed ahead
//! let member = client.contacts().user_get("zhangsan").await?;     // typed answer or typed error
//! let receipt = Message::text(format!("Hello {}", member.name.unwrap_or_default()))
//!     .to(Recipients::user(&member.userid))                      // checked before any I/O
//!     .send(&client)
//!     .await?;
//! println!("sent, msgid {:?}, all delivered: {}", receipt.msgid, receipt.is_complete());
//! # Ok(()) }
//! ```
//!
//! Errors say what happened and how to fix it, with WeCom's errcode explained:
//!
//! ```
//! use wecom::ErrorCode;
//! let code = ErrorCode::new(60020);
//! assert_eq!(code.class().as_str(), "permission");
//! assert!(code.fix().is_some_and(|fix| fix.contains("IP")));
//! ```
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | HTTPS to `qyapi.weixin.qq.com` (rustls + ring); without it only plain http (the sandbox) |
//! | `contacts` | yes | [`contacts`]: departments, members, tags, batch jobs, apps, menus, visible scope |
//! | `messages` | yes | [`messages`]: every message type, recall, template cards, media, app chats, robots |
//! | `callback` | yes | [`callback`]: crypto, typed inbound messages and events, passive replies |
//! | `wedrive` | no | `wedrive`: 微盘 spaces and files, streamed block uploads, ranged downloads; wedoc basics |
//! | `msgaudit` | no | `msgaudit`: 会话内容存档 HTTP part (archived members, agreement checks, archived groups) |
//! | `msgaudit-finance` | no | `msgaudit::finance`: chat content over your binding of Tencent's Finance SDK (RSA key decryption, typed messages, pull loop) |
//! | `invoice` | no | `invoice`: 电子发票 (read chosen invoices, lock / unlock / close them) |
//! | `axum` | no | `callback::router`: an axum router for the callback URL, with de-duplication |
//! | `redis` | no | `auth::RedisTokenStore` (tokens shared by several instances), `callback::RedisDedup` |
//!
//! ## Crates
//!
//! | module | crate | contents |
//! |---|---|---|
//! | [`auth`] | `wecom-core-auth` | [`Client`], tokens and tickets, errors, retries, uploads, OAuth2, JS-SDK |
//! | [`contacts`] | `wecom-contacts` | `client.contacts()`, [`contacts::scope`] (who an app can see, and why) |
//! | [`messages`] | `wecom-messages` | [`messages::Message`], [`messages::Media`], [`messages::BulkSender`], `client.messages()` |
//! | [`callback`] | `wecom-callback` | callback crypto, [`callback::Inbound`], [`callback::Reply`], router |
//! | `wedrive` | `wecom-wedrive` | `client.wedrive()`, `wedrive::Drive` (block uploads, ranged downloads) |
//! | `msgaudit` | `wecom-msgaudit` | `client.msgaudit()`, `msgaudit::finance` (feature `msgaudit-finance`) |
//! | `invoice` | `wecom-invoice` | `client.invoice()` |
//!
//! ## Examples
//!
//! `crates/wecom/examples/` has one program per area. Each talks to the corp configured in
//! `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and `WECOM_CONTACT_SECRET`,
//! `WECOM_BASE_URL`), and to an embedded sandbox (a local fake WeCom) when none is configured:
//!
//! ```text
//! cargo run -p wecom --example tokens
//! cargo run -p wecom --example contacts
//! cargo run -p wecom --example messages
//! cargo run -p wecom --example callback
//! cargo run -p wecom --example wedrive --features wedrive
//! cargo run -p wecom --example msgaudit --features msgaudit
//! ```

/// Transport, credentials, the token and ticket cache, errors, retries, OAuth2 and JS-SDK
/// (the `wecom-core-auth` crate).
pub use wecom_core_auth as auth;

/// Departments, members, tags, batch jobs, apps, menus and the visible-scope resolver
/// (the `wecom-contacts` crate).
#[cfg(feature = "contacts")]
pub use wecom_contacts as contacts;

/// Every message type, recall, template cards, media, app chats, group robots and bulk sending
/// (the `wecom-messages` crate).
#[cfg(feature = "messages")]
pub use wecom_messages as messages;

/// 微盘 (WeDrive): spaces, members, files, streamed block uploads and ranged downloads, and the
/// 文档 (wedoc) basics (the `wecom-wedrive` crate).
#[cfg(feature = "wedrive")]
pub use wecom_wedrive as wedrive;

/// Callbacks: crypto, typed inbound messages and events, passive replies and (feature `axum`)
/// an axum router (the `wecom-callback` crate).
#[cfg(feature = "externalcontact")]
pub use wecom_externalcontact as externalcontact;

#[cfg(feature = "oa")]
pub use wecom_oa as oa;

#[cfg(feature = "kf")]
pub use wecom_kf as kf;

/// 会话内容存档 (message archive): archived members, agreement checks, archived groups, and
/// (feature `msgaudit-finance`) the chat content over Tencent's Finance SDK (the `wecom-msgaudit`
/// crate).
#[cfg(feature = "msgaudit")]
pub use wecom_msgaudit as msgaudit;

/// 电子发票 (electronic invoices for reimbursement) (the `wecom-invoice` crate).
#[cfg(feature = "invoice")]
pub use wecom_invoice as invoice;

/// 家校沟通 (school): students, parents, classes, the parent/student OAuth identity, 学校通知
/// (the `wecom-school` crate).
#[cfg(feature = "school")]
pub use wecom_school as school;

/// 上下游 / 企业互联: apps shared with downstream corps and downstream mini-program sessions (the
/// `wecom-corpgroup` crate). Acting as a downstream corp is [`Client::downstream`].
#[cfg(feature = "corpgroup")]
pub use wecom_corpgroup as corpgroup;

#[cfg(feature = "callback")]
pub use wecom_callback as callback;

pub use wecom_core_auth::generated::errcodes::{ErrorClass, ErrorCode};
pub use wecom_core_auth::{BusinessType, Client, ClientBuilder, Error, Secret, SystemApp};

/// The names most programs need: `use wecom::prelude::*;`.
/// Every endpoint of the enabled areas that can be called with JSON (the `CALLS` table `cargo xtask
/// gen` writes into each area), for tools that call endpoints by name: `wecom api user_get -f
/// userid=zhangsan` reads the typed request from JSON, runs its `validate()` and sends it.
///
/// ```
/// let names: Vec<&str> = wecom::json_endpoints().map(|e| e.meta.name).collect();
/// assert!(names.contains(&"gettoken"));
/// ```
pub fn json_endpoints() -> impl Iterator<Item = &'static wecom_core_auth::JsonEndpoint> {
    let tables: &[&[wecom_core_auth::JsonEndpoint]] = &[
        wecom_core_auth::generated::auth::CALLS,
        #[cfg(feature = "contacts")]
        wecom_contacts::generated::contacts::CALLS,
        #[cfg(feature = "messages")]
        wecom_messages::generated::messages::CALLS,
        #[cfg(feature = "externalcontact")]
        wecom_externalcontact::generated::externalcontact::CALLS,
        #[cfg(feature = "oa")]
        wecom_oa::generated::oa::CALLS,
        #[cfg(feature = "kf")]
        wecom_kf::generated::kf::CALLS,
        #[cfg(feature = "wedrive")]
        wecom_wedrive::generated::wedrive::CALLS,
        #[cfg(feature = "msgaudit")]
        wecom_msgaudit::generated::msgaudit::CALLS,
        #[cfg(feature = "invoice")]
        wecom_invoice::generated::invoice::CALLS,
        #[cfg(feature = "school")]
        wecom_school::generated::school::CALLS,
        #[cfg(feature = "corpgroup")]
        wecom_corpgroup::generated::corpgroup::CALLS,
    ];
    tables.iter().flat_map(|t| t.iter())
}

pub mod prelude {
    pub use wecom_core_auth::generated::auth::AuthExt as _;
    pub use wecom_core_auth::generated::errcodes::{ErrorClass, ErrorCode};
    pub use wecom_core_auth::jssdk::{WxAgentConfig, WxConfig};
    pub use wecom_core_auth::oauth::OAuthScope;
    pub use wecom_core_auth::{
        Client, ClientBuilder, Error, RetryPolicy, Secret, SystemApp, Upload,
    };

    #[cfg(feature = "contacts")]
    pub use wecom_contacts::ContactsExt as _;
    #[cfg(feature = "contacts")]
    pub use wecom_contacts::scope::{Directory, ScopeRules, VisibleScope};

    #[cfg(feature = "messages")]
    pub use wecom_messages::MessagesExt as _;
    #[cfg(feature = "messages")]
    pub use wecom_messages::{BulkSender, Media, Message, Receipt, Recipients};

    #[cfg(feature = "externalcontact")]
    pub use wecom_externalcontact::ExternalcontactExt as _;

    #[cfg(feature = "oa")]
    pub use wecom_oa::OaExt as _;

    #[cfg(feature = "kf")]
    pub use wecom_kf::KfExt as _;

    #[cfg(feature = "wedrive")]
    pub use wecom_wedrive::WedriveExt as _;

    #[cfg(feature = "corpgroup")]
    pub use wecom_corpgroup::CorpgroupExt as _;
    #[cfg(feature = "wedrive")]
    pub use wecom_wedrive::{Drive, DriveError};

    #[cfg(feature = "msgaudit")]
    pub use wecom_msgaudit::MsgauditExt as _;

    #[cfg(feature = "invoice")]
    pub use wecom_invoice::InvoiceExt as _;

    #[cfg(feature = "school")]
    pub use wecom_school::SchoolExt as _;

    #[cfg(feature = "callback")]
    pub use wecom_callback::{CallbackCrypto, CallbackError, Event, EventKind, Inbound, Reply};
}
