//! `wecom proxy`: a loopback HTTP server that forwards `/cgi-bin/...` to WeCom (or a sandbox)
//! with the right `access_token` added by the SDK (cached, refreshed, re-fetched and the call
//! sent once more on 40001/40014/42001), so Postman, curl or a browser never handle a token.
//!
//! The token kind comes from the endpoint catalogue for a path of the spec (the contact-sync
//! token for directory writes ...), the app's otherwise. A token the caller sent is dropped.
//! Each call is logged on stderr with its errcode and meaning, never with a token or secret.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method as HttpMethod, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;
use wecom::auth::redact::{mask_text, mask_userinfo};
use wecom::auth::{CredentialKind, Method};
use wecom::{Client, ErrorCode, Secret};

use super::{Ctx, shutdown_signal};
use crate::catalogue;
use crate::cli::ProxyArgs;
use crate::error::CliError;
use crate::output::write_stdout;

/// The largest body forwarded (media uploads go up to 20 MB).
const MAX_BODY: usize = 32 << 20;

struct Proxy {
    client: Client,
}

pub async fn run(ctx: &Ctx, args: ProxyArgs) -> Result<(), CliError> {
    let mut config = ctx.config.clone();
    if let Some(up) = &args.upstream {
        config.base_url = Some(up.trim_end_matches('/').to_owned());
    }
    let upstream = config
        .base_url
        .clone()
        .unwrap_or_else(|| wecom::auth::client::DEFAULT_BASE_URL.to_owned());
    let client = Ctx {
        out: ctx.out,
        config,
    }
    .client()?;
    let ip = args.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let addr = SocketAddr::new(ip, args.port.unwrap_or(0));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::io(format!("cannot listen on {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    let url = format!("http://{local}");
    let info = json!({
        "proxy": url,
        "upstream": mask_userinfo(&upstream),
        "corp_id": client.corpid(),
        "agent_id": client.agentid(),
    });
    write_stdout(&format!("{info}\n"))?;
    if !ip.is_loopback() {
        eprintln!(
            "warning: listening on {ip}: anyone who reaches this port calls WeCom as your app"
        );
    }
    if !ctx.out.json {
        eprintln!(
            "Forwarding {url}/cgi-bin/... to {} with the access_token added.\nTry: curl '{url}/cgi-bin/user/get?userid=zhangsan'   Stop with Ctrl-C.",
            mask_userinfo(&upstream)
        );
    }
    let app = router(client);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CliError::io("the proxy stopped", e))
}

/// The proxy's routes: `/cgi-bin/{path}` forwarded, anything else a JSON 404 saying so.
fn router(client: Client) -> Router {
    Router::new()
        .route("/cgi-bin/{*path}", any(forward))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"proxy_error": "only /cgi-bin/... is forwarded"})),
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(Arc::new(Proxy { client }))
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: HttpMethod,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let m = match method {
        HttpMethod::GET => Method::Get,
        HttpMethod::POST => Method::Post,
        _ => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(json!({"proxy_error": "WeCom's API takes GET and POST only"})),
            )
                .into_response();
        }
    };
    let known = catalogue::find(&path).filter(|e| e.method == m.as_str());
    let credential = known.map_or(CredentialKind::App, |e| {
        super::api::credential_of(&e.credential)
    });
    let mut client = proxy.client.clone();
    let mut call_query = Vec::new();
    let mut dropped_token = false;
    for (name, value) in url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match name.as_ref() {
            "access_token" => dropped_token = true,
            "key" if credential == CredentialKind::RobotKey => {
                client = client.robot(Secret::new(value.into_owned()));
            }
            _ => call_query.push((name.into_owned(), value.into_owned())),
        }
    }
    let mut call = client.raw(m, path.clone()).credential(credential);
    for (name, value) in call_query {
        call = call.query(name, value);
    }
    if !body.is_empty() {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        call = call.body(content_type, body);
    }
    // Resent after a transient failure only when the spec says the endpoint is idempotent (or for
    // an unknown GET).
    let idempotent = known.map_or(m == Method::Get, |e| e.retry == "idempotent");
    let result = call.idempotent(idempotent).send_verbatim().await;
    let shown = format!("{} /cgi-bin/{}", m.as_str(), path);
    let note = if dropped_token {
        " (the caller's access_token was replaced)"
    } else {
        ""
    };
    match result {
        Ok(answer) => {
            match answer.errcode {
                Some(code) => eprintln!("{shown} -> errcode {code}: {}{note}", meaning(code)),
                None => eprintln!("{shown} -> a file of {} bytes{note}", answer.body.len()),
            }
            let mut response = answer.body.into_response();
            let h = response.headers_mut();
            let content_type = answer
                .content_type
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
                .unwrap_or(HeaderValue::from_static("application/json"));
            h.insert(header::CONTENT_TYPE, content_type);
            if let Some(v) = answer
                .content_disposition
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(wecom::Error::Api(api)) => {
            let code = api.code.code();
            eprintln!("{shown} -> errcode {code}: {}{note}", meaning(code));
            axum::Json(json!({"errcode": code, "errmsg": mask_text(&api.errmsg)})).into_response()
        }
        Err(e) => {
            let status = match &e {
                wecom::Error::Invalid(_) | wecom::Error::Config(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            let message = mask_text(&e.to_string());
            eprintln!("{shown} -> not forwarded: {message}");
            (status, axum::Json(json!({"proxy_error": message}))).into_response()
        }
    }
}

fn meaning(code: i64) -> &'static str {
    if code == 0 {
        "ok"
    } else {
        ErrorCode::new(code).meaning()
    }
}
