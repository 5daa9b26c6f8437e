//! 家校沟通 (school): the school directory of an education corp (students, parents, classes as
//! typed departments), its tag sync setting, the parent/student OAuth identity, 上课直播 statistics
//! and 学校通知. The directory lives in the corp ([`Corp::school`](crate::corp::Corp::school); a corp
//! without one answers 65014 非学校企业); `wecom sandbox --corp school-demo` serves
//! [`Corp::school_demo`](crate::corp::Corp::school_demo), and a corp file's `[school]` table loads
//! one (see [`model`]).
//!
//! Every change pushes `change_school_contact` (pages 92032 / 92052) to the apps with a callback
//! URL. The sandbox does not model which apps the admin listed under 家校沟通: every app with a
//! callback receives it, and every app may call the school endpoints.
//!
//! Batch calls answer, per item, the failures in `result_list`. As WeCom's page examples show,
//! the first failure's errcode goes at the top of such an answer: the spec marks these endpoints
//! `failures = "result_list"`, so the server writes that code (`server::first_failure`) and the
//! typed client still returns the answer with its list.

pub mod demo;
pub mod model;

use std::collections::HashMap;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wecom_callback::generated::events::SchoolContactChange;
use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_school::{
    ArchSyncModeSetRequest, ArchSyncModeSetResponse, LivingInfoGetRequest, LivingInfoGetResponse,
    LivingWatchStatGetRequest, LivingWatchStatGetResponse, NewParent, NewStudent,
    ParentBatchCreateRequest, ParentBatchCreateResponse, ParentBatchDeleteRequest,
    ParentBatchDeleteResponse, ParentBatchUpdateRequest, ParentBatchUpdateResponse, ParentChange,
    ParentCreateRequest, ParentCreateResponse, ParentDeleteRequest, ParentDeleteResponse,
    ParentListRequest, ParentListResponse, ParentUpdateRequest, ParentUpdateResponse, SchoolChild,
    SchoolDepartmentCreateRequest, SchoolDepartmentCreateResponse, SchoolDepartmentDeleteRequest,
    SchoolDepartmentDeleteResponse, SchoolDepartmentListRequest, SchoolDepartmentListResponse,
    SchoolDepartmentUpdateRequest, SchoolDepartmentUpdateResponse, SchoolGetuserinfoRequest,
    SchoolGetuserinfoResponse, SchoolMessageSendRequest, SchoolMessageSendResponse,
    SchoolUserGetRequest, SchoolUserGetResponse, StudentBatchCreateRequest,
    StudentBatchCreateResponse, StudentBatchDeleteRequest, StudentBatchDeleteResponse,
    StudentBatchUpdateRequest, StudentBatchUpdateResponse, StudentChange, StudentCreateRequest,
    StudentCreateResponse, StudentDeleteRequest, StudentDeleteResponse, StudentListRequest,
    StudentListResponse, StudentUpdateRequest, StudentUpdateResponse,
};

use wecom_school::{
    AllowScopeGetRequest, AllowScopeGetResponse, PaymentResultGetRequest, PaymentResultGetResponse,
    TradeGetRequest, TradeGetResponse, UpgradeInfoSetRequest, UpgradeInfoSetResponse,
};
use wecom_school::{
    LivingUnwatchStatV2GetRequest, LivingUnwatchStatV2GetResponse, LivingWatchStatV2GetRequest,
    LivingWatchStatV2GetResponse,
};

use crate::callbacks::CallbackRecord;
use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};
use crate::state::{State, lock};
use model::{School, SchoolAdmin, SchoolChildLink, SchoolDepartment, SchoolParent, SchoolStudent};

