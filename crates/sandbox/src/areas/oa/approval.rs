//! Approvals (审批), check-in (打卡) and journals (汇报).
//!
//! Approvals: templates with controls (one built in, `sandbox-expense`, plus those made with
//! `create_template`); `applyevent` checks every value against its template control (WeCom's
//! 301025 "invalid control id" / wrong type) and creates an application in 审批中 (SpStatus 1);
//! approvers decide through the admin API ([`Admin::approval_decide`], `POST
//! /sandbox/approvals/{sp_no}/decide`), which moves SpStatus to 2 or 3 and pushes
//! `sys_approval_change` to the app that submitted it. A member can submit too
//! ([`Admin::approval_submit`], `POST /sandbox/approvals`), and both happen on the web page too
//! (`page.rs`: a form per template, approve/reject buttons per pending application).
//!
//! Check-in: one fixed-hours rule (Monday to Friday, 9:00-18:00, China time) for every member
//! not covered by a rule made with `add_checkin_option` (rules.rs);
//! records are generated for any range, deterministically from a seed ([`Admin::set_checkin_seed`])
//! with some late arrivals and early leaves, so day and month reports have real numbers.
//! Records added with `add_checkin_record` or `punch_correction` join them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use wecom_callback::generated::events::{ApprovalApplyer as CbApplyer, ApprovalInfo};
use wecom_callback::xml::Element;
use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_oa::approval::{Control, ControlKind, controls_of};
use wecom_oa::generated::oa::*;

use crate::admin::{Admin, AdminError};
use crate::app::App;
use crate::callbacks::CallbackRecord;
use crate::corp::Actor;
use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};
use crate::state::{State, lock};

mod page;
pub(crate) use page::page_section;

/// The approval pages' "parameter error" (审批开放接口参数错误).
const PARAM: i64 = 301025;
/// The id of the template every sandbox starts with.
pub const BUILTIN_TEMPLATE: &str = "sandbox-expense";
/// China time, in which check-in days start.
const TZ: i64 = 8 * 3600;
const DAY: i64 = 86_400;
const ON_DUTY: i64 = 9 * 3600;
const OFF_DUTY: i64 = 18 * 3600;

#[derive(Debug, Clone)]
struct Application {
    detail: ApprovalDetail,
    agentid: Option<u32>,
}

/// A rule id and the `(day, schedule_id)` pairs of a month.
type MonthSchedule = (u32, Vec<(u32, u32)>);

#[derive(Default)]
struct Book {
    templates: BTreeMap<String, (Vec<ApprovalText>, ApprovalTemplateContent)>,
    applications: BTreeMap<String, Application>,
    seq: u64,
    quotas: HashMap<String, BTreeMap<u32, u32>>,
    extra_records: Vec<CheckinRecord>,
    device_records: Vec<HardwareCheckin>,
    /// Per member and month (`YYYYMM`): the rule and `(day, schedule_id)` pairs.
    schedules: HashMap<(String, u32), MonthSchedule>,
    faces: HashSet<String>,
    seed: u64,
}

#[derive(Default)]
struct OaState(Mutex<Option<Book>>);

fn build<T: serde::de::DeserializeOwned + Default>(v: Value) -> T {
    // Generated answers and models are `#[non_exhaustive]`: built from their wire form, which
    // the types' own serde derive defines.
    serde_json::from_value(v).unwrap_or_default()
}

fn text(s: &str) -> ApprovalText {
    ApprovalText::new(s, "zh_CN")
}

fn builtin() -> (Vec<ApprovalText>, ApprovalTemplateContent) {
    let content: ApprovalTemplateContent = serde_json::from_value(json!({ "controls": [
        { "property": { "control": "Text", "id": "Text-1", "title": [{ "text": "事由", "lang": "zh_CN" }], "require": 1 } },
        { "property": { "control": "Money", "id": "Money-2", "title": [{ "text": "金额", "lang": "zh_CN" }], "require": 1 } },
        { "property": { "control": "Selector", "id": "Selector-3", "title": [{ "text": "类型", "lang": "zh_CN" }], "require": 0 },
          "config": { "selector": { "type": "single", "options": [
            { "key": "option-1", "value": [{ "text": "差旅", "lang": "zh_CN" }] },
            { "key": "option-2", "value": [{ "text": "餐费", "lang": "zh_CN" }] } ] } } },
        { "property": { "control": "Date", "id": "Date-4", "title": [{ "text": "日期", "lang": "zh_CN" }], "require": 0 },
          "config": { "date": { "type": "day" } } }
    ] }))
    .unwrap_or_default();
    (vec![text("报销")], content)
}

fn with_book<R>(state: &State, f: impl FnOnce(&mut Book) -> R) -> R {
    let ext = state.extension::<OaState>();
    let mut guard = lock(&ext.0);
    let book = guard.get_or_insert_with(|| {
        let mut b = Book {
            seed: 42,
            ..Book::default()
        };
        b.templates.insert(BUILTIN_TEMPLATE.to_owned(), builtin());
        b
    });
    f(book)
}

fn param(msg: impl Into<String>) -> ApiError {
    ApiError::new(PARAM, format!("get approval param error:{}", msg.into()))
}

