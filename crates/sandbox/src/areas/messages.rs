//! The messages area (spec/messages.toml): message/send with every type, recall, template card
//! updates, media upload/download (with `Range`), app group chats and group robots.
//!
//! Semantics as WeCom's: deliveries land in the inboxes of the members the recipients expand to
//! (departments with their subtrees, tags with their members and departments), limited to the
//! sending app's visible scope; the rest is reported in `invaliduser`/`invalidparty`/`invalidtag`
//! and 81013 answers a message nobody can receive. An identical `message/send` with
//! `enable_duplicate_check` inside its window is answered again without a second delivery.
//! Recall marks the deliveries recalled (42052 after 24 hours). Media round-trip byte for byte.
//! Group robots are authenticated by their key (93000) and limited to 20 messages a minute
//! (45009). The rules the spec cannot state are checked with `wecom_messages::rules`, the same
//! functions the client applies before sending.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use base64::Engine as _;
use bytes::Bytes;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::Value;
use wecom_core_auth::__private::{FromWire, WireInput};
use wecom_core_auth::{
    DecodeError, Endpoint, EndpointMeta, Error, InvalidInput, Query, RequestBody,
};
use wecom_messages::generated::messages::{
    AppChat, AppChatContent, AppchatCreateRequest, AppchatCreateResponse, AppchatGetRequest,
    AppchatGetResponse, AppchatSendRequest, AppchatSendResponse, AppchatUpdateRequest,
    AppchatUpdateResponse, MediaGetRequest, MediaType, MediaUploadRequest, MediaUploadResponse,
    MediaUploadimgRequest, MediaUploadimgResponse, MessageContent, MessageRecallRequest,
    MessageRecallResponse, MessageSendRequest, MessageSendResponse,
    MessageUpdateTemplateCardRequest, MessageUpdateTemplateCardResponse, RobotMessage,
    TemplateCard, WebhookSendRequest, WebhookSendResponse, WebhookUploadMediaRequest,
    WebhookUploadMediaResponse,
};

use crate::corp::Actor;
use crate::corp::RecipientSpec;
use crate::error::ApiError;
use crate::limits::DuplicateKey;
use crate::multipart::{self, FormPart};
use crate::registry::{Binary, Caller, Ctx, Registry, Wire, WireRequest, wire_error};
use crate::state::{Once, State, lock};
use wecom_core_auth::ErrorCode;

/// A message can be recalled for this long: 24 hours.
pub const RECALL_WINDOW_SECS: i64 = 24 * 3600;
/// A template card's response_code is valid this long: 72 hours (doc 94945, 2025/07/24:
/// "注意response_code的有效期是72小时,超过72小时后将无法使用").
pub const RESPONSE_CODE_TTL_SECS: i64 = 72 * 3600;
/// Messages one group robot may post per minute.
pub const ROBOT_PER_MINUTE: usize = 20;
/// Largest file media/get serves without a `Range` (830002 above).
pub const MAX_WHOLE_DOWNLOAD: u64 = 20 * 1024 * 1024;

/// Registers the messages endpoints.
pub fn register(r: &mut Registry) {
    r.add::<MessageSendRequest, _, _>(message_send);
    r.add::<MessageRecallRequest, _, _>(message_recall);
    r.add::<MessageUpdateTemplateCardRequest, _, _>(message_update_template_card);
    r.add::<Uploaded<MediaUploadRequest>, _, _>(media_upload);
    r.add::<Uploaded<MediaUploadimgRequest>, _, _>(media_uploadimg);
    r.add_binary::<Ranged, _, _>(media_get);
    r.add::<AppchatCreateRequest, _, _>(appchat_create);
    r.add::<AppchatUpdateRequest, _, _>(appchat_update);
    r.add::<AppchatGetRequest, _, _>(appchat_get);
    r.add::<AppchatSendRequest, _, _>(appchat_send);
    r.add::<WebhookSendRequest, _, _>(webhook_send);
    r.add::<Uploaded<WebhookUploadMediaRequest>, _, _>(webhook_upload_media);
}

