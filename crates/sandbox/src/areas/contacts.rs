//! The contacts area (spec/contacts.toml): departments, members, tags, batch jobs, apps (agent)
//! and their custom menus.
//!
//! Every handler maps its generated request onto [`Corp`]'s operations, which carry WeCom's rules
//! and errcodes; what the corp does not model lives here:
//! - visibility for app tokens, through the SDK's own scope resolver
//!   ([`Corp::visible_scope`]): a member outside the scope is refused with 60011 and an errmsg
//!   saying which rules were checked and why none matched;
//! - `user/list_id` paging with an opaque cursor;
//! - batch jobs: the CSV is read from the media store (upload it with `media/upload`), the job
//!   runs in the background row by row (one job at a time: 302008; only the last 5 results kept:
//!   40089), `batch/getresult` reports progress and per-row results, and the `batch_job_result`
//!   event is pushed, encrypted, to the job's callback (or the contact-sync callback) when it ends;
//! - agents: an app token manages only its own app (301002), `menu/create` checks what each
//!   action needs (40019, 40020, 90200) and that `view` URLs stay in the app's trusted domain
//!   (40055 / 40054).
//!
//! CSV columns (a header row is required; WeCom's Chinese template names and English field names
//! are both accepted, unknown columns are ignored):
//! - members (`batch/syncuser`, `batch/replaceuser`): 姓名/name, 帐号/账号/userid (required),
//!   别名/alias, 职务/职位/position, 部门/所在部门/department (ids separated by `;`), 性别/gender
//!   (男/女/1/2), 手机/手机号/mobile, 座机/telephone, 邮箱/个人邮箱/email, 企业邮箱/biz_mail,
//!   地址/address, 禁用/disable (1 or 是 disables);
//! - departments (`batch/replaceparty`): 部门名称/name, 部门ID/id, 父部门ID/parentid (all
//!   required), 排序/order (empty or 0 keeps the order).
//!
//! Sandbox simplifications: a member row naming a department that does not exist fails with 60003
//! (WeCom creates it under a "to be set" department); invitations are not sent.

use base64::Engine as _;
use serde_json::Value;
use wecom_contacts::generated::contacts::{
    Agent, AgentBrief, AgentGetRequest, AgentListRequest, AgentListResponse, AgentSetRequest,
    AgentSetResponse, AllowParties, AllowTags, AllowUser, AllowUsers, BatchGetresultRequest,
    BatchGetresultResponse, BatchInviteRequest, BatchInviteResponse, BatchJobType,
    BatchReplacepartyRequest, BatchReplacepartyResponse, BatchReplaceuserRequest,
    BatchReplaceuserResponse, BatchSyncuserRequest, BatchSyncuserResponse, Department,
    DepartmentCreateRequest, DepartmentCreateResponse, DepartmentDeleteRequest,
    DepartmentDeleteResponse, DepartmentGetRequest, DepartmentGetResponse, DepartmentListRequest,
    DepartmentListResponse, DepartmentRef, DepartmentSimplelistRequest,
    DepartmentSimplelistResponse, DepartmentUpdateRequest, DepartmentUpdateResponse, DeptUser,
    EmailType, ExtAttr, Gender, Member, MemberBrief, MemberStatus, MenuAction, MenuButton,
    MenuCreateRequest, MenuCreateResponse, MenuDeleteRequest, MenuDeleteResponse, MenuGetRequest,
    MenuGetResponse, Tag, TagAddtagusersRequest, TagAddtagusersResponse, TagCreateRequest,
    TagCreateResponse, TagDeleteRequest, TagDeleteResponse, TagDeltagusersRequest,
    TagDeltagusersResponse, TagGetRequest, TagGetResponse, TagListRequest, TagListResponse,
    TagMember, TagUpdateRequest, TagUpdateResponse, UserBatchdeleteRequest,
    UserBatchdeleteResponse, UserConvertToOpenidRequest, UserConvertToOpenidResponse,
    UserConvertToUseridRequest, UserConvertToUseridResponse, UserCreateRequest, UserCreateResponse,
    UserDeleteRequest, UserDeleteResponse, UserGetRequest, UserGetUseridByEmailRequest,
    UserGetUseridByEmailResponse, UserGetuseridRequest, UserGetuseridResponse, UserListIdRequest,
    UserListIdResponse, UserListRequest, UserListResponse, UserSimplelistRequest,
    UserSimplelistResponse, UserUpdateRequest, UserUpdateResponse,
};
use wecom_contacts::menu::missing_field;

use crate::batch;
use crate::corp::{self, Actor, Corp};
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::State;
use wecom_core_auth::ErrorCode;

/// `user/list_id` page size when the request names none.
pub const DEFAULT_LIST_ID_LIMIT: u32 = 50;
pub use crate::batch::{KEPT_JOBS, set_batch_row_delay};