/// Registers the handlers of this part.
pub fn register(r: &mut Registry) {
    r.add::<ApprovalTemplateDetailRequest, _, _>(template_detail);
    r.add::<ApprovalCreateTemplateRequest, _, _>(create_template);
    r.add::<ApprovalUpdateTemplateRequest, _, _>(update_template);
    r.add::<ApprovalApplyRequest, _, _>(apply);
    r.add::<ApprovalInfoRequest, _, _>(info);
    r.add::<ApprovalDetailRequest, _, _>(detail);
    r.add::<VacationCorpConfRequest, _, _>(vacation_conf);
    r.add::<VacationUserQuotaRequest, _, _>(vacation_quota);
    r.add::<VacationSetUserQuotaRequest, _, _>(vacation_set_quota);
    r.add::<OpenApprovalDataRequest, _, _>(open_approval_data);
    r.add::<CheckinCorpOptionRequest, _, _>(corp_option);
    r.add::<CheckinOptionRequest, _, _>(user_option);
    r.add::<CheckinRecordsRequest, _, _>(records);
    r.add::<CheckinDayDataRequest, _, _>(day_data);
    r.add::<CheckinMonthDataRequest, _, _>(month_data);
    r.add::<CheckinScheduleListRequest, _, _>(schedule_list);
    r.add::<CheckinSetScheduleListRequest, _, _>(set_schedule_list);
    r.add::<CheckinAddUserFaceRequest, _, _>(add_face);
    r.add::<CheckinPunchCorrectionRequest, _, _>(punch_correction);
    r.add::<CheckinAddRecordRequest, _, _>(add_record);
    r.add::<CheckinHardwareDataRequest, _, _>(hardware_data);
    r.add::<JournalRecordListRequest, _, _>(journal_list);
    r.add::<JournalRecordDetailRequest, _, _>(journal_detail);
    r.add::<JournalStatListRequest, _, _>(journal_stats);
}

// ---- approvals ----------------------------------------------------------------------------------

async fn template_detail(
    ctx: Ctx,
    req: ApprovalTemplateDetailRequest,
) -> Result<ApprovalTemplateDetailResponse, ApiError> {
    let (names, content) =
        with_book(ctx.state(), |b| b.templates.get(&req.template_id).cloned())
            .ok_or_else(|| param(format!("template_id {} not found", req.template_id)))?;
    Ok(build::<ApprovalTemplateDetailResponse>(json!({
        "template_names": names,
        "template_content": Some(content),})))
}

fn name_taken(b: &Book, names: &[ApprovalText], except: Option<&str>) -> bool {
    b.templates.iter().any(|(id, (n, _))| {
        Some(id.as_str()) != except && n.iter().any(|a| names.iter().any(|x| x.text == a.text))
    })
}

async fn create_template(
    ctx: Ctx,
    req: ApprovalCreateTemplateRequest,
) -> Result<ApprovalCreateTemplateResponse, ApiError> {
    let content = req.template_content.unwrap_or_default();
    with_book(ctx.state(), |b| {
        if name_taken(b, &req.template_name, None) {
            return Err(param("template name already exists"));
        }
        b.seq += 1;
        let id = format!("tpl{:08}", b.seq);
        b.templates.insert(id.clone(), (req.template_name, content));
        Ok(build::<ApprovalCreateTemplateResponse>(
            json!({ "template_id": id }),
        ))
    })
}

async fn update_template(
    ctx: Ctx,
    req: ApprovalUpdateTemplateRequest,
) -> Result<ApprovalUpdateTemplateResponse, ApiError> {
    with_book(ctx.state(), |b| {
        if !b.templates.contains_key(&req.template_id) {
            return Err(param(format!("template_id {} not found", req.template_id)));
        }
        if name_taken(b, &req.template_name, Some(&req.template_id)) {
            return Err(param("template name already exists"));
        }
        b.templates.insert(
            req.template_id.clone(),
            (req.template_name, req.template_content.unwrap_or_default()),
        );
        Ok(build::<ApprovalUpdateTemplateResponse>(json!({})))
    })
}

/// Checks an application's values against its template (control ids, types, required ones).
fn check_against(controls: &[Control], data: &ApprovalApplyData) -> Result<(), ApiError> {
    for c in &data.contents {
        let t = controls
            .iter()
            .find(|t| t.id == c.id)
            .ok_or_else(|| param(format!("invalid control id {}", c.id)))?;
        if t.type_name() != c.control {
            return Err(param(format!(
                "control {} ({}) is a {} control, not {}",
                c.id,
                t.title,
                t.type_name(),
                c.control
            )));
        }
    }
    for t in controls {
        let input = !matches!(t.kind, ControlKind::Tips | ControlKind::Formula);
        if t.required && input && !data.contents.iter().any(|c| c.id == t.id) {
            return Err(param(format!("control {} ({}) is required", t.id, t.title)));
        }
    }
    Ok(())
}

async fn submit(
    state: &Arc<State>,
    agentid: Option<u32>,
    creator: &str,
    template_id: &str,
    approvers: Vec<String>,
    notifyer: Vec<String>,
    data: ApprovalApplyData,
) -> Result<(String, Vec<CallbackRecord>), ApiError> {
    let (party, visible) = {
        let corp = state.corp();
        let m = corp
            .member(creator)
            .map_err(|_| param(format!("creator_userid {creator} not found")))?;
        let visible = match agentid {
            Some(a) => corp.check_user_visible(Actor::App(a), creator).is_ok(),
            None => true,
        };
        (m.department.first().copied().unwrap_or(1), visible)
    };
    if !visible {
        return Err(param("creator_userid not in app visiable range"));
    }
    let now = state.now_secs();
    let detail = with_book(state, |b| {
        let (names, content) = b
            .templates
            .get(template_id)
            .cloned()
            .ok_or_else(|| param(format!("template_id {template_id} not found")))?;
        check_against(&controls_of(&content), &data)?;
        b.seq += 1;
        let day = (now + TZ).div_euclid(DAY);
        let (y, m, d) = civil(day);
        let sp_no = format!("{y:04}{m:02}{d:02}{:04}", b.seq % 10_000);
        let contents: Vec<ApprovalContent> = data
            .contents
            .iter()
            .cloned()
            .map(|mut c| {
                if c.title.is_empty() {
                    c.title = controls_of(&content)
                        .iter()
                        .find(|t| t.id == c.id)
                        .map(|t| vec![text(&t.title)])
                        .unwrap_or_default();
                }
                c
            })
            .collect();
        let detail = build::<ApprovalDetail>(json!({
            "sp_no": sp_no.clone(),
            "sp_name": names.first().map(|n| n.text.clone()),
            "sp_status": SpStatus::InReview,
            "template_id": Some(template_id.to_owned()),
            "apply_time": Some(now),
            "applyer": Some(build::<ApprovalApplyer>(json!({
                "userid": creator.to_owned(),
                "partyid": Some(party.to_string()),}))),
            "sp_record": vec![build::<ApprovalSpRecord>(json!({
                "sp_status": Some(1),
                "approverattr": Some(1),
                "details": approvers
                    .iter()
                    .map(|u| build::<ApprovalSpDetail>(json!({
                        "approver": build::<ApprovalUser>(json!({ "userid": u.clone() })),
                        "speech": Some(String::new()),
                        "sp_status": Some(1),
                        "sptime": Some(0),
                        "media_id": [],})))
                    .collect::<Vec<_>>(),}))],
            "notifyer": notifyer
                .into_iter()
                .map(|userid| build::<ApprovalUser>(json!({ "userid": userid })))
                .collect::<Vec<_>>(),
            "apply_data": Some(build::<ApprovalApplyData>(json!({ "contents": contents }))),
            "comments": [],
            "process_list": null,}));
        b.applications.insert(
            sp_no.clone(),
            Application {
                detail: detail.clone(),
                agentid,
            },
        );
        Ok::<_, ApiError>(detail)
    })?;
    let pushed = push_change(state, agentid, &detail, 1).await;
    Ok((detail.sp_no, pushed))
}

