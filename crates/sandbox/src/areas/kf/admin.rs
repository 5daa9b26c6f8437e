//! Customers of 微信客服, played through the admin API (JSON in, JSON out), and the
//! `kf_msg_or_event` callback each of their actions pushes to the app managing the account (or the
//! `agentid` the request names), as WeCom does.
//!
//! | method + path | body | does |
//! |---|---|---|
//! | `POST /sandbox/kf/{open_kfid}/customers/{external_userid}/send` | `{"content", "nickname"?, "agentid"?}` | the customer writes (session 4 -> 0, send window restarts), callback pushed |
//! | `POST /sandbox/kf/{open_kfid}/customers/{external_userid}/enter` | `{"scene"?, "nickname"?, "agentid"?}` | the customer opens the account's link: an enter_session event with a welcome_code, callback pushed |
//! | `GET /sandbox/kf/sent` | | what the API sent to customers (send_msg, send_msg_on_event) |
//! | `POST /sandbox/kf/upgrade-config` | `{"userid_list", "chat_id_list"}` | sets 「升级服务」's members and groups |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use wecom_callback::{Event, EventKind, Header, Inbound};

use super::desk::KfDesk;
use crate::admin::AdminError;
use crate::app::App;
use crate::callbacks::CallbackRecord;
use crate::state::State;

/// What a customer action did.
#[derive(Debug, Clone)]
pub struct CustomerAction {
    /// The logged message's id (send), or the welcome_code (enter).
    pub id: String,
    /// The callback token minted for it.
    pub token: String,
    /// The pushes made (none when the receiving app has no callback URL).
    pub callbacks: Vec<CallbackRecord>,
}

/// The customer `external_userid` writes `content` to the account.
///
/// # Errors
/// An unknown account or app, or bad input.
pub async fn customer_sends(
    state: &Arc<State>,
    open_kfid: &str,
    external_userid: &str,
    nickname: &str,
    content: &str,
    agentid: Option<u32>,
) -> Result<CustomerAction, AdminError> {
    check_ids(open_kfid, external_userid)?;
    if content.is_empty() || content.len() > 2048 {
        return Err(AdminError::Invalid(
            "content must be 1 to 2048 bytes".into(),
        ));
    }
    let now = state.now_secs();
    let (msgid, token, manager) = KfDesk::of(state).with(|d| {
        let msgid = d
            .customer_writes(open_kfid, external_userid, nickname, content, now)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        let token = d.new_token(now);
        let manager = d.account(open_kfid).ok().and_then(|a| a.manager);
        Ok::<_, AdminError>((msgid, token, manager))
    })?;
    let callbacks = push(state, agentid.or(manager), open_kfid, &token, now).await?;
    Ok(CustomerAction {
        id: msgid,
        token,
        callbacks,
    })
}

/// The customer opens the account's link (an enter_session event with a welcome_code).
///
/// # Errors
/// An unknown account or app, or bad input.
pub async fn customer_enters(
    state: &Arc<State>,
    open_kfid: &str,
    external_userid: &str,
    nickname: &str,
    scene: &str,
    agentid: Option<u32>,
) -> Result<CustomerAction, AdminError> {
    check_ids(open_kfid, external_userid)?;
    let now = state.now_secs();
    let (code, token, manager) = KfDesk::of(state).with(|d| {
        let code = d
            .customer_enters(open_kfid, external_userid, nickname, scene, now)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        let token = d.new_token(now);
        let manager = d.account(open_kfid).ok().and_then(|a| a.manager);
        Ok::<_, AdminError>((code, token, manager))
    })?;
    let callbacks = push(state, agentid.or(manager), open_kfid, &token, now).await?;
    Ok(CustomerAction {
        id: code,
        token,
        callbacks,
    })
}

fn check_ids(open_kfid: &str, external_userid: &str) -> Result<(), AdminError> {
    if external_userid.is_empty() || external_userid.len() > 64 {
        return Err(AdminError::Invalid(
            "external_userid must be 1 to 64 bytes (e.g. wmCustomer1)".into(),
        ));
    }
    if open_kfid.is_empty() || open_kfid.len() > 64 {
        return Err(AdminError::Invalid(
            "open_kfid must be 1 to 64 bytes".into(),
        ));
    }
    Ok(())
}

/// Pushes `kf_msg_or_event` to the app's callback URL (nothing when it has none or no app is known).
async fn push(
    state: &Arc<State>,
    agentid: Option<u32>,
    open_kfid: &str,
    token: &str,
    now: i64,
) -> Result<Vec<CallbackRecord>, AdminError> {
    let Some(agentid) = agentid else {
        return Ok(Vec::new());
    };
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
            agent_id: None,
        },
        kind: EventKind::KfMsgOrEvent {
            token: token.to_owned(),
            open_kfid: Some(open_kfid.to_owned()),
        },
    })
    .to_xml();
    Ok(vec![
        state
            .callbacks
            .push(&cfg, &corpid, Some(agentid), &xml, now)
            .await,
    ])
}

#[derive(Deserialize)]
struct SendBody {
    content: String,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    agentid: Option<u32>,
}

#[derive(Deserialize)]
struct EnterBody {
    #[serde(default)]
    scene: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    agentid: Option<u32>,
}

#[derive(Deserialize)]
struct UpgradeBody {
    #[serde(default)]
    userid_list: Vec<String>,
    #[serde(default)]
    chat_id_list: Vec<String>,
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

fn action_json(a: CustomerAction, id_name: &str) -> Response {
    axum::Json(json!({ id_name: a.id, "token": a.token, "callbacks": a.callbacks })).into_response()
}

async fn send_route(
    AxState(app): AxState<App>,
    Path((open_kfid, external_userid)): Path<(String, String)>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: SendBody = parse(&body)?;
    let nick = b.nickname.unwrap_or_else(|| external_userid.clone());
    let a = customer_sends(
        &app.state,
        &open_kfid,
        &external_userid,
        &nick,
        &b.content,
        b.agentid,
    )
    .await?;
    Ok(action_json(a, "msgid"))
}

async fn enter_route(
    AxState(app): AxState<App>,
    Path((open_kfid, external_userid)): Path<(String, String)>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: EnterBody = parse(&body)?;
    let nick = b.nickname.unwrap_or_else(|| external_userid.clone());
    let scene = b.scene.unwrap_or_default();
    let a = customer_enters(
        &app.state,
        &open_kfid,
        &external_userid,
        &nick,
        &scene,
        b.agentid,
    )
    .await?;
    Ok(action_json(a, "welcome_code"))
}

async fn sent_route(AxState(app): AxState<App>) -> Response {
    let sent: Vec<Value> = KfDesk::of(&app.state).with(|d| d.sent.clone());
    axum::Json(json!({ "sent": sent })).into_response()
}

async fn upgrade_route(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: UpgradeBody = parse(&body)?;
    KfDesk::of(&app.state).with(|d| {
        d.upgrade_members = b.userid_list;
        d.upgrade_chats = b.chat_id_list;
    });
    Ok(axum::Json(json!({"ok": true})).into_response())
}

/// The 微信客服 admin routes (merged into `/sandbox/` by `admin/routes.rs`).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/sandbox/kf/{open_kfid}/customers/{external_userid}/send",
            post(send_route),
        )
        .route(
            "/sandbox/kf/{open_kfid}/customers/{external_userid}/enter",
            post(enter_route),
        )
        .route("/sandbox/kf/sent", get(sent_route))
        .route("/sandbox/kf/upgrade-config", post(upgrade_route))
}
