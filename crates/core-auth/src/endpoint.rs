//! The seam between generated code and the transport.
//!
//! Every endpoint declared in `spec/` becomes a request struct implementing [`Endpoint`]. The
//! generated code never talks HTTP itself: it says *what* to send (method, path, query, body,
//! which credential, whether a retry is safe) and how to decode the answer, and
//! [`Client::execute`](crate::Client::execute) does the rest (token, transport, envelope, retries).

use bytes::Bytes;

use crate::error::InvalidInput;

/// HTTP method of an endpoint. WeCom only uses these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    /// The method as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Which credential an endpoint needs. Declared per endpoint in the spec (`credential = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    /// No credential (for example `gettoken` itself).
    None,
    /// The `access_token` of the selected app (agentid + its secret).
    App,
    /// The `access_token` of the contact-sync secret (通讯录同步). Writes to the directory need it;
    /// calling such an endpoint on a client without that secret is an error before any I/O.
    Contact,
    /// Directory reads: the contact-sync token when the client has that secret, otherwise the
    /// selected app's token (which only sees the app's visible scope).
    AppOrContact,
    /// A group robot's `key` in the query string instead of a token (`webhook/send`).
    RobotKey,
    /// An area served by a WeCom system app that has its own secret (客户联系, 审批, 打卡 ...):
    /// the token of that secret when the client has it
    /// ([`ClientBuilder::system_secret`](crate::ClientBuilder::system_secret)), otherwise the
    /// selected app's token, which WeCom accepts when the admin listed the app under the system
    /// app's 可调用应用 (or granted it the area's API permission).
    SystemOrApp(SystemApp),
}

/// A WeCom system app (基础应用 / 管理工具) whose Secret calls an area of the API on its own,
/// as an alternative to a self-built app granted access to that area. Each has its secret in the
/// admin console, on the system app's page under "API".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SystemApp {
    /// 客户联系 (customer contact): `externalcontact/*`.
    ExternalContact,
    /// 微信客服 (WeChat customer service): `kf/*`.
    Kf,
    /// 审批 (approvals): `oa/approval*`, `oa/getapprovalinfo` ...
    Approval,
    /// 打卡 (check-in): `checkin/*`.
    Checkin,
    /// 汇报 (journals): `oa/journal/*`.
    Journal,
    /// 微盘 (WeDrive): `wedrive/*`.
    Wedrive,
    /// 家校沟通 (school): `school/*`, `externalcontact/*` of the school directory.
    School,
    /// 会话内容存档 (message archive): `msgaudit/*`.
    MsgAudit,
    /// 公费电话 (corp-paid calls): `dial/*`.
    Dial,
}

impl SystemApp {
    /// Every system app, in declaration order.
    pub const ALL: [SystemApp; 9] = [
        SystemApp::ExternalContact,
        SystemApp::Kf,
        SystemApp::Approval,
        SystemApp::Checkin,
        SystemApp::Journal,
        SystemApp::Wedrive,
        SystemApp::School,
        SystemApp::MsgAudit,
        SystemApp::Dial,
    ];

    /// The snake_case name used in the spec (`credential = "external_contact"`), in token-store
    /// keys and in configuration (`WECOM_EXTERNAL_CONTACT_SECRET` in the CLI).
    pub const fn name(self) -> &'static str {
        match self {
            SystemApp::ExternalContact => "external_contact",
            SystemApp::Kf => "kf",
            SystemApp::Approval => "approval",
            SystemApp::Checkin => "checkin",
            SystemApp::Journal => "journal",
            SystemApp::Wedrive => "wedrive",
            SystemApp::School => "school",
            SystemApp::MsgAudit => "msg_audit",
            SystemApp::Dial => "dial",
        }
    }

    /// The app's name in the admin console, with an English gloss, for messages.
    pub const fn title(self) -> &'static str {
        match self {
            SystemApp::ExternalContact => "客户联系 (customer contact)",
            SystemApp::Kf => "微信客服 (WeChat customer service)",
            SystemApp::Approval => "审批 (approvals)",
            SystemApp::Checkin => "打卡 (check-in)",
            SystemApp::Journal => "汇报 (journals)",
            SystemApp::Wedrive => "微盘 (WeDrive)",
            SystemApp::School => "家校沟通 (school)",
            SystemApp::MsgAudit => "会话内容存档 (message archive)",
            SystemApp::Dial => "公费电话 (corp-paid calls)",
        }
    }

    /// The app named `name` (see [`SystemApp::name`]).
    pub fn from_name(name: &str) -> Option<SystemApp> {
        SystemApp::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for SystemApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an endpoint may be sent again after a failure whose outcome is unknown
/// (timeout, dropped connection, HTTP 5xx, errcode -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetrySafety {
    /// Reads and idempotent writes: retried with backoff on transient failures.
    Idempotent,
    /// Never retried automatically once it may have reached WeCom.
    NotIdempotent,
    /// Made safe by WeCom's duplicate check (`message/send`): the client turns the check on
    /// (see [`Endpoint::enable_duplicate_check`]) for every attempt, so a retry never delivers twice.
    DuplicateCheck,
}