/// The area's own bookkeeping, kept in the sandbox state.
#[derive(Debug, Default)]
struct Book {
    inner: Mutex<BookInner>,
}

#[derive(Debug, Default)]
struct BookInner {
    /// response_code -> the card it updates.
    codes: HashMap<String, CardCode>,
    /// Template card updates, in order.
    card_updates: Vec<CardUpdate>,
    /// App group chats by chatid.
    chats: HashMap<String, ChatRecord>,
    /// Messages posted into app group chats, in order.
    chat_messages: Vec<ChatMessage>,
    /// Post times (Unix seconds) per robot, for the 20-a-minute limit.
    robot_posts: HashMap<String, VecDeque<i64>>,
}

#[derive(Debug, Clone)]
struct CardCode {
    agentid: u32,
    msgid: String,
    recipients: Vec<String>,
    created: i64,
    used: bool,
}

/// A `message/update_template_card` the sandbox applied.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CardUpdate {
    /// The msgid of the card's message.
    pub msgid: String,
    /// The members whose card changed.
    pub userids: Vec<String>,
    /// The update as sent: `{"button": {...}}` or `{"template_card": {...}}`.
    pub update: Value,
    /// Sandbox time, Unix seconds.
    pub at: i64,
}

#[derive(Debug, Clone)]
struct ChatRecord {
    agentid: u32,
    name: String,
    owner: String,
    users: Vec<String>,
}

/// A message posted into an app group chat.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChatMessage {
    /// The chat.
    pub chatid: String,
    /// The app that posted it.
    pub agentid: u32,
    /// `msgtype` and body, as sent.
    pub message: Value,
    /// Sandbox time, Unix seconds.
    pub at: i64,
}

fn book(state: &State) -> std::sync::Arc<Book> {
    state.extension::<Book>()
}

/// Mints a single-use response_code (valid 72 hours) for the card of `msgid` sent by `agentid`
/// to `recipients`: what `template_card_event` / `template_card_menu_event` callbacks carry.
pub(crate) fn mint_card_code(
    state: &State,
    agentid: u32,
    msgid: &str,
    recipients: Vec<String>,
) -> String {
    let code = random_id(32);
    lock(&book(state).inner).codes.insert(
        code.clone(),
        CardCode {
            agentid,
            msgid: msgid.to_owned(),
            recipients,
            created: state.now_secs(),
            used: false,
        },
    );
    code
}

/// Template card updates applied so far (for tests and the web page).
pub fn card_updates(state: &State) -> Vec<CardUpdate> {
    lock(&book(state).inner).card_updates.clone()
}

/// Messages posted into one app group chat, oldest first.
pub fn chat_messages(state: &State, chatid: &str) -> Vec<ChatMessage> {
    lock(&book(state).inner)
        .chat_messages
        .iter()
        .filter(|m| m.chatid == chatid)
        .cloned()
        .collect()
}

fn random_id(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        ApiError::new(
            ErrorCode::SYSTEM_BUSY,
            format!("system busy (sandbox could not serialize: {e})"),
        )
    })
}

// ------------------------------------------------------------------------------------------------
// message/send, recall, update_template_card

/// The app of the token must be the app named in the body.
pub(crate) fn sender(ctx: &Ctx, agentid: u32) -> Result<u32, ApiError> {
    let caller = ctx.agentid()?;
    if caller != agentid {
        return Err(ApiError::new(
            ErrorCode::NO_APP_PERMISSION,
            format!(
                "no permission to operate on agentid {agentid}: the access_token belongs to app {caller}"
            ),
        ));
    }
    Ok(caller)
}

