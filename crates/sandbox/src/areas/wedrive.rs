//! The 微盘 area (spec/wedrive.toml): spaces, their members and settings, files and folders,
//! whole and block uploads, downloads served with `Range`, file members and sharing; and the
//! 文档 (wedoc) basics.
//!
//! Everything lives in memory, bounded: at most [`MAX_STORED_BYTES`] of file content (640007,
//! 超出微盘的容量, beyond), [`MAX_ENTRIES`] spaces + files + documents (640060) and
//! [`MAX_UPLOADS`] unfinished block uploads (the oldest is dropped). File content is kept as the
//! blocks it arrived in and shared between identical files, never copied whole.
//!
//! The rules, as the pages state them (errcodes from WeCom's global table, spec/errcodes.toml):
//! - a space belongs to the app that created it; only that app changes it or its files
//!   (640008 没有空间权限 otherwise; 640001 for an unknown or dismissed space). 安全设置 says so
//!   for settings ("仅支持设置由本应用创建的空间"); 文档 pages likewise ("仅可修改应用自己创建的文档":
//!   640004 无权限访问);
//! - members must exist (640012 userid, 640013 departmentid); at most 3 administrators, people
//!   only (640053 管理员数量达到上限); the sandbox corp has no professional edition, so preview
//!   rights (auth 4) are refused (640015 不支持设置预览权限);
//! - names follow `wecom_wedrive::rules` (the same checks the client runs); a folder must be the
//!   space itself or a folder in it (640021 非法的fatherid);
//! - `file_upload` takes at most 10 MB of valid base64 (640047, 640022); the block upload checks
//!   each block's index and size (2 MB but the last), and at finish that every block arrived and
//!   that the blocks' cumulative hashes are those announced at init (640048 上传流程异常);
//!   content already stored (same size and hashes) is a 秒传 (`hit_exist`);
//! - `file_download` serves ordinary files only (640029); its URL needs its cookie, expires after
//!   2 hours of sandbox time (HTTP 403) and honours `Range` (206, `Content-Range`; 416 past the
//!   end).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use md5::{Digest as _, Md5};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wecom_wedrive::blocks::{BLOCK_SIZE, BlockHasher, block_count, block_len};
use wecom_wedrive::generated::wedrive::*;

use crate::app::App;
use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};
use crate::state::lock;

/// Most bytes of file content kept (all spaces together).
pub const MAX_STORED_BYTES: u64 = 512 * 1024 * 1024;
/// Most spaces, files, folders and documents kept.
pub const MAX_ENTRIES: usize = 20_000;
/// Most unfinished block uploads kept (the oldest is dropped).
pub const MAX_UPLOADS: usize = 64;
/// A download URL works this long (the page: "有效期2个小时").
pub const DOWNLOAD_TTL_SECS: i64 = 2 * 3600;
/// The cookie a download URL needs (WeCom's own is named like this).
pub const COOKIE_NAME: &str = "FTN5K";

// Errcodes of WeCom's global table (spec/errcodes.toml) the pages' rules map to.
const SPACE_NOT_FOUND: i64 = 640001;
const FILE_NOT_FOUND: i64 = 640002;
const FILE_DELETED: i64 = 640003;
const NO_ACCESS: i64 = 640004;
const CAPACITY: i64 = 640007;
const NO_SPACE_RIGHT: i64 = 640008;
const BAD_USERID: i64 = 640012;
const BAD_DEPARTMENT: i64 = 640013;
const NO_ADMIN: i64 = 640014;
const NO_PREVIEW: i64 = 640015;
const NO_WATERMARK: i64 = 640016;
const BAD_AUTH: i64 = 640020;
const BAD_FATHER: i64 = 640021;
const BAD_BASE64: i64 = 640022;
const NOT_A_FILE: i64 = 640029;
const TOO_LARGE: i64 = 640047;
const UPLOAD_FLOW: i64 = 640048;
const ADMINS_FULL: i64 = 640053;
const TOO_MANY: i64 = 640060;

/// Registers the 微盘 and 文档 endpoints.
pub fn register(r: &mut Registry) {
    r.add::<SpaceCreateRequest, _, _>(space_create);
    r.add::<SpaceRenameRequest, _, _>(space_rename);
    r.add::<SpaceDismissRequest, _, _>(space_dismiss);
    r.add::<SpaceInfoRequest, _, _>(space_info);
    r.add::<NewSpaceInfoRequest, _, _>(new_space_info);
    r.add::<SpaceAclAddRequest, _, _>(space_acl_add);
    r.add::<SpaceAclDelRequest, _, _>(space_acl_del);
    r.add::<SpaceSettingRequest, _, _>(space_setting);
    r.add::<SpaceShareRequest, _, _>(space_share);
    r.add::<FileListRequest, _, _>(file_list);
    r.add::<FileUploadRequest, _, _>(file_upload);
    r.add::<FileUploadInitRequest, _, _>(file_upload_init);
    r.add::<FileUploadPartRequest, _, _>(file_upload_part);
    r.add::<FileUploadFinishRequest, _, _>(file_upload_finish);
    r.add::<FileDownloadRequest, _, _>(file_download);
    r.add::<FileCreateRequest, _, _>(file_create);
    r.add::<FileRenameRequest, _, _>(file_rename);
    r.add::<FileMoveRequest, _, _>(file_move);
    r.add::<FileDeleteRequest, _, _>(file_delete);
    r.add::<FileInfoRequest, _, _>(file_info);
    r.add::<FileAclAddRequest, _, _>(file_acl_add);
    r.add::<FileAclDelRequest, _, _>(file_acl_del);
    r.add::<FileSettingRequest, _, _>(file_setting);
    r.add::<FileShareRequest, _, _>(file_share);
    r.add::<GetFilePermissionRequest, _, _>(get_file_permission);
    r.add::<FileSecureSettingRequest, _, _>(file_secure_setting);
    r.add::<MngProInfoRequest, _, _>(mng_pro_info);
    r.add::<MngCapacityRequest, _, _>(mng_capacity);
    r.add::<CreateDocRequest, _, _>(create_doc);
    r.add::<RenameDocRequest, _, _>(rename_doc);
    r.add::<DelDocRequest, _, _>(del_doc);
    r.add::<GetDocBaseInfoRequest, _, _>(get_doc_base_info);
    r.add::<DocShareRequest, _, _>(doc_share);
}

