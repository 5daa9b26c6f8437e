//! Helpers for generated code (validation checks, wire formats). Hidden and not a stable API:
//! called only by code that `cargo xtask gen` writes, which imports this module as `rt`.
//!
//! Generated request and model types stay small by calling these: each constraint of the spec is
//! one call here ([`bytes()`], [`chars`], [`items`], [`range`], [`pattern`], [`one_of_str`], ...)
//! producing an [`InvalidInput`] that names the field path, the limit, the actual size and the
//! errcode WeCom would answer. With the `server` feature (only the sandbox enables it), generated
//! request types implement [`FromWire`], reading a request as a server receives it through
//! `WireQuery` and `WireBody`, which report a missing or malformed field by name (`WireError`).

use std::borrow::Cow;
use std::sync::OnceLock;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use bytes::Bytes;

/// The future a generated call builder turns into when awaited (`IntoFuture`).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

use crate::endpoint::{Query, RequestBody};
use crate::error::{DecodeError, InvalidInput};

// ------------------------------------------------------------------------------------------------
// Validation

/// Checks the spec's constraints of a value. Implemented by every generated model, union and
/// request; lists and options validate their items (with `[i]` in the path).
pub trait Validate {
    /// Checks every constraint, returning the first broken one.
    fn validate(&self) -> Result<(), InvalidInput>;
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self) -> Result<(), InvalidInput> {
        for (i, item) in self.iter().enumerate() {
            item.validate().map_err(|e| e.under(&format!("[{i}]")))?;
        }
        Ok(())
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> Result<(), InvalidInput> {
        match self {
            Some(v) => v.validate(),
            None => Ok(()),
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self) -> Result<(), InvalidInput> {
        (**self).validate()
    }
}

// ------------------------------------------------------------------------------------------------
// Truncation (fields WeCom cuts instead of refusing)

/// Implemented by generated types that contain a field WeCom truncates (`truncate = true`).
pub trait Truncate {
    /// Cuts (when `apply`) or only reports (dry run) every over-long field into `out`.
    fn truncate(&mut self, apply: bool, out: &mut Vec<crate::Truncated>);
}

impl<T: Truncate> Truncate for Vec<T> {
    fn truncate(&mut self, apply: bool, out: &mut Vec<crate::Truncated>) {
        for (i, item) in self.iter_mut().enumerate() {
            let start = out.len();
            item.truncate(apply, out);
            under_from(out, start, &format!("[{i}]"));
        }
    }
}

impl<T: Truncate> Truncate for Option<T> {
    fn truncate(&mut self, apply: bool, out: &mut Vec<crate::Truncated>) {
        if let Some(v) = self {
            v.truncate(apply, out);
        }
    }
}

fn under_from(out: &mut [crate::Truncated], start: usize, parent: &str) {
    for t in &mut out[start..] {
        *t = std::mem::replace(t, crate::Truncated::new("", 0, crate::LengthUnit::Bytes, 0))
            .under(parent);
    }
}

/// A string field WeCom cuts at `limit` `unit`s.
pub fn truncate_str(
    field: &str,
    value: &mut String,
    limit: u64,
    unit: crate::LengthUnit,
    apply: bool,
    out: &mut Vec<crate::Truncated>,
) {
    let length = unit.len(value);
    if length > limit {
        if apply {
            crate::truncate::cut(value, limit, unit);
        }
        out.push(crate::Truncated::new(field, limit, unit, length));
    }
}

/// A nested value, its paths under `field`.
pub fn truncate_nested<T: Truncate + ?Sized>(
    field: &str,
    value: &mut T,
    apply: bool,
    out: &mut Vec<crate::Truncated>,
) {
    let start = out.len();
    value.truncate(apply, out);
    under_from(out, start, field);
}

/// Truncates a request (the generated `Endpoint::truncate`).
pub fn truncate_request<T: Truncate>(request: &mut T, apply: bool) -> Vec<crate::Truncated> {
    let mut out = Vec::new();
    request.truncate(apply, &mut out);
    out
}

/// Validates a nested value, prefixing error paths with `field`.
pub fn nested<T: Validate + ?Sized>(field: &str, value: &T) -> Result<(), InvalidInput> {
    value.validate().map_err(|e| e.under(field))
}

/// Validates a request, naming the endpoint in the error.
pub fn validate_request<T: Validate>(request: &T, endpoint: &str) -> Result<(), InvalidInput> {
    request.validate().map_err(|e| e.in_context(endpoint))
}

fn invalid(field: &str, problem: String, errcode: Option<i64>) -> InvalidInput {
    InvalidInput::new(field, problem).with_errcode(errcode)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn check_count(
    field: &str,
    actual: u64,
    [min, max]: [u64; 2],
    one: &str,
    many: &str,
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    if actual > max {
        let problem = format!(
            "is {}; at most {} allowed",
            plural(actual, one, many),
            plural(max, one, many)
        );
        return Err(invalid(field, problem, errcode));
    }
    if actual < min {
        let problem = if actual == 0 {
            format!("is empty; at least {} required", plural(min, one, many))
        } else {
            format!(
                "is {}; at least {} required",
                plural(actual, one, many),
                plural(min, one, many)
            )
        };
        return Err(invalid(field, problem, errcode));
    }
    Ok(())
}

/// Length in UTF-8 bytes within `[min, max]`.
pub fn bytes(
    field: &str,
    value: &str,
    limit: [u64; 2],
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    check_count(field, value.len() as u64, limit, "byte", "bytes", errcode)
}

/// Length in characters (Unicode scalar values) within `[min, max]`.
pub fn chars(
    field: &str,
    value: &str,
    limit: [u64; 2],
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    check_count(
        field,
        value.chars().count() as u64,
        limit,
        "character",
        "characters",
        errcode,
    )
}

/// Number of items within `[min, max]`.
pub fn items(
    field: &str,
    len: usize,
    limit: [u64; 2],
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    let problem = |p: String| {
        p.replacen("is ", "has ", 1)
            .replacen("has empty", "is empty", 1)
    };
    check_count(field, len as u64, limit, "item", "items", errcode).map_err(|mut e| {
        e.problem = problem(e.problem);
        e
    })
}

/// A number the range check understands.
pub trait Number: Copy + std::fmt::Display {
    /// The value as `f64` (exact for every value WeCom uses).
    fn to_f64(self) -> f64;
    /// The value as an integer, when it is one.
    fn to_i128(self) -> Option<i128>;
}

macro_rules! int_number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            fn to_f64(self) -> f64 { self as f64 }
            fn to_i128(self) -> Option<i128> { Some(i128::from(self)) }
        }
    )*};
}
int_number!(i32, i64, u32, u64);

