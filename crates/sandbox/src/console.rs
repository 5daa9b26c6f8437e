//! The API console (`/sandbox/console`) and the request log of `/cgi-bin/` calls.
//!
//! - Every `/cgi-bin/...` call is recorded (method, path, the endpoint it reached, errcode, HTTP
//!   status, sandbox time) in a bounded log, newest first: `GET /sandbox/requests`. The query
//!   string and the body are never kept, so no token, secret or key is in it.
//! - The console page is built in the browser from `spec/openapi.json` (served at
//!   `/sandbox/openapi.json`): pick an endpoint, fill its fields, send it. The page gets the token
//!   the endpoint's credential needs from `POST /sandbox/console/token` (the sandbox's own corp,
//!   so nobody types a secret), keeps it until it expires, and on a rejected token (40001/40014/
//!   42001) gets a new one and sends once more, as the SDK does; the answer is shown with its
//!   errcode's meaning (`GET /sandbox/errcode/{code}`) and the request log below it.
//!   The page's URL can preselect and send: `?endpoint=user_get&q.userid=lina&agentid=1000002&
//!   body={...}&send=1`.
//!
//! The main page (`/`) stays script-free: it links here and shows the log server-rendered.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Path, Request, State as AxState};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wecom_core_auth::{ErrorCode, SystemApp};

use crate::app::App;
use crate::corp::Actor;
use crate::state::{State, TokenOwner, lock};
use crate::web::escape;

/// The OpenAPI document generated from the spec.
const OPENAPI: &str = include_str!("../../../spec/openapi.json");

/// How many calls the log keeps.
pub const REQUEST_LOG_CAPACITY: usize = 200;

/// One `/cgi-bin/` call as the log keeps it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LoggedRequest {
    /// Sandbox time of the call, Unix seconds.
    pub at: i64,
    /// `GET` or `POST` (or what the caller used).
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The endpoint it reached (`user_get`), if the sandbox has one for the path.
    pub endpoint: Option<String>,
    /// The errcode of a JSON answer; `None` for a file, a dropped connection or an HTTP error.
    pub errcode: Option<i64>,
    /// The HTTP status.
    pub status: u16,
}

/// The bounded log of `/cgi-bin/` calls (kept in the sandbox state as an extension).
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    fn push(&self, entry: LoggedRequest) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() == REQUEST_LOG_CAPACITY {
            e.pop_back();
        }
        e.push_front(entry);
    }

    /// The calls, newest first.
    pub fn recent(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

impl crate::admin::Admin {
    /// The recent `/cgi-bin/` calls, newest first (at most [`REQUEST_LOG_CAPACITY`]): method,
    /// path, endpoint, errcode, status, time. Never a query string or a body, so never a token.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        log(self.state()).recent()
    }
}

/// The log of a sandbox's state.
pub(crate) fn log(state: &State) -> std::sync::Arc<RequestLog> {
    state.extension::<RequestLog>()
}

/// Middleware around `/cgi-bin/`: records each call once answered.
pub(crate) async fn record(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let route = path.trim_start_matches("/cgi-bin").trim_matches('/');
    let endpoint = app.registry.route(route).map(|r| r.meta.name.to_owned());
    let at = app.state.now_secs();
    let resp = next.run(req).await;
    let errcode = resp
        .headers()
        .get("error-code")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    log(&app.state).push(LoggedRequest {
        at,
        method,
        path,
        endpoint,
        errcode,
        status: resp.status().as_u16(),
    });
    resp
}

fn meaning(code: i64) -> &'static str {
    if code == 0 {
        "ok"
    } else {
        ErrorCode::new(code).meaning()
    }
}

async fn requests_get(AxState(app): AxState<App>) -> Response {
    let entries: Vec<serde_json::Value> = log(&app.state)
        .recent()
        .into_iter()
        .map(|e| {
            let mut v = serde_json::to_value(&e).unwrap_or_default();
            if let Some(code) = e.errcode {
                v["meaning"] = json!(meaning(code));
            }
            v
        })
        .collect();
    axum::Json(json!({"requests": entries, "capacity": REQUEST_LOG_CAPACITY})).into_response()
}

async fn openapi_get() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

