//! Tests of the generator: snapshots of small fixture specs, one bad fixture per spec mistake,
//! the OpenAPI document, the schema, determinism, and "adding an endpoint is only a spec edit".

mod adding;
mod bad;
mod events;
mod openapi;
mod snapshots;
mod support;
