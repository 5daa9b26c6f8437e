//! Calls by name or by path, with JSON in and JSON out.
//!
//! - [`Client::raw`] reaches an endpoint the spec does not have yet: method, path, query and JSON
//!   body given at run time, sent through the same pipeline as every generated call (the token of
//!   the credential kind you choose, cached and refreshed; a rejected token re-fetched and the
//!   call sent once more; transient failures retried only when the call is safe to resend; typed
//!   [`Error`]s; tokens masked in every error and log line).
//! - [`JsonEndpoint`] is one row of the `CALLS` table that `cargo xtask gen` writes into every
//!   area: the typed request read from JSON, checked by its `validate()` and sent with
//!   [`Client::execute`]. Tools (the `wecom api` command) use it to call any endpoint by name.

use std::borrow::Cow;

use bytes::Bytes;
use http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::__private::BoxFuture;
use crate::client::Client;
use crate::endpoint::{CredentialKind, Endpoint, EndpointMeta, Method};
use crate::error::{DecodeError, Error, InvalidInput};

/// The endpoint name raw calls carry in errors and traces.
pub(crate) const RAW_NAME: &str = "raw";

/// A call to any path under `/cgi-bin/`, built by [`Client::raw`]. Send it with
/// [`RawCall::send`]; the answer is the JSON object WeCom returned (with `errcode` 0; any other
/// errcode is an [`Error::Api`] whose [`ErrorCode`](crate::ErrorCode) explains it).
///
/// Retries: a `GET` is resent after a transient failure (timeout, HTTP 5xx, errcode -1); a `POST`
/// is not, unless you say it is safe with [`RawCall::idempotent`]. A rejected token
/// (40001/40014/42001) is always refreshed and the call sent once more: WeCom did not run it.
///
/// ```no_run
/// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
/// use wecom_core_auth::{CredentialKind, Method};
/// // An endpoint the spec does not declare yet, with the app's token.
/// let answer = client
///     .raw(Method::Post, "externalcontact/get_follow_user_list")
///     .json(serde_json::json!({}))
///     .credential(CredentialKind::App)
///     .send()
///     .await?;
/// println!("{}", answer["follow_user"]);
/// // A GET with a query string.
/// let user = client
///     .raw(Method::Get, "user/get")
///     .query("userid", "zhangsan")
///     .credential(CredentialKind::AppOrContact)
///     .send()
///     .await?;
/// # let _ = user;
/// # Ok(()) }
/// ```
#[must_use = "a raw call does nothing until `.send().await`"]
pub struct RawCall {
    client: Client,
    parts: RawParts,
}

/// Shows the method, path, query names, credential and body size: never a query value or the
/// body, which may carry a secret (`gettoken`'s `corpsecret`).
impl std::fmt::Debug for RawCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.parts;
        let names: Vec<&str> = p.query.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RawCall")
            .field("method", &p.method)
            .field("path", &p.path)
            .field("query_names", &names)
            .field("credential", &p.credential)
            .field("idempotent", &p.idempotent)
            .field("json_body", &p.body.is_some())
            .field("body_len", &p.bytes.as_ref().map(|(_, b)| b.len()))
            .finish_non_exhaustive()
    }
}

/// What a raw call sends (also what the pipeline reads).
#[derive(Clone)]
pub(crate) struct RawParts {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<serde_json::Value>,
    pub(crate) credential: CredentialKind,
    pub(crate) idempotent: Option<bool>,
    /// A body sent as it is, with its content type (a proxy forwarding what it received).
    pub(crate) bytes: Option<(String, Bytes)>,
    /// Answer WeCom's reply as it came ([`RawCall::send_verbatim`]).
    pub(crate) verbatim: bool,
}

impl Client {
    /// A call to `path` (under `/cgi-bin/`, e.g. `externalcontact/list`; a leading `/` or
    /// `/cgi-bin/` is accepted) with `method`, for an endpoint the spec does not have yet. It
    /// uses the app's token unless you choose another [`CredentialKind`]. See [`RawCall`].
    pub fn raw(&self, method: Method, path: impl Into<String>) -> RawCall {
        RawCall {
            client: self.clone(),
            parts: RawParts {
                method,
                path: path.into(),
                query: Vec::new(),
                body: None,
                credential: CredentialKind::App,
                idempotent: None,
                bytes: None,
                verbatim: false,
            },
        }
    }
}

