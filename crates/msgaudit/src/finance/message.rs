//! Decrypted chat messages (`DecryptData`'s JSON), typed as the page 获取会话内容 (91774, section
//! 消息格式) documents them.
//!
//! The corpus holds that page only up to its table of contents; the formats below follow the page's
//! examples as SKIT.FlurlHttpClient.Wechat's tests quote them (cross-checked with go-wecom and
//! WxJava). The content sits under a key that is usually the `msgtype` (`text`, `image` ...), but
//! not always: `docmsg` under `doc`, `markdown` / `voiptext` / `qydiskfile` under `info`,
//! `external_redpacket` under `redpacket`; a 切换企业日志 entry has `action: "switch"` and no
//! `msgtype`. The page's types whose fields the corpus and the peers do not show (图文 `news`, 会议
//! 控制 notifications, 接龙, 笔记, 日程 beyond the calendar fields ...) and any type WeCom adds later
//! are [`ChatContent::Unknown`] with their JSON: reading a message never fails on its content.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::FinanceError;

/// What happened: `send`, `recall`, or `switch` (a member switched corp: 切换企业日志).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChatAction {
    /// `send`.
    Send,
    /// `recall`: the content is a [`ChatContent::Revoke`].
    Recall,
    /// `switch`: the content is a [`ChatContent::Switch`].
    Switch,
    /// Anything else, as it came.
    Other(String),
}

impl ChatAction {
    fn from_wire(s: &str) -> Self {
        match s {
            "send" => ChatAction::Send,
            "recall" => ChatAction::Recall,
            "switch" => ChatAction::Switch,
            other => ChatAction::Other(other.to_owned()),
        }
    }
}

/// One decrypted archived message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChatMessage {
    /// The message's id (a recall's `pre_msgid` names the recalled one).
    pub msgid: String,
    /// send / recall / switch.
    pub action: ChatAction,
    /// The sender: a userid, an external contact's id, or a robot's.
    pub from: Option<String>,
    /// The receivers.
    pub tolist: Vec<String>,
    /// The group, for a group message (absent or empty for a one-to-one chat).
    pub roomid: Option<String>,
    /// When it was sent, Unix milliseconds.
    pub msgtime: Option<i64>,
    /// The wire `msgtype` (absent for a switch).
    pub msgtype: Option<String>,
    /// The typed content.
    pub content: ChatContent,
    /// The whole message as it came.
    pub raw: Value,
}

impl ChatMessage {
    /// Reads `DecryptData`'s JSON text.
    pub fn from_json(text: &str) -> Result<Self, FinanceError> {
        let raw: Value = serde_json::from_str(text)
            .map_err(|e| FinanceError::Json(format!("a decrypted message: {e}")))?;
        Self::from_value(raw)
    }

    /// Reads a decrypted message already parsed as JSON. Fails only when it is not an object or
    /// has no `msgid`; an unknown or unexpected content is [`ChatContent::Unknown`].
    pub fn from_value(raw: Value) -> Result<Self, FinanceError> {
        let obj = raw
            .as_object()
            .ok_or_else(|| FinanceError::Json("a decrypted message is not a JSON object".into()))?;
        let msgid = obj
            .get("msgid")
            .and_then(Value::as_str)
            .ok_or_else(|| FinanceError::Json("a decrypted message has no msgid".into()))?
            .to_owned();
        let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
        let action = ChatAction::from_wire(obj.get("action").and_then(Value::as_str).unwrap_or(""));
        let msgtype = s("msgtype");
        let content = ChatContent::read(&action, msgtype.as_deref(), &raw);
        Ok(ChatMessage {
            msgid,
            action,
            from: s("from"),
            tolist: obj
                .get("tolist")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            roomid: s("roomid"),
            msgtime: obj.get("msgtime").and_then(Value::as_i64),
            msgtype,
            content,
            raw,
        })
    }

    /// Whether it was said in a group (a non-empty `roomid`).
    pub fn is_group(&self) -> bool {
        self.roomid.as_deref().is_some_and(|r| !r.is_empty())
    }
}

