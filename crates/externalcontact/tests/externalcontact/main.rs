//! The integration tests of wecom-externalcontact against the sandbox: 获客助手, the group
//! transfers, moment interactions and strategies (session 4 of issue 14; the older flows run in
//! `tests/e2e/externalcontact*.rs`). One module per part.

mod acquisition;
mod common;
mod groups;
mod moments;
mod strategies;
mod subscribe;
