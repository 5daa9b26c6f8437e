//! Customer groups handed to a new owner (离职继承 `groupchat/transfer`, 在职继承
//! `groupchat/onjob_transfer`), with the rules their pages state, per group in `failed_chat_list`:
//! - an unknown chat_id: 40050 (as `groupchat/get` answers);
//! - `transfer`: "群主离职了的客户群,才可继承": 90500 while the owner is still in the directory;
//! - `onjob_transfer`: the owner has left: 90502; "90个自然日内,在职成员的每个客户群仅可被转接2次":
//!   the generic 40058 (the page names no errcode);
//! - the same owner: 90504 (群主没变);
//! - "对于第三方/自建应用,群主必须在应用的可见范围": an owner in the directory outside the calling
//!   app's scope: 60011.
//!
//! The new owner must be a member the caller sees (60111 / 60011 for the whole request). A group
//! handed over changes owner at once (the new owner joins when not a member, and takes the old
//! owner's place among the admins), and `change_external_chat` / `update` (UpdateDetail
//! `change_owner`) is pushed to the apps that see the new owner.

use std::collections::HashMap;
use std::sync::Mutex;

use wecom_callback::EventKind;
use wecom_callback::generated::events::{ExternalChatChange, ExternalChatUpdate};
use wecom_externalcontact::{
    FailedChat, GroupChatAdmin, GroupChatMember, GroupchatOnjobTransferRequest,
    GroupchatOnjobTransferResponse, GroupchatTransferRequest, GroupchatTransferResponse,
};

use super::{actor, check_member};
use crate::areas::externalcontact::crm::Crm;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

const DAY: i64 = 86_400;
/// "90个自然日内,在职成员的每个客户群仅可被转接2次".
const WINDOW: i64 = 90 * DAY;
const MAX_IN_WINDOW: usize = 2;

#[derive(Debug, Default)]
struct OnjobLog {
    /// chat_id -> when it was handed over on the job.
    at: Mutex<HashMap<String, Vec<i64>>>,
}

fn log(state: &State) -> std::sync::Arc<OnjobLog> {
    state.extension::<OnjobLog>()
}

pub(super) fn register(r: &mut Registry) {
    r.add::<GroupchatTransferRequest, _, _>(transfer);
    r.add::<GroupchatOnjobTransferRequest, _, _>(onjob_transfer);
}

fn failed(chat_id: &str, errcode: i64, errmsg: &str) -> FailedChat {
    let mut f = FailedChat::new(chat_id.to_owned(), errcode);
    f.errmsg = Some(errmsg.to_owned());
    f
}

/// Hands the groups over; the failures, and the groups handed over (for the callbacks).
fn hand_over(
    ctx: &Ctx,
    chat_ids: &[String],
    new_owner: &str,
    resigned: bool,
) -> Result<(Vec<FailedChat>, Vec<Moved>), ApiError> {
    check_member(ctx, new_owner)?;
    let state = ctx.state();
    let now = state.now_secs();
    let logbook = log(state);
    let mut out = Vec::new();
    let mut moved = Vec::new();
    Crm::of(state).with(|crm| {
        for id in chat_ids {
            let Some(chat) = crm.chats.get_mut(id) else {
                out.push(failed(id, 40050, "chatid not found"));
                continue;
            };
            let owner = chat.owner.clone().unwrap_or_default();
            let (in_directory, visible) = {
                let corp = state.corp();
                let known = corp.member(&owner).is_ok();
                let visible = match actor(ctx) {
                    Some(a) => corp.check_user_visible(a, &owner).is_ok(),
                    None => known,
                };
                (known, visible)
            };
            if owner == new_owner {
                out.push(failed(id, 90504, "the owner of this chat is not changed"));
                continue;
            }
            if resigned && in_directory {
                out.push(failed(id, 90500, "the owner of this chat is not resigned"));
                continue;
            }
            if !resigned && !in_directory {
                out.push(failed(id, 90502, "the owner of this chat is resigned"));
                continue;
            }
            if in_directory && !visible {
                out.push(failed(
                    id,
                    60011,
                    "no privilege: the owner is outside the app's visible scope",
                ));
                continue;
            }
            if !resigned {
                let mut at = lock(&logbook.at);
                let times = at.entry(id.clone()).or_default();
                times.retain(|t| now - *t < WINDOW);
                if times.len() >= MAX_IN_WINDOW {
                    out.push(failed(
                        id,
                        40058,
                        "this group was handed over twice in 90 days (90个自然日内,在职成员的每个客户群仅可被转接2次)",
                    ));
                    continue;
                }
                times.push(now);
            }
            chat.owner = Some(new_owner.to_owned());
            for a in &mut chat.admin_list {
                if a.userid == owner {
                    *a = GroupChatAdmin::new(new_owner.to_owned());
                }
            }
            if !chat.admin_list.iter().any(|a| a.userid == new_owner) {
                chat.admin_list.push(GroupChatAdmin::new(new_owner.to_owned()));
            }
            if !chat.member_list.iter().any(|m| m.userid == new_owner) {
                let mut m = GroupChatMember::new(new_owner.to_owned());
                m.kind = Some(1);
                m.join_time = Some(now);
                m.join_scene = Some(1);
                chat.member_list.push(m);
            }
            let last = chat.member_version.clone();
            let cur = format!("{now:x}-{}", chat.member_list.len());
            chat.member_version = Some(cur.clone());
            moved.push(Moved {
                chat_id: id.clone(),
                last,
                cur,
            });
        }
    });
    Ok((out, moved))
}

/// A group handed over, with its member-list versions before and after.
struct Moved {
    chat_id: String,
    last: Option<String>,
    cur: String,
}

async fn notify(ctx: &Ctx, new_owner: &str, moved: Vec<Moved>) {
    for Moved { chat_id, last, cur } in moved {
        let kind = EventKind::ChangeExternalChat(ExternalChatChange::Update(Box::new(
            ExternalChatUpdate {
                chat_id,
                update_detail: "change_owner".into(),
                last_mem_ver: last,
                cur_mem_ver: Some(cur),
                ..ExternalChatUpdate::default()
            },
        )));
        crate::areas::externalcontact::admin::push(ctx.state(), new_owner, kind).await;
    }
}

async fn transfer(
    ctx: Ctx,
    req: GroupchatTransferRequest,
) -> Result<GroupchatTransferResponse, ApiError> {
    let (failed, moved) = hand_over(&ctx, &req.chat_id_list, &req.new_owner, true)?;
    notify(&ctx, &req.new_owner, moved).await;
    let mut answer = GroupchatTransferResponse::new();
    answer.failed_chat_list = failed;
    Ok(answer)
}

async fn onjob_transfer(
    ctx: Ctx,
    req: GroupchatOnjobTransferRequest,
) -> Result<GroupchatOnjobTransferResponse, ApiError> {
    let (failed, moved) = hand_over(&ctx, &req.chat_id_list, &req.new_owner, false)?;
    notify(&ctx, &req.new_owner, moved).await;
    let mut answer = GroupchatOnjobTransferResponse::new();
    answer.failed_chat_list = failed;
    Ok(answer)
}
