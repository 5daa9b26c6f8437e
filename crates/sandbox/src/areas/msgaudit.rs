//! 会话内容存档 (spec/msgaudit.toml): archived members, customers' agreement (one-to-one and per
//! group), archived internal groups, and the `msgaudit_notify` callback when a message is archived.
//!
//! The chat content itself goes through Tencent's Finance SDK, which the sandbox does not imitate:
//! an archived message is kept here (its plain JSON, in the page's format, with a seq) so a person
//! or a test can see what was archived, and the app named by the admin action gets the callback.
//!
//! Admin routes (JSON in, JSON out):
//!
//! | method + path | body | does |
//! |---|---|---|
//! | `POST /sandbox/msgaudit/permit` | `{"userids": [..], "edition"?: 1/2/3}` | adds members to the archive (of an edition) |
//! | `POST /sandbox/msgaudit/agree` | `{"userid", "external_userid", "status": "Agree"/"Disagree"}` | a customer agrees or refuses (one-to-one) |
//! | `POST /sandbox/msgaudit/rooms` | `{"roomid", "roomname"?, "creator", "notice"?, "members": [..], "external": bool?}` | an archived group (internal unless `external`) |
//! | `POST /sandbox/msgaudit/rooms/{roomid}/agree` | `{"external_userid", "status"}` | an external member of a group agrees or refuses |
//! | `POST /sandbox/msgaudit/archive` | `{"from", "tolist", "roomid"?, "content", "agentid"?}` | archives a text message and pushes `msgaudit_notify` to the app |
//! | `GET /sandbox/msgaudit/archive` | | the archived messages (seq + the message's JSON) |
//! | `POST /sandbox/msgaudit/expired` | `{"expired": bool}` | the corp's archive service expired (301052) or not |

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_msgaudit::{
    AgreeStatus, ArchivedRoomMember, MsgAuditEdition, MsgauditCheckRoomAgreeRequest,
    MsgauditCheckRoomAgreeResponse, MsgauditCheckSingleAgreeRequest,
    MsgauditCheckSingleAgreeResponse, MsgauditGetPermitUserListRequest,
    MsgauditGetPermitUserListResponse, MsgauditGroupchatGetRequest, MsgauditGroupchatGetResponse,
    RoomAgreeInfo, SingleAgreeInfo,
};

use crate::admin::AdminError;
use crate::app::App;
use crate::callbacks::CallbackRecord;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

/// 会话存档服务已过期 (named on the 内部群信息 page, 92951).
pub const ARCHIVE_EXPIRED: i64 = 301052;

#[derive(Debug, Clone)]
struct Agreement {
    status: AgreeStatus,
    changed: i64,
}

#[derive(Debug, Clone)]
struct Room {
    roomname: String,
    creator: String,
    created: i64,
    notice: String,
    members: Vec<(String, i64)>,
    internal: bool,
    agreements: BTreeMap<String, Agreement>,
}

/// One archived message.
#[derive(Debug, Clone)]
pub struct ArchivedMessage {
    /// Its seq (1, 2, ...).
    pub seq: u64,
    /// The message's JSON, as `DecryptData` gives it.
    pub message: Value,
}

#[derive(Debug, Default)]
struct Inner {
    permit: BTreeMap<String, Option<MsgAuditEdition>>,
    single: HashMap<(String, String), Agreement>,
    rooms: HashMap<String, Room>,
    archive: Vec<ArchivedMessage>,
    expired: bool,
}

/// The corp's archive (area state in [`State::extension`]).
#[derive(Debug, Default)]
pub struct MsgAudit {
    inner: Mutex<Inner>,
}

/// Registers the endpoints.
pub fn register(r: &mut Registry) {
    r.add::<MsgauditGetPermitUserListRequest, _, _>(get_permit_user_list);
    r.add::<MsgauditCheckSingleAgreeRequest, _, _>(check_single_agree);
    r.add::<MsgauditCheckRoomAgreeRequest, _, _>(check_room_agree);
    r.add::<MsgauditGroupchatGetRequest, _, _>(groupchat_get);
}

fn expired(inner: &Inner) -> Result<(), ApiError> {
    if inner.expired {
        return Err(ApiError::new(ARCHIVE_EXPIRED, "msgaudit service expired"));
    }
    Ok(())
}

async fn get_permit_user_list(
    ctx: Ctx,
    req: MsgauditGetPermitUserListRequest,
) -> Result<MsgauditGetPermitUserListResponse, ApiError> {
    let archive = ctx.state().extension::<MsgAudit>();
    let inner = lock(&archive.inner);
    expired(&inner)?;
    let mut answer = MsgauditGetPermitUserListResponse::new();
    answer.ids = inner
        .permit
        .iter()
        .filter(|(_, edition)| match &req.edition {
            None => true,
            Some(want) => edition.as_ref() == Some(want),
        })
        .map(|(userid, _)| userid.clone())
        .collect();
    Ok(answer)
}

