//! Control and observation of a running sandbox, in three parts:
//! - [`Admin`] (here): the operations, in process, for Rust tests;
//! - `routes`: the same operations over HTTP under `/sandbox/` (the table of routes is there);
//! - `directory`: the directory-change engine behind [`Admin::change_directory`].

mod directory;
pub(crate) mod routes;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wecom_callback::{Event, EventKind, Header, Inbound, Message, MessageBody};

pub use crate::areas::auth::OAuthLogin;
use crate::callbacks::{CallbackRecord, CallbackSettings, VerifyError};
use crate::corp::{Actor, CallbackConfig, Corp, CorpError};
use crate::faults::Fault;
use crate::limits::RateLimits;
use crate::state::{State, TokenOwner, lock};
use crate::store::{DeliveredMessage, Media, RobotMessage};
pub use directory::DirectoryChange;
use wecom_core_auth::ErrorCode;

/// A failed admin operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// The directory refused the change (WeCom's rule and errcode).
    #[error("{0} (errcode {code})", code = .0.errcode())]
    Corp(#[from] CorpError),
    /// The callback URL failed verification.
    #[error("{0}")]
    Verify(#[from] VerifyError),
    /// The request itself is wrong.
    #[error("{0}")]
    Invalid(String),
}

impl AdminError {
    fn status_and_code(&self) -> (StatusCode, i64) {
        match self {
            AdminError::Corp(e) => (StatusCode::BAD_REQUEST, e.errcode()),
            AdminError::Verify(_) => (StatusCode::BAD_REQUEST, 40057), // not in spec/errcodes.toml
            AdminError::Invalid(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::INVALID_PARAMETER.code())
            }
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        (
            status,
            axum::Json(json!({"errcode": code, "errmsg": self.to_string()})),
        )
            .into_response()
    }
}

/// Which tokens to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenTarget {
    /// `"all"` or `"contact"`.
    Named(NamedTarget),
    /// An app's agentid.
    App(u32),
}

/// `"all"` or `"contact"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedTarget {
    /// Every token.
    All,
    /// The contact-sync secret's tokens.
    Contact,
}

/// In-process control of a running sandbox (the same operations as the `/sandbox/` HTTP API).
#[derive(Clone)]
pub struct Admin {
    state: Arc<State>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("base_url", &self.state.base_url())
            .finish()
    }
}

impl Admin {
    pub(crate) fn new(state: Arc<State>) -> Self {
        Self { state }
    }

    /// The sandbox state (for area-level checks in tests).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Calls per endpoint name, `gettoken` first.
    pub fn counters(&self) -> Vec<(String, u64)> {
        self.state.counters()
    }

    /// Calls of one endpoint by spec name (`gettoken`, `user_get` ...).
    pub fn count(&self, endpoint: &str) -> u64 {
        self.state.count_of(endpoint)
    }

    /// Zeroes every counter.
    pub fn reset_counters(&self) {
        self.state.reset_counters();
    }

    /// A member's inbox, oldest first.
    pub fn inbox(&self, userid: &str) -> Vec<DeliveredMessage> {
        self.state.inbox(userid)
    }

    /// Delivers a message into a member's inbox directly (as if `agentid` had sent it), returning
    /// its msgid. For tests of the page and of code that reads inboxes.
    pub fn deliver(
        &self,
        agentid: u32,
        userid: &str,
        message: Value,
    ) -> Result<String, AdminError> {
        let canonical = self.state.corp().member(userid)?.userid.clone();
        let msgtype = message
            .get("msgtype")
            .and_then(Value::as_str)
            .unwrap_or("text")
            .to_owned();
        let msgid = self.state.next_msgid();
        self.state
            .deliver(agentid, &canonical, &msgid, &msgtype, message);
        Ok(msgid)
    }

    /// Empties every inbox and robot chat.
    pub fn clear_inboxes(&self) {
        self.state.clear_inboxes();
    }

    /// Group robot messages.
    pub fn robot_messages(&self) -> Vec<RobotMessage> {
        self.state.robot_messages()
    }

    /// Uploaded media (expired ones too).
    pub fn media(&self) -> Vec<Media> {
        self.state.media_list()
    }

    /// The callback log: every push with its attempts and outcome.
    pub fn callback_log(&self) -> Vec<CallbackRecord> {
        self.state.callbacks.log()
    }

    /// Changes the callback timeout and retries (WeCom: 5 s, 3 retries).
    pub fn set_callback_settings(&self, settings: CallbackSettings) {
        self.state.callbacks.set_settings(settings);
    }