// ------------------------------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------------------------------

/// The area's state, kept in the sandbox state ([`crate::state::State::extension`]).
#[derive(Debug, Default)]
pub(crate) struct Wedrive {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    spaces: HashMap<String, Space>,
    files: HashMap<String, Node>,
    docs: HashMap<String, Doc>,
    uploads: HashMap<String, Upload>,
    upload_order: VecDeque<String>,
    downloads: HashMap<String, Download>,
    stored: u64,
    seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    User(String),
    Department(u32),
}

#[derive(Debug)]
struct Space {
    name: String,
    app: Owner,
    members: Vec<(Who, i64)>,
    quit: Vec<String>,
    settings: serde_json::Map<String, Value>,
}

/// The bytes of a file, as the blocks they arrived in (shared by identical files).
#[derive(Debug)]
struct Content {
    chunks: Vec<Bytes>,
    size: u64,
    sha1: String,
    md5: String,
    /// The block hashes, to recognise the same content again (秒传).
    block_sha: Vec<String>,
}

impl Content {
    fn new(chunks: Vec<Bytes>) -> Self {
        let mut h = BlockHasher::new();
        let mut md5 = Md5::new();
        for c in &chunks {
            h.update(c);
            md5.update(c);
        }
        let hashes = h.finish();
        Self {
            size: hashes.size(),
            sha1: hashes.sha1().to_owned(),
            md5: md5.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            block_sha: hashes.into_values(),
            chunks,
        }
    }

    /// Bytes `first..=last`, copied only across chunk boundaries.
    fn slice(&self, first: u64, last: u64) -> Bytes {
        let mut out: Vec<u8> = Vec::new();
        let mut pos = 0u64;
        for c in &self.chunks {
            let end = pos + c.len() as u64;
            if end > first && pos <= last {
                let a = first.saturating_sub(pos) as usize;
                let b = (last.min(end - 1) - pos) as usize;
                if out.is_empty() && first >= pos && last < end {
                    return c.slice(a..=b);
                }
                out.extend_from_slice(&c[a..=b]);
            }
            pos = end;
        }
        Bytes::from(out)
    }
}

#[derive(Debug)]
struct Node {
    spaceid: String,
    fatherid: String,
    name: String,
    kind: i64,
    deleted: bool,
    content: Option<Arc<Content>>,
    ctime: i64,
    mtime: i64,
    members: Vec<(Who, i64)>,
    auth_scope: i64,
    auth: i64,
    watermark: serde_json::Map<String, Value>,
}

#[derive(Debug)]
struct Doc {
    name: String,
    kind: i64,
    app: Owner,
    ctime: i64,
    mtime: i64,
}

#[derive(Debug)]
struct Upload {
    app: Owner,
    spaceid: String,
    fatherid: String,
    name: String,
    size: u64,
    block_sha: Vec<String>,
    parts: BTreeMap<u64, Bytes>,
}

#[derive(Debug)]
struct Download {
    fileid: String,
    cookie: String,
    expires: i64,
}

/// Who owns spaces, files and documents: the app whose token called, or the 微盘 system app's
/// own secret (`credential = "wedrive"`; the 文档 endpoints take app tokens only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    App(u32),
    WedriveSecret,
}

fn owner(ctx: &Ctx) -> Result<Owner, ApiError> {
    match ctx.caller() {
        Caller::App(a) => Ok(Owner::App(*a)),
        Caller::System(wecom_core_auth::SystemApp::Wedrive) => Ok(Owner::WedriveSecret),
        _ => Err(ApiError::api_forbidden(
            "this API needs the 微盘 secret's or an app's access_token",
        )),
    }
}

fn state(ctx: &Ctx) -> Arc<Wedrive> {
    ctx.state().extension::<Wedrive>()
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

impl Inner {
    fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}.{}{}", self.seq, random(12))
    }

    fn entries(&self) -> usize {
        self.spaces.len() + self.files.len() + self.docs.len()
    }

    fn room_for_entry(&self) -> Result<(), ApiError> {
        if self.entries() >= MAX_ENTRIES {
            return Err(ApiError::new(
                TOO_MANY,
                format!("the sandbox keeps at most {MAX_ENTRIES} spaces, files and documents"),
            ));
        }
        Ok(())
    }

    /// The space, if `app` owns it.
    fn own_space(&self, spaceid: &str, app: Owner) -> Result<&Space, ApiError> {
        let s = self.spaces.get(spaceid).ok_or_else(|| {
            ApiError::new(SPACE_NOT_FOUND, format!("space `{spaceid}` does not exist"))
        })?;
        if s.app != app {
            return Err(ApiError::new(
                NO_SPACE_RIGHT,
                format!("no permission on space `{spaceid}`: it was created by another app"),
            ));
        }
        Ok(s)
    }

    fn own_space_mut(&mut self, spaceid: &str, app: Owner) -> Result<&mut Space, ApiError> {
        self.own_space(spaceid, app)?;
        self.spaces
            .get_mut(spaceid)
            .ok_or_else(|| ApiError::new(SPACE_NOT_FOUND, "space vanished"))
    }

    /// A live file the app may act on (through its space).
    fn own_file(&self, fileid: &str, app: Owner) -> Result<&Node, ApiError> {
        let n = self.files.get(fileid).ok_or_else(|| {
            ApiError::new(FILE_NOT_FOUND, format!("file `{fileid}` does not exist"))
        })?;
        if n.deleted {
            return Err(ApiError::new(
                FILE_DELETED,
                format!("file `{fileid}` has been deleted"),
            ));
        }
        self.own_space(&n.spaceid, app)?;
        Ok(n)
    }

    fn own_file_mut(&mut self, fileid: &str, app: Owner) -> Result<&mut Node, ApiError> {
        self.own_file(fileid, app)?;
        self.files
            .get_mut(fileid)
            .ok_or_else(|| ApiError::new(FILE_NOT_FOUND, "file vanished"))
    }

    /// `fatherid` is the space itself or a live folder in it.
    fn check_father(&self, spaceid: &str, fatherid: &str) -> Result<(), ApiError> {
        if fatherid == spaceid {
            return Ok(());
        }
        match self.files.get(fatherid) {
            Some(n) if n.spaceid == spaceid && n.kind == 1 && !n.deleted => Ok(()),
            _ => Err(ApiError::new(
                BAD_FATHER,
                format!(
                    "invalid fatherid `{fatherid}`: not a folder of space `{spaceid}` (use the spaceid for the root)"
                ),
            )),
        }
    }

    fn add_node(&mut self, node: Node, now: i64) -> Result<String, ApiError> {
        let _ = now;
        self.room_for_entry()?;
        let id = self.next_id("f");
        self.files.insert(id.clone(), node);
        Ok(id)
    }

    fn store(&mut self, content: Content) -> Result<Arc<Content>, ApiError> {
        // The same content stored already costs nothing more.
        if let Some(c) = self.same_content(content.size, &content.block_sha) {
            return Ok(c);
        }
        if self.stored + content.size > MAX_STORED_BYTES {
            return Err(ApiError::new(
                CAPACITY,
                format!(
                    "WeDrive capacity exceeded: the sandbox keeps at most {MAX_STORED_BYTES} bytes of files"
                ),
            ));
        }
        self.stored += content.size;
        Ok(Arc::new(content))
    }

    fn same_content(&self, size: u64, block_sha: &[String]) -> Option<Arc<Content>> {
        self.files
            .values()
            .filter_map(|n| n.content.as_ref())
            .find(|c| c.size == size && c.block_sha == block_sha)
            .cloned()
    }

    /// Drops content no live file uses any more.
    fn release(&mut self, content: Option<Arc<Content>>) {
        if let Some(c) = content
            && Arc::strong_count(&c) == 1
        {
            self.stored = self.stored.saturating_sub(c.size);
        }
    }

    fn delete_tree(&mut self, fileid: &str) {
        let children: Vec<String> = self
            .files
            .iter()
            .filter(|(_, n)| n.fatherid == fileid && !n.deleted)
            .map(|(id, _)| id.clone())
            .collect();
        for c in children {
            self.delete_tree(&c);
        }
        let content = self.files.get_mut(fileid).and_then(|n| {
            n.deleted = true;
            n.content.take()
        });
        self.release(content);
    }
}

