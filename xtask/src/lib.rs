//! `cargo xtask gen`: regenerates everything derived from `spec/` (and the generator's fixture
//! crate), or with `--check` verifies that the checked-in files are current, without writing.
//!
//! One function does both ([`run`]), so the check can never disagree with the generator. Only
//! files inside a crate's `src/generated/` directory (beside a `Cargo.toml`) that start with the
//! generated marker are ever deleted.

pub mod bench;
pub mod docdates;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use wecom_codegen::{GENERATED_MARKER, GeneratedFile, Input, Job};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// A file could not be read, written or deleted.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The spec has mistakes (each with its file and line).
    #[error("{0}")]
    Spec(wecom_codegen::Diagnostics),
    /// `--check` found differences.
    #[error("{0}")]
    Stale(StaleReport),
    /// Two spec sets would write the same file.
    #[error(
        "`{0}` would be generated twice (by the workspace spec and the codegen fixture spec): give them different crate_dir"
    )]
    Conflict(String),
    /// No directory from the current one upwards is this workspace.
    #[error(
        "no wecom-rs workspace at or above `{start}`: run `cargo xtask` inside a checkout, or pass `--root DIR`"
    )]
    NoWorkspace {
        /// Where the search started.
        start: String,
    },
}

/// Whether to write or only compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write changed files, delete obsolete ones.
    Write,
    /// Change nothing; fail when anything differs.
    Check,
}

/// How a file on disk differs from what the spec produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Not on disk yet.
    Missing(String),
    /// On disk with other contents.
    Stale(String),
    /// Generated earlier, no longer produced by the spec.
    Obsolete(String),
}

impl Change {
    /// The file concerned.
    pub fn path(&self) -> &str {
        match self {
            Change::Missing(p) | Change::Stale(p) | Change::Obsolete(p) => p,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Missing(p) => write!(f, "missing:  {p}"),
            Change::Stale(p) => write!(f, "stale:    {p}"),
            Change::Obsolete(p) => write!(f, "obsolete: {p}"),
        }
    }
}

/// The differences `--check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleReport(pub Vec<Change>);

impl fmt::Display for StaleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "generated files are not current with the spec ({} file{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for c in &self.0 {
            writeln!(f, "  {c}")?;
        }
        write!(
            f,
            "run `cargo xtask gen` to regenerate them, and commit the result"
        )
    }
}

/// What a run did (or, in check mode, found to be current).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Files the spec produces.
    pub produced: usize,
    /// Files written (created or updated).
    pub written: Vec<String>,
    /// Obsolete generated files deleted.
    pub deleted: Vec<String>,
}

/// The workspace root, found at run time: the nearest directory, from the current one upwards,
/// that holds this workspace (a `Cargo.toml` with `[workspace]` next to `spec/` and `xtask/`).
///
/// Not the compile-time `CARGO_MANIFEST_DIR`: with one target directory shared by two checkouts
/// (a global `CARGO_TARGET_DIR`), `cargo xtask` in one checkout may run the binary built in the
/// other, which would then read and write that other tree. `cargo run` keeps the caller's
/// working directory, so the tree the user stands in is the one worked on.
pub fn workspace_root() -> Result<PathBuf, XtaskError> {
    let start = std::env::current_dir().map_err(|source| XtaskError::Io {
        path: ".".to_string(),
        source,
    })?;
    find_workspace_root(&start).ok_or_else(|| XtaskError::NoWorkspace {
        start: start.to_string_lossy().into_owned(),
    })
}

/// The nearest ancestor of `start` (itself included) that is this workspace's root.
pub fn find_workspace_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| is_workspace_root(dir))
        .map(Path::to_path_buf)
}

fn is_workspace_root(dir: &Path) -> bool {
    dir.join("spec").is_dir()
        && dir.join("xtask").join("Cargo.toml").is_file()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .map(|text| text.lines().any(|l| l.trim() == "[workspace]"))
            .unwrap_or(false)
}

fn io_err(path: &Path, root: &Path, source: std::io::Error) -> XtaskError {
    XtaskError::Io {
        path: rel(path, root),
        source,
    }
}

fn rel(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Reads `dir/*.toml` (sorted by name), except `skip`.
fn read_specs(root: &Path, dir: &str, skip: &[&str]) -> Result<Vec<(String, String)>, XtaskError> {
    let full = root.join(dir);
    let entries = match std::fs::read_dir(&full) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(&full, root, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_err(&full, root, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".toml") && !skip.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let path = full.join(&n);
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, root, e))?;
            Ok((format!("{dir}/{n}"), text))
        })
        .collect()
}

