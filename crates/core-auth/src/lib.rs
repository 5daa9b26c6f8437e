//! # wecom-core-auth
//!
//! The shared transport under every WeCom API call: credentials, the token and ticket cache,
//! the HTTP seam, errors and retries. Area crates (contacts, messages, ...) are generated from
//! `spec/` and talk only to this crate, through [`Endpoint`] and [`Client::execute`].

// Generated code names this crate by its absolute path, here too.
extern crate self as wecom_core_auth;

pub mod endpoint;
pub mod error;
pub mod redact;
pub mod rt;
pub mod secret;

pub use endpoint::{
    CredentialKind, Endpoint, EndpointMeta, Method, MultipartPart, Query, RequestBody, ResponseKind,
    RetrySafety,
};
pub use error::{DecodeError, InvalidInput};
pub use secret::Secret;
