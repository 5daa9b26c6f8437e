//! The spec format: what a `spec/*.toml` file may say.
//!
//! These types are the single definition of the format. `cargo xtask gen` writes `spec/schema.json`
//! from them (schemars), so editors can validate spec files; every table denies unknown keys, so a
//! misspelt key is an error with its file and line rather than something silently ignored.
//!
//! A spec file looks like this:
//!
//! ```toml
//! [area]
//! name = "contacts"            # module and accessor name: client.contacts()
//! crate_dir = "crates/contacts" # where the generated code goes (src/generated/)
//! crate_name = "wecom_contacts"
//! doc = "Departments, members and tags."
//!
//! [[endpoint]]
//! name = "user_get"
//! method = "GET"
//! path = "user/get"
//! credential = "app_or_contact"
//! doc = "Reads one member."
//! doc_url = "https://developer.work.weixin.qq.com/document/path/90196"
//! doc_updated = "2025-03-06"
//! [endpoint.query]
//! userid = { type = "string", required = true, bytes = [1, 64], errcode = 40003, doc = "The member's userid." }
//! [endpoint.response]
//! userid = { type = "string", required = true }
//! department = { type = "[u32]" }
//!
//! [model.Department]
//! doc = "A department."
//! [model.Department.fields]
//! id = { type = "u32", required = true }
//!
//! [enum.MediaType]
//! repr = "string"
//! values = [{ value = "image", name = "Image" }, { value = "file", name = "File" }]
//!
//! [union.MessageContent]
//! tag = "msgtype"
//! style = "named"
//! variants = [{ value = "text", model = "Text" }]
//! ```
//!
//! ## Types
//! A field's `type` is one of:
//! - a scalar: `string`, `bool`, `i32`, `i64`, `u32`, `u64`, `f64`, `json` (any JSON value),
//!   `flag` (a Rust `bool` sent as `0`/`1`), `secret` (a string never shown in Debug output),
//!   `upload` (a file part of a multipart body; only in `[endpoint.multipart]`);
//! - the name of a `model`, `enum` or `union` declared in any spec file;
//! - `[T]`: a JSON array of `T`;
//! - `pipe[T]`: a list sent as one string joined with `|` (WeCom's `"a|b"` lists), a `Vec<T>` in Rust;
//!   `T` is `string`, an integer type or an enum.
//!
//! Query fields are scalars, enums or `pipe[T]`; `upload` parts live only in `[endpoint.multipart]`;
//! `flatten` merges a required model or union into its parent object. A required field with a
//! single allowed value (`values = ["agent_config"]`) is set by the generated `new()` and is not
//! one of its arguments. `cargo xtask gen` reports every mistake with its file and line.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

/// A name with the position it was written at, for error messages.
pub type Name = Spanned<String>;

/// One `spec/<area>.toml` file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// Where the generated code goes and how the area is named.
    pub area: Area,
    /// The endpoints of this area, in the order they are documented.
    #[serde(default)]
    pub endpoint: Vec<Endpoint>,
    /// Shared structs, referenced by name from fields (`type = "Department"` or `"[Department]"`).
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Model>")]
    pub model: IndexMap<Name, Model>,
    /// Enumerations; each generated enum also keeps values WeCom adds later (`Unknown`).
    #[serde(default, rename = "enum")]
    #[schemars(with = "IndexMap<String, Enum>")]
    pub enums: IndexMap<Name, Enum>,
    /// Tagged unions such as message bodies tagged by `msgtype`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Union>")]
    pub union: IndexMap<Name, Union>,
}

/// The `[area]` table.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// snake_case name; the client accessor (`client.contacts()`) and the generated module are named after it.
    #[schemars(with = "String")]
    pub name: Name,
    /// Directory of the crate that receives the generated code, relative to the workspace root.
    pub crate_dir: String,
    /// The Rust name of that crate (`wecom_contacts`); generated code refers to itself through it.
    pub crate_name: String,
    /// Crate-level summary of the area (becomes the generated module's doc).
    pub doc: String,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum HttpMethod {
    /// `GET`: fields go to the query string.
    #[serde(rename = "GET")]
    Get,
    /// `POST`: a JSON or multipart body, plus query fields.
    #[serde(rename = "POST")]
    Post,
}

