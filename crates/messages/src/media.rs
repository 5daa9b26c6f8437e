//! Media files: checked, streamed uploads and ranged downloads.
//!
//! WeCom's limits (checked before any byte is sent): every file is larger than 5 bytes; images
//! at most 10 MB (JPG or PNG), voice 2 MB (AMR), video 10 MB (MP4), other files 20 MB; images for
//! `media/uploadimg` at most 2 MB (JPG or PNG). Uploads stream from their source in 64 KiB chunks;
//! downloads fetch the file in ranges (1 MiB by default) and write each to your writer, so memory
//! stays bounded whatever the file's size (WeCom refuses whole downloads above 20 MB: 830002).

use std::io;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use wecom_core_auth::{
    Client, DecodeError, Endpoint, EndpointMeta, Error, InvalidInput, Query, RequestBody,
    TransportErrorKind, Upload,
};

use crate::generated::messages::{
    AttachmentType, MediaGetRequest, MediaType, MediaUploadAttachmentRequest, MediaUploadRequest,
    MediaUploadResponse, MediaUploadimgRequest, WebhookUploadMediaRequest,
};

/// One MiB.
pub const MIB: u64 = 1024 * 1024;
/// Every media file must be larger than this many bytes.
pub const MIN_EXCLUSIVE: u64 = 5;
/// Largest image for `media/uploadimg`.
pub const UPLOADIMG_MAX: u64 = 2 * MIB;
/// Default size of one download range.
pub const DEFAULT_CHUNK: u64 = MIB;

/// The largest file WeCom accepts for a media type (`None` for a type this SDK does not know).
pub fn max_len(kind: &MediaType) -> Option<u64> {
    match kind {
        MediaType::Image => Some(10 * MIB),
        MediaType::Voice => Some(2 * MIB),
        MediaType::Video => Some(10 * MIB),
        MediaType::File => Some(20 * MIB),
        MediaType::Unknown(_) => None,
    }
}

/// Content types WeCom accepts for a media type (`None`: any).
fn accepted_types(kind: &MediaType) -> Option<&'static [&'static str]> {
    match kind {
        MediaType::Image => Some(&["image/jpeg", "image/png"]),
        MediaType::Voice => Some(&["audio/amr"]),
        MediaType::Video => Some(&["video/mp4"]),
        MediaType::File | MediaType::Unknown(_) => None,
    }
}

