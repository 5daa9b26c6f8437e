//! Customers and their follow users, remarks, corp tags, contact ways, temporary chats, the
//! welcome message and customer groups (part 1 of spec/externalcontact.toml).
//!
//! WeCom's rules kept here:
//! - the follow-user rule: an app token sees only members in its visible scope ("应用只能获取到
//!   可见范围内的成员"): their customers, their follow relations, and only they may be named
//!   (60011 otherwise); the 客户联系 secret sees every member;
//! - corp tags: at most 3,000 (40126), unknown ids 40068, an app edits and deletes only the tags
//!   it created ("应用仅能编辑和删除本应用创建的标签"; the page names no code: the global 81011
//!   无权限操作标签 is answered);
//! - contact ways: unknown config_id 41044, type 1 has exactly one member (41041 for more),
//!   members must exist (60111) and be visible (60011);
//! - welcome codes: valid 20 s after the add_external_contact event by the sandbox clock and
//!   usable once: 41050 for an unknown or expired code, 41051 once the welcome was sent;
//! - changes made through the API push no callback ("通过API进行的操作不会产生回调").
//!
//! Sandbox simplifications: every member has the customer-contact feature; every app counts as
//! listed under 客户联系's 可调用应用 (`registry::check_kind`).

use std::ops::Bound;

use base64::Engine as _;
use wecom_core_auth::SystemApp;
use wecom_externalcontact::generated::externalcontact::{
    BehaviorData, GroupChat, GroupChatDayStat, GroupChatOwnerStat, GroupChatStatData,
    GroupchatStatisticGroupByDayRequest, GroupchatStatisticGroupByDayResponse,
    GroupchatStatisticRequest, GroupchatStatisticResponse, UserBehaviorDataRequest,
    UserBehaviorDataResponse,
};
use wecom_externalcontact::generated::externalcontact::{
    CloseTempChatRequest, CloseTempChatResponse, ContactListRequest, ContactListResponse,
    ContactWay, ContactWayAddRequest, ContactWayAddResponse, ContactWayDelRequest,
    ContactWayDelResponse, ContactWayGetRequest, ContactWayGetResponse, ContactWayListRequest,
    ContactWayListResponse, ContactWayRef, ContactWayUpdateRequest, ContactWayUpdateResponse,
    CorpTag, CorpTagAddRequest, CorpTagAddResponse, CorpTagDelRequest, CorpTagDelResponse,
    CorpTagEditRequest, CorpTagEditResponse, CorpTagGroup, CorpTagListRequest, CorpTagListResponse,
    CustomerBatchGetByUserRequest, CustomerBatchGetByUserResponse, CustomerDetail,
    CustomerGetRequest, CustomerGetResponse, CustomerListRequest, CustomerListResponse,
    CustomerRemarkRequest, CustomerRemarkResponse, ExternalContact, FollowInfo, FollowUser,
    FollowUserListRequest, FollowUserListResponse, FollowUserTag, GroupChatRef,
    GroupchatGetRequest, GroupchatGetResponse, GroupchatListRequest, GroupchatListResponse,
    MarkTagRequest, MarkTagResponse, SendWelcomeMsgRequest, SendWelcomeMsgResponse, ServedContact,
};
use wecom_externalcontact::rules::beijing_day;

use super::book::{Customer, CustomerBook, Follow};
use super::crm::{
    Crm, Inner, MAX_CONTACT_WAYS, MAX_CORP_TAGS, StoredGroup, StoredTag, StoredWay,
    WELCOME_CODE_SECS, WelcomeSent,
};
use crate::corp::{Actor, Corp};
use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};

/// `externalcontact/get` pages follow users by 500 (the page: 跟进人超过500人时需要使用cursor).
pub const FOLLOW_PAGE: usize = 500;
/// `externalcontact/batch/get_by_user` default and largest page.
pub const BATCH_DEFAULT: u32 = 50;
/// See [`BATCH_DEFAULT`].
pub const BATCH_MAX: u32 = 100;
/// `groupchat/list`: without `owner_filter`, a scope of more members answers 81017.
pub const GROUPCHAT_UNFILTERED_MAX: usize = 1_000;
/// The most tags one member may put on one customer (doc 92118: 最多可以添加3000个标签).
pub const MAX_TAGS_PER_CUSTOMER: usize = 3_000;

/// Registers the handlers of this part.
pub fn register(r: &mut Registry) {
    r.add::<FollowUserListRequest, _, _>(follow_user_list);
    r.add::<CustomerListRequest, _, _>(customer_list);
    r.add::<ContactListRequest, _, _>(contact_list);
    r.add::<CustomerGetRequest, _, _>(customer_get);
    r.add::<CustomerBatchGetByUserRequest, _, _>(customer_batch_get_by_user);
    r.add::<CustomerRemarkRequest, _, _>(customer_remark);
    r.add::<CorpTagListRequest, _, _>(corp_tag_list);
    r.add::<CorpTagAddRequest, _, _>(corp_tag_add);
    r.add::<CorpTagEditRequest, _, _>(corp_tag_edit);
    r.add::<CorpTagDelRequest, _, _>(corp_tag_del);
    r.add::<MarkTagRequest, _, _>(mark_tag);
    r.add::<ContactWayAddRequest, _, _>(contact_way_add);
    r.add::<ContactWayGetRequest, _, _>(contact_way_get);
    r.add::<ContactWayListRequest, _, _>(contact_way_list);
    r.add::<ContactWayUpdateRequest, _, _>(contact_way_update);
    r.add::<ContactWayDelRequest, _, _>(contact_way_del);
    r.add::<CloseTempChatRequest, _, _>(close_temp_chat);
    r.add::<SendWelcomeMsgRequest, _, _>(send_welcome_msg);
    r.add::<GroupchatListRequest, _, _>(groupchat_list);
    r.add::<GroupchatGetRequest, _, _>(groupchat_get);
    r.add::<UserBehaviorDataRequest, _, _>(user_behavior_data);
    r.add::<GroupchatStatisticRequest, _, _>(groupchat_statistic);
    r.add::<GroupchatStatisticGroupByDayRequest, _, _>(groupchat_statistic_group_by_day);
}

