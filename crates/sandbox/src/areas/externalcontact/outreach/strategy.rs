//! `customer_strategy/get_range` and `moment_strategy/get_range`: the members and departments a
//! strategy group governs, paged. The groups themselves are declared sandbox resources
//! (`customer_strategy`, `moment_strategy`); these read the `range` create stored (edit's
//! `range_add`/`range_del` are kept as sent by the resource engine, not applied). An unknown
//! strategy_id answers the generic 40058, as the resource's own get does.
//!
//! Strategy tags (管理企业规则组下的客户标签): tag groups per customer strategy group, only under a
//! first-level group (40058 otherwise: no errcode named), unique names within a tag group, corp
//! and strategy tags together at most 3,000 (40126), unknown ids 40068 as the corp tags answer.

use std::sync::Mutex;

use serde_json::{Value, json};
use wecom_externalcontact::{
    CorpTag, CustomerStrategyGetRangeRequest, CustomerStrategyGetRangeResponse,
    MomentStrategyGetRangeRequest, MomentStrategyGetRangeResponse, StrategyRange,
    StrategyTagAddRequest, StrategyTagAddResponse, StrategyTagDelRequest, StrategyTagDelResponse,
    StrategyTagEditRequest, StrategyTagEditResponse, StrategyTagGroup, StrategyTagListRequest,
    StrategyTagListResponse,
};

use super::page;
use crate::areas::externalcontact::crm::{Crm, MAX_CORP_TAGS, StoredGroup, StoredTag};
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::resources::ResourceStore;
use crate::state::{State, lock};

pub(super) fn register(r: &mut Registry) {
    r.add::<CustomerStrategyGetRangeRequest, _, _>(customer_range);
    r.add::<MomentStrategyGetRangeRequest, _, _>(moment_range);
    r.add::<StrategyTagListRequest, _, _>(tag_list);
    r.add::<StrategyTagAddRequest, _, _>(tag_add);
    r.add::<StrategyTagEditRequest, _, _>(tag_edit);
    r.add::<StrategyTagDelRequest, _, _>(tag_del);
}

/// The tag groups of every strategy group: (strategy_id, group).
#[derive(Debug, Default)]
struct StrategyTags {
    groups: Mutex<Vec<(u32, StoredGroup)>>,
}

fn strategy_tags(state: &State) -> std::sync::Arc<StrategyTags> {
    state.extension::<StrategyTags>()
}

fn unknown_tag(id: &str) -> ApiError {
    ApiError::new(
        40068_i64,
        format!("invalid tagid: no strategy tag or tag group {id}"),
    )
}

fn answer(strategy_id: u32, g: &StoredGroup, only: Option<&[String]>) -> StrategyTagGroup {
    let mut out = StrategyTagGroup::new(g.id.clone());
    out.group_name = Some(g.name.clone());
    out.create_time = Some(g.create_time);
    out.order = Some(g.order);
    out.strategy_id = Some(strategy_id);
    out.tag = g
        .tags
        .iter()
        .filter(|t| only.is_none_or(|o| o.contains(&t.id)))
        .map(|t| {
            let mut c = CorpTag::new(t.id.clone());
            c.name = Some(t.name.clone());
            c.create_time = Some(t.create_time);
            c.order = Some(t.order);
            c
        })
        .collect();
    out
}

async fn tag_list(
    ctx: Ctx,
    req: StrategyTagListRequest,
) -> Result<StrategyTagListResponse, ApiError> {
    let st = strategy_tags(ctx.state());
    let groups = lock(&st.groups);
    let mine = groups
        .iter()
        .filter(|(s, _)| req.strategy_id.is_none_or(|id| id == *s));
    let out: Vec<StrategyTagGroup> = if !req.group_id.is_empty() {
        mine.filter(|(_, g)| req.group_id.contains(&g.id))
            .map(|(s, g)| answer(*s, g, None))
            .collect()
    } else if !req.tag_id.is_empty() {
        mine.filter(|(_, g)| g.tags.iter().any(|t| req.tag_id.contains(&t.id)))
            .map(|(s, g)| answer(*s, g, Some(&req.tag_id)))
            .collect()
    } else {
        mine.map(|(s, g)| answer(*s, g, None)).collect()
    };
    let mut r = StrategyTagListResponse::new();
    r.tag_group = out;
    Ok(r)
}

