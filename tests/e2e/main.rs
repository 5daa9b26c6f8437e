//! Cross-crate integration tests: one binary, one module per area.

mod callback;
mod contacts;
mod messages;
mod oa_approval;
mod reliability;
