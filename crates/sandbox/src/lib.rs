//! # wecom-sandbox: a local WeCom
//!
//! WeCom has no test environment. This crate is one: an HTTP server that speaks qyapi's protocol
//! (paths under `/cgi-bin/`, `access_token` in the query, JSON bodies, `{errcode, errmsg}`
//! envelopes with HTTP 200) over a corp with real semantics: departments, members, tags, apps
//! with visible scopes, tokens that expire and can be revoked, messages delivered to inboxes,
//! media, callbacks pushed encrypted to your callback URL, rate limits and injected faults.
//! Requests are parsed and validated with the SDK's own generated types, so both sides share one
//! definition of every endpoint.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wecom_sandbox::SandboxError> {
//! let sandbox = wecom_sandbox::Sandbox::start().await?;
//! let creds = sandbox.credentials();
//! let url = format!("{}/cgi-bin/gettoken?corpid={}&corpsecret={}", sandbox.base_url(), creds.corpid, creds.apps[0].secret.expose());
//! // ... point your WeCom client at sandbox.base_url() ...
//! assert_eq!(sandbox.admin().count("gettoken"), 0);
//! # let _ = url; Ok(()) }
//! ```
//!
//! ## Adding an area
//! An area (contacts, messages, ...) lives in `src/areas/<area>.rs`:
//! 1. nothing to declare for parsing: every generated request type implements `FromWire` (the
//!    area crates' `server` feature, which the sandbox enables), so the registry reads any of them;
//! 2. `pub fn register(r: &mut Registry)` calls [`Registry::add`] once per endpoint with a typed
//!    handler `async fn(Ctx, XRequest) -> Result<XResponse, ApiError>` ([`Registry::add_binary`]
//!    for raw answers; `.errmsg("created")`, `.wrong_credential(code)` tune the envelope);
//! 3. one line in `src/areas/mod.rs` calls that `register`, and one hands the area's generated
//!    `RESOURCES` table to [`Registry::add_resources`]: endpoints the spec declares as resource
//!    operations (`[endpoint.resource]`) are then served by [`resources`] without a handler.
//!
//! Handlers build answers (and models) with the generated `new(required..)` and one setter per
//! optional field (or by assigning a public field when the value is already an `Option`).
//! Generated answers, models, enums and unions stay `#[non_exhaustive]` whatever the features,
//! the `server` the sandbox enables included, so WeCom adding a field never breaks a user's build:
//!
//! ```
//! use wecom_contacts::generated::contacts::UserGetuseridResponse;
//! let answer = UserGetuseridResponse::new("zhangsan");
//! assert_eq!(answer.userid, "zhangsan");
//! ```
//!
//! while a struct literal does not compile, even here where `server` is on:
//!
//! ```compile_fail,E0639
//! use wecom_contacts::generated::contacts::UserGetuseridResponse;
//! let answer = UserGetuseridResponse { userid: "zhangsan".to_owned() };
//! # let _ = answer;
//! ```
//!
//! The registry does method, credential (41001/40014/42001/48002/93000), faults, rate limits,
//! parsing (47001/41xxx/40058), `validate()` (the spec's errcode), counting and the envelope;
//! the handler only implements the endpoint on top of [`corp::Corp`] (directory rules and
//! errcodes, [`corp::Corp::scope`], [`corp::Corp::resolve_recipients`]) and [`State`]
//! (inboxes, media, duplicate check, per-area state via [`State::extension`]).
//! `tests/sandbox/spec_coverage.rs` fails while an endpoint of `spec/*.toml` has neither a handler
//! nor a resource declaration.
//!
//! ## Faults, long runs, exposure
//! - [`Fault`]s fire before a call is handled (nothing happens) or, with
//!   [`Fault::after_handling`], after it (the work is done and the answer is dropped, late or
//!   replaced by a 5xx or an errcode): the case that shows whether retries do the work twice.
//! - Everything kept is capped ([`StoreLimits`]: inboxes, robot messages, media, callback log,
//!   the duplicate check), the oldest evicted first, so a soak does not grow memory.
//! - The admin API and page answer loopback host names only (others with
//!   [`SandboxBuilder::admin_hosts`]), refuse other web origins and non-JSON POSTs, and mask the
//!   corp's secrets; listening beyond loopback logs a warning.
//!
//! ## Layout
//! `server` (the `/cgi-bin/` dispatcher), `registry` (endpoint table), `areas/*` (handlers),
//! `corp` (the directory and its rules), `state` + `store` + `limits` (what is kept),
//! `batch` (the CSV batch engine), `callbacks` (pushes), `admin` (the Rust API; `admin::routes`
//! its HTTP form; `admin::directory` the directory-change engine), `web` (the page), `guard`
//! (the gate in front of admin and page), `router` (puts them together).

