//! An axum router for a callback URL (feature `axum`).
//!
//! * `GET ?msg_signature&timestamp&nonce&echostr`: the URL check. Answers the echostr's
//!   plaintext only when it is shaped like an echostr (a short random string, see
//!   [`MAX_ECHOSTR`](crate::MAX_ECHOSTR)); a captured delivery replayed as a URL check is
//!   refused (400) and its plaintext never answered.
//! * `POST ?msg_signature&timestamp&nonce` with the encrypted envelope (XML or JSON): verified,
//!   decrypted, parsed, de-duplicated, then given to your async handler.
//!
//! # Replays
//!
//! The router refuses (403) requests whose `timestamp` is more than
//! [`DEFAULT_TIMESTAMP_WINDOW`] (5 minutes) from now, unless the crypto was given another
//! window or the router is told [`timestamp_window`](CallbackRouter::timestamp_window) /
//! [`no_timestamp_window`](CallbackRouter::no_timestamp_window). A completed callback is
//! remembered for twice the window plus a minute, so a captured delivery replayed while its
//! timestamp is still accepted is recognised as a retry (and acknowledged without running the
//! handler); once it is no longer remembered its timestamp is refused.
//!
//! # Delivery contract: at-least-once
//!
//! WeCom retries a callback (up to 3 times, each attempt waiting 5 s) until it gets an HTTP 200.
//! This router answers 200 **only once the handler has returned `Ok`** for that callback, so:
//!
//! * every callback reaches the handler at least once while WeCom still retries;
//! * a retry of a callback whose handler returned `Ok` is acknowledged (200, empty) without
//!   running the handler again (see [`dedup`](crate::dedup) for the key);
//! * a handler that panics, or (with [`CallbackRouter::try_new`]) returns `Err`, is answered
//!   500 and its key is released: WeCom's next retry runs the handler again;
//! * a handler still running when the acknowledgement deadline comes (4 s by default; WeCom
//!   waits 5 s) is answered 503 and keeps running in the background, its key marked *in
//!   progress*. WeCom's retry then waits (up to the same deadline) for it: if it returned `Ok`
//!   the retry gets its passive reply (sealed afresh) or an empty 200; if it failed or panicked
//!   the retry runs the handler itself; if it is still running the retry is answered 503 again.
//!   With several instances (`RedisDedup`) a retry on another instance sees the claim and
//!   answers 503 until the running instance records the outcome; the claim is a lease
//!   (10 s by default, extended while the handler runs), so a crashed instance's callback is
//!   run again by a later retry.
//!
//! Why non-200 answers make WeCom retry: the current page (path/90238, "接收消息与事件") says
//! WeCom retries when it gets no answer within 5 s; the earlier version of the same page said
//! that only an HTTP 200 counts as received and that any other status is treated as a failure
//! and retried. The current page is silent on non-200 statuses; this router relies on the
//! earlier statement rather than holding a failed request open until WeCom's 5 s run out.
//!
//! A handler can therefore run twice for one callback (a crash after its work but before the
//! outcome was recorded, a Redis outage); make it idempotent. If it needs longer than WeCom's
//! retries last (about 20 s in all), it should record the callback durably and return, and do
//! the work elsewhere: when WeCom stops retrying, a callback whose handler then fails is lost.
//!
//! ```no_run
//! use wecom_callback::{CallbackCrypto, Inbound, Reply, router::CallbackRouter};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let crypto = CallbackCrypto::new("Token", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwcorpid")?;
//! let app = CallbackRouter::new(crypto, |inbound: Inbound| async move {
//!     match inbound {
//!         Inbound::Message(_) => Some(Reply::text("received")),
//!         _ => None,
//!     }
//! })
//! .path("/wecom/callback")
//! .into_router();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::crypto::{CallbackCrypto, Format};
use crate::dedup::{BoxFuture, Claim, Dedup, MemoryDedup, Ticket, retry_key};
use crate::error::CallbackError;
use crate::event::Inbound;
use crate::reply::Reply;

