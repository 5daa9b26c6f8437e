//! An axum router for a callback URL (feature `axum`).
//!
//! * `GET ?msg_signature&timestamp&nonce&echostr`: the URL check; answers the echostr's plaintext.
//! * `POST ?msg_signature&timestamp&nonce` with the encrypted envelope (XML or JSON): verified,
//!   decrypted, parsed, de-duplicated, then given to your async handler. If the handler returns
//!   a [`Reply`] within the acknowledgement deadline (4 s by default; WeCom waits 5 s) it is sent
//!   back encrypted; otherwise an empty 200 is sent and the handler finishes in the background.
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

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::crypto::{CallbackCrypto, Format};
use crate::dedup::{BoxFuture, Dedup, MemoryDedup};
use crate::error::CallbackError;
use crate::event::Inbound;
use crate::reply::Reply;

/// WeCom's deadline is 5 s; leave room for the network.
pub const DEFAULT_ACK_WITHIN: Duration = Duration::from_secs(4);

type Handler = dyn Fn(Inbound) -> BoxFuture<'static, Option<Reply>> + Send + Sync;

/// Builds the router; see the [module docs](self).
pub struct CallbackRouter {
    crypto: Arc<CallbackCrypto>,
    handler: Arc<Handler>,
    dedup: Arc<dyn Dedup>,
    ack_within: Duration,
    path: String,
}

impl fmt::Debug for CallbackRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackRouter")
            .field("crypto", &self.crypto)
            .field("ack_within", &self.ack_within)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A router with default settings (in-memory de-duplication, 4 s acknowledgement, path `/`).
pub fn router<H, F>(crypto: CallbackCrypto, handler: H) -> Router
where
    H: Fn(Inbound) -> F + Send + Sync + 'static,
    F: Future<Output = Option<Reply>> + Send + 'static,
{
    CallbackRouter::new(crypto, handler).into_router()
}

impl CallbackRouter {
    /// `handler` is called once per new (non-retried) callback.
    pub fn new<H, F>(crypto: CallbackCrypto, handler: H) -> Self
    where
        H: Fn(Inbound) -> F + Send + Sync + 'static,
        F: Future<Output = Option<Reply>> + Send + 'static,
    {
        CallbackRouter {
            crypto: Arc::new(crypto),
            handler: Arc::new(move |inbound| Box::pin(handler(inbound))),
            dedup: Arc::new(MemoryDedup::default()),
            ack_within: DEFAULT_ACK_WITHIN,
            path: "/".to_owned(),
        }
    }

    /// Use another de-duplication store (e.g. `RedisDedup` with feature `redis`).
    pub fn dedup(mut self, dedup: impl Dedup) -> Self {
        self.dedup = Arc::new(dedup);
        self
    }

    /// How long to wait for the handler before acknowledging with an empty 200.
    pub fn ack_within(mut self, ack_within: Duration) -> Self {
        self.ack_within = ack_within;
        self
    }

    /// The route path (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The router, with a body limit equal to the crypto's [`max_body`](CallbackCrypto::max_body).
    pub fn into_router(self) -> Router {
        let limit = self.crypto.max_body();
        let path = self.path.clone();
        let state = Arc::new(Shared {
            crypto: self.crypto,
            handler: self.handler,
            dedup: self.dedup,
            ack_within: self.ack_within,
        });
        Router::new()
            .route(&path, get(verify_url).post(deliver))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(state)
    }
}

struct Shared {
    crypto: Arc<CallbackCrypto>,
    handler: Arc<Handler>,
    dedup: Arc<dyn Dedup>,
    ack_within: Duration,
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

async fn deliver(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<Params>,
    body: Bytes,
) -> Response {
    let Some((signature, timestamp, nonce)) = params.required() else {
        return missing_params();
    };
    let (format, plaintext) = match shared
        .crypto
        .open_delivery_with_format(signature, timestamp, nonce, &body)
    {
        Ok(opened) => opened,
        Err(error) => return rejected(&error),
    };
    let inbound = match Inbound::parse(&plaintext) {
        Ok(inbound) => inbound,
        Err(error) => return rejected(&error),
    };
    if !shared.dedup.first_seen(&inbound.dedup_key()).await {
        tracing::debug!("callback retry acknowledged without processing");
        return StatusCode::OK.into_response();
    }
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
    let task = tokio::spawn((shared.handler)(inbound));
    let reply = match tokio::time::timeout(shared.ack_within, task).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(join_error)) => {
            tracing::error!(%join_error, "callback handler panicked; acknowledged with an empty reply");
            None
        }
        Err(_) => {
            // Dropping the JoinHandle detaches the task: it finishes in the background.
            tracing::warn!(
                ack_within_ms = shared.ack_within.as_millis() as u64,
                "callback handler is slow; acknowledged, it continues in the background"
            );
            None
        }
    };
    let Some(reply) = reply else {
        return StatusCode::OK.into_response();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let timestamp = now.to_string();
    let nonce = (rand::random::<u32>() % 1_000_000_000).to_string();
    let plaintext = reply.to_xml(&to_user, &from_user, i64::try_from(now).unwrap_or(0));
    match format {
        Format::Xml => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            shared.crypto.seal_reply(&plaintext, &timestamp, &nonce),
        )
            .into_response(),
        Format::Json => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            shared
                .crypto
                .seal_reply_json(&plaintext, &timestamp, &nonce),
        )
            .into_response(),
    }
}
