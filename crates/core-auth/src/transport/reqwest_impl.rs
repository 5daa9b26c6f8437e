//! The default transport, on reqwest (hyper). HTTPS uses rustls with the ring provider when the
//! crate's `rustls` feature is on (the default); without it only plain http works.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use http::header::CONTENT_LENGTH;

use super::{BoxFuture, HttpBody, HttpRequest, HttpResponse, SendError, Transport};
use crate::error::{ConfigError, TransportErrorKind};

/// Settings of the reqwest transport.
#[derive(Clone)]
pub struct ReqwestConfig {
    /// Deadline for establishing a connection.
    pub connect_timeout: Duration,
    /// Egress proxy for every request (`http://host:port`, `socks5://` is not supported).
    pub proxy: Option<String>,
    /// The User-Agent header.
    pub user_agent: String,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
}

impl Default for ReqwestConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            proxy: None,
            user_agent: crate::client::DEFAULT_USER_AGENT.to_owned(),
            pool_idle_timeout: Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for ReqwestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("proxy", &self.proxy.as_deref().map(mask_proxy))
            .field("user_agent", &self.user_agent)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .finish()
    }
}

/// A proxy URL with any `user:password@` removed, for display.
pub(crate) fn mask_proxy(proxy: &str) -> String {
    match url::Url::parse(proxy) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_username("***");
                let _ = u.set_password(None);
            }
            u.to_string()
        }
        Err(_) => "<unparsable proxy URL>".to_owned(),
    }
}

/// The default [`Transport`]: a pooled reqwest client.
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReqwestTransport")
    }
}

impl ReqwestTransport {
    /// Builds the transport.
    pub fn new(config: &ReqwestConfig) -> Result<Self, ConfigError> {
        #[cfg(feature = "rustls")]
        install_ring_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(config.pool_idle_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(proxy) = &config.proxy {
            let p = reqwest::Proxy::all(proxy.as_str()).map_err(|e| {
                ConfigError::new(
                    format!("bad proxy URL {}: {}", mask_proxy(proxy), e.without_url()),
                    "pass `http://host:port` to ClientBuilder::proxy",
                )
            })?;
            builder = builder.proxy(p);
        }
        let client = builder.build().map_err(|e| {
            ConfigError::new(
                format!("could not build the HTTP client: {e}"),
                "check the TLS and proxy settings",
            )
        })?;
        Ok(Self { client })
    }

    /// Wraps an existing reqwest client (its own settings apply; redirects should be off).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

/// Installs ring as the process-wide rustls provider unless one is installed already
/// (reqwest is built without a provider of its own).
#[cfg(feature = "rustls")]
fn install_ring_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: a provider is then in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn map_error(e: reqwest::Error) -> SendError {
    let kind = if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_body() || e.is_decode() {
        TransportErrorKind::Body
    } else if e.is_request() {
        // Sending failed after the connection was made: closed or reset before the answer.
        TransportErrorKind::Closed
    } else {
        TransportErrorKind::Other
    };
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    SendError::new(kind, crate::redact::mask_text(&message))
}

impl Transport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, SendError>> {
        Box::pin(async move {
            let method = match request.method {
                crate::Method::Get => reqwest::Method::GET,
                crate::Method::Post => reqwest::Method::POST,
            };
            let mut headers = request.headers;
            let mut builder = self.client.request(method, &request.url);
            builder = match request.body {
                HttpBody::Empty => builder,
                HttpBody::Bytes(b) => builder.body(b),
                HttpBody::Stream { stream, length } => {
                    if let Some(len) = length {
                        headers.insert(CONTENT_LENGTH, http::HeaderValue::from(len));
                    }
                    builder.body(reqwest::Body::wrap_stream(stream))
                }
            };
            builder = builder.headers(headers);
            if let Some(t) = request.timeout {
                builder = builder.timeout(t);
            }
            let mut response = builder.send().await.map_err(map_error)?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            let body = response.bytes().await.map_err(map_error)?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A server that reads the request and closes the connection without answering: the error
    /// is `Closed`, which is transient (retried like a timeout).
    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_transient() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            for _ in 0..4 {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                drop(socket);
            }
        });
        let transport = ReqwestTransport::new(&ReqwestConfig::default()).expect("transport");
        let request = HttpRequest {
            method: crate::Method::Post,
            url: format!("http://{addr}/cgi-bin/message/send?access_token=t"),
            headers: http::HeaderMap::new(),
            body: HttpBody::Empty,
            timeout: Some(std::time::Duration::from_secs(30)),
        };
        let err = transport.send(request).await.expect_err("no answer");
        assert_eq!(err.kind, TransportErrorKind::Closed, "{}", err.message);
        let e = crate::error::TransportError {
            endpoint: "message_send",
            method: "POST",
            url: String::new(),
            kind: err.kind,
            message: err.message,
        };
        assert_eq!(e.class(), crate::ErrorClass::Transient);
        server.abort();
    }
}
