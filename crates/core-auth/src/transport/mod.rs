//! The HTTP seam: a small object-safe trait the client sends every request through.
//!
//! The default is [`ReqwestTransport`]; tests and unusual deployments can plug in their own with
//! [`ClientBuilder::transport`](crate::ClientBuilder::transport). A transport only moves bytes:
//! tokens, envelopes, retries and errcodes are the client's business.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;

use crate::endpoint::Method;

mod reqwest_impl;

pub(crate) use reqwest_impl::mask_proxy;
pub use reqwest_impl::{ReqwestConfig, ReqwestTransport};

/// A boxed, sendable future (what [`Transport::send`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A streamed request body: chunks of bytes, or an I/O error from the source (a file, a reader).
pub type BodyStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// The body of an HTTP request.
pub enum HttpBody {
    /// No body.
    Empty,
    /// A body in memory (JSON).
    Bytes(Bytes),
    /// A streamed body (multipart uploads). `length`, when known, is sent as Content-Length.
    Stream {
        /// The chunks.
        stream: BodyStream,
        /// Total length in bytes, when known.
        length: Option<u64>,
    },
}

impl fmt::Debug for HttpBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpBody::Empty => f.write_str("Empty"),
            HttpBody::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            HttpBody::Stream { length, .. } => write!(f, "Stream(length: {length:?})"),
        }
    }
}

/// One HTTP request. `url` carries the credential in its query string: a transport must never log
/// it unmasked (use [`crate::redact::mask_url`]).
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// The full URL, credential included.
    pub url: String,
    /// Extra headers (Content-Type, Range...).
    pub headers: http::HeaderMap,
    /// The body.
    pub body: HttpBody,
    /// Deadline for the whole exchange, when set.
    pub timeout: Option<Duration>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &crate::redact::mask_url(&self.url))
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// An HTTP answer, body read whole.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Why a transport could not produce an answer. The message must not contain the URL.
#[derive(Debug, Clone)]
pub struct SendError {
    /// What failed.
    pub kind: crate::error::TransportErrorKind,
    /// A description without the URL.
    pub message: String,
}

impl SendError {
    /// A new send error.
    pub fn new(kind: crate::error::TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// Sends HTTP requests. Object-safe: the client holds an `Arc<dyn Transport>`.
pub trait Transport: Send + Sync + fmt::Debug + 'static {
    /// Sends `request` and reads the whole answer (any status).
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, SendError>>;
}
