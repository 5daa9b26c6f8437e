//! Errors. One [`Error`] type for every failure of a call; see the variants.

use std::fmt;

/// A request that breaks a constraint of the spec, caught before any I/O.
///
/// `field` is a path into the request (`news.articles[8].title`), `problem` says what is wrong
/// and what the limit is, and `errcode` is what WeCom would have answered, when the spec names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    /// The endpoint or type being validated (`message_send`, `Department`); empty when unknown.
    pub context: String,
    /// Path of the offending field, e.g. `touser` or `news.articles[3].title`.
    pub field: String,
    /// What is wrong, including the limit and the actual value's size: `is 2050 bytes; at most 2048 allowed`.
    pub problem: String,
    /// The errcode WeCom answers for this mistake, when known.
    pub errcode: Option<i64>,
}

impl InvalidInput {
    /// A new error about `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            context: String::new(),
            field: field.into(),
            problem: problem.into(),
            errcode: None,
        }
    }

    /// Sets the errcode WeCom would answer.
    pub fn with_errcode(mut self, errcode: Option<i64>) -> Self {
        self.errcode = errcode;
        self
    }

    /// Sets the endpoint or type name the field belongs to.
    pub fn in_context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }

    /// Prefixes the field path with a parent (`articles[3]` + `title` -> `articles[3].title`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = field_under(parent, &self.field);
        self
    }
}

/// `parent` + `field` as a field path: `parent.field`, `parent[2]`, or `parent` alone.
pub(crate) fn field_under(parent: &str, field: &str) -> String {
    if field.is_empty() {
        parent.to_owned()
    } else if field.starts_with('[') {
        format!("{parent}{field}")
    } else {
        format!("{parent}.{field}")
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            write!(f, "invalid `{}`: {}", self.field, self.problem)?;
        } else {
            write!(
                f,
                "{}: invalid `{}`: {}",
                self.context, self.field, self.problem
            )?;
        }
        if let Some(code) = self.errcode {
            write!(f, " (WeCom would answer errcode {code})")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidInput {}

/// An answer that could not be decoded into the expected type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong (serde's message, with line and column).
    pub message: String,
    /// The start of the body (tokens masked), for diagnosis.
    pub body_excerpt: String,
}

impl DecodeError {
    /// Builds a decode error from a serde message and the body it failed on.
    /// The body excerpt is cut to 512 bytes and has token-like values masked.
    pub fn new(message: impl Into<String>, body: &[u8]) -> Self {
        Self {
            message: message.into(),
            body_excerpt: crate::redact::body_excerpt(body, 512),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (body: {})", self.message, self.body_excerpt)
    }
}

impl std::error::Error for DecodeError {}

// ---------------------------------------------------------------------------------------------
// The error of a call.
// ---------------------------------------------------------------------------------------------

use std::net::IpAddr;
use std::time::Duration;

pub use crate::generated::errcodes::{ErrorClass, ErrorCode};

/// Everything that can go wrong with a call. Every variant says what happened and, where there
/// is one, what to do; none of them ever contains a secret, token or ticket (URLs are masked).
///
/// ```
/// # fn demo(err: wecom_core_auth::Error) {
/// use wecom_core_auth::{Error, ErrorClass};
/// match &err {
///     Error::Api(api) if api.code().code() == 60020 => {
///         eprintln!("add {:?} to the app's trusted IPs", api.from_ip());
///     }
///     _ if err.class() == ErrorClass::RateLimit => eprintln!("slow down: {err}"),
///     _ => eprintln!("{err}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request breaks a rule of the spec; nothing was sent.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The client is not set up for this call (a missing secret, a bad base URL...); nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request did not get a usable HTTP answer (connect, timeout, HTTP status, body).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// WeCom answered with a non-zero `errcode`.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The answer could not be decoded into the expected type.
    #[error("{}: could not decode the answer: {source}", if endpoint.is_empty() { "wecom" } else { endpoint })]
    Decode {
        /// The endpoint (spec name); empty when unknown.
        endpoint: &'static str,
        /// What went wrong, with a masked excerpt of the body.
        source: DecodeError,
    },
    /// A credential fetch failed in a way that must not be repeated soon (a wrong secret or corpid,
    /// a rate limit), so the client refuses locally until the cool-down ends; nothing was sent.
    #[error(transparent)]
    CoolDown(#[from] CoolDownError),
}

impl From<DecodeError> for Error {
    fn from(source: DecodeError) -> Self {
        Error::Decode {
            endpoint: "",
            source,
        }
    }
}

impl Error {
    /// What kind of failure this is, which decides whether retrying can help.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Invalid(_) => ErrorClass::Input,
            Error::Config(_) | Error::Decode { .. } => ErrorClass::Other,
            Error::Transport(t) => t.class(),
            Error::Api(a) => a.class(),
            Error::CoolDown(c) => c.cause.class(),
        }
    }

    /// Whether the same call may succeed if simply sent again later (transient failures:
    /// errcode -1 or 6000, HTTP 5xx, connect errors and timeouts). Whether it is *safe* to resend
    /// depends on the endpoint; the client only does so for idempotent ones.
    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// The WeCom errcode, for [`Error::Api`] (and a cool-down caused by one).
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Error::Api(a) => Some(a.code().code()),
            Error::CoolDown(c) => c.cause.errcode(),
            _ => None,
        }
    }

    /// The endpoint the error is about, when known.
    pub fn endpoint(&self) -> Option<&'static str> {
        let name = match self {
            Error::Invalid(_) | Error::Config(_) => return None,
            Error::Transport(t) => t.endpoint,
            Error::Api(a) => a.endpoint,
            Error::Decode { endpoint, .. } => endpoint,
            Error::CoolDown(c) => return c.cause.endpoint(),
        };
        (!name.is_empty()).then_some(name)
    }

    pub(crate) fn with_endpoint(self, name: &'static str) -> Self {
        match self {
            Error::Invalid(mut e) if e.context.is_empty() => {
                e.context = name.to_owned();
                Error::Invalid(e)
            }
            Error::Decode {
                endpoint: "",
                source,
            } => Error::Decode {
                endpoint: name,
                source,
            },
            other => other,
        }
    }
}