/// The content of a message, by `msgtype`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatContent {
    /// `text` (文本).
    Text(ChatText),
    /// `image` (图片).
    Image(ChatMedia),
    /// `revoke` (撤回消息).
    Revoke(ChatRevoke),
    /// `agree` (同意会话聊天内容).
    Agree(ChatAgree),
    /// `disagree` (不同意会话聊天内容).
    Disagree(ChatDisagree),
    /// `voice` (语音).
    Voice(ChatVoice),
    /// `video` (视频).
    Video(ChatVideo),
    /// `card` (名片).
    Card(ChatCard),
    /// `location` (位置).
    Location(ChatLocation),
    /// `emotion` (表情).
    Emotion(ChatEmotion),
    /// `file` (文件).
    File(ChatFile),
    /// `link` (链接).
    Link(ChatLink),
    /// `weapp` (小程序消息).
    Weapp(ChatWeapp),
    /// `chatrecord` (会话记录消息).
    ChatRecord(ChatRecord),
    /// `todo` (待办消息).
    Todo(ChatTodo),
    /// `vote` (投票消息).
    Vote(ChatVote),
    /// `collect` (填表消息).
    Collect(ChatCollect),
    /// `redpacket` (红包消息).
    RedPacket(ChatRedPacket),
    /// `meeting` (会议邀请消息).
    Meeting(ChatMeeting),
    /// `action: switch` (切换企业日志): a member switched corp.
    Switch(ChatSwitch),
    /// `docmsg` (在线文档消息), content under `doc`.
    Doc(ChatDoc),
    /// `markdown` (MarkDown格式消息), content under `info`.
    Markdown(ChatText),
    /// `calendar` (日程消息).
    Calendar(ChatCalendar),
    /// `mixed` (混合消息).
    Mixed(ChatMixed),
    /// `meeting_voice_call` (音频存档消息), with the message's `voiceid`.
    MeetingVoiceCall {
        /// The call's id (`voiceid`, beside the content).
        voiceid: Option<String>,
        /// The content.
        call: ChatMeetingVoiceCall,
    },
    /// `voip_doc_share` (音频共享文档消息), with the message's `voipid`.
    VoipDocShare {
        /// The call's id (`voipid`, beside the content).
        voipid: Option<String>,
        /// The shared file.
        file: ChatVoipDocShare,
    },
    /// `external_redpacket` (互通红包消息), content under `redpacket`.
    ExternalRedPacket(ChatRedPacket),
    /// `sphfeed` (视频号消息).
    SphFeed(ChatSphFeed),
    /// `voiptext` (音视频通话), content under `info`.
    VoipText(ChatVoipText),
    /// `qydiskfile` (微盘文件), content under `info`.
    QyDiskFile(ChatQyDiskFile),
    /// Any other `msgtype`, or a content that did not have the expected shape: the whole message.
    Unknown {
        /// The `msgtype` (empty when absent).
        msgtype: String,
        /// The whole message as it came.
        raw: Value,
    },
}

