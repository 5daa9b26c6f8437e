//! Office automation: approvals, check-in and journals (`approval.rs`), calendars, schedules,
//! meeting rooms, live streams and corp-paid calls (`calendar.rs`), check-in rules made through
//! 管理打卡规则 and journal file downloads (`rules.rs`); Part 3: meetings (`meeting.rs`), health
//! reports (`health.rs`) and app mail (`mail.rs`).

use crate::registry::Registry;

mod approval;
pub mod calendar;
pub mod health;
pub mod mail;
pub mod meeting;
mod rules;

pub(crate) use approval::page_section as approval_page_section;
/// The admin routes of office automation: approvals and check-in (`approval.rs`), members'
/// meeting-room actions (`calendar/meetingroom.rs`).
pub(crate) fn approval_routes() -> axum::Router<crate::app::App> {
    approval::routes().merge(calendar::meetingroom_routes())
}
pub(crate) use mail::routes as mail_routes;

/// Registers the office-automation handlers.
pub fn register(r: &mut Registry) {
    approval::register(r);
    rules::register(r);
    calendar::register(r);
    meeting::register(r);
    health::register(r);
    mail::register(r);
}