async fn check_single_agree(
    ctx: Ctx,
    req: MsgauditCheckSingleAgreeRequest,
) -> Result<MsgauditCheckSingleAgreeResponse, ApiError> {
    let archive = ctx.state().extension::<MsgAudit>();
    let inner = lock(&archive.inner);
    expired(&inner)?;
    let mut answer = MsgauditCheckSingleAgreeResponse::new();
    // A pair nobody recorded an answer for: the page does not say what WeCom returns for it; the
    // sandbox leaves it out of `agreeinfo`.
    for pair in &req.info {
        let key = (pair.userid.clone(), pair.external_openid.clone());
        if let Some(a) = inner.single.get(&key) {
            let mut info = SingleAgreeInfo::new();
            info.userid = Some(pair.userid.clone());
            info.external_openid = Some(pair.external_openid.clone());
            info.agree_status = Some(a.status.clone());
            info.status_change_time = Some(a.changed);
            answer.agreeinfo.push(info);
        }
    }
    Ok(answer)
}

fn unknown_room(roomid: &str) -> ApiError {
    // The page names no errcode for an unknown roomid.
    ApiError::invalid_parameter(format!("unknown roomid {roomid}"))
}

async fn check_room_agree(
    ctx: Ctx,
    req: MsgauditCheckRoomAgreeRequest,
) -> Result<MsgauditCheckRoomAgreeResponse, ApiError> {
    let archive = ctx.state().extension::<MsgAudit>();
    let inner = lock(&archive.inner);
    expired(&inner)?;
    let room = inner
        .rooms
        .get(&req.roomid)
        .ok_or_else(|| unknown_room(&req.roomid))?;
    let mut answer = MsgauditCheckRoomAgreeResponse::new();
    for (external, a) in &room.agreements {
        let mut info = RoomAgreeInfo::new();
        info.external_openid = Some(external.clone());
        info.agree_status = Some(a.status.clone());
        info.status_change_time = Some(a.changed);
        answer.agreeinfo.push(info);
    }
    Ok(answer)
}

async fn groupchat_get(
    ctx: Ctx,
    req: MsgauditGroupchatGetRequest,
) -> Result<MsgauditGroupchatGetResponse, ApiError> {
    let archive = ctx.state().extension::<MsgAudit>();
    let inner = lock(&archive.inner);
    expired(&inner)?;
    let room = inner
        .rooms
        .get(&req.roomid)
        .ok_or_else(|| unknown_room(&req.roomid))?;
    if !room.internal {
        // "只支持内部群" (page 92951); the page names no errcode for an external group.
        return Err(ApiError::invalid_parameter(format!(
            "{} is not an internal group (msgaudit/groupchat/get reads internal groups only)",
            req.roomid
        )));
    }
    let mut answer = MsgauditGroupchatGetResponse::new();
    answer.roomname = Some(room.roomname.clone());
    answer.creator = Some(room.creator.clone());
    answer.room_create_time = Some(room.created);
    answer.notice = Some(room.notice.clone());
    answer.members = room
        .members
        .iter()
        .map(|(id, t)| {
            let mut m = ArchivedRoomMember::new();
            m.memberid = Some(id.clone());
            m.jointime = Some(*t);
            m
        })
        .collect();
    Ok(answer)
}

// ---------------------------------------------------------------------------------------------
// Admin (in-process functions and routes)
// ---------------------------------------------------------------------------------------------

fn status_of(s: &str) -> Result<AgreeStatus, AdminError> {
    match s {
        "Agree" => Ok(AgreeStatus::Agree),
        "Disagree" => Ok(AgreeStatus::Disagree),
        other => Err(AdminError::Invalid(format!(
            "status must be \"Agree\" or \"Disagree\", not {other:?}"
        ))),
    }
}

fn check_id(what: &str, v: &str) -> Result<(), AdminError> {
    if v.is_empty() || v.len() > 128 {
        return Err(AdminError::Invalid(format!(
            "{what} must be 1 to 128 bytes"
        )));
    }
    Ok(())
}

