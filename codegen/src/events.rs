//! Callback messages and events declared in `spec/events.toml`: the format, its checks and the
//! Rust it becomes (`<crate_dir>/src/generated/events.rs`: the types users match on, their
//! parsing, their names and their XML rendering).
//!
//! ```toml
//! [callback]
//! crate_dir = "crates/callback"
//!
//! [[event]]
//! event = "click"                 # the `Event` value
//! variant = "Click"               # EventKind::Click
//! doc = "A menu `click` button."
//! doc_url = "https://developer.work.weixin.qq.com/document/path/90240"
//! [[event.field]]
//! xml = "EventKey"                # the XML element
//! name = "event_key"              # the Rust field (default: snake_case of `xml`)
//! type = "string"
//! doc = "The button's key."
//! ```
//!
//! `[[message]]` declares a `MsgType` (a `MessageBody` variant) the same way with `msg_type`.
//! An event either lists its fields (a struct variant; none: a unit variant), or `wraps` a
//! `[[record]]` (a tuple variant; `element = "BatchJob"` reads it from that child element), or
//! is split by `ChangeType`: `changes = "ContactChange"` and one `[[event.change]]` per value.
//!
//! Field types: `string` (absent: empty), `integer` (`i64`, absent: 0), `float` (`f64`),
//! `element` (kept as an XML tree), `rest` (every child element no other field names, in order),
//! a `[[record]]` name (a nested element), and `list` of `item = "string" | "integer" | <record>`,
//! either `delimiter = ","` (one element's text, split) or `each = "item"` (the repeated children
//! of the element; `text = "PicMd5Sum"` reads each item's child instead of its own text).
//! `optional = true` makes a field `Option<T>` (absent: `None`); `required = true` makes an
//! absent scalar or element unreadable (the callback becomes `Inbound::Unknown`).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Source};
use crate::names;

/// A name with its position in the file.
type Name = Spanned<String>;

/// `spec/events.toml`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsFile {
    /// Where the generated code goes.
    pub callback: Target,
    /// Inbound messages, by `MsgType`.
    #[serde(default)]
    pub message: Vec<Variant>,
    /// Events (`MsgType=event`), by `Event`.
    #[serde(default)]
    pub event: Vec<Variant>,
    /// Structs shared by events and fields (nested elements, or an event's fields).
    #[serde(default)]
    pub record: Vec<Record>,
}

/// `[callback]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The crate receiving `src/generated/events.rs`.
    pub crate_dir: String,
}

/// A message type, an event or a change type.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// `MsgType` value (messages only).
    #[schemars(with = "Option<String>")]
    pub msg_type: Option<Name>,
    /// `Event` value (events only).
    #[schemars(with = "Option<String>")]
    pub event: Option<Name>,
    /// `ChangeType` value (changes only).
    #[schemars(with = "Option<String>")]
    pub change_type: Option<Name>,
    /// The Rust variant name.
    #[schemars(with = "String")]
    pub variant: Name,
    /// What it means.
    pub doc: String,
    /// WeCom's page describing it.
    pub doc_url: Option<String>,
    /// Its fields (a struct variant).
    #[serde(default)]
    pub field: Vec<Field>,
    /// A record holding its fields (a tuple variant).
    #[schemars(with = "Option<String>")]
    pub wraps: Option<Name>,
    /// With `wraps`: the child element the record is read from (default: the root).
    pub element: Option<String>,
    /// With `wraps`: `Box` the record (large records).
    #[serde(default)]
    pub boxed: bool,
    /// Events only: the enum of its `ChangeType` values.
    #[schemars(with = "Option<String>")]
    pub changes: Option<Name>,
    /// Events only: the `ChangeType` values.
    #[serde(default)]
    pub change: Vec<Variant>,
}

/// `[[record]]`: a struct.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The Rust type name.
    #[schemars(with = "String")]
    pub name: Name,
    /// What it is.
    pub doc: String,
    /// Its fields.
    #[serde(default)]
    pub field: Vec<Field>,
}