fn who(member_type: &MemberType, userid: Option<&str>, departmentid: Option<u32>) -> Option<Who> {
    match member_type {
        MemberType::User => userid.map(|u| Who::User(u.to_owned())),
        MemberType::Department => departmentid.map(Who::Department),
        _ => None,
    }
}

/// Checks that members exist in the corp.
fn check_exists(ctx: &Ctx, members: &[Who]) -> Result<(), ApiError> {
    let corp = ctx.state().corp();
    for m in members {
        match m {
            Who::User(u) => {
                corp.member(u).map_err(|_| {
                    ApiError::new(BAD_USERID, format!("invalid userid `{u}`: no such member"))
                })?;
            }
            Who::Department(d) => {
                corp.department(*d).map_err(|_| {
                    ApiError::new(
                        BAD_DEPARTMENT,
                        format!("invalid departmentid {d}: no such department"),
                    )
                })?;
            }
        }
    }
    Ok(())
}

fn member_json(w: &Who, auth: Option<i64>) -> Value {
    let mut v = match w {
        Who::User(u) => json!({"type": 1, "userid": u}),
        Who::Department(d) => json!({"type": 2, "departmentid": d}),
    };
    if let Some(a) = auth {
        v["auth"] = json!(a);
    }
    v
}

fn file_json(id: &str, n: &Node, base: &str) -> Value {
    let mut v = json!({
        "fileid": id,
        "file_name": n.name,
        "spaceid": n.spaceid,
        "fatherid": n.fatherid,
        "file_size": n.content.as_ref().map_or(0, |c| c.size),
        "ctime": n.ctime,
        "mtime": n.mtime,
        "file_type": n.kind,
        "file_status": if n.deleted { 2 } else { 1 },
    });
    if let Some(c) = &n.content {
        v["sha"] = json!(c.sha1);
        v["md5"] = json!(c.md5);
    }
    if n.kind >= 3 {
        v["url"] = json!(format!("{base}/sandbox/wedrive/doc/{id}"));
    }
    v
}

fn answer<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        ApiError::new(
            -1,
            format!("system busy (the sandbox could not build its answer: {e})"),
        )
    })
}

// ------------------------------------------------------------------------------------------------
// Spaces
// ------------------------------------------------------------------------------------------------

fn check_space_members(
    ctx: &Ctx,
    members: &[SpaceMember],
    existing_admins: usize,
) -> Result<Vec<(Who, i64)>, ApiError> {
    let mut out = Vec::new();
    let mut admins = existing_admins;
    for m in members {
        let w = who(&m.member_type, m.userid.as_deref(), m.departmentid)
            .ok_or_else(|| ApiError::invalid_parameter("auth_info: type must be 1 or 2"))?;
        match m.auth {
            SpaceAuth::PreviewOnly => {
                return Err(ApiError::new(
                    NO_PREVIEW,
                    "setting preview permission is not supported (the corp has no professional edition)",
                ));
            }
            SpaceAuth::Admin => admins += 1,
            SpaceAuth::DownloadOnly => {}
            ref other => {
                return Err(ApiError::new(
                    BAD_AUTH,
                    format!("invalid auth {}", other.code()),
                ));
            }
        }
        out.push((w, m.auth.code()));
    }
    if admins > wecom_wedrive::rules::ADMINS_MAX {
        return Err(ApiError::new(
            ADMINS_FULL,
            format!(
                "a space has at most {} administrators",
                wecom_wedrive::rules::ADMINS_MAX
            ),
        ));
    }
    let whos: Vec<Who> = out.iter().map(|(w, _)| w.clone()).collect();
    check_exists(ctx, &whos)?;
    Ok(out)
}

async fn space_create(ctx: Ctx, req: SpaceCreateRequest) -> Result<SpaceCreateResponse, ApiError> {
    let app = owner(&ctx)?;
    let members = check_space_members(&ctx, &req.auth_info, 0)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    g.room_for_entry()?;
    let id = g.next_id(&format!("s.{}", ctx.state().corp().corpid()));
    let mut settings = serde_json::Map::new();
    for (k, v) in [
        ("enable_watermark", json!(false)),
        ("enable_confidential_mode", json!(false)),
        ("share_url_no_approve", json!(false)),
        ("share_url_no_approve_default_auth", json!(1)),
        ("default_file_scope", json!(1)),
        ("ban_share_external", json!(false)),
    ] {
        settings.insert(k.to_owned(), v);
    }
    g.spaces.insert(
        id.clone(),
        Space {
            name: req.space_name,
            app,
            members,
            quit: Vec::new(),
            settings,
        },
    );
    Ok(SpaceCreateResponse::new(id))
}