async fn message_send(ctx: Ctx, req: MessageSendRequest) -> Result<MessageSendResponse, ApiError> {
    let agentid = sender(&ctx, req.agentid)?;
    if let MessageContent::Unknown(v) = &req.content {
        let tag = v.get("msgtype").and_then(Value::as_str).unwrap_or("");
        return Err(ApiError::new(
            ErrorCode::INVALID_MSGTYPE,
            format!("invalid message type `{tag}`"),
        ));
    }
    let state = ctx.state();

    // enable_duplicate_check: the same app, recipients and content within the window is
    // answered with the first answer and not delivered again. Checking, handling and
    // remembering are one step so two identical sends arriving together deliver once.
    if req.enable_duplicate_check == Some(true) {
        let key = duplicate_key(agentid, &req)?;
        let interval = u64::from(req.duplicate_check_interval.unwrap_or(0));
        let fresh = state.send_once(key, interval, || {
            let sent = prepare_send(&ctx, agentid, &req)?;
            let answer = to_value(&sent.answer)?;
            Ok((sent, answer))
        })?;
        return match fresh {
            Once::Repeat(answer) => serde_json::from_value(answer)
                .map_err(|e| ApiError::new(ErrorCode::SYSTEM_BUSY, format!("system busy ({e})"))),
            Once::Fresh(sent) => Ok(sent.deliver(state)),
        };
    }
    Ok(prepare_send(&ctx, agentid, &req)?.deliver(state))
}

/// The duplicate-check key of a send: the app, the recipients, and the rest of the request
/// (without the two duplicate-check fields) as canonical JSON.
fn duplicate_key(agentid: u32, req: &MessageSendRequest) -> Result<DuplicateKey, ApiError> {
    let mut body = to_value(req)?;
    if let Some(o) = body.as_object_mut() {
        for field in [
            "enable_duplicate_check",
            "duplicate_check_interval",
            "agentid",
            "touser",
            "toparty",
            "totag",
        ] {
            o.remove(field);
        }
    }
    let recipients = format!(
        "{}\n{:?}\n{:?}",
        req.touser.join("|"),
        req.toparty,
        req.totag
    );
    Ok(DuplicateKey::new(
        agentid,
        &recipients,
        body.to_string().as_bytes(),
    ))
}

/// A send resolved and answered but not yet delivered.
struct PreparedSend {
    agentid: u32,
    answer: MessageSendResponse,
    users: Vec<String>,
    msgtype: String,
    message: Value,
}

impl PreparedSend {
    fn deliver(self, state: &State) -> MessageSendResponse {
        let msgid = self.answer.msgid.clone().unwrap_or_default();
        for userid in &self.users {
            state.deliver(
                self.agentid,
                userid,
                &msgid,
                &self.msgtype,
                self.message.clone(),
            );
        }
        self.answer
    }
}

/// Resolves the recipients, mints the msgid (and the response_code of an interactive card) and
/// builds the answer; delivers nothing.
fn prepare_send(
    ctx: &Ctx,
    agentid: u32,
    req: &MessageSendRequest,
) -> Result<PreparedSend, ApiError> {
    let state = ctx.state();
    let spec = RecipientSpec {
        users: req.touser.clone(),
        parties: req.toparty.iter().map(u32::to_string).collect(),
        tags: req.totag.iter().map(u32::to_string).collect(),
    };
    let resolved = state.corp().resolve_recipients(agentid, &spec)?;
    let msgid = state.next_msgid();
    let msgtype = req.content.tag().unwrap_or_default().to_owned();
    let mut message = to_value(&req.content)?;
    if let (Some(o), Some(safe)) = (message.as_object_mut(), &req.safe) {
        o.insert("safe".into(), Value::from(safe.code()));
    }
    let interactive = matches!(
        &req.content,
        MessageContent::TemplateCard(t) if matches!(t.card, TemplateCard::ButtonInteraction(_) | TemplateCard::VoteInteraction(_) | TemplateCard::MultipleInteraction(_))
    );
    let response_code =
        interactive.then(|| mint_card_code(state, agentid, &msgid, resolved.users.clone()));
    let parse = |v: &[String]| {
        v.iter()
            .filter_map(|s| s.parse::<u32>().ok())
            .collect::<Vec<u32>>()
    };
    Ok(PreparedSend {
        agentid,
        answer: {
            let mut answer = MessageSendResponse::new()
                .invaliduser(resolved.invalid_users)
                .invalidparty(parse(&resolved.invalid_parties))
                .invalidtag(parse(&resolved.invalid_tags))
                .msgid(msgid);
            answer.response_code = response_code;
            answer
        },
        users: resolved.users,
        msgtype,
        message,
    })
}

