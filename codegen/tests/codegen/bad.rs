//! One bad fixture per kind of spec mistake, under `tests/fixtures/bad/`. Each starts with
//! `# expect: <text>` lines; the diagnostics must contain every one of them (file, line, column,
//! message and help), and nothing may be generated.
//!
//! A case is a single `<case>.toml`, or a directory `<case>/` of files checked together (for
//! mistakes across files; the expectations are in its first file).

use wecom_codegen::{Input, Job, generate};

use crate::support::{fixtures, read, tomls};

/// Every case the generator must catch (the fixture of each must exist).
const CASES: &[&str] = &[
    "unknown_type",
    "unknown_type_in_list",
    "unknown_key",
    "duplicate_endpoint_across_files",
    "duplicate_type_across_files",
    "duplicate_field",
    "duplicate_rust_name",
    "placeholder_without_field",
    "placeholder_in_path_segment",
    "constant_in_path",
    "bytes_on_int",
    "items_on_scalar",
    "range_on_string",
    "each_on_scalar",
    "values_not_matching_enum_repr",
    "values_not_in_enum",
    "enum_value_not_matching_repr",
    "min_above_max",
    "pattern_does_not_compile",
    "duplicate_check_without_fields",
    "duplicate_check_field_missing",
    "flatten_of_scalar",
    "flatten_not_required",
    "body_on_get",
    "list_in_query",
    "upload_outside_multipart",
    "union_variant_unknown_model",
    "rule_unknown_field",
    "self_containing_model",
    "truncate_without_limit",
    "binary_with_response_fields",
    "failures_not_a_list",
    "credential_in_query",
    "errcodes_missing_named_code",
    "unknown_errcode",
    "reserved_endpoint_name",
    "prelude_type_name",
    "check_not_a_path",
    "call_type_collision",
    "resource_id_not_a_field",
    "resource_errcode_without_authority",
    "resource_get_without_not_found",
];

fn run(case: &str) -> (String, Vec<String>) {
    let single = fixtures(&format!("bad/{case}.toml"));
    let (files, errcodes) = if single.exists() {
        (vec![(format!("bad/{case}.toml"), read(&single))], None)
    } else {
        let dir = fixtures(&format!("bad/{case}"));
        assert!(
            dir.is_dir(),
            "missing fixture for `{case}`: write tests/fixtures/bad/{case}.toml"
        );
        let errcodes_path = dir.join("errcodes/errcodes.toml");
        let errcodes = errcodes_path.exists().then(|| {
            (
                format!("bad/{case}/errcodes/errcodes.toml"),
                read(&errcodes_path),
            )
        });
        (tomls(&dir, &format!("bad/{case}/")), errcodes)
    };
    let expectations: Vec<String> = files
        .iter()
        .flat_map(|(_, text)| {
            text.lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!expectations.is_empty(), "`{case}` has no `# expect:` line");
    let mut job = Job::new(
        files
            .iter()
            .map(|(p, t)| Input { path: p, text: t })
            .collect(),
    );
    job.errcodes = errcodes.as_ref().map(|(p, t)| Input { path: p, text: t });
    let diags = match generate(&job) {
        Ok(files) => panic!(
            "`{case}` generated {} files instead of failing",
            files.len()
        ),
        Err(d) => d,
    };
    (diags.to_string(), expectations)
}

#[test]
fn every_bad_fixture_fails_with_its_message() {
    let mut failures = Vec::new();
    for case in CASES {
        let (text, expectations) = run(case);
        for e in expectations {
            if !text.contains(&e) {
                failures.push(format!("`{case}`: expected\n    {e}\n  in\n{text}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn every_fixture_is_listed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures("bad"))
        .expect("bad/")
        .filter_map(|e| e.ok())
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".toml")
                .to_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn diagnostics_end_with_what_to_run() {
    let (text, _) = run("unknown_type");
    assert!(
        text.ends_with("fix it and run `cargo xtask gen` again"),
        "{text}"
    );
}
