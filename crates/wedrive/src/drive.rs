//! Moving files in and out of 微盘: block uploads streamed from a file or reader, ranged and
//! resumable downloads, and folder listings.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use futures_util::TryStreamExt as _;
use http::HeaderMap;
use http::header::{CONTENT_RANGE, COOKIE, HeaderValue, RANGE};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};
use wecom_core_auth::{Client, Error, InvalidInput, TransportErrorKind};

use crate::blocks::{BlockHasher, BlockHashes, MAX_SIZE, block_count, block_len};
use crate::generated::wedrive::{
    FileDownloadRequest, FileInfo, FileListRequest, FileUploadFinishRequest, FileUploadInitRequest,
    FileUploadPartRequest, FileUploadRequest, SortType,
};

/// Default size of one download range: 1 MiB.
pub const DEFAULT_RANGE: u64 = 1024 * 1024;
/// The largest file [`Drive::upload_bytes`] sends whole (`file_upload`): 10 MB.
pub const WHOLE_UPLOAD_MAX: u64 = crate::rules::WHOLE_MAX;
/// The most blocks sent at once that the page suggests ("并发数建议不超过10").
const MAX_CONCURRENCY: usize = 10;

/// How far a transfer got, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes moved so far (uploads: blocks acknowledged; downloads: bytes written).
    pub done: u64,
    /// The total, when known.
    pub total: Option<u64>,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Uploaded {
    /// The new file's id.
    pub fileid: String,
    /// WeCom already had this content: no block was sent (秒传).
    pub hit_exist: bool,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's SHA-1, hex (compare with `file_info`'s `sha`).
    pub sha1: String,
    /// Blocks sent (0 for a whole upload or when `hit_exist`).
    pub blocks_sent: u64,
}

/// A transfer that also does local I/O.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriveError {
    /// The WeCom side failed, or a limit was broken before sending.
    #[error(transparent)]
    Wecom(#[from] Error),
    /// Reading or writing a local file or stream failed.
    #[error("{action} {target}: {source}")]
    Io {
        /// What was being done: `opening`, `reading`, `writing to` ...
        action: &'static str,
        /// The path, or `the reader` / `the writer`.
        target: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The content read for the upload is not the content the block hashes were computed from
    /// (the file changed between the two passes, or the reader yields other bytes): the upload
    /// was not completed.
    #[error(
        "the content changed while uploading: its block hashes no longer match those sent to file_upload_init (SHA-1 {expected} announced, {actual} read); upload it again once it is stable"
    )]
    Changed {
        /// The SHA-1 announced.
        expected: String,
        /// The SHA-1 of what was read.
        actual: String,
    },
}

impl DriveError {
    /// The WeCom error, when it is one.
    pub fn as_wecom(&self) -> Option<&Error> {
        match self {
            DriveError::Wecom(e) => Some(e),
            _ => None,
        }
    }

    fn io(action: &'static str, target: impl Into<String>, source: io::Error) -> Self {
        DriveError::Io {
            action,
            target: target.into(),
            source,
        }
    }
}

fn decode(endpoint: &'static str, message: String) -> DriveError {
    DriveError::Wecom(Error::Decode {
        endpoint,
        source: wecom_core_auth::DecodeError::new(message, b""),
    })
}

fn invalid(field: &str, problem: String, context: &str) -> DriveError {
    DriveError::Wecom(InvalidInput::new(field, problem).in_context(context).into())
}

/// 微盘 transfers through a client: `Drive::new(&client)`.
///
/// Uploads use WeCom's block upload: the file is read twice, once to compute the block hashes
/// `file_upload_init` needs and once to send its 2 MB blocks, so a file of any size (up to
/// 20 GB) is never held in memory: about four block-sized buffers per block in flight. Downloads
/// fetch `file_download`'s URL in ranges (1 MiB by default) with its cookie, writing each range
/// as it arrives, and can resume from any offset.
///
/// ```no_run
/// use wecom_wedrive::Drive;
/// # async fn demo(client: &wecom_core_auth::Client, spaceid: &str) -> Result<(), wecom_wedrive::DriveError> {
/// let drive = Drive::new(client).on_progress(|p| eprintln!("{} of {:?} bytes", p.done, p.total));
/// let up = drive.upload_path(spaceid, spaceid, "backup.tar").await?;
/// drive.download_to_path(&up.fileid, "backup-copy.tar").await?;
/// // After an interruption, continue where the local file ends:
/// drive.resume_to_path(&up.fileid, "backup-copy.tar").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Drive<'a> {
    client: &'a Client,
    range: u64,
    concurrency: usize,
    skip_push_card: Option<bool>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Drive<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drive")
            .field("range", &self.range)
            .field("concurrency", &self.concurrency)
            .field("skip_push_card", &self.skip_push_card)
            .finish_non_exhaustive()
    }
}

