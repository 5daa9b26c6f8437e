//! The sandbox's 微信客服 desk: accounts, servicers, sessions and their states, the message log
//! `sync_msg` pages through, callback tokens, event codes. Kept as area state in
//! [`State::extension`](crate::state::State::extension); every rule cites its page.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use serde_json::{Value, json};
use wecom_kf::KfServiceState;

use crate::error::ApiError;
use crate::state::{State, lock};

/// At most this many accounts per corp (page 94662: "目前一家企业最多可添加5000个客服账号"; 95005).
pub const MAX_ACCOUNTS: usize = 5000;
/// The callback token's life (page 94670: "10分钟内有效").
pub const TOKEN_TTL_SECS: i64 = 600;
/// `sync_msg` returns the last 3 days (page 94670: "最近3天内").
pub const RETENTION_SECS: i64 = 3 * 86_400;
/// send_msg window after the customer's message (page 94677 as quoted by its copies: 48 hours).
pub const SEND_WINDOW_SECS: i64 = 48 * 3600;
/// Messages the account may send per customer message (same page: 5).
pub const SEND_QUOTA: u32 = 5;
/// An event code (welcome_code, msg_code) is valid 20 seconds, once (page 95122 as peers quote it).
pub const CODE_TTL_SECS: i64 = 20;
/// The most messages kept in the log (bounded memory under a runaway test).
pub const MAX_LOG: usize = 100_000;

/// One account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its id.
    pub open_kfid: String,
    /// Its name.
    pub name: String,
    /// Its avatar's media_id.
    pub media_id: String,
    /// The app that created it (receives its kf_msg_or_event callbacks), when an app did.
    pub manager: Option<u32>,
    /// Servicers: userid -> status (0 receiving, 1 stopped).
    pub servicers: BTreeMap<String, u32>,
    /// Servicer departments.
    pub departments: BTreeSet<u32>,
}

/// A customer's session with an account.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its state.
    pub state: KfServiceState,
    /// The servicer, in state 3.
    pub servicer: Option<String>,
    /// When the customer last wrote (the send window starts there).
    pub last_customer_msg: i64,
    /// Messages sent with send_msg since then.
    pub sent: u32,
}

/// A single-use event code.
#[derive(Debug, Clone)]
pub struct Code {
    /// The account.
    pub open_kfid: String,
    /// The customer.
    pub external_userid: String,
    /// When it was issued.
    pub issued: i64,
}

/// One logged message: what sync_msg returns.
#[derive(Debug, Clone)]
pub struct Logged {
    /// The account.
    pub open_kfid: String,
    /// When it was sent.
    pub send_time: i64,
    /// The message as sync_msg answers it.
    pub json: Value,
}

/// The desk's state.
#[derive(Debug, Default)]
pub struct Desk {
    /// Accounts by id.
    pub accounts: BTreeMap<String, Account>,
    /// Sessions by (open_kfid, external_userid).
    pub sessions: HashMap<(String, String), Session>,
    /// The message log (customers' messages and events), in order; index = cursor position.
    pub log: Vec<Logged>,
    /// Messages the API sent (not returned by sync_msg), for the admin API.
    pub sent: Vec<Value>,
    /// Callback tokens: token -> when issued.
    pub tokens: HashMap<String, i64>,
    /// Unused event codes.
    pub codes: HashMap<String, Code>,
    /// Customers: external_userid -> (nickname, last activity).
    pub customers: BTreeMap<String, (String, i64)>,
    /// 「升级服务」 config: members and group chats.
    pub upgrade_members: Vec<String>,
    /// 「升级服务」 config: group chats.
    pub upgrade_chats: Vec<String>,
    /// Recommendations made: (open_kfid, external_userid) -> body.
    pub upgrades: HashMap<(String, String), Value>,
    seq: u64,
}

/// The desk of one sandbox.
#[derive(Debug, Default)]
pub struct KfDesk {
    desk: Mutex<Desk>,
}

impl KfDesk {
    /// The desk of this sandbox.
    pub fn of(state: &State) -> std::sync::Arc<KfDesk> {
        state.extension::<KfDesk>()
    }

    /// Runs `f` on the desk, locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut Desk) -> R) -> R {
        f(&mut lock(&self.desk))
    }
}