async fn space_rename(ctx: Ctx, req: SpaceRenameRequest) -> Result<SpaceRenameResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    g.own_space_mut(&req.spaceid, app)?.name = req.space_name;
    Ok(SpaceRenameResponse::default())
}

async fn space_dismiss(
    ctx: Ctx,
    req: SpaceDismissRequest,
) -> Result<SpaceDismissResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    g.own_space(&req.spaceid, app)?;
    g.spaces.remove(&req.spaceid);
    let ids: Vec<String> = g
        .files
        .iter()
        .filter(|(_, n)| n.spaceid == req.spaceid)
        .map(|(id, _)| id.clone())
        .collect();
    for id in ids {
        if let Some(n) = g.files.remove(&id) {
            g.release(n.content);
        }
    }
    Ok(SpaceDismissResponse::default())
}

fn space_json(id: &str, s: &Space) -> Value {
    json!({
        "spaceid": id,
        "space_name": s.name,
        "auth_list": {
            "auth_info": s.members.iter().map(|(w, a)| member_json(w, Some(*a))).collect::<Vec<_>>(),
            "quit_userid": s.quit,
        },
        "space_sub_type": 0,
    })
}

async fn space_info(ctx: Ctx, req: SpaceInfoRequest) -> Result<SpaceInfoResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    let s = g.own_space(&req.spaceid, app)?;
    answer(json!({"space_info": space_json(&req.spaceid, s)}))
}

async fn new_space_info(
    ctx: Ctx,
    req: NewSpaceInfoRequest,
) -> Result<NewSpaceInfoResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    let s = g.own_space(&req.spaceid, app)?;
    let mut v = space_json(&req.spaceid, s);
    v["secure_setting"] = Value::Object(s.settings.clone());
    answer(json!({"space_info": v}))
}

async fn space_acl_add(ctx: Ctx, req: SpaceAclAddRequest) -> Result<SpaceAclAddResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let existing = {
        let g = lock(&st.inner);
        g.own_space(&req.spaceid, app)?
            .members
            .iter()
            .filter(|(_, a)| *a == 7)
            .count()
    };
    // Members added again replace their old right; count admins without them.
    let readded = {
        let g = lock(&st.inner);
        let s = g.own_space(&req.spaceid, app)?;
        req.auth_info
            .iter()
            .filter_map(|m| who(&m.member_type, m.userid.as_deref(), m.departmentid))
            .filter(|w| s.members.iter().any(|(x, a)| x == w && *a == 7))
            .count()
    };
    let added = check_space_members(&ctx, &req.auth_info, existing - readded)?;
    let mut g = lock(&st.inner);
    let s = g.own_space_mut(&req.spaceid, app)?;
    for (w, a) in added {
        s.members.retain(|(x, _)| *x != w);
        if let Who::User(u) = &w {
            s.quit.retain(|q| q != u);
        }
        s.members.push((w, a));
    }
    Ok(SpaceAclAddResponse::default())
}

async fn space_acl_del(ctx: Ctx, req: SpaceAclDelRequest) -> Result<SpaceAclDelResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let s = g.own_space_mut(&req.spaceid, app)?;
    for m in &req.auth_info {
        if let Some(w) = who(&m.member_type, m.userid.as_deref(), m.departmentid) {
            s.members.retain(|(x, _)| *x != w);
        }
    }
    Ok(SpaceAclDelResponse::default())
}

async fn space_setting(
    ctx: Ctx,
    req: SpaceSettingRequest,
) -> Result<SpaceSettingResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let s = g.own_space_mut(&req.spaceid, app)?;
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            s.settings.insert(k.to_owned(), v);
        }
    };
    set("enable_watermark", req.enable_watermark.map(Value::from));
    set(
        "enable_confidential_mode",
        req.enable_confidential_mode.map(Value::from),
    );
    set(
        "share_url_no_approve",
        req.share_url_no_approve.map(Value::from),
    );
    set(
        "share_url_no_approve_default_auth",
        req.share_url_no_approve_default_auth.map(Value::from),
    );
    set(
        "default_file_scope",
        req.default_file_scope.map(Value::from),
    );
    set(
        "ban_share_external",
        req.ban_share_external.map(Value::from),
    );
    Ok(SpaceSettingResponse::default())
}

async fn space_share(ctx: Ctx, req: SpaceShareRequest) -> Result<SpaceShareResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    g.own_space(&req.spaceid, app)?;
    Ok(SpaceShareResponse::new(format!(
        "{}/sandbox/wedrive/space/{}",
        ctx.state().base_url(),
        req.spaceid
    )))
}

// ------------------------------------------------------------------------------------------------
// Files
// ------------------------------------------------------------------------------------------------

async fn file_list(ctx: Ctx, req: FileListRequest) -> Result<FileListResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    g.own_space(&req.spaceid, app)?;
    g.check_father(&req.spaceid, &req.fatherid)?;
    let mut items: Vec<(&String, &Node)> = g
        .files
        .iter()
        .filter(|(_, n)| n.fatherid == req.fatherid && n.spaceid == req.spaceid && !n.deleted)
        .collect();
    let size = |n: &Node| n.content.as_ref().map_or(0, |c| c.size);
    items.sort_by(|(ia, a), (ib, b)| {
        let o = match req.sort_type {
            SortType::NameDesc => b.name.cmp(&a.name),
            SortType::SizeAsc => size(a).cmp(&size(b)),
            SortType::SizeDesc => size(b).cmp(&size(a)),
            SortType::ModifiedAsc => a.mtime.cmp(&b.mtime),
            SortType::ModifiedDesc => b.mtime.cmp(&a.mtime),
            _ => a.name.cmp(&b.name),
        };
        o.then_with(|| ia.cmp(ib))
    });
    let start = req.start as usize;
    let end = (start + req.limit as usize).min(items.len());
    let base = ctx.state().base_url().to_owned();
    let page: Vec<Value> = items
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|(id, n)| file_json(id, n, &base))
        .collect();
    answer(json!({
        "has_more": end < items.len(),
        "next_start": end,
        "file_list": {"item": page},
    }))
}