/// Registers the contacts endpoints.
pub fn register(r: &mut Registry) {
    r.add::<DepartmentCreateRequest, _, _>(department_create)
        .errmsg("created");
    r.add::<DepartmentUpdateRequest, _, _>(department_update)
        .errmsg("updated");
    r.add::<DepartmentDeleteRequest, _, _>(department_delete)
        .errmsg("deleted");
    r.add::<DepartmentListRequest, _, _>(department_list);
    r.add::<DepartmentSimplelistRequest, _, _>(department_simplelist);
    r.add::<DepartmentGetRequest, _, _>(department_get);
    r.add::<UserCreateRequest, _, _>(user_create)
        .errmsg("created");
    r.add::<UserGetRequest, _, _>(user_get);
    r.add::<UserUpdateRequest, _, _>(user_update)
        .errmsg("updated");
    r.add::<UserDeleteRequest, _, _>(user_delete)
        .errmsg("deleted");
    r.add::<UserBatchdeleteRequest, _, _>(user_batchdelete)
        .errmsg("deleted");
    r.add::<UserSimplelistRequest, _, _>(user_simplelist);
    r.add::<UserListRequest, _, _>(user_list);
    r.add::<UserListIdRequest, _, _>(user_list_id);
    r.add::<UserGetuseridRequest, _, _>(user_getuserid);
    r.add::<UserGetUseridByEmailRequest, _, _>(user_get_userid_by_email);
    r.add::<UserConvertToOpenidRequest, _, _>(user_convert_to_openid);
    r.add::<UserConvertToUseridRequest, _, _>(user_convert_to_userid);
    r.add::<TagCreateRequest, _, _>(tag_create)
        .errmsg("created");
    r.add::<TagUpdateRequest, _, _>(tag_update)
        .errmsg("updated");
    r.add::<TagDeleteRequest, _, _>(tag_delete)
        .errmsg("deleted");
    r.add::<TagGetRequest, _, _>(tag_get);
    r.add::<TagAddtagusersRequest, _, _>(tag_addtagusers);
    r.add::<TagDeltagusersRequest, _, _>(tag_deltagusers)
        .errmsg("deleted");
    r.add::<TagListRequest, _, _>(tag_list);
    r.add::<BatchSyncuserRequest, _, _>(batch_syncuser);
    r.add::<BatchReplaceuserRequest, _, _>(batch_replaceuser);
    r.add::<BatchReplacepartyRequest, _, _>(batch_replaceparty);
    r.add::<BatchGetresultRequest, _, _>(batch_getresult);
    r.add::<BatchInviteRequest, _, _>(batch_invite);
    r.add::<AgentGetRequest, _, _>(agent_get);
    r.add::<AgentListRequest, _, _>(agent_list);
    r.add::<AgentSetRequest, _, _>(agent_set);
    r.add::<MenuCreateRequest, _, _>(menu_create);
    r.add::<MenuGetRequest, _, _>(menu_get);
    r.add::<MenuDeleteRequest, _, _>(menu_delete)
        .errmsg("deleted");
}

// ------------------------------------------------------------------------------------------------
// Shared helpers

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// 60011 with the resolver's explanation of why the member is outside the actor's scope.
fn out_of_scope(corp: &Corp, actor: Actor, userid: &str) -> ApiError {
    let mut why = corp.visible_scope(actor).explain(userid);
    why.userid = userid.to_owned();
    ApiError::no_privilege(why)
}

/// The member if the actor may see it: 60111 when there is none, 60011 (with the reason) outside
/// the scope.
fn visible_member<'c>(
    corp: &'c Corp,
    actor: Actor,
    userid: &str,
) -> Result<&'c corp::Member, ApiError> {
    let m = corp.member(userid)?;
    if actor == Actor::Contact || corp.scope(actor).contains_user(&m.userid) {
        Ok(m)
    } else {
        Err(out_of_scope(corp, actor, &m.userid))
    }
}

pub(crate) fn department_out(d: &corp::Department) -> Department {
    let mut out = Department::new(d.id);
    out.name = Some(d.name.clone());
    out.name_en = non_empty(&d.name_en);
    out.department_leader = d.department_leader.clone();
    out.parentid = Some(d.parentid);
    out.order = Some(d.order);
    out
}

fn department_ref(d: &corp::Department) -> DepartmentRef {
    let mut out = DepartmentRef::new(d.id);
    out.parentid = Some(d.parentid);
    out.order = Some(d.order);
    out
}

/// A list padded with zeros to `n` items (WeCom answers one `order` per department).
fn padded<T: Copy + Into<u32>>(list: &[T], n: usize) -> Vec<u32> {
    let mut v: Vec<u32> = list.iter().map(|x| (*x).into()).collect();
    v.resize(n, 0);
    v
}

