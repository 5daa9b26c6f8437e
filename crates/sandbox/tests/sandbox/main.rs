//! Integration tests of the sandbox: one binary, one module per subject.

mod admin_api;
mod bounds;
mod callbacks;
mod client;
mod common;
mod console;
mod corp_model;
mod credentials;
mod faults;
mod malformed;
mod page;
mod resources;
mod rules;
mod scope;
mod spec_coverage;
