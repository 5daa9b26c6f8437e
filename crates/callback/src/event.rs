//! Typed inbound messages and events: what a member sends to the app, and what WeCom tells
//! the app (menu clicks, contact changes, approvals ...).
//!
//! [`Inbound::parse`] turns a decrypted callback into a value; [`Inbound::to_xml`] turns any
//! value back into WeCom's XML (the sandbox uses it to generate callbacks). A callback this
//! crate does not know, or whose fields cannot be read, becomes [`Inbound::Unknown`], which
//! keeps the raw text so nothing is dropped.
//!
//! ```
//! use wecom_callback::{Inbound, MessageBody};
//! let xml = "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>\
//!            <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
//!            <Content><![CDATA[hello]]></Content><MsgId>123</MsgId><AgentID>1000002</AgentID></xml>";
//! let Inbound::Message(msg) = Inbound::parse(xml)? else { panic!("not a message") };
//! assert_eq!(msg.body, MessageBody::Text { content: "hello".into() });
//! assert_eq!(Inbound::parse(&msg.to_xml())?, Inbound::Message(msg));
//! # Ok::<(), wecom_callback::CallbackError>(())
//! ```

use crate::error::CallbackError;
use crate::xml::{Doc, push_cdata, push_num};
use rt::{Bad, Fields};

pub use crate::generated::events::{
    BatchJob, ContactChange, ContactUser, EventKind, MessageBody, Party, ScanCodeInfo,
    SelectedItem, SendLocationInfo, SendPicsInfo, TagChange, TemplateCardEvent,
};

/// Fields every message and event carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// `ToUserName`: the corpid.
    pub to_user_name: String,
    /// `FromUserName`: the member's userid (`sys` for contact changes).
    pub from_user_name: String,
    /// `CreateTime`: Unix seconds.
    pub create_time: i64,
    /// `AgentID`: the app (absent for contact-sync callbacks).
    pub agent_id: Option<i64>,
}

/// Anything WeCom delivers to a callback URL, decrypted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Inbound {
    /// A message a member sent to the app.
    Message(Message),
    /// An event (`MsgType=event`).
    Event(Event),
    /// Anything else, or a known type whose fields could not be read: kept as raw text.
    Unknown(Unknown),
}

/// A message a member sent to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Common fields.
    pub header: Header,
    /// `MsgId`: unique per message (64-bit, kept as text).
    pub msg_id: String,
    /// What was sent.
    pub body: MessageBody,
}

/// An event (`MsgType=event`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Common fields.
    pub header: Header,
    /// Which event, with its fields.
    pub kind: EventKind,
}

/// A callback this crate could not type; nothing is lost: `raw` is the whole decrypted text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unknown {
    /// `MsgType` (empty if absent)
    pub msg_type: String,
    /// `Event`, if present
    pub event: Option<String>,
    /// `ToUserName` (empty if absent)
    pub to_user_name: String,
    /// `FromUserName` (empty if absent)
    pub from_user_name: String,
    /// `CreateTime` as text (empty if absent)
    pub create_time: String,
    /// `MsgId`, if present
    pub msg_id: Option<String>,
    /// The decrypted XML (or JSON) exactly as received.
    pub raw: String,
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// What generated code (`crate::generated::events`) reads and writes with.
pub(crate) mod rt {
    use std::str::FromStr;

    use crate::xml::{Element, Node};
    pub(crate) use crate::xml::{close_tag, open_tag, push_cdata, push_num};

    /// A field that is present but unreadable: the callback falls back to `Unknown`.
    #[derive(Debug)]
    pub(crate) struct Bad;

    /// Reads typed fields of one element (`None`: the element is absent, every field reads as
    /// absent).
    #[derive(Clone, Copy)]
    pub(crate) struct Fields<'d, 'a>(pub(crate) Option<Node<'d, 'a>>);