/// Which credential an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// None (gettoken).
    None,
    /// The selected app's access_token.
    App,
    /// The contact-sync secret's access_token; an error before I/O when the client has no such secret.
    Contact,
    /// Directory reads: contact-sync token when configured, else the app's (limited to its visible scope).
    AppOrContact,
    /// A group robot's `key` in the query string.
    RobotKey,
    /// 客户联系: its secret's token when configured, else the app's (an app under 可调用应用).
    ExternalContact,
    /// 微信客服: its secret's token when configured, else the app's.
    Kf,
    /// 审批: its secret's token when configured, else the app's.
    Approval,
    /// 打卡: its secret's token when configured, else the app's.
    Checkin,
    /// 汇报: its secret's token when configured, else the app's.
    Journal,
    /// 微盘: its secret's token when configured, else the app's.
    Wedrive,
    /// 家校沟通: its secret's token when configured, else the app's.
    School,
    /// 会话内容存档: its secret's token when configured, else the app's.
    MsgAudit,
    /// 公费电话: its secret's token when configured, else the app's.
    Dial,
}

impl Credential {
    /// For a system app's credential: the `wecom_core_auth::SystemApp` variant, the spec name,
    /// and the app's title.
    pub fn system_app(self) -> Option<(&'static str, &'static str, &'static str)> {
        Some(match self {
            Credential::ExternalContact => ("ExternalContact", "external_contact", "客户联系"),
            Credential::Kf => ("Kf", "kf", "微信客服"),
            Credential::Approval => ("Approval", "approval", "审批"),
            Credential::Checkin => ("Checkin", "checkin", "打卡"),
            Credential::Journal => ("Journal", "journal", "汇报"),
            Credential::Wedrive => ("Wedrive", "wedrive", "微盘"),
            Credential::School => ("School", "school", "家校沟通"),
            Credential::MsgAudit => ("MsgAudit", "msg_audit", "会话内容存档"),
            Credential::Dial => ("Dial", "dial", "公费电话"),
            Credential::None
            | Credential::App
            | Credential::Contact
            | Credential::AppOrContact
            | Credential::RobotKey => return None,
        })
    }
}

/// Whether a call may be retried when its outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Retry {
    /// Safe to resend (reads, idempotent writes). Default for GET.
    Idempotent,
    /// Never resent once it may have reached WeCom. Default for POST.
    No,
    /// Made safe by WeCom's duplicate check; needs `duplicate_check` on the endpoint.
    DuplicateCheck,
}

/// How the answer is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseKind {
    /// JSON with errcode/errmsg and the `[endpoint.response]` fields.
    #[default]
    Json,
    /// Raw bytes (media/get); a JSON body instead is an error envelope.
    Binary,
}

/// The duplicate-check switch of an endpoint (`retry = "duplicate_check"`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateCheck {
    /// The body field that turns the check on (a `flag`), e.g. `enable_duplicate_check`.
    pub flag: String,
    /// The body field holding the window in seconds, e.g. `duplicate_check_interval`.
    pub interval: String,
}

