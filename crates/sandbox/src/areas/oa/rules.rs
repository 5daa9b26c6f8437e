//! Check-in rules made through 管理打卡规则 (`checkin/add_checkin_option` and its siblings, page
//! 98041) and the journal 微盘 download (`oa/journal/download_wedrive_file`, page 98021).
//!
//! Rules: each created rule gets a `groupid` (from 1001; the built-in rule is 1) and remembers the
//! caller that created it (an app, or the 打卡 system secret): "打卡规则仅可由该规则的创建应用修改"
//! (and 删除), so another caller is refused. The page's 错误信息列表 is beyond the docs corpus,
//! so refusals answer the generic 40058 and say why in the errmsg. `update_checkin_option`
//! follows the page's rules for `group.*`: a field not sent, or an array sent empty, is kept; a
//! sent array or object replaces the old one whole. `clear_checkin_option_array_field` empties
//! spe_workdays (1), spe_offdays (2), wifimac_infos (3) or loc_infos (4), refusing to leave both
//! wifimac_infos and loc_infos empty. Created rules are read back by `getcorpcheckinoption` (after
//! the built-in rule) and by `getcheckinoption` for the members their `range` covers (`userid`,
//! `party_id` with the member's departments, `tagid`); the newest covering rule wins, else the
//! built-in one. `effective_now` is kept but changes nothing here (the sandbox has no "tomorrow"
//! switch-over); generated records keep following the built-in hours.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use wecom_oa::generated::oa::*;

use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};
use crate::state::{State, lock};

/// The first id given to a created rule.
const FIRST_ID: u32 = 1001;

#[derive(Debug, Clone)]
struct Rule {
    creator: Caller,
    group: Map<String, Value>,
}

#[derive(Default)]
struct Rules(std::sync::Mutex<(u32, BTreeMap<u32, Rule>)>);

fn with_rules<R>(state: &State, f: impl FnOnce(&mut (u32, BTreeMap<u32, Rule>)) -> R) -> R {
    let ext = state.extension::<Rules>();
    let mut guard = lock(&ext.0);
    f(&mut guard)
}

fn generic(msg: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_parameter(format!(
        "{msg} (the 管理打卡规则 page's error list is beyond the docs corpus: the sandbox answers the generic errcode)"
    ))
}

pub(super) fn register(r: &mut Registry) {
    r.add::<CheckinAddOptionRequest, _, _>(add);
    r.add::<CheckinUpdateOptionRequest, _, _>(update);
    r.add::<CheckinClearOptionArrayFieldRequest, _, _>(clear);
    r.add::<CheckinDeleteOptionRequest, _, _>(delete);
    r.add::<JournalDownloadWedriveFileRequest, _, _>(journal_download);
}

fn group_map(group: &CheckinOptionGroup) -> Result<Map<String, Value>, ApiError> {
    match serde_json::to_value(group) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::invalid_parameter("group must be an object")),
    }
}

/// The rule `groupid`, if it exists and `caller` created it.
fn own(rules: &mut BTreeMap<u32, Rule>, groupid: u32, caller: &Caller) -> Result<(), ApiError> {
    let rule = rules
        .get(&groupid)
        .ok_or_else(|| generic(format!("no check-in rule with groupid {groupid}")))?;
    if &rule.creator != caller {
        return Err(generic(format!(
            "check-in rule {groupid} was created by another app: 打卡规则仅可由该规则的创建应用修改"
        )));
    }
    Ok(())
}

async fn add(ctx: Ctx, req: CheckinAddOptionRequest) -> Result<CheckinAddOptionResponse, ApiError> {
    let mut group = group_map(&req.group)?;
    // "创建打卡规则时，groupid无需传入，该字段会被忽略"
    group.remove("groupid");
    let caller = ctx.caller().clone();
    with_rules(ctx.state(), |(next, rules)| {
        let id = (*next).max(FIRST_ID);
        *next = id + 1;
        group.insert("groupid".into(), json!(id));
        rules.insert(
            id,
            Rule {
                creator: caller,
                group,
            },
        );
    });
    Ok(CheckinAddOptionResponse::default())
}

async fn update(
    ctx: Ctx,
    req: CheckinUpdateOptionRequest,
) -> Result<CheckinUpdateOptionResponse, ApiError> {
    let groupid = req.group.groupid.ok_or_else(|| {
        generic("group.groupid is required to change a rule (修改打卡规则时，groupid须传入)")
    })?;
    let sent = group_map(&req.group)?;
    let caller = ctx.caller().clone();
    with_rules(ctx.state(), |(_, rules)| {
        own(rules, groupid, &caller)?;
        let rule = rules.get_mut(&groupid).expect("checked above");
        for (k, v) in sent {
            if k == "groupid" || v.is_null() {
                continue;
            }
            if v.as_array().is_some_and(Vec::is_empty) {
                // An array sent empty is "not updated"; empty it with clear_checkin_option_array_field.
                continue;
            }
            rule.group.insert(k, v);
        }
        Ok::<_, ApiError>(())
    })?;
    Ok(CheckinUpdateOptionResponse::default())
}

