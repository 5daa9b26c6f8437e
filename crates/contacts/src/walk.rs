//! Paging and walking the directory: `user/list_id` as a stream, a full-directory walk with
//! progress, and the visible scope of an app fetched and resolved in one call.

use std::collections::HashMap;

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use wecom_core_auth::Error;

use crate::generated::contacts::{
    Agent, Contacts, Department, DeptUser, Member, UserListIdResponse,
};
use crate::scope::{Directory, ScopeRules, VisibleScope};

/// The largest page `user/list_id` serves.
pub const MAX_LIST_ID_PAGE: u32 = 10_000;

/// WeCom's answer to the contact-sync secret reading details from an IP it has not seen before.
const NEW_IP_DETAILS_REFUSED: i64 = 48009;

impl<'a> Contacts<'a> {
    /// Every page of `user/list_id`, following `next_cursor` until WeCom answers an empty one.
    ///
    /// `page_size` is clamped to 1..=10,000. The stream ends after the first error (a repeated
    /// cursor from a misbehaving server is an error too, so the stream never loops).
    pub fn user_id_pages(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<UserListIdResponse, Error>> + Send + 'a {
        let limit = page_size.clamp(1, MAX_LIST_ID_PAGE);
        wecom_core_auth::paging::cursor_pages(
            "user_list_id",
            move |cursor: Option<String>| {
                let mut call = self.user_list_id().limit(limit);
                if let Some(cursor) = cursor {
                    call = call.cursor(cursor);
                }
                call.into_future()
            },
            |page: &UserListIdResponse| page.next_cursor.clone(),
        )
    }

    /// Every (member, department) row of the directory, as `user/list_id` pages them: a member in
    /// three departments comes three times. Follows `next_cursor` to the end.
    ///
    /// WeCom lets only the contact-sync secret call `user/list_id` (doc 96067: "仅支持通过“通讯录同步
    /// secret”调用"): on a client without it the stream's first item is a configuration error,
    /// before any request. [`Contacts::walk`] falls back to per-department lists instead.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_contacts::ContactsExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let rows: Vec<_> = client.contacts().user_ids(10_000).try_collect().await?;
    /// println!("{} rows", rows.len());
    /// # Ok(()) }
    /// ```
    pub fn user_ids(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<DeptUser, Error>> + Send + 'a {
        self.user_id_pages(page_size)
            .map_ok(|page| stream::iter(page.dept_user.into_iter().map(Ok::<DeptUser, Error>)))
            .try_flatten()
    }

