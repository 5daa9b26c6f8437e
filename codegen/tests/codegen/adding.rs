//! Adding an endpoint is only a spec edit: the fixture spec's last endpoint (`ping`) is cut and
//! put back; the generated code gains the request/response/call types (in the new group file
//! `ping.rs`) and the handle's method, nothing else changes, and the result is exactly the checked-in fixture crate, which the workspace
//! compiles and whose tests call `client.fixture().ping(..)` through a real `Client`.

use std::collections::HashMap;

use wecom_codegen::{GeneratedFile, Input, Job, generate};

use crate::support::{codegen_dir, read, workspace_root};

const MARKER: &str = "# --- added endpoint (codegen tests: adding_an_endpoint) ---";

fn generate_fixture(extra: &str, fixture: &str) -> Vec<GeneratedFile> {
    // Same files, same order as `cargo xtask gen` (sorted by name).
    let job = Job::new(vec![
        Input {
            path: "codegen/fixture/spec/extra.toml",
            text: extra,
        },
        Input {
            path: "codegen/fixture/spec/fixture.toml",
            text: fixture,
        },
    ]);
    generate(&job).unwrap_or_else(|e| panic!("{e}"))
}

/// Every file of the `fixture` area (`generated/fixture/*.rs`), concatenated in path order.
fn area(files: &[GeneratedFile]) -> String {
    let mut out = String::new();
    for f in files
        .iter()
        .filter(|f| f.path.starts_with("codegen/fixture/src/generated/fixture/"))
    {
        out.push_str(&f.contents);
    }
    assert!(!out.is_empty(), "no fixture area files");
    out
}

#[test]
fn adding_an_endpoint_is_only_a_spec_edit() {
    let spec_dir = codegen_dir().join("fixture/spec");
    let extra = read(&spec_dir.join("extra.toml"));
    let full = read(&spec_dir.join("fixture.toml"));
    let (base, _) = full
        .split_once(MARKER)
        .expect("the fixture spec marks its last endpoint");

    let before = generate_fixture(&extra, base);
    let after = generate_fixture(&extra, &full);
    let (old, new) = (area(&before), area(&after));
    for absent in [
        "pub struct PingRequest {",
        "pub struct PingResponse {",
        "pub struct PingCall<'a>",
        "pub fn ping(",
        " for PingRequest ",
    ] {
        assert!(
            !old.contains(absent),
            "`{absent}` exists before the endpoint is added"
        );
    }
    for present in [
        "pub struct PingRequest {",
        "pub struct PingResponse {",
        "pub struct PingCall<'a>",
        "pub fn ping(",
        "-> PingCall<'a> {",
        "impl<'a> ::std::future::IntoFuture for PingCall<'a>",
        "impl ::wecom_core_auth::Endpoint for PingRequest",
        "impl ::std::convert::From<&str> for PingRequest",
        "path: \"ping\"",
    ] {
        assert!(
            new.contains(present),
            "`{present}` is missing after the endpoint is added"
        );
    }

    // Nothing else changed: the only line of the old file that is gone is the endpoint count.
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for l in old.lines() {
        *counts.entry(l).or_default() += 1;
    }
    for l in new.lines() {
        *counts.entry(l).or_default() -= 1;
    }
    let removed: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(
        removed.len(),
        1,
        "lines removed by adding an endpoint: {removed:#?}"
    );
    assert!(
        removed[0].contains("endpoints. Call them through"),
        "{}",
        removed[0]
    );
    // The endpoint's group (`ping`, its path's first segment) is a new file; no other file
    // appears or disappears.
    let paths =
        |files: &[GeneratedFile]| -> Vec<String> { files.iter().map(|f| f.path.clone()).collect() };
    let mut expected = paths(&before);
    expected.push("codegen/fixture/src/generated/fixture/ping.rs".to_owned());
    expected.sort();
    assert_eq!(paths(&after), expected, "only the new group's file appears");

    // The checked-in fixture crate is this very output (compiled with the workspace; its tests
    // call the new method end to end).
    for f in &after {
        let on_disk = read(&workspace_root().join(&f.path));
        assert!(
            on_disk == f.contents,
            "{} is not the generator's output: run `cargo xtask gen`",
            f.path
        );
    }
}

const THING: &str = r#"
[area]
name = "demo"
crate_dir = "crates/demo"
crate_name = "wecom_demo"
doc = "A demo area."

[[endpoint]]
name = "thing_get"
method = "GET"
path = "thing/get"
credential = "app"
doc = "Reads a thing."
doc_url = "https://example.invalid/thing_get"
[endpoint.query]
id = { type = "u32", required = true }
"#;

/// The text from `start` to the first `{` after it (a function's signature).
fn signature<'a>(files: &'a [GeneratedFile], path: &str, start: &str) -> &'a str {
    let text = &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path}"))
        .contents;
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` in {path}"));
    let to = from + text[from..].find('{').expect("a body");
    &text[from..to]
}

#[test]
fn adding_an_optional_field_changes_no_signature() {
    let gen_with = |spec: &str| {
        generate(&Job::new(vec![Input {
            path: "spec/demo.toml",
            text: spec,
        }]))
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let before = gen_with(THING);
    let after = gen_with(&format!(
        "{THING}verbose = {{ type = \"flag\", doc = \"Say more.\" }}\n"
    ));
    let handle = "crates/demo/src/generated/demo/mod.rs";
    let group = "crates/demo/src/generated/demo/thing.rs";
    for (path, start) in [
        (handle, "pub fn thing_get("),
        (group, "pub fn new("),
        (group, "pub async fn send("),
    ] {
        assert_eq!(
            signature(&before, path, start),
            signature(&after, path, start),
            "{start} in {path}"
        );
    }
    // The new field is a setter, on the request and on the call.
    let thing = &after
        .iter()
        .find(|f| f.path == group)
        .expect("group")
        .contents;
    assert_eq!(
        thing
            .matches("pub fn verbose(mut self, verbose: bool) -> Self")
            .count(),
        2
    );
}
