//! The visible-scope resolver: which members and departments an app can see.
//!
//! WeCom defines an app's visible scope (可见范围) by three lists on `agent/get`:
//! `allow_userinfos` (members), `allow_partys` (departments) and `allow_tags` (tags). The scope is
//! the union of
//! - the listed members;
//! - the listed departments, every department below them, and all their members;
//! - the listed tags' members, and the tags' departments with their subtrees and members.
//!
//! The contact-sync secret (通讯录同步) has no scope setting: it covers the whole corp.
//!
//! [`VisibleScope::resolve`] expands the rules against a [`Directory`] (the department tree, each
//! member's departments, each tag's members and departments) in time linear in the directory's
//! size: every department is visited once, every (member, department) pair once, every tag entry
//! once. [`VisibleScope::is_visible`] is then a hash lookup, and [`VisibleScope::explain`] says which
//! rule(s) matched a member, or why none did.
//!
//! ```
//! use wecom_contacts::scope::{Directory, ScopeRules, VisibleScope};
//!
//! let mut dir = Directory::new();
//! dir.add_department(1, 0);
//! dir.add_department(2, 1); // R&D
//! dir.add_department(3, 2); // R&D / Backend
//! dir.add_department(4, 1); // Sales
//! dir.add_member("alice", [3]);
//! dir.add_member("bob", [4]);
//! dir.add_member("carol", [4]);
//! dir.add_tag(7, ["carol"], []);
//!
//! let rules = ScopeRules::new().with_departments([2]).with_tags([7]);
//! let scope = VisibleScope::resolve(dir, rules);
//! assert!(scope.is_visible("alice")); // department 3 is under the listed department 2
//! assert!(!scope.is_visible("bob"));
//! assert!(scope.is_visible("Carol")); // userids are case-insensitive
//! assert!(scope.is_department_visible(3));
//! println!("{}", scope.explain("bob"));
//! // bob is outside the visible scope: not listed in allow_userinfos; departments 4 are not under a
//! // listed department (2) or a department of a listed tag; holds none of the listed tags (7)
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Lowercases a userid the way WeCom compares them (ASCII only: userids are ASCII).
fn key(userid: &str) -> String {
    userid.to_ascii_lowercase()
}

/// A department of a [`Directory`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct DeptNode {
    id: u32,
    parent: u32,
}

/// A member of a [`Directory`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct MemberNode {
    userid: Box<str>,
    departments: Vec<u32>,
}

/// A tag of a [`Directory`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TagNode {
    users: Vec<Box<str>>,
    parties: Vec<u32>,
}

/// The shape of a corp's directory that visibility depends on: the department tree, each
/// member's departments and each tag's members and departments.
///
/// Build it from API answers (`department/list` or `department/simplelist`, `user/list_id` rows,
/// `tag/get`), from the sandbox's corp, or by hand. Adding the same member or tag twice merges
/// the lists (`user/list_id` answers one row per member and department); adding a department twice
/// keeps the last parent. Ids that refer to nothing (a parent or a member's department that was
/// never added) are tolerated: they simply connect to nothing.
///
/// The first resolve builds a compact index (children of each department, each member's
/// departments as positions in a flat array) that later resolves against the same directory
/// reuse; changing the directory drops it.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    departments: Vec<DeptNode>,
    dept_index: HashMap<u32, u32>,
    members: Vec<MemberNode>,
    member_index: HashMap<String, u32>,
    tags: Vec<TagNode>,
    tag_ids: Vec<u32>,
    tag_index: HashMap<u32, u32>,
    index: OnceLock<Index>,
}

impl PartialEq for Directory {
    /// The same departments, members and tags, added in the same order (the cached index does
    /// not count).
    fn eq(&self, other: &Self) -> bool {
        self.departments == other.departments
            && self.members == other.members
            && self.tags == other.tags
            && self.tag_ids == other.tag_ids
    }
}

impl Eq for Directory {}

