//! The lowered form: a checked spec set resolved once into what the emitters need.
//!
//! `check` reports every mistake; `lower` then resolves every default and derived name exactly
//! once (request/response/call type names, retry safety, the path without its query part, the
//! Rust name of each field, which fields are fixed by `new()`, the module each endpoint goes to).
//! The Rust and OpenAPI emitters read only this form, so a default lives in one place: the
//! functions of this module, which `check` also calls for its collision checks.

use crate::check::{Project, TypeKind, rust_ident};
use crate::names;
use crate::spec::{
    Credential, Endpoint, Enum, Field, HttpMethod, Model, ResponseKind, Retry, Rule, Union,
};
use crate::ty::{Scalar, Ty};

/// The request type name of an endpoint (`<Name>Request` unless overridden).
pub(crate) fn request_type(ep: &Endpoint) -> String {
    ep.request_type
        .clone()
        .unwrap_or_else(|| format!("{}Request", names::to_pascal(ep.name.get_ref())))
}

/// The name of the generated response struct (`<Name>Response` unless overridden); for an
/// endpoint reusing a model, that model's name.
pub(crate) fn response_type(ep: &Endpoint) -> String {
    ep.response_type
        .clone()
        .unwrap_or_else(|| format!("{}Response", names::to_pascal(ep.name.get_ref())))
}

/// The call builder type of an endpoint (`<Name>Call`), returned by the area handle's method.
pub(crate) fn call_type(ep: &Endpoint) -> String {
    format!("{}Call", names::to_pascal(ep.name.get_ref()))
}

/// Retry safety: as declared, else `idempotent` for GET and `no` for POST.
pub(crate) fn retry(ep: &Endpoint) -> Retry {
    ep.retry.unwrap_or(match ep.method {
        HttpMethod::Get => Retry::Idempotent,
        HttpMethod::Post => Retry::No,
    })
}

/// The path without its query part (`media/upload?type={type}` -> `media/upload`).
pub(crate) fn base_path(ep: &Endpoint) -> &str {
    ep.path.get_ref().split('?').next().unwrap_or_default()
}

/// Module names an endpoint group may not take (they name other generated items).
const RESERVED_GROUPS: [&str; 5] = ["types", "mod", "rt", "self", "super"];

/// The module (file) an endpoint is generated into: its path's first segment
/// (`department/create` -> `department`), as a snake_case identifier.
pub(crate) fn group(ep: &Endpoint) -> String {
    let first = base_path(ep).split('/').next().unwrap_or_default();
    let mut g: String = names::to_snake(first)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if g.is_empty() || g.starts_with(|c: char| c.is_ascii_digit()) {
        g = format!("api_{g}");
    }
    if names::is_keyword(&g) || RESERVED_GROUPS.contains(&g.as_str()) {
        g.push_str("_api");
    }
    g
}

/// Method names of a call builder that a setter may not take: such a setter is `with_<name>`.
pub(crate) const RESERVED_SETTERS: [&str; 7] = [
    "new",
    "from_wire",
    "send",
    "request",
    "into_request",
    "into_future",
    "validate",
];

/// Which table of an endpoint a field comes from (`Other`: models and responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Query,
    Body,
    Multipart,
    Other,
}

/// One field, resolved.
#[derive(Debug, Clone)]
pub(crate) struct LField<'p> {
    /// The wire name.
    pub wire: &'p str,
    /// The Rust field name (without `r#`).
    pub rust: String,
    /// The setter name (`with_<rust>` when the Rust name is a reserved method name).
    pub setter: String,
    /// The spec (doc and constraints).
    pub spec: &'p Field,
    pub ty: Ty,
    pub table: Table,
    /// An `Option<..>` in Rust: not required and not a list.
    pub optional: bool,
    /// A required field with exactly one allowed value, set by `new()`.
    pub fixed: Option<toml::Value>,
}

