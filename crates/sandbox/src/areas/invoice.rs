//! 电子发票 (spec/invoice.toml): invoices members chose from their card wallet, and their
//! reimbursement status.
//!
//! Each corp starts with three invoices of its first member bound to WeChat (card ids
//! `pSandboxInvoice0001`..`0003`, encrypt codes `SANDBOX-ENCRYPT-CODE-0001`..`0003`); more come
//! with the admin route. Status moves as the pages allow: INIT (未锁定) <-> LOCK (锁定, cannot be
//! submitted again), INIT or LOCK -> CLOSURE (核销, irreversible). A move the pages forbid
//! (anything from CLOSURE, locking a locked invoice) answers 72024 发票状态错误 (global table); in a
//! batch an invoice of another openid answers 72037 (存在发票不属于该用户), and a batch that fails
//! changes nothing (the page: "事务性操作"). An unknown invoice answers 40058: the pages name no
//! code for it.
//!
//! | method + path | body | does |
//! |---|---|---|
//! | `POST /sandbox/invoice/invoices` | `{"userid", "payee"?, "type"?, "fee"?, "title"?, "card_id"?, "encrypt_code"?}` | a member's new invoice; answers its card_id and encrypt_code |
//! | `GET /sandbox/invoice/invoices` | | every invoice with its status |

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};
use wecom_invoice::{
    InvoiceGetInfoBatchRequest, InvoiceGetInfoBatchResponse, InvoiceGetInfoRequest,
    InvoiceGetInfoResponse, InvoiceItem, InvoiceLine, InvoiceUpdateStatusBatchRequest,
    InvoiceUpdateStatusBatchResponse, InvoiceUpdateStatusRequest, InvoiceUpdateStatusResponse,
    InvoiceUserInfo, ReimburseStatus,
};

use crate::admin::AdminError;
use crate::app::App;
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};

/// 发票状态错误 (global table).
pub const INVOICE_STATUS_WRONG: i64 = 72024;
/// 存在发票不属于该用户 (global table).
pub const INVOICE_NOT_OF_USER: i64 = 72037;

#[derive(Debug, Clone)]
struct Stored {
    card_id: String,
    encrypt_code: String,
    openid: String,
    invoice_type: String,
    payee: String,
    title: String,
    fee: i64,
    billing_time: i64,
    status: ReimburseStatus,
}

#[derive(Debug, Default)]
struct Inner {
    seeded: bool,
    invoices: BTreeMap<(String, String), Stored>,
    next: u32,
}

/// The corp's invoices (area state in [`State::extension`]).
#[derive(Debug, Default)]
pub struct Invoices {
    inner: Mutex<Inner>,
}

/// Registers the endpoints.
pub fn register(r: &mut Registry) {
    r.add::<InvoiceGetInfoRequest, _, _>(get_info);
    r.add::<InvoiceGetInfoBatchRequest, _, _>(get_info_batch);
    r.add::<InvoiceUpdateStatusRequest, _, _>(update_status);
    r.add::<InvoiceUpdateStatusBatchRequest, _, _>(update_status_batch);
}

fn with<R>(state: &State, f: impl FnOnce(&mut Inner) -> R) -> R {
    let invoices = state.extension::<Invoices>();
    let mut inner = lock(&invoices.inner);
    if !inner.seeded {
        inner.seeded = true;
        let openid = state
            .corp()
            .members()
            .find(|m| !m.openid.is_empty())
            .map(|m| m.openid.clone());
        if let Some(openid) = openid {
            let now = state.now_secs();
            for (fee, payee) in [
                (4000, "深圳市沙盒餐饮有限公司"),
                (12800, "沙盒出行科技有限公司"),
                (56000, "沙盒酒店管理有限公司"),
            ] {
                insert(
                    &mut inner,
                    &openid,
                    payee,
                    "增值税电子普通发票",
                    "沙盒公司",
                    fee,
                    now,
                    None,
                );
            }
        }
    }
    f(&mut inner)
}

#[allow(clippy::too_many_arguments)]
fn insert(
    inner: &mut Inner,
    openid: &str,
    payee: &str,
    invoice_type: &str,
    title: &str,
    fee: i64,
    now: i64,
    ids: Option<(String, String)>,
) -> (String, String) {
    inner.next += 1;
    let n = inner.next;
    let (card_id, encrypt_code) = ids.unwrap_or_else(|| {
        (
            format!("pSandboxInvoice{n:04}"),
            format!("SANDBOX-ENCRYPT-CODE-{n:04}"),
        )
    });
    inner.invoices.insert(
        (card_id.clone(), encrypt_code.clone()),
        Stored {
            card_id: card_id.clone(),
            encrypt_code: encrypt_code.clone(),
            openid: openid.to_owned(),
            invoice_type: invoice_type.to_owned(),
            payee: payee.to_owned(),
            title: title.to_owned(),
            fee,
            billing_time: now,
            status: ReimburseStatus::Init,
        },
    );
    (card_id, encrypt_code)
}

