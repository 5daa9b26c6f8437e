//! The admin side: [`Admin`] for Rust tests, and the same operations over HTTP under `/sandbox/`.
//!
//! Every route here and the web page answer only requests whose `Host` (and `Origin`, when
//! sent) is a loopback name (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`) or one allowed
//! with [`SandboxBuilder::admin_hosts`](crate::SandboxBuilder::admin_hosts); POSTs need
//! `Content-Type: application/json` (the page's own forms need a same-site `Origin` instead), so
//! a web page in the browser cannot drive the sandbox (see `guard.rs`).
//!
//! | method + path | body / query | does |
//! |---|---|---|
//! | `GET /sandbox/state` | | corp summary, counters, faults, limits, clock offset |
//! | `GET /sandbox/counters` | | calls per endpoint, `gettoken` first |
//! | `POST /sandbox/counters/reset` | | zeroes the counters |
//! | `GET /sandbox/corp` | `?format=toml` | the corp (JSON by default), secrets masked |
//! | `GET /sandbox/inbox/{userid}` | | the member's delivered messages |
//! | `GET /sandbox/robots` | | group robot messages |
//! | `GET /sandbox/media` / `GET /sandbox/media/{id}` | | uploaded media list / bytes |
//! | `GET /sandbox/callbacks` | | the callback log |
//! | `POST /sandbox/tokens/revoke` | `{"target": "all" \| "contact" \| 1000002}` | revokes tokens (40014 after) |
//! | `POST /sandbox/tokens/ttl` | `{"seconds": 60}` | lifetime of tokens issued from now |
//! | `POST /sandbox/time/advance` | `{"seconds": 7200}` | moves the sandbox clock forward |
//! | `POST /sandbox/faults` | a [`Fault`] | injects a fault |
//! | `POST /sandbox/faults/clear` | `{"endpoint": "user_get"}` or `{}` | removes faults |
//! | `POST /sandbox/rate-limits` | [`RateLimits`] | switches limits on/off |
//! | `POST /sandbox/oauth/code` | `{"userid", "agentid", "privateinfo"}` or `{"openid", "agentid"}` | mints an OAuth2 code |
//! | `POST /sandbox/jscode` | `{"userid", "agentid"}` | mints a mini-program js_code |
//! | `POST /sandbox/members/{userid}/send` | `{"agentid", "content"}` | the member sends a text to the app (callback) |
//! | `POST /sandbox/members/{userid}/click` | `{"agentid", "key"}` | the member taps a menu item (callback) |
//! | `POST /sandbox/directory` | a [`DirectoryChange`] | changes the directory (change_contact callbacks) |
//! | `POST /sandbox/apps/{agentid}/callback` | a [`CallbackConfig`] or `null` | sets the app's callback (URL verified first) |
//! | `POST /sandbox/contact-callback` | a [`CallbackConfig`] or `null` | sets the contact-sync assistant's callback |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wecom_callback::{
    ContactChange, ContactUser, Event, EventKind, Header, Inbound, Message, MessageBody, Party,
    TagChange,
};

use crate::callbacks::{CallbackRecord, CallbackSettings, VerifyError};
use crate::corp::{Actor, CallbackConfig, Corp, CorpError, Member};
use crate::faults::Fault;
use crate::limits::RateLimits;
use crate::server::App;
use crate::state::{State, lock};
use crate::store::{DeliveredMessage, Media, RobotMessage};

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
            AdminError::Verify(_) => (StatusCode::BAD_REQUEST, 40057),
            AdminError::Invalid(_) => (StatusCode::BAD_REQUEST, 40058),
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

/// Who signs in through an OAuth2 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OAuthLogin {
    /// A member; `privateinfo` (scope snsapi_privateinfo) also yields a `user_ticket`.
    Member {
        /// The member.
        userid: String,
        /// Whether the scope was snsapi_privateinfo.
        #[serde(default)]
        privateinfo: bool,
    },
    /// Someone outside the corp.
    NonMember {
        /// Their openid.
        openid: String,
        /// Their external contact id, when they are one.
        #[serde(default)]
        external_userid: Option<String>,
    },
}