    /// Revokes tokens: later calls with them answer 40014; returns how many valid ones were revoked.
    pub fn revoke_tokens(&self, target: TokenTarget) -> usize {
        let now = self.state.clock().now_ms();
        let mut tokens = lock(&self.state.tokens);
        match target {
            TokenTarget::Named(NamedTarget::All) => tokens.revoke(|_| true, now),
            TokenTarget::Named(NamedTarget::Contact) => {
                tokens.revoke(|a| *a == TokenOwner::Actor(Actor::Contact), now)
            }
            TokenTarget::App(id) => tokens.revoke(|a| *a == TokenOwner::Actor(Actor::App(id)), now),
        }
    }

    /// Lifetime of tokens issued from now on (seconds).
    pub fn set_token_ttl(&self, secs: u64) {
        lock(&self.state.tokens).set_ttl_secs(secs);
    }

    /// Moves the sandbox clock forward (tokens expire, codes age, rate windows roll).
    pub fn advance_time(&self, secs: i64) {
        self.state.clock().advance(secs);
    }

    /// Injects a fault.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.state.faults).add(fault);
    }

    /// Removes every fault, or those of one endpoint; returns how many were removed.
    pub fn clear_faults(&self, endpoint: Option<&str>) -> usize {
        lock(&self.state.faults).clear(endpoint)
    }

    /// The faults in force.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.state.faults).list().to_vec()
    }

    /// Switches rate limits on or off and sets them.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        lock(&self.state.limiter).set_limits(limits);
    }

    /// A copy of the corp.
    pub fn corp(&self) -> Corp {
        self.state.corp().clone()
    }

    /// Changes the corp directly (no callbacks); returns what `f` returns.
    pub fn with_corp<R>(&self, f: impl FnOnce(&mut Corp) -> R) -> R {
        f(&mut self.state.corp_mut())
    }

    /// Saves the corp to a file (`.json` or TOML).
    pub fn save_corp(&self, path: impl AsRef<std::path::Path>) -> Result<(), crate::SandboxError> {
        self.corp().save(path)
    }

    /// Mints an OAuth2 `code` for app `agentid` (valid 5 minutes, single use) as if the person
    /// had just signed in; `auth/getuserinfo` exchanges it.
    pub fn mint_oauth_code(&self, login: OAuthLogin, agentid: u32) -> Result<String, AdminError> {
        Ok(crate::areas::auth::mint_oauth_code(
            &self.state,
            login,
            agentid,
        )?)
    }

    /// Mints a mini-program `js_code` for `userid` in app `agentid` (for miniprogram/jscode2session).
    pub fn mint_js_code(&self, userid: &str, agentid: u32) -> Result<String, AdminError> {
        Ok(crate::areas::auth::mint_js_code(
            &self.state,
            userid,
            agentid,
        )?)
    }

    /// Sets (after WeCom's URL verification GET) or clears an app's callback.
    pub async fn set_app_callback(
        &self,
        agentid: u32,
        config: Option<CallbackConfig>,
    ) -> Result<(), AdminError> {
        self.state.corp().app(agentid)?;
        if let Some(cfg) = &config {
            let corpid = self.state.corp().corpid().to_owned();
            self.state
                .callbacks
                .verify(cfg, &corpid, self.state.now_secs())
                .await?;
        }
        self.state
            .corp_mut()
            .update_app(agentid, |a| a.callback = config)?;
        Ok(())
    }

    /// Sets (after the URL verification GET) or clears the contact-sync assistant's callback.
    pub async fn set_contact_callback(
        &self,
        config: Option<CallbackConfig>,
    ) -> Result<(), AdminError> {
        if let Some(cfg) = &config {
            let corpid = self.state.corp().corpid().to_owned();
            self.state
                .callbacks
                .verify(cfg, &corpid, self.state.now_secs())
                .await?;
        }
        self.state.corp_mut().set_contact_callback(config);
        Ok(())
    }

    fn app_sender_check(
        &self,
        userid: &str,
        agentid: u32,
    ) -> Result<(String, String, Option<CallbackConfig>), AdminError> {
        let corp = self.state.corp();
        let app = corp.app(agentid)?;
        let m = corp.check_user_visible(Actor::App(agentid), userid)?;
        Ok((
            corp.corpid().to_owned(),
            m.userid.clone(),
            app.callback.clone(),
        ))
    }

    async fn push_to_app(
        &self,
        corpid: &str,
        agentid: u32,
        cfg: Option<CallbackConfig>,
        xml: String,
    ) -> Vec<CallbackRecord> {
        match cfg {
            Some(cfg) => vec![
                self.state
                    .callbacks
                    .push(&cfg, corpid, Some(agentid), &xml, self.state.now_secs())
                    .await,
            ],
            None => Vec::new(),
        }
    }

    /// The member sends a text message to the app: pushed to the app's callback URL (nothing is
    /// pushed when it has none). Returns the push records.
    pub async fn member_sends_text(
        &self,
        userid: &str,
        agentid: u32,
        content: &str,
    ) -> Result<Vec<CallbackRecord>, AdminError> {
        let (corpid, userid, cfg) = self.app_sender_check(userid, agentid)?;
        let now = self.state.now_secs();
        let msg_id = format!("{}{:06}", now, rand::random::<u32>() % 1_000_000);
        let xml = Inbound::Message(Message {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: userid,
                create_time: now,
                agent_id: Some(i64::from(agentid)),
            },
            msg_id,
            body: MessageBody::Text {
                content: content.to_owned(),
            },
        })
        .to_xml();
        Ok(self.push_to_app(&corpid, agentid, cfg, xml).await)
    }

    /// The member taps the menu item with this key (or URL, for `view` items): the matching event
    /// is pushed to the app's callback URL.
    pub async fn member_clicks(
        &self,
        userid: &str,
        agentid: u32,
        key: &str,
    ) -> Result<Vec<CallbackRecord>, AdminError> {
        let (corpid, userid, cfg) = self.app_sender_check(userid, agentid)?;
        let menu = self
            .state
            .corp()
            .app(agentid)?
            .menu
            .clone()
            .unwrap_or(Value::Null);
        let item = menu_items(&menu)
            .into_iter()
            .find(|b| {
                b.get("key").and_then(Value::as_str) == Some(key)
                    || b.get("url").and_then(Value::as_str) == Some(key)
            })
            .ok_or_else(|| {
                AdminError::Invalid(format!(
                    "app {agentid} has no menu item with key or url {key:?}"
                ))
            })?;
        let kind = match item.get("type").and_then(Value::as_str).unwrap_or("click") {
            "view" => EventKind::View {
                event_key: key.to_owned(),
            },
            "scancode_push" => EventKind::ScancodePush {
                event_key: key.to_owned(),
                scan_code_info: wecom_callback::ScanCodeInfo {
                    scan_type: "qrcode".into(),
                    scan_result: "sandbox-scan".into(),
                },
            },
            "scancode_waitmsg" => EventKind::ScancodeWaitmsg {
                event_key: key.to_owned(),
                scan_code_info: wecom_callback::ScanCodeInfo {
                    scan_type: "qrcode".into(),
                    scan_result: "sandbox-scan".into(),
                },
            },
            "pic_sysphoto" => EventKind::PicSysphoto {
                event_key: key.to_owned(),
                send_pics_info: Default::default(),
            },
            "pic_photo_or_album" => EventKind::PicPhotoOrAlbum {
                event_key: key.to_owned(),
                send_pics_info: Default::default(),
            },
            "pic_weixin" => EventKind::PicWeixin {
                event_key: key.to_owned(),
                send_pics_info: Default::default(),
            },
            "location_select" => EventKind::LocationSelect {
                event_key: key.to_owned(),
                send_location_info: wecom_callback::SendLocationInfo {
                    location_x: 39.9042,
                    location_y: 116.4074,
                    scale: 15,
                    label: "北京市东城区".into(),
                    poiname: "天安门".into(),
                },
            },
            _ => EventKind::Click {
                event_key: key.to_owned(),
            },
        };
        let now = self.state.now_secs();
        let xml = Inbound::Event(Event {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: userid,
                create_time: now,
                agent_id: Some(i64::from(agentid)),
            },
            kind,
        })
        .to_xml();
        Ok(self.push_to_app(&corpid, agentid, cfg, xml).await)
    }

    /// Applies a directory change and pushes `change_contact` to the contact-sync callback and to
    /// every app with a callback that can see the changed member, department or tag.
    pub async fn change_directory(
        &self,
        change: DirectoryChange,
    ) -> Result<Vec<CallbackRecord>, AdminError> {
        directory::apply(&self.state, change).await
    }
}

/// Every leaf button of a menu (`{"button": [...]}`), sub-buttons included.
pub(crate) fn menu_items(menu: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    if let Some(buttons) = menu.get("button").and_then(Value::as_array) {
        for b in buttons {
            match b.get("sub_button").and_then(Value::as_array) {
                Some(subs) if !subs.is_empty() => out.extend(subs.iter()),
                _ => out.push(b),
            }
        }
    }
    out
}
