//! Office automation: approvals, check-in and journals (`approval.rs`), calendars, schedules,
//! meeting rooms, live streams and corp-paid calls (`calendar.rs`), check-in rules made through
//! 管理打卡规则 and journal file downloads (`rules.rs`).

use crate::registry::Registry;

mod approval;
pub mod calendar;
mod rules;

pub(crate) use approval::page_section as approval_page_section;
pub(crate) use approval::routes as approval_routes;

/// Registers the office-automation handlers.
pub fn register(r: &mut Registry) {
    approval::register(r);
    rules::register(r);
    calendar::register(r);
}