async fn tag_add(ctx: Ctx, req: StrategyTagAddRequest) -> Result<StrategyTagAddResponse, ApiError> {
    let state = ctx.state();
    let corpid = state.corp().corpid().to_owned();
    let strategy = state
        .extension::<ResourceStore>()
        .object(&corpid, "customer_strategy", &json!(req.strategy_id))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!("strategy_id {} not found", req.strategy_id))
        })?;
    if strategy
        .get("parent_id")
        .and_then(Value::as_u64)
        .is_some_and(|p| p != 0)
    {
        return Err(ApiError::invalid_parameter(format!(
            "strategy {} is not a first-level group (仅可在一级规则组下添加标签)",
            req.strategy_id
        )));
    }
    let now = state.now_secs();
    let crm = Crm::of(state);
    let corp_tags = crm.with(|c| c.tag_count());
    let st = strategy_tags(state);
    let mut groups = lock(&st.groups);
    let gi = match (&req.group_id, &req.group_name) {
        (Some(id), _) => groups
            .iter()
            .position(|(s, g)| *s == req.strategy_id && &g.id == id)
            .ok_or_else(|| unknown_tag(id))?,
        (None, Some(name)) => {
            match groups
                .iter()
                .position(|(s, g)| *s == req.strategy_id && &g.name == name)
            {
                Some(i) => i,
                None => {
                    groups.push((
                        req.strategy_id,
                        StoredGroup {
                            id: crm.with(|c| c.new_id("et")),
                            name: name.clone(),
                            order: req.order.unwrap_or(0),
                            create_time: now,
                            creator: None,
                            tags: Vec::new(),
                        },
                    ));
                    groups.len() - 1
                }
            }
        }
        (None, None) => {
            return Err(ApiError::new(
                40068_i64,
                "name the group: group_id of an existing one or group_name for a new one",
            ));
        }
    };
    let mut fresh: Vec<(String, u32)> = Vec::new();
    for t in &req.tag {
        let taken = groups[gi].1.tags.iter().any(|x| x.name == t.name)
            || fresh.iter().any(|(n, _)| n == &t.name);
        if !taken {
            fresh.push((t.name.clone(), t.order.unwrap_or(0)));
        }
    }
    let strategy_count: usize = groups.iter().map(|(_, g)| g.tags.len()).sum();
    if corp_tags + strategy_count + fresh.len() > MAX_CORP_TAGS {
        if groups[gi].1.tags.is_empty() {
            groups.remove(gi);
        }
        return Err(ApiError::new(
            40126_i64,
            format!("tag limit reached: at most {MAX_CORP_TAGS} corp and strategy tags together"),
        ));
    }
    let mut added = Vec::new();
    for (name, order) in fresh {
        let id = crm.with(|c| c.new_id("et"));
        added.push(id.clone());
        groups[gi].1.tags.push(StoredTag {
            id,
            name,
            order,
            create_time: now,
            creator: None,
        });
    }
    let (s, g) = &groups[gi];
    Ok(StrategyTagAddResponse::new(answer(*s, g, Some(&added))))
}

async fn tag_edit(
    ctx: Ctx,
    req: StrategyTagEditRequest,
) -> Result<StrategyTagEditResponse, ApiError> {
    let st = strategy_tags(ctx.state());
    let mut groups = lock(&st.groups);
    for (_, g) in groups.iter_mut() {
        if g.id == req.id {
            if let Some(n) = &req.name {
                g.name = n.clone();
            }
            if let Some(o) = req.order {
                g.order = o;
            }
            return Ok(StrategyTagEditResponse::new());
        }
        if let Some(t) = g.tags.iter_mut().find(|t| t.id == req.id) {
            if let Some(n) = &req.name {
                t.name = n.clone();
            }
            if let Some(o) = req.order {
                t.order = o;
            }
            return Ok(StrategyTagEditResponse::new());
        }
    }
    Err(unknown_tag(&req.id))
}

async fn tag_del(ctx: Ctx, req: StrategyTagDelRequest) -> Result<StrategyTagDelResponse, ApiError> {
    let st = strategy_tags(ctx.state());
    let mut groups = lock(&st.groups);
    // Check everything first: one bad id changes nothing.
    for id in &req.group_id {
        if !groups.iter().any(|(_, g)| &g.id == id) {
            return Err(unknown_tag(id));
        }
    }
    for id in &req.tag_id {
        if !groups
            .iter()
            .any(|(_, g)| g.tags.iter().any(|t| &t.id == id))
        {
            return Err(unknown_tag(id));
        }
    }
    groups.retain(|(_, g)| !req.group_id.contains(&g.id));
    for (_, g) in groups.iter_mut() {
        g.tags.retain(|t| !req.tag_id.contains(&t.id));
    }
    groups.retain(|(_, g)| !g.tags.is_empty());
    Ok(StrategyTagDelResponse::new())
}

fn range_of(
    ctx: &Ctx,
    resource: &str,
    strategy_id: u32,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<(Vec<StrategyRange>, String), ApiError> {
    let corpid = ctx.state().corp().corpid().to_owned();
    let object = ctx
        .state()
        .extension::<ResourceStore>()
        .object(&corpid, resource, &json!(strategy_id))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!("strategy_id {strategy_id} not found"))
        })?;
    let range: Vec<StrategyRange> = match object.get("range") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect(),
        _ => Vec::new(),
    };
    page(&range, cursor, limit.unwrap_or(1000) as usize)
}

async fn customer_range(
    ctx: Ctx,
    req: CustomerStrategyGetRangeRequest,
) -> Result<CustomerStrategyGetRangeResponse, ApiError> {
    let (items, next) = range_of(
        &ctx,
        "customer_strategy",
        req.strategy_id,
        req.cursor.as_deref(),
        req.limit,
    )?;
    let mut answer = CustomerStrategyGetRangeResponse::new();
    answer.range = items;
    answer.next_cursor = (!next.is_empty()).then_some(next);
    Ok(answer)
}

async fn moment_range(
    ctx: Ctx,
    req: MomentStrategyGetRangeRequest,
) -> Result<MomentStrategyGetRangeResponse, ApiError> {
    let (items, next) = range_of(
        &ctx,
        "moment_strategy",
        req.strategy_id,
        req.cursor.as_deref(),
        req.limit,
    )?;
    let mut answer = MomentStrategyGetRangeResponse::new();
    answer.range = items;
    answer.next_cursor = (!next.is_empty()).then_some(next);
    Ok(answer)
}