async fn push_change(
    state: &Arc<State>,
    agentid: Option<u32>,
    detail: &ApprovalDetail,
    change: i64,
) -> Vec<CallbackRecord> {
    let Some(agentid) = agentid else {
        return Vec::new();
    };
    let (corpid, cfg) = {
        let corp = state.corp();
        let cfg = corp.app(agentid).ok().and_then(|a| a.callback.clone());
        (corp.corpid().to_owned(), cfg)
    };
    let Some(cfg) = cfg else {
        return Vec::new();
    };
    let now = state.now_secs();
    let mut records = Vec::new();
    for r in &detail.sp_record {
        let mut details = Vec::new();
        for d in &r.details {
            details.push(Element {
                name: "Details".into(),
                text: String::new(),
                children: vec![
                    Element {
                        name: "Approver".into(),
                        text: String::new(),
                        children: vec![Element::leaf("UserId", d.approver.userid.clone())],
                    },
                    Element::leaf("Speech", d.speech.clone().unwrap_or_default()),
                    Element::leaf("SpStatus", d.sp_status.unwrap_or(1).to_string()),
                    Element::leaf("SpTime", d.sptime.unwrap_or(0).to_string()),
                ],
            });
        }
        let mut children = vec![
            Element::leaf("SpStatus", r.sp_status.unwrap_or(1).to_string()),
            Element::leaf("ApproverAttr", r.approverattr.unwrap_or(1).to_string()),
        ];
        children.extend(details);
        records.push(Element {
            name: "SpRecord".into(),
            text: String::new(),
            children,
        });
    }
    for n in &detail.notifyer {
        records.push(Element {
            name: "Notifyer".into(),
            text: String::new(),
            children: vec![Element::leaf("UserId", n.userid.clone())],
        });
    }
    let applyer = detail
        .applyer
        .clone()
        .unwrap_or(build::<ApprovalApplyer>(json!({
        "userid": String::new(),
        "partyid": null,})));
    let xml = Inbound::Event(Event {
        header: Header {
            to_user_name: corpid.clone(),
            from_user_name: "sys".into(),
            create_time: now,
            agent_id: Some(i64::from(agentid)),
        },
        kind: EventKind::SysApprovalChange(ApprovalInfo {
            sp_no: detail.sp_no.clone(),
            sp_no_str: Some(detail.sp_no.clone()),
            sp_name: detail.sp_name.clone().unwrap_or_default(),
            sp_status: sp_status_code(&detail.sp_status),
            template_id: detail.template_id.clone().unwrap_or_default(),
            apply_time: detail.apply_time.unwrap_or(0),
            applyer: CbApplyer {
                user_id: applyer.userid,
                party: applyer.partyid.unwrap_or_default(),
            },
            statu_change_event: change,
            records,
        }),
    })
    .to_xml();
    vec![
        state
            .callbacks
            .push(&cfg, &corpid, Some(agentid), &xml, now)
            .await,
    ]
}

fn sp_status_code(s: &SpStatus) -> i64 {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
}

fn caller_agent(ctx: &Ctx) -> Option<u32> {
    match ctx.caller() {
        Caller::App(a) => Some(*a),
        _ => None,
    }
}

