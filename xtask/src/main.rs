//! `cargo xtask <task>`: see `cargo xtask help`.

use std::process::ExitCode;
use std::time::Instant;

use xtask::{Mode, run, workspace_root};

const HELP: &str = "\
usage: cargo xtask <task>

tasks:
  gen           regenerate every file derived from spec/ (Rust code, spec/schema.json,
                spec/openapi.json) and delete generated files the spec no longer produces
  gen --check   change nothing; fail listing stale, missing and obsolete files
  help          this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mode = match args.as_slice() {
        ["gen"] => Mode::Write,
        ["gen", "--check"] | ["gen", "check"] => Mode::Check,
        ["help" | "--help" | "-h"] | [] => {
            print!("{HELP}");
            return if args.is_empty() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
        other => {
            eprintln!("error: unknown arguments `{}`\n\n{HELP}", other.join(" "));
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let root = workspace_root();
    match run(&root, mode) {
        Ok(report) => {
            let ms = started.elapsed().as_millis();
            match mode {
                Mode::Check => println!(
                    "cargo xtask gen --check: all {} generated files are current ({ms} ms)",
                    report.produced
                ),
                Mode::Write => {
                    for p in &report.written {
                        println!("  wrote   {p}");
                    }
                    for p in &report.deleted {
                        println!("  deleted {p}");
                    }
                    println!(
                        "cargo xtask gen: {} files from the spec, {} written, {} deleted ({ms} ms)",
                        report.produced,
                        report.written.len(),
                        report.deleted.len()
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