/// Positions instead of ids, built in one linear pass: what resolving walks.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Children of department `i`: `children[child_start[i]..child_start[i + 1]]`.
    child_start: Vec<u32>,
    children: Vec<u32>,
    /// Departments of member `i` (known ones only): `member_depts[member_start[i]..member_start[i + 1]]`.
    member_start: Vec<u32>,
    member_depts: Vec<u32>,
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty directory with room for `departments` departments and `members` members.
    pub fn with_capacity(departments: usize, members: usize) -> Self {
        Self {
            departments: Vec::with_capacity(departments),
            dept_index: HashMap::with_capacity(departments),
            members: Vec::with_capacity(members),
            member_index: HashMap::with_capacity(members),
            ..Self::default()
        }
    }

    /// Adds a department under `parentid` (0 for the root). Adding it again moves it.
    pub fn add_department(&mut self, id: u32, parentid: u32) {
        self.index.take();
        match self.dept_index.get(&id) {
            Some(&i) => self.departments[i as usize].parent = parentid,
            None => {
                self.dept_index.insert(id, self.departments.len() as u32);
                self.departments.push(DeptNode {
                    id,
                    parent: parentid,
                });
            }
        }
    }

    /// Adds a member in `departments`, or adds these departments to a member already present
    /// (userids compare case-insensitively, as in WeCom).
    pub fn add_member(
        &mut self,
        userid: impl AsRef<str>,
        departments: impl IntoIterator<Item = u32>,
    ) {
        self.index.take();
        let userid = userid.as_ref();
        let k = key(userid);
        let i = match self.member_index.get(&k) {
            Some(&i) => i as usize,
            None => {
                let i = self.members.len();
                self.member_index.insert(k, i as u32);
                self.members.push(MemberNode {
                    userid: userid.into(),
                    departments: Vec::new(),
                });
                i
            }
        };
        let m = &mut self.members[i];
        for d in departments {
            if !m.departments.contains(&d) {
                m.departments.push(d);
            }
        }
    }

    /// Adds a tag holding `users` and `parties` (departments), or adds them to a tag already present.
    pub fn add_tag<U: AsRef<str>>(
        &mut self,
        tagid: u32,
        users: impl IntoIterator<Item = U>,
        parties: impl IntoIterator<Item = u32>,
    ) {
        let i = match self.tag_index.get(&tagid) {
            Some(&i) => i as usize,
            None => {
                let i = self.tags.len();
                self.tag_index.insert(tagid, i as u32);
                self.tags.push(TagNode::default());
                self.tag_ids.push(tagid);
                i
            }
        };
        let t = &mut self.tags[i];
        t.users.extend(users.into_iter().map(|u| u.as_ref().into()));
        t.parties.extend(parties);
    }

    /// How many departments.
    pub fn department_count(&self) -> usize {
        self.departments.len()
    }

    /// How many members.
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// How many tags.
    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }

    /// Whether the member is in the directory (case-insensitive).
    pub fn contains_member(&self, userid: &str) -> bool {
        self.member_index.contains_key(&key(userid))
    }

    /// Whether the department is in the directory.
    pub fn contains_department(&self, id: u32) -> bool {
        self.dept_index.contains_key(&id)
    }

    /// A member's userid as it was added, and departments.
    pub fn member(&self, userid: &str) -> Option<(&str, &[u32])> {
        let i = *self.member_index.get(&key(userid))?;
        let m = &self.members[i as usize];
        Some((&m.userid, &m.departments))
    }

    /// A department's parent id (0 for the root).
    pub fn parent(&self, id: u32) -> Option<u32> {
        self.dept_index
            .get(&id)
            .map(|&i| self.departments[i as usize].parent)
    }

    /// Every member (userid as added, departments), in the order they were added.
    pub fn members(&self) -> impl Iterator<Item = (&str, &[u32])> + '_ {
        self.members
            .iter()
            .map(|m| (&*m.userid, m.departments.as_slice()))
    }

    /// Every department (id, parent id), in the order they were added.
    pub fn departments(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.departments.iter().map(|d| (d.id, d.parent))
    }

    /// The path from the root down to a department (`[1, 2, 5]`); stops at a missing parent or a
    /// cycle in bad data.
    pub fn path(&self, id: u32) -> Vec<u32> {
        let mut path = Vec::new();
        let mut cur = id;
        // A path is at most as long as the number of departments; the bound guards cycles.
        for _ in 0..=self.departments.len() {
            let Some(&i) = self.dept_index.get(&cur) else {
                break;
            };
            path.push(cur);
            let parent = self.departments[i as usize].parent;
            if parent == 0 || parent == cur || path.contains(&parent) {
                break;
            }
            cur = parent;
        }
        path.reverse();
        path
    }

    /// The index resolving walks, built on first use in one linear pass.
    fn index(&self) -> &Index {
        self.index.get_or_init(|| self.build_index())
    }

    fn build_index(&self) -> Index {
        let n = self.departments.len();
        let parent_idx: Vec<Option<u32>> = self
            .departments
            .iter()
            .map(|d| {
                self.dept_index
                    .get(&d.parent)
                    .copied()
                    .filter(|&p| self.departments[p as usize].id != d.id)
            })
            .collect();
        let mut child_start = vec![0u32; n + 1];
        for p in parent_idx.iter().flatten() {
            child_start[*p as usize + 1] += 1;
        }
        for i in 0..n {
            child_start[i + 1] += child_start[i];
        }
        let mut fill = child_start.clone();
        let mut children = vec![0u32; child_start[n] as usize];
        for (child, p) in parent_idx.iter().enumerate() {
            if let Some(p) = p {
                children[fill[*p as usize] as usize] = child as u32;
                fill[*p as usize] += 1;
            }
        }
        let mut member_start = Vec::with_capacity(self.members.len() + 1);
        let mut member_depts = Vec::with_capacity(self.members.len());
        member_start.push(0);
        for m in &self.members {
            member_depts.extend(
                m.departments
                    .iter()
                    .filter_map(|d| self.dept_index.get(d).copied()),
            );
            member_start.push(member_depts.len() as u32);
        }
        Index {
            child_start,
            children,
            member_start,
            member_depts,
        }
    }
}