// ------------------------------------------------------------------------------------------------
// Who sees what

/// Which members the caller may see: everyone (客户联系 secret) or an app's visible scope.
pub(crate) enum Viewer {
    /// The 客户联系 secret.
    All,
    /// An app token: its agentid and scope.
    App(u32, crate::corp::Scope),
}

impl Viewer {
    pub(crate) fn of(ctx: &Ctx, corp: &Corp) -> Result<Viewer, ApiError> {
        match ctx.caller() {
            Caller::System(SystemApp::ExternalContact) => Ok(Viewer::All),
            Caller::App(a) => Ok(Viewer::App(*a, corp.scope(Actor::App(*a)))),
            _ => Err(ApiError::api_forbidden(
                "customer contact needs the 客户联系 secret's token or an app's token",
            )),
        }
    }

    pub(crate) fn sees(&self, userid: &str) -> bool {
        match self {
            Viewer::All => true,
            Viewer::App(_, scope) => scope.contains_user(userid),
        }
    }

    /// The app that acts (`None` for the 客户联系 secret).
    fn app(&self) -> Option<u32> {
        match self {
            Viewer::All => None,
            Viewer::App(a, _) => Some(*a),
        }
    }
}

/// The member, checked to exist (60111) and to be visible (60011, with the follow-user rule).
fn visible_member(corp: &Corp, viewer: &Viewer, userid: &str) -> Result<String, ApiError> {
    let m = corp.member(userid)?;
    if !viewer.sees(&m.userid) {
        return Err(ApiError::new(
            60011_i64,
            format!(
                "no privilege to access/modify contact/party/agent: member {} is outside the app's visible scope (an app sees only customers of members in its scope; the 客户联系 secret sees all)",
                m.userid
            ),
        ));
    }
    Ok(m.userid.clone())
}

fn no_relation(userid: &str, external_userid: &str) -> ApiError {
    ApiError::new(
        84061_i64,
        format!("not external contact: {external_userid} is not a customer of {userid}"),
    )
}

fn unknown_customer(external_userid: &str) -> ApiError {
    ApiError::new(
        40096_i64,
        format!("invalid external userid: no customer {external_userid}"),
    )
}

fn encode_cursor(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn decode_cursor(c: &str) -> Result<String, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::invalid_parameter(format!("cursor {c:?} was not issued here")))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn external_contact(c: &Customer) -> ExternalContact {
    let mut e = ExternalContact::new(c.external_userid.clone());
    e.name = non_empty(&c.name);
    e.kind = Some(c.kind);
    e.unionid = non_empty(&c.unionid);
    e
}

fn follow_user(f: &Follow, crm: &Inner) -> FollowUser {
    let mut u = FollowUser::new(f.userid.clone());
    u.remark = Some(f.remark.clone());
    u.description = Some(f.description.clone());
    u.createtime = Some(f.createtime);
    u.tags = f
        .tag_ids
        .iter()
        .filter_map(|id| {
            crm.tag_names(id).map(|(group, tag)| {
                let mut t = FollowUserTag::new();
                t.group_name = Some(group);
                t.tag_name = Some(tag);
                t.tag_id = Some(id.clone());
                t.kind = Some(1);
                t
            })
        })
        .collect();
    u.remark_corp_name = non_empty(&f.remark_company);
    u.remark_mobiles = f.remark_mobiles.clone();
    u.oper_userid = non_empty(&f.oper_userid);
    u.add_way = Some(f.add_way);
    u.state = non_empty(&f.state);
    u
}

fn follow_info(f: &Follow) -> FollowInfo {
    let mut i = FollowInfo::new(f.userid.clone());
    i.remark = Some(f.remark.clone());
    i.description = Some(f.description.clone());
    i.createtime = Some(f.createtime);
    i.tag_id = f.tag_ids.clone();
    i.remark_corp_name = non_empty(&f.remark_company);
    i.remark_mobiles = f.remark_mobiles.clone();
    i.oper_userid = non_empty(&f.oper_userid);
    i.add_way = Some(f.add_way);
    i.state = non_empty(&f.state);
    i
}

// ------------------------------------------------------------------------------------------------
// Customers

async fn follow_user_list(
    ctx: Ctx,
    _req: FollowUserListRequest,
) -> Result<FollowUserListResponse, ApiError> {
    let corp = ctx.state().corp();
    let viewer = Viewer::of(&ctx, &corp)?;
    let users = corp
        .members()
        .filter(|m| viewer.sees(&m.userid))
        .map(|m| m.userid.clone())
        .collect::<Vec<_>>();
    Ok(FollowUserListResponse::new().follow_user(users))
}

async fn customer_list(
    ctx: Ctx,
    req: CustomerListRequest,
) -> Result<CustomerListResponse, ApiError> {
    let userid = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        visible_member(&corp, &viewer, &req.userid)?
    };
    let ids = CustomerBook::of(ctx.state()).customers_of(&userid);
    Ok(CustomerListResponse::new().external_userid(ids))
}

/// `contact_list` default page (the page: 默认为1000).
pub const CONTACT_LIST_DEFAULT: u32 = 1_000;

/// A stable stand-in for WeCom's temporary id (valid 4 hours there): derived from the relation.
fn tmp_openid(external_userid: &str, userid: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (external_userid, userid).hash(&mut h);
    format!("tmp{:016x}", h.finish())
}