impl Number for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn to_i128(self) -> Option<i128> {
        (self.fract() == 0.0 && self.abs() < 1e30).then_some(self as i128)
    }
}

/// A number within `[min, max]`.
pub fn range<N: Number>(
    field: &str,
    value: N,
    [min, max]: [f64; 2],
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    let v = value.to_f64();
    if v.is_nan() || v < min || v > max {
        return Err(invalid(
            field,
            format!("is {value}; must be from {min} to {max}"),
            errcode,
        ));
    }
    Ok(())
}

/// A regular expression of the spec, compiled on first use.
#[derive(Debug)]
pub struct Pattern {
    source: &'static str,
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl Pattern {
    /// A pattern (compiled when first matched).
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// The expression as written in the spec.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Whether the whole value matches (the spec's patterns are anchored).
    pub fn is_match(&self, value: &str) -> Result<bool, String> {
        match self
            .compiled
            .get_or_init(|| regex::Regex::new(self.source).map_err(|e| e.to_string()))
        {
            Ok(re) => Ok(re.is_match(value)),
            Err(e) => Err(e.clone()),
        }
    }
}

/// A string matching a pattern. (The value itself is not repeated in the error: it may be private.)
pub fn pattern(
    field: &str,
    value: &str,
    pattern: &Pattern,
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    match pattern.is_match(value) {
        Ok(true) => Ok(()),
        Ok(false) => Err(invalid(
            field,
            format!("does not match the pattern `{}`", pattern.source()),
            errcode,
        )),
        Err(e) => Err(invalid(
            field,
            format!(
                "cannot be checked: the spec's pattern `{}` does not compile ({e})",
                pattern.source()
            ),
            None,
        )),
    }
}

/// A string that is one of `allowed`.
pub fn one_of_str(
    field: &str,
    value: &str,
    allowed: &[&str],
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let list = allowed
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(invalid(
        field,
        format!("is `{value}`; allowed: {list}"),
        errcode,
    ))
}

/// A number that is one of `allowed`.
pub fn one_of_int<N: Number>(
    field: &str,
    value: N,
    allowed: &[i64],
    errcode: Option<i64>,
) -> Result<(), InvalidInput> {
    if value
        .to_i128()
        .is_some_and(|v| allowed.iter().any(|a| i128::from(*a) == v))
    {
        return Ok(());
    }
    let list = allowed
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(invalid(
        field,
        format!("is {value}; allowed: {list}"),
        errcode,
    ))
}

/// Checks every item of a list with `check` (which names no field); errors read `field[i]`.
pub fn each<T>(
    field: &str,
    items: &[T],
    check: impl Fn(&T) -> Result<(), InvalidInput>,
) -> Result<(), InvalidInput> {
    for (i, item) in items.iter().enumerate() {
        check(item).map_err(|e| e.under(&format!("[{i}]")).under(field))?;
    }
    Ok(())
}

/// At least one of the named fields is present and non-empty.
pub fn at_least_one_of(
    fields: &[(&str, bool)],
    errcode: Option<i64>,
    message: Option<&str>,
) -> Result<(), InvalidInput> {
    if fields.iter().any(|(_, present)| *present) {
        return Ok(());
    }
    let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    let problem = message.map(str::to_owned).unwrap_or_else(|| {
        format!(
            "none is set; set at least one of {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    Err(invalid(&names.join("|"), problem, errcode))
}

/// The named lists, where non-empty, have the same length.
pub fn same_length(
    fields: &[(&str, usize)],
    errcode: Option<i64>,
    message: Option<&str>,
) -> Result<(), InvalidInput> {
    let present: Vec<&(&str, usize)> = fields.iter().filter(|(_, n)| *n > 0).collect();
    let Some(first) = present.first() else {
        return Ok(());
    };
    if present.iter().all(|(_, n)| *n == first.1) {
        return Ok(());
    }
    let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    let problem = message.map(str::to_owned).unwrap_or_else(|| {
        let lens = present
            .iter()
            .map(|(n, l)| format!("`{n}` has {l}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("must have the same number of items ({lens})")
    });
    Err(invalid(&names.join("|"), problem, errcode))
}

// ------------------------------------------------------------------------------------------------
// Request encoding

/// A value that travels as one string (query parameters, `|`-joined lists).
pub trait WireScalar: Sized {
    /// The value as sent.
    fn to_wire(&self) -> Cow<'_, str>;
    /// Parses a received value; the error says what was expected.
    fn from_wire(value: &str) -> Result<Self, String>;
}

impl WireScalar for String {
    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn from_wire(value: &str) -> Result<Self, String> {
        Ok(value.to_owned())
    }
}

impl WireScalar for crate::Secret {
    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.expose())
    }
    fn from_wire(value: &str) -> Result<Self, String> {
        Ok(crate::Secret::new(value))
    }
}

impl WireScalar for bool {
    fn to_wire(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
    fn from_wire(value: &str) -> Result<Self, String> {
        match value {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err("expected 0, 1, true or false".into()),
        }
    }
}

macro_rules! wire_number {
    ($($t:ty => $what:literal),*) => {$(
        impl WireScalar for $t {
            fn to_wire(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
            fn from_wire(value: &str) -> Result<Self, String> {
                value.trim().parse().map_err(|_| format!("expected {}", $what))
            }
        }
    )*};
}
wire_number!(i32 => "an integer (i32)", i64 => "an integer (i64)", u32 => "a non-negative integer (u32)", u64 => "a non-negative integer (u64)", f64 => "a number");

/// Appends `name=value`.
pub fn push<T: WireScalar>(query: &mut Query, name: &'static str, value: &T) {
    query.push(name, value.to_wire().into_owned());
}

/// Appends `name=value` when set.
pub fn push_opt<T: WireScalar>(query: &mut Query, name: &'static str, value: &Option<T>) {
    if let Some(v) = value {
        push(query, name, v);
    }
}

/// Appends `name=a|b|c` when the list is not empty.
pub fn push_pipe<T: WireScalar>(query: &mut Query, name: &'static str, values: &[T]) {
    if !values.is_empty() {
        query.push(name, join_pipe(values));
    }
}

/// Appends `name=1` or `name=0`.
pub fn push_flag(query: &mut Query, name: &'static str, value: bool) {
    query.push(name, if value { "1" } else { "0" });
}

/// Appends `name=1` or `name=0` when set.
pub fn push_flag_opt(query: &mut Query, name: &'static str, value: Option<bool>) {
    if let Some(v) = value {
        push_flag(query, name, v);
    }
}

fn join_pipe<T: WireScalar>(values: &[T]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(&v.to_wire());
    }
    out
}

fn body_error(e: serde_json::Error) -> crate::Error {
    crate::Error::from(InvalidInput::new(
        "",
        format!("cannot be encoded as JSON: {e}"),
    ))
}

/// The request serialized as a JSON body.
pub fn json_body<T: Serialize>(request: &T) -> Result<RequestBody, crate::Error> {
    serde_json::to_vec(request)
        .map(|v| RequestBody::Json(Bytes::from(v)))
        .map_err(body_error)
}

/// The request serialized as a JSON body without its query fields.
pub fn json_body_without<T: Serialize>(
    request: &T,
    query_keys: &[&str],
) -> Result<RequestBody, crate::Error> {
    let mut value = serde_json::to_value(request).map_err(body_error)?;
    if let serde_json::Value::Object(map) = &mut value {
        for k in query_keys {
            map.remove(*k);
        }
    }
    serde_json::to_vec(&value)
        .map(|v| RequestBody::Json(Bytes::from(v)))
        .map_err(body_error)
}

/// Decodes a JSON answer.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|e| DecodeError::new(e.to_string(), body))
}

/// Turns WeCom's duplicate check on unless the caller set the flag, with the client's window
/// unless the caller set one.
pub fn enable_duplicate_check(
    flag: &mut Option<bool>,
    interval: &mut Option<u32>,
    default_interval_secs: u32,
) {
    let on = *flag.get_or_insert(true);
    if on && interval.is_none() {
        *interval = Some(default_interval_secs);
    }
}

// ------------------------------------------------------------------------------------------------
// serde helpers

fn flag_from_value<E: serde::de::Error>(v: &serde_json::Value) -> Result<bool, E> {
    match v {
        serde_json::Value::Bool(b) => Ok(*b),
        serde_json::Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        serde_json::Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        serde_json::Value::String(s) if s == "0" || s == "false" => Ok(false),
        serde_json::Value::String(s) if s == "1" || s == "true" => Ok(true),
        other => Err(E::custom(format!("expected 0 or 1, found {other}"))),
    }
}

/// `flag`: a `bool` sent as `0`/`1` (reads `0`/`1`, `true`/`false` and `"0"`/`"1"`).
pub mod flag {
    use super::*;

    /// Writes `0` or `1`.
    pub fn serialize<S: Serializer>(value: &bool, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(u8::from(*value))
    }

    /// Reads `0`/`1`/`true`/`false`/`"0"`/`"1"`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
        let v = serde_json::Value::deserialize(deserializer)?;
        flag_from_value(&v)
    }

    /// `Option<flag>`.
    pub mod option {
        use super::*;

        /// Writes `0`, `1` or null.
        pub fn serialize<S: Serializer>(
            value: &Option<bool>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => serializer.serialize_some(&u8::from(*v)),
                None => serializer.serialize_none(),
            }
        }

        /// Reads a flag or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<bool>, D::Error> {
            match serde_json::Value::deserialize(deserializer)? {
                serde_json::Value::Null => Ok(None),
                v => flag_from_value(&v).map(Some),
            }
        }
    }

    /// `[flag]`.
    pub mod list {
        use super::*;

        /// Writes `[0, 1, ..]`.
        pub fn serialize<S: Serializer>(value: &[bool], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(value.iter().map(|v| u8::from(*v)))
        }

        /// Reads a list of flags.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<bool>, D::Error> {
            let values = Vec::<serde_json::Value>::deserialize(deserializer)?;
            values.iter().map(flag_from_value).collect()
        }
    }
}