/// The `group` key a `clear_field` value names.
fn clear_key(n: u32) -> Option<&'static str> {
    Some(match n {
        1 => "spe_workdays",
        2 => "spe_offdays",
        3 => "wifimac_infos",
        4 => "loc_infos",
        _ => return None,
    })
}

fn empty_or_missing(group: &Map<String, Value>, key: &str) -> bool {
    group
        .get(key)
        .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
}

async fn clear(
    ctx: Ctx,
    req: CheckinClearOptionArrayFieldRequest,
) -> Result<CheckinClearOptionArrayFieldResponse, ApiError> {
    let keys = req
        .clear_field
        .iter()
        .map(|n| clear_key(*n).ok_or_else(|| generic(format!("clear_field {n} is not 1-4"))))
        .collect::<Result<Vec<_>, _>>()?;
    let caller = ctx.caller().clone();
    with_rules(ctx.state(), |(_, rules)| {
        own(rules, req.groupid, &caller)?;
        let rule = rules.get_mut(&req.groupid).expect("checked above");
        let mut after = rule.group.clone();
        for k in &keys {
            after.insert((*k).to_owned(), json!([]));
        }
        if empty_or_missing(&after, "wifimac_infos") && empty_or_missing(&after, "loc_infos") {
            return Err(generic(
                "wifimac_infos and loc_infos cannot both be empty (wifimac_infos和loc_infos不可同时为空)",
            ));
        }
        rule.group = after;
        Ok(())
    })?;
    Ok(CheckinClearOptionArrayFieldResponse::default())
}

async fn delete(
    ctx: Ctx,
    req: CheckinDeleteOptionRequest,
) -> Result<CheckinDeleteOptionResponse, ApiError> {
    let caller = ctx.caller().clone();
    with_rules(ctx.state(), |(_, rules)| {
        own(rules, req.groupid, &caller)?;
        rules.remove(&req.groupid);
        Ok::<_, ApiError>(())
    })?;
    Ok(CheckinDeleteOptionResponse::default())
}

/// A stored rule as `getcorpcheckinoption` answers it: the fields `CheckinGroup` reads (a
/// `checkindate` it cannot read is left out rather than losing the rule).
fn read_back(group: &Map<String, Value>) -> CheckinGroup {
    let v = Value::Object(group.clone());
    serde_json::from_value(v).unwrap_or_else(|_| {
        let mut g = group.clone();
        g.remove("checkindate");
        serde_json::from_value(Value::Object(g)).unwrap_or_default()
    })
}

/// Every created rule, oldest first.
pub(super) fn created(state: &State) -> Vec<CheckinGroup> {
    with_rules(state, |(_, rules)| {
        rules.values().map(|r| read_back(&r.group)).collect()
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The newest created rule whose `range` covers `userid`, if any.
pub(super) fn rule_for(state: &State, userid: &str) -> Option<CheckinGroup> {
    let (departments, tags): (Vec<String>, Vec<String>) = {
        let corp = state.corp();
        let depts = corp
            .member(userid)
            .map(|m| m.department.iter().map(u32::to_string).collect())
            .unwrap_or_default();
        let tags = corp
            .tags()
            .filter(|t| t.users.iter().any(|u| u.eq_ignore_ascii_case(userid)))
            .map(|t| t.tagid.to_string())
            .collect();
        (depts, tags)
    };
    with_rules(state, |(_, rules)| {
        rules.values().rev().find_map(|r| {
            let range = r.group.get("range")?;
            let covers = strings(range.get("userid"))
                .iter()
                .any(|u| u.eq_ignore_ascii_case(userid))
                || strings(range.get("party_id"))
                    .iter()
                    .any(|p| departments.contains(p))
                || strings(range.get("tagid")).iter().any(|t| tags.contains(t));
            covers.then(|| read_back(&r.group))
        })
    })
}

// ---- journals ---------------------------------------------------------------------------------

async fn journal_download(
    _ctx: Ctx,
    req: JournalDownloadWedriveFileRequest,
) -> Result<JournalDownloadWedriveFileResponse, ApiError> {
    // Nobody writes journals in the sandbox (the 汇报 app is a client feature), so no record and
    // no attached file exists; the page names no errcode for an unknown record.
    Err(ApiError::invalid_parameter(format!(
        "journaluuid {} not found (fileid {}): the sandbox holds no journal records",
        req.journaluuid, req.fileid
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_fields_name_the_page_arrays() {
        assert_eq!(clear_key(1), Some("spe_workdays"));
        assert_eq!(clear_key(4), Some("loc_infos"));
        assert_eq!(clear_key(5), None);
    }
}
