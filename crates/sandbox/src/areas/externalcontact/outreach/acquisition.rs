//! 获客助手 (customer acquisition links), with the rules their pages state:
//! - links belong to the app that created them ("link_id 需要是当前应用创建"): another app's link,
//!   an unknown one or a deleted one answers 40058 (the pages name no errcode for it);
//! - the range names members in the app's visible scope (60011 / 60111) and departments that
//!   exist; "range覆盖的总用户数不得超过500人" (40058: no errcode named);
//! - a customer who opens a link (admin [`Admin::open_acquisition_link`], `POST
//!   /sandbox/customer-acquisition/{link_id}/open`) is handed to a member of its range (round
//!   robin; `priority_option` is stored and answered, not applied), becomes their customer
//!   with the link's `customer_channel` as `state`, and uses one of the 获客助手 balance (the
//!   quota page: "balance 剩余使用量", "total 历史累计使用量"); with no balance left the customer
//!   cannot be added. `change_external_contact` / `add_external_contact` is pushed with a
//!   WelcomeCode, as for a 联系我 scan;
//! - the balance is granted through the admin API (`POST /sandbox/customer-acquisition/quota`,
//!   [`Admin::grant_acquisition_quota`]); a fresh sandbox has none;
//! - a customer who writes (`sends_message`) gets the member a `ChatKey` (what the 成员多次收消息
//!   event carries; the event itself is not declared yet), readable by `get_chat_info` for 30
//!   minutes ("回调后30分钟内有效"; 40058 after, no errcode named);
//! - `statistic` counts opens and new customers per Beijing day, the last 180 days, at most 30
//!   days apart (40058 otherwise: no errcode named).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wecom_callback::EventKind;
use wecom_callback::generated::events::{CustomerAdded, ExternalContactChange};
use wecom_externalcontact::acquisition::MAX_CHANNEL_BYTES;
use wecom_externalcontact::rules::beijing_day;
use wecom_externalcontact::{
    AcquisitionChatInfo, AcquisitionChatInfoRequest, AcquisitionChatInfoResponse,
    AcquisitionCustomer, AcquisitionCustomersRequest, AcquisitionCustomersResponse,
    AcquisitionLink, AcquisitionLinkCreateRequest, AcquisitionLinkCreateResponse,
    AcquisitionLinkDeleteRequest, AcquisitionLinkDeleteResponse, AcquisitionLinkGetRequest,
    AcquisitionLinkGetResponse, AcquisitionLinkListRequest, AcquisitionLinkListResponse,
    AcquisitionLinkUpdateRequest, AcquisitionLinkUpdateResponse, AcquisitionPriority,
    AcquisitionQuota, AcquisitionQuotaRequest, AcquisitionQuotaResponse, AcquisitionRange,
    AcquisitionStatisticRequest, AcquisitionStatisticResponse,
};

use super::page;
use crate::admin::{Admin, AdminError};
use crate::app::App;
use crate::areas::externalcontact::book::{Customer, CustomerBook, Follow};
use crate::areas::externalcontact::crm::Crm;
use crate::callbacks::CallbackRecord;
use crate::corp::Actor;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

/// "range覆盖的总用户数不得超过500人".
pub const MAX_RANGE_MEMBERS: usize = 500;
/// The most links the sandbox keeps per corp (bounded memory under a runaway test).
pub const MAX_LINKS: usize = 10_000;
/// The most opens and brought customers the sandbox keeps (bounded memory).
pub const MAX_RECORDS: usize = 100_000;
/// "仅可查询最近180天内的使用记录".
pub const STATISTIC_HISTORY_DAYS: i64 = 180;
const DAY: i64 = 86_400;

#[derive(Debug, Clone)]
struct Link {
    agentid: u32,
    link: AcquisitionLink,
    range: AcquisitionRange,
    priority: Option<AcquisitionPriority>,
    deleted: bool,
    next: usize,
}

#[derive(Debug, Clone)]
struct Brought {
    link_id: String,
    customer: AcquisitionCustomer,
    at: i64,
}