impl RawCall {
    /// Appends `name=value` to the query string (percent-encoded when sent). The credential
    /// (`access_token` or `key`) is added by the client: passing it here is an error.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.query.push((name.into(), value.into()));
        self
    }

    /// The JSON body (sent as `application/json`). A `POST` without one sends `{}`.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.parts.body = Some(body);
        self
    }

    /// A body sent as it is, with its content type (for example a `multipart/form-data` upload
    /// received by a proxy). Replaces [`RawCall::json`].
    pub fn body(mut self, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        self.parts.bytes = Some((content_type.into(), body.into()));
        self.parts.body = None;
        self
    }

    /// Which token the call carries (default [`CredentialKind::App`]); `None` sends none.
    pub fn credential(mut self, kind: CredentialKind) -> Self {
        self.parts.credential = kind;
        self
    }

    /// Says whether sending the call twice is harmless (a read, or an idempotent write), so
    /// that it may be resent after a transient failure. By default a `GET` is and a `POST` is not.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.parts.idempotent = Some(idempotent);
        self
    }

    /// Sends the call and returns WeCom's JSON answer (`errcode` 0). Errors: bad input (the path,
    /// a query name) before any I/O, then the same typed errors as every call.
    pub async fn send(self) -> Result<serde_json::Value, Error> {
        let RawCall { client, mut parts } = self;
        if parts.method == Method::Post && parts.body.is_none() && parts.bytes.is_none() {
            parts.body = Some(serde_json::Value::Object(serde_json::Map::new()));
        }
        let sel = client.selection();
        client.inner.call_raw(&sel, parts, decode_value).await
    }

    /// Sends the call and returns WeCom's answer as it came: a JSON answer with any final
    /// `errcode` (the caller reads it), or a file. A rejected token is still refreshed and the call
    /// sent once more, and transient failures are still retried when safe; when those run out,
    /// or before any I/O, the error is returned as with [`RawCall::send`]. For proxies.
    pub async fn send_verbatim(self) -> Result<RawAnswer, Error> {
        let RawCall { client, mut parts } = self;
        parts.verbatim = true;
        let sel = client.selection();
        client.inner.call_raw(&sel, parts, answer_as_is).await
    }
}

impl RawParts {
    /// The path under `/cgi-bin/`, checked: no query, fragment, `..`, or characters WeCom's paths
    /// do not use; and no credential among the query names.
    pub(crate) fn checked_path(&self) -> Result<Cow<'_, str>, Error> {
        let bad =
            |problem: String| Error::from(InvalidInput::new("path", problem).in_context(RAW_NAME));
        let path = self.path.trim();
        let path = path.strip_prefix('/').unwrap_or(path);
        let path = path.strip_prefix("cgi-bin/").unwrap_or(path);
        if path.is_empty() {
            return Err(bad(
                "is empty; give the path under /cgi-bin/, e.g. `user/get`".into(),
            ));
        }
        if path.contains('?') || path.contains('#') {
            return Err(bad(format!(
                "`{path}` carries a query string; pass each pair with `.query(name, value)`"
            )));
        }
        if path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(bad(format!(
                "`{path}` has an empty, `.` or `..` segment; give a path like `externalcontact/list`"
            )));
        }
        if let Some(c) = path
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.')))
        {
            return Err(bad(format!(
                "`{path}` contains {c:?}; WeCom paths use letters, digits, `_`, `-`, `.` and `/`"
            )));
        }
        for (name, _) in &self.query {
            if name == "access_token"
                || (name == "key" && self.credential == CredentialKind::RobotKey)
            {
                return Err(Error::from(
                    InvalidInput::new(
                        format!("query `{name}`"),
                        "is the credential, which the client adds itself; remove it and choose the token with `.credential(..)`",
                    )
                    .in_context(RAW_NAME),
                ));
            }
            if name.is_empty() {
                return Err(Error::from(
                    InvalidInput::new("query", "has an empty name").in_context(RAW_NAME),
                ));
            }
        }
        Ok(Cow::Borrowed(path))
    }

    /// Whether a resend after a transient failure is safe.
    pub(crate) fn retry_safe(&self) -> bool {
        self.idempotent.unwrap_or(self.method == Method::Get)
    }
}

