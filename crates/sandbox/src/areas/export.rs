//! Asynchronous directory export (spec/contacts.toml, `export/*`; issue 16 part 3).
//!
//! `export/simple_user|user|department|taguser` snapshot what the caller may see (the app's
//! visible scope, or everything for the contact-sync secret) when called, answer a jobid, and make
//! the result files in the background: the records in blocks of `block_size`, each block one JSON
//! object (`{"userlist": [...]}`, `{"department": [...]}`, `{"userlist": [...], "partylist":
//! [...]}`) encrypted as the pages say (AES-256-CBC, IV = the key's first 16 bytes, PKCS#7 to 32
//! bytes) with the caller's `encoding_aeskey`. `export/get_result` answers the job's status (1
//! while the files are made, then 2) and, when done, each file's URL, size and MD5; only the caller
//! that started a job may read it. The files are served, with `Range`, at
//! `/cgi-bin/sandbox/export_file?id=...` for 2 hours ("有效期2个小时"). When the files are ready
//! the `batch_job_result` event (JobType `export_*`, page 96298) is pushed to the calling app's
//! callback (the contact-sync callback for the contact-sync secret), if one is set.
//!
//! Sandbox simplifications: the tag export's arrays are named `userlist` and `partylist` as
//! tag/get answers them (the page's data format section is not in the docs corpus); the sandbox
//! keeps the files of the last [`KEPT_EXPORTS`] jobs.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;
use md5::{Digest, Md5};
use wecom_callback::{BatchJob, Event, EventKind, Header, Inbound};
use wecom_contacts::export::{ExportKey, ExportKind};
use wecom_contacts::generated::contacts::{
    ExportDepartmentRequest, ExportDepartmentResponse, ExportFile, ExportGetResultRequest,
    ExportGetResultResponse, ExportSimpleUserRequest, ExportSimpleUserResponse, ExportStatus,
    ExportTaguserRequest, ExportTaguserResponse, ExportUserRequest, ExportUserResponse, TagMember,
};
use wecom_core_auth::{
    CredentialKind, DecodeError, Endpoint, EndpointMeta, Error, ErrorCode, InvalidInput, Method,
    Query, RequestBody, ResponseKind, RetrySafety,
};

use crate::areas::contacts::{department_out, listed_departments, member_brief, member_out};
use crate::areas::messages::parse_range;
use crate::corp::{Actor, CallbackConfig};
use crate::error::ApiError;
use crate::registry::{Binary, Caller, Ctx, Registry, Wire, WireRequest};
use crate::state::{State, lock};

/// How many jobs (with their files) the sandbox keeps.
pub const KEPT_EXPORTS: usize = 10;
/// How long a result file can be downloaded: 2 hours.
pub const FILE_TTL_SECS: i64 = 2 * 3600;
/// WeCom's default `block_size` (10^6).
pub const DEFAULT_BLOCK_SIZE: u32 = 1_000_000;

/// Registers the export endpoints and the file download route.
pub fn register(r: &mut Registry) {
    r.add::<ExportSimpleUserRequest, _, _>(export_simple_user);
    r.add::<ExportUserRequest, _, _>(export_user);
    r.add::<ExportDepartmentRequest, _, _>(export_department);
    r.add::<ExportTaguserRequest, _, _>(export_taguser);
    r.add::<ExportGetResultRequest, _, _>(export_get_result);
    r.add_binary::<ExportFileGet, _, _>(export_file);
}

#[derive(Debug)]
struct Job {
    owner: Caller,
    status: ExportStatus,
    files: Vec<ExportFile>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    jobs: HashMap<String, Job>,
    order: VecDeque<String>,
    /// file id -> (bytes, expiry)
    files: HashMap<String, (Bytes, i64)>,
}

/// Export jobs and their files (area state in [`State::extension`]).
#[derive(Debug, Default)]
pub struct ExportJobs {
    inner: Mutex<Inner>,
}