    /// Reads the whole directory the credential can see: the departments, then the members,
    /// calling `progress` after every request (for a progress bar).
    ///
    /// With [`MemberDetail::Ids`] members come from `user/list_id` (a few requests for the whole
    /// corp, and allowed for the contact-sync secret from new IPs). WeCom lets only the
    /// contact-sync secret call `user/list_id` (doc 96067), so on a client without that secret the
    /// walk reads `user/simplelist` per department instead, which an app token may call (it sees
    /// the app's visible scope; members the scope names only by userid or tag, outside its
    /// departments, are not listed there: [`Contacts::visible_scope`] finds those too). With
    /// [`MemberDetail::Full`] members come from `user/list` per
    /// department (one request per department, every field). [`DirectorySnapshot::source`] says
    /// which path was taken. When `department/list` is refused with 48009 (contact-sync secret
    /// from a new IP), departments come from `department/simplelist`, without names.
    pub async fn walk(
        self,
        options: WalkOptions,
        mut progress: impl FnMut(&WalkProgress) + Send,
    ) -> Result<DirectorySnapshot, Error> {
        let mut state = WalkProgress {
            phase: WalkPhase::Departments,
            ..WalkProgress::default()
        };
        progress(&state);
        let departments = match self.department_list().await {
            Ok(r) => r.department,
            Err(e) if e.errcode() == Some(NEW_IP_DETAILS_REFUSED) => {
                state.requests += 1;
                self.department_simplelist()
                    .await?
                    .department_id
                    .into_iter()
                    .map(|d| {
                        let mut dep = Department::new(d.id);
                        dep.parentid = d.parentid;
                        dep.order = d.order;
                        dep
                    })
                    .collect()
            }
            Err(e) => return Err(e),
        };
        state.requests += 1;
        state.departments = departments.len();
        state.phase = WalkPhase::Members;
        progress(&state);

        let mut members: Vec<Member> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut source = match options.detail {
            MemberDetail::Ids => MemberSource::ListId,
            MemberDetail::Full => MemberSource::ListPerDepartment,
        };
        if source == MemberSource::ListId {
            let mut pages = std::pin::pin!(self.user_id_pages(options.page_size));
            let mut first = true;
            while let Some(page) = pages.next().await {
                let page = match page {
                    // No contact-sync secret: refused by the client before any request.
                    Err(Error::Config(_)) if first => {
                        source = MemberSource::SimplelistPerDepartment;
                        break;
                    }
                    page => page?,
                };
                first = false;
                state.requests += 1;
                state.rows += page.dept_user.len();
                for row in page.dept_user {
                    let key = row.userid.to_ascii_lowercase();
                    let i = *index.entry(key).or_insert_with(|| {
                        members.push(Member::new(row.userid.clone()));
                        members.len() - 1
                    });
                    let m = &mut members[i];
                    if !m.department.contains(&row.department) {
                        m.department.push(row.department);
                    }
                }
                state.members = members.len();
                progress(&state);
            }
        }
        match source {
            MemberSource::ListId => {}
            MemberSource::SimplelistPerDepartment => {
                for dep in &departments {
                    let list = self.user_simplelist(dep.id).await?.userlist;
                    state.requests += 1;
                    state.rows += list.len();
                    state.departments_read += 1;
                    for brief in list {
                        let key = brief.userid.to_ascii_lowercase();
                        let i = *index.entry(key).or_insert_with(|| {
                            members.push(Member::new(brief.userid.clone()));
                            members.len() - 1
                        });
                        let m = &mut members[i];
                        if m.name.is_none() {
                            m.name = brief.name;
                        }
                        for d in brief.department.into_iter().chain([dep.id]) {
                            if !m.department.contains(&d) {
                                m.department.push(d);
                            }
                        }
                    }
                    state.members = members.len();
                    progress(&state);
                }
            }
            MemberSource::ListPerDepartment => {
                for dep in &departments {
                    let list = self.user_list(dep.id).await?.userlist;
                    state.requests += 1;
                    state.rows += list.len();
                    state.departments_read += 1;
                    for m in list {
                        let key = m.userid.to_ascii_lowercase();
                        if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(key) {
                            slot.insert(members.len());
                            members.push(m);
                        }
                    }
                    state.members = members.len();
                    progress(&state);
                }
            }
        }
        state.phase = WalkPhase::Done;
        progress(&state);
        Ok(DirectorySnapshot {
            departments,
            members,
            source,
        })
    }

    /// The visible scope of app `agentid`, fetched and expanded: `agent/get` for the rules, then
    /// `department/simplelist`, `user/list_id` and `tag/get` (for the listed tags) for the
    /// directory, resolved by [`VisibleScope::resolve`]. `user/list_id` takes only the
    /// contact-sync secret (doc 96067): without it, members come from `user/simplelist` per
    /// department.
    ///
    /// `agent/get` needs that app's own token, so select it on the client
    /// (`client.agent(agentid)?`). With the contact-sync secret configured the directory is the
    /// whole corp's; without it, the app reads what its own scope shows, which gives the same
    /// answer for every member of the scope.
    pub async fn visible_scope(self, agentid: u32) -> Result<VisibleScope, Error> {
        let agent = self.agent_get(agentid).await?;
        let rules = ScopeRules::from(&agent);
        let mut dir = Directory::new();
        let departments = self.department_simplelist().await?.department_id;
        for d in &departments {
            dir.add_department(d.id, d.parentid.unwrap_or(0));
        }
        let mut rows = std::pin::pin!(self.user_ids(MAX_LIST_ID_PAGE));
        let mut first = true;
        let mut per_department = false;
        while let Some(row) = rows.next().await {
            let row = match row {
                // `user/list_id` takes only the contact-sync secret (doc 96067): without it,
                // read each department's members with what the app token may call.
                Err(Error::Config(_)) if first => {
                    per_department = true;
                    for d in &departments {
                        for m in self.user_simplelist(d.id).await?.userlist {
                            dir.add_member(&m.userid, m.department.into_iter().chain([d.id]));
                        }
                    }
                    break;
                }
                row => row?,
            };
            first = false;
            dir.add_member(&row.userid, [row.department]);
        }
        let mut named: Vec<String> = rules.users.clone();
        for &tagid in &rules.tags {
            let tag = self.tag_get(tagid).await?;
            named.extend(tag.userlist.iter().map(|u| u.userid.clone()));
            dir.add_tag(
                tagid,
                tag.userlist.iter().map(|u| u.userid.as_str()),
                tag.partylist.iter().copied(),
            );
        }
        if per_department {
            // Members in the scope by name or by tag, in departments the app cannot list:
            // read them one by one (the app may read every member of its scope).
            for userid in named {
                if !dir.contains_member(&userid) {
                    let m = self.user_get(userid.as_str()).await?;
                    dir.add_member(&m.userid, m.department);
                }
            }
        }
        Ok(VisibleScope::resolve(dir, rules))
    }
}