fn find<'a>(inner: &'a Inner, card_id: &str, encrypt_code: &str) -> Result<&'a Stored, ApiError> {
    inner
        .invoices
        .get(&(card_id.to_owned(), encrypt_code.to_owned()))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "no invoice with card_id {card_id} and this encrypt_code"
            ))
        })
}

fn user_info(s: &Stored) -> InvoiceUserInfo {
    let tax = s.fee * 6 / 106;
    let mut u = InvoiceUserInfo::new();
    u.fee = Some(s.fee);
    u.title = Some(s.title.clone());
    u.billing_time = Some(s.billing_time);
    u.billing_no = Some(format!(
        "0440{}",
        &s.card_id[s.card_id.len().saturating_sub(4)..]
    ));
    u.billing_code = Some(format!("2026{:08}", s.fee));
    let mut line = InvoiceLine::new();
    line.name = Some("服务费".into());
    line.num = Some(1.0);
    line.unit = Some("次".into());
    line.fee = Some(s.fee - tax);
    line.price = Some(s.fee - tax);
    u.info = vec![line];
    u.fee_without_tax = Some(s.fee - tax);
    u.tax = Some(tax);
    u.detail = Some("项目".into());
    u.pdf_url = Some(format!("https://sandbox.invalid/invoice/{}.pdf", s.card_id));
    u.reimburse_status = Some(s.status.clone());
    u.check_code = Some("00000000000000000000".into());
    u
}

async fn get_info(
    ctx: Ctx,
    req: InvoiceGetInfoRequest,
) -> Result<InvoiceGetInfoResponse, ApiError> {
    with(ctx.state(), |inner| {
        let s = find(inner, &req.card_id, &req.encrypt_code)?;
        let mut a = InvoiceGetInfoResponse::new();
        a.card_id = Some(s.card_id.clone());
        a.begin_time = Some(s.billing_time);
        a.end_time = Some(s.billing_time + 365 * 86400);
        a.openid = Some(s.openid.clone());
        a.invoice_type = Some(s.invoice_type.clone());
        a.payee = Some(s.payee.clone());
        a.detail = Some("可在公司企业微信内报销使用".into());
        a.user_info = Some(user_info(s));
        Ok(a)
    })
}

async fn get_info_batch(
    ctx: Ctx,
    req: InvoiceGetInfoBatchRequest,
) -> Result<InvoiceGetInfoBatchResponse, ApiError> {
    with(ctx.state(), |inner| {
        let mut a = InvoiceGetInfoBatchResponse::new();
        for key in &req.item_list {
            let s = find(inner, &key.card_id, &key.encrypt_code)?;
            let mut item = InvoiceItem::new();
            item.card_id = Some(s.card_id.clone());
            item.openid = Some(s.openid.clone());
            item.invoice_type = Some(s.invoice_type.clone());
            item.payee = Some(s.payee.clone());
            item.detail = Some("可在公司企业微信内报销使用".into());
            item.user_info = Some(user_info(s));
            a.item_list.push(item);
        }
        Ok(a)
    })
}

/// Whether the pages allow moving an invoice from `from` to `to`.
fn check_move(card_id: &str, from: &ReimburseStatus, to: &ReimburseStatus) -> Result<(), ApiError> {
    let refuse = |why: &str| {
        Err(ApiError::new(
            INVOICE_STATUS_WRONG,
            format!("invoice status error: {card_id} {why}"),
        ))
    };
    match (from, to) {
        (_, ReimburseStatus::Unknown(v)) => Err(ApiError::invalid_parameter(format!(
            "reimburse_status {v:?}: use INVOICE_REIMBURSE_INIT, INVOICE_REIMBURSE_LOCK or INVOICE_REIMBURSE_CLOSURE"
        ))),
        (ReimburseStatus::Closure, _) => refuse("is closed (核销); closing is irreversible"),
        (ReimburseStatus::Lock, ReimburseStatus::Lock) => {
            refuse("is already locked and cannot be submitted again")
        }
        _ => Ok(()),
    }
}

async fn update_status(
    ctx: Ctx,
    req: InvoiceUpdateStatusRequest,
) -> Result<InvoiceUpdateStatusResponse, ApiError> {
    with(ctx.state(), |inner| {
        let s = find(inner, &req.card_id, &req.encrypt_code)?;
        check_move(&s.card_id, &s.status, &req.reimburse_status)?;
        let key = (req.card_id.clone(), req.encrypt_code.clone());
        if let Some(s) = inner.invoices.get_mut(&key) {
            s.status = req.reimburse_status.clone();
        }
        Ok(InvoiceUpdateStatusResponse::new())
    })
}

