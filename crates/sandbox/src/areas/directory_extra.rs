//! Linked corps (互联企业), workbench templates and data, the join QR code, active members and the
//! ID conversions of spec/contacts.toml (issue 16 part 3).
//!
//! - Linked corps: the sandbox keeps a [`LinkedDirectory`] (a demo one until
//!   [`set_linked_directory`] replaces it); every app sees all of it (the sandbox has no
//!   per-app linked scope). Members are named `CorpId/userid`, departments `CorpId/id`: 60111 for
//!   an unknown member, 60003 for an unknown department.
//! - Workbench: an app sets and reads only its own template (301002 otherwise); member data needs
//!   the member in the app's visible scope; `replace_user_data` clears the members' data.
//! - `user/get_active_stat`: the sandbox has no activity log: it counts the activated members the
//!   caller may see, whatever the date.
//! - ID conversion: open_userids are derived from corpid and userid (stable per corp); WeChat
//!   customers (unionid, openid, external_userid) and customer groups (opengid, chat_id) are
//!   declared with [`add_wechat_customer`] and [`add_customer_group`]. Unknown ones answer 40096
//!   for an external_userid and 40058 otherwise (the pages in the corpus name no code for them).

use std::collections::HashMap;
use std::sync::Mutex;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wecom_contacts::generated::contacts::{
    AgentGetWorkbenchTemplateRequest, AgentGetWorkbenchTemplateResponse,
    AgentSetWorkbenchDataRequest, AgentSetWorkbenchDataResponse, AgentSetWorkbenchTemplateRequest,
    AgentSetWorkbenchTemplateResponse, BatchOpenuseridToUseridRequest,
    BatchOpenuseridToUseridResponse, BatchUseridToOpenuseridRequest,
    BatchUseridToOpenuseridResponse, CorpGetJoinQrcodeRequest, CorpGetJoinQrcodeResponse,
    ExternalcontactConvertToOpenidRequest, ExternalcontactConvertToOpenidResponse,
    ExternalcontactOpengidToChatidRequest, ExternalcontactOpengidToChatidResponse,
    ExternalcontactUnionidToExternalUseridRequest, ExternalcontactUnionidToExternalUseridResponse,
    LinkedDepartment, LinkedMember, LinkedMemberBrief, LinkedcorpAgentGetPermListRequest,
    LinkedcorpAgentGetPermListResponse, LinkedcorpDepartmentListRequest,
    LinkedcorpDepartmentListResponse, LinkedcorpUserGetRequest, LinkedcorpUserGetResponse,
    LinkedcorpUserListRequest, LinkedcorpUserListResponse, LinkedcorpUserSimplelistRequest,
    LinkedcorpUserSimplelistResponse, OpenUseridPair, OpenUseridToUserid, UserGetActiveStatRequest,
    UserGetActiveStatResponse, WorkbenchType,
};
use wecom_core_auth::ErrorCode;

use crate::areas::auth::random;
use crate::areas::contacts::own_app;
use crate::corp::Actor;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

/// Registers the endpoints.
pub fn register(r: &mut Registry) {
    r.add::<LinkedcorpAgentGetPermListRequest, _, _>(linkedcorp_agent_get_perm_list);
    r.add::<LinkedcorpUserGetRequest, _, _>(linkedcorp_user_get);
    r.add::<LinkedcorpUserSimplelistRequest, _, _>(linkedcorp_user_simplelist);
    r.add::<LinkedcorpUserListRequest, _, _>(linkedcorp_user_list);
    r.add::<LinkedcorpDepartmentListRequest, _, _>(linkedcorp_department_list);
    r.add::<AgentSetWorkbenchTemplateRequest, _, _>(agent_set_workbench_template);
    r.add::<AgentGetWorkbenchTemplateRequest, _, _>(agent_get_workbench_template);
    r.add::<AgentSetWorkbenchDataRequest, _, _>(agent_set_workbench_data);
    r.add::<CorpGetJoinQrcodeRequest, _, _>(corp_get_join_qrcode);
    r.add::<UserGetActiveStatRequest, _, _>(user_get_active_stat);
    r.add::<BatchUseridToOpenuseridRequest, _, _>(batch_userid_to_openuserid);
    r.add::<BatchOpenuseridToUseridRequest, _, _>(batch_openuserid_to_userid);
    r.add::<ExternalcontactUnionidToExternalUseridRequest, _, _>(unionid_to_external_userid);
    r.add::<ExternalcontactOpengidToChatidRequest, _, _>(opengid_to_chatid);
    r.add::<ExternalcontactConvertToOpenidRequest, _, _>(convert_to_openid);
}

