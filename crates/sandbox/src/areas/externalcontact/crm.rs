//! What the sandbox keeps for part 1 of customer contact besides the customer book: the corp tag
//! library, 联系我 contact ways, welcome codes (20 s, once), the welcome messages sent, and
//! customer groups. Kept as area state in [`State::extension`](crate::state::State::extension).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use rand::Rng;
use wecom_externalcontact::generated::externalcontact::{ContactWay, GroupChat};

use crate::state::{State, lock};

/// How long a welcome code may be used after its event (doc 92599: 20 秒内调用, 只可调用一次).
pub const WELCOME_CODE_SECS: i64 = 20;
/// The most corp tags (doc 92117 "每个企业最多可配置3000个企业标签"; errcode 40126).
pub const MAX_CORP_TAGS: usize = 3_000;
/// The most contact ways created through the API (doc 92228: "最多配置50万个「联系我」"; 41045).
pub const MAX_CONTACT_WAYS: usize = 500_000;
/// Welcome messages kept for inspection (the newest).
pub const KEPT_WELCOMES: usize = 1_000;
/// Unused welcome codes kept (the oldest are dropped; they expire after 20 s anyway).
pub const KEPT_WELCOME_CODES: usize = 10_000;

/// A corp tag.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredTag {
    /// Id (`et...`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Order.
    pub order: u32,
    /// Created (Unix seconds).
    pub create_time: i64,
    /// The app that created it (`None`: the admin console or the 客户联系 secret).
    pub creator: Option<u32>,
}

/// A corp tag group.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredGroup {
    /// Id (`et...`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Order.
    pub order: u32,
    /// Created (Unix seconds).
    pub create_time: i64,
    /// The app that created it.
    pub creator: Option<u32>,
    /// Its tags.
    pub tags: Vec<StoredTag>,
}

/// A contact way with what the sandbox needs besides its answer.
#[derive(Debug, Clone)]
pub struct StoredWay {
    /// The contact way as contact_way_get answers it.
    pub way: ContactWay,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Next member to hand a scanning customer to (type 2: round robin).
    pub next: usize,
}

/// A welcome code handed out with an add_external_contact event.
#[derive(Debug, Clone, PartialEq)]
pub struct WelcomeCode {
    /// The member.
    pub userid: String,
    /// The customer.
    pub external_userid: String,
    /// When the event was pushed (sandbox clock, Unix seconds).
    pub created_at: i64,
    /// Whether the welcome message was sent with it.
    pub used: bool,
}

/// A welcome message sent through send_welcome_msg.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WelcomeSent {
    /// The member who sent it.
    pub userid: String,
    /// The customer who got it.
    pub external_userid: String,
    /// The text (empty when none).
    pub text: String,
    /// How many attachments came with it.
    pub attachments: usize,
    /// When (sandbox clock, Unix seconds).
    pub at: i64,
}

/// The part-1 state.
#[derive(Debug, Default)]
pub struct Crm {
    inner: Mutex<Inner>,
}

/// The state, locked.
#[derive(Debug, Default)]
pub struct Inner {
    /// Tag groups in creation order.
    pub groups: Vec<StoredGroup>,
    /// Contact ways by config_id.
    pub ways: BTreeMap<String, StoredWay>,
    /// Welcome codes by code, with their insertion order for bounding.
    pub welcome_codes: HashMap<String, WelcomeCode>,
    welcome_order: VecDeque<String>,
    /// Welcome messages sent, newest last.
    pub welcomes: VecDeque<WelcomeSent>,
    /// Customer groups by chat_id.
    pub chats: BTreeMap<String, GroupChat>,
    next_id: u64,
}

impl Crm {
    /// The part-1 state of this sandbox.
    pub fn of(state: &State) -> std::sync::Arc<Crm> {
        state.extension::<Crm>()
    }

    /// Runs `f` on the state, locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut lock(&self.inner))
    }
}

impl Inner {
    /// A new id with `prefix` (`et` tags, `wm` customers, `wr` groups ...): the prefix, a
    /// counter and random hex, 32 characters like WeCom's.
    pub fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        let r: u64 = rand::rng().random();
        let s = format!("{prefix}{:08x}{:016x}", self.next_id, r);
        s.chars().take(32).collect()
    }

    /// How many corp tags there are.
    pub fn tag_count(&self) -> usize {
        self.groups.iter().map(|g| g.tags.len()).sum()
    }

    /// The group and index of a tag.
    pub fn find_tag(&self, tag_id: &str) -> Option<(usize, usize)> {
        self.groups.iter().enumerate().find_map(|(gi, g)| {
            g.tags
                .iter()
                .position(|t| t.id == tag_id)
                .map(|ti| (gi, ti))
        })
    }

    /// The (group name, tag name) of a tag.
    pub fn tag_names(&self, tag_id: &str) -> Option<(String, String)> {
        self.find_tag(tag_id).map(|(gi, ti)| {
            let g = &self.groups[gi];
            (g.name.clone(), g.tags[ti].name.clone())
        })
    }

    /// Hands out a welcome code for a new relation.
    pub fn mint_welcome_code(&mut self, userid: &str, external_userid: &str, now: i64) -> String {
        let code = self.new_id("wc");
        while self.welcome_order.len() >= KEPT_WELCOME_CODES {
            if let Some(old) = self.welcome_order.pop_front() {
                self.welcome_codes.remove(&old);
            }
        }
        self.welcome_order.push_back(code.clone());
        self.welcome_codes.insert(
            code.clone(),
            WelcomeCode {
                userid: userid.to_owned(),
                external_userid: external_userid.to_owned(),
                created_at: now,
                used: false,
            },
        );
        code
    }

    /// Keeps a sent welcome message (the newest [`KEPT_WELCOMES`]).
    pub fn keep_welcome(&mut self, sent: WelcomeSent) {
        while self.welcomes.len() >= KEPT_WELCOMES {
            self.welcomes.pop_front();
        }
        self.welcomes.push_back(sent);
    }
}