/// One `[[endpoint]]`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// snake_case; becomes the client method (`user_get`) and the type names (`UserGetRequest`).
    #[schemars(with = "String")]
    pub name: Name,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path under `/cgi-bin/` (`user/get`). A query part may name query fields as placeholders
    /// (`media/upload?type={type}`, as WeCom documents it): they are sent with the other query
    /// fields. WeCom paths have no parameters in their segments, so `user/{id}` is an error.
    #[schemars(with = "String")]
    pub path: Name,
    /// Which credential the call needs.
    pub credential: Credential,
    /// Retry safety; defaults to `idempotent` for GET and `no` for POST.
    #[serde(default)]
    pub retry: Option<Retry>,
    /// The fields that make `retry = "duplicate_check"` work.
    #[serde(default)]
    pub duplicate_check: Option<DuplicateCheck>,
    /// What the call does, in a sentence or two (becomes the method's doc comment).
    pub doc: String,
    /// WeCom's documentation page.
    pub doc_url: String,
    /// The page's "最后更新" date as read (`"2024-07-23"`); `cargo xtask gen` lists endpoints
    /// without one, or with one more than a year old.
    #[serde(default)]
    pub doc_updated: Option<String>,
    /// Override of the request type name (default: `<Name>Request`).
    #[serde(default)]
    pub request_type: Option<String>,
    /// Override of the response type name (default: `<Name>Response`), or the name of a model to reuse.
    #[serde(default)]
    pub response_type: Option<String>,
    /// Query string fields.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Field>")]
    pub query: IndexMap<Name, Field>,
    /// JSON body fields (POST only).
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Field>")]
    pub body: IndexMap<Name, Field>,
    /// multipart/form-data parts (POST only; type `upload`).
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Field>")]
    pub multipart: IndexMap<Name, Field>,
    /// Cross-field rules on the request.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// A hand-written check of the request, for a rule the spec cannot express: the path of a
    /// function `fn(&Request) -> Result<(), wecom_core_auth::InvalidInput>` in the area's crate
    /// (`crate::rules::check_send`). The generated `validate()` calls it after the declared
    /// constraints, so every way of sending the request runs it.
    #[serde(default)]
    pub check: Option<String>,
    /// Shape of the answer.
    #[serde(default)]
    pub response_kind: ResponseKind,
    /// Fields of a JSON answer besides errcode/errmsg.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Field>")]
    pub response: IndexMap<Name, Field>,
    /// A batch call whose page answers a partial failure with the first failed item's errcode at
    /// the top and every failed item in this response list (`result_list` of the 家校 batch
    /// calls): the client then hands the answer over instead of an error, so the per-item list
    /// is not lost. A list field of `response`.
    #[serde(default)]
    pub failures: Option<String>,
    /// The endpoint is one operation on a sandbox resource, served by the sandbox's generic
    /// resource engine unless a hand-written handler is registered (see [`Resource`]).
    #[serde(default)]
    pub resource: Option<Resource>,
}

/// A struct shared between endpoints.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// What it is.
    #[serde(default)]
    pub doc: String,
    /// Its fields, in wire order.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, Field>")]
    pub fields: IndexMap<Name, Field>,
    /// Cross-field rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// A hand-written check of the model (see `Endpoint::check`): `fn(&Model) -> Result<(), InvalidInput>`.
    #[serde(default)]
    pub check: Option<String>,
}

/// A field of a request, response or model, with its constraints.
///
/// Length bounds are inclusive `[min, max]` pairs. `errcode` is what WeCom answers when a
/// constraint of this field is broken; the client's pre-I/O error and the sandbox both cite it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field's type (see the module docs).
    #[serde(rename = "type")]
    #[schemars(with = "String")]
    pub ty: Name,
    /// Must be present (request: a `new()` argument; response: not an `Option`).
    #[serde(default)]
    pub required: bool,
    /// What it means.
    #[serde(default)]
    pub doc: String,
    /// Rust name when the wire name is not a good identifier (`UserId` -> `user_id`).
    #[serde(default)]
    pub rust_name: Option<String>,
    /// Merge the fields of this model or union into the parent object (message bodies).
    #[serde(default)]
    pub flatten: bool,
    /// Length in bytes of a string (UTF-8), inclusive.
    #[serde(default)]
    pub bytes: Option<[u64; 2]>,
    /// Length in characters (Unicode scalar values) of a string, inclusive.
    #[serde(default)]
    pub chars: Option<[u64; 2]>,
    /// WeCom cuts a longer value at the `bytes` or `chars` maximum instead of refusing it (the
    /// page says "超过将截断"): validation checks only the minimum; the client cuts the value on a
    /// character boundary (or refuses it with `ClientBuilder::strict_lengths`), the sandbox cuts it
    /// as WeCom does. A string with exactly one of `bytes` / `chars`.
    #[serde(default)]
    pub truncate: bool,
    /// Number of items of a list, inclusive.
    #[serde(default)]
    pub items: Option<[u64; 2]>,
    /// Numeric range, inclusive.
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    /// A regular expression the whole string must match (anchor it with `^...$`).
    #[serde(default)]
    pub pattern: Option<String>,
    /// The only allowed values (strings or integers).
    #[serde(default)]
    #[schemars(with = "Option<Vec<serde_json::Value>>")]
    pub values: Option<Vec<toml::Value>>,
    /// Constraints on each item of a list.
    #[serde(default)]
    pub each: Option<ItemConstraints>,
    /// The errcode WeCom answers when this field breaks a constraint.
    #[serde(default)]
    pub errcode: Option<i64>,
    /// An example value for docs and OpenAPI.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub example: Option<toml::Value>,
}

