//! Visible scope: which members, departments and tags an app can see, read and message.

use std::collections::BTreeSet;

use wecom_contacts::scope::{Directory, ScopeRules, VisibleScope};

use super::{Actor, Corp, CorpError};

/// The members and departments an actor can see.
///
/// For an app: its listed members; its listed departments with their subtrees and all their
/// members; its listed tags' members, and the tags' departments with their subtrees and members.
/// The contact-sync secret sees the whole corp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    whole_corp: bool,
    /// Lowercase userids.
    users: BTreeSet<String>,
    departments: BTreeSet<u32>,
    tags: BTreeSet<u32>,
}

impl Scope {
    /// Whether the scope covers the whole corp (the contact-sync secret, or an app whose scope has the root).
    pub fn is_whole_corp(&self) -> bool {
        self.whole_corp
    }

    /// Whether the member is visible.
    pub fn contains_user(&self, userid: &str) -> bool {
        self.whole_corp || self.users.contains(&userid.to_ascii_lowercase())
    }

    /// Whether the department is visible (listed, or under a listed one).
    pub fn contains_department(&self, id: u32) -> bool {
        self.whole_corp || self.departments.contains(&id)
    }

    /// Whether the tag is visible (listed in the scope, or created by the app).
    pub fn contains_tag(&self, tagid: u32) -> bool {
        self.whole_corp || self.tags.contains(&tagid)
    }

    /// The visible members' userids (lowercase), for a scope that is not the whole corp.
    pub fn user_keys(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(String::as_str)
    }

    /// The visible department ids, for a scope that is not the whole corp.
    pub fn department_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.departments.iter().copied()
    }

    /// The top departments of the scope: visible departments whose parent is not visible
    /// (what an app's department/list without id starts from).
    pub fn top_departments(&self, corp: &Corp) -> Vec<u32> {
        if self.whole_corp {
            return vec![1];
        }
        self.departments
            .iter()
            .copied()
            .filter(|d| {
                corp.departments
                    .get(d)
                    .is_some_and(|dep| !self.departments.contains(&dep.parentid))
            })
            .collect()
    }
}

/// Recipients of a message as sent: `touser`, `toparty`, `totag` split on `|`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientSpec {
    /// Userids, or `["@all"]`.
    pub users: Vec<String>,
    /// Department ids as sent (strings, so a malformed one can be reported back).
    pub parties: Vec<String>,
    /// Tag ids as sent.
    pub tags: Vec<String>,
}

impl RecipientSpec {
    /// Splits WeCom's `"a|b"` strings (empty items are ignored).
    pub fn from_pipes(touser: &str, toparty: &str, totag: &str) -> Self {
        let split = |s: &str| {
            s.split('|')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Self {
            users: split(touser),
            parties: split(toparty),
            tags: split(totag),
        }
    }
}

/// Who a message reaches, and what `message/send` reports as invalid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// Canonical userids of the members who get the message, each once, in userid order.
    pub users: Vec<String>,
    /// Userids that do not exist, are disabled or are outside the scope (`invaliduser`).
    pub invalid_users: Vec<String>,
    /// Departments that do not exist or are outside the scope (`invalidparty`).
    pub invalid_parties: Vec<String>,
    /// Tags that do not exist or are not visible to the app (`invalidtag`).
    pub invalid_tags: Vec<String>,
}

impl Corp {
    /// The visible scope of an actor. An unknown app has an empty scope.
    pub fn scope(&self, actor: Actor) -> Scope {
        let mut scope = Scope {
            whole_corp: false,
            users: BTreeSet::new(),
            departments: BTreeSet::new(),
            tags: BTreeSet::new(),
        };
        let agentid = match actor {
            Actor::Contact => {
                scope.whole_corp = true;
                return scope;
            }
            Actor::App(a) => a,
        };
        let Some(app) = self.apps.get(&agentid) else {
            return scope;
        };
        for t in &app.allow_tags {
            if self.tags.contains_key(t) {
                scope.tags.insert(*t);
            }
        }
        for tag in self.tags.values() {
            if tag.creator == Some(agentid) {
                scope.tags.insert(tag.tagid);
            }
        }
        // The rule itself lives in wecom_contacts::scope, shared with the SDK's resolver.
        let visible = self.visible_scope(actor);
        if visible.is_department_visible(1) {
            scope.whole_corp = true;
            return scope;
        }
        scope.users.extend(visible.members().map(str::to_owned));
        scope.departments.extend(visible.departments());
        scope
    }

    /// The directory's shape for the scope resolver: the department tree, each member (by its
    /// lowercase userid) with its departments, each tag with its members and departments.
    pub fn directory(&self) -> Directory {
        let mut dir = Directory::with_capacity(self.departments.len(), self.members.len());
        for d in self.departments.values() {
            dir.add_department(d.id, d.parentid);
        }
        for (key, m) in &self.members {
            dir.add_member(key, m.department.iter().copied());
        }
        for t in self.tags.values() {
            dir.add_tag(
                t.tagid,
                t.users.iter().map(|u| u.to_ascii_lowercase()),
                t.parties.iter().copied(),
            );
        }
        dir
    }

