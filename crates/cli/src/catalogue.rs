//! The endpoint catalogue of `wecom api` and `wecom proxy`: every endpoint of the spec with its
//! method, path, credential, retry safety, fields (type, limits, doc) and doc link, read from the
//! OpenAPI document that `cargo xtask gen` writes (`spec/openapi.json`, embedded at build time).
//! The CLI never reads the spec's TOML: a new endpoint in the spec is in here after `gen`.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The OpenAPI document generated from the spec.
pub const OPENAPI: &str = include_str!("../../../spec/openapi.json");

/// Where a field goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The query string.
    Query,
    /// The JSON body.
    Body,
    /// A part of a `multipart/form-data` upload.
    Multipart,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Query => "query",
            Place::Body => "body",
            Place::Multipart => "file",
        }
    }
}

/// One field of an endpoint.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub place: Place,
    pub required: bool,
    /// `string`, `integer`, `array of string`, a model's name ...
    pub ty: String,
    /// Whether a `-f name=value` value is taken as text (else it is read as JSON).
    pub is_string: bool,
    /// Limits as the spec gives them, e.g. `1-64 bytes`, `at most 20 items`, `errcode 40003`.
    pub limits: Vec<String>,
    /// A secret (`format: password`): never taken from the command line.
    pub secret: bool,
    pub doc: String,
}

/// One endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub area: String,
    pub method: &'static str,
    /// Under `/cgi-bin/`, without a leading slash.
    pub path: String,
    pub credential: String,
    pub retry: String,
    pub summary: String,
    pub description: String,
    pub doc_url: String,
    pub fields: Vec<Field>,
    /// Whether the answer is a file (raw bytes) rather than JSON.
    pub binary: bool,
    /// Fields of the answer that are secrets (tokens, tickets, session keys): masked when shown.
    pub secret_answers: Vec<String>,
}

impl Endpoint {
    /// Whether it uploads a file (multipart), which `wecom api` cannot send from fields.
    pub fn uploads(&self) -> bool {
        self.fields.iter().any(|f| f.place == Place::Multipart)
    }
}

/// Every endpoint, sorted by area then path.
pub fn all() -> &'static [Endpoint] {
    static ALL: OnceLock<Vec<Endpoint>> = OnceLock::new();
    ALL.get_or_init(|| parse(OPENAPI))
}

/// An endpoint by its name (`user_get`) or its path (`user/get`, `/cgi-bin/user/get`).
pub fn find(name_or_path: &str) -> Option<&'static Endpoint> {
    let key = name_or_path.trim();
    let path = key.trim_start_matches('/');
    let path = path.strip_prefix("cgi-bin/").unwrap_or(path);
    all()
        .iter()
        .find(|e| e.name == key)
        .or_else(|| all().iter().find(|e| e.path == path))
}

/// Names close to `wanted` (same words), to suggest after a typo.
pub fn suggest(wanted: &str) -> Vec<&'static str> {
    let words: Vec<&str> = wanted
        .split(['_', '/', '-'])
        .filter(|w| w.len() > 2)
        .collect();
    all()
        .iter()
        .filter(|e| words.iter().any(|w| e.name.contains(w)))
        .map(|e| e.name.as_str())
        .take(8)
        .collect()
}