/// `pipe[T]`: a list sent as one string joined with `|` (reads such a string, or a JSON array).
pub mod pipe {
    use super::*;

    /// Writes `"a|b|c"`.
    pub fn serialize<T: WireScalar, S: Serializer>(
        values: &[T],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&join_pipe(values))
    }

    /// Reads `"a|b|c"` (`""` is empty), or a JSON array of strings or numbers.
    pub fn deserialize<'de, T: WireScalar, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<T>, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Null => Ok(Vec::new()),
            serde_json::Value::String(s) => split_pipe(&s).map_err(D::Error::custom),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(s) => T::from_wire(s),
                    serde_json::Value::Number(n) => T::from_wire(&n.to_string()),
                    other => Err(format!("expected a string or number, found {other}")),
                })
                .collect::<Result<_, _>>()
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a `|`-joined string, found {other}"
            ))),
        }
    }
}

fn split_pipe<T: WireScalar>(s: &str) -> Result<Vec<T>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split('|').map(T::from_wire).collect()
}

/// Reads a string enum value; numbers are accepted and kept as their decimal text
/// (WeCom sometimes sends `"1"` and sometimes `1`).
pub fn enum_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(D::Error::custom(format!(
            "expected a string, found {other}"
        ))),
    }
}

/// Reads an integer enum value; numeric strings are accepted.
pub fn enum_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| D::Error::custom(format!("expected an integer, found {n}"))),
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("expected an integer, found \"{s}\""))),
        other => Err(D::Error::custom(format!(
            "expected an integer, found {other}"
        ))),
    }
}