// ------------------------------------------------------------------------------------------------
// Linked corps

/// A department of a linked corp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedDept {
    /// Id in its corp (the root is 1).
    pub id: u32,
    /// Name.
    pub name: String,
    /// Parent id (0 for the root).
    pub parentid: u32,
    /// Order among siblings.
    #[serde(default)]
    pub order: u32,
}

/// A member of a linked corp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedUser {
    /// Userid in its corp.
    pub userid: String,
    /// Name.
    pub name: String,
    /// Departments in its corp.
    pub department: Vec<u32>,
    /// Mobile.
    #[serde(default)]
    pub mobile: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Job title.
    #[serde(default)]
    pub position: String,
}

/// One linked corp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedCorp {
    /// Its corpid.
    pub corpid: String,
    /// Its departments.
    pub departments: Vec<LinkedDept>,
    /// Its members.
    pub members: Vec<LinkedUser>,
}

/// The corps linked to the sandbox's corp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedDirectory {
    /// The corps.
    pub corps: Vec<LinkedCorp>,
}

impl LinkedDirectory {
    /// One partner corp `wwlinkedcorp0000001`: 伙伴公司 (1) with 采购部 (2); members `boss` (1),
    /// `buyer1` and `buyer2` (2).
    pub fn demo() -> Self {
        let user = |userid: &str, name: &str, dept: u32| LinkedUser {
            userid: userid.into(),
            name: name.into(),
            department: vec![dept],
            mobile: String::new(),
            email: format!("{userid}@partner.example"),
            position: String::new(),
        };
        LinkedDirectory {
            corps: vec![LinkedCorp {
                corpid: "wwlinkedcorp0000001".into(),
                departments: vec![
                    LinkedDept {
                        id: 1,
                        name: "伙伴公司".into(),
                        parentid: 0,
                        order: 0,
                    },
                    LinkedDept {
                        id: 2,
                        name: "采购部".into(),
                        parentid: 1,
                        order: 0,
                    },
                ],
                members: vec![
                    user("boss", "老板", 1),
                    user("buyer1", "采购一", 2),
                    user("buyer2", "采购二", 2),
                ],
            }],
        }
    }

    fn corp(&self, corpid: &str) -> Option<&LinkedCorp> {
        self.corps.iter().find(|c| c.corpid == corpid)
    }

    /// `CorpId/id` -> the corp and the department's subtree ids (the department first).
    fn subtree(&self, id: &str) -> Result<(&LinkedCorp, Vec<u32>), ApiError> {
        let unknown = || {
            ApiError::new(
                ErrorCode::DEPARTMENT_NOT_FOUND,
                format!("department `{id}` not found among the linked corps"),
            )
        };
        let (corpid, dept) = id.split_once('/').ok_or_else(unknown)?;
        let dept: u32 = dept.parse().map_err(|_| unknown())?;
        let corp = self.corp(corpid).ok_or_else(unknown)?;
        if !corp.departments.iter().any(|d| d.id == dept) {
            return Err(unknown());
        }
        let mut out = vec![dept];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            out.extend(
                corp.departments
                    .iter()
                    .filter(|d| d.parentid == parent && d.id != parent)
                    .map(|d| d.id),
            );
            i += 1;
        }
        Ok((corp, out))
    }

    /// The members of `CorpId/id` (and of its subtree with `fetch_child`).
    pub(crate) fn members_of(
        &self,
        id: &str,
        fetch_child: bool,
    ) -> Result<(&LinkedCorp, Vec<&LinkedUser>), ApiError> {
        let (corp, subtree) = self.subtree(id)?;
        let depts: &[u32] = if fetch_child { &subtree } else { &subtree[..1] };
        let users = corp
            .members
            .iter()
            .filter(|m| m.department.iter().any(|d| depts.contains(d)))
            .collect();
        Ok((corp, users))
    }

    /// `CorpId/userid` -> the member.
    pub(crate) fn member(&self, id: &str) -> Option<(&LinkedCorp, &LinkedUser)> {
        let (corpid, userid) = id.split_once('/')?;
        let corp = self.corp(corpid)?;
        let m = corp
            .members
            .iter()
            .find(|m| m.userid.eq_ignore_ascii_case(userid))?;
        Some((corp, m))
    }

    /// Every member, as `(corp, member)`.
    pub(crate) fn all_members(&self) -> impl Iterator<Item = (&LinkedCorp, &LinkedUser)> {
        self.corps
            .iter()
            .flat_map(|c| c.members.iter().map(move |m| (c, m)))
    }
}