    impl<'d, 'a> Fields<'d, 'a> {
        pub(crate) fn text_of(&self, name: &str) -> Option<&'d str> {
            self.0.and_then(|n| n.text_of(name))
        }
        pub(crate) fn opt_str(&self, name: &str) -> Option<String> {
            self.text_of(name).map(str::to_owned)
        }
        pub(crate) fn str(&self, name: &str) -> String {
            self.text_of(name).unwrap_or_default().to_owned()
        }
        pub(crate) fn opt_int(&self, name: &str) -> Result<Option<i64>, Bad> {
            match self.text_of(name).map(str::trim) {
                None | Some("") => Ok(None),
                Some(text) => text.parse().map(Some).map_err(|_| Bad),
            }
        }
        pub(crate) fn int(&self, name: &str) -> Result<i64, Bad> {
            self.opt_int(name)?.ok_or(Bad)
        }
        pub(crate) fn opt_float(&self, name: &str) -> Result<Option<f64>, Bad> {
            match self.text_of(name).map(str::trim) {
                None => Ok(None),
                Some(text) => text
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Some)
                    .ok_or(Bad),
            }
        }
        pub(crate) fn child(&self, name: &str) -> Fields<'d, 'a> {
            Fields(self.0.and_then(|n| n.child(name)))
        }
        /// The child element `name` as a tree.
        pub(crate) fn element(&self, name: &str) -> Option<Element> {
            self.0.and_then(|n| n.child(name)).map(|n| n.to_element())
        }
        /// A list written in one element, split on `delimiter` (blank items skipped).
        pub(crate) fn split<T: FromStr>(
            &self,
            name: &str,
            delimiter: &str,
        ) -> Result<Option<Vec<T>>, Bad> {
            match self.text_of(name) {
                None => Ok(None),
                Some(text) => text
                    .split(delimiter)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().map_err(|_| Bad))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
            }
        }
        /// The `each` children of element `name`.
        pub(crate) fn each(&self, name: &str, each: &str) -> Vec<Fields<'d, 'a>> {
            self.0
                .and_then(|n| n.child(name))
                .map(|list| list.children_named(each).map(|c| Fields(Some(c))).collect())
                .unwrap_or_default()
        }
        /// The values of the `each` children of element `name` (their text, or the text of
        /// their child `text`).
        pub(crate) fn each_value<T: FromStr>(
            &self,
            name: &str,
            each: &str,
            text: Option<&str>,
        ) -> Result<Vec<T>, Bad> {
            self.each(name, each)
                .iter()
                .map(|item| {
                    let value = match text {
                        Some(t) => item.text_of(t).unwrap_or_default(),
                        None => item.0.map(|n| n.text()).unwrap_or_default(),
                    };
                    value.trim().parse().map_err(|_| Bad)
                })
                .collect()
        }
        /// Every child element not named in `known`, in order.
        pub(crate) fn rest(&self, known: &[&str]) -> Vec<Element> {
            self.0
                .map(|root| {
                    root.children()
                        .filter(|c| !known.contains(&c.name()))
                        .map(|c| c.to_element())
                        .collect()
                })
                .unwrap_or_default()
        }
    }

    /// `items` joined with `delimiter`.
    pub(crate) fn join<T: ToString>(items: &[T], delimiter: &str) -> String {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(delimiter)
    }
}

impl Inbound {
    /// Parse a decrypted callback.
    ///
    /// Only malformed XML (or a refused DTD/entity) is an error; a well-formed callback of an
    /// unknown type, or with unreadable fields, is returned as [`Inbound::Unknown`]. A JSON
    /// plaintext (the JSON callback variant) is returned as `Unknown` with its `msgtype`.
    pub fn parse(plaintext: &str) -> Result<Inbound, CallbackError> {
        if plaintext.trim_start().starts_with('{') {
            return parse_json(plaintext);
        }
        let doc = Doc::parse(plaintext)?;
        let fields = Fields(Some(doc.root()));
        let msg_type = fields.text_of("MsgType").unwrap_or_default();
        let typed = match msg_type {
            "event" => parse_event(&fields).map(|e| e.map(Inbound::Event)),
            _ => parse_message(&fields).map(|m| m.map(Inbound::Message)),
        };
        Ok(match typed {
            Ok(Some(inbound)) => inbound,
            Ok(None) | Err(Bad) => Inbound::Unknown(Unknown {
                msg_type: msg_type.to_owned(),
                event: fields.opt_str("Event"),
                to_user_name: fields.str("ToUserName"),
                from_user_name: fields.str("FromUserName"),
                create_time: fields.str("CreateTime"),
                msg_id: fields.opt_str("MsgId"),
                raw: plaintext.to_owned(),
            }),
        })
    }