pub(crate) fn member_out(m: &corp::Member) -> Member {
    let n = m.department.len();
    let mut out = Member::new(m.userid.clone());
    out.name = Some(m.name.clone());
    out.department = m.department.clone();
    out.order = padded(&m.order, n);
    out.position = non_empty(&m.position);
    out.mobile = non_empty(&m.mobile);
    out.gender = Some(Gender::from(if m.gender.is_empty() {
        "0"
    } else {
        m.gender.as_str()
    }));
    out.email = non_empty(&m.email);
    out.biz_mail = non_empty(&m.biz_mail);
    out.is_leader_in_dept = padded(&m.is_leader_in_dept, n);
    out.direct_leader = m.direct_leader.clone();
    out.avatar = non_empty(&m.avatar);
    out.thumb_avatar = non_empty(&m.avatar).map(|a| format!("{a}?thumb=1"));
    out.telephone = non_empty(&m.telephone);
    out.alias = non_empty(&m.alias);
    out.address = non_empty(&m.address);
    out.main_department = Some(m.main_department());
    out.extattr = m
        .extra
        .get("extattr")
        .and_then(|v| serde_json::from_value::<ExtAttr>(v.clone()).ok());
    out.status = Some(MemberStatus::from(i64::from(m.status)));
    out.external_position = m
        .extra
        .get("external_position")
        .and_then(Value::as_str)
        .map(str::to_owned);
    out.external_profile = m.extra.get("external_profile").cloned();
    out.enable = Some(m.enable == 1);
    out
}

pub(crate) fn member_brief(m: &corp::Member) -> MemberBrief {
    let mut out = MemberBrief::new(m.userid.clone());
    out.name = Some(m.name.clone());
    out.department = m.department.clone();
    out
}

/// The URL of a stored media file; 40007 when the media_id is unknown or expired.
fn media_url(state: &State, media_id: &str) -> Result<String, ApiError> {
    match state.media(media_id) {
        Some(_) => Ok(state.media_url(media_id)),
        None => Err(ApiError::new(
            ErrorCode::INVALID_MEDIA_ID,
            format!("invalid media_id {media_id:?}: unknown or expired"),
        )),
    }
}

fn leader_flags(flags: &[u32]) -> Vec<u8> {
    // Out-of-range values stay out of range (the corp answers 40058 for them).
    flags
        .iter()
        .map(|v| u8::try_from(*v).unwrap_or(u8::MAX))
        .collect()
}

fn set_extra(m: &mut corp::Member, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        m.extra.insert(key.to_owned(), v);
    }
}

// ------------------------------------------------------------------------------------------------
// Departments

async fn department_create(
    ctx: Ctx,
    req: DepartmentCreateRequest,
) -> Result<DepartmentCreateResponse, ApiError> {
    let mut corp = ctx.state().corp_mut();
    let id = corp.create_department(
        &req.name,
        req.name_en.as_deref().unwrap_or(""),
        req.parentid,
        req.order.unwrap_or(0),
        req.id,
    )?;
    Ok(DepartmentCreateResponse::new(id))
}

async fn department_update(
    ctx: Ctx,
    req: DepartmentUpdateRequest,
) -> Result<DepartmentUpdateResponse, ApiError> {
    let mut corp = ctx.state().corp_mut();
    corp.update_department(
        req.id,
        req.name.as_deref(),
        req.name_en.as_deref(),
        req.parentid,
        req.order,
    )?;
    Ok(DepartmentUpdateResponse::new())
}

async fn department_delete(
    ctx: Ctx,
    req: DepartmentDeleteRequest,
) -> Result<DepartmentDeleteResponse, ApiError> {
    ctx.state().corp_mut().delete_department(req.id)?;
    Ok(DepartmentDeleteResponse::new())
}

/// The departments an actor lists: the subtree of `id` (which must be visible), or every visible
/// department, parents before children.
pub(crate) fn listed_departments(
    corp: &Corp,
    actor: Actor,
    id: Option<u32>,
) -> Result<Vec<&corp::Department>, ApiError> {
    let roots = match id {
        Some(id) => {
            corp.check_department_visible(actor, id)?;
            vec![id]
        }
        None => corp.scope(actor).top_departments(corp),
    };
    let mut out = Vec::new();
    for r in roots {
        out.extend(corp.subtree(r)?);
    }
    Ok(out)
}

async fn department_list(
    ctx: Ctx,
    req: DepartmentListRequest,
) -> Result<DepartmentListResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let list = listed_departments(&corp, actor, req.id)?;
    Ok(DepartmentListResponse::new().department(list.into_iter().map(department_out)))
}

async fn department_simplelist(
    ctx: Ctx,
    req: DepartmentSimplelistRequest,
) -> Result<DepartmentSimplelistResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let list = listed_departments(&corp, actor, req.id)?;
    Ok(DepartmentSimplelistResponse::new().department_id(list.into_iter().map(department_ref)))
}

