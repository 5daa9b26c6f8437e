//! Transfers (在职继承 / 离职继承), with the rules their pages state:
//! - 92125 (在职): "90个自然日内,在职成员的每位客户仅可被转接2次" (40128); a customer already being
//!   transferred answers 40129; the same member on both sides 40130; a customer the handover
//!   member does not follow 40131; an unknown customer 40096.
//! - both: per customer, errcode 0 "表示成功发起接替,待24小时后自动接替": the transfer waits 24 hours
//!   on the sandbox clock (status 2, `takeover_time` in the future), then the customer moves
//!   (`CustomerBook::move_follow`, status 1).
//! - 94081 (离职): "handover_userid必须是已离职用户": in the sandbox, a userid that follows
//!   customers but is no longer in the directory.
//! - the takeover member is in the calling app's visible scope (60011 otherwise).
//!
//! A customer who refuses (admin [`refuse_transfer`]) ends as status 3; that is where WeCom pushes
//! `change_external_contact` / `transfer_fail` (FailReason `customer_refused`), an event of part 1.

use std::sync::Mutex;

use wecom_externalcontact::{
    GetUnassignedListRequest, GetUnassignedListResponse, ResignedTransferCustomerRequest,
    ResignedTransferCustomerResponse, ResignedTransferResultRequest,
    ResignedTransferResultResponse, TransferCustomerRequest, TransferCustomerResponse,
    TransferOutcome, TransferResultRequest, TransferResultResponse, TransferState,
    UnassignedCustomer,
};

use super::{check_member, page};
use crate::areas::externalcontact::book::CustomerBook;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

const DAY: i64 = 24 * 3600;
/// "待24小时后自动接替".
const TAKEOVER_DELAY: i64 = DAY;
/// "90个自然日内,在职成员的每位客户仅可被转接2次".
const WINDOW: i64 = 90 * DAY;
const MAX_IN_WINDOW: usize = 2;
/// The most transfer records the sandbox keeps (bounded memory under a runaway test).
const MAX_RECORDS: usize = 100_000;

const INVALID_EXTERNAL_USERID: i64 = 40096;
const TRANSFER_TOO_OFTEN: i64 = 40128;
const TRANSFER_IN_PROGRESS: i64 = 40129;
const SAME_MEMBER: i64 = 40130;
const NOT_A_FOLLOWER: i64 = 40131;

/// Transfer states as the result pages number them.
const DONE: u32 = 1;
const WAITING: u32 = 2;
const REFUSED: u32 = 3;

#[derive(Debug, Clone)]
struct Record {
    external_userid: String,
    handover: String,
    takeover: String,
    resigned: bool,
    started: i64,
    takeover_time: i64,
    status: u32,
}

#[derive(Debug, Default)]
struct Transfers {
    records: Mutex<Vec<Record>>,
}

fn transfers(state: &State) -> std::sync::Arc<Transfers> {
    state.extension::<Transfers>()
}

pub(super) fn register(r: &mut Registry) {
    r.add::<TransferCustomerRequest, _, _>(transfer_customer);
    r.add::<TransferResultRequest, _, _>(transfer_result);
    r.add::<ResignedTransferCustomerRequest, _, _>(resigned_transfer_customer);
    r.add::<ResignedTransferResultRequest, _, _>(resigned_transfer_result);
    r.add::<GetUnassignedListRequest, _, _>(get_unassigned_list);
}

/// Completes every waiting transfer whose 24 hours have passed on the sandbox clock.
fn settle(state: &State) {
    let now = state.now_secs();
    let book = CustomerBook::of(state);
    let t = transfers(state);
    let mut records = lock(&t.records);
    for r in records.iter_mut() {
        if r.status == WAITING && r.takeover_time <= now {
            // A relation gone before the takeover (the customer deleted the member) cannot move:
            // the sandbox ends it as not taken over (status 3), the closest state the page lists.
            r.status = if book.move_follow(
                &r.external_userid,
                &r.handover,
                &r.takeover,
                r.takeover_time,
            ) {
                DONE
            } else {
                REFUSED
            };
        }
    }
}

/// The admin side of a transfer: the customer refuses the waiting transfer to `takeover`
/// (status 3; the customer stays with the handover member). `false` when no such transfer waits.
pub fn refuse_transfer(state: &State, external_userid: &str, takeover: &str) -> bool {
    settle(state);
    let t = transfers(state);
    let mut records = lock(&t.records);
    match records.iter_mut().find(|r| {
        r.status == WAITING && r.external_userid == external_userid && r.takeover == takeover
    }) {
        Some(r) => {
            r.status = REFUSED;
            true
        }
        None => false,
    }
}

/// [`refuse_transfer`], then `change_external_contact` / `transfer_fail` (FailReason
/// `customer_refused`) pushed to every app with a callback that sees the taker. `None` when no
/// such transfer waits; otherwise the push records.
pub async fn refuse_transfer_and_notify(
    state: &State,
    external_userid: &str,
    takeover: &str,
) -> Option<Vec<crate::callbacks::CallbackRecord>> {
    if !refuse_transfer(state, external_userid, takeover) {
        return None;
    }
    let kind = wecom_callback::EventKind::ChangeExternalContact(
        wecom_callback::generated::events::ExternalContactChange::TransferFail {
            fail_reason: "customer_refused".into(),
            user_id: takeover.to_owned(),
            external_user_id: external_userid.to_owned(),
        },
    );
    Some(crate::areas::externalcontact::admin::push(state, takeover, kind).await)
}