/// Resolves the fields of one table.
pub(crate) fn fields<'p>(
    map: &'p indexmap::IndexMap<crate::spec::Name, Field>,
    table: Table,
) -> Vec<LField<'p>> {
    map.iter()
        .map(|(name, field)| {
            let ty = Ty::parse(field.ty.get_ref()).unwrap_or(Ty::Scalar(Scalar::Json));
            let optional = !field.required && !ty.is_list();
            let fixed = match (&field.values, field.required, &ty) {
                (Some(v), true, Ty::Scalar(_) | Ty::Named(_))
                    if v.len() == 1 && table != Table::Other =>
                {
                    Some(v[0].clone())
                }
                _ => None,
            };
            let rust = rust_ident(name.get_ref(), field);
            let setter = if RESERVED_SETTERS.contains(&rust.as_str()) {
                format!("with_{rust}")
            } else {
                rust.clone()
            };
            LField {
                wire: name.get_ref(),
                rust,
                setter,
                spec: field,
                ty,
                table,
                optional,
                fixed,
            }
        })
        .collect()
}

/// What a call answers.
#[derive(Debug, Clone)]
pub(crate) enum LResponse<'p> {
    /// A struct generated for this endpoint.
    Generated {
        name: String,
        fields: Vec<LField<'p>>,
    },
    /// A declared model reused as the answer.
    Model(String),
    /// Raw bytes.
    Binary,
}

/// One endpoint, resolved.
#[derive(Debug, Clone)]
pub(crate) struct LEndpoint<'p> {
    pub name: &'p str,
    pub doc: &'p str,
    pub doc_url: &'p str,
    pub method: HttpMethod,
    /// Path under `/cgi-bin/`, without its query part.
    pub path: &'p str,
    pub credential: Credential,
    pub retry: Retry,
    pub group: String,
    pub request_type: String,
    pub call_type: String,
    pub response: LResponse<'p>,
    /// Query, body and multipart fields, in that order.
    pub fields: Vec<LField<'p>>,
    pub rules: &'p [Rule],
    /// A hand-written check the generated `validate()` calls (a Rust path).
    pub check: Option<&'p str>,
    /// The Rust names of the duplicate-check flag and interval fields.
    pub duplicate_check: Option<(String, String)>,
    pub multipart: bool,
    /// The resource operation, when the sandbox serves it generically.
    pub resource: Option<&'p crate::spec::Resource>,
    /// The response list naming the failed items of a partial failure (`failures` in the spec).
    pub failures: Option<&'p str>,
}

impl LEndpoint<'_> {
    pub fn is_get(&self) -> bool {
        self.method == HttpMethod::Get
    }
    pub fn method_str(&self) -> &'static str {
        match self.method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
    pub fn in_table(&self, table: Table) -> impl Iterator<Item = &LField<'_>> {
        self.fields.iter().filter(move |f| f.table == table)
    }
}

/// A model, resolved.
#[derive(Debug, Clone)]
pub(crate) struct LModel<'p> {
    pub name: &'p str,
    pub doc: &'p str,
    pub fields: Vec<LField<'p>>,
    pub rules: &'p [Rule],
    pub check: Option<&'p str>,
}

/// One area (one spec file), resolved.
#[derive(Debug, Clone)]
pub(crate) struct LArea<'p> {
    pub name: &'p str,
    pub doc: &'p str,
    pub crate_dir: &'p str,
    pub crate_name: &'p str,
    /// The spec file it comes from.
    pub source: &'p str,
    pub endpoints: Vec<LEndpoint<'p>>,
    pub models: Vec<LModel<'p>>,
    pub enums: Vec<(&'p str, &'p Enum)>,
    pub unions: Vec<(&'p str, &'p Union)>,
}

impl LArea<'_> {
    /// The endpoint groups (modules) in order of first appearance.
    pub fn groups(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for ep in &self.endpoints {
            if !out.contains(&ep.group.as_str()) {
                out.push(&ep.group);
            }
        }
        out
    }
}

/// Where a declared type lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Home<'p> {
    pub area: &'p str,
    pub crate_dir: &'p str,
    pub crate_name: &'p str,
}

