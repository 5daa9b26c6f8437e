//! Sending the welcome message from a callback handler.
//!
//! WeCom pushes `change_external_contact` / `add_external_contact` with a `WelcomeCode` when a
//! member adds a customer. The code is valid for 20 seconds after the event and usable once
//! (doc 92599: "企业仅可在收到相关事件后20秒内调用,且只可调用一次"; 41051 once the welcome message
//! was sent, 41096 while another app is sending it). [`Externalcontact::welcome`] checks the 20
//! seconds against the event's `CreateTime` with the client's clock before any request, so a
//! handler that took too long gets a clear error instead of a round trip; and it remembers, in
//! this process, the codes it already started a welcome message with, so a second use (a handler
//! run twice for one event) is refused with 41051 before any request too.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use wecom_core_auth::Error;
use wecom_core_auth::error::InvalidInput;

use crate::generated::externalcontact::{Externalcontact, SendWelcomeMsgCall, WelcomeText};

/// How long a `WelcomeCode` may be used after its event (20 s, doc 92599).
pub const WELCOME_CODE_VALIDITY: Duration = Duration::from_secs(20);

/// WeCom's errcode for an unknown or expired welcome code (无效的欢迎语code).
pub const INVALID_WELCOME_CODE: i64 = 41050;

/// WeCom's errcode once the welcome message was sent with a code (doc 92599: "只可调用一次").
pub const WELCOME_CODE_USED: i64 = 41051;

/// The most codes remembered (the oldest are forgotten first; a code older than 20 s is refused by
/// its age anyway).
const REMEMBERED_CODES: usize = 100_000;

/// Codes [`Externalcontact::welcome`] started a welcome message with in this process, with their
/// event's `CreateTime`.
static USED_CODES: Mutex<VecDeque<(String, i64)>> = Mutex::new(VecDeque::new());

/// Records `code` as used; `false` when it already was.
fn first_use(code: &str, event_create_time: i64, now: i64) -> bool {
    let mut used = USED_CODES.lock().unwrap_or_else(|e| e.into_inner());
    let horizon = WELCOME_CODE_VALIDITY.as_secs() as i64;
    used.retain(|(_, at)| now.saturating_sub(*at) <= horizon);
    if used.iter().any(|(c, _)| c == code) {
        return false;
    }
    while used.len() >= REMEMBERED_CODES {
        used.pop_front();
    }
    used.push_back((code.to_owned(), event_create_time));
    true
}

impl<'a> Externalcontact<'a> {
    /// Starts the welcome message for the `WelcomeCode` of an `add_external_contact` (or
    /// `add_half_external_contact`) event created at `event_create_time` (the event's
    /// `CreateTime`, Unix seconds), with `text`. Add attachments with
    /// [`SendWelcomeMsgCall::attachments`] and await it.
    ///
    /// An empty code, or one older than [`WELCOME_CODE_VALIDITY`] by the client's clock, is an
    /// error before any request (errcode 41049 / 41050, as WeCom would answer); so is a code this
    /// process already started a welcome message with (41051: usable once). When that first send
    /// failed and should be tried again, call `send_welcome_msg` directly.
    ///
    /// ```no_run
    /// use wecom_externalcontact::*;
    /// # async fn demo(client: &wecom_core_auth::Client, code: &str, created: i64) -> Result<(), wecom_core_auth::Error> {
    /// // inside the callback handler, for ExternalContactChange::AddExternalContact(added):
    /// client.externalcontact().welcome(code, created, "Welcome! I'm your account manager.")?.await?;
    /// # Ok(()) }
    /// ```
    pub fn welcome(
        &self,
        welcome_code: &str,
        event_create_time: i64,
        text: impl Into<String>,
    ) -> Result<SendWelcomeMsgCall<'a>, Error> {
        if welcome_code.is_empty() {
            return Err(InvalidInput::new(
                "welcome_code",
                "is empty: the add_external_contact event carried no WelcomeCode (the member has a welcome message configured in the admin console, or already chatted with the customer)",
            )
            .with_errcode(Some(41049))
            .in_context("send_welcome_msg")
            .into());
        }
        let now = self
            .client()
            .clock()
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let age = now.saturating_sub(event_create_time);
        if age > WELCOME_CODE_VALIDITY.as_secs() as i64 {
            return Err(InvalidInput::new(
                "welcome_code",
                format!(
                    "expired: the event is {age} s old and a WelcomeCode is valid for {} s after it (send the welcome message from the callback handler, before slow work)",
                    WELCOME_CODE_VALIDITY.as_secs()
                ),
            )
            .with_errcode(Some(INVALID_WELCOME_CODE))
            .in_context("send_welcome_msg")
            .into());
        }
        if !first_use(welcome_code, event_create_time, now) {
            return Err(InvalidInput::new(
                "welcome_code",
                "was already used: this process started a welcome message with it, and a WelcomeCode is usable once (a handler run twice for one event?)",
            )
            .with_errcode(Some(WELCOME_CODE_USED))
            .in_context("send_welcome_msg")
            .into());
        }
        Ok(self
            .send_welcome_msg(welcome_code)
            .text(WelcomeText::new().content(text.into())))
    }
}