#[derive(Debug, Default)]
struct LinkedState {
    dir: Mutex<Option<LinkedDirectory>>,
}

/// Replaces the linked corps.
pub fn set_linked_directory(state: &State, dir: LinkedDirectory) {
    *lock(&state.extension::<LinkedState>().dir) = Some(dir);
}

/// The linked corps (the demo ones until [`set_linked_directory`]).
pub fn linked_directory(state: &State) -> LinkedDirectory {
    lock(&state.extension::<LinkedState>().dir)
        .clone()
        .unwrap_or_else(LinkedDirectory::demo)
}

fn brief(corp: &LinkedCorp, m: &LinkedUser) -> LinkedMemberBrief {
    let mut out = LinkedMemberBrief::new(m.userid.clone());
    out.name = Some(m.name.clone());
    out.department = m
        .department
        .iter()
        .map(|d| format!("{}/{d}", corp.corpid))
        .collect();
    out.corpid = Some(corp.corpid.clone());
    out
}

fn detail(corp: &LinkedCorp, m: &LinkedUser) -> LinkedMember {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let mut out = LinkedMember::new(m.userid.clone());
    out.name = Some(m.name.clone());
    out.department = m
        .department
        .iter()
        .map(|d| format!("{}/{d}", corp.corpid))
        .collect();
    out.mobile = opt(&m.mobile);
    out.email = opt(&m.email);
    out.position = opt(&m.position);
    out.corpid = Some(corp.corpid.clone());
    out
}

async fn linkedcorp_agent_get_perm_list(
    ctx: Ctx,
    _req: LinkedcorpAgentGetPermListRequest,
) -> Result<LinkedcorpAgentGetPermListResponse, ApiError> {
    ctx.agentid()?;
    let dir = linked_directory(ctx.state());
    let roots = dir.corps.iter().flat_map(|c| {
        c.departments
            .iter()
            .filter(|d| d.parentid == 0)
            .map(move |d| format!("{}/{}", c.corpid, d.id))
    });
    Ok(LinkedcorpAgentGetPermListResponse::new().department_ids(roots))
}

async fn linkedcorp_user_get(
    ctx: Ctx,
    req: LinkedcorpUserGetRequest,
) -> Result<LinkedcorpUserGetResponse, ApiError> {
    ctx.agentid()?;
    let dir = linked_directory(ctx.state());
    let (corp, m) = dir.member(&req.userid).ok_or_else(|| {
        ApiError::new(
            ErrorCode::USERID_NOT_FOUND,
            format!("userid `{}` not found among the linked corps", req.userid),
        )
    })?;
    Ok(LinkedcorpUserGetResponse::new(detail(corp, m)))
}

async fn linkedcorp_user_simplelist(
    ctx: Ctx,
    req: LinkedcorpUserSimplelistRequest,
) -> Result<LinkedcorpUserSimplelistResponse, ApiError> {
    ctx.agentid()?;
    let dir = linked_directory(ctx.state());
    let (corp, users) = dir.members_of(&req.department_id, req.fetch_child == Some(true))?;
    Ok(LinkedcorpUserSimplelistResponse::new().userlist(users.into_iter().map(|m| brief(corp, m))))
}

async fn linkedcorp_user_list(
    ctx: Ctx,
    req: LinkedcorpUserListRequest,
) -> Result<LinkedcorpUserListResponse, ApiError> {
    ctx.agentid()?;
    let dir = linked_directory(ctx.state());
    let (corp, users) = dir.members_of(&req.department_id, req.fetch_child == Some(true))?;
    Ok(LinkedcorpUserListResponse::new().userlist(users.into_iter().map(|m| detail(corp, m))))
}

async fn linkedcorp_department_list(
    ctx: Ctx,
    req: LinkedcorpDepartmentListRequest,
) -> Result<LinkedcorpDepartmentListResponse, ApiError> {
    ctx.agentid()?;
    let dir = linked_directory(ctx.state());
    let (corp, ids) = dir.subtree(&req.department_id)?;
    let list = ids.iter().filter_map(|id| {
        let d = corp.departments.iter().find(|d| d.id == *id)?;
        let mut out = LinkedDepartment::new(format!("{}/{}", corp.corpid, d.id));
        out.department_name = Some(d.name.clone());
        out.parentid = Some(format!("{}/{}", corp.corpid, d.parentid));
        out.order = Some(d.order);
        Some(out)
    });
    Ok(LinkedcorpDepartmentListResponse::new().department_list(list))
}

// ------------------------------------------------------------------------------------------------
// Workbench

#[derive(Debug, Default)]
struct Workbench {
    inner: Mutex<WorkbenchInner>,
}