#[derive(Debug, Clone)]
struct ChatKey {
    userid: String,
    external_userid: String,
    link_id: String,
    state: String,
    /// Messages the member received from the customer (the sandbox's customer writes once).
    received: i64,
    created_at: i64,
}

/// "ChatKey ... 回调后30分钟内有效".
pub const CHAT_KEY_SECS: i64 = 30 * 60;

#[derive(Debug, Default)]
struct Inner {
    chat_keys: BTreeMap<String, ChatKey>,
    links: BTreeMap<String, Link>,
    order: Vec<String>,
    brought: Vec<Brought>,
    opens: Vec<(String, i64)>,
    used: i64,
    /// (expire_date, balance) of each grant, oldest first.
    grants: Vec<(i64, i64)>,
    seq: u64,
}

#[derive(Debug, Default)]
struct Acquisition {
    inner: Mutex<Inner>,
}

fn store(state: &State) -> Arc<Acquisition> {
    state.extension::<Acquisition>()
}

pub(super) fn register(r: &mut Registry) {
    r.add::<AcquisitionLinkListRequest, _, _>(list_link);
    r.add::<AcquisitionLinkGetRequest, _, _>(get_link);
    r.add::<AcquisitionLinkCreateRequest, _, _>(create_link);
    r.add::<AcquisitionLinkUpdateRequest, _, _>(update_link);
    r.add::<AcquisitionLinkDeleteRequest, _, _>(delete_link);
    r.add::<AcquisitionCustomersRequest, _, _>(customers);
    r.add::<AcquisitionQuotaRequest, _, _>(quota);
    r.add::<AcquisitionStatisticRequest, _, _>(statistic);
    r.add::<AcquisitionChatInfoRequest, _, _>(chat_info);
}

async fn chat_info(
    ctx: Ctx,
    req: AcquisitionChatInfoRequest,
) -> Result<AcquisitionChatInfoResponse, ApiError> {
    let now = ctx.state().now_secs();
    let s = store(ctx.state());
    let key = {
        let inner = lock(&s.inner);
        inner
            .chat_keys
            .get(&req.chat_key)
            .filter(|k| now - k.created_at <= CHAT_KEY_SECS)
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    "chat_key is unknown or older than 30 minutes (回调后30分钟内有效)",
                )
            })?
    };
    super::check_member(&ctx, &key.userid)?;
    let mut info = AcquisitionChatInfo::new();
    info.recv_msg_cnt = Some(key.received);
    info.link_id = Some(key.link_id);
    info.state = Some(key.state);
    let mut answer = AcquisitionChatInfoResponse::new();
    answer.userid = Some(key.userid);
    answer.external_userid = Some(key.external_userid);
    answer.chat_info = Some(info);
    Ok(answer)
}

/// The calling app (the credential is an app's token: the sandbox refused any other already).
fn agentid(ctx: &Ctx) -> Result<u32, ApiError> {
    match ctx.caller().actor() {
        Some(Actor::App(a)) => Ok(a),
        _ => Err(ApiError::api_forbidden(
            "获客助手 needs an app's access_token (不支持客户联系系统应用调用)",
        )),
    }
}

fn unknown(link_id: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "link_id {link_id} is not a link of this app (unknown, deleted, or created by another app)"
    ))
}

/// The balance left: unexpired grants.
fn balance(inner: &Inner, now: i64) -> i64 {
    inner
        .grants
        .iter()
        .filter(|(exp, _)| *exp > now)
        .map(|(_, b)| *b)
        .sum()
}

/// Checks a range against the caller's scope and the 500-member cover; the members it covers.
fn covered(ctx: &Ctx, app: u32, range: &AcquisitionRange) -> Result<Vec<String>, ApiError> {
    let corp = ctx.state().corp();
    let mut out: Vec<String> = Vec::new();
    for u in &range.user_list {
        let m = corp.check_user_visible(Actor::App(app), u)?;
        if !out.contains(&m.userid) {
            out.push(m.userid.clone());
        }
    }
    for d in &range.department_list {
        corp.check_department_visible(Actor::App(app), *d)?;
        for m in corp.members_of(*d, true)? {
            if !out.contains(&m.userid) {
                out.push(m.userid.clone());
            }
        }
    }
    if out.len() > MAX_RANGE_MEMBERS {
        return Err(ApiError::invalid_parameter(format!(
            "the range covers {} members; at most {MAX_RANGE_MEMBERS} (range覆盖的总用户数不得超过500人)",
            out.len()
        )));
    }
    Ok(out)
}