async fn department_get(
    ctx: Ctx,
    req: DepartmentGetRequest,
) -> Result<DepartmentGetResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let d = corp.check_department_visible(actor, req.id)?;
    Ok(DepartmentGetResponse::new(department_out(d)))
}

// ------------------------------------------------------------------------------------------------
// Members

async fn user_create(ctx: Ctx, req: UserCreateRequest) -> Result<UserCreateResponse, ApiError> {
    let avatar = match &req.avatar_mediaid {
        Some(id) => media_url(ctx.state(), id)?,
        None => String::new(),
    };
    let mut m = corp::Member::new(req.userid, req.name, req.department);
    m.alias = req.alias.unwrap_or_default();
    m.mobile = req.mobile.unwrap_or_default();
    m.email = req.email.unwrap_or_default();
    m.biz_mail = req.biz_mail.unwrap_or_default();
    m.order = req.order;
    m.is_leader_in_dept = leader_flags(&req.is_leader_in_dept);
    m.direct_leader = req.direct_leader;
    m.position = req.position.unwrap_or_default();
    m.gender = req
        .gender
        .map(|g| g.as_str().to_owned())
        .unwrap_or_default();
    m.telephone = req.telephone.unwrap_or_default();
    m.enable = req.enable.map_or(1, u8::from);
    m.main_department = req.main_department;
    m.address = req.address.unwrap_or_default();
    m.avatar = avatar;
    set_extra(
        &mut m,
        "extattr",
        req.extattr.and_then(|e| serde_json::to_value(e).ok()),
    );
    set_extra(&mut m, "external_profile", req.external_profile);
    set_extra(
        &mut m,
        "external_position",
        req.external_position.map(Value::String),
    );
    set_extra(&mut m, "nickname", req.nickname.map(Value::String));
    ctx.state().corp_mut().create_member(m)?;
    Ok(UserCreateResponse::new())
}

async fn user_get(ctx: Ctx, req: UserGetRequest) -> Result<Member, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    Ok(member_out(visible_member(&corp, actor, &req.userid)?))
}

async fn user_update(ctx: Ctx, req: UserUpdateRequest) -> Result<UserUpdateResponse, ApiError> {
    let avatar = match &req.avatar_mediaid {
        Some(id) => Some(media_url(ctx.state(), id)?),
        None => None,
    };
    let mut corp = ctx.state().corp_mut();
    corp.update_member(&req.userid, |m| {
        if let Some(v) = req.new_userid {
            m.userid = v;
        }
        if let Some(v) = req.name {
            m.name = v;
        }
        if let Some(v) = req.alias {
            m.alias = v;
        }
        if let Some(v) = req.mobile {
            m.mobile = v;
        }
        if !req.department.is_empty() {
            // A new department list replaces the per-department lists too.
            m.department = req.department;
            m.order = req.order;
            m.is_leader_in_dept = leader_flags(&req.is_leader_in_dept);
            if m.main_department
                .is_some_and(|d| !m.department.contains(&d))
            {
                m.main_department = None;
            }
        } else {
            if !req.order.is_empty() {
                m.order = req.order;
            }
            if !req.is_leader_in_dept.is_empty() {
                m.is_leader_in_dept = leader_flags(&req.is_leader_in_dept);
            }
        }
        if let Some(v) = req.position {
            m.position = v;
        }
        if let Some(v) = req.gender {
            m.gender = v.as_str().to_owned();
        }
        if let Some(v) = req.email {
            m.email = v;
        }
        if let Some(v) = req.biz_mail {
            m.biz_mail = v;
        }
        if let Some(v) = req.telephone {
            m.telephone = v;
        }
        if !req.direct_leader.is_empty() {
            m.direct_leader = req.direct_leader;
        }
        if let Some(v) = avatar {
            m.avatar = v;
        }
        if let Some(v) = req.enable {
            m.enable = u8::from(v);
        }
        if let Some(v) = req.main_department {
            m.main_department = Some(v);
        }
        if let Some(v) = req.address {
            m.address = v;
        }
        set_extra(
            m,
            "extattr",
            req.extattr.and_then(|e| serde_json::to_value(e).ok()),
        );
        set_extra(m, "external_profile", req.external_profile);
        set_extra(
            m,
            "external_position",
            req.external_position.map(Value::String),
        );
        set_extra(m, "nickname", req.nickname.map(Value::String));
    })?;
    Ok(UserUpdateResponse::new())
}

async fn user_delete(ctx: Ctx, req: UserDeleteRequest) -> Result<UserDeleteResponse, ApiError> {
    ctx.state().corp_mut().delete_member(&req.userid)?;
    Ok(UserDeleteResponse::new())
}