fn take<T: DeserializeOwned>(raw: &Value, key: &str) -> Option<T> {
    raw.get(key)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

impl ChatContent {
    fn read(action: &ChatAction, msgtype: Option<&str>, raw: &Value) -> ChatContent {
        let unknown = || ChatContent::Unknown {
            msgtype: msgtype.unwrap_or("").to_owned(),
            raw: raw.clone(),
        };
        if *action == ChatAction::Switch {
            return serde_json::from_value(raw.clone())
                .map(ChatContent::Switch)
                .unwrap_or_else(|_| unknown());
        }
        let id = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
        let parsed = match msgtype.unwrap_or("") {
            "text" => take(raw, "text").map(ChatContent::Text),
            "image" => take(raw, "image").map(ChatContent::Image),
            "revoke" => take(raw, "revoke").map(ChatContent::Revoke),
            "agree" => take(raw, "agree").map(ChatContent::Agree),
            "disagree" => take(raw, "disagree").map(ChatContent::Disagree),
            "voice" => take(raw, "voice").map(ChatContent::Voice),
            "video" => take(raw, "video").map(ChatContent::Video),
            "card" => take(raw, "card").map(ChatContent::Card),
            "location" => take(raw, "location").map(ChatContent::Location),
            "emotion" => take(raw, "emotion").map(ChatContent::Emotion),
            "file" => take(raw, "file").map(ChatContent::File),
            "link" => take(raw, "link").map(ChatContent::Link),
            "weapp" => take(raw, "weapp").map(ChatContent::Weapp),
            "chatrecord" => take(raw, "chatrecord").map(ChatContent::ChatRecord),
            "todo" => take(raw, "todo").map(ChatContent::Todo),
            "vote" => take(raw, "vote").map(ChatContent::Vote),
            "collect" => take(raw, "collect").map(ChatContent::Collect),
            "redpacket" => take(raw, "redpacket").map(ChatContent::RedPacket),
            "meeting" => take(raw, "meeting").map(ChatContent::Meeting),
            "docmsg" => take(raw, "doc").map(ChatContent::Doc),
            "markdown" => take(raw, "info").map(ChatContent::Markdown),
            "calendar" => take(raw, "calendar").map(ChatContent::Calendar),
            "mixed" => take(raw, "mixed").map(ChatContent::Mixed),
            "meeting_voice_call" => {
                take(raw, "meeting_voice_call").map(|call| ChatContent::MeetingVoiceCall {
                    voiceid: id("voiceid"),
                    call,
                })
            }
            "voip_doc_share" => take(raw, "voip_doc_share").map(|file| ChatContent::VoipDocShare {
                voipid: id("voipid"),
                file,
            }),
            "external_redpacket" => take(raw, "redpacket").map(ChatContent::ExternalRedPacket),
            "sphfeed" => take(raw, "sphfeed").map(ChatContent::SphFeed),
            "voiptext" => take(raw, "info").map(ChatContent::VoipText),
            "qydiskfile" => take(raw, "info").map(ChatContent::QyDiskFile),
            _ => None,
        };
        parsed.unwrap_or_else(unknown)
    }

    /// The `sdkfileid` of a content that carries a media file (image, voice, video, emotion, file,
    /// audio archive, shared document), for [`download_media`](super::download_media).
    pub fn sdkfileid(&self) -> Option<&str> {
        match self {
            ChatContent::Image(m) => m.sdkfileid.as_deref(),
            ChatContent::Voice(v) => v.sdkfileid.as_deref(),
            ChatContent::Video(v) => v.sdkfileid.as_deref(),
            ChatContent::Emotion(e) => e.sdkfileid.as_deref(),
            ChatContent::File(f) => f.sdkfileid.as_deref(),
            ChatContent::MeetingVoiceCall { call, .. } => call.sdkfileid.as_deref(),
            ChatContent::VoipDocShare { file, .. } => file.sdkfileid.as_deref(),
            _ => None,
        }
    }
}

macro_rules! content_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            $($(#[$fm])* #[serde(default)] pub $field: $ty,)*
        }
    };
}

content_struct!(
    /// Text: `text.content` (also a markdown message's `info.content`).
    ChatText { /// The text.
    content: String });
content_struct!(
    /// An image.
    ChatMedia {
        /// The file's MD5.
        md5sum: Option<String>,
        /// Its size in bytes.
        filesize: Option<u64>,
        /// Read it with `GetMediaData`.
        sdkfileid: Option<String>,
    }
);
content_struct!(
    /// A recall.
    ChatRevoke { /// The recalled message's msgid.
    pre_msgid: Option<String> });