/// Tagged unions (`{"msgtype": "text", "text": {..}}` and `{"card_type": "x", ..fields}`).
pub mod union {
    use super::*;
    use serde::ser::SerializeMap;
    use serde_json::{Map, Value};

    /// Writes `{tag: value, value: content}` (no content key for a variant without content).
    pub fn serialize_named<S: Serializer, T: Serialize>(
        serializer: S,
        tag: &str,
        value: &str,
        content: Option<&T>,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + usize::from(content.is_some())))?;
        map.serialize_entry(tag, value)?;
        if let Some(c) = content {
            map.serialize_entry(value, c)?;
        }
        map.end()
    }

    /// Writes `{tag: value, ..content's fields}`.
    pub fn serialize_internal<S: Serializer, T: Serialize>(
        serializer: S,
        tag: &str,
        value: &str,
        content: Option<&T>,
    ) -> Result<S::Ok, S::Error> {
        let fields = match content {
            Some(c) => match serde_json::to_value(c).map_err(serde::ser::Error::custom)? {
                Value::Object(m) => m,
                other => {
                    return Err(serde::ser::Error::custom(format!(
                        "the content of `{tag} = {value}` must be an object, not {other}"
                    )));
                }
            },
            None => Map::new(),
        };
        let mut map = serializer.serialize_map(Some(1 + fields.len()))?;
        map.serialize_entry(tag, value)?;
        for (k, v) in &fields {
            if k != tag {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }

    /// A union's object as read: its tag (`None` when absent or not a string) and every field.
    pub type Tagged = (Option<String>, Map<String, Value>);

    /// Reads an object and its tag.
    pub fn split<'de, D: Deserializer<'de>>(
        deserializer: D,
        tag: &str,
    ) -> Result<Tagged, D::Error> {
        let map = Map::<String, Value>::deserialize(deserializer)?;
        let tag = map.get(tag).and_then(Value::as_str).map(str::to_owned);
        Ok((tag, map))
    }

    /// The content of a known variant: under `key` (named style), or the object without the tag
    /// (internal style, `key = None`).
    pub fn content<T: DeserializeOwned, E: serde::de::Error>(
        mut map: Map<String, Value>,
        tag: &str,
        key: Option<&str>,
    ) -> Result<T, E> {
        match key {
            Some(k) => {
                let value = map.remove(k).ok_or_else(|| {
                    E::custom(format!("missing field `{k}` (required by {tag} = \"{k}\")"))
                })?;
                T::deserialize(value).map_err(|e| E::custom(format!("{k}: {e}")))
            }
            None => {
                map.remove(tag);
                T::deserialize(Value::Object(map)).map_err(E::custom)
            }
        }
    }

    /// The tag of an unknown variant's object, when it is a string.
    pub fn unknown_tag<'a>(value: &'a Value, tag: &str) -> Option<&'a str> {
        value.get(tag).and_then(Value::as_str)
    }
}