async fn list_link(
    ctx: Ctx,
    req: AcquisitionLinkListRequest,
) -> Result<AcquisitionLinkListResponse, ApiError> {
    let app = agentid(&ctx)?;
    let s = store(ctx.state());
    let ids: Vec<String> = {
        let inner = lock(&s.inner);
        inner
            .order
            .iter()
            .filter(|id| {
                inner
                    .links
                    .get(*id)
                    .is_some_and(|l| l.agentid == app && !l.deleted)
            })
            .cloned()
            .collect()
    };
    let (items, next) = page(
        &ids,
        req.cursor.as_deref(),
        req.limit.unwrap_or(100) as usize,
    )?;
    let mut answer = AcquisitionLinkListResponse::new();
    answer.link_id_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn get_link(
    ctx: Ctx,
    req: AcquisitionLinkGetRequest,
) -> Result<AcquisitionLinkGetResponse, ApiError> {
    let app = agentid(&ctx)?;
    let s = store(ctx.state());
    let inner = lock(&s.inner);
    let l = inner
        .links
        .get(&req.link_id)
        .filter(|l| l.agentid == app && !l.deleted)
        .ok_or_else(|| unknown(&req.link_id))?;
    let mut answer = AcquisitionLinkGetResponse::new();
    let mut link = l.link.clone();
    link.link_id = None;
    answer.link = Some(link);
    answer.range = Some(l.range.clone());
    answer.priority_option = l.priority.clone();
    Ok(answer)
}

async fn create_link(
    ctx: Ctx,
    req: AcquisitionLinkCreateRequest,
) -> Result<AcquisitionLinkCreateResponse, ApiError> {
    let app = agentid(&ctx)?;
    let range = req.range.clone().unwrap_or_default();
    covered(&ctx, app, &range)?;
    let now = ctx.state().now_secs();
    let base = ctx.state().base_url().trim_end_matches('/').to_owned();
    let s = store(ctx.state());
    let mut inner = lock(&s.inner);
    if inner.links.len() >= MAX_LINKS {
        return Err(ApiError::new(
            41095_i64,
            format!("the sandbox keeps at most {MAX_LINKS} links (获客链接数量超过上限)"),
        ));
    }
    inner.seq += 1;
    let link_id = format!("cawcde{:010x}", inner.seq);
    let mut link = AcquisitionLink::new();
    link.link_id = Some(link_id.clone());
    link.link_name = Some(req.link_name.clone());
    link.url = Some(format!("{base}/sandbox/customer-acquisition/{link_id}"));
    link.create_time = Some(now);
    link.skip_verify = Some(req.skip_verify.unwrap_or(true));
    inner.links.insert(
        link_id.clone(),
        Link {
            agentid: app,
            link: link.clone(),
            range,
            priority: req.priority_option.clone(),
            deleted: false,
            next: 0,
        },
    );
    inner.order.push(link_id);
    let mut answer_link = link;
    answer_link.skip_verify = None;
    Ok(AcquisitionLinkCreateResponse::new(answer_link))
}

async fn update_link(
    ctx: Ctx,
    req: AcquisitionLinkUpdateRequest,
) -> Result<AcquisitionLinkUpdateResponse, ApiError> {
    let app = agentid(&ctx)?;
    if let Some(r) = &req.range {
        covered(&ctx, app, r)?;
    }
    let s = store(ctx.state());
    let mut inner = lock(&s.inner);
    let l = inner
        .links
        .get_mut(&req.link_id)
        .filter(|l| l.agentid == app && !l.deleted)
        .ok_or_else(|| unknown(&req.link_id))?;
    if let Some(n) = &req.link_name {
        l.link.link_name = Some(n.clone());
    }
    if let Some(r) = &req.range {
        l.range = r.clone();
        l.next = 0;
    }
    if let Some(v) = req.skip_verify {
        l.link.skip_verify = Some(v);
    }
    if let Some(p) = &req.priority_option {
        l.priority = Some(p.clone());
    }
    Ok(AcquisitionLinkUpdateResponse::new())
}

async fn delete_link(
    ctx: Ctx,
    req: AcquisitionLinkDeleteRequest,
) -> Result<AcquisitionLinkDeleteResponse, ApiError> {
    let app = agentid(&ctx)?;
    let s = store(ctx.state());
    let mut inner = lock(&s.inner);
    let l = inner
        .links
        .get_mut(&req.link_id)
        .filter(|l| l.agentid == app && !l.deleted)
        .ok_or_else(|| unknown(&req.link_id))?;
    // Kept (deleted) so the customers it brought still read back by nobody else's id.
    l.deleted = true;
    Ok(AcquisitionLinkDeleteResponse::new())
}

async fn customers(
    ctx: Ctx,
    req: AcquisitionCustomersRequest,
) -> Result<AcquisitionCustomersResponse, ApiError> {
    let app = agentid(&ctx)?;
    let s = store(ctx.state());
    let list: Vec<AcquisitionCustomer> = {
        let inner = lock(&s.inner);
        inner
            .links
            .get(&req.link_id)
            .filter(|l| l.agentid == app && !l.deleted)
            .ok_or_else(|| unknown(&req.link_id))?;
        inner
            .brought
            .iter()
            .filter(|b| b.link_id == req.link_id)
            .map(|b| b.customer.clone())
            .collect()
    };
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.limit.unwrap_or(1000) as usize,
    )?;
    let mut answer = AcquisitionCustomersResponse::new();
    answer.customer_list = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn quota(
    ctx: Ctx,
    _req: AcquisitionQuotaRequest,
) -> Result<AcquisitionQuotaResponse, ApiError> {
    agentid(&ctx)?;
    let now = ctx.state().now_secs();
    let s = store(ctx.state());
    let inner = lock(&s.inner);
    let mut answer = AcquisitionQuotaResponse::new();
    answer.total = Some(inner.used);
    answer.balance = Some(balance(&inner, now));
    answer.quota_list = inner
        .grants
        .iter()
        .filter(|(exp, b)| *exp > now && *b > 0)
        .map(|(exp, b)| {
            let mut q = AcquisitionQuota::new();
            q.expire_date = Some(*exp);
            q.balance = Some(*b);
            q
        })
        .collect();
    Ok(answer)
}

async fn statistic(
    ctx: Ctx,
    req: AcquisitionStatisticRequest,
) -> Result<AcquisitionStatisticResponse, ApiError> {
    let app = agentid(&ctx)?;
    let now = ctx.state().now_secs();
    let (start, end) = (beijing_day(req.start_time), beijing_day(req.end_time) + DAY);
    if start < beijing_day(now) - STATISTIC_HISTORY_DAYS * DAY {
        return Err(ApiError::invalid_parameter(
            "start_time is more than 180 days ago (仅可查询最近180天内的使用记录)",
        ));
    }
    let s = store(ctx.state());
    let inner = lock(&s.inner);
    inner
        .links
        .get(&req.link_id)
        .filter(|l| l.agentid == app)
        .ok_or_else(|| unknown(&req.link_id))?;
    let in_range = |t: i64| t >= start && t < end;
    let clicks = inner
        .opens
        .iter()
        .filter(|(l, t)| *l == req.link_id && in_range(*t))
        .count();
    let new = inner
        .brought
        .iter()
        .filter(|b| b.link_id == req.link_id && in_range(b.at))
        .count();
    let mut answer = AcquisitionStatisticResponse::new();
    answer.click_link_customer_cnt = Some(clicks as i64);
    answer.new_customer_cnt = Some(new as i64);
    Ok(answer)
}

// ------------------------------------------------------------------------------------------------
// Admin side

/// A simulated WeChat user opening a 获客链接.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpeningCustomer {
    /// WeChat nickname.
    #[serde(default)]
    pub name: String,
    /// An existing customer's id (a returning customer); a new one is made when absent.
    #[serde(default)]
    pub external_userid: Option<String>,
    /// The `customer_channel` appended to the link's url (cut after 64 bytes, as WeCom does).
    #[serde(default)]
    pub customer_channel: String,
    /// Whether the customer then writes to the member (`chat_status` 1; else 0).
    #[serde(default)]
    pub sends_message: bool,
}

