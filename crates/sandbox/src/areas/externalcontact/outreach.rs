//! Mass sends, welcome messages, group welcome templates, transfers, moments, statistics,
//! intercept rules, 获客助手, product albums.
//!
//! Mass sends (企业群发, `mass.rs`): `add_msg_template` stores a task per member, with the
//! customers (or customer groups) each member will send it to; nothing is sent until the member
//! confirms it, which the sandbox's admin API does ([`confirm_mass_send`], `POST
//! /sandbox/externalcontact/groupmsg/{msgid}/confirm`); `get_groupmsg_task` and
//! `get_groupmsg_send_result` then read the results back. Transfers (在职/离职继承,
//! `transfer.rs`) follow WeCom's rules as their pages state them: a started transfer waits 24
//! hours on the sandbox clock, then moves the customer through `CustomerBook::move_follow`; a
//! customer of a member in office is transferred at most twice in 90 days (40128). Moments
//! (`moments.rs`) are published by their senders through the admin API ([`publish_moment`],
//! `POST /sandbox/externalcontact/moments/{moment_id}/publish`). Group welcome templates are
//! declared sandbox resources (`[endpoint.resource]` in the spec): no handler here. 获客助手
//! (`acquisition.rs`): links owned by the app that created them, a customer opening a link through
//! the admin API ([`Admin::open_acquisition_link`](crate::Admin::open_acquisition_link)) becomes a
//! member's customer and uses the granted balance. Customer groups of members who left or stay
//! change owner in `groups.rs`; strategy ranges are read from the declared resources in
//! `strategy.rs`.

use crate::corp::Actor;
use crate::error::ApiError;
use crate::paging::page;
use crate::registry::{Ctx, Registry};

pub mod acquisition;
pub(crate) mod admin;
mod groups;
mod mass;
mod moments;
mod strategy;
mod subscribe;
mod transfer;

pub use mass::{confirm_mass_send, mass_send_recipients};
pub use moments::{interact_moment, publish_moment};
pub use transfer::{refuse_transfer, refuse_transfer_and_notify};

/// Registers the handlers of this part.
pub fn register(r: &mut Registry) {
    acquisition::register(r);
    groups::register(r);
    mass::register(r);
    moments::register(r);
    strategy::register(r);
    subscribe::register(r);
    transfer::register(r);
}

/// The caller's directory actor: `None` for the 客户联系 secret's own token (it sees every
/// member), the app for an app's token (it sees only members in its visible scope: WeCom's
/// follow-user rule, "接替成员必须在此...自建应用的可见范围内").
fn actor(ctx: &Ctx) -> Option<Actor> {
    ctx.caller().actor()
}

/// 60111 for an unknown member; 60011 for a member outside the calling app's visible scope.
fn check_member(ctx: &Ctx, userid: &str) -> Result<(), ApiError> {
    let corp = ctx.state().corp();
    match actor(ctx) {
        Some(a) => corp.check_user_visible(a, userid).map(|_| ()),
        None => corp.member(userid).map(|_| ()),
    }
    .map_err(ApiError::from)
}