// ------------------------------------------------------------------------------------------------
// Server side (the `server` feature): reading requests as received

/// What a server received for one request: the query pairs (the credential may be among them;
/// it is ignored), the raw body, and for a multipart upload its parts by name.
#[cfg(feature = "server")]
#[derive(Debug)]
pub struct WireInput<'a> {
    /// Query pairs, percent-decoded.
    pub query: &'a [(String, String)],
    /// The raw body (empty for GET and for multipart uploads, whose parts are in `parts`).
    pub body: &'a [u8],
    /// The parts of a multipart body, by form field name.
    pub parts: Vec<(String, crate::Upload)>,
}

#[cfg(feature = "server")]
impl<'a> WireInput<'a> {
    /// A JSON (or GET) request.
    pub fn json(query: &'a [(String, String)], body: &'a [u8]) -> Self {
        Self {
            query,
            body,
            parts: Vec::new(),
        }
    }

    /// A multipart request, with its parts.
    pub fn multipart(query: &'a [(String, String)], parts: Vec<(String, crate::Upload)>) -> Self {
        Self {
            query,
            body: &[],
            parts,
        }
    }
}

/// A request type read off the wire as a server receives it. Every generated request type
/// implements it (with its crate's `server` feature): a missing required field or a malformed
/// value is reported by name, and a body that is not a JSON object as such, so a server can
/// answer with WeCom's errcodes. Constraints are not checked here: call `validate()` next.
#[cfg(feature = "server")]
pub trait FromWire: Sized {
    /// Whether the request is a multipart upload (its parts go in [`WireInput::parts`]).
    const MULTIPART: bool;
    /// Reads the request.
    fn from_wire(wire: WireInput<'_>) -> Result<Self, WireError>;
}

#[cfg(feature = "server")]
mod resource;
#[cfg(feature = "server")]
pub use resource::{
    IdKind, IdSource, ListItems, ResourceDecl, ResourceErrcode, ResourceOp, WireCheck, check_wire,
};

#[cfg(feature = "server")]
/// A request a server could not read. Tells which field, and whether the JSON itself was
/// malformed, so a server can answer with WeCom's errcodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The body is not JSON, or not a JSON object.
    #[error("the body is not a JSON object: {message}")]
    MalformedJson {
        /// What the parser said.
        message: String,
    },
    /// A required field is absent.
    #[error("missing required field `{field}`")]
    Missing {
        /// The wire name of the field.
        field: String,
    },
    /// A field is present but has the wrong shape.
    #[error("field `{field}` is malformed: {message}")]
    Invalid {
        /// The wire name of the field.
        field: String,
        /// What was expected.
        message: String,
    },
}

#[cfg(feature = "server")]
impl WireError {
    /// The field concerned (`None` for malformed JSON).
    pub fn field(&self) -> Option<&str> {
        match self {
            WireError::MalformedJson { .. } => None,
            WireError::Missing { field } | WireError::Invalid { field, .. } => Some(field),
        }
    }

    /// Whether the body itself was not a JSON object.
    pub fn is_malformed_json(&self) -> bool {
        matches!(self, WireError::MalformedJson { .. })
    }
}

#[cfg(feature = "server")]
/// Query pairs as received (the credential may be among them; it is ignored).
#[derive(Debug, Clone, Copy)]
pub struct WireQuery<'a> {
    pairs: &'a [(String, String)],
}