    /// The common fields, when typed.
    pub fn header(&self) -> Option<&Header> {
        match self {
            Inbound::Message(m) => Some(&m.header),
            Inbound::Event(e) => Some(&e.header),
            Inbound::Unknown(_) => None,
        }
    }

    /// The callback's `AgentID` (`agentid` in a JSON callback), when it has one: the app it is
    /// for. Used with the receive id to scope [`retry_key`](crate::dedup::retry_key).
    pub fn agent_id(&self) -> Option<String> {
        match self {
            Inbound::Message(m) => m.header.agent_id.map(|a| a.to_string()),
            Inbound::Event(e) => e.header.agent_id.map(|a| a.to_string()),
            Inbound::Unknown(u) => {
                if u.raw.trim_start().starts_with('{') {
                    let value: serde_json::Value = serde_json::from_str(&u.raw).ok()?;
                    ["agentid", "AgentID"]
                        .iter()
                        .find_map(|k| match value.get(*k) {
                            Some(serde_json::Value::String(s)) => Some(s.clone()),
                            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                            _ => None,
                        })
                } else {
                    let doc = Doc::parse(&u.raw).ok()?;
                    doc.root().text_of("AgentID").map(|a| a.trim().to_owned())
                }
            }
        }
    }

    /// WeCom's XML for this callback (for `Unknown`, the raw text as received).
    pub fn to_xml(&self) -> String {
        match self {
            Inbound::Message(m) => m.to_xml(),
            Inbound::Event(e) => e.to_xml(),
            Inbound::Unknown(u) => u.raw.clone(),
        }
    }
}

fn parse_json(plaintext: &str) -> Result<Inbound, CallbackError> {
    let value: serde_json::Value = serde_json::from_str(plaintext)
        .map_err(|e| CallbackError::parse(format!("bad JSON callback: {e}")))?;
    let get = |keys: &[&str]| {
        keys.iter().find_map(|k| match value.get(*k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    Ok(Inbound::Unknown(Unknown {
        msg_type: get(&["msgtype", "MsgType"]).unwrap_or_default(),
        event: get(&["event", "Event"]),
        to_user_name: get(&["tousername", "ToUserName"]).unwrap_or_default(),
        from_user_name: get(&["fromusername", "FromUserName"]).unwrap_or_default(),
        create_time: get(&["createtime", "CreateTime"]).unwrap_or_default(),
        msg_id: get(&["msgid", "MsgId"]),
        raw: plaintext.to_owned(),
    }))
}

fn parse_header(f: &Fields<'_, '_>) -> Result<Header, Bad> {
    Ok(Header {
        to_user_name: f.str("ToUserName"),
        from_user_name: f.str("FromUserName"),
        create_time: f.int("CreateTime")?,
        agent_id: f.opt_int("AgentID")?,
    })
}

fn parse_message(f: &Fields<'_, '_>) -> Result<Option<Message>, Bad> {
    let Some(body) = MessageBody::parse(f)? else {
        return Ok(None);
    };
    let msg_id = f.opt_str("MsgId").ok_or(Bad)?;
    Ok(Some(Message {
        header: parse_header(f)?,
        msg_id,
        body,
    }))
}

fn parse_event(f: &Fields<'_, '_>) -> Result<Option<Event>, Bad> {
    let Some(kind) = EventKind::parse(f)? else {
        return Ok(None);
    };
    Ok(Some(Event {
        header: parse_header(f)?,
        kind,
    }))
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn begin(out: &mut String, header: &Header, msg_type: &str) {
    out.push_str("<xml>");
    push_cdata(out, "ToUserName", &header.to_user_name);
    push_cdata(out, "FromUserName", &header.from_user_name);
    push_num(out, "CreateTime", header.create_time);
    push_cdata(out, "MsgType", msg_type);
}

fn end(out: &mut String, header: &Header) {
    if let Some(agent_id) = header.agent_id {
        push_num(out, "AgentID", agent_id);
    }
    out.push_str("</xml>");
}

impl Message {
    /// WeCom's XML for this message.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        begin(&mut out, &self.header, self.body.msg_type());
        self.body.write_xml(&mut out);
        push_cdata(&mut out, "MsgId", &self.msg_id);
        end(&mut out, &self.header);
        out
    }
}

impl Event {
    /// WeCom's XML for this event.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        begin(&mut out, &self.header, "event");
        self.kind.write_xml(&mut out);
        end(&mut out, &self.header);
        out
    }
}