impl<'a> Drive<'a> {
    /// Transfers through `client` (its selected app must be one the admin allowed to call 微盘).
    pub fn new(client: &'a Client) -> Self {
        Self {
            client,
            range: DEFAULT_RANGE,
            concurrency: 1,
            skip_push_card: None,
            progress: None,
        }
    }

    /// Size of one download range (default 1 MiB, at least 64 KiB). Memory holds about three
    /// ranges at peak.
    pub fn range_size(mut self, bytes: u64) -> Self {
        self.range = bytes.max(64 * 1024);
        self
    }

    /// Blocks uploaded at once (default 1; the page suggests at most 10). Each block in flight
    /// holds about 8 MB (the block, its base64 and the request body).
    pub fn concurrency(mut self, blocks: usize) -> Self {
        self.concurrency = blocks.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// Do not push a WeCom card when an uploaded file is created (`skip_push_card`).
    pub fn skip_push_card(mut self, skip: bool) -> Self {
        self.skip_push_card = Some(skip);
        self
    }

    /// Calls `f` as a transfer moves (after each block or range).
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    fn report(&self, done: u64, total: Option<u64>) {
        if let Some(f) = &self.progress {
            f(Progress { done, total });
        }
    }

    /// Uploads bytes in memory whole (`file_upload`, base64): at most 10 MB (checked before
    /// sending). Larger files: [`Drive::upload_path`] or [`Drive::upload_reader`].
    pub async fn upload_bytes(
        &self,
        spaceid: &str,
        fatherid: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Uploaded, DriveError> {
        let size = bytes.len() as u64;
        if size > WHOLE_UPLOAD_MAX {
            return Err(invalid(
                "file_base64_content",
                format!(
                    "`{file_name}` is {size} bytes; a whole upload is at most {WHOLE_UPLOAD_MAX} bytes: use Drive::upload_path or Drive::upload_reader (block upload)"
                ),
                "file_upload",
            ));
        }
        let content = base64::engine::general_purpose::STANDARD.encode(bytes);
        let request = FileUploadRequest::new(file_name, content)
            .spaceid(spaceid)
            .fatherid(fatherid);
        let fileid = self.client.execute(request).await?.fileid;
        self.report(size, Some(size));
        Ok(Uploaded {
            fileid,
            hit_exist: false,
            size,
            sha1: BlockHashes::of(bytes).sha1().to_owned(),
            blocks_sent: 0,
        })
    }

    /// Uploads a file from disk with the block upload, streamed: a first pass computes the block
    /// hashes, a second sends the blocks. The file is named as on disk (its last path
    /// component); `fatherid` is the folder, the spaceid itself for the space's root.
    pub async fn upload_path(
        &self,
        spaceid: &str,
        fatherid: &str,
        path: impl AsRef<Path>,
    ) -> Result<Uploaded, DriveError> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.upload_path_as(spaceid, fatherid, &name, path).await
    }

    /// [`Drive::upload_path`] under another name.
    pub async fn upload_path_as(
        &self,
        spaceid: &str,
        fatherid: &str,
        file_name: &str,
        path: impl AsRef<Path>,
    ) -> Result<Uploaded, DriveError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        crate::rules::check_name("file_name", file_name)
            .map_err(|e| DriveError::Wecom(e.in_context("file_upload_init").into()))?;
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| DriveError::io("opening", &shown, e))?;
        let hashes = BlockHashes::of_reader(&mut tokio::io::BufReader::with_capacity(
            256 * 1024,
            &mut file,
        ))
        .await
        .map_err(|e| DriveError::io("reading", &shown, e))?;
        file.rewind()
            .await
            .map_err(|e| DriveError::io("rewinding", &shown, e))?;
        self.upload_reader(spaceid, fatherid, file_name, &hashes, file)
            .await
    }

    /// Uploads with the block upload from `reader`, whose content must be the content `hashes`
    /// were computed from (compute them in a first pass with
    /// [`BlockHashes::of_reader`](crate::blocks::BlockHashes::of_reader)). The reader is read
    /// once, block by block; the blocks read are hashed again and the upload is not completed
    /// ([`DriveError::Changed`]) when they differ.
    pub async fn upload_reader<R: AsyncRead + Unpin + Send>(
        &self,
        spaceid: &str,
        fatherid: &str,
        file_name: &str,
        hashes: &BlockHashes,
        reader: R,
    ) -> Result<Uploaded, DriveError> {
        let size = hashes.size();
        if size > MAX_SIZE {
            return Err(invalid(
                "size",
                format!("`{file_name}` is {size} bytes; 微盘 takes files up to 20 GB"),
                "file_upload_init",
            ));
        }
        let mut init = FileUploadInitRequest::new(file_name, size, hashes.values().iter().cloned())
            .spaceid(spaceid)
            .fatherid(fatherid);
        init.skip_push_card = self.skip_push_card;
        let started = self.client.execute(init).await?;
        if started.hit_exist == Some(true) {
            let fileid = started.fileid.unwrap_or_default();
            self.report(size, Some(size));
            return Ok(Uploaded {
                fileid,
                hit_exist: true,
                size,
                sha1: hashes.sha1().to_owned(),
                blocks_sent: 0,
            });
        }
        let Some(key) = started.upload_key else {
            return Err(decode(
                "file_upload_init",
                "the answer has neither hit_exist nor an upload_key".into(),
            ));
        };
        let count = block_count(size);
        let sent = self
            .send_blocks(&key, size, count, hashes.sha1(), reader)
            .await?;
        let fileid = self
            .client
            .execute(FileUploadFinishRequest::new(key))
            .await?
            .fileid;
        Ok(Uploaded {
            fileid,
            hit_exist: false,
            size,
            sha1: hashes.sha1().to_owned(),
            blocks_sent: sent,
        })
    }

    /// Reads the blocks in order (hashing them again) and sends up to `concurrency` at once.
    async fn send_blocks<R: AsyncRead + Unpin + Send>(
        &self,
        key: &str,
        size: u64,
        count: u64,
        expected_sha1: &str,
        reader: R,
    ) -> Result<u64, DriveError> {
        struct ReadState<R> {
            reader: R,
            next: u64,
            hasher: BlockHasher,
        }
        let state = ReadState {
            reader,
            next: 1,
            hasher: BlockHasher::new(),
        };
        // The last block read finishes the second hash; the check happens before the last block
        // is sent, so a changed file never gets finished.
        let blocks = futures_util::stream::try_unfold(state, move |mut s| {
            let expected = expected_sha1.to_owned();
            async move {
                if s.next > count {
                    return Ok(None);
                }
                let len = block_len(size, s.next) as usize;
                let mut buf = vec![0u8; len];
                s.reader
                    .read_exact(&mut buf)
                    .await
                    .map_err(|e| DriveError::io("reading", "the reader", e))?;
                s.hasher.update(&buf);
                let index = s.next;
                s.next += 1;
                if index == count {
                    // Nothing may follow the announced size.
                    let mut extra = [0u8; 1];
                    let more = s
                        .reader
                        .read(&mut extra)
                        .await
                        .map_err(|e| DriveError::io("reading", "the reader", e))?;
                    let actual = std::mem::take(&mut s.hasher).finish();
                    if more > 0 || actual.sha1() != expected {
                        return Err(DriveError::Changed {
                            expected,
                            actual: if more > 0 {
                                format!(
                                    "{} (and more bytes after the announced size)",
                                    actual.sha1()
                                )
                            } else {
                                actual.sha1().to_owned()
                            },
                        });
                    }
                }
                Ok(Some(((index, buf), s)))
            }
        });
        let done = std::sync::atomic::AtomicU64::new(0);
        let sent = blocks
            .map_ok(|(index, buf)| {
                let done = &done;
                async move {
                    let len = buf.len() as u64;
                    let index = u32::try_from(index).map_err(|_| {
                        invalid(
                            "index",
                            format!("block {index} is past WeCom's 10240 blocks"),
                            "file_upload_part",
                        )
                    })?;
                    // The JSON body is written once, base64 straight into it: no separate
                    // base64 string, no re-serialization (memory: the block, then its body).
                    let part = PartBody::new(key, index, &buf);
                    drop(buf);
                    self.client.execute(part).await?;
                    let now = done.fetch_add(len, std::sync::atomic::Ordering::Relaxed) + len;
                    self.report(now, Some(size));
                    Ok::<u64, DriveError>(1)
                }
            })
            .try_buffer_unordered(self.concurrency)
            .try_fold(0u64, |n, one| async move { Ok(n + one) })
            .await?;
        Ok(sent)
    }

    /// Every entry of a folder (`fatherid`; the spaceid for the space's root), paging
    /// `file_list` 1000 at a time, in `sort` order.
    pub async fn list_all(
        &self,
        spaceid: &str,
        fatherid: &str,
        sort: SortType,
    ) -> Result<Vec<FileInfo>, Error> {
        let mut out = Vec::new();
        let mut start = 0u32;
        loop {
            let page = self
                .client
                .execute(FileListRequest::new(spaceid, fatherid, sort, start, 1000))
                .await?;
            let items = page.file_list.map(|l| l.item).unwrap_or_default();
            let got = items.len();
            out.extend(items);
            match (page.has_more, page.next_start) {
                (Some(true), Some(next)) if next > start || got > 0 => start = next,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Downloads a whole file into `writer` in ranges; returns the bytes written.
    pub async fn download<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        fileid: &str,
        writer: &mut W,
    ) -> Result<u64, DriveError> {
        self.download_from(fileid, 0, writer).await
    }

    /// Downloads a file from byte `offset` on into `writer` (to resume an interrupted download);
    /// returns the bytes written. A fresh download URL is fetched once when the one in use stops
    /// working (it is valid 2 hours).
    pub async fn download_from<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        fileid: &str,
        offset: u64,
        writer: &mut W,
    ) -> Result<u64, DriveError> {
        let mut link = self.link(fileid).await?;
        let mut pos = offset;
        let mut total: Option<u64> = None;
        let mut refreshed = false;
        loop {
            if total.is_some_and(|t| pos >= t) {
                break;
            }
            let last = pos + self.range - 1;
            let resp = match self.fetch(&link, pos, last).await {
                Ok(r) => r,
                // Asking at or past the end (a resumed file that was complete).
                Err(Error::Transport(t)) if t.kind == TransportErrorKind::Status(416) => break,
                Err(Error::Transport(t))
                    if !refreshed
                        && matches!(t.kind, TransportErrorKind::Status(401 | 403 | 404)) =>
                {
                    // The link expired: ask for a new one, once.
                    refreshed = true;
                    link = self.link(fileid).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let body = resp.body;
            let (skip, whole) = match content_range(&resp.headers) {
                Some((first, _, t)) => {
                    total = t.or(total);
                    if first != pos {
                        return Err(decode(
                            "wedrive_file_download_url",
                            format!(
                                "asked for bytes from {pos}, the download answered from {first}"
                            ),
                        ));
                    }
                    (0usize, false)
                }
                // A 200 without Content-Range: the whole file, whatever was asked.
                None => (
                    usize::try_from(pos).unwrap_or(usize::MAX).min(body.len()),
                    true,
                ),
            };
            writer
                .write_all(&body[skip..])
                .await
                .map_err(|e| DriveError::io("writing to", "the writer", e))?;
            pos += (body.len() - skip) as u64;
            self.report(pos, total);
            if whole || body.is_empty() || (total.is_none() && (body.len() as u64) < self.range) {
                break;
            }
        }
        writer
            .flush()
            .await
            .map_err(|e| DriveError::io("flushing", "the writer", e))?;
        Ok(pos - offset)
    }

    /// Downloads a file to `path` (created or truncated); returns its size.
    pub async fn download_to_path(
        &self,
        fileid: &str,
        path: impl AsRef<Path>,
    ) -> Result<u64, DriveError> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| DriveError::io("creating", path.display().to_string(), e))?;
        let mut w = tokio::io::BufWriter::new(file);
        self.download(fileid, &mut w).await
    }

    /// Continues a download into `path` from where the file on disk ends (creates it when
    /// missing); returns the bytes added.
    pub async fn resume_to_path(
        &self,
        fileid: &str,
        path: impl AsRef<Path>,
    ) -> Result<u64, DriveError> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| DriveError::io("opening", &shown, e))?;
        let have = file
            .metadata()
            .await
            .map_err(|e| DriveError::io("reading", &shown, e))?
            .len();
        let mut w = tokio::io::BufWriter::new(file);
        self.download_from(fileid, have, &mut w).await
    }

    async fn link(&self, fileid: &str) -> Result<Link, Error> {
        let r = self
            .client
            .execute(FileDownloadRequest::new().fileid(fileid))
            .await?;
        let cookie = format!("{}={}", r.cookie_name, r.cookie_value.expose());
        let cookie = HeaderValue::from_str(&cookie).map_err(|_| Error::Decode {
            endpoint: "file_download",
            source: wecom_core_auth::DecodeError::new(
                "the answer's cookie is not a valid header value",
                b"",
            ),
        })?;
        Ok(Link {
            url: r.download_url.expose().to_owned(),
            cookie,
        })
    }

    async fn fetch(
        &self,
        link: &Link,
        first: u64,
        last: u64,
    ) -> Result<wecom_core_auth::transport::HttpResponse, Error> {
        let mut headers = HeaderMap::new();
        let mut cookie = link.cookie.clone();
        cookie.set_sensitive(true);
        headers.insert(COOKIE, cookie);
        if let Ok(v) = HeaderValue::from_str(&format!("bytes={first}-{last}")) {
            headers.insert(RANGE, v);
        }
        self.client
            .get_url("wedrive_file_download_url", &link.url, headers)
            .await
    }
}

