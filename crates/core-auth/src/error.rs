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
        Self { context: String::new(), field: field.into(), problem: problem.into(), errcode: None }
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
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            write!(f, "invalid `{}`: {}", self.field, self.problem)?;
        } else {
            write!(f, "{}: invalid `{}`: {}", self.context, self.field, self.problem)?;
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
        Self { message: message.into(), body_excerpt: crate::redact::body_excerpt(body, 512) }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (body: {})", self.message, self.body_excerpt)
    }
}

impl std::error::Error for DecodeError {}
