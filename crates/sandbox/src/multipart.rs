//! A small `multipart/form-data` reader for upload endpoints (media/upload, media/uploadimg).
//!
//! Generated request types of multipart endpoints read their parts with
//! `from_wire(query, parts)`; [`wire_requests_multipart!`](crate::wire_requests_multipart) wires
//! them to the registry through [`parse`].

use bytes::Bytes;

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
    /// The part as the SDK's `Upload` (for generated `from_wire`).
    pub fn into_upload(self) -> wecom_core_auth::Upload {
        let name = self.filename.clone().unwrap_or_else(|| self.name.clone());
        wecom_core_auth::Upload::from_bytes(name, self.bytes).with_content_type(self.content_type)
    }
}

fn bad(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        40058,
        format!("invalid Request Parameter, hint: multipart body: {what}"),
    )
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// A header parameter such as `name="media"` of a Content-Disposition line.
fn param(line: &str, key: &str) -> Option<String> {
    line.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Parses a multipart body. 40058 when the content type or the body is not valid multipart.
pub fn parse(wire: &Wire<'_>) -> Result<Vec<FormPart>, ApiError> {
    let ct = wire
        .content_type
        .ok_or_else(|| bad("no Content-Type; send multipart/form-data with a boundary"))?;
    let boundary = boundary(ct).ok_or_else(|| {
        bad(format_args!(
            "Content-Type {ct:?} is not multipart/form-data with a boundary"
        ))
    })?;
    let body = wire.body;
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut pos =
        find(body, &delim, 0).ok_or_else(|| bad("no boundary in the body"))? + delim.len();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        if body[pos..].starts_with(b"\r\n") {
            pos += 2;
        }
        let head_end =
            find(body, b"\r\n\r\n", pos).ok_or_else(|| bad("a part has no header end"))?;
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let content_start = head_end + 4;
        let mut next_delim = b"\r\n".to_vec();
        next_delim.extend_from_slice(&delim);
        let content_end = find(body, &next_delim, content_start)
            .ok_or_else(|| bad("a part is not terminated by the boundary"))?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = "application/octet-stream".to_owned();
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = param(v, "name");
                filename = param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                content_type = v.trim().to_owned();
            }
        }
        let name = name.ok_or_else(|| bad("a part has no name in its Content-Disposition"))?;
        parts.push(FormPart {
            name,
            filename,
            content_type,
            bytes: Bytes::copy_from_slice(&body[content_start..content_end]),
        });
        pos = content_end + next_delim.len();
        if pos >= body.len() {
            return Err(bad("the body ends without the closing boundary"));
        }
    }
}

/// Implements [`WireRequest`](crate::WireRequest) for generated multipart request types: parses
/// the body with [`parse`] and calls `from_wire(query, parts)`.
#[macro_export]
macro_rules! wire_requests_multipart {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::registry::WireRequest for $ty {
            fn parse_wire(wire: &$crate::registry::Wire<'_>) -> ::std::result::Result<Self, $crate::ApiError> {
                let parts = $crate::multipart::parse(wire)?
                    .into_iter()
                    .map(|p| (p.name.clone(), p.into_upload()))
                    .collect();
                <$ty>::from_wire(wire.query, parts).map_err(|e| $crate::registry::wire_error(&e))
            }
        }
    )*};
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
                Err(40058),
                "{ct} {body:?}"
            );
        }
    }
}