/// Where an upload goes, for the app: `spaceid`/`fatherid` (selected tickets come from the JS-SDK
/// file picker, which the sandbox has not: 40058 for them).
fn upload_place(
    g: &Inner,
    app: Owner,
    spaceid: Option<&str>,
    fatherid: Option<&str>,
) -> Result<(String, String), ApiError> {
    let (Some(s), Some(f)) = (spaceid, fatherid) else {
        return Err(ApiError::invalid_parameter(
            "selected_ticket: the sandbox has no 微盘 file picker; name spaceid and fatherid",
        ));
    };
    g.own_space(s, app)?;
    g.check_father(s, f)?;
    Ok((s.to_owned(), f.to_owned()))
}

fn new_file(
    spaceid: String,
    fatherid: String,
    name: String,
    kind: i64,
    content: Option<Arc<Content>>,
    now: i64,
) -> Node {
    Node {
        spaceid,
        fatherid,
        name,
        kind,
        deleted: false,
        content,
        ctime: now,
        mtime: now,
        members: Vec::new(),
        auth_scope: 1,
        auth: 1,
        watermark: serde_json::Map::new(),
    }
}

async fn file_upload(ctx: Ctx, req: FileUploadRequest) -> Result<FileUploadResponse, ApiError> {
    let app = owner(&ctx)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.file_base64_content.as_bytes())
        .map_err(|e| ApiError::new(BAD_BASE64, format!("invalid file content base64: {e}")))?;
    if bytes.len() as u64 > wecom_wedrive::rules::WHOLE_MAX {
        return Err(ApiError::new(
            TOO_LARGE,
            "upload file size exceeds the limit of file_upload (10 MB): use the block upload",
        ));
    }
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let (spaceid, fatherid) =
        upload_place(&g, app, req.spaceid.as_deref(), req.fatherid.as_deref())?;
    let content = g.store(Content::new(vec![Bytes::from(bytes)]))?;
    let id = g.add_node(
        new_file(spaceid, fatherid, req.file_name, 2, Some(content), now),
        now,
    )?;
    Ok(FileUploadResponse::new(id))
}

async fn file_upload_init(
    ctx: Ctx,
    req: FileUploadInitRequest,
) -> Result<FileUploadInitResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let (spaceid, fatherid) =
        upload_place(&g, app, req.spaceid.as_deref(), req.fatherid.as_deref())?;
    if let Some(content) = g.same_content(req.size, &req.block_sha) {
        let id = g.add_node(
            new_file(spaceid, fatherid, req.file_name, 2, Some(content), now),
            now,
        )?;
        return answer(json!({"hit_exist": true, "fileid": id}));
    }
    if g.stored + req.size > MAX_STORED_BYTES {
        return Err(ApiError::new(
            CAPACITY,
            format!(
                "WeDrive capacity exceeded: the sandbox keeps at most {MAX_STORED_BYTES} bytes of files"
            ),
        ));
    }
    let key = g.next_id("u");
    if g.upload_order.len() >= MAX_UPLOADS
        && let Some(old) = g.upload_order.pop_front()
    {
        g.uploads.remove(&old);
    }
    g.upload_order.push_back(key.clone());
    g.uploads.insert(
        key.clone(),
        Upload {
            app,
            spaceid,
            fatherid,
            name: req.file_name,
            size: req.size,
            block_sha: req.block_sha,
            parts: BTreeMap::new(),
        },
    );
    answer(json!({"hit_exist": false, "upload_key": key}))
}

fn flow(what: impl Into<String>) -> ApiError {
    ApiError::new(UPLOAD_FLOW, format!("upload flow error: {}", what.into()))
}

async fn file_upload_part(
    ctx: Ctx,
    req: FileUploadPartRequest,
) -> Result<FileUploadPartResponse, ApiError> {
    let app = owner(&ctx)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(req.file_base64_content.as_bytes())
        .map_err(|e| ApiError::new(BAD_BASE64, format!("invalid block base64: {e}")))?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let up = g
        .uploads
        .get_mut(&req.upload_key)
        .filter(|u| u.app == app)
        .ok_or_else(|| flow(format!("unknown upload_key `{}`", req.upload_key)))?;
    let index = u64::from(req.index);
    let count = block_count(up.size);
    if index == 0 || index > count {
        return Err(flow(format!(
            "block index {index} out of range: the file has {count} blocks, numbered from 1"
        )));
    }
    let want = block_len(up.size, index);
    if bytes.len() as u64 != want {
        return Err(flow(format!(
            "block {index} is {} bytes; it must be {want} (blocks are {BLOCK_SIZE} bytes but the last)",
            bytes.len()
        )));
    }
    up.parts.insert(index, Bytes::from(bytes));
    Ok(FileUploadPartResponse::default())
}

async fn file_upload_finish(
    ctx: Ctx,
    req: FileUploadFinishRequest,
) -> Result<FileUploadFinishResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let up = g
        .uploads
        .get(&req.upload_key)
        .filter(|u| u.app == app)
        .ok_or_else(|| flow(format!("unknown upload_key `{}`", req.upload_key)))?;
    let count = block_count(up.size);
    if let Some(missing) = (1..=count).find(|i| !up.parts.contains_key(i)) {
        return Err(flow(format!("block {missing} of {count} was not uploaded")));
    }
    let up = g
        .uploads
        .remove(&req.upload_key)
        .ok_or_else(|| flow("upload vanished"))?;
    g.upload_order.retain(|k| k != &req.upload_key);
    let content = Content::new(up.parts.into_values().collect());
    if content.block_sha != up.block_sha {
        return Err(flow(
            "the blocks received do not match the block_sha announced at init",
        ));
    }
    // The space may have gone meanwhile.
    g.own_space(&up.spaceid, app)?;
    g.check_father(&up.spaceid, &up.fatherid)?;
    let content = g.store(content)?;
    let id = g.add_node(
        new_file(up.spaceid, up.fatherid, up.name, 2, Some(content), now),
        now,
    )?;
    Ok(FileUploadFinishResponse::new(id))
}