/// WeCom's deadline is 5 s; leave room for the network.
pub const DEFAULT_ACK_WITHIN: Duration = Duration::from_secs(4);

/// The default timestamp window of the router: 5 minutes either side of now.
pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(300);

/// How long a running handler's claim lasts without being extended (it is extended every third
/// of it while the handler runs): the time after which another instance may run a callback
/// whose instance died.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// How often a delivery whose callback is being handled on another instance asks the store
/// again.
const POLL: Duration = Duration::from_millis(100);

type HandlerResult = Result<Option<Reply>, String>;
type Handler = dyn Fn(Inbound) -> BoxFuture<'static, HandlerResult> + Send + Sync;

/// The outcome of one handler run: its reply, or that it failed.
type Outcome = Result<Option<Reply>, ()>;

#[derive(Debug, Clone, Copy)]
enum Window {
    /// The crypto's window, or [`DEFAULT_TIMESTAMP_WINDOW`] when it has none.
    Default,
    Off,
    Set(Duration),
}

/// Builds the router; see the [module docs](self).
pub struct CallbackRouter {
    crypto: CallbackCrypto,
    handler: Arc<Handler>,
    dedup: Arc<dyn Dedup>,
    ack_within: Duration,
    lease: Duration,
    window: Window,
    path: String,
}

impl fmt::Debug for CallbackRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackRouter")
            .field("crypto", &self.crypto)
            .field("ack_within", &self.ack_within)
            .field("lease", &self.lease)
            .field("window", &self.window)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A router with default settings (in-memory de-duplication, 4 s acknowledgement, 5-minute
/// timestamp window, path `/`).
pub fn router<H, F>(crypto: CallbackCrypto, handler: H) -> Router
where
    H: Fn(Inbound) -> F + Send + Sync + 'static,
    F: Future<Output = Option<Reply>> + Send + 'static,
{
    CallbackRouter::new(crypto, handler).into_router()
}

impl CallbackRouter {
    /// `handler` is called for each new callback (not for WeCom's retries of one it already
    /// handled); see the [delivery contract](self#delivery-contract-at-least-once).
    pub fn new<H, F>(crypto: CallbackCrypto, handler: H) -> Self
    where
        H: Fn(Inbound) -> F + Send + Sync + 'static,
        F: Future<Output = Option<Reply>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self::with_handler(
            crypto,
            Arc::new(move |inbound| {
                let fut = handler(inbound);
                Box::pin(async move { Ok(fut.await) }) as BoxFuture<'static, HandlerResult>
            }),
        )
    }

    /// Like [`new`](Self::new) for a fallible handler: an `Err` is logged (with its `Display`)
    /// and answered 500, and the callback is not recorded as handled, so WeCom's retry runs the
    /// handler again.
    ///
    /// ```
    /// use wecom_callback::{CallbackCrypto, Inbound, Reply, router::CallbackRouter};
    /// # fn save(_: &Inbound) -> Result<(), std::io::Error> { Ok(()) }
    /// let crypto = CallbackCrypto::new("Token", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwcorpid")?;
    /// let app = CallbackRouter::try_new(crypto, |inbound: Inbound| async move {
    ///     save(&inbound)?; // not saved: WeCom retries
    ///     Ok::<_, std::io::Error>(None::<Reply>)
    /// })
    /// .into_router();
    /// # Ok::<(), wecom_callback::CallbackError>(())
    /// ```
    pub fn try_new<H, F, E>(crypto: CallbackCrypto, handler: H) -> Self
    where
        H: Fn(Inbound) -> F + Send + Sync + 'static,
        F: Future<Output = Result<Option<Reply>, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self::with_handler(
            crypto,
            Arc::new(move |inbound| {
                let fut = handler(inbound);
                Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
                    as BoxFuture<'static, HandlerResult>
            }),
        )
    }

    fn with_handler(crypto: CallbackCrypto, handler: Arc<Handler>) -> Self {
        CallbackRouter {
            crypto,
            handler,
            dedup: Arc::new(MemoryDedup::default()),
            ack_within: DEFAULT_ACK_WITHIN,
            lease: DEFAULT_LEASE,
            window: Window::Default,
            path: "/".to_owned(),
        }
    }

    /// Use another de-duplication store (e.g. `RedisDedup` with feature `redis`).
    pub fn dedup(mut self, dedup: impl Dedup) -> Self {
        self.dedup = Arc::new(dedup);
        self
    }

    /// How long to wait for the handler before answering 503 (WeCom then retries; default
    /// [`DEFAULT_ACK_WITHIN`]).
    pub fn ack_within(mut self, ack_within: Duration) -> Self {
        self.ack_within = ack_within;
        self
    }

    /// How long a running handler's claim lasts without being extended (default
    /// [`DEFAULT_LEASE`], at least 1 s).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// Refuse requests whose timestamp is further than `window` from now.
    pub fn timestamp_window(mut self, window: Duration) -> Self {
        self.window = Window::Set(window);
        self
    }

    /// Accept any timestamp. Replays are then recognised only while the de-duplication store
    /// remembers the callback (11 minutes by default).
    pub fn no_timestamp_window(mut self) -> Self {
        self.window = Window::Off;
        self
    }

    /// The route path (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The router, with a body limit equal to the crypto's [`max_body`](CallbackCrypto::max_body).
    pub fn into_router(self) -> Router {
        let crypto = match self.window {
            Window::Default => match self.crypto.timestamp_window() {
                Some(_) => self.crypto,
                None => self.crypto.with_timestamp_window(DEFAULT_TIMESTAMP_WINDOW),
            },
            Window::Off => self.crypto.without_timestamp_window(),
            Window::Set(window) => self.crypto.with_timestamp_window(window),
        };
        let keep = keep_for(crypto.timestamp_window());
        let limit = crypto.max_body();
        let path = self.path.clone();
        let state = Arc::new(Shared {
            crypto,
            handler: self.handler,
            dedup: self.dedup,
            ack_within: self.ack_within,
            lease: self.lease,
            keep,
            running: Mutex::default(),
        });
        Router::new()
            .route(&path, get(verify_url).post(deliver))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(state)
    }
}