/// Every (customer, follow user) the caller may see, one row each, in (customer, follow) order.
/// Sandbox simplification: customers met only in groups and non-customer contacts are not kept.
async fn contact_list(ctx: Ctx, req: ContactListRequest) -> Result<ContactListResponse, ApiError> {
    let viewer = {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?
    };
    let limit = req.limit.unwrap_or(CONTACT_LIST_DEFAULT) as usize;
    // Cursor: "<external_userid>\n<index of the next follow relation>".
    let (from, mut skip) = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let s = decode_cursor(c)?;
            let (e, i) = s
                .split_once('\n')
                .ok_or_else(|| ApiError::invalid_parameter("cursor was not issued here"))?;
            let i = i
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_parameter("cursor was not issued here"))?;
            (Some(e.to_owned()), i)
        }
        None => (None, 0),
    };
    let mut rows = Vec::new();
    let mut next = String::new();
    CustomerBook::of(ctx.state()).with(|book| {
        let lower = match &from {
            Some(e) => Bound::Included(e.clone()),
            None => Bound::Unbounded,
        };
        'all: for (eid, c) in book.range((lower, Bound::Unbounded)) {
            for (i, f) in c.follows.iter().enumerate().skip(skip) {
                if !viewer.sees(&f.userid) {
                    continue;
                }
                if rows.len() == limit {
                    next = encode_cursor(&format!("{eid}\n{i}"));
                    break 'all;
                }
                let mut r = ServedContact::new();
                r.is_customer = Some(true);
                r.tmp_openid = Some(tmp_openid(eid, &f.userid));
                r.external_userid = Some(eid.clone());
                r.follow_userid = Some(f.userid.clone());
                r.add_time = Some(f.createtime);
                rows.push(r);
            }
            skip = 0;
        }
    });
    Ok(ContactListResponse::new().info_list(rows).next_cursor(next))
}

async fn customer_get(ctx: Ctx, req: CustomerGetRequest) -> Result<CustomerGetResponse, ApiError> {
    let viewer = {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?
    };
    let start = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => decode_cursor(c)?
            .parse::<usize>()
            .map_err(|_| ApiError::invalid_parameter("cursor was not issued here"))?,
        None => 0,
    };
    let crm = Crm::of(ctx.state());
    CustomerBook::of(ctx.state()).with(|book| {
        let c = book
            .get(&req.external_userid)
            .ok_or_else(|| unknown_customer(&req.external_userid))?;
        let visible: Vec<&Follow> = c
            .follows
            .iter()
            .filter(|f| viewer.sees(&f.userid))
            .collect();
        if visible.is_empty() {
            return Err(ApiError::new(
                84061_i64,
                format!(
                    "not external contact: no member the caller can see follows {}",
                    c.external_userid
                ),
            ));
        }
        let page: Vec<FollowUser> = crm.with(|crm| {
            visible
                .iter()
                .skip(start)
                .take(FOLLOW_PAGE)
                .map(|f| follow_user(f, crm))
                .collect()
        });
        let next = if start + FOLLOW_PAGE < visible.len() {
            encode_cursor(&(start + FOLLOW_PAGE).to_string())
        } else {
            String::new()
        };
        Ok(CustomerGetResponse::new(external_contact(c))
            .follow_user(page)
            .next_cursor(next))
    })
}

async fn customer_batch_get_by_user(
    ctx: Ctx,
    req: CustomerBatchGetByUserRequest,
) -> Result<CustomerBatchGetByUserResponse, ApiError> {
    let userids = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        req.userid_list
            .iter()
            .map(|u| visible_member(&corp, &viewer, u))
            .collect::<Result<Vec<_>, _>>()?
    };
    let limit = req.limit.unwrap_or(BATCH_DEFAULT).clamp(1, BATCH_MAX) as usize;
    // Cursor: "<index in userid_list>\n<last external_userid served for it>".
    let (mut ui, mut after) = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            let s = decode_cursor(c)?;
            let (i, e) = s
                .split_once('\n')
                .ok_or_else(|| ApiError::invalid_parameter("cursor was not issued here"))?;
            let i = i
                .parse::<usize>()
                .map_err(|_| ApiError::invalid_parameter("cursor was not issued here"))?;
            (i, Some(e.to_owned()))
        }
        None => (0, None),
    };
    let mut rows = Vec::with_capacity(limit);
    let mut next = String::new();
    CustomerBook::of(ctx.state()).with(|book| {
        while ui < userids.len() {
            let userid = &userids[ui];
            let lower = match &after {
                Some(e) => Bound::Excluded(e.clone()),
                None => Bound::Unbounded,
            };
            for (eid, c) in book.range((lower, Bound::Unbounded)) {
                let Some(f) = c.follows.iter().find(|f| &f.userid == userid) else {
                    continue;
                };
                if rows.len() == limit {
                    // There is more: resume after the last row served.
                    next = encode_cursor(&format!("{ui}\n{}", rows_last(&rows)));
                    return;
                }
                let _ = eid;
                rows.push(CustomerDetail::new(external_contact(c), follow_info(f)));
            }
            ui += 1;
            after = None;
        }
    });
    Ok(CustomerBatchGetByUserResponse::new()
        .external_contact_list(rows)
        .next_cursor(next))
}

fn rows_last(rows: &[CustomerDetail]) -> &str {
    rows.last()
        .map(|r| r.external_contact.external_userid.as_str())
        .unwrap_or("")
}