/// Registers the 家校沟通 handlers.
pub fn register(r: &mut Registry) {
    r.add::<StudentCreateRequest, _, _>(student_create);
    r.add::<StudentDeleteRequest, _, _>(student_delete);
    r.add::<StudentUpdateRequest, _, _>(student_update);
    r.add::<StudentBatchCreateRequest, _, _>(student_batch_create);
    r.add::<StudentBatchDeleteRequest, _, _>(student_batch_delete);
    r.add::<StudentBatchUpdateRequest, _, _>(student_batch_update);
    r.add::<ParentCreateRequest, _, _>(parent_create);
    r.add::<ParentDeleteRequest, _, _>(parent_delete);
    r.add::<ParentUpdateRequest, _, _>(parent_update);
    r.add::<ParentBatchCreateRequest, _, _>(parent_batch_create);
    r.add::<ParentBatchDeleteRequest, _, _>(parent_batch_delete);
    r.add::<ParentBatchUpdateRequest, _, _>(parent_batch_update);
    r.add::<SchoolUserGetRequest, _, _>(user_get);
    r.add::<StudentListRequest, _, _>(student_list);
    r.add::<ParentListRequest, _, _>(parent_list);
    r.add::<SchoolGetuserinfoRequest, _, _>(getuserinfo);
    r.add::<SchoolDepartmentCreateRequest, _, _>(department_create);
    r.add::<SchoolDepartmentUpdateRequest, _, _>(department_update);
    r.add::<SchoolDepartmentDeleteRequest, _, _>(department_delete);
    r.add::<SchoolDepartmentListRequest, _, _>(department_list);
    r.add::<ArchSyncModeSetRequest, _, _>(arch_sync_mode_set);
    r.add::<UpgradeInfoSetRequest, _, _>(upgrade_info_set);
    r.add::<AllowScopeGetRequest, _, _>(allow_scope_get);
    r.add::<PaymentResultGetRequest, _, _>(payment_result_get);
    r.add::<TradeGetRequest, _, _>(trade_get);
    r.add::<LivingInfoGetRequest, _, _>(living_info);
    r.add::<LivingWatchStatGetRequest, _, _>(living_watch_stat);
    r.add::<LivingWatchStatV2GetRequest, _, _>(living_watch_stat_v2);
    r.add::<LivingUnwatchStatV2GetRequest, _, _>(living_unwatch_stat_v2);
    r.add::<SchoolMessageSendRequest, _, _>(message_send);
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

fn not_school() -> ApiError {
    ApiError::new(
        65014_i64,
        "not a school corp (this corp has no school directory: start the sandbox with --corp school-demo or a corp file with a [school] table)",
    )
}

/// Runs `f` on the school directory, write-locked; the changes it reports are pushed after.
async fn change<R>(
    ctx: &Ctx,
    f: impl FnOnce(&mut School) -> Result<(R, Vec<SchoolContactChange>), ApiError>,
) -> Result<R, ApiError> {
    let (r, changes) = {
        let mut corp = ctx.state().corp_mut();
        let school = corp.school_mut().ok_or_else(not_school)?;
        f(school)?
    };
    for c in changes {
        push(ctx.state(), c).await;
    }
    Ok(r)
}

/// Reads the school directory.
fn read<R>(ctx: &Ctx, f: impl FnOnce(&School) -> Result<R, ApiError>) -> Result<R, ApiError> {
    let corp = ctx.state().corp();
    let school = corp.school().ok_or_else(not_school)?;
    f(school)
}

/// Pushes `change_school_contact` to every app with a callback URL; the records say what happened.
pub(crate) async fn push(state: &State, change: SchoolContactChange) -> Vec<CallbackRecord> {
    let (corpid, targets) = {
        let corp = state.corp();
        let targets: Vec<_> = corp
            .apps()
            .filter_map(|a| a.callback.clone().map(|c| (a.agentid, c)))
            .collect();
        (corp.corpid().to_owned(), targets)
    };
    let now = state.now_secs();
    let mut out = Vec::new();
    for (agentid, cfg) in targets {
        let xml = Inbound::Event(Event {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: "sys".into(),
                create_time: now,
                agent_id: Some(i64::from(agentid)),
            },
            kind: EventKind::ChangeSchoolContact(change.clone()),
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

// ---------------------------------------------------------------------------------------------
// Students
// ---------------------------------------------------------------------------------------------

fn add_student(s: &mut School, new: &NewStudent) -> Result<SchoolContactChange, ApiError> {
    if s.student(&new.student_userid).is_some() {
        return Err(ApiError::new(
            60102_i64,
            format!("userid existed: {}", new.student_userid),
        ));
    }
    let mobile = new.mobile.clone().unwrap_or_default();
    if !mobile.is_empty() && s.students.iter().any(|x| x.mobile == mobile) {
        return Err(ApiError::new(60149_i64, "student mobile existed"));
    }
    s.check_classes(&new.department)?;
    s.students.push(SchoolStudent {
        student_userid: new.student_userid.clone(),
        name: new.name.clone(),
        department: new.department.clone(),
        mobile,
    });
    Ok(SchoolContactChange::CreateStudent {
        id: new.student_userid.clone(),
    })
}

fn delete_student(s: &mut School, userid: &str) -> Result<SchoolContactChange, ApiError> {
    let Some(pos) = s
        .students
        .iter()
        .position(|x| x.student_userid.eq_ignore_ascii_case(userid))
    else {
        return Err(ApiError::new(
            60111_i64,
            format!("userid not found: {userid}"),
        ));
    };
    // Pages 92039 / 92040: "如果学生还有家长,则不允许删除学生,必须先把家长删除" (65013 学生已有家长).
    if !s.parents_of(userid).is_empty() {
        return Err(ApiError::new(
            65013_i64,
            format!("student {userid} has parents: delete them or change their children first"),
        ));
    }
    let gone = s.students.remove(pos);
    Ok(SchoolContactChange::DeleteStudent {
        id: gone.student_userid,
    })
}

fn update_student(s: &mut School, ch: &StudentChange) -> Result<SchoolContactChange, ApiError> {
    if s.student(&ch.student_userid).is_none() {
        return Err(ApiError::new(
            60111_i64,
            format!("userid not found: {}", ch.student_userid),
        ));
    }
    if let Some(new_id) = &ch.new_student_userid
        && !new_id.eq_ignore_ascii_case(&ch.student_userid)
        && (s.student(new_id).is_some() || s.parent(new_id).is_some())
    {
        return Err(ApiError::new(
            60102_i64,
            format!("userid existed: {new_id}"),
        ));
    }
    if !ch.department.is_empty() {
        s.check_classes(&ch.department)?;
    }
    if let Some(m) = ch.mobile.as_deref().filter(|m| !m.is_empty())
        && s.students
            .iter()
            .any(|x| x.mobile == m && !x.student_userid.eq_ignore_ascii_case(&ch.student_userid))
    {
        return Err(ApiError::new(60149_i64, "student mobile existed"));
    }
    let old = ch.student_userid.clone();
    let mut renamed = None;
    if let Some(st) = s
        .students
        .iter_mut()
        .find(|x| x.student_userid.eq_ignore_ascii_case(&old))
    {
        if let Some(n) = &ch.name {
            st.name.clone_from(n);
        }
        if let Some(m) = &ch.mobile {
            st.mobile.clone_from(m);
        }
        if !ch.department.is_empty() {
            st.department.clone_from(&ch.department);
        }
        if let Some(new_id) = &ch.new_student_userid {
            renamed = Some((st.student_userid.clone(), new_id.clone()));
            st.student_userid.clone_from(new_id);
        }
    }
    if let Some((from, to)) = &renamed {
        for p in &mut s.parents {
            for c in &mut p.children {
                if c.student_userid.eq_ignore_ascii_case(from) {
                    c.student_userid.clone_from(to);
                }
            }
        }
    }
    Ok(SchoolContactChange::UpdateStudent {
        id: old,
        new_id: renamed.map(|(_, to)| to),
    })
}

fn new_student(r: &StudentCreateRequest) -> NewStudent {
    let mut n = NewStudent::new(
        r.student_userid.clone(),
        r.name.clone(),
        r.department.clone(),
    );
    n.mobile.clone_from(&r.mobile);
    n.to_invite = r.to_invite;
    n
}

async fn student_create(
    ctx: Ctx,
    req: StudentCreateRequest,
) -> Result<StudentCreateResponse, ApiError> {
    let new = new_student(&req);
    change(&ctx, |s| Ok(((), vec![add_student(s, &new)?]))).await?;
    answer(json!({}))
}

async fn student_delete(
    ctx: Ctx,
    req: StudentDeleteRequest,
) -> Result<StudentDeleteResponse, ApiError> {
    change(&ctx, |s| Ok(((), vec![delete_student(s, &req.userid)?]))).await?;
    answer(json!({}))
}

async fn student_update(
    ctx: Ctx,
    req: StudentUpdateRequest,
) -> Result<StudentUpdateResponse, ApiError> {
    let mut ch = StudentChange::new(req.student_userid.clone());
    ch.new_student_userid.clone_from(&req.new_student_userid);
    ch.name.clone_from(&req.name);
    ch.mobile.clone_from(&req.mobile);
    ch.department.clone_from(&req.department);
    change(&ctx, |s| Ok(((), vec![update_student(s, &ch)?]))).await?;
    answer(json!({}))
}

/// Runs `op` per item; the failures become `result_list` entries keyed by `key`.
fn batch<T>(
    items: &[T],
    key: &str,
    id: impl Fn(&T) -> String,
    mut op: impl FnMut(&T) -> Result<SchoolContactChange, ApiError>,
) -> (Vec<Value>, Vec<SchoolContactChange>) {
    let mut failed = Vec::new();
    let mut changes = Vec::new();
    for item in items {
        match op(item) {
            Ok(c) => changes.push(c),
            Err(e) => {
                failed.push(json!({ key: id(item), "errcode": e.errcode, "errmsg": e.errmsg }))
            }
        }
    }
    (failed, changes)
}

async fn student_batch_create(
    ctx: Ctx,
    req: StudentBatchCreateRequest,
) -> Result<StudentBatchCreateResponse, ApiError> {
    let failed = change(&ctx, |s| {
        Ok(batch(
            &req.students,
            "student_userid",
            |n| n.student_userid.clone(),
            |n| add_student(s, n),
        ))
    })
    .await?;
    answer(json!({ "result_list": failed }))
}

async fn student_batch_delete(
    ctx: Ctx,
    req: StudentBatchDeleteRequest,
) -> Result<StudentBatchDeleteResponse, ApiError> {
    let failed = change(&ctx, |s| {
        Ok(batch(
            &req.useridlist,
            "student_userid",
            Clone::clone,
            |u| delete_student(s, u),
        ))
    })
    .await?;
    answer(json!({ "result_list": failed }))
}

async fn student_batch_update(
    ctx: Ctx,
    req: StudentBatchUpdateRequest,
) -> Result<StudentBatchUpdateResponse, ApiError> {
    let failed = change(&ctx, |s| {
        Ok(batch(
            &req.students,
            "student_userid",
            |c| c.student_userid.clone(),
            |c| update_student(s, c),
        ))
    })
    .await?;
    answer(json!({ "result_list": failed }))
}

// ---------------------------------------------------------------------------------------------
// Parents
// ---------------------------------------------------------------------------------------------

fn links(children: &[SchoolChild]) -> Vec<SchoolChildLink> {
    children
        .iter()
        .map(|c| SchoolChildLink {
            student_userid: c.student_userid.clone(),
            relation: c.relation.clone(),
        })
        .collect()
}

fn add_parent(s: &mut School, new: &NewParent) -> Result<SchoolContactChange, ApiError> {
    if s.parent(&new.parent_userid).is_some() {
        return Err(ApiError::new(
            60102_i64,
            format!("userid existed: {}", new.parent_userid),
        ));
    }
    if s.parents.iter().any(|p| p.mobile == new.mobile) {
        return Err(ApiError::new(60137_i64, "parent mobile existed"));
    }
    let children = links(&new.children);
    s.check_children(&children)?;
    s.parents.push(SchoolParent {
        parent_userid: new.parent_userid.clone(),
        mobile: new.mobile.clone(),
        is_subscribe: 0,
        external_userid: String::new(),
        children,
    });
    Ok(SchoolContactChange::CreateParent {
        id: new.parent_userid.clone(),
    })
}

fn delete_parent(s: &mut School, userid: &str) -> Result<SchoolContactChange, ApiError> {
    let Some(pos) = s
        .parents
        .iter()
        .position(|x| x.parent_userid.eq_ignore_ascii_case(userid))
    else {
        return Err(ApiError::new(
            60111_i64,
            format!("userid not found: {userid}"),
        ));
    };
    let gone = s.parents.remove(pos);
    Ok(SchoolContactChange::DeleteParent {
        id: gone.parent_userid,
    })
}

fn update_parent(s: &mut School, ch: &ParentChange) -> Result<SchoolContactChange, ApiError> {
    if s.parent(&ch.parent_userid).is_none() {
        return Err(ApiError::new(
            60111_i64,
            format!("userid not found: {}", ch.parent_userid),
        ));
    }
    if let Some(new_id) = &ch.new_parent_userid
        && !new_id.eq_ignore_ascii_case(&ch.parent_userid)
        && s.parent(new_id).is_some()
    {
        return Err(ApiError::new(
            60102_i64,
            format!("userid existed: {new_id}"),
        ));
    }
    if let Some(m) = ch.mobile.as_deref().filter(|m| !m.is_empty())
        && s.parents
            .iter()
            .any(|p| p.mobile == m && !p.parent_userid.eq_ignore_ascii_case(&ch.parent_userid))
    {
        return Err(ApiError::new(60137_i64, "parent mobile existed"));
    }
    let children = links(&ch.children);
    s.check_children(&children)?;
    let old = ch.parent_userid.clone();
    let mut new_id = None;
    if let Some(p) = s
        .parents
        .iter_mut()
        .find(|p| p.parent_userid.eq_ignore_ascii_case(&old))
    {
        if let Some(m) = &ch.mobile {
            p.mobile.clone_from(m);
        }
        // Page 100153: "该字段是全量更新,如果孩子列表为空则忽略该字段".
        if !children.is_empty() {
            p.children = children;
        }
        if let Some(n) = &ch.new_parent_userid {
            p.parent_userid.clone_from(n);
            new_id = Some(n.clone());
        }
    }
    Ok(SchoolContactChange::UpdateParent { id: old, new_id })
}

async fn parent_create(
    ctx: Ctx,
    req: ParentCreateRequest,
) -> Result<ParentCreateResponse, ApiError> {
    let mut new = NewParent::new(
        req.parent_userid.clone(),
        req.mobile.clone(),
        req.children.clone(),
    );
    new.to_invite = req.to_invite;
    change(&ctx, |s| Ok(((), vec![add_parent(s, &new)?]))).await?;
    answer(json!({}))
}

async fn parent_delete(
    ctx: Ctx,
    req: ParentDeleteRequest,
) -> Result<ParentDeleteResponse, ApiError> {
    change(&ctx, |s| Ok(((), vec![delete_parent(s, &req.userid)?]))).await?;
    answer(json!({}))
}

async fn parent_update(
    ctx: Ctx,
    req: ParentUpdateRequest,
) -> Result<ParentUpdateResponse, ApiError> {
    let mut ch = ParentChange::new(req.parent_userid.clone());
    ch.new_parent_userid.clone_from(&req.new_parent_userid);
    ch.mobile.clone_from(&req.mobile);
    ch.children.clone_from(&req.children);
    change(&ctx, |s| Ok(((), vec![update_parent(s, &ch)?]))).await?;
    answer(json!({}))
}

async fn parent_batch_create(
    ctx: Ctx,
    req: ParentBatchCreateRequest,
) -> Result<ParentBatchCreateResponse, ApiError> {
    let failed = change(&ctx, |s| {
        Ok(batch(
            &req.parents,
            "parent_userid",
            |n| n.parent_userid.clone(),
            |n| add_parent(s, n),
        ))
    })
    .await?;
    answer(json!({ "result_list": failed }))
}

async fn parent_batch_delete(
    ctx: Ctx,
    req: ParentBatchDeleteRequest,
) -> Result<ParentBatchDeleteResponse, ApiError> {
    let failed = change(&ctx, |s| {
        Ok(batch(&req.useridlist, "parent_userid", Clone::clone, |u| {
            delete_parent(s, u)
        }))
    })
    .await?;
    answer(json!({ "result_list": failed }))
}

async fn parent_batch_update(
    ctx: Ctx,
    req: ParentBatchUpdateRequest,
) -> Result<ParentBatchUpdateResponse, ApiError> {
    let failed = change(&ctx, |s| {
        Ok(batch(
            &req.parents,
            "parent_userid",
            |c| c.parent_userid.clone(),
            |c| update_parent(s, c),
        ))
    })
    .await?;
    answer(json!({ "result_list": failed }))
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

fn student_json(s: &School, st: &SchoolStudent) -> Value {
    let parents: Vec<Value> = s
        .parents_of(&st.student_userid)
        .into_iter()
        .map(|(p, relation)| parent_of_student_json(p, relation))
        .collect();
    json!({
        "student_userid": st.student_userid, "name": st.name,
        "department": st.department, "parents": parents,
    })
}

fn parent_of_student_json(p: &SchoolParent, relation: &str) -> Value {
    let mut v = json!({
        "parent_userid": p.parent_userid, "relation": relation,
        "mobile": p.mobile, "is_subscribe": p.is_subscribe,
    });
    if !p.external_userid.is_empty() {
        v["external_userid"] = json!(p.external_userid);
    }
    v
}

fn parent_json(s: &School, p: &SchoolParent, with_names: bool) -> Value {
    let children: Vec<Value> = p
        .children
        .iter()
        .map(|c| {
            let mut v = json!({ "student_userid": c.student_userid, "relation": c.relation });
            if with_names && let Some(st) = s.student(&c.student_userid) {
                v["name"] = json!(st.name);
            }
            v
        })
        .collect();
    let mut v = json!({
        "parent_userid": p.parent_userid, "mobile": p.mobile,
        "is_subscribe": p.is_subscribe, "children": children,
    });
    if !p.external_userid.is_empty() {
        v["external_userid"] = json!(p.external_userid);
    }
    v
}

async fn user_get(ctx: Ctx, req: SchoolUserGetRequest) -> Result<SchoolUserGetResponse, ApiError> {
    let v = read(&ctx, |s| {
        if let Some(st) = s.student(&req.userid) {
            return Ok(json!({ "user_type": 1, "student": student_json(s, st) }));
        }
        if let Some(p) = s.parent(&req.userid) {
            return Ok(json!({ "user_type": 2, "parent": parent_json(s, p, false) }));
        }
        Err(ApiError::new(
            60111_i64,
            format!("userid not found: {}", req.userid),
        ))
    })?;
    answer(v)
}

fn known_department(s: &School, id: u32) -> Result<(), ApiError> {
    s.department(id)
        .map(|_| ())
        .ok_or_else(|| ApiError::new(60123_i64, format!("invalid school department id {id}")))
}

async fn student_list(ctx: Ctx, req: StudentListRequest) -> Result<StudentListResponse, ApiError> {
    let v = read(&ctx, |s| {
        known_department(s, req.department_id)?;
        let list: Vec<Value> = s
            .students
            .iter()
            .filter(|st| st.department.contains(&req.department_id))
            .map(|st| student_json(s, st))
            .collect();
        Ok(json!({ "students": list }))
    })?;
    answer(v)
}

async fn parent_list(ctx: Ctx, req: ParentListRequest) -> Result<ParentListResponse, ApiError> {
    let v = read(&ctx, |s| {
        known_department(s, req.department_id)?;
        let list: Vec<Value> = s
            .parents
            .iter()
            .filter(|p| {
                p.children.iter().any(|c| {
                    s.student(&c.student_userid)
                        .is_some_and(|st| st.department.contains(&req.department_id))
                })
            })
            .map(|p| parent_json(s, p, true))
            .collect();
        Ok(json!({ "parents": list }))
    })?;
    answer(v)
}

/// Single-use OAuth codes of the school (the parent's or student's userid), issued by
/// [`Admin::school_oauth_code`](crate::admin::Admin::school_oauth_code) (a parent or student
/// signing in through the app's OAuth link).
#[derive(Debug, Default)]
pub struct SchoolCodes {
    codes: Mutex<HashMap<String, (String, bool, i64)>>,
}

/// How long a code lives (page 95791: "5分钟未被使用自动过期").
pub const CODE_TTL_SECS: i64 = 300;

impl SchoolCodes {
    /// Issues a code for the student or parent `userid`; `None` when the school has no such user.
    pub fn issue(state: &State, userid: &str) -> Option<String> {
        let is_parent = {
            let corp = state.corp();
            let s = corp.school()?;
            if s.parent(userid).is_some() {
                true
            } else if s.student(userid).is_some() {
                false
            } else {
                return None;
            }
        };
        let code = format!("SCHOOLCODE{}", state.next_msgid());
        let me = state.extension::<SchoolCodes>();
        lock(&me.codes).insert(
            code.clone(),
            (userid.to_owned(), is_parent, state.now_secs()),
        );
        Some(code)
    }
}

async fn getuserinfo(
    ctx: Ctx,
    req: SchoolGetuserinfoRequest,
) -> Result<SchoolGetuserinfoResponse, ApiError> {
    let codes = ctx.state().extension::<SchoolCodes>();
    let taken = lock(&codes.codes).remove(&req.code);
    let now = ctx.state().now_secs();
    match taken {
        Some((userid, is_parent, at)) if now - at <= CODE_TTL_SECS => {
            let key = if is_parent {
                "parent_userid"
            } else {
                "student_userid"
            };
            answer(json!({ "DeviceId": "SANDBOX-DEVICE", key: userid }))
        }
        _ => Err(ApiError::new(40029_i64, "invalid code")),
    }
}

// ---------------------------------------------------------------------------------------------
// Departments
// ---------------------------------------------------------------------------------------------

fn admins_of(list: &[wecom_school::DepartmentAdmin]) -> Vec<SchoolAdmin> {
    list.iter()
        .map(|a| SchoolAdmin {
            userid: a.userid.clone(),
            kind: a.kind,
            subject: a.subject.clone().unwrap_or_default(),
        })
        .collect()
}

async fn department_create(
    ctx: Ctx,
    req: SchoolDepartmentCreateRequest,
) -> Result<SchoolDepartmentCreateResponse, ApiError> {
    let admins = admins_of(&req.department_admins);
    for a in &admins {
        ctx.state().corp().member(&a.userid)?;
    }
    let id = change(&ctx, |s| {
        let parent = s.department(req.parentid).ok_or_else(|| {
            ApiError::new(
                60004_i64,
                format!("parent department {} not found", req.parentid),
            )
        })?;
        s.check_placement(req.kind, parent.kind, &admins)?;
        let id = match req.id {
            Some(id) if s.department(id).is_some() => {
                return Err(ApiError::new(60008_i64, format!("department {id} existed")));
            }
            Some(id) => id,
            None => s.departments.iter().map(|d| d.id).max().unwrap_or(1) + 1,
        };
        let name = req.name.clone().unwrap_or_else(|| format!("部门{id}"));
        s.departments.push(SchoolDepartment {
            id,
            name,
            parentid: req.parentid,
            kind: req.kind,
            register_year: req.register_year,
            standard_grade: req.standard_grade,
            order: req.order,
            admins,
            is_graduated: 0,
        });
        Ok((
            id,
            vec![SchoolContactChange::CreateDepartment { id: id.to_string() }],
        ))
    })
    .await?;
    answer(json!({ "id": id }))
}

async fn department_update(
    ctx: Ctx,
    req: SchoolDepartmentUpdateRequest,
) -> Result<SchoolDepartmentUpdateResponse, ApiError> {
    for a in req.department_admins.iter().filter(|a| a.op == 0) {
        ctx.state().corp().member(&a.userid)?;
    }
    change(&ctx, |s| {
        let d = s
            .department(req.id)
            .cloned()
            .ok_or_else(|| ApiError::new(60003_i64, format!("department {} not found", req.id)))?;
        if let Some(n) = req.new_id
            && n != d.id
            && s.department(n).is_some()
        {
            return Err(ApiError::new(60008_i64, format!("department {n} existed")));
        }
        let parent_kind = match req.parentid {
            Some(p) => s.department(p).map(|x| x.kind).ok_or_else(|| {
                ApiError::new(60004_i64, format!("parent department {p} not found"))
            })?,
            None => s.department(d.parentid).map_or(5, |x| x.kind),
        };
        let mut admins = d.admins.clone();
        for a in &req.department_admins {
            admins.retain(|x| !x.userid.eq_ignore_ascii_case(&a.userid));
            if a.op == 0 {
                admins.push(SchoolAdmin {
                    userid: a.userid.clone(),
                    kind: a.kind.unwrap_or(4),
                    subject: a.subject.clone().unwrap_or_default(),
                });
            }
        }
        if d.id != 1 {
            s.check_placement(d.kind, parent_kind, &admins)?;
        }
        let new_id = req.new_id.unwrap_or(d.id);
        if let Some(x) = s.departments.iter_mut().find(|x| x.id == d.id) {
            if let Some(n) = &req.name {
                x.name.clone_from(n);
            }
            if let Some(p) = req.parentid {
                x.parentid = p;
            }
            if req.register_year.is_some() {
                x.register_year = req.register_year;
            }
            // Page 92341: "当传入的standard_grade为0时,表示将此部门转换为非标准年级".
            match req.standard_grade {
                Some(0) => {
                    x.standard_grade = None;
                    x.register_year = None;
                }
                Some(g) => x.standard_grade = Some(g),
                None => {}
            }
            if req.order.is_some() {
                x.order = req.order;
            }
            x.admins = admins;
            x.id = new_id;
        }
        if new_id != d.id {
            for c in s.departments.iter_mut().filter(|c| c.parentid == d.id) {
                c.parentid = new_id;
            }
            for st in &mut s.students {
                for c in st.department.iter_mut().filter(|c| **c == d.id) {
                    *c = new_id;
                }
            }
        }
        Ok((
            (),
            vec![SchoolContactChange::UpdateDepartment {
                id: d.id.to_string(),
            }],
        ))
    })
    .await?;
    answer(json!({}))
}

async fn department_delete(
    ctx: Ctx,
    req: SchoolDepartmentDeleteRequest,
) -> Result<SchoolDepartmentDeleteResponse, ApiError> {
    change(&ctx, |s| {
        // Page 92342: "不能删除根部门;不能删除含有子部门、成员的部门" (60007, 60006, 60005).
        if req.id == 1 {
            return Err(ApiError::new(
                60007_i64,
                "the root department cannot be deleted",
            ));
        }
        if s.department(req.id).is_none() {
            return Err(ApiError::new(
                60003_i64,
                format!("department {} not found", req.id),
            ));
        }
        if s.departments.iter().any(|d| d.parentid == req.id) {
            return Err(ApiError::new(60006_i64, "department has sub-departments"));
        }
        if s.students.iter().any(|st| st.department.contains(&req.id)) {
            return Err(ApiError::new(60005_i64, "department has students"));
        }
        s.departments.retain(|d| d.id != req.id);
        Ok((
            (),
            vec![SchoolContactChange::DeleteDepartment {
                id: req.id.to_string(),
            }],
        ))
    })
    .await?;
    answer(json!({}))
}

fn department_json(d: &SchoolDepartment) -> Value {
    let mut v = json!({
        "id": d.id, "type": d.kind, "name": d.name, "parentid": d.parentid,
        "department_admins": d.admins.iter().map(|a| {
            let mut x = json!({ "userid": a.userid, "type": a.kind });
            if !a.subject.is_empty() { x["subject"] = json!(a.subject); }
            x
        }).collect::<Vec<_>>(),
    });
    if let Some(y) = d.register_year {
        v["register_year"] = json!(y);
    }
    if let Some(g) = d.standard_grade {
        v["standard_grade"] = json!(g);
    }
    if let Some(o) = d.order {
        v["order"] = json!(o);
    }
    if d.kind == 2 {
        v["is_graduated"] = json!(d.is_graduated);
    }
    v
}

async fn department_list(
    ctx: Ctx,
    req: SchoolDepartmentListRequest,
) -> Result<SchoolDepartmentListResponse, ApiError> {
    let v = read(&ctx, |s| {
        let root = req.id.unwrap_or(1);
        if s.department(root).is_none() {
            return Err(ApiError::new(
                60123_i64,
                format!("invalid school department id {root}"),
            ));
        }
        let list: Vec<Value> = s.subtree(root).into_iter().map(department_json).collect();
        Ok(json!({ "departments": list }))
    })?;
    answer(v)
}

async fn arch_sync_mode_set(
    ctx: Ctx,
    req: ArchSyncModeSetRequest,
) -> Result<ArchSyncModeSetResponse, ApiError> {
    // Page 92345: "一旦设置禁止自动同步,将无法再次开启": a mode only adds prohibitions (bit 1 tag to
    // directory, bit 2 directory to tag); the stored mode is the union. The page names no errcode
    // for asking to re-enable, so the union is kept silently.
    change(&ctx, |s| {
        s.arch_sync_mode |= req.arch_sync_mode;
        Ok(((), Vec::new()))
    })
    .await?;
    answer(json!({}))
}

async fn upgrade_info_set(
    ctx: Ctx,
    req: UpgradeInfoSetRequest,
) -> Result<UpgradeInfoSetResponse, ApiError> {
    let now = ctx.state().now_secs();
    let next = change(&ctx, |s| {
        // Page 92949: upgrade_time absent = 0 (January 1st); upgrade_switch other than 1 = off.
        let at = req.upgrade_time.unwrap_or(0);
        s.upgrade_time = Some(at);
        s.upgrade_switch = u32::from(req.upgrade_switch == Some(1));
        Ok((model::next_upgrade(at, now), Vec::new()))
    })
    .await?;
    answer(json!({ "next_upgrade_time": next }))
}

async fn allow_scope_get(
    ctx: Ctx,
    req: AllowScopeGetRequest,
) -> Result<AllowScopeGetResponse, ApiError> {
    if ctx.state().corp().app(req.agentid).is_err() {
        return Err(ApiError::new(
            40056_i64,
            format!("invalid agentid {}", req.agentid),
        ));
    }
    let v = read(&ctx, |s| {
        let scope = s.parent_scopes.iter().find(|x| x.agentid == req.agentid);
        let students = scope.map(|x| x.students.clone()).unwrap_or_default();
        let departments = scope.map(|x| x.departments.clone()).unwrap_or_default();
        Ok(json!({ "allow_scope": {
            "students": { "userid": students },
            "departments": { "partyid": departments },
        }}))
    })?;
    answer(v)
}

// ---------------------------------------------------------------------------------------------
// 班级收款
// ---------------------------------------------------------------------------------------------

fn payment<'a>(s: &'a School, ctx: &Ctx, id: &str) -> Result<&'a model::SchoolPayment, ApiError> {
    // Pages 94470 / 94471: only projects the app started (60237); an unknown id is not one either.
    s.payments
        .iter()
        .find(|p| p.payment_id == id && caller_agent(ctx).is_none_or(|a| a == p.agentid))
        .ok_or_else(|| {
            ApiError::new(
                60237_i64,
                format!("payment {id} was not started by this app"),
            )
        })
}

async fn payment_result_get(
    ctx: Ctx,
    req: PaymentResultGetRequest,
) -> Result<PaymentResultGetResponse, ApiError> {
    let v = read(&ctx, |s| {
        let p = payment(s, &ctx, &req.payment_id)?;
        let list: Vec<Value> = p
            .results
            .iter()
            .map(|r| {
                json!({
                    "student_userid": r.student_userid, "trade_state": r.trade_state,
                    "trade_no": r.trade_no, "payer_parent_userid": r.payer_parent_userid,
                })
            })
            .collect();
        Ok(json!({ "project_name": p.project_name, "amount": p.amount, "payment_result": list }))
    })?;
    answer(v)
}

async fn trade_get(ctx: Ctx, req: TradeGetRequest) -> Result<TradeGetResponse, ApiError> {
    let v = read(&ctx, |s| {
        let p = payment(s, &ctx, &req.payment_id)?;
        let r = p
            .results
            .iter()
            .find(|r| !r.trade_no.is_empty() && r.trade_no == req.trade_no)
            .ok_or_else(|| {
                ApiError::new(60243_i64, format!("invalid trade_no {}", req.trade_no))
            })?;
        Ok(json!({ "transaction_id": r.transaction_id, "pay_time": r.pay_time }))
    })?;
    answer(v)
}

// ---------------------------------------------------------------------------------------------
// 上课直播
// ---------------------------------------------------------------------------------------------

fn caller_agent(ctx: &Ctx) -> Option<u32> {
    match ctx.caller() {
        Caller::App(a) => Some(*a),
        _ => None,
    }
}

fn living<'a>(
    s: &'a School,
    ctx: &Ctx,
    id: &str,
) -> Result<&'a model::SchoolLivingRecord, ApiError> {
    let l = s
        .livings
        .iter()
        .find(|l| l.livingid == id)
        .ok_or_else(|| ApiError::new(92008_i64, format!("no live class {id} of this app")))?;
    // Page 93740: "只能获取本应用创建的直播" (92008 当前应用没权限操作这个直播).
    if caller_agent(ctx).is_some_and(|a| a != l.agentid) {
        return Err(ApiError::new(
            92008_i64,
            "the live class was created by another app",
        ));
    }
    Ok(l)
}

async fn living_info(
    ctx: Ctx,
    req: LivingInfoGetRequest,
) -> Result<LivingInfoGetResponse, ApiError> {
    let v = read(&ctx, |s| {
        let l = living(s, &ctx, &req.livingid)?;
        Ok(json!({ "living_info": {
            "theme": l.theme, "living_start": l.living_start, "living_duration": l.living_duration,
            "anchor_userid": l.anchor_userid, "living_range": { "partyids": l.partyids, "group_names": [] },
            "viewer_num": l.watchers.len(), "comment_num": 0, "open_replay": 0,
            "online_count": 0, "subscribe_count": 0,
        }}))
    })?;
    answer(v)
}

/// Watchers per page of get_watch_stat (the page names no size).
pub const WATCH_PAGE: usize = 100;

async fn living_watch_stat(
    ctx: Ctx,
    req: LivingWatchStatGetRequest,
) -> Result<LivingWatchStatGetResponse, ApiError> {
    let v = read(&ctx, |s| {
        let l = living(s, &ctx, &req.livingid)?;
        let start: usize = match req.next_key.as_deref() {
            None | Some("") | Some("0") => 0,
            Some(k) => k
                .parse()
                .map_err(|_| ApiError::new(40058_i64, format!("invalid next_key {k}")))?,
        };
        let page: Vec<Value> = l
            .watchers
            .iter()
            .skip(start)
            .take(WATCH_PAGE)
            .map(|w| {
                let partyids = s
                    .student(&w.student_userid)
                    .map(|st| st.department.clone())
                    .unwrap_or_default();
                json!({
                    "student_userid": w.student_userid, "parent_userid": w.parent_userid,
                    "partyids": partyids, "watch_time": w.watch_time,
                    "enter_time": l.living_start, "leave_time": l.living_start + i64::from(w.watch_time),
                    "is_comment": 0,
                })
            })
            .collect();
        let next = start + page.len();
        let ending = u32::from(next >= l.watchers.len());
        Ok(json!({
            "ending": ending, "next_key": next.to_string(),
            "stat_infoes": { "students": page, "visitors": [] },
        }))
    })?;
    answer(v)
}

/// Reads a page cursor: absent, empty or "0" start at 0 (pages 95799 / 95795: "初次调用可以填\"0\"").
fn cursor(c: Option<&str>) -> Result<usize, ApiError> {
    match c {
        None | Some("") | Some("0") => Ok(0),
        Some(k) => k
            .parse()
            .map_err(|_| ApiError::new(40058_i64, format!("invalid next_cursor {k}"))),
    }
}

async fn living_watch_stat_v2(
    ctx: Ctx,
    req: LivingWatchStatV2GetRequest,
) -> Result<LivingWatchStatV2GetResponse, ApiError> {
    let start = cursor(req.next_cursor.as_deref())?;
    let v = read(&ctx, |s| {
        let l = living(s, &ctx, &req.livingid)?;
        let page: Vec<&model::LivingWatcher> =
            l.watchers.iter().skip(start).take(WATCH_PAGE).collect();
        let entry = |w: &model::LivingWatcher| {
            let partyids = s
                .student(&w.student_userid)
                .map(|st| st.department.clone())
                .unwrap_or_default();
            let mut v = json!({
                "student_userid": w.student_userid, "partyids": partyids,
                "watch_time": w.watch_time, "enter_time": l.living_start,
                "leave_time": l.living_start + i64::from(w.watch_time), "is_comment": 0,
            });
            if !w.parent_userid.is_empty() {
                v["parent_userid"] = json!(w.parent_userid);
            }
            v
        };
        let students: Vec<Value> = page
            .iter()
            .filter(|w| w.parent_userid.is_empty())
            .map(|w| entry(w))
            .collect();
        let parents: Vec<Value> = page
            .iter()
            .filter(|w| !w.parent_userid.is_empty())
            .map(|w| entry(w))
            .collect();
        let next = start + page.len();
        Ok(json!({
            "has_more": u32::from(next < l.watchers.len()), "next_cursor": next.to_string(),
            "stat_info": { "students": students, "parents": parents },
        }))
    })?;
    answer(v)
}

async fn living_unwatch_stat_v2(
    ctx: Ctx,
    req: LivingUnwatchStatV2GetRequest,
) -> Result<LivingUnwatchStatV2GetResponse, ApiError> {
    let start = cursor(req.next_cursor.as_deref())?;
    let v = read(&ctx, |s| {
        let l = living(s, &ctx, &req.livingid)?;
        let classes: Vec<u32> = l
            .partyids
            .iter()
            .flat_map(|p| s.subtree(*p))
            .map(|d| d.id)
            .collect();
        // Page 95795: only students and parents who follow 学校通知 count; a student counts through a
        // subscribed parent (the model keeps subscription on parents).
        let mut rows: Vec<Value> = Vec::new();
        for st in s
            .students
            .iter()
            .filter(|st| st.department.iter().any(|d| classes.contains(d)))
        {
            let subscribed: Vec<&SchoolParent> = s
                .parents_of(&st.student_userid)
                .into_iter()
                .map(|(p, _)| p)
                .filter(|p| p.is_subscribe == 1)
                .collect();
            if subscribed.is_empty() {
                continue;
            }
            let watched = |f: &dyn Fn(&model::LivingWatcher) -> bool| l.watchers.iter().any(f);
            if !watched(&|w| {
                w.student_userid.eq_ignore_ascii_case(&st.student_userid)
                    && w.parent_userid.is_empty()
            }) {
                rows.push(json!({ "kind": "student", "student_userid": st.student_userid, "partyids": st.department }));
            }
            for p in subscribed {
                if !watched(&|w| w.parent_userid.eq_ignore_ascii_case(&p.parent_userid)) {
                    rows.push(json!({ "kind": "parent", "parent_userid": p.parent_userid, "student_userid": st.student_userid, "partyids": st.department }));
                }
            }
        }
        let page: Vec<&Value> = rows.iter().skip(start).take(WATCH_PAGE).collect();
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("kind");
            }
            v
        };
        let students: Vec<Value> = page
            .iter()
            .filter(|v| v["kind"] == "student")
            .map(|v| strip(v))
            .collect();
        let parents: Vec<Value> = page
            .iter()
            .filter(|v| v["kind"] == "parent")
            .map(|v| strip(v))
            .collect();
        let next = start + page.len();
        Ok(json!({
            "has_more": u32::from(next < rows.len()), "next_cursor": next.to_string(),
            "stat_info": { "students": students, "parents": parents },
        }))
    })?;
    answer(v)
}

