//! File uploads (`media/upload` and friends): [`Upload`] and the `multipart/form-data` encoding.
//!
//! A body is streamed from its source (a file, bytes, or any `AsyncRead`), never loaded whole in
//! memory; its length is sent as `Content-Length` when known (always for files and bytes).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::ReaderStream;

use crate::endpoint::MultipartPart;
use crate::transport::{BodyStream, HttpBody};

type SharedReader = Arc<Mutex<Option<Box<dyn AsyncRead + Send + Unpin>>>>;

#[derive(Clone)]
enum Source {
    Bytes(Bytes),
    Path(PathBuf),
    /// Taken on first use: a reader can be sent only once.
    Reader(SharedReader),
}

/// Content to upload: a file on disk, bytes in memory, or any async reader; with the file name
/// and content type WeCom sees, and the length when known.
///
/// Uploads made from a path or bytes can be sent again (retries); one made from a reader can be
/// sent once, so a call carrying it is never retried.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use wecom_core_auth::Upload;
/// let from_disk = Upload::from_path("report.pdf")?;              // application/pdf, length from the file
/// let in_memory = Upload::from_bytes("hello.txt", "hello world"); // text/plain
/// let file = tokio::fs::File::open("big.mp4").await?;
/// let streamed = Upload::from_reader("big.mp4", file, Some(9_000_000)); // video/mp4
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Upload {
    source: Source,
    file_name: String,
    content_type: String,
    length: Option<u64>,
}

impl Upload {
    /// Bytes in memory, named `file_name` (the content type is guessed from its extension).
    pub fn from_bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let file_name = file_name.into();
        Self {
            content_type: guess_content_type(&file_name).to_owned(),
            length: Some(bytes.len() as u64),
            source: Source::Bytes(bytes),
            file_name,
        }
    }

    /// A file on disk. Reads its length now; the content is streamed when the request is sent.
    /// The file name is the path's last component.
    pub fn from_path(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file", path.display()),
            ));
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        Ok(Self {
            content_type: guess_content_type(&file_name).to_owned(),
            length: Some(meta.len()),
            source: Source::Path(path.to_path_buf()),
            file_name,
        })
    }

    /// Any async reader. `length` should be given when known: without it the body is sent with
    /// chunked transfer encoding, which some servers refuse. Sent at most once.
    pub fn from_reader(
        file_name: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
        length: Option<u64>,
    ) -> Self {
        let file_name = file_name.into();
        Self {
            content_type: guess_content_type(&file_name).to_owned(),
            length,
            source: Source::Reader(Arc::new(Mutex::new(Some(Box::new(reader))))),
            file_name,
        }
    }

    /// Sets the file name WeCom sees.
    pub fn with_file_name(mut self, file_name: impl Into<String>) -> Self {
        self.file_name = file_name.into();
        self
    }

    /// Sets the content type (default: guessed from the file name's extension).
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// The file name WeCom sees.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The content type.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The length in bytes, when known.
    pub fn len(&self) -> Option<u64> {
        self.length
    }

    /// Whether the content is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.length == Some(0)
    }

    /// Whether this upload can be sent more than once (made from a path or bytes).
    pub fn is_replayable(&self) -> bool {
        !matches!(self.source, Source::Reader(_))
    }

    /// Opens the content as a stream of chunks, checked against the declared length.
    pub(crate) async fn open(&self) -> io::Result<BodyStream> {
        let inner: BodyStream = match &self.source {
            Source::Bytes(b) => Box::pin(stream::once(std::future::ready(Ok(b.clone())))),
            Source::Path(p) => {
                let file = tokio::fs::File::open(p).await.map_err(|e| {
                    io::Error::new(e.kind(), format!("opening {}: {e}", p.display()))
                })?;
                match self.length {
                    // One byte more than declared, so that a file that grew is noticed.
                    Some(len) => Box::pin(ReaderStream::with_capacity(
                        file.take(len.saturating_add(1)),
                        64 * 1024,
                    )),
                    None => Box::pin(ReaderStream::with_capacity(file, 64 * 1024)),
                }
            }
            Source::Reader(slot) => {
                let reader = slot
                    .lock()
                    .map_err(|_| io::Error::other("upload reader lock poisoned"))?
                    .take();
                let Some(reader) = reader else {
                    return Err(io::Error::other(format!(
                        "upload `{}` was made from a reader and has already been sent once; make it with Upload::from_path or Upload::from_bytes to send it again",
                        self.file_name
                    )));
                };
                Box::pin(ReaderStream::with_capacity(reader, 64 * 1024))
            }
        };
        Ok(Box::pin(Checked {
            inner,
            expected: self.length,
            seen: 0,
            done: false,
            name: self.file_name.clone(),
        }))
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Bytes(_) => "bytes".to_owned(),
            Source::Path(p) => format!("path {}", p.display()),
            Source::Reader(_) => "reader".to_owned(),
        };
        f.debug_struct("Upload")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("length", &self.length)
            .field("source", &source)
            .finish()
    }
}

/// Fails the stream when the content is shorter or longer than declared (the declared length
/// was sent as Content-Length).
struct Checked {
    inner: BodyStream,
    expected: Option<u64>,
    seen: u64,
    done: bool,
    name: String,
}