#[cfg(feature = "server")]
impl<'a> WireQuery<'a> {
    /// Wraps the pairs.
    pub fn new(pairs: &'a [(String, String)]) -> Self {
        Self { pairs }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn parse<T: WireScalar>(name: &str, value: &str) -> Result<T, WireError> {
        T::from_wire(value).map_err(|message| WireError::Invalid {
            field: name.to_owned(),
            message,
        })
    }

    /// A required parameter.
    pub fn required<T: WireScalar>(&self, name: &str) -> Result<T, WireError> {
        let value = self.get(name).ok_or_else(|| WireError::Missing {
            field: name.to_owned(),
        })?;
        Self::parse(name, value)
    }

    /// An optional parameter.
    pub fn optional<T: WireScalar>(&self, name: &str) -> Result<Option<T>, WireError> {
        self.get(name).map(|v| Self::parse(name, v)).transpose()
    }

    /// A `|`-joined list.
    pub fn pipe<T: WireScalar>(&self, name: &str, required: bool) -> Result<Vec<T>, WireError> {
        match self.get(name) {
            Some(v) => split_pipe(v).map_err(|message| WireError::Invalid {
                field: name.to_owned(),
                message,
            }),
            None if required => Err(WireError::Missing {
                field: name.to_owned(),
            }),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(feature = "server")]
/// A JSON body as received. Fields are taken out one by one, so that what remains is what a
/// flattened model or union reads.
#[derive(Debug, Clone)]
pub struct WireBody {
    map: serde_json::Map<String, serde_json::Value>,
}

#[cfg(feature = "server")]
impl WireBody {
    /// Parses the body; an empty body counts as `{}`.
    pub fn parse(body: &[u8]) -> Result<Self, WireError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                map: serde_json::Map::new(),
            });
        }
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => Ok(Self { map }),
            Ok(other) => Err(WireError::MalformedJson {
                message: format!("expected an object, found {}", kind(&other)),
            }),
            Err(e) => Err(WireError::MalformedJson {
                message: e.to_string(),
            }),
        }
    }

    fn take(&mut self, name: &str) -> Option<serde_json::Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    fn convert<T>(
        name: &str,
        value: serde_json::Value,
        f: impl FnOnce(serde_json::Value) -> Result<T, serde_json::Error>,
    ) -> Result<T, WireError> {
        f(value).map_err(|e| WireError::Invalid {
            field: name.to_owned(),
            message: e.to_string(),
        })
    }

    /// A required field.
    pub fn required<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, WireError> {
        self.required_with(name, T::deserialize)
    }

    /// A required field read with a custom function.
    pub fn required_with<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(serde_json::Value) -> Result<T, serde_json::Error>,
    ) -> Result<T, WireError> {
        let value = self.take(name).ok_or_else(|| WireError::Missing {
            field: name.to_owned(),
        })?;
        Self::convert(name, value, f)
    }

    /// An optional field.
    pub fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, WireError> {
        self.optional_with(name, T::deserialize)
    }

    /// An optional field read with a custom function.
    pub fn optional_with<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(serde_json::Value) -> Result<T, serde_json::Error>,
    ) -> Result<Option<T>, WireError> {
        self.take(name)
            .map(|v| Self::convert(name, v, f))
            .transpose()
    }

    /// A list (absent = empty unless required).
    pub fn list<T: DeserializeOwned>(
        &mut self,
        name: &str,
        required: bool,
    ) -> Result<Vec<T>, WireError> {
        self.list_with(name, required, Vec::<T>::deserialize)
    }

    /// A list read with a custom function.
    pub fn list_with<T>(
        &mut self,
        name: &str,
        required: bool,
        f: impl FnOnce(serde_json::Value) -> Result<Vec<T>, serde_json::Error>,
    ) -> Result<Vec<T>, WireError> {
        match self.take(name) {
            Some(v) => Self::convert(name, v, f),
            None if required => Err(WireError::Missing {
                field: name.to_owned(),
            }),
            None => Ok(Vec::new()),
        }
    }

    /// A flattened model or union: read from the fields not taken yet. For a union, its tag
    /// must be there (reported as missing otherwise).
    pub fn flatten<T: DeserializeOwned>(&mut self, tag: Option<&str>) -> Result<T, WireError> {
        if let Some(tag) = tag
            && self.map.get(tag).is_none_or(serde_json::Value::is_null)
        {
            return Err(WireError::Missing {
                field: tag.to_owned(),
            });
        }
        let rest = serde_json::Value::Object(std::mem::take(&mut self.map));
        T::deserialize(rest).map_err(|e| WireError::Invalid {
            field: tag.unwrap_or_default().to_owned(),
            message: e.to_string(),
        })
    }
}

