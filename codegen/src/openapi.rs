//! Spec -> OpenAPI 3.1 (every endpoint, with JSON schemas of bodies and answers, the constraints,
//! the credential as a security scheme and the documentation links).

use serde_json::{Map, Value, json};

use crate::lower::{LEndpoint, LField, LResponse, Lowered, Table};
use crate::spec::{Credential, EnumRepr, Field, HttpMethod, ItemConstraints, Retry, UnionStyle};
use crate::ty::{Scalar, Ty};

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

struct Builder<'a> {
    low: &'a Lowered<'a>,
}

impl Builder<'_> {
    /// Schema of a value of type `ty` (no field-level constraints).
    fn type_schema(&self, ty: &Ty) -> Value {
        match ty {
            Ty::Scalar(k) => match k {
                Scalar::String => json!({ "type": "string" }),
                Scalar::Secret => json!({ "type": "string", "format": "password" }),
                Scalar::Bool => json!({ "type": "boolean" }),
                Scalar::Flag => json!({ "type": "integer", "enum": [0, 1] }),
                Scalar::I32 => json!({ "type": "integer", "format": "int32" }),
                Scalar::I64 => json!({ "type": "integer", "format": "int64" }),
                Scalar::U32 => {
                    json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX })
                }
                Scalar::U64 => json!({ "type": "integer", "format": "int64", "minimum": 0 }),
                Scalar::F64 => json!({ "type": "number", "format": "double" }),
                Scalar::Json => json!({}),
                Scalar::Upload => json!({ "type": "string", "format": "binary" }),
            },
            Ty::Named(n) => schema_ref(n),
            Ty::List(t) => json!({ "type": "array", "items": self.type_schema(t) }),
            Ty::Pipe(t) => json!({ "type": "string", "x-wecom-pipe": self.type_schema(t) }),
        }
    }

    fn apply_item(&self, schema: &mut Map<String, Value>, each: &ItemConstraints, text: bool) {
        apply_lengths(schema, each.bytes, each.chars, text);
        if let Some(p) = &each.pattern {
            schema.insert("pattern".into(), json!(p));
        }
        if let Some([a, b]) = each.range {
            schema.insert("minimum".into(), number(a));
            schema.insert("maximum".into(), number(b));
        }
        if let Some(c) = each.errcode {
            schema.insert("x-wecom-errcode".into(), json!(c));
        }
    }

    /// Schema of a field: its type plus constraints, doc and example.
    fn field_schema(&self, field: &Field) -> Value {
        let ty = Ty::parse(field.ty.get_ref()).unwrap_or(Ty::Scalar(Scalar::Json));
        let mut schema = match self.type_schema(&ty) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let text = ty.scalar().is_some_and(Scalar::is_text);
        apply_lengths(&mut schema, field.bytes, field.chars, text);
        if let Some(p) = &field.pattern {
            schema.insert("pattern".into(), json!(p));
        }
        if let Some([a, b]) = field.range {
            schema.insert("minimum".into(), number(a));
            schema.insert("maximum".into(), number(b));
        }
        if let Some([a, b]) = field.items {
            match ty {
                Ty::List(_) => {
                    schema.insert("minItems".into(), json!(a));
                    schema.insert("maxItems".into(), json!(b));
                }
                _ => {
                    schema.insert("x-wecom-items".into(), json!([a, b]));
                }
            }
        }
        if let Some(values) = &field.values {
            schema.insert(
                "enum".into(),
                Value::Array(values.iter().map(toml_to_json).collect()),
            );
        }
        if let Some(each) = &field.each {
            let item_text = ty.item().scalar().is_some_and(Scalar::is_text);
            let key = if matches!(ty, Ty::Pipe(_)) {
                "x-wecom-pipe"
            } else {
                "items"
            };
            if let Some(Value::Object(item)) = schema.get_mut(key) {
                self.apply_item(item, each, item_text);
            }
        }
        if let Some(c) = field.errcode {
            schema.insert("x-wecom-errcode".into(), json!(c));
        }
        let mut desc = field.doc.trim().to_owned();
        if matches!(ty, Ty::Pipe(_)) {
            desc = format!("{desc} (values joined with `|`)").trim().to_owned();
        }
        if !desc.is_empty() {
            schema.insert("description".into(), json!(desc));
        }
        if let Some(ex) = &field.example {
            schema.insert("examples".into(), json!([toml_to_json(ex)]));
        }
        Value::Object(schema)
    }

    /// An object schema of fields; flattened fields become `allOf` parts.
    fn object_schema<'f>(
        &self,
        fields: impl IntoIterator<Item = &'f LField<'f>>,
        doc: &str,
    ) -> Value {
        let mut props = Map::new();
        let mut required = Vec::new();
        let mut flattened = Vec::new();
        for f in fields {
            let field = f.spec;
            if field.flatten {
                flattened.push(schema_ref(field.ty.get_ref().trim()));
                continue;
            }
            props.insert(f.wire.to_owned(), self.field_schema(field));
            if field.required {
                required.push(json!(f.wire));
            }
        }
        let mut obj = Map::new();
        obj.insert("type".into(), json!("object"));
        obj.insert("properties".into(), Value::Object(props));
        if !required.is_empty() {
            obj.insert("required".into(), Value::Array(required));
        }
        let mut out = if flattened.is_empty() {
            obj
        } else {
            let mut all = vec![Value::Object(obj)];
            all.extend(flattened);
            let mut m = Map::new();
            m.insert("allOf".into(), Value::Array(all));
            m
        };
        if !doc.trim().is_empty() {
            out.insert("description".into(), json!(doc.trim()));
        }
        Value::Object(out)
    }

    fn enum_schema(&self, e: &crate::spec::Enum) -> Value {
        let values: Vec<Value> = e
            .values
            .iter()
            .map(|v| toml_to_json(v.value.get_ref()))
            .collect();
        let names: Vec<Value> = e.values.iter().map(|v| json!(v.name)).collect();
        let descriptions: Vec<Value> = e.values.iter().map(|v| json!(v.doc.trim())).collect();
        let ty = match e.repr {
            EnumRepr::String => "string",
            EnumRepr::Int => "integer",
        };
        json!({
            "type": ty,
            "enum": values,
            "x-enum-varnames": names,
            "x-enum-descriptions": descriptions,
            "description": format!("{} Values not listed may appear later.", e.doc.trim()).trim(),
        })
    }

    fn union_schema(&self, u: &crate::spec::Union) -> Value {
        let tag = &u.tag;
        let variants: Vec<Value> = u
            .variants
            .iter()
            .map(|v| {
                let value = v.value.get_ref();
                let tag_prop = json!({ "const": value });
                match (u.style, &v.model) {
                    (UnionStyle::Named, Some(m)) => json!({
                        "type": "object",
                        "properties": { tag: tag_prop, value: schema_ref(m.get_ref()) },
                        "required": [tag, value],
                        "description": v.doc.trim(),
                    }),
                    (UnionStyle::Internal, Some(m)) => json!({
                        "allOf": [
                            { "type": "object", "properties": { tag: tag_prop }, "required": [tag] },
                            schema_ref(m.get_ref()),
                        ],
                        "description": v.doc.trim(),
                    }),
                    (_, None) => json!({
                        "type": "object",
                        "properties": { tag: tag_prop },
                        "required": [tag],
                        "description": v.doc.trim(),
                    }),
                }
            })
            .collect();
        json!({
            "oneOf": variants,
            "description": format!("{} Tagged by `{tag}`.", u.doc.trim()).trim(),
            "x-wecom-tag": tag,
        })
    }

    fn operation(&self, ep: &LEndpoint, area: &str, schemas: &mut Map<String, Value>) -> Value {
        let name = ep.name;
        let mut op = Map::new();
        op.insert("operationId".into(), json!(name));
        op.insert("tags".into(), json!([area]));
        let summary = ep
            .doc
            .split(". ")
            .next()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_owned();
        op.insert("summary".into(), json!(summary));
        op.insert("description".into(), json!(ep.doc));
        op.insert(
            "externalDocs".into(),
            json!({ "description": "WeCom documentation", "url": ep.doc_url }),
        );
        let params: Vec<Value> = ep
            .in_table(Table::Query)
            .map(|lf| {
                let f = lf.spec;
                let mut p = json!({
                    "name": lf.wire,
                    "in": "query",
                    "required": f.required,
                    "schema": self.field_schema(f),
                });
                if !f.doc.trim().is_empty() {
                    p["description"] = json!(f.doc.trim());
                }
                p
            })
            .collect();
        if !params.is_empty() {
            op.insert("parameters".into(), Value::Array(params));
        }
        let security = match ep.credential {
            Credential::None => json!([]),
            Credential::RobotKey => json!([{ "robot_key": [] }]),
            _ => json!([{ "access_token": [] }]),
        };
        op.insert("security".into(), security);
        let credential = match ep.credential {
            Credential::None => "none",
            Credential::App => "app",
            Credential::Contact => "contact",
            Credential::AppOrContact => "app_or_contact",
            Credential::RobotKey => "robot_key",
            other => other
                .system_app()
                .map(|(_, name, _)| name)
                .unwrap_or_default(),
        };
        op.insert("x-wecom-credential".into(), json!(credential));
        op.insert(
            "x-wecom-retry".into(),
            json!(match ep.retry {
                Retry::Idempotent => "idempotent",
                Retry::No => "no",
                Retry::DuplicateCheck => "duplicate_check",
            }),
        );
        if ep.multipart {
            let schema = self.object_schema(ep.in_table(Table::Multipart), "");
            op.insert("requestBody".into(), json!({ "required": true, "content": { "multipart/form-data": { "schema": schema } } }));
        } else if ep.method == HttpMethod::Post {
            let req = ep.request_type.clone();
            schemas.insert(
                req.clone(),
                self.object_schema(ep.in_table(Table::Body), &format!("Body of `{name}`.")),
            );
            op.insert("requestBody".into(), json!({ "required": true, "content": { "application/json": { "schema": schema_ref(&req) } } }));
        }
        let ok = match &ep.response {
            LResponse::Binary => json!({
                "description": "The raw bytes; a JSON error envelope instead when the call failed.",
                "content": {
                    "application/octet-stream": { "schema": { "type": "string", "format": "binary" } },
                    "application/json": { "schema": schema_ref("Envelope") },
                },
            }),
            LResponse::Model(model) | LResponse::Generated { name: model, .. } => {
                let resp_schema = match &ep.response {
                    LResponse::Generated { fields, .. } => {
                        schemas.insert(model.clone(), json!({ "allOf": [schema_ref("Envelope"), self.object_schema(fields, &format!("Answer of `{name}`."))] }));
                        schema_ref(model)
                    }
                    _ => json!({ "allOf": [schema_ref("Envelope"), schema_ref(model)] }),
                };
                json!({
                    "description": "The answer; `errcode` is 0 on success, otherwise the other fields are absent.",
                    "content": { "application/json": { "schema": resp_schema } },
                })
            }
        };
        op.insert("responses".into(), json!({ "200": ok }));
        Value::Object(op)
    }

    fn document(&self, version: &str) -> Value {
        let mut schemas = Map::new();
        schemas.insert(
            "Envelope".into(),
            json!({
                "type": "object",
                "properties": {
                    "errcode": { "type": "integer", "description": "0 on success; see spec/errcodes.toml." },
                    "errmsg": { "type": "string", "description": "`ok` on success, otherwise a hint (may contain `from ip: ...`)." },
                },
                "required": ["errcode"],
                "description": "Every JSON answer carries errcode and errmsg; branch on errcode only.",
            }),
        );
        let mut paths = Map::new();
        let mut tags = Vec::new();
        for area in &self.low.areas {
            tags.push(json!({ "name": area.name, "description": area.doc }));
            for ep in &area.endpoints {
                let path = format!("/{}", ep.path);
                let method = match ep.method {
                    HttpMethod::Get => "get",
                    HttpMethod::Post => "post",
                };
                let op = self.operation(ep, area.name, &mut schemas);
                let entry = paths.entry(path).or_insert_with(|| json!({}));
                entry[method] = op;
            }
            for m in &area.models {
                schemas.insert(m.name.to_owned(), self.object_schema(&m.fields, m.doc));
            }
            for (name, e) in &area.enums {
                schemas.insert((*name).to_owned(), self.enum_schema(e));
            }
            for (name, u) in &area.unions {
                schemas.insert((*name).to_owned(), self.union_schema(u));
            }
        }
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "WeCom (企业微信) server API for self-built apps",
                "version": version,
                "description": "Generated by `cargo xtask gen` from spec/*.toml. Every call but gettoken carries an access_token (or a group robot's key) in the query string; every JSON answer has errcode/errmsg.",
            },
            "servers": [{ "url": "https://qyapi.weixin.qq.com/cgi-bin", "description": "WeCom" }],
            "tags": tags,
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "access_token": {
                        "type": "apiKey",
                        "in": "query",
                        "name": "access_token",
                        "description": "From gettoken with the corp id and the app's (or the contact-sync) secret; valid about 7200 s.",
                    },
                    "robot_key": {
                        "type": "apiKey",
                        "in": "query",
                        "name": "key",
                        "description": "A group robot's webhook key.",
                    },
                },
            },
        })
    }
}