async fn apply(ctx: Ctx, req: ApprovalApplyRequest) -> Result<ApprovalApplyResponse, ApiError> {
    let approvers: Vec<String> = req
        .process
        .as_ref()
        .map(|p| {
            p.node_list
                .iter()
                .filter(|n| n.node_type == 1)
                .flat_map(|n| n.userid.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut notifyer: Vec<String> = req
        .process
        .as_ref()
        .map(|p| {
            p.node_list
                .iter()
                .filter(|n| n.node_type == 2)
                .flat_map(|n| n.userid.clone())
                .collect()
        })
        .unwrap_or_default();
    notifyer.extend(req.notifyer.iter().cloned());
    {
        let corp = ctx.state().corp();
        for u in approvers.iter().chain(&notifyer) {
            if corp.member(u).is_err() {
                return Err(param(format!("userid {u} in the flow not found")));
            }
        }
    }
    let (sp_no, _) = submit(
        ctx.state(),
        caller_agent(&ctx),
        &req.creator_userid,
        &req.template_id,
        approvers,
        notifyer,
        req.apply_data,
    )
    .await?;
    Ok(build::<ApprovalApplyResponse>(json!({ "sp_no": sp_no })))
}

async fn info(ctx: Ctx, req: ApprovalInfoRequest) -> Result<ApprovalInfoResponse, ApiError> {
    let start: i64 = req
        .starttime
        .parse()
        .map_err(|_| param("invalid starttime or endtime"))?;
    let end: i64 = req
        .endtime
        .parse()
        .map_err(|_| param("invalid starttime or endtime"))?;
    if end < start {
        return Err(param("invalid starttime or endtime"));
    }
    let offset: usize = match req.new_cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c.parse().map_err(|_| param("invalid new_cursor"))?,
    };
    let size = req.size.unwrap_or(100) as usize;
    let agent = caller_agent(&ctx);
    let all: Vec<ApprovalDetail> = with_book(ctx.state(), |b| {
        b.applications.values().map(|a| a.detail.clone()).collect()
    });
    let corp = ctx.state().corp();
    let matching: Vec<String> = all
        .into_iter()
        .filter(|d| d.apply_time.is_some_and(|t| t >= start && t <= end))
        .filter(|d| {
            let creator = d.applyer.as_ref().map(|a| a.userid.as_str()).unwrap_or("");
            agent.is_none_or(|a| corp.check_user_visible(Actor::App(a), creator).is_ok())
        })
        .filter(|d| {
            req.filters.iter().all(|f| match f.key.as_str() {
                "template_id" => d.template_id.as_deref() == Some(f.value.as_str()),
                "creator" => d.applyer.as_ref().is_some_and(|a| a.userid == f.value),
                "sp_status" => sp_status_code(&d.sp_status).to_string() == f.value,
                "department" => d
                    .applyer
                    .as_ref()
                    .and_then(|a| a.partyid.as_deref())
                    .is_some_and(|p| p == f.value),
                _ => true,
            })
        })
        .map(|d| d.sp_no)
        .collect();
    let page: Vec<String> = matching.iter().skip(offset).take(size).cloned().collect();
    let next = offset + page.len();
    Ok(build::<ApprovalInfoResponse>(json!({
        "sp_no_list": page,
        "new_next_cursor": Some(if next < matching.len() {
            next.to_string()
        } else {
            String::new()
        }),})))
}

async fn detail(ctx: Ctx, req: ApprovalDetailRequest) -> Result<ApprovalDetailResponse, ApiError> {
    let info = with_book(ctx.state(), |b| {
        b.applications.get(&req.sp_no).map(|a| a.detail.clone())
    })
    .ok_or_else(|| param(format!("sp_no {} not found", req.sp_no)))?;
    Ok(build::<ApprovalDetailResponse>(json!({ "info": info })))
}

fn vacations() -> Vec<VacationConf> {
    [(1, "年假", 0), (2, "事假", 0), (3, "病假", 1)]
        .into_iter()
        .map(|(id, name, attr)| {
            build::<VacationConf>(json!({
            "id": id,
            "name": Some(name.to_owned()),
            "time_attr": Some(attr),
            "duration_type": Some(0),
            "quota_attr": null,
            "perday_duration": Some(86_400),
            "is_newovertime": Some(0),
            "enter_comp_time_limit": Some(0),
            "expire_rule": null,}))
        })
        .collect()
}

async fn vacation_conf(
    _ctx: Ctx,
    _req: VacationCorpConfRequest,
) -> Result<VacationCorpConfResponse, ApiError> {
    Ok(build::<VacationCorpConfResponse>(
        json!({ "lists": vacations() }),
    ))
}

async fn vacation_quota(
    ctx: Ctx,
    req: VacationUserQuotaRequest,
) -> Result<VacationUserQuotaResponse, ApiError> {
    if ctx.state().corp().member(&req.userid).is_err() {
        return Err(ApiError::new(301063, "userid not found"));
    }
    let set = with_book(ctx.state(), |b| b.quotas.get(&req.userid).cloned()).unwrap_or_default();
    let lists: Vec<VacationQuota> = vacations()
        .into_iter()
        .map(|v| {
            let left = set.get(&v.id).copied().unwrap_or(5 * 86_400);
            build::<VacationQuota>(json!({
                "id": v.id,
                "assignduration": Some(left),
                "usedduration": Some(0),
                "leftduration": Some(left),
                "vacationname": v.name,
                "real_assignduration": Some(left),}))
        })
        .collect();
    Ok(build::<VacationUserQuotaResponse>(
        json!({ "lists": lists }),
    ))
}

async fn vacation_set_quota(
    ctx: Ctx,
    req: VacationSetUserQuotaRequest,
) -> Result<VacationSetUserQuotaResponse, ApiError> {
    if ctx.state().corp().member(&req.userid).is_err() {
        return Err(ApiError::new(301063, "userid not found"));
    }
    let conf = vacations()
        .into_iter()
        .find(|v| v.id == req.vacation_id)
        .ok_or_else(|| ApiError::new(301063, "vacation_id not found"))?;
    if conf.time_attr != Some(req.time_attr) {
        return Err(ApiError::new(
            301063,
            "time_attr differs from the leave type's setting",
        ));
    }
    with_book(ctx.state(), |b| {
        b.quotas
            .entry(req.userid.clone())
            .or_default()
            .insert(req.vacation_id, req.leftduration)
    });
    Ok(build::<VacationSetUserQuotaResponse>(json!({})))
}

async fn open_approval_data(
    _ctx: Ctx,
    req: OpenApprovalDataRequest,
) -> Result<OpenApprovalDataResponse, ApiError> {
    // The sandbox has no self-built approval flow engine (applications there start from the
    // JS-SDK in the client), so no thirdNo exists.
    Err(ApiError::invalid_parameter(format!(
        "thirdNo {} not found",
        req.third_no
    )))
}

// ---- check-in -----------------------------------------------------------------------------------

fn rule() -> CheckinGroup {
    build::<CheckinGroup>(json!({
        "grouptype": Some(1),
        "groupid": 1,
        "groupname": Some("标准工时"),
        "checkindate": vec![build::<CheckinDateRule>(json!({
            "workdays": vec![1, 2, 3, 4, 5],
            "checkintime": vec![build::<CheckinTime>(json!({
                "work_sec": ON_DUTY as u32,
                "off_work_sec": OFF_DUTY as u32,
                "remind_work_sec": Some((ON_DUTY - 600) as u32),
                "remind_off_work_sec": Some(OFF_DUTY as u32),}))],
            "noneed_offwork": Some(false),
            "limit_aheadtime": Some(10_800_000),
            "flex_on_duty_time": Some(0),
            "flex_off_duty_time": Some(0),}))],
        "spe_workdays": null,
        "spe_offdays": null,
        "sync_holidays": Some(false),
        "need_photo": Some(false),
        "open_sp_checkin": Some(false),}))
}

async fn corp_option(
    ctx: Ctx,
    _req: CheckinCorpOptionRequest,
) -> Result<CheckinCorpOptionResponse, ApiError> {
    // The built-in rule, then the rules made with add_checkin_option (rules.rs).
    let mut groups = vec![rule()];
    groups.extend(super::rules::created(ctx.state()));
    Ok(build::<CheckinCorpOptionResponse>(
        json!({ "group": groups }),
    ))
}

fn known_members(state: &State, ids: &[String]) -> Vec<(String, String)> {
    let corp = state.corp();
    ids.iter()
        .filter_map(|u| {
            corp.member(u)
                .ok()
                .map(|m| (m.userid.clone(), m.name.clone()))
        })
        .collect()
}

async fn user_option(
    ctx: Ctx,
    req: CheckinOptionRequest,
) -> Result<CheckinOptionResponse, ApiError> {
    let info: Vec<CheckinUserOption> = known_members(ctx.state(), &req.useridlist)
        .into_iter()
        .map(|(userid, _)| {
            let group = super::rules::rule_for(ctx.state(), &userid).unwrap_or_else(rule);
            build::<CheckinUserOption>(json!({
            "userid": userid,
            "group": Some(group),}))
        })
        .collect();
    Ok(build::<CheckinOptionResponse>(json!({ "info": info })))
}

/// A small deterministic hash (splitmix64) of the seed, the member and the day.
fn mix(seed: u64, userid: &str, day: i64, salt: u64) -> u64 {
    let mut x = seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (day as u64).rotate_left(17);
    for b in userid.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
    }
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Days (index since the epoch, China time) whose 0:00 falls in `[start, end]` or that
/// `start`/`end` fall in.
fn days(start: i64, end: i64) -> std::ops::RangeInclusive<i64> {
    (start + TZ).div_euclid(DAY)..=(end + TZ).div_euclid(DAY)
}

fn is_workday(day: i64) -> bool {
    // 1970-01-01 was a Thursday (4).
    let weekday = (day + 4).rem_euclid(7);
    (1..=5).contains(&weekday)
}

/// The generated on- and off-duty times (Unix seconds) of a member on a workday.
fn generated_times(seed: u64, userid: &str, day: i64) -> (i64, i64) {
    let base = day * DAY - TZ;
    let on_jitter = (mix(seed, userid, day, 1) % 1800) as i64 - 1200; // -20 .. +10 min
    let off_jitter = (mix(seed, userid, day, 2) % 4500) as i64 - 900; // -15 .. +60 min
    (base + ON_DUTY + on_jitter, base + OFF_DUTY + off_jitter)
}

fn generated_records(seed: u64, userid: &str, start: i64, end: i64) -> Vec<CheckinRecord> {
    let mut out = Vec::new();
    for day in days(start, end) {
        if !is_workday(day) {
            continue;
        }
        let base = day * DAY - TZ;
        let (on, off) = generated_times(seed, userid, day);
        for (t, kind, sch) in [
            (on, "上班打卡", base + ON_DUTY),
            (off, "下班打卡", base + OFF_DUTY),
        ] {
            if t < start || t > end {
                continue;
            }
            let late = (kind == "上班打卡" && t > sch) || (kind == "下班打卡" && t < sch);
            out.push(build::<CheckinRecord>(json!({
                "userid": userid.to_owned(),
                "groupname": Some("标准工时"),
                "checkin_type": kind,
                "exception_type": Some(if late { "时间异常".into() } else { String::new() }),
                "checkin_time": t,
                "location_title": Some("总部"),
                "location_detail": Some("深圳市南山区"),
                "wifiname": Some(String::new()),
                "notes": Some(String::new()),
                "wifimac": Some(String::new()),
                "mediaids": [],
                "sch_checkin_time": Some(sch),
                "groupid": Some(1),
                "schedule_id": Some(0),
                "timeline_id": Some(1),})));
        }
    }
    out
}

async fn records(ctx: Ctx, req: CheckinRecordsRequest) -> Result<CheckinRecordsResponse, ApiError> {
    let members = known_members(ctx.state(), &req.useridlist);
    let (seed, extra) = with_book(ctx.state(), |b| (b.seed, b.extra_records.clone()));
    let mut checkindata = Vec::new();
    if req.opencheckindatatype != 2 {
        for (u, _) in &members {
            checkindata.extend(generated_records(seed, u, req.starttime, req.endtime));
        }
    }
    checkindata.extend(extra.into_iter().filter(|r| {
        r.checkin_time >= req.starttime
            && r.checkin_time <= req.endtime
            && members.iter().any(|(u, _)| *u == r.userid)
    }));
    Ok(build::<CheckinRecordsResponse>(
        json!({ "checkindata": checkindata }),
    ))
}

struct DayFigures {
    on: i64,
    off: i64,
    late: i64,
    early: i64,
}

fn day_figures(seed: u64, userid: &str, day: i64) -> Option<DayFigures> {
    if !is_workday(day) {
        return None;
    }
    let base = day * DAY - TZ;
    let (on, off) = generated_times(seed, userid, day);
    Some(DayFigures {
        on: on - base,
        off: off - base,
        late: (on - base - ON_DUTY).max(0),
        early: (base + OFF_DUTY - off).max(0),
    })
}

fn exceptions(late: (u32, i64), early: (u32, i64)) -> Vec<CheckinException> {
    let mut out = Vec::new();
    if late.0 > 0 {
        out.push(build::<CheckinException>(json!({
            "exception": 1,
            "count": Some(late.0),
            "duration": Some(late.1),})));
    }
    if early.0 > 0 {
        out.push(build::<CheckinException>(json!({
            "exception": 2,
            "count": Some(early.0),
            "duration": Some(early.1),})));
    }
    out
}

async fn day_data(
    ctx: Ctx,
    req: CheckinDayDataRequest,
) -> Result<CheckinDayDataResponse, ApiError> {
    let members = known_members(ctx.state(), &req.useridlist);
    let seed = with_book(ctx.state(), |b| b.seed);
    let mut datas = Vec::new();
    for (u, name) in &members {
        for day in days(req.starttime, req.endtime) {
            let f = day_figures(seed, u, day);
            let summary = match &f {
                Some(f) => build::<CheckinDaySummary>(json!({
                    "checkin_count": Some(2),
                    "regular_work_sec": Some(f.off.min(OFF_DUTY) - f.on.max(ON_DUTY)),
                    "standard_work_sec": Some(OFF_DUTY - ON_DUTY),
                    "earliest_time": Some(f.on),
                    "lastest_time": Some(f.off),})),
                None => build::<CheckinDaySummary>(json!({
                    "checkin_count": Some(0),
                    "regular_work_sec": Some(0),
                    "standard_work_sec": Some(0),
                    "earliest_time": Some(0),
                    "lastest_time": Some(0),})),
            };
            let exc = f
                .as_ref()
                .map(|f| {
                    exceptions(
                        (u32::from(f.late > 0), f.late),
                        (u32::from(f.early > 0), f.early),
                    )
                })
                .unwrap_or_default();
            datas.push(build::<CheckinDayData>(json!({
                "base_info": build::<CheckinDayBase>(json!({
                    "date": day * DAY - TZ,
                    "record_type": Some(1),
                    "name": Some(name.clone()),
                    "name_ex": Some(String::new()),
                    "departs_name": Some(String::new()),
                    "acctid": u.clone(),
                    "rule_info": Some(json!({ "groupid": 1, "groupname": "标准工时" })),})),
                "summary_info": Some(summary),
                "holiday_infos": null,
                "exception_infos": exc,
                "ot_info": null,
                "sp_items": null,})));
        }
    }
    Ok(build::<CheckinDayDataResponse>(json!({ "datas": datas })))
}

async fn month_data(
    ctx: Ctx,
    req: CheckinMonthDataRequest,
) -> Result<CheckinMonthDataResponse, ApiError> {
    let members = known_members(ctx.state(), &req.useridlist);
    let seed = with_book(ctx.state(), |b| b.seed);
    let mut datas = Vec::new();
    for (u, name) in &members {
        let (mut work, mut rest, mut except, mut regular) = (0u32, 0u32, 0u32, 0i64);
        let (mut late, mut early) = ((0u32, 0i64), (0u32, 0i64));
        for day in days(req.starttime, req.endtime) {
            match day_figures(seed, u, day) {
                Some(f) => {
                    work += 1;
                    regular += f.off.min(OFF_DUTY) - f.on.max(ON_DUTY);
                    if f.late > 0 || f.early > 0 {
                        except += 1;
                    }
                    if f.late > 0 {
                        late = (late.0 + 1, late.1 + f.late);
                    }
                    if f.early > 0 {
                        early = (early.0 + 1, early.1 + f.early);
                    }
                }
                None => rest += 1,
            }
        }
        datas.push(build::<CheckinMonthData>(json!({
            "base_info": build::<CheckinMonthBase>(json!({
                "record_type": Some(1),
                "name": Some(name.clone()),
                "name_ex": Some(String::new()),
                "departs_name": Some(String::new()),
                "acctid": u.clone(),
                "rule_info": Some(json!({ "groupid": 1, "groupname": "标准工时" })),})),
            "summary_info": Some(build::<CheckinMonthSummary>(json!({
                "work_days": Some(work),
                "except_days": Some(except),
                "regular_work_sec": Some(regular),
                "standard_work_sec": Some(i64::from(work) * (OFF_DUTY - ON_DUTY)),
                "rest_days": Some(rest),}))),
            "exception_infos": exceptions(late, early),
            "sp_items": null,
            "overwork_info": null,})));
    }
    Ok(build::<CheckinMonthDataResponse>(json!({ "datas": datas })))
}

async fn schedule_list(
    ctx: Ctx,
    req: CheckinScheduleListRequest,
) -> Result<CheckinScheduleListResponse, ApiError> {
    let members = known_members(ctx.state(), &req.useridlist);
    let months: HashSet<u32> = days(req.starttime, req.endtime)
        .map(|d| {
            let (y, m, _) = civil(d);
            (y * 100 + m) as u32
        })
        .collect();
    let schedule_list = with_book(ctx.state(), |b| {
        let mut out = Vec::new();
        for (u, _) in &members {
            let mut ms: Vec<&u32> = months.iter().collect();
            ms.sort();
            for ym in ms {
                if let Some((groupid, days)) = b.schedules.get(&(u.clone(), *ym)) {
                    out.push(build::<CheckinUserSchedule>(json!({
                        "userid": u.clone(),
                        "yearmonth": *ym,
                        "groupid": Some(*groupid),
                        "groupname": Some("排班"),
                        "schedule": Some(json!({ "scheduleList": days.iter().map(|(d, s)| json!({
                            "day": d, "schedule_info": { "schedule_id": s }
                        })).collect::<Vec<_>>() })),})));
                }
            }
        }
        out
    });
    Ok(build::<CheckinScheduleListResponse>(
        json!({ "schedule_list": schedule_list }),
    ))
}

async fn set_schedule_list(
    ctx: Ctx,
    req: CheckinSetScheduleListRequest,
) -> Result<CheckinSetScheduleListResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        for i in &req.items {
            if corp.member(&i.userid).is_err() {
                return Err(ApiError::new(
                    301021,
                    format!("userid {} is invalid", i.userid),
                ));
            }
        }
    }
    with_book(ctx.state(), |b| {
        for i in &req.items {
            let e = b
                .schedules
                .entry((i.userid.clone(), req.yearmonth))
                .or_insert((req.groupid, Vec::new()));
            e.0 = req.groupid;
            e.1.retain(|(d, _)| *d != i.day);
            e.1.push((i.day, i.schedule_id));
            e.1.sort();
        }
    });
    Ok(build::<CheckinSetScheduleListResponse>(json!({})))
}