async fn update_status_batch(
    ctx: Ctx,
    req: InvoiceUpdateStatusBatchRequest,
) -> Result<InvoiceUpdateStatusBatchResponse, ApiError> {
    with(ctx.state(), |inner| {
        // One transaction: check every invoice first, then change them all.
        for key in &req.invoice_list {
            let s = find(inner, &key.card_id, &key.encrypt_code)?;
            if s.openid != req.openid {
                return Err(ApiError::new(
                    INVOICE_NOT_OF_USER,
                    format!(
                        "invoice {} does not belong to openid {}",
                        s.card_id, req.openid
                    ),
                ));
            }
            check_move(&s.card_id, &s.status, &req.reimburse_status)?;
        }
        for key in &req.invoice_list {
            let k = (key.card_id.clone(), key.encrypt_code.clone());
            if let Some(s) = inner.invoices.get_mut(&k) {
                s.status = req.reimburse_status.clone();
            }
        }
        Ok(InvoiceUpdateStatusBatchResponse::new())
    })
}

/// What [`add_invoice`] needs besides the member.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewInvoice {
    /// The member whose card wallet holds it (bound to WeChat).
    pub userid: String,
    /// The payee.
    #[serde(default)]
    pub payee: Option<String>,
    /// The invoice type as text.
    #[serde(default, rename = "type")]
    pub invoice_type: Option<String>,
    /// Total in fen.
    #[serde(default)]
    pub fee: Option<i64>,
    /// The title (抬头).
    #[serde(default)]
    pub title: Option<String>,
    /// Its card_id (generated when absent).
    #[serde(default)]
    pub card_id: Option<String>,
    /// Its encrypt_code (generated when absent).
    #[serde(default)]
    pub encrypt_code: Option<String>,
}

/// Puts a new invoice (status INIT) in a member's card wallet; returns `(card_id, encrypt_code)`.
///
/// # Errors
/// An unknown member, a member not bound to WeChat, a negative fee, or ids already taken.
pub fn add_invoice(state: &State, new: &NewInvoice) -> Result<(String, String), AdminError> {
    let openid = state.corp().member(&new.userid)?.openid.clone();
    if openid.is_empty() {
        return Err(AdminError::Invalid(format!(
            "member {} is not bound to WeChat (no openid): invoices live in a WeChat card wallet",
            new.userid
        )));
    }
    let fee = new.fee.unwrap_or(10000);
    if fee < 0 {
        return Err(AdminError::Invalid("fee must be 0 or more (fen)".into()));
    }
    let ids = match (&new.card_id, &new.encrypt_code) {
        (Some(c), Some(e)) if !c.is_empty() && !e.is_empty() => Some((c.clone(), e.clone())),
        (None, None) => None,
        _ => {
            return Err(AdminError::Invalid(
                "give both card_id and encrypt_code, or neither".into(),
            ));
        }
    };
    let now = state.now_secs();
    with(state, |inner| {
        if let Some(k) = &ids
            && inner.invoices.contains_key(k)
        {
            return Err(AdminError::Invalid(format!(
                "an invoice with card_id {} and this encrypt_code exists",
                k.0
            )));
        }
        Ok(insert(
            inner,
            &openid,
            new.payee.as_deref().unwrap_or("沙盒商户有限公司"),
            new.invoice_type.as_deref().unwrap_or("增值税电子普通发票"),
            new.title.as_deref().unwrap_or("沙盒公司"),
            fee,
            now,
            ids,
        ))
    })
}

/// Every invoice: `(card_id, encrypt_code, openid, status)`.
pub fn invoices(state: &State) -> Vec<(String, String, String, ReimburseStatus)> {
    with(state, |inner| {
        inner
            .invoices
            .values()
            .map(|s| {
                (
                    s.card_id.clone(),
                    s.encrypt_code.clone(),
                    s.openid.clone(),
                    s.status.clone(),
                )
            })
            .collect()
    })
}

async fn add_route(AxState(app): AxState<App>, body: BodyBytes) -> Result<Response, AdminError> {
    let new: NewInvoice = serde_json::from_slice(&body)
        .map_err(|e| AdminError::Invalid(format!("bad JSON body: {e}")))?;
    let (card_id, encrypt_code) = add_invoice(&app.state, &new)?;
    Ok(axum::Json(json!({"card_id": card_id, "encrypt_code": encrypt_code})).into_response())
}

async fn list_route(AxState(app): AxState<App>) -> Response {
    let list: Vec<Value> = invoices(&app.state)
        .into_iter()
        .map(|(c, e, o, s)| {
            json!({"card_id": c, "encrypt_code": e, "openid": o, "reimburse_status": s})
        })
        .collect();
    axum::Json(json!({ "invoices": list })).into_response()
}

/// The 电子发票 admin routes (merged into `/sandbox/` by `admin/routes.rs`).
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/sandbox/invoice/invoices", post(add_route).get(list_route))
}