/// What opening a link did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenOutcome {
    /// The customer.
    pub external_userid: String,
    /// The member who now follows them.
    pub userid: String,
    /// The `state` they carry (the channel, cut to 64 bytes).
    pub state: String,
    /// The WelcomeCode pushed with the event (valid 20 s, usable once).
    pub welcome_code: String,
    /// The 获客助手 balance left.
    pub balance: i64,
    /// The ChatKey of the customer's first message (when `sends_message`), for `get_chat_info`
    /// within 30 minutes.
    pub chat_key: Option<String>,
    /// The callbacks pushed.
    pub callbacks: Vec<CallbackRecord>,
}

/// A grant of 获客助手 usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaGrant {
    /// How many customers it allows.
    pub balance: i64,
    /// When it expires (Unix seconds); default: 365 days from now, at Beijing midnight.
    #[serde(default)]
    pub expire_date: Option<i64>,
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl Admin {
    /// Grants `grant.balance` of 获客助手 usage; answers the balance after the grant.
    pub fn grant_acquisition_quota(&self, grant: QuotaGrant) -> Result<i64, AdminError> {
        if grant.balance <= 0 {
            return Err(AdminError::Invalid("balance must be positive".into()));
        }
        let state = self.state();
        let now = state.now_secs();
        let exp = grant.expire_date.unwrap_or(beijing_day(now) + 365 * DAY);
        let s = store(state);
        let mut inner = lock(&s.inner);
        inner.grants.push((exp, grant.balance));
        Ok(balance(&inner, now))
    }

    /// A WeChat user opens the 获客链接 `link_id`: a member of its range (round robin) adds them
    /// with the link's
    /// channel as `state`, one of the balance is used, and `change_external_contact` /
    /// `add_external_contact` is pushed with a WelcomeCode (valid 20 s, usable once) to the apps
    /// that see the member. Refused for an unknown or deleted link, an empty range, or no balance.
    pub async fn open_acquisition_link(
        &self,
        link_id: &str,
        customer: OpeningCustomer,
    ) -> Result<OpenOutcome, AdminError> {
        let state = self.state();
        let now = state.now_secs();
        let book = CustomerBook::of(state);
        let crm = Crm::of(state);
        let external_userid = match &customer.external_userid {
            Some(e) if !e.is_empty() => e.clone(),
            _ => crm.with(|c| c.new_id("wm")),
        };
        let s = store(state);
        let (userid, channel, left, chat_key) = {
            let mut inner = lock(&s.inner);
            let Some(link) = inner.links.get(link_id).filter(|l| !l.deleted).cloned() else {
                return Err(AdminError::Invalid(format!(
                    "no 获客链接 {link_id} (unknown or deleted)"
                )));
            };
            if inner.opens.len() >= MAX_RECORDS {
                inner.opens.remove(0);
            }
            inner.opens.push((link_id.to_owned(), now));
            let members: Vec<String> = {
                let corp = state.corp();
                let mut ms: Vec<String> = link.range.user_list.clone();
                for d in &link.range.department_list {
                    if let Ok(list) = corp.members_of(*d, true) {
                        for m in list {
                            if !ms.contains(&m.userid) {
                                ms.push(m.userid.clone());
                            }
                        }
                    }
                }
                ms.retain(|u| corp.member(u).is_ok());
                ms
            };
            if members.is_empty() {
                return Err(AdminError::Invalid(format!(
                    "获客链接 {link_id} has no member left to hand the customer to"
                )));
            }
            if balance(&inner, now) <= 0 {
                return Err(AdminError::Invalid(
                    "the 获客助手 balance is used up: grant usage with POST /sandbox/customer-acquisition/quota"
                        .into(),
                ));
            }
            let Some(l) = inner.links.get_mut(link_id) else {
                return Err(AdminError::Invalid(format!("no 获客链接 {link_id}")));
            };
            let userid = members[l.next % members.len()].clone();
            l.next = l.next.wrapping_add(1);
            if book.follows(&external_userid, &userid) {
                return Err(AdminError::Invalid(format!(
                    "{userid} already has {external_userid} as a customer"
                )));
            }
            // Use the grant that expires first.
            inner.grants.sort_by_key(|(exp, _)| *exp);
            if let Some(g) = inner
                .grants
                .iter_mut()
                .find(|(exp, b)| *exp > now && *b > 0)
            {
                g.1 -= 1;
            }
            inner.used += 1;
            let channel = cut(&customer.customer_channel, MAX_CHANNEL_BYTES);
            let mut c = AcquisitionCustomer::new(external_userid.clone());
            c.userid = Some(userid.clone());
            c.chat_status = Some(u32::from(customer.sends_message));
            c.state = Some(channel.clone());
            if inner.brought.len() >= MAX_RECORDS {
                inner.brought.remove(0);
            }
            inner.brought.push(Brought {
                link_id: link_id.to_owned(),
                customer: c,
                at: now,
            });
            let chat_key = customer.sends_message.then(|| {
                let key = format!("ck{:016x}{:08x}", inner.seq, inner.brought.len());
                inner.seq += 1;
                if inner.chat_keys.len() >= MAX_RECORDS {
                    inner
                        .chat_keys
                        .retain(|_, k| now - k.created_at <= CHAT_KEY_SECS);
                }
                inner.chat_keys.insert(
                    key.clone(),
                    ChatKey {
                        userid: userid.clone(),
                        external_userid: external_userid.clone(),
                        link_id: link_id.to_owned(),
                        state: channel.clone(),
                        received: 1,
                        created_at: now,
                    },
                );
                key
            });
            (userid, channel, balance(&inner, now), chat_key)
        };
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
                unionid: String::new(),
            },
            Follow {
                userid: userid.clone(),
                createtime: now,
                state: channel.clone(),
                oper_userid: external_userid.clone(),
                ..Follow::default()
            },
        );
        if !added {
            return Err(AdminError::Invalid(
                "the sandbox holds its maximum of customers".into(),
            ));
        }
        let welcome_code = crm.with(|c| c.mint_welcome_code(&userid, &external_userid, now));
        let kind = EventKind::ChangeExternalContact(ExternalContactChange::AddExternalContact(
            CustomerAdded {
                user_id: userid.clone(),
                external_user_id: external_userid.clone(),
                state: (!channel.is_empty()).then(|| channel.clone()),
                welcome_code: Some(welcome_code.clone()),
            },
        ));
        let callbacks = crate::areas::externalcontact::admin::push(state, &userid, kind).await;
        Ok(OpenOutcome {
            external_userid,
            userid,
            state: channel,
            welcome_code,
            balance: left,
            chat_key,
            callbacks,
        })
    }
}

fn parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AdminError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

async fn open(
    AxState(app): AxState<App>,
    Path(link_id): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: OpeningCustomer = parse(&body)?;
    let out = Admin::new(Arc::clone(&app.state))
        .open_acquisition_link(&link_id, c)
        .await?;
    Ok(axum::Json(json!(out)).into_response())
}

async fn grant(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let g: QuotaGrant = parse(&body)?;
    let balance = Admin::new(Arc::clone(&app.state)).grant_acquisition_quota(g)?;
    Ok(axum::Json(json!({ "balance": balance })).into_response())
}

/// The admin routes of 获客助手 (merged by `admin.rs`):
///
/// | method + path | body | does |
/// |---|---|---|
/// | `POST /sandbox/customer-acquisition/quota` | `{"balance": 100, "expire_date"?: 0}` | grants usage |
/// | `POST /sandbox/customer-acquisition/{link_id}/open` | `{"name"?, "external_userid"?, "customer_channel"?, "sends_message"?}` | a WeChat user opens the link |
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/customer-acquisition/quota", post(grant))
        .route("/sandbox/customer-acquisition/{link_id}/open", post(open))
}
