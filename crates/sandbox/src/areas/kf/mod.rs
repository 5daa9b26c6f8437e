//! WeChat customer service (微信客服): accounts, servicers, sessions and their states, messages,
//! customers, upgrade service and statistics, over the desk in `desk.rs`. Customers are played
//! through the admin API (`admin.rs`): a customer who writes to an account opens its session and
//! makes the sandbox push `kf_msg_or_event` to the app managing the account.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wecom_kf::{
    KfAccountAddRequest, KfAccountAddResponse, KfAccountDelRequest, KfAccountDelResponse,
    KfAccountListRequest, KfAccountListResponse, KfAccountUpdateRequest, KfAccountUpdateResponse,
    KfAddContactWayRequest, KfAddContactWayResponse, KfCustomerBatchgetRequest,
    KfCustomerBatchgetResponse, KfCustomerCancelUpgradeServiceRequest,
    KfCustomerCancelUpgradeServiceResponse, KfCustomerGetUpgradeServiceConfigRequest,
    KfCustomerGetUpgradeServiceConfigResponse, KfCustomerUpgradeServiceRequest,
    KfCustomerUpgradeServiceResponse, KfGetCorpStatisticRequest, KfGetCorpStatisticResponse,
    KfGetServicerStatisticRequest, KfGetServicerStatisticResponse, KfSendMsgOnEventRequest,
    KfSendMsgOnEventResponse, KfSendMsgRequest, KfSendMsgResponse, KfServiceState,
    KfServiceStateGetRequest, KfServiceStateGetResponse, KfServiceStateTransRequest,
    KfServiceStateTransResponse, KfServicerAddRequest, KfServicerAddResponse, KfServicerDelRequest,
    KfServicerDelResponse, KfServicerListRequest, KfServicerListResponse, KfSyncMsgRequest,
    KfSyncMsgResponse,
};

use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};

pub mod admin;
pub mod desk;
pub mod knowledge;

use desk::{
    Account, CODE_TTL_SECS, KfDesk, MAX_ACCOUNTS, RETENTION_SECS, SEND_QUOTA, SEND_WINDOW_SECS,
    Session, TOKEN_TTL_SECS, may_move,
};

/// Registers the 微信客服 handlers.
pub fn register(r: &mut Registry) {
    r.add::<KfAccountAddRequest, _, _>(account_add);
    r.add::<KfAccountDelRequest, _, _>(account_del);
    r.add::<KfAccountUpdateRequest, _, _>(account_update);
    r.add::<KfAccountListRequest, _, _>(account_list);
    r.add::<KfAddContactWayRequest, _, _>(add_contact_way);
    r.add::<KfServicerAddRequest, _, _>(servicer_add);
    r.add::<KfServicerDelRequest, _, _>(servicer_del);
    r.add::<KfServicerListRequest, _, _>(servicer_list);
    r.add::<KfServiceStateGetRequest, _, _>(service_state_get);
    r.add::<KfServiceStateTransRequest, _, _>(service_state_trans);
    r.add::<KfSyncMsgRequest, _, _>(sync_msg);
    r.add::<KfSendMsgRequest, _, _>(send_msg);
    r.add::<KfSendMsgOnEventRequest, _, _>(send_msg_on_event);
    r.add::<KfCustomerBatchgetRequest, _, _>(customer_batchget);
    r.add::<KfCustomerGetUpgradeServiceConfigRequest, _, _>(upgrade_config);
    r.add::<KfCustomerUpgradeServiceRequest, _, _>(upgrade_service);
    r.add::<KfCustomerCancelUpgradeServiceRequest, _, _>(cancel_upgrade_service);
    r.add::<KfGetCorpStatisticRequest, _, _>(corp_statistic);
    r.add::<KfGetServicerStatisticRequest, _, _>(servicer_statistic);
    knowledge::register(r);
}

/// Builds a generated answer from its wire JSON (one definition of the shape: the generated type).
fn answer<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        ApiError::new(
            -1_i64,
            format!("system busy (sandbox built a bad answer: {e})"),
        )
    })
}