async fn customer_remark(
    ctx: Ctx,
    req: CustomerRemarkRequest,
) -> Result<CustomerRemarkResponse, ApiError> {
    let userid = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        visible_member(&corp, &viewer, &req.userid)?
    };
    CustomerBook::of(ctx.state()).with(|book| {
        let c = book
            .get_mut(&req.external_userid)
            .ok_or_else(|| unknown_customer(&req.external_userid))?;
        let f = c
            .follows
            .iter_mut()
            .find(|f| f.userid == userid)
            .ok_or_else(|| no_relation(&userid, &req.external_userid))?;
        if let Some(r) = &req.remark {
            f.remark = r.clone();
        }
        if let Some(d) = &req.description {
            f.description = d.clone();
        }
        if let Some(co) = &req.remark_company {
            f.remark_company = co.clone();
        }
        if !req.remark_mobiles.is_empty() {
            f.remark_mobiles = req
                .remark_mobiles
                .iter()
                .filter(|m| !m.is_empty())
                .cloned()
                .collect();
        }
        if let Some(p) = &req.remark_pic_mediaid {
            f.remark_pic_mediaid = p.clone();
        }
        Ok(CustomerRemarkResponse::new())
    })
}

// ------------------------------------------------------------------------------------------------
// Corp tags

fn group_answer(g: &StoredGroup, only: Option<&[String]>) -> CorpTagGroup {
    let mut out = CorpTagGroup::new(g.id.clone());
    out.group_name = Some(g.name.clone());
    out.create_time = Some(g.create_time);
    out.order = Some(g.order);
    out.tag = g
        .tags
        .iter()
        .filter(|t| only.is_none_or(|ids| ids.contains(&t.id)))
        .map(|t| {
            let mut ct = CorpTag::new(t.id.clone());
            ct.name = Some(t.name.clone());
            ct.create_time = Some(t.create_time);
            ct.order = Some(t.order);
            ct
        })
        .collect();
    out
}

fn unknown_tag(id: &str) -> ApiError {
    ApiError::new(
        40068_i64,
        format!("invalid tagid: no corp tag or tag group {id}"),
    )
}

fn not_creator(id: &str) -> ApiError {
    ApiError::new(
        81011_i64,
        format!(
            "no privilege: {id} was not created by this app (an app edits and deletes only the corp tags it created; the 客户联系 secret may change all)"
        ),
    )
}

fn may_change(viewer: &Viewer, creator: Option<u32>) -> bool {
    match viewer.app() {
        None => true,
        Some(a) => creator == Some(a),
    }
}

async fn corp_tag_list(ctx: Ctx, req: CorpTagListRequest) -> Result<CorpTagListResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?;
    }
    let groups = Crm::of(ctx.state()).with(|crm| {
        if !req.group_id.is_empty() {
            crm.groups
                .iter()
                .filter(|g| req.group_id.contains(&g.id))
                .map(|g| group_answer(g, None))
                .collect::<Vec<_>>()
        } else if !req.tag_id.is_empty() {
            crm.groups
                .iter()
                .filter(|g| g.tags.iter().any(|t| req.tag_id.contains(&t.id)))
                .map(|g| group_answer(g, Some(&req.tag_id)))
                .collect()
        } else {
            crm.groups.iter().map(|g| group_answer(g, None)).collect()
        }
    });
    Ok(CorpTagListResponse::new().tag_group(groups))
}

async fn corp_tag_add(ctx: Ctx, req: CorpTagAddRequest) -> Result<CorpTagAddResponse, ApiError> {
    let viewer = {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?
    };
    let now = ctx.state().now_secs();
    Crm::of(ctx.state()).with(|crm| {
        let gi = match (&req.group_id, &req.group_name) {
            (Some(id), _) => crm
                .groups
                .iter()
                .position(|g| &g.id == id)
                .ok_or_else(|| unknown_tag(id))?,
            (None, Some(name)) => match crm.groups.iter().position(|g| &g.name == name) {
                Some(i) => i,
                None => {
                    let id = crm.new_id("et");
                    crm.groups.push(StoredGroup {
                        id,
                        name: name.clone(),
                        order: req.order.unwrap_or(0),
                        create_time: now,
                        creator: viewer.app(),
                        tags: Vec::new(),
                    });
                    crm.groups.len() - 1
                }
            },
            (None, None) => {
                return Err(ApiError::new(
                    40068_i64,
                    "name the group: group_id of an existing one or group_name for a new one",
                ));
            }
        };
        // Tags in a group are unique by name: a name given twice, or already there, is not added again.
        let mut fresh: Vec<(String, u32)> = Vec::new();
        for t in &req.tag {
            let taken = crm.groups[gi].tags.iter().any(|x| x.name == t.name)
                || fresh.iter().any(|(n, _)| n == &t.name);
            if !taken {
                fresh.push((t.name.clone(), t.order.unwrap_or(0)));
            }
        }
        if crm.tag_count() + fresh.len() > MAX_CORP_TAGS {
            if crm.groups[gi].tags.is_empty() {
                crm.groups.remove(gi);
            }
            return Err(ApiError::new(
                40126_i64,
                format!("corp tag limit reached: at most {MAX_CORP_TAGS} corp tags"),
            ));
        }
        let mut added = Vec::new();
        for (name, order) in fresh {
            let id = crm.new_id("et");
            added.push(id.clone());
            crm.groups[gi].tags.push(StoredTag {
                id,
                name,
                order,
                create_time: now,
                creator: viewer.app(),
            });
        }
        Ok(CorpTagAddResponse::new(group_answer(
            &crm.groups[gi],
            Some(&added),
        )))
    })
}