/// The rules of a visible scope: what `agent/get` lists, or the whole corp.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeRules {
    /// The whole corp (the contact-sync secret, which has no scope setting).
    pub whole_corp: bool,
    /// `allow_userinfos.user[].userid`.
    pub users: Vec<String>,
    /// `allow_partys.partyid`: departments, each with its whole subtree.
    pub departments: Vec<u32>,
    /// `allow_tags.tagid`: tags, with their members and their departments' subtrees.
    pub tags: Vec<u32>,
}

impl ScopeRules {
    /// Empty rules: nobody is visible until members, departments or tags are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// The contact-sync secret's scope: the whole corp.
    pub fn contact_sync() -> Self {
        Self {
            whole_corp: true,
            ..Self::default()
        }
    }

    /// Adds listed members.
    pub fn with_users<U: Into<String>>(mut self, users: impl IntoIterator<Item = U>) -> Self {
        self.users.extend(users.into_iter().map(Into::into));
        self
    }

    /// Adds listed departments.
    pub fn with_departments(mut self, departments: impl IntoIterator<Item = u32>) -> Self {
        self.departments.extend(departments);
        self
    }

    /// Adds listed tags.
    pub fn with_tags(mut self, tags: impl IntoIterator<Item = u32>) -> Self {
        self.tags.extend(tags);
        self
    }
}

/// Why a department is a root of the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Listed,
    Tag(u32),
}

/// One rule that makes a member visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The scope is the whole corp (contact-sync secret).
    WholeCorp,
    /// The member is listed in `allow_userinfos`.
    ListedMember,
    /// `department` is listed in `allow_partys`, and the member belongs to `via`, which is
    /// `department` itself or lies below it.
    ListedDepartment {
        /// The listed department.
        department: u32,
        /// The member's department at or below it.
        via: u32,
    },
    /// Tag `tag` (listed in `allow_tags`) holds the member.
    TagMember {
        /// The tag.
        tag: u32,
    },
    /// Tag `tag` (listed in `allow_tags`) holds `department`, and the member belongs to `via`,
    /// which is `department` itself or lies below it.
    TagDepartment {
        /// The tag.
        tag: u32,
        /// The department the tag holds.
        department: u32,
        /// The member's department at or below it.
        via: u32,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::WholeCorp => f.write_str("the contact-sync secret covers the whole corp"),
            Reason::ListedMember => f.write_str("listed in allow_userinfos"),
            Reason::ListedDepartment { department, via } if department == via => {
                write!(
                    f,
                    "member of department {department}, listed in allow_partys"
                )
            }
            Reason::ListedDepartment { department, via } => {
                write!(
                    f,
                    "member of department {via}, under department {department} listed in allow_partys"
                )
            }
            Reason::TagMember { tag } => write!(f, "holds tag {tag}, listed in allow_tags"),
            Reason::TagDepartment {
                tag,
                department,
                via,
            } if department == via => {
                write!(
                    f,
                    "member of department {department}, which holds tag {tag} listed in allow_tags"
                )
            }
            Reason::TagDepartment {
                tag,
                department,
                via,
            } => write!(
                f,
                "member of department {via}, under department {department} which holds tag {tag} listed in allow_tags"
            ),
        }
    }
}

