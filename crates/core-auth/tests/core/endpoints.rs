//! Hand-written test endpoints against the fake server (generated ones come from spec/).

use bytes::Bytes;
use serde::Deserialize;
use wecom_core_auth::{
    CredentialKind, DecodeError, Endpoint, EndpointMeta, Error, InvalidInput, Method,
    MultipartPart, Query, RequestBody, ResponseKind, RetrySafety, Upload,
};

#[derive(Debug, Deserialize)]
pub struct Answer {
    pub owner: String,
}

fn decode_json<T: for<'de> Deserialize<'de>>(body: Bytes) -> Result<T, DecodeError> {
    serde_json::from_slice(&body).map_err(|e| DecodeError::new(e.to_string(), &body))
}

const fn meta(
    name: &'static str,
    method: Method,
    path: &'static str,
    credential: CredentialKind,
    retry: RetrySafety,
) -> EndpointMeta {
    EndpointMeta {
        name,
        method,
        path,
        credential,
        retry,
        response: ResponseKind::Json,
        doc_url: "https://example.invalid/doc",
    }
}

macro_rules! simple_get {
    ($ty:ident, $name:literal, $path:literal, $cred:expr, $retry:expr) => {
        #[derive(Debug, Default)]
        pub struct $ty {
            pub param: Option<String>,
        }
        impl Endpoint for $ty {
            type Response = Answer;
            const META: EndpointMeta = meta($name, Method::Get, $path, $cred, $retry);
            fn validate(&self) -> Result<(), InvalidInput> {
                match &self.param {
                    Some(p) if p.len() > 8 => Err(InvalidInput::new(
                        "param",
                        format!("is {} bytes; at most 8 allowed", p.len()),
                    )
                    .with_errcode(Some(40058))),
                    _ => Ok(()),
                }
            }
            fn query(&self) -> Query {
                let mut q = Query::new();
                if let Some(p) = &self.param {
                    q.push("param", p.clone());
                }
                q
            }
            fn body(&self) -> Result<RequestBody, Error> {
                Ok(RequestBody::Empty)
            }
            fn decode(body: Bytes) -> Result<Answer, DecodeError> {
                decode_json(body)
            }
        }
    };
}

simple_get!(
    Ping,
    "ping",
    "ping",
    CredentialKind::App,
    RetrySafety::Idempotent
);
simple_get!(
    ContactPing,
    "contact_ping",
    "contact/ping",
    CredentialKind::Contact,
    RetrySafety::Idempotent
);
simple_get!(
    CustomerPing,
    "customer_ping",
    "customer/ping",
    CredentialKind::SystemOrApp(wecom_core_auth::SystemApp::ExternalContact),
    RetrySafety::Idempotent
);
simple_get!(
    ReadPing,
    "read_ping",
    "read/ping",
    CredentialKind::AppOrContact,
    RetrySafety::Idempotent
);
simple_get!(
    Open,
    "open",
    "open",
    CredentialKind::None,
    RetrySafety::Idempotent
);

/// A POST that is not safe to resend.
#[derive(Debug)]
pub struct Create {
    pub name: String,
}

impl Endpoint for Create {
    type Response = Answer;
    const META: EndpointMeta = meta(
        "create",
        Method::Post,
        "create",
        CredentialKind::App,
        RetrySafety::NotIdempotent,
    );
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        Query::new()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        Ok(RequestBody::Json(Bytes::from(
            serde_json::json!({"name": self.name}).to_string(),
        )))
    }
    fn decode(body: Bytes) -> Result<Answer, DecodeError> {
        decode_json(body)
    }
}

/// A `message/send`-like POST made safe by WeCom's duplicate check.
#[derive(Debug)]
pub struct Send {
    pub content: String,
    pub enable_duplicate_check: Option<u8>,
    pub duplicate_check_interval: Option<u32>,
}