/// What a job exports: each top-level array's key and its records as JSON text.
type Arrays = Vec<(&'static str, Vec<String>)>;

fn to_json<T: serde::Serialize>(v: &T) -> String {
    // The generated answer types always serialize.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

fn key_of(encoding_aeskey: &wecom_core_auth::Secret) -> Result<ExportKey, ApiError> {
    ExportKey::from_encoding_aes_key(encoding_aeskey.expose()).map_err(|e| {
        ApiError::new(
            ErrorCode::INVALID_PARAMETER,
            format!("invalid encoding_aeskey: {}", e.problem),
        )
    })
}

async fn export_simple_user(
    ctx: Ctx,
    req: ExportSimpleUserRequest,
) -> Result<ExportSimpleUserResponse, ApiError> {
    let key = key_of(&req.encoding_aeskey)?;
    let arrays = {
        let actor = ctx.actor()?;
        let corp = ctx.state().corp();
        let scope = corp.scope(actor);
        let users = corp
            .members()
            .filter(|m| scope.contains_user(&m.userid))
            .map(|m| to_json(&member_brief(m)))
            .collect();
        vec![("userlist", users)]
    };
    let jobid = start(&ctx, ExportKind::SimpleUser, key, req.block_size, arrays)?;
    Ok(ExportSimpleUserResponse::new(jobid))
}

async fn export_user(ctx: Ctx, req: ExportUserRequest) -> Result<ExportUserResponse, ApiError> {
    let key = key_of(&req.encoding_aeskey)?;
    let arrays = {
        let actor = ctx.actor()?;
        let corp = ctx.state().corp();
        let scope = corp.scope(actor);
        let users = corp
            .members()
            .filter(|m| scope.contains_user(&m.userid))
            .map(|m| to_json(&member_out(m)))
            .collect();
        vec![("userlist", users)]
    };
    let jobid = start(&ctx, ExportKind::User, key, req.block_size, arrays)?;
    Ok(ExportUserResponse::new(jobid))
}

async fn export_department(
    ctx: Ctx,
    req: ExportDepartmentRequest,
) -> Result<ExportDepartmentResponse, ApiError> {
    let key = key_of(&req.encoding_aeskey)?;
    let arrays = {
        let actor = ctx.actor()?;
        let corp = ctx.state().corp();
        let list = listed_departments(&corp, actor, None)?;
        vec![(
            "department",
            list.into_iter()
                .map(|d| to_json(&department_out(d)))
                .collect(),
        )]
    };
    let jobid = start(&ctx, ExportKind::Department, key, req.block_size, arrays)?;
    Ok(ExportDepartmentResponse::new(jobid))
}

async fn export_taguser(
    ctx: Ctx,
    req: ExportTaguserRequest,
) -> Result<ExportTaguserResponse, ApiError> {
    let key = key_of(&req.encoding_aeskey)?;
    let arrays = {
        let actor = ctx.actor()?;
        let corp = ctx.state().corp();
        let tag = corp.tag(req.tagid)?;
        let scope = corp.scope(actor);
        if !matches!(actor, Actor::Contact) && !scope.contains_tag(req.tagid) {
            // "要求对标签有读取权限" (page 94953).
            return Err(ApiError::no_privilege(format!(
                "tag {} is not in the app's visible scope",
                req.tagid
            )));
        }
        let users = tag
            .users
            .iter()
            .filter_map(|u| corp.member(u).ok())
            .filter(|m| scope.contains_user(&m.userid))
            .map(|m| {
                let mut t = TagMember::new(m.userid.clone());
                t.name = Some(m.name.clone());
                to_json(&t)
            })
            .collect();
        let parties = tag
            .parties
            .iter()
            .filter(|p| scope.contains_department(**p))
            .map(u32::to_string)
            .collect();
        vec![("userlist", users), ("partylist", parties)]
    };
    let jobid = start(
        &ctx,
        ExportKind::TagUser(req.tagid),
        key,
        req.block_size,
        arrays,
    )?;
    Ok(ExportTaguserResponse::new(jobid))
}

/// Registers the job and makes its files in the background.
fn start(
    ctx: &Ctx,
    kind: ExportKind,
    key: ExportKey,
    block_size: Option<u32>,
    arrays: Arrays,
) -> Result<String, ApiError> {
    let state = std::sync::Arc::clone(ctx.state());
    let owner = ctx.caller().clone();
    let jobs = state.extension::<ExportJobs>();
    let jobid = {
        let mut inner = lock(&jobs.inner);
        inner.next += 1;
        let jobid = format!("jobid_export_{}_{}", state.now_secs(), inner.next);
        inner.jobs.insert(
            jobid.clone(),
            Job {
                owner: owner.clone(),
                status: ExportStatus::Running,
                files: Vec::new(),
            },
        );
        inner.order.push_back(jobid.clone());
        while inner.order.len() > KEPT_EXPORTS {
            if let Some(old) = inner.order.pop_front()
                && let Some(job) = inner.jobs.remove(&old)
            {
                for f in job.files {
                    if let Some(id) = file_id(&f.url) {
                        inner.files.remove(id);
                    }
                }
            }
        }
        jobid
    };
    let block = usize::try_from(block_size.unwrap_or(DEFAULT_BLOCK_SIZE)).unwrap_or(usize::MAX);
    let id = jobid.clone();
    tokio::spawn(async move {
        let made = {
            let state = std::sync::Arc::clone(&state);
            let id = id.clone();
            tokio::task::spawn_blocking(move || make_files(&state, &id, &key, block, &arrays)).await
        };
        let files = made.unwrap_or_default();
        {
            let jobs = state.extension::<ExportJobs>();
            let mut inner = lock(&jobs.inner);
            if let Some(job) = inner.jobs.get_mut(&id) {
                job.files = files;
                job.status = ExportStatus::Done;
            }
        }
        notify(&state, &owner, kind, &id).await;
    });
    Ok(jobid)
}

/// Encrypts the records in blocks and stores the files; answers their listing.
fn make_files(
    state: &State,
    jobid: &str,
    key: &ExportKey,
    block: usize,
    arrays: &Arrays,
) -> Vec<ExportFile> {
    // Cut the records (over all arrays, in order) into blocks of `block`; each block is one
    // object holding the parts of the arrays it covers.
    let mut blocks: Vec<Vec<(&str, &[String])>> = Vec::new();
    let mut current: Vec<(&str, &[String])> = Vec::new();
    let mut room = block.max(1);
    for (name, records) in arrays {
        let mut rest: &[String] = records;
        if rest.is_empty() {
            current.push((name, rest));
        }
        while !rest.is_empty() {
            let take = room.min(rest.len());
            current.push((name, &rest[..take]));
            rest = &rest[take..];
            room -= take;
            if room == 0 {
                blocks.push(std::mem::take(&mut current));
                room = block.max(1);
            }
        }
    }
    if !current.is_empty() || blocks.is_empty() {
        blocks.push(current);
    }
    let expires = state.now_secs() + FILE_TTL_SECS;
    let jobs = state.extension::<ExportJobs>();
    let mut out = Vec::with_capacity(blocks.len());
    for (n, parts) in blocks.iter().enumerate() {
        let mut text = String::from("{");
        for (i, (name, records)) in parts.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push('"');
            text.push_str(name);
            text.push_str("\":[");
            text.push_str(&records.join(","));
            text.push(']');
        }
        text.push('}');
        let cipher = key.encrypt(text.as_bytes());
        drop(text);
        let md5: String = Md5::digest(&cipher)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let size = cipher.len() as u64;
        let id = format!("{jobid}_{n}");
        let url = format!("{}/cgi-bin/sandbox/export_file?id={id}", state.base_url());
        lock(&jobs.inner)
            .files
            .insert(id, (Bytes::from(cipher), expires));
        out.push(ExportFile::new(url, size, md5));
    }
    out
}

/// The file id in a download URL.
fn file_id(url: &str) -> Option<&str> {
    url.split_once("?id=").map(|(_, id)| id)
}

/// Pushes `batch_job_result` to the caller's callback, if it has one.
async fn notify(state: &State, owner: &Caller, kind: ExportKind, jobid: &str) {
    let (corpid, config, agentid): (String, Option<CallbackConfig>, Option<u32>) = {
        let corp = state.corp();
        let config = match owner {
            Caller::App(a) => corp.app(*a).ok().and_then(|app| app.callback.clone()),
            Caller::Contact => corp.contact_callback().cloned(),
            _ => None,
        };
        let agentid = match owner {
            Caller::App(a) => Some(*a),
            _ => None,
        };
        (corp.corpid().to_owned(), config, agentid)
    };
    let Some(config) = config else { return };
    let now = state.now_secs();
    let xml = Inbound::Event(Event {
        header: Header {
            to_user_name: corpid.clone(),
            from_user_name: "sys".into(),
            create_time: now,
            agent_id: None,
        },
        kind: EventKind::BatchJobResult(BatchJob {
            job_id: jobid.to_owned(),
            job_type: kind.job_type().to_owned(),
            err_code: 0,
            err_msg: "ok".into(),
        }),
    })
    .to_xml();
    state
        .callbacks
        .push(&config, &corpid, agentid, &xml, now)
        .await;
}

async fn export_get_result(
    ctx: Ctx,
    req: ExportGetResultRequest,
) -> Result<ExportGetResultResponse, ApiError> {
    ctx.actor()?;
    let jobs = ctx.state().extension::<ExportJobs>();
    let inner = lock(&jobs.inner);
    let job = inner
        .jobs
        .get(&req.jobid)
        .filter(|j| &j.owner == ctx.caller())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::INVALID_PARAMETER,
                format!(
                    "invalid jobid `{}`: unknown, too old (the sandbox keeps the last {KEPT_EXPORTS} exports), or started with another credential (\"获取任务结果的调用身份需要与提交任务的一致\")",
                    req.jobid
                ),
            )
        })?;
    Ok(ExportGetResultResponse::new(job.status).data_list(job.files.clone()))
}