#[cfg(feature = "server")]
/// Takes the multipart part named `name` (multipart requests' `from_wire`).
pub fn take_part(
    parts: &mut Vec<(String, crate::Upload)>,
    name: &str,
) -> Result<crate::Upload, WireError> {
    match parts.iter().position(|(n, _)| n == name) {
        Some(i) => Ok(parts.remove(i).1),
        None => Err(WireError::Missing {
            field: name.to_owned(),
        }),
    }
}

#[cfg(feature = "server")]
fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_checks_name_the_limit_and_the_size() {
        let e = bytes("content", &"x".repeat(2050), [1, 2048], Some(45002)).unwrap_err();
        assert_eq!(e.field, "content");
        assert_eq!(e.problem, "is 2050 bytes; at most 2048 bytes allowed");
        assert_eq!(e.errcode, Some(45002));
        let e = bytes("userid", "", [1, 64], None).unwrap_err();
        assert_eq!(e.problem, "is empty; at least 1 byte required");
        assert!(bytes("userid", "zhangsan", [1, 64], None).is_ok());
        // Characters, not bytes.
        assert!(chars("name", "张三", [1, 2], None).is_ok());
        assert!(bytes("name", "张三", [1, 2], None).is_err());
        let e = items("articles", 9, [1, 8], Some(45008)).unwrap_err();
        assert_eq!(e.problem, "has 9 items; at most 8 items allowed");
        let e = items("articles", 0, [1, 8], None).unwrap_err();
        assert_eq!(e.problem, "is empty; at least 1 item required");
    }

    #[test]
    fn ranges_values_and_patterns() {
        assert!(range("order", 5u32, [0.0, 10.0], None).is_ok());
        assert_eq!(
            range("ratio", 2.5f64, [1.3, 2.25], None)
                .unwrap_err()
                .problem,
            "is 2.5; must be from 1.3 to 2.25"
        );
        assert_eq!(
            range("id", -1i64, [0.0, 10.0], None).unwrap_err().problem,
            "is -1; must be from 0 to 10"
        );
        assert!(one_of_str("type", "agent_config", &["agent_config"], None).is_ok());
        assert_eq!(
            one_of_str("type", "x", &["a", "b"], None)
                .unwrap_err()
                .problem,
            "is `x`; allowed: `a`, `b`"
        );
        assert!(one_of_int("safe", 2u32, &[0, 1, 2], None).is_ok());
        assert!(one_of_int("safe", 3u32, &[0, 1, 2], None).is_err());
        static P: Pattern = Pattern::new("^[0-9A-Za-z_@.-]+$");
        assert!(pattern("userid", "zhang.san@x", &P, None).is_ok());
        assert_eq!(
            pattern("userid", "张三", &P, Some(40003))
                .unwrap_err()
                .problem,
            "does not match the pattern `^[0-9A-Za-z_@.-]+$`"
        );
        static BAD: Pattern = Pattern::new("(");
        assert!(
            pattern("x", "y", &BAD, None)
                .unwrap_err()
                .problem
                .contains("does not compile")
        );
    }

    #[derive(Debug)]
    struct Article(String);
    impl Validate for Article {
        fn validate(&self) -> Result<(), InvalidInput> {
            bytes("title", &self.0, [1, 4], None)
        }
    }

    #[test]
    fn nested_paths() {
        let articles = vec![Article("ok".into()), Article("too long".into())];
        let e = nested("articles", &articles).unwrap_err();
        assert_eq!(e.field, "articles[1].title");
        let e = nested("news", &Some(vec![Article(String::new())]))
            .unwrap_err()
            .under("x");
        assert_eq!(e.field, "x.news[0].title");
        let e = each("touser", &["a".to_owned(), "toolong".to_owned()], |v| {
            bytes("", v, [1, 3], Some(40003))
        })
        .unwrap_err();
        assert_eq!(e.field, "touser[1]");
        assert_eq!(e.errcode, Some(40003));
        let e = validate_request(&Article(String::new()), "message_send").unwrap_err();
        assert_eq!(
            e.to_string(),
            "message_send: invalid `title`: is empty; at least 1 byte required"
        );
    }

    #[test]
    fn rules() {
        assert!(
            at_least_one_of(&[("touser", false), ("toparty", true)], Some(82001), None).is_ok()
        );
        let e = at_least_one_of(&[("touser", false), ("toparty", false)], Some(82001), None)
            .unwrap_err();
        assert_eq!(e.field, "touser|toparty");
        assert_eq!(e.errcode, Some(82001));
        assert!(same_length(&[("department", 2), ("order", 0)], None, None).is_ok());
        let e = same_length(&[("department", 2), ("order", 3)], Some(60132), None).unwrap_err();
        assert!(
            e.problem.contains("`department` has 2, `order` has 3"),
            "{}",
            e.problem
        );
    }

    #[test]
    fn query_encoding() {
        let mut q = Query::new();
        push(&mut q, "userid", &"zhangsan".to_owned());
        push_opt::<u32>(&mut q, "none", &None);
        push_opt(&mut q, "id", &Some(7u32));
        push_pipe(&mut q, "list", &["a".to_owned(), "b".to_owned()]);
        push_pipe::<String>(&mut q, "empty", &[]);
        push_flag(&mut q, "fetch_child", true);
        push_flag_opt(&mut q, "x", Some(false));
        let pairs: Vec<(&str, &str)> = q.pairs().iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("userid", "zhangsan"),
                ("id", "7"),
                ("list", "a|b"),
                ("fetch_child", "1"),
                ("x", "0")
            ]
        );
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Wire {
        #[serde(with = "flag")]
        on: bool,
        #[serde(
            default,
            with = "flag::option",
            skip_serializing_if = "Option::is_none"
        )]
        maybe: Option<bool>,
        #[serde(default, with = "pipe")]
        users: Vec<String>,
        #[serde(default, with = "pipe")]
        parties: Vec<u32>,
        #[serde(default, with = "flag::list")]
        leaders: Vec<bool>,
    }

    #[test]
    fn flag_and_pipe_round_trip() {
        let w = Wire {
            on: true,
            maybe: None,
            users: vec!["a".into(), "b".into()],
            parties: vec![1, 2],
            leaders: vec![true, false],
        };
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(
            json,
            r#"{"on":1,"users":"a|b","parties":"1|2","leaders":[1,0]}"#
        );
        assert_eq!(serde_json::from_str::<Wire>(&json).unwrap(), w);
        let lenient: Wire = serde_json::from_str(
            r#"{"on":"0","maybe":true,"users":"","parties":[3,"4"],"leaders":[0]}"#,
        )
        .unwrap();
        assert_eq!(
            lenient,
            Wire {
                on: false,
                maybe: Some(true),
                users: vec![],
                parties: vec![3, 4],
                leaders: vec![false]
            }
        );
        assert!(serde_json::from_str::<Wire>(r#"{"on":2}"#).is_err());
        assert!(serde_json::from_str::<Wire>(r#"{"on":1,"parties":"1|x"}"#).is_err());
    }

    #[test]
    fn duplicate_check_defaults() {
        let (mut f, mut i) = (None, None);
        enable_duplicate_check(&mut f, &mut i, 1800);
        assert_eq!((f, i), (Some(true), Some(1800)));
        let (mut f, mut i) = (Some(false), None);
        enable_duplicate_check(&mut f, &mut i, 1800);
        assert_eq!((f, i), (Some(false), None));
        let (mut f, mut i) = (None, Some(60));
        enable_duplicate_check(&mut f, &mut i, 1800);
        assert_eq!((f, i), (Some(true), Some(60)));
    }

    #[cfg(feature = "server")]
    #[test]
    fn wire_reading_names_the_field() {
        let q = vec![
            ("userid".to_owned(), "zhangsan".to_owned()),
            ("id".to_owned(), "x".to_owned()),
            ("list".to_owned(), "1|2".to_owned()),
        ];
        let q = WireQuery::new(&q);
        assert_eq!(q.required::<String>("userid").unwrap(), "zhangsan");
        assert_eq!(
            q.required::<String>("nope").unwrap_err(),
            WireError::Missing {
                field: "nope".into()
            }
        );
        let e = q.required::<u32>("id").unwrap_err();
        assert_eq!(e.field(), Some("id"));
        assert!(!e.is_malformed_json());
        assert_eq!(q.pipe::<u32>("list", true).unwrap(), vec![1, 2]);
        assert_eq!(q.optional::<u32>("absent").unwrap(), None);

        assert!(
            WireBody::parse(b"{not json")
                .unwrap_err()
                .is_malformed_json()
        );
        assert!(WireBody::parse(b"[1]").unwrap_err().is_malformed_json());
        let mut b = WireBody::parse(
            br#"{"agentid": "x", "touser": "a|b", "msgtype": "text", "text": {"content": "hi"}}"#,
        )
        .unwrap();
        assert_eq!(
            b.required::<u32>("agentid").unwrap_err().field(),
            Some("agentid")
        );
        assert_eq!(
            b.list_with("touser", false, pipe::deserialize::<String, _>)
                .unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            b.required::<u32>("safe").unwrap_err(),
            WireError::Missing {
                field: "safe".into()
            }
        );
        let rest: serde_json::Value = b.flatten(Some("msgtype")).unwrap();
        assert_eq!(rest["text"]["content"], "hi");
        let mut b = WireBody::parse(b"").unwrap();
        assert_eq!(
            b.flatten::<serde_json::Value>(Some("msgtype")).unwrap_err(),
            WireError::Missing {
                field: "msgtype".into()
            }
        );
    }

    #[test]
    fn decode_errors_carry_the_body() {
        let e = decode_json::<Vec<u32>>(br#"{"access_token":"secret-token"}"#).unwrap_err();
        assert!(
            !e.body_excerpt.contains("secret-token"),
            "{}",
            e.body_excerpt
        );
    }
}