async fn add_face(
    ctx: Ctx,
    req: CheckinAddUserFaceRequest,
) -> Result<CheckinAddUserFaceResponse, ApiError> {
    if ctx.state().corp().member(&req.userid).is_err() {
        return Err(ApiError::new(
            301021,
            format!("userid {} is invalid", req.userid),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.userface.as_bytes())
        .map_err(|_| ApiError::invalid_parameter("userface is not base64"))?;
    if bytes.len() > 1024 * 1024 {
        return Err(ApiError::invalid_parameter("userface is over 1 MB"));
    }
    with_book(ctx.state(), |b| b.faces.insert(req.userid));
    Ok(build::<CheckinAddUserFaceResponse>(json!({})))
}

async fn punch_correction(
    ctx: Ctx,
    req: CheckinPunchCorrectionRequest,
) -> Result<CheckinPunchCorrectionResponse, ApiError> {
    if ctx.state().corp().member(&req.userid).is_err() {
        return Err(ApiError::new(
            301021,
            format!("userid {} is invalid", req.userid),
        ));
    }
    with_book(ctx.state(), |b| {
        b.extra_records.push(build::<CheckinRecord>(json!({
            "userid": req.userid.clone(),
            "groupname": Some("标准工时"),
            "checkin_type": Some("上班打卡"),
            "exception_type": Some(String::new()),
            "checkin_time": req.checkin_time,
            "location_title": null,
            "location_detail": null,
            "wifiname": null,
            "notes": Some(req.remark.clone()),
            "wifimac": null,
            "mediaids": [],
            "sch_checkin_time": req
                .schedule_checkin_time
                .map(|s| req.schedule_date_time + i64::from(s)),
            "groupid": Some(1),
            "schedule_id": Some(0),
            "timeline_id": Some(1),})))
    });
    Ok(build::<CheckinPunchCorrectionResponse>(json!({})))
}

async fn add_record(
    ctx: Ctx,
    req: CheckinAddRecordRequest,
) -> Result<CheckinAddRecordResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        for r in &req.records {
            if corp.member(&r.userid).is_err() {
                return Err(ApiError::new(
                    301021,
                    format!("userid {} is invalid", r.userid),
                ));
            }
            if r.wifiname.as_deref().is_some_and(|w| !w.is_empty()) && r.wifimac.is_none() {
                return Err(param("wifimac is required with wifiname"));
            }
        }
    }
    with_book(ctx.state(), |b| {
        for r in req.records {
            if matches!(r.device_type, Some(1 | 2)) {
                b.device_records.push(build::<HardwareCheckin>(json!({
                    "userid": r.userid.clone(),
                    "checkin_time": r.checkin_time,
                    "device_sn": Some(String::new()),
                    "device_name": r.device_detail.clone(),})));
            }
            b.extra_records.push(build::<CheckinRecord>(json!({
                "userid": r.userid,
                "groupname": Some("标准工时"),
                "checkin_type": Some("上班打卡"),
                "exception_type": Some(String::new()),
                "checkin_time": r.checkin_time,
                "location_title": r.location_title,
                "location_detail": r.location_detail,
                "wifiname": r.wifiname,
                "notes": r.notes,
                "wifimac": r.wifimac,
                "mediaids": r.mediaids,
                "sch_checkin_time": null,
                "groupid": Some(1),
                "schedule_id": Some(0),
                "timeline_id": Some(1),})));
        }
    });
    Ok(build::<CheckinAddRecordResponse>(json!({})))
}

