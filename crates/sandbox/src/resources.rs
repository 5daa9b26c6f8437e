//! The generic resource engine: serves every endpoint the spec declares as an operation on a
//! resource (`[endpoint.resource]`, generated into each area's `RESOURCES` table) without a
//! hand-written handler.
//!
//! State is JSON objects keyed by id, per corp and per resource, at most [`MAX_OBJECTS`] each:
//! - **create** stores the validated request body as a new object. With a generated id
//!   (`id_from = "response"`) the engine assigns one (`<resource>_<n>` for a string id, `n` for an
//!   integer id), stores it in the object under the id field and answers it in that field; with
//!   a caller-named id, an existing id answers the declared `duplicate` errcode, or is replaced
//!   when the spec declares none (WeCom's "set" endpoints).
//! - **get** answers the object (under the declared `field`, or its fields at top level);
//! - **update** merges the request (or, for a dotted id such as `note.note_id`, the object that
//!   holds the id) into the stored object, objects recursively;
//! - **delete** removes it; all three answer the declared `not_found` errcode for an unknown id.
//! - **list** answers every id (or every object) in creation order, under the declared `field`.
//!
//! Requests are read and validated with the endpoint's generated `FromWire` and `validate()` first,
//! so a resource endpoint refuses exactly what a hand-written one would (47001, 40058, the spec's
//! errcodes). A hand-written handler registered for the same path takes precedence
//! ([`Registry::add_resources`](crate::Registry::add_resources)).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value};
use wecom_core_auth::__private::{
    IdKind, IdSource, ListItems, ResourceDecl, ResourceErrcode, ResourceOp, WireCheck, WireInput,
};
use wecom_core_auth::ErrorCode;

use crate::error::ApiError;
use crate::registry::{Ctx, Wire, invalid_input_error, wire_error};

/// At most this many objects per resource and corp; a create beyond answers -1 (system busy).
pub const MAX_OBJECTS: usize = 10_000;

/// One stored object and its id as it travels on the wire.
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    id: Value,
    object: Map<String, Value>,
}

/// One resource's objects in one corp, in creation order.
#[derive(Debug, Default)]
struct Objects {
    entries: Vec<Entry>,
    next_id: u64,
}

impl Objects {
    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }
}

/// Every resource's objects, keyed by (corpid, resource). Kept in the sandbox state
/// (`State::extension`).
#[derive(Debug, Default)]
pub struct ResourceStore {
    inner: Mutex<HashMap<(String, &'static str), Objects>>,
}

impl ResourceStore {
    /// The number of objects of a resource in a corp.
    pub fn len(&self, corpid: &str, resource: &str) -> usize {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .find(|((c, r), _)| c == corpid && *r == resource)
            .map_or(0, |(_, o)| o.entries.len())
    }

    /// Whether a corp has no objects of a resource.
    pub fn is_empty(&self, corpid: &str, resource: &str) -> bool {
        self.len(corpid, resource) == 0
    }

    /// Every object of a resource in a corp, in creation order (a copy), for the hand-written
    /// handlers that read a declared resource (meeting rooms: list filters, bookings).
    pub fn objects(&self, corpid: &str, resource: &str) -> Vec<Map<String, Value>> {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .find(|((c, r), _)| c == corpid && *r == resource)
            .map(|(_, o)| o.entries.iter().map(|e| e.object.clone()).collect())
            .unwrap_or_default()
    }

