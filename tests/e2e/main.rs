//! Cross-crate integration tests: one binary, one module per area.

mod callback;
mod contacts;
mod messages;
mod reliability;
mod wedrive;
