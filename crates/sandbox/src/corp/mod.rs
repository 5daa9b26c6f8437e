//! The corp: departments, members, tags, apps and the contact-sync secret, with WeCom's rules.
//!
//! Every operation checks what WeCom checks and fails with a [`CorpError`] that carries WeCom's
//! errcode, so an area handler only maps its request onto these methods:
//!
//! ```
//! use wecom_sandbox::corp::{Corp, Member};
//! let mut corp = Corp::demo();
//! let id = corp.create_department("测试部", "", 1, 0, None).unwrap();
//! corp.create_member(Member::new("tester", "测试员", vec![id]).with_mobile("13800000999")).unwrap();
//! let err = corp.create_member(Member::new("TESTER", "重复", vec![id]).with_email("t@example.com")).unwrap_err();
//! assert_eq!(err.errcode(), 60102); // userids are unique case-insensitively
//! ```

mod demo;
mod departments;
mod members;
mod model;
mod scope;
mod tags;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use wecom_core_auth::{Secret, SystemApp};

pub use crate::error::CorpError;
pub use demo::{
    DEMO_APPROVAL_AGENTID, DEMO_APPROVAL_SECRET, DEMO_CONTACT_SECRET, DEMO_CORPID, DEMO_ROBOT_KEY,
    DEMO_WEEKLY_AGENTID, DEMO_WEEKLY_SECRET,
};
pub use model::{Actor, App, CallbackConfig, Department, Member, Robot, Tag};
pub use scope::{RecipientSpec, Recipients, Scope};
pub use tags::TagItemsResult;

use crate::error::SandboxError;

/// The most levels of departments (the root is level 1).
pub const MAX_DEPTH: u32 = 15;
/// The most departments one member belongs to (user/create, page 90195: "不超过100个").
pub const MAX_MEMBER_DEPARTMENTS: usize = 100;
/// The most tags in a corp.
pub const MAX_TAGS: usize = 3000;

/// A corp's whole state. Load it from a file ([`Corp::load`]), start from the demo ([`Corp::demo`]),
/// or build it with the methods below; [`Corp::save`] writes it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Corp {
    corpid: String,
    name: String,
    contact_secret: Secret,
    contact_callback: Option<CallbackConfig>,
    /// System apps' own secrets (客户联系, 审批 ...).
    system_secrets: BTreeMap<SystemApp, Secret>,
    departments: BTreeMap<u32, Department>,
    /// Keyed by lowercase userid.
    members: BTreeMap<String, Member>,
    tags: BTreeMap<u32, Tag>,
    apps: BTreeMap<u32, App>,
    robots: Vec<Robot>,
    /// The school directory of an education corp (家校沟通), `None` for other corps.
    school: Option<crate::areas::school::model::School>,
}

/// Replaces a secret by its first 3 characters and `***` (enough to tell two apart, not to use).
fn mask(secret: &mut Secret) {
    let head: String = secret.expose().chars().take(3).collect();
    *secret = Secret::new(format!("{head}***"));
}

/// The file form of a corp (TOML or JSON): the same data as [`Corp`], as lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpFile {
    /// The corpid (`ww` + 16 hex digits in real corps).
    pub corpid: String,
    /// The corp's name (also the root department's default name).
    pub name: String,
    /// The contact-sync secret (通讯录同步): whole-corp scope, needed for directory writes.
    pub contact_secret: Secret,
    /// Where change_contact callbacks of the contact-sync assistant go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_callback: Option<CallbackConfig>,
    /// System apps' own secrets by app name (`external_contact`, `kf`, `approval`, `checkin`,
    /// `journal`, `wedrive`, `school`, `msg_audit`, `dial`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub system_secrets: BTreeMap<String, Secret>,
    /// Departments; the root (id 1) is created from `name` when missing.
    #[serde(default, rename = "department")]
    pub departments: Vec<Department>,
    /// Members.
    #[serde(default, rename = "member")]
    pub members: Vec<Member>,
    /// Tags.
    #[serde(default, rename = "tag")]
    pub tags: Vec<Tag>,
    /// Apps.
    #[serde(default, rename = "app")]
    pub apps: Vec<App>,
    /// Group robots.
    #[serde(default, rename = "robot")]
    pub robots: Vec<Robot>,
    /// The school directory (家校沟通) of an education corp: departments, students, parents
    /// (`crate::areas::school::model::School`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<crate::areas::school::model::School>,
}

