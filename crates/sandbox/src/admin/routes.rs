//! The admin operations over HTTP, under `/sandbox/` (JSON in, JSON out).
//!
//! Every route here and the web page answer only requests whose `Host` (and `Origin`, when
//! sent) is a loopback name (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`) or one allowed
//! with [`SandboxBuilder::admin_hosts`](crate::SandboxBuilder::admin_hosts); POSTs need
//! `Content-Type: application/json` (the page's own forms need a same-site `Origin` instead), so
//! a web page in the browser cannot drive the sandbox (see `guard.rs`).
//!
//! | method + path | body / query | does |
//! |---|---|---|
//! | `GET /sandbox/state` | | corp summary, counters, faults, limits, clock offset |
//! | `GET /sandbox/counters` | | calls per endpoint, `gettoken` first |
//! | `POST /sandbox/counters/reset` | | zeroes the counters |
//! | `GET /sandbox/corp` | `?format=toml` | the corp (JSON by default), secrets masked |
//! | `GET /sandbox/inbox/{userid}` | | the member's delivered messages |
//! | `GET /sandbox/robots` | | group robot messages |
//! | `GET /sandbox/mail` / `GET /sandbox/mail/{who}` | | mail the apps sent (all / to a userid or address) |
//! | `GET /sandbox/media` / `GET /sandbox/media/{id}` | | uploaded media list / bytes |
//! | `GET /sandbox/callbacks` | | the callback log |
//! | `POST /sandbox/tokens/revoke` | `{"target": "all" \| "contact" \| 1000002}` | revokes tokens (40014 after) |
//! | `POST /sandbox/tokens/ttl` | `{"seconds": 60}` | lifetime of tokens issued from now |
//! | `POST /sandbox/time/advance` | `{"seconds": 7200}` | moves the sandbox clock forward |
//! | `POST /sandbox/faults` | a [`Fault`] | injects a fault |
//! | `POST /sandbox/faults/clear` | `{"endpoint": "user_get"}` or `{}` | removes faults |
//! | `POST /sandbox/rate-limits` | [`RateLimits`] | switches limits on/off |
//! | `POST /sandbox/oauth/code` | `{"userid", "agentid", "privateinfo"}` or `{"openid", "agentid"}` | mints an OAuth2 code |
//! | `POST /sandbox/jscode` | `{"userid", "agentid"}` | mints a mini-program js_code |
//! | `POST /sandbox/members/{userid}/send` | `{"agentid", "content"}` | the member sends a text to the app (callback) |
//! | `POST /sandbox/members/{userid}/click` | `{"agentid", "key"}` | the member taps a menu item (callback) |
//! | `POST /sandbox/directory` | a [`DirectoryChange`] | changes the directory (change_contact callbacks) |
//! | `POST /sandbox/apps/{agentid}/callback` | a [`CallbackConfig`] or `null` | sets the app's callback (URL verified first) |
//! | `POST /sandbox/contact-callback` | a [`CallbackConfig`] or `null` | sets the contact-sync assistant's callback |
//!
//! 上下游's routes (downstream corps, unshare, downstream tokens) are in `areas/corpgroup/admin.rs`.
//! Customer contact's routes (contact-way scans, customers, welcome messages, customer groups)
//! are in `areas/externalcontact/admin.rs`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Admin, AdminError, DirectoryChange, NamedTarget, OAuthLogin, TokenTarget};
use crate::app::App;
use crate::corp::CallbackConfig;
use crate::faults::Fault;
use crate::limits::RateLimits;
use crate::state::lock;
use wecom_core_auth::ErrorCode;