/// How long a handled callback is remembered: twice the window (a timestamp is accepted from
/// `window` before to `window` after it) plus a minute; 11 minutes without a window.
fn keep_for(window: Option<Duration>) -> Duration {
    match window {
        Some(window) => window
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(60)),
        None => DEFAULT_TIMESTAMP_WINDOW * 2 + Duration::from_secs(60),
    }
}

struct Shared {
    crypto: CallbackCrypto,
    handler: Arc<Handler>,
    dedup: Arc<dyn Dedup>,
    ack_within: Duration,
    lease: Duration,
    keep: Duration,
    /// Handlers running in this instance, by retry key: a retry waits on them.
    running: Mutex<HashMap<String, watch::Receiver<Option<Outcome>>>>,
}

impl Shared {
    fn running(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, watch::Receiver<Option<Outcome>>>> {
        // Only inserts and removes happen under the lock: nothing to repair after a panic.
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run the handler for a claimed key in a task of its own (it outlives the request), and
    /// record its outcome: complete on `Ok`, release on an error or a panic.
    fn start(
        self: &Arc<Self>,
        ticket: Ticket,
        inbound: Inbound,
    ) -> watch::Receiver<Option<Outcome>> {
        let (tx, rx) = watch::channel(None);
        self.running().insert(ticket.key().to_owned(), rx.clone());
        let own = rx.clone();
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            let mut task = tokio::spawn((shared.handler)(inbound));
            let extend_every = shared.lease / 3;
            let joined = loop {
                tokio::select! {
                    joined = &mut task => break joined,
                    () = tokio::time::sleep(extend_every) => {
                        shared.dedup.extend(&ticket, shared.lease).await;
                    }
                }
            };
            let outcome = match joined {
                Ok(Ok(reply)) => {
                    shared.dedup.complete(&ticket, shared.keep).await;
                    Ok(reply)
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "callback handler failed; not acknowledged, WeCom's retry runs it again");
                    shared.dedup.release(&ticket).await;
                    Err(())
                }
                Err(join_error) => {
                    tracing::error!(%join_error, "callback handler panicked; not acknowledged, WeCom's retry runs it again");
                    shared.dedup.release(&ticket).await;
                    Err(())
                }
            };
            // Forget the running entry before publishing the outcome: a waiter that sees a
            // failure then claims the key afresh instead of finding this entry again.
            {
                let mut running = shared.running();
                if running
                    .get(ticket.key())
                    .is_some_and(|r| r.same_channel(&own))
                {
                    running.remove(ticket.key());
                }
            }
            let _ = tx.send(Some(outcome));
        });
        rx
    }
}

