//! Cross-crate integration tests: one binary, one module per area.

mod callback;
mod common_api;
mod contacts;
mod corpgroup;
mod export;
mod externalcontact;
mod externalcontact_outreach;
mod kf;
mod messages;
mod oa_approval;
mod oa_calendar;
mod oa_health;
mod oa_mail;
mod oa_meeting;
mod reliability;
mod wedrive;
