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
  bench         run the other crates' benchmarks (a few minutes) and write one table to
                bench/RESULTS.md and bench/results.json
  bench --with-build-time
                also time a clean build of the workspace (in a temporary target dir)
  bench --long  more alternating rounds for the client-vs-reqwest call cost, and a 200 MiB
                微盘 transfer instead of 20 MiB (a few minutes more)
  help          this text

options:
  --root DIR    work on another checkout of the workspace (default: this one)
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let root = if let Some(i) = args.iter().position(|a| a == "--root") {
        let Some(dir) = args.get(i + 1).map(std::path::PathBuf::from) else {
            eprintln!("error: --root needs a directory\n\n{HELP}");
            return ExitCode::FAILURE;
        };
        args.drain(i..i + 2);
        dir
    } else {
        match workspace_root() {
            Ok(root) => root,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mode = match args.as_slice() {
        ["bench", rest @ ..] => {
            let mut opts = xtask::bench::BenchOptions::default();
            for option in rest {
                match *option {
                    "--with-build-time" => opts.with_build_time = true,
                    "--long" => opts.long = true,
                    other => {
                        eprintln!("error: unknown bench option `{other}`\n\n{HELP}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            return match xtask::bench::run_bench(&root, &opts) {
                Ok(rows) => {
                    let missing = rows.iter().filter(|r| r.value.is_none()).count();
                    println!(
                        "cargo xtask bench: {} results ({missing} without a number) written to bench/RESULTS.md and bench/results.json",
                        rows.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
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
                    match xtask::docdates::doc_date_warnings(&root) {
                        Ok(lines) => {
                            for line in &lines {
                                eprintln!("warning: {line}");
                            }
                        }
                        Err(e) => eprintln!("warning: doc dates not checked: {e}"),
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
