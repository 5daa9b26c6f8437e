//! The endpoint registry: one typed handler per spec endpoint, wrapped in WeCom's pipeline.
//!
//! An area registers its handlers with [`Registry::add`]; the registry reads the endpoint's
//! [`EndpointMeta`] (method, path, credential), and for each call:
//! counts it, applies injected faults, checks the HTTP method, authenticates the credential as
//! WeCom does (41001 / 40014 / 42001 / 48002 / 93000), applies the per-API rate limit (45009),
//! parses the request with the generated `FromWire` (47001 for malformed JSON), runs the
//! generated `validate()` (the spec's errcode, else 40058), then calls the handler and
//! serializes its typed response with `errcode: 0, errmsg: "ok"` in front.
//!
//! ```ignore
//! // src/areas/contacts.rs
//! pub fn register(r: &mut Registry) {
//!     r.add::<UserGetRequest, _, _>(user_get);
//! }
//! async fn user_get(ctx: Ctx, req: UserGetRequest) -> Result<UserGetResponse, ApiError> {
//!     let corp = ctx.state().corp();
//!     let m = corp.check_user_visible(ctx.actor()?, &req.userid)?;
//!     Ok(UserGetResponse { userid: m.userid.clone(), /* ... */ })
//! }
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use wecom_core_auth::__private::{FromWire, ResourceDecl, WireError, WireInput};
use wecom_core_auth::{CredentialKind, Endpoint, EndpointMeta, InvalidInput, Method};

use crate::corp::Actor;
use crate::error::ApiError;
use crate::state::State;

/// The raw request as it arrived, for [`WireRequest::parse_wire`].
#[derive(Debug, Clone, Copy)]
pub struct Wire<'a> {
    /// Query pairs, percent-decoded, without the credential (`access_token` / robot `key`).
    pub query: &'a [(String, String)],
    /// The body bytes (empty for GET).
    pub body: &'a [u8],
    /// The `Content-Type` header, when sent (multipart uploads need its boundary).
    pub content_type: Option<&'a str>,
    /// The `Range` header, when sent (media/get of large files).
    pub range: Option<&'a str>,
}

/// A request type the sandbox can read off the wire: every generated request type, through its
/// generated `FromWire` (the area crates' `server` feature), and the sandbox's own wrappers.
pub trait WireRequest: Endpoint + Sized + Send + 'static {
    /// Parses the request. Errors are WeCom's: 47001 for malformed JSON, the missing field's
    /// errcode (or 40058) for a missing or mistyped field, 44001 for an unreadable upload.
    fn parse_wire(wire: &Wire<'_>) -> Result<Self, ApiError>;
}

impl<T: Endpoint + FromWire + Send + 'static> WireRequest for T {
    fn parse_wire(wire: &Wire<'_>) -> Result<Self, ApiError> {
        let input = if T::MULTIPART {
            let parts = crate::multipart::parse(wire)?
                .into_iter()
                .map(|p| (p.name.clone(), p.into_upload()))
                .collect();
            WireInput::multipart(wire.query, parts)
        } else {
            WireInput::json(wire.query, wire.body)
        };
        T::from_wire(input).map_err(|e| wire_error(&e))
    }
}

/// Maps a parse failure of the generated `FromWire` to WeCom's error: 47001 (data format
/// error) when the body is not a JSON object, WeCom's "missing parameter" code for well-known
/// fields (41002 corpid, 41004 secret, 41009 userid, 41011 agentid, ...), else 40058.
pub fn wire_error(e: &WireError) -> ApiError {
    match e {
        WireError::MalformedJson { message } => ApiError::new(
            47001,
            format!("data format error, hint: the body must be a JSON object ({message})"),
        ),
        WireError::Missing { field } => {
            let code = missing_errcode(field);
            ApiError::new(
                code,
                format!("{field} missing, hint: the required field `{field}` is absent"),
            )
        }
        WireError::Invalid { field, message } => ApiError::new(
            40058,
            format!("invalid Request Parameter, hint: field `{field}` is malformed: {message}"),
        ),
    }
}

/// WeCom's errcode for a missing required field, when it has a specific one.
pub fn missing_errcode(field: &str) -> i64 {
    match field {
        "access_token" => 41001,
        "corpid" => 41002,
        "corpsecret" | "secret" => 41004,
        "media_id" => 41006,
        "code" => 41008,
        "userid" => 41009,
        "url" => 41010,
        "agentid" => 41011,
        "title" => 41016,
        "tagid" => 41017,
        "tagname" => 41018,
        "department" => 60127,
        "description" => 41033,
        _ => 40058,
    }
}

