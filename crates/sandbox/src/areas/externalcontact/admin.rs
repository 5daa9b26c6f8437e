//! The admin side of part 1: a simulated customer scans a 联系我 contact way (the relationship
//! is created and `change_external_contact` / `add_external_contact` is pushed with a
//! WelcomeCode valid 20 s by the sandbox clock and usable once), customer groups are created
//! (`change_external_chat` / `create`), and the customers and sent welcome messages are read
//! back.
//!
//! | method + path | body | does |
//! |---|---|---|
//! | `POST /sandbox/contact-ways/{config_id}/scan` | `{"name": "Li Si", "external_userid"?: "wm..", "unionid"?: ".."}` | a customer scans: relation + callback |
//! | `GET /sandbox/contact-ways/{config_id}` | | the contact way (its `qr_code` points here) |
//! | `GET /sandbox/customers` | | every customer with its follow relations |
//! | `GET /sandbox/welcome-messages` | | welcome messages sent (newest last) |
//! | `POST /sandbox/customer-groups` | `{"owner": "zhangsan", "name": "VIP", "members"?: ["wm.."]}` | a member creates a customer group |
//! | `POST /sandbox/externalcontact/moments/{moment_id}/interact` | `{"userid", "who", "like"?}` | a customer (or member) comments on or likes a member's published moment |
//! | `POST /sandbox/customer-acquisition/quota` | `{"balance": 100}` | grants 获客助手 usage |
//! | `POST /sandbox/customer-acquisition/{link_id}/open` | `{"name"?, "customer_channel"?, "sends_message"?}` | a WeChat user opens a 获客链接: relation + callback |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wecom_callback::generated::events::{CustomerAdded, ExternalChatChange, ExternalContactChange};
use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_externalcontact::generated::externalcontact::{
    GroupChat, GroupChatAdmin, GroupChatMember,
};

use super::book::{Customer, CustomerBook, Follow};
use super::crm::{Crm, WelcomeSent};
use crate::admin::{Admin, AdminError};
use crate::app::App;
use crate::callbacks::CallbackRecord;
use crate::corp::{Actor, CallbackConfig};
use crate::state::State;

/// A simulated customer scanning a contact way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanningCustomer {
    /// WeChat nickname.
    #[serde(default)]
    pub name: String,
    /// An existing customer's id (a returning customer); a new one is made when absent.
    #[serde(default)]
    pub external_userid: Option<String>,
    /// WeChat unionid.
    #[serde(default)]
    pub unionid: String,
}

/// What a scan did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanOutcome {
    /// The customer.
    pub external_userid: String,
    /// The member who now follows them.
    pub userid: String,
    /// The WelcomeCode pushed with the event (valid 20 s, usable once).
    pub welcome_code: String,
    /// The callbacks pushed.
    pub callbacks: Vec<CallbackRecord>,
}

/// A customer group to create.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewCustomerGroup {
    /// The owner (a member).
    pub owner: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// Customers (external_userids) or members (userids) who join.
    #[serde(default)]
    pub members: Vec<String>,
}

/// The apps with a callback whose visible scope has `userid`.
fn targets(state: &State, userid: &str) -> Vec<(u32, CallbackConfig)> {
    let corp = state.corp();
    corp.apps()
        .filter_map(|a| {
            let cfg = a.callback.clone()?;
            corp.scope(Actor::App(a.agentid))
                .contains_user(userid)
                .then_some((a.agentid, cfg))
        })
        .collect()
}

pub(crate) async fn push(state: &State, userid: &str, kind: EventKind) -> Vec<CallbackRecord> {
    let corpid = state.corp().corpid().to_owned();
    let now = state.now_secs();
    let mut out = Vec::new();
    for (agentid, cfg) in targets(state, userid) {
        let xml = Inbound::Event(Event {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: "sys".into(),
                create_time: now,
                agent_id: Some(i64::from(agentid)),
            },
            kind: kind.clone(),
        })
        .to_xml();
        out.push(
            state
                .callbacks
                .push(&cfg, &corpid, Some(agentid), &xml, now)
                .await,
        );
    }
    out
}

