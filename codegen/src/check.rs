//! Loading and checking a spec set: every mistake a spec author can make is reported here, with
//! its file, line and what to write instead, before any code is generated.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use crate::diag::{Diagnostic, Diagnostics, Source};
use crate::lower;
use crate::names;
use crate::spec::{
    Credential, EnumRepr, ErrcodesFile, Field, HttpMethod, ItemConstraints, Model, ResponseKind,
    Retry, Rule, SpecFile, UnionStyle,
};
use crate::ty::{Scalar, Ty};

/// What a declared type name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Model,
    Enum(EnumRepr),
    Union,
}

impl TypeKind {
    fn describe(self) -> &'static str {
        match self {
            TypeKind::Model => "model",
            TypeKind::Enum(_) => "enum",
            TypeKind::Union => "union",
        }
    }
}

/// A declared model, enum or union.
#[derive(Debug, Clone)]
pub(crate) struct TypeDecl {
    pub kind: TypeKind,
    /// Index into [`Project::files`].
    pub file: usize,
    pub span: Range<usize>,
}

/// One loaded spec file.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub src: Source,
    pub spec: SpecFile,
}

/// A loaded, checked spec set.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub files: Vec<Unit>,
    pub types: BTreeMap<String, TypeDecl>,
    pub errcodes: Option<(Source, ErrcodesFile)>,
}

impl Project {
    pub fn kind(&self, name: &str) -> Option<TypeKind> {
        self.types.get(name).map(|t| t.kind)
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        let decl = self.types.get(name)?;
        self.files[decl.file].spec.model.get(name)
    }

    pub fn enum_def(&self, name: &str) -> Option<&crate::spec::Enum> {
        let decl = self.types.get(name)?;
        self.files[decl.file].spec.enums.get(name)
    }

    pub fn union_def(&self, name: &str) -> Option<&crate::spec::Union> {
        let decl = self.types.get(name)?;
        self.files[decl.file].spec.union.get(name)
    }
}

/// Parses a TOML file into `T`, turning a parse error into a diagnostic.
fn parse_toml<T: serde::de::DeserializeOwned>(src: &Source) -> Result<T, Diagnostic> {
    toml::from_str::<T>(&src.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_owned();
        let help = unknown_key_help(&message);
        src.diag(span, message, help)
    })
}

/// "unknown field `requird`, expected one of `type`, `required`" -> "did you mean `required`?"
fn unknown_key_help(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (wrong, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = names::closest(wrong, expected.iter().copied())?;
    Some(format!(
        "did you mean `{best}`? (keys are checked: see spec/schema.json)"
    ))
}

/// Loads and checks spec files (and optionally the errcodes file).
pub(crate) fn load(
    specs: &[(&str, &str)],
    errcodes: Option<(&str, &str)>,
) -> Result<Project, Diagnostics> {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    for (path, text) in specs {
        let src = Source::new(path, text);
        match parse_toml::<SpecFile>(&src) {
            Ok(spec) => files.push(Unit { src, spec }),
            Err(d) => diags.push(d),
        }
    }
    let errcodes = match errcodes {
        Some((path, text)) => {
            let src = Source::new(path, text);
            match parse_toml::<ErrcodesFile>(&src) {
                Ok(file) => Some((src, file)),
                Err(d) => {
                    diags.push(d);
                    None
                }
            }
        }
        None => None,
    };
    if !diags.is_empty() {
        return Err(Diagnostics(diags));
    }
    let mut project = Project {
        files,
        types: BTreeMap::new(),
        errcodes,
    };
    let mut checker = Checker {
        diags: Vec::new(),
        known_errcodes: None,
    };
    checker.declare_types(&mut project);
    checker.check_errcodes(&project);
    checker.check_all(&project);
    if checker.diags.is_empty() {
        Ok(project)
    } else {
        Err(Diagnostics(checker.diags))
    }
}

/// Where a field sits; decides which types and attributes it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Query,
    Body,
    Multipart,
    Response,
    Model,
}

impl Role {
    fn table(self) -> &'static str {
        match self {
            Role::Query => "query",
            Role::Body => "body",
            Role::Multipart => "multipart",
            Role::Response => "response",
            Role::Model => "fields",
        }
    }
}

/// Names of Rust's prelude that generated code uses unqualified (`Some(..)`, `Ok(..)`,
/// `Vec::new()`): a declared type may not take them.
const PRELUDE: [&str; 22] = [
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Vec",
    "String",
    "Box",
    "Default",
    "From",
    "Into",
    "ToOwned",
    "ToString",
    "Iterator",
    "IntoIterator",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Debug",
];

struct Checker {
    diags: Vec<Diagnostic>,
    known_errcodes: Option<HashSet<i64>>,
}

impl Checker {
    fn err(
        &mut self,
        src: &Source,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<Option<String>>,
    ) {
        self.diags.push(src.diag(span, message, help.into()));
    }

    /// Collects every declared type name; duplicates are errors.
    fn declare_types(&mut self, project: &mut Project) {
        let mut types: BTreeMap<String, TypeDecl> = BTreeMap::new();
        for (fi, unit) in project.files.iter().enumerate() {
            let decls = unit
                .spec
                .model
                .keys()
                .map(|n| (n, TypeKind::Model))
                .chain(
                    unit.spec
                        .enums
                        .iter()
                        .map(|(n, e)| (n, TypeKind::Enum(e.repr))),
                )
                .chain(unit.spec.union.keys().map(|n| (n, TypeKind::Union)));
            for (name, kind) in decls {
                let key = name.get_ref();
                if !names::is_pascal(key) {
                    self.err(
                        &unit.src,
                        name.span(),
                        format!("{} name `{key}` is not PascalCase", kind.describe()),
                        format!("write it as `{}`", names::to_pascal(key)),
                    );
                }
                if PRELUDE.contains(&key.as_str()) {
                    self.err(
                        &unit.src,
                        name.span(),
                        format!("{} name `{key}` is a name of Rust's prelude, which generated code uses", kind.describe()),
                        format!("rename it, e.g. `{}{key}`", names::to_pascal(unit.spec.area.name.get_ref())),
                    );
                }
                if let Some(prev) = types.get(key) {
                    let at = project.files[prev.file].src.at(prev.span.clone());
                    self.err(
                        &unit.src,
                        name.span(),
                        format!("duplicate type name `{key}`: already declared as a {} at {at}", prev.kind.describe()),
                        format!("type names are shared by all spec files: rename one of them (e.g. `{}{key}`)", names::to_pascal(unit.spec.area.name.get_ref())),
                    );
                    continue;
                }
                types.insert(
                    key.clone(),
                    TypeDecl {
                        kind,
                        file: fi,
                        span: name.span(),
                    },
                );
            }
        }
        project.types = types;
    }

