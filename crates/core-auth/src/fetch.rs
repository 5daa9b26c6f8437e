//! The requests the cache itself sends (gettoken and the two ticket endpoints).
//!
//! Interim definitions against the [`Endpoint`] trait, used until the generated ones from
//! `spec/auth.toml` land in `crate::generated::auth`; then these functions build the generated
//! types and this file keeps only the glue.

use bytes::Bytes;

use crate::endpoint::{
    CredentialKind, Endpoint, EndpointMeta, Method, Query, RequestBody, ResponseKind, RetrySafety,
};
use crate::error::{DecodeError, InvalidInput};
use crate::secret::Secret;

#[derive(serde::Deserialize)]
pub(crate) struct Issued {
    #[serde(alias = "ticket")]
    access_token: Secret,
    expires_in: u64,
}

fn decode_issued(body: Bytes) -> Result<Issued, DecodeError> {
    serde_json::from_slice(&body).map_err(|e| DecodeError::new(e.to_string(), &body))
}

pub(crate) struct Gettoken {
    corpid: String,
    corpsecret: Secret,
}

impl Endpoint for Gettoken {
    type Response = Issued;
    const META: EndpointMeta = EndpointMeta {
        name: "gettoken",
        method: Method::Get,
        path: "gettoken",
        credential: CredentialKind::None,
        retry: RetrySafety::Idempotent,
        response: ResponseKind::Json,
        doc_url: "https://developer.work.weixin.qq.com/document/path/91039",
    };
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("corpid", self.corpid.clone());
        q.push("corpsecret", self.corpsecret.expose());
        q
    }
    fn body(&self) -> Result<RequestBody, crate::Error> {
        Ok(RequestBody::Empty)
    }
    fn decode(body: Bytes) -> Result<Issued, DecodeError> {
        decode_issued(body)
    }
}

pub(crate) struct Ticket;

impl Endpoint for Ticket {
    type Response = Issued;
    const META: EndpointMeta = EndpointMeta {
        name: "get_jsapi_ticket",
        method: Method::Get,
        path: "get_jsapi_ticket",
        credential: CredentialKind::App,
        retry: RetrySafety::Idempotent,
        response: ResponseKind::Json,
        doc_url: "https://developer.work.weixin.qq.com/document/path/90506",
    };
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        Query::new()
    }
    fn body(&self) -> Result<RequestBody, crate::Error> {
        Ok(RequestBody::Empty)
    }
    fn decode(body: Bytes) -> Result<Issued, DecodeError> {
        decode_issued(body)
    }
}

pub(crate) struct AgentTicket;

impl Endpoint for AgentTicket {
    type Response = Issued;
    const META: EndpointMeta = EndpointMeta {
        name: "ticket_get",
        method: Method::Get,
        path: "ticket/get",
        credential: CredentialKind::App,
        retry: RetrySafety::Idempotent,
        response: ResponseKind::Json,
        doc_url: "https://developer.work.weixin.qq.com/document/path/90506",
    };
    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("type", "agent_config");
        q
    }
    fn body(&self) -> Result<RequestBody, crate::Error> {
        Ok(RequestBody::Empty)
    }
    fn decode(body: Bytes) -> Result<Issued, DecodeError> {
        decode_issued(body)
    }
}

pub(crate) fn gettoken(corpid: &str, secret: &Secret) -> Gettoken {
    Gettoken {
        corpid: corpid.to_owned(),
        corpsecret: secret.clone(),
    }
}

pub(crate) fn token_parts(r: Issued) -> (Secret, u64) {
    (r.access_token, r.expires_in)
}

pub(crate) fn jsapi_ticket() -> Ticket {
    Ticket
}

pub(crate) fn jsapi_ticket_parts(r: Issued) -> (Secret, u64) {
    (r.access_token, r.expires_in)
}

pub(crate) fn agent_config_ticket() -> AgentTicket {
    AgentTicket
}

pub(crate) fn agent_config_ticket_parts(r: Issued) -> (Secret, u64) {
    (r.access_token, r.expires_in)
}
