//! `cargo xtask bench`: runs the other crates' benchmarks and writes one table,
//! `bench/RESULTS.md` and `bench/results.json`.
//!
//! Numbers come from criterion's `target/criterion/<group>/<bench>/new/estimates.json` (medians)
//! where a benchmark is a criterion one, and from the summary lines the bench binaries print
//! otherwise. Each step runs as a child `cargo bench`; a step that fails is recorded as such and
//! the others still run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Mode, XtaskError};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Default)]
pub struct BenchOptions {
    /// Also measure a clean build of the workspace (in a temporary target dir).
    pub with_build_time: bool,
    /// More alternating rounds for the call-cost comparison (`call_cost -- --long`), and the
    /// 200 MiB 微盘 transfer (`wedrive -- --long`; 20 MiB otherwise).
    pub long: bool,
}

static RUN_STARTED: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub metric: String,
    /// The number, when there is one.
    pub value: Option<f64>,
    /// Its unit (`ns`, `ratio`, `sends/s` ...).
    pub unit: String,
    /// How it was measured, or why it is missing.
    pub note: String,
}

fn row(metric: &str, value: Option<f64>, unit: &str, note: impl Into<String>) -> Row {
    Row {
        metric: metric.to_owned(),
        value,
        unit: unit.to_owned(),
        note: note.into(),
    }
}

/// Output of one child command.
struct Run {
    ok: bool,
    stdout: String,
    secs: f64,
}

fn run_cmd(root: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    eprintln!("== {program} {}", args.join(" "));
    let started = Instant::now();
    let mut cmd = Command::new(program);
    cmd.current_dir(root).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr);
            eprint!("{stdout}");
            if !out.status.success() {
                eprintln!("{stderr}");
                eprintln!("   (failed: {})", out.status);
            }
            Run {
                ok: out.status.success(),
                stdout,
                secs: started.elapsed().as_secs_f64(),
            }
        }
        Err(e) => {
            eprintln!("   (could not start {program}: {e})");
            Run {
                ok: false,
                stdout: String::new(),
                secs: started.elapsed().as_secs_f64(),
            }
        }
    }
}

/// Criterion's median (ns) of `group/bench`, from its estimates.json, if written by this run.
fn criterion_median_ns(target: &Path, group: &str, bench: &str) -> Option<f64> {
    let path = target
        .join("criterion")
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < *RUN_STARTED.get()? {
        return None; // left over from an earlier run
    }
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// The first number after `marker` on the first line containing it.
fn number_after(text: &str, marker: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains(marker))?;
    let rest = &line[line.find(marker)? + marker.len()..];
    first_number(rest)
}

fn first_number(s: &str) -> Option<f64> {
    let start = s.find(|c: char| c.is_ascii_digit())?;
    let tail = &s[start..];
    let end = tail
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(tail.len());
    tail[..end]
        .replace(',', "")
        .trim_end_matches('.')
        .parse()
        .ok()
}

