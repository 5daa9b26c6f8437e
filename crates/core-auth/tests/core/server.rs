//! A small local stand-in for qyapi that counts what it is asked: gettoken, tickets, and a few
//! business paths, with scripted faults. Loopback only.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;

pub const CORPID: &str = "wwcorp0001";
/// The valid secrets: app 1000002, app 1000003, and the contact-sync secret.
pub const SECRET_A: &str = "app-secret-AAAA-0123456789";
pub const SECRET_B: &str = "app-secret-BBBB-0123456789";
pub const SECRET_CONTACT: &str = "contact-secret-CCCC-0123456789";
/// The 客户联系 system app's own secret.
pub const SECRET_EXTERNAL: &str = "external-secret-EEEE-0123456789";
pub const ROBOT_KEY: &str = "robot-key-RRRR-0123456789";

/// A scripted answer for the next request to a path.
#[derive(Debug, Clone)]
pub enum Fault {
    /// `{"errcode": code, "errmsg": msg}` with HTTP 200.
    Errcode(i64, &'static str),
    /// An HTTP status with an empty body.
    Status(u16),
    /// Wait before answering normally.
    Delay(Duration),
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, Default)]
pub struct FakeState {
    secrets: Mutex<HashMap<String, &'static str>>,
    /// Valid tokens -> which app they belong to.
    tokens: Mutex<HashMap<String, &'static str>>,
    tickets: Mutex<HashMap<String, &'static str>>,
    pub gettoken_calls: AtomicUsize,
    pub gettoken_by_app: Mutex<HashMap<String, usize>>,
    pub jsapi_ticket_calls: AtomicUsize,
    pub agent_ticket_calls: AtomicUsize,
    pub expires_in: AtomicU64,
    pub gettoken_delay_ms: AtomicU64,
    /// WeCom's rule: gettoken answers with the same token (and its remaining lifetime) until it
    /// expires; tokens are refused with 42001 once expired. Off by default (a new token each time).
    same_token: std::sync::atomic::AtomicBool,
    /// The clock `same_token` mode reads (the client's injected clock in tests).
    clock: Mutex<Option<wecom_core_auth::clock::ManualClock>>,
    /// Per app in `same_token` mode: the current token and when it expires (ms).
    issued: Mutex<HashMap<&'static str, (String, u64)>>,
    /// Expiry (ms) of tokens issued in `same_token` mode.
    token_expiry: Mutex<HashMap<String, u64>>,
    serial: AtomicU64,
    faults: Mutex<HashMap<String, VecDeque<Fault>>>,
    hits: Mutex<HashMap<String, usize>>,
    seen: Mutex<Vec<Seen>>,
}