async fn hardware_data(
    ctx: Ctx,
    req: CheckinHardwareDataRequest,
) -> Result<CheckinHardwareDataResponse, ApiError> {
    let wanted: HashSet<&String> = req.useridlist.iter().collect();
    let checkindata: Vec<HardwareCheckin> = with_book(ctx.state(), |b| {
        b.device_records
            .iter()
            .filter(|r| {
                wanted.contains(&r.userid)
                    && r.checkin_time >= req.starttime
                    && r.checkin_time <= req.endtime
            })
            .cloned()
            .collect()
    });
    Ok(build::<CheckinHardwareDataResponse>(
        json!({ "checkindata": checkindata }),
    ))
}

// ---- journals -----------------------------------------------------------------------------------

async fn journal_list(
    _ctx: Ctx,
    _req: JournalRecordListRequest,
) -> Result<JournalRecordListResponse, ApiError> {
    // Nobody writes journals in the sandbox (the 汇报 app is a client feature): the list is empty.
    Ok(build::<JournalRecordListResponse>(json!({
        "journaluuid_list": [],
        "next_cursor": Some(0),
        "endflag": Some(1),})))
}

async fn journal_detail(
    _ctx: Ctx,
    req: JournalRecordDetailRequest,
) -> Result<JournalRecordDetailResponse, ApiError> {
    Err(ApiError::invalid_parameter(format!(
        "journaluuid {} not found",
        req.journaluuid
    )))
}