/// `file_upload_part` with its JSON body built directly: `{"upload_key":..,"index":..,
/// "file_base64_content":"<base64>"}` encoded straight from the block into one buffer of the
/// exact size, instead of a base64 `String` serialized again by serde (which holds the content
/// three times at its peak). Validated like the generated request, with the same rules.
#[derive(Debug)]
struct PartBody {
    index: u32,
    block_len: u64,
    body: bytes::Bytes,
}

impl PartBody {
    fn new(upload_key: &str, index: u32, block: &[u8]) -> Self {
        let engine = &base64::engine::general_purpose::STANDARD;
        let key = serde_json::to_string(upload_key).unwrap_or_else(|_| "\"\"".to_owned());
        let prefix = format!(r#"{{"upload_key":{key},"index":{index},"file_base64_content":""#);
        let encoded = base64::encoded_len(block.len(), true).unwrap_or(0);
        let mut body = Vec::with_capacity(prefix.len() + encoded + 2);
        body.extend_from_slice(prefix.as_bytes());
        let start = body.len();
        body.resize(start + encoded, 0);
        let written = engine.encode_slice(block, &mut body[start..]).unwrap_or(0);
        body.truncate(start + written);
        body.extend_from_slice(b"\"}");
        Self {
            index,
            block_len: block.len() as u64,
            body: bytes::Bytes::from(body),
        }
    }
}

impl wecom_core_auth::Endpoint for PartBody {
    type Response = crate::generated::wedrive::FileUploadPartResponse;
    const META: wecom_core_auth::EndpointMeta =
        <FileUploadPartRequest as wecom_core_auth::Endpoint>::META;