/// The running server.
#[derive(Debug)]
pub struct Fake {
    pub addr: SocketAddr,
    pub state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub async fn start() -> Fake {
        let state = Arc::new(FakeState::default());
        state.expires_in.store(7200, Ordering::SeqCst);
        {
            let mut s = state.secrets.lock().unwrap();
            s.insert(SECRET_A.to_owned(), "app1000002");
            s.insert(SECRET_B.to_owned(), "app1000003");
            s.insert(SECRET_CONTACT.to_owned(), "contact");
            s.insert(SECRET_EXTERNAL.to_owned(), "external_contact");
        }
        let app = Router::new()
            .route("/cgi-bin/gettoken", get(gettoken))
            .route("/cgi-bin/get_jsapi_ticket", get(jsapi_ticket))
            .route("/cgi-bin/ticket/get", get(agent_ticket))
            .route("/cgi-bin/{*path}", any(business))
            .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Fake { addr, state, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn gettoken_calls(&self) -> usize {
        self.state.gettoken_calls.load(Ordering::SeqCst)
    }

    pub fn gettoken_calls_for(&self, app: &str) -> usize {
        self.state
            .gettoken_by_app
            .lock()
            .unwrap()
            .get(app)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests reached `path` (without `/cgi-bin/`).
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Every business request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Queues faults for the next requests to `path` (`gettoken` included).
    pub fn fail_next(&self, path: &str, faults: impl IntoIterator<Item = Fault>) {
        self.state
            .faults
            .lock()
            .unwrap()
            .entry(path.to_owned())
            .or_default()
            .extend(faults);
    }

    /// Revokes every token issued so far (WeCom invalidating tokens early).
    pub fn revoke_all_tokens(&self) {
        self.state.tokens.lock().unwrap().clear();
        self.state.issued.lock().unwrap().clear();
    }

    /// Switches to WeCom's same-token rule, with time read from `clock`: gettoken answers with the
    /// current token and its remaining seconds until it expires, then issues a new one; an expired
    /// token is refused with 42001.
    pub fn same_token_until_expiry(&self, clock: &wecom_core_auth::clock::ManualClock) {
        *self.state.clock.lock().unwrap() = Some(clock.clone());
        self.state.same_token.store(true, Ordering::SeqCst);
    }

    /// Makes gettoken slower, so that concurrent callers pile up behind it.
    pub fn set_gettoken_delay(&self, d: Duration) {
        self.state
            .gettoken_delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// Every token value issued so far (for "no token in Debug output" checks).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.tokens.lock().unwrap().keys().cloned().collect()
    }
}

fn next_fault(state: &FakeState, path: &str) -> Option<Fault> {
    state
        .faults
        .lock()
        .unwrap()
        .get_mut(path)
        .and_then(VecDeque::pop_front)
}

/// Applies a queued fault; `Some(response)` when it replaces the answer.
async fn apply_fault(state: &FakeState, path: &str) -> Option<Response> {
    match next_fault(state, path)? {
        Fault::Errcode(code, msg) => {
            Some(axum::Json(json!({"errcode": code, "errmsg": msg})).into_response())
        }
        Fault::Status(s) => Some(
            StatusCode::from_u16(s)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response(),
        ),
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
    }
}

fn err(code: i64, msg: &str) -> Response {
    axum::Json(json!({"errcode": code, "errmsg": msg})).into_response()
}

async fn gettoken(
    State(state): State<Arc<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    state.gettoken_calls.fetch_add(1, Ordering::SeqCst);
    let delay = state.gettoken_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let Some(r) = apply_fault(&state, "gettoken").await {
        return r;
    }
    if q.get("corpid").map(String::as_str) != Some(CORPID) {
        return err(
            40013,
            "invalid corpid, hint: [1700000000_1_abc], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40013",
        );
    }
    let Some(secret) = q.get("corpsecret") else {
        return err(41004, "corpsecret missing");
    };
    let Some(app) = state.secrets.lock().unwrap().get(secret).copied() else {
        return err(
            40001,
            "invalid credential, hint: [1700000000_2_def], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=40001",
        );
    };
    *state
        .gettoken_by_app
        .lock()
        .unwrap()
        .entry(app.to_owned())
        .or_default() += 1;
    let expires_in = state.expires_in.load(Ordering::SeqCst);
    let now = fake_now(&state);
    if let Some(now) = now
        && let Some((token, expires_at)) = state.issued.lock().unwrap().get(app).cloned()
        && now < expires_at
    {
        let remaining = (expires_at - now) / 1000;
        return axum::Json(
            json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": remaining}),
        )
        .into_response();
    }
    let n = state.serial.fetch_add(1, Ordering::SeqCst);
    let token = format!("TOKEN{n}x{app}x{}", rand_suffix());
    state.tokens.lock().unwrap().insert(token.clone(), app);
    if let Some(now) = now {
        let expires_at = now.saturating_add(expires_in.saturating_mul(1000));
        state
            .issued
            .lock()
            .unwrap()
            .insert(app, (token.clone(), expires_at));
        state
            .token_expiry
            .lock()
            .unwrap()
            .insert(token.clone(), expires_at);
    }
    axum::Json(
        json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in}),
    )
    .into_response()
}

/// The time (ms) in `same_token` mode; `None` otherwise.
fn fake_now(state: &FakeState) -> Option<u64> {
    if !state.same_token.load(Ordering::SeqCst) {
        return None;
    }
    use wecom_core_auth::clock::Clock;
    let clock = state.clock.lock().unwrap().clone()?;
    let now = clock.now().duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(now.as_millis() as u64)
}

fn rand_suffix() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 12)
}

/// Which app a request's token belongs to, or the errcode WeCom would answer.
fn token_owner(
    state: &FakeState,
    q: &HashMap<String, String>,
) -> Result<&'static str, (i64, &'static str)> {
    if let (Some(now), Some(t)) = (fake_now(state), q.get("access_token"))
        && state
            .token_expiry
            .lock()
            .unwrap()
            .get(t)
            .is_some_and(|exp| now >= *exp)
    {
        return Err((42001, "access_token expired"));
    }
    match q.get("access_token") {
        None => Err((41001, "access_token missing")),
        Some(t) => state
            .tokens
            .lock()
            .unwrap()
            .get(t)
            .copied()
            .ok_or((40014, "invalid access_token")),
    }
}

