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
use crate::xml::{Doc, Element, Node, close_tag, open_tag, push_cdata, push_num};

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

/// The content of an inbound message, by `MsgType`.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageBody {
    /// `text`
    Text {
        /// `Content`
        content: String,
    },
    /// `image`
    Image {
        /// `PicUrl`
        pic_url: String,
        /// `MediaId` (valid 3 days; fetch with media/get)
        media_id: String,
    },
    /// `voice`
    Voice {
        /// `MediaId`
        media_id: String,
        /// `Format`, e.g. `amr`
        format: String,
    },
    /// `video`
    Video {
        /// `MediaId`
        media_id: String,
        /// `ThumbMediaId`
        thumb_media_id: String,
    },
    /// `location`
    Location {
        /// `Location_X`: latitude
        location_x: f64,
        /// `Location_Y`: longitude
        location_y: f64,
        /// `Scale`: map zoom
        scale: i64,
        /// `Label`: place description
        label: String,
        /// `AppType` (`wxwork` when sent from the WeCom app), if present
        app_type: Option<String>,
    },
    /// `link`
    Link {
        /// `Title`
        title: String,
        /// `Description`
        description: String,
        /// `Url`
        url: String,
        /// `PicUrl`
        pic_url: String,
    },
}

/// An event (`MsgType=event`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Common fields.
    pub header: Header,
    /// Which event, with its fields.
    pub kind: EventKind,
}

/// Events by their `Event` value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// `subscribe`: the member entered the app's visible scope.
    Subscribe,
    /// `unsubscribe`: the member left the app's visible scope.
    Unsubscribe,
    /// `enter_agent`: the member opened the app.
    EnterAgent {
        /// `EventKey` (usually empty)
        event_key: String,
    },
    /// `LOCATION`: periodic location report.
    Location {
        /// `Latitude`
        latitude: f64,
        /// `Longitude`
        longitude: f64,
        /// `Precision`
        precision: f64,
        /// `AppType`, if present
        app_type: Option<String>,
    },
    /// `batch_job_result`: an asynchronous contacts job finished.
    BatchJobResult(BatchJob),
    /// `change_contact`: a member, department or tag changed.
    ChangeContact(ContactChange),
    /// `click`: a menu `click` button.
    Click {
        /// `EventKey`: the button's key
        event_key: String,
    },
    /// `view`: a menu `view` button.
    View {
        /// `EventKey`: the URL opened
        event_key: String,
    },
    /// `scancode_push`
    ScancodePush {
        /// `EventKey`
        event_key: String,
        /// `ScanCodeInfo`
        scan_code_info: ScanCodeInfo,
    },
    /// `scancode_waitmsg`
    ScancodeWaitmsg {
        /// `EventKey`
        event_key: String,
        /// `ScanCodeInfo`
        scan_code_info: ScanCodeInfo,
    },
    /// `pic_sysphoto`
    PicSysphoto {
        /// `EventKey`
        event_key: String,
        /// `SendPicsInfo`
        send_pics_info: SendPicsInfo,
    },
    /// `pic_photo_or_album`
    PicPhotoOrAlbum {
        /// `EventKey`
        event_key: String,
        /// `SendPicsInfo`
        send_pics_info: SendPicsInfo,
    },
    /// `pic_weixin`
    PicWeixin {
        /// `EventKey`
        event_key: String,
        /// `SendPicsInfo`
        send_pics_info: SendPicsInfo,
    },
    /// `location_select`
    LocationSelect {
        /// `EventKey`
        event_key: String,
        /// `SendLocationInfo`
        send_location_info: SendLocationInfo,
    },
    /// `open_approval_change`: an approval started from the app changed state.
    OpenApprovalChange {
        /// `ApprovalInfo`, kept as a tree (`ThirdNo`, `OpenSpName`, `OpenSpStatus`, `ApplyTime`,
        /// `ApplyUserId`, `ApprovalNodes` ...).
        approval_info: Element,
    },
    /// `share_agent_change`: the app was shared (or unshared) to another corp.
    ShareAgentChange,
    /// `template_card_event`: a button or choice on a template card was used.
    TemplateCardEvent(TemplateCardEvent),
    /// `template_card_menu_event`: the card's top-right menu was used.
    TemplateCardMenuEvent(TemplateCardEvent),
}