async fn message_recall(
    ctx: Ctx,
    req: MessageRecallRequest,
) -> Result<MessageRecallResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let deliveries = state.deliveries(&req.msgid);
    let Some(first) = deliveries.first() else {
        return Err(ApiError::invalid_parameter(format_args!(
            "no message with msgid `{}`",
            req.msgid
        )));
    };
    if first.agentid != agentid {
        return Err(ApiError::new(
            ErrorCode::NO_APP_PERMISSION,
            format!(
                "msgid `{}` was sent by app {}, not {agentid}",
                req.msgid, first.agentid
            ),
        ));
    }
    let age = state.now_secs() - first.at;
    if age > RECALL_WINDOW_SECS {
        return Err(ApiError::new(
            ErrorCode::MSGID_EXPIRED,
            format!("msgid expired: it was sent {age} s ago; recall works for 24 hours"),
        ));
    }
    state.recall(&req.msgid);
    Ok(MessageRecallResponse::new())
}

async fn message_update_template_card(
    ctx: Ctx,
    req: MessageUpdateTemplateCardRequest,
) -> Result<MessageUpdateTemplateCardResponse, ApiError> {
    let agentid = sender(&ctx, req.agentid)?;
    let state = ctx.state();
    let now = state.now_secs();
    let b = book(state);
    let mut inner = lock(&b.inner);
    let code = match inner.codes.get_mut(&req.response_code) {
        Some(c) if !c.used && now - c.created <= RESPONSE_CODE_TTL_SECS => c,
        Some(c) if c.used => {
            return Err(ApiError::new(
                60140, /* not in spec/errcodes.toml */
                "invalid response_code: it was already used",
            ));
        }
        Some(_) => {
            return Err(ApiError::new(
                60140, /* not in spec/errcodes.toml */
                "invalid response_code: it expired (72 hours)",
            ));
        }
        None => {
            return Err(ApiError::new(
                60140, /* not in spec/errcodes.toml */
                "invalid response_code",
            ));
        }
    };
    if code.agentid != agentid {
        return Err(ApiError::new(
            42015, /* not in spec/errcodes.toml */
            format!("the card was sent by app {}, not {agentid}", code.agentid),
        ));
    }
    code.used = true;
    let code = code.clone();
    let mut targets: Vec<String> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    if req.atall == Some(true) {
        targets.clone_from(&code.recipients);
    } else {
        let corp = state.corp();
        for u in &req.userids {
            match code.recipients.iter().find(|r| r.eq_ignore_ascii_case(u)) {
                Some(r) => targets.push(r.clone()),
                None => invalid.push(u.clone()),
            }
        }
        for r in &code.recipients {
            let Ok(m) = corp.member(r) else { continue };
            let in_party = req
                .partyids
                .iter()
                .any(|p| m.department.iter().any(|d| d == p || corp.is_under(*d, *p)));
            let in_tag = req.tagids.iter().any(|t| {
                corp.tag(*t)
                    .is_ok_and(|tag| tag.users.iter().any(|u| u.eq_ignore_ascii_case(r)))
            });
            if (in_party || in_tag) && !targets.contains(r) {
                targets.push(r.clone());
            }
        }
    }
    let update = match (&req.button, &req.template_card) {
        (Some(b), _) => serde_json::json!({ "button": to_value(b)? }),
        (None, Some(c)) => serde_json::json!({ "template_card": to_value(c)? }),
        (None, None) => {
            return Err(ApiError::invalid_parameter(
                "button or template_card is required",
            ));
        }
    };
    inner.card_updates.push(CardUpdate {
        msgid: code.msgid,
        userids: targets,
        update,
        at: now,
    });
    let mut answer = MessageUpdateTemplateCardResponse::new();
    answer.invaliduser = invalid;
    Ok(answer)
}

