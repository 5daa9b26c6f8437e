//! Sandbox resources declared in the spec (`[endpoint.resource]`): the data a generated area
//! exposes as its `RESOURCES` table, read by the sandbox's generic resource engine. Server side
//! only (the `server` feature).

use super::{FromWire, WireError, WireInput};
use crate::InvalidInput;
use crate::endpoint::{Endpoint, EndpointMeta};

/// What an endpoint does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceOp {
    /// Stores the validated request as a new object.
    Create,
    /// Answers one object by id.
    Get,
    /// Merges the request into an existing object.
    Update,
    /// Removes an object by id.
    Delete,
    /// Answers every object (or every id).
    List,
}

/// Where the id of a created object comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource {
    /// The caller names it in the create request (the `id` field).
    Caller,
    /// WeCom assigns it and answers it in the create response's field of this name.
    Generated(&'static str),
}

/// The JSON type of an id on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A JSON string.
    String,
    /// A JSON integer.
    Integer,
}

/// An errcode a resource endpoint answers, and whether WeCom's page documents it for this
/// resource or the spec chose a generic code because the page is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceErrcode {
    /// The errcode.
    pub code: i64,
    /// `true`: the resource's doc page names it; `false`: a generic code (the page is silent).
    pub documented: bool,
}

/// How a list answer is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListItems {
    /// A list of ids.
    Ids,
    /// A list of the stored objects.
    Objects,
}

/// A request that could not be read, or that broke a declared constraint.
#[derive(Debug, Clone)]
pub enum WireCheck {
    /// Not readable (malformed JSON, missing or mistyped field).
    Wire(WireError),
    /// Readable but invalid (`validate()` refused it).
    Invalid(InvalidInput),
}

/// One endpoint served by the generic resource engine.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDecl {
    /// The endpoint (name, method, path, credential).
    pub meta: EndpointMeta,
    /// The resource's name; endpoints naming the same resource share its objects.
    pub resource: &'static str,
    /// The operation.
    pub op: ResourceOp,
    /// The request field holding the id (dotted for a nested body field: `calendar.cal_id`);
    /// for a create with a generated id, the field the id is stored under in the object.
    pub id: &'static str,
    /// The id's JSON type.
    pub id_kind: IdKind,
    /// For a create: where the id comes from.
    pub id_source: IdSource,
    /// For a get: the response field the object sits under (`None`: its fields at top level).
    /// For a list: the response field holding the list.
    pub field: Option<&'static str>,
    /// For a list: ids or objects.
    pub items: ListItems,
    /// Answered when the id names no object (get, update, delete).
    pub not_found: Option<ResourceErrcode>,
    /// Answered when a create names an id that exists; `None`: the create replaces it.
    pub duplicate: Option<ResourceErrcode>,
    /// Reads and validates the request with its generated `FromWire` and `validate()`.
    pub check: fn(WireInput<'_>) -> Result<(), WireCheck>,
}

/// [`ResourceDecl::check`] for request type `E`.
pub fn check_wire<E: Endpoint + FromWire>(input: WireInput<'_>) -> Result<(), WireCheck> {
    let request = E::from_wire(input).map_err(WireCheck::Wire)?;
    request.validate().map_err(WireCheck::Invalid)
}
