//! `wecom invoice ...`: 电子发票: read an invoice a member chose (card_id + encrypt_code from
//! chooseInvoice) and move it through reimbursement (lock, unlock, close: closing is irreversible).

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use wecom::invoice::{InvoiceExt as _, InvoiceKey, ReimburseStatus};

use super::Ctx;
use crate::error::CliError;

/// `wecom invoice ...`
#[derive(Debug, Subcommand)]
pub enum InvoiceCmd {
    /// Read an invoice (card/invoice/reimburse/getinvoiceinfo).
    Get(GetArgs),
    /// Set an invoice's reimbursement status; several invoices of one member with --openid and
    /// more CARD_ID:ENCRYPT_CODE pairs (one transaction).
    #[command(name = "set-status")]
    SetStatus(SetStatusArgs),
}

/// A reimbursement status.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    /// INVOICE_REIMBURSE_INIT: unlocked, can be submitted.
    Init,
    /// INVOICE_REIMBURSE_LOCK: in a reimbursement, cannot be submitted again.
    Lock,
    /// INVOICE_REIMBURSE_CLOSURE: reimbursed, removed from the card wallet (irreversible).
    Closure,
}

/// `wecom invoice get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The invoice's card_id.
    pub card_id: String,
    /// Its encrypt_code.
    pub encrypt_code: String,
}

/// `wecom invoice set-status`
#[derive(Debug, Args)]
pub struct SetStatusArgs {
    /// The new status.
    #[arg(value_enum)]
    pub status: Status,
    /// `CARD_ID:ENCRYPT_CODE` of each invoice (one without --openid).
    #[arg(value_name = "CARD_ID:ENCRYPT_CODE", required = true)]
    pub invoices: Vec<String>,
    /// The member's openid: update every invoice given in one batch (all must be theirs).
    #[arg(long)]
    pub openid: Option<String>,
}

fn key(s: &str) -> Result<InvoiceKey, CliError> {
    match s.split_once(':') {
        Some((c, e)) if !c.is_empty() && !e.is_empty() => Ok(InvoiceKey::new(c, e)),
        _ => Err(CliError::Usage(format!(
            "{s:?}: write an invoice as CARD_ID:ENCRYPT_CODE"
        ))),
    }
}

pub async fn run(ctx: &Ctx, cmd: InvoiceCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let api = client.invoice();
    match cmd {
        InvoiceCmd::Get(a) => {
            let inv = api.invoice_get_info(&a.card_id, &a.encrypt_code).await?;
            ctx.out.emit(&serde_json::to_value(&inv).unwrap_or_default(), || {
                let u = inv.user_info.clone().unwrap_or_default();
                let status = u
                    .reimburse_status
                    .as_ref()
                    .and_then(|s| serde_json::to_value(s).ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!(
                    "{} {}\npayee: {}\ntitle: {}\nfee: {} fen (tax {})\nstatus: {status}\npdf: {}",
                    inv.card_id.as_deref().unwrap_or("-"),
                    inv.invoice_type.as_deref().unwrap_or("-"),
                    inv.payee.as_deref().unwrap_or("-"),
                    u.title.as_deref().unwrap_or("-"),
                    u.fee.unwrap_or_default(),
                    u.tax.unwrap_or_default(),
                    u.pdf_url.as_deref().unwrap_or("-"),
                )
            })
        }
        InvoiceCmd::SetStatus(a) => {
            let status = match a.status {
                Status::Init => ReimburseStatus::Init,
                Status::Lock => ReimburseStatus::Lock,
                Status::Closure => ReimburseStatus::Closure,
            };
            let keys = a
                .invoices
                .iter()
                .map(|s| key(s))
                .collect::<Result<Vec<_>, _>>()?;
            let n = keys.len();
            match (a.openid, keys.as_slice()) {
                (Some(openid), _) => {
                    api.invoice_update_status_batch(openid, status.clone(), keys)
                        .await?;
                }
                (None, [one]) => {
                    api.invoice_update_status(&one.card_id, &one.encrypt_code, status.clone())
                        .await?;
                }
                (None, _) => {
                    return Err(CliError::Usage(
                        "several invoices are updated together: give the member's --openid".into(),
                    ));
                }
            }
            ctx.out
                .emit(&json!({"updated": n, "reimburse_status": status}), || {
                    format!("{n} invoice(s) updated")
                })
        }
    }
}
