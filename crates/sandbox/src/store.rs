//! What the sandbox keeps besides the directory: members' inboxes, group robot chats, media.
//!
//! Everything kept is bounded so a long run (a soak, a demo left open for days) does not grow
//! memory without limit: [`StoreLimits`] caps each store and the oldest entries are evicted
//! first. Set them with [`SandboxBuilder::store_limits`](crate::SandboxBuilder::store_limits).

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use serde_json::Value;

/// How long a temporary media file lives (media/upload): 3 days.
pub const MEDIA_TTL_SECS: i64 = 3 * 24 * 3600;

/// The most messages kept per inbox by default (older ones are dropped first).
pub const INBOX_CAPACITY: usize = 10_000;

/// How much the sandbox keeps before it evicts the oldest entries. Every cap is at least 1.
///
/// ```
/// use wecom_sandbox::{Sandbox, StoreLimits};
/// # async fn demo() -> Result<(), wecom_sandbox::SandboxError> {
/// let sandbox = Sandbox::builder()
///     .store_limits(StoreLimits { media_files: 100, ..StoreLimits::default() })
///     .start()
///     .await?;
/// # let _ = sandbox; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StoreLimits {
    /// Messages kept per member's inbox (default 10,000).
    pub inbox_messages: usize,
    /// Group robot messages kept, all robots together (default 10,000).
    pub robot_messages: usize,
    /// Uploaded media files kept (default 1,000); the oldest upload goes first.
    pub media_files: usize,
    /// Total bytes of uploaded media kept (default 512 MiB); the oldest uploads go first (the
    /// newest is always kept, even when it alone is larger).
    pub media_bytes: u64,
    /// Entries of the callback log (default 10,000).
    pub callback_log: usize,
    /// `message/send` answers remembered for `enable_duplicate_check` (default 100,000); past it
    /// the oldest are forgotten before their window ends.
    pub duplicate_checks: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            inbox_messages: INBOX_CAPACITY,
            robot_messages: 10_000,
            media_files: 1_000,
            media_bytes: 512 * 1024 * 1024,
            callback_log: 10_000,
            duplicate_checks: 100_000,
        }
    }
}

/// A message delivered to a member, as the member's client received it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveredMessage {
    /// The `msgid` message/send answered.
    pub msgid: String,
    /// The sending app.
    pub agentid: u32,
    /// The member (canonical userid).
    pub userid: String,
    /// `text`, `markdown`, `textcard`, `news`, `template_card`, `image` ...
    pub msgtype: String,
    /// The message as sent (the request body without recipients), JSON.
    pub message: Value,
    /// Sandbox time of delivery, Unix seconds.
    pub at: i64,
    /// Whether message/recall withdrew it.
    pub recalled: bool,
}

/// A message posted by a group robot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RobotMessage {
    /// The robot's chat name.
    pub chat: String,
    /// The message as sent.
    pub message: Value,
    /// Sandbox time, Unix seconds.
    pub at: i64,
}

/// Inboxes by member, and robot chats.
#[derive(Debug)]
pub struct Inboxes {
    by_member: HashMap<String, VecDeque<DeliveredMessage>>,
    robots: VecDeque<RobotMessage>,
    inbox_capacity: usize,
    robot_capacity: usize,
}

impl Default for Inboxes {
    fn default() -> Self {
        Self::with_limits(&StoreLimits::default())
    }
}

impl Inboxes {
    /// Empty inboxes keeping at most `limits.inbox_messages` per member and
    /// `limits.robot_messages` robot messages.
    pub fn with_limits(limits: &StoreLimits) -> Self {
        Self {
            by_member: HashMap::new(),
            robots: VecDeque::new(),
            inbox_capacity: limits.inbox_messages.max(1),
            robot_capacity: limits.robot_messages.max(1),
        }
    }

    /// Stores a delivered message in its member's inbox (the newest
    /// [`StoreLimits::inbox_messages`] are kept, so a long load test does not grow memory
    /// without bound).
    pub fn deliver(&mut self, message: DeliveredMessage) {
        let inbox = self
            .by_member
            .entry(message.userid.to_ascii_lowercase())
            .or_default();
        while inbox.len() >= self.inbox_capacity {
            inbox.pop_front();
        }
        inbox.push_back(message);
    }

    /// A member's inbox, oldest first.
    pub fn inbox(&self, userid: &str) -> Vec<DeliveredMessage> {
        self.by_member
            .get(&userid.to_ascii_lowercase())
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every delivery of one msgid.
    pub fn by_msgid(&self, msgid: &str) -> Vec<DeliveredMessage> {
        self.by_member
            .values()
            .flatten()
            .filter(|m| m.msgid == msgid)
            .cloned()
            .collect()
    }

    /// Marks every delivery of `msgid` recalled; returns how many there were.
    pub fn recall(&mut self, msgid: &str) -> usize {
        let mut n = 0;
        for m in self.by_member.values_mut().flatten() {
            if m.msgid == msgid {
                m.recalled = true;
                n += 1;
            }
        }
        n
    }

    /// Total messages delivered.
    pub fn total(&self) -> usize {
        self.by_member.values().map(VecDeque::len).sum()
    }

    /// Stores a robot message (the newest [`StoreLimits::robot_messages`] are kept).
    pub fn post_robot(&mut self, message: RobotMessage) {
        while self.robots.len() >= self.robot_capacity {
            self.robots.pop_front();
        }
        self.robots.push_back(message);
    }

    /// Robot messages, oldest first.
    pub fn robot_messages(&self) -> Vec<RobotMessage> {
        self.robots.iter().cloned().collect()
    }

    /// Empties every inbox.
    pub fn clear(&mut self) {
        self.by_member.clear();
        self.robots.clear();
    }
}

/// An uploaded file.
#[derive(Clone, PartialEq, Serialize)]
pub struct Media {
    /// The id media/upload answered.
    pub media_id: String,
    /// `image`, `voice`, `video`, `file` (or `uploadimg` for permanent images).
    pub kind: String,
    /// The bytes.
    #[serde(skip)]
    pub bytes: Bytes,
    /// The content type the client sent.
    pub content_type: String,
    /// The file name the client sent.
    pub filename: String,
    /// Sandbox time of upload, Unix seconds.
    pub created_at: i64,
    /// Whether it never expires (media/uploadimg).
    pub permanent: bool,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("media_id", &self.media_id)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .finish()
    }
}

