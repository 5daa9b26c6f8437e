//! Customer contact (客户联系): the sandbox's customers, follow users, corp tags, contact ways,
//! customer groups (`customers.rs`), and mass sends, welcome messages, transfers, moments and
//! statistics (`outreach.rs`).

use crate::registry::Registry;

pub mod book;
mod customers;
mod outreach;

/// Registers the customer-contact handlers.
pub fn register(r: &mut Registry) {
    customers::register(r);
    outreach::register(r);
}