fn parse(text: &str) -> Vec<Endpoint> {
    let doc: Value = serde_json::from_str(text).unwrap_or_default();
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, ops) in paths {
        let Some(ops) = ops.as_object() else { continue };
        for (method, op) in ops {
            let method = match method.as_str() {
                "get" => "GET",
                "post" => "POST",
                _ => continue,
            };
            let s = |k: &str| {
                op.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let mut fields = Vec::new();
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let schema = p.get("schema").cloned().unwrap_or_default();
                fields.push(field(
                    p.get("name").and_then(Value::as_str).unwrap_or_default(),
                    Place::Query,
                    p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    &schema,
                    p.get("description").and_then(Value::as_str),
                    &schemas,
                ));
            }
            if let Some(content) = op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
            {
                for (kind, media) in content {
                    let place = if kind.starts_with("multipart/") {
                        Place::Multipart
                    } else {
                        Place::Body
                    };
                    let schema = media.get("schema").unwrap_or(&Value::Null);
                    for (name, prop, required) in properties(schema, &schemas, true) {
                        fields.push(field(&name, place, required, &prop, None, &schemas));
                    }
                }
            }
            out.push(Endpoint {
                name: s("operationId"),
                area: op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                method,
                path: path.trim_start_matches('/').to_owned(),
                credential: s("x-wecom-credential"),
                retry: s("x-wecom-retry"),
                summary: s("summary"),
                description: s("description"),
                doc_url: op
                    .pointer("/externalDocs/url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                fields,
                binary: op
                    .pointer("/responses/200/content/application~1octet-stream")
                    .is_some(),
                secret_answers: op
                    .pointer("/responses/200/content/application~1json/schema")
                    .map(|schema| {
                        properties(schema, &schemas, false)
                            .into_iter()
                            .filter(|(_, p, _)| {
                                resolve(p, &schemas).get("format").and_then(Value::as_str)
                                    == Some("password")
                            })
                            .map(|(n, _, _)| n)
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| (&a.area, &a.path).cmp(&(&b.area, &b.path)));
    out
}

/// The properties of an object schema, through `$ref`, `allOf` (all of them) and `oneOf` (the
/// variants' properties, none required; a tag such as `msgtype` gets every variant's value).
fn properties(
    schema: &Value,
    schemas: &Map<String, Value>,
    required_here: bool,
) -> Vec<(String, Value, bool)> {
    let schema = resolve(schema, schemas);
    let mut out: Vec<(String, Value, bool)> = Vec::new();
    let mut add = |name: String, prop: Value, required: bool| {
        if let Some(seen) = out.iter_mut().find(|(n, _, _)| *n == name) {
            // The tag of a union: one `const` per variant, gathered into an `enum`.
            if let Some(c) = prop.get("const") {
                let mut values = seen
                    .1
                    .get("enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .or_else(|| seen.1.get("const").map(|c| vec![c.clone()]))
                    .unwrap_or_default();
                if !values.contains(c) {
                    values.push(c.clone());
                }
                seen.1 = serde_json::json!({"type": "string", "enum": values});
            }
            return;
        }
        out.push((name, prop, required));
    };
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (n, p, r) in properties(part, schemas, required_here) {
            add(n, p, r);
        }
    }
    for variant in schema
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (n, p, _) in properties(variant, schemas, false) {
            add(n, p, false);
        }
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, prop) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        add(
            name.clone(),
            prop.clone(),
            required_here && required.contains(&name.as_str()),
        );
    }
    out
}

/// The schema a `$ref` points at (or the schema itself).
fn resolve<'a>(schema: &'a Value, schemas: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .rsplit('/')
            .next()
            .and_then(|n| schemas.get(n))
            .unwrap_or(schema),
        None => schema,
    }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
}

fn type_of(schema: &Value, schemas: &Map<String, Value>) -> (String, bool) {
    if let Some(name) = ref_name(schema) {
        let target = resolve(schema, schemas);
        let is_string = target.get("type").and_then(Value::as_str) == Some("string");
        return (name.to_owned(), is_string);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => {
            let (inner, _) = type_of(schema.get("items").unwrap_or(&Value::Null), schemas);
            (format!("array of {inner}"), false)
        }
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("binary") => {
            ("file".into(), false)
        }
        Some(t) => (t.to_owned(), t == "string"),
        None if schema.get("const").is_some_and(Value::is_string) => ("string".into(), true),
        None => ("any JSON".into(), false),
    }
}

fn field(
    name: &str,
    place: Place,
    required: bool,
    schema: &Value,
    description: Option<&str>,
    schemas: &Map<String, Value>,
) -> Field {
    let (ty, is_string) = type_of(schema, schemas);
    let mut limits = Vec::new();
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    let range = |lo: Option<f64>, hi: Option<f64>, unit: &str| match (lo, hi) {
        (Some(a), Some(b)) if a == b => Some(format!("exactly {a} {unit}")),
        (None, Some(b)) | (Some(0.0), Some(b)) => Some(format!("at most {b} {unit}")),
        (Some(a), Some(b)) => Some(format!("{a}-{b} {unit}")),
        (Some(a), None) => Some(format!("at least {a} {unit}")),
        (None, None) => None,
    };
    if let Some(b) = schema.get("x-wecom-bytes").and_then(Value::as_array) {
        let lo = b.first().and_then(Value::as_f64);
        let hi = b.get(1).and_then(Value::as_f64);
        limits.extend(range(lo, hi, "bytes"));
    } else {
        limits.extend(range(num("minLength"), num("maxLength"), "characters"));
    }
    limits.extend(range(num("minItems"), num("maxItems"), "items"));
    limits.extend(range(num("minimum"), num("maximum"), "(value)"));
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let v: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        limits.push(format!("one of {}", v.join(", ")));
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        limits.push(format!("matches {p}"));
    }
    if let Some(code) = schema.get("x-wecom-errcode").and_then(Value::as_i64) {
        limits.push(format!("errcode {code}"));
    }
    let doc = description
        .or_else(|| schema.get("description").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    Field {
        name: name.to_owned(),
        place,
        required,
        ty,
        is_string,
        limits,
        secret: schema.get("format").and_then(Value::as_str) == Some("password"),
        doc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_document_lists_every_endpoint_with_fields_and_doc_links() {
        let get = find("user_get").expect("user_get");
        assert_eq!(get.method, "GET");
        assert_eq!(get.path, "user/get");
        assert_eq!(get.credential, "app_or_contact");
        assert!(
            get.doc_url
                .starts_with("https://developer.work.weixin.qq.com/")
        );
        let userid = &get.fields[0];
        assert_eq!(
            (userid.name.as_str(), userid.place),
            ("userid", Place::Query)
        );
        assert!(userid.required && userid.is_string);
        assert!(
            userid.limits.contains(&"1-64 bytes".to_owned()),
            "{:?}",
            userid.limits
        );
        assert!(find("/cgi-bin/user/get").is_some_and(|e| e.name == "user_get"));
        let create = find("user_create").unwrap();
        let dept = create
            .fields
            .iter()
            .find(|f| f.name == "department")
            .unwrap();
        assert_eq!(dept.ty, "array of integer");
        assert!(!dept.is_string);
        assert!(find("media_upload").unwrap().uploads());
        let send = find("message_send").unwrap();
        let msgtype = send
            .fields
            .iter()
            .find(|f| f.name == "msgtype")
            .expect("the union's tag");
        assert!(
            msgtype
                .limits
                .iter()
                .any(|l| l.contains("\"text\"") && l.contains("\"image\"")),
            "{:?}",
            msgtype.limits
        );
        assert!(send.fields.iter().any(|f| f.name == "text" && !f.required));
        assert!(
            send.fields
                .iter()
                .any(|f| f.name == "agentid" && f.required)
        );
        assert!(find("media_get").unwrap().binary);
        let gettoken = find("gettoken").unwrap();
        assert_eq!(gettoken.secret_answers, ["access_token"]);
        assert!(
            gettoken
                .fields
                .iter()
                .any(|f| f.name == "corpsecret" && f.secret)
        );
        assert!(!get.binary);
        for e in all() {
            assert!(
                !e.name.is_empty() && !e.area.is_empty() && !e.credential.is_empty(),
                "{e:?}"
            );
        }
    }
}