impl Endpoint for Send {
    type Response = Answer;
    const META: EndpointMeta = meta(
        "send",
        Method::Post,
        "message/send",
        CredentialKind::App,
        RetrySafety::DuplicateCheck,
    );
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        Query::new()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        let mut v = serde_json::json!({"msgtype": "text", "text": {"content": self.content}});
        if let Some(d) = self.enable_duplicate_check {
            v["enable_duplicate_check"] = d.into();
        }
        if let Some(i) = self.duplicate_check_interval {
            v["duplicate_check_interval"] = i.into();
        }
        Ok(RequestBody::Json(Bytes::from(v.to_string())))
    }
    fn decode(body: Bytes) -> Result<Answer, DecodeError> {
        decode_json(body)
    }
    fn enable_duplicate_check(&mut self, default_interval_secs: u32) {
        if self.enable_duplicate_check.is_none() {
            self.enable_duplicate_check = Some(1);
            self.duplicate_check_interval = Some(default_interval_secs);
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Uploaded {
    pub received: u64,
    pub content_length: Option<String>,
    pub chunked: bool,
    pub content_type: Option<String>,
    pub head: String,
}

/// A `media/upload`-like multipart POST.
#[derive(Debug)]
pub struct UploadMedia {
    pub media: Upload,
}

impl Endpoint for UploadMedia {
    type Response = Uploaded;
    const META: EndpointMeta = meta(
        "upload",
        Method::Post,
        "upload",
        CredentialKind::App,
        RetrySafety::Idempotent,
    );
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("type", "file");
        q
    }
    fn body(&self) -> Result<RequestBody, Error> {
        Ok(RequestBody::Multipart(vec![MultipartPart {
            name: "media",
            upload: self.media.clone(),
        }]))
    }
    fn decode(body: Bytes) -> Result<Uploaded, DecodeError> {
        decode_json(body)
    }
}

/// A `media/get`-like binary download, with an optional Range header.
#[derive(Debug, Default)]
pub struct GetMedia {
    pub range: Option<String>,
}

impl Endpoint for GetMedia {
    type Response = Bytes;
    const META: EndpointMeta = EndpointMeta {
        response: ResponseKind::Binary,
        ..meta(
            "media_get",
            Method::Get,
            "media/get",
            CredentialKind::App,
            RetrySafety::Idempotent,
        )
    };
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("media_id", "MEDIA 1/2");
        q
    }
    fn body(&self) -> Result<RequestBody, Error> {
        Ok(RequestBody::Empty)
    }
    fn headers(&self) -> Vec<(&'static str, String)> {
        self.range.iter().map(|r| ("range", r.clone())).collect()
    }
    fn decode(body: Bytes) -> Result<Bytes, DecodeError> {
        Ok(body)
    }
}

/// A group-robot webhook call (key instead of a token).
#[derive(Debug)]
pub struct RobotSend;

impl Endpoint for RobotSend {
    type Response = Answer;
    const META: EndpointMeta = meta(
        "webhook_send",
        Method::Post,
        "webhook/send",
        CredentialKind::RobotKey,
        RetrySafety::NotIdempotent,
    );
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        Query::new()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        Ok(RequestBody::Json(Bytes::from_static(
            br#"{"msgtype":"text","text":{"content":"hi"}}"#,
        )))
    }
    fn decode(body: Bytes) -> Result<Answer, DecodeError> {
        decode_json(body)
    }
}

simple_get!(
    Leak,
    "leak",
    "leak",
    CredentialKind::App,
    RetrySafety::Idempotent
);
simple_get!(
    Html,
    "html",
    "html",
    CredentialKind::App,
    RetrySafety::Idempotent
);

/// A `user/delete`-like idempotent write: resent after a transient failure.
#[derive(Debug)]
pub struct Delete {
    pub id: String,
}

impl Endpoint for Delete {
    type Response = Answer;
    const META: EndpointMeta = meta(
        "thing_delete",
        Method::Post,
        "thing/delete",
        CredentialKind::App,
        RetrySafety::Idempotent,
    );
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        Query::new()
    }
    fn body(&self) -> Result<RequestBody, Error> {
        Ok(RequestBody::Json(Bytes::from(
            serde_json::json!({"id": self.id}).to_string(),
        )))
    }
    fn decode(body: Bytes) -> Result<Answer, DecodeError> {
        decode_json(body)
    }
}