async fn corp_tag_edit(ctx: Ctx, req: CorpTagEditRequest) -> Result<CorpTagEditResponse, ApiError> {
    let viewer = {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?
    };
    Crm::of(ctx.state()).with(|crm| {
        if let Some(g) = crm.groups.iter_mut().find(|g| g.id == req.id) {
            if !may_change(&viewer, g.creator) {
                return Err(not_creator(&req.id));
            }
            if let Some(n) = &req.name {
                g.name = n.clone();
            }
            if let Some(o) = req.order {
                g.order = o;
            }
            return Ok(CorpTagEditResponse::new());
        }
        let (gi, ti) = crm.find_tag(&req.id).ok_or_else(|| unknown_tag(&req.id))?;
        let t = &mut crm.groups[gi].tags[ti];
        if !may_change(&viewer, t.creator) {
            return Err(not_creator(&req.id));
        }
        if let Some(n) = &req.name {
            t.name = n.clone();
        }
        if let Some(o) = req.order {
            t.order = o;
        }
        Ok(CorpTagEditResponse::new())
    })
}

async fn corp_tag_del(ctx: Ctx, req: CorpTagDelRequest) -> Result<CorpTagDelResponse, ApiError> {
    let viewer = {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?
    };
    let removed: Vec<String> = Crm::of(ctx.state()).with(|crm| {
        // Check everything first: one bad id changes nothing.
        for id in &req.group_id {
            let g = crm
                .groups
                .iter()
                .find(|g| &g.id == id)
                .ok_or_else(|| unknown_tag(id))?;
            if !may_change(&viewer, g.creator) {
                return Err(not_creator(id));
            }
        }
        for id in &req.tag_id {
            let (gi, ti) = crm.find_tag(id).ok_or_else(|| unknown_tag(id))?;
            if !may_change(&viewer, crm.groups[gi].tags[ti].creator) {
                return Err(not_creator(id));
            }
        }
        let mut removed = Vec::new();
        crm.groups.retain(|g| {
            if req.group_id.contains(&g.id) {
                removed.extend(g.tags.iter().map(|t| t.id.clone()));
                false
            } else {
                true
            }
        });
        for g in &mut crm.groups {
            g.tags.retain(|t| {
                let gone = req.tag_id.contains(&t.id);
                if gone {
                    removed.push(t.id.clone());
                }
                !gone
            });
        }
        // A group whose last tag went is deleted too.
        crm.groups.retain(|g| !g.tags.is_empty());
        Ok(removed)
    })?;
    if !removed.is_empty() {
        CustomerBook::of(ctx.state()).with(|book| {
            for c in book.values_mut() {
                for f in &mut c.follows {
                    f.tag_ids.retain(|t| !removed.contains(t));
                }
            }
        });
    }
    Ok(CorpTagDelResponse::new())
}

async fn mark_tag(ctx: Ctx, req: MarkTagRequest) -> Result<MarkTagResponse, ApiError> {
    let userid = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        visible_member(&corp, &viewer, &req.userid)?
    };
    Crm::of(ctx.state()).with(|crm| {
        for id in req.add_tag.iter().chain(&req.remove_tag) {
            if crm.find_tag(id).is_none() {
                return Err(unknown_tag(id));
            }
        }
        Ok(())
    })?;
    CustomerBook::of(ctx.state()).with(|book| {
        let c = book
            .get_mut(&req.external_userid)
            .ok_or_else(|| unknown_customer(&req.external_userid))?;
        let f = c
            .follows
            .iter_mut()
            .find(|f| f.userid == userid)
            .ok_or_else(|| no_relation(&userid, &req.external_userid))?;
        let mut tags = f.tag_ids.clone();
        for t in &req.add_tag {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        tags.retain(|t| !req.remove_tag.contains(t));
        if tags.len() > MAX_TAGS_PER_CUSTOMER {
            return Err(ApiError::invalid_parameter(format!(
                "a member may put at most {MAX_TAGS_PER_CUSTOMER} tags on one customer"
            )));
        }
        f.tag_ids = tags;
        Ok(MarkTagResponse::new())
    })
}

// ------------------------------------------------------------------------------------------------
// Contact ways

fn unknown_way(id: &str) -> ApiError {
    ApiError::new(41044_i64, format!("invalid config_id: no contact way {id}"))
}

fn check_way_members(
    corp: &Corp,
    viewer: &Viewer,
    way_type: u32,
    users: &[String],
    parties: &[u32],
) -> Result<Vec<String>, ApiError> {
    if users.is_empty() && parties.is_empty() {
        return Err(ApiError::invalid_parameter(
            "a contact way needs members (`user`) or departments (`party`)",
        ));
    }
    if way_type == 1 && (users.len() != 1 || !parties.is_empty()) {
        return Err(ApiError::new(
            41041_i64,
            "contact way user limit: a type 1 (单人) contact way has exactly one member and no department",
        ));
    }
    let users = users
        .iter()
        .map(|u| visible_member(corp, viewer, u))
        .collect::<Result<Vec<_>, _>>()?;
    for p in parties {
        corp.department(*p)?;
    }
    Ok(users)
}

async fn contact_way_add(
    ctx: Ctx,
    req: ContactWayAddRequest,
) -> Result<ContactWayAddResponse, ApiError> {
    let users = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        check_way_members(&corp, &viewer, req.way_type, &req.user, &req.party)?
    };
    let now = ctx.state().now_secs();
    let base = ctx.state().base_url().trim_end_matches('/').to_owned();
    Crm::of(ctx.state()).with(|crm| {
        if crm.ways.len() >= MAX_CONTACT_WAYS {
            return Err(ApiError::new(
                41045_i64,
                format!("contact way limit: at most {MAX_CONTACT_WAYS} through the API"),
            ));
        }
        let id = crm.new_id("cw");
        let mut way = ContactWay::new(id.clone());
        way.way_type = Some(req.way_type);
        way.scene = Some(req.scene);
        way.style = req.style;
        way.remark = req.remark.clone();
        way.skip_verify = Some(req.skip_verify.unwrap_or(true));
        way.state = req.state.clone();
        way.user = users;
        way.party = req.party.clone();
        way.is_temp = req.is_temp;
        way.expires_in = req.expires_in;
        way.chat_expires_in = req.chat_expires_in;
        way.unionid = req.unionid.clone();
        way.is_exclusive = req.is_exclusive;
        way.mark_source = req.mark_source;
        way.conclusions = req.conclusions.clone();
        let qr = (req.scene == 2).then(|| format!("{base}/sandbox/contact-ways/{id}"));
        way.qr_code = qr.clone();
        crm.ways.insert(
            id.clone(),
            StoredWay {
                way,
                created_at: now,
                next: 0,
            },
        );
        let mut answer = ContactWayAddResponse::new(id);
        answer.qr_code = qr;
        Ok(answer)
    })
}