fn start(
    ctx: &Ctx,
    handover: &str,
    takeover: &str,
    customers: &[String],
    resigned: bool,
) -> Result<Vec<TransferOutcome>, ApiError> {
    let state = ctx.state();
    if handover == takeover {
        return Err(ApiError::new(
            SAME_MEMBER,
            "handover_userid and takeover_userid are the same member",
        ));
    }
    check_member(ctx, takeover)?;
    if resigned {
        if state.corp().member(handover).is_ok() {
            return Err(ApiError::invalid_parameter(format!(
                "handover_userid {handover} has not left the corp (handover_userid必须是已离职用户): use transfer_customer"
            )));
        }
    } else {
        check_member(ctx, handover)?;
    }
    settle(state);
    let now = state.now_secs();
    let book = CustomerBook::of(state);
    let t = transfers(state);
    let mut records = lock(&t.records);
    let mut out = Vec::with_capacity(customers.len());
    for id in customers {
        let known = book.with(|c| c.contains_key(id));
        let errcode = if !known {
            INVALID_EXTERNAL_USERID
        } else if !book.follows(id, handover) {
            NOT_A_FOLLOWER
        } else if records
            .iter()
            .any(|r| r.status == WAITING && &r.external_userid == id)
        {
            TRANSFER_IN_PROGRESS
        } else if !resigned
            && records
                .iter()
                .filter(|r| !r.resigned && &r.external_userid == id && now - r.started < WINDOW)
                .count()
                >= MAX_IN_WINDOW
        {
            TRANSFER_TOO_OFTEN
        } else {
            if records.len() >= MAX_RECORDS {
                records.remove(0);
            }
            records.push(Record {
                external_userid: id.clone(),
                handover: handover.to_owned(),
                takeover: takeover.to_owned(),
                resigned,
                started: now,
                takeover_time: now + TAKEOVER_DELAY,
                status: WAITING,
            });
            0
        };
        out.push(TransferOutcome::new(id.clone(), errcode));
    }
    Ok(out)
}

fn states(
    ctx: &Ctx,
    handover: &str,
    takeover: &str,
    resigned: bool,
    cursor: Option<&str>,
) -> Result<(Vec<TransferState>, String), ApiError> {
    check_member(ctx, takeover)?;
    settle(ctx.state());
    let t = transfers(ctx.state());
    let list: Vec<TransferState> = lock(&t.records)
        .iter()
        .filter(|r| r.resigned == resigned && r.handover == handover && r.takeover == takeover)
        .map(|r| {
            let mut s = TransferState::new(r.external_userid.clone());
            s.status = Some(r.status);
            s.takeover_time = Some(if r.status == REFUSED {
                0
            } else {
                r.takeover_time
            });
            s
        })
        .collect();
    // "每个分页返回的数据不会超过1000条".
    page(&list, cursor, 1000)
}

async fn transfer_customer(
    ctx: Ctx,
    req: TransferCustomerRequest,
) -> Result<TransferCustomerResponse, ApiError> {
    let out = start(
        &ctx,
        &req.handover_userid,
        &req.takeover_userid,
        &req.external_userid,
        false,
    )?;
    let mut answer = TransferCustomerResponse::new();
    answer.customer = out;
    Ok(answer)
}

async fn resigned_transfer_customer(
    ctx: Ctx,
    req: ResignedTransferCustomerRequest,
) -> Result<ResignedTransferCustomerResponse, ApiError> {
    let out = start(
        &ctx,
        &req.handover_userid,
        &req.takeover_userid,
        &req.external_userid,
        true,
    )?;
    let mut answer = ResignedTransferCustomerResponse::new();
    answer.customer = out;
    Ok(answer)
}

async fn transfer_result(
    ctx: Ctx,
    req: TransferResultRequest,
) -> Result<TransferResultResponse, ApiError> {
    let (items, next) = states(
        &ctx,
        &req.handover_userid,
        &req.takeover_userid,
        false,
        req.cursor.as_deref(),
    )?;
    let mut answer = TransferResultResponse::new();
    answer.customer = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn resigned_transfer_result(
    ctx: Ctx,
    req: ResignedTransferResultRequest,
) -> Result<ResignedTransferResultResponse, ApiError> {
    let (items, next) = states(
        &ctx,
        &req.handover_userid,
        &req.takeover_userid,
        true,
        req.cursor.as_deref(),
    )?;
    let mut answer = ResignedTransferResultResponse::new();
    answer.customer = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}

async fn get_unassigned_list(
    ctx: Ctx,
    req: GetUnassignedListRequest,
) -> Result<GetUnassignedListResponse, ApiError> {
    let state = ctx.state();
    settle(state);
    let waiting: Vec<(String, String)> = {
        let t = transfers(state);
        lock(&t.records)
            .iter()
            .filter(|r| r.status == WAITING)
            .map(|r| (r.external_userid.clone(), r.handover.clone()))
            .collect()
    };
    let follows: Vec<(String, String)> = CustomerBook::of(state).with(|c| {
        c.values()
            .flat_map(|c| {
                c.follows
                    .iter()
                    .map(|f| (f.userid.clone(), c.external_userid.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    });
    let corp = state.corp();
    let list: Vec<UnassignedCustomer> = follows
        .into_iter()
        .filter(|(u, _)| corp.member(u).is_err())
        .filter(|(u, e)| !waiting.iter().any(|(we, wu)| we == e && wu == u))
        .map(|(u, e)| UnassignedCustomer::new(u, e))
        .collect();
    drop(corp);
    let (items, next) = page(
        &list,
        req.cursor.as_deref(),
        req.page_size.unwrap_or(1000) as usize,
    )?;
    let mut answer = GetUnassignedListResponse::new();
    answer.is_last = Some(next.is_empty());
    answer.info = items;
    answer.next_cursor = Some(next);
    Ok(answer)
}
