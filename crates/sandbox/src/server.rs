//! The HTTP side: a listener whose connections can be dropped on purpose, the `/cgi-bin/`
//! dispatcher implementing WeCom's envelope, and the router.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use futures_util::FutureExt as _;
use http::{HeaderValue, StatusCode, header};
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use wecom_core_auth::{CredentialKind, ResponseKind};

use crate::app::App;
use crate::error::ApiError;
use crate::faults::{FaultAction, default_errmsg};
use crate::registry::{Answer, Caller, Ctx, Wire, check_kind, method_matches};
use crate::state::{State, TokenOwner, lock};
use crate::tokens::TokenProblem;
use wecom_core_auth::ErrorCode;

/// Largest request body read (media uploads go up to 20 MB).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// A per-connection switch: once set, the connection fails its next read or write and closes
/// without an answer (the "dropped connection" fault).
#[derive(Debug, Clone, Default)]
pub(crate) struct Kill(Arc<AtomicBool>);

impl Kill {
    fn fire(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn fired(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A TCP stream that can be killed from a handler.
#[derive(Debug)]
pub(crate) struct KillableStream {
    inner: TcpStream,
    kill: Kill,
}

fn aborted() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by an injected fault",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.kill.fired() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.kill.fired() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.kill.fired() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The sandbox's listener: TCP with NODELAY and a kill switch per connection.
#[derive(Debug)]
pub(crate) struct SandboxListener(pub(crate) TcpListener);

/// What a handler learns about its connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    pub(crate) remote: SocketAddr,
    kill: Kill,
}

impl Listener for SandboxListener {
    type Io = KillableStream;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, remote)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Kill::default();
                    return (
                        KillableStream {
                            inner: stream,
                            kill: kill.clone(),
                        },
                        ConnInfo { remote, kill },
                    );
                }
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnInfo {
            remote: self.0.local_addr()?,
            kill: Kill::default(),
        })
    }
}

impl Connected<IncomingStream<'_, SandboxListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, SandboxListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// WeCom's errmsg tail: a request hint, the caller's IP and the help link.
fn errmsg_on_wire(e: &ApiError, remote: &SocketAddr) -> String {
    let hint: String = {
        let mut rng = rand::rng();
        (0..6)
            .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
            .collect()
    };
    format!(
        "{}, hint: [{}_{hint}], from ip: {}, more info at https://open.work.weixin.qq.com/devtool/query?e={}",
        e.errmsg,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        remote.ip(),
        e.errcode
    )
}

fn json_response(status: StatusCode, body: Vec<u8>, errcode: i64, errmsg: &str) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&errcode.to_string()) {
        h.insert("error-code", v);
    }
    // Header values must be visible ASCII; keep the English part only.
    let ascii: String = errmsg
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(200)
        .collect();
    if let Ok(v) = HeaderValue::from_str(&ascii) {
        h.insert("error-msg", v);
    }
    resp
}

/// `{"errcode": N, "errmsg": "..."}` with HTTP 200.
pub(crate) fn error_response(e: &ApiError, remote: &SocketAddr) -> Response {
    let errmsg = errmsg_on_wire(e, remote);
    let body = serde_json::to_vec(&serde_json::json!({"errcode": e.errcode, "errmsg": errmsg}))
        .unwrap_or_default();
    json_response(StatusCode::OK, body, e.errcode, &errmsg)
}