/// `BatchJob` of `batch_job_result`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchJob {
    /// `JobId`
    pub job_id: String,
    /// `JobType`: `sync_user`, `replace_user`, `invite_user` or `replace_party`
    pub job_type: String,
    /// `ErrCode` (0 = success)
    pub err_code: i64,
    /// `ErrMsg`
    pub err_msg: String,
}

/// `ScanCodeInfo` of the scancode events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanCodeInfo {
    /// `ScanType`, e.g. `qrcode`
    pub scan_type: String,
    /// `ScanResult`: the decoded text
    pub scan_result: String,
}

/// `SendPicsInfo` of the pic events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendPicsInfo {
    /// `Count`
    pub count: i64,
    /// `PicList/item/PicMd5Sum`, in order
    pub pic_md5_sums: Vec<String>,
}

/// `SendLocationInfo` of `location_select`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SendLocationInfo {
    /// `Location_X`: latitude
    pub location_x: f64,
    /// `Location_Y`: longitude
    pub location_y: f64,
    /// `Scale`
    pub scale: i64,
    /// `Label`
    pub label: String,
    /// `Poiname`
    pub poiname: String,
}

/// Fields of `template_card_event` and `template_card_menu_event`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateCardEvent {
    /// `EventKey`: the button's key
    pub event_key: String,
    /// `TaskId`: the card's task id
    pub task_id: String,
    /// `CardType`, e.g. `button_interaction`, `vote_interaction`
    pub card_type: String,
    /// `ResponseCode`: use it (once, within 72 h) to update the card
    pub response_code: String,
    /// `SelectedItems/SelectedItem`
    pub selected_items: Vec<SelectedItem>,
}

/// One `SelectedItem` of a template card event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SelectedItem {
    /// `QuestionKey`
    pub question_key: String,
    /// `OptionIds/OptionId`
    pub option_ids: Vec<String>,
}

/// `change_contact`, by `ChangeType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// `create_user`
    CreateUser(Box<ContactUser>),
    /// `update_user`: only the changed fields are present.
    UpdateUser(Box<ContactUser>),
    /// `delete_user`
    DeleteUser {
        /// `UserID`
        user_id: String,
    },
    /// `create_party`
    CreateParty(Party),
    /// `update_party`: only the changed fields are present.
    UpdateParty(Party),
    /// `delete_party`
    DeleteParty {
        /// `Id`
        id: i64,
    },
    /// `update_tag`
    UpdateTag(TagChange),
}

/// A member in `create_user` / `update_user`. Absent fields are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactUser {
    /// `UserID`
    pub user_id: String,
    /// `NewUserID` (userid changed)
    pub new_user_id: Option<String>,
    /// `Name`
    pub name: Option<String>,
    /// `Department`: department ids
    pub department: Option<Vec<i64>>,
    /// `MainDepartment`
    pub main_department: Option<i64>,
    /// `IsLeaderInDept`: 1/0 per department, same order as `department`
    pub is_leader_in_dept: Option<Vec<i64>>,
    /// `Mobile`
    pub mobile: Option<String>,
    /// `Position`
    pub position: Option<String>,
    /// `Gender`: 1 male, 2 female
    pub gender: Option<i64>,
    /// `Email`
    pub email: Option<String>,
    /// `Status`: 1 active, 2 disabled, 4 not yet active
    pub status: Option<i64>,
    /// `Avatar`
    pub avatar: Option<String>,
    /// `Alias`
    pub alias: Option<String>,
    /// `Telephone`
    pub telephone: Option<String>,
    /// `Address`
    pub address: Option<String>,
    /// `ExtAttr`, kept as a tree
    pub ext_attr: Option<Element>,
    /// Any other child element (fields WeCom added later), in order.
    pub extra: Vec<Element>,
}