/// One field.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The XML element name.
    #[schemars(with = "String")]
    pub xml: Name,
    /// The Rust field name (default: snake_case of `xml`).
    #[schemars(with = "Option<String>")]
    pub name: Option<Name>,
    /// See the module docs.
    #[serde(rename = "type")]
    #[schemars(with = "String")]
    pub ty: Name,
    /// `list` only: the item type.
    #[schemars(with = "Option<String>")]
    pub item: Option<Name>,
    /// `list` only: the separator of a list written in one element.
    pub delimiter: Option<String>,
    /// `list` only: the repeated child element.
    pub each: Option<String>,
    /// `list` with `each` only: read this child of each item.
    pub text: Option<String>,
    /// `Option<T>`.
    #[serde(default)]
    pub optional: bool,
    /// Absent = unreadable.
    #[serde(default)]
    pub required: bool,
    /// What it means.
    pub doc: String,
}

impl Field {
    fn rust_name(&self) -> String {
        self.name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| names::to_snake(self.xml.get_ref()))
    }
}

/// Header elements every callback has (never part of `rest`).
const HEADER: &[&str] = &[
    "ToUserName",
    "FromUserName",
    "CreateTime",
    "MsgType",
    "Event",
    "ChangeType",
    "AgentID",
    "MsgId",
];

const SCALARS: &[&str] = &["string", "integer", "float", "element", "rest", "list"];

/// Parses and checks `spec/events.toml`.
pub(crate) fn load(path: &str, text: &str) -> Result<(Source, EventsFile), Vec<Diagnostic>> {
    let src = Source::new(path, text);
    let file: EventsFile = toml::from_str(text).map_err(|e| {
        vec![src.diag(
            e.span().unwrap_or(0..0),
            e.message().trim().to_owned(),
            None,
        )]
    })?;
    let diags = check(&src, &file);
    if diags.is_empty() {
        Ok((src, file))
    } else {
        Err(diags)
    }
}

