//! Passive replies: a message sent back in the HTTP response to a callback.
//!
//! A reply is rendered to WeCom's XML with [`Reply::to_xml`], then encrypted and signed with
//! [`CallbackCrypto::seal_reply`](crate::CallbackCrypto::seal_reply);
//! [`Reply::seal`] does both for the callback being answered.
//!
//! ```
//! use wecom_callback::{CallbackCrypto, Inbound, Reply};
//! let crypto = CallbackCrypto::new("T", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ww1")?;
//! let inbound = Inbound::parse(
//!     "<xml><ToUserName>ww1</ToUserName><FromUserName>zhangsan</FromUserName><CreateTime>1</CreateTime>\
//!      <MsgType>text</MsgType><Content>hi</Content><MsgId>7</MsgId><AgentID>2</AgentID></xml>")?;
//! let body = Reply::text("hello").seal(&crypto, &inbound, "1700000000", "nonce1");
//! assert!(body.contains("<MsgSignature>"));
//! # Ok::<(), wecom_callback::CallbackError>(())
//! ```

use crate::crypto::CallbackCrypto;
use crate::event::Inbound;
use crate::xml::{close_tag, open_tag, push_cdata, push_num};

/// One article of a news reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Article {
    /// `Title`
    pub title: String,
    /// `Description`
    pub description: String,
    /// `PicUrl`: image shown (JPG/PNG)
    pub pic_url: String,
    /// `Url`: opened on tap
    pub url: String,
}

/// A passive reply, by `MsgType`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// `text`
    Text {
        /// `Content`
        content: String,
    },
    /// `image`
    Image {
        /// `Image/MediaId`
        media_id: String,
    },
    /// `voice`
    Voice {
        /// `Voice/MediaId`
        media_id: String,
    },
    /// `video`
    Video {
        /// `Video/MediaId`
        media_id: String,
        /// `Video/Title`
        title: String,
        /// `Video/Description`
        description: String,
    },
    /// `news`: up to 8 articles (WeCom shows the first 8).
    News {
        /// `Articles/item`
        articles: Vec<Article>,
    },
    /// `update_button`: answers a `template_card_event` by renaming the card's button.
    UpdateButton {
        /// `Button/ReplaceName`: the button's new text
        replace_name: String,
    },
}

impl Reply {
    /// A text reply.
    pub fn text(content: impl Into<String>) -> Self {
        Reply::Text {
            content: content.into(),
        }
    }

    /// The `MsgType` value.
    pub fn msg_type(&self) -> &'static str {
        match self {
            Reply::Text { .. } => "text",
            Reply::Image { .. } => "image",
            Reply::Voice { .. } => "voice",
            Reply::Video { .. } => "video",
            Reply::News { .. } => "news",
            Reply::UpdateButton { .. } => "update_button",
        }
    }

    /// The plaintext reply XML: `to_user_name` is the member (the callback's `FromUserName`),
    /// `from_user_name` the corpid (the callback's `ToUserName`).
    pub fn to_xml(&self, to_user_name: &str, from_user_name: &str, create_time: i64) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<xml>");
        push_cdata(&mut out, "ToUserName", to_user_name);
        push_cdata(&mut out, "FromUserName", from_user_name);
        push_num(&mut out, "CreateTime", create_time);
        push_cdata(&mut out, "MsgType", self.msg_type());
        match self {
            Reply::Text { content } => push_cdata(&mut out, "Content", content),
            Reply::Image { media_id } => {
                open_tag(&mut out, "Image");
                push_cdata(&mut out, "MediaId", media_id);
                close_tag(&mut out, "Image");
            }
            Reply::Voice { media_id } => {
                open_tag(&mut out, "Voice");
                push_cdata(&mut out, "MediaId", media_id);
                close_tag(&mut out, "Voice");
            }
            Reply::Video {
                media_id,
                title,
                description,
            } => {
                open_tag(&mut out, "Video");
                push_cdata(&mut out, "MediaId", media_id);
                push_cdata(&mut out, "Title", title);
                push_cdata(&mut out, "Description", description);
                close_tag(&mut out, "Video");
            }
            Reply::News { articles } => {
                push_num(&mut out, "ArticleCount", articles.len());
                open_tag(&mut out, "Articles");
                for article in articles {
                    open_tag(&mut out, "item");
                    push_cdata(&mut out, "Title", &article.title);
                    push_cdata(&mut out, "Description", &article.description);
                    push_cdata(&mut out, "PicUrl", &article.pic_url);
                    push_cdata(&mut out, "Url", &article.url);
                    close_tag(&mut out, "item");
                }
                close_tag(&mut out, "Articles");
            }
            Reply::UpdateButton { replace_name } => {
                open_tag(&mut out, "Button");
                push_cdata(&mut out, "ReplaceName", replace_name);
                close_tag(&mut out, "Button");
            }
        }
        out.push_str("</xml>");
        out
    }

    /// The plaintext JSON of this reply, for a callback that came in WeCom's JSON format (the
    /// intelligent robot's callbacks, path/101031 "被动回复消息"), or `None` when that page
    /// defines no JSON form for this reply.
    ///
    /// Only [`Reply::Text`] has one: `{"msgtype":"text","text":{"content":..}}`. The page
    /// lists JSON replies for text, stream and template cards only; it has no JSON image, voice,
    /// video, news or update_button reply, so none is invented here. The page also says a text
    /// reply is accepted only for the "enter chat" event; it says nothing of what WeCom does with
    /// one sent to another callback, so this crate does not enforce it.
    ///
    /// ```
    /// use wecom_callback::Reply;
    /// assert_eq!(
    ///     Reply::text("hi").to_json().as_deref(),
    ///     Some(r#"{"msgtype":"text","text":{"content":"hi"}}"#)
    /// );
    /// ```
    pub fn to_json(&self) -> Option<String> {
        match self {
            Reply::Text { content } => Some(
                serde_json::json!({ "msgtype": "text", "text": { "content": content } })
                    .to_string(),
            ),
            Reply::Image { .. }
            | Reply::Voice { .. }
            | Reply::Video { .. }
            | Reply::News { .. }
            | Reply::UpdateButton { .. } => None,
        }
    }

    /// Render this reply to `inbound` (addressed back to its sender) and seal it: the
    /// encrypted, signed XML body to send in the HTTP response.
    pub fn seal(
        &self,
        crypto: &CallbackCrypto,
        inbound: &Inbound,
        timestamp: &str,
        nonce: &str,
    ) -> String {
        let plaintext = self.to_xml_for(inbound, timestamp);
        crypto.seal_reply(&plaintext, timestamp, nonce)
    }

    /// The plaintext XML answering `inbound`, with `CreateTime` = `timestamp` (0 if it is
    /// not a number).
    pub fn to_xml_for(&self, inbound: &Inbound, timestamp: &str) -> String {
        let (to, from) = match inbound {
            Inbound::Message(m) => (&*m.header.from_user_name, &*m.header.to_user_name),
            Inbound::Event(e) => (&*e.header.from_user_name, &*e.header.to_user_name),
            Inbound::Unknown(u) => (&*u.from_user_name, &*u.to_user_name),
        };
        self.to_xml(to, from, timestamp.parse().unwrap_or(0))
    }
}