async fn journal_stats(
    _ctx: Ctx,
    _req: JournalStatListRequest,
) -> Result<JournalStatListResponse, ApiError> {
    Ok(build::<JournalStatListResponse>(json!({
        "stat_list": [],})))
}

/// Year, month, day of a day index (days since 1970-01-01), proleptic Gregorian.
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// ---- admin --------------------------------------------------------------------------------------

impl Admin {
    /// An approver decides an application: `approve` moves SpStatus to 2 (已通过), else 3
    /// (已驳回), records the decision with `speech`, and pushes `sys_approval_change` to the app
    /// that submitted it (when it has a callback). Errors when the application is unknown or
    /// already decided.
    pub async fn approval_decide(
        &self,
        sp_no: &str,
        approver: &str,
        approve: bool,
        speech: &str,
    ) -> Result<Vec<CallbackRecord>, AdminError> {
        let state = Arc::clone(self.state());
        if state.corp().member(approver).is_err() {
            return Err(AdminError::Invalid(format!("no member {approver:?}")));
        }
        let now = state.now_secs();
        let (detail, agentid) = with_book(&state, |b| {
            let app = b
                .applications
                .get_mut(sp_no)
                .ok_or_else(|| AdminError::Invalid(format!("no application {sp_no:?}")))?;
            if app.detail.sp_status != SpStatus::InReview {
                return Err(AdminError::Invalid(format!(
                    "application {sp_no} is already decided"
                )));
            }
            let code = if approve { 2 } else { 3 };
            app.detail.sp_status = if approve {
                SpStatus::Approved
            } else {
                SpStatus::Rejected
            };
            let node = app.detail.sp_record.first_mut();
            if let Some(node) = node {
                node.sp_status = Some(code);
                match node
                    .details
                    .iter_mut()
                    .find(|d| d.approver.userid == approver)
                {
                    Some(d) => {
                        d.sp_status = Some(code);
                        d.speech = Some(speech.to_owned());
                        d.sptime = Some(now);
                    }
                    None => node.details.push(build::<ApprovalSpDetail>(json!({
                        "approver": build::<ApprovalUser>(json!({
                            "userid": approver.to_owned(),})),
                        "speech": Some(speech.to_owned()),
                        "sp_status": Some(code),
                        "sptime": Some(now),
                        "media_id": [],}))),
                }
            }
            Ok((app.detail.clone(), app.agentid))
        })?;
        Ok(push_change(&state, agentid, &detail, if approve { 2 } else { 3 }).await)
    }