    fn validate(&self) -> Result<(), InvalidInput> {
        // The generated request's constraints: index 1 to 10240, and
        // (crate::rules::check_upload_part) at most one 2 MB block.
        let fail = |field: &str, problem: String| {
            Err(InvalidInput::new(field, problem).in_context("file_upload_part"))
        };
        if !(1..=10240).contains(&self.index) {
            return fail("index", format!("{} is not within 1 to 10240", self.index));
        }
        if self.block_len > crate::blocks::BLOCK_SIZE {
            return fail(
                "file_base64_content",
                format!(
                    "the block is {} bytes; a block may be at most {} bytes",
                    self.block_len,
                    crate::blocks::BLOCK_SIZE
                ),
            );
        }
        Ok(())
    }

    fn query(&self) -> wecom_core_auth::Query {
        wecom_core_auth::Query::new()
    }

    fn body(&self) -> Result<wecom_core_auth::RequestBody, Error> {
        Ok(wecom_core_auth::RequestBody::Json(self.body.clone()))
    }

    fn decode(body: bytes::Bytes) -> Result<Self::Response, wecom_core_auth::DecodeError> {
        <FileUploadPartRequest as wecom_core_auth::Endpoint>::decode(body)
    }
}

/// A download URL with its cookie (both secret: never logged).
struct Link {
    url: String,
    cookie: HeaderValue,
}

/// `Content-Range: bytes first-last/total` (total `*` when unknown).
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, b) = span.split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_range() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes 0-1023/4096"));
        assert_eq!(content_range(&h), Some((0, 1023, Some(4096))));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes 5-9/*"));
        assert_eq!(content_range(&h), Some((5, 9, None)));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("garbage"));
        assert_eq!(content_range(&h), None);
    }

    #[test]
    fn a_part_body_is_the_json_serde_would_write() {
        use wecom_core_auth::Endpoint as _;
        let block = b"any bytes \x00\xff of a block";
        let part = PartBody::new("k\"ey", 7, block);
        let ours: serde_json::Value = serde_json::from_slice(&part.body).unwrap_or_default();
        let content = base64::engine::general_purpose::STANDARD.encode(block);
        let generated = serde_json::to_value(FileUploadPartRequest::new("k\"ey", 7, content))
            .unwrap_or_default();
        assert_eq!(ours, generated);
        assert!(part.validate().is_ok());
        assert!(PartBody::new("k", 0, block).validate().is_err());
        assert!(PartBody::new("k", 10241, &[]).validate().is_err());
    }

    #[test]
    fn block_size_is_wecoms() {
        assert_eq!(crate::blocks::BLOCK_SIZE, 2 * 1024 * 1024);
    }
}