// ------------------------------------------------------------------------------------------------
// Media

/// A generated multipart request together with the bytes of its `media` part (the handler stores
/// them; the request's `Upload` is only for validation).
#[derive(Debug)]
pub(crate) struct Uploaded<R> {
    pub(crate) request: R,
    pub(crate) file: FormPart,
}

impl<R: Endpoint + std::fmt::Debug> Endpoint for Uploaded<R> {
    type Response = R::Response;
    const META: EndpointMeta = R::META;

    fn validate(&self) -> Result<(), InvalidInput> {
        self.request.validate()
    }
    fn query(&self) -> Query {
        self.request.query()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        self.request.body()
    }
    fn decode(body: Bytes) -> Result<Self::Response, DecodeError> {
        R::decode(body)
    }
}

impl<R: Endpoint + FromWire + std::fmt::Debug + 'static> WireRequest for Uploaded<R> {
    fn parse_wire(wire: &Wire<'_>) -> Result<Self, ApiError> {
        let parts = multipart::parse(wire)?;
        let file = parts
            .iter()
            .find(|p| p.name == "media")
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    44001, /* not in spec/errcodes.toml */
                    "empty media data: no multipart part named `media`",
                )
            })?;
        let uploads = parts
            .into_iter()
            .map(|p| (p.name.clone(), p.into_upload()))
            .collect();
        let request =
            R::from_wire(WireInput::multipart(wire.query, uploads)).map_err(|e| wire_error(&e))?;
        Ok(Uploaded { request, file })
    }
}

async fn media_upload(
    ctx: Ctx,
    req: Uploaded<MediaUploadRequest>,
) -> Result<MediaUploadResponse, ApiError> {
    ctx.actor()?;
    let kind = req.request.media_type.clone();
    if matches!(kind, MediaType::Unknown(_)) {
        return Err(ApiError::new(
            40005, /* not in spec/errcodes.toml */
            format!("invalid media type `{kind}`: use image, voice, video or file"),
        ));
    }
    let state = ctx.state();
    let id = state.store_media(
        kind.as_str(),
        req.file.bytes.clone(),
        &req.file.content_type,
        req.file.file_name(),
        false,
    );
    Ok(MediaUploadResponse::new(
        kind,
        id,
        state.now_secs().to_string(),
    ))
}

async fn media_uploadimg(
    ctx: Ctx,
    req: Uploaded<MediaUploadimgRequest>,
) -> Result<MediaUploadimgResponse, ApiError> {
    ctx.actor()?;
    let state = ctx.state();
    let id = state.store_media(
        "uploadimg",
        req.file.bytes.clone(),
        &req.file.content_type,
        req.file.file_name(),
        true,
    );
    Ok(MediaUploadimgResponse::new(state.media_url(&id)))
}

/// Parses `bytes=first-last`, `bytes=first-` or `bytes=-suffix` against a length.
pub(crate) fn parse_range(header: &str, len: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let bad =
        || ApiError::invalid_parameter(format_args!("Range `{header}` is not `bytes=first-last`"));
    let spec = header.trim().strip_prefix("bytes=").ok_or_else(bad)?;
    if spec.contains(',') {
        return Err(ApiError::invalid_parameter(
            "multiple ranges are not supported",
        ));
    }
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let (first, last) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| bad())?;
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (first, "") => (first.parse().map_err(|_| bad())?, len.saturating_sub(1)),
        (first, last) => (
            first.parse().map_err(|_| bad())?,
            last.parse::<u64>()
                .map_err(|_| bad())?
                .min(len.saturating_sub(1)),
        ),
    };
    if first >= len {
        return Ok(None);
    }
    if last < first {
        return Err(bad());
    }
    Ok(Some((first, last)))
}

/// media/get with the request's `Range` header.
#[derive(Debug)]
struct Ranged {
    request: MediaGetRequest,
    range: Option<String>,
}

