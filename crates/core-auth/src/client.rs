//! The [`Client`]: credentials, configuration and the call pipeline
//! (validate -> credential -> HTTP -> envelope -> typed answer or typed error, with retries).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tracing::Instrument;

use crate::clock::{Clock, Sleep, SystemClock, TokioSleep};
use crate::endpoint::{
    CredentialKind, Endpoint, RequestBody, ResponseKind, RetrySafety, SystemApp,
};
use crate::error::{
    ApiError, ConfigError, DecodeError, Error, ErrorClass, TransportError, TransportErrorKind,
};
use crate::generated::auth::{GetJsapiTicketRequest, GettokenRequest, TicketGetRequest};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::token::{
    AppRef, Fetch, MemoryTokenStore, RefresherHandle, Slot, SlotSource, TokenCache, TokenKind,
    TokenPolicy, TokenStore, TokenUse,
};
use crate::transport::BoxFuture;
use crate::transport::{HttpBody, HttpRequest, ReqwestConfig, ReqwestTransport, Transport};

/// The User-Agent sent by default.
pub const DEFAULT_USER_AGENT: &str = concat!("wecom-rs/", env!("CARGO_PKG_VERSION"));
/// WeCom's API host.
pub const DEFAULT_BASE_URL: &str = "https://qyapi.weixin.qq.com";

/// Characters left as they are in query values: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Errcodes on a business call that mean "this token is no longer good": drop it (if it is still
/// the cached one) and send the call once more with a fresh one.
const TOKEN_REJECTED: &[i64] = &[40001, 40014, 42001];

/// A WeCom client for one corp: its apps' and contact-sync credentials, the token and ticket
/// cache, the HTTP transport and the retry policy.
///
/// Cheap to clone (an `Arc` inside); clones share the cache. Calls that need an app's token use
/// the selected app: the first one given to the builder, or the one chosen with
/// [`Client::agent`].
///
/// ```no_run
/// # async fn demo() -> Result<(), wecom_core_auth::Error> {
/// use wecom_core_auth::{Client, Secret};
/// let client = Client::builder("ww0123456789abcdef")
///     .app(1000002, Secret::new(std::env::var("WECOM_SECRET").unwrap_or_default()))
///     .contact_secret(Secret::new(std::env::var("WECOM_CONTACT_SECRET").unwrap_or_default()))
///     .build()?;
/// let token = client.access_token().await?; // cached; refreshed ahead of expiry
/// println!("{client:?}");                    // no secret or token in there
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    pub(crate) agent: Option<usize>,
    pub(crate) robot: Option<Arc<Secret>>,
    /// Set on a downstream corp's handle ([`Client::downstream`]): every token-authenticated
    /// call carries this slot's token instead of the corp's own.
    pub(crate) downstream: Option<Arc<Slot>>,
}

pub(crate) struct AppSlots {
    pub(crate) agentid: u32,
    pub(crate) token: Arc<Slot>,
    pub(crate) jsapi: Arc<Slot>,
    pub(crate) agent_config: Arc<Slot>,
}

pub(crate) struct Inner {
    pub(crate) corpid: String,
    /// `{base}/cgi-bin/`
    pub(crate) api_base: String,
    base_url: String,
    pub(crate) apps: Vec<AppSlots>,
    pub(crate) contact: Option<Arc<Slot>>,
    /// System apps' own secrets (客户联系, 审批 ...), at most one per app.
    pub(crate) system: Vec<(SystemApp, Arc<Slot>)>,
    /// Downstream corps' tokens (上下游 / 企业互联), one slot per (upstream app number, downstream
    /// corpid, downstream agentid, business_type), created by [`Client::downstream`].
    pub(crate) downstream: std::sync::Mutex<crate::downstream::DownstreamSlots>,
    /// The token and ticket cache; it fetches through this `Inner` (as its [`Fetch`]).
    pub(crate) cache: Arc<TokenCache>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) timeout: Duration,
    upload_timeout: Duration,
    retry: RetryPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleep: Arc<dyn Sleep>,
    duplicate_check_secs: u32,
    strict_lengths: bool,
    proxy_display: Option<String>,
    user_agent: String,
}

/// Builds a [`Client`]. Start with [`Client::builder`].
pub struct ClientBuilder {
    corpid: String,
    apps: Vec<(u32, Secret)>,
    contact: Option<Secret>,
    system: Vec<(SystemApp, Secret)>,
    base_url: String,
    pub(crate) timeout: Duration,
    connect_timeout: Duration,
    upload_timeout: Duration,
    proxy: Option<String>,
    user_agent: String,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    store: Option<Arc<dyn TokenStore>>,
    policy: TokenPolicy,
    duplicate_check: Duration,
    strict_lengths: bool,
    transport: Option<Arc<dyn Transport>>,
}

impl Client {
    /// Starts building a client for the corp `corpid`.
    pub fn builder(corpid: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            corpid: corpid.into(),
            apps: Vec::new(),
            contact: None,
            system: Vec::new(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            upload_timeout: Duration::from_secs(600),
            proxy: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            sleep: Arc::new(TokioSleep),
            store: None,
            policy: TokenPolicy::default(),
            duplicate_check: Duration::from_secs(1800),
            strict_lengths: false,
            transport: None,
        }
    }

    /// A handle on the same client (same cache) whose app-token calls use app `agentid`.
    /// Fails when the builder was not given that app.
    pub fn agent(&self, agentid: u32) -> Result<Client, Error> {
        match self.inner.apps.iter().position(|a| a.agentid == agentid) {
            Some(i) => Ok(Client {
                inner: Arc::clone(&self.inner),
                agent: Some(i),
                robot: self.robot.clone(),
                // Another app of the corp itself: `downstream` again to act as a downstream corp.
                downstream: None,
            }),
            None => Err(ConfigError::new(
                format!(
                    "app {agentid} is not configured on this client (configured: {:?})",
                    self.agentids()
                ),
                format!("add it with `ClientBuilder::app({agentid}, secret)`"),
            )
            .into()),
        }
    }

