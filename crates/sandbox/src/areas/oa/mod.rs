//! Office automation: approvals, check-in and journals (`approval.rs`), calendars, schedules,
//! meeting rooms, live streams and corp-paid calls (`calendar.rs`).

use crate::registry::Registry;

mod approval;
mod calendar;

/// Registers the office-automation handlers.
pub fn register(r: &mut Registry) {
    approval::register(r);
    calendar::register(r);
}