#[derive(Debug, serde::Deserialize)]
struct Params {
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
}

impl Params {
    fn required(&self) -> Option<(&str, &str, &str)> {
        match (&self.msg_signature, &self.timestamp, &self.nonce) {
            (Some(s), Some(t), Some(n)) => Some((s, t, n)),
            _ => None,
        }
    }
}

fn missing_params() -> Response {
    plain(
        StatusCode::BAD_REQUEST,
        "missing msg_signature, timestamp or nonce in the query string",
    )
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn rejected(error: &CallbackError) -> Response {
    tracing::warn!(code = error.code(), %error, "callback rejected");
    match error {
        CallbackError::ValidateSignature
        | CallbackError::TimestampOutOfWindow { .. }
        | CallbackError::ValidateReceiveId { .. } => {
            plain(StatusCode::FORBIDDEN, "callback rejected: not authentic")
        }
        CallbackError::BodyTooLarge { .. } => plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "callback rejected: too large",
        ),
        CallbackError::NotAnEchostr { .. } => plain(
            StatusCode::BAD_REQUEST,
            "URL check rejected: the echostr is not a short random string",
        ),
        _ => plain(StatusCode::BAD_REQUEST, "callback rejected: malformed"),
    }
}

async fn verify_url(State(shared): State<Arc<Shared>>, Query(params): Query<Params>) -> Response {
    let Some((signature, timestamp, nonce)) = params.required() else {
        return missing_params();
    };
    let Some(echostr) = &params.echostr else {
        return plain(
            StatusCode::BAD_REQUEST,
            "missing echostr in the query string",
        );
    };
    // A '+' sent without URL-encoding arrives as a space; base64 never contains spaces.
    let echostr = echostr.replace(' ', "+");
    match shared
        .crypto
        .verify_url(signature, timestamp, nonce, &echostr)
    {
        Ok(plaintext) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            plaintext,
        )
            .into_response(),
        Err(error) => rejected(&error),
    }
}

/// How one delivery ends.
enum Answer {
    /// The handler returned `Ok` (here, or for a delivery this one waited on).
    Handled(Option<Reply>),
    /// Handled before: a retry or a replay.
    AlreadyHandled,
    /// The handler this delivery started failed or panicked.
    Failed,
    /// Still running at the acknowledgement deadline.
    Pending,
}

/// Wait for a running handler's outcome until `deadline`; `None` if it is still running.
async fn outcome_by(
    mut rx: watch::Receiver<Option<Outcome>>,
    deadline: Instant,
) -> Option<Outcome> {
    match tokio::time::timeout_at(deadline, rx.wait_for(Option::is_some)).await {
        Ok(Ok(outcome)) => outcome.clone(),
        // The task was dropped without an outcome (the runtime is shutting down): a failure.
        Ok(Err(_)) => Some(Err(())),
        Err(_) => None,
    }
}