/// How the answer of an endpoint is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// A JSON object with `errcode`/`errmsg` plus the endpoint's fields.
    Json,
    /// Raw bytes (media/get); a JSON body in their place is an error envelope.
    Binary,
    /// A JSON batch answer that names its failed items in this list field. WeCom answers a
    /// partial failure with the first failed item's errcode at the top *and* the list (家校
    /// batch calls: `result_list`); the client then returns the decoded answer, so the caller
    /// sees which items failed and why, instead of an error that drops the list. A non-zero
    /// errcode without a non-empty list is an error as usual.
    JsonWithFailures(&'static str),
}

/// Static facts about one endpoint, emitted by the generator from the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointMeta {
    /// The spec name, e.g. `user_get`.
    pub name: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path under `/cgi-bin/`, e.g. `user/get` (no leading slash, no placeholders left).
    pub path: &'static str,
    /// Which credential goes into the query string.
    pub credential: CredentialKind,
    /// Whether a retry is safe.
    pub retry: RetrySafety,
    /// Shape of the answer.
    pub response: ResponseKind,
    /// Link to WeCom's documentation of this endpoint.
    pub doc_url: &'static str,
}

/// One part of a `multipart/form-data` body (media uploads).
#[derive(Debug)]
pub struct MultipartPart {
    /// The form field name, e.g. `media`.
    pub name: &'static str,
    /// The content to send.
    pub upload: crate::Upload,
}

/// The body of a request, as the generated code describes it.
#[derive(Debug)]
pub enum RequestBody {
    /// No body (GET).
    Empty,
    /// A serialized JSON body.
    Json(Bytes),
    /// A multipart upload.
    Multipart(Vec<MultipartPart>),
}

/// Query pairs of a request, in order. The credential (`access_token` or robot `key`) is added by
/// the client and never appears here.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends `name=value` (the value is percent-encoded when the URL is built).
    pub fn push(&mut self, name: &'static str, value: impl Into<String>) {
        self.pairs.push((name, value.into()));
    }
    /// The pairs in order.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }
}

/// A request WeCom understands. Implemented by the generated request structs; hand-written code
/// implements it only where the spec cannot say something.
pub trait Endpoint: Send + Sync + Sized {
    /// What a successful call returns.
    type Response: Send + 'static;

    /// Static facts from the spec.
    const META: EndpointMeta;

    /// Checks the spec's constraints. Called by the client before any I/O.
    fn validate(&self) -> Result<(), InvalidInput>;

    /// The query string pairs, without the credential.
    fn query(&self) -> Query;

    /// The request body.
    fn body(&self) -> Result<RequestBody, crate::Error>;

    /// Decodes the body of a successful answer (the client has already checked `errcode == 0`
    /// for JSON answers).
    fn decode(body: Bytes) -> Result<Self::Response, crate::error::DecodeError>;

    /// Extra HTTP headers (name, value), e.g. `Range` for `media/get`. None by default.
    fn headers(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// Fields of this request longer than WeCom keeps, where WeCom cuts instead of refusing
    /// (spec `truncate = true`): cut them on a character boundary when `apply`, and report each.
    /// With `apply == false` nothing changes (a dry run). None by default.
    fn truncate(&mut self, apply: bool) -> Vec<crate::Truncated> {
        let _ = apply;
        Vec::new()
    }

    /// For [`RetrySafety::DuplicateCheck`] endpoints: switch WeCom's duplicate check on (unless the
    /// caller set it explicitly) so that resending the same request never delivers twice.
    /// `default_interval_secs` is the client's configured window.
    fn enable_duplicate_check(&mut self, default_interval_secs: u32) {
        let _ = default_interval_secs;
    }
}