pub mod admin;
mod app;
pub mod areas;
mod batch;
pub mod callbacks;
pub mod clock;
pub mod console;
pub mod corp;
pub mod error;
pub mod faults;
mod guard;
pub mod limits;
pub mod multipart;
mod paging;
pub mod registry;
pub mod resources;
mod router;
mod server;
pub mod state;
pub mod store;
mod sync;
pub mod tokens;
pub mod web;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wecom_core_auth::Secret;

pub use admin::{Admin, AdminError, CardUse, DirectoryChange, OAuthLogin, TokenTarget};
pub use callbacks::{CallbackRecord, CallbackSettings};
pub use clock::SandboxClock;
pub use corp::Corp;
pub use error::{ApiError, SandboxError};
pub use faults::{Fault, FaultAction, FaultWhen};
pub use limits::RateLimits;
pub use registry::{Binary, Caller, Ctx, Registry, Wire, WireRequest};
pub use state::State;
pub use store::StoreLimits;

/// An app's credentials.
#[derive(Debug, Clone)]
pub struct AppCredentials {
    /// The agentid.
    pub agentid: u32,
    /// The app's name.
    pub name: String,
    /// Its secret (for gettoken).
    pub secret: Secret,
}

/// What a client needs to talk to the sandbox.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `http://127.0.0.1:PORT` (use it in place of `https://qyapi.weixin.qq.com`).
    pub base_url: String,
    /// The corpid.
    pub corpid: String,
    /// Every app, by agentid.
    pub apps: Vec<AppCredentials>,
    /// The contact-sync secret.
    pub contact_secret: Secret,
    /// System apps' own secrets (客户联系, 审批 ...), those the corp has.
    pub system_secrets: Vec<(wecom_core_auth::SystemApp, Secret)>,
}

impl Credentials {
    /// The secret of a system app, when the corp has one.
    pub fn system_secret(&self, app: wecom_core_auth::SystemApp) -> Option<&Secret> {
        self.system_secrets
            .iter()
            .find(|(a, _)| *a == app)
            .map(|(_, s)| s)
    }
}

impl Credentials {
    /// The app with this agentid.
    pub fn app(&self, agentid: u32) -> Option<&AppCredentials> {
        self.apps.iter().find(|a| a.agentid == agentid)
    }
}

/// Configures and starts a sandbox.
#[derive(Debug)]
pub struct SandboxBuilder {
    corp: Option<Corp>,
    corp_file: Option<PathBuf>,
    addr: SocketAddr,
    token_ttl: Duration,
    clock: Option<SandboxClock>,
    callbacks: CallbackSettings,
    rate_limits: RateLimits,
    store_limits: StoreLimits,
    admin_hosts: Vec<String>,
    extra: Vec<fn(&mut Registry)>,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            corp: None,
            corp_file: None,
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            token_ttl: Duration::from_secs(7200),
            clock: None,
            callbacks: CallbackSettings::default(),
            rate_limits: RateLimits::default(),
            store_limits: StoreLimits::default(),
            admin_hosts: Vec::new(),
            extra: Vec::new(),
        }
    }
}

impl SandboxBuilder {
    /// Serve this corp (default: [`Corp::demo`]).
    pub fn corp(mut self, corp: Corp) -> Self {
        self.corp = Some(corp);
        self
    }

