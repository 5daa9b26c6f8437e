//! Cross-crate integration tests: one binary, one module per area.

mod callback;
mod contacts;
mod messages;
mod oa_calendar;
mod reliability;