async fn contact_way_get(
    ctx: Ctx,
    req: ContactWayGetRequest,
) -> Result<ContactWayGetResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?;
    }
    Crm::of(ctx.state()).with(|crm| {
        let w = crm
            .ways
            .get(&req.config_id)
            .ok_or_else(|| unknown_way(&req.config_id))?;
        Ok(ContactWayGetResponse::new(w.way.clone()))
    })
}

async fn contact_way_list(
    ctx: Ctx,
    req: ContactWayListRequest,
) -> Result<ContactWayListResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?;
    }
    let after = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    // The page's limit is beyond the corpus excerpt: the sandbox serves 100 by default, 1,000 at most.
    let limit = req.limit.unwrap_or(100).clamp(1, 1_000) as usize;
    Crm::of(ctx.state()).with(|crm| {
        let lower = match &after {
            Some(a) => Bound::Excluded(a.clone()),
            None => Bound::Unbounded,
        };
        let mut rows = Vec::new();
        let mut next = String::new();
        for (id, w) in crm.ways.range((lower, Bound::Unbounded)) {
            if req.start_time.is_some_and(|t| w.created_at < t)
                || req.end_time.is_some_and(|t| w.created_at > t)
            {
                continue;
            }
            if rows.len() == limit {
                next = encode_cursor(rows_last_way(&rows));
                break;
            }
            rows.push(ContactWayRef::new(id.clone()));
        }
        Ok(ContactWayListResponse::new()
            .contact_way(rows)
            .next_cursor(next))
    })
}

fn rows_last_way(rows: &[ContactWayRef]) -> &str {
    rows.last().map(|r| r.config_id.as_str()).unwrap_or("")
}

async fn contact_way_update(
    ctx: Ctx,
    req: ContactWayUpdateRequest,
) -> Result<ContactWayUpdateResponse, ApiError> {
    let way_type = Crm::of(ctx.state()).with(|crm| {
        crm.ways
            .get(&req.config_id)
            .map(|w| w.way.way_type.unwrap_or(1))
            .ok_or_else(|| unknown_way(&req.config_id))
    })?;
    let users = if req.user.is_empty() && req.party.is_empty() {
        None
    } else {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        Some(check_way_members(
            &corp, &viewer, way_type, &req.user, &req.party,
        )?)
    };
    Crm::of(ctx.state()).with(|crm| {
        let w = crm
            .ways
            .get_mut(&req.config_id)
            .ok_or_else(|| unknown_way(&req.config_id))?;
        let way = &mut w.way;
        if let Some(u) = users {
            way.user = u;
            way.party = req.party.clone();
            w.next = 0;
        }
        macro_rules! set {
            ($($f:ident),*) => {$( if req.$f.is_some() { way.$f = req.$f.clone(); } )*};
        }
        set!(
            remark,
            skip_verify,
            style,
            state,
            expires_in,
            chat_expires_in,
            unionid,
            mark_source,
            conclusions
        );
        Ok(ContactWayUpdateResponse::new())
    })
}

async fn contact_way_del(
    ctx: Ctx,
    req: ContactWayDelRequest,
) -> Result<ContactWayDelResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?;
    }
    Crm::of(ctx.state()).with(|crm| {
        crm.ways
            .remove(&req.config_id)
            .map(|_| ContactWayDelResponse::new())
            .ok_or_else(|| unknown_way(&req.config_id))
    })
}

async fn close_temp_chat(
    ctx: Ctx,
    req: CloseTempChatRequest,
) -> Result<CloseTempChatResponse, ApiError> {
    let userid = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        visible_member(&corp, &viewer, &req.userid)?
    };
    let book = CustomerBook::of(ctx.state());
    if !book.with(|b| b.contains_key(&req.external_userid)) {
        return Err(unknown_customer(&req.external_userid));
    }
    if !book.remove_follow(&req.external_userid, &userid) {
        return Err(no_relation(&userid, &req.external_userid));
    }
    Ok(CloseTempChatResponse::new())
}

// ------------------------------------------------------------------------------------------------
// Welcome message

async fn send_welcome_msg(
    ctx: Ctx,
    req: SendWelcomeMsgRequest,
) -> Result<SendWelcomeMsgResponse, ApiError> {
    {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?;
    }
    let now = ctx.state().now_secs();
    Crm::of(ctx.state()).with(|crm| {
        let code = crm.welcome_codes.get_mut(&req.welcome_code).ok_or_else(|| {
            ApiError::new(41050_i64, "invalid welcome code: not issued by an add_external_contact event")
        })?;
        if code.used {
            return Err(ApiError::new(
                41051_i64,
                "externaluser has started chatting: the welcome message was already sent with this code (a WelcomeCode is usable once)",
            ));
        }
        let age = now - code.created_at;
        if age > WELCOME_CODE_SECS {
            return Err(ApiError::new(
                41050_i64,
                format!(
                    "invalid welcome code: expired {} s ago (usable for {WELCOME_CODE_SECS} s after the event)",
                    age - WELCOME_CODE_SECS
                ),
            ));
        }
        code.used = true;
        let sent = WelcomeSent {
            userid: code.userid.clone(),
            external_userid: code.external_userid.clone(),
            text: req
                .text
                .as_ref()
                .and_then(|t| t.content.clone())
                .unwrap_or_default(),
            attachments: req.attachments.len(),
            at: now,
        };
        crm.keep_welcome(sent);
        Ok(SendWelcomeMsgResponse::new())
    })
}