#[derive(Debug, Default)]
struct WorkbenchInner {
    /// agentid -> the template as set (JSON without agentid).
    templates: HashMap<u32, Value>,
    /// (agentid, userid) -> the member's data as set.
    data: HashMap<(u32, String), Value>,
}

/// An app's workbench data for a member, as last set (for tests and the page).
pub fn workbench_data(state: &State, agentid: u32, userid: &str) -> Option<Value> {
    lock(&state.extension::<Workbench>().inner)
        .data
        .get(&(agentid, userid.to_ascii_lowercase()))
        .cloned()
}

fn without_agentid<T: Serialize>(req: &T) -> Value {
    let mut v = serde_json::to_value(req).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("agentid");
        o.remove("userid");
    }
    v
}

async fn agent_set_workbench_template(
    ctx: Ctx,
    req: AgentSetWorkbenchTemplateRequest,
) -> Result<AgentSetWorkbenchTemplateResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        own_app(&ctx, &corp, req.agentid)?;
    }
    let wb = ctx.state().extension::<Workbench>();
    let mut inner = lock(&wb.inner);
    if req.replace_user_data == Some(true) {
        inner.data.retain(|(agent, _), _| *agent != req.agentid);
    }
    inner.templates.insert(req.agentid, without_agentid(&req));
    Ok(AgentSetWorkbenchTemplateResponse::new())
}

async fn agent_get_workbench_template(
    ctx: Ctx,
    req: AgentGetWorkbenchTemplateRequest,
) -> Result<AgentGetWorkbenchTemplateResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        own_app(&ctx, &corp, req.agentid)?;
    }
    let wb = ctx.state().extension::<Workbench>();
    let stored = lock(&wb.inner).templates.get(&req.agentid).cloned();
    Ok(match stored {
        Some(v) => serde_json::from_value(v).map_err(|e| {
            ApiError::new(
                -1,
                format!("system busy (sandbox could not read the template: {e})"),
            )
        })?,
        None => AgentGetWorkbenchTemplateResponse::new().template_type(WorkbenchType::Normal),
    })
}

async fn agent_set_workbench_data(
    ctx: Ctx,
    req: AgentSetWorkbenchDataRequest,
) -> Result<AgentSetWorkbenchDataResponse, ApiError> {
    let userid = {
        let corp = ctx.state().corp();
        own_app(&ctx, &corp, req.agentid)?;
        corp.check_user_visible(Actor::App(req.agentid), &req.userid)?
            .userid
            .to_ascii_lowercase()
    };
    let wb = ctx.state().extension::<Workbench>();
    lock(&wb.inner)
        .data
        .insert((req.agentid, userid), without_agentid(&req));
    Ok(AgentSetWorkbenchDataResponse::new())
}

// ------------------------------------------------------------------------------------------------
// Join QR code, active members

async fn corp_get_join_qrcode(
    ctx: Ctx,
    req: CorpGetJoinQrcodeRequest,
) -> Result<CorpGetJoinQrcodeResponse, ApiError> {
    ctx.actor()?;
    let size = req
        .size_type
        .map(|s| format!("&qr_size={}", s.code()))
        .unwrap_or_default();
    Ok(CorpGetJoinQrcodeResponse::new(format!(
        "{}/sandbox/join_qrcode?action=join&vcode={}{size}",
        ctx.state().base_url(),
        random(32)
    )))
}

async fn user_get_active_stat(
    ctx: Ctx,
    _req: UserGetActiveStatRequest,
) -> Result<UserGetActiveStatResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let scope = corp.scope(actor);
    let n = corp
        .members()
        .filter(|m| m.status == 1 && scope.contains_user(&m.userid))
        .count();
    Ok(UserGetActiveStatResponse::new(n as u64))
}

// ------------------------------------------------------------------------------------------------
// ID conversion

/// The open_userid the sandbox gives a member: `wo` and 30 hex digits of MD5(corpid/userid).
pub fn open_userid(corpid: &str, userid: &str) -> String {
    let digest = Md5::digest(format!("{corpid}/{}", userid.to_ascii_lowercase()).as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("wo{}", &hex[..30])
}

async fn batch_userid_to_openuserid(
    ctx: Ctx,
    req: BatchUseridToOpenuseridRequest,
) -> Result<BatchUseridToOpenuseridResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let scope = corp.scope(actor);
    let mut pairs = Vec::new();
    let mut invalid = Vec::new();
    for u in &req.userid_list {
        match corp.member(u) {
            Ok(m) if scope.contains_user(&m.userid) => pairs.push(OpenUseridPair::new(
                m.userid.clone(),
                open_userid(corp.corpid(), &m.userid),
            )),
            _ => invalid.push(u.clone()),
        }
    }
    Ok(BatchUseridToOpenuseridResponse::new()
        .open_userid_list(pairs)
        .invalid_userid_list(invalid))
}