    /// The scope rules of an actor: the app's `allow_userinfos`, `allow_partys` and `allow_tags`,
    /// or the whole corp for the contact-sync secret. An unknown app has empty rules.
    pub fn scope_rules(&self, actor: Actor) -> ScopeRules {
        match actor {
            Actor::Contact => ScopeRules::contact_sync(),
            Actor::App(a) => match self.apps.get(&a) {
                Some(app) => ScopeRules::new()
                    .with_users(app.allow_users.iter().cloned())
                    .with_departments(app.allow_parties.iter().copied())
                    .with_tags(app.allow_tags.iter().copied()),
                None => ScopeRules::new(),
            },
        }
    }

    /// The actor's visible scope expanded by the SDK's resolver, which also explains why a member
    /// is or is not in it ([`VisibleScope::explain`]).
    pub fn visible_scope(&self, actor: Actor) -> VisibleScope {
        VisibleScope::resolve(self.directory(), self.scope_rules(actor))
    }

    /// 60011 unless the actor can see this member (60111 when there is no such member).
    pub fn check_user_visible(
        &self,
        actor: Actor,
        userid: &str,
    ) -> Result<&super::Member, CorpError> {
        let m = self.member(userid)?;
        if self.scope(actor).contains_user(&m.userid) {
            Ok(m)
        } else {
            Err(CorpError::OutOfScope(format!("member {}", m.userid)))
        }
    }

    /// 60011 unless the actor can see this department (60003 when there is no such department).
    pub fn check_department_visible(
        &self,
        actor: Actor,
        id: u32,
    ) -> Result<&super::Department, CorpError> {
        let d = self.department(id)?;
        if self.scope(actor).contains_department(id) {
            Ok(d)
        } else {
            Err(CorpError::OutOfScope(format!("department {id}")))
        }
    }

    /// Resolves the recipients of a message sent by app `agentid`: who gets it and which given
    /// members, departments and tags are invalid (missing, disabled or outside the app's scope).
    ///
    /// Errors: 82001 when nothing was given, 81013 when everything given is invalid, 40056 for an unknown app.
    pub fn resolve_recipients(
        &self,
        agentid: u32,
        spec: &RecipientSpec,
    ) -> Result<Recipients, CorpError> {
        self.app(agentid)?;
        if spec.users.is_empty() && spec.parties.is_empty() && spec.tags.is_empty() {
            return Err(CorpError::NoRecipient);
        }
        let scope = self.scope(Actor::App(agentid));
        let mut out = Recipients::default();
        let mut reach: BTreeSet<String> = BTreeSet::new();
        let add_member = |m: &super::Member, reach: &mut BTreeSet<String>| {
            if m.is_reachable() && scope.contains_user(&m.userid) {
                reach.insert(m.userid.clone());
            }
        };
        let mut any_valid = false;
        for u in &spec.users {
            if u == "@all" {
                let before = reach.len();
                for m in self.members.values() {
                    add_member(m, &mut reach);
                }
                // @all to an app that sees nobody reaches nobody: invalid like any other recipient.
                any_valid |= reach.len() > before || !reach.is_empty();
                continue;
            }
            match self.member(u) {
                Ok(m) if m.is_reachable() && scope.contains_user(&m.userid) => {
                    any_valid = true;
                    reach.insert(m.userid.clone());
                }
                _ => out.invalid_users.push(u.clone()),
            }
        }
        for p in &spec.parties {
            match p.parse::<u32>() {
                Ok(id) if self.departments.contains_key(&id) && scope.contains_department(id) => {
                    any_valid = true;
                    for m in self.members_of(id, true).unwrap_or_default() {
                        add_member(m, &mut reach);
                    }
                }
                _ => out.invalid_parties.push(p.clone()),
            }
        }
        for t in &spec.tags {
            match t.parse::<u32>().ok().and_then(|id| self.tags.get(&id)) {
                Some(tag) if scope.contains_tag(tag.tagid) => {
                    any_valid = true;
                    for u in &tag.users {
                        if let Ok(m) = self.member(u) {
                            add_member(m, &mut reach);
                        }
                    }
                    for p in &tag.parties {
                        for m in self.members_of(*p, true).unwrap_or_default() {
                            add_member(m, &mut reach);
                        }
                    }
                }
                _ => out.invalid_tags.push(t.clone()),
            }
        }
        if !any_valid {
            return Err(CorpError::AllRecipientsInvalid);
        }
        out.users = reach.into_iter().collect();
        Ok(out)
    }
}