fn check(src: &Source, file: &EventsFile) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let records: HashMap<&str, &Record> = file
        .record
        .iter()
        .map(|r| (r.name.get_ref().as_str(), r))
        .collect();
    let mut seen: HashMap<String, std::ops::Range<usize>> = HashMap::new();
    let mut dup = |d: &mut Vec<Diagnostic>, what: &str, name: &Name| {
        let key = format!("{what} `{}`", name.get_ref());
        if let Some(first) = seen.get(&key) {
            d.push(src.diag(
                name.span(),
                format!("{key} is declared twice"),
                Some(format!(
                    "first declared at {}; remove one or rename it",
                    src.at(first.clone())
                )),
            ));
        } else {
            seen.insert(key, name.span());
        }
    };
    for r in &file.record {
        dup(&mut d, "type", &r.name);
        if !names::is_pascal(r.name.get_ref()) {
            d.push(src.diag(
                r.name.span(),
                format!("record name `{}` is not PascalCase", r.name.get_ref()),
                Some(format!("write `{}`", names::to_pascal(r.name.get_ref()))),
            ));
        }
        check_fields(src, &r.field, &records, &mut d);
    }
    let check_variant = |v: &Variant, d: &mut Vec<Diagnostic>| {
        if !names::is_pascal(v.variant.get_ref()) {
            d.push(src.diag(
                v.variant.span(),
                format!("variant `{}` is not PascalCase", v.variant.get_ref()),
                Some(format!("write `{}`", names::to_pascal(v.variant.get_ref()))),
            ));
        }
        check_fields(src, &v.field, &records, d);
        if let Some(w) = &v.wraps {
            if !v.field.is_empty() {
                d.push(src.diag(
                    w.span(),
                    "`wraps` and `[[...field]]` together",
                    Some("declare the fields in the record, or drop `wraps`".into()),
                ));
            }
            if !records.contains_key(w.get_ref().as_str()) {
                d.push(
                    src.diag(
                        w.span(),
                        format!("`wraps` names no record: `{}`", w.get_ref()),
                        closest(w.get_ref(), records.keys().copied())
                            .or(Some("declare it as a `[[record]]`".into())),
                    ),
                );
            }
        } else if v.element.is_some() || v.boxed {
            d.push(src.diag(v.variant.span(), "`element` and `boxed` need `wraps`", None));
        }
    };
    for m in &file.message {
        match &m.msg_type {
            Some(t) => dup(&mut d, "message type", t),
            None => d.push(src.diag(
                m.variant.span(),
                "a `[[message]]` needs `msg_type`",
                Some("add `msg_type = \"text\"` (the MsgType value)".into()),
            )),
        }
        dup(&mut d, "message variant", &m.variant);
        check_variant(m, &mut d);
    }
    for e in &file.event {
        match &e.event {
            Some(t) => dup(&mut d, "event", t),
            None => d.push(src.diag(
                e.variant.span(),
                "an `[[event]]` needs `event`",
                Some("add `event = \"click\"` (the Event value)".into()),
            )),
        }
        dup(&mut d, "event variant", &e.variant);
        check_variant(e, &mut d);
        match (&e.changes, e.change.is_empty()) {
            (Some(c), true) => d.push(src.diag(
                c.span(),
                "`changes` without any `[[event.change]]`",
                Some("add one `[[event.change]]` per ChangeType value".into()),
            )),
            (None, false) => d.push(src.diag(
                e.variant.span(),
                "`[[event.change]]` without `changes`",
                Some("name the enum: `changes = \"ContactChange\"`".into()),
            )),
            _ => {}
        }
        if let Some(c) = &e.changes {
            dup(&mut d, "type", c);
        }
        let mut local: HashMap<String, std::ops::Range<usize>> = HashMap::new();
        let mut variants: HashMap<String, std::ops::Range<usize>> = HashMap::new();
        for c in &e.change {
            if let Some(first) = variants.insert(c.variant.get_ref().clone(), c.variant.span()) {
                d.push(src.diag(
                    c.variant.span(),
                    format!("change variant `{}` is declared twice", c.variant.get_ref()),
                    Some(format!("first declared at {}", src.at(first))),
                ));
            }
            match &c.change_type {
                Some(t) => {
                    if let Some(first) = local.insert(t.get_ref().clone(), t.span()) {
                        d.push(src.diag(
                            t.span(),
                            format!("change type `{}` is declared twice", t.get_ref()),
                            Some(format!("first declared at {}", src.at(first))),
                        ));
                    }
                }
                None => d.push(src.diag(
                    c.variant.span(),
                    "a `[[event.change]]` needs `change_type`",
                    None,
                )),
            }
            check_variant(c, &mut d);
        }
    }
    d
}

fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names::closest(wanted, candidates).map(|c| format!("did you mean `{c}`?"))
}

