//! Errors: the WeCom error a handler answers ([`ApiError`]) and the sandbox's own failures
//! ([`SandboxError`]).

mod corp;

use std::fmt;

use wecom_core_auth::ErrorCode;

pub use corp::CorpError;

/// An error answered to a WeCom client: HTTP 200 with `{"errcode": N, "errmsg": "..."}`.
///
/// `errmsg` is the plain English text; when it is written to the wire the sandbox appends WeCom's
/// usual tail (`, hint: [..], from ip: 127.0.0.1, more info at ...?e=N`) so clients that keep
/// the `from ip` hint see the same shape as from qyapi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// WeCom's error code (never 0).
    pub errcode: i64,
    /// What went wrong, in WeCom's wording where known.
    pub errmsg: String,
}

/// An errcode: one of the generated [`ErrorCode`] constants (preferred), or a plain number for
/// codes `spec/errcodes.toml` does not list yet.
pub trait Errcode {
    /// The number on the wire.
    fn errcode(self) -> i64;
}

impl Errcode for ErrorCode {
    fn errcode(self) -> i64 {
        self.code()
    }
}

impl Errcode for i64 {
    fn errcode(self) -> i64 {
        self
    }
}

impl Errcode for i32 {
    fn errcode(self) -> i64 {
        i64::from(self)
    }
}

impl ApiError {
    /// A new error with WeCom's code and a message.
    ///
    /// ```
    /// use wecom_core_auth::ErrorCode;
    /// use wecom_sandbox::ApiError;
    /// let e = ApiError::new(ErrorCode::USERID_NOT_FOUND, "userid not found: ghost");
    /// assert_eq!(e.errcode, 60111);
    /// ```
    pub fn new(errcode: impl Errcode, errmsg: impl Into<String>) -> Self {
        Self {
            errcode: errcode.errcode(),
            errmsg: errmsg.into(),
        }
    }

    /// 40058: a parameter is invalid (the catch-all WeCom uses).
    pub fn invalid_parameter(what: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::INVALID_PARAMETER,
            format!("invalid Request Parameter, {what}"),
        )
    }

    /// 60011: the caller's app cannot see this member, department or tag.
    pub fn no_privilege(what: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::NO_PRIVILEGE,
            format!("no privilege to access/modify contact/party/agent, {what}"),
        )
    }

    /// 48002: the credential may not call this API.
    pub fn api_forbidden(what: impl fmt::Display) -> Self {
        Self::new(ErrorCode::API_FORBIDDEN, format!("api forbidden, {what}"))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errcode {}: {}", self.errcode, self.errmsg)
    }
}

impl std::error::Error for ApiError {}

/// A failure of the sandbox itself (starting, loading or saving a corp).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}; pick another port (0 = any free port)")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A corp file could not be read or written.
    #[error("corp file {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A corp file could not be parsed.
    #[error(
        "corp file {path}: {message}; see the demo corp (`Corp::demo().to_toml()`) for the format"
    )]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// The parser's message (with line and column where known).
        message: String,
    },
    /// A corp file parsed but breaks one of WeCom's rules (a member in a missing department, ...).
    #[error("corp is not consistent: {0}")]
    InvalidCorp(#[from] CorpError),
}