async fn deliver(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<Params>,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    // Capped at a day: a larger setting means "wait for the handler", and must not overflow.
    let deadline = now
        .checked_add(shared.ack_within.min(Duration::from_secs(86_400)))
        .unwrap_or(now);
    let Some((signature, timestamp, nonce)) = params.required() else {
        return missing_params();
    };
    let delivery = match shared
        .crypto
        .open_delivery_detailed(signature, timestamp, nonce, &body)
    {
        Ok(delivery) => delivery,
        Err(error) => return rejected(&error),
    };
    let inbound = match Inbound::parse(&delivery.plaintext) {
        Ok(inbound) => inbound,
        Err(error) => return rejected(&error),
    };
    // The plaintext's AgentID is signed; the envelope's is not, and is used only when the
    // plaintext has none (a changed one can then only cause a duplicate, never a loss).
    let agent_id = inbound.agent_id().or(delivery.envelope_agent_id);
    let key = retry_key(
        shared.crypto.receive_id(),
        agent_id.as_deref(),
        &delivery.plaintext,
    );
    // Who the reply is addressed to, taken before the handler owns the callback.
    let (to_user, from_user) = match &inbound {
        Inbound::Message(m) => (
            m.header.from_user_name.clone(),
            m.header.to_user_name.clone(),
        ),
        Inbound::Event(e) => (
            e.header.from_user_name.clone(),
            e.header.to_user_name.clone(),
        ),
        Inbound::Unknown(u) => (u.from_user_name.clone(), u.to_user_name.clone()),
    };
    let mut inbound = Some(inbound);
    let answer = loop {
        let running = shared.running().get(&key).cloned();
        let (rx, mine) = match running {
            Some(rx) => (rx, false),
            None => match shared.dedup.claim(&key, shared.lease).await {
                Claim::Done => break Answer::AlreadyHandled,
                Claim::InProgress => {
                    // Running on another instance (or just finishing here): ask again.
                    let now = Instant::now();
                    if now >= deadline {
                        break Answer::Pending;
                    }
                    tokio::time::sleep(POLL.min(deadline - now)).await;
                    continue;
                }
                Claim::New(ticket) => match inbound.take() {
                    Some(inbound) => (shared.start(ticket, inbound), true),
                    // This delivery already ran the handler once (and broke out on failure),
                    // so this cannot happen; give the claim back rather than hold it.
                    None => {
                        shared.dedup.release(&ticket).await;
                        break Answer::Failed;
                    }
                },
            },
        };
        match outcome_by(rx, deadline).await {
            Some(Ok(reply)) => break Answer::Handled(reply),
            Some(Err(())) if mine => break Answer::Failed,
            // Another delivery's run failed: its claim is released, take it over.
            Some(Err(())) => continue,
            None => break Answer::Pending,
        }
    };
    match answer {
        Answer::AlreadyHandled => {
            tracing::debug!("callback retry acknowledged without running the handler");
            StatusCode::OK.into_response()
        }
        Answer::Failed => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "callback handler failed; not acknowledged so that WeCom retries",
        ),
        Answer::Pending => {
            tracing::warn!(
                ack_within_ms = u64::try_from(shared.ack_within.as_millis()).unwrap_or(u64::MAX),
                "callback handler still running; not acknowledged yet, WeCom's retry will wait for it"
            );
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "callback still being handled; WeCom's retry will get the answer",
            )
        }
        Answer::Handled(None) => StatusCode::OK.into_response(),
        Answer::Handled(Some(reply)) => sealed(
            &shared.crypto,
            delivery.format,
            &reply,
            &to_user,
            &from_user,
        ),
    }
}

/// The passive reply, in the delivery's format, encrypted and signed.
fn sealed(
    crypto: &CallbackCrypto,
    format: Format,
    reply: &Reply,
    to_user: &str,
    from_user: &str,
) -> Response {
    let now = crypto.now();
    let timestamp = now.to_string();
    let nonce = (rand::random::<u32>() % 1_000_000_000).to_string();
    match format {
        Format::Xml => {
            let plaintext = reply.to_xml(to_user, from_user, now);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                crypto.seal_reply(&plaintext, &timestamp, &nonce),
            )
                .into_response()
        }
        Format::Json => match reply.to_json() {
            Some(plaintext) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                crypto.seal_reply_json(&plaintext, &timestamp, &nonce),
            )
                .into_response(),
            None => {
                tracing::warn!(
                    msg_type = reply.msg_type(),
                    "WeCom defines no JSON form of this passive reply; acknowledged without a reply"
                );
                StatusCode::OK.into_response()
            }
        },
    }
}