impl Endpoint for Ranged {
    type Response = Bytes;
    const META: EndpointMeta = <MediaGetRequest as Endpoint>::META;

    fn validate(&self) -> Result<(), InvalidInput> {
        <MediaGetRequest as Endpoint>::validate(&self.request)
    }
    fn query(&self) -> Query {
        self.request.query()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        self.request.body()
    }
    fn decode(body: Bytes) -> Result<Bytes, DecodeError> {
        Ok(body)
    }
}

impl WireRequest for Ranged {
    fn parse_wire(wire: &Wire<'_>) -> Result<Self, ApiError> {
        let request = MediaGetRequest::from_wire(WireInput::json(wire.query, wire.body))
            .map_err(|e| wire_error(&e))?;
        Ok(Ranged {
            request,
            range: wire.range.map(str::to_owned),
        })
    }
}

async fn media_get(ctx: Ctx, req: Ranged) -> Result<Binary, ApiError> {
    ctx.actor()?;
    let state = ctx.state();
    let media = state.media(&req.request.media_id).ok_or_else(|| {
        ApiError::new(
            ErrorCode::INVALID_MEDIA_ID,
            format!(
                "invalid media_id `{}`: unknown or expired",
                req.request.media_id
            ),
        )
    })?;
    let total = media.bytes.len() as u64;
    let (bytes, range) = match req.range.as_deref() {
        None if total > MAX_WHOLE_DOWNLOAD => {
            return Err(ApiError::new(
                ErrorCode::DOWNLOAD_TOO_LARGE,
                format!(
                    "file too large ({total} bytes): download it in ranges (Range header) of at most 20 MB"
                ),
            ));
        }
        None => (media.bytes.clone(), None),
        Some(header) => match parse_range(header, total)? {
            // Past the end: nothing left.
            None => (Bytes::new(), None),
            Some((first, last)) => {
                if last - first + 1 > MAX_WHOLE_DOWNLOAD {
                    return Err(ApiError::new(
                        ErrorCode::DOWNLOAD_TOO_LARGE,
                        "the requested Range is larger than 20 MB",
                    ));
                }
                // Positions are below `total`, a usize length.
                let (a, b) = (
                    usize::try_from(first).unwrap_or(usize::MAX),
                    usize::try_from(last).unwrap_or(usize::MAX),
                );
                (media.bytes.slice(a..=b), Some((first, last, total)))
            }
        },
    };
    Ok(Binary {
        bytes,
        content_type: media.content_type.clone(),
        filename: media.filename.clone(),
        range,
    })
}

// ------------------------------------------------------------------------------------------------
// App group chats

fn check_chat_scope(state: &State, agentid: u32) -> Result<(), ApiError> {
    if state.corp().scope(Actor::App(agentid)).is_whole_corp() {
        Ok(())
    } else {
        Err(ApiError::no_privilege(format_args!(
            "app {agentid}: app group chats need the app's visible scope to be the whole corp (root department)"
        )))
    }
}

fn canonical_members(state: &State, users: &[String]) -> Result<Vec<String>, ApiError> {
    let corp = state.corp();
    let mut out: Vec<String> = Vec::with_capacity(users.len());
    for u in users {
        match corp.member(u) {
            Ok(m) if m.is_reachable() => {
                if !out.contains(&m.userid) {
                    out.push(m.userid.clone());
                }
            }
            _ => {
                return Err(ApiError::new(
                    86216, /* not in spec/errcodes.toml */
                    format!("invalid chat member userid `{u}`"),
                ));
            }
        }
    }
    Ok(out)
}