    /// A member submits an application in the approval app (not through an API): checked
    /// against the template like `applyevent`; `agentid` is the app told about it (its callback
    /// gets `sys_approval_change`). Returns the application number and the push records.
    pub async fn approval_submit(
        &self,
        userid: &str,
        template_id: &str,
        approvers: Vec<String>,
        contents: Vec<ApprovalContent>,
        agentid: Option<u32>,
    ) -> Result<(String, Vec<CallbackRecord>), AdminError> {
        let state = Arc::clone(self.state());
        submit(
            &state,
            agentid,
            userid,
            template_id,
            approvers,
            Vec::new(),
            ApprovalApplyData::new(contents),
        )
        .await
        .map_err(|e| AdminError::Invalid(format!("{} (errcode {})", e.errmsg, e.errcode)))
    }

    /// Sets the seed check-in records are generated from (default 42): the same seed gives the
    /// same records and reports.
    pub fn set_checkin_seed(&self, seed: u64) {
        with_book(self.state(), |b| b.seed = seed);
    }
}

#[derive(Deserialize)]
struct DecideBody {
    approver: String,
    approve: bool,
    #[serde(default)]
    speech: String,
}

#[derive(Deserialize)]
struct SubmitBody {
    userid: String,
    template_id: String,
    #[serde(default)]
    approvers: Vec<String>,
    contents: Vec<ApprovalContent>,
    #[serde(default)]
    agentid: Option<u32>,
}

fn body<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(b).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

async fn decide_route(
    AxState(app): AxState<App>,
    Path(sp_no): Path<String>,
    b: BodyBytes,
) -> Result<Response, AdminError> {
    let d: DecideBody = body(&b)?;
    let admin = Admin::new(Arc::clone(&app.state));
    let pushed = admin
        .approval_decide(&sp_no, &d.approver, d.approve, &d.speech)
        .await?;
    Ok(axum::Json(json!({ "ok": true, "callbacks": pushed })).into_response())
}

async fn submit_route(AxState(app): AxState<App>, b: BodyBytes) -> Result<Response, AdminError> {
    let s: SubmitBody = body(&b)?;
    let admin = Admin::new(Arc::clone(&app.state));
    let (sp_no, pushed) = admin
        .approval_submit(
            &s.userid,
            &s.template_id,
            s.approvers,
            s.contents,
            s.agentid,
        )
        .await?;
    Ok(axum::Json(json!({ "sp_no": sp_no, "callbacks": pushed })).into_response())
}

async fn seed_route(AxState(app): AxState<App>, b: BodyBytes) -> Result<Response, AdminError> {
    let v: Value = body(&b)?;
    let seed = v
        .get("seed")
        .and_then(Value::as_u64)
        .ok_or_else(|| AdminError::Invalid("body must be {\"seed\": <integer>}".into()))?;
    Admin::new(Arc::clone(&app.state)).set_checkin_seed(seed);
    Ok(axum::Json(json!({ "ok": true })).into_response())
}

/// Admin routes of this part: `POST /sandbox/approvals` (a member submits: `{"userid",
/// "template_id", "contents", "approvers"?, "agentid"?}`), `POST
/// /sandbox/approvals/{sp_no}/decide` (`{"approver", "approve", "speech"?}`) and `POST
/// /sandbox/checkin/seed` (`{"seed"}`).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/approvals", post(submit_route))
        .route("/sandbox/approvals/{sp_no}/decide", post(decide_route))
        .route("/sandbox/checkin/seed", post(seed_route))
        .merge(page::routes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_454), (2026, 1, 1));
    }

    #[test]
    fn generation_is_deterministic_and_seeded() {
        let a = generated_records(7, "zhangsan", 1_793_462_400, 1_793_462_400 + 7 * DAY);
        let b = generated_records(7, "zhangsan", 1_793_462_400, 1_793_462_400 + 7 * DAY);
        let c = generated_records(8, "zhangsan", 1_793_462_400, 1_793_462_400 + 7 * DAY);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 10, "five workdays, two check-ins each");
    }
}