async fn user_batchdelete(
    ctx: Ctx,
    req: UserBatchdeleteRequest,
) -> Result<UserBatchdeleteResponse, ApiError> {
    ctx.state().corp_mut().delete_members(&req.useridlist)?;
    Ok(UserBatchdeleteResponse::new())
}

/// The visible members of a department (and its subtree with `fetch_child`).
fn department_members(
    corp: &Corp,
    actor: Actor,
    department: u32,
    fetch_child: bool,
) -> Result<Vec<&corp::Member>, ApiError> {
    corp.check_department_visible(actor, department)?;
    let scope = corp.scope(actor);
    Ok(corp
        .members_of(department, fetch_child)?
        .into_iter()
        .filter(|m| scope.contains_user(&m.userid))
        .collect())
}

async fn user_simplelist(
    ctx: Ctx,
    req: UserSimplelistRequest,
) -> Result<UserSimplelistResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let list = department_members(
        &corp,
        actor,
        req.department_id,
        req.fetch_child.unwrap_or(false),
    )?;
    Ok(UserSimplelistResponse::new().userlist(list.into_iter().map(member_brief)))
}

async fn user_list(ctx: Ctx, req: UserListRequest) -> Result<UserListResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let list = department_members(
        &corp,
        actor,
        req.department_id,
        req.fetch_child.unwrap_or(false),
    )?;
    Ok(UserListResponse::new().userlist(list.into_iter().map(member_out)))
}

/// A `user/list_id` cursor: the (lowercase userid, department index) of the next row.
fn encode_cursor(key: &str, index: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{index}:{key}"))
}

fn decode_cursor(cursor: &str) -> Result<(String, usize), ApiError> {
    let bad = || {
        ApiError::invalid_parameter(format!(
            "cursor {cursor:?} was not answered by user/list_id"
        ))
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (index, key) = text.split_once(':').ok_or_else(bad)?;
    Ok((key.to_owned(), index.parse().map_err(|_| bad())?))
}

async fn user_list_id(ctx: Ctx, req: UserListIdRequest) -> Result<UserListIdResponse, ApiError> {
    let actor = ctx.actor()?;
    let limit = req.limit.unwrap_or(DEFAULT_LIST_ID_LIMIT) as usize;
    let start = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    let corp = ctx.state().corp();
    let scope = corp.scope(actor);
    let mut rows = Vec::with_capacity(limit.min(10_000));
    let mut next = None;
    let from = start.as_ref().map(|(k, _)| k.as_str()).unwrap_or("");
    'members: for m in corp.members_from(from) {
        if !scope.contains_user(&m.userid) {
            continue;
        }
        let key = m.userid.to_ascii_lowercase();
        let first = match &start {
            Some((k, i)) if *k == key => *i,
            _ => 0,
        };
        for (i, d) in m.department.iter().enumerate().skip(first) {
            if rows.len() == limit {
                next = Some(encode_cursor(&key, i));
                break 'members;
            }
            rows.push(DeptUser::new(m.userid.clone(), *d));
        }
    }
    Ok(UserListIdResponse::new()
        .next_cursor(next.unwrap_or_default())
        .dept_user(rows))
}

async fn user_getuserid(
    ctx: Ctx,
    req: UserGetuseridRequest,
) -> Result<UserGetuseridResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let m = corp.member_by_mobile(&req.mobile).ok_or_else(|| {
        ApiError::new(
            ErrorCode::USER_NOT_FOUND,
            format!("user no exist: no member has mobile {}", req.mobile),
        )
    })?;
    Ok(UserGetuseridResponse::new(
        visible_member(&corp, actor, &m.userid)?.userid.clone(),
    ))
}

async fn user_get_userid_by_email(
    ctx: Ctx,
    req: UserGetUseridByEmailRequest,
) -> Result<UserGetUseridByEmailResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let corp_mail = !matches!(req.email_type, Some(EmailType::Personal));
    let m = corp
        .members()
        .find(|m| {
            if corp_mail {
                m.biz_mail.eq_ignore_ascii_case(&req.email)
            } else {
                m.email.eq_ignore_ascii_case(&req.email)
            }
        })
        .ok_or_else(|| {
            let which = if corp_mail {
                "corp mailbox"
            } else {
                "personal email"
            };
            ApiError::new(
                ErrorCode::USER_NOT_FOUND,
                format!("user no exist: no member has the {which} {}", req.email),
            )
        })?;
    Ok(UserGetUseridByEmailResponse::new(
        visible_member(&corp, actor, &m.userid)?.userid.clone(),
    ))
}

async fn user_convert_to_openid(
    ctx: Ctx,
    req: UserConvertToOpenidRequest,
) -> Result<UserConvertToOpenidResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let m = visible_member(&corp, actor, &req.userid)?;
    if m.openid.is_empty() {
        return Err(ApiError::new(
            ErrorCode::USER_NOT_BOUND_TO_WECHAT,
            format!("member {} is not bound to WeChat", m.userid),
        ));
    }
    Ok(UserConvertToOpenidResponse::new(m.openid.clone()))
}