/// What WeCom does with a parsed request before acting on it: cuts the fields it truncates
/// ("超过将截断"; on a character boundary here, where WeCom's byte cut can split a character),
/// then checks the rest (`validate()`).
fn accept<E: Endpoint>(mut req: E) -> Result<E, ApiError> {
    for t in req.truncate(true) {
        tracing::info!(endpoint = E::META.name, "sandbox cut {t}, as WeCom does");
    }
    req.validate().map_err(|e| invalid_input_error(&e))?;
    Ok(req)
}

/// Maps a failed `validate()` to WeCom's answer: the spec's errcode for that constraint, or
/// 40058 (invalid parameter) when the spec names none.
pub fn invalid_input_error(e: &InvalidInput) -> ApiError {
    ApiError::new(
        e.errcode.unwrap_or(40058),
        format!("invalid `{}`: {}", e.field, e.problem),
    )
}

/// Who is calling, as established from the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credential (gettoken).
    Anonymous,
    /// An app's access_token.
    App(u32),
    /// The contact-sync secret's access_token.
    Contact,
    /// A group robot, by its chat name.
    Robot(String),
    /// A system app's own secret (客户联系, 审批 ...).
    System(wecom_core_auth::SystemApp),
}

impl Caller {
    /// The directory actor (scope and tag ownership), for app and contact-sync callers.
    pub fn actor(&self) -> Option<Actor> {
        match self {
            Caller::App(a) => Some(Actor::App(*a)),
            Caller::Contact => Some(Actor::Contact),
            _ => None,
        }
    }
}

/// What a handler gets besides its request: the sandbox state and the authenticated caller.
#[derive(Clone)]
pub struct Ctx {
    state: Arc<State>,
    caller: Caller,
    remote: SocketAddr,
    meta: EndpointMeta,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("endpoint", &self.meta.name)
            .field("caller", &self.caller)
            .finish()
    }
}

impl Ctx {
    pub(crate) fn new(
        state: Arc<State>,
        caller: Caller,
        remote: SocketAddr,
        meta: EndpointMeta,
    ) -> Self {
        Self {
            state,
            caller,
            remote,
            meta,
        }
    }

    /// The sandbox state (corp, inboxes, media, clock ...).
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Who is calling.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The directory actor; 48002 for a caller without one (no token, robot key).
    pub fn actor(&self) -> Result<Actor, ApiError> {
        self.caller.actor().ok_or_else(|| {
            ApiError::api_forbidden("this API needs an app or contact-sync access_token")
        })
    }

    /// The calling app's agentid; 48002 for the contact-sync token (it is no app).
    pub fn agentid(&self) -> Result<u32, ApiError> {
        match self.caller {
            Caller::App(a) => Ok(a),
            _ => Err(ApiError::api_forbidden(
                "this API needs an app's access_token, not the contact-sync one",
            )),
        }
    }

    /// The client's address.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// The endpoint being served.
    pub fn meta(&self) -> &EndpointMeta {
        &self.meta
    }
}

/// A binary answer (media/get): bytes with their content type and file name.
#[derive(Debug, Clone)]
pub struct Binary {
    /// The bytes.
    pub bytes: Bytes,
    /// `Content-Type`.
    pub content_type: String,
    /// File name for `Content-disposition`.
    pub filename: String,
    /// For an answer to a `Range` request: `(first, last, total)` byte positions, sent as
    /// HTTP 206 with `Content-Range: bytes first-last/total`.
    pub range: Option<(u64, u64, u64)>,
}

/// A handler's successful answer, before the envelope.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A serialized JSON object (without errcode/errmsg).
    Json(Vec<u8>),
    /// Raw bytes.
    Binary(Binary),
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Dispatch = dyn for<'a> Fn(Ctx, &Wire<'a>) -> BoxFuture<Result<Answer, ApiError>> + Send + Sync;

/// One registered endpoint.
pub(crate) struct Route {
    pub(crate) meta: EndpointMeta,
    /// Served by the generic resource engine; a hand-written handler replaces it.
    pub(crate) generic: bool,
    pub(crate) success_errmsg: &'static str,
    pub(crate) wrong_credential_errcode: Option<i64>,
    pub(crate) dispatch: Box<Dispatch>,
}

/// Options of a registered endpoint, returned by [`Registry::add`].
#[derive(Debug)]
pub struct RouteOptions<'a> {
    success_errmsg: &'a mut &'static str,
    wrong_credential_errcode: &'a mut Option<i64>,
}

