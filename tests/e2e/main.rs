//! Cross-crate integration tests: one binary, one module per area.

mod callback;
mod contacts;
mod externalcontact_outreach;
mod messages;
mod reliability;