async fn jsapi_ticket(
    State(state): State<Arc<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = apply_fault(&state, "get_jsapi_ticket").await {
        return r;
    }
    let owner = match token_owner(&state, &q) {
        Ok(o) => o,
        Err((code, msg)) => return err(code, msg),
    };
    let n = state.jsapi_ticket_calls.fetch_add(1, Ordering::SeqCst);
    let ticket = format!("JSAPITICKET{n}x{}", rand_suffix());
    state.tickets.lock().unwrap().insert(ticket.clone(), owner);
    axum::Json(json!({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": 7200}))
        .into_response()
}

async fn agent_ticket(
    State(state): State<Arc<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if q.get("type").map(String::as_str) != Some("agent_config") {
        return err(40005, "invalid type");
    }
    let owner = match token_owner(&state, &q) {
        Ok(o) => o,
        Err((code, msg)) => return err(code, msg),
    };
    let n = state.agent_ticket_calls.fetch_add(1, Ordering::SeqCst);
    let ticket = format!("AGENTTICKET{n}x{owner}x{}", rand_suffix());
    axum::Json(json!({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": 7200}))
        .into_response()
}

async fn business(
    State(state): State<Arc<FakeState>>,
    method: Method,
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    state.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: path.clone(),
        query: q.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    if let Some(r) = apply_fault(&state, &path).await {
        return r;
    }
    let owner = if path.starts_with("webhook/") {
        if q.get("key").map(String::as_str) != Some(ROBOT_KEY) {
            return err(93000, "invalid webhook url");
        }
        "robot"
    } else {
        match token_owner(&state, &q) {
            Ok(o) => o,
            Err((code, msg)) => return err(code, msg),
        }
    };
    match path.as_str() {
        // 上下游: a downstream corp's token, for an upstream app's token. The token's owner is
        // `down:{corpid}:{agentid}:{business_type}`; only corps starting `wwdown` are linked.
        "corpgroup/corp/gettoken" => {
            if !owner.starts_with("app") {
                return err(48002, "api forbidden");
            }
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let corpid = v["corpid"].as_str().unwrap_or_default();
            if !corpid.starts_with("wwdown") {
                return err(670004, "corp not in chain");
            }
            let down: &'static str = Box::leak(
                format!(
                    "down:{corpid}:{}:{}",
                    v["agentid"],
                    v["business_type"].as_u64().unwrap_or(0)
                )
                .into_boxed_str(),
            );
            let n = state.serial.fetch_add(1, Ordering::SeqCst);
            let token = format!("DOWNTOKEN{n}x{}", rand_suffix());
            state.tokens.lock().unwrap().insert(token.clone(), down);
            axum::Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
                .into_response()
        }
        "media/get" => {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, "application/octet-stream".parse().unwrap());
            (h, Bytes::from_static(b"\x89PNG raw bytes")).into_response()
        }
        "auth/getuserinfo" => match q.get("code").map(String::as_str) {
            Some("member-code") => axum::Json(json!({"errcode": 0, "errmsg": "ok", "userid": "zhangsan", "user_ticket": "USERTICKET-0123456789"})).into_response(),
            Some("guest-code") => axum::Json(json!({"errcode": 0, "errmsg": "ok", "openid": "oGUEST", "external_userid": "wmEXT"})).into_response(),
            Some("odd-code") => axum::Json(json!({"errcode": 0, "errmsg": "ok"})).into_response(),
            _ => err(40029, "invalid code"),
        },
        "auth/getuserdetail" => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if v["user_ticket"] != "USERTICKET-0123456789" {
                return err(40014, "invalid user_ticket");
            }
            axum::Json(json!({"errcode": 0, "errmsg": "ok", "userid": "zhangsan", "mobile": "13800000000"})).into_response()
        }
        "miniprogram/jscode2session" => {
            if q.get("grant_type").map(String::as_str) != Some("authorization_code") {
                return err(40003, "bad grant_type");
            }
            axum::Json(json!({"errcode": 0, "errmsg": "ok", "corpid": CORPID, "userid": "lisi", "session_key": "SESSIONKEY-0123"})).into_response()
        }
        // A malformed answer that also carries the caller's token (decode errors must mask it).
        "leak" => axum::Json(json!({"errcode": 0, "errmsg": "ok", "owner": 123, "access_token": q.get("access_token")})).into_response(),
        "html" => (StatusCode::OK, "<html>proxy login</html>").into_response(),
        "upload" => {
            let text = String::from_utf8_lossy(&body);
            axum::Json(json!({
                "errcode": 0, "errmsg": "ok", "owner": owner,
                "received": body.len(),
                "content_length": headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::to_owned),
                "chunked": headers.get(header::TRANSFER_ENCODING).is_some(),
                "content_type": headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned),
                "head": text.chars().take(300).collect::<String>(),
            }))
            .into_response()
        }
        _ => axum::Json(json!({"errcode": 0, "errmsg": "ok", "owner": owner, "method": method.to_string(), "echo": String::from_utf8_lossy(&body)}))
            .into_response(),
    }
}