    fn check_errcodes(&mut self, project: &Project) {
        let Some((src, file)) = &project.errcodes else {
            return;
        };
        let mut seen: HashMap<i64, Range<usize>> = HashMap::new();
        for code in &file.code {
            let n = *code.code.get_ref();
            if let Some(prev) = seen.get(&n) {
                let at = src.at(prev.clone());
                self.err(
                    src,
                    code.code.span(),
                    format!("duplicate errcode {n}: already listed at {at}"),
                    "keep one [[code]] table per code".to_owned(),
                );
            } else {
                seen.insert(n, code.code.span());
            }
            if code.en.trim().is_empty() {
                self.err(
                    src,
                    code.code.span(),
                    format!("errcode {n} has an empty `en`"),
                    "write its English meaning: en = \"...\"".to_owned(),
                );
            }
        }
        self.known_errcodes = Some(seen.into_keys().collect());
    }

    fn check_all(&mut self, project: &Project) {
        let mut areas: HashMap<&str, usize> = HashMap::new();
        let mut crates: HashMap<&str, &str> = HashMap::new();
        let mut endpoints: HashMap<&str, (usize, Range<usize>)> = HashMap::new();
        let mut routes: HashMap<String, (usize, Range<usize>, String)> = HashMap::new();
        // Generated type names per module (crate_dir + area): declared types in any module may
        // collide with generated names in the same module.
        for (fi, unit) in project.files.iter().enumerate() {
            let src = &unit.src;
            let area = &unit.spec.area;
            let area_name = area.name.get_ref().as_str();
            if !names::is_snake(area_name) || names::is_keyword(area_name) {
                self.err(
                    src,
                    area.name.span(),
                    format!("area name `{area_name}` is not a snake_case identifier"),
                    format!(
                        "write it as `{}`",
                        names::to_snake(area_name).to_lowercase()
                    ),
                );
            }
            if area_name == "errcodes" || area_name == "mod" {
                self.err(
                    src,
                    area.name.span(),
                    format!("area name `{area_name}` is reserved for generated files"),
                    "choose another name".to_owned(),
                );
            }
            if let Some(&prev) = areas.get(area_name) {
                let at = project.files[prev]
                    .src
                    .at(project.files[prev].spec.area.name.span());
                self.err(
                    src,
                    area.name.span(),
                    format!("duplicate area `{area_name}`: already declared at {at}"),
                    "each spec file declares its own area; merge the files or rename one"
                        .to_owned(),
                );
            } else {
                areas.insert(area_name, fi);
            }
            let dir = area.crate_dir.as_str();
            if dir.is_empty()
                || dir.starts_with('/')
                || dir.contains('\\')
                || dir
                    .split('/')
                    .any(|p| p == ".." || p == "." || p.is_empty())
            {
                self.err(
                    src,
                    area.name.span(),
                    format!("crate_dir `{dir}` must be a relative path inside the workspace"),
                    "write it like crate_dir = \"crates/contacts\"".to_owned(),
                );
            }
            if !names::usable_as_ident(&area.crate_name) || area.crate_name.contains('-') {
                self.err(
                    src,
                    area.name.span(),
                    format!("crate_name `{}` is not a Rust crate name", area.crate_name),
                    format!(
                        "write the name Rust code uses: crate_name = \"{}\"",
                        area.crate_name.replace('-', "_")
                    ),
                );
            }
            match crates.get(dir) {
                Some(prev) if *prev != area.crate_name => self.err(
                    src,
                    area.name.span(),
                    format!(
                        "crate_dir `{dir}` is named `{prev}` in another spec file but `{}` here",
                        area.crate_name
                    ),
                    format!("write crate_name = \"{prev}\""),
                ),
                _ => {
                    crates.insert(dir, &area.crate_name);
                }
            }

            let mut module_names: HashMap<String, String> = HashMap::new();
            let handle = names::to_pascal(area_name);
            module_names.insert(handle.clone(), "the area handle".into());
            module_names.insert(format!("{handle}Ext"), "the area extension trait".into());
            for name in unit
                .spec
                .model
                .keys()
                .chain(unit.spec.enums.keys())
                .chain(unit.spec.union.keys())
            {
                if let Some(what) = module_names.get(name.get_ref()) {
                    self.err(src, name.span(), format!("type name `{name}` collides with {what} generated for area `{area_name}`"), "rename the type".to_owned());
                }
                module_names.insert(
                    name.get_ref().clone(),
                    format!("the type declared at {}", src.at(name.span())),
                );
            }

            for ep in &unit.spec.endpoint {
                let name = ep.name.get_ref().as_str();
                if !names::is_snake(name) || names::is_keyword(name) {
                    self.err(
                        src,
                        ep.name.span(),
                        format!("endpoint name `{name}` is not a snake_case identifier"),
                        format!(
                            "write it as `{}` (it becomes the method `{}()`)",
                            names::to_snake(name),
                            names::to_snake(name)
                        ),
                    );
                }
                if name == "new" {
                    self.err(
                        src,
                        ep.name.span(),
                        "endpoint name `new` is taken by the area handle's constructor".to_owned(),
                        "name it after its path, e.g. `user_new`".to_owned(),
                    );
                }
                if let Some((pf, pspan)) = endpoints.get(name) {
                    let at = project.files[*pf].src.at(pspan.clone());
                    self.err(src, ep.name.span(), format!("duplicate endpoint name `{name}`: already declared at {at}"), "endpoint names are unique across all spec files: rename one (e.g. prefix it with its path's first segment)".to_owned());
                } else {
                    endpoints.insert(name, (fi, ep.name.span()));
                }
                self.check_endpoint(project, fi, ep);
                let base = ep
                    .path
                    .get_ref()
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let route = format!(
                    "{} {base}",
                    if ep.method == HttpMethod::Get {
                        "GET"
                    } else {
                        "POST"
                    }
                );
                if let Some((pf, pspan, pname)) = routes.get(&route) {
                    let at = project.files[*pf].src.at(pspan.clone());
                    self.err(
                        src,
                        ep.path.span(),
                        format!("endpoints `{pname}` and `{name}` are both `{route}` ({at})"),
                        "one path and method per endpoint: remove the duplicate".to_owned(),
                    );
                } else {
                    routes.insert(route, (fi, ep.path.span(), name.to_owned()));
                }
                let reuses_model = ep
                    .response_type
                    .as_deref()
                    .is_some_and(|r| project.kind(r) == Some(TypeKind::Model));
                let mut generated = vec![lower::request_type(ep), lower::call_type(ep)];
                if !reuses_model && ep.response_kind == ResponseKind::Json {
                    generated.push(lower::response_type(ep));
                }
                for g in generated {
                    if !names::is_pascal(&g) {
                        self.err(
                            src,
                            ep.name.span(),
                            format!("type name `{g}` of endpoint `{name}` is not PascalCase"),
                            format!("write `{}`", names::to_pascal(&g)),
                        );
                    }
                    if let Some(what) = module_names.get(&g) {
                        self.err(
                            src,
                            ep.name.span(),
                            format!("`{g}`, generated for endpoint `{name}`, collides with {what}"),
                            "rename the type, or set request_type / response_type on the endpoint"
                                .to_owned(),
                        );
                    } else if project.types.contains_key(&g) {
                        let decl = &project.types[&g];
                        let at = project.files[decl.file].src.at(decl.span.clone());
                        self.err(src, ep.name.span(), format!("`{g}`, generated for endpoint `{name}`, collides with the {} declared at {at}", decl.kind.describe()), "rename the type, or set request_type / response_type on the endpoint".to_owned());
                    }
                    module_names.insert(g, format!("the type generated for endpoint `{name}`"));
                }
            }
            for (name, model) in &unit.spec.model {
                let ctx = format!("model `{name}`");
                if let Some(c) = &model.check {
                    self.check_fn_path(src, name.span(), &ctx, c);
                }
                self.check_fields(project, src, &ctx, &model.fields, Role::Model);
                self.check_rules(
                    project,
                    src,
                    &ctx,
                    name.span(),
                    &model.rules,
                    &[&model.fields],
                );
            }
            for (name, e) in &unit.spec.enums {
                self.check_enum(src, name.get_ref(), name.span(), e);
            }
            for (name, u) in &unit.spec.union {
                self.check_union(project, src, name.get_ref(), name.span(), u);
            }
        }
        self.check_cycles(project);
    }