fn apply_lengths(
    schema: &mut Map<String, Value>,
    bytes: Option<[u64; 2]>,
    chars: Option<[u64; 2]>,
    text: bool,
) {
    if !text {
        return;
    }
    if let Some([a, b]) = chars {
        schema.insert("minLength".into(), json!(a));
        schema.insert("maxLength".into(), json!(b));
    }
    if let Some([a, b]) = bytes {
        schema.insert("x-wecom-bytes".into(), json!([a, b]));
        // A UTF-8 character is 1 to 4 bytes: the byte bounds imply these character bounds.
        if chars.is_none() {
            schema.insert("minLength".into(), json!(a.div_ceil(4)));
            schema.insert("maxLength".into(), json!(b));
        }
    }
}

/// The OpenAPI document of a project.
pub(crate) fn document(low: &Lowered, version: &str) -> Value {
    Builder { low }.document(version)
}

/// JSON with object keys sorted and two-space indentation: the same bytes whatever serde_json's
/// map features are.
pub(crate) fn to_canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out.push('\n');
    out
}

fn write_value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&"  ".repeat(indent + 1));
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_value(out, &m[*k], indent + 1);
                if i + 1 < keys.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&"  ".repeat(indent));
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, item) in a.iter().enumerate() {
                out.push_str(&"  ".repeat(indent + 1));
                write_value(out, item, indent + 1);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&"  ".repeat(indent));
            out.push(']');
        }
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        other => out.push_str(&other.to_string()),
    }
}