/// The client is not configured for what was asked. `fix` names the builder call that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}; fix: {fix}")]
pub struct ConfigError {
    /// What is wrong.
    pub problem: String,
    /// How to fix it, e.g. "call `ClientBuilder::contact_secret` with the 通讯录同步 secret".
    pub fix: String,
}

impl ConfigError {
    /// A new configuration error.
    pub fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// What kind of transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Could not connect (DNS, refused, TLS handshake, proxy).
    Connect,
    /// No complete answer within the configured timeout.
    Timeout,
    /// An HTTP status other than 2xx.
    Status(u16),
    /// The request or response body failed mid-way (including reading an upload's file).
    Body,
    /// The connection closed (or was reset) before a complete answer arrived: like a timeout,
    /// the server may or may not have handled the request.
    Closed,
    /// Anything else the HTTP stack reported.
    Other,
}

/// The request did not get a usable HTTP answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {} ({method} {url}){}", if endpoint.is_empty() { "wecom" } else { endpoint }, describe_transport(*kind, message), hint_transport(*kind))]
pub struct TransportError {
    /// The endpoint (spec name); empty when unknown.
    pub endpoint: &'static str,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The URL with credentials masked (`access_token=***`).
    pub url: String,
    /// What failed.
    pub kind: TransportErrorKind,
    /// The HTTP stack's message (credentials masked).
    pub message: String,
}

fn describe_transport(kind: TransportErrorKind, message: &str) -> String {
    let what = match kind {
        TransportErrorKind::Connect => "could not connect".to_owned(),
        TransportErrorKind::Timeout => "timed out".to_owned(),
        TransportErrorKind::Status(code) => format!("HTTP status {code}"),
        TransportErrorKind::Body => "the body failed".to_owned(),
        TransportErrorKind::Closed => "the connection closed before an answer".to_owned(),
        TransportErrorKind::Other => "HTTP error".to_owned(),
    };
    if message.is_empty() {
        what
    } else {
        format!("{what}: {message}")
    }
}

fn hint_transport(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Connect => "; check the network, the base URL and the proxy setting",
        TransportErrorKind::Timeout => "; raise ClientBuilder::timeout if the network is slow",
        _ => "",
    }
}

