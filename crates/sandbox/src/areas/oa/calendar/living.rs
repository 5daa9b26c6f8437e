//! Live streams (直播). An app sees only the live streams it created (获取直播详情: 只能获取本应用
//! 创建的直播; 92008 otherwise); a stream can be changed or cancelled only while reserved (92006);
//! only an ended stream has a replay to delete (92007). Every state change is pushed as
//! `living_status_change` to the creating app's callback (直播回调事件: only API-created streams,
//! and no callback for expiry). The sandbox has no viewers: watch statistics are empty. A stream
//! starts and ends when [`set_living_status`] says so (the anchor's client, in real WeCom).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wecom_callback::{Event, EventKind, Header, Inbound};
use wecom_oa::{
    LivingCancelRequest, LivingCancelResponse, LivingCreateRequest, LivingCreateResponse,
    LivingDeleteReplayDataRequest, LivingDeleteReplayDataResponse, LivingGetCodeRequest,
    LivingGetCodeResponse, LivingGetInfoRequest, LivingGetInfoResponse, LivingGetShareInfoRequest,
    LivingGetShareInfoResponse, LivingGetUserAllLivingidRequest, LivingGetUserAllLivingidResponse,
    LivingGetWatchStatRequest, LivingGetWatchStatResponse, LivingInfo, LivingModifyRequest,
    LivingModifyResponse, LivingStatus, LivingType, LivingWatchStat,
};

use crate::callbacks::CallbackRecord;
use crate::error::ApiError;
use crate::paging::page;
use crate::registry::{Ctx, Registry};
use crate::state::State;

/// 92006 该直播已经开始或取消.
const STARTED_OR_CANCELLED: i64 = 92006;
/// 92007 该直播回放不能被删除.
const NO_REPLAY: i64 = 92007;
/// 92008 当前应用没权限操作这个直播.
const NOT_YOURS: i64 = 92008;

pub(super) fn register(r: &mut Registry) {
    r.add::<LivingCreateRequest, _, _>(create);
    r.add::<LivingModifyRequest, _, _>(modify);
    r.add::<LivingCancelRequest, _, _>(cancel);
    r.add::<LivingDeleteReplayDataRequest, _, _>(delete_replay_data);
    r.add::<LivingGetCodeRequest, _, _>(get_code);
    r.add::<LivingGetInfoRequest, _, _>(get_info);
    r.add::<LivingGetWatchStatRequest, _, _>(get_watch_stat);
    r.add::<LivingGetShareInfoRequest, _, _>(get_share_info);
    r.add::<LivingGetUserAllLivingidRequest, _, _>(get_user_all_livingid);
}

#[derive(Debug, Clone)]
struct Living {
    agentid: u32,
    info: LivingInfo,
    replay_deleted: bool,
}

#[derive(Debug, Default)]
struct Livings {
    inner: Mutex<(u64, BTreeMap<String, Living>, Vec<String>)>,
}

type Guard<'a> = MutexGuard<'a, (u64, BTreeMap<String, Living>, Vec<String>)>;

impl Livings {
    fn lock(&self) -> Guard<'_> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn livings(state: &State) -> Arc<Livings> {
    state.extension::<Livings>()
}

/// The stream, if this app created it: 40058 unknown id (the pages name no code), 92008 another
/// app's.
fn own<'a>(g: &'a mut Guard<'_>, agentid: u32, livingid: &str) -> Result<&'a mut Living, ApiError> {
    let l = g.1.get_mut(livingid).ok_or_else(|| {
        ApiError::invalid_parameter(format!(
            "livingid {livingid} names no live stream (the page names no errcode for this; the sandbox answers the generic one)"
        ))
    })?;
    if l.agentid != agentid {
        return Err(ApiError::new(
            NOT_YOURS,
            format!("live stream {livingid} was created by another app"),
        ));
    }
    Ok(l)
}

fn status_code(s: LivingStatus) -> i64 {
    match s {
        LivingStatus::Reserved => 0,
        LivingStatus::Live => 1,
        LivingStatus::Ended => 2,
        LivingStatus::Expired => 3,
        _ => 4,
    }
}