content_struct!(
    /// An external contact agreed to the archiving.
    ChatAgree {
        /// Who agreed (an external contact's id).
        userid: Option<String>,
        /// When, Unix milliseconds.
        agree_time: Option<i64>,
    }
);
content_struct!(
    /// An external contact refused the archiving.
    ChatDisagree {
        /// Who refused.
        userid: Option<String>,
        /// When, Unix milliseconds.
        disagree_time: Option<i64>,
    }
);
content_struct!(
    /// A voice message.
    ChatVoice {
        /// The file's MD5.
        md5sum: Option<String>,
        /// Its size in bytes.
        voice_size: Option<u64>,
        /// Its length in seconds.
        play_length: Option<u32>,
        /// Read it with `GetMediaData`.
        sdkfileid: Option<String>,
    }
);
content_struct!(
    /// A video.
    ChatVideo {
        /// The file's MD5.
        md5sum: Option<String>,
        /// Its size in bytes.
        filesize: Option<u64>,
        /// Its length in seconds.
        play_length: Option<u32>,
        /// Read it with `GetMediaData`.
        sdkfileid: Option<String>,
    }
);
content_struct!(
    /// A contact card.
    ChatCard {
        /// The card owner's corp.
        corpname: Option<String>,
        /// The card owner's id.
        userid: Option<String>,
    }
);
content_struct!(
    /// A location.
    ChatLocation {
        /// Longitude.
        longitude: Option<f64>,
        /// Latitude.
        latitude: Option<f64>,
        /// Address.
        address: Option<String>,
        /// Title.
        title: Option<String>,
        /// Zoom.
        zoom: Option<u32>,
    }
);
content_struct!(
    /// An emotion (sticker).
    ChatEmotion {
        /// 1 gif, 2 png.
        #[serde(rename = "type")]
        emotion_type: Option<u32>,
        /// Width in pixels.
        width: Option<u32>,
        /// Height in pixels.
        height: Option<u32>,
        /// Size in bytes.
        imagesize: Option<u64>,
        /// The file's MD5.
        md5sum: Option<String>,
        /// Read it with `GetMediaData`.
        sdkfileid: Option<String>,
    }
);
content_struct!(
    /// A file.
    ChatFile {
        /// The file's MD5.
        md5sum: Option<String>,
        /// Its name.
        filename: Option<String>,
        /// Its extension.
        fileext: Option<String>,
        /// Its size in bytes.
        filesize: Option<u64>,
        /// Read it with `GetMediaData`.
        sdkfileid: Option<String>,
    }
);
content_struct!(
    /// A link.
    ChatLink {
        /// Title.
        title: Option<String>,
        /// Description.
        description: Option<String>,
        /// The URL.
        link_url: Option<String>,
        /// The picture's URL.
        image_url: Option<String>,
    }
);
content_struct!(
    /// A mini program.
    ChatWeapp {
        /// Title.
        title: Option<String>,
        /// Description.
        description: Option<String>,
        /// The mini program's username.
        username: Option<String>,
        /// Its display name.
        displayname: Option<String>,
    }
);
content_struct!(
    /// A forwarded chat record.
    ChatRecord {
        /// Title.
        title: Option<String>,
        /// The forwarded messages.
        item: Vec<ChatRecordItem>,
    }
);
content_struct!(
    /// One message of a chat record: its `content` is JSON text in the shape of its type.
    ChatRecordItem {
        /// The item's type (`ChatRecordText`, `ChatRecordImage` ...).
        #[serde(rename = "type")]
        item_type: Option<String>,
        /// When, Unix seconds.
        msgtime: Option<i64>,
        /// The content, JSON text.
        content: Option<String>,
        /// Whether it came from a group.
        from_chatroom: Option<bool>,
    }
);
content_struct!(
    /// A to-do.
    ChatTodo {
        /// Title.
        title: Option<String>,
        /// Content.
        content: Option<String>,
    }
);
content_struct!(
    /// A vote.
    ChatVote {
        /// The vote's subject.
        votetitle: Option<String>,
        /// The options.
        voteitem: Vec<String>,
        /// 101 started, 102 taking part.
        votetype: Option<u32>,
        /// The vote's id.
        voteid: Option<String>,
    }
);
content_struct!(
    /// A form (填表).
    ChatCollect {
        /// The group's name.
        room_name: Option<String>,
        /// The creator.
        creator: Option<String>,
        /// When it was created, as text.
        create_time: Option<String>,
        /// Title.
        title: Option<String>,
        /// The questions.
        details: Vec<ChatCollectDetail>,
    }
);
content_struct!(
    /// A question of a form.
    ChatCollectDetail {
        /// Its id.
        id: Option<i64>,
        /// The question.
        ques: Option<String>,
        /// Its type (Text, Number, Date, Time).
        #[serde(rename = "type")]
        detail_type: Option<String>,
    }
);
content_struct!(
    /// A red packet.
    ChatRedPacket {
        /// Its type.
        #[serde(rename = "type")]
        packet_type: Option<u32>,
        /// The wish.
        wish: Option<String>,
        /// How many packets.
        totalcnt: Option<u32>,
        /// Total amount, in fen.
        totalamount: Option<u64>,
    }
);
content_struct!(
    /// A meeting invitation.
    ChatMeeting {
        /// Topic.
        topic: Option<String>,
        /// Start, Unix seconds.
        starttime: Option<i64>,
        /// End, Unix seconds.
        endtime: Option<i64>,
        /// Address.
        address: Option<String>,
        /// Remarks.
        remarks: Option<String>,
        /// 101 invited, 102 handled.
        meetingtype: Option<u32>,
        /// The meeting's id.
        meetingid: Option<u64>,
        /// The answer: 1 taking part, 2 refused, 3 undecided ...
        status: Option<u32>,
    }
);
content_struct!(
    /// A corp switch (切换企业日志).
    ChatSwitch {
        /// When, Unix milliseconds.
        time: Option<i64>,
        /// The member.
        user: Option<String>,
    }
);
content_struct!(
    /// An online document.
    ChatDoc {
        /// Title.
        title: Option<String>,
        /// The creator's userid.
        doc_creator: Option<String>,
        /// The document's URL.
        link_url: Option<String>,
    }
);
content_struct!(
    /// A calendar event.
    ChatCalendar {
        /// Title.
        title: Option<String>,
        /// The creator's name.
        creatorname: Option<String>,
        /// The attendees' names.
        attendeename: Vec<String>,
        /// Start, Unix seconds.
        starttime: Option<i64>,
        /// End, Unix seconds.
        endtime: Option<i64>,
        /// Place.
        place: Option<String>,
        /// Remarks.
        remarks: Option<String>,
    }
);
content_struct!(
    /// A mixed message: several parts, each `content` JSON text in the shape of its `type`.
    ChatMixed {
        /// The parts.
        item: Vec<ChatMixedItem>,
    }
);
content_struct!(
    /// One part of a mixed message.
    ChatMixedItem {
        /// The part's msgtype (`text`, `image` ...).
        #[serde(rename = "type")]
        item_type: Option<String>,
        /// The content, JSON text.
        content: Option<String>,
    }
);
content_struct!(
    /// An audio archive (音频存档).
    ChatMeetingVoiceCall {
        /// End, Unix seconds.
        endtime: Option<i64>,
        /// The recording; read it with `GetMediaData`.
        sdkfileid: Option<String>,
        /// Files presented during the call.
        demofiledata: Vec<ChatDemoFile>,
        /// Screen shares during the call.
        sharescreendata: Vec<ChatShareScreen>,
    }
);
content_struct!(
    /// A file presented during a call.
    ChatDemoFile {
        /// The file's name.
        filename: Option<String>,
        /// Who presented it.
        demooperator: Option<String>,
        /// Start, Unix seconds.
        starttime: Option<i64>,
        /// End, Unix seconds.
        endtime: Option<i64>,
    }
);
content_struct!(
    /// A screen share during a call.
    ChatShareScreen {
        /// Who shared.
        share: Option<String>,
        /// Start, Unix seconds.
        starttime: Option<i64>,
        /// End, Unix seconds.
        endtime: Option<i64>,
    }
);
content_struct!(
    /// A document shared during a call.
    ChatVoipDocShare {
        /// The file's name.
        filename: Option<String>,
        /// The file's MD5.
        md5sum: Option<String>,
        /// Its size in bytes.
        filesize: Option<u64>,
        /// Read it with `GetMediaData`.
        sdkfileid: Option<String>,
    }
);
content_struct!(
    /// A 视频号 (channels) post.
    ChatSphFeed {
        /// The post's type.
        feed_type: Option<u32>,
        /// The channel's name.
        sph_name: Option<String>,
        /// The post's description.
        feed_desc: Option<String>,
    }
);
content_struct!(
    /// An audio or video call (音视频通话).
    ChatVoipText {
        /// Its length in seconds.
        callduration: Option<u32>,
        /// The call's kind.
        invitetype: Option<u32>,
    }
);
content_struct!(
    /// A 微盘 file.
    ChatQyDiskFile {
        /// The file's name.
        filename: Option<String>,
    }
);

impl ChatRecordItem {
    /// The item's `content` read as JSON.
    pub fn content_json(&self) -> Option<Value> {
        self.content
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
    }
}

impl ChatMixedItem {
    /// The part's `content` read as JSON.
    pub fn content_json(&self) -> Option<Value> {
        self.content
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
    }
}
