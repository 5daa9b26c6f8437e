//! The directory-change engine: a change made "in the WeCom admin console" ([`DirectoryChange`])
//! is applied to the corp and pushed as a `change_contact` event to the contact-sync
//! assistant's callback and to every app whose visible scope it touches.
//! [`Admin::change_directory`](crate::Admin::change_directory) and `POST /sandbox/directory`
//! call it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wecom_callback::{
    ContactChange, ContactUser, Event, EventKind, Header, Inbound, Party, TagChange,
};

use super::AdminError;
use crate::callbacks::CallbackRecord;
use crate::corp::{Actor, CallbackConfig, CorpError, Member};
use crate::state::State;

/// A change to the directory made "in the WeCom admin console": applied, then pushed as
/// `change_contact` to the contact-sync callback and to the apps that can see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DirectoryChange {
    /// A new member.
    CreateMember {
        /// The member.
        member: Box<Member>,
    },
    /// Changed fields of a member, as JSON (`{"position": "CTO"}`; `userid` renames).
    UpdateMember {
        /// The member.
        userid: String,
        /// Fields to set.
        fields: serde_json::Map<String, Value>,
    },
    /// A deleted member.
    DeleteMember {
        /// The member.
        userid: String,
    },
    /// A new department.
    CreateDepartment {
        /// Name.
        name: String,
        /// Parent.
        parentid: u32,
        /// Id (next free when absent).
        #[serde(default)]
        id: Option<u32>,
    },
    /// A changed department.
    UpdateDepartment {
        /// The department.
        id: u32,
        /// New name.
        #[serde(default)]
        name: Option<String>,
        /// New parent.
        #[serde(default)]
        parentid: Option<u32>,
    },
    /// A deleted department.
    DeleteDepartment {
        /// The department.
        id: u32,
    },
    /// Members and departments added to a tag.
    AddTagItems {
        /// The tag.
        tagid: u32,
        /// Userids.
        #[serde(default)]
        users: Vec<String>,
        /// Department ids.
        #[serde(default)]
        parties: Vec<u32>,
    },
    /// Members and departments removed from a tag.
    RemoveTagItems {
        /// The tag.
        tagid: u32,
        /// Userids.
        #[serde(default)]
        users: Vec<String>,
        /// Department ids.
        #[serde(default)]
        parties: Vec<u32>,
    },
}

fn member_to_contact_user(m: &Member) -> ContactUser {
    ContactUser {
        user_id: m.userid.clone(),
        name: Some(m.name.clone()),
        department: Some(m.department.iter().map(|d| i64::from(*d)).collect()),
        main_department: Some(i64::from(m.main_department())),
        is_leader_in_dept: (!m.is_leader_in_dept.is_empty())
            .then(|| m.is_leader_in_dept.iter().map(|v| i64::from(*v)).collect()),
        mobile: (!m.mobile.is_empty()).then(|| m.mobile.clone()),
        position: (!m.position.is_empty()).then(|| m.position.clone()),
        gender: m.gender.parse().ok(),
        email: (!m.email.is_empty()).then(|| m.email.clone()),
        status: Some(i64::from(m.status)),
        alias: (!m.alias.is_empty()).then(|| m.alias.clone()),
        ..ContactUser::default()
    }
}