    /// A handle on the same client whose group-robot calls (`webhook/send`) use `key`.
    pub fn robot(&self, key: impl Into<Secret>) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            agent: self.agent,
            robot: Some(Arc::new(key.into())),
            downstream: self.downstream.clone(),
        }
    }

    /// The corp.
    pub fn corpid(&self) -> &str {
        &self.inner.corpid
    }

    /// The selected app's agentid (`None` when the client has no app); on a downstream handle
    /// ([`Client::downstream`]), the agentid of the app it acts as in the downstream corp (what
    /// `message/send` and other calls naming the calling app need there).
    pub fn agentid(&self) -> Option<u32> {
        if let Some(slot) = &self.downstream
            && let AppRef::Agent(agentid) = slot.key.app()
        {
            return Some(agentid);
        }
        self.agent.map(|i| self.inner.apps[i].agentid)
    }

    /// Every configured app's agentid, in builder order.
    pub fn agentids(&self) -> Vec<u32> {
        self.inner.apps.iter().map(|a| a.agentid).collect()
    }

    /// Whether the contact-sync secret is configured.
    pub fn has_contact_secret(&self) -> bool {
        self.inner.contact.is_some()
    }

    /// Whether the secret of the system app `app` is configured (see
    /// [`ClientBuilder::system_secret`]).
    pub fn has_system_secret(&self, app: SystemApp) -> bool {
        self.inner.system.iter().any(|(a, _)| *a == app)
    }

    /// The base URL (`https://qyapi.weixin.qq.com` unless overridden), as given: it may carry
    /// credentials (`user:password@`); show it with [`redact::mask_userinfo`](crate::redact::mask_userinfo).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The clock the cache reads.
    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    /// Sends `request`: validates it (an error before any I/O), adds the credential its endpoint
    /// needs, sends it, checks `errcode` and decodes the answer. Transient failures are retried
    /// per the [`RetryPolicy`] when the endpoint is safe to resend; a rejected token is refreshed
    /// and the call sent once more.
    pub fn execute<E: Endpoint>(
        &self,
        request: E,
    ) -> impl Future<Output = Result<E::Response, Error>> + Send {
        let inner = Arc::clone(&self.inner);
        let sel = self.selection();
        async move { inner.call(&sel, request).await }
    }

    /// The selected app's access_token (cached; fetched or refreshed when needed); on a
    /// downstream handle ([`Client::downstream`]), the downstream corp's token.
    /// You rarely need it: [`Client::execute`] adds it for you. Never log it.
    pub async fn access_token(&self) -> Result<Secret, Error> {
        if let Some(slot) = &self.downstream {
            return Ok(self.inner.cache.token(slot).await?.value.clone());
        }
        let slot = self.inner.app_slot(self.agent, "access_token")?;
        Ok(self.inner.cache.token(&slot.token).await?.value.clone())
    }

    /// The contact-sync secret's access_token (cached). Never log it.
    pub async fn contact_access_token(&self) -> Result<Secret, Error> {
        let slot = self.inner.contact_slot("contact_access_token")?;
        Ok(self.inner.cache.token(slot).await?.value.clone())
    }

    /// When the selected app's cached access_token expires, if one is cached and outside its
    /// refresh window (no I/O; the same lock-free lookup every call makes).
    pub fn cached_token_expiry(&self) -> Option<std::time::SystemTime> {
        let now = crate::clock::now_millis(&*self.inner.clock);
        let slot = match &self.downstream {
            Some(slot) => slot,
            None => &self.agent.and_then(|i| self.inner.apps.get(i))?.token,
        };
        slot.with_fresh(now, |c| c.expires_at)
            .map(|ms| std::time::UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// The app and robot key this handle's calls use.
    pub(crate) fn selection(&self) -> Selection {
        Selection {
            agent: self.agent,
            robot: self.robot.clone(),
            downstream: self.downstream.clone(),
        }
    }

    pub(crate) fn selected(&self) -> Option<usize> {
        self.agent
    }

    /// Sends a `GET` to an absolute URL that WeCom handed out (the `download_url` of 微盘's
    /// `wedrive/file_download`) through the client's transport, with its timeout; no credential
    /// is added, `headers` (`Cookie`, `Range` ...) are sent as given, and nothing is retried.
    /// A 2xx answer is returned whole (ask for ranges to bound memory); another status is an
    /// [`Error::Transport`] with `Status(code)`. Errors name `endpoint` and show only the URL's
    /// origin: its path and query may carry a ticket.
    pub async fn get_url(
        &self,
        endpoint: &'static str,
        url: &str,
        headers: http::HeaderMap,
    ) -> Result<crate::transport::HttpResponse, Error> {
        // Such URLs carry their ticket in the path or the query: show the origin only.
        let shown = match url::Url::parse(url) {
            Ok(u) => format!("{}/***", u.origin().ascii_serialization()),
            Err(_) => "<unparsable URL>".to_owned(),
        };
        let fail = |kind, message: String| {
            Error::Transport(crate::error::TransportError {
                endpoint,
                method: "GET",
                url: shown.clone(),
                kind,
                message: crate::redact::mask_text(&message),
            })
        };
        let sent = self
            .inner
            .transport
            .send(HttpRequest {
                method: crate::endpoint::Method::Get,
                url: url.to_owned(),
                headers,
                body: HttpBody::Empty,
                timeout: Some(self.inner.timeout),
            })
            .await;
        match sent {
            Ok(resp) if (200..300).contains(&resp.status) => Ok(resp),
            Ok(resp) => Err(fail(
                TransportErrorKind::Status(resp.status),
                crate::redact::body_excerpt(&resp.body, 200),
            )),
            Err(e) => Err(fail(e.kind, e.message)),
        }
    }
}

impl Client {
    /// Starts a task (on the current tokio runtime) that every `every` fetches missing tokens and
    /// refreshes those in their soft window, for every app and the contact-sync secret; tickets
    /// and downstream corps' tokens ([`Client::downstream`], also those of handles made later)
    /// are kept fresh once they have been used. Failures are logged; calls handle them as usual.
    ///
    /// ```no_run
    /// # async fn demo(client: wecom_core_auth::Client) {
    /// let _refresher = client.spawn_refresher(std::time::Duration::from_secs(60));
    /// # }
    /// ```
    #[must_use = "the refresher stops when its handle is dropped; keep the handle"]
    pub fn spawn_refresher(&self, every: Duration) -> RefresherHandle {
        let inner = &self.inner;
        let always = inner
            .apps
            .iter()
            .map(|a| Arc::clone(&a.token))
            .chain(inner.contact.iter().cloned())
            .chain(inner.system.iter().map(|(_, slot)| Arc::clone(slot)))
            .collect();
        let when_used = inner
            .apps
            .iter()
            .flat_map(|a| [Arc::clone(&a.jsapi), Arc::clone(&a.agent_config)])
            .collect();
        // Downstream corps' tokens, read on every round: their handles may be made at any time
        // after the refresher starts. A weak reference, so the refresher keeps no client alive.
        let weak = Arc::downgrade(inner);
        let later = Box::new(move || {
            weak.upgrade()
                .map(|inner| inner.downstream_slots())
                .unwrap_or_default()
        });
        crate::token::spawn_refresher(Arc::clone(&inner.cache), always, when_used, later, every)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("corpid", &i.corpid)
            .field("selected_agentid", &self.agentid())
            .field("downstream", &self.downstream)
            .field("apps", &i.apps.iter().map(|a| &a.token).collect::<Vec<_>>())
            .field("contact", &i.contact)
            .field("robot_key", &self.robot.as_ref().map(|_| "***"))
            .field("base_url", &crate::redact::mask_userinfo(&i.base_url))
            .field("proxy", &i.proxy_display)
            .field("user_agent", &i.user_agent)
            .field("timeout", &i.timeout)
            .field("upload_timeout", &i.upload_timeout)
            .field("retry", &i.retry)
            .field("token_policy", &i.cache.policy)
            .field("duplicate_check_secs", &i.duplicate_check_secs)
            .field("store", &i.cache.store)
            .field("transport", &i.transport)
            .field("clock", &i.clock)
            .field("sleep", &i.sleep)
            .finish()
    }
}

impl ClientBuilder {
    /// Adds a self-built app (agentid and its secret). The first app added is selected by default.
    pub fn app(mut self, agentid: u32, secret: impl Into<Secret>) -> Self {
        self.apps.push((agentid, secret.into()));
        self
    }

    /// Sets the contact-sync secret (通讯录同步), needed for directory writes.
    pub fn contact_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.contact = Some(secret.into());
        self
    }

    /// Sets the own secret of a system app (客户联系, 审批, 打卡, 微信客服 ...; admin console:
    /// the system app's page, "API" > Secret). Endpoints of that area then use its token; without
    /// it they use the selected app's token, which WeCom accepts only for an app the admin listed
    /// under the system app's 可调用应用 (or granted the area's permission). Setting the same app
    /// twice keeps the last secret.
    ///
    /// ```no_run
    /// use wecom_core_auth::{Client, Secret, SystemApp};
    /// # fn demo() -> Result<(), wecom_core_auth::Error> {
    /// let client = Client::builder("ww0123456789abcdef")
    ///     .app(1000002, Secret::new(std::env::var("WECOM_SECRET").unwrap_or_default()))
    ///     .system_secret(
    ///         SystemApp::ExternalContact,
    ///         Secret::new(std::env::var("WECOM_EXTERNAL_CONTACT_SECRET").unwrap_or_default()),
    ///     )
    ///     .build()?;
    /// assert!(client.has_system_secret(SystemApp::ExternalContact));
    /// # Ok(()) }
    /// ```
    pub fn system_secret(mut self, app: SystemApp, secret: impl Into<Secret>) -> Self {
        let secret = secret.into();
        match self.system.iter_mut().find(|(a, _)| *a == app) {
            Some(slot) => slot.1 = secret,
            None => self.system.push((app, secret)),
        }
        self
    }

    /// Refuse, instead of cutting, a field longer than WeCom keeps where WeCom truncates (the
    /// spec's `truncate = true` fields: text message content, textcard and news titles, app chat
    /// names ...). Off by default: the client cuts such a field on a character boundary (WeCom's
    /// own cut can split a UTF-8 character), logs a `tracing` warning naming the field, and sends
    /// the rest, as WeCom would deliver it. On: the request fails before any I/O with an
    /// [`Error::Invalid`] naming the field, its length and the limit.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), wecom_core_auth::Error> {
    /// let client = wecom_core_auth::Client::builder("ww0123456789abcdef")
    ///     .app(1000002, wecom_core_auth::Secret::new("app-secret"))
    ///     .strict_lengths(true)
    ///     .build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn strict_lengths(mut self, strict: bool) -> Self {
        self.strict_lengths = strict;
        self
    }

    /// Overrides `https://qyapi.weixin.qq.com` (a sandbox, a reverse proxy). Paths are appended
    /// under `/cgi-bin/`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Deadline for one HTTP exchange of an ordinary call (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Deadline for connecting (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Deadline for one multipart upload (default 10 minutes).
    pub fn upload_timeout(mut self, timeout: Duration) -> Self {
        self.upload_timeout = timeout;
        self
    }

    /// Sends every request through an HTTP proxy (`http://host:port`, credentials allowed):
    /// for corps whose trusted-IP list (errcode 60020) names the proxy's address.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Sets the User-Agent (default `wecom-rs/VERSION`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Sets the retry policy for transient failures.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the clock the cache reads (tests: [`ManualClock`](crate::clock::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets how the client waits between retries and for another instance's token fetch (default:
    /// tokio's timer). Tests pass the [`ManualClock`](crate::clock::ManualClock) they gave to
    /// [`ClientBuilder::clock`], so that those waits move test time instead of taking real time.
    pub fn sleep(mut self, sleep: impl Sleep) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// Shares tokens through `store` (default: a private [`MemoryTokenStore`]).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Sets refresh windows, cool-downs and lease timings.
    pub fn token_policy(mut self, policy: TokenPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The duplicate-check window set on retried `message/send` calls (default 1800 s, at most 14400 s).
    pub fn duplicate_check_interval(mut self, interval: Duration) -> Self {
        self.duplicate_check = interval;
        self
    }

    /// Replaces the HTTP transport (proxy, timeouts and user agent settings then do not apply).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Builds the client. Fails on an empty corpid or secret, a duplicate agentid, a base URL or
    /// proxy that cannot be used.
    pub fn build(self) -> Result<Client, Error> {
        let corpid = self.corpid.trim().to_owned();
        if corpid.is_empty() {
            return Err(ConfigError::new("the corpid is empty", "pass the corp's ID (My Company > Company Information, starts with `ww`) to Client::builder").into());
        }
        if corpid.contains(|c: char| c == ':' || c.is_whitespace()) {
            return Err(ConfigError::new(
                format!("the corpid `{corpid}` contains `:` or whitespace"),
                "pass the corp's ID as shown in the admin console",
            )
            .into());
        }
        let mut seen = std::collections::HashSet::new();
        for (agentid, secret) in &self.apps {
            if !seen.insert(*agentid) {
                return Err(ConfigError::new(
                    format!("app {agentid} was added twice"),
                    "call ClientBuilder::app once per app",
                )
                .into());
            }
            if secret.expose().trim().is_empty() {
                return Err(ConfigError::new(
                    format!("the secret of app {agentid} is empty"),
                    "pass the app's Secret (App Management > the app > Secret)",
                )
                .into());
            }
        }
        if self
            .contact
            .as_ref()
            .is_some_and(|s| s.expose().trim().is_empty())
        {
            return Err(ConfigError::new(
                "the contact-sync secret is empty",
                "pass the 通讯录同步 Secret to ClientBuilder::contact_secret, or leave it out",
            )
            .into());
        }
        if let Some((app, _)) = self
            .system
            .iter()
            .find(|(_, s)| s.expose().trim().is_empty())
        {
            return Err(ConfigError::new(
                format!("the secret of the system app {} is empty", app.title()),
                "pass the Secret from the system app's page (API > Secret) to ClientBuilder::system_secret, or leave it out",
            )
            .into());
        }
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&base_url).map_err(|e| {
            ConfigError::new(
                format!(
                    "the base URL `{}` is not a URL: {e}",
                    crate::redact::mask_userinfo(&base_url)
                ),
                "pass e.g. `https://qyapi.weixin.qq.com` or `http://127.0.0.1:8080`",
            )
        })?;
        match parsed.scheme() {
            "http" => {}
            "https" if cfg!(feature = "rustls") || self.transport.is_some() => {}
            "https" => {
                return Err(ConfigError::new(
                    format!(
                        "the base URL `{}` is https but this build has no TLS",
                        crate::redact::mask_userinfo(&base_url)
                    ),
                    "enable wecom-core-auth's `rustls` feature (on by default)",
                )
                .into());
            }
            other => {
                return Err(ConfigError::new(
                    format!("the base URL scheme `{other}` is not supported"),
                    "use http or https",
                )
                .into());
            }
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ConfigError::new(
                format!(
                    "the base URL `{}` has a query or fragment",
                    crate::redact::mask_url(&base_url)
                ),
                "pass only scheme, host, port and path",
            )
            .into());
        }
        let transport: Arc<dyn Transport> = match self.transport {
            Some(t) => t,
            None => Arc::new(ReqwestTransport::new(&ReqwestConfig {
                connect_timeout: self.connect_timeout,
                proxy: self.proxy.clone(),
                user_agent: self.user_agent.clone(),
                ..ReqwestConfig::default()
            })?),
        };
        let policy = self.policy;
        let apps: Vec<AppSlots> = self
            .apps
            .into_iter()
            .enumerate()
            .map(|(i, (agentid, secret))| AppSlots {
                agentid,
                token: Arc::new(Slot::new(
                    TokenKind::AccessToken,
                    &corpid,
                    AppRef::Agent(agentid),
                    format!("app {agentid} of corp {corpid}"),
                    SlotSource::AccessToken(secret),
                )),
                jsapi: Arc::new(Slot::new(
                    TokenKind::JsapiTicket,
                    &corpid,
                    AppRef::Agent(agentid),
                    format!("the jsapi_ticket of corp {corpid} (via app {agentid})"),
                    SlotSource::JsapiTicket(i),
                )),
                agent_config: Arc::new(Slot::new(
                    TokenKind::AgentConfigTicket,
                    &corpid,
                    AppRef::Agent(agentid),
                    format!("the agent_config ticket of app {agentid} of corp {corpid}"),
                    SlotSource::AgentConfigTicket(i),
                )),
            })
            .collect();
        let contact = self.contact.map(|secret| {
            Arc::new(Slot::new(
                TokenKind::AccessToken,
                &corpid,
                AppRef::Contact,
                format!("the contact-sync secret of corp {corpid}"),
                SlotSource::AccessToken(secret),
            ))
        });
        let system = self
            .system
            .into_iter()
            .map(|(app, secret)| {
                let slot = Arc::new(Slot::new(
                    TokenKind::AccessToken,
                    &corpid,
                    AppRef::System(app),
                    format!("the {} secret of corp {corpid}", app.title()),
                    SlotSource::AccessToken(secret),
                ));
                (app, slot)
            })
            .collect();
        let agent = if apps.is_empty() { None } else { Some(0) };
        let duplicate_check_secs =
            u32::try_from(self.duplicate_check.as_secs().clamp(1, 14_400)).unwrap_or(1800);
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        // One fetch with its retries: the client's timeout per attempt (gettoken is no upload).
        let fetch_budget = self.timeout.saturating_mul(self.retry.attempts());
        let clock = self.clock;
        let sleep = self.sleep;
        let inner = Arc::new_cyclic(|me: &std::sync::Weak<Inner>| Inner {
            cache: TokenCache::new(
                me.clone(),
                Arc::clone(&clock),
                Arc::clone(&sleep),
                store,
                policy,
                fetch_budget,
            ),
            api_base: format!("{base_url}/cgi-bin/"),
            base_url,
            corpid,
            apps,
            contact,
            system,
            downstream: std::sync::Mutex::default(),
            transport,
            timeout: self.timeout,
            upload_timeout: self.upload_timeout,
            retry: self.retry,
            clock,
            sleep,
            duplicate_check_secs,
            strict_lengths: self.strict_lengths,
            proxy_display: self.proxy.as_deref().map(crate::transport::mask_proxy),
            user_agent: self.user_agent,
        });
        Ok(Client {
            inner,
            agent,
            robot: None,
            downstream: None,
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("corpid", &self.corpid)
            .field(
                "apps",
                &self.apps.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            )
            .field("contact_secret", &self.contact.as_ref().map(|_| "***"))
            .field(
                "system_secrets",
                &self
                    .system
                    .iter()
                    .map(|(a, _)| a.name())
                    .collect::<Vec<_>>(),
            )
            .field("base_url", &crate::redact::mask_userinfo(&self.base_url))
            .field(
                "proxy",
                &self.proxy.as_deref().map(crate::transport::mask_proxy),
            )
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("token_policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Which app and robot key a call uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) agent: Option<usize>,
    pub(crate) robot: Option<Arc<Secret>>,
    /// A downstream corp's token slot: used for every token credential.
    pub(crate) downstream: Option<Arc<Slot>>,
}

enum Credential<'a> {
    None,
    Token(&'a Arc<Slot>),
    Robot(&'a Secret),
}

#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    errcode: i64,
    #[serde(default, borrow)]
    errmsg: Cow<'a, str>,
}

/// A request made ready to send (stage 1): everything that stays the same across attempts.
struct Prepared<'a> {
    name: &'static str,
    method: crate::endpoint::Method,
    response: ResponseKind,
    /// A raw call that wants WeCom's answer as it came, also with a final non-zero errcode.
    verbatim: bool,
    credential: Credential<'a>,
    /// `{api_base}{path}` and the query, without the credential.
    url: String,
    /// What goes before the credential: `?` or `&`.
    sep: char,
    headers: HeaderMap,
    body: RequestBody,
    pub(crate) timeout: Duration,
    /// Whether resending after a transient failure is safe (the endpoint and this body say so).
    retry_safe: bool,
    /// Whether the body can be sent again (a multipart part read from a stream cannot).
    replayable: bool,
}

/// What [`Inner::assemble`] turns into a [`Prepared`] request.
struct Assemble<'a, 'q, Q: Iterator<Item = (&'q str, &'q str)>> {
    name: &'static str,
    method: crate::endpoint::Method,
    path: &'q str,
    response: ResponseKind,
    credential: Credential<'a>,
    query: Q,
    headers: Vec<(&'static str, String)>,
    body: RequestBody,
    retry_safe: bool,
}

/// What [`Inner::classify`] remembers between attempts.
struct Tries {
    /// Attempts so far.
    attempt: u32,
    /// Attempts counted against the retry policy (the first included).
    transient: u32,
    /// Whether the token has been refreshed for this call since the last transient failure.
    token_retried: bool,
    /// Whether an earlier attempt got no answer (and so may have been carried out).
    unanswered: bool,
}

impl Default for Tries {
    fn default() -> Self {
        Self {
            attempt: 0,
            transient: 1,
            token_retried: false,
            unanswered: false,
        }
    }
}

/// What to do after a failed attempt.
enum Next {
    /// Send again now (the token was rejected; a fresh one is fetched).
    SendAgain,
    /// Send again after this pause (a transient failure).
    After(Duration),
    /// Give up with this error.
    Fail(Error),
}

/// Whether a JSON body turns WeCom's duplicate check on (`"enable_duplicate_check": 1`; WeCom
/// names the flag so on every endpoint that has one).
fn duplicate_check_on(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Flag {
        #[serde(default)]
        enable_duplicate_check: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Flag>(body) {
        Ok(Flag {
            enable_duplicate_check: Some(v),
        }) => {
            matches!(&v, serde_json::Value::Bool(true))
                || v.as_i64() == Some(1)
                || v.as_str() == Some("1")
        }
        _ => false,
    }
}

/// The URL of a call as errors show it: the credential's place marked, its value masked.
fn shown_url(url: &str, sep: char, credential: &Credential<'_>) -> String {
    match credential {
        Credential::None => url.to_owned(),
        Credential::Token(_) => format!("{url}{sep}access_token=***"),
        Credential::Robot(_) => format!("{url}{sep}key=***"),
    }
}

/// The cache fetches through the call pipeline: `gettoken` and the ticket endpoints get the
/// same transport, retries and errors as every call.
impl Fetch for Inner {
    fn fetch<'a>(&'a self, source: &'a SlotSource) -> BoxFuture<'a, Result<(Secret, u64), Error>> {
        Box::pin(async move {
            match source {
                SlotSource::AccessToken(secret) => {
                    let request = GettokenRequest::new(self.corpid.clone(), secret.clone());
                    let r = self.call(&Selection::default(), request).await?;
                    Ok((r.access_token, r.expires_in))
                }
                SlotSource::JsapiTicket(app) => {
                    let sel = Selection {
                        agent: Some(*app),
                        ..Selection::default()
                    };
                    let r = self.call(&sel, GetJsapiTicketRequest::new()).await?;
                    Ok((r.ticket, r.expires_in))
                }
                SlotSource::AgentConfigTicket(app) => {
                    let sel = Selection {
                        agent: Some(*app),
                        ..Selection::default()
                    };
                    let r = self.call(&sel, TicketGetRequest::new()).await?;
                    Ok((r.ticket, r.expires_in))
                }
                SlotSource::Downstream {
                    upstream,
                    corpid,
                    agentid,
                    business_type,
                } => {
                    self.fetch_downstream(*upstream, corpid, *agentid, *business_type)
                        .await
                }
            }
        })
    }
}

impl Inner {
    pub(crate) fn app_slot(&self, agent: Option<usize>, what: &str) -> Result<&AppSlots, Error> {
        match agent.and_then(|i| self.apps.get(i)) {
            Some(a) => Ok(a),
            None => Err(ConfigError::new(
                format!("`{what}` needs an app's access_token, but this client has no app"),
                "add one with `ClientBuilder::app(agentid, secret)`",
            )
            .into()),
        }
    }

    pub(crate) fn contact_slot(&self, what: &str) -> Result<&Arc<Slot>, Error> {
        self.contact.as_ref().ok_or_else(|| {
            ConfigError::new(
                format!("`{what}` needs the contact-sync secret (通讯录同步), but this client was built without it"),
                "call `ClientBuilder::contact_secret` with the Secret from Admin console > Security and Management > Management Tools > 通讯录同步",
            )
            .into()
        })
    }

    fn credential<'a>(
        &'a self,
        kind: CredentialKind,
        sel: &'a Selection,
        what: &str,
    ) -> Result<Credential<'a>, Error> {
        if let Some(slot) = &sel.downstream
            && !matches!(kind, CredentialKind::None | CredentialKind::RobotKey)
        {
            // Acting as a downstream corp: its token is the only one valid there, whatever
            // kind of token the endpoint asks of the corp's own apps.
            return Ok(Credential::Token(slot));
        }
        Ok(match kind {
            CredentialKind::None => Credential::None,
            CredentialKind::App => Credential::Token(&self.app_slot(sel.agent, what)?.token),
            CredentialKind::Contact => Credential::Token(self.contact_slot(what)?),
            CredentialKind::AppOrContact => match &self.contact {
                Some(slot) => Credential::Token(slot),
                None => Credential::Token(&self.app_slot(sel.agent, what)?.token),
            },
            CredentialKind::SystemOrApp(app) => match self.system.iter().find(|(a, _)| *a == app) {
                Some((_, slot)) => Credential::Token(slot),
                None => match sel.agent.and_then(|i| self.apps.get(i)) {
                    Some(a) => Credential::Token(&a.token),
                    None => {
                        return Err(ConfigError::new(
                                format!(
                                    "`{what}` needs the {} secret or an app's access_token, but this client has neither",
                                    app.title()
                                ),
                                format!(
                                    "call `ClientBuilder::system_secret(SystemApp::{app:?}, ..)` with the system app's Secret, or add an app listed under its 可调用应用 with `ClientBuilder::app`"
                                ),
                            )
                            .into());
                    }
                },
            },
            CredentialKind::RobotKey => match &sel.robot {
                Some(key) => Credential::Robot(key),
                None => {
                    return Err(ConfigError::new(
                        format!("`{what}` needs a group robot's key"),
                        "select the robot with `Client::robot(key)`",
                    )
                    .into());
                }
            },
        })
    }

    /// The call pipeline. See [`Client::execute`].
    pub(crate) async fn call<E: Endpoint>(
        &self,
        sel: &Selection,
        request: E,
    ) -> Result<E::Response, Error> {
        let run = async {
            let prepared = self.prepare(sel, request)?;
            self.run(prepared, |body, _| E::decode(body)).await
        };
        self.traced(sel, E::META.name, run).await
    }

    /// A raw call ([`Client::raw`](crate::Client::raw)) through the same stages as [`Inner::call`].
    pub(crate) async fn call_raw<T>(
        &self,
        sel: &Selection,
        raw: crate::raw::RawParts,
        decode: fn(Bytes, &HeaderMap) -> Result<T, DecodeError>,
    ) -> Result<T, Error> {
        let run = async {
            let prepared = self.prepare_raw(sel, raw)?;
            self.run(prepared, decode).await
        };
        self.traced(sel, crate::raw::RAW_NAME, run).await
    }

    /// Runs `call` inside the `wecom.call` span (endpoint, agentid, attempt, errcode, duration).
    async fn traced<T>(
        &self,
        sel: &Selection,
        name: &'static str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let agentid = sel.agent.and_then(|i| self.apps.get(i)).map(|a| a.agentid);
        let downstream = sel.downstream.as_ref().map(|s| s.key.corpid());
        let span = tracing::info_span!(
            "wecom.call",
            endpoint = name,
            agentid = agentid.map(tracing::field::display),
            downstream_corpid = downstream.map(tracing::field::display),
            attempt = tracing::field::Empty,
            errcode = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        // No clock reads for a span nobody listens to.
        let started = (!span.is_disabled()).then(Instant::now);
        let result = call.instrument(span.clone()).await;
        if let Some(started) = started {
            span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
        }
        match &result {
            Ok(_) => {
                span.record("errcode", 0);
            }
            Err(e) => {
                if let Some(code) = e.errcode() {
                    span.record("errcode", code);
                }
                span.in_scope(|| tracing::debug!(error = %e, "call failed"));
            }
        }
        result
    }

    /// The pipeline after [`prepare`](Inner::prepare) (or [`prepare_raw`](Inner::prepare_raw)):
    /// per attempt [`credential`](Inner::add_credential), [`attempt`](Inner::attempt) and
    /// [`classify`](Inner::classify) (which decides between a token retry, a transient retry
    /// after a pause, and giving up). `decode` reads a successful answer.
    async fn run<T>(
        &self,
        prepared: Prepared<'_>,
        decode: fn(Bytes, &HeaderMap) -> Result<T, DecodeError>,
    ) -> Result<T, Error> {
        let mut tries = Tries::default();
        loop {
            tries.attempt += 1;
            tracing::Span::current().record("attempt", tries.attempt);
            let (url, used) = self.add_credential(&prepared).await?;
            let err = match self.attempt(&prepared, url, decode).await {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            match self.classify(&prepared, err, used, &mut tries) {
                Next::SendAgain => {}
                Next::After(pause) => self.sleep.sleep(pause).await,
                Next::Fail(e) => return Err(e),
            }
        }
    }

    /// Stage 1, once per call and before any I/O: validates the request, resolves the credential
    /// it needs, turns WeCom's duplicate check on where that makes resending safe, and builds the
    /// URL (without the credential), headers and body.
    fn prepare<'a, E: Endpoint>(
        &'a self,
        sel: &'a Selection,
        mut request: E,
    ) -> Result<Prepared<'a>, Error> {
        let meta = E::META;
        let cut = request.truncate(!self.strict_lengths);
        if let Some(first) = cut.first() {
            if self.strict_lengths {
                return Err(Error::from(
                    crate::InvalidInput::new(
                        first.field.clone(),
                        format!(
                            "is {} {}, over WeCom's {}; WeCom would cut it, and this client refuses instead (ClientBuilder::strict_lengths): shorten it",
                            first.length, first.unit, first.limit
                        ),
                    )
                    .in_context(meta.name),
                )
                .with_endpoint(meta.name));
            }
            for t in &cut {
                tracing::warn!(
                    endpoint = meta.name,
                    field = %t.field,
                    limit = t.limit,
                    unit = %t.unit,
                    length = t.length,
                    "cut a field longer than WeCom keeps (WeCom would truncate it)"
                );
            }
        }
        request
            .validate()
            .map_err(|e| Error::from(e).with_endpoint(meta.name))?;
        let credential = self.credential(meta.credential, sel, meta.name)?;
        if meta.retry == RetrySafety::DuplicateCheck && self.retry.enabled() {
            // Before the first attempt, so that every attempt carries the same flag.
            request.enable_duplicate_check(self.duplicate_check_secs);
        }
        let query = request.query();
        let body = request.body().map_err(|e| e.with_endpoint(meta.name))?;
        let retry_safe = match meta.retry {
            RetrySafety::Idempotent => true,
            RetrySafety::NotIdempotent => false,
            // Only when the check is on in what is sent: a caller may have turned it off
            // (`no_duplicate_check()`), and a resend could then deliver twice.
            RetrySafety::DuplicateCheck => {
                matches!(&body, RequestBody::Json(b) if duplicate_check_on(b))
            }
        };
        self.assemble(Assemble {
            name: meta.name,
            method: meta.method,
            path: meta.path,
            response: meta.response,
            credential,
            query: query.pairs().iter().map(|(n, v)| (*n, v.as_str())),
            headers: request.headers(),
            body,
            retry_safe,
        })
    }

    /// Stage 1 of a raw call: the same checks and assembly as [`prepare`](Inner::prepare) for a
    /// method, path, query and JSON body given at run time.
    fn prepare_raw<'a>(
        &'a self,
        sel: &'a Selection,
        raw: crate::raw::RawParts,
    ) -> Result<Prepared<'a>, Error> {
        let name = crate::raw::RAW_NAME;
        let path = raw.checked_path()?;
        let credential = self.credential(raw.credential, sel, &path)?;
        let mut headers = Vec::new();
        let body = match (&raw.body, &raw.bytes) {
            (_, Some((content_type, bytes))) => {
                headers.push(("content-type", content_type.clone()));
                RequestBody::Json(bytes.clone())
            }
            (Some(json), None) => RequestBody::Json(Bytes::from(json.to_string())),
            (None, None) => RequestBody::Empty,
        };
        let mut prepared = self.assemble(Assemble {
            name,
            method: raw.method,
            path: &path,
            // A verbatim call passes any answer on (JSON or a file); the envelope of a JSON one
            // is still read, so token errors and transient failures are handled as always.
            response: if raw.verbatim {
                ResponseKind::Binary
            } else {
                ResponseKind::Json
            },
            credential,
            query: raw.query.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            headers,
            body,
            retry_safe: raw.retry_safe(),
        })?;
        prepared.verbatim = raw.verbatim;
        Ok(prepared)
    }

    /// The end of stage 1, shared by typed and raw calls: the URL (without the credential),
    /// headers, body, timeout and whether a resend is possible.
    fn assemble<'a, 'q>(
        &'a self,
        call: Assemble<'a, 'q, impl Iterator<Item = (&'q str, &'q str)>>,
    ) -> Result<Prepared<'a>, Error> {
        let Assemble {
            name,
            method,
            path,
            response,
            credential,
            query,
            headers: extra,
            body,
            retry_safe,
        } = call;
        let mut url = String::with_capacity(self.api_base.len() + path.len() + 64);
        url.push_str(&self.api_base);
        url.push_str(path);
        let mut sep = '?';
        for (qname, value) in query {
            url.push(sep);
            url.extend(utf8_percent_encode(qname, QUERY_VALUE));
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY_VALUE));
            sep = '&';
        }
        let mut headers = HeaderMap::new();
        for (hname, value) in extra {
            let hname = HeaderName::from_bytes(hname.as_bytes()).map_err(|_| {
                Error::from(
                    crate::InvalidInput::new(hname, "is not a valid HTTP header name")
                        .in_context(name),
                )
            })?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                Error::from(
                    crate::InvalidInput::new(hname.as_str(), "is not a valid HTTP header value")
                        .in_context(name),
                )
            })?;
            headers.insert(hname, value);
        }
        let replayable = match &body {
            RequestBody::Multipart(parts) => crate::upload::parts_replayable(parts),
            _ => true,
        };
        let timeout = if matches!(body, RequestBody::Multipart(_)) {
            self.upload_timeout
        } else {
            self.timeout
        };
        if let RequestBody::Json(_) = body
            && !headers.contains_key(CONTENT_TYPE)
        {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(Prepared {
            name,
            method,
            response,
            verbatim: false,
            credential,
            url,
            sep,
            headers,
            body,
            timeout,
            retry_safe,
            replayable,
        })
    }

    /// Stage 2, per attempt: the URL with the credential (the cached token, fetched or refreshed
    /// when needed, or the robot key), and which token value it was.
    async fn add_credential(
        &self,
        prepared: &Prepared<'_>,
    ) -> Result<(String, Option<TokenUse>), Error> {
        let mut url = String::with_capacity(prepared.url.len() + 160);
        url.push_str(&prepared.url);
        let mut used = None;
        match &prepared.credential {
            Credential::Token(slot) => {
                url.push(prepared.sep);
                url.push_str("access_token=");
                let encode =
                    |v: &str, out: &mut String| out.extend(utf8_percent_encode(v, QUERY_VALUE));
                used = Some(self.cache.token_into(slot, &mut url, encode).await?);
            }
            Credential::Robot(key) => {
                url.push(prepared.sep);
                url.push_str("key=");
                url.extend(utf8_percent_encode(key.expose(), QUERY_VALUE));
            }
            Credential::None => {}
        }
        Ok((url, used))
    }

    /// Stage 3, per attempt: one HTTP exchange, its answer checked (`errcode`) and decoded.
    async fn attempt<T>(
        &self,
        prepared: &Prepared<'_>,
        url: String,
        decode: fn(Bytes, &HeaderMap) -> Result<T, DecodeError>,
    ) -> Result<T, Error> {
        tracing::trace!(url = %crate::redact::mask_url(&url), "sending");
        let mut headers = prepared.headers.clone();
        let body = match &prepared.body {
            RequestBody::Empty => HttpBody::Empty,
            RequestBody::Json(b) => HttpBody::Bytes(b.clone()),
            RequestBody::Multipart(parts) => match crate::upload::encode_multipart(parts).await {
                Ok((content_type, body)) => {
                    if let Ok(v) = HeaderValue::from_str(&content_type) {
                        headers.insert(CONTENT_TYPE, v);
                    }
                    body
                }
                Err(e) => {
                    return Err(self
                        .transport_error(prepared, TransportErrorKind::Body, e.to_string())
                        .into());
                }
            },
        };
        let sent = self
            .transport
            .send(HttpRequest {
                method: prepared.method,
                url,
                headers,
                body,
                timeout: Some(prepared.timeout),
            })
            .await;
        match sent {
            Ok(resp) if (200..300).contains(&resp.status) => {
                self.read_answer(prepared, resp.body, &resp.headers, decode)
            }
            Ok(resp) => {
                let excerpt = crate::redact::body_excerpt(&resp.body, 200);
                Err(self
                    .transport_error(prepared, TransportErrorKind::Status(resp.status), excerpt)
                    .into())
            }
            Err(e) => Err(self.transport_error(prepared, e.kind, e.message).into()),
        }
    }

    /// Stage 4, after a failed attempt: what to do next.
    ///
    /// - A token error (40001/40014/42001) drops the token used if it is still cached (so a wave
    ///   of them causes one refresh) and sends the call once more: WeCom did not run it.
    /// - A transient failure (-1, 6000, timeouts, HTTP 5xx...) is resent after a backoff, within
    ///   the retry policy, when the call is safe to resend (idempotent, or made safe by WeCom's
    ///   duplicate check) and its body can be sent again.
    /// - Anything else is final. A "not found"/"already exists" answer to a resend after an
    ///   attempt that got no answer says that the first attempt may have succeeded.
    fn classify(
        &self,
        prepared: &Prepared<'_>,
        err: Error,
        used: Option<TokenUse>,
        tries: &mut Tries,
    ) -> Next {
        if let (Error::Api(api), Credential::Token(slot), Some(used)) =
            (&err, &prepared.credential, used)
            && TOKEN_REJECTED.contains(&api.code().code())
        {
            // Dropped only if still cached: a wave of such failures causes one refresh.
            self.cache.invalidate(slot, used);
            if !tries.token_retried && prepared.replayable {
                tries.token_retried = true;
                tracing::info!(errcode = api.code().code(), credential = %slot.label, "token rejected by WeCom; sending the call once more with a fresh one");
                return Next::SendAgain;
            }
        }
        if err.is_retryable()
            && prepared.retry_safe
            && prepared.replayable
            && tries.transient < self.retry.attempts()
        {
            tries.transient += 1;
            tries.unanswered |= !matches!(
                &err,
                Error::Transport(t) if t.kind == TransportErrorKind::Connect
            );
            // A token rejected after this transient failure is a new event (the token was
            // revoked again meanwhile): it may be retried once more. Bounded by the attempts.
            tries.token_retried = false;
            let pause = self.retry.backoff(tries.transient);
            tracing::warn!(error = %err, retry_in_ms = pause.as_millis() as u64, "transient failure; retrying");
            return Next::After(pause);
        }
        Next::Fail(match err {
            Error::Api(mut api)
                if tries.unanswered
                    && matches!(api.class(), ErrorClass::NotFound | ErrorClass::Conflict) =>
            {
                api.after_unanswered_attempt = true;
                Error::Api(api)
            }
            other => other,
        })
    }

    fn transport_error(
        &self,
        prepared: &Prepared<'_>,
        kind: TransportErrorKind,
        message: String,
    ) -> TransportError {
        TransportError {
            endpoint: prepared.name,
            method: prepared.method.as_str(),
            url: crate::redact::mask_url(&shown_url(
                &prepared.url,
                prepared.sep,
                &prepared.credential,
            )),
            kind,
            message: crate::redact::mask_text(&message),
        }
    }

    fn read_answer<T>(
        &self,
        prepared: &Prepared<'_>,
        body: Bytes,
        headers: &HeaderMap,
        decode: fn(Bytes, &HeaderMap) -> Result<T, DecodeError>,
    ) -> Result<T, Error> {
        let name = prepared.name;
        let check_envelope = match prepared.response {
            ResponseKind::Json | ResponseKind::JsonWithFailures(_) => true,
            // Raw bytes, unless WeCom put a JSON error envelope in their place.
            ResponseKind::Binary => {
                let json_type = headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("json") || v.starts_with("text/plain"));
                json_type && body.first() == Some(&b'{')
            }
        };
        // WeCom's success answers begin `{"errcode":0,`: then the envelope needs no parse of its
        // own (the typed decode below reads the body once). Anything else is parsed in full.
        const OK_PREFIX: &[u8] = br#"{"errcode":0,"#;
        if check_envelope && !body.starts_with(OK_PREFIX) {
            let envelope: Envelope<'_> =
                serde_json::from_slice(&body).map_err(|e| Error::Decode {
                    endpoint: name,
                    source: DecodeError::new(e.to_string(), &body),
                })?;
            if envelope.errcode != 0 {
                let api = ApiError::new(name, envelope.errcode, &envelope.errmsg);
                // A verbatim call gets a final answer as it is; a rejected token and a transient
                // failure still go to `classify` (refresh and resend, backoff).
                let final_answer = !TOKEN_REJECTED.contains(&envelope.errcode)
                    && api.class() != ErrorClass::Transient;
                // A batch answer naming its failed items is the caller's to read (the first
                // failure's errcode sits at the top); without the list it is an error as usual.
                let failures_listed = match prepared.response {
                    ResponseKind::JsonWithFailures(list) => {
                        final_answer && lists_items(&body, list)
                    }
                    _ => false,
                };
                let handed_over = failures_listed || (prepared.verbatim && final_answer);
                if !handed_over {
                    return Err(api.into());
                }
                if failures_listed {
                    tracing::warn!(
                        endpoint = name,
                        errcode = envelope.errcode,
                        "some items of the batch failed; the answer lists them"
                    );
                }
            }
        }
        decode(body, headers).map_err(|source| Error::Decode {
            endpoint: name,
            source,
        })
    }
}