    /// Load the corp from a TOML or JSON file.
    pub fn corp_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.corp_file = Some(path.into());
        self
    }

    /// Listen on this port of 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Listen on this address (default 127.0.0.1:0).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Lifetime of access tokens (default 7200 s).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Use this clock (e.g. [`SandboxClock::frozen_at`]).
    pub fn clock(mut self, clock: SandboxClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Callback timeout and retries (default 5 s and 3, as WeCom).
    pub fn callbacks(mut self, settings: CallbackSettings) -> Self {
        self.callbacks = settings;
        self
    }

    /// Rate limits (off by default).
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Caps on what the sandbox keeps (inboxes, robot messages, media, callback log, duplicate
    /// check); the oldest entries are evicted past them. Defaults: [`StoreLimits::default`].
    pub fn store_limits(mut self, limits: StoreLimits) -> Self {
        self.store_limits = limits;
        self
    }

    /// Host names (without port) the admin API (`/sandbox/...`) and the page answer besides
    /// loopback ones (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`), for a sandbox reached
    /// by another name (a container's, a LAN address). Requests naming any other host, or sent
    /// from another web origin, are refused so that web pages cannot drive or read the sandbox.
    ///
    /// ```
    /// # async fn demo() -> Result<(), wecom_sandbox::SandboxError> {
    /// let sandbox = wecom_sandbox::Sandbox::builder()
    ///     .bind("0.0.0.0:8080".parse().expect("address"))
    ///     .admin_hosts(["sandbox.test", "192.168.1.20"])
    ///     .start()
    ///     .await?;
    /// # let _ = sandbox; Ok(()) }
    /// ```
    pub fn admin_hosts<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.admin_hosts = names.into_iter().map(Into::into).collect();
        self
    }

    /// Registers extra handlers (after the built-in areas; the same path replaces a built-in).
    pub fn register(mut self, f: fn(&mut Registry)) -> Self {
        self.extra.push(f);
        self
    }

    /// Binds, starts serving in the background on the current tokio runtime, and returns the
    /// running sandbox. It stops when the [`Sandbox`] is dropped.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        let corp = match (self.corp, self.corp_file) {
            (Some(c), _) => c,
            (None, Some(path)) => Corp::load(path)?,
            (None, None) => Corp::demo(),
        };
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: self.addr,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: self.addr,
            source,
        })?;
        let host = if local.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            local.ip()
        };
        let base_url = format!("http://{}", SocketAddr::new(host, local.port()));

        let state = Arc::new(State::new(
            corp,
            self.clock.unwrap_or_default(),
            self.token_ttl.as_secs().max(1),
            callbacks::Pusher::new(self.callbacks, self.store_limits.callback_log),
            self.store_limits,
        ));
        state.set_base_url(base_url.clone());
        state::lock(&state.limiter).set_limits(self.rate_limits);
        let mut registry = Registry::new();
        areas::register_all(&mut registry);
        for f in self.extra {
            f(&mut registry);
        }
        let app = app::App {
            state: Arc::clone(&state),
            registry: Arc::new(registry),
        };
        if !local.ip().is_loopback() {
            tracing::warn!(
                "the WeCom sandbox listens on {local}, beyond loopback: anyone who reaches it can call its API \
                 with the demo credentials; its admin API and page answer only loopback names{}",
                if self.admin_hosts.is_empty() {
                    " (allow others with SandboxBuilder::admin_hosts)".to_owned()
                } else {
                    format!(" and {}", self.admin_hosts.join(", "))
                }
            );
        }
        let router = router::router(app, guard::AllowedHosts::new(self.admin_hosts));
        let (tx, rx) = oneshot::channel::<()>();
        let listener = server::SandboxListener(listener);
        let task = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<server::ConnInfo>();
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        tracing::info!("WeCom sandbox listening on {base_url}");
        Ok(Sandbox {
            base_url,
            state,
            shutdown: Some(tx),
            task,
        })
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    base_url: String,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts the demo corp on a free loopback port.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        Self::builder().start().await
    }

    /// A builder for other settings.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The corpid, app secrets and contact-sync secret.
    pub fn credentials(&self) -> Credentials {
        let corp = self.state.corp();
        Credentials {
            base_url: self.base_url.clone(),
            corpid: corp.corpid().to_owned(),
            apps: corp
                .apps()
                .map(|a| AppCredentials {
                    agentid: a.agentid,
                    name: a.name.clone(),
                    secret: a.secret.clone(),
                })
                .collect(),
            contact_secret: corp.contact_secret().clone(),
            system_secrets: corp.system_secrets().map(|(a, s)| (a, s.clone())).collect(),
        }
    }

    /// Control and observation for tests.
    pub fn admin(&self) -> Admin {
        Admin::new(Arc::clone(&self.state))
    }

    /// Stops serving and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// The name `--corp` takes for the demo education corp ([`Corp::school_demo`]).
pub const SCHOOL_DEMO: &str = "school-demo";

/// Options of [`serve`] (what `wecom sandbox [--port N] [--corp FILE] [--token-ttl SECS]` passes).
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Port on 127.0.0.1 (`None`: any free port).
    pub port: Option<u16>,
    /// Listen on another address than 127.0.0.1.
    pub bind: Option<IpAddr>,
    /// Corp file (TOML or JSON), or [`SCHOOL_DEMO`] for the demo education corp; the demo corp
    /// otherwise.
    pub corp: Option<PathBuf>,
    /// Token lifetime in seconds (default 7200).
    pub token_ttl_secs: Option<u64>,
    /// Host names the admin API and page answer besides loopback ones
    /// ([`SandboxBuilder::admin_hosts`]).
    pub admin_hosts: Vec<String>,
}

/// Runs a sandbox until `shutdown` completes. `ready` is called once it listens (print its
/// base URL and credentials there). Used by the `wecom sandbox` command.
pub async fn serve(
    options: ServeOptions,
    ready: impl FnOnce(&Sandbox),
    shutdown: impl Future<Output = ()>,
) -> Result<(), SandboxError> {
    let mut b = Sandbox::builder();
    if let Some(ip) = options.bind {
        b = b.bind(SocketAddr::new(ip, options.port.unwrap_or(0)));
    } else if let Some(p) = options.port {
        b = b.port(p);
    }
    if let Some(c) = options.corp {
        // `--corp school-demo` (no such file): the demo education corp (家校沟通).
        if c.as_os_str() == SCHOOL_DEMO && !c.exists() {
            b = b.corp(Corp::school_demo());
        } else {
            b = b.corp_file(c);
        }
    }
    if let Some(t) = options.token_ttl_secs {
        b = b.token_ttl(Duration::from_secs(t));
    }
    b = b.admin_hosts(options.admin_hosts);
    let sandbox = b.start().await?;
    ready(&sandbox);
    shutdown.await;
    sandbox.stop().await;
    Ok(())
}