/// `batch/openuserid_to_userid`: the reverse of [`open_userid`], for members in the calling app's
/// scope. The sandbox has no provider apps or robots, so `source_agentid` is taken as given (the
/// pages name no errcode for a wrong one) and every open_userid is the corp-wide one.
async fn batch_openuserid_to_userid(
    ctx: Ctx,
    req: BatchOpenuseridToUseridRequest,
) -> Result<BatchOpenuseridToUseridResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let scope = corp.scope(actor);
    let visible: HashMap<String, String> = corp
        .members()
        .filter(|m| scope.contains_user(&m.userid))
        .map(|m| (open_userid(corp.corpid(), &m.userid), m.userid.clone()))
        .collect();
    let mut pairs = Vec::new();
    let mut invalid = Vec::new();
    for o in &req.open_userid_list {
        match visible.get(o) {
            Some(userid) => pairs.push(OpenUseridToUserid::new(o.clone(), userid.clone())),
            None => invalid.push(o.clone()),
        }
    }
    Ok(BatchOpenuseridToUseridResponse::new()
        .userid_list(pairs)
        .invalid_open_userid_list(invalid))
}

#[derive(Debug, Default)]
struct IdMaps {
    inner: Mutex<IdMapsInner>,
}

#[derive(Debug, Default)]
struct IdMapsInner {
    /// (unionid, openid, external_userid)
    customers: Vec<(String, String, String)>,
    /// opengid -> chat_id
    groups: HashMap<String, String>,
}

/// Declares a WeChat customer of the corp: its unionid, its openid (for WeChat Pay) and its
/// external_userid.
pub fn add_wechat_customer(state: &State, unionid: &str, openid: &str, external_userid: &str) {
    lock(&state.extension::<IdMaps>().inner).customers.push((
        unionid.to_owned(),
        openid.to_owned(),
        external_userid.to_owned(),
    ));
}

/// Declares a customer group: the opengid a mini-program sees and its chat_id.
pub fn add_customer_group(state: &State, opengid: &str, chat_id: &str) {
    lock(&state.extension::<IdMaps>().inner)
        .groups
        .insert(opengid.to_owned(), chat_id.to_owned());
}

async fn unionid_to_external_userid(
    ctx: Ctx,
    req: ExternalcontactUnionidToExternalUseridRequest,
) -> Result<ExternalcontactUnionidToExternalUseridResponse, ApiError> {
    let maps = ctx.state().extension::<IdMaps>();
    let inner = lock(&maps.inner);
    let found = inner
        .customers
        .iter()
        .find(|(u, o, _)| *u == req.unionid && req.openid.as_ref().is_none_or(|want| want == o));
    match found {
        Some((_, _, ext)) => {
            Ok(ExternalcontactUnionidToExternalUseridResponse::new().external_userid(ext.clone()))
        }
        None => Err(ApiError::invalid_parameter(format!(
            "no customer of this corp has unionid `{}`{}",
            req.unionid,
            if req.openid.is_some() {
                " with this openid"
            } else {
                ""
            }
        ))),
    }
}

async fn opengid_to_chatid(
    ctx: Ctx,
    req: ExternalcontactOpengidToChatidRequest,
) -> Result<ExternalcontactOpengidToChatidResponse, ApiError> {
    let maps = ctx.state().extension::<IdMaps>();
    let chat = lock(&maps.inner).groups.get(&req.opengid).cloned();
    chat.map(ExternalcontactOpengidToChatidResponse::new)
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "opengid `{}` is not a customer group of this corp",
                req.opengid
            ))
        })
}

async fn convert_to_openid(
    ctx: Ctx,
    req: ExternalcontactConvertToOpenidRequest,
) -> Result<ExternalcontactConvertToOpenidResponse, ApiError> {
    let maps = ctx.state().extension::<IdMaps>();
    let inner = lock(&maps.inner);
    inner
        .customers
        .iter()
        .find(|(_, _, ext)| *ext == req.external_userid)
        .map(|(_, openid, _)| ExternalcontactConvertToOpenidResponse::new(openid.clone()))
        .ok_or_else(|| {
            ApiError::new(
                40096,
                format!(
                    "invalid external userid `{}`: not a WeChat customer of this corp",
                    req.external_userid
                ),
            )
        })
}
