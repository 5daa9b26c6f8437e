//! `wecom`: WeCom (企业微信) from the command line. See `wecom --help`.

mod catalogue;
mod cli;
mod cmd;
mod config;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::Cli;
use crate::output::Out;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let out = Out { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cmd::run(cli, out));
    // Do not wait for idle connection tasks: the work is done.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let report = e.report();
            if out.json {
                let line = serde_json::json!({ "error": report });
                eprintln!("{line}");
            } else {
                eprintln!("{}", report.line());
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Without `--verbose`, warnings only; with it, debug events and each span's close (with its
/// duration) from the SDK's crates. `RUST_LOG` overrides both.
fn init_tracing(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::FmtSpan;

    let default = if verbose {
        "warn,wecom=debug,wecom_cli=debug,wecom_core_auth=debug,wecom_contacts=debug,\
         wecom_messages=debug,wecom_callback=debug,wecom_sandbox=info"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose);
    let _ = if verbose {
        builder.with_span_events(FmtSpan::CLOSE).try_init()
    } else {
        builder.without_time().try_init()
    };
}