fn desk(ctx: &Ctx) -> std::sync::Arc<KfDesk> {
    KfDesk::of(ctx.state())
}

async fn account_add(ctx: Ctx, req: KfAccountAddRequest) -> Result<KfAccountAddResponse, ApiError> {
    let manager = match ctx.caller() {
        Caller::App(a) => Some(*a),
        _ => None,
    };
    let id = desk(&ctx).with(|d| {
        if d.accounts.len() >= MAX_ACCOUNTS {
            return Err(ApiError::new(
                95005_i64,
                format!("kf account count exceed limit {MAX_ACCOUNTS}"),
            ));
        }
        let id = d.next_id("wk");
        d.accounts.insert(
            id.clone(),
            Account {
                open_kfid: id.clone(),
                name: req.name.clone(),
                media_id: req.media_id.clone(),
                manager,
                servicers: Default::default(),
                departments: Default::default(),
            },
        );
        Ok(id)
    })?;
    answer(json!({ "open_kfid": id }))
}

async fn account_del(ctx: Ctx, req: KfAccountDelRequest) -> Result<KfAccountDelResponse, ApiError> {
    desk(&ctx).with(|d| {
        d.account(&req.open_kfid)?;
        d.accounts.remove(&req.open_kfid);
        d.sessions.retain(|(k, _), _| *k != req.open_kfid);
        Ok::<_, ApiError>(())
    })?;
    answer(json!({}))
}

async fn account_update(
    ctx: Ctx,
    req: KfAccountUpdateRequest,
) -> Result<KfAccountUpdateResponse, ApiError> {
    desk(&ctx).with(|d| {
        let a = d.account_mut(&req.open_kfid)?;
        if let Some(n) = &req.name {
            a.name.clone_from(n);
        }
        if let Some(m) = &req.media_id {
            a.media_id.clone_from(m);
        }
        Ok::<_, ApiError>(())
    })?;
    answer(json!({}))
}

async fn account_list(
    ctx: Ctx,
    req: KfAccountListRequest,
) -> Result<KfAccountListResponse, ApiError> {
    let me = match ctx.caller() {
        Caller::App(a) => Some(*a),
        _ => None,
    };
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.unwrap_or(100) as usize;
    let list: Vec<Value> = desk(&ctx).with(|d| {
        d.accounts
            .values()
            .skip(offset)
            .take(limit)
            .map(|a| {
                json!({
                    "open_kfid": a.open_kfid, "name": a.name,
                    "avatar": format!("https://wework.qpic.cn/sandbox/{}", a.media_id),
                    // The system secret manages every account; an app the ones it created.
                    "manage_privilege": me.is_none() || a.manager == me,
                })
            })
            .collect()
    });
    answer(json!({ "account_list": list }))
}

async fn add_contact_way(
    ctx: Ctx,
    req: KfAddContactWayRequest,
) -> Result<KfAddContactWayResponse, ApiError> {
    desk(&ctx).with(|d| d.account(&req.open_kfid).map(|_| ()))?;
    let mut url = format!("https://work.weixin.qq.com/kf/{}", req.open_kfid);
    if let Some(scene) = req.scene.as_deref().filter(|s| !s.is_empty()) {
        url.push_str("?enc_scene=ENC");
        url.push_str(scene);
    }
    answer(json!({ "url": url }))
}

async fn servicer_add(
    ctx: Ctx,
    req: KfServicerAddRequest,
) -> Result<KfServicerAddResponse, ApiError> {
    let results = servicer_change(
        &ctx,
        &req.open_kfid,
        &req.userid_list,
        &req.department_id_list,
        true,
    )?;
    answer(json!({ "result_list": results }))
}

async fn servicer_del(
    ctx: Ctx,
    req: KfServicerDelRequest,
) -> Result<KfServicerDelResponse, ApiError> {
    let results = servicer_change(
        &ctx,
        &req.open_kfid,
        &req.userid_list,
        &req.department_id_list,
        false,
    )?;
    answer(json!({ "result_list": results }))
}