/// The cells of the first markdown row starting with `| first |` that has `cols` cells.
fn table_row(text: &str, first: &str, cols: usize, contains: &str) -> Option<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with(&format!("| {first} |")) && l.contains(contains))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.len() == cols)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn read_first(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn machine(root: &Path) -> Value {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .current_dir(root)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mem_gib = read_first("/proc/meminfo", "MemTotal")
        .and_then(|v| first_number(&v))
        .map(|kib| (kib / 1024.0 / 1024.0 * 10.0).round() / 10.0);
    json!({
        "nproc": nproc,
        "cpu": read_first("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
        "memory_gib": mem_gib,
        "rustc": rustc,
        "os": std::env::consts::OS,
    })
}

/// The `RESULT <key> median=.. q1=.. q3=.. min=.. max=..` line of `call_cost`: (median, text).
fn result_line(text: &str, key: &str) -> Option<(f64, String)> {
    let prefix = format!("RESULT {key} ");
    let line = text.lines().find_map(|l| l.strip_prefix(prefix.as_str()))?;
    let field = |name: &str| -> Option<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    let (median, q1, q3, min, max) = (
        field("median")?,
        field("q1")?,
        field("q3")?,
        field("min")?,
        field("max")?,
    );
    Some((
        median,
        format!("IQR {q1:.3}-{q3:.3}, min-max {min:.3}-{max:.3}"),
    ))
}

fn core_auth(root: &Path, target: &Path, opts: &BenchOptions, rows: &mut Vec<Row>) {
    let mut args = vec!["bench", "-p", "wecom-tests", "--bench", "call_cost", "--"];
    if opts.long {
        args.push("--long");
    }
    let r = run_cmd(root, "cargo", &args, &[]);
    let note = if r.ok { "" } else { " (benchmark failed)" };
    let how = r
        .stdout
        .lines()
        .find(|l| l.contains("alternating rounds"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    for (key, metric, unit) in [
        (
            "cpu_ratio",
            "user/get through Client vs reqwest alone: CPU time ratio (median of rounds)",
            "ratio",
        ),
        (
            "wall_ratio",
            "user/get through Client vs reqwest alone: wall time ratio (median of rounds)",
            "ratio",
        ),
        (
            "client_cpu_us",
            "user/get through Client: CPU per call",
            "µs",
        ),
        (
            "direct_cpu_us",
            "user/get with reqwest alone: CPU per call",
            "µs",
        ),
    ] {
        let found = result_line(&r.stdout, key);
        rows.push(row(
            metric,
            found.as_ref().map(|(m, _)| *m),
            unit,
            match &found {
                Some((_, spread)) if key == "cpu_ratio" => format!("{spread}; {how}{note}"),
                Some((_, spread)) => format!("{spread}{note}"),
                None => format!("missing{note}"),
            },
        ));
    }

    let r = run_cmd(
        root,
        "cargo",
        &[
            "bench",
            "-p",
            "wecom-core-auth",
            "--bench",
            "client",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "3",
            "cached_token_lookup",
        ],
        &[],
    );
    let note = if r.ok { "" } else { " (benchmark failed)" };
    rows.push(row(
        "cached token lookup, 1 thread",
        criterion_median_ns(target, "cached_token_lookup", "one_thread"),
        "ns",
        format!("criterion median{note}"),
    ));
    rows.push(row(
        "cached token lookup, 2 threads contending",
        criterion_median_ns(target, "cached_token_lookup", "two_threads_contending"),
        "ns",
        format!("criterion median, per lookup on one of the two threads{note}"),
    ));
}

fn sandbox(root: &Path, rows: &mut Vec<Row>) {
    let r = run_cmd(
        root,
        "cargo",
        &["bench", "-p", "wecom-sandbox", "--bench", "throughput"],
        &[
            ("SANDBOX_BENCH_REQUESTS", "5000"),
            ("SANDBOX_BENCH_CONCURRENCY", "32"),
        ],
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("getcallbackip via Client"))
        .unwrap_or_default();
    rows.push(row(
        "cold-start storm: gettoken calls for 32 concurrent first calls",
        number_after(line, "ok, "),
        "calls",
        if r.ok {
            "sandbox bench: a cold Client, 32 tasks calling at once (single flight: 1 expected)"
        } else {
            "benchmark failed"
        },
    ));
    rows.push(row(
        "sandbox message/send throughput (raw HTTP, 32 tasks)",
        number_after(
            r.stdout
                .lines()
                .find(|l| l.starts_with("message/send"))
                .unwrap_or_default(),
            "s = ",
        ),
        "req/s",
        "the sandbox's own ceiling, 5,000 requests",
    ));
}

fn messages(root: &Path, rows: &mut Vec<Row>) {
    let r = run_cmd(
        root,
        "cargo",
        &["bench", "-p", "wecom-tests", "--bench", "messages"],
        &[],
    );
    rows.push(row(
        "sends per second against the sandbox (Message::send, 64 tasks)",
        number_after(&r.stdout, "concurrent tasks: "),
        "sends/s",
        if r.ok {
            "wecom-tests bench, sandbox in a child process, 1,000-member corp"
        } else {
            "benchmark failed"
        },
    ));
}

fn checkin(root: &Path, rows: &mut Vec<Row>) {
    let r = run_cmd(
        root,
        "cargo",
        &["bench", "-p", "wecom-tests", "--bench", "checkin"],
        &[],
    );
    let note = if r.ok {
        "wecom-tests bench checkin: checkin_records_in, 30 days x 5,000 members (100 members and 30 days per call), 8 in flight, sandbox in a child process"
    } else {
        "benchmark failed"
    };
    rows.push(row(
        "check-in month, 5,000 members: calls",
        number_after(&r.stdout, "30 days: "),
        "calls",
        note,
    ));
    rows.push(row(
        "check-in month, 5,000 members: time",
        number_after(&r.stdout, "calls, "),
        "ms",
        note,
    ));
    rows.push(row(
        "check-in month, 5,000 members: client peak memory growth",
        number_after(&r.stdout, "peak RSS growth "),
        "MiB",
        note,
    ));
}

/// The value of `key=` on the `RESULT <name> ...` line of a bench's output.
fn result_field(text: &str, name: &str, key: &str) -> Option<f64> {
    let prefix = format!("RESULT {name} ");
    let line = text.lines().find_map(|l| l.strip_prefix(prefix.as_str()))?;
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))?
        .parse()
        .ok()
}

/// 微盘 transfers through the client against a sandbox child: peak memory growth of a block
/// upload and a ranged download (200 MiB with `--long`, 20 MiB otherwise).
fn wedrive(root: &Path, opts: &BenchOptions, rows: &mut Vec<Row>) {
    let mut args = vec!["bench", "-p", "wecom-tests", "--bench", "wedrive"];
    if opts.long {
        args.extend(["--", "--long"]);
    }
    let r = run_cmd(root, "cargo", &args, &[]);
    let failed = if r.ok { "" } else { " (benchmark failed)" };
    for (what, label) in [
        (
            "wedrive_upload",
            "block upload streamed from a file (2 MB blocks)",
        ),
        ("wedrive_download", "download in 1 MiB ranges to a file"),
    ] {
        let mib = result_field(&r.stdout, what, "mib");
        let ms = result_field(&r.stdout, what, "ms");
        rows.push(row(
            &format!(
                "微盘 {label}, {} MiB: client peak memory growth",
                mib.map_or("?".into(), |m| format!("{m:.0}"))
            ),
            result_field(&r.stdout, what, "peak_growth_mib"),
            "MiB",
            format!(
                "{} ms; sandbox in a child process; target under 16 MiB; 200 MiB with --long{failed}",
                ms.map_or("?".into(), |m| format!("{m:.0}"))
            ),
        ));
    }
}

fn callback(root: &Path, target: &Path, rows: &mut Vec<Row>) {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let (stdout, ok) = if node {
        let r = run_cmd(
            root,
            "bash",
            &["crates/callback/bench/compare.sh"],
            &[("ROUNDS", "2"), ("ROUND_SECS", "1"), ("MEASURE_SECS", "2")],
        );
        (r.stdout, r.ok)
    } else {
        let r = run_cmd(
            root,
            "cargo",
            &[
                "bench",
                "-p",
                "wecom-callback",
                "--bench",
                "crypto",
                "--",
                "--warm-up-time",
                "1",
                "--measurement-time",
                "2",
            ],
            &[],
        );
        (r.stdout, r.ok)
    };
    let ns = criterion_median_ns(target, "callback", "verify_decrypt_parse");
    rows.push(row(
        "callback messages per second (verify + decrypt + parse, one core)",
        ns.map(|ns| 1e9 / ns),
        "msgs/s",
        "from the criterion median of callback/verify_decrypt_parse",
    ));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("verify+decrypt ") && !l.contains("parse"));
    let ratio = line.and_then(|l| {
        l.split_whitespace()
            .filter_map(|t| t.strip_suffix('x'))
            .find_map(|t| t.parse::<f64>().ok())
    });
    let note = match (node, ok, line) {
        (false, _, _) => "skipped: node is not installed".to_owned(),
        (true, _, Some(l)) => format!(
            "compare.sh (best 100 ms windows, 2 rounds): {}",
            l.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        (true, false, None) => "compare.sh failed".to_owned(),
        (true, true, None) => "compare.sh printed no comparison".to_owned(),
    };
    rows.push(row(
        "callback verify+decrypt vs @wecom/crypto (ours / theirs, ops/s)",
        ratio,
        "ratio",
        note,
    ));
}

fn directory(root: &Path, rows: &mut Vec<Row>) {
    let r = run_cmd(
        root,
        "cargo",
        &["bench", "-p", "wecom-contacts", "--bench", "directory"],
        &[],
    );
    let failed = if r.ok { "" } else { " (benchmark failed)" };
    // Resolver table: members, departments, rows, build, first resolve, ns/member, again,
    // explain, visible members, visible departments, peak memory.
    if let Some(cells) = table_row(&r.stdout, "50000", 11, "") {
        rows.push(row(
            "scope resolution, 50,000 members: time (first resolve, builds the index)",
            first_number(&cells[4]),
            "ms",
            format!("median of runs; resolve again {}{failed}", cells[6]),
        ));
        rows.push(row(
            "scope resolution, 50,000 members: peak memory growth",
            first_number(&cells[10]),
            "MiB",
            format!("directory build {}{failed}", cells[3]),
        ));
    } else {
        rows.push(row(
            "scope resolution, 50,000 members",
            None,
            "ms",
            format!("no 50,000-member row in the output{failed}"),
        ));
    }
    // Walk table: members, departments, walk, requests, time, client peak memory.
    match table_row(&r.stdout, "50000", 6, "") {
        Some(cells) => {
            rows.push(row(
                "directory walk, 50,000 members: time",
                first_number(&cells[4]),
                "ms",
                format!(
                    "{} ({} requests) through the client against a sandbox child{failed}",
                    cells[2], cells[3]
                ),
            ));
            rows.push(row(
                "directory walk, 50,000 members: client peak memory growth",
                first_number(&cells[5]),
                "MiB",
                failed.trim().to_owned(),
            ));
        }
        None => rows.push(row(
            "directory walk, 50,000 members",
            None,
            "ms",
            format!("no 50,000-member walk row in the output{failed}"),
        )),
    }
    if let Some(cells) = table_row(&r.stdout, "50000", 6, "full (") {
        rows.push(row(
            "directory walk with full member details, 50,000 members: time",
            first_number(&cells[4]),
            "ms",
            format!(
                "{} ({} requests); client peak memory {}",
                cells[2], cells[3], cells[5]
            ),
        ));
    }
    if let Some(cells) = table_row(&r.stdout, "50000", 6, "visible_scope") {
        rows.push(row(
            "visible_scope through the client, 50,000 members: time",
            first_number(&cells[4]),
            "ms",
            format!("{}; peak memory {}", cells[2], cells[5]),
        ));
    }
}

/// `crates/externalcontact/benches/customers.rs`: one member's 20,000 customers streamed
/// (`externalcontact/list` + `batch/get_by_user`, 100 per page) against a sandbox child.
fn customers(root: &Path, rows: &mut Vec<Row>) {
    let r = run_cmd(
        root,
        "cargo",
        &[
            "bench",
            "-p",
            "wecom-externalcontact",
            "--bench",
            "customers",
        ],
        &[],
    );
    let failed = if r.ok { "" } else { " (benchmark failed)" };
    // Table: customers, requests, time, rows/s, client peak memory.
    match table_row(&r.stdout, "20000", 5, "") {
        Some(cells) => {
            rows.push(row(
                "customer stream, one member with 20,000 customers: time",
                first_number(&cells[2]),
                "ms",
                format!(
                    "{} requests (list + batch/get_by_user 100 per page), {} rows/s, through the client against a sandbox child{failed}",
                    cells[1], cells[3]
                ),
            ));
            rows.push(row(
                "customer stream, one member with 20,000 customers: client peak memory growth",
                first_number(&cells[4]),
                "MiB",
                format!("bounded by one page: rows are consumed as they stream{failed}"),
            ));
        }
        None => rows.push(row(
            "customer stream, one member with 20,000 customers",
            None,
            "ms",
            format!("no 20,000-customer row in the output{failed}"),
        )),
    }
}

/// The asynchronous directory export (issue 16 part 3): `crates/contacts/benches/export.rs`, a
/// sandbox child serving the corp, the client fetching and decrypting the files as a stream.
/// 50,000 members always; `--long` adds 200,000.
fn export(root: &Path, opts: &BenchOptions, rows: &mut Vec<Row>) {
    let mut args = vec!["bench", "-p", "wecom-contacts", "--bench", "export"];
    if opts.long {
        args.extend(["--", "--long"]);
    }
    let r = run_cmd(root, "cargo", &args, &[]);
    let failed = if r.ok { "" } else { " (benchmark failed)" };
    let mut sizes = vec!["50000"];
    if opts.long {
        sizes.push("200000");
    }
    // Table: members, export, records, encrypted bytes, files, time, client peak memory.
    for members in sizes {
        for (kind, label) in [
            ("simple_user", "simple_user"),
            ("user (details)", "user (member details)"),
        ] {
            let what =
                format!("export/{label}, {members} members, fetched and decrypted as a stream");
            match table_row(&r.stdout, members, 7, kind) {
                Some(cells) => {
                    let how = format!(
                        "{} encrypted bytes in {} file(s), 1 MiB ranges, sandbox in a child process{failed}",
                        cells[3], cells[4]
                    );
                    rows.push(row(
                        &format!("{what}: time"),
                        first_number(&cells[5]),
                        "ms",
                        how.clone(),
                    ));
                    rows.push(row(
                        &format!("{what}: client peak memory growth"),
                        first_number(&cells[6]),
                        "MiB",
                        how,
                    ));
                }
                None => rows.push(row(
                    &what,
                    None,
                    "ms",
                    format!("no {members}-member `{kind}` row in the output{failed}"),
                )),
            }
        }
    }
}

fn gen_time(root: &Path, rows: &mut Vec<Row>) {
    let mut best: Option<Duration> = None;
    let mut err = None;
    for _ in 0..3 {
        let started = Instant::now();
        match crate::run(root, Mode::Check) {
            Ok(_) => {}
            Err(XtaskError::Stale(_)) => {}
            Err(e) => {
                err = Some(e.to_string());
                break;
            }
        }
        let took = started.elapsed();
        best = Some(best.map_or(took, |b| b.min(took)));
    }
    rows.push(row(
        "cargo xtask gen (parse spec, generate every file, compare)",
        best.map(|d| d.as_secs_f64() * 1000.0),
        "ms",
        err.unwrap_or_else(|| "best of 3, in process (check mode: writes nothing)".into()),
    ));
}

fn build_time(root: &Path, opts: &BenchOptions, rows: &mut Vec<Row>) {
    if !opts.with_build_time {
        rows.push(row(
            "clean build of the workspace",
            None,
            "s",
            "skipped (run `cargo xtask bench --with-build-time`)",
        ));
        return;
    }
    let dir = std::env::temp_dir().join(format!("wecom-build-time-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let r = run_cmd(
        root,
        "cargo",
        &["build", "--workspace", "--all-features"],
        &[("CARGO_TARGET_DIR", &dir_s)],
    );
    let _ = std::fs::remove_dir_all(&dir);
    rows.push(row(
        "clean build of the workspace (debug, all features)",
        r.ok.then_some(r.secs),
        "s",
        if r.ok {
            "fresh temporary target dir, dependencies included"
        } else {
            "build failed"
        },
    ));
}

fn fmt_value(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.3}"),
    }
}

/// Runs every step and writes `bench/RESULTS.md` and `bench/results.json` under `root`.
pub fn run_bench(root: &Path, opts: &BenchOptions) -> Result<Vec<Row>, XtaskError> {
    let started = Instant::now();
    let _ = RUN_STARTED.set(std::time::SystemTime::now());
    let target = target_dir(root);
    let load_before = load_average();
    let mut rows = Vec::new();
    core_auth(root, &target, opts, &mut rows);
    sandbox(root, &mut rows);
    messages(root, &mut rows);
    checkin(root, &mut rows);
    wedrive(root, opts, &mut rows);
    callback(root, &target, &mut rows);
    directory(root, &mut rows);
    customers(root, &mut rows);
    export(root, opts, &mut rows);
    gen_time(root, &mut rows);
    build_time(root, opts, &mut rows);
    let load_after = load_average();
    let machine = machine(root);
    let nproc = machine["nproc"].as_f64().unwrap_or(1.0);
    let busy = [load_before, load_after]
        .iter()
        .flatten()
        .any(|l| *l > nproc * 0.75);
    let when = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let load_text = format!(
        "load average {} before, {} after",
        load_before.map_or("?".into(), |l| format!("{l:.2}")),
        load_after.map_or("?".into(), |l| format!("{l:.2}")),
    );
    let noise = if busy {
        format!(
            "NOISY: the machine was shared with other builds during the run ({load_text}); \
             expect differences of tens of percent between runs"
        )
    } else {
        format!("quiet machine ({load_text})")
    };

    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark results\n");
    let _ = writeln!(
        md,
        "Written by `cargo xtask bench` on {when} in {:.0} s. {noise}.\n",
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        md,
        "Machine: {} × {}, {} GiB memory, {}, {}.\n",
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        machine["memory_gib"],
        machine["rustc"].as_str().unwrap_or("?"),
        machine["os"].as_str().unwrap_or("?"),
    );
    let _ = writeln!(md, "| metric | value | unit | how |");
    let _ = writeln!(md, "|---|---:|---|---|");
    for r in &rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.metric,
            fmt_value(r.value),
            r.unit,
            r.note.replace('|', "/")
        );
    }
    let _ = writeln!(
        md,
        "\nSources: tests/benches/call_cost.rs, crates/core-auth/benches/client.rs, crates/sandbox/benches/throughput.rs, \
         tests/benches/messages.rs, tests/benches/wedrive.rs, crates/callback/benches/crypto.rs + crates/callback/bench/compare.sh, \
         crates/contacts/benches/directory.rs, crates/contacts/benches/export.rs, crates/externalcontact/benches/customers.rs; criterion medians from target/criterion/*/new/estimates.json."
    );
    let json = json!({
        "generated_at": when,
        "duration_secs": started.elapsed().as_secs_f64(),
        "machine": machine,
        "load_average": {"before": load_before, "after": load_after},
        "noisy": busy,
        "results": rows.iter().map(|r| json!({
            "metric": r.metric, "value": r.value, "unit": r.unit, "note": r.note,
        })).collect::<Vec<_>>(),
    });
    let dir = root.join("bench");
    std::fs::create_dir_all(&dir).map_err(|source| XtaskError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for (name, text) in [
        ("RESULTS.md", md),
        (
            "results.json",
            serde_json::to_string_pretty(&json).unwrap_or_default() + "\n",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| XtaskError::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_call_cost_result_lines() {
        let out =
            "noise\nRESULT cpu_ratio median=1.0312 q1=1.0100 q3=1.0500 min=0.9800 max=1.0900\n";
        let (median, spread) = result_line(out, "cpu_ratio").unwrap();
        assert!((median - 1.0312).abs() < 1e-9);
        assert_eq!(spread, "IQR 1.010-1.050, min-max 0.980-1.090");
        assert!(result_line(out, "wall_ratio").is_none());
        assert!(result_line("RESULT cpu_ratio median=x", "cpu_ratio").is_none());
    }

    #[test]
    fn reads_the_wedrive_result_lines() {
        let out = "x\nRESULT wedrive_upload mib=200 ms=5321 peak_growth_mib=9.25\nRESULT wedrive_download mib=200 ms=4100 peak_growth_mib=unmeasurable\n";
        assert_eq!(result_field(out, "wedrive_upload", "mib"), Some(200.0));
        assert_eq!(
            result_field(out, "wedrive_upload", "peak_growth_mib"),
            Some(9.25)
        );
        assert_eq!(
            result_field(out, "wedrive_download", "peak_growth_mib"),
            None
        );
        assert_eq!(result_field(out, "wedrive_delete", "mib"), None);
    }

    #[test]
    fn parses_numbers_and_rows() {
        assert_eq!(
            number_after(
                "  median     client/direct = 1.042  (x)",
                "median     client/direct ="
            ),
            Some(1.042)
        );
        assert_eq!(first_number("12,345 sends/s"), Some(12345.0));
        let t = "| 50000 | 2001 | 50000 | 12.0 ms | 30.5 ms | 610 | 2.00 ms | 1.00 µs | 50000 | 2001 | 7 MiB |\n\
                 | 50000 | 2001 | list_id | 60 | 900 ms | 40 MiB |";
        let r = table_row(t, "50000", 11, "").expect("resolver row");
        assert_eq!(first_number(&r[4]), Some(30.5));
        let w = table_row(t, "50000", 6, "").expect("walk row");
        assert_eq!(w[2], "list_id");
        assert!(table_row(t, "10000", 6, "").is_none());
    }

    #[test]
    fn reads_the_export_rows() {
        // As crates/contacts/benches/export.rs prints them.
        let t = "| 50000 | simple_user | 50000 | 3062432 | 1 | 188 ms | 5.3 MiB |\n\
                 | 50000 | user (details) | 50000 | 7685920 | 1 | 210 ms | 3.5 MiB |";
        let s = table_row(t, "50000", 7, "simple_user").expect("simple_user row");
        assert_eq!(first_number(&s[5]), Some(188.0));
        assert_eq!(first_number(&s[6]), Some(5.3));
        let u = table_row(t, "50000", 7, "user (details)").expect("user row");
        assert_eq!(u[3], "7685920");
        assert!(table_row(t, "200000", 7, "simple_user").is_none());
    }
}