fn human(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MB ({n} bytes)", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

/// Checks a length and content type against a limit: the shared core of the checks below.
fn check(
    field: &str,
    what: &str,
    upload: &Upload,
    max: Option<u64>,
    types: Option<&[&str]>,
) -> Result<(), InvalidInput> {
    if let Some(len) = upload.len() {
        if len <= MIN_EXCLUSIVE {
            return Err(InvalidInput::new(
                field,
                format!(
                    "`{}` is {len} bytes; WeCom needs a {what} larger than {MIN_EXCLUSIVE} bytes",
                    upload.file_name()
                ),
            )
            .with_errcode(Some(40006)));
        }
        if let Some(max) = max
            && len > max
        {
            return Err(InvalidInput::new(
                field,
                format!(
                    "`{}` is {}; a {what} may be at most {}",
                    upload.file_name(),
                    human(len),
                    human(max)
                ),
            )
            .with_errcode(Some(45001)));
        }
    }
    if let Some(types) = types {
        let ct = upload
            .content_type()
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !types.contains(&ct.as_str()) {
            return Err(InvalidInput::new(
                field,
                format!(
                    "`{}` has content type `{ct}`; a {what} must be {} (name the file with the right extension, or set Upload::with_content_type)",
                    upload.file_name(),
                    types.join(" or ")
                ),
            )
            .with_errcode(Some(40004)));
        }
    }
    Ok(())
}

/// Checks a `media/upload` file against WeCom's limits for its type: larger than 5 bytes, at most
/// 10 MB (image), 2 MB (voice), 10 MB (video) or 20 MB (file), and the image/voice/video formats.
/// A length that is unknown (a reader without one) is not checked here; [`Media::upload_reader`]
/// then cuts the stream at the limit.
pub fn check_upload(kind: &MediaType, upload: &Upload) -> Result<(), InvalidInput> {
    let what = match kind {
        MediaType::File => "file".to_owned(),
        other => format!("{other} file"),
    };
    check("media", &what, upload, max_len(kind), accepted_types(kind))
}

/// [`check_upload`] of a `media/upload` request (named by the spec: its `validate()` runs it).
pub fn check_upload_request(request: &MediaUploadRequest) -> Result<(), InvalidInput> {
    check_upload(&request.media_type, &request.media)
}

/// [`check_uploadimg`] of a `media/uploadimg` request (named by the spec: its `validate()` runs it).
pub fn check_uploadimg_request(request: &MediaUploadimgRequest) -> Result<(), InvalidInput> {
    check_uploadimg(&request.media)
}

/// [`check_robot_upload`] of a `webhook/upload_media` request (named by the spec: its
/// `validate()` runs it).
pub fn check_robot_upload_request(request: &WebhookUploadMediaRequest) -> Result<(), InvalidInput> {
    check_robot_upload(&request.media_type, &request.media)
}

/// Checks an image for `media/uploadimg`: JPG or PNG, 6 bytes to 2 MB.
pub fn check_uploadimg(upload: &Upload) -> Result<(), InvalidInput> {
    check(
        "media",
        "message image",
        upload,
        Some(UPLOADIMG_MAX),
        Some(&["image/jpeg", "image/png"]),
    )
}

/// Checks a group robot upload: a file of 6 bytes to 20 MB, or an AMR voice clip up to 2 MB.
pub fn check_robot_upload(kind: &MediaType, upload: &Upload) -> Result<(), InvalidInput> {
    match kind {
        MediaType::Voice => check(
            "media",
            "voice file",
            upload,
            Some(2 * MIB),
            Some(&["audio/amr"]),
        ),
        _ => check("media", "file", upload, Some(20 * MIB), None),
    }
}

/// The rule of a `media/upload_attachment` request a field constraint cannot say (named by the
/// spec): moments attachments (朋友圈, `attachment_type` 1) are images or videos only (page
/// 95098: "朋友圈附件类型,仅支持图片与视频"). The page names no errcode and no size limits for
/// attachments, so neither is enforced here.
pub fn check_attachment_request(
    request: &MediaUploadAttachmentRequest,
) -> Result<(), InvalidInput> {
    if request.attachment_type == AttachmentType::Moment
        && !matches!(request.media_type, MediaType::Image | MediaType::Video)
    {
        return Err(InvalidInput::new(
            "media_type",
            format!(
                "a moments attachment (attachment_type 1) must be an image or a video, not `{}`; upload other files with attachment_type 2 (product album) or media/upload",
                request.media_type
            ),
        ));
    }
    Ok(())
}

/// A media operation that also does local I/O (opening a file, writing a download).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The WeCom side failed, or a limit was broken before sending.
    #[error(transparent)]
    Wecom(#[from] Error),
    /// Reading or writing a local file or writer failed.
    #[error("{action} {target}: {source}")]
    Io {
        /// What was being done: `opening`, `creating`, `writing to`.
        action: &'static str,
        /// The path, or `the writer`.
        target: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl MediaError {
    /// The WeCom error, when it is one.
    pub fn as_wecom(&self) -> Option<&Error> {
        match self {
            MediaError::Wecom(e) => Some(e),
            MediaError::Io { .. } => None,
        }
    }

    fn io(action: &'static str, target: &Path, source: io::Error) -> Self {
        MediaError::Io {
            action,
            target: target.display().to_string(),
            source,
        }
    }
}

/// `media/get` of a byte range: the generated request plus a `Range` header.
#[derive(Debug)]
struct RangeGet {
    inner: MediaGetRequest,
    range: RangeInclusive<u64>,
}

impl Endpoint for RangeGet {
    type Response = Bytes;
    const META: EndpointMeta = <MediaGetRequest as Endpoint>::META;

    fn validate(&self) -> Result<(), InvalidInput> {
        <MediaGetRequest as Endpoint>::validate(&self.inner)
    }
    fn query(&self) -> Query {
        self.inner.query()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        self.inner.body()
    }
    fn decode(body: Bytes) -> Result<Bytes, DecodeError> {
        Ok(body)
    }
    fn headers(&self) -> Vec<(&'static str, String)> {
        vec![(
            "Range",
            format!("bytes={}-{}", self.range.start(), self.range.end()),
        )]
    }
}

/// Media of the client's selected app: `Media::new(&client)`.
///
/// ```no_run
/// use wecom_messages::{Media, MediaType, Message, Recipients};
/// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_messages::MediaError> {
/// let media = Media::new(client);
/// let uploaded = media.upload_path(MediaType::File, "report.pdf").await?; // streamed, checked first
/// Message::file(&uploaded.media_id).to(Recipients::user("zhangsan")).send(client).await?;
/// let n = media.download_to_path(&uploaded.media_id, "copy.pdf").await?;   // in 1 MiB ranges
/// # let _ = n; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Media<'a> {
    client: &'a Client,
    chunk: u64,
}

impl<'a> Media<'a> {
    /// Media operations through `client` (with its selected app's token).
    pub fn new(client: &'a Client) -> Self {
        Self {
            client,
            chunk: DEFAULT_CHUNK,
        }
    }

    /// Size of one download range (default 1 MiB; WeCom serves at most 20 MB at once). The
    /// transport holds one range in memory at a time (about three times its size at peak).
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk = bytes.clamp(1, 20 * MIB);
        self
    }

    /// Uploads a temporary media file (valid 3 days) after checking it against WeCom's limits
    /// for `kind` ([`check_upload`]); nothing is sent when a limit is broken.
    pub async fn upload(
        &self,
        kind: MediaType,
        upload: Upload,
    ) -> Result<MediaUploadResponse, Error> {
        // The request's `validate()` checks the file ([`check_upload`]) before anything is sent.
        self.client
            .execute(MediaUploadRequest::new(kind, upload))
            .await
    }

    /// Uploads a file from disk, streamed (its size is checked before sending).
    pub async fn upload_path(
        &self,
        kind: MediaType,
        path: impl AsRef<Path>,
    ) -> Result<MediaUploadResponse, MediaError> {
        let path = path.as_ref();
        let upload = Upload::from_path(path).map_err(|e| MediaError::io("opening", path, e))?;
        Ok(self.upload(kind, upload).await?)
    }

    /// Uploads from any async reader, streamed. With `length` the size is checked before
    /// sending; without it the stream is cut (and the upload fails) once it passes the limit.
    /// A reader can be sent once, so this call is not retried.
    pub async fn upload_reader(
        &self,
        kind: MediaType,
        file_name: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
        length: Option<u64>,
    ) -> Result<MediaUploadResponse, Error> {
        let upload = match (length, max_len(&kind)) {
            (None, Some(max)) => Upload::from_reader(
                file_name,
                Limited {
                    inner: reader,
                    left: max,
                    max,
                },
                None,
            ),
            _ => Upload::from_reader(file_name, reader, length),
        };
        self.upload(kind, upload).await
    }

    /// Uploads an image for use inside messages and answers its permanent URL (JPG or PNG, at
    /// most 2 MB, checked first).
    pub async fn upload_image(&self, upload: Upload) -> Result<String, Error> {
        // The request's `validate()` checks the image ([`check_uploadimg`]) before anything is sent.
        Ok(self
            .client
            .execute(MediaUploadimgRequest::new(upload))
            .await?
            .url)
    }

    /// Downloads bytes `range` (inclusive) of a media file. At most 20 MB per call.
    pub async fn download_range(
        &self,
        media_id: &str,
        range: RangeInclusive<u64>,
    ) -> Result<Bytes, Error> {
        if range.is_empty() {
            return Err(InvalidInput::new(
                "range",
                format!("{}..={} is empty", range.start(), range.end()),
            )
            .in_context("media_get")
            .into());
        }
        self.client
            .execute(RangeGet {
                inner: MediaGetRequest::new(media_id),
                range,
            })
            .await
    }

    /// Downloads a whole media file into `writer`, one range at a time (memory stays at one
    /// range whatever the file's size). Returns the number of bytes written.
    pub async fn download<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        media_id: &str,
        writer: &mut W,
    ) -> Result<u64, MediaError> {
        let mut offset: u64 = 0;
        loop {
            let range = offset..=offset + self.chunk - 1;
            let body = match self.download_range(media_id, range).await {
                Ok(b) => b,
                // Asking past the end of a file whose size is a multiple of the range.
                Err(Error::Transport(t))
                    if offset > 0 && t.kind == TransportErrorKind::Status(416) =>
                {
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            let len = body.len() as u64;
            writer
                .write_all(&body)
                .await
                .map_err(|source| MediaError::Io {
                    action: "writing to",
                    target: "the writer".into(),
                    source,
                })?;
            offset += len;
            // A short range is the end; a longer one means the server sent the whole file.
            if len != self.chunk {
                break;
            }
        }
        writer.flush().await.map_err(|source| MediaError::Io {
            action: "flushing",
            target: "the writer".into(),
            source,
        })?;
        Ok(offset)
    }

    /// Downloads a whole media file to `path` (created or truncated).
    pub async fn download_to_path(
        &self,
        media_id: &str,
        path: impl AsRef<Path>,
    ) -> Result<u64, MediaError> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| MediaError::io("creating", &path, e))?;
        let mut writer = tokio::io::BufWriter::new(file);
        self.download(media_id, &mut writer).await
    }
}