/// Every file the spec sets under `root` produce.
pub fn produce(root: &Path) -> Result<Vec<GeneratedFile>, XtaskError> {
    let mut out = Vec::new();
    // The workspace's spec.
    let specs = read_specs(root, "spec", &["errcodes.toml", "events.toml"])?;
    let errcodes_path = root.join("spec/errcodes.toml");
    let errcodes = match std::fs::read_to_string(&errcodes_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&errcodes_path, root, e)),
    };
    if !specs.is_empty() || errcodes.is_some() {
        let mut job = Job::new(
            specs
                .iter()
                .map(|(p, t)| Input { path: p, text: t })
                .collect(),
        );
        job.errcodes = errcodes.as_deref().map(|t| Input {
            path: "spec/errcodes.toml",
            text: t,
        });
        let events_path = root.join("spec/events.toml");
        let events = match std::fs::read_to_string(&events_path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&events_path, root, e)),
        };
        job.events = events.as_deref().map(|t| Input {
            path: "spec/events.toml",
            text: t,
        });
        job.openapi = Some("spec/openapi.json");
        job.schema = Some("spec/schema.json");
        job.postman = Some(wecom_codegen::Postman {
            collection: "spec/postman/wecom.postman_collection.json",
            environment: "spec/postman/sandbox.postman_environment.json",
            sandbox: SANDBOX_ENV,
        });
        out.extend(wecom_codegen::generate(&job).map_err(XtaskError::Spec)?);
    }
    // The generator's fixture crate (compiled and tested as a workspace member).
    let fixture = read_specs(root, "codegen/fixture/spec", &[])?;
    if !fixture.is_empty() {
        let job = Job::new(
            fixture
                .iter()
                .map(|(p, t)| Input { path: p, text: t })
                .collect(),
        );
        let files = wecom_codegen::generate(&job).map_err(XtaskError::Spec)?;
        for f in files {
            if out.iter().any(|o| o.path == f.path) {
                return Err(XtaskError::Conflict(f.path));
            }
            out.push(f);
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The Postman environment of `wecom sandbox --port 8088`: its demo corp (the sandbox's own fake
/// secrets; `crates/cli/tests` checks them against what `wecom sandbox` prints).
pub const SANDBOX_ENV: wecom_codegen::SandboxEnv<'static> = wecom_codegen::SandboxEnv {
    base_url: "http://127.0.0.1:8088",
    corpid: "ww5a9c0de1b2f34a01",
    agentid: 1000002,
    corpsecret: "sandbox-approval-app-secret-000000000000002",
    contact_secret: "sandbox-contact-sync-secret-0000000000000001",
    userid: "chenjing",
    system_secrets: &[
        (
            "external_contact",
            "sandbox-external_contact-secret------------",
        ),
        ("kf", "sandbox-kf-secret--------------------------"),
        ("approval", "sandbox-approval-secret--------------------"),
        ("checkin", "sandbox-checkin-secret---------------------"),
        ("journal", "sandbox-journal-secret---------------------"),
        ("wedrive", "sandbox-wedrive-secret---------------------"),
        ("school", "sandbox-school-secret----------------------"),
        ("msg_audit", "sandbox-msg_audit-secret-------------------"),
        ("dial", "sandbox-dial-secret------------------------"),
    ],
};

/// Generated files on disk: files under `src/generated/` directories that start with the marker.
pub fn existing_generated(root: &Path) -> Result<BTreeSet<String>, XtaskError> {
    let mut found = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => return Err(io_err(&dir, root, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_err(&dir, root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let ty = entry.file_type().map_err(|e| io_err(&path, root, e))?;
            if ty.is_dir() {
                if name.starts_with('.') || name == "target" || name == "node_modules" {
                    continue;
                }
                stack.push(path);
            } else if ty.is_file() && in_generated_dir(&path, root) && starts_with_marker(&path) {
                found.insert(rel(&path, root));
            }
        }
    }
    Ok(found)
}

/// Whether `path` is inside `<crate>/src/generated/` of a crate (a directory with a Cargo.toml),
/// so that copies elsewhere (snapshot fixtures) are never taken for generated files.
fn in_generated_dir(path: &Path, root: &Path) -> bool {
    let r = rel(path, root);
    let Some(idx) = r.find("src/generated/") else {
        return false;
    };
    if idx > 0 && !r[..idx].ends_with('/') {
        return false;
    }
    root.join(&r[..idx]).join("Cargo.toml").is_file()
}

fn starts_with_marker(path: &Path) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 64];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < GENERATED_MARKER.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    buf[..n].starts_with(GENERATED_MARKER.as_bytes())
}

/// Compares what the spec produces with the disk.
pub fn diff(root: &Path, files: &[GeneratedFile]) -> Result<Vec<Change>, XtaskError> {
    let mut changes = Vec::new();
    for f in files {
        let path = root.join(&f.path);
        match std::fs::read(&path) {
            Ok(bytes) if bytes == f.contents.as_bytes() => {}
            Ok(_) => changes.push(Change::Stale(f.path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                changes.push(Change::Missing(f.path.clone()))
            }
            Err(e) => return Err(io_err(&path, root, e)),
        }
    }
    let produced: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for existing in existing_generated(root)? {
        if !produced.contains(existing.as_str()) {
            changes.push(Change::Obsolete(existing));
        }
    }
    Ok(changes)
}

/// Generates (or checks) every file derived from the spec under `root`.
pub fn run(root: &Path, mode: Mode) -> Result<Report, XtaskError> {
    let files = produce(root)?;
    let changes = diff(root, &files)?;
    let mut report = Report {
        produced: files.len(),
        ..Report::default()
    };
    if mode == Mode::Check {
        return if changes.is_empty() {
            Ok(report)
        } else {
            Err(XtaskError::Stale(StaleReport(changes)))
        };
    }
    for change in changes {
        let path = root.join(change.path());
        match &change {
            Change::Missing(p) | Change::Stale(p) => {
                let Some(f) = files.iter().find(|f| &f.path == p) else {
                    continue;
                };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| io_err(parent, root, e))?;
                }
                std::fs::write(&path, &f.contents).map_err(|e| io_err(&path, root, e))?;
                report.written.push(p.clone());
            }
            Change::Obsolete(p) => {
                std::fs::remove_file(&path).map_err(|e| io_err(&path, root, e))?;
                // An area's directory (`generated/<area>/`) goes with its last file.
                if let Some(dir) = path.parent()
                    && in_generated_dir(&path, root)
                    && !dir.ends_with("src/generated")
                    && std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
                {
                    std::fs::remove_dir(dir).map_err(|e| io_err(dir, root, e))?;
                }
                report.deleted.push(p.clone());
            }
        }
    }
    Ok(report)
}