async fn appchat_create(
    ctx: Ctx,
    req: AppchatCreateRequest,
) -> Result<AppchatCreateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    check_chat_scope(state, agentid)?;
    let users = canonical_members(state, &req.userlist)?;
    if users.len() < 2 {
        return Err(ApiError::new(
            86216, /* not in spec/errcodes.toml */
            "a chat needs at least 2 distinct members",
        ));
    }
    let owner = match &req.owner {
        Some(o) => users
            .iter()
            .find(|u| u.eq_ignore_ascii_case(o))
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    86216, /* not in spec/errcodes.toml */
                    format!("owner `{o}` is not in userlist"),
                )
            })?,
        None => users[rand::rng().random_range(0..users.len())].clone(),
    };
    let b = book(state);
    let mut inner = lock(&b.inner);
    let chatid = match &req.chatid {
        Some(id) if inner.chats.contains_key(id) => {
            return Err(ApiError::new(
                86215, /* not in spec/errcodes.toml */
                format!("chatid `{id}` already exists"),
            ));
        }
        Some(id) => id.clone(),
        None => loop {
            let id = random_id(20);
            if !inner.chats.contains_key(&id) {
                break id;
            }
        },
    };
    let name = req.name.clone().unwrap_or_default();
    inner.chats.insert(
        chatid.clone(),
        ChatRecord {
            agentid,
            name,
            owner,
            users,
        },
    );
    Ok(AppchatCreateResponse::new(chatid))
}

fn chat_of<'a>(
    inner: &'a mut BookInner,
    chatid: &str,
    agentid: u32,
) -> Result<&'a mut ChatRecord, ApiError> {
    match inner.chats.get_mut(chatid) {
        Some(c) if c.agentid == agentid => Ok(c),
        _ => Err(ApiError::new(
            ErrorCode::CHATID_NOT_FOUND,
            format!("chatid `{chatid}` does not exist (for app {agentid})"),
        )),
    }
}

async fn appchat_update(
    ctx: Ctx,
    req: AppchatUpdateRequest,
) -> Result<AppchatUpdateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    check_chat_scope(state, agentid)?;
    let add = canonical_members(state, &req.add_user_list)?;
    let b = book(state);
    let mut inner = lock(&b.inner);
    let chat = chat_of(&mut inner, &req.chatid, agentid)?;
    let mut users = chat.users.clone();
    for u in add {
        if !users.contains(&u) {
            users.push(u);
        }
    }
    users.retain(|u| !req.del_user_list.iter().any(|d| d.eq_ignore_ascii_case(u)));
    let owner = req.owner.clone().unwrap_or_else(|| chat.owner.clone());
    let Some(owner) = users
        .iter()
        .find(|u| u.eq_ignore_ascii_case(&owner))
        .cloned()
    else {
        return Err(ApiError::new(
            86216, /* not in spec/errcodes.toml */
            format!("owner `{owner}` would not be a member of the chat"),
        ));
    };
    if users.len() < 2 {
        return Err(ApiError::new(
            86216, /* not in spec/errcodes.toml */
            "a chat keeps at least 2 members",
        ));
    }
    chat.users = users;
    chat.owner = owner;
    if let Some(name) = &req.name {
        chat.name.clone_from(name);
    }
    Ok(AppchatUpdateResponse::new())
}

async fn appchat_get(ctx: Ctx, req: AppchatGetRequest) -> Result<AppchatGetResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let b = book(ctx.state());
    let mut inner = lock(&b.inner);
    let chat = chat_of(&mut inner, &req.chatid, agentid)?;
    let mut info = AppChat::new(req.chatid.clone());
    info.name = Some(chat.name.clone());
    info.owner = Some(chat.owner.clone());
    info.userlist.clone_from(&chat.users);
    info.chat_type = Some(0);
    Ok(AppchatGetResponse::new(info))
}

async fn appchat_send(ctx: Ctx, req: AppchatSendRequest) -> Result<AppchatSendResponse, ApiError> {
    let agentid = ctx.agentid()?;
    if let AppChatContent::Unknown(v) = &req.content {
        let tag = v.get("msgtype").and_then(Value::as_str).unwrap_or("");
        return Err(ApiError::new(
            ErrorCode::INVALID_MSGTYPE,
            format!("invalid message type `{tag}` for an app group chat"),
        ));
    }
    let state = ctx.state();
    let mut message = to_value(&req.content)?;
    if let (Some(o), Some(safe)) = (message.as_object_mut(), &req.safe) {
        o.insert("safe".into(), Value::from(safe.code()));
    }
    let now = state.now_secs();
    let b = book(state);
    let mut inner = lock(&b.inner);
    chat_of(&mut inner, &req.chatid, agentid)?;
    inner.chat_messages.push(ChatMessage {
        chatid: req.chatid.clone(),
        agentid,
        message,
        at: now,
    });
    Ok(AppchatSendResponse::new())
}