async fn push_status(
    state: &State,
    agentid: u32,
    anchor: &str,
    livingid: &str,
    status: LivingStatus,
) -> Option<CallbackRecord> {
    if status == LivingStatus::Expired {
        return None; // 已过期状态目前没有回调
    }
    let (cfg, corpid) = {
        let corp = state.corp();
        let cfg = corp.app(agentid).ok()?.callback.clone()?;
        (cfg, corp.corpid().to_owned())
    };
    let now = state.now_secs();
    let xml = Inbound::Event(Event {
        header: Header {
            to_user_name: corpid.clone(),
            from_user_name: anchor.to_owned(),
            create_time: now,
            agent_id: Some(i64::from(agentid)),
        },
        kind: EventKind::LivingStatusChange {
            living_id: livingid.to_owned(),
            status: status_code(status),
        },
    })
    .to_xml();
    Some(
        state
            .callbacks
            .push(&cfg, &corpid, Some(agentid), &xml, now)
            .await,
    )
}

async fn create(ctx: Ctx, req: LivingCreateRequest) -> Result<LivingCreateResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let main_department = {
        let corp = ctx.state().corp();
        let m = corp.member(&req.anchor_userid)?;
        m.main_department.or_else(|| m.department.first().copied())
    };
    let livingid = {
        let store = livings(ctx.state());
        let mut g = store.lock();
        g.0 += 1;
        let id = format!("lvsbx{:019x}", g.0);
        let mut info = LivingInfo::new()
            .theme(req.theme)
            .living_start(req.living_start)
            .living_duration(req.living_duration)
            .status(LivingStatus::Reserved)
            .reserve_start(req.living_start)
            .reserve_living_duration(req.living_duration)
            .anchor_userid(req.anchor_userid.clone())
            .living_type(req.living_type.unwrap_or(LivingType::General))
            .viewer_num(0)
            .comment_num(0)
            .mic_num(0)
            .online_count(0)
            .subscribe_count(0);
        info.description = req.description;
        info.main_department = main_department;
        g.1.insert(
            id.clone(),
            Living {
                agentid,
                info,
                replay_deleted: false,
            },
        );
        g.2.push(id.clone());
        id
    };
    push_status(
        ctx.state(),
        agentid,
        &req.anchor_userid,
        &livingid,
        LivingStatus::Reserved,
    )
    .await;
    Ok(LivingCreateResponse::new(livingid))
}

fn reserved(l: &Living, livingid: &str) -> Result<(), ApiError> {
    if l.info.status == Some(LivingStatus::Reserved) {
        Ok(())
    } else {
        Err(ApiError::new(
            STARTED_OR_CANCELLED,
            format!("live stream {livingid} already started or was cancelled"),
        ))
    }
}

async fn modify(ctx: Ctx, req: LivingModifyRequest) -> Result<LivingModifyResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let store = livings(ctx.state());
    let mut g = store.lock();
    let l = own(&mut g, agentid, &req.livingid)?;
    reserved(l, &req.livingid)?;
    let info = &mut l.info;
    if req.theme.is_some() {
        info.theme = req.theme;
    }
    if let Some(start) = req.living_start {
        info.living_start = Some(start);
        info.reserve_start = Some(start);
    }
    if let Some(d) = req.living_duration {
        info.living_duration = Some(d);
        info.reserve_living_duration = Some(d);
    }
    if req.living_type.is_some() {
        info.living_type = req.living_type;
    }
    if req.description.is_some() {
        info.description = req.description;
    }
    Ok(LivingModifyResponse::new())
}

async fn cancel(ctx: Ctx, req: LivingCancelRequest) -> Result<LivingCancelResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let anchor = {
        let store = livings(ctx.state());
        let mut g = store.lock();
        let l = own(&mut g, agentid, &req.livingid)?;
        reserved(l, &req.livingid)?;
        l.info.status = Some(LivingStatus::Cancelled);
        l.info.anchor_userid.clone().unwrap_or_default()
    };
    push_status(
        ctx.state(),
        agentid,
        &anchor,
        &req.livingid,
        LivingStatus::Cancelled,
    )
    .await;
    Ok(LivingCancelResponse::new())
}

async fn delete_replay_data(
    ctx: Ctx,
    req: LivingDeleteReplayDataRequest,
) -> Result<LivingDeleteReplayDataResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let store = livings(ctx.state());
    let mut g = store.lock();
    let l = own(&mut g, agentid, &req.livingid)?;
    if l.info.status != Some(LivingStatus::Ended) || l.replay_deleted {
        return Err(ApiError::new(
            NO_REPLAY,
            format!(
                "live stream {} has no replay to delete (only an ended stream has one, once)",
                req.livingid
            ),
        ));
    }
    l.replay_deleted = true;
    l.info.open_replay = Some(0);
    Ok(LivingDeleteReplayDataResponse::new())
}