/// Uploaded media by id, the oldest evicted first past [`StoreLimits::media_files`] or
/// [`StoreLimits::media_bytes`].
#[derive(Debug)]
pub struct MediaStore {
    items: HashMap<String, Media>,
    /// media_ids, oldest upload first.
    order: VecDeque<String>,
    bytes: u64,
    max_files: usize,
    max_bytes: u64,
}

impl Default for MediaStore {
    fn default() -> Self {
        Self::with_limits(&StoreLimits::default())
    }
}

impl MediaStore {
    /// An empty store with these caps.
    pub fn with_limits(limits: &StoreLimits) -> Self {
        Self {
            items: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_files: limits.media_files.max(1),
            max_bytes: limits.media_bytes.max(1),
        }
    }

    /// Files kept and their total size in bytes.
    pub fn usage(&self) -> (usize, u64) {
        (self.items.len(), self.bytes)
    }

    /// Stores bytes and returns the new media_id (WeCom's ids are long opaque strings).
    pub fn store(
        &mut self,
        kind: &str,
        bytes: Bytes,
        content_type: &str,
        filename: &str,
        now_secs: i64,
        permanent: bool,
    ) -> String {
        let suffix: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        let media_id = format!("3{suffix}");
        let size = bytes.len() as u64;
        while !self.order.is_empty()
            && (self.items.len() >= self.max_files
                || self.bytes.saturating_add(size) > self.max_bytes)
        {
            if let Some(old) = self.order.pop_front()
                && let Some(m) = self.items.remove(&old)
            {
                self.bytes = self.bytes.saturating_sub(m.bytes.len() as u64);
            }
        }
        self.bytes = self.bytes.saturating_add(size);
        self.order.push_back(media_id.clone());
        self.items.insert(
            media_id.clone(),
            Media {
                media_id: media_id.clone(),
                kind: kind.to_owned(),
                bytes,
                content_type: content_type.to_owned(),
                filename: filename.to_owned(),
                created_at: now_secs,
                permanent,
            },
        );
        media_id
    }

    /// A stored file that has not expired (temporary media live 3 days).
    pub fn get(&self, media_id: &str, now_secs: i64) -> Option<&Media> {
        self.items
            .get(media_id)
            .filter(|m| m.permanent || now_secs - m.created_at < MEDIA_TTL_SECS)
    }

    /// Every stored file (expired ones too), newest first.
    pub fn list(&self) -> Vec<&Media> {
        let mut v: Vec<&Media> = self.items.values().collect();
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(a.media_id.cmp(&b.media_id))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(i: usize) -> DeliveredMessage {
        DeliveredMessage {
            msgid: i.to_string(),
            agentid: 1,
            userid: "U".into(),
            msgtype: "text".into(),
            message: Value::Null,
            at: 0,
            recalled: false,
        }
    }

    #[test]
    fn robots_and_media_keep_the_newest() {
        let limits = StoreLimits {
            robot_messages: 2,
            media_files: 3,
            media_bytes: 10,
            ..StoreLimits::default()
        };
        let mut inboxes = Inboxes::with_limits(&limits);
        for i in 0..5 {
            inboxes.post_robot(RobotMessage {
                chat: i.to_string(),
                message: Value::Null,
                at: i,
            });
        }
        let chats: Vec<String> = inboxes
            .robot_messages()
            .into_iter()
            .map(|m| m.chat)
            .collect();
        assert_eq!(chats, ["3", "4"]);

        let mut media = MediaStore::with_limits(&limits);
        let ids: Vec<String> = (0..5)
            .map(|i| media.store("file", Bytes::from_static(b"ab"), "x", "f", i, false))
            .collect();
        assert_eq!(media.usage(), (3, 6), "the file cap");
        assert!(media.get(&ids[1], 0).is_none());
        assert!(media.get(&ids[2], 0).is_some());
        let big = media.store(
            "file",
            Bytes::from_static(b"0123456789"),
            "x",
            "f",
            9,
            false,
        );
        assert_eq!(
            media.usage(),
            (1, 10),
            "the byte cap evicts every older file"
        );
        assert!(media.get(&big, 9).is_some());
    }

    #[test]
    fn inbox_keeps_the_newest() {
        let mut inboxes = Inboxes::default();
        for i in 0..INBOX_CAPACITY + 5 {
            inboxes.deliver(msg(i));
        }
        let inbox = inboxes.inbox("u");
        assert_eq!(inbox.len(), INBOX_CAPACITY);
        assert_eq!(inbox[0].msgid, "5");
        assert_eq!(inboxes.recall("7"), 1);
        assert!(inboxes.by_msgid("7")[0].recalled);
    }
}
