//! Corp-paid calls (公费电话) and 紧急通知 calls (pstncc).
//!
//! - `dial/get_dial_record` answers the calls recorded with [`record_dial_call`] (members dial
//!   from their phones in real WeCom; nobody dials in the sandbox unless a test or the admin
//!   records it), in the page's window: [start_time, end_time] inclusive, an end before the start
//!   is 600018, a span over 30 days is cut to the 30 days before the end, no span means the last
//!   30 days; `limit` above 100 counts as 100.
//! - `pstncc/call` starts one call per member (code 0 and a callid; 60111 for an unknown
//!   userid, as the answer's per-member `code`); `pstncc/getstates` answers a call of the last
//!   7 days. Nobody picks up in the sandbox: `istalked` is 0.

use std::sync::{Arc, Mutex, MutexGuard};

use wecom_core_auth::ErrorCode;
use wecom_oa::{
    DialGetRecordRequest, DialGetRecordResponse, DialRecord, PstnCallState, PstnccCallRequest,
    PstnccCallResponse, PstnccGetStatesRequest, PstnccGetStatesResponse,
};

use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::State;

/// 600018 无效的起止时间.
const BAD_SPAN: i64 = 600_018;
const DAYS_30: i64 = 30 * 86_400;
const DAYS_7: i64 = 7 * 86_400;

pub(super) fn register(r: &mut Registry) {
    r.add::<DialGetRecordRequest, _, _>(get_dial_record);
    r.add::<PstnccCallRequest, _, _>(pstncc_call);
    r.add::<PstnccGetStatesRequest, _, _>(pstncc_get_states);
}

#[derive(Debug, Clone)]
struct PstnCall {
    callid: String,
    userid: String,
    calltime: i64,
}

#[derive(Debug, Default)]
struct Calls {
    inner: Mutex<CallsInner>,
}

#[derive(Debug, Default)]
struct CallsInner {
    dials: Vec<DialRecord>,
    pstn: Vec<PstnCall>,
    next: u64,
}

impl Calls {
    fn lock(&self) -> MutexGuard<'_, CallsInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn calls(state: &State) -> Arc<Calls> {
    state.extension::<Calls>()
}

/// Records a connected corp-paid call (what a member's dialling leaves in WeCom), so that
/// `dial/get_dial_record` answers it.
pub fn record_dial_call(state: &State, record: DialRecord) {
    calls(state).lock().dials.push(record);
}

async fn get_dial_record(
    ctx: Ctx,
    req: DialGetRecordRequest,
) -> Result<DialGetRecordResponse, ApiError> {
    let now = ctx.state().now_secs();
    let (start, end) = match (req.start_time.map(i64::from), req.end_time.map(i64::from)) {
        (Some(s), Some(e)) if e < s => {
            return Err(ApiError::new(
                BAD_SPAN,
                format!("invalid start/end time: end_time {e} is before start_time {s}"),
            ));
        }
        (Some(s), Some(e)) => (s.max(e - DAYS_30), e),
        (Some(s), None) => (s, now),
        (None, Some(e)) => (e - DAYS_30, e),
        (None, None) => (now - DAYS_30, now),
    };
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.unwrap_or(100).min(100) as usize;
    let store = calls(ctx.state());
    let g = store.lock();
    let page: Vec<DialRecord> = g
        .dials
        .iter()
        .filter(|r| {
            let t = i64::from(r.call_time.unwrap_or(0));
            t >= start && t <= end
        })
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    Ok(DialGetRecordResponse::new().record(page))
}

async fn pstncc_call(ctx: Ctx, req: PstnccCallRequest) -> Result<PstnccCallResponse, ApiError> {
    ctx.agentid()?;
    let now = ctx.state().now_secs();
    let known: Vec<bool> = {
        let corp = ctx.state().corp();
        req.callee_userid
            .iter()
            .map(|u| corp.member(u).is_ok())
            .collect()
    };
    let store = calls(ctx.state());
    let mut g = store.lock();
    let mut states = Vec::with_capacity(req.callee_userid.len());
    for (userid, known) in req.callee_userid.iter().zip(known) {
        if !known {
            states.push(
                PstnCallState::new()
                    .code(ErrorCode::USERID_NOT_FOUND.code())
                    .userid(userid.clone()),
            );
            continue;
        }
        g.next += 1;
        let callid = format!("6-{now}-{:016x}-out", g.next);
        g.pstn.push(PstnCall {
            callid: callid.clone(),
            userid: userid.clone(),
            calltime: now,
        });
        states.push(
            PstnCallState::new()
                .code(0)
                .callid(callid)
                .userid(userid.clone()),
        );
    }
    Ok(PstnccCallResponse::new().states(states))
}

async fn pstncc_get_states(
    ctx: Ctx,
    req: PstnccGetStatesRequest,
) -> Result<PstnccGetStatesResponse, ApiError> {
    ctx.agentid()?;
    let now = ctx.state().now_secs();
    let store = calls(ctx.state());
    let g = store.lock();
    let call = g
        .pstn
        .iter()
        .find(|c| c.callid == req.callid && c.userid == req.callee_userid)
        .filter(|c| now - c.calltime <= DAYS_7)
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "no call {} to {} in the last 7 days (the page names no errcode for this; the sandbox answers the generic one)",
                req.callid, req.callee_userid
            ))
        })?;
    Ok(PstnccGetStatesResponse::new()
        .istalked(0)
        .calltime(u32::try_from(call.calltime).unwrap_or(0))
        .talktime(0)
        .reason(0))
}