impl Admin {
    /// A simulated customer scans the contact way `config_id`: the member it hands them to
    /// (type 1: its member; type 2: the next of its members, round robin) follows them with the
    /// way's `state`, and `change_external_contact` / `add_external_contact` is pushed to every
    /// app whose scope has the member, with a WelcomeCode valid 20 s (sandbox clock) and usable
    /// once.
    pub async fn scan_contact_way(
        &self,
        config_id: &str,
        customer: ScanningCustomer,
    ) -> Result<ScanOutcome, AdminError> {
        let state = self.state();
        let now = state.now_secs();
        let crm = Crm::of(state);
        let (userid, way_state, scene) = crm.with(|c| {
            let w = c.ways.get_mut(config_id).ok_or_else(|| {
                AdminError::Invalid(format!("no contact way {config_id} (41044)"))
            })?;
            let mut members = w.way.user.clone();
            if members.is_empty() {
                let corp = state.corp();
                for p in &w.way.party {
                    if let Ok(ms) = corp.members_of(*p, true) {
                        members.extend(ms.into_iter().map(|m| m.userid.clone()));
                    }
                }
            }
            if members.is_empty() {
                return Err(AdminError::Invalid(format!(
                    "contact way {config_id} has no member left to hand the customer to"
                )));
            }
            let userid = members[w.next % members.len()].clone();
            w.next = w.next.wrapping_add(1);
            Ok((
                userid,
                w.way.state.clone().unwrap_or_default(),
                w.way.scene.unwrap_or(2),
            ))
        })?;
        let external_userid = match &customer.external_userid {
            Some(e) if !e.is_empty() => e.clone(),
            _ => crm.with(|c| c.new_id("wm")),
        };
        let book = CustomerBook::of(state);
        let added = book.add_follow(
            Customer {
                external_userid: external_userid.clone(),
                name: if customer.name.is_empty() {
                    format!(
                        "customer {}",
                        &external_userid[..external_userid.len().min(8)]
                    )
                } else {
                    customer.name.clone()
                },
                kind: 1,
                follows: Vec::new(),
                unionid: customer.unionid.clone(),
            },
            Follow {
                userid: userid.clone(),
                createtime: now,
                // add_way (来源定义): 1 扫描二维码; a mini-program button counts as 0 (unknown) here.
                add_way: if scene == 2 { 1 } else { 0 },
                state: way_state.clone(),
                oper_userid: external_userid.clone(),
                ..Follow::default()
            },
        );
        if !added {
            return Err(AdminError::Invalid(format!(
                "{userid} already follows {external_userid} (or the sandbox holds its maximum of customers)"
            )));
        }
        let welcome_code = crm.with(|c| c.mint_welcome_code(&userid, &external_userid, now));
        let kind = EventKind::ChangeExternalContact(ExternalContactChange::AddExternalContact(
            CustomerAdded {
                user_id: userid.clone(),
                external_user_id: external_userid.clone(),
                state: (!way_state.is_empty()).then_some(way_state),
                welcome_code: Some(welcome_code.clone()),
            },
        ));
        let callbacks = push(state, &userid, kind).await;
        Ok(ScanOutcome {
            external_userid,
            userid,
            welcome_code,
            callbacks,
        })
    }

    /// A member creates a customer group; `change_external_chat` / `create` is pushed to the
    /// apps whose scope has the owner.
    pub async fn create_customer_group(
        &self,
        group: NewCustomerGroup,
    ) -> Result<(String, Vec<CallbackRecord>), AdminError> {
        let state = self.state();
        let owner = state.corp().member(&group.owner)?.userid.clone();
        let now = state.now_secs();
        let book = CustomerBook::of(state);
        let chat_id = Crm::of(state).with(|c| {
            let id = c.new_id("wr");
            let mut chat = GroupChat::new(id.clone());
            chat.name = Some(group.name.clone());
            chat.owner = Some(owner.clone());
            chat.create_time = Some(now);
            chat.admin_list = vec![GroupChatAdmin::new(owner.clone())];
            let mut members = vec![owner.clone()];
            members.extend(group.members.iter().filter(|m| **m != owner).cloned());
            chat.member_list = members
                .into_iter()
                .map(|m| {
                    let external = book.with(|b| b.contains_key(&m));
                    let mut gm = GroupChatMember::new(m.clone());
                    gm.kind = Some(if external { 2 } else { 1 });
                    gm.join_time = Some(now);
                    gm.join_scene = Some(1);
                    gm.name = Some(m);
                    gm
                })
                .collect();
            chat.member_version = Some(format!("{now:x}"));
            c.chats.insert(id.clone(), chat);
            id
        });
        let kind = EventKind::ChangeExternalChat(ExternalChatChange::Create {
            chat_id: chat_id.clone(),
        });
        let callbacks = push(state, &owner, kind).await;
        Ok((chat_id, callbacks))
    }

    /// Every customer with its follow relations.
    pub fn customers(&self) -> Vec<Customer> {
        CustomerBook::of(self.state()).with(|b| b.values().cloned().collect())
    }

    /// The welcome messages sent through send_welcome_msg (the newest 1,000, oldest first).
    pub fn welcome_messages(&self) -> Vec<WelcomeSent> {
        Crm::of(self.state()).with(|c| c.welcomes.iter().cloned().collect())
    }
}

fn admin(app: &App) -> Admin {
    Admin::new(Arc::clone(&app.state))
}

fn parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

async fn scan(
    AxState(app): AxState<App>,
    Path(config_id): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: ScanningCustomer = parse(&body)?;
    let out = admin(&app).scan_contact_way(&config_id, c).await?;
    Ok(axum::Json(json!(out)).into_response())
}

async fn way_get(
    AxState(app): AxState<App>,
    Path(config_id): Path<String>,
) -> Result<Response, AdminError> {
    let way = Crm::of(&app.state)
        .with(|c| c.ways.get(&config_id).map(|w| w.way.clone()))
        .ok_or_else(|| AdminError::Invalid(format!("no contact way {config_id} (41044)")))?;
    Ok(axum::Json(json!(way)).into_response())
}

