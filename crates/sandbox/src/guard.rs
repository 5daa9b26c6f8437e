//! The admin API's and the web page's gate against other web sites and DNS rebinding.
//!
//! A browser on the developer's machine can reach the sandbox on loopback, so any web page it
//! opens could post to `/sandbox/...` (a `text/plain` or form POST needs no preflight) or, after
//! rebinding its own name to 127.0.0.1, read `/sandbox/...` answers. The gate:
//! - answers only requests whose `Host` is a loopback name (`localhost`, `*.localhost`,
//!   `127.0.0.0/8`, `[::1]`) or a name allowed with
//!   [`SandboxBuilder::admin_hosts`](crate::SandboxBuilder::admin_hosts);
//! - refuses an `Origin` (when sent) that is not such a name;
//! - requires `Content-Type: application/json` on POSTs of the admin API, and a same-site
//!   `Origin` (or `Referer`) on the page's own form POSTs (`/sandbox/ui/...`).
//!
//! `/cgi-bin/` (the WeCom API itself) is not gated: clients name the sandbox however they reach it.

use std::net::IpAddr;
use std::sync::Arc;
use wecom_core_auth::ErrorCode;

use axum::extract::{Request, State as AxState};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::json;

/// Host names the admin API answers besides loopback ones (lowercase, without port).
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedHosts(pub(crate) Arc<[String]>);

impl AllowedHosts {
    pub(crate) fn new(names: impl IntoIterator<Item = String>) -> Self {
        Self(
            names
                .into_iter()
                .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect(),
        )
    }

    /// Whether `host` (a Host header value or URL authority: name or IP, optional port) is
    /// loopback or allowed.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let name = host_name(host);
        if name.is_empty() {
            return false;
        }
        is_loopback_name(&name) || self.0.contains(&name)
    }
}

/// The host part of `host[:port]` or `[v6][:port]`, lowercase, without a trailing dot.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The authority of an `Origin` or `Referer` value (`scheme://host[:port][/...]`).
fn url_host(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let host = url.host_str()?;
    Some(host.to_owned())
}

fn refuse(status: StatusCode, why: String) -> Response {
    (
        status,
        axum::Json(json!({"errcode": ErrorCode::INVALID_PARAMETER, "errmsg": why})),
    )
        .into_response()
}

/// Why a request is refused, if it is.
fn check(
    allowed: &AllowedHosts,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let host = get(header::HOST).unwrap_or("");
    if !allowed.allows(host) {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "the sandbox's admin API and page answer only loopback host names (localhost, 127.0.0.1, [::1]), not `{host}`; allow other names with SandboxBuilder::admin_hosts"
            ),
        ));
    }
    let origin = get(header::ORIGIN);
    if let Some(o) = origin
        && !url_host(o).is_some_and(|h| allowed.allows(&h))
    {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "requests from the web origin `{o}` are refused: the sandbox's admin API is for local tools and its own page"
            ),
        ));
    }
    if *method == Method::GET || *method == Method::HEAD {
        return None;
    }
    if path.starts_with("/sandbox/ui/") {
        // The page's own HTML forms: browsers send Origin (or at least Referer) on a POST.
        let site = origin.or_else(|| get(header::REFERER));
        return match site.and_then(url_host) {
            Some(h) if allowed.allows(&h) => None,
            _ => Some(refuse(
                StatusCode::FORBIDDEN,
                "a form POST to the sandbox page needs an Origin or Referer header naming the sandbox (send it from the page)".to_owned(),
            )),
        };
    }
    let json = get(header::CONTENT_TYPE)
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Some(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "POST {path} needs `Content-Type: application/json` (got `{}`): send the body as JSON",
                get(header::CONTENT_TYPE).unwrap_or("none")
            ),
        ));
    }
    None
}

/// The middleware around the admin routes and the page.
pub(crate) async fn gate(
    AxState(allowed): AxState<AllowedHosts>,
    req: Request,
    next: Next,
) -> Response {
    match check(&allowed, req.method(), req.uri().path(), req.headers()) {
        Some(refused) => refused,
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn loopback_names_and_configured_ones() {
        let a = AllowedHosts::new(["Sandbox.Internal.".to_owned()]);
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:1",
            "127.3.4.5",
            "[::1]:9",
            "app.localhost",
            "sandbox.internal:80",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for no in [
            "",
            "evil.com",
            "localhost.evil.com",
            "10.0.0.1:80",
            "[::2]",
            "0.0.0.0",
        ] {
            assert!(!a.allows(no), "{no}");
        }
    }

    #[test]
    fn posts_need_json_and_a_local_origin() {
        let a = AllowedHosts::default();
        let post = Method::POST;
        let p = "/sandbox/faults";
        assert!(
            check(
                &a,
                &post,
                p,
                &headers(&[
                    ("host", "127.0.0.1:1"),
                    ("content-type", "application/json; charset=utf-8")
                ])
            )
            .is_none()
        );
        let r = check(
            &a,
            &post,
            p,
            &headers(&[("host", "127.0.0.1:1"), ("content-type", "text/plain")]),
        );
        assert_eq!(
            r.map(|r| r.status()),
            Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        let r = check(
            &a,
            &post,
            p,
            &headers(&[
                ("host", "127.0.0.1:1"),
                ("content-type", "application/json"),
                ("origin", "https://evil.example"),
            ]),
        );
        assert_eq!(r.map(|r| r.status()), Some(StatusCode::FORBIDDEN));
        let r = check(
            &a,
            &Method::GET,
            "/sandbox/corp",
            &headers(&[("host", "rebound.example:8080")]),
        );
        assert_eq!(r.map(|r| r.status()), Some(StatusCode::FORBIDDEN));
        let form = "/sandbox/ui/send";
        assert!(
            check(
                &a,
                &post,
                form,
                &headers(&[("host", "localhost:1"), ("origin", "http://localhost:1")])
            )
            .is_none()
        );
        assert!(
            check(
                &a,
                &post,
                form,
                &headers(&[("host", "localhost:1"), ("referer", "http://127.0.0.1:1/")])
            )
            .is_none()
        );
        assert!(check(&a, &post, form, &headers(&[("host", "localhost:1")])).is_some());
        assert!(
            check(
                &a,
                &post,
                form,
                &headers(&[("host", "localhost:1"), ("origin", "null")])
            )
            .is_some()
        );
    }
}