impl RouteOptions<'_> {
    /// The errmsg of a successful answer (`created`, `updated`, `deleted`; default `ok`).
    pub fn errmsg(self, errmsg: &'static str) -> Self {
        *self.success_errmsg = errmsg;
        self
    }

    /// The errcode answered when a valid token of the wrong kind is used (default 48002), e.g.
    /// 42012 for ticket/get with the contact-sync token.
    pub fn wrong_credential(self, errcode: i64) -> Self {
        *self.wrong_credential_errcode = Some(errcode);
        self
    }
}

/// Every endpoint the sandbox serves, by path under `/cgi-bin/`.
#[derive(Default)]
pub struct Registry {
    routes: BTreeMap<String, Route>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.routes.values().map(|r| r.meta.name))
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of endpoint `E` (at `E::META.path`, replacing any earlier one).
    pub fn add<E, F, Fut>(&mut self, handler: F) -> RouteOptions<'_>
    where
        E: WireRequest,
        E::Response: Serialize,
        F: Fn(Ctx, E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<E::Response, ApiError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let dispatch: Box<Dispatch> = Box::new(move |ctx: Ctx, wire: &Wire<'_>| {
            let parsed = E::parse_wire(wire).and_then(accept::<E>);
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let resp = handler(ctx, parsed?).await?;
                let json = serde_json::to_vec(&resp).map_err(|e| {
                    ApiError::new(
                        -1,
                        format!("system busy (sandbox could not serialize the answer: {e})"),
                    )
                })?;
                Ok(Answer::Json(json))
            })
        });
        self.insert(E::META, dispatch)
    }

    /// Registers the handler of a binary endpoint (media/get): it answers raw bytes.
    pub fn add_binary<E, F, Fut>(&mut self, handler: F) -> RouteOptions<'_>
    where
        E: WireRequest,
        F: Fn(Ctx, E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Binary, ApiError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let dispatch: Box<Dispatch> = Box::new(move |ctx: Ctx, wire: &Wire<'_>| {
            let parsed = E::parse_wire(wire).and_then(accept::<E>);
            let handler = Arc::clone(&handler);
            Box::pin(async move { Ok(Answer::Binary(handler(ctx, parsed?).await?)) })
        });
        self.insert(E::META, dispatch)
    }

    fn insert(&mut self, meta: EndpointMeta, dispatch: Box<Dispatch>) -> RouteOptions<'_> {
        let path = meta.path.trim_matches('/').to_owned();
        let route = Route {
            meta,
            generic: false,
            success_errmsg: "ok",
            wrong_credential_errcode: None,
            dispatch,
        };
        let slot = match self.routes.entry(path) {
            std::collections::btree_map::Entry::Occupied(mut o) => {
                o.insert(route);
                o.into_mut()
            }
            std::collections::btree_map::Entry::Vacant(v) => v.insert(route),
        };
        RouteOptions {
            success_errmsg: &mut slot.success_errmsg,
            wrong_credential_errcode: &mut slot.wrong_credential_errcode,
        }
    }

    /// Serves the resource endpoints an area declares (its generated `RESOURCES` table) with
    /// the generic resource engine ([`crate::resources`]). A hand-written handler for the same
    /// path wins, whether it is registered before or after.
    pub fn add_resources(&mut self, table: &'static [ResourceDecl]) {
        for decl in table {
            let path = decl.meta.path.trim_matches('/').to_owned();
            if self.routes.contains_key(&path) {
                continue;
            }
            let dispatch: Box<Dispatch> = Box::new(move |ctx: Ctx, wire: &Wire<'_>| {
                let answer = crate::resources::check(decl, wire)
                    .and_then(|()| crate::resources::serve(decl, &ctx, wire))
                    .and_then(|map| {
                        serde_json::to_vec(&map).map_err(|e| {
                            ApiError::new(
                                wecom_core_auth::ErrorCode::SYSTEM_BUSY,
                                format!(
                                    "system busy (sandbox could not serialize the answer: {e})"
                                ),
                            )
                        })
                    });
                Box::pin(async move { Ok(Answer::Json(answer?)) })
            });
            self.routes.insert(
                path,
                Route {
                    meta: decl.meta,
                    generic: true,
                    success_errmsg: "ok",
                    wrong_credential_errcode: None,
                    dispatch,
                },
            );
        }
    }

    /// The spec names of the endpoints served by the generic resource engine, sorted.
    pub fn resource_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .routes
            .values()
            .filter(|r| r.generic)
            .map(|r| r.meta.name)
            .collect();
        v.sort_unstable();
        v
    }

    /// The spec names of every registered endpoint, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.routes.values().map(|r| r.meta.name).collect();
        v.sort_unstable();
        v
    }

    /// The metadata of every registered endpoint, by path.
    pub fn endpoints(&self) -> Vec<EndpointMeta> {
        self.routes.values().map(|r| r.meta).collect()
    }

    pub(crate) fn route(&self, path: &str) -> Option<&Route> {
        self.routes.get(path)
    }
}