async fn user_convert_to_userid(
    ctx: Ctx,
    req: UserConvertToUseridRequest,
) -> Result<UserConvertToUseridResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let m = corp.member_by_openid(&req.openid).ok_or_else(|| {
        ApiError::new(
            40073, /* not in spec/errcodes.toml */
            format!("invalid openid {}: no member is bound to it", req.openid),
        )
    })?;
    Ok(UserConvertToUseridResponse::new(
        visible_member(&corp, actor, &m.userid)?.userid.clone(),
    ))
}

// ------------------------------------------------------------------------------------------------
// Tags

fn creator(actor: Actor) -> Option<u32> {
    match actor {
        Actor::App(a) => Some(a),
        Actor::Contact => None,
    }
}

async fn tag_create(ctx: Ctx, req: TagCreateRequest) -> Result<TagCreateResponse, ApiError> {
    let actor = ctx.actor()?;
    let id = ctx
        .state()
        .corp_mut()
        .create_tag(&req.tagname, req.tagid, creator(actor))?;
    Ok(TagCreateResponse::new(id))
}

async fn tag_update(ctx: Ctx, req: TagUpdateRequest) -> Result<TagUpdateResponse, ApiError> {
    let actor = ctx.actor()?;
    ctx.state()
        .corp_mut()
        .rename_tag(req.tagid, &req.tagname, actor)?;
    Ok(TagUpdateResponse::new())
}

async fn tag_delete(ctx: Ctx, req: TagDeleteRequest) -> Result<TagDeleteResponse, ApiError> {
    let actor = ctx.actor()?;
    ctx.state().corp_mut().delete_tag(req.tagid, actor)?;
    Ok(TagDeleteResponse::new())
}

async fn tag_get(ctx: Ctx, req: TagGetRequest) -> Result<TagGetResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let tag = corp.tag(req.tagid)?;
    let scope = corp.scope(actor);
    let users = tag
        .users
        .iter()
        .filter_map(|u| corp.member(u).ok())
        .filter(|m| scope.contains_user(&m.userid))
        .map(|m| {
            let mut t = TagMember::new(m.userid.clone());
            t.name = Some(m.name.clone());
            t
        });
    let parties = tag
        .parties
        .iter()
        .copied()
        .filter(|p| scope.contains_department(*p));
    Ok(TagGetResponse::new(tag.tagname.clone())
        .userlist(users)
        .partylist(parties))
}

async fn tag_addtagusers(
    ctx: Ctx,
    req: TagAddtagusersRequest,
) -> Result<TagAddtagusersResponse, ApiError> {
    let actor = ctx.actor()?;
    let r =
        ctx.state()
            .corp_mut()
            .add_tag_items(req.tagid, actor, &req.userlist, &req.partylist)?;
    let mut answer = TagAddtagusersResponse::new();
    answer.invalidlist = r.invalid_users;
    answer.invalidparty = r.invalid_parties;
    Ok(answer)
}

async fn tag_deltagusers(
    ctx: Ctx,
    req: TagDeltagusersRequest,
) -> Result<TagDeltagusersResponse, ApiError> {
    let actor = ctx.actor()?;
    let r =
        ctx.state()
            .corp_mut()
            .remove_tag_items(req.tagid, actor, &req.userlist, &req.partylist)?;
    let mut answer = TagDeltagusersResponse::new();
    answer.invalidlist = r.invalid_users;
    answer.invalidparty = r.invalid_parties;
    Ok(answer)
}

async fn tag_list(ctx: Ctx, _req: TagListRequest) -> Result<TagListResponse, ApiError> {
    ctx.actor()?;
    let corp = ctx.state().corp();
    Ok(TagListResponse::new().taglist(corp.tags().map(|t| Tag::new(t.tagid, t.tagname.clone()))))
}

// ------------------------------------------------------------------------------------------------
// Batch jobs (the engine is in crate::batch)

async fn batch_syncuser(
    ctx: Ctx,
    req: BatchSyncuserRequest,
) -> Result<BatchSyncuserResponse, ApiError> {
    let work = batch::member_work(ctx.state(), &req.media_id, false)?;
    Ok(BatchSyncuserResponse::new(batch::submit(
        ctx.state(),
        BatchJobType::SyncUser,
        work,
        req.callback,
    )?))
}

async fn batch_replaceuser(
    ctx: Ctx,
    req: BatchReplaceuserRequest,
) -> Result<BatchReplaceuserResponse, ApiError> {
    let work = batch::member_work(ctx.state(), &req.media_id, true)?;
    Ok(BatchReplaceuserResponse::new(batch::submit(
        ctx.state(),
        BatchJobType::ReplaceUser,
        work,
        req.callback,
    )?))
}

