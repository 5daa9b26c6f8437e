//! The OpenAPI document: parses as OpenAPI 3.1 (oas3), lists every endpoint of the spec with its
//! method, credential and doc link, resolves every `$ref`, and carries the spec's constraints.

use serde_json::Value;
use wecom_codegen::spec::{Credential, Field, HttpMethod, SpecFile};
use wecom_codegen::{Input, Job, generate};

use crate::support::{codegen_dir, tomls, workspace_root};

/// (spec files, OpenAPI text) for a spec directory.
fn document(dir: &std::path::Path, errcodes: bool) -> (Vec<SpecFile>, String) {
    let files: Vec<(String, String)> = tomls(dir, "spec/")
        .into_iter()
        .filter(|(p, _)| !p.ends_with("errcodes.toml") && !p.ends_with("events.toml"))
        .collect();
    let errcodes_text = errcodes.then(|| crate::support::read(&dir.join("errcodes.toml")));
    let mut job = Job::new(
        files
            .iter()
            .map(|(p, t)| Input { path: p, text: t })
            .collect(),
    );
    job.errcodes = errcodes_text.as_deref().map(|t| Input {
        path: "spec/errcodes.toml",
        text: t,
    });
    job.openapi = Some("spec/openapi.json");
    let out = generate(&job).unwrap_or_else(|e| panic!("{e}"));
    let text = out
        .into_iter()
        .find(|f| f.path == "spec/openapi.json")
        .expect("openapi.json")
        .contents;
    let specs = files
        .iter()
        .map(|(p, t)| toml::from_str::<SpecFile>(t).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    (specs, text)
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn schema_of<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

fn check_constraints(field: &Field, schema: &Value, what: &str) {
    if let Some([_, max]) = field.chars.or(field.bytes) {
        assert_eq!(schema["maxLength"], Value::from(max), "{what}: maxLength");
    }
    if let Some(b) = field.bytes {
        assert_eq!(
            schema["x-wecom-bytes"],
            serde_json::json!(b),
            "{what}: x-wecom-bytes"
        );
    }
    if let Some([min, max]) = field.items
        && field.ty.get_ref().starts_with('[')
    {
        assert_eq!(
            (schema["minItems"].clone(), schema["maxItems"].clone()),
            (Value::from(min), Value::from(max)),
            "{what}: items"
        );
    }
    if let Some(p) = &field.pattern {
        assert_eq!(
            schema["pattern"],
            Value::from(p.as_str()),
            "{what}: pattern"
        );
    }
    if let Some(v) = &field.values {
        assert_eq!(
            schema["enum"].as_array().map(Vec::len),
            Some(v.len()),
            "{what}: enum"
        );
    }
    if let Some([min, max]) = field.range {
        assert_eq!(
            (schema["minimum"].as_f64(), schema["maximum"].as_f64()),
            (Some(min), Some(max)),
            "{what}: range"
        );
    }
    if let Some(code) = field.errcode {
        assert_eq!(
            schema["x-wecom-errcode"],
            Value::from(code),
            "{what}: errcode"
        );
    }
}

fn check(dir: &std::path::Path, errcodes: bool) {
    let (specs, text) = document(dir, errcodes);
    let parsed = oas3::from_json(&text).unwrap_or_else(|e| panic!("not an OpenAPI document: {e}"));
    let version = parsed.validate_version().expect("a valid openapi version");
    assert_eq!((version.major, version.minor), (3, 1));
    let doc: Value = serde_json::from_str(&text).expect("JSON");

    let mut missing = Vec::new();
    for r in {
        let mut v = Vec::new();
        refs(&doc, &mut v);
        v
    } {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        if doc["components"]["schemas"].get(name).is_none() {
            missing.push(name.to_owned());
        }
    }
    assert!(missing.is_empty(), "dangling $refs: {missing:?}");
    assert_eq!(
        doc["components"]["securitySchemes"]["access_token"]["in"],
        "query"
    );

    let mut operations = 0;
    for spec in &specs {
        for ep in &spec.endpoint {
            let name = ep.name.get_ref();
            let op = parsed
                .operation_by_id(name)
                .unwrap_or_else(|| panic!("endpoint `{name}` is not in the OpenAPI document"));
            operations += 1;
            assert_eq!(op.tags, vec![spec.area.name.get_ref().clone()]);
            assert_eq!(
                op.external_docs.as_ref().map(|d| d.url.to_string()),
                Some(ep.doc_url.clone()),
                "{name}"
            );
            let path = format!(
                "/{}",
                ep.path.get_ref().split('?').next().unwrap_or_default()
            );
            let method = if ep.method == HttpMethod::Get {
                "get"
            } else {
                "post"
            };
            let raw = &doc["paths"][&path][method];
            assert_eq!(
                raw["operationId"],
                Value::from(name.as_str()),
                "{method} {path}"
            );
            let expected_security = match ep.credential {
                Credential::None => serde_json::json!([]),
                Credential::RobotKey => serde_json::json!([{"robot_key": []}]),
                _ => serde_json::json!([{"access_token": []}]),
            };
            assert_eq!(raw["security"], expected_security, "{name}");
            for (field_name, field) in &ep.query {
                let param = raw["parameters"]
                    .as_array()
                    .and_then(|ps| {
                        ps.iter()
                            .find(|p| p["name"] == field_name.get_ref().as_str())
                    })
                    .unwrap_or_else(|| panic!("{name}: no parameter {field_name}"));
                assert_eq!(param["in"], "query");
                assert_eq!(param["required"], Value::from(field.required));
                check_constraints(field, &param["schema"], &format!("{name}.{field_name}"));
            }
            if ep.method == HttpMethod::Post && ep.multipart.is_empty() {
                let body = schema_of(
                    &doc,
                    &raw["requestBody"]["content"]["application/json"]["schema"],
                );
                let object = body.get("allOf").and_then(|a| a.get(0)).unwrap_or(body);
                for (field_name, field) in ep.body.iter().filter(|(_, f)| !f.flatten) {
                    check_constraints(
                        field,
                        &object["properties"][field_name.get_ref()],
                        &format!("{name}.{field_name}"),
                    );
                }
            }
        }
    }
    assert_eq!(
        parsed.operations().count(),
        operations,
        "no operation the spec does not declare"
    );
    assert!(operations > 0);
}

#[test]
fn workspace_openapi_is_valid_and_complete() {
    let dir = workspace_root().join("spec");
    check(&dir, dir.join("errcodes.toml").exists());
}

#[test]
fn fixture_openapi_is_valid_and_complete() {
    // Unions, flatten, multipart, binary answers and a robot endpoint.
    check(&codegen_dir().join("fixture/spec"), false);
}
