//! `multipart/form-data` bodies of the upload endpoints (media/upload, media/uploadimg,
//! webhook/upload_media), read with `multer` (the parser behind axum's `Multipart`): the one
//! multipart parser of the sandbox.
//!
//! The registry hands the parts to the generated request type's `FromWire` (its `MULTIPART`
//! requests get them in `WireInput::parts`). A body that is not valid multipart answers 44001
//! ("empty media data"), as WeCom does for an upload it cannot read.

use bytes::Bytes;
use futures_util::FutureExt;

use crate::error::ApiError;
use crate::registry::Wire;

/// One part of a multipart body.
#[derive(Clone, PartialEq, Eq)]
pub struct FormPart {
    /// The form field name (`media`).
    pub name: String,
    /// The file name, when the part is a file.
    pub filename: Option<String>,
    /// The part's content type (`application/octet-stream` when absent).
    pub content_type: String,
    /// The content.
    pub bytes: Bytes,
}

impl std::fmt::Debug for FormPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormPart")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl FormPart {
    /// The part as the SDK's `Upload` (what generated `FromWire` reads).
    pub fn into_upload(self) -> wecom_core_auth::Upload {
        let name = self.filename.clone().unwrap_or_else(|| self.name.clone());
        wecom_core_auth::Upload::from_bytes(name, self.bytes).with_content_type(self.content_type)
    }

    /// The file name, or `""` when the part has none.
    pub fn file_name(&self) -> &str {
        self.filename.as_deref().unwrap_or_default()
    }
}

fn bad(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        44001,
        format!("empty media data: the body is not valid multipart/form-data ({what})"),
    )
}

/// Parses a multipart body. 44001 when the content type or the body is not valid multipart.
pub fn parse(wire: &Wire<'_>) -> Result<Vec<FormPart>, ApiError> {
    let ct = wire
        .content_type
        .ok_or_else(|| bad("no Content-Type; send multipart/form-data with a boundary"))?;
    if !ct
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(bad(format_args!(
            "Content-Type {ct:?} is not multipart/form-data"
        )));
    }
    let boundary = multer::parse_boundary(ct).map_err(|e| bad(format_args!("{e}")))?;
    let delimiter = format!("--{boundary}");
    if !wire
        .body
        .windows(delimiter.len())
        .any(|w| w == delimiter.as_bytes())
    {
        return Err(bad("no boundary in the body"));
    }
    let body = Bytes::copy_from_slice(wire.body);
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    // The whole body is in memory, so every step of the reader is ready at once: polling it
    // once each is enough (`Pending` would mean the body ended early, reported as such).
    let incomplete = || bad("the body ends early");
    let mut parts = Vec::new();
    loop {
        let next = multipart
            .next_field()
            .now_or_never()
            .ok_or_else(incomplete)?;
        let Some(field) = next.map_err(bad)? else {
            return Ok(parts);
        };
        let name = field
            .name()
            .map(str::to_owned)
            .ok_or_else(|| bad("a part has no name in its Content-Disposition"))?;
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map_or_else(
            || "application/octet-stream".to_owned(),
            ToString::to_string,
        );
        let bytes = field
            .bytes()
            .now_or_never()
            .ok_or_else(incomplete)?
            .map_err(bad)?;
        parts.push(FormPart {
            name,
            filename,
            content_type,
            bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<'a>(ct: &'a str, body: &'a [u8]) -> Wire<'a> {
        Wire {
            query: &[],
            body,
            content_type: Some(ct),
            range: None,
        }
    }

    #[test]
    fn reads_file_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a b.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--XyZ--\r\n";
        let parts = parse(&wire("multipart/form-data; boundary=\"XyZ\"", body)).expect("valid");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "media");
        assert_eq!(parts[0].filename.as_deref(), Some("a b.png"));
        assert_eq!(parts[0].content_type, "image/png");
        assert_eq!(&parts[0].bytes[..], b"\x89PNG");
        assert_eq!(&parts[1].bytes[..], b"v");
        assert_eq!(parts[1].content_type, "application/octet-stream");
    }

    #[test]
    fn multipart_round_trip() {
        // A part whose content holds CR LF, a boundary prefix and non-UTF-8 bytes.
        let body = b"--XY\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.bin\"; filelength=7\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--X\x00\xff\r\n--XY--\r\n";
        let parts = parse(&wire("multipart/form-data; boundary=XY", body)).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].name, "media");
        assert_eq!(parts[0].file_name(), "a.bin");
        assert_eq!(&parts[0].bytes[..], b"\r\n--X\x00\xff");
        assert!(parse(&wire("application/json", body)).is_err());
        assert!(parse(&wire("multipart/form-data; boundary=ZZ", body)).is_err());
    }

    #[test]
    fn refuses_garbage_without_panicking() {
        for (ct, body) in [
            ("application/json", &b"{}"[..]),
            ("multipart/form-data", b"--a\r\n"),
            ("multipart/form-data; boundary=a", b"nothing"),
            (
                "multipart/form-data; boundary=a",
                b"--a\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nunterminated",
            ),
            ("multipart/form-data; boundary=a", b"--a\r\nno header end"),
            (
                "multipart/form-data; boundary=a",
                b"--a\r\nContent-Type: x\r\n\r\nv\r\n--a--",
            ),
            ("multipart/form-data; boundary=a", b"--a"),
        ] {
            assert_eq!(
                parse(&wire(ct, body)).map(|_| ()).map_err(|e| e.errcode),
                Err(44001),
                "{ct} {body:?}"
            );
        }
    }
}
