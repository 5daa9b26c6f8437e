//! The records of the directory: departments, members, tags, apps, robots.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wecom_core_auth::Secret;

fn is_empty(s: &str) -> bool {
    s.is_empty()
}

fn one() -> u8 {
    1
}

fn is_one(v: &u8) -> bool {
    *v == 1
}

/// A department. The tree is rooted at id 1 (`parentid` 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    /// Id (1 is the root).
    pub id: u32,
    /// Name, 1-32 characters without `\:*?"<>|`, unique among its siblings.
    pub name: String,
    /// English name.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub name_en: String,
    /// Parent id (0 for the root).
    #[serde(default)]
    pub parentid: u32,
    /// Order among siblings (larger first, as WeCom sorts).
    #[serde(default)]
    pub order: u32,
    /// Userids of the department's leaders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub department_leader: Vec<String>,
}

impl Department {
    /// A department under `parentid`.
    pub fn new(id: u32, name: impl Into<String>, parentid: u32) -> Self {
        Self {
            id,
            name: name.into(),
            name_en: String::new(),
            parentid,
            order: 0,
            department_leader: Vec::new(),
        }
    }
}

/// A member of the corp.
///
/// Fields WeCom knows but the sandbox does not interpret (extattr, external_profile, ...) live in
/// `extra` and are kept as they were sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// 1-64 bytes of `[0-9A-Za-z_-@.]`, starting with a letter or digit; unique case-insensitively.
    pub userid: String,
    /// 1-64 characters.
    pub name: String,
    /// Alias.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub alias: String,
    /// Mobile number (unique).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub mobile: String,
    /// Email (unique, case-insensitively).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub email: String,
    /// Corp mailbox.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub biz_mail: String,
    /// Departments, 1 to 20.
    pub department: Vec<u32>,
    /// Order in each department (same length as `department`, or empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<u32>,
    /// 1 where the member leads the department (same length as `department`, or empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub is_leader_in_dept: Vec<u8>,
    /// Direct leaders' userids, up to 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_leader: Vec<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub position: String,
    /// `"1"` male, `"2"` female, `"0"` or empty unknown.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub gender: String,
    /// Landline.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub telephone: String,
    /// 1 enabled, 0 disabled.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub enable: u8,
    /// 1 active, 2 disabled, 4 not activated, 5 left.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub status: u8,
    /// Main department (one of `department`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_department: Option<u32>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub avatar: String,
    /// Address.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub address: String,
    /// The WeChat openid when the member is bound to WeChat (empty: `convert_to_openid` answers 43004).
    #[serde(default, skip_serializing_if = "is_empty")]
    pub openid: String,
    /// Every other field, kept as sent (extattr, external_profile, external_position, ...).
    #[serde(default, flatten)]
    pub extra: Map<String, Value>,
}

impl Member {
    /// A member in the given departments, enabled and active, with nothing else set.
    pub fn new(userid: impl Into<String>, name: impl Into<String>, department: Vec<u32>) -> Self {
        Self {
            userid: userid.into(),
            name: name.into(),
            alias: String::new(),
            mobile: String::new(),
            email: String::new(),
            biz_mail: String::new(),
            department,
            order: Vec::new(),
            is_leader_in_dept: Vec::new(),
            direct_leader: Vec::new(),
            position: String::new(),
            gender: String::new(),
            telephone: String::new(),
            enable: 1,
            status: 1,
            main_department: None,
            avatar: String::new(),
            address: String::new(),
            openid: String::new(),
            extra: Map::new(),
        }
    }

    /// Sets the mobile number.
    pub fn with_mobile(mut self, mobile: impl Into<String>) -> Self {
        self.mobile = mobile.into();
        self
    }

    /// Sets the email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// Sets the job title.
    pub fn with_position(mut self, position: impl Into<String>) -> Self {
        self.position = position.into();
        self
    }

    /// The main department: `main_department`, else the first department.
    pub fn main_department(&self) -> u32 {
        self.main_department
            .or_else(|| self.department.first().copied())
            .unwrap_or(1)
    }

    /// Whether messages can reach the member (enabled and not left).
    pub fn is_reachable(&self) -> bool {
        self.enable == 1 && self.status != 2 && self.status != 5
    }
}

/// A tag: a named set of members and departments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Id.
    pub tagid: u32,
    /// Name, 1-32 characters, unique.
    pub tagname: String,
    /// The app that created it; `None` for tags created with the contact-sync secret or by the admin.
    /// Only the creator may change the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<u32>,
    /// Member userids.
    #[serde(default)]
    pub users: Vec<String>,
    /// Department ids.
    #[serde(default)]
    pub parties: Vec<u32>,
}

/// Where an app's (or the contact-sync assistant's) callbacks go.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackConfig {
    /// The URL WeCom POSTs to.
    pub url: String,
    /// The Token used for signatures.
    pub token: Secret,
    /// The 43-character EncodingAESKey.
    pub encoding_aes_key: Secret,
}

impl std::fmt::Debug for CallbackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackConfig")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A self-built app (自建应用).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    /// The agentid.
    pub agentid: u32,
    /// Name, up to 32 characters.
    pub name: String,
    /// The app's secret (for gettoken).
    pub secret: Secret,
    /// Description.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub description: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub square_logo_url: String,
    /// Members in the visible scope.
    #[serde(default)]
    pub allow_users: Vec<String>,
    /// Departments in the visible scope (with their subtrees).
    #[serde(default)]
    pub allow_parties: Vec<u32>,
    /// Tags in the visible scope (their members and departments).
    #[serde(default)]
    pub allow_tags: Vec<u32>,
    /// 1 when the app is disabled.
    #[serde(default)]
    pub close: u8,
    /// Trusted domain for OAuth2 redirects.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub redirect_domain: String,
    /// Whether members' locations are reported (0 no, 1 on entering the app).
    #[serde(default)]
    pub report_location_flag: u8,
    /// Whether entering the app is reported (enter_agent events).
    #[serde(default)]
    pub isreportenter: u8,
    /// Home page URL.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub home_url: String,
    /// The callback configuration, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackConfig>,
    /// The menu as WeCom stores it (`{"button": [...]}`), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub menu: Option<Value>,
    /// Every other field, kept as sent.
    #[serde(default, flatten)]
    pub extra: Map<String, Value>,
}

impl App {
    /// An app with a secret and an empty visible scope.
    pub fn new(agentid: u32, name: impl Into<String>, secret: impl Into<Secret>) -> Self {
        Self {
            agentid,
            name: name.into(),
            secret: secret.into(),
            description: String::new(),
            square_logo_url: String::new(),
            allow_users: Vec::new(),
            allow_parties: Vec::new(),
            allow_tags: Vec::new(),
            close: 0,
            redirect_domain: String::new(),
            report_location_flag: 0,
            isreportenter: 0,
            home_url: String::new(),
            callback: None,
            menu: None,
            extra: Map::new(),
        }
    }
}

/// A group robot (webhook), addressed by its key.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Robot {
    /// The `key` of its webhook URL.
    pub key: Secret,
    /// The group chat's name.
    pub name: String,
}

impl std::fmt::Debug for Robot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Robot")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Who acts on the directory: decides the visible scope and tag ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Actor {
    /// The contact-sync secret (or the admin): the whole corp.
    Contact,
    /// An app, by agentid: its visible scope.
    App(u32),
}