/// Applies a directory change and pushes `change_contact` to the contact-sync callback and to
/// every app with a callback that can see the changed member, department or tag.
pub(crate) async fn apply(
    state: &State,
    change: DirectoryChange,
) -> Result<Vec<CallbackRecord>, AdminError> {
    // (event, members and departments it concerns, before and after)
    let (event, users, parties) = {
        let mut corp = state.corp_mut();
        match change {
            DirectoryChange::CreateMember { member } => {
                corp.create_member((*member).clone())?;
                let m = corp.member(&member.userid)?;
                (
                    ContactChange::CreateUser(Box::new(member_to_contact_user(m))),
                    vec![m.userid.clone()],
                    vec![],
                )
            }
            DirectoryChange::UpdateMember { userid, fields } => {
                let before = corp.member(&userid)?.clone();
                let mut value = serde_json::to_value(&before)
                    .map_err(|e| AdminError::Invalid(e.to_string()))?;
                if let Value::Object(obj) = &mut value {
                    for (k, v) in fields {
                        obj.insert(k, v);
                    }
                }
                let updated: Member = serde_json::from_value(value)
                    .map_err(|e| AdminError::Invalid(format!("fields do not fit a member: {e}")))?;
                let after = corp.update_member(&userid, |m| *m = updated)?.clone();
                let mut cu = member_to_contact_user(&after);
                cu.user_id = before.userid.clone();
                if !after.userid.eq_ignore_ascii_case(&before.userid)
                    || after.userid != before.userid
                {
                    cu.new_user_id = Some(after.userid.clone());
                }
                (
                    ContactChange::UpdateUser(Box::new(cu)),
                    vec![after.userid.clone(), before.userid],
                    vec![],
                )
            }
            DirectoryChange::DeleteMember { userid } => {
                let m = corp.member(&userid)?.userid.clone();
                (
                    ContactChange::DeleteUser { user_id: m.clone() },
                    vec![m],
                    vec![],
                )
            }
            DirectoryChange::CreateDepartment { name, parentid, id } => {
                let id = corp.create_department(&name, "", parentid, 0, id)?;
                let d = corp.department(id)?;
                let party = Party {
                    id: i64::from(id),
                    name: Some(d.name.clone()),
                    parent_id: Some(i64::from(d.parentid)),
                    order: Some(i64::from(d.order)),
                };
                (
                    ContactChange::CreateParty(party),
                    vec![],
                    vec![id, parentid],
                )
            }
            DirectoryChange::UpdateDepartment { id, name, parentid } => {
                corp.update_department(id, name.as_deref(), None, parentid, None)?;
                let party = Party {
                    id: i64::from(id),
                    name,
                    parent_id: parentid.map(i64::from),
                    order: None,
                };
                (ContactChange::UpdateParty(party), vec![], vec![id])
            }
            DirectoryChange::DeleteDepartment { id } => {
                corp.department(id)?;
                (
                    ContactChange::DeleteParty { id: i64::from(id) },
                    vec![],
                    vec![id],
                )
            }
            DirectoryChange::AddTagItems {
                tagid,
                users,
                parties,
            } => {
                let r = corp
                    .add_tag_items(tagid, Actor::Contact, &users, &parties)
                    .or_else(|e| match e {
                        // The admin console may change any tag.
                        CorpError::NotTagOwner(_) => {
                            let owner = corp
                                .tag(tagid)?
                                .creator
                                .map(Actor::App)
                                .unwrap_or(Actor::Contact);
                            corp.add_tag_items(tagid, owner, &users, &parties)
                        }
                        other => Err(other),
                    })?;
                let (add_users, add_parties) = r.applied(&users, &parties);
                let change = TagChange {
                    tag_id: i64::from(tagid),
                    add_user_items: add_users.clone(),
                    add_party_items: add_parties.iter().map(|p| i64::from(*p)).collect(),
                    ..TagChange::default()
                };
                (ContactChange::UpdateTag(change), add_users, add_parties)
            }
            DirectoryChange::RemoveTagItems {
                tagid,
                users,
                parties,
            } => {
                let owner = corp
                    .tag(tagid)?
                    .creator
                    .map(Actor::App)
                    .unwrap_or(Actor::Contact);
                let r = corp.remove_tag_items(tagid, owner, &users, &parties)?;
                let (del_users, del_parties) = r.applied(&users, &parties);
                let change = TagChange {
                    tag_id: i64::from(tagid),
                    del_user_items: del_users.clone(),
                    del_party_items: del_parties.iter().map(|p| i64::from(*p)).collect(),
                    ..TagChange::default()
                };
                (ContactChange::UpdateTag(change), del_users, del_parties)
            }
        }
    };
    // Who hears about it: decided before deletions take effect, so a deleted member's apps learn of it.
    let targets = change_targets(state, &users, &parties);
    {
        let mut corp = state.corp_mut();
        match &event {
            ContactChange::DeleteUser { user_id } => {
                corp.delete_member(user_id)?;
            }
            ContactChange::DeleteParty { id } => {
                corp.delete_department(u32::try_from(*id).unwrap_or(0))?;
            }
            _ => {}
        }
    }
    let corpid = state.corp().corpid().to_owned();
    let now = state.now_secs();
    let mut records = Vec::new();
    for (agentid, cfg) in targets {
        let xml = Inbound::Event(Event {
            header: Header {
                to_user_name: corpid.clone(),
                from_user_name: "sys".into(),
                create_time: now,
                agent_id: agentid.map(i64::from),
            },
            kind: EventKind::ChangeContact(event.clone()),
        })
        .to_xml();
        records.push(
            state
                .callbacks
                .push(&cfg, &corpid, agentid, &xml, now)
                .await,
        );
    }
    Ok(records)
}

/// Who hears about a change: the contact-sync callback and every app with a callback whose
/// visible scope has one of `users` or `parties` (every app when the change names neither).
fn change_targets(
    state: &State,
    users: &[String],
    parties: &[u32],
) -> Vec<(Option<u32>, CallbackConfig)> {
    let corp = state.corp();
    let mut out = Vec::new();
    if let Some(cfg) = corp.contact_callback() {
        out.push((None, cfg.clone()));
    }
    for app in corp.apps() {
        let Some(cfg) = &app.callback else { continue };
        let scope = corp.scope(Actor::App(app.agentid));
        let sees = users.iter().any(|u| scope.contains_user(u))
            || parties.iter().any(|p| scope.contains_department(*p));
        if sees || (users.is_empty() && parties.is_empty()) {
            out.push((Some(app.agentid), cfg.clone()));
        }
    }
    out
}