async fn file_download(
    ctx: Ctx,
    req: FileDownloadRequest,
) -> Result<FileDownloadResponse, ApiError> {
    let app = owner(&ctx)?;
    let Some(fileid) = req.fileid else {
        return Err(ApiError::invalid_parameter(
            "selected_ticket: the sandbox has no 微盘 file picker; name the fileid",
        ));
    };
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let n = g.own_file(&fileid, app)?;
    if n.kind != 2 {
        return Err(ApiError::new(
            NOT_A_FILE,
            "only ordinary files can be downloaded, not folders or documents",
        ));
    }
    g.downloads.retain(|_, d| d.expires > now);
    let token = random(32);
    let cookie = random(24);
    g.downloads.insert(
        token.clone(),
        Download {
            fileid: fileid.clone(),
            cookie: cookie.clone(),
            expires: now + DOWNLOAD_TTL_SECS,
        },
    );
    answer(json!({
        "download_url": format!("{}/wedrive/download/{token}", ctx.state().base_url()),
        "cookie_name": COOKIE_NAME,
        "cookie_value": cookie,
    }))
}

async fn file_create(ctx: Ctx, req: FileCreateRequest) -> Result<FileCreateResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    g.own_space(&req.spaceid, app)?;
    g.check_father(&req.spaceid, &req.fatherid)?;
    let kind = req.file_type.code();
    let id = g.add_node(
        new_file(req.spaceid, req.fatherid, req.file_name, kind, None, now),
        now,
    )?;
    let mut v = json!({"fileid": id});
    if kind != 1 {
        v["url"] = json!(format!(
            "{}/sandbox/wedrive/doc/{id}",
            ctx.state().base_url()
        ));
    }
    answer(v)
}

async fn file_rename(ctx: Ctx, req: FileRenameRequest) -> Result<FileRenameResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let n = g.own_file_mut(&req.fileid, app)?;
    n.name = req.new_name;
    n.mtime = now;
    let base = ctx.state().base_url().to_owned();
    let v = file_json(&req.fileid, g.own_file(&req.fileid, app)?, &base);
    answer(json!({"file": v}))
}

/// `name.ext` -> `name(1).ext`, `name(2).ext` ... until free in the folder.
fn free_name(g: &Inner, spaceid: &str, fatherid: &str, name: &str, except: &str) -> String {
    let taken = |candidate: &str| {
        g.files.iter().any(|(id, n)| {
            id != except
                && !n.deleted
                && n.spaceid == spaceid
                && n.fatherid == fatherid
                && n.name == candidate
        })
    };
    if !taken(name) {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (1..)
        .map(|i| format!("{stem}({i}){ext}"))
        .find(|c| !taken(c))
        .unwrap_or_else(|| name.to_owned())
}

async fn file_move(ctx: Ctx, req: FileMoveRequest) -> Result<FileMoveResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    // The destination: a space root (its spaceid) or a folder.
    let spaceid = if g.spaces.contains_key(&req.fatherid) {
        g.own_space(&req.fatherid, app)?;
        req.fatherid.clone()
    } else {
        let f = g.own_file(&req.fatherid, app).map_err(|_| {
            ApiError::new(BAD_FATHER, format!("invalid fatherid `{}`", req.fatherid))
        })?;
        if f.kind != 1 {
            return Err(ApiError::new(
                BAD_FATHER,
                format!("invalid fatherid `{}`: not a folder", req.fatherid),
            ));
        }
        f.spaceid.clone()
    };
    for id in &req.fileid {
        g.own_file(id, app)?;
        // A folder cannot go into itself or below.
        let mut at = req.fatherid.clone();
        while let Some(n) = g.files.get(&at) {
            if &at == id {
                return Err(ApiError::new(
                    BAD_FATHER,
                    format!("cannot move `{id}` into itself"),
                ));
            }
            at = n.fatherid.clone();
        }
    }
    let base = ctx.state().base_url().to_owned();
    let mut moved = Vec::new();
    for id in &req.fileid {
        let name = g.own_file(id, app)?.name.clone();
        let final_name = if req.replace == Some(true) {
            let clash: Vec<String> = g
                .files
                .iter()
                .filter(|(oid, n)| {
                    *oid != id
                        && !n.deleted
                        && n.spaceid == spaceid
                        && n.fatherid == req.fatherid
                        && n.name == name
                })
                .map(|(oid, _)| oid.clone())
                .collect();
            for c in clash {
                g.delete_tree(&c);
            }
            name
        } else {
            free_name(&g, &spaceid, &req.fatherid, &name, id)
        };
        if let Some(n) = g.files.get_mut(id) {
            n.spaceid = spaceid.clone();
            n.fatherid = req.fatherid.clone();
            n.name = final_name;
            n.mtime = now;
        }
        if let Some(n) = g.files.get(id) {
            moved.push(file_json(id, n, &base));
        }
    }
    answer(json!({"file_list": {"item": moved}}))
}

async fn file_delete(ctx: Ctx, req: FileDeleteRequest) -> Result<FileDeleteResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    for id in &req.fileid {
        g.own_file(id, app)?;
    }
    for id in &req.fileid {
        g.delete_tree(id);
    }
    Ok(FileDeleteResponse::default())
}

async fn file_info(ctx: Ctx, req: FileInfoRequest) -> Result<FileInfoResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    let n = g.own_file(&req.fileid, app)?;
    answer(json!({"file_info": file_json(&req.fileid, n, ctx.state().base_url())}))
}

async fn file_acl_add(ctx: Ctx, req: FileAclAddRequest) -> Result<FileAclAddResponse, ApiError> {
    let app = owner(&ctx)?;
    let mut add = Vec::new();
    for m in &req.auth_info {
        let w = who(&m.member_type, m.userid.as_deref(), m.departmentid).ok_or_else(|| {
            ApiError::invalid_parameter("auth_info: a userid (type 1) or departmentid (type 2)")
        })?;
        let auth = i64::from(m.auth.unwrap_or(1));
        if auth != 1 {
            return Err(ApiError::new(
                BAD_AUTH,
                format!("invalid auth {auth}: members of a file get 1 (view / download)"),
            ));
        }
        add.push((w, auth));
    }
    let whos: Vec<Who> = add.iter().map(|(w, _)| w.clone()).collect();
    check_exists(&ctx, &whos)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let n = g.own_file_mut(&req.fileid, app)?;
    for (w, a) in add {
        n.members.retain(|(x, _)| *x != w);
        n.members.push((w, a));
    }
    Ok(FileAclAddResponse::default())
}

