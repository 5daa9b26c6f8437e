//! Cross-crate integration tests: one binary, one module per area.

mod callback;
mod common_api;
mod contacts;
mod export;
mod messages;
mod reliability;