// ------------------------------------------------------------------------------------------------
// The download route (the sandbox's stand-in for WeCom's file servers)

/// A result file download, with the request's `Range` header.
#[derive(Debug)]
pub struct ExportFileGet {
    id: String,
    range: Option<String>,
}

impl Endpoint for ExportFileGet {
    type Response = Bytes;
    const META: EndpointMeta = EndpointMeta {
        name: "sandbox_export_file",
        method: Method::Get,
        path: "sandbox/export_file",
        credential: CredentialKind::None,
        retry: RetrySafety::Idempotent,
        response: ResponseKind::Binary,
        doc_url: "https://developer.work.weixin.qq.com/document/path/94854",
    };

    fn validate(&self) -> Result<(), InvalidInput> {
        Ok(())
    }
    fn query(&self) -> Query {
        let mut q = Query::new();
        q.push("id", self.id.clone());
        q
    }
    fn body(&self) -> Result<RequestBody, Error> {
        Ok(RequestBody::Empty)
    }
    fn decode(body: Bytes) -> Result<Bytes, DecodeError> {
        Ok(body)
    }
}

impl WireRequest for ExportFileGet {
    fn parse_wire(wire: &Wire<'_>) -> Result<Self, ApiError> {
        let id = wire
            .query
            .iter()
            .find(|(k, _)| k == "id")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| ApiError::invalid_parameter("the file `id` is missing"))?;
        Ok(Self {
            id,
            range: wire.range.map(str::to_owned),
        })
    }
}

async fn export_file(ctx: Ctx, req: ExportFileGet) -> Result<Binary, ApiError> {
    let now = ctx.state().now_secs();
    let bytes = {
        let jobs = ctx.state().extension::<ExportJobs>();
        let inner = lock(&jobs.inner);
        match inner.files.get(&req.id) {
            Some((b, expires)) if *expires > now => b.clone(),
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "unknown or expired export file `{}` (files are kept 2 hours)",
                    req.id
                )));
            }
        }
    };
    let total = bytes.len() as u64;
    let (body, range) = match req.range.as_deref() {
        None => (bytes, None),
        Some(header) => match parse_range(header, total)? {
            None => (Bytes::new(), None),
            Some((first, last)) => {
                let (a, b) = (
                    usize::try_from(first).unwrap_or(usize::MAX),
                    usize::try_from(last).unwrap_or(usize::MAX),
                );
                (bytes.slice(a..=b), Some((first, last, total)))
            }
        },
    };
    Ok(Binary {
        bytes: body,
        content_type: "application/octet-stream".to_owned(),
        filename: format!("{}.bin", req.id),
        range,
    })
}
