//! Downloads from absolute URLs WeCom hands out (export result files): one `Range` at a time, no
//! credential, through the client's own transport, timeouts and pause seam.
//!
//! WeCom's export answers (`export/get_result`) list files on its download servers; the page says
//! "数据下载链接,支持指定Range头部分段下载。有效期2个小时" (page 94954). Fetching them one range at a time
//! keeps memory at one range whatever the file's size; [`Client::download_range`] is that step.

use std::ops::RangeInclusive;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http::header::{CONTENT_RANGE, RANGE};

use crate::client::Client;
use crate::endpoint::Method;
use crate::error::{Error, InvalidInput, TransportError, TransportErrorKind};
use crate::transport::{HttpBody, HttpRequest};

/// One range of a file: its bytes and, when the server said it, the file's whole size.
#[derive(Debug, Clone)]
pub struct RangeChunk {
    /// The bytes received (fewer than asked at the end of the file; empty past it).
    pub bytes: Bytes,
    /// The file's total size from `Content-Range: bytes a-b/TOTAL`, when sent.
    pub total: Option<u64>,
}

/// The URL as errors show it: scheme, host and path; a query (which may carry a signature) is
/// replaced by `?***`.
fn shown(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?***"),
        None => url.to_owned(),
    }
}

/// `bytes a-b/TOTAL` -> TOTAL.
fn content_range_total(value: &str) -> Option<u64> {
    value.rsplit_once('/')?.1.trim().parse().ok()
}

impl Client {
    /// Downloads bytes `range` (inclusive) of the file at `url`, an absolute `http(s)` URL WeCom
    /// answered (an export result file), without any credential. A `416` answer (asking past the
    /// end) is an empty chunk. Other HTTP errors are [`Error::Transport`] with the URL's query
    /// masked.
    ///
    /// ```no_run
    /// # async fn demo(client: &wecom_core_auth::Client, url: &str) -> Result<(), wecom_core_auth::Error> {
    /// let first = client.download_range(url, 0..=1024 * 1024 - 1).await?;
    /// println!("{} bytes of {:?}", first.bytes.len(), first.total);
    /// # Ok(()) }
    /// ```
    pub async fn download_range(
        &self,
        url: &str,
        range: RangeInclusive<u64>,
    ) -> Result<RangeChunk, Error> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(InvalidInput::new(
                "url",
                format!(
                    "`{}` is not an absolute http(s) URL; pass the `url` of a file WeCom listed",
                    shown(url)
                ),
            )
            .in_context("download")
            .into());
        }
        if range.is_empty() {
            return Err(InvalidInput::new(
                "range",
                format!("{}..={} is empty", range.start(), range.end()),
            )
            .in_context("download")
            .into());
        }
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes={}-{}", range.start(), range.end())) {
            headers.insert(RANGE, v);
        }
        let inner = &self.inner;
        let failed = |kind: TransportErrorKind, message: String| -> Error {
            TransportError {
                endpoint: "download",
                method: Method::Get.as_str(),
                url: shown(url),
                kind,
                message: crate::redact::mask_text(&message),
            }
            .into()
        };
        let sent = inner
            .transport
            .send(HttpRequest {
                method: Method::Get,
                url: url.to_owned(),
                headers,
                body: HttpBody::Empty,
                timeout: Some(inner.timeout),
            })
            .await
            .map_err(|e| failed(e.kind, e.message))?;
        match sent.status {
            200..=299 => {
                let total = sent
                    .headers
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(content_range_total);
                Ok(RangeChunk {
                    bytes: sent.body,
                    total,
                })
            }
            416 => Ok(RangeChunk {
                bytes: Bytes::new(),
                total: None,
            }),
            status => Err(failed(
                TransportErrorKind::Status(status),
                crate::redact::body_excerpt(&sent.body, 200),
            )),
        }
    }

    /// Waits `duration` through the client's pause seam (the builder's `sleep`, tokio's timer by
    /// default), so polling loops built on the client are tested without real waits.
    pub async fn pause(&self, duration: Duration) {
        self.inner.sleep.sleep(duration).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_and_masks_queries() {
        assert_eq!(content_range_total("bytes 0-9/100"), Some(100));
        assert_eq!(content_range_total("bytes 0-9/*"), None);
        assert_eq!(
            shown("https://dl.example/f/1?sign=abc&t=1"),
            "https://dl.example/f/1?***"
        );
        assert_eq!(shown("https://dl.example/f/1"), "https://dl.example/f/1");
    }
}