/// Constraints on each item of a list field.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemConstraints {
    /// Length in bytes, inclusive.
    #[serde(default)]
    pub bytes: Option<[u64; 2]>,
    /// Length in characters, inclusive.
    #[serde(default)]
    pub chars: Option<[u64; 2]>,
    /// Numeric range, inclusive.
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    /// A regular expression each item must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The errcode WeCom answers for a bad item.
    #[serde(default)]
    pub errcode: Option<i64>,
}

/// A rule across fields of one request or model.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// At least one of these fields must be present and non-empty.
    #[serde(default)]
    pub at_least_one_of: Option<Vec<String>>,
    /// These list fields must have the same length when present.
    #[serde(default)]
    pub same_length: Option<Vec<String>>,
    /// The errcode WeCom answers when the rule is broken.
    #[serde(default)]
    pub errcode: Option<i64>,
    /// The message of the error, when the default wording is not clear enough.
    #[serde(default)]
    pub message: Option<String>,
}

/// How enum values travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnumRepr {
    /// As JSON strings.
    String,
    /// As JSON integers.
    Int,
}

/// An enumeration.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enum {
    /// What it is.
    #[serde(default)]
    pub doc: String,
    /// Wire representation.
    pub repr: EnumRepr,
    /// The known values; anything else decodes to `Unknown(..)` and re-encodes unchanged.
    pub values: Vec<EnumValue>,
}

/// One value of an enum.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// The wire value: a string for `repr = "string"`, an integer for `repr = "int"`.
    #[schemars(with = "serde_json::Value")]
    pub value: Spanned<toml::Value>,
    /// The Rust variant name (PascalCase).
    pub name: String,
    /// What it means.
    #[serde(default)]
    pub doc: String,
}

/// Where a union's variant content sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnionStyle {
    /// `{"msgtype": "text", "text": {...}}`: the content under a key named like the tag value.
    Named,
    /// `{"card_type": "text_notice", ...fields}`: the content's fields beside the tag.
    Internal,
}

/// A tagged union. Unknown tags decode to `Unknown(json)` and re-encode unchanged.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Union {
    /// What it is.
    #[serde(default)]
    pub doc: String,
    /// The tag's key, e.g. `msgtype`.
    pub tag: String,
    /// Where the content sits.
    pub style: UnionStyle,
    /// The variants.
    pub variants: Vec<Variant>,
}

/// One variant of a union.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The tag value, e.g. `text`.
    #[schemars(with = "String")]
    pub value: Name,
    /// The Rust variant name (default: the tag value in PascalCase).
    #[serde(default)]
    pub name: Option<String>,
    /// The model (or union) holding the content; none for a variant without content.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub model: Option<Name>,
    /// What it means.
    #[serde(default)]
    pub doc: String,
}

/// `spec/errcodes.toml`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrcodesFile {
    /// Every error code.
    pub code: Vec<Errcode>,
}