impl Corp {
    /// An empty corp: just the root department, named after the corp.
    pub fn new(
        corpid: impl Into<String>,
        name: impl Into<String>,
        contact_secret: impl Into<Secret>,
    ) -> Self {
        let name = name.into();
        let mut departments = BTreeMap::new();
        departments.insert(1, Department::new(1, name.clone(), 0));
        Self {
            corpid: corpid.into(),
            name,
            contact_secret: contact_secret.into(),
            contact_callback: None,
            system_secrets: BTreeMap::new(),
            departments,
            members: BTreeMap::new(),
            tags: BTreeMap::new(),
            apps: BTreeMap::new(),
            robots: Vec::new(),
            school: None,
        }
    }

    /// Builds a corp from its file form, checking every rule as if each record were created
    /// through the API (departments parents first, then members, tags, apps).
    pub fn from_file(file: CorpFile) -> Result<Self, CorpError> {
        let mut corp = Corp::new(file.corpid, file.name, file.contact_secret);
        corp.contact_callback = file.contact_callback;
        for (name, secret) in file.system_secrets {
            let app = SystemApp::from_name(&name).ok_or_else(|| {
                CorpError::InvalidParameter(format!(
                    "unknown system app `{name}` in system_secrets: use one of {}",
                    SystemApp::ALL.map(SystemApp::name).join(", ")
                ))
            })?;
            corp.system_secrets.insert(app, secret);
        }
        let mut pending: Vec<Department> = Vec::new();
        for d in file.departments {
            if d.id == 1 {
                let root = corp
                    .departments
                    .entry(1)
                    .or_insert_with(|| Department::new(1, "", 0));
                departments::check_name(&d.name)?;
                root.name = d.name;
                root.name_en = d.name_en;
                root.order = d.order;
                root.department_leader = d.department_leader;
            } else {
                pending.push(d);
            }
        }
        // Parents first: repeatedly add what has a parent already.
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for d in pending {
                if corp.departments.contains_key(&d.parentid) {
                    let leaders = d.department_leader.clone();
                    let id = corp.create_department(
                        &d.name,
                        &d.name_en,
                        d.parentid,
                        d.order,
                        Some(d.id),
                    )?;
                    if let Some(dep) = corp.departments.get_mut(&id) {
                        dep.department_leader = leaders;
                    }
                } else {
                    rest.push(d);
                }
            }
            if rest.len() == before {
                let d = &rest[0];
                return Err(if rest.iter().any(|x| x.id == d.parentid) {
                    CorpError::DepartmentCycle {
                        id: d.id,
                        parent: d.parentid,
                    }
                } else {
                    CorpError::ParentNotFound(d.parentid)
                });
            }
            pending = rest;
        }
        // Members first, their direct leaders once everyone exists.
        let mut leaders = Vec::new();
        for mut m in file.members {
            if !m.direct_leader.is_empty() {
                leaders.push((m.userid.clone(), std::mem::take(&mut m.direct_leader)));
            }
            corp.insert_member_unchecked_contact(m)?;
        }
        for (userid, list) in leaders {
            corp.update_member(&userid, |m| m.direct_leader = list)?;
        }
        // Apps before tags (an app may have created a tag), their tag scope after the tags.
        let mut app_tags = Vec::new();
        for mut app in file.apps {
            app_tags.push((app.agentid, std::mem::take(&mut app.allow_tags)));
            corp.add_app(app)?;
        }
        for t in file.tags {
            let id = corp.create_tag(&t.tagname, Some(t.tagid), t.creator)?;
            let actor = t.creator.map(Actor::App).unwrap_or(Actor::Contact);
            if !t.users.is_empty() || !t.parties.is_empty() {
                let r = corp.add_tag_items(id, actor, &t.users, &t.parties)?;
                if let Some(u) = r.invalid_users.first() {
                    return Err(CorpError::MemberNotFound(u.clone()));
                }
                if let Some(p) = r.invalid_parties.first() {
                    return Err(CorpError::DepartmentNotFound(*p));
                }
            }
        }
        for (agentid, tags) in app_tags {
            corp.update_app(agentid, |a| a.allow_tags = tags)?;
        }
        corp.robots = file.robots;
        corp.set_school(file.school).map_err(|e| {
            CorpError::InvalidParameter(format!("[school]: {} ({})", e.errmsg, e.errcode))
        })?;
        Ok(corp)
    }

    /// The school directory, for an education corp.
    pub fn school(&self) -> Option<&crate::areas::school::model::School> {
        self.school.as_ref()
    }

    /// The school directory, to change it.
    pub fn school_mut(&mut self) -> Option<&mut crate::areas::school::model::School> {
        self.school.as_mut()
    }

    /// Makes the corp an education corp with this school directory (checked as the API would:
    /// department types, classes of students, children of parents, admins who are members), or
    /// an ordinary corp with `None`.
    pub fn set_school(
        &mut self,
        school: Option<crate::areas::school::model::School>,
    ) -> Result<(), crate::error::ApiError> {
        self.school = match school {
            None => None,
            Some(s) => {
                let s = s.checked(&self.name)?;
                for a in s.departments.iter().flat_map(|d| &d.admins) {
                    self.member(&a.userid)?;
                }
                Some(s)
            }
        };
        Ok(())
    }

    /// The file form of this corp.
    pub fn to_file(&self) -> CorpFile {
        CorpFile {
            corpid: self.corpid.clone(),
            name: self.name.clone(),
            contact_secret: self.contact_secret.clone(),
            contact_callback: self.contact_callback.clone(),
            system_secrets: self
                .system_secrets
                .iter()
                .map(|(a, s)| (a.name().to_owned(), s.clone()))
                .collect(),
            departments: self.departments.values().cloned().collect(),
            members: self.members.values().cloned().collect(),
            tags: self.tags.values().cloned().collect(),
            apps: self.apps.values().cloned().collect(),
            robots: self.robots.clone(),
            school: self.school.clone(),
        }
    }

    /// The file form with every secret masked (app secrets, the contact-sync secret, robot
    /// keys, callback Tokens and EncodingAESKeys): what `GET /sandbox/corp` shows. Use
    /// [`Corp::to_file`] (or `Admin::save_corp`) for a file that loads back.
    pub fn to_masked_file(&self) -> CorpFile {
        let mut f = self.to_file();
        mask(&mut f.contact_secret);
        for s in f.system_secrets.values_mut() {
            mask(s);
        }
        let callbacks = f
            .contact_callback
            .iter_mut()
            .chain(f.apps.iter_mut().filter_map(|a| a.callback.as_mut()));
        for c in callbacks {
            mask(&mut c.token);
            mask(&mut c.encoding_aes_key);
        }
        for a in &mut f.apps {
            mask(&mut a.secret);
        }
        for r in &mut f.robots {
            mask(&mut r.key);
        }
        f
    }

    /// Parses a corp from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, SandboxError> {
        let file: CorpFile = toml::from_str(text).map_err(|e| SandboxError::Parse {
            path: "<toml>".into(),
            message: e.to_string(),
        })?;
        Ok(Corp::from_file(file)?)
    }

    /// Parses a corp from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, SandboxError> {
        let file: CorpFile = serde_json::from_str(text).map_err(|e| SandboxError::Parse {
            path: "<json>".into(),
            message: e.to_string(),
        })?;
        Ok(Corp::from_file(file)?)
    }

    /// The corp as TOML.
    pub fn to_toml(&self) -> String {
        // The file form only has strings, numbers, lists and tables; serializing it cannot fail.
        toml::to_string_pretty(&self.to_file()).unwrap_or_default()
    }

    /// The corp as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_file()).unwrap_or_default()
    }

    /// Loads a corp from a `.json` file, or TOML for any other extension.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SandboxError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SandboxError::Io {
            path: path.into(),
            source,
        })?;
        let parsed = if is_json(path) {
            serde_json::from_str::<CorpFile>(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str::<CorpFile>(&text).map_err(|e| e.to_string())
        };
        let file = parsed.map_err(|message| SandboxError::Parse {
            path: path.into(),
            message,
        })?;
        Ok(Corp::from_file(file)?)
    }

    /// Saves the corp to a `.json` file, or TOML for any other extension.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), SandboxError> {
        let path = path.as_ref();
        let text = if is_json(path) {
            self.to_json()
        } else {
            self.to_toml()
        };
        std::fs::write(path, text).map_err(|source| SandboxError::Io {
            path: path.into(),
            source,
        })
    }

    /// The corpid.
    pub fn corpid(&self) -> &str {
        &self.corpid
    }

    /// The corp's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The contact-sync secret.
    pub fn contact_secret(&self) -> &Secret {
        &self.contact_secret
    }

    /// Replaces the contact-sync secret (tokens of the old one stay valid until they expire, as in WeCom).
    pub fn set_contact_secret(&mut self, secret: impl Into<Secret>) {
        self.contact_secret = secret.into();
    }

    /// Where the contact-sync assistant's change_contact callbacks go.
    pub fn contact_callback(&self) -> Option<&CallbackConfig> {
        self.contact_callback.as_ref()
    }

    /// Sets or clears the contact-sync assistant's callback.
    pub fn set_contact_callback(&mut self, callback: Option<CallbackConfig>) {
        self.contact_callback = callback;
    }

    /// The apps, by agentid.
    pub fn apps(&self) -> impl Iterator<Item = &App> {
        self.apps.values()
    }

    /// One app; 40056 when there is none with this agentid.
    pub fn app(&self, agentid: u32) -> Result<&App, CorpError> {
        self.apps
            .get(&agentid)
            .ok_or(CorpError::InvalidAgent(agentid))
    }

    /// Adds an app (or replaces the one with the same agentid). Its scope must name existing
    /// members, departments and tags.
    pub fn add_app(&mut self, app: App) -> Result<(), CorpError> {
        if app.name.is_empty() || app.name.chars().count() > 32 {
            return Err(CorpError::InvalidParameter(format!(
                "app name must be 1-32 characters: {:?}",
                app.name
            )));
        }
        if app.secret.is_empty() {
            return Err(CorpError::InvalidParameter(format!(
                "app {} needs a secret",
                app.agentid
            )));
        }
        for u in &app.allow_users {
            self.member(u)?;
        }
        for d in &app.allow_parties {
            self.department(*d)?;
        }
        for t in &app.allow_tags {
            if !self.tags.contains_key(t) {
                return Err(CorpError::InvalidTag(*t));
            }
        }
        self.apps.insert(app.agentid, app);
        Ok(())
    }

    /// Changes an app through `f` (name, description, scope, callback, menu ...).
    pub fn update_app(&mut self, agentid: u32, f: impl FnOnce(&mut App)) -> Result<(), CorpError> {
        let mut app = self.app(agentid)?.clone();
        f(&mut app);
        app.agentid = agentid;
        self.add_app(app)
    }

    /// The secret of a system app, when the corp has one.
    pub fn system_secret(&self, app: SystemApp) -> Option<&Secret> {
        self.system_secrets.get(&app)
    }

    /// Sets (or replaces) a system app's secret.
    pub fn set_system_secret(&mut self, app: SystemApp, secret: impl Into<Secret>) {
        self.system_secrets.insert(app, secret.into());
    }

    /// Every system app's secret.
    pub fn system_secrets(&self) -> impl Iterator<Item = (SystemApp, &Secret)> {
        self.system_secrets.iter().map(|(a, s)| (*a, s))
    }

    /// The system app whose secret this is.
    pub fn system_app_by_secret(&self, secret: &str) -> Option<SystemApp> {
        self.system_secrets
            .iter()
            .find(|(_, s)| s.expose() == secret)
            .map(|(a, _)| *a)
    }

    /// The app whose secret this is.
    pub fn app_by_secret(&self, secret: &str) -> Option<&App> {
        self.apps.values().find(|a| a.secret.expose() == secret)
    }

    /// The group robots.
    pub fn robots(&self) -> &[Robot] {
        &self.robots
    }

    /// Adds a group robot.
    pub fn add_robot(&mut self, robot: Robot) {
        self.robots.push(robot);
    }

    /// The robot with this webhook key.
    pub fn robot(&self, key: &str) -> Option<&Robot> {
        self.robots.iter().find(|r| r.key.expose() == key)
    }
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

impl Default for Corp {
    /// The demo corp.
    fn default() -> Self {
        Corp::demo()
    }
}