impl TransportError {
    /// Connect errors, timeouts, connections closed before the answer and HTTP 5xx are
    /// [`ErrorClass::Transient`]; the rest are `Other`.
    pub fn class(&self) -> ErrorClass {
        match self.kind {
            TransportErrorKind::Connect
            | TransportErrorKind::Timeout
            | TransportErrorKind::Closed => ErrorClass::Transient,
            TransportErrorKind::Status(s) if (500..600).contains(&s) => ErrorClass::Transient,
            _ => ErrorClass::Other,
        }
    }
}

/// WeCom answered with a non-zero `errcode`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: WeCom errcode {code}: {}{}{}", if endpoint.is_empty() { "wecom" } else { endpoint }, errmsg, fix_suffix(*code), retry_suffix(*after_unanswered_attempt))]
pub struct ApiError {
    /// The endpoint (spec name); empty when unknown.
    pub endpoint: &'static str,
    /// The error code, with its meaning and class.
    pub code: ErrorCode,
    /// WeCom's `errmsg`, kept whole (its `from ip: ...` hint and help link included).
    pub errmsg: String,
    /// This answer came to a retry, after an attempt that got no answer (a timeout, a dropped
    /// connection, HTTP 5xx, errcode -1) and may have been carried out. Set on "not found" and
    /// "already exists" answers ([`ErrorClass::NotFound`], [`ErrorClass::Conflict`]): for a
    /// retried delete, "not found" may mean that the first attempt deleted it.
    pub after_unanswered_attempt: bool,
}

fn retry_suffix(after_unanswered_attempt: bool) -> &'static str {
    if after_unanswered_attempt {
        "; note: this answered a retry after an attempt that got no answer, and the first attempt may have succeeded (check whether the change is already done)"
    } else {
        ""
    }
}

fn fix_suffix(code: ErrorCode) -> String {
    match code.fix() {
        Some(f) => format!("; fix: {f}"),
        None => String::new(),
    }
}

impl ApiError {
    /// A new API error; the message has credentials masked.
    pub fn new(endpoint: &'static str, code: i64, errmsg: &str) -> Self {
        Self {
            endpoint,
            code: ErrorCode::from(code),
            errmsg: crate::redact::mask_text(errmsg),
            after_unanswered_attempt: false,
        }
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The class of the error code.
    pub fn class(&self) -> ErrorClass {
        self.code.class()
    }

    /// The caller's IP as WeCom saw it, from the `from ip: x.x.x.x` hint in `errmsg`
    /// (what to add to the trusted IP list on errcode 60020).
    ///
    /// ```
    /// use wecom_core_auth::error::ApiError;
    /// let e = ApiError::new("user_get", 60020, "not allow to access from your ip, hint: [1697], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020");
    /// assert_eq!(e.from_ip(), Some("203.0.113.7".parse().unwrap()));
    /// ```
    pub fn from_ip(&self) -> Option<IpAddr> {
        from_ip_hint(&self.errmsg)
    }
}

/// Extracts the address from a `from ip: x.x.x.x` hint in a WeCom `errmsg`.
pub fn from_ip_hint(errmsg: &str) -> Option<IpAddr> {
    let lower = errmsg.to_ascii_lowercase();
    let at = lower.find("from ip")?;
    let rest = errmsg[at + "from ip".len()..].trim_start_matches([':', ' ', '\t']);
    let end = rest
        .find(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches([':', '.']).parse().ok()
}

/// A credential fetch is refused locally because the last one failed in a way that must not be
/// repeated soon (a wrong secret or corpid: WeCom bans an IP that keeps trying; a rate limit).
#[derive(Debug, Clone, thiserror::Error)]
#[error("refusing to call {what} for {credential} for another {}s (cool-down after the last failure; ClientBuilder::token_policy sets its length): {cause}", remaining.as_secs().max(1))]
pub struct CoolDownError {
    /// What is refused (`gettoken`, `get_jsapi_ticket`...).
    pub what: &'static str,
    /// Which credential, e.g. `app 1000002 of corp ww12...` (never the secret).
    pub credential: String,
    /// How long the refusal lasts from now.
    pub remaining: Duration,
    /// The failure that started the cool-down, the same clear error as the first time.
    pub cause: Box<Error>,
}