/// A department in `create_party` / `update_party`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    /// `Id`
    pub id: i64,
    /// `Name`
    pub name: Option<String>,
    /// `ParentId`
    pub parent_id: Option<i64>,
    /// `Order`
    pub order: Option<i64>,
}

/// `update_tag`. Empty lists stand for absent fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagChange {
    /// `TagId`
    pub tag_id: i64,
    /// `AddUserItems`: userids added
    pub add_user_items: Vec<String>,
    /// `DelUserItems`: userids removed
    pub del_user_items: Vec<String>,
    /// `AddPartyItems`: department ids added
    pub add_party_items: Vec<i64>,
    /// `DelPartyItems`: department ids removed
    pub del_party_items: Vec<i64>,
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

/// A field that is present but unreadable: the callback falls back to `Unknown`.
struct Bad;

/// Reads typed fields of one element.
#[derive(Clone, Copy)]
struct Fields<'d, 'a>(Option<Node<'d, 'a>>);

impl<'d, 'a> Fields<'d, 'a> {
    fn text_of(&self, name: &str) -> Option<&'d str> {
        self.0.and_then(|n| n.text_of(name))
    }
    fn node(&self, name: &str) -> Option<Node<'d, 'a>> {
        self.0.and_then(|n| n.child(name))
    }
    fn opt_str(&self, name: &str) -> Option<String> {
        self.text_of(name).map(str::to_owned)
    }
    fn str(&self, name: &str) -> String {
        self.text_of(name).unwrap_or_default().to_owned()
    }
    fn opt_int(&self, name: &str) -> Result<Option<i64>, Bad> {
        match self.text_of(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| Bad),
        }
    }
    fn int(&self, name: &str) -> Result<i64, Bad> {
        self.opt_int(name)?.ok_or(Bad)
    }
    fn float(&self, name: &str) -> Result<f64, Bad> {
        let text = self.text_of(name).map(str::trim).ok_or(Bad)?;
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or(Bad)
    }
    fn child(&self, name: &str) -> Fields<'d, 'a> {
        Fields(self.node(name))
    }
    fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, Bad> {
        match self.text_of(name) {
            None => Ok(None),
            Some(text) => split_list(text)
                .map(|s| s.parse().map_err(|_| Bad))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }
    fn strs(&self, name: &str) -> Vec<String> {
        self.text_of(name)
            .map(|t| split_list(t).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
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
            _ => parse_message(&fields, msg_type).map(|m| m.map(Inbound::Message)),
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

fn parse_message(f: &Fields<'_, '_>, msg_type: &str) -> Result<Option<Message>, Bad> {
    let body = match msg_type {
        "text" => MessageBody::Text {
            content: f.str("Content"),
        },
        "image" => MessageBody::Image {
            pic_url: f.str("PicUrl"),
            media_id: f.str("MediaId"),
        },
        "voice" => MessageBody::Voice {
            media_id: f.str("MediaId"),
            format: f.str("Format"),
        },
        "video" => MessageBody::Video {
            media_id: f.str("MediaId"),
            thumb_media_id: f.str("ThumbMediaId"),
        },
        "location" => MessageBody::Location {
            location_x: f.float("Location_X")?,
            location_y: f.float("Location_Y")?,
            scale: f.opt_int("Scale")?.unwrap_or_default(),
            label: f.str("Label"),
            app_type: f.opt_str("AppType"),
        },
        "link" => MessageBody::Link {
            title: f.str("Title"),
            description: f.str("Description"),
            url: f.str("Url"),
            pic_url: f.str("PicUrl"),
        },
        _ => return Ok(None),
    };
    let msg_id = f.opt_str("MsgId").ok_or(Bad)?;
    Ok(Some(Message {
        header: parse_header(f)?,
        msg_id,
        body,
    }))
}

fn parse_event(f: &Fields<'_, '_>) -> Result<Option<Event>, Bad> {
    let event = f.text_of("Event").unwrap_or_default();
    let key = || f.str("EventKey");
    let kind = match event {
        "subscribe" => EventKind::Subscribe,
        "unsubscribe" => EventKind::Unsubscribe,
        "enter_agent" => EventKind::EnterAgent { event_key: key() },
        "LOCATION" => EventKind::Location {
            latitude: f.float("Latitude")?,
            longitude: f.float("Longitude")?,
            precision: f.float("Precision")?,
            app_type: f.opt_str("AppType"),
        },
        "batch_job_result" => {
            let job = f.child("BatchJob");
            EventKind::BatchJobResult(BatchJob {
                job_id: job.str("JobId"),
                job_type: job.str("JobType"),
                err_code: job.opt_int("ErrCode")?.unwrap_or_default(),
                err_msg: job.str("ErrMsg"),
            })
        }
        "change_contact" => match parse_contact_change(f)? {
            Some(change) => EventKind::ChangeContact(change),
            None => return Ok(None),
        },
        "click" => EventKind::Click { event_key: key() },
        "view" => EventKind::View { event_key: key() },
        "scancode_push" => EventKind::ScancodePush {
            event_key: key(),
            scan_code_info: parse_scan(f),
        },
        "scancode_waitmsg" => EventKind::ScancodeWaitmsg {
            event_key: key(),
            scan_code_info: parse_scan(f),
        },
        "pic_sysphoto" => EventKind::PicSysphoto {
            event_key: key(),
            send_pics_info: parse_pics(f)?,
        },
        "pic_photo_or_album" => EventKind::PicPhotoOrAlbum {
            event_key: key(),
            send_pics_info: parse_pics(f)?,
        },
        "pic_weixin" => EventKind::PicWeixin {
            event_key: key(),
            send_pics_info: parse_pics(f)?,
        },
        "location_select" => {
            let info = f.child("SendLocationInfo");
            EventKind::LocationSelect {
                event_key: key(),
                send_location_info: SendLocationInfo {
                    location_x: info.float("Location_X")?,
                    location_y: info.float("Location_Y")?,
                    scale: info.opt_int("Scale")?.unwrap_or_default(),
                    label: info.str("Label"),
                    poiname: info.str("Poiname"),
                },
            }
        }
        "open_approval_change" => EventKind::OpenApprovalChange {
            approval_info: f.node("ApprovalInfo").map(|n| n.to_element()).ok_or(Bad)?,
        },
        "share_agent_change" => EventKind::ShareAgentChange,
        "template_card_event" => EventKind::TemplateCardEvent(parse_card(f)),
        "template_card_menu_event" => EventKind::TemplateCardMenuEvent(parse_card(f)),
        _ => return Ok(None),
    };
    Ok(Some(Event {
        header: parse_header(f)?,
        kind,
    }))
}

fn parse_scan(f: &Fields<'_, '_>) -> ScanCodeInfo {
    let info = f.child("ScanCodeInfo");
    ScanCodeInfo {
        scan_type: info.str("ScanType"),
        scan_result: info.str("ScanResult"),
    }
}

fn parse_pics(f: &Fields<'_, '_>) -> Result<SendPicsInfo, Bad> {
    let info = f.child("SendPicsInfo");
    let pic_md5_sums = info
        .node("PicList")
        .map(|list| {
            list.children_named("item")
                .map(|item| item.text_of("PicMd5Sum").unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(SendPicsInfo {
        count: info.opt_int("Count")?.unwrap_or_default(),
        pic_md5_sums,
    })
}

fn parse_card(f: &Fields<'_, '_>) -> TemplateCardEvent {
    let selected_items = f
        .node("SelectedItems")
        .map(|items| {
            items
                .children_named("SelectedItem")
                .map(|item| SelectedItem {
                    question_key: item.text_of("QuestionKey").unwrap_or_default().to_owned(),
                    option_ids: item
                        .child("OptionIds")
                        .map(|ids| {
                            ids.children_named("OptionId")
                                .map(|id| id.text().to_owned())
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    TemplateCardEvent {
        event_key: f.str("EventKey"),
        task_id: f.str("TaskId"),
        card_type: f.str("CardType"),
        response_code: f.str("ResponseCode"),
        selected_items,
    }
}

/// Child names of a contact-change user that are typed (the rest goes to `extra`).
const USER_FIELDS: &[&str] = &[
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Event",
    "ChangeType",
    "AgentID",
    "UserID",
    "NewUserID",
    "Name",
    "Department",
    "MainDepartment",
    "IsLeaderInDept",
    "Mobile",
    "Position",
    "Gender",
    "Email",
    "Status",
    "Avatar",
    "Alias",
    "Telephone",
    "Address",
    "ExtAttr",
];

fn parse_contact_change(f: &Fields<'_, '_>) -> Result<Option<ContactChange>, Bad> {
    let user = || -> Result<ContactUser, Bad> {
        Ok(ContactUser {
            user_id: f.str("UserID"),
            new_user_id: f.opt_str("NewUserID"),
            name: f.opt_str("Name"),
            department: f.ints("Department")?,
            main_department: f.opt_int("MainDepartment")?,
            is_leader_in_dept: f.ints("IsLeaderInDept")?,
            mobile: f.opt_str("Mobile"),
            position: f.opt_str("Position"),
            gender: f.opt_int("Gender")?,
            email: f.opt_str("Email"),
            status: f.opt_int("Status")?,
            avatar: f.opt_str("Avatar"),
            alias: f.opt_str("Alias"),
            telephone: f.opt_str("Telephone"),
            address: f.opt_str("Address"),
            ext_attr: f.node("ExtAttr").map(|n| n.to_element()),
            extra: f
                .0
                .map(|root| {
                    root.children()
                        .filter(|c| !USER_FIELDS.contains(&c.name()))
                        .map(|c| c.to_element())
                        .collect()
                })
                .unwrap_or_default(),
        })
    };
    let party = || -> Result<Party, Bad> {
        Ok(Party {
            id: f.int("Id")?,
            name: f.opt_str("Name"),
            parent_id: f.opt_int("ParentId")?,
            order: f.opt_int("Order")?,
        })
    };
    Ok(Some(match f.text_of("ChangeType").unwrap_or_default() {
        "create_user" => ContactChange::CreateUser(Box::new(user()?)),
        "update_user" => ContactChange::UpdateUser(Box::new(user()?)),
        "delete_user" => ContactChange::DeleteUser {
            user_id: f.str("UserID"),
        },
        "create_party" => ContactChange::CreateParty(party()?),
        "update_party" => ContactChange::UpdateParty(party()?),
        "delete_party" => ContactChange::DeleteParty { id: f.int("Id")? },
        "update_tag" => ContactChange::UpdateTag(TagChange {
            tag_id: f.int("TagId")?,
            add_user_items: f.strs("AddUserItems"),
            del_user_items: f.strs("DelUserItems"),
            add_party_items: f.ints("AddPartyItems")?.unwrap_or_default(),
            del_party_items: f.ints("DelPartyItems")?.unwrap_or_default(),
        }),
        _ => return Ok(None),
    }))
}

// ---------------------------------------------------------------------------------------------
// Names and rendering

impl MessageBody {
    /// The `MsgType` value.
    pub fn msg_type(&self) -> &'static str {
        match self {
            MessageBody::Text { .. } => "text",
            MessageBody::Image { .. } => "image",
            MessageBody::Voice { .. } => "voice",
            MessageBody::Video { .. } => "video",
            MessageBody::Location { .. } => "location",
            MessageBody::Link { .. } => "link",
        }
    }
}

impl EventKind {
    /// The `Event` value (e.g. `click`, `LOCATION`).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Subscribe => "subscribe",
            EventKind::Unsubscribe => "unsubscribe",
            EventKind::EnterAgent { .. } => "enter_agent",
            EventKind::Location { .. } => "LOCATION",
            EventKind::BatchJobResult(_) => "batch_job_result",
            EventKind::ChangeContact(_) => "change_contact",
            EventKind::Click { .. } => "click",
            EventKind::View { .. } => "view",
            EventKind::ScancodePush { .. } => "scancode_push",
            EventKind::ScancodeWaitmsg { .. } => "scancode_waitmsg",
            EventKind::PicSysphoto { .. } => "pic_sysphoto",
            EventKind::PicPhotoOrAlbum { .. } => "pic_photo_or_album",
            EventKind::PicWeixin { .. } => "pic_weixin",
            EventKind::LocationSelect { .. } => "location_select",
            EventKind::OpenApprovalChange { .. } => "open_approval_change",
            EventKind::ShareAgentChange => "share_agent_change",
            EventKind::TemplateCardEvent(_) => "template_card_event",
            EventKind::TemplateCardMenuEvent(_) => "template_card_menu_event",
        }
    }

    /// The `EventKey`, for events that carry one.
    pub fn event_key(&self) -> Option<&str> {
        match self {
            EventKind::EnterAgent { event_key }
            | EventKind::Click { event_key }
            | EventKind::View { event_key }
            | EventKind::ScancodePush { event_key, .. }
            | EventKind::ScancodeWaitmsg { event_key, .. }
            | EventKind::PicSysphoto { event_key, .. }
            | EventKind::PicPhotoOrAlbum { event_key, .. }
            | EventKind::PicWeixin { event_key, .. }
            | EventKind::LocationSelect { event_key, .. } => Some(event_key),
            EventKind::TemplateCardEvent(card) | EventKind::TemplateCardMenuEvent(card) => {
                Some(&card.event_key)
            }
            _ => None,
        }
    }
}

impl ContactChange {
    /// The `ChangeType` value.
    pub fn change_type(&self) -> &'static str {
        match self {
            ContactChange::CreateUser(_) => "create_user",
            ContactChange::UpdateUser(_) => "update_user",
            ContactChange::DeleteUser { .. } => "delete_user",
            ContactChange::CreateParty(_) => "create_party",
            ContactChange::UpdateParty(_) => "update_party",
            ContactChange::DeleteParty { .. } => "delete_party",
            ContactChange::UpdateTag(_) => "update_tag",
        }
    }
}

fn opt_cdata(out: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        push_cdata(out, name, value);
    }
}

fn opt_num(out: &mut String, name: &str, value: Option<i64>) {
    if let Some(value) = value {
        push_num(out, name, value);
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn begin(out: &mut String, header: &Header, msg_type: &str) {
    out.push_str("<xml>");
    push_cdata(out, "ToUserName", &header.to_user_name);
    push_cdata(out, "FromUserName", &header.from_user_name);
    push_num(out, "CreateTime", header.create_time);
    push_cdata(out, "MsgType", msg_type);
}

fn end(out: &mut String, header: &Header) {
    opt_num(out, "AgentID", header.agent_id);
    out.push_str("</xml>");
}

impl Message {
    /// WeCom's XML for this message.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        begin(&mut out, &self.header, self.body.msg_type());
        match &self.body {
            MessageBody::Text { content } => push_cdata(&mut out, "Content", content),
            MessageBody::Image { pic_url, media_id } => {
                push_cdata(&mut out, "PicUrl", pic_url);
                push_cdata(&mut out, "MediaId", media_id);
            }
            MessageBody::Voice { media_id, format } => {
                push_cdata(&mut out, "MediaId", media_id);
                push_cdata(&mut out, "Format", format);
            }
            MessageBody::Video {
                media_id,
                thumb_media_id,
            } => {
                push_cdata(&mut out, "MediaId", media_id);
                push_cdata(&mut out, "ThumbMediaId", thumb_media_id);
            }
            MessageBody::Location {
                location_x,
                location_y,
                scale,
                label,
                app_type,
            } => {
                push_num(&mut out, "Location_X", location_x);
                push_num(&mut out, "Location_Y", location_y);
                push_num(&mut out, "Scale", scale);
                push_cdata(&mut out, "Label", label);
                opt_cdata(&mut out, "AppType", app_type);
            }
            MessageBody::Link {
                title,
                description,
                url,
                pic_url,
            } => {
                push_cdata(&mut out, "Title", title);
                push_cdata(&mut out, "Description", description);
                push_cdata(&mut out, "Url", url);
                push_cdata(&mut out, "PicUrl", pic_url);
            }
        }
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
        push_cdata(&mut out, "Event", self.kind.name());
        let out_ref = &mut out;
        match &self.kind {
            EventKind::Subscribe | EventKind::Unsubscribe | EventKind::ShareAgentChange => {}
            EventKind::EnterAgent { event_key }
            | EventKind::Click { event_key }
            | EventKind::View { event_key } => push_cdata(out_ref, "EventKey", event_key),
            EventKind::Location {
                latitude,
                longitude,
                precision,
                app_type,
            } => {
                push_num(out_ref, "Latitude", latitude);
                push_num(out_ref, "Longitude", longitude);
                push_num(out_ref, "Precision", precision);
                opt_cdata(out_ref, "AppType", app_type);
            }
            EventKind::BatchJobResult(job) => {
                open_tag(out_ref, "BatchJob");
                push_cdata(out_ref, "JobId", &job.job_id);
                push_cdata(out_ref, "JobType", &job.job_type);
                push_num(out_ref, "ErrCode", job.err_code);
                push_cdata(out_ref, "ErrMsg", &job.err_msg);
                close_tag(out_ref, "BatchJob");
            }
            EventKind::ChangeContact(change) => write_contact_change(out_ref, change),
            EventKind::ScancodePush {
                event_key,
                scan_code_info,
            }
            | EventKind::ScancodeWaitmsg {
                event_key,
                scan_code_info,
            } => {
                push_cdata(out_ref, "EventKey", event_key);
                open_tag(out_ref, "ScanCodeInfo");
                push_cdata(out_ref, "ScanType", &scan_code_info.scan_type);
                push_cdata(out_ref, "ScanResult", &scan_code_info.scan_result);
                close_tag(out_ref, "ScanCodeInfo");
            }
            EventKind::PicSysphoto {
                event_key,
                send_pics_info,
            }
            | EventKind::PicPhotoOrAlbum {
                event_key,
                send_pics_info,
            }
            | EventKind::PicWeixin {
                event_key,
                send_pics_info,
            } => {
                push_cdata(out_ref, "EventKey", event_key);
                open_tag(out_ref, "SendPicsInfo");
                push_num(out_ref, "Count", send_pics_info.count);
                open_tag(out_ref, "PicList");
                for sum in &send_pics_info.pic_md5_sums {
                    open_tag(out_ref, "item");
                    push_cdata(out_ref, "PicMd5Sum", sum);
                    close_tag(out_ref, "item");
                }
                close_tag(out_ref, "PicList");
                close_tag(out_ref, "SendPicsInfo");
            }
            EventKind::LocationSelect {
                event_key,
                send_location_info: info,
            } => {
                push_cdata(out_ref, "EventKey", event_key);
                open_tag(out_ref, "SendLocationInfo");
                push_num(out_ref, "Location_X", info.location_x);
                push_num(out_ref, "Location_Y", info.location_y);
                push_num(out_ref, "Scale", info.scale);
                push_cdata(out_ref, "Label", &info.label);
                push_cdata(out_ref, "Poiname", &info.poiname);
                close_tag(out_ref, "SendLocationInfo");
            }
            EventKind::OpenApprovalChange { approval_info } => approval_info.write_xml(out_ref),
            EventKind::TemplateCardEvent(card) | EventKind::TemplateCardMenuEvent(card) => {
                push_cdata(out_ref, "EventKey", &card.event_key);
                push_cdata(out_ref, "TaskId", &card.task_id);
                push_cdata(out_ref, "CardType", &card.card_type);
                push_cdata(out_ref, "ResponseCode", &card.response_code);
                if !card.selected_items.is_empty() {
                    open_tag(out_ref, "SelectedItems");
                    for item in &card.selected_items {
                        open_tag(out_ref, "SelectedItem");
                        push_cdata(out_ref, "QuestionKey", &item.question_key);
                        open_tag(out_ref, "OptionIds");
                        for id in &item.option_ids {
                            push_cdata(out_ref, "OptionId", id);
                        }
                        close_tag(out_ref, "OptionIds");
                        close_tag(out_ref, "SelectedItem");
                    }
                    close_tag(out_ref, "SelectedItems");
                }
            }
        }
        end(&mut out, &self.header);
        out
    }
}

fn write_contact_change(out: &mut String, change: &ContactChange) {
    push_cdata(out, "ChangeType", change.change_type());
    match change {
        ContactChange::CreateUser(user) | ContactChange::UpdateUser(user) => {
            push_cdata(out, "UserID", &user.user_id);
            opt_cdata(out, "NewUserID", &user.new_user_id);
            opt_cdata(out, "Name", &user.name);
            if let Some(department) = &user.department {
                push_cdata(out, "Department", &join(department));
            }
            opt_num(out, "MainDepartment", user.main_department);
            if let Some(leader) = &user.is_leader_in_dept {
                push_cdata(out, "IsLeaderInDept", &join(leader));
            }
            opt_cdata(out, "Mobile", &user.mobile);
            opt_cdata(out, "Position", &user.position);
            opt_num(out, "Gender", user.gender);
            opt_cdata(out, "Email", &user.email);
            opt_num(out, "Status", user.status);
            opt_cdata(out, "Avatar", &user.avatar);
            opt_cdata(out, "Alias", &user.alias);
            opt_cdata(out, "Telephone", &user.telephone);
            opt_cdata(out, "Address", &user.address);
            if let Some(ext) = &user.ext_attr {
                ext.write_xml(out);
            }
            for extra in &user.extra {
                extra.write_xml(out);
            }
        }
        ContactChange::DeleteUser { user_id } => push_cdata(out, "UserID", user_id),
        ContactChange::CreateParty(party) | ContactChange::UpdateParty(party) => {
            push_num(out, "Id", party.id);
            opt_cdata(out, "Name", &party.name);
            opt_num(out, "ParentId", party.parent_id);
            opt_num(out, "Order", party.order);
        }
        ContactChange::DeleteParty { id } => push_num(out, "Id", id),
        ContactChange::UpdateTag(tag) => {
            push_num(out, "TagId", tag.tag_id);
            if !tag.add_user_items.is_empty() {
                push_cdata(out, "AddUserItems", &tag.add_user_items.join(","));
            }
            if !tag.del_user_items.is_empty() {
                push_cdata(out, "DelUserItems", &tag.del_user_items.join(","));
            }
            if !tag.add_party_items.is_empty() {
                push_cdata(out, "AddPartyItems", &join(&tag.add_party_items));
            }
            if !tag.del_party_items.is_empty() {
                push_cdata(out, "DelPartyItems", &join(&tag.del_party_items));
            }
        }
    }
}
