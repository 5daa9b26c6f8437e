//! What the sandbox keeps besides the directory: members' inboxes, group robot chats, media.

use std::collections::HashMap;

use bytes::Bytes;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use serde_json::Value;

/// How long a temporary media file lives (media/upload): 3 days.
pub const MEDIA_TTL_SECS: i64 = 3 * 24 * 3600;

/// The most messages kept per inbox (older ones are dropped first).
pub const INBOX_CAPACITY: usize = 10_000;

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
#[derive(Debug, Default)]
pub struct Inboxes {
    by_member: HashMap<String, Vec<DeliveredMessage>>,
    robots: Vec<RobotMessage>,
}

impl Inboxes {
    /// Stores a delivered message in its member's inbox (the newest [`INBOX_CAPACITY`] are kept,
    /// so a long load test does not grow memory without bound).
    pub fn deliver(&mut self, message: DeliveredMessage) {
        let inbox = self
            .by_member
            .entry(message.userid.to_ascii_lowercase())
            .or_default();
        if inbox.len() >= INBOX_CAPACITY {
            let excess = inbox.len() + 1 - INBOX_CAPACITY;
            inbox.drain(..excess);
        }
        inbox.push(message);
    }

    /// A member's inbox, oldest first.
    pub fn inbox(&self, userid: &str) -> Vec<DeliveredMessage> {
        self.by_member
            .get(&userid.to_ascii_lowercase())
            .cloned()
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
        self.by_member.values().map(Vec::len).sum()
    }

    /// Stores a robot message.
    pub fn post_robot(&mut self, message: RobotMessage) {
        self.robots.push(message);
    }

    /// Robot messages, oldest first.
    pub fn robot_messages(&self) -> &[RobotMessage] {
        &self.robots
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

/// Uploaded media by id.
#[derive(Debug, Default)]
pub struct MediaStore {
    items: HashMap<String, Media>,
}

impl MediaStore {
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