/// Whether a JSON answer carries a non-empty array under `field` (a batch's failed items). Only
/// read on a non-zero errcode, so a full parse costs nothing on the success path.
fn lists_items(body: &[u8], field: &str) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get(field)
                .and_then(|l| l.as_array())
                .map(|l| !l.is_empty())
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::{duplicate_check_on, lists_items};

    #[test]
    fn a_failure_list_counts_only_when_it_has_items() {
        let body =
            br#"{"errcode":1,"errmsg":"x","result_list":[{"student_userid":"a","errcode":1}]}"#;
        assert!(lists_items(body, "result_list"));
        assert!(!lists_items(
            br#"{"errcode":1,"result_list":[ ]}"#,
            "result_list"
        ));
        assert!(!lists_items(br#"{"errcode":1}"#, "result_list"));
        assert!(!lists_items(
            br#"{"errcode":1,"result_list":{}}"#,
            "result_list"
        ));
        assert!(!lists_items(b"not json", "result_list"));
    }

    #[test]
    fn the_duplicate_check_flag_is_read_from_the_body_as_sent() {
        for on in [
            r#"{"touser":"a","enable_duplicate_check":1}"#,
            r#"{"enable_duplicate_check":true}"#,
            r#"{"enable_duplicate_check":"1","duplicate_check_interval":600}"#,
        ] {
            assert!(duplicate_check_on(on.as_bytes()), "{on}");
        }
        for off in [
            r#"{"touser":"a","enable_duplicate_check":0}"#,
            r#"{"enable_duplicate_check":false}"#,
            r#"{"touser":"a"}"#,
            "not json",
        ] {
            assert!(!duplicate_check_on(off.as_bytes()), "{off}");
        }
    }
}
