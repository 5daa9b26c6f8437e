//! # wecom-invoice
//!
//! 电子发票 (electronic invoices for reimbursement) for WeCom self-built apps. A member picks
//! invoices from the WeChat card wallet with the JS-SDK's `chooseInvoice`, which hands back a
//! `card_id` and an `encrypt_code` per invoice; with them the app reads the invoice and moves it
//! through reimbursement: [`ReimburseStatus::Lock`] while it is being reimbursed,
//! [`ReimburseStatus::Init`] to release it, [`ReimburseStatus::Closure`] once reimbursed
//! (irreversible: the invoice leaves the member's card wallet).
//!
//! The endpoints are generated from `spec/invoice.toml` ([`generated::invoice`], re-exported here)
//! and reachable as `client.invoice()`.
//!
//! ```no_run
//! use wecom_invoice::*;
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
//! let invoice = client.invoice().invoice_get_info("CARDID", "ENCRYPTCODE").await?;
//! println!("{:?} {:?}", invoice.payee, invoice.user_info.as_ref().and_then(|u| u.fee));
//! client
//!     .invoice()
//!     .invoice_update_status("CARDID", "ENCRYPTCODE", ReimburseStatus::Lock)
//!     .await?;
//! # Ok(()) }
//! ```

pub mod generated;

pub use generated::invoice::*;
