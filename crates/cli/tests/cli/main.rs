//! Runs the built `wecom` binary: offline commands, against an in-process sandbox, and against
//! a `wecom sandbox` child process.

mod api;
mod callback;
mod common;
mod config;
mod drive;
mod offline;
mod sandbox;