/// Adds members of the corp to the archive, of `edition` (1 办公版, 2 服务版, 3 企业版) when given.
///
/// # Errors
/// An unknown member, or an edition other than 1, 2, 3.
pub fn permit_users(
    state: &State,
    userids: &[String],
    edition: Option<i64>,
) -> Result<(), AdminError> {
    let edition = match edition {
        None => None,
        Some(1) => Some(MsgAuditEdition::Office),
        Some(2) => Some(MsgAuditEdition::Service),
        Some(3) => Some(MsgAuditEdition::Enterprise),
        Some(n) => {
            return Err(AdminError::Invalid(format!(
                "edition must be 1 (办公版), 2 (服务版) or 3 (企业版), not {n}"
            )));
        }
    };
    let ids = {
        let corp = state.corp();
        userids
            .iter()
            .map(|u| corp.member(u).map(|m| m.userid.clone()))
            .collect::<Result<Vec<_>, _>>()?
    };
    let archive = state.extension::<MsgAudit>();
    let mut inner = lock(&archive.inner);
    for id in ids {
        inner.permit.insert(id, edition);
    }
    Ok(())
}

/// Records a customer's answer for its one-to-one chats with `userid`.
///
/// # Errors
/// Bad ids or status.
pub fn set_single_agree(
    state: &State,
    userid: &str,
    external_userid: &str,
    status: &str,
) -> Result<(), AdminError> {
    check_id("userid", userid)?;
    check_id("external_userid", external_userid)?;
    let status = status_of(status)?;
    let changed = state.now_secs();
    let archive = state.extension::<MsgAudit>();
    lock(&archive.inner).single.insert(
        (userid.to_owned(), external_userid.to_owned()),
        Agreement { status, changed },
    );
    Ok(())
}

/// A group the archive knows: `members` (userids, joining now) created by `creator`; an internal
/// group unless `external`.
///
/// # Errors
/// Bad ids.
pub fn add_room(
    state: &State,
    roomid: &str,
    roomname: &str,
    creator: &str,
    notice: &str,
    members: &[String],
    external: bool,
) -> Result<(), AdminError> {
    check_id("roomid", roomid)?;
    check_id("creator", creator)?;
    let now = state.now_secs();
    let archive = state.extension::<MsgAudit>();
    lock(&archive.inner).rooms.insert(
        roomid.to_owned(),
        Room {
            roomname: roomname.to_owned(),
            creator: creator.to_owned(),
            created: now,
            notice: notice.to_owned(),
            members: members.iter().map(|m| (m.clone(), now)).collect(),
            internal: !external,
            agreements: BTreeMap::new(),
        },
    );
    Ok(())
}

/// Records an external group member's answer.
///
/// # Errors
/// An unknown group, bad ids or status.
pub fn set_room_agree(
    state: &State,
    roomid: &str,
    external_userid: &str,
    status: &str,
) -> Result<(), AdminError> {
    check_id("external_userid", external_userid)?;
    let status = status_of(status)?;
    let changed = state.now_secs();
    let archive = state.extension::<MsgAudit>();
    let mut inner = lock(&archive.inner);
    let room = inner
        .rooms
        .get_mut(roomid)
        .ok_or_else(|| AdminError::Invalid(format!("unknown roomid {roomid}: add it first")))?;
    room.agreements
        .insert(external_userid.to_owned(), Agreement { status, changed });
    Ok(())
}

/// The corp's archive service expired (every endpoint answers 301052) or not.
pub fn set_expired(state: &State, expired: bool) {
    lock(&state.extension::<MsgAudit>().inner).expired = expired;
}

/// The archived messages, oldest first.
pub fn archived(state: &State) -> Vec<ArchivedMessage> {
    lock(&state.extension::<MsgAudit>().inner).archive.clone()
}

/// What archiving a message did.
#[derive(Debug, Clone)]
pub struct Archived {
    /// The message's seq.
    pub seq: u64,
    /// Its msgid.
    pub msgid: String,
    /// The `msgaudit_notify` pushes made (none without an app or a callback URL).
    pub callbacks: Vec<CallbackRecord>,
}

/// Archives a text message `from` -> `tolist` (in `roomid` when given), in the page's format, and
/// pushes `msgaudit_notify` to `agentid`'s callback URL when it has one.
///
/// # Errors
/// Bad input, or an unknown app.
pub async fn archive_text(
    state: &Arc<State>,
    from: &str,
    tolist: &[String],
    roomid: Option<&str>,
    content: &str,
    agentid: Option<u32>,
) -> Result<Archived, AdminError> {
    check_id("from", from)?;
    if tolist.is_empty() {
        return Err(AdminError::Invalid("tolist must name a receiver".into()));
    }
    if content.is_empty() {
        return Err(AdminError::Invalid("content must not be empty".into()));
    }
    let now = state.now_secs();
    let (seq, msgid) = {
        let archive = state.extension::<MsgAudit>();
        let mut inner = lock(&archive.inner);
        let seq = inner.archive.len() as u64 + 1;
        let msgid = format!("{}_{}", 10_000_000_000u64 + seq, now);
        inner.archive.push(ArchivedMessage {
            seq,
            message: json!({
                "msgid": msgid,
                "action": "send",
                "from": from,
                "tolist": tolist,
                "roomid": roomid.unwrap_or(""),
                "msgtime": now * 1000,
                "msgtype": "text",
                "text": {"content": content},
            }),
        });
        (seq, msgid)
    };
    let callbacks = match agentid {
        Some(agentid) => push_notify(state, agentid, now).await?,
        None => Vec::new(),
    };
    Ok(Archived {
        seq,
        msgid,
        callbacks,
    })
}