/// Adds or removes servicers; per item `success`, `ignored` (nothing to do) or the directory's
/// errcode (60111 unknown member, 60123 unknown department).
fn servicer_change(
    ctx: &Ctx,
    open_kfid: &str,
    userids: &[String],
    departments: &[u32],
    add: bool,
) -> Result<Vec<Value>, ApiError> {
    let corp = ctx.state().corp();
    let known_users: Vec<Option<String>> = userids
        .iter()
        .map(|u| corp.member(u).ok().map(|m| m.userid.clone()))
        .collect();
    let known_deps: Vec<bool> = departments
        .iter()
        .map(|d| corp.department(*d).is_ok())
        .collect();
    drop(corp);
    desk(ctx).with(|d| {
        let a = d.account_mut(open_kfid)?;
        let mut out = Vec::new();
        for (u, known) in userids.iter().zip(known_users) {
            let Some(u) = known else {
                out.push(json!({"userid": u, "errcode": 60111, "errmsg": "userid not found"}));
                continue;
            };
            let changed = if add {
                a.servicers.insert(u.clone(), 0).is_none()
            } else {
                a.servicers.remove(&u).is_some()
            };
            out.push(json!({"userid": u, "errcode": 0, "errmsg": if changed {"success"} else {"ignored"}}));
        }
        for (dep, known) in departments.iter().zip(known_deps) {
            if !known {
                out.push(json!({"department_id": dep, "errcode": 60123, "errmsg": "invalid party id"}));
                continue;
            }
            let changed = if add {
                a.departments.insert(*dep)
            } else {
                a.departments.remove(dep)
            };
            out.push(json!({"department_id": dep, "errcode": 0, "errmsg": if changed {"success"} else {"ignored"}}));
        }
        Ok(out)
    })
}

async fn servicer_list(
    ctx: Ctx,
    req: KfServicerListRequest,
) -> Result<KfServicerListResponse, ApiError> {
    let list = desk(&ctx).with(|d| {
        let a = d.account(&req.open_kfid)?;
        let mut list: Vec<Value> = a
            .servicers
            .iter()
            .map(|(u, s)| json!({"userid": u, "status": s, "stop_type": 0}))
            .collect();
        list.extend(a.departments.iter().map(|d| json!({"department_id": d})));
        Ok::<_, ApiError>(list)
    })?;
    answer(json!({ "servicer_list": list }))
}

async fn service_state_get(
    ctx: Ctx,
    req: KfServiceStateGetRequest,
) -> Result<KfServiceStateGetResponse, ApiError> {
    let (state, servicer) = desk(&ctx).with(|d| {
        d.account(&req.open_kfid)?;
        Ok::<_, ApiError>(d.state_of(&req.open_kfid, &req.external_userid))
    })?;
    let mut v = json!({ "service_state": state });
    if state == KfServiceState::Servicer {
        v["servicer_userid"] = json!(servicer);
    }
    answer(v)
}

async fn service_state_trans(
    ctx: Ctx,
    req: KfServiceStateTransRequest,
) -> Result<KfServiceStateTransResponse, ApiError> {
    let now = ctx.state().now_secs();
    let msg_code = desk(&ctx).with(|d| {
        let account = d.account(&req.open_kfid)?;
        let to = req.service_state;
        let servicer = req.servicer_userid.clone().filter(|s| !s.is_empty());
        if to == KfServiceState::Servicer {
            let s = servicer.as_deref().unwrap_or_default();
            match account.servicers.get(s) {
                None => {
                    return Err(ApiError::new(
                        95014_i64,
                        format!("user is not servicer: {s} is not a servicer of {}", req.open_kfid),
                    ));
                }
                Some(status) if *status != 0 => {
                    return Err(ApiError::new(
                        95019_i64,
                        format!("servicer {s} has stopped receiving"),
                    ));
                }
                Some(_) => {}
            }
        }
        let (from, _) = d.state_of(&req.open_kfid, &req.external_userid);
        if from == KfServiceState::Ended && to != KfServiceState::Ended {
            // "不允许通过API变更会话状态" for an ended / not started session.
            return Err(ApiError::new(
                95016_i64,
                "not allow this state transition: the session has ended or not started (the customer's next message opens it)",
            ));
        }
        if !may_move(from, to) {
            return Err(ApiError::new(
                95016_i64,
                format!("not allow this state transition: {} -> {}", from.code(), to.code()),
            ));
        }
        let key = (req.open_kfid.clone(), req.external_userid.clone());
        let session = d.sessions.entry(key).or_insert(Session {
            state: from,
            servicer: None,
            last_customer_msg: now,
            sent: 0,
        });
        session.state = to;
        session.servicer = if to == KfServiceState::Servicer { servicer } else { None };
        Ok(if to == KfServiceState::Ended {
            Some(d.new_code(&req.open_kfid, &req.external_userid, now))
        } else {
            None
        })
    })?;
    answer(match msg_code {
        Some(c) => json!({ "msg_code": c }),
        None => json!({}),
    })
}

