//! Office automation: approvals, check-in and journals (`approval.rs`), calendars, schedules,
//! meeting rooms, live streams and corp-paid calls (`calendar.rs`); Part 3: meetings
//! (`meeting.rs`), health reports (`health.rs`) and app mail (`mail.rs`).

use crate::registry::Registry;

mod approval;
pub mod calendar;
pub mod health;
pub mod mail;
pub mod meeting;

pub(crate) use approval::routes as approval_routes;
pub(crate) use mail::routes as mail_routes;

/// Registers the office-automation handlers.
pub fn register(r: &mut Registry) {
    approval::register(r);
    calendar::register(r);
    meeting::register(r);
    health::register(r);
    mail::register(r);
}