async fn push_notify(
    state: &Arc<State>,
    agentid: u32,
    now: i64,
) -> Result<Vec<CallbackRecord>, AdminError> {
    let (corpid, cfg) = {
        let corp = state.corp();
        let app = corp.app(agentid)?;
        (corp.corpid().to_owned(), app.callback.clone())
    };
    let Some(cfg) = cfg else {
        return Ok(Vec::new());
    };
    let xml = Inbound::Event(Event {
        header: Header {
            to_user_name: corpid.clone(),
            from_user_name: "sys".into(),
            create_time: now,
            agent_id: Some(i64::from(agentid)),
        },
        kind: EventKind::MsgauditNotify,
    })
    .to_xml();
    Ok(vec![
        state
            .callbacks
            .push(&cfg, &corpid, Some(agentid), &xml, now)
            .await,
    ])
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

fn ok() -> Response {
    axum::Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
struct PermitBody {
    userids: Vec<String>,
    #[serde(default)]
    edition: Option<i64>,
}

#[derive(Deserialize)]
struct AgreeBody {
    #[serde(default)]
    userid: String,
    external_userid: String,
    status: String,
}

#[derive(Deserialize)]
struct RoomBody {
    roomid: String,
    #[serde(default)]
    roomname: String,
    creator: String,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    external: bool,
}

#[derive(Deserialize)]
struct ArchiveBody {
    from: String,
    tolist: Vec<String>,
    #[serde(default)]
    roomid: Option<String>,
    content: String,
    #[serde(default)]
    agentid: Option<u32>,
}

#[derive(Deserialize)]
struct ExpiredBody {
    expired: bool,
}

async fn permit_route(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: PermitBody = parse(&body)?;
    permit_users(&app.state, &b.userids, b.edition)?;
    Ok(ok())
}

async fn agree_route(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: AgreeBody = parse(&body)?;
    set_single_agree(&app.state, &b.userid, &b.external_userid, &b.status)?;
    Ok(ok())
}

async fn room_route(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: RoomBody = parse(&body)?;
    add_room(
        &app.state,
        &b.roomid,
        &b.roomname,
        &b.creator,
        &b.notice,
        &b.members,
        b.external,
    )?;
    Ok(ok())
}

async fn room_agree_route(
    AxState(app): AxState<App>,
    Path(roomid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: AgreeBody = parse(&body)?;
    set_room_agree(&app.state, &roomid, &b.external_userid, &b.status)?;
    Ok(ok())
}

async fn archive_route(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: ArchiveBody = parse(&body)?;
    let a = archive_text(
        &app.state,
        &b.from,
        &b.tolist,
        b.roomid.as_deref(),
        &b.content,
        b.agentid,
    )
    .await?;
    Ok(
        axum::Json(json!({"seq": a.seq, "msgid": a.msgid, "callbacks": a.callbacks}))
            .into_response(),
    )
}

async fn archived_route(AxState(app): AxState<App>) -> Response {
    let list: Vec<Value> = archived(&app.state)
        .into_iter()
        .map(|m| json!({"seq": m.seq, "message": m.message}))
        .collect();
    axum::Json(json!({ "archive": list })).into_response()
}

async fn expired_route(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: ExpiredBody = parse(&body)?;
    set_expired(&app.state, b.expired);
    Ok(ok())
}

/// The 会话内容存档 admin routes (merged into `/sandbox/` by `admin/routes.rs`).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/msgaudit/permit", post(permit_route))
        .route("/sandbox/msgaudit/agree", post(agree_route))
        .route("/sandbox/msgaudit/rooms", post(room_route))
        .route(
            "/sandbox/msgaudit/rooms/{roomid}/agree",
            post(room_agree_route),
        )
        .route(
            "/sandbox/msgaudit/archive",
            post(archive_route).get(archived_route),
        )
        .route("/sandbox/msgaudit/expired", post(expired_route))
}