fn admin(app: &App) -> Admin {
    Admin::new(Arc::clone(&app.state))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

fn ok(value: Value) -> Response {
    axum::Json(value).into_response()
}

async fn state_get(AxState(app): AxState<App>) -> Response {
    let a = admin(&app);
    let corp = a.corp();
    let limits = lock(&app.state.limiter).limits().clone();
    ok(json!({
        "corpid": corp.corpid(),
        "name": corp.name(),
        "departments": corp.departments().count(),
        "members": corp.members().count(),
        "tags": corp.tags().count(),
        "apps": corp.apps().map(|x| json!({"agentid": x.agentid, "name": x.name})).collect::<Vec<_>>(),
        "counters": a.counters().into_iter().map(|(k, v)| json!({"endpoint": k, "calls": v})).collect::<Vec<_>>(),
        "faults": a.faults(),
        "rate_limits": limits,
        "clock_offset_secs": app.state.clock().offset_secs(),
        "now": app.state.now_secs(),
        "endpoints": app.registry.names(),
    }))
}

async fn counters_get(AxState(app): AxState<App>) -> Response {
    let list: Vec<Value> = admin(&app)
        .counters()
        .into_iter()
        .map(|(k, v)| json!({"endpoint": k, "calls": v}))
        .collect();
    ok(json!({ "counters": list }))
}

async fn counters_reset(AxState(app): AxState<App>) -> Response {
    admin(&app).reset_counters();
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

async fn corp_get(AxState(app): AxState<App>, Query(q): Query<FormatQuery>) -> Response {
    // Secrets are masked: this page is readable by anything that can reach the admin API.
    let file = admin(&app).corp().to_masked_file();
    let (text, content_type) = if q.format.as_deref() == Some("toml") {
        (
            toml::to_string_pretty(&file).unwrap_or_default(),
            "application/toml; charset=utf-8",
        )
    } else {
        (
            serde_json::to_string_pretty(&file).unwrap_or_default(),
            "application/json",
        )
    };
    let mut r = text.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn inbox_get(AxState(app): AxState<App>, Path(userid): Path<String>) -> Response {
    ok(json!({ "userid": userid, "messages": admin(&app).inbox(&userid) }))
}

async fn robots_get(AxState(app): AxState<App>) -> Response {
    ok(json!({ "messages": admin(&app).robot_messages() }))
}

async fn media_list(AxState(app): AxState<App>) -> Response {
    ok(json!({ "media": admin(&app).media() }))
}

async fn media_get(AxState(app): AxState<App>, Path(id): Path<String>) -> Response {
    match app.state.media(&id) {
        Some(m) => {
            let mut r = axum::body::Body::from(m.bytes).into_response();
            if let Ok(v) = HeaderValue::from_str(&m.content_type) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({"errcode": ErrorCode::INVALID_MEDIA_ID, "errmsg": "invalid media_id"}),
            ),
        )
            .into_response(),
    }
}

async fn callbacks_get(AxState(app): AxState<App>) -> Response {
    ok(json!({ "callbacks": admin(&app).callback_log() }))
}

#[derive(Deserialize)]
struct RevokeBody {
    #[serde(default = "all_target")]
    target: TokenTarget,
}

fn all_target() -> TokenTarget {
    TokenTarget::Named(NamedTarget::All)
}

async fn tokens_revoke(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: RevokeBody = parse_json(&body)?;
    Ok(ok(
        json!({ "revoked": admin(&app).revoke_tokens(b.target) }),
    ))
}

#[derive(Deserialize)]
struct SecondsBody {
    seconds: i64,
}

async fn tokens_ttl(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: SecondsBody = parse_json(&body)?;
    admin(&app).set_token_ttl(b.seconds.max(1) as u64);
    Ok(ok(json!({ "ttl": b.seconds.max(1) })))
}

async fn time_advance(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: SecondsBody = parse_json(&body)?;
    admin(&app).advance_time(b.seconds);
    Ok(ok(
        json!({ "now": app.state.now_secs(), "offset": app.state.clock().offset_secs() }),
    ))
}

async fn faults_add(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let f: Fault = parse_json(&body)?;
    admin(&app).add_fault(f);
    Ok(ok(json!({ "faults": admin(&app).faults() })))
}

#[derive(Deserialize)]
struct ClearBody {
    endpoint: Option<String>,
}

async fn faults_clear(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: ClearBody = parse_json(&body)?;
    Ok(ok(
        json!({ "removed": admin(&app).clear_faults(b.endpoint.as_deref()) }),
    ))
}

async fn limits_set(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let l: RateLimits = parse_json(&body)?;
    admin(&app).set_rate_limits(l.clone());
    Ok(ok(json!({ "rate_limits": l })))
}

#[derive(Deserialize)]
struct CodeBody {
    agentid: u32,
    #[serde(flatten)]
    login: OAuthLogin,
}

async fn oauth_code(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: CodeBody = parse_json(&body)?;
    Ok(ok(
        json!({ "code": admin(&app).mint_oauth_code(b.login, b.agentid)? }),
    ))
}

#[derive(Deserialize)]
struct JsCodeBody {
    agentid: u32,
    userid: String,
}

async fn js_code(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: JsCodeBody = parse_json(&body)?;
    Ok(ok(
        json!({ "js_code": admin(&app).mint_js_code(&b.userid, b.agentid)? }),
    ))
}

#[derive(Deserialize)]
struct SendBody {
    agentid: u32,
    content: String,
}

async fn member_send(
    AxState(app): AxState<App>,
    Path(userid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: SendBody = parse_json(&body)?;
    Ok(ok(
        json!({ "callbacks": admin(&app).member_sends_text(&userid, b.agentid, &b.content).await? }),
    ))
}

#[derive(Deserialize)]
struct ClickBody {
    agentid: u32,
    key: String,
}

async fn member_click(
    AxState(app): AxState<App>,
    Path(userid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: ClickBody = parse_json(&body)?;
    Ok(ok(
        json!({ "callbacks": admin(&app).member_clicks(&userid, b.agentid, &b.key).await? }),
    ))
}

#[derive(Deserialize)]
struct CardBody {
    msgid: String,
    key: String,
}

/// `POST /sandbox/members/{userid}/card {"msgid", "key"}`: the member uses a card's menu action
/// or button; answers `{"response_code", "records"}`.
async fn member_card(
    AxState(app): AxState<App>,
    Path(userid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: CardBody = parse_json(&body)?;
    let used = admin(&app)
        .member_uses_card(&userid, &b.msgid, &b.key)
        .await?;
    Ok(ok(
        json!({ "response_code": used.response_code, "callbacks": used.records }),
    ))
}

async fn directory_change(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: DirectoryChange = parse_json(&body)?;
    Ok(ok(
        json!({ "callbacks": admin(&app).change_directory(c).await? }),
    ))
}

async fn app_callback(
    AxState(app): AxState<App>,
    Path(agentid): Path<u32>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: Option<CallbackConfig> = if body.trim_ascii() == b"null" {
        None
    } else {
        Some(parse_json(&body)?)
    };
    admin(&app).set_app_callback(agentid, c).await?;
    Ok(ok(json!({"ok": true})))
}

async fn contact_callback(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let c: Option<CallbackConfig> = if body.trim_ascii() == b"null" {
        None
    } else {
        Some(parse_json(&body)?)
    };
    admin(&app).set_contact_callback(c).await?;
    Ok(ok(json!({"ok": true})))
}

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/state", get(state_get))
        .route("/sandbox/counters", get(counters_get))
        .route("/sandbox/counters/reset", post(counters_reset))
        .route("/sandbox/corp", get(corp_get))
        .route("/sandbox/inbox/{userid}", get(inbox_get))
        .route("/sandbox/robots", get(robots_get))
        .route("/sandbox/media", get(media_list))
        .route("/sandbox/media/{id}", get(media_get))
        .route("/sandbox/callbacks", get(callbacks_get))
        .route("/sandbox/tokens/revoke", post(tokens_revoke))
        .route("/sandbox/tokens/ttl", post(tokens_ttl))
        .route("/sandbox/time/advance", post(time_advance))
        .route("/sandbox/faults", post(faults_add))
        .route("/sandbox/faults/clear", post(faults_clear))
        .route("/sandbox/rate-limits", post(limits_set))
        .route("/sandbox/oauth/code", post(oauth_code))
        .route("/sandbox/jscode", post(js_code))
        .route("/sandbox/members/{userid}/send", post(member_send))
        .route("/sandbox/members/{userid}/click", post(member_click))
        .route("/sandbox/members/{userid}/card", post(member_card))
        .route("/sandbox/directory", post(directory_change))
        .route("/sandbox/apps/{agentid}/callback", post(app_callback))
        .route("/sandbox/contact-callback", post(contact_callback))
        .merge(crate::areas::kf::admin::routes())
        .merge(crate::areas::msgaudit::routes())
        .merge(crate::areas::invoice::routes())
        .merge(crate::areas::oa::approval_routes())
        .merge(crate::areas::oa::mail_routes())
        .merge(crate::areas::externalcontact::admin::routes())
        .merge(crate::areas::corpgroup::admin::routes())
        // Customer contact part 2: crates/sandbox/src/areas/externalcontact/outreach/admin.rs.
        .route(
            "/sandbox/externalcontact/groupmsg/{msgid}/confirm",
            post(crate::areas::externalcontact::outreach::admin::groupmsg_confirm),
        )
        .route(
            "/sandbox/externalcontact/moments/{moment_id}/publish",
            post(crate::areas::externalcontact::outreach::admin::moment_publish),
        )
        .route(
            "/sandbox/externalcontact/transfer/refuse",
            post(crate::areas::externalcontact::outreach::admin::transfer_refuse),
        )
}
