//! Every endpoint in spec/*.toml is served by the sandbox with the same method and path: by a
//! hand-written handler, or by the generic resource engine when the spec declares it a resource
//! operation (`[endpoint.resource]`).

use std::path::Path;

use wecom_codegen::spec::{HttpMethod, SpecFile};
use wecom_core_auth::Method;
use wecom_sandbox::Registry;

#[test]
fn every_spec_endpoint_has_a_handler() {
    let mut registry = Registry::new();
    wecom_sandbox::areas::register_all(&mut registry);
    let served = registry.endpoints();
    let spec_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec");
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&spec_dir)
        .expect("spec/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.extension().and_then(|e| e.to_str()) != Some("toml")
            || path
                .file_name()
                .is_some_and(|n| n == "errcodes.toml" || n == "events.toml")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let file: SpecFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for ep in &file.endpoint {
            checked += 1;
            let name = ep.name.get_ref();
            let spec_path = ep
                .path
                .get_ref()
                .split('?')
                .next()
                .unwrap_or_default()
                .trim_matches('/');
            let method = match ep.method {
                HttpMethod::Get => Method::Get,
                HttpMethod::Post => Method::Post,
            };
            match served.iter().find(|m| m.name == name.as_str()) {
                None => missing.push(format!(
                    "{name} ({} /cgi-bin/{spec_path}) in {}",
                    method.as_str(),
                    path.display()
                )),
                Some(m) => {
                    assert_eq!(m.path.trim_matches('/'), spec_path, "{name}: path");
                    assert_eq!(m.method, method, "{name}: method");
                }
            }
        }
    }
    assert!(
        checked >= 7,
        "the auth spec alone has 7 endpoints; found {checked}"
    );
    assert!(
        missing.is_empty(),
        "endpoints the sandbox does not serve: add a handler in crates/sandbox/src/areas/, or declare the\nendpoint a resource operation with [endpoint.resource] when it is plain CRUD:\n{}",
        missing.join("\n")
    );
}
