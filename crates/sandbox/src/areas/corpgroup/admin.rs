//! The 上下游 admin routes (merged into `/sandbox/` by `admin/routes.rs`).
//!
//! | method + path | body | does |
//! |---|---|---|
//! | `GET /sandbox/corpgroup` | | the downstream corps: corpid, name, business_type, agentid, shared_by, shared, valid_tokens |
//! | `POST /sandbox/corpgroup/{corpid}/share` | `{"shared": false}` | unshares the app (its downstream tokens revoked; gettoken answers 670001), or shares it again |
//! | `POST /sandbox/corpgroup/tokens/revoke` | `{"corpid": "ww..."}` or `{}` | revokes downstream tokens (40014 after) |
//! | `POST /sandbox/corpgroup/session` | `{"corpid", "userid"}` | a downstream member's upstream mini-program session (`userid`, `session_key`) for `miniprogram/transfer_session` |

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::admin::AdminError;
use crate::app::App;

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))
}

async fn list_route(AxState(app): AxState<App>) -> Response {
    axum::Json(json!({ "downstream": super::downstream_corps(&app.state) })).into_response()
}

#[derive(Deserialize)]
struct ShareBody {
    shared: bool,
}

async fn share_route(
    AxState(app): AxState<App>,
    Path(corpid): Path<String>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: ShareBody = parse(&body)?;
    super::set_shared(&app.state, &corpid, b.shared).map_err(AdminError::Invalid)?;
    Ok(axum::Json(json!({"ok": true})).into_response())
}

#[derive(Deserialize)]
struct RevokeBody {
    #[serde(default)]
    corpid: Option<String>,
}

async fn revoke_route(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let b: RevokeBody = parse(&body)?;
    let revoked = super::revoke_tokens(&app.state, b.corpid.as_deref());
    Ok(axum::Json(json!({ "revoked": revoked })).into_response())
}

#[derive(Deserialize)]
struct SessionBody {
    corpid: String,
    userid: String,
}

async fn session_route(
    AxState(app): AxState<App>,
    body: BodyBytes,
) -> Result<Response, AdminError> {
    let b: SessionBody = parse(&body)?;
    let (userid, session_key) =
        super::mint_session(&app.state, &b.corpid, &b.userid).map_err(AdminError::Invalid)?;
    // The session key is test data the sandbox made up, shown so that a person can try the call.
    Ok(
        axum::Json(json!({ "userid": userid, "session_key": session_key.expose() }))
            .into_response(),
    )
}

/// The 上下游 admin routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/corpgroup", get(list_route))
        .route("/sandbox/corpgroup/{corpid}/share", post(share_route))
        .route("/sandbox/corpgroup/tokens/revoke", post(revoke_route))
        .route("/sandbox/corpgroup/session", post(session_route))
}