    fn check_endpoint(&mut self, project: &Project, fi: usize, ep: &crate::spec::Endpoint) {
        let src = &project.files[fi].src;
        let name = ep.name.get_ref();
        let ctx = format!("endpoint `{name}`");
        let is_get = ep.method == HttpMethod::Get;
        for (message, help) in crate::resources::check(project, ep) {
            self.err(src, ep.name.span(), format!("{ctx}: {message}"), help);
        }
        if let Some(d) = &ep.doc_updated
            && crate::docdates::parse_date(d).is_none()
        {
            self.err(
                src,
                ep.name.span(),
                format!("doc_updated `{d}` of {ctx} is not a date"),
                "write the page's 最后更新 date as doc_updated = \"2024-07-23\"".to_owned(),
            );
        }

        // Path and placeholders.
        let path = ep.path.get_ref();
        let (base, query_part) = match path.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (path.as_str(), None),
        };
        if base.starts_with('/') || base.starts_with("cgi-bin") {
            self.err(
                src,
                ep.path.span(),
                format!("path `{path}` of {ctx} must be relative to /cgi-bin/"),
                format!(
                    "write path = \"{}\"",
                    base.trim_start_matches('/').trim_start_matches("cgi-bin/")
                ),
            );
        }
        if base.is_empty()
            || !base.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.' | '{' | '}')
            })
        {
            self.err(
                src,
                ep.path.span(),
                format!("path `{path}` of {ctx} is not a URL path"),
                "write it like path = \"user/get\"".to_owned(),
            );
        }
        for ph in placeholders(base) {
            let help = if ep.query.contains_key(ph.as_str()) {
                format!(
                    "WeCom paths take no parameters: write path = \"{}?{ph}={{{ph}}}\"",
                    base.replace(&format!("{{{ph}}}"), "")
                        .replace("//", "/")
                        .trim_end_matches('/')
                )
            } else {
                format!(
                    "WeCom paths take no parameters: declare `{ph}` under [endpoint.query] and write it as path = \"...?{ph}={{{ph}}}\""
                )
            };
            self.err(
                src,
                ep.path.span(),
                format!("placeholder `{{{ph}}}` in the path of {ctx}"),
                help,
            );
        }
        if let Some(q) = query_part {
            for pair in q.split('&') {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                match value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
                    Some(field) => {
                        if !ep.query.contains_key(field) {
                            let close = names::closest(field, ep.query.keys().map(|k| k.get_ref().as_str()));
                            let help = match close {
                                Some(c) => format!("did you mean `{{{c}}}`? Otherwise declare it: [endpoint.query] {field} = {{ type = \"string\", required = true }}"),
                                None => format!("declare it: [endpoint.query] {field} = {{ type = \"string\", required = true }}"),
                            };
                            self.err(src, ep.path.span(), format!("placeholder `{{{field}}}` in the path of {ctx} has no query field"), help);
                        } else if key != field && !ep.query.contains_key(key) {
                            self.err(src, ep.path.span(), format!("`{key}={{{field}}}` in the path of {ctx}: the query parameter is named by its field"), format!("write `{field}={{{field}}}`, or name the field `{key}` with rust_name = \"{field}\""));
                        }
                    }
                    None => self.err(
                        src,
                        ep.path.span(),
                        format!("constant `{pair}` in the path of {ctx}"),
                        format!("a fixed query value is a query field with one allowed value: [endpoint.query] {key} = {{ type = \"string\", required = true, values = [\"{value}\"] }}"),
                    ),
                }
            }
        }

        // Method and body.
        if is_get {
            for (table, fields) in [("body", &ep.body), ("multipart", &ep.multipart)] {
                if let Some(first) = fields.keys().next() {
                    self.err(src, first.span(), format!("{ctx} is GET but has [endpoint.{table}] fields"), "a GET request has no body: move the fields to [endpoint.query], or write method = \"POST\"".to_owned());
                }
            }
        }
        if let (Some(first), false) = (ep.multipart.keys().next(), ep.body.is_empty()) {
            self.err(src, first.span(), format!("{ctx} has both [endpoint.body] and [endpoint.multipart]"), "a request has one body: send the JSON fields as query fields, or split the endpoint".to_owned());
        }
        for reserved in ["access_token", "key"] {
            if reserved == "key" && ep.credential != Credential::RobotKey {
                continue;
            }
            if let Some((k, _)) = ep.query.get_key_value(reserved) {
                self.err(src, k.span(), format!("query field `{reserved}` of {ctx} is the credential"), "the client adds the credential itself: remove the field (the endpoint's `credential` says which one)".to_owned());
            }
        }

        // Fields.
        self.check_fields(project, src, &ctx, &ep.query, Role::Query);
        self.check_fields(project, src, &ctx, &ep.body, Role::Body);
        self.check_fields(project, src, &ctx, &ep.multipart, Role::Multipart);
        self.check_fields(project, src, &ctx, &ep.response, Role::Response);
        let mut wire: HashMap<&str, &str> = HashMap::new();
        let mut rust: HashMap<String, &str> = HashMap::new();
        for (table, fields) in [
            ("query", &ep.query),
            ("body", &ep.body),
            ("multipart", &ep.multipart),
        ] {
            for (fname, field) in fields.iter() {
                if let Some(prev) = wire.get(fname.get_ref().as_str()) {
                    self.err(src, fname.span(), format!("duplicate field `{fname}` in {ctx}: it is in [endpoint.{prev}] and [endpoint.{table}]"), "a request field lives in one table: remove one".to_owned());
                }
                wire.insert(fname.get_ref(), table);
                let r = rust_ident(fname.get_ref(), field);
                if let Some(prev) = rust.get(&r)
                    && *prev != fname.get_ref().as_str()
                {
                    self.err(src, fname.span(), format!("fields `{prev}` and `{fname}` of {ctx} both become the Rust field `{r}`"), "give one of them another rust_name".to_owned());
                }
                rust.insert(r, fname.get_ref());
            }
        }
        self.check_unique_rust(src, &ctx, &ep.response);
        let request_fields = [&ep.query, &ep.body, &ep.multipart];
        self.check_rules(
            project,
            src,
            &ctx,
            ep.name.span(),
            &ep.rules,
            &request_fields,
        );

        // Hand-written check.
        if let Some(c) = &ep.check {
            self.check_fn_path(src, ep.name.span(), &ctx, c);
        }

        // Retry and duplicate check.
        match (lower::retry(ep), &ep.duplicate_check) {
            (Retry::DuplicateCheck, None) => self.err(
                src,
                ep.name.span(),
                format!("{ctx} has retry = \"duplicate_check\" but no duplicate_check fields"),
                "add duplicate_check = { flag = \"enable_duplicate_check\", interval = \"duplicate_check_interval\" } naming its body fields".to_owned(),
            ),
            (r, Some(_)) if r != Retry::DuplicateCheck => self.err(src, ep.name.span(), format!("{ctx} has duplicate_check fields but retry is not \"duplicate_check\""), "write retry = \"duplicate_check\", or remove duplicate_check".to_owned()),
            (_, Some(dc)) => {
                match ep.body.get(dc.flag.as_str()) {
                    Some(f) if Ty::parse(f.ty.get_ref()) == Ok(Ty::Scalar(Scalar::Flag)) && !f.required => {}
                    Some(_) => self.err(src, ep.body.get_key_value(dc.flag.as_str()).map_or(ep.name.span(), |(k, _)| k.span()), format!("duplicate_check flag `{}` of {ctx} must be an optional `flag` body field", dc.flag), format!("declare {} = {{ type = \"flag\" }} under [endpoint.body]", dc.flag)),
                    None => self.err(src, src.find_after(ep.name.span().start, &format!("\"{}\"", dc.flag)).unwrap_or(ep.name.span()), format!("duplicate_check flag `{}` of {ctx} is not a body field", dc.flag), format!("declare {} = {{ type = \"flag\" }} under [endpoint.body]", dc.flag)),
                }
                match ep.body.get(dc.interval.as_str()) {
                    Some(f) if Ty::parse(f.ty.get_ref()) == Ok(Ty::Scalar(Scalar::U32)) && !f.required => {}
                    Some(_) => self.err(src, ep.body.get_key_value(dc.interval.as_str()).map_or(ep.name.span(), |(k, _)| k.span()), format!("duplicate_check interval `{}` of {ctx} must be an optional `u32` body field", dc.interval), format!("declare {} = {{ type = \"u32\" }} under [endpoint.body]", dc.interval)),
                    None => self.err(src, src.find_after(ep.name.span().start, &format!("\"{}\"", dc.interval)).unwrap_or(ep.name.span()), format!("duplicate_check interval `{}` of {ctx} is not a body field", dc.interval), format!("declare {} = {{ type = \"u32\" }} under [endpoint.body]", dc.interval)),
                }
            }
            _ => {}
        }

        // Response.
        if ep.response_kind == ResponseKind::Binary {
            if let Some(first) = ep.response.keys().next() {
                self.err(src, first.span(), format!("{ctx} answers raw bytes (response_kind = \"binary\") but declares response fields"), "remove [endpoint.response], or write response_kind = \"json\"".to_owned());
            }
            if ep.response_type.is_some() {
                self.err(
                    src,
                    ep.name.span(),
                    format!("{ctx} answers raw bytes but sets response_type"),
                    "remove response_type: a binary answer is `Bytes`".to_owned(),
                );
            }
        }
        if let Some(list) = &ep.failures {
            match ep.response.get(list.as_str()) {
                Some(f) if matches!(Ty::parse(f.ty.get_ref()), Ok(Ty::List(_))) => {}
                Some(_) => self.err(
                    src,
                    ep.response.get_key_value(list.as_str()).map_or(ep.name.span(), |(k, _)| k.span()),
                    format!("failures = \"{list}\" of {ctx} names a response field that is not a list"),
                    "name the response list that carries the failed items (e.g. result_list = { type = \"[Item]\" })".to_owned(),
                ),
                None => self.err(
                    src,
                    src.find_after(ep.name.span().start, &format!("\"{list}\"")).unwrap_or(ep.name.span()),
                    format!("failures = \"{list}\" of {ctx} is not a response field"),
                    format!("declare {list} under [endpoint.response], or remove `failures`"),
                ),
            }
        }
        if let Some(rt) = &ep.response_type {
            match project.kind(rt) {
                Some(TypeKind::Model) => {
                    if let Some(first) = ep.response.keys().next() {
                        self.err(src, first.span(), format!("{ctx} reuses model `{rt}` as its response but also declares response fields"), format!("add the fields to model `{rt}` and remove [endpoint.response]"));
                    }
                }
                Some(k) => self.err(
                    src,
                    ep.name.span(),
                    format!("response_type `{rt}` of {ctx} is a {}", k.describe()),
                    "a response is an object: name a model, or a new type name".to_owned(),
                ),
                None => {}
            }
        }
        if let Some(req) = &ep.request_type
            && project.types.contains_key(req)
        {
            self.err(
                src,
                ep.name.span(),
                format!("request_type `{req}` of {ctx} is a declared type"),
                "request types are generated from the endpoint's fields: choose a new name"
                    .to_owned(),
            );
        }
    }

    /// A `check = "..."` must be a Rust path to a function.
    fn check_fn_path(&mut self, src: &Source, span: Range<usize>, ctx: &str, path: &str) {
        let at = src
            .find_after(span.start, &format!("\"{path}\""))
            .unwrap_or(span);
        if syn::parse_str::<syn::Path>(path).is_err() || path.trim() != path || path.is_empty() {
            self.err(
                src,
                at,
                format!("check `{path}` of {ctx} is not a Rust path"),
                "name a function of the area's crate: check = \"crate::rules::check_send\""
                    .to_owned(),
            );
        }
    }

    fn check_unique_rust(
        &mut self,
        src: &Source,
        ctx: &str,
        fields: &indexmap::IndexMap<crate::spec::Name, Field>,
    ) {
        let mut rust: HashMap<String, &str> = HashMap::new();
        for (fname, field) in fields {
            let r = rust_ident(fname.get_ref(), field);
            if let Some(prev) = rust.get(&r) {
                self.err(
                    src,
                    fname.span(),
                    format!(
                        "fields `{prev}` and `{fname}` of {ctx} both become the Rust field `{r}`"
                    ),
                    "give one of them another rust_name".to_owned(),
                );
            }
            rust.insert(r, fname.get_ref());
        }
    }

    fn check_fields(
        &mut self,
        project: &Project,
        src: &Source,
        ctx: &str,
        fields: &indexmap::IndexMap<crate::spec::Name, Field>,
        role: Role,
    ) {
        for (fname, field) in fields {
            self.check_field(
                project,
                src,
                ctx,
                fname.get_ref(),
                fname.span(),
                field,
                role,
                fields,
            );
        }
        if role == Role::Model {
            self.check_unique_rust(src, ctx, fields);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_field(
        &mut self,
        project: &Project,
        src: &Source,
        ctx: &str,
        fname: &str,
        span: Range<usize>,
        field: &Field,
        role: Role,
        siblings: &indexmap::IndexMap<crate::spec::Name, Field>,
    ) {
        let what = format!("field `{fname}` of {ctx}");
        // Rust name.
        match &field.rust_name {
            Some(r) => {
                if !names::is_snake(r) || names::is_keyword(r) {
                    self.err(
                        src,
                        span.clone(),
                        format!("rust_name `{r}` of {what} is not a snake_case identifier"),
                        format!("write rust_name = \"{}\"", names::to_snake(r)),
                    );
                }
            }
            None => {
                let r = names::to_snake(fname);
                if !names::usable_as_ident(&r) {
                    self.err(
                        src,
                        span.clone(),
                        format!("{what} cannot be a Rust field name"),
                        "give it one: rust_name = \"snake_case_name\"".to_owned(),
                    );
                }
            }
        }
        // Type.
        let ty = match Ty::parse(field.ty.get_ref()) {
            Ok(t) => t,
            Err(e) => {
                self.err(src, field.ty.span(), format!("{e} (type of {what})"), "write a scalar (string, bool, i32, i64, u32, u64, f64, json, flag, secret, upload), a model, enum or union name, `[T]` or `pipe[T]`".to_owned());
                return;
            }
        };
        let mut unresolved = false;
        for n in ty.names() {
            if project.types.contains_key(n) {
                continue;
            }
            unresolved = true;
            let candidates = Scalar::ALL
                .iter()
                .map(|k| k.name())
                .chain(project.types.keys().map(String::as_str));
            let help = match names::closest(n, candidates) {
                Some(c) => {
                    let where_ = project
                        .types
                        .get(c)
                        .map(|d| {
                            format!(
                                " (the {} declared at {})",
                                d.kind.describe(),
                                project.files[d.file].src.at(d.span.clone())
                            )
                        })
                        .unwrap_or_default();
                    format!("did you mean `{c}`{where_}?")
                }
                None => format!(
                    "declare it in any spec file as [model.{n}], [enum.{n}] or [union.{n}], or use a scalar type"
                ),
            };
            self.err(
                src,
                field.ty.span(),
                format!("unknown type `{n}` in {what}"),
                help,
            );
        }
        if unresolved {
            return;
        }
        let item = ty.item();
        let item_scalar = item.scalar();
        let tyname = ty.to_string();

        // Where each type may appear.
        let has_upload = matches!(item_scalar, Some(Scalar::Upload))
            || matches!(&ty, Ty::List(t) if t.item().scalar() == Some(Scalar::Upload));
        if role == Role::Multipart {
            if ty != Ty::Scalar(Scalar::Upload) {
                self.err(
                    src,
                    field.ty.span(),
                    format!("{what} is a multipart part of type `{tyname}`"),
                    "multipart parts are files: write type = \"upload\"".to_owned(),
                );
            }
        } else if has_upload {
            self.err(
                src,
                field.ty.span(),
                format!("{what} has type `upload` outside [endpoint.multipart]"),
                "declare file parts under [endpoint.multipart]".to_owned(),
            );
        }
        if let Ty::Pipe(inner) = &ty {
            let ok = match inner.as_ref() {
                Ty::Scalar(k) => k.is_int() || *k == Scalar::String,
                Ty::Named(n) => matches!(project.kind(n), Some(TypeKind::Enum(_))),
                _ => false,
            };
            if !ok {
                self.err(
                    src,
                    field.ty.span(),
                    format!("{what}: `{tyname}` cannot be joined with `|`"),
                    "pipe[T] holds strings, integers or enums; use `[T]` for a JSON array"
                        .to_owned(),
                );
            }
        }
        if let Ty::List(inner) = &ty
            && matches!(inner.as_ref(), Ty::Pipe(_))
        {
            self.err(
                src,
                field.ty.span(),
                format!("{what}: a list of pipe lists is not supported"),
                "use `[[T]]` for nested JSON arrays".to_owned(),
            );
        }
        if role == Role::Query {
            let ok = match &ty {
                Ty::Scalar(k) => !matches!(k, Scalar::Json | Scalar::Upload),
                Ty::Named(n) => matches!(project.kind(n), Some(TypeKind::Enum(_))),
                Ty::Pipe(_) => true,
                Ty::List(_) => false,
            };
            if !ok {
                let help = if let Ty::List(inner) = &ty {
                    format!(
                        "query values are strings: write type = \"pipe[{inner}]\" for `a|b` lists"
                    )
                } else {
                    "query values are strings: use a scalar, an enum or pipe[T] (objects go in [endpoint.body])".to_owned()
                };
                self.err(
                    src,
                    field.ty.span(),
                    format!("{what} has type `{tyname}`, which a query string cannot carry"),
                    help,
                );
            }
        }

        // Flatten.
        if field.flatten {
            match &ty {
                Ty::Named(n) if matches!(project.kind(n), Some(TypeKind::Model | TypeKind::Union)) => {
                    if !field.required {
                        self.err(src, span.clone(), format!("flattened {what} is not required"), "a flattened object is always there: write required = true".to_owned());
                    }
                    if matches!(role, Role::Query | Role::Multipart) {
                        self.err(src, span.clone(), format!("{what} is flattened in [endpoint.{}]", role.table()), "flatten merges JSON objects: move it to [endpoint.body]".to_owned());
                    }
                    self.check_flatten_keys(project, src, &what, span.clone(), n, siblings, fname);
                }
                _ => self.err(src, span.clone(), format!("{what} is flattened but its type `{tyname}` is not a model or union"), "flatten merges an object's fields into the parent: use it with a model or union type, or remove `flatten`".to_owned()),
            }
        }

        // Constraints against the type.
        let text = item_scalar.is_some_and(Scalar::is_text) && !ty.is_list();
        let numeric = item_scalar.is_some_and(Scalar::is_numeric) && !ty.is_list();
        let list_help = |c: &str| {
            if ty.is_list() {
                format!(
                    "`{c}` applies to a single value; for each item of the list write each = {{ {c} = [..] }}"
                )
            } else {
                format!("remove `{c}` (it applies to strings)")
            }
        };
        if let Some(b) = field.bytes {
            if !text {
                self.err(
                    src,
                    span.clone(),
                    format!("{what} has `bytes` but its type `{tyname}` is not a string"),
                    list_help("bytes"),
                );
            }
            self.check_bounds(src, span.clone(), &what, "bytes", b[0] as f64, b[1] as f64);
        }
        if let Some(c) = field.chars {
            if !text {
                self.err(
                    src,
                    span.clone(),
                    format!("{what} has `chars` but its type `{tyname}` is not a string"),
                    list_help("chars"),
                );
            }
            self.check_bounds(src, span.clone(), &what, "chars", c[0] as f64, c[1] as f64);
        }
        if field.truncate {
            if item_scalar != Some(Scalar::String) || ty.is_list() {
                self.err(
                    src,
                    span.clone(),
                    format!("{what} has `truncate` but its type `{tyname}` is not a string"),
                    "`truncate` says WeCom cuts an over-long string; remove it".to_owned(),
                );
            }
            if field.bytes.is_some() == field.chars.is_some() {
                self.err(
                    src,
                    span.clone(),
                    format!("{what} has `truncate` but not exactly one of `bytes` / `chars`"),
                    "give the limit WeCom cuts at, in the unit the doc page names: bytes = [min, max] or chars = [min, max]".to_owned(),
                );
            }
        }
        if let Some(p) = &field.pattern {
            if !text {
                self.err(
                    src,
                    span.clone(),
                    format!("{what} has `pattern` but its type `{tyname}` is not a string"),
                    list_help("pattern"),
                );
            }
            self.check_pattern(src, span.clone(), &what, p);
        }
        if let Some(r) = field.range {
            if !numeric {
                let help = if ty.is_list() {
                    "for each item of the list write each = { range = [..] }".to_owned()
                } else {
                    "`range` applies to numbers; for lengths use bytes, chars or items".to_owned()
                };
                self.err(
                    src,
                    span.clone(),
                    format!("{what} has `range` but its type `{tyname}` is not a number"),
                    help,
                );
            }
            self.check_bounds(src, span.clone(), &what, "range", r[0], r[1]);
        }
        if let Some(i) = field.items {
            if !ty.is_list() {
                self.err(src, span.clone(), format!("{what} has `items` but its type `{tyname}` is not a list"), "`items` counts the entries of a `[T]` or `pipe[T]`; for a string's length use bytes or chars".to_owned());
            }
            self.check_bounds(src, span.clone(), &what, "items", i[0] as f64, i[1] as f64);
        }
        if let Some(values) = &field.values {
            self.check_values(project, src, span.clone(), &what, &ty, values);
        }
        if let Some(each) = &field.each {
            self.check_each(src, span.clone(), &what, &ty, each);
        }
        if let (Some(code), Some(known)) = (field.errcode, &self.known_errcodes)
            && !known.contains(&code)
        {
            self.err(
                src,
                span.clone(),
                format!("{what} names errcode {code}, which spec/errcodes.toml does not list"),
                "add it to spec/errcodes.toml, or fix the number".to_owned(),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_flatten_keys(
        &mut self,
        project: &Project,
        src: &Source,
        what: &str,
        span: Range<usize>,
        ty: &str,
        siblings: &indexmap::IndexMap<crate::spec::Name, Field>,
        self_name: &str,
    ) {
        let mut keys: Vec<String> = Vec::new();
        if let Some(m) = project.model(ty) {
            keys.extend(m.fields.keys().map(|k| k.get_ref().clone()));
        } else if let Some(u) = project.union_def(ty) {
            keys.push(u.tag.clone());
            for v in &u.variants {
                match u.style {
                    UnionStyle::Named => keys.push(v.value.get_ref().clone()),
                    UnionStyle::Internal => {
                        if let Some(m) = v.model.as_ref().and_then(|m| project.model(m.get_ref())) {
                            keys.extend(m.fields.keys().map(|k| k.get_ref().clone()));
                        }
                    }
                }
            }
        }
        for k in keys {
            if k != self_name && siblings.contains_key(k.as_str()) {
                self.err(
                    src,
                    span.clone(),
                    format!("{what} flattens `{ty}`, whose key `{k}` is also a field beside it"),
                    format!("rename or remove one of the two `{k}`"),
                );
            }
        }
    }

    fn check_bounds(
        &mut self,
        src: &Source,
        span: Range<usize>,
        what: &str,
        key: &str,
        min: f64,
        max: f64,
    ) {
        if min > max {
            self.err(
                src,
                span,
                format!("{what}: `{key} = [{min}, {max}]` has its minimum above its maximum"),
                format!("bounds are [min, max], inclusive: write {key} = [{max}, {min}]"),
            );
        }
    }

    fn check_pattern(&mut self, src: &Source, span: Range<usize>, what: &str, pattern: &str) {
        if let Err(e) = regex::Regex::new(pattern) {
            let detail = e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned();
            self.err(src, span, format!("pattern `{pattern}` of {what} does not compile: {detail}"), "write a Rust `regex` expression, anchored with ^...$ (in TOML, prefer a literal string '...' so backslashes stay as written)".to_owned());
        } else if !pattern.starts_with('^') || !pattern.ends_with('$') {
            self.err(
                src,
                span,
                format!("pattern `{pattern}` of {what} is not anchored"),
                format!(
                    "the whole value must match: write pattern = '^{}$'",
                    pattern.trim_start_matches('^').trim_end_matches('$')
                ),
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_values(
        &mut self,
        project: &Project,
        src: &Source,
        span: Range<usize>,
        what: &str,
        ty: &Ty,
        values: &[toml::Value],
    ) {
        if values.is_empty() {
            self.err(
                src,
                span,
                format!("{what} has an empty `values` list"),
                "list the allowed values, or remove `values`".to_owned(),
            );
            return;
        }
        enum Want<'a> {
            Str,
            Int,
            EnumOf(&'a str, EnumRepr, Vec<String>),
        }
        let want = match ty {
            Ty::Scalar(k) if k.is_text() => Want::Str,
            Ty::Scalar(k) if k.is_int() => Want::Int,
            Ty::Named(n) => match project.enum_def(n) {
                Some(e) => Want::EnumOf(
                    n,
                    e.repr,
                    e.values
                        .iter()
                        .map(|v| value_text(v.value.get_ref()))
                        .collect(),
                ),
                None => {
                    self.err(
                        src,
                        span,
                        format!(
                            "{what} has `values` but its type `{ty}` is a {}",
                            project.kind(n).map_or("type", TypeKind::describe)
                        ),
                        "`values` applies to strings, integers and enums".to_owned(),
                    );
                    return;
                }
            },
            _ => {
                self.err(
                    src,
                    span,
                    format!(
                        "{what} has `values` but its type `{ty}` is not a string, integer or enum"
                    ),
                    "`values` applies to strings, integers and enums; remove it".to_owned(),
                );
                return;
            }
        };
        for v in values {
            let (is_str, is_int) = (v.is_str(), v.is_integer());
            match &want {
                Want::Str if !is_str => self.err(
                    src,
                    span.clone(),
                    format!("{what} is a string but `values` has {}", value_text(v)),
                    format!(
                        "write it as a string: \"{}\"",
                        value_text(v).trim_matches('"')
                    ),
                ),
                Want::Int if !is_int => self.err(
                    src,
                    span.clone(),
                    format!("{what} is an integer but `values` has {}", value_text(v)),
                    format!(
                        "write it as an integer: {}",
                        value_text(v).trim_matches('"')
                    ),
                ),
                Want::EnumOf(n, repr, known) => {
                    let repr_ok = match repr {
                        EnumRepr::String => is_str,
                        EnumRepr::Int => is_int,
                    };
                    if !repr_ok {
                        let (kind, example) = match repr {
                            EnumRepr::String => (
                                "strings",
                                format!("\"{}\"", value_text(v).trim_matches('"')),
                            ),
                            EnumRepr::Int => {
                                let text = value_text(v);
                                let bare = text.trim_matches('"');
                                let example = if bare.parse::<i64>().is_ok() {
                                    bare.to_owned()
                                } else {
                                    format!("one of its values: {}", known.join(", "))
                                };
                                ("integers", example)
                            }
                        };
                        self.err(src, span.clone(), format!("{what}: value {} does not match enum `{n}`, whose values are {kind}", value_text(v)), format!("write {example}"));
                    } else if !known.contains(&value_text(v)) {
                        self.err(
                            src,
                            span.clone(),
                            format!(
                                "{what}: value {} is not a value of enum `{n}`",
                                value_text(v)
                            ),
                            format!("allowed: {}", known.join(", ")),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn check_each(
        &mut self,
        src: &Source,
        span: Range<usize>,
        what: &str,
        ty: &Ty,
        each: &ItemConstraints,
    ) {
        if !ty.is_list() {
            self.err(src, span, format!("{what} has `each` but its type `{ty}` is not a list"), "`each` constrains the items of a `[T]` or `pipe[T]`: put the constraints on the field itself".to_owned());
            return;
        }
        let item = ty.item();
        let text = item.scalar().is_some_and(Scalar::is_text);
        let numeric = item.scalar().is_some_and(Scalar::is_numeric);
        for (key, present, ok, bounds) in [
            (
                "bytes",
                each.bytes.is_some(),
                text,
                each.bytes.map(|b| [b[0] as f64, b[1] as f64]),
            ),
            (
                "chars",
                each.chars.is_some(),
                text,
                each.chars.map(|b| [b[0] as f64, b[1] as f64]),
            ),
            ("pattern", each.pattern.is_some(), text, None),
            ("range", each.range.is_some(), numeric, each.range),
        ] {
            if present && !ok {
                self.err(
                    src,
                    span.clone(),
                    format!(
                        "{what} has each.{key} but its items `{item}` are not {}",
                        if key == "range" { "numbers" } else { "strings" }
                    ),
                    format!("remove each.{key}"),
                );
            }
            if let Some([min, max]) = bounds {
                self.check_bounds(src, span.clone(), what, &format!("each.{key}"), min, max);
            }
        }
        if let Some(p) = &each.pattern {
            self.check_pattern(src, span.clone(), what, p);
        }
        if let (Some(code), Some(known)) = (each.errcode, &self.known_errcodes)
            && !known.contains(&code)
        {
            self.err(
                src,
                span,
                format!(
                    "{what} names errcode {code} in `each`, which spec/errcodes.toml does not list"
                ),
                "add it to spec/errcodes.toml, or fix the number".to_owned(),
            );
        }
    }

    fn check_rules(
        &mut self,
        project: &Project,
        src: &Source,
        ctx: &str,
        span: Range<usize>,
        rules: &[Rule],
        tables: &[&indexmap::IndexMap<crate::spec::Name, Field>],
    ) {
        let find = |n: &str| tables.iter().find_map(|t| t.get(n));
        let all_names: Vec<&str> = tables
            .iter()
            .flat_map(|t| t.keys().map(|k| k.get_ref().as_str()))
            .collect();
        for rule in rules {
            let (kind, fields) = match (&rule.at_least_one_of, &rule.same_length) {
                (Some(f), None) => ("at_least_one_of", f),
                (None, Some(f)) => ("same_length", f),
                _ => {
                    self.err(src, span.clone(), format!("a rule of {ctx} must have exactly one of at_least_one_of and same_length"), "write one rule per table: rules = [{ at_least_one_of = [\"a\", \"b\"] }]".to_owned());
                    continue;
                }
            };
            if fields.len() < 2 {
                self.err(
                    src,
                    span.clone(),
                    format!("rule {kind} of {ctx} names fewer than two fields"),
                    "a rule relates two or more fields; for one field use required = true"
                        .to_owned(),
                );
            }
            for f in fields {
                match find(f) {
                    None => {
                        let help = match names::closest(f, all_names.iter().copied()) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => format!("fields of {ctx}: {}", all_names.join(", ")),
                        };
                        let at = src
                            .find_after(span.start, &format!("\"{f}\""))
                            .unwrap_or(span.clone());
                        self.err(
                            src,
                            at,
                            format!("rule {kind} of {ctx} names unknown field `{f}`"),
                            help,
                        );
                    }
                    Some(field) if kind == "same_length" => {
                        if !Ty::parse(field.ty.get_ref()).is_ok_and(|t| t.is_list()) {
                            self.err(
                                src,
                                span.clone(),
                                format!(
                                    "rule same_length of {ctx} names `{f}`, which is not a list"
                                ),
                                "same_length compares `[T]` or `pipe[T]` fields".to_owned(),
                            );
                        }
                    }
                    Some(field) => {
                        if field.flatten {
                            self.err(
                                src,
                                span.clone(),
                                format!(
                                    "rule at_least_one_of of {ctx} names flattened field `{f}`"
                                ),
                                "a flattened field is always present; name other fields".to_owned(),
                            );
                        }
                    }
                }
            }
            if let (Some(code), Some(known)) = (rule.errcode, &self.known_errcodes)
                && !known.contains(&code)
            {
                self.err(src, span.clone(), format!("a rule of {ctx} names errcode {code}, which spec/errcodes.toml does not list"), "add it to spec/errcodes.toml, or fix the number".to_owned());
            }
            let _ = project;
        }
    }

    fn check_enum(&mut self, src: &Source, name: &str, span: Range<usize>, e: &crate::spec::Enum) {
        if e.values.is_empty() {
            self.err(
                src,
                span.clone(),
                format!("enum `{name}` has no values"),
                "list them: values = [{ value = \"a\", name = \"A\" }]".to_owned(),
            );
        }
        let mut seen_values: HashMap<String, Range<usize>> = HashMap::new();
        let mut seen_names: HashSet<&str> = HashSet::new();
        for v in &e.values {
            let vspan = v.value.span();
            let val = v.value.get_ref();
            match e.repr {
                EnumRepr::String if !val.is_str() => self.err(
                    src,
                    vspan.clone(),
                    format!(
                        "value {} of enum `{name}` is not a string, but its repr is \"string\"",
                        value_text(val)
                    ),
                    format!(
                        "write value = \"{}\", or repr = \"int\"",
                        value_text(val).trim_matches('"')
                    ),
                ),
                EnumRepr::Int if !val.is_integer() => self.err(
                    src,
                    vspan.clone(),
                    format!(
                        "value {} of enum `{name}` is not an integer, but its repr is \"int\"",
                        value_text(val)
                    ),
                    format!(
                        "write value = {}, or repr = \"string\"",
                        value_text(val).trim_matches('"')
                    ),
                ),
                _ => {}
            }
            let text = value_text(val);
            if let Some(prev) = seen_values.get(&text) {
                self.err(
                    src,
                    vspan.clone(),
                    format!(
                        "duplicate value {text} in enum `{name}` (first at {})",
                        src.at(prev.clone())
                    ),
                    "remove one".to_owned(),
                );
            }
            seen_values.insert(text, vspan.clone());
            if !names::is_pascal(&v.name) || v.name == "Unknown" {
                let why = if v.name == "Unknown" {
                    "is reserved for values this SDK does not know"
                } else {
                    "is not PascalCase"
                };
                self.err(
                    src,
                    vspan.clone(),
                    format!("variant name `{}` of enum `{name}` {why}", v.name),
                    format!(
                        "write name = \"{}\"",
                        if v.name == "Unknown" {
                            "UnknownValue".to_owned()
                        } else {
                            names::to_pascal(&v.name)
                        }
                    ),
                );
            }
            if !seen_names.insert(&v.name) {
                self.err(
                    src,
                    vspan,
                    format!("duplicate variant name `{}` in enum `{name}`", v.name),
                    "give each value its own name".to_owned(),
                );
            }
        }
    }

    fn check_union(
        &mut self,
        project: &Project,
        src: &Source,
        name: &str,
        span: Range<usize>,
        u: &crate::spec::Union,
    ) {
        if u.tag.is_empty() {
            self.err(
                src,
                span.clone(),
                format!("union `{name}` has an empty tag"),
                "name the tag key, e.g. tag = \"msgtype\"".to_owned(),
            );
        }
        if u.variants.is_empty() {
            self.err(
                src,
                span.clone(),
                format!("union `{name}` has no variants"),
                "list them: variants = [{ value = \"text\", model = \"Text\" }]".to_owned(),
            );
        }
        let mut values: HashSet<&str> = HashSet::new();
        let mut vnames: HashSet<String> = HashSet::new();
        let mut models: HashMap<&str, usize> = HashMap::new();
        for v in &u.variants {
            let val = v.value.get_ref().as_str();
            if !values.insert(val) {
                self.err(
                    src,
                    v.value.span(),
                    format!("duplicate tag value `{val}` in union `{name}`"),
                    "remove one".to_owned(),
                );
            }
            let vname = v.name.clone().unwrap_or_else(|| names::to_pascal(val));
            if !names::is_pascal(&vname) || vname == "Unknown" {
                self.err(
                    src,
                    v.value.span(),
                    format!("variant name `{vname}` of union `{name}` is not usable"),
                    "set name = \"PascalCaseName\" on the variant (`Unknown` is reserved)"
                        .to_owned(),
                );
            }
            if !vnames.insert(vname.clone()) {
                self.err(
                    src,
                    v.value.span(),
                    format!("duplicate variant name `{vname}` in union `{name}`"),
                    "set distinct name = \"...\" on the variants".to_owned(),
                );
            }
            if let Some(m) = &v.model {
                let mname = m.get_ref().as_str();
                *models.entry(mname).or_default() += 1;
                match project.kind(mname) {
                    Some(TypeKind::Model) => {
                        if u.style == UnionStyle::Internal
                            && let Some(model) = project.model(mname)
                            && model.fields.contains_key(u.tag.as_str())
                        {
                            self.err(src, m.span(), format!("model `{mname}` of union `{name}` has a field named like the tag `{}`", u.tag), "the tag is written by the union: remove the field from the model".to_owned());
                        }
                    }
                    Some(TypeKind::Union) if u.style == UnionStyle::Internal && project.union_def(mname).is_some_and(|inner| inner.tag == u.tag) => self.err(
                        src,
                        m.span(),
                        format!("variant `{val}` of union `{name}` holds union `{mname}`, which has the same tag `{}`", u.tag),
                        "the two tags would collide in one object: give the inner union another tag, or use style = \"named\"".to_owned(),
                    ),
                    Some(TypeKind::Union) => {}
                    Some(k) => self.err(
                        src,
                        m.span(),
                        format!(
                            "variant `{val}` of union `{name}` holds `{mname}`, a {}",
                            k.describe()
                        ),
                        "a variant's content is an object: declare [model.X] with the fields (or name a union)"
                            .to_owned(),
                    ),
                    None => {
                        let help =
                            match names::closest(mname, project.types.keys().map(String::as_str)) {
                                Some(c) => format!("did you mean `{c}`?"),
                                None => format!("declare [model.{mname}] in any spec file"),
                            };
                        self.err(
                            src,
                            m.span(),
                            format!("unknown model `{mname}` in variant `{val}` of union `{name}`"),
                            help,
                        );
                    }
                }
            }
        }
    }

    /// A model or union holding itself by value (not through a list) has infinite size.
    fn check_cycles(&mut self, project: &Project) {
        let mut edges: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
        for unit in &project.files {
            for (name, m) in &unit.spec.model {
                for (fname, f) in &m.fields {
                    if let Ok(Ty::Named(t)) = Ty::parse(f.ty.get_ref())
                        && let Some(decl) = project.types.get_key_value(t.as_str())
                        && decl.1.kind != TypeKind::Enum(EnumRepr::String)
                        && decl.1.kind != TypeKind::Enum(EnumRepr::Int)
                    {
                        edges
                            .entry(name.get_ref())
                            .or_default()
                            .push((decl.0.as_str(), format!("field `{fname}`")));
                    }
                }
            }
            for (name, u) in &unit.spec.union {
                for v in &u.variants {
                    if let Some(m) = &v.model
                        && let Some((k, _)) = project.types.get_key_value(m.get_ref().as_str())
                    {
                        edges
                            .entry(name.get_ref())
                            .or_default()
                            .push((k.as_str(), format!("variant `{}`", v.value)));
                    }
                }
            }
        }
        let mut reported: HashSet<&str> = HashSet::new();
        for &start in edges.keys() {
            let mut stack: Vec<(&str, Vec<String>)> = vec![(start, vec![])];
            let mut visited: HashSet<&str> = HashSet::new();
            while let Some((node, path)) = stack.pop() {
                for (next, via) in edges.get(node).map(Vec::as_slice).unwrap_or_default() {
                    let mut p = path.clone();
                    p.push(format!("{node}.{via} -> {next}"));
                    if *next == start {
                        if reported.insert(start) {
                            let decl = &project.types[start];
                            let src = &project.files[decl.file].src;
                            self.err(
                                src,
                                decl.span.clone(),
                                format!(
                                    "`{start}` contains itself ({}), which has no finite size",
                                    p.join(", ")
                                ),
                                "make one of the fields on that path a list `[T]`".to_owned(),
                            );
                        }
                    } else if visited.insert(next) {
                        stack.push((next, p));
                    }
                }
            }
        }
    }
}

/// The `{name}` placeholders of a path.
fn placeholders(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// A TOML value as written in TOML (strings quoted).
pub(crate) fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The Rust field name of a spec field.
pub(crate) fn rust_ident(wire: &str, field: &Field) -> String {
    field
        .rust_name
        .clone()
        .unwrap_or_else(|| names::to_snake(wire))
}
