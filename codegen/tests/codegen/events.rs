//! Callback events are declared in `spec/events.toml`. Adding an event is only a spec edit: the
//! spec's last event (`LOCATION`) is cut and put back; the generated code gains its variant, its
//! parsing, its name and its rendering, and the result is exactly the checked-in
//! `crates/callback/src/generated/events.rs`, which the callback crate compiles and whose tests
//! parse that event's XML (`crates/callback/tests/callback/events.rs`). A bad events spec gets a
//! `file:line:column` diagnostic like the rest of the spec.

use wecom_codegen::{Diagnostics, GeneratedFile, Input, Job, generate};

use crate::support::{read, workspace_root};

const MARKER: &str = "# --- added event (codegen tests: adding_an_event) ---";
const PATH: &str = "spec/events.toml";
const OUT: &str = "crates/callback/src/generated/events.rs";

fn generate_events(text: &str) -> Result<Vec<GeneratedFile>, Diagnostics> {
    let mut job = Job::new(Vec::new());
    job.events = Some(Input { path: PATH, text });
    generate(&job)
}

fn events_rs(files: &[GeneratedFile]) -> String {
    files
        .iter()
        .find(|f| f.path == OUT)
        .map(|f| f.contents.clone())
        .unwrap_or_else(|| panic!("{OUT} not generated"))
}

fn spec() -> String {
    read(&workspace_root().join(PATH))
}

#[test]
fn adding_an_event_is_only_a_spec_edit() {
    let full = spec();
    let (base, _) = full
        .split_once(MARKER)
        .expect("spec/events.toml marks its last event");
    let before = events_rs(&generate_events(base).unwrap_or_else(|e| panic!("{e}")));
    let after = events_rs(&generate_events(&full).unwrap_or_else(|e| panic!("{e}")));
    for added in [
        "/// `LOCATION`: Periodic location report.",
        "\"LOCATION\" => {",
        "latitude: f.opt_float(\"Latitude\")?.ok_or(rt::Bad)?,",
        "precision: f.opt_float(\"Precision\")?.ok_or(rt::Bad)?,",
        "EventKind::Location { .. } => \"LOCATION\",",
        "rt::push_num(out, \"Precision\", v);",
    ] {
        assert!(
            !before.contains(added),
            "present without the event: {added}"
        );
        assert!(
            after.contains(added),
            "missing after adding the event: {added}"
        );
    }
    // The rest of the file is untouched: the added lines are the only difference.
    let removed: Vec<&str> = before
        .lines()
        .filter(|l| !after.lines().any(|a| a == *l))
        .collect();
    assert!(
        removed.is_empty(),
        "adding an event changed other lines: {removed:?}"
    );
    // And the result is what the callback crate compiles.
    let checked_in = read(&workspace_root().join(OUT));
    assert_eq!(
        after, checked_in,
        "{OUT} is not current: run `cargo xtask gen`"
    );
}

#[test]
fn a_new_event_with_nested_and_list_fields_generates_its_reader_and_writer() {
    let text = format!(
        "{}\n{}",
        spec(),
        r#"
[[event]]
event = "demo_event"
variant = "DemoEvent"
doc = "A test event."
[[event.field]]
xml = "Ids"
type = "list"
item = "integer"
delimiter = "|"
doc = "Ids."
[[event.field]]
xml = "Info"
type = "ScanCodeInfo"
doc = "Nested."
"#
    );
    let out = events_rs(&generate_events(&text).unwrap_or_else(|e| panic!("{e}")));
    for expected in [
        "DemoEvent {",
        "ids: Vec<i64>,",
        "info: ScanCodeInfo,",
        "\"demo_event\" => {",
        "ids: f.split::<i64>(\"Ids\", \"|\")?.unwrap_or_default(),",
        "info: ScanCodeInfo::parse(&f.child(\"Info\"))?,",
        "rt::push_cdata(out, \"Ids\", &rt::join(v, \"|\"));",
        "rt::open_tag(out, \"Info\");",
    ] {
        assert!(out.contains(expected), "missing: {expected}\n{out}");
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    let at = text.rfind(needle).expect("needle in spec");
    text[..at].matches('\n').count() + 1
}

#[test]
fn an_unknown_field_type_is_reported_with_file_and_line() {
    let text = format!(
        "{}\n[[event]]\nevent = \"demo_event\"\nvariant = \"DemoEvent\"\ndoc = \"d\"\n[[event.field]]\nxml = \"Count\"\ntype = \"integr\"\ndoc = \"d\"\n",
        spec()
    );
    let err = generate_events(&text).expect_err("an unknown type is refused");
    let line = line_of(&text, "type = \"integr\"");
    assert!(
        err.contains(&format!("spec/events.toml:{line}:8: unknown type `integr`")),
        "{err}"
    );
    assert!(err.contains("did you mean `integer`?"), "{err}");
}

#[test]
fn a_duplicate_event_is_reported_with_both_places() {
    let full = spec();
    let text = format!("{full}\n[[event]]\nevent = \"click\"\nvariant = \"Click2\"\ndoc = \"d\"\n");
    let err = generate_events(&text).expect_err("a duplicate event is refused");
    let line = line_of(&text, "event = \"click\"");
    let first = line_of(&full, "event = \"click\"");
    assert!(
        err.contains(&format!(
            "spec/events.toml:{line}:9: event `click` is declared twice"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("first declared at spec/events.toml:{first}")),
        "{err}"
    );
}

#[test]
fn a_wrapped_record_that_does_not_exist_is_reported() {
    let text = format!(
        "{}\n[[event]]\nevent = \"demo_event\"\nvariant = \"DemoEvent\"\ndoc = \"d\"\nwraps = \"BatchJobs\"\n",
        spec()
    );
    let err = generate_events(&text).expect_err("an unknown record is refused");
    assert!(
        err.contains("`wraps` names no record: `BatchJobs`"),
        "{err}"
    );
    assert!(err.contains("did you mean `BatchJob`?"), "{err}");
}

#[test]
fn a_duplicate_change_type_is_reported() {
    let full = spec();
    // A second `delete_user` under change_contact (the `[[event.change]]` tables that follow the
    // `change_contact` event belong to it).
    let anchor = "[[event.change]]\nchange_type = \"delete_user\"";
    let at = full.find(anchor).expect("delete_user is declared");
    let extra = "[[event.change]]\nchange_type = \"delete_user\"\nvariant = \"DeleteUserAgain\"\ndoc = \"d\"\n\n";
    let text = format!("{}{extra}{}", &full[..at], &full[at..]);
    let err = generate_events(&text).expect_err("a duplicate change type is refused");
    let line = full[..at].matches('\n').count() + 1 + extra.matches('\n').count() + 1;
    assert!(
        err.contains(&format!(
            "spec/events.toml:{line}:15: change type `delete_user` is declared twice"
        )),
        "{err}"
    );
}