/// `{"errcode":0,"errmsg":"ok", ...fields}`.
fn success_response(fields: &[u8], errmsg: &str) -> Response {
    let mut body = Vec::with_capacity(fields.len() + 32);
    body.extend_from_slice(br#"{"errcode":0,"errmsg":"#);
    body.extend_from_slice(
        serde_json::to_string(errmsg)
            .unwrap_or_else(|_| "\"ok\"".into())
            .as_bytes(),
    );
    let rest = fields.trim_ascii();
    if rest.len() > 2 && rest.first() == Some(&b'{') {
        body.push(b',');
        body.extend_from_slice(&rest[1..]);
    } else {
        body.push(b'}');
    }
    json_response(StatusCode::OK, body, 0, errmsg)
}

/// The errcode and errmsg of the first failed item of a batch answer (`failures` in the spec),
/// which WeCom puts at the top of the answer (家校 batch pages: `"errcode": 1` with the same
/// code in `result_list`).
fn first_failure(fields: &[u8], list: &str) -> Option<(i64, String)> {
    let v: serde_json::Value = serde_json::from_slice(fields).ok()?;
    let first = v.get(list)?.as_array()?.first()?;
    let code = first.get("errcode")?.as_i64().filter(|c| *c != 0)?;
    let msg = first
        .get("errmsg")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    Some((code, msg))
}

/// `{"errcode":N,"errmsg":"...", ...fields}`: a batch answer whose items partly failed.
fn failures_response(fields: &[u8], errcode: i64, errmsg: &str) -> Response {
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(fields).unwrap_or_default();
    let mut body = serde_json::Map::new();
    body.insert("errcode".into(), errcode.into());
    body.insert("errmsg".into(), errmsg.into());
    body.append(&mut v);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    json_response(StatusCode::OK, bytes, errcode, errmsg)
}

fn binary_response(b: crate::registry::Binary) -> Response {
    let mut resp = Response::new(Body::from(b.bytes));
    if let Some((first, last, total)) = b.range {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {first}-{last}/{total}")) {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&b.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let name: String = b
        .filename
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"')
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

fn dropped(info: &ConnInfo) -> Response {
    info.kill.fire();
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

/// Parses a query string into decoded pairs.
pub(crate) fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// Authenticates the credential of a call: who calls, and the corp the call is served in (the
/// served corp, or the downstream corp whose token it is: `areas/corpgroup`).
fn authenticate(
    state: &Arc<State>,
    kind: CredentialKind,
    query: &[(String, String)],
) -> Result<(Caller, Arc<State>), ApiError> {
    let caller = |c| Ok((c, Arc::clone(state)));
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match kind {
        CredentialKind::None => caller(Caller::Anonymous),
        CredentialKind::RobotKey => {
            let key = get("key").unwrap_or("");
            let corp = state.corp();
            match corp.robot(key) {
                Some(r) if !key.is_empty() => caller(Caller::Robot(r.name.clone())),
                _ => Err(ApiError::new(
                    ErrorCode::INVALID_ROBOT_KEY,
                    "invalid webhook url, please check the key of the robot",
                )),
            }
        }
        _ => {
            let now = state.clock().now_ms();
            let token = get("access_token");
            let checked = lock(&state.tokens).check(token, now);
            let owner = match checked {
                Ok(owner) => owner,
                // Not the served corp's: a downstream corp's token is served in that corp.
                Err(TokenProblem::Invalid) => {
                    match crate::areas::corpgroup::authenticate(state, token) {
                        Some(Ok((downstream, agentid))) => {
                            return Ok((Caller::App(agentid), downstream));
                        }
                        Some(Err(problem)) => return Err(problem.to_api_error()),
                        None => return Err(TokenProblem::Invalid.to_api_error()),
                    }
                }
                Err(problem) => return Err(problem.to_api_error()),
            };
            caller(match owner {
                TokenOwner::Actor(crate::corp::Actor::Contact) => Caller::Contact,
                TokenOwner::Actor(crate::corp::Actor::App(a)) => Caller::App(a),
                TokenOwner::System(app) => Caller::System(app),
            })
        }
    }
}

/// Serves one `/cgi-bin/...` call.
pub(crate) async fn cgi(
    AxState(app): AxState<App>,
    ConnectInfo(info): ConnectInfo<ConnInfo>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path()
        .trim_start_matches("/cgi-bin")
        .trim_matches('/')
        .to_owned();
    let remote = info.remote;
    let Some(route) = app.registry.route(&path) else {
        return error_response(
            &ApiError::new(
                48001, /* not in spec/errcodes.toml */
                format!("api unauthorized, hint: no API /cgi-bin/{path} in the sandbox"),
            ),
            &remote,
        );
    };
    let state = &app.state;
    state.count(route.meta.name);

    let decision = lock(&state.faults).decide(route.meta.name, route.meta.path);
    if decision.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.delay_ms)).await;
    }
    if let Some(fail) = decision.fail
        && let Some(resp) = fault_response(fail, &info)
    {
        return resp;
    }

    if !method_matches(route.meta.method, &parts.method) {
        let e = ApiError::invalid_parameter(format_args!(
            "/cgi-bin/{path} must be called with {}, not {}",
            route.meta.method.as_str(),
            parts.method
        ));
        return error_response(&e, &remote);
    }

    let mut query = parse_query(parts.uri.query());
    let (caller, served) = match authenticate(state, route.meta.credential, &query).and_then(|c| {
        check_kind(route.meta.credential, &c.0, route.wrong_credential_errcode).map(|()| c)
    }) {
        Ok(c) => c,
        Err(e) => return error_response(&e, &remote),
    };
    query.retain(|(k, _)| {
        k != "access_token" && k != "debug" && !(k == "key" && matches!(caller, Caller::Robot(_)))
    });

    if !lock(&state.limiter).admit_api(route.meta.name, state.now_secs()) {
        return error_response(
            &ApiError::new(ErrorCode::API_FREQUENCY_LIMIT, "api freq out of limit"),
            &remote,
        );
    }

    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                &ApiError::new(
                    40006, /* not in spec/errcodes.toml */
                    format!("invalid file size, hint: the sandbox reads at most {MAX_BODY} bytes"),
                ),
                &remote,
            );
        }
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let range = parts
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let wire = Wire {
        query: &query,
        body: &bytes,
        content_type,
        range,
    };
    let ctx = Ctx::new(served, caller, remote, route.meta);
    // A bug in a handler must not kill the connection: answer -1 (system busy) instead.
    let busy = |what: &str| {
        tracing::error!("handler of {} panicked {what}", route.meta.name);
        ApiError::new(
            ErrorCode::SYSTEM_BUSY,
            format!(
                "system busy, hint: the sandbox's {} handler failed",
                route.meta.name
            ),
        )
    };
    let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (route.dispatch)(ctx, &wire)
    })) {
        Ok(fut) => std::panic::AssertUnwindSafe(fut)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(busy("while running"))),
        Err(_) => Err(busy("while parsing")),
    };
    let resp = match outcome {
        Ok(Answer::Json(fields)) => match route.meta.response {
            ResponseKind::JsonWithFailures(list) => match first_failure(&fields, list) {
                Some((code, msg)) => failures_response(&fields, code, &msg),
                None => success_response(&fields, route.success_errmsg),
            },
            _ => success_response(&fields, route.success_errmsg),
        },
        Ok(Answer::Binary(b)) => binary_response(b),
        Err(e) => error_response(&e, &remote),
    };
    // Faults after handling: the work is done; the answer is late, lost or replaced.
    if decision.after_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.after_delay_ms)).await;
    }
    match decision.after_fail.and_then(|f| fault_response(f, &info)) {
        Some(replaced) => replaced,
        None => resp,
    }
}