/// A change to the directory made "in the WeCom admin console": applied, then pushed as
/// `change_contact` to the contact-sync callback and to the apps that can see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DirectoryChange {
    /// A new member.
    CreateMember {
        /// The member.
        member: Box<Member>,
    },
    /// Changed fields of a member, as JSON (`{"position": "CTO"}`; `userid` renames).
    UpdateMember {
        /// The member.
        userid: String,
        /// Fields to set.
        fields: serde_json::Map<String, Value>,
    },
    /// A deleted member.
    DeleteMember {
        /// The member.
        userid: String,
    },
    /// A new department.
    CreateDepartment {
        /// Name.
        name: String,
        /// Parent.
        parentid: u32,
        /// Id (next free when absent).
        #[serde(default)]
        id: Option<u32>,
    },
    /// A changed department.
    UpdateDepartment {
        /// The department.
        id: u32,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New parent.
        #[serde(default)]
        parentid: Option<u32>,
    },
    /// A deleted department.
    DeleteDepartment {
        /// The department.
        id: u32,
    },
    /// Members and departments added to a tag.
    AddTagItems {
        /// The tag.
        tagid: u32,
        /// Userids.
        #[serde(default)]
        users: Vec<String>,
        /// Department ids.
        #[serde(default)]
        parties: Vec<u32>,
    },
    /// Members and departments removed from a tag.
    RemoveTagItems {
        /// The tag.
        tagid: u32,
        /// Userids.
        #[serde(default)]
        users: Vec<String>,
        /// Department ids.
        #[serde(default)]
        parties: Vec<u32>,
    },
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