/// Cursor positions are opaque strings on the wire: `CUR` + the log index in hex.
fn parse_cursor(c: &str) -> Option<usize> {
    usize::from_str_radix(c.strip_prefix("CUR")?, 16).ok()
}

async fn sync_msg(ctx: Ctx, req: KfSyncMsgRequest) -> Result<KfSyncMsgResponse, ApiError> {
    let now = ctx.state().now_secs();
    let (msgs, next, has_more) = desk(&ctx).with(|d| {
        if let Some(t) = req.token.as_deref().filter(|t| !t.is_empty()) {
            // The callback's token: 10 minutes (page 94670). Without one the call is allowed
            // (WeCom limits its rate strictly; the sandbox's rate limits apply as configured).
            match d.tokens.get(t) {
                Some(issued) if now - *issued <= TOKEN_TTL_SECS => {}
                _ => {
                    return Err(ApiError::new(
                        95007_i64,
                        "invalid msg token: unknown, or older than 10 minutes",
                    ));
                }
            }
        }
        let kfid = req.open_kfid.as_deref().filter(|k| !k.is_empty());
        if let Some(k) = kfid {
            d.account(k)?;
        }
        let start = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => parse_cursor(c)
                .filter(|i| *i <= d.log.len())
                .ok_or_else(|| {
                    ApiError::invalid_parameter(format!(
                        "cursor {c:?} is not one sync_msg answered"
                    ))
                })?,
        };
        let limit = req.limit.unwrap_or(1000).clamp(1, 1000) as usize;
        let matches = |l: &desk::Logged| {
            kfid.is_none_or(|k| l.open_kfid == k) && now - l.send_time <= RETENTION_SECS
        };
        let mut msgs = Vec::new();
        let mut pos = start;
        while pos < d.log.len() && msgs.len() < limit {
            if matches(&d.log[pos]) {
                msgs.push(d.log[pos].json.clone());
            }
            pos += 1;
        }
        let has_more = d.log[pos..].iter().any(matches);
        Ok((msgs, format!("CUR{pos:x}"), has_more))
    })?;
    answer(json!({ "next_cursor": next, "has_more": u32::from(has_more), "msg_list": msgs }))
}