// ---------------------------------------------------------------------------------------------
// 学校通知
// ---------------------------------------------------------------------------------------------

/// The 学校通知 sent, for the admin API and tests.
#[derive(Debug, Default)]
pub struct SchoolNotices {
    sent: Mutex<Vec<Value>>,
}

impl SchoolNotices {
    /// The notices sent so far: `{agentid, msgtype, parents: [...]}` (the parents reached).
    pub fn sent(state: &State) -> Vec<Value> {
        lock(&state.extension::<SchoolNotices>().sent).clone()
    }
}

async fn message_send(
    ctx: Ctx,
    req: SchoolMessageSendRequest,
) -> Result<SchoolMessageSendResponse, ApiError> {
    let (reached, invalid) = read(&ctx, |s| {
        let mut reached: Vec<String> = Vec::new();
        let mut bad_parents = Vec::new();
        let mut bad_students = Vec::new();
        let mut bad_parties = Vec::new();
        // Page 94895: "应用只能给该列表下的家长发送「学校通知」": a parent outside the app's scope
        // is not reached (invalid_parent_userid when named).
        for p in &req.to_parent_userid {
            match s.parent(p).filter(|x| s.parent_in_scope(req.agentid, x)) {
                Some(x) => reached.push(x.parent_userid.clone()),
                None => bad_parents.push(p.clone()),
            }
        }
        let mut students: Vec<String> = Vec::new();
        for st in &req.to_student_userid {
            match s.student(st) {
                Some(x) => students.push(x.student_userid.clone()),
                None => bad_students.push(st.clone()),
            }
        }
        for party in &req.to_party {
            match party
                .parse::<u32>()
                .ok()
                .filter(|id| s.department(*id).is_some())
            {
                Some(id) => {
                    let ids: Vec<u32> = s.subtree(id).iter().map(|d| d.id).collect();
                    students.extend(
                        s.students
                            .iter()
                            .filter(|st| st.department.iter().any(|c| ids.contains(c)))
                            .map(|st| st.student_userid.clone()),
                    );
                }
                None => bad_parties.push(party.clone()),
            }
        }
        if req.toall == Some(true) {
            students.extend(s.students.iter().map(|st| st.student_userid.clone()));
        }
        for st in students {
            reached.extend(
                s.parents_of(&st)
                    .into_iter()
                    .filter(|(p, _)| s.parent_in_scope(req.agentid, p))
                    .map(|(p, _)| p.parent_userid.clone()),
            );
        }
        reached.sort();
        reached.dedup();
        Ok((reached, (bad_parents, bad_students, bad_parties)))
    })?;
    let notices = ctx.state().extension::<SchoolNotices>();
    lock(&notices.sent).push(json!({
        "agentid": req.agentid, "msgtype": req.msgtype, "parents": reached,
    }));
    answer(json!({
        "invalid_parent_userid": invalid.0,
        "invalid_student_userid": invalid.1,
        "invalid_party": invalid.2,
    }))
}

impl crate::admin::Admin {
    /// A parent or student of the school signs in through the app's OAuth link: the code
    /// `school/getuserinfo` turns into their userid (single use, 5 minutes on the sandbox clock).
    pub fn school_oauth_code(&self, userid: &str) -> Result<String, crate::admin::AdminError> {
        SchoolCodes::issue(self.state(), userid).ok_or_else(|| {
            crate::admin::AdminError::Invalid(format!(
                "{userid} is no student or parent of this corp's school directory"
            ))
        })
    }

    /// The 学校通知 sent so far (`{agentid, msgtype, parents}`: the parents reached).
    pub fn school_notices(&self) -> Vec<Value> {
        SchoolNotices::sent(self.state())
    }
}
