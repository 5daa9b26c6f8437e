//! The admin routes of this part (mounted by `admin/routes.rs`):
//!
//! | method + path | body | does |
//! |---|---|---|
//! | `POST /sandbox/externalcontact/groupmsg/{msgid}/confirm` | `{"userid"}` | the member sends the mass send ([`confirm_mass_send`](super::confirm_mass_send)) |
//! | `POST /sandbox/externalcontact/moments/{moment_id}/publish` | `{"userid"}` | the member publishes the corp moment ([`publish_moment`](super::publish_moment)) |
//! | `POST /sandbox/externalcontact/transfer/refuse` | `{"external_userid", "takeover_userid"}` | the customer refuses a waiting transfer ([`refuse_transfer`](super::refuse_transfer)); `change_external_contact` / `transfer_fail` is pushed |

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::error::ApiError;

fn refused(e: &ApiError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"errcode": e.errcode, "errmsg": e.errmsg})),
    )
        .into_response()
}

fn bad_body(e: &serde_json::Error) -> Response {
    refused(&ApiError::invalid_parameter(format!("bad JSON body: {e}")))
}

#[derive(Deserialize)]
struct ConfirmBody {
    userid: String,
}

pub(crate) async fn groupmsg_confirm(
    AxState(app): AxState<App>,
    Path(msgid): Path<String>,
    body: Bytes,
) -> Response {
    let b: ConfirmBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_body(&e),
    };
    match super::confirm_mass_send(&app.state, &msgid, &b.userid) {
        Ok(n) => Json(json!({"errcode": 0, "errmsg": "ok", "sent": n})).into_response(),
        Err(e) => refused(&e),
    }
}

pub(crate) async fn moment_publish(
    AxState(app): AxState<App>,
    Path(moment_id): Path<String>,
    body: Bytes,
) -> Response {
    let b: ConfirmBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_body(&e),
    };
    match super::publish_moment(&app.state, &moment_id, &b.userid) {
        Ok(n) => Json(json!({"errcode": 0, "errmsg": "ok", "customers": n})).into_response(),
        Err(e) => refused(&e),
    }
}

#[derive(Deserialize)]
struct RefuseBody {
    external_userid: String,
    takeover_userid: String,
}

pub(crate) async fn transfer_refuse(AxState(app): AxState<App>, body: Bytes) -> Response {
    let b: RefuseBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_body(&e),
    };
    if let Some(records) =
        super::refuse_transfer_and_notify(&app.state, &b.external_userid, &b.takeover_userid).await
    {
        Json(json!({"errcode": 0, "errmsg": "ok", "callbacks": records})).into_response()
    } else {
        refused(&ApiError::invalid_parameter(format!(
            "no transfer of {} to {} is waiting",
            b.external_userid, b.takeover_userid
        )))
    }
}
