//! # wecom-core-auth
//!
//! The shared transport under every WeCom API call: credentials, the token and ticket cache,
//! the HTTP seam, errors and retries. Area crates (contacts, messages, ...) are generated from
//! `spec/` and talk only to this crate, through [`Endpoint`] and [`Client::execute`].

// Generated code names this crate by its absolute path, here too.
extern crate self as wecom_core_auth;

/// Helpers for generated code (validation checks, wire formats, and with the `server` feature
/// the request readers). Not a stable API: only code that `cargo xtask gen` writes calls it.
#[doc(hidden)]
pub mod __private;
pub mod client;
pub mod clock;
pub mod download;
mod downstream;
pub mod endpoint;
pub mod error;
pub mod generated;
pub mod jssdk;
pub mod oauth;
pub mod paging;
pub mod raw;
pub mod redact;
pub mod retry;
pub mod secret;
pub mod token;
pub mod transport;
pub mod truncate;
pub mod upload;

pub use client::{Client, ClientBuilder};
pub use downstream::BusinessType;
pub use endpoint::{
    CredentialKind, Endpoint, EndpointMeta, Method, MultipartPart, Query, RequestBody,
    ResponseKind, RetrySafety, SystemApp,
};
pub use error::{
    ApiError, ConfigError, CoolDownError, DecodeError, Error, ErrorClass, ErrorCode, InvalidInput,
    TransportError, TransportErrorKind,
};
pub use generated::auth::{Auth, AuthExt};
pub use raw::{JsonEndpoint, RawAnswer, RawCall};
pub use retry::RetryPolicy;
pub use secret::Secret;
#[cfg(feature = "redis")]
pub use token::RedisTokenStore;
pub use token::{MemoryTokenStore, TokenPolicy, TokenStore};
pub use truncate::{LengthUnit, Truncated};
pub use upload::Upload;