fn check_fields(
    src: &Source,
    fields: &[Field],
    records: &HashMap<&str, &Record>,
    d: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<String, std::ops::Range<usize>> = HashMap::new();
    for f in fields {
        let name = f.rust_name();
        let at = f.name.as_ref().map_or(f.xml.span(), |n| n.span());
        if !names::is_snake(&name) || names::is_keyword(&name) {
            d.push(src.diag(
                at.clone(),
                format!("field name `{name}` is not a usable snake_case name"),
                Some("set `name = \"...\"`".into()),
            ));
        }
        if let Some(first) = seen.insert(name.clone(), at.clone()) {
            d.push(src.diag(
                at,
                format!("field `{name}` is declared twice"),
                Some(format!("first declared at {}", src.at(first))),
            ));
        }
        let ty = f.ty.get_ref().as_str();
        let known = |t: &str| SCALARS.contains(&t) || records.contains_key(t);
        if !known(ty) {
            let all = SCALARS.iter().copied().chain(records.keys().copied());
            d.push(src.diag(
                f.ty.span(),
                format!("unknown type `{ty}`"),
                closest(ty, all).or(Some(format!(
                    "a type is one of {} or a `[[record]]` name",
                    SCALARS.join(", ")
                ))),
            ));
            continue;
        }
        let is_list = ty == "list";
        if is_list {
            match &f.item {
                None => d.push(src.diag(
                    f.ty.span(),
                    "a `list` needs `item`",
                    Some("add `item = \"string\"` (or \"integer\", or a record)".into()),
                )),
                Some(item) => {
                    let it = item.get_ref().as_str();
                    let scalar = it == "string" || it == "integer";
                    if !scalar && !records.contains_key(it) {
                        d.push(
                            src.diag(
                                item.span(),
                                format!("unknown list item type `{it}`"),
                                closest(
                                    it,
                                    ["string", "integer"]
                                        .into_iter()
                                        .chain(records.keys().copied()),
                                ),
                            ),
                        );
                    } else if !scalar && f.each.is_none() {
                        d.push(src.diag(
                            item.span(),
                            "a list of records needs `each` (the repeated child element)",
                            None,
                        ));
                    }
                }
            }
            match (&f.delimiter, &f.each) {
                (None, None) => d.push(src.diag(
                    f.ty.span(),
                    "a `list` needs `delimiter` (one element, split) or `each` (repeated children)",
                    None,
                )),
                (Some(_), Some(_)) => d.push(src.diag(
                    f.ty.span(),
                    "`delimiter` and `each` together",
                    Some("keep the one matching WeCom's XML".into()),
                )),
                _ => {}
            }
            if f.each.is_some() && f.optional {
                d.push(src.diag(
                    f.ty.span(),
                    "a list of repeated children cannot be `optional` (absent = empty)",
                    None,
                ));
            }
        } else if f.item.is_some() || f.delimiter.is_some() || f.each.is_some() {
            d.push(src.diag(
                f.ty.span(),
                "`item`, `delimiter` and `each` only go with `type = \"list\"`",
                None,
            ));
        }
        if f.text.is_some() && f.each.is_none() {
            d.push(src.diag(f.ty.span(), "`text` only goes with `each`", None));
        }
        if f.optional && f.required {
            d.push(src.diag(
                f.ty.span(),
                "`optional` and `required` together",
                Some("keep one".into()),
            ));
        }
        if records.contains_key(ty) && (f.optional || f.required) {
            d.push(src.diag(
                f.ty.span(),
                "a record field is never absent (absent = its defaults): drop `optional`/`required`",
                None,
            ));
        }
        if (ty == "rest" || ty == "string" || is_list) && f.required {
            d.push(src.diag(
                f.ty.span(),
                format!("`required` does not apply to `{ty}` (absent = empty)"),
                None,
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Emitting

struct Emit<'a> {
    records: HashMap<&'a str, &'a Record>,
    out: String,
}

/// Rust source of `generated/events.rs` (not yet formatted).
pub(crate) fn emit(file: &EventsFile) -> String {
    let mut e = Emit {
        records: file
            .record
            .iter()
            .map(|r| (r.name.get_ref().as_str(), r))
            .collect(),
        out: String::new(),
    };
    e.out.push_str(
        "//! Callback messages and events declared in `spec/events.toml`: types, parsing, names \
         and XML rendering.\n\nuse crate::event::rt;\nuse crate::event::rt::Fields;\n\n",
    );
    e.body_enum(
        "MessageBody",
        "The content of an inbound message, by `MsgType`.",
        &file.message,
        Kind::Message,
        false,
    );
    e.body_enum(
        "EventKind",
        "Events by their `Event` value.",
        &file.event,
        Kind::Event,
        true,
    );
    for ev in &file.event {
        if let Some(c) = &ev.changes {
            let doc = format!(
                "`{}`, by `ChangeType`.",
                ev.event.as_ref().map_or("", |n| n.get_ref())
            );
            e.body_enum(c.get_ref(), &doc, &ev.change, Kind::Change, false);
        }
    }
    for r in &file.record {
        e.record(r);
    }
    e.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Message,
    Event,
    Change,
}

fn doc_attr(text: &str) -> String {
    let mut s = String::new();
    for line in text.trim_end().lines() {
        let line = line.trim_end();
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        let _ = writeln!(s, "#[doc = {line:?}]");
    }
    s
}

impl Emit<'_> {
    fn has_float_ty(&self, ty: &str, item: Option<&str>, seen: &mut BTreeSet<String>) -> bool {
        match ty {
            "float" => true,
            "list" => item.is_some_and(|i| self.has_float_ty(i, None, seen)),
            other => match self.records.get(other) {
                Some(r) if seen.insert(other.to_owned()) => r.field.iter().any(|f| {
                    self.has_float_ty(
                        f.ty.get_ref(),
                        f.item.as_ref().map(|i| i.get_ref().as_str()),
                        seen,
                    )
                }),
                _ => false,
            },
        }
    }

    fn fields_have_float(&self, fields: &[Field]) -> bool {
        fields.iter().any(|f| {
            self.has_float_ty(
                f.ty.get_ref(),
                f.item.as_ref().map(|i| i.get_ref().as_str()),
                &mut BTreeSet::new(),
            )
        })
    }

    fn variants_have_float(&self, vs: &[Variant]) -> bool {
        vs.iter().any(|v| {
            self.fields_have_float(&v.field)
                || v.wraps
                    .as_ref()
                    .is_some_and(|w| self.has_float_ty(w.get_ref(), None, &mut BTreeSet::new()))
                || self.variants_have_float(&v.change)
        })
    }

    fn rust_ty(&self, f: &Field) -> String {
        let item = |i: &str| match i {
            "string" => "String".to_owned(),
            "integer" => "i64".to_owned(),
            other => other.to_owned(),
        };
        let base = match f.ty.get_ref().as_str() {
            "string" => "String".to_owned(),
            "integer" => "i64".to_owned(),
            "float" => "f64".to_owned(),
            "element" => "crate::xml::Element".to_owned(),
            "rest" => "Vec<crate::xml::Element>".to_owned(),
            "list" => format!(
                "Vec<{}>",
                item(f.item.as_ref().map_or("string", |i| i.get_ref()))
            ),
            other => other.to_owned(),
        };
        if f.optional {
            format!("Option<{base}>")
        } else {
            base
        }
    }

    fn field_doc(f: &Field) -> String {
        if f.ty.get_ref() == "rest" {
            return doc_attr(&f.doc);
        }
        doc_attr(&format!("`{}`: {}", f.xml.get_ref(), f.doc))
    }

    fn variant_doc(v: &Variant) -> String {
        let value = v
            .msg_type
            .as_ref()
            .or(v.event.as_ref())
            .or(v.change_type.as_ref())
            .map_or(String::new(), |n| n.get_ref().clone());
        let mut text = format!("`{value}`: {}", v.doc);
        if let Some(url) = &v.doc_url {
            let _ = write!(text, "\n\nWeCom: <{url}>");
        }
        doc_attr(&text)
    }

    fn body_enum(
        &mut self,
        name: &str,
        doc: &str,
        vs: &[Variant],
        kind: Kind,
        non_exhaustive: bool,
    ) {
        let eq = if self.variants_have_float(vs) {
            ""
        } else {
            ", Eq"
        };
        let mut s = doc_attr(doc);
        let _ = writeln!(s, "#[derive(Debug, Clone, PartialEq{eq})]");
        if non_exhaustive {
            s.push_str("#[non_exhaustive]\n");
        }
        let _ = writeln!(s, "pub enum {name} {{");
        for v in vs {
            s.push_str(&Self::variant_doc(v));
            let vn = v.variant.get_ref();
            if let Some(w) = &v.wraps {
                let inner = if v.boxed {
                    format!("Box<{}>", w.get_ref())
                } else {
                    w.get_ref().clone()
                };
                let _ = writeln!(s, "{vn}({inner}),");
            } else if let Some(c) = &v.changes {
                let _ = writeln!(s, "{vn}({}),", c.get_ref());
            } else if v.field.is_empty() {
                let _ = writeln!(s, "{vn},");
            } else {
                let _ = writeln!(s, "{vn} {{");
                for f in &v.field {
                    s.push_str(&Self::field_doc(f));
                    let _ = writeln!(s, "{}: {},", f.rust_name(), self.rust_ty(f));
                }
                s.push_str("},\n");
            }
        }
        s.push_str("}\n\n");

        // Parsing, name, rendering.
        let (value_fn, value_doc, disc) = match kind {
            Kind::Message => ("msg_type", "The `MsgType` value.", "MsgType"),
            Kind::Event => (
                "name",
                "The `Event` value (e.g. `click`, `LOCATION`).",
                "Event",
            ),
            Kind::Change => ("change_type", "The `ChangeType` value.", "ChangeType"),
        };
        let value_of = |v: &Variant| {
            v.msg_type
                .as_ref()
                .or(v.event.as_ref())
                .or(v.change_type.as_ref())
                .map_or(String::new(), |n| n.get_ref().clone())
        };
        let _ = writeln!(s, "impl {name} {{");
        // parse
        let _ = writeln!(
            s,
            "/// Reads the variant named by the callback's `{disc}` (`None`: not declared in the spec).\n\
             pub(crate) fn parse(f: &Fields<'_, '_>) -> Result<Option<Self>, rt::Bad> {{\n\
             Ok(Some(match f.text_of({disc:?}).unwrap_or_default() {{"
        );
        for v in vs {
            let vn = v.variant.get_ref();
            let _ = write!(s, "{:?} => ", value_of(v));
            if let Some(w) = &v.wraps {
                let from = match &v.element {
                    Some(el) => format!("&f.child({el:?})"),
                    None => "f".to_owned(),
                };
                let read = format!("{}::parse({from})?", w.get_ref());
                let read = if v.boxed {
                    format!("Box::new({read})")
                } else {
                    read
                };
                let _ = writeln!(s, "{name}::{vn}({read}),");
            } else if let Some(c) = &v.changes {
                let _ = writeln!(
                    s,
                    "match {}::parse(f)? {{ Some(c) => {name}::{vn}(c), None => return Ok(None) }},",
                    c.get_ref()
                );
            } else if v.field.is_empty() {
                let _ = writeln!(s, "{name}::{vn},");
            } else {
                let _ = writeln!(s, "{name}::{vn} {{");
                let known = known_names(&v.field);
                for f in &v.field {
                    let _ = writeln!(s, "{}: {},", f.rust_name(), self.parse_expr(f, &known));
                }
                s.push_str("},\n");
            }
        }
        s.push_str("_ => return Ok(None),\n}))\n}\n\n");
        // name
        let _ = writeln!(
            s,
            "#[doc = {value_doc:?}]\npub fn {value_fn}(&self) -> &'static str {{\nmatch self {{"
        );
        for v in vs {
            let unit = v.field.is_empty() && v.wraps.is_none() && v.changes.is_none();
            let rest = if unit { "" } else { " { .. }" };
            let _ = writeln!(
                s,
                "{name}::{}{rest} => {:?},",
                v.variant.get_ref(),
                value_of(v)
            );
        }
        s.push_str("}\n}\n\n");
        // event_key
        if kind == Kind::Event {
            s.push_str("/// The `EventKey`, for events that carry one.\npub fn event_key(&self) -> Option<&str> {\n#[allow(unreachable_patterns)]\nmatch self {\n");
            for v in vs {
                let vn = v.variant.get_ref();
                let own = v.field.iter().any(is_event_key);
                let wrapped = v.wraps.as_ref().is_some_and(|w| {
                    v.element.is_none()
                        && self
                            .records
                            .get(w.get_ref().as_str())
                            .is_some_and(|r| r.field.iter().any(is_event_key))
                });
                if own {
                    let _ = writeln!(s, "{name}::{vn} {{ event_key, .. }} => Some(event_key),");
                } else if wrapped {
                    let _ = writeln!(s, "{name}::{vn}(inner) => Some(&inner.event_key),");
                }
            }
            s.push_str("_ => None,\n}\n}\n\n");
        }
        // render
        let _ = writeln!(
            s,
            "/// Writes {} this variant's fields as WeCom's XML.\n\
             pub(crate) fn write_xml(&self, out: &mut String) {{",
            if kind == Kind::Message {
                "(after the `MsgType` the caller wrote)".to_owned()
            } else {
                format!("the `{disc}` element and")
            }
        );
        if kind != Kind::Message {
            let _ = writeln!(s, "rt::push_cdata(out, {disc:?}, self.{value_fn}());");
        }
        s.push_str("match self {\n");
        for v in vs {
            let vn = v.variant.get_ref();
            if v.wraps.is_some() {
                match &v.element {
                    Some(el) => {
                        let _ = writeln!(
                            s,
                            "{name}::{vn}(inner) => {{ rt::open_tag(out, {el:?}); inner.write_fields(out); rt::close_tag(out, {el:?}); }}"
                        );
                    }
                    None => {
                        let _ = writeln!(s, "{name}::{vn}(inner) => inner.write_fields(out),");
                    }
                }
            } else if v.changes.is_some() {
                let _ = writeln!(s, "{name}::{vn}(inner) => inner.write_xml(out),");
            } else if v.field.is_empty() {
                let _ = writeln!(s, "{name}::{vn} => {{}}");
            } else {
                let binds: Vec<String> = v.field.iter().map(Field::rust_name).collect();
                let _ = writeln!(s, "{name}::{vn} {{ {} }} => {{", binds.join(", "));
                for f in &v.field {
                    let _ = writeln!(s, "{{ let v = {}; {} }}", f.rust_name(), self.write_stmt(f));
                }
                s.push_str("}\n");
            }
        }
        s.push_str("}\n}\n}\n\n");
        self.out.push_str(&s);
    }

    fn record(&mut self, r: &Record) {
        let eq = if self.fields_have_float(&r.field) {
            ""
        } else {
            ", Eq"
        };
        let name = r.name.get_ref();
        let mut s = doc_attr(&r.doc);
        let _ = writeln!(
            s,
            "#[derive(Debug, Clone, PartialEq{eq}, Default)]\npub struct {name} {{"
        );
        for f in &r.field {
            s.push_str(&Self::field_doc(f));
            let _ = writeln!(s, "pub {}: {},", f.rust_name(), self.rust_ty(f));
        }
        s.push_str("}\n\n");
        let known = known_names(&r.field);
        let _ = writeln!(
            s,
            "impl {name} {{\n/// Reads the fields from an element.\n\
             pub(crate) fn parse(f: &Fields<'_, '_>) -> Result<Self, rt::Bad> {{\nOk(Self {{"
        );
        for f in &r.field {
            let _ = writeln!(s, "{}: {},", f.rust_name(), self.parse_expr(f, &known));
        }
        s.push_str("})\n}\n\n/// Writes the fields as WeCom's XML (without an enclosing element).\npub(crate) fn write_fields(&self, out: &mut String) {\n");
        for f in &r.field {
            let _ = writeln!(
                s,
                "{{ let v = &self.{}; {} }}",
                f.rust_name(),
                self.write_stmt(f)
            );
        }
        s.push_str("}\n}\n\n");
        self.out.push_str(&s);
    }

    /// An expression reading field `f` from `f` (a `&Fields`).
    fn parse_expr(&self, f: &Field, known: &str) -> String {
        let x = f.xml.get_ref();
        let (opt, req) = (f.optional, f.required);
        match f.ty.get_ref().as_str() {
            "string" if opt => format!("f.opt_str({x:?})"),
            "string" => format!("f.str({x:?})"),
            "integer" | "float" => {
                let read = if f.ty.get_ref() == "integer" {
                    "opt_int"
                } else {
                    "opt_float"
                };
                if opt {
                    format!("f.{read}({x:?})?")
                } else if req {
                    format!("f.{read}({x:?})?.ok_or(rt::Bad)?")
                } else {
                    format!("f.{read}({x:?})?.unwrap_or_default()")
                }
            }
            "element" if opt => format!("f.element({x:?})"),
            "element" if req => format!("f.element({x:?}).ok_or(rt::Bad)?"),
            "element" => format!("f.element({x:?}).unwrap_or_default()"),
            "rest" => format!("f.rest({known})"),
            "list" => {
                let item = f.item.as_ref().map_or("string", |i| i.get_ref().as_str());
                let ity = match item {
                    "string" => "String",
                    "integer" => "i64",
                    other => other,
                };
                if let Some(delim) = &f.delimiter {
                    let read = format!("f.split::<{ity}>({x:?}, {delim:?})?");
                    if opt {
                        read
                    } else {
                        format!("{read}.unwrap_or_default()")
                    }
                } else {
                    let each = f.each.as_deref().unwrap_or("item");
                    if self.records.contains_key(item) {
                        format!(
                            "f.each({x:?}, {each:?}).iter().map({ity}::parse).collect::<Result<Vec<_>, _>>()?"
                        )
                    } else {
                        format!("f.each_value::<{ity}>({x:?}, {each:?}, {:?})?", f.text)
                    }
                }
            }
            record => format!("{record}::parse(&f.child({x:?}))?"),
        }
    }

    /// Statements writing `v` (a reference to field `f`'s value) to `out`.
    fn write_stmt(&self, f: &Field) -> String {
        let x = f.xml.get_ref();
        let one = |v: &str| -> String {
            match f.ty.get_ref().as_str() {
                "string" => format!("rt::push_cdata(out, {x:?}, {v});"),
                "integer" | "float" => format!("rt::push_num(out, {x:?}, {v});"),
                "element" => format!("{v}.write_xml(out);"),
                "rest" => format!("for e in {v} {{ e.write_xml(out); }}"),
                "list" => {
                    let item = f.item.as_ref().map_or("string", |i| i.get_ref().as_str());
                    if let Some(delim) = &f.delimiter {
                        format!("rt::push_cdata(out, {x:?}, &rt::join({v}, {delim:?}));")
                    } else {
                        let each = f.each.as_deref().unwrap_or("item");
                        let body = if self.records.contains_key(item) {
                            format!(
                                "rt::open_tag(out, {each:?}); i.write_fields(out); rt::close_tag(out, {each:?});"
                            )
                        } else {
                            let push = if item == "integer" {
                                "push_num"
                            } else {
                                "push_cdata"
                            };
                            match &f.text {
                                Some(t) => format!(
                                    "rt::open_tag(out, {each:?}); rt::{push}(out, {t:?}, i); rt::close_tag(out, {each:?});"
                                ),
                                None => format!("rt::{push}(out, {each:?}, i);"),
                            }
                        };
                        format!(
                            "rt::open_tag(out, {x:?}); for i in {v} {{ {body} }} rt::close_tag(out, {x:?});"
                        )
                    }
                }
                _ => format!(
                    "rt::open_tag(out, {x:?}); {v}.write_fields(out); rt::close_tag(out, {x:?});"
                ),
            }
        };
        if f.optional {
            format!("if let Some(v) = v {{ {} }}", one("v"))
        } else if f.ty.get_ref() == "list" {
            format!("if !v.is_empty() {{ {} }}", one("v"))
        } else {
            one("v")
        }
    }
}

fn is_event_key(f: &Field) -> bool {
    f.rust_name() == "event_key" && f.ty.get_ref() == "string" && !f.optional
}

/// `&[...]`: the element names a `rest` field skips (the header and the other fields).
fn known_names(fields: &[Field]) -> String {
    let mut names: Vec<&str> = HEADER.to_vec();
    names.extend(fields.iter().map(|f| f.xml.get_ref().as_str()));
    let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("&[{}]", list.join(", "))
}

/// Checks and generates: `(crate_dir, rust source)`.
pub(crate) fn generate(path: &str, text: &str) -> Result<(String, String), Vec<Diagnostic>> {
    let (_, file) = load(path, text)?;
    Ok((file.callback.crate_dir.clone(), emit(&file)))
}