/// Why a member is or is not in a visible scope ([`VisibleScope::explain`]). Its `Display` is a
/// sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The userid asked about (as the directory spells it when known).
    pub userid: String,
    /// Whether the directory knows the member.
    pub in_directory: bool,
    /// The member's departments (empty when unknown).
    pub departments: Vec<u32>,
    /// Every rule that makes the member visible; empty when the member is outside the scope.
    pub reasons: Vec<Reason>,
    rules: ScopeRules,
}

impl Explanation {
    /// Whether the member is visible.
    pub fn is_visible(&self) -> bool {
        !self.reasons.is_empty()
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_visible() {
            write!(f, "{} is visible: ", self.userid)?;
            let reasons: Vec<String> = self.reasons.iter().map(ToString::to_string).collect();
            return f.write_str(&reasons.join("; "));
        }
        if !self.in_directory {
            write!(
                f,
                "{} is outside the visible scope: no such member in the directory",
                self.userid
            )?;
            if self
                .rules
                .users
                .iter()
                .any(|u| u.eq_ignore_ascii_case(&self.userid))
            {
                f.write_str(" (allow_userinfos lists it, but the member does not exist)")?;
            }
            return Ok(());
        }
        write!(
            f,
            "{} is outside the visible scope: not listed in allow_userinfos",
            self.userid
        )?;
        if self.departments.is_empty() {
            f.write_str("; belongs to no department")?;
        } else {
            write!(
                f,
                "; departments {} are not under a listed department",
                list(&self.departments)
            )?;
            if !self.rules.departments.is_empty() {
                write!(f, " ({})", list(&self.rules.departments))?;
            }
            f.write_str(" or a department of a listed tag")?;
        }
        if self.rules.tags.is_empty() {
            f.write_str("; allow_tags is empty")
        } else {
            write!(
                f,
                "; holds none of the listed tags ({})",
                list(&self.rules.tags)
            )
        }
    }
}

/// Ids named by the rules that the directory does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unresolved {
    /// Listed members missing from the directory.
    pub users: Vec<String>,
    /// Listed departments, and departments of listed tags, missing from the directory.
    pub departments: Vec<u32>,
    /// Listed tags missing from the directory.
    pub tags: Vec<u32>,
    /// Members of listed tags missing from the directory.
    pub tag_users: Vec<String>,
}

impl Unresolved {
    /// Whether every id resolved.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.departments.is_empty()
            && self.tags.is_empty()
            && self.tag_users.is_empty()
    }
}

/// A visible scope expanded against a directory: who and which departments an app can see.
///
/// Built by [`VisibleScope::resolve`] in linear time; queries are hash lookups.
#[derive(Debug, Clone)]
pub struct VisibleScope {
    dir: Arc<Directory>,
    rules: ScopeRules,
    member_visible: Vec<bool>,
    dept_visible: Vec<bool>,
    listed_members: HashSet<u32>,
    /// Departments (by index) that are roots of the scope, and why.
    roots: HashMap<u32, Vec<Origin>>,
    /// Members (by index) held by listed tags, and which tags.
    member_tags: HashMap<u32, Vec<u32>>,
    visible_members: usize,
    visible_departments: usize,
    unresolved: Unresolved,
}