    /// One object of a resource by its id as the wire carries it (`7`, `"note_1"`), if any.
    pub fn object(&self, corpid: &str, resource: &str, id: &Value) -> Option<Map<String, Value>> {
        let key = key_of(id);
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .find(|((c, r), _)| c == corpid && *r == resource)
            .and_then(|(_, o)| o.position(&key).map(|at| o.entries[at].object.clone()))
    }
}

/// Reads and validates the request with its generated reader, as a handler's request would be.
pub(crate) fn check(decl: &ResourceDecl, wire: &Wire<'_>) -> Result<(), ApiError> {
    (decl.check)(WireInput::json(wire.query, wire.body)).map_err(|e| match e {
        WireCheck::Wire(e) => wire_error(&e),
        WireCheck::Invalid(e) => invalid_input_error(&e),
    })
}

/// Serves one declared operation; answers the JSON object after errcode/errmsg.
pub(crate) fn serve(
    decl: &ResourceDecl,
    ctx: &Ctx,
    wire: &Wire<'_>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body_object(wire.body)?;
    let corpid = ctx.state().corp().corpid().to_owned();
    let store = ctx.state().extension::<ResourceStore>();
    let mut map = store.inner.lock().unwrap_or_else(|e| e.into_inner());
    let objects = map.entry((corpid, decl.resource)).or_default();
    match decl.op {
        ResourceOp::Create => create(decl, objects, wire, body),
        ResourceOp::Get => {
            let id = request_id(decl, wire, &body)?;
            let at = find(decl, objects, &id)?;
            let object = objects.entries[at].object.clone();
            Ok(match decl.field {
                Some(f) => Map::from_iter([(f.to_owned(), Value::Object(object))]),
                None => object,
            })
        }
        ResourceOp::Update => {
            let id = request_id(decl, wire, &body)?;
            let at = find(decl, objects, &id)?;
            let changes = match decl.id.rsplit_once('.') {
                Some((parent, _)) => match lookup(&body, parent) {
                    Some(Value::Object(o)) => o.clone(),
                    _ => Map::new(),
                },
                None => body,
            };
            merge(&mut objects.entries[at].object, changes);
            Ok(Map::new())
        }
        ResourceOp::Delete => {
            let id = request_id(decl, wire, &body)?;
            let at = find(decl, objects, &id)?;
            objects.entries.remove(at);
            Ok(Map::new())
        }
        ResourceOp::List => {
            let items: Vec<Value> = objects
                .entries
                .iter()
                .map(|e| match decl.items {
                    ListItems::Ids => e.id.clone(),
                    ListItems::Objects => Value::Object(e.object.clone()),
                })
                .collect();
            let field = decl.field.unwrap_or("list");
            Ok(Map::from_iter([(field.to_owned(), Value::Array(items))]))
        }
    }
}

fn create(
    decl: &ResourceDecl,
    objects: &mut Objects,
    wire: &Wire<'_>,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    match decl.id_source {
        IdSource::Generated(field) => {
            if objects.entries.len() >= MAX_OBJECTS {
                return Err(full(decl));
            }
            objects.next_id += 1;
            let id = match decl.id_kind {
                IdKind::String => Value::String(format!("{}_{}", decl.resource, objects.next_id)),
                IdKind::Integer => Value::from(objects.next_id),
            };
            body.insert(field.to_owned(), id.clone());
            objects.entries.push(Entry {
                key: key_of(&id),
                id: id.clone(),
                object: body,
            });
            Ok(Map::from_iter([(field.to_owned(), id)]))
        }
        IdSource::Caller => {
            let id = request_id(decl, wire, &body)?;
            let key = key_of(&id);
            match (objects.position(&key), decl.duplicate) {
                (Some(_), Some(dup)) => Err(ApiError::new(
                    dup.code,
                    format!("{} {key} already exists{}", decl.resource, source_note(dup)),
                )),
                (Some(at), None) => {
                    objects.entries[at].object = body;
                    Ok(Map::new())
                }
                (None, _) if objects.entries.len() >= MAX_OBJECTS => Err(full(decl)),
                (None, _) => {
                    objects.entries.push(Entry {
                        key,
                        id,
                        object: body,
                    });
                    Ok(Map::new())
                }
            }
        }
    }
}

fn full(decl: &ResourceDecl) -> ApiError {
    ApiError::new(
        ErrorCode::SYSTEM_BUSY,
        format!(
            "system busy: the sandbox keeps at most {MAX_OBJECTS} `{}` objects per corp; delete some",
            decl.resource
        ),
    )
}

