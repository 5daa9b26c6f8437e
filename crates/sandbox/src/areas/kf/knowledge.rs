//! The 微信客服 knowledge base (机器人 → 知识库): groups and questions, with the pages' limits
//! (95971: names unique, at most 100 groups; 95972: at most 200 questions per group, a question
//! does not repeat across groups). The pages name no errcode for these: 40058.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::json;
use wecom_kf::{
    KfKnowledgeAddGroupRequest, KfKnowledgeAddGroupResponse, KfKnowledgeAddIntentRequest,
    KfKnowledgeAddIntentResponse, KfKnowledgeDelGroupRequest, KfKnowledgeDelGroupResponse,
    KfKnowledgeModGroupRequest, KfKnowledgeModGroupResponse,
};

use super::answer;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::lock;

/// At most this many groups (page 95971: "全部分组数上限为100").
pub const MAX_GROUPS: usize = 100;
/// At most this many questions per group (page 95972: "单个分组的问答数上限为200").
pub const MAX_INTENTS: usize = 200;

#[derive(Debug, Default)]
struct Kb {
    /// group_id -> name.
    groups: BTreeMap<String, String>,
    /// intent_id -> (group_id, question).
    intents: BTreeMap<String, (String, String)>,
    seq: u64,
}

/// The knowledge base of one sandbox (area state).
#[derive(Debug, Default)]
pub struct KnowledgeBase {
    kb: Mutex<Kb>,
}

pub fn register(r: &mut Registry) {
    r.add::<KfKnowledgeAddGroupRequest, _, _>(add_group);
    r.add::<KfKnowledgeDelGroupRequest, _, _>(del_group);
    r.add::<KfKnowledgeModGroupRequest, _, _>(mod_group);
    r.add::<KfKnowledgeAddIntentRequest, _, _>(add_intent);
}

fn with<R>(ctx: &Ctx, f: impl FnOnce(&mut Kb) -> R) -> R {
    let kb = ctx.state().extension::<KnowledgeBase>();
    let mut g = lock(&kb.kb);
    f(&mut g)
}

fn unknown_group(id: &str) -> ApiError {
    ApiError::invalid_parameter(format!("group_id {id} is not a knowledge-base group"))
}

async fn add_group(
    ctx: Ctx,
    req: KfKnowledgeAddGroupRequest,
) -> Result<KfKnowledgeAddGroupResponse, ApiError> {
    let id = with(&ctx, |kb| {
        if kb.groups.values().any(|n| *n == req.name) {
            return Err(ApiError::invalid_parameter(format!(
                "a group named {:?} exists: group names are unique",
                req.name
            )));
        }
        if kb.groups.len() >= MAX_GROUPS {
            return Err(ApiError::invalid_parameter("at most 100 groups"));
        }
        kb.seq += 1;
        let id = format!("GROUP{:06}", kb.seq);
        kb.groups.insert(id.clone(), req.name.clone());
        Ok(id)
    })?;
    answer(json!({ "group_id": id }))
}

async fn del_group(
    ctx: Ctx,
    req: KfKnowledgeDelGroupRequest,
) -> Result<KfKnowledgeDelGroupResponse, ApiError> {
    with(&ctx, |kb| {
        kb.groups
            .remove(&req.group_id)
            .ok_or_else(|| unknown_group(&req.group_id))?;
        kb.intents.retain(|_, (g, _)| *g != req.group_id);
        Ok::<_, ApiError>(())
    })?;
    answer(json!({}))
}

async fn mod_group(
    ctx: Ctx,
    req: KfKnowledgeModGroupRequest,
) -> Result<KfKnowledgeModGroupResponse, ApiError> {
    with(&ctx, |kb| {
        if kb
            .groups
            .iter()
            .any(|(id, n)| *n == req.name && *id != req.group_id)
        {
            return Err(ApiError::invalid_parameter(format!(
                "a group named {:?} exists: group names are unique",
                req.name
            )));
        }
        let name = kb
            .groups
            .get_mut(&req.group_id)
            .ok_or_else(|| unknown_group(&req.group_id))?;
        name.clone_from(&req.name);
        Ok(())
    })?;
    answer(json!({}))
}

async fn add_intent(
    ctx: Ctx,
    req: KfKnowledgeAddIntentRequest,
) -> Result<KfKnowledgeAddIntentResponse, ApiError> {
    let question = req.question.text.content.clone();
    let id = with(&ctx, |kb| {
        if !kb.groups.contains_key(&req.group_id) {
            return Err(unknown_group(&req.group_id));
        }
        if kb.intents.values().any(|(_, q)| *q == question) {
            return Err(ApiError::invalid_parameter(format!(
                "the question {question:?} exists: questions do not repeat across groups"
            )));
        }
        if kb
            .intents
            .values()
            .filter(|(g, _)| *g == req.group_id)
            .count()
            >= MAX_INTENTS
        {
            return Err(ApiError::invalid_parameter(
                "at most 200 questions per group",
            ));
        }
        kb.seq += 1;
        let id = format!("INTENT{:06}", kb.seq);
        kb.intents
            .insert(id.clone(), (req.group_id.clone(), question.clone()));
        Ok(id)
    })?;
    answer(json!({ "intent_id": id }))
}
