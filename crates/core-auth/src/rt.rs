//! Runtime helpers for generated code (validation checks, wire formats). Not a stable API:
//! called only by code that `cargo xtask gen` writes.