async fn file_acl_del(ctx: Ctx, req: FileAclDelRequest) -> Result<FileAclDelResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let n = g.own_file_mut(&req.fileid, app)?;
    for m in &req.auth_info {
        if let Some(w) = who(&m.member_type, m.userid.as_deref(), m.departmentid) {
            n.members.retain(|(x, _)| *x != w);
        }
    }
    Ok(FileAclDelResponse::default())
}

async fn file_setting(ctx: Ctx, req: FileSettingRequest) -> Result<FileSettingResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let spaceid = g.own_file(&req.fileid, app)?.spaceid.clone();
    if matches!(req.auth_scope, 4 | 5) {
        // "仅有管理员时可设置": the space needs an administrator.
        let has_admin = g
            .spaces
            .get(&spaceid)
            .is_some_and(|s| s.members.iter().any(|(_, a)| *a == 7));
        if !has_admin {
            return Err(ApiError::new(
                NO_ADMIN,
                "scopes 4 and 5 (with approval) need a space administrator",
            ));
        }
    }
    if req.auth == Some(4) {
        return Err(ApiError::new(
            NO_PREVIEW,
            "setting preview permission is not supported (the corp has no professional edition)",
        ));
    }
    let n = g.own_file_mut(&req.fileid, app)?;
    n.auth_scope = i64::from(req.auth_scope);
    if let Some(a) = req.auth {
        n.auth = i64::from(a);
    }
    Ok(FileSettingResponse::default())
}

async fn file_share(ctx: Ctx, req: FileShareRequest) -> Result<FileShareResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    g.own_file(&req.fileid, app)?;
    Ok(FileShareResponse::new(format!(
        "{}/sandbox/wedrive/share/{}",
        ctx.state().base_url(),
        req.fileid
    )))
}

async fn get_file_permission(
    ctx: Ctx,
    req: GetFilePermissionRequest,
) -> Result<GetFilePermissionResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let g = lock(&st.inner);
    let n = g.own_file(&req.fileid, app)?;
    let space_members: Vec<Value> = g
        .spaces
        .get(&n.spaceid)
        .map(|s| {
            s.members
                .iter()
                .map(|(w, a)| member_json(w, Some(*a)))
                .collect()
        })
        .unwrap_or_default();
    let mut watermark = n.watermark.clone();
    for (k, v) in [
        ("force_by_admin", json!(false)),
        ("force_by_space_admin", json!(false)),
    ] {
        watermark.entry(k.to_owned()).or_insert(v);
    }
    answer(json!({
        "share_range": {
            "enable_corp_internal": matches!(n.auth_scope, 2..=5),
            "corp_internal_auth": n.auth,
            "enable_corp_external": matches!(n.auth_scope, 3 | 5),
            "corp_external_auth": n.auth,
        },
        "secure_setting": {
            "enable_readonly_copy": true,
            "modify_only_by_admin": false,
            "enable_readonly_comment": true,
            "ban_share_external": false,
        },
        "inherit_father_auth": {"auth_list": space_members, "inherit": true},
        "file_member_list": n.members.iter().map(|(w, a)| member_json(w, Some(*a))).collect::<Vec<_>>(),
        "watermark": Value::Object(watermark),
    }))
}

async fn file_secure_setting(
    ctx: Ctx,
    req: FileSecureSettingRequest,
) -> Result<FileSecureSettingResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let n = g.own_file_mut(&req.fileid, app)?;
    if n.kind < 3 {
        return Err(ApiError::new(
            NO_WATERMARK,
            "watermarks can be set on online documents only",
        ));
    }
    let w = &req.watermark;
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            n.watermark.insert(k.to_owned(), v);
        }
    };
    set("text", w.text.clone().map(Value::from));
    set("margin_type", w.margin_type.map(Value::from));
    set("show_visitor_name", w.show_visitor_name.map(Value::from));
    set("show_text", w.show_text.map(Value::from));
    Ok(FileSecureSettingResponse::default())
}

async fn mng_pro_info(ctx: Ctx, _req: MngProInfoRequest) -> Result<MngProInfoResponse, ApiError> {
    owner(&ctx)?;
    answer(json!({
        "is_pro": false,
        "total_vip_acct_num": 0,
        "use_vip_acct_num": 0,
        "pro_expire_time": 0,
    }))
}

async fn mng_capacity(ctx: Ctx, _req: MngCapacityRequest) -> Result<MngCapacityResponse, ApiError> {
    owner(&ctx)?;
    answer(json!({
        "total_capacity_for_all": MAX_STORED_BYTES,
        "total_capacity_for_vip": 0,
    }))
}

// ------------------------------------------------------------------------------------------------
// 文档
// ------------------------------------------------------------------------------------------------

fn own_doc<'a>(g: &'a mut Inner, docid: &str, app: Owner) -> Result<&'a mut Doc, ApiError> {
    let d = g.docs.get_mut(docid).ok_or_else(|| {
        ApiError::new(FILE_NOT_FOUND, format!("document `{docid}` does not exist"))
    })?;
    if d.app != app {
        return Err(ApiError::new(
            NO_ACCESS,
            format!("no access to document `{docid}`: only the app that created it may change it"),
        ));
    }
    Ok(d)
}

fn doc_key(docid: Option<&str>, formid: Option<&str>) -> Result<String, ApiError> {
    match (docid, formid) {
        (Some(d), None) => Ok(d.to_owned()),
        (None, Some(f)) => Ok(f.to_owned()),
        _ => Err(ApiError::invalid_parameter(
            "give docid or formid, one of them",
        )),
    }
}

async fn create_doc(ctx: Ctx, req: CreateDocRequest) -> Result<CreateDocResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let admins: Vec<Who> = req
        .admin_users
        .iter()
        .map(|u| Who::User(u.clone()))
        .collect();
    check_exists(&ctx, &admins)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    if let (Some(s), Some(f)) = (req.spaceid.as_deref(), req.fatherid.as_deref()) {
        g.own_space(s, app)?;
        g.check_father(s, f)?;
    }
    g.room_for_entry()?;
    let docid = g.next_id("doc");
    // WeCom cuts the name at 255 characters.
    let name: String = req.doc_name.chars().take(255).collect();
    let kind = req.doc_type.code();
    if let (Some(s), Some(f)) = (req.spaceid, req.fatherid) {
        g.files
            .insert(docid.clone(), new_file(s, f, name.clone(), kind, None, now));
    }
    g.docs.insert(
        docid.clone(),
        Doc {
            name,
            kind,
            app,
            ctime: now,
            mtime: now,
        },
    );
    Ok(CreateDocResponse::new(
        format!("{}/sandbox/wedrive/doc/{docid}", ctx.state().base_url()),
        docid,
    ))
}