fn source_note(e: ResourceErrcode) -> &'static str {
    if e.documented {
        ""
    } else {
        " (the WeCom page names no code for this; the spec chose a generic one)"
    }
}

fn find(decl: &ResourceDecl, objects: &Objects, id: &Value) -> Result<usize, ApiError> {
    let key = key_of(id);
    objects.position(&key).ok_or_else(|| {
        let (code, note) = match decl.not_found {
            Some(e) => (e.code, source_note(e)),
            None => (ErrorCode::INVALID_PARAMETER.code(), ""),
        };
        ApiError::new(
            code,
            format!("{} {key} not found, hint: no such id{note}", decl.resource),
        )
    })
}

/// The request body as a JSON object (empty for GET).
fn body_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(ApiError::new(
            47001,
            "data format error, hint: the body must be a JSON object",
        )),
    }
}

/// The id the request names: a query field, or a (dotted) body field.
fn request_id(
    decl: &ResourceDecl,
    wire: &Wire<'_>,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let from_query =
        wire.query
            .iter()
            .find(|(k, _)| k == decl.id)
            .map(|(_, v)| match decl.id_kind {
                IdKind::Integer => v
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(v.clone())),
                IdKind::String => Value::String(v.clone()),
            });
    from_query
        .or_else(|| lookup(body, decl.id).cloned())
        .filter(|v| v.is_string() || v.is_number())
        .ok_or_else(|| {
            // The generated reader already refused a missing required id; an optional one lands here.
            ApiError::invalid_parameter(format!("hint: `{}` names no {}", decl.id, decl.resource))
        })
}

/// A value by dotted path in a JSON object.
fn lookup<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let mut value = object.get(segments.next()?)?;
    for seg in segments {
        value = value.as_object()?.get(seg)?;
    }
    Some(value)
}

fn key_of(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Merges `changes` into `target`: objects recursively, anything else replaced.
fn merge(target: &mut Map<String, Value>, changes: Map<String, Value>) {
    for (k, v) in changes {
        match (target.get_mut(&k), v) {
            (Some(Value::Object(t)), Value::Object(c)) => merge(t, c),
            (_, v) => {
                target.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_recursive_for_objects_and_replaces_the_rest() {
        let mut t = json!({"a": {"x": 1, "y": 2}, "b": [1, 2], "c": "keep"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let c = json!({"a": {"y": 3}, "b": [9]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        merge(&mut t, c);
        assert_eq!(
            Value::Object(t),
            json!({"a": {"x": 1, "y": 3}, "b": [9], "c": "keep"})
        );
    }

    #[test]
    fn objects_are_read_back_by_resource_and_id() {
        let store = ResourceStore::default();
        {
            let mut map = store.inner.lock().unwrap_or_else(|e| e.into_inner());
            let objects = map.entry(("corp".to_owned(), "room")).or_default();
            for n in [1, 2] {
                objects.entries.push(Entry {
                    key: key_of(&json!(n)),
                    id: json!(n),
                    object: json!({"room_id": n})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                });
            }
        }
        assert_eq!(store.objects("corp", "room").len(), 2);
        assert!(store.objects("other", "room").is_empty());
        assert_eq!(
            store.object("corp", "room", &json!(2)).map(Value::Object),
            Some(json!({"room_id": 2}))
        );
        assert_eq!(store.object("corp", "room", &json!(3)), None);
    }

    #[test]
    fn ids_by_dotted_path_and_their_keys() {
        let body = json!({"note": {"note_id": "note_1"}, "n": 7})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(lookup(&body, "note.note_id"), Some(&json!("note_1")));
        assert_eq!(lookup(&body, "note.missing"), None);
        assert_eq!(key_of(&json!(7)), "7");
        assert_eq!(key_of(&json!("a")), "a");
        assert!(body_object(b"[1]").is_err());
        assert!(body_object(b"").is_ok_and(|m| m.is_empty()));
    }
}