/// The whole spec set, resolved.
#[derive(Debug)]
pub(crate) struct Lowered<'p> {
    pub project: &'p Project,
    pub areas: Vec<LArea<'p>>,
}

impl<'p> Lowered<'p> {
    /// Where a declared type lives.
    pub fn home(&self, name: &str) -> Option<Home<'p>> {
        let decl = self.project.types.get(name)?;
        let area = &self.project.files[decl.file].spec.area;
        Some(Home {
            area: area.name.get_ref(),
            crate_dir: &area.crate_dir,
            crate_name: &area.crate_name,
        })
    }
    pub fn kind(&self, name: &str) -> Option<TypeKind> {
        self.project.kind(name)
    }
    pub fn model(&self, name: &str) -> Option<&'p Model> {
        self.project.model(name)
    }
    pub fn enum_def(&self, name: &str) -> Option<&'p Enum> {
        self.project.enum_def(name)
    }
    pub fn union_def(&self, name: &str) -> Option<&'p Union> {
        self.project.union_def(name)
    }
}

/// Lowers a checked project.
pub(crate) fn lower(project: &Project) -> Lowered<'_> {
    let areas = project
        .files
        .iter()
        .map(|unit| {
            let spec = &unit.spec;
            let endpoints = spec
                .endpoint
                .iter()
                .map(|ep| lower_endpoint(project, ep))
                .collect();
            let models = spec
                .model
                .iter()
                .map(|(name, m)| LModel {
                    name: name.get_ref(),
                    doc: m.doc.trim(),
                    fields: fields(&m.fields, Table::Other),
                    rules: &m.rules,
                    check: m.check.as_deref(),
                })
                .collect();
            LArea {
                name: spec.area.name.get_ref(),
                doc: spec.area.doc.trim(),
                crate_dir: &spec.area.crate_dir,
                crate_name: &spec.area.crate_name,
                source: &unit.src.path,
                endpoints,
                models,
                enums: spec
                    .enums
                    .iter()
                    .map(|(n, e)| (n.get_ref().as_str(), e))
                    .collect(),
                unions: spec
                    .union
                    .iter()
                    .map(|(n, u)| (n.get_ref().as_str(), u))
                    .collect(),
            }
        })
        .collect();
    Lowered { project, areas }
}

fn lower_endpoint<'p>(project: &'p Project, ep: &'p Endpoint) -> LEndpoint<'p> {
    let mut all = fields(&ep.query, Table::Query);
    all.extend(fields(&ep.body, Table::Body));
    all.extend(fields(&ep.multipart, Table::Multipart));
    let response = match ep.response_kind {
        ResponseKind::Binary => LResponse::Binary,
        ResponseKind::Json => match ep.response_type.as_deref() {
            Some(m) if project.kind(m) == Some(TypeKind::Model) => LResponse::Model(m.to_owned()),
            _ => LResponse::Generated {
                name: response_type(ep),
                fields: fields(&ep.response, Table::Other),
            },
        },
    };
    let retry = retry(ep);
    let duplicate_check = match (&ep.duplicate_check, retry) {
        (Some(dc), Retry::DuplicateCheck) => {
            let rust = |wire: &str| {
                ep.body
                    .get(wire)
                    .map_or_else(|| names::to_snake(wire), |f| rust_ident(wire, f))
            };
            Some((rust(&dc.flag), rust(&dc.interval)))
        }
        _ => None,
    };
    LEndpoint {
        name: ep.name.get_ref(),
        doc: ep.doc.trim(),
        doc_url: &ep.doc_url,
        method: ep.method,
        path: base_path(ep),
        credential: ep.credential,
        retry,
        group: group(ep),
        request_type: request_type(ep),
        call_type: call_type(ep),
        response,
        fields: all,
        rules: &ep.rules,
        check: ep.check.as_deref(),
        duplicate_check,
        multipart: !ep.multipart.is_empty(),
        resource: ep.resource.as_ref(),
        failures: ep.failures.as_deref(),
    }
}