/// A reader that fails once more than `max` bytes came through (uploads of unknown length).
struct Limited<R> {
    inner: R,
    left: u64,
    max: u64,
}

impl<R: AsyncRead + Unpin> AsyncRead for Limited<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let n = (buf.filled().len() - before) as u64;
                if n > self.left {
                    // An error reports nothing read.
                    buf.set_filled(before);
                    let max = self.max;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "the upload is larger than WeCom's limit of {} for this media type (errcode 45001)",
                            human(max)
                        ),
                    )));
                }
                self.left -= n;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_type() {
        let up = |name: &str, len: usize| Upload::from_bytes(name, vec![0u8; len]);
        assert!(check_upload(&MediaType::File, &up("a.bin", 6)).is_ok());
        let e = check_upload(&MediaType::File, &up("a.bin", 5))
            .err()
            .map(|e| (e.errcode, e.problem));
        assert_eq!(e.as_ref().map(|e| e.0), Some(Some(40006)));
        assert!(e.is_some_and(|e| e.1.contains("larger than 5 bytes")));
        assert!(check_upload(&MediaType::File, &up("a.bin", 20 * MIB as usize)).is_ok());
        let e = check_upload(&MediaType::File, &up("a.bin", 20 * MIB as usize + 1)).err();
        assert_eq!(e.as_ref().and_then(|e| e.errcode), Some(45001));
        assert!(e.is_some_and(|e| e.problem.contains("at most 20 MB")));
        assert!(check_upload(&MediaType::Image, &up("a.JPG", 10 * MIB as usize)).is_ok());
        assert!(check_upload(&MediaType::Image, &up("a.png", 10 * MIB as usize + 1)).is_err());
        assert!(check_upload(&MediaType::Voice, &up("a.amr", 2 * MIB as usize + 1)).is_err());
        assert!(check_upload(&MediaType::Video, &up("a.mp4", 10 * MIB as usize + 1)).is_err());
        assert_eq!(
            check_upload(&MediaType::Video, &up("a.mov", 100))
                .err()
                .and_then(|e| e.errcode),
            Some(40004)
        );
        assert!(
            check_upload(
                &MediaType::Image,
                &up("scan", 100).with_content_type("image/png")
            )
            .is_ok()
        );
        assert!(check_uploadimg(&up("a.png", 2 * MIB as usize + 1)).is_err());
        assert!(check_robot_upload(&MediaType::Voice, &up("a.amr", 100)).is_ok());
        assert!(check_robot_upload(&MediaType::File, &up("a.zip", 20 * MIB as usize + 1)).is_err());
        assert_eq!(human(21 * MIB), "21 MB");
        assert_eq!(human(1536 * 1024), "1.5 MB (1572864 bytes)");
    }

    #[tokio::test]
    async fn limited_reader_cuts_at_the_limit() {
        use tokio::io::AsyncReadExt;
        let mut ok = Limited {
            inner: &[1u8; 10][..],
            left: 10,
            max: 10,
        };
        let mut buf = Vec::new();
        assert_eq!(ok.read_to_end(&mut buf).await.ok(), Some(10));
        let mut over = Limited {
            inner: &[1u8; 11][..],
            left: 10,
            max: 10,
        };
        let err = over
            .read_to_end(&mut Vec::new())
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("45001"), "{err}");
    }
}