// ------------------------------------------------------------------------------------------------
// Customer groups

async fn groupchat_list(
    ctx: Ctx,
    req: GroupchatListRequest,
) -> Result<GroupchatListResponse, ApiError> {
    let (viewer, owners) = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        let owners = match &req.owner_filter {
            Some(f) if !f.userid_list.is_empty() => Some(
                f.userid_list
                    .iter()
                    .map(|u| visible_member(&corp, &viewer, u))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => {
                let visible = corp.members().filter(|m| viewer.sees(&m.userid)).count();
                if visible > GROUPCHAT_UNFILTERED_MAX {
                    return Err(ApiError::new(
                        81017_i64,
                        format!(
                            "too many members ({visible}) in scope: give owner_filter (without it at most {GROUPCHAT_UNFILTERED_MAX})"
                        ),
                    ));
                }
                None
            }
        };
        (viewer, owners)
    };
    let after = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(decode_cursor(c)?),
        None => None,
    };
    let limit = req.limit as usize;
    let status = req.status_filter.unwrap_or(0);
    Crm::of(ctx.state()).with(|crm| {
        let lower = match &after {
            Some(a) => Bound::Excluded(a.clone()),
            None => Bound::Unbounded,
        };
        let mut rows: Vec<GroupChatRef> = Vec::new();
        let mut next = String::new();
        for (id, chat) in crm.chats.range((lower, Bound::Unbounded)) {
            let owner = chat.owner.clone().unwrap_or_default();
            let listed = match &owners {
                Some(o) => o.contains(&owner),
                None => viewer.sees(&owner),
            };
            // Owners in the sandbox never leave: every group's status is 0 (跟进人正常).
            if !listed || status != 0 {
                continue;
            }
            if rows.len() == limit {
                next = encode_cursor(rows.last().map(|r| r.chat_id.as_str()).unwrap_or(""));
                break;
            }
            let mut r = GroupChatRef::new(id.clone());
            r.status = Some(0);
            rows.push(r);
        }
        Ok(GroupchatListResponse::new()
            .group_chat_list(rows)
            .next_cursor(next))
    })
}

async fn groupchat_get(
    ctx: Ctx,
    req: GroupchatGetRequest,
) -> Result<GroupchatGetResponse, ApiError> {
    let viewer = {
        let corp = ctx.state().corp();
        Viewer::of(&ctx, &corp)?
    };
    Crm::of(ctx.state()).with(|crm| {
        let chat = crm.chats.get(&req.chat_id).ok_or_else(|| {
            ApiError::new(40050_i64, format!("chatid not found: {}", req.chat_id))
        })?;
        let owner = chat.owner.clone().unwrap_or_default();
        if !viewer.sees(&owner) {
            return Err(ApiError::new(
                60011_i64,
                format!(
                    "no privilege: the group's owner {owner} is outside the app's visible scope"
                ),
            ));
        }
        let mut chat = chat.clone();
        if req.need_name != Some(1) {
            for m in &mut chat.member_list {
                m.name = None;
            }
        }
        Ok(GroupchatGetResponse::new(chat))
    })
}

// ------------------------------------------------------------------------------------------------
// Statistics

/// How far back `get_user_behavior_data` serves (the page: 最多可获取最近180天内的数据).
pub const BEHAVIOR_HISTORY_DAYS: i64 = 180;

/// Daily statistics over the members named (and the members of the departments named), summed.
/// The sandbox keeps no chats: `new_contact_cnt` counts follow relations created that day,
/// `new_apply_cnt` the same (a scan is an accepted application), the chat and message counts
/// are 0 and `reply_percentage` / `avg_reply_time` are absent (the page: only when there were
/// chats).
async fn user_behavior_data(
    ctx: Ctx,
    req: UserBehaviorDataRequest,
) -> Result<UserBehaviorDataResponse, ApiError> {
    let members = {
        let corp = ctx.state().corp();
        let viewer = Viewer::of(&ctx, &corp)?;
        let mut members = req
            .userid
            .iter()
            .map(|u| visible_member(&corp, &viewer, u))
            .collect::<Result<Vec<_>, _>>()?;
        for p in &req.partyid {
            for m in corp.members_of(*p, true)? {
                if !viewer.sees(&m.userid) {
                    return Err(ApiError::new(
                        60011_i64,
                        format!(
                            "no privilege: department {p} has members outside the app's visible scope"
                        ),
                    ));
                }
                members.push(m.userid.clone());
            }
        }
        members.sort();
        members.dedup();
        members
    };
    let (start, end) = (beijing_day(req.start_time), beijing_day(req.end_time));
    let today = beijing_day(ctx.state().now_secs());
    if start < today - BEHAVIOR_HISTORY_DAYS * 86_400 {
        return Err(ApiError::new(
            600018_i64,
            format!(
                "invalid start endtime: data is kept for the last {BEHAVIOR_HISTORY_DAYS} days"
            ),
        ));
    }
    let days = ((end - start) / 86_400 + 1).max(0) as usize;
    let mut counts = vec![0i64; days];
    CustomerBook::of(ctx.state()).with(|book| {
        for c in book.values() {
            for f in &c.follows {
                if members.binary_search(&f.userid).is_ok() {
                    let d = beijing_day(f.createtime);
                    if d >= start && d <= end {
                        counts[((d - start) / 86_400) as usize] += 1;
                    }
                }
            }
        }
    });
    let rows: Vec<BehaviorData> = counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let mut b = BehaviorData::new(start + i as i64 * 86_400);
            b.chat_cnt = Some(0);
            b.message_cnt = Some(0);
            b.negative_feedback_cnt = Some(0);
            b.new_apply_cnt = Some(n);
            b.new_contact_cnt = Some(n);
            b
        })
        .collect();
    Ok(UserBehaviorDataResponse::new().behavior_data(rows))
}