async fn rename_doc(ctx: Ctx, req: RenameDocRequest) -> Result<RenameDocResponse, ApiError> {
    let app = owner(&ctx)?;
    let now = ctx.state().now_secs();
    let key = doc_key(req.docid.as_deref(), req.formid.as_deref())?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let d = own_doc(&mut g, &key, app)?;
    d.name = req.new_name.chars().take(255).collect();
    d.mtime = now;
    let name = d.name.clone();
    if let Some(n) = g.files.get_mut(&key) {
        n.name = name;
        n.mtime = now;
    }
    Ok(RenameDocResponse::default())
}

async fn del_doc(ctx: Ctx, req: DelDocRequest) -> Result<DelDocResponse, ApiError> {
    let app = owner(&ctx)?;
    let key = doc_key(req.docid.as_deref(), req.formid.as_deref())?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    own_doc(&mut g, &key, app)?;
    g.docs.remove(&key);
    if g.files.contains_key(&key) {
        g.delete_tree(&key);
    }
    Ok(DelDocResponse::default())
}

async fn get_doc_base_info(
    ctx: Ctx,
    req: GetDocBaseInfoRequest,
) -> Result<GetDocBaseInfoResponse, ApiError> {
    let app = owner(&ctx)?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    let d = own_doc(&mut g, &req.docid, app)?;
    answer(json!({"doc_base_info": {
        "docid": req.docid,
        "doc_name": d.name,
        "create_time": d.ctime,
        "modify_time": d.mtime,
        "doc_type": d.kind,
    }}))
}

async fn doc_share(ctx: Ctx, req: DocShareRequest) -> Result<DocShareResponse, ApiError> {
    let app = owner(&ctx)?;
    let key = doc_key(req.docid.as_deref(), req.formid.as_deref())?;
    let st = state(&ctx);
    let mut g = lock(&st.inner);
    own_doc(&mut g, &key, app)?;
    Ok(DocShareResponse::new(format!(
        "{}/sandbox/wedrive/doc/{key}?share=1",
        ctx.state().base_url()
    )))
}

// ------------------------------------------------------------------------------------------------
// The download URL
// ------------------------------------------------------------------------------------------------

fn status(code: StatusCode, text: &str) -> Response {
    (code, text.to_owned()).into_response()
}

/// `GET /wedrive/download/{token}`: the URL `file_download` answers. Needs its cookie; honours
/// `Range: bytes=first-last` (206 with `Content-Range`, 416 past the end); without `Range` the
/// whole file is streamed from its blocks.
pub(crate) async fn download(
    AxState(app): AxState<App>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let now = app.state.now_secs();
    let st = app.state.extension::<Wedrive>();
    let content = {
        let g = lock(&st.inner);
        let Some(d) = g.downloads.get(&token) else {
            return status(StatusCode::NOT_FOUND, "no such download");
        };
        if d.expires <= now {
            return status(StatusCode::FORBIDDEN, "the download URL expired (2 hours)");
        }
        let cookie_ok = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == COOKIE_NAME && v == d.cookie);
        if !cookie_ok {
            return status(
                StatusCode::FORBIDDEN,
                "the download needs the cookie file_download answered",
            );
        }
        match g.files.get(&d.fileid) {
            Some(n) if !n.deleted => n.content.clone(),
            _ => None,
        }
    };
    let Some(content) = content else {
        return status(StatusCode::NOT_FOUND, "the file is gone");
    };
    let total = content.size;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mut resp = match range {
        None => {
            let chunks: Vec<Result<Bytes, std::io::Error>> =
                content.chunks.iter().cloned().map(Ok).collect();
            let mut r = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
            if let Ok(v) = header::HeaderValue::from_str(&total.to_string()) {
                r.headers_mut().insert(header::CONTENT_LENGTH, v);
            }
            r
        }
        Some(h) => match parse_range(h, total) {
            Err(()) => return status(StatusCode::BAD_REQUEST, "Range must be bytes=first-last"),
            Ok(None) => {
                let mut r = status(StatusCode::RANGE_NOT_SATISFIABLE, "");
                if let Ok(v) = header::HeaderValue::from_str(&format!("bytes */{total}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return r;
            }
            Ok(Some((first, last))) => {
                let mut r = Response::new(Body::from(content.slice(first, last)));
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                if let Ok(v) =
                    header::HeaderValue::from_str(&format!("bytes {first}-{last}/{total}"))
                {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                r
            }
        },
    };
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    resp.headers_mut().insert(
        header::ACCEPT_RANGES,
        header::HeaderValue::from_static("bytes"),
    );
    resp
}

/// `bytes=first-last` (or `first-`, or `-suffix`) against `len`: `Ok(None)` past the end.
fn parse_range(header: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let spec = header.trim().strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(());
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (first, last) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (first, "") => (first.parse().map_err(|_| ())?, len.saturating_sub(1)),
        (first, last) => (
            first.parse().map_err(|_| ())?,
            last.parse::<u64>()
                .map_err(|_| ())?
                .min(len.saturating_sub(1)),
        ),
    };
    if first >= len {
        return Ok(None);
    }
    if last < first {
        return Err(());
    }
    Ok(Some((first, last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cross_chunks() {
        let c = Content::new(vec![
            Bytes::from_static(b"abcd"),
            Bytes::from_static(b"efgh"),
            Bytes::from_static(b"ij"),
        ]);
        assert_eq!(c.size, 10);
        assert_eq!(&c.slice(0, 3)[..], b"abcd");
        assert_eq!(&c.slice(2, 5)[..], b"cdef");
        assert_eq!(&c.slice(3, 9)[..], b"defghij");
        assert_eq!(&c.slice(9, 9)[..], b"j");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-200", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=100-200", 100), Ok(None));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=5-", 100), Ok(Some((5, 99))));
        assert!(parse_range("bytes=9-3", 100).is_err());
        assert!(parse_range("items=0-1", 100).is_err());
    }
}