/// Reads a successful raw answer.
pub(crate) fn decode_value(body: Bytes, _: &HeaderMap) -> Result<serde_json::Value, DecodeError> {
    serde_json::from_slice(&body).map_err(|e| DecodeError::new(e.to_string(), &body))
}

fn answer_as_is(body: Bytes, headers: &HeaderMap) -> Result<RawAnswer, DecodeError> {
    let header = |name: http::header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(http::header::CONTENT_TYPE);
    let errcode = if body.first() == Some(&b'{') {
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .map(|v| {
                v.get("errcode")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0)
            })
    } else {
        None
    };
    Ok(RawAnswer {
        content_type,
        content_disposition: header(http::header::CONTENT_DISPOSITION),
        errcode,
        body,
    })
}

/// WeCom's answer to [`RawCall::send_verbatim`], as it came.
#[derive(Clone)]
#[non_exhaustive]
pub struct RawAnswer {
    /// The answer's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The answer's `Content-Disposition` (a file's name), if any.
    pub content_disposition: Option<String>,
    /// The `errcode` of a JSON answer (0 when it has none); `None` for a file.
    pub errcode: Option<i64>,
    /// The body.
    pub body: Bytes,
}

impl std::fmt::Debug for RawAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawAnswer")
            .field("content_type", &self.content_type)
            .field("errcode", &self.errcode)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// One endpoint of the spec, callable with JSON: its static facts and a function that reads the
/// typed request from a JSON object (query and body fields by their wire names), checks it with
/// its `validate()` and sends it with [`Client::execute`], answering the typed answer as JSON.
///
/// `cargo xtask gen` writes a `CALLS` table of these into every area (every endpoint with a JSON
/// answer and no file upload).
///
/// ```no_run
/// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
/// let ticket = wecom_core_auth::generated::auth::CALLS
///     .iter()
///     .find(|e| e.meta.name == "get_jsapi_ticket")
///     .expect("in the spec");
/// let answer = (ticket.call)(client, serde_json::json!({})).await?;
/// # let _ = answer;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct JsonEndpoint {
    /// The endpoint's static facts (name, method, path, credential, retry safety, doc link).
    pub meta: EndpointMeta,
    /// Reads, validates and sends the request; answers the typed answer as JSON.
    pub call: for<'a> fn(
        &'a Client,
        serde_json::Value,
    ) -> BoxFuture<'a, Result<serde_json::Value, Error>>,
}

/// The `call` of a [`JsonEndpoint`] for the request type `E` (used by generated code).
#[doc(hidden)]
pub fn json_call<E>(
    client: &Client,
    json: serde_json::Value,
) -> BoxFuture<'_, Result<serde_json::Value, Error>>
where
    E: Endpoint + DeserializeOwned + 'static,
    E::Response: Serialize,
{
    Box::pin(async move {
        let request: E = from_json::<E>(json)?;
        let answer = client.execute(request).await?;
        serde_json::to_value(&answer).map_err(|e| Error::Decode {
            endpoint: E::META.name,
            source: DecodeError::new(format!("the answer could not be shown as JSON: {e}"), b""),
        })
    })
}

/// Reads `E` from a JSON object, with an error naming the field and the endpoint.
fn from_json<E: Endpoint + DeserializeOwned>(json: serde_json::Value) -> Result<E, Error> {
    let name = E::META.name;
    if !json.is_object() {
        return Err(InvalidInput::new(
            "request",
            format!("must be a JSON object of the endpoint's fields, not {json}"),
        )
        .in_context(name)
        .into());
    }
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "request".to_owned()
        } else {
            path
        };
        let msg = e.into_inner().to_string();
        // A missing field is reported at its parent: name the field itself.
        match msg
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            Some(missing) => {
                let field = if field == "request" {
                    missing.to_owned()
                } else {
                    format!("{field}.{missing}")
                };
                InvalidInput::new(field, "is required but missing")
            }
            None => InvalidInput::new(field, msg),
        }
        .in_context(name)
        .into()
    })
}