async fn get_code(ctx: Ctx, req: LivingGetCodeRequest) -> Result<LivingGetCodeResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let now = ctx.state().now_secs();
    let store = livings(ctx.state());
    let mut g = store.lock();
    own(&mut g, agentid, &req.livingid)?;
    g.0 += 1;
    Ok(LivingGetCodeResponse::new(format!(
        "lcsbx{:x}{:08x}",
        now, g.0
    )))
}

async fn get_info(ctx: Ctx, req: LivingGetInfoRequest) -> Result<LivingGetInfoResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let store = livings(ctx.state());
    let mut g = store.lock();
    let l = own(&mut g, agentid, &req.livingid)?;
    Ok(LivingGetInfoResponse::new(l.info.clone()))
}

async fn get_watch_stat(
    ctx: Ctx,
    req: LivingGetWatchStatRequest,
) -> Result<LivingGetWatchStatResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let store = livings(ctx.state());
    let mut g = store.lock();
    own(&mut g, agentid, &req.livingid)?;
    // No viewers in the sandbox: one empty, final page.
    Ok(LivingGetWatchStatResponse::new()
        .ending(1)
        .next_key(req.next_key.unwrap_or_else(|| "0".to_owned()))
        .stat_info(LivingWatchStat::new()))
}

async fn get_share_info(
    ctx: Ctx,
    req: LivingGetShareInfoRequest,
) -> Result<LivingGetShareInfoResponse, ApiError> {
    ctx.agentid()?;
    // Share codes come from viewers opening a 推广产品 stream's mini-program: none in the sandbox.
    Err(ApiError::invalid_parameter(format!(
        "ww_share_code {} is unknown or expired (codes live 5 minutes; the sandbox has no viewers)",
        req.ww_share_code
    )))
}

async fn get_user_all_livingid(
    ctx: Ctx,
    req: LivingGetUserAllLivingidRequest,
) -> Result<LivingGetUserAllLivingidResponse, ApiError> {
    let agentid = ctx.agentid()?;
    ctx.state().corp().member(&req.userid)?;
    let store = livings(ctx.state());
    let g = store.lock();
    let ids: Vec<String> = g
        .2
        .iter()
        .filter(|id| {
            g.1.get(*id).is_some_and(|l| {
                l.agentid == agentid && l.info.anchor_userid.as_deref() == Some(req.userid.as_str())
            })
        })
        .cloned()
        .collect();
    drop(g);
    let (page, next) = page(
        &ids,
        req.cursor.as_deref(),
        req.limit.unwrap_or(100) as usize,
    )?;
    Ok(LivingGetUserAllLivingidResponse::new()
        .livingid_list(page)
        .next_cursor(next))
}

/// The anchor starts (`Live`) or ends (`Ended`) a live stream in the client: the state changes
/// and `living_status_change` is pushed to the creating app. Errors name what is wrong.
pub async fn set_living_status(
    state: &State,
    livingid: &str,
    status: LivingStatus,
) -> Result<Option<CallbackRecord>, String> {
    let (agentid, anchor) = {
        let store = livings(state);
        let mut g = store.lock();
        let l =
            g.1.get_mut(livingid)
                .ok_or_else(|| format!("no live stream {livingid}"))?;
        let from = l.info.status.unwrap_or(LivingStatus::Reserved);
        let allowed = matches!(
            (from, status),
            (LivingStatus::Reserved, LivingStatus::Live)
                | (LivingStatus::Live, LivingStatus::Ended)
                | (LivingStatus::Reserved, LivingStatus::Expired)
        );
        if !allowed {
            return Err(format!(
                "live stream {livingid} cannot go from {from:?} to {status:?}"
            ));
        }
        l.info.status = Some(status);
        if status == LivingStatus::Ended {
            l.info.open_replay = Some(1);
        }
        (l.agentid, l.info.anchor_userid.clone().unwrap_or_default())
    };
    Ok(push_status(state, agentid, &anchor, livingid, status).await)
}