/// The class of an error code: what a caller should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Success (0).
    Ok,
    /// Retry with backoff.
    Transient,
    /// Credential problem: refresh the token, or fix the secret.
    Token,
    /// Frequency or concurrency limit: back off for the window.
    RateLimit,
    /// Not allowed for this app, secret or IP.
    Permission,
    /// Bad request data.
    Input,
    /// The thing referred to does not exist.
    NotFound,
    /// Already exists, or conflicts with the current state.
    Conflict,
    /// Anything else.
    Other,
}

/// One error code.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Errcode {
    /// The number.
    #[schemars(with = "i64")]
    pub code: Spanned<i64>,
    /// Official Chinese name.
    pub zh: String,
    /// English meaning.
    pub en: String,
    /// Class.
    pub class: ErrorClass,
    /// What to do about it.
    #[serde(default)]
    pub fix: Option<String>,
}

/// `[endpoint.resource]`: the endpoint is one operation on a resource the sandbox keeps
/// (calendars, meeting rooms, corp tags ...), so the sandbox serves it without a hand-written
/// handler:
///
/// ```toml
/// [endpoint.resource]
/// name = "calendar"           # endpoints naming the same resource share its objects
/// op = "get"                  # create, get, update, delete or list
/// id = "cal_id"               # the id: a request field (dotted for nested: calendar.cal_id)
/// # create only: id_from = "request" (the caller names the id) or "response" (WeCom answers it)
/// # for get/update/delete: the errcode for an unknown id, with its authority; a caller-named
/// # id's create may also say `duplicate = { ... }` (absent: the create replaces the object)
/// not_found = { code = 40058, generic = "what the page leaves unsaid" }
/// ```
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// The resource's name (snake_case).
    #[schemars(with = "String")]
    pub name: Name,
    /// The operation.
    pub op: ResourceOp,
    /// The id field. For get/update/delete (and a create with `id_from = "request"`): the
    /// request field naming the object, a query or body field, dotted for a field nested in a
    /// body object (`calendar.cal_id`). For a create with `id_from = "response"`: the response
    /// field WeCom answers the new id in.
    pub id: String,
    /// Create only: whether the caller names the id (`request`) or WeCom assigns it and answers
    /// it in the response field `id` (`response`).
    #[serde(default)]
    pub id_from: Option<IdFrom>,
    /// Get: the response field the object sits under (default: its fields at top level).
    /// List: the response field holding the list (required).
    #[serde(default)]
    pub field: Option<String>,
    /// List: whether the list holds ids (default) or the objects.
    #[serde(default)]
    pub items: Option<ListItems>,
    /// The errcode for an id naming no object (get, update, delete; required for them).
    #[serde(default)]
    pub not_found: Option<ResourceErrcode>,
    /// The errcode for a create naming an id that exists; absent: the create replaces the object
    /// (only with `id_from = "request"`).
    #[serde(default)]
    pub duplicate: Option<ResourceErrcode>,
}

/// An operation on a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceOp {
    /// Stores the request as a new object and answers its id.
    Create,
    /// Answers one object by id.
    Get,
    /// Merges the request into an object.
    Update,
    /// Removes an object.
    Delete,
    /// Answers every object or id.
    List,
}

/// Where a created object's id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdFrom {
    /// The caller names it in the request.
    Request,
    /// WeCom assigns it and answers it.
    Response,
}

/// What a list answer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListItems {
    /// The ids.
    Ids,
    /// The stored objects.
    Objects,
}

/// A resource errcode and its authority: exactly one of `doc_url` (the WeCom page that names this
/// code for this resource) or `generic` (why a generic code is used: what the page leaves unsaid).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceErrcode {
    /// The errcode (listed in `spec/errcodes.toml`).
    pub code: i64,
    /// The WeCom page documenting it for this resource.
    #[serde(default)]
    pub doc_url: Option<String>,
    /// The page is silent: say what it leaves unsaid; the sandbox answers the generic `code`.
    #[serde(default)]
    pub generic: Option<String>,
}