/// Whether a credential kind accepts a caller, and what to answer otherwise.
pub(crate) fn check_kind(
    kind: CredentialKind,
    caller: &Caller,
    wrong: Option<i64>,
) -> Result<(), ApiError> {
    let ok = match kind {
        CredentialKind::None => true,
        CredentialKind::App => matches!(caller, Caller::App(_)),
        CredentialKind::Contact => matches!(caller, Caller::Contact),
        CredentialKind::AppOrContact => matches!(caller, Caller::App(_) | Caller::Contact),
        CredentialKind::RobotKey => matches!(caller, Caller::Robot(_)),
        // The sandbox treats every app as listed under the system app's 可调用应用.
        CredentialKind::SystemOrApp(app) => match caller {
            Caller::System(a) => *a == app,
            Caller::App(_) => true,
            _ => false,
        },
    };
    if ok {
        return Ok(());
    }
    let what = match kind {
        CredentialKind::Contact => {
            "this API needs the contact-sync secret's access_token; an app's token may not write the directory"
        }
        CredentialKind::App => "this API needs an app's access_token",
        _ => "this credential may not call this API",
    };
    Err(match wrong {
        Some(code) => ApiError::new(
            code,
            format!("the credential does not fit this API: {what}"),
        ),
        None => ApiError::api_forbidden(what),
    })
}

/// The method as WeCom's endpoint expects it.
pub(crate) fn method_matches(expected: Method, actual: &http::Method) -> bool {
    match expected {
        Method::Get => actual == http::Method::GET,
        Method::Post => actual == http::Method::POST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_kinds_as_wecom_enforces_them() {
        let app = Caller::App(1);
        let contact = Caller::Contact;
        let robot = Caller::Robot("chat".into());
        let code =
            |kind, caller: &Caller, wrong| check_kind(kind, caller, wrong).map_err(|e| e.errcode);
        assert_eq!(
            code(CredentialKind::Contact, &app, None),
            Err(48002),
            "an app token may not write the directory"
        );
        assert_eq!(code(CredentialKind::Contact, &contact, None), Ok(()));
        assert_eq!(code(CredentialKind::App, &contact, None), Err(48002));
        assert_eq!(code(CredentialKind::App, &contact, Some(42012)), Err(42012));
        assert_eq!(code(CredentialKind::AppOrContact, &app, None), Ok(()));
        assert_eq!(code(CredentialKind::AppOrContact, &contact, None), Ok(()));
        assert_eq!(code(CredentialKind::AppOrContact, &robot, None), Err(48002));
        assert_eq!(code(CredentialKind::RobotKey, &robot, None), Ok(()));
        assert_eq!(code(CredentialKind::None, &Caller::Anonymous, None), Ok(()));
        use wecom_core_auth::SystemApp;
        let customers = CredentialKind::SystemOrApp(SystemApp::ExternalContact);
        let external = Caller::System(SystemApp::ExternalContact);
        let approval = Caller::System(SystemApp::Approval);
        assert_eq!(code(customers, &external, None), Ok(()));
        assert_eq!(
            code(customers, &app, None),
            Ok(()),
            "an app under 可调用应用"
        );
        assert_eq!(
            code(customers, &approval, None),
            Err(48002),
            "another system app's token"
        );
        assert_eq!(code(customers, &contact, None), Err(48002));
        assert_eq!(code(CredentialKind::App, &external, None), Err(48002));
        assert_eq!(
            code(CredentialKind::AppOrContact, &external, None),
            Err(48002)
        );
    }

    #[test]
    fn methods_and_missing_fields() {
        assert!(method_matches(Method::Get, &http::Method::GET));
        assert!(!method_matches(Method::Post, &http::Method::GET));
        assert!(!method_matches(Method::Get, &http::Method::PUT));
        assert_eq!(missing_errcode("userid"), 41009);
        assert_eq!(missing_errcode("agentid"), 41011);
        assert_eq!(missing_errcode("whatever"), 40058);
        let e = wire_error(&WireError::MalformedJson {
            message: "eof".into(),
        });
        assert_eq!(e.errcode, 47001);
    }
}
