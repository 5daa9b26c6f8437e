//! Snapshot tests: each directory under `tests/fixtures/snapshots/` holds `spec/*.toml` (and
//! optionally `errcodes.toml`) and `expected/`, the generator's output checked in. A difference
//! fails with the first differing line; `WECOM_BLESS=1 cargo test -p wecom-codegen` rewrites
//! `expected/` after a deliberate generator change.

use std::collections::BTreeSet;
use std::path::Path;

use wecom_codegen::{GeneratedFile, Input, Job, generate};

use crate::support::{blessing, fixtures, read, tomls};

fn generate_case(dir: &Path) -> Vec<GeneratedFile> {
    let specs = tomls(&dir.join("spec"), "spec/");
    let mut job = Job::new(
        specs
            .iter()
            .map(|(p, t)| Input { path: p, text: t })
            .collect(),
    );
    job.openapi = Some("openapi.json");
    job.version = "0.0.0-snapshot";
    generate(&job).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn expected_files(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            expected_files(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1);
        }
    }
    format!(
        "lengths differ: {} lines expected, {} generated",
        expected.lines().count(),
        actual.lines().count()
    )
}

fn check_case(name: &str) {
    let dir = fixtures(&format!("snapshots/{name}"));
    let expected_dir = dir.join("expected");
    let files = generate_case(&dir);
    if blessing() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        for f in &files {
            let path = expected_dir.join(&f.path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, &f.contents).expect("write");
        }
        return;
    }
    let mut on_disk = BTreeSet::new();
    expected_files(&expected_dir, &expected_dir, &mut on_disk);
    let produced: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        on_disk, produced,
        "snapshot `{name}`: the set of files changed (WECOM_BLESS=1 to accept)"
    );
    for f in &files {
        let expected = read(&expected_dir.join(&f.path));
        assert!(
            expected == f.contents,
            "snapshot `{name}`, {} differs from the checked-in output at {}\n(if the change is intended: WECOM_BLESS=1 cargo test -p wecom-codegen)",
            f.path,
            first_difference(&expected, &f.contents)
        );
    }
}

#[test]
fn snapshot_minimal() {
    check_case("minimal");
}

#[test]
fn snapshot_unions() {
    check_case("unions");
}

#[test]
fn generation_is_deterministic() {
    let dir = fixtures("snapshots/unions");
    assert_eq!(generate_case(&dir), generate_case(&dir));
}

#[test]
fn every_rust_file_names_its_source_and_the_command() {
    for f in generate_case(&fixtures("snapshots/unions"))
        .iter()
        .filter(|f| f.path.ends_with(".rs"))
    {
        let first = f.contents.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(wecom_codegen::GENERATED_MARKER),
            "{}: {first}",
            f.path
        );
        assert!(
            first.contains("spec/unions.toml") && first.ends_with("Do not edit."),
            "{}: {first}",
            f.path
        );
        // Types are written with full paths: the only `use` items are the area's own names
        // (`use super::*;`, in group files) and the runtime helpers (`rt`).
        for l in f.contents.lines().filter(|l| l.starts_with("use ")) {
            assert!(
                l == "use super::*;" || l == "use ::wecom_core_auth::__private as rt;",
                "{}: {l}",
                f.path
            );
        }
    }
}

#[test]
fn the_spec_schema_denies_unknown_keys() {
    let schema: serde_json::Value =
        serde_json::from_str(&wecom_codegen::spec_schema()).expect("schema.json is JSON");
    let defs = schema["$defs"].as_object().expect("$defs");
    for name in [
        "Endpoint",
        "Field",
        "Model",
        "Enum",
        "Union",
        "Area",
        "Rule",
        "ItemConstraints",
    ] {
        assert_eq!(
            defs[name]["additionalProperties"],
            serde_json::json!(false),
            "{name}"
        );
    }
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
    assert!(defs["Field"]["properties"]["bytes"].is_object());
    // The checked-in copy is current (the xtask check covers it too; this names the cause).
    let on_disk = read(&crate::support::workspace_root().join("spec/schema.json"));
    assert_eq!(
        on_disk,
        wecom_codegen::spec_schema(),
        "spec/schema.json is stale: run `cargo xtask gen`"
    );
}