impl VisibleScope {
    /// Expands `rules` against `directory`. Linear in the directory's size (departments,
    /// member-department pairs and tag entries); tolerant of bad data (unknown ids are reported by
    /// [`VisibleScope::unresolved`], a cycle in the parent links does not loop).
    pub fn resolve(directory: impl Into<Arc<Directory>>, rules: ScopeRules) -> Self {
        let dir: Arc<Directory> = directory.into();
        let n_dept = dir.departments.len();
        let n_member = dir.members.len();
        let mut scope = VisibleScope {
            member_visible: vec![rules.whole_corp; n_member],
            dept_visible: vec![rules.whole_corp; n_dept],
            listed_members: HashSet::new(),
            roots: HashMap::new(),
            member_tags: HashMap::new(),
            visible_members: 0,
            visible_departments: 0,
            unresolved: Unresolved::default(),
            rules,
            dir,
        };
        if scope.rules.whole_corp {
            scope.visible_members = n_member;
            scope.visible_departments = n_dept;
            return scope;
        }
        let dir = Arc::clone(&scope.dir);

        // Listed members.
        for u in &scope.rules.users {
            match dir.member_index.get(&key(u)) {
                Some(&i) => {
                    scope.member_visible[i as usize] = true;
                    scope.listed_members.insert(i);
                }
                None => scope.unresolved.users.push(u.clone()),
            }
        }
        // Roots: listed departments and tags' departments; tags' members.
        let mut stack: Vec<u32> = Vec::new();
        for &d in &scope.rules.departments {
            match dir.dept_index.get(&d) {
                Some(&i) => {
                    scope.roots.entry(i).or_default().push(Origin::Listed);
                    stack.push(i);
                }
                None => scope.unresolved.departments.push(d),
            }
        }
        let mut seen_tags = HashSet::new();
        for &t in &scope.rules.tags {
            if !seen_tags.insert(t) {
                continue;
            }
            let Some(&ti) = dir.tag_index.get(&t) else {
                scope.unresolved.tags.push(t);
                continue;
            };
            let tag = &dir.tags[ti as usize];
            for u in &tag.users {
                match dir.member_index.get(&key(u)) {
                    Some(&i) => {
                        scope.member_visible[i as usize] = true;
                        let tags = scope.member_tags.entry(i).or_default();
                        if !tags.contains(&t) {
                            tags.push(t);
                        }
                    }
                    None => scope.unresolved.tag_users.push(u.to_string()),
                }
            }
            for &d in &tag.parties {
                match dir.dept_index.get(&d) {
                    Some(&i) => {
                        let origins = scope.roots.entry(i).or_default();
                        if !origins.contains(&Origin::Tag(t)) {
                            origins.push(Origin::Tag(t));
                        }
                        stack.push(i);
                    }
                    None => scope.unresolved.departments.push(d),
                }
            }
        }
        // Subtrees: each department is visited once.
        let index = dir.index();
        let (start, children) = (&index.child_start, &index.children);
        while let Some(i) = stack.pop() {
            let i = i as usize;
            if scope.dept_visible[i] {
                continue;
            }
            scope.dept_visible[i] = true;
            stack.extend_from_slice(&children[start[i] as usize..start[i + 1] as usize]);
        }
        // Members of visible departments: each (member, department) pair once.
        let (start, depts) = (&index.member_start, &index.member_depts);
        for (i, visible) in scope.member_visible.iter_mut().enumerate() {
            if !*visible {
                *visible = depts[start[i] as usize..start[i + 1] as usize]
                    .iter()
                    .any(|&d| scope.dept_visible[d as usize]);
            }
        }
        scope.visible_members = scope.member_visible.iter().filter(|v| **v).count();
        scope.visible_departments = scope.dept_visible.iter().filter(|v| **v).count();
        scope
    }

    /// The directory the scope was resolved against.
    pub fn directory(&self) -> &Directory {
        &self.dir
    }

    /// The rules the scope was resolved from.
    pub fn rules(&self) -> &ScopeRules {
        &self.rules
    }

    /// Whether the scope is the whole corp (the contact-sync secret).
    pub fn is_whole_corp(&self) -> bool {
        self.rules.whole_corp
    }

    /// Whether the member is in the directory and visible (userids compare case-insensitively).
    pub fn is_visible(&self, userid: &str) -> bool {
        self.dir
            .member_index
            .get(&key(userid))
            .is_some_and(|&i| self.member_visible[i as usize])
    }

    /// Whether the department is in the directory and visible.
    pub fn is_department_visible(&self, id: u32) -> bool {
        self.dir
            .dept_index
            .get(&id)
            .is_some_and(|&i| self.dept_visible[i as usize])
    }