async fn customers_get(AxState(app): AxState<App>) -> Response {
    axum::Json(json!({ "customers": admin(&app).customers() })).into_response()
}

async fn welcomes_get(AxState(app): AxState<App>) -> Response {
    axum::Json(json!({ "welcome_messages": admin(&app).welcome_messages() })).into_response()
}

async fn group_create(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let g: NewCustomerGroup = parse(&body)?;
    let (chat_id, callbacks) = admin(&app).create_customer_group(g).await?;
    Ok(axum::Json(json!({ "chat_id": chat_id, "callbacks": callbacks })).into_response())
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's 客户联系 section: the contact ways with a "scan" button each (a simulated
/// customer scans it: the relation is created and add_external_contact is pushed), and the
/// customers with who follows them.
pub(crate) fn page_section(admin: &Admin) -> String {
    use std::fmt::Write as _;
    let mut h = String::from("<section id=\"customers\"><h2>客户联系</h2>");
    let ways: Vec<(String, String, String)> = Crm::of(admin.state()).with(|c| {
        c.ways
            .values()
            .take(50)
            .map(|w| {
                (
                    w.way.config_id.clone(),
                    w.way.user.join(", "),
                    w.way.state.clone().unwrap_or_default(),
                )
            })
            .collect()
    });
    if ways.is_empty() {
        h.push_str("<div class=\"gray\">还没有「联系我」。用 externalcontact/add_contact_way 创建一个。</div>");
    } else {
        h.push_str("<table><tr><th>联系我</th><th>成员</th><th>state</th><th>客户扫码</th></tr>");
        for (id, users, state) in ways {
            let _ = write!(
                h,
                "<tr><td><code>{id}</code></td><td>{users}</td><td>{state}</td><td>\
                 <form method=\"post\" action=\"/sandbox/ui/scan\"><input type=\"hidden\" name=\"config_id\" value=\"{id}\">\
                 <input name=\"name\" placeholder=\"客户昵称\"><button type=\"submit\">扫码添加</button></form></td></tr>",
                id = escape(&id),
                users = escape(&users),
                state = escape(&state),
            );
        }
        h.push_str("</table>");
    }
    let customers = admin.customers();
    if !customers.is_empty() {
        h.push_str("<table><tr><th>客户</th><th>跟进成员</th></tr>");
        for c in customers.iter().take(100) {
            let follows: Vec<String> = c
                .follows
                .iter()
                .map(|f| {
                    if f.remark.is_empty() {
                        escape(&f.userid)
                    } else {
                        format!("{} ({})", escape(&f.userid), escape(&f.remark))
                    }
                })
                .collect();
            let _ = write!(
                h,
                "<tr><td>{} <span class=\"gray\">{}</span></td><td>{}</td></tr>",
                escape(&c.name),
                escape(&c.external_userid),
                follows.join(", ")
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
    h
}

async fn ui_scan(AxState(app): AxState<App>, body: BodyBytes) -> Response {
    let f: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let config_id = f.get("config_id").cloned().unwrap_or_default();
    let customer = ScanningCustomer {
        name: f.get("name").cloned().unwrap_or_default(),
        ..ScanningCustomer::default()
    };
    let notice = match admin(&app).scan_contact_way(&config_id, customer).await {
        Ok(out) => format!(
            "{} 添加了客户 {}; WelcomeCode {} (20 秒内有效，仅可使用一次); 推送 {} 个回调",
            out.userid,
            out.external_userid,
            out.welcome_code,
            out.callbacks.len()
        ),
        Err(e) => e.to_string(),
    };
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", &notice)
        .finish();
    axum::response::Redirect::to(&format!("/?{q}")).into_response()
}

/// The admin routes of part 1 (merged into `/sandbox/` by `admin/routes.rs`).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/ui/scan", post(ui_scan))
        .route("/sandbox/contact-ways/{config_id}", get(way_get))
        .route("/sandbox/contact-ways/{config_id}/scan", post(scan))
        .route("/sandbox/customers", get(customers_get))
        .route("/sandbox/welcome-messages", get(welcomes_get))
        .route("/sandbox/customer-groups", post(group_create))
        .route(
            "/sandbox/externalcontact/moments/{moment_id}/interact",
            post(moment_interact),
        )
        .merge(super::outreach::acquisition::routes())
}

/// A comment or like on a member's published copy of a moment.
#[derive(Debug, Clone, Default, Deserialize)]
struct Interaction {
    /// The member who published the copy.
    userid: String,
    /// Who comments or likes: a customer's external_userid or a member's userid.
    who: String,
    /// A like (else a comment).
    #[serde(default)]
    like: bool,
}

async fn moment_interact(
    AxState(app): AxState<App>,
    Path(moment_id): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let i: Interaction = parse(&body)?;
    super::outreach::interact_moment(&app.state, &moment_id, &i.userid, &i.who, i.like)
        .map_err(|e| AdminError::Invalid(format!("{} ({})", e.errmsg, e.errcode)))?;
    Ok(axum::Json(json!({"errcode": 0, "errmsg": "ok"})).into_response())
}