/// The answer an injected failure gives (`None` for a delay, which is not a failure).
fn fault_response(fail: FaultAction, info: &ConnInfo) -> Option<Response> {
    match fail {
        FaultAction::Drop => Some(dropped(info)),
        FaultAction::Http { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut resp = Response::new(Body::from(format!("{status} (injected fault)")));
            *resp.status_mut() = status;
            Some(resp)
        }
        FaultAction::Errcode { errcode, errmsg } => {
            let msg = errmsg.unwrap_or_else(|| default_errmsg(errcode).to_owned());
            Some(error_response(&ApiError::new(errcode, msg), &info.remote))
        }
        FaultAction::Delay { .. } => None,
    }
}

/// Anything outside `/cgi-bin/`, `/sandbox/` and `/`.
pub(crate) async fn not_found(ConnectInfo(info): ConnectInfo<ConnInfo>, req: Request) -> Response {
    let e = ApiError::new(
        48001, /* not in spec/errcodes.toml */
        format!("api unauthorized, hint: no API at {}", req.uri().path()),
    );
    let mut resp = error_response(&e, &info.remote);
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(
            &serde_json::json!({"errcode": self.errcode, "errmsg": self.errmsg}),
        )
        .unwrap_or_default();
        json_response(StatusCode::OK, body, self.errcode, &self.errmsg)
    }
}