async fn send_msg(ctx: Ctx, req: KfSendMsgRequest) -> Result<KfSendMsgResponse, ApiError> {
    let now = ctx.state().now_secs();
    let msgid = desk(&ctx).with(|d| {
        d.account(&req.open_kfid)?;
        let key = (req.open_kfid.clone(), req.touser.clone());
        let Some(s) = d.sessions.get_mut(&key) else {
            return Err(ApiError::new(
                95018_i64,
                "send msg session status invalid: the customer has not written to this account",
            ));
        };
        // Page 94677: only while the session is new (0) or with the assistant (1).
        if !matches!(s.state, KfServiceState::New | KfServiceState::Assistant) {
            return Err(ApiError::new(
                95018_i64,
                format!("send msg session status invalid: state {}", s.state.code()),
            ));
        }
        if now - s.last_customer_msg > SEND_WINDOW_SECS {
            return Err(ApiError::new(
                95002_i64,
                "send msg time limit: more than 48 hours since the customer's last message",
            ));
        }
        if s.sent >= SEND_QUOTA {
            return Err(ApiError::new(
                95001_i64,
                "send msg count limit: 5 messages per customer message; wait for the customer to write",
            ));
        }
        s.sent += 1;
        let msgid = req.msgid.clone().unwrap_or_else(|| d.next_id("msg"));
        let mut body = serde_json::to_value(&req).unwrap_or(Value::Null);
        body["msgid"] = json!(msgid);
        body["send_time"] = json!(now);
        d.sent.push(body);
        Ok(msgid)
    })?;
    answer(json!({ "msgid": msgid }))
}

async fn send_msg_on_event(
    ctx: Ctx,
    req: KfSendMsgOnEventRequest,
) -> Result<KfSendMsgOnEventResponse, ApiError> {
    let now = ctx.state().now_secs();
    let msgid = desk(&ctx).with(|d| {
        // Single use, 20 seconds. The page (95122) is not in the corpus and names no errcode for a
        // spent code here; the sandbox answers 40058 (invalid parameter).
        let code = d
            .codes
            .remove(&req.code)
            .filter(|c| now - c.issued <= CODE_TTL_SECS)
            .ok_or_else(|| {
                ApiError::invalid_parameter(
                    "code is unknown, used, or older than 20 seconds: answer the event sooner",
                )
            })?;
        let msgid = req.msgid.clone().unwrap_or_else(|| d.next_id("msg"));
        let mut body = serde_json::to_value(&req).unwrap_or(Value::Null);
        body["msgid"] = json!(msgid);
        body["open_kfid"] = json!(code.open_kfid);
        body["touser"] = json!(code.external_userid);
        d.sent.push(body);
        Ok::<_, ApiError>(msgid)
    })?;
    answer(json!({ "msgid": msgid }))
}

async fn customer_batchget(
    ctx: Ctx,
    req: KfCustomerBatchgetRequest,
) -> Result<KfCustomerBatchgetResponse, ApiError> {
    let now = ctx.state().now_secs();
    let (found, invalid) = desk(&ctx).with(|d| {
        let mut found = Vec::new();
        let mut invalid = Vec::new();
        for id in &req.external_userid_list {
            // Page 95159: customers of the last 48 hours only.
            match d.customers.get(id) {
                Some((nick, at)) if now - at <= 48 * 3600 => {
                    found.push(
                        json!({"external_userid": id, "nickname": nick, "avatar": "", "gender": 0}),
                    );
                }
                _ => invalid.push(id.clone()),
            }
        }
        (found, invalid)
    });
    answer(json!({ "customer_list": found, "invalid_external_userid": invalid }))
}

async fn upgrade_config(
    ctx: Ctx,
    _req: KfCustomerGetUpgradeServiceConfigRequest,
) -> Result<KfCustomerGetUpgradeServiceConfigResponse, ApiError> {
    let (members, chats) =
        desk(&ctx).with(|d| (d.upgrade_members.clone(), d.upgrade_chats.clone()));
    answer(json!({
        "member_range": {"userid_list": members, "department_id_list": []},
        "groupchat_range": {"chat_id_list": chats},
    }))
}

async fn upgrade_service(
    ctx: Ctx,
    req: KfCustomerUpgradeServiceRequest,
) -> Result<KfCustomerUpgradeServiceResponse, ApiError> {
    desk(&ctx).with(|d| {
        d.account(&req.open_kfid)?;
        let ok = match (req.upgrade_type, &req.member, &req.groupchat) {
            (1, Some(m), _) => d.upgrade_members.contains(&m.userid),
            (2, _, Some(g)) => d.upgrade_chats.contains(&g.chat_id),
            _ => false,
        };
        if !ok {
            return Err(ApiError::invalid_parameter(
                "recommend a member (type 1, `member`) or group (type 2, `groupchat`) configured in 「升级服务」",
            ));
        }
        let body = serde_json::to_value(&req).unwrap_or(Value::Null);
        d.upgrades
            .insert((req.open_kfid.clone(), req.external_userid.clone()), body);
        Ok::<_, ApiError>(())
    })?;
    answer(json!({}))
}

