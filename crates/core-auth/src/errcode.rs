//! Error codes and their classes.
//!
//! Interim table of the codes the client itself acts on; replaced by the generated
//! `crate::generated::errcodes` (from `spec/errcodes.toml`) once that lands.

use std::fmt;

/// What a caller should do about an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// Success (0).
    Ok,
    /// Retry with backoff (-1 busy, 6000 version conflict; also connect errors, timeouts, HTTP 5xx).
    Transient,
    /// Credential problem: refresh the token, or fix the secret.
    Token,
    /// Frequency or concurrency limit: back off for the window; never retried automatically.
    RateLimit,
    /// Not allowed for this app, secret or IP.
    Permission,
    /// Bad request data.
    Input,
    /// The thing referred to does not exist.
    NotFound,
    /// Already exists, or conflicts with the current state.
    Conflict,
    /// Anything else.
    Other,
}

/// A WeCom `errcode` with what is known about it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(i64);

struct Known {
    code: i64,
    class: ErrorClass,
    en: &'static str,
    fix: Option<&'static str>,
}

const KNOWN: &[Known] = &[
    Known {
        code: -1,
        class: ErrorClass::Transient,
        en: "system busy",
        fix: Some("retry later"),
    },
    Known {
        code: 0,
        class: ErrorClass::Ok,
        en: "ok",
        fix: None,
    },
    Known {
        code: 6000,
        class: ErrorClass::Transient,
        en: "data version conflict",
        fix: Some("retry"),
    },
    Known {
        code: 40001,
        class: ErrorClass::Token,
        en: "invalid secret",
        fix: Some("check the app's secret (or the contact-sync secret) in the admin console"),
    },
    Known {
        code: 40013,
        class: ErrorClass::Token,
        en: "invalid corpid",
        fix: Some("check the corpid (My Company > Company Information)"),
    },
    Known {
        code: 40014,
        class: ErrorClass::Token,
        en: "invalid access_token",
        fix: None,
    },
    Known {
        code: 40091,
        class: ErrorClass::Token,
        en: "invalid secret",
        fix: Some("check the app's secret in the admin console"),
    },
    Known {
        code: 41001,
        class: ErrorClass::Token,
        en: "access_token missing",
        fix: None,
    },
    Known {
        code: 41002,
        class: ErrorClass::Token,
        en: "corpid missing",
        fix: Some("set the corpid"),
    },
    Known {
        code: 41004,
        class: ErrorClass::Token,
        en: "secret missing",
        fix: Some("set the secret"),
    },
    Known {
        code: 42001,
        class: ErrorClass::Token,
        en: "access_token expired",
        fix: None,
    },
    Known {
        code: 45009,
        class: ErrorClass::RateLimit,
        en: "API frequency limit exceeded",
        fix: Some("slow down; WeCom blocks the caller for the rest of the window"),
    },
    Known {
        code: 45033,
        class: ErrorClass::RateLimit,
        en: "too many concurrent calls",
        fix: Some("lower the concurrency"),
    },
    Known {
        code: 48002,
        class: ErrorClass::Permission,
        en: "API not allowed for this secret",
        fix: Some(
            "use the secret the API needs (e.g. the contact-sync secret for directory writes)",
        ),
    },
    Known {
        code: 60011,
        class: ErrorClass::Permission,
        en: "no privilege (outside the app's visible scope)",
        fix: Some("add the member or department to the app's visible scope"),
    },
    Known {
        code: 60020,
        class: ErrorClass::Permission,
        en: "caller IP not trusted",
        fix: Some("add the `from ip` address to the app's trusted IP list"),
    },
];

impl ErrorCode {
    /// The number.
    pub const fn code(self) -> i64 {
        self.0
    }

    fn known(self) -> Option<&'static Known> {
        KNOWN.iter().find(|k| k.code == self.0)
    }

    /// English meaning, when known.
    pub fn meaning(self) -> Option<&'static str> {
        self.known().map(|k| k.en)
    }

    /// What to do about it, when known.
    pub fn fix(self) -> Option<&'static str> {
        self.known().and_then(|k| k.fix)
    }

    /// The class; unknown codes are [`ErrorClass::Other`].
    pub fn class(self) -> ErrorClass {
        self.known().map_or(ErrorClass::Other, |k| k.class)
    }
}

impl From<i64> for ErrorCode {
    fn from(code: i64) -> Self {
        ErrorCode(code)
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorCode({})", self.0)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
