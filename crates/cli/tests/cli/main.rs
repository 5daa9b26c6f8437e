//! Runs the built `wecom` binary: offline commands, against an in-process sandbox, and against
//! a `wecom sandbox` child process.

mod api;
mod archive;
mod callback;
mod common;
mod config;
mod console;
mod corpgroup;
mod customer;
mod drive;
mod export_async;
mod newman;
mod oa;
mod oa_part3;
mod offline;
mod sandbox;
mod schedule;
mod school;
mod transfer;