async fn cancel_upgrade_service(
    ctx: Ctx,
    req: KfCustomerCancelUpgradeServiceRequest,
) -> Result<KfCustomerCancelUpgradeServiceResponse, ApiError> {
    desk(&ctx).with(|d| {
        d.account(&req.open_kfid)?;
        d.upgrades
            .remove(&(req.open_kfid.clone(), req.external_userid.clone()));
        Ok::<_, ApiError>(())
    })?;
    answer(json!({}))
}

/// The days of a statistics query: midnights (UTC+8, WeCom's) from start to end, at most 31
/// (page 95489: "最大查询跨度为31天").
fn stat_days(start: u32, end: u32) -> Result<Vec<i64>, ApiError> {
    let midnight = |t: u32| {
        let t = i64::from(t) + 8 * 3600;
        t - t.rem_euclid(86_400) - 8 * 3600
    };
    let (s, e) = (midnight(start), midnight(end));
    if e < s || (e - s) / 86_400 >= 31 {
        return Err(ApiError::invalid_parameter(
            "start_time..end_time must be 1 to 31 days, start first",
        ));
    }
    Ok((0..=(e - s) / 86_400).map(|i| s + i * 86_400).collect())
}

/// Counts from the log: customer messages, customers and sessions opened per day.
fn day_counts(d: &desk::Desk, open_kfid: &str, day: i64) -> (u64, u64) {
    let mut customers = std::collections::BTreeSet::new();
    let mut msgs = 0;
    for l in &d.log {
        if l.open_kfid == open_kfid
            && (day..day + 86_400).contains(&l.send_time)
            && l.json["origin"] == 3
        {
            msgs += 1;
            customers.insert(l.json["external_userid"].to_string());
        }
    }
    (msgs, customers.len() as u64)
}

async fn corp_statistic(
    ctx: Ctx,
    req: KfGetCorpStatisticRequest,
) -> Result<KfGetCorpStatisticResponse, ApiError> {
    let days = stat_days(req.start_time, req.end_time)?;
    let list = desk(&ctx).with(|d| {
        d.account(&req.open_kfid)?;
        Ok::<_, ApiError>(
            days.iter()
                .map(|day| {
                    let (msgs, customers) = day_counts(d, &req.open_kfid, *day);
                    json!({"stat_time": day, "statistic": {
                        "session_cnt": customers, "customer_cnt": customers, "customer_msg_cnt": msgs,
                        "upgrade_service_customer_cnt": 0, "ai_session_reply_cnt": 0,
                        "ai_transfer_rate": 0, "ai_knowledge_hit_rate": 0, "msg_rejected_customer_cnt": 0}})
                })
                .collect::<Vec<_>>(),
        )
    })?;
    answer(json!({ "statistic_list": list }))
}

async fn servicer_statistic(
    ctx: Ctx,
    req: KfGetServicerStatisticRequest,
) -> Result<KfGetServicerStatisticResponse, ApiError> {
    let days = stat_days(req.start_time, req.end_time)?;
    let list = desk(&ctx).with(|d| {
        let a = d.account(&req.open_kfid)?;
        if let Some(s) = &req.servicer_userid
            && !a.servicers.contains_key(s)
        {
            return Err(ApiError::new(
                95014_i64,
                format!("user is not servicer: {s}"),
            ));
        }
        Ok(days
            .iter()
            .map(|day| {
                let (msgs, customers) = day_counts(d, &req.open_kfid, *day);
                json!({"stat_time": day, "statistic": {
                    "session_cnt": 0, "customer_cnt": customers, "customer_msg_cnt": msgs}})
            })
            .collect::<Vec<_>>())
    })?;
    answer(json!({ "statistic_list": list }))
}