async fn errcode_get(Path(code): Path<i64>) -> Response {
    let c = ErrorCode::new(code);
    axum::Json(json!({
        "errcode": code,
        "known": code == 0 || c.is_known(),
        "meaning": meaning(code),
        "fix": c.fix(),
        "class": c.class().as_str(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct TokenAsk {
    /// `app`, `contact` or `app_or_contact` (the endpoint's `x-wecom-credential`).
    credential: String,
    /// The app, for an app token (default: the corp's first app).
    #[serde(default)]
    agentid: Option<u32>,
}

fn refuse(status: StatusCode, why: String) -> Response {
    (status, axum::Json(json!({"error": why}))).into_response()
}

/// A token of the sandbox's own corp for the console (its secrets are the sandbox's).
async fn token_post(AxState(app): AxState<App>, body: BodyBytes) -> Response {
    let ask: TokenAsk = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("bad JSON body: {e}; send {{\"credential\": \"app\", \"agentid\": N}}"),
            );
        }
    };
    let state = &app.state;
    let owner = {
        let corp = state.corp();
        let app_token = |agentid: Option<u32>| -> Result<TokenOwner, String> {
            let found = match agentid {
                Some(id) => corp.apps().find(|a| a.agentid == id),
                None => corp.apps().next(),
            };
            found
                .map(|a| TokenOwner::Actor(Actor::App(a.agentid)))
                .ok_or_else(|| format!("no app {} in the sandbox's corp", agentid.unwrap_or(0)))
        };
        match ask.credential.as_str() {
            "contact" | "app_or_contact" => Ok(TokenOwner::Actor(Actor::Contact)),
            "app" => app_token(ask.agentid),
            // A system app's credential: its own secret's token when the corp has that secret,
            // else the app's (WeCom accepts an app listed under the system app's 可调用应用).
            other => match SystemApp::from_name(other) {
                Some(app) if corp.system_secret(app).is_some() => Ok(TokenOwner::System(app)),
                Some(_) => app_token(ask.agentid),
                None => Err(format!(
                    "unknown credential `{other}`: use app, contact, app_or_contact or a system app's name"
                )),
            },
        }
    };
    match owner {
        Ok(owner) => {
            let issued = lock(&state.tokens).issue(owner, state.clock().now_ms());
            axum::Json(json!({"access_token": issued.value, "expires_in": issued.expires_in}))
                .into_response()
        }
        Err(why) => refuse(StatusCode::BAD_REQUEST, why),
    }
}

async fn console_page() -> Response {
    Html(CONSOLE_HTML).into_response()
}

/// The console's routes (behind the admin gate).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/sandbox/console", get(console_page))
        .route("/sandbox/openapi.json", get(openapi_get))
        .route("/sandbox/requests", get(requests_get))
        .route("/sandbox/errcode/{code}", get(errcode_get))
        .route("/sandbox/console/token", post(token_post))
}

/// The request log as an HTML section of the main page (no script).
pub(crate) fn log_section(state: &State) -> String {
    let entries = log(state).recent();
    let mut h = String::from(
        "<section id=\"requests\"><h2>请求记录 <span class=\"gray\">recent /cgi-bin calls · <a href=\"/sandbox/console\">API console</a></span></h2>",
    );
    if entries.is_empty() {
        h.push_str("<div class=\"gray\">还没有调用 (no call yet)</div></section>");
        return h;
    }
    h.push_str("<table><tr><th>time</th><th>method</th><th>path</th><th>errcode</th></tr>");
    for e in entries.iter().take(50) {
        let code = match e.errcode {
            Some(c) => format!("{c} <span class=\"gray\">{}</span>", escape(meaning(c))),
            None => format!("HTTP {}", e.status),
        };
        let _ = write!(
            h,
            "<tr><td class=\"gray\">{}</td><td>{}</td><td><code>{}</code></td><td>{code}</td></tr>",
            clock_text(e.at),
            escape(&e.method),
            escape(&e.path),
        );
    }
    h.push_str("</table></section>");
    h
}

/// `HH:MM:SS` (UTC) of a Unix time.
fn clock_text(secs: i64) -> String {
    let s = secs.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

const CONSOLE_HTML: &str = include_str!("console.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_bounded_and_newest_first() {
        let log = RequestLog::default();
        for i in 0..(REQUEST_LOG_CAPACITY as i64 + 5) {
            log.push(LoggedRequest {
                at: i,
                method: "GET".into(),
                path: "/cgi-bin/user/get".into(),
                endpoint: Some("user_get".into()),
                errcode: Some(0),
                status: 200,
            });
        }
        let recent = log.recent();
        assert_eq!(recent.len(), REQUEST_LOG_CAPACITY);
        assert_eq!(recent[0].at, REQUEST_LOG_CAPACITY as i64 + 4);
        assert_eq!(clock_text(3_661), "01:01:01");
    }
}