/// How much of each member [`Contacts::walk`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemberDetail {
    /// Userids and departments only, from `user/list_id` (few requests; allowed from new IPs).
    #[default]
    Ids,
    /// Every field, from `user/list` per department.
    Full,
}

/// Options of [`Contacts::walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    /// How much of each member to read.
    pub detail: MemberDetail,
    /// Page size of `user/list_id` (1..=10,000).
    pub page_size: u32,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            detail: MemberDetail::Ids,
            page_size: MAX_LIST_ID_PAGE,
        }
    }
}

impl WalkOptions {
    /// Ids only (the default).
    pub fn ids() -> Self {
        Self::default()
    }

    /// Every member field, one `user/list` per department.
    pub fn full() -> Self {
        Self {
            detail: MemberDetail::Full,
            ..Self::default()
        }
    }
}

/// Which part of the walk is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WalkPhase {
    /// Not started.
    #[default]
    Starting,
    /// Reading the department tree.
    Departments,
    /// Reading members.
    Members,
    /// Finished.
    Done,
}

/// Where a walk is, passed to the progress callback after every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalkProgress {
    /// The current phase.
    pub phase: WalkPhase,
    /// Requests made so far.
    pub requests: usize,
    /// Departments found.
    pub departments: usize,
    /// Departments whose members were read ([`MemberDetail::Full`]).
    pub departments_read: usize,
    /// Distinct members found so far.
    pub members: usize,
    /// Rows read (`user/list_id` rows, or `user/list` entries, counting a member once per department).
    pub rows: usize,
}

/// What [`Contacts::walk`] read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DirectorySnapshot {
    /// Every department, as `department/list` (or `simplelist`) answered.
    pub departments: Vec<Department>,
    /// Every member once, with all its departments. With [`MemberDetail::Ids`] only `userid` and
    /// `department` are set (and `name` when read from `user/simplelist`).
    pub members: Vec<Member>,
    /// Which requests the members came from.
    pub source: MemberSource,
}

/// Where [`Contacts::walk`] read the members from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemberSource {
    /// `user/list_id` pages (the contact-sync secret; the only credential WeCom allows there).
    #[default]
    ListId,
    /// `user/simplelist` per department: [`MemberDetail::Ids`] on a client without the
    /// contact-sync secret, so with an app token that sees the app's visible scope.
    SimplelistPerDepartment,
    /// `user/list` per department ([`MemberDetail::Full`]).
    ListPerDepartment,
}

impl DirectorySnapshot {
    /// The shape the scope resolver needs (tags can be added with [`Directory::add_tag`]).
    pub fn to_directory(&self) -> Directory {
        let mut dir = Directory::with_capacity(self.departments.len(), self.members.len());
        for d in &self.departments {
            dir.add_department(d.id, d.parentid.unwrap_or(0));
        }
        for m in &self.members {
            dir.add_member(&m.userid, m.department.iter().copied());
        }
        dir
    }
}

impl From<&Agent> for ScopeRules {
    /// The rules of an app's visible scope as `agent/get` answers them.
    fn from(agent: &Agent) -> Self {
        ScopeRules {
            whole_corp: false,
            users: agent
                .allow_userinfos
                .iter()
                .flat_map(|a| a.user.iter().map(|u| u.userid.clone()))
                .collect(),
            departments: agent
                .allow_partys
                .iter()
                .flat_map(|a| a.partyid.iter().copied())
                .collect(),
            tags: agent
                .allow_tags
                .iter()
                .flat_map(|a| a.tagid.iter().copied())
                .collect(),
        }
    }
}