async fn batch_replaceparty(
    ctx: Ctx,
    req: BatchReplacepartyRequest,
) -> Result<BatchReplacepartyResponse, ApiError> {
    let work = batch::party_work(ctx.state(), &req.media_id)?;
    Ok(BatchReplacepartyResponse::new(batch::submit(
        ctx.state(),
        BatchJobType::ReplaceParty,
        work,
        req.callback,
    )?))
}

async fn batch_getresult(
    ctx: Ctx,
    req: BatchGetresultRequest,
) -> Result<BatchGetresultResponse, ApiError> {
    batch::result(ctx.state(), &req.jobid)
}

async fn batch_invite(ctx: Ctx, req: BatchInviteRequest) -> Result<BatchInviteResponse, ApiError> {
    let actor = ctx.actor()?;
    let corp = ctx.state().corp();
    let scope = corp.scope(actor);
    let invaliduser = req
        .user
        .iter()
        .filter(|u| {
            corp.member(u)
                .map_or(true, |m| !scope.contains_user(&m.userid))
        })
        .cloned();
    let invalidparty = req
        .party
        .iter()
        .copied()
        .filter(|p| corp.department(*p).is_err() || !scope.contains_department(*p));
    let invalidtag = req
        .tag
        .iter()
        .copied()
        .filter(|t| corp.tag(*t).is_err() || !scope.contains_tag(*t));
    Ok(BatchInviteResponse::new()
        .invaliduser(invaliduser)
        .invalidparty(invalidparty)
        .invalidtag(invalidtag))
}

// ------------------------------------------------------------------------------------------------
// Agents and menus

/// The caller's own app, which must be `agentid`: 40056 when there is no such app, 301002 when
/// the token belongs to another app.
pub(crate) fn own_app(ctx: &Ctx, corp: &Corp, agentid: u32) -> Result<corp::App, ApiError> {
    let caller = ctx.agentid()?;
    let app = corp.app(agentid)?;
    if caller != agentid {
        return Err(ApiError::new(
            ErrorCode::NO_APP_PERMISSION,
            format!("no permission on app {agentid}: this access_token belongs to app {caller}"),
        ));
    }
    Ok(app.clone())
}

async fn agent_get(ctx: Ctx, req: AgentGetRequest) -> Result<Agent, ApiError> {
    let corp = ctx.state().corp();
    let app = own_app(&ctx, &corp, req.agentid)?;
    let mut out = Agent::new(app.agentid, app.name.clone());
    out.square_logo_url = non_empty(&app.square_logo_url);
    out.description = non_empty(&app.description);
    out.allow_userinfos = Some(AllowUsers::new(app.allow_users.iter().map(|u| {
        AllowUser::new(
            corp.member(u)
                .map(|m| m.userid.clone())
                .unwrap_or_else(|_| u.clone()),
        )
    })));
    out.allow_partys = Some(AllowParties::new(app.allow_parties.iter().copied()));
    out.allow_tags = Some(AllowTags::new(app.allow_tags.iter().copied()));
    out.close = Some(app.close == 1);
    out.redirect_domain = non_empty(&app.redirect_domain);
    out.report_location_flag = Some(app.report_location_flag == 1);
    out.isreportenter = Some(app.isreportenter == 1);
    out.home_url = non_empty(&app.home_url);
    Ok(out)
}

async fn agent_list(ctx: Ctx, _req: AgentListRequest) -> Result<AgentListResponse, ApiError> {
    let caller = ctx.agentid()?;
    let corp = ctx.state().corp();
    let app = corp.app(caller)?;
    let mut brief = AgentBrief::new(app.agentid);
    brief.name = Some(app.name.clone());
    brief.square_logo_url = non_empty(&app.square_logo_url);
    Ok(AgentListResponse::new().agentlist([brief]))
}

async fn agent_set(ctx: Ctx, req: AgentSetRequest) -> Result<AgentSetResponse, ApiError> {
    let logo = match &req.logo_mediaid {
        Some(id) => Some(media_url(ctx.state(), id)?),
        None => None,
    };
    let mut corp = ctx.state().corp_mut();
    own_app(&ctx, &corp, req.agentid)?;
    corp.update_app(req.agentid, |a| {
        if let Some(v) = req.name {
            a.name = v;
        }
        if let Some(v) = req.description {
            a.description = v;
        }
        if let Some(v) = req.redirect_domain {
            a.redirect_domain = v;
        }
        if let Some(v) = req.home_url {
            a.home_url = v;
        }
        if let Some(v) = logo {
            a.square_logo_url = v;
        }
        if let Some(v) = req.report_location_flag {
            a.report_location_flag = u8::from(v);
        }
        if let Some(v) = req.isreportenter {
            a.isreportenter = u8::from(v);
        }
    })?;
    Ok(AgentSetResponse::new())
}