impl Desk {
    /// A fresh id with a prefix (`wk` accounts, `msg` messages, `ENC` tokens ...).
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        let r: u32 = rand::random();
        format!("{prefix}{:08x}{:06}", r, self.seq)
    }

    /// The account, or 95004 (open_kfid不存在).
    pub fn account(&self, open_kfid: &str) -> Result<&Account, ApiError> {
        self.accounts
            .get(open_kfid)
            .ok_or_else(|| ApiError::new(95004_i64, format!("open_kfid not exist: {open_kfid}")))
    }

    /// The account, mutable, or 95004.
    pub fn account_mut(&mut self, open_kfid: &str) -> Result<&mut Account, ApiError> {
        self.accounts
            .get_mut(open_kfid)
            .ok_or_else(|| ApiError::new(95004_i64, format!("open_kfid not exist: {open_kfid}")))
    }

    /// The session's state (4 when there is none: "已结束/未开始").
    pub fn state_of(
        &self,
        open_kfid: &str,
        external_userid: &str,
    ) -> (KfServiceState, Option<String>) {
        self.sessions
            .get(&(open_kfid.to_owned(), external_userid.to_owned()))
            .map_or((KfServiceState::Ended, None), |s| {
                (s.state, s.servicer.clone())
            })
    }

    /// Appends a message to the log (oldest dropped past [`MAX_LOG`]).
    pub fn log(&mut self, open_kfid: &str, send_time: i64, json: Value) {
        if self.log.len() >= MAX_LOG {
            self.log.remove(0);
        }
        self.log.push(Logged {
            open_kfid: open_kfid.to_owned(),
            send_time,
            json,
        });
    }

    /// A new callback token, valid [`TOKEN_TTL_SECS`].
    pub fn new_token(&mut self, now: i64) -> String {
        let t = self.next_id("ENC");
        self.tokens
            .retain(|_, issued| now - *issued <= TOKEN_TTL_SECS);
        self.tokens.insert(t.clone(), now);
        t
    }

    /// A new single-use event code.
    pub fn new_code(&mut self, open_kfid: &str, external_userid: &str, now: i64) -> String {
        let c = self.next_id("CODE");
        self.codes.retain(|_, c| now - c.issued <= CODE_TTL_SECS);
        self.codes.insert(
            c.clone(),
            Code {
                open_kfid: open_kfid.to_owned(),
                external_userid: external_userid.to_owned(),
                issued: now,
            },
        );
        c
    }

    /// The customer writes `content`: the session opens (4 -> 0, page 94669: "客户发消息咨询后会话状态变为
    /// 未处理"), the send window and quota restart, the message is logged. Returns its msgid.
    pub fn customer_writes(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        nickname: &str,
        content: &str,
        now: i64,
    ) -> Result<String, ApiError> {
        self.account(open_kfid)?;
        let session = self
            .sessions
            .entry((open_kfid.to_owned(), external_userid.to_owned()))
            .or_insert(Session {
                state: KfServiceState::Ended,
                servicer: None,
                last_customer_msg: now,
                sent: 0,
            });
        if session.state == KfServiceState::Ended {
            session.state = KfServiceState::New;
            session.servicer = None;
        }
        session.last_customer_msg = now;
        session.sent = 0;
        self.customers
            .insert(external_userid.to_owned(), (nickname.to_owned(), now));
        let msgid = self.next_id("msg");
        self.log(
            open_kfid,
            now,
            json!({
                "msgid": msgid, "open_kfid": open_kfid, "external_userid": external_userid,
                "send_time": now, "origin": 3, "msgtype": "text", "text": {"content": content},
            }),
        );
        Ok(msgid)
    }

    /// The customer enters the session (taps the account's link): an enter_session event with a
    /// welcome_code is logged. Returns the code.
    pub fn customer_enters(
        &mut self,
        open_kfid: &str,
        external_userid: &str,
        nickname: &str,
        scene: &str,
        now: i64,
    ) -> Result<String, ApiError> {
        self.account(open_kfid)?;
        self.customers
            .insert(external_userid.to_owned(), (nickname.to_owned(), now));
        let code = self.new_code(open_kfid, external_userid, now);
        let msgid = self.next_id("msg");
        self.log(
            open_kfid,
            now,
            json!({
                "msgid": msgid, "open_kfid": open_kfid, "send_time": now, "origin": 4,
                "msgtype": "event",
                "event": {"event_type": "enter_session", "open_kfid": open_kfid,
                          "external_userid": external_userid, "scene": scene, "welcome_code": code},
            }),
        );
        Ok(code)
    }
}

/// Whether the API may move a session from `from` to `to` (page 94669's table: 0 may go to the
/// assistant, the queue or a servicer; 1 to the queue or a servicer; 2 to a servicer; 3 to another
/// servicer or end; 4 "不允许通过API变更会话状态").
pub fn may_move(from: KfServiceState, to: KfServiceState) -> bool {
    use KfServiceState::{Assistant, Ended, New, Queued, Servicer};
    matches!(
        (from, to),
        (New, Assistant | Queued | Servicer)
            | (Assistant, Queued | Servicer)
            | (Queued, Servicer)
            | (Servicer, Servicer | Ended)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use KfServiceState::*;

    #[test]
    fn the_page_table_of_moves() {
        for (from, to, ok) in [
            (New, Assistant, true),
            (New, Queued, true),
            (New, Servicer, true),
            (Assistant, Queued, true),
            (Assistant, Servicer, true),
            (Queued, Servicer, true),
            (Servicer, Servicer, true),
            (Servicer, Ended, true),
            (Ended, New, false),
            (Ended, Servicer, false),
            (Queued, Assistant, false),
            (Assistant, New, false),
            (New, New, false),
        ] {
            assert_eq!(may_move(from, to), ok, "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn a_customer_message_reopens_an_ended_session_and_restarts_the_quota() {
        let mut d = Desk::default();
        d.accounts.insert(
            "wk1".into(),
            Account {
                open_kfid: "wk1".into(),
                name: "n".into(),
                media_id: "m".into(),
                manager: None,
                servicers: BTreeMap::new(),
                departments: BTreeSet::new(),
            },
        );
        d.customer_writes("wk1", "wmA", "A", "hi", 100).unwrap();
        assert_eq!(d.state_of("wk1", "wmA").0, New);
        let s = d.sessions.get_mut(&("wk1".into(), "wmA".into())).unwrap();
        s.state = Ended;
        s.sent = 5;
        d.customer_writes("wk1", "wmA", "A", "again", 200).unwrap();
        let s = &d.sessions[&("wk1".into(), "wmA".into())];
        assert_eq!((s.state, s.sent, s.last_customer_msg), (New, 0, 200));
        assert_eq!(d.log.len(), 2);
        assert!(d.customer_writes("wkX", "wmA", "A", "x", 1).is_err());
    }
}