impl Stream for Checked {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                if let Some(expected) = self.expected
                    && self.seen > expected
                {
                    self.done = true;
                    let msg = format!(
                        "upload `{}` is longer than its declared {expected} bytes (did the file change?)",
                        self.name
                    );
                    return Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::InvalidData, msg))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                self.done = true;
                match self.expected {
                    Some(expected) if self.seen != expected => {
                        let msg = format!(
                            "upload `{}` ended after {} of its declared {expected} bytes",
                            self.name, self.seen
                        );
                        Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg))))
                    }
                    _ => Poll::Ready(None),
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Guesses a content type from a file name's extension (`application/octet-stream` when unknown).
pub fn guess_content_type(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "webp" => "image/webp",
        "amr" => "audio/amr",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "silk" => "audio/silk",
        "mp4" => "video/mp4",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

/// Escapes a value for a quoted `Content-Disposition` parameter the way browsers do.
fn quote_param(value: &str) -> String {
    value
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn new_boundary() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    format!(
        "wecom-rs-{}",
        Alphanumeric.sample_string(&mut rand::rng(), 24)
    )
}

/// Whether every part of a multipart body can be sent again.
pub(crate) fn parts_replayable(parts: &[MultipartPart]) -> bool {
    parts.iter().all(|p| p.upload.is_replayable())
}

/// Encodes `parts` as a streamed `multipart/form-data` body. Returns the Content-Type header
/// value (with the boundary) and the body, whose length is known when every part's is.
pub(crate) async fn encode_multipart(parts: &[MultipartPart]) -> io::Result<(String, HttpBody)> {
    encode_multipart_with_boundary(parts, &new_boundary()).await
}

pub(crate) async fn encode_multipart_with_boundary(
    parts: &[MultipartPart],
    boundary: &str,
) -> io::Result<(String, HttpBody)> {
    let mut pieces: Vec<BodyStream> = Vec::with_capacity(parts.len() * 2 + 1);
    let mut total: Option<u64> = Some(0);
    let add_fixed = |pieces: &mut Vec<BodyStream>, total: &mut Option<u64>, text: String| {
        *total = total.map(|t| t + text.len() as u64);
        pieces.push(Box::pin(stream::once(std::future::ready(Ok(Bytes::from(
            text,
        ))))));
    };
    for (i, part) in parts.iter().enumerate() {
        let upload = &part.upload;
        let mut head = String::new();
        if i > 0 {
            head.push_str("\r\n");
        }
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"",
            quote_param(part.name),
            quote_param(upload.file_name())
        ));
        if let Some(len) = upload.len() {
            head.push_str(&format!("; filelength={len}"));
        }
        head.push_str(&format!(
            "\r\nContent-Type: {}\r\n\r\n",
            upload.content_type().replace(['\r', '\n'], "")
        ));
        add_fixed(&mut pieces, &mut total, head);
        total = match (total, upload.len()) {
            (Some(t), Some(l)) => Some(t + l),
            _ => None,
        };
        pieces.push(upload.open().await?);
    }
    let tail = if parts.is_empty() {
        format!("--{boundary}--\r\n")
    } else {
        format!("\r\n--{boundary}--\r\n")
    };
    add_fixed(&mut pieces, &mut total, tail);
    let stream: BodyStream = Box::pin(stream::iter(pieces).flatten());
    Ok((
        format!("multipart/form-data; boundary={boundary}"),
        HttpBody::Stream {
            stream,
            length: total,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    async fn collect(body: HttpBody) -> io::Result<Vec<u8>> {
        match body {
            HttpBody::Stream { stream, .. } => {
                let chunks: Vec<Bytes> = stream.try_collect().await?;
                Ok(chunks.concat())
            }
            HttpBody::Bytes(b) => Ok(b.to_vec()),
            HttpBody::Empty => Ok(Vec::new()),
        }
    }

    #[tokio::test]
    async fn encodes_parts_with_known_length() {
        let parts = vec![MultipartPart {
            name: "media",
            upload: Upload::from_bytes("a\"b.png", "PNGDATA"),
        }];
        let (ct, body) = encode_multipart_with_boundary(&parts, "XYZ").await.unwrap();
        assert_eq!(ct, "multipart/form-data; boundary=XYZ");
        let HttpBody::Stream { length, .. } = &body else {
            panic!("stream expected")
        };
        let length = *length;
        let bytes = collect(body).await.unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "--XYZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a%22b.png\"; filelength=7\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--XYZ--\r\n"
        );
        assert_eq!(length, Some(text.len() as u64));
    }

    #[tokio::test]
    async fn file_uploads_stream_and_replay_and_readers_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voice.amr");
        std::fs::write(&path, vec![7u8; 200_000]).unwrap();
        let up = Upload::from_path(&path).unwrap();
        assert_eq!(
            (up.file_name(), up.content_type(), up.len()),
            ("voice.amr", "audio/amr", Some(200_000))
        );
        for _ in 0..2 {
            let parts = vec![MultipartPart {
                name: "media",
                upload: up.clone(),
            }];
            let (_, body) = encode_multipart(&parts).await.unwrap();
            let bytes = collect(body).await.unwrap();
            assert!(bytes.len() > 200_000);
        }

        let reader = Upload::from_reader("x.bin", &b"12345"[..], Some(5));
        assert!(!reader.is_replayable());
        let parts = vec![MultipartPart {
            name: "media",
            upload: reader.clone(),
        }];
        assert!(
            collect(encode_multipart(&parts).await.unwrap().1)
                .await
                .is_ok()
        );
        let again = encode_multipart(&parts).await.err().unwrap().to_string();
        assert!(again.contains("already been sent once"), "{again}");
    }

    #[tokio::test]
    async fn wrong_declared_length_fails_the_body() {
        let short = Upload::from_reader("x.bin", &b"123"[..], Some(5));
        let err = collect(HttpBody::Stream {
            stream: short.open().await.unwrap(),
            length: Some(5),
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let long = Upload::from_reader("x.bin", &b"1234567"[..], Some(5));
        let err = collect(HttpBody::Stream {
            stream: long.open().await.unwrap(),
            length: Some(5),
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