/// The host of an http(s) URL.
fn url_host(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

/// Whether `url` is inside the trusted `domain` (the domain itself or a subdomain).
fn in_domain(url: &str, domain: &str) -> bool {
    let domain = domain.trim().trim_end_matches('/').to_ascii_lowercase();
    let domain = domain
        .split("://")
        .last()
        .unwrap_or(&domain)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_owned();
    url_host(url).is_some_and(|h| h == domain || h.ends_with(&format!(".{domain}")))
}

/// What WeCom checks of a button beyond the spec: the fields its action needs, and `view` URLs
/// inside the app's trusted domain (when one is set).
#[allow(clippy::too_many_arguments)]
fn check_button(
    path: &str,
    action: &MenuAction,
    key: Option<&str>,
    url: Option<&str>,
    appid: Option<&str>,
    pagepath: Option<&str>,
    domain: &str,
    domain_errcode: i64,
) -> Result<(), ApiError> {
    if let MenuAction::Unknown(other) = action {
        return Err(ApiError::new(
            40017, /* not in spec/errcodes.toml */
            format!("{path}.type {other:?} is not a menu action"),
        ));
    }
    if let Some((field, code)) = missing_field(action, key, url, appid, pagepath) {
        return Err(ApiError::new(
            code,
            format!("{path}: a {} button needs `{field}`", action.as_str()),
        ));
    }
    if let (MenuAction::View, Some(u)) = (action, url)
        && !domain.is_empty()
        && !in_domain(u, domain)
    {
        return Err(ApiError::new(
            domain_errcode,
            format!("{path}.url {u} is outside the app's trusted domain {domain}"),
        ));
    }
    Ok(())
}

async fn menu_create(ctx: Ctx, req: MenuCreateRequest) -> Result<MenuCreateResponse, ApiError> {
    let mut corp = ctx.state().corp_mut();
    let app = own_app(&ctx, &corp, req.agentid)?;
    for (i, b) in req.button.iter().enumerate() {
        let path = format!("button[{i}]");
        match &b.action {
            Some(action) => {
                if !b.sub_button.is_empty() {
                    return Err(ApiError::new(
                        40017, /* not in spec/errcodes.toml */
                        format!(
                            "{path} has both a type and sub_button; a button is one or the other"
                        ),
                    ));
                }
                check_button(
                    &path,
                    action,
                    b.key.as_deref(),
                    b.url.as_deref(),
                    b.appid.as_deref(),
                    b.pagepath.as_deref(),
                    &app.redirect_domain,
                    40055, // not in spec/errcodes.toml
                )?;
            }
            None => {
                for (j, s) in b.sub_button.iter().enumerate() {
                    check_button(
                        &format!("{path}.sub_button[{j}]"),
                        &s.action,
                        s.key.as_deref(),
                        s.url.as_deref(),
                        s.appid.as_deref(),
                        s.pagepath.as_deref(),
                        &app.redirect_domain,
                        40054, // not in spec/errcodes.toml
                    )?;
                }
            }
        }
    }
    let menu = serde_json::json!({ "button": req.button });
    corp.update_app(req.agentid, |a| a.menu = Some(menu))?;
    Ok(MenuCreateResponse::new())
}

async fn menu_get(ctx: Ctx, req: MenuGetRequest) -> Result<MenuGetResponse, ApiError> {
    let corp = ctx.state().corp();
    let app = own_app(&ctx, &corp, req.agentid)?;
    let buttons = app
        .menu
        .as_ref()
        .and_then(|m| m.get("button"))
        .and_then(|b| serde_json::from_value::<Vec<MenuButton>>(b.clone()).ok())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                46003, /* not in spec/errcodes.toml */
                format!("menu no exist: app {} has no custom menu", req.agentid),
            )
        })?;
    Ok(MenuGetResponse::new().button(buttons))
}

async fn menu_delete(ctx: Ctx, req: MenuDeleteRequest) -> Result<MenuDeleteResponse, ApiError> {
    let mut corp = ctx.state().corp_mut();
    own_app(&ctx, &corp, req.agentid)?;
    corp.update_app(req.agentid, |a| a.menu = None)?;
    Ok(MenuDeleteResponse::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = encode_cursor("zhangsan", 3);
        assert_eq!(decode_cursor(&c).unwrap(), ("zhangsan".to_owned(), 3));
        assert_eq!(decode_cursor("!!").unwrap_err().errcode, 40058);
    }

    #[test]
    fn trusted_domain_includes_subdomains() {
        assert!(in_domain("https://app.example.com/x", "example.com"));
        assert!(in_domain("https://example.com", "https://example.com/"));
        assert!(!in_domain("https://evil-example.com", "example.com"));
        assert!(!in_domain("not a url", "example.com"));
    }
}