fn member_to_contact_user(m: &Member) -> ContactUser {
    ContactUser {
        user_id: m.userid.clone(),
        name: Some(m.name.clone()),
        department: Some(m.department.iter().map(|d| i64::from(*d)).collect()),
        main_department: Some(i64::from(m.main_department())),
        is_leader_in_dept: (!m.is_leader_in_dept.is_empty())
            .then(|| m.is_leader_in_dept.iter().map(|v| i64::from(*v)).collect()),
        mobile: (!m.mobile.is_empty()).then(|| m.mobile.clone()),
        position: (!m.position.is_empty()).then(|| m.position.clone()),
        gender: m.gender.parse().ok(),
        email: (!m.email.is_empty()).then(|| m.email.clone()),
        status: Some(i64::from(m.status)),
        alias: (!m.alias.is_empty()).then(|| m.alias.clone()),
        ..ContactUser::default()
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
                tokens.revoke(|a| *a == Actor::Contact, now)
            }
            TokenTarget::App(id) => tokens.revoke(|a| *a == Actor::App(id), now),
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
        crate::areas::auth::mint_oauth_code(&self.state, login, agentid)
    }

    /// Mints a mini-program `js_code` for `userid` in app `agentid` (for miniprogram/jscode2session).
    pub fn mint_js_code(&self, userid: &str, agentid: u32) -> Result<String, AdminError> {
        crate::areas::auth::mint_js_code(&self.state, userid, agentid)
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
        // (event, members and departments it concerns, before and after)
        let (event, users, parties) = {
            let mut corp = self.state.corp_mut();
            match change {
                DirectoryChange::CreateMember { member } => {
                    corp.create_member((*member).clone())?;
                    let m = corp.member(&member.userid)?;
                    (
                        ContactChange::CreateUser(Box::new(member_to_contact_user(m))),
                        vec![m.userid.clone()],
                        vec![],
                    )
                }
                DirectoryChange::UpdateMember { userid, fields } => {
                    let before = corp.member(&userid)?.clone();
                    let mut value = serde_json::to_value(&before)
                        .map_err(|e| AdminError::Invalid(e.to_string()))?;
                    if let Value::Object(obj) = &mut value {
                        for (k, v) in fields {
                            obj.insert(k, v);
                        }
                    }
                    let updated: Member = serde_json::from_value(value).map_err(|e| {
                        AdminError::Invalid(format!("fields do not fit a member: {e}"))
                    })?;
                    let after = corp.update_member(&userid, |m| *m = updated)?.clone();
                    let mut cu = member_to_contact_user(&after);
                    cu.user_id = before.userid.clone();
                    if !after.userid.eq_ignore_ascii_case(&before.userid)
                        || after.userid != before.userid
                    {
                        cu.new_user_id = Some(after.userid.clone());
                    }
                    (
                        ContactChange::UpdateUser(Box::new(cu)),
                        vec![after.userid.clone(), before.userid],
                        vec![],
                    )
                }
                DirectoryChange::DeleteMember { userid } => {
                    let m = corp.member(&userid)?.userid.clone();
                    (
                        ContactChange::DeleteUser { user_id: m.clone() },
                        vec![m],
                        vec![],
                    )
                }
                DirectoryChange::CreateDepartment { name, parentid, id } => {
                    let id = corp.create_department(&name, "", parentid, 0, id)?;
                    let d = corp.department(id)?;
                    let party = Party {
                        id: i64::from(id),
                        name: Some(d.name.clone()),
                        parent_id: Some(i64::from(d.parentid)),
                        order: Some(i64::from(d.order)),
                    };
                    (
                        ContactChange::CreateParty(party),
                        vec![],
                        vec![id, parentid],
                    )
                }
                DirectoryChange::UpdateDepartment { id, name, parentid } => {
                    corp.update_department(id, name.as_deref(), None, parentid, None)?;
                    let party = Party {
                        id: i64::from(id),
                        name,
                        parent_id: parentid.map(i64::from),
                        order: None,
                    };
                    (ContactChange::UpdateParty(party), vec![], vec![id])
                }
                DirectoryChange::DeleteDepartment { id } => {
                    corp.department(id)?;
                    (
                        ContactChange::DeleteParty { id: i64::from(id) },
                        vec![],
                        vec![id],
                    )
                }
                DirectoryChange::AddTagItems {
                    tagid,
                    users,
                    parties,
                } => {
                    let r = corp
                        .add_tag_items(tagid, Actor::Contact, &users, &parties)
                        .or_else(|e| match e {
                            // The admin console may change any tag.
                            CorpError::NotTagOwner(_) => {
                                let owner = corp
                                    .tag(tagid)?
                                    .creator
                                    .map(Actor::App)
                                    .unwrap_or(Actor::Contact);
                                corp.add_tag_items(tagid, owner, &users, &parties)
                            }
                            other => Err(other),
                        })?;
                    let add_users: Vec<String> = users
                        .iter()
                        .filter(|u| !r.invalid_users.contains(u))
                        .cloned()
                        .collect();
                    let add_parties: Vec<u32> = parties
                        .iter()
                        .filter(|p| !r.invalid_parties.contains(p))
                        .copied()
                        .collect();
                    let change = TagChange {
                        tag_id: i64::from(tagid),
                        add_user_items: add_users.clone(),
                        add_party_items: add_parties.iter().map(|p| i64::from(*p)).collect(),
                        ..TagChange::default()
                    };
                    (ContactChange::UpdateTag(change), add_users, add_parties)
                }
                DirectoryChange::RemoveTagItems {
                    tagid,
                    users,
                    parties,
                } => {
                    let owner = corp
                        .tag(tagid)?
                        .creator
                        .map(Actor::App)
                        .unwrap_or(Actor::Contact);
                    let r = corp.remove_tag_items(tagid, owner, &users, &parties)?;
                    let del_users: Vec<String> = users
                        .iter()
                        .filter(|u| !r.invalid_users.contains(u))
                        .cloned()
                        .collect();
                    let del_parties: Vec<u32> = parties
                        .iter()
                        .filter(|p| !r.invalid_parties.contains(p))
                        .copied()
                        .collect();
                    let change = TagChange {
                        tag_id: i64::from(tagid),
                        del_user_items: del_users.clone(),
                        del_party_items: del_parties.iter().map(|p| i64::from(*p)).collect(),
                        ..TagChange::default()
                    };
                    (ContactChange::UpdateTag(change), del_users, del_parties)
                }
            }
        };
        // Who hears about it: decided before deletions take effect, so a deleted member's apps learn of it.
        let targets = self.change_targets(&users, &parties);
        {
            let mut corp = self.state.corp_mut();
            match &event {
                ContactChange::DeleteUser { user_id } => {
                    corp.delete_member(user_id)?;
                }
                ContactChange::DeleteParty { id } => {
                    corp.delete_department(u32::try_from(*id).unwrap_or(0))?;
                }
                _ => {}
            }
        }
        let corpid = self.state.corp().corpid().to_owned();
        let now = self.state.now_secs();
        let mut records = Vec::new();
        for (agentid, cfg) in targets {
            let xml = Inbound::Event(Event {
                header: Header {
                    to_user_name: corpid.clone(),
                    from_user_name: "sys".into(),
                    create_time: now,
                    agent_id: agentid.map(i64::from),
                },
                kind: EventKind::ChangeContact(event.clone()),
            })
            .to_xml();
            records.push(
                self.state
                    .callbacks
                    .push(&cfg, &corpid, agentid, &xml, now)
                    .await,
            );
        }
        Ok(records)
    }

    fn change_targets(
        &self,
        users: &[String],
        parties: &[u32],
    ) -> Vec<(Option<u32>, CallbackConfig)> {
        let corp = self.state.corp();
        let mut out = Vec::new();
        if let Some(cfg) = corp.contact_callback() {
            out.push((None, cfg.clone()));
        }
        for app in corp.apps() {
            let Some(cfg) = &app.callback else { continue };
            let scope = corp.scope(Actor::App(app.agentid));
            let sees = users.iter().any(|u| scope.contains_user(u))
                || parties.iter().any(|p| scope.contains_department(*p));
            if sees || (users.is_empty() && parties.is_empty()) {
                out.push((Some(app.agentid), cfg.clone()));
            }
        }
        out
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

// ---------------------------------------------------------------------------------------------
// HTTP

fn admin(app: &App) -> Admin {
    Admin::new(Arc::clone(&app.state))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

async fn state_get(AxState(app): AxState<App>) -> Response {
    let a = admin(&app);
    let corp = a.corp();
    let limits = lock(&app.state.limiter).limits().clone();
    ok(json!({
        "corpid": corp.corpid(),
        "name": corp.name(),
        "departments": corp.departments().count(),
        "members": corp.members().count(),
        "tags": corp.tags().count(),
        "apps": corp.apps().map(|x| json!({"agentid": x.agentid, "name": x.name})).collect::<Vec<_>>(),
        "counters": a.counters().into_iter().map(|(k, v)| json!({"endpoint": k, "calls": v})).collect::<Vec<_>>(),
        "faults": a.faults(),
        "rate_limits": limits,
        "clock_offset_secs": app.state.clock().offset_secs(),
        "now": app.state.now_secs(),
        "endpoints": app.registry.names(),
    }))
}

async fn counters_get(AxState(app): AxState<App>) -> Response {
    let list: Vec<Value> = admin(&app)
        .counters()
        .into_iter()
        .map(|(k, v)| json!({"endpoint": k, "calls": v}))
        .collect();
    ok(json!({ "counters": list }))
}

async fn counters_reset(AxState(app): AxState<App>) -> Response {
    admin(&app).reset_counters();
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

async fn corp_get(AxState(app): AxState<App>, Query(q): Query<FormatQuery>) -> Response {
    // Secrets are masked: this page is readable by anything that can reach the admin API.
    let file = admin(&app).corp().to_masked_file();
    let (text, content_type) = if q.format.as_deref() == Some("toml") {
        (
            toml::to_string_pretty(&file).unwrap_or_default(),
            "application/toml; charset=utf-8",
        )
    } else {
        (
            serde_json::to_string_pretty(&file).unwrap_or_default(),
            "application/json",
        )
    };
    let mut r = text.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn inbox_get(AxState(app): AxState<App>, Path(userid): Path<String>) -> Response {
    ok(json!({ "userid": userid, "messages": admin(&app).inbox(&userid) }))
}

async fn robots_get(AxState(app): AxState<App>) -> Response {
    ok(json!({ "messages": admin(&app).robot_messages() }))
}

async fn media_list(AxState(app): AxState<App>) -> Response {
    ok(json!({ "media": admin(&app).media() }))
}

async fn media_get(AxState(app): AxState<App>, Path(id): Path<String>) -> Response {
    match app.state.media(&id) {
        Some(m) => {
            let mut r = axum::body::Body::from(m.bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&m.content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"errcode": 40007, "errmsg": "invalid media_id"})),
        )
            .into_response(),
    }
}

async fn callbacks_get(AxState(app): AxState<App>) -> Response {
    ok(json!({ "callbacks": admin(&app).callback_log() }))
}

#[derive(Deserialize)]
struct RevokeBody {
    #[serde(default = "all_target")]
    target: TokenTarget,
}

fn all_target() -> TokenTarget {
    TokenTarget::Named(NamedTarget::All)
}

async fn tokens_revoke(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: RevokeBody = parse_json(&body)?;
    Ok(ok(
        json!({ "revoked": admin(&app).revoke_tokens(b.target) }),
    ))
}

#[derive(Deserialize)]
struct SecondsBody {
    seconds: i64,
}

async fn tokens_ttl(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: SecondsBody = parse_json(&body)?;
    admin(&app).set_token_ttl(b.seconds.max(1) as u64);
    Ok(ok(json!({ "ttl": b.seconds.max(1) })))
}

async fn time_advance(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: SecondsBody = parse_json(&body)?;
    admin(&app).advance_time(b.seconds);
    Ok(ok(
        json!({ "now": app.state.now_secs(), "offset": app.state.clock().offset_secs() }),
    ))
}

async fn faults_add(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let f: Fault = parse_json(&body)?;
    admin(&app).add_fault(f);
    Ok(ok(json!({ "faults": admin(&app).faults() })))
}

#[derive(Deserialize)]
struct ClearBody {
    endpoint: Option<String>,
}

async fn faults_clear(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: ClearBody = parse_json(&body)?;
    Ok(ok(
        json!({ "removed": admin(&app).clear_faults(b.endpoint.as_deref()) }),
    ))
}

async fn limits_set(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let l: RateLimits = parse_json(&body)?;
    admin(&app).set_rate_limits(l.clone());
    Ok(ok(json!({ "rate_limits": l })))
}

#[derive(Deserialize)]
struct CodeBody {
    agentid: u32,
    #[serde(flatten)]
    login: OAuthLogin,
}

async fn oauth_code(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: CodeBody = parse_json(&body)?;
    Ok(ok(
        json!({ "code": admin(&app).mint_oauth_code(b.login, b.agentid)? }),
    ))
}

#[derive(Deserialize)]
struct JsCodeBody {
    agentid: u32,
    userid: String,
}

async fn js_code(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: JsCodeBody = parse_json(&body)?;
    Ok(ok(
        json!({ "js_code": admin(&app).mint_js_code(&b.userid, b.agentid)? }),
    ))
}

#[derive(Deserialize)]
struct SendBody {
    agentid: u32,
    content: String,
}

async fn member_send(
    AxState(app): AxState<App>,
    Path(userid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: SendBody = parse_json(&body)?;
    Ok(ok(
        json!({ "callbacks": admin(&app).member_sends_text(&userid, b.agentid, &b.content).await? }),
    ))
}

#[derive(Deserialize)]
struct ClickBody {
    agentid: u32,
    key: String,
}

async fn member_click(
    AxState(app): AxState<App>,
    Path(userid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: ClickBody = parse_json(&body)?;
    Ok(ok(
        json!({ "callbacks": admin(&app).member_clicks(&userid, b.agentid, &b.key).await? }),
    ))
}

async fn directory_change(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: DirectoryChange = parse_json(&body)?;
    Ok(ok(
        json!({ "callbacks": admin(&app).change_directory(c).await? }),
    ))
}

async fn app_callback(
    AxState(app): AxState<App>,
    Path(agentid): Path<u32>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: Option<CallbackConfig> = if body.trim_ascii() == b"null" {
        None
    } else {
        Some(parse_json(&body)?)
    };
    admin(&app).set_app_callback(agentid, c).await?;
    Ok(ok(json!({"ok": true})))
}

async fn contact_callback(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: Option<CallbackConfig> = if body.trim_ascii() == b"null" {
        None
    } else {
        Some(parse_json(&body)?)
    };
    admin(&app).set_contact_callback(c).await?;
    Ok(ok(json!({"ok": true})))
}

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/state", get(state_get))
        .route("/sandbox/counters", get(counters_get))
        .route("/sandbox/counters/reset", post(counters_reset))
        .route("/sandbox/corp", get(corp_get))
        .route("/sandbox/inbox/{userid}", get(inbox_get))
        .route("/sandbox/robots", get(robots_get))
        .route("/sandbox/media", get(media_list))
        .route("/sandbox/media/{id}", get(media_get))
        .route("/sandbox/callbacks", get(callbacks_get))
        .route("/sandbox/tokens/revoke", post(tokens_revoke))
        .route("/sandbox/tokens/ttl", post(tokens_ttl))
        .route("/sandbox/time/advance", post(time_advance))
        .route("/sandbox/faults", post(faults_add))
        .route("/sandbox/faults/clear", post(faults_clear))
        .route("/sandbox/rate-limits", post(limits_set))
        .route("/sandbox/oauth/code", post(oauth_code))
        .route("/sandbox/jscode", post(js_code))
        .route("/sandbox/members/{userid}/send", post(member_send))
        .route("/sandbox/members/{userid}/click", post(member_click))
        .route("/sandbox/directory", post(directory_change))
        .route("/sandbox/apps/{agentid}/callback", post(app_callback))
        .route("/sandbox/contact-callback", post(contact_callback))
}