// ------------------------------------------------------------------------------------------------
// Group robots

fn robot_name(ctx: &Ctx) -> Result<String, ApiError> {
    match ctx.caller() {
        Caller::Robot(name) => Ok(name.clone()),
        _ => Err(ApiError::new(
            ErrorCode::INVALID_ROBOT_KEY,
            "invalid webhook url, please check the key of the robot",
        )),
    }
}

/// Counts one post of a robot; 45009 past 20 in the last 60 seconds.
fn admit_robot(state: &State, robot: &str) -> Result<(), ApiError> {
    let now = state.now_secs();
    let b = book(state);
    let mut inner = lock(&b.inner);
    let posts = inner.robot_posts.entry(robot.to_owned()).or_default();
    while posts.front().is_some_and(|t| now - *t >= 60) {
        posts.pop_front();
    }
    if posts.len() >= ROBOT_PER_MINUTE {
        return Err(ApiError::new(
            ErrorCode::API_FREQUENCY_LIMIT,
            format!("api freq out of limit: a robot may send {ROBOT_PER_MINUTE} messages a minute"),
        ));
    }
    posts.push_back(now);
    Ok(())
}

fn check_robot_image(base64: &str, md5_hex: &str) -> Result<(), ApiError> {
    use md5::{Digest, Md5};
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map_err(|e| {
            ApiError::new(
                40009, /* not in spec/errcodes.toml */
                format!("invalid image: base64 does not decode ({e})"),
            )
        })?;
    if bytes.len() > 2 * 1024 * 1024 {
        return Err(ApiError::new(
            40009, /* not in spec/errcodes.toml */
            format!("invalid image size: {} bytes; at most 2 MB", bytes.len()),
        ));
    }
    let digest: String = Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !digest.eq_ignore_ascii_case(md5_hex) {
        return Err(ApiError::new(
            301019, /* not in spec/errcodes.toml */
            format!("md5 mismatch: the image's md5 is {digest}"),
        ));
    }
    Ok(())
}

async fn webhook_send(ctx: Ctx, req: WebhookSendRequest) -> Result<WebhookSendResponse, ApiError> {
    let robot = robot_name(&ctx)?;
    match &req.content {
        RobotMessage::Unknown(v) => {
            let tag = v.get("msgtype").and_then(Value::as_str).unwrap_or("");
            return Err(ApiError::new(
                ErrorCode::INVALID_MSGTYPE,
                format!("invalid message type `{tag}` for a group robot"),
            ));
        }
        RobotMessage::Image(img) => check_robot_image(&img.base64, &img.md5)?,
        _ => {}
    }
    let state = ctx.state();
    admit_robot(state, &robot)?;
    state.post_robot(&robot, to_value(&req.content)?);
    Ok(WebhookSendResponse::new())
}

async fn webhook_upload_media(
    ctx: Ctx,
    req: Uploaded<WebhookUploadMediaRequest>,
) -> Result<WebhookUploadMediaResponse, ApiError> {
    robot_name(&ctx)?;
    let kind = req.request.media_type.clone();
    let state = ctx.state();
    let id = state.store_media(
        kind.as_str(),
        req.file.bytes.clone(),
        &req.file.content_type,
        req.file.file_name(),
        false,
    );
    Ok(WebhookUploadMediaResponse::new(
        kind,
        id,
        state.now_secs().to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-200", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-", 100).unwrap(), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-199", 100).unwrap(), None);
        assert!(parse_range("items=0-1", 100).is_err());
        assert!(parse_range("bytes=9-1", 100).is_err());
    }
}