/// The figures of `chats` over the days [start, end] (00:00 Beijing time): new groups and new
/// members in the range, totals at its end. The sandbox keeps no group messages: the message
/// figures are 0.
fn chat_figures<'a>(
    chats: impl Iterator<Item = &'a GroupChat>,
    start: i64,
    end: i64,
) -> GroupChatStatData {
    let end_of_range = end + 86_400;
    let mut d = GroupChatStatData::new();
    let (mut new_chats, mut chats_total, mut new_members, mut members_total) = (0, 0, 0, 0);
    for c in chats {
        let created = c.create_time.unwrap_or(0);
        if created >= end_of_range {
            continue;
        }
        chats_total += 1;
        if created >= start {
            new_chats += 1;
        }
        for m in &c.member_list {
            let joined = m.join_time.unwrap_or(created);
            if joined < end_of_range {
                members_total += 1;
                if joined >= start {
                    new_members += 1;
                }
            }
        }
    }
    d.new_chat_cnt = Some(new_chats);
    d.chat_total = Some(chats_total);
    d.chat_has_msg = Some(0);
    d.new_member_cnt = Some(new_members);
    d.member_total = Some(members_total);
    d.member_has_msg = Some(0);
    d.msg_total = Some(0);
    d.migrate_trainee_chat_cnt = Some(0);
    d
}

/// The owners to report on: the filter's (each visible, 60011) or every visible member (81017
/// above 1,000), and the checked day range.
fn statistic_scope(
    ctx: &Ctx,
    owners: Option<&[String]>,
    begin: i64,
    end: Option<i64>,
) -> Result<(Vec<String>, i64, i64), ApiError> {
    let corp = ctx.state().corp();
    let viewer = Viewer::of(ctx, &corp)?;
    let owners = match owners.filter(|o| !o.is_empty()) {
        Some(o) => o
            .iter()
            .map(|u| visible_member(&corp, &viewer, u))
            .collect::<Result<Vec<_>, _>>()?,
        None => {
            let all: Vec<String> = corp
                .members()
                .filter(|m| viewer.sees(&m.userid))
                .map(|m| m.userid.clone())
                .collect();
            if all.len() > GROUPCHAT_UNFILTERED_MAX {
                return Err(ApiError::new(
                    81017_i64,
                    format!(
                        "too many owners ({}) in scope: give owner_filter",
                        all.len()
                    ),
                ));
            }
            all
        }
    };
    let (start, end) = (beijing_day(begin), beijing_day(end.unwrap_or(begin)));
    let today = beijing_day(ctx.state().now_secs());
    if start < today - BEHAVIOR_HISTORY_DAYS * 86_400 {
        return Err(ApiError::new(
            600018_i64,
            format!(
                "invalid start endtime: data is kept for the last {BEHAVIOR_HISTORY_DAYS} days"
            ),
        ));
    }
    Ok((owners, start, end))
}

async fn groupchat_statistic(
    ctx: Ctx,
    req: GroupchatStatisticRequest,
) -> Result<GroupchatStatisticResponse, ApiError> {
    let filter = req.owner_filter.as_ref().map(|f| f.userid_list.clone());
    let (owners, start, end) = statistic_scope(
        &ctx,
        filter.as_deref(),
        req.day_begin_time,
        req.day_end_time,
    )?;
    let mut rows: Vec<GroupChatOwnerStat> = Crm::of(ctx.state()).with(|crm| {
        owners
            .iter()
            .map(|o| {
                let chats = crm
                    .chats
                    .values()
                    .filter(|c| c.owner.as_deref() == Some(o.as_str()));
                GroupChatOwnerStat::new(o.clone(), chat_figures(chats, start, end))
            })
            .collect()
    });
    let key = |r: &GroupChatOwnerStat| match req.order_by.unwrap_or(1) {
        2 => r.data.chat_total,
        3 => r.data.new_member_cnt,
        4 => r.data.member_total,
        _ => r.data.new_chat_cnt,
    };
    rows.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.owner.cmp(&b.owner)));
    if req.order_asc != Some(1) {
        rows.reverse();
    }
    let total = rows.len();
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.unwrap_or(500) as usize;
    let page: Vec<_> = rows.into_iter().skip(offset).take(limit).collect();
    let next = (offset + page.len()).min(total);
    Ok(GroupchatStatisticResponse::new()
        .total(total as u32)
        .next_offset(next as u32)
        .items(page))
}

async fn groupchat_statistic_group_by_day(
    ctx: Ctx,
    req: GroupchatStatisticGroupByDayRequest,
) -> Result<GroupchatStatisticGroupByDayResponse, ApiError> {
    let (owners, start, end) = statistic_scope(
        &ctx,
        Some(&req.owner_filter.userid_list),
        req.day_begin_time,
        req.day_end_time,
    )?;
    let days = ((end - start) / 86_400 + 1).max(0);
    let items: Vec<GroupChatDayStat> = Crm::of(ctx.state()).with(|crm| {
        (0..days)
            .map(|i| {
                let day = start + i * 86_400;
                let chats = crm
                    .chats
                    .values()
                    .filter(|c| c.owner.as_ref().is_some_and(|o| owners.contains(o)));
                GroupChatDayStat::new(day, chat_figures(chats, day, day))
            })
            .collect()
    });
    Ok(GroupchatStatisticGroupByDayResponse::new().items(items))
}