    /// The visible members' userids, in directory order.
    pub fn members(&self) -> impl Iterator<Item = &str> + '_ {
        self.dir
            .members
            .iter()
            .zip(&self.member_visible)
            .filter(|(_, v)| **v)
            .map(|(m, _)| &*m.userid)
    }

    /// The visible departments' ids, in directory order.
    pub fn departments(&self) -> impl Iterator<Item = u32> + '_ {
        self.dir
            .departments
            .iter()
            .zip(&self.dept_visible)
            .filter(|(_, v)| **v)
            .map(|(d, _)| d.id)
    }

    /// How many members are visible.
    pub fn member_count(&self) -> usize {
        self.visible_members
    }

    /// How many departments are visible.
    pub fn department_count(&self) -> usize {
        self.visible_departments
    }

    /// The tags the scope lists (the whole corp's tags for the contact-sync secret).
    pub fn tags(&self) -> Vec<u32> {
        if self.rules.whole_corp {
            return self.dir.tag_ids.clone();
        }
        let mut seen = HashSet::new();
        self.rules
            .tags
            .iter()
            .copied()
            .filter(|t| seen.insert(*t))
            .collect()
    }

    /// Ids named by the rules that the directory does not know (a deleted member still listed,
    /// a tag the directory was built without ...).
    pub fn unresolved(&self) -> &Unresolved {
        &self.unresolved
    }

    /// Why a member is or is not visible: every rule that matched, or what the rules are and
    /// where the member is. Costs the member's departments times the tree's depth.
    pub fn explain(&self, userid: &str) -> Explanation {
        let Some(&mi) = self.dir.member_index.get(&key(userid)) else {
            return Explanation {
                userid: userid.to_owned(),
                in_directory: false,
                departments: Vec::new(),
                reasons: Vec::new(),
                rules: self.rules.clone(),
            };
        };
        let member = &self.dir.members[mi as usize];
        let mut reasons = Vec::new();
        if self.rules.whole_corp {
            reasons.push(Reason::WholeCorp);
        }
        if self.listed_members.contains(&mi) {
            reasons.push(Reason::ListedMember);
        }
        for &tag in self
            .member_tags
            .get(&mi)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            reasons.push(Reason::TagMember { tag });
        }
        for &via in &member.departments {
            let Some(&start) = self.dir.dept_index.get(&via) else {
                continue;
            };
            let mut cur = start;
            // Walk up to the root; the bound guards a cycle in bad data.
            for _ in 0..=self.dir.departments.len() {
                let node = &self.dir.departments[cur as usize];
                for origin in self.roots.get(&cur).map(Vec::as_slice).unwrap_or_default() {
                    let reason = match *origin {
                        Origin::Listed => Reason::ListedDepartment {
                            department: node.id,
                            via,
                        },
                        Origin::Tag(tag) => Reason::TagDepartment {
                            tag,
                            department: node.id,
                            via,
                        },
                    };
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                }
                match self.dir.dept_index.get(&node.parent) {
                    Some(&p) if p != cur && p != start => cur = p,
                    _ => break,
                }
            }
        }
        Explanation {
            userid: member.userid.to_string(),
            in_directory: true,
            departments: member.departments.clone(),
            reasons,
            rules: self.rules.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 ─┬─ 2 ─┬─ 3 ── 5
    ///    │     └─ 4
    ///    └─ 6 ── 7
    fn tree() -> Directory {
        let mut d = Directory::new();
        for (id, parent) in [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (6, 1), (7, 6)] {
            d.add_department(id, parent);
        }
        d.add_member("root_guy", [1]);
        d.add_member("deep", [5]);
        d.add_member("four", [4]);
        d.add_member("seven", [7]);
        d.add_member("two_places", [4, 7]);
        d.add_tag(10, ["seven"], [3]);
        d.add_tag(11, Vec::<String>::new(), [6]);
        d
    }

    #[test]
    fn departments_include_their_subtrees() {
        let s = VisibleScope::resolve(tree(), ScopeRules::new().with_departments([2]));
        assert_eq!(s.departments().collect::<Vec<_>>(), vec![2, 3, 4, 5]);
        assert_eq!(
            s.members().collect::<Vec<_>>(),
            vec!["deep", "four", "two_places"]
        );
        assert!(!s.is_visible("root_guy"));
        assert!(!s.is_department_visible(1));
        assert_eq!(
            s.explain("deep").reasons,
            vec![Reason::ListedDepartment {
                department: 2,
                via: 5
            }]
        );
    }

    #[test]
    fn tags_hold_members_and_department_subtrees() {
        let s = VisibleScope::resolve(tree(), ScopeRules::new().with_tags([10]));
        assert_eq!(s.departments().collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(s.members().collect::<Vec<_>>(), vec!["deep", "seven"]);
        assert_eq!(
            s.explain("seven").reasons,
            vec![Reason::TagMember { tag: 10 }]
        );
        assert_eq!(
            s.explain("deep").reasons,
            vec![Reason::TagDepartment {
                tag: 10,
                department: 3,
                via: 5
            }]
        );
    }

    #[test]
    fn member_in_several_departments_is_visible_through_any() {
        let s = VisibleScope::resolve(tree(), ScopeRules::new().with_tags([11]));
        assert!(s.is_visible("two_places"));
        assert!(s.is_visible("seven"));
        assert!(!s.is_visible("four"));
        assert_eq!(
            s.explain("two_places").reasons,
            vec![Reason::TagDepartment {
                tag: 11,
                department: 6,
                via: 7
            }]
        );
    }

    #[test]
    fn every_matching_rule_is_explained() {
        let rules = ScopeRules::new()
            .with_users(["SEVEN"])
            .with_departments([1, 6])
            .with_tags([10, 11]);
        let s = VisibleScope::resolve(tree(), rules);
        assert_eq!(s.member_count(), 5);
        assert_eq!(s.department_count(), 7);
        let e = s.explain("seven");
        assert_eq!(
            e.reasons,
            vec![
                Reason::ListedMember,
                Reason::TagMember { tag: 10 },
                Reason::ListedDepartment {
                    department: 6,
                    via: 7
                },
                Reason::TagDepartment {
                    tag: 11,
                    department: 6,
                    via: 7
                },
                Reason::ListedDepartment {
                    department: 1,
                    via: 7
                },
            ]
        );
        let text = e.to_string();
        assert!(
            text.starts_with("seven is visible: listed in allow_userinfos; holds tag 10"),
            "{text}"
        );
    }

    #[test]
    fn outside_the_scope_says_why() {
        let s = VisibleScope::resolve(
            tree(),
            ScopeRules::new().with_departments([3]).with_tags([10]),
        );
        let e = s.explain("four");
        assert!(!e.is_visible());
        assert_eq!(
            e.to_string(),
            "four is outside the visible scope: not listed in allow_userinfos; departments 4 are not under a listed \
             department (3) or a department of a listed tag; holds none of the listed tags (10)"
        );
        let e = s.explain("ghost");
        assert!(!e.in_directory);
        assert_eq!(
            e.to_string(),
            "ghost is outside the visible scope: no such member in the directory"
        );
    }

    #[test]
    fn contact_sync_covers_the_whole_corp() {
        let s = VisibleScope::resolve(tree(), ScopeRules::contact_sync());
        assert!(s.is_whole_corp());
        assert_eq!(s.member_count(), 5);
        assert_eq!(s.department_count(), 7);
        assert_eq!(s.explain("deep").reasons, vec![Reason::WholeCorp]);
        assert_eq!(s.tags(), vec![10, 11]);
    }

    #[test]
    fn empty_rules_see_nobody() {
        let s = VisibleScope::resolve(tree(), ScopeRules::new());
        assert_eq!(s.member_count(), 0);
        assert_eq!(s.department_count(), 0);
        assert!(
            s.explain("deep")
                .to_string()
                .contains("allow_tags is empty")
        );
    }

    #[test]
    fn unknown_ids_are_reported_not_fatal() {
        let rules = ScopeRules::new()
            .with_users(["nobody"])
            .with_departments([99])
            .with_tags([12]);
        let s = VisibleScope::resolve(tree(), rules);
        assert_eq!(s.member_count(), 0);
        assert_eq!(s.unresolved().users, vec!["nobody".to_owned()]);
        assert_eq!(s.unresolved().departments, vec![99]);
        assert_eq!(s.unresolved().tags, vec![12]);
        assert!(
            s.explain("nobody")
                .to_string()
                .contains("allow_userinfos lists it")
        );
    }

    #[test]
    fn a_cycle_in_bad_data_terminates() {
        let mut d = Directory::new();
        d.add_department(2, 3);
        d.add_department(3, 2);
        d.add_department(4, 4);
        d.add_member("a", [3]);
        d.add_member("b", [4]);
        let s = VisibleScope::resolve(d, ScopeRules::new().with_departments([2, 4]));
        assert!(s.is_visible("a"));
        assert!(s.is_visible("b"));
        assert_eq!(
            s.explain("a").reasons,
            vec![Reason::ListedDepartment {
                department: 2,
                via: 3
            }]
        );
        assert_eq!(s.directory().path(3), vec![2, 3]);
    }

    #[test]
    fn changes_after_a_resolve_are_seen() {
        let mut d = tree();
        assert_eq!(d.index().member_start.len(), 6);
        d.add_member("late", [3]);
        d.add_department(8, 3);
        d.add_member("later", [8]);
        assert_eq!(d.index().member_start.len(), 8, "the index was rebuilt");
        let s = VisibleScope::resolve(d, ScopeRules::new().with_departments([3]));
        assert!(s.is_visible("late") && s.is_visible("later") && s.is_department_visible(8));
    }

    #[test]
    fn list_id_rows_merge_into_one_member() {
        let mut d = tree();
        d.add_member("Deep", [7]);
        assert_eq!(d.member("deep"), Some(("deep", &[5, 7][..])));
        assert_eq!(d.member_count(), 5);
        assert_eq!(d.path(5), vec![1, 2, 3, 5]);
    }

    mod naive {
        use super::*;
        use proptest::prelude::*;

        /// A random acyclic corp: department i+2 hangs under an earlier one.
        /// Parents of departments 2.., each member's departments, each tag's members and departments.
        type Corp = (Vec<u32>, Vec<Vec<u32>>, Vec<(Vec<usize>, Vec<u32>)>);

        fn corp() -> impl Strategy<Value = Corp> {
            (1usize..40).prop_flat_map(|n| {
                let parents = proptest::collection::vec(any::<prop::sample::Index>(), n);
                let members = proptest::collection::vec(
                    proptest::collection::vec(1u32..=(n as u32 + 1), 1..4),
                    0..60,
                );
                let tags = proptest::collection::vec(
                    (
                        proptest::collection::vec(0usize..60, 0..5),
                        proptest::collection::vec(1u32..=(n as u32 + 1), 0..3),
                    ),
                    0..4,
                );
                (parents, members, tags).prop_map(|(parents, members, tags)| {
                    // Department k (k >= 2) has a parent among 1..k.
                    let parents = parents
                        .iter()
                        .enumerate()
                        .map(|(i, ix)| 1 + ix.index(i + 1) as u32)
                        .collect();
                    (parents, members, tags)
                })
            })
        }

        proptest! {
            #[test]
            fn resolver_matches_the_definition(
                (parents, members, tags) in corp(),
                listed_users in proptest::collection::vec(0usize..60, 0..4),
                listed_depts in proptest::collection::vec(1u32..45, 0..4),
                listed_tags in proptest::collection::vec(0u32..5, 0..3),
            ) {
                let mut dir = Directory::new();
                dir.add_department(1, 0);
                for (i, p) in parents.iter().enumerate() {
                    dir.add_department(i as u32 + 2, *p);
                }
                for (i, depts) in members.iter().enumerate() {
                    dir.add_member(format!("u{i}"), depts.iter().copied());
                }
                for (t, (users, parties)) in tags.iter().enumerate() {
                    dir.add_tag(t as u32, users.iter().map(|u| format!("U{u}")), parties.iter().copied());
                }
                let rules = ScopeRules::new()
                    .with_users(listed_users.iter().map(|u| format!("u{u}")))
                    .with_departments(listed_depts.iter().copied())
                    .with_tags(listed_tags.iter().copied());
                let scope = VisibleScope::resolve(dir.clone(), rules.clone());

                // The definition, checked the slow way: walk each department's path to the root.
                let mut roots: Vec<u32> = rules.departments.clone();
                let mut tag_users: Vec<String> = Vec::new();
                for t in &rules.tags {
                    if let Some((users, parties)) = tags.get(*t as usize) {
                        roots.extend(parties);
                        tag_users.extend(users.iter().map(|u| format!("u{u}")));
                    }
                }
                let dept_visible = |d: u32| dir.contains_department(d) && dir.path(d).iter().any(|a| roots.contains(a));
                for (d, _) in dir.departments() {
                    prop_assert_eq!(scope.is_department_visible(d), dept_visible(d), "department {}", d);
                }
                for (i, depts) in members.iter().enumerate() {
                    let u = format!("u{i}");
                    let expected = rules.users.contains(&u) || tag_users.contains(&u) || depts.iter().any(|d| dept_visible(*d));
                    prop_assert_eq!(scope.is_visible(&u), expected, "member {}", u);
                    prop_assert_eq!(scope.explain(&u).is_visible(), expected, "explain {}", u);
                }
                prop_assert_eq!(scope.member_count(), scope.members().count());
            }
        }
    }
}
