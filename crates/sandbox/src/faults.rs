//! Fault injection: make an endpoint fail with an errcode, an HTTP status, a delay or a dropped
//! connection, always, with a probability, or for the next N calls.
//!
//! A fault fires either *before* the call is handled (the default: WeCom refused or never saw
//! the call, nothing happened) or *after* it ([`FaultWhen::After`]): the call was handled in
//! full (the message delivered, the member created) and only the answer is lost: the
//! connection drops, the answer comes later than the client waits, or a 5xx or an errcode
//! replaces it. The second kind is the one that tells whether a client's retries can do the
//! work twice.

use rand::Rng;
use serde::{Deserialize, Serialize};
use wecom_core_auth::ErrorCode;

/// What an injected fault does to a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer `{"errcode": N, "errmsg": ...}` (HTTP 200) instead of handling the call.
    /// `errmsg` defaults to WeCom's wording for well-known codes (-1 system busy, 45009, 60020 ...).
    Errcode {
        /// The errcode.
        errcode: i64,
        /// The message; `None` for WeCom's usual text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        errmsg: Option<String>,
    },
    /// Answer with this HTTP status (5xx usually) and a short text body.
    Http {
        /// The status code.
        status: u16,
    },
    /// Wait this long before handling the call normally.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Close the connection without answering.
    Drop,
}

/// When a fault fires relative to the handling of the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultWhen {
    /// Before the call is handled: nothing happens in the sandbox (the default).
    #[default]
    Before,
    /// After the call is handled: the work is done, the answer is lost (dropped connection),
    /// late (delay) or replaced (HTTP status, errcode).
    After,
}

impl FaultWhen {
    fn is_before(&self) -> bool {
        *self == FaultWhen::Before
    }
}

/// One injected fault.
///
/// JSON form (admin API): `{"endpoint": "message_send", "kind": "drop", "when": "after",
/// "probability": 0.1, "times": 3}`; `when` is `before` (default) or `after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// The endpoint: its spec name (`user_get`), its path (`user/get`), or `*` for all.
    pub endpoint: String,
    /// What happens.
    #[serde(flatten)]
    pub action: FaultAction,
    /// Chance that a call is hit (0..=1); `None` = every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Fire for this many calls and then disappear; `None` = until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Before (default) or after the call is handled.
    #[serde(default, skip_serializing_if = "FaultWhen::is_before")]
    pub when: FaultWhen,
}

impl Fault {
    /// A fault on `endpoint` (name, path or `*`) firing on every call until cleared.
    pub fn new(endpoint: impl Into<String>, action: FaultAction) -> Self {
        Self {
            endpoint: endpoint.into(),
            action,
            probability: None,
            times: None,
            when: FaultWhen::Before,
        }
    }

    /// `errcode` on every call of `endpoint`.
    pub fn errcode(endpoint: impl Into<String>, errcode: i64) -> Self {
        Self::new(
            endpoint,
            FaultAction::Errcode {
                errcode,
                errmsg: None,
            },
        )
    }

    /// HTTP `status` on every call of `endpoint`.
    pub fn http(endpoint: impl Into<String>, status: u16) -> Self {
        Self::new(endpoint, FaultAction::Http { status })
    }

    /// A delay on every call of `endpoint`.
    pub fn delay(endpoint: impl Into<String>, ms: u64) -> Self {
        Self::new(endpoint, FaultAction::Delay { ms })
    }

    /// A dropped connection on every call of `endpoint`.
    pub fn drop_connection(endpoint: impl Into<String>) -> Self {
        Self::new(endpoint, FaultAction::Drop)
    }

    /// Only for the next `n` calls.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Fires after the call was handled: the work is done and the answer is lost (drop), late
    /// (delay) or replaced (HTTP status, errcode).
    ///
    /// ```
    /// use wecom_sandbox::Fault;
    /// // message/send delivers, then the connection drops: the client cannot know it worked.
    /// let lost = Fault::drop_connection("message_send").after_handling().times(1);
    /// # let _ = lost;
    /// ```
    pub fn after_handling(mut self) -> Self {
        self.when = FaultWhen::After;
        self
    }

    /// Only with probability `p` (clamped to 0..=1).
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) });
        self
    }

    fn matches(&self, name: &str, path: &str) -> bool {
        self.endpoint == "*"
            || self.endpoint == name
            || self.endpoint.trim_start_matches('/') == path
    }
}

/// WeCom's usual errmsg for codes commonly injected.
pub fn default_errmsg(errcode: i64) -> &'static str {
    match ErrorCode::new(errcode) {
        ErrorCode::SYSTEM_BUSY => "system busy",
        ErrorCode::DATA_VERSION_CONFLICT => "data version conflict",
        ErrorCode::API_FREQUENCY_LIMIT => "api freq out of limit",
        ErrorCode::API_CONCURRENCY_LIMIT => "api concurrent out of limit",
        ErrorCode::IP_NOT_TRUSTED => "not allow to access from your ip",
        ErrorCode::API_FORBIDDEN => "api forbidden",
        ErrorCode::INVALID_ACCESS_TOKEN => "invalid access_token",
        ErrorCode::ACCESS_TOKEN_EXPIRED => "access_token expired",
        _ => "injected fault",
    }
}

/// The faults in force.
#[derive(Debug, Default)]
pub struct Faults {
    list: Vec<Fault>,
}

/// What the faults decide for one call.
#[derive(Debug, Default, PartialEq)]
pub struct FaultDecision {
    /// Total delay to apply first, in ms.
    pub delay_ms: u64,
    /// The failure to answer with instead of handling the call, if any.
    pub fail: Option<FaultAction>,
    /// Total delay between handling the call and answering, in ms.
    pub after_delay_ms: u64,
    /// What replaces the answer after the call was handled, if anything.
    pub after_fail: Option<FaultAction>,
}

impl Faults {
    /// Adds a fault.
    pub fn add(&mut self, fault: Fault) {
        self.list.push(fault);
    }

    /// Removes every fault (or only those of `endpoint`); returns how many were removed.
    pub fn clear(&mut self, endpoint: Option<&str>) -> usize {
        let before = self.list.len();
        match endpoint {
            None => self.list.clear(),
            Some(e) => self.list.retain(|f| f.endpoint != e),
        }
        before - self.list.len()
    }

    /// The faults in force.
    pub fn list(&self) -> &[Fault] {
        &self.list
    }

    /// Decides for one call of `name` (`path`): every matching delay adds up, the first matching
    /// failure fires. Faults limited to N calls count down and disappear.
    pub fn decide(&mut self, name: &str, path: &str) -> FaultDecision {
        if self.list.is_empty() {
            return FaultDecision::default();
        }
        let mut rng = rand::rng();
        let mut decision = FaultDecision::default();
        for f in &mut self.list {
            if !f.matches(name, path) || f.times == Some(0) {
                continue;
            }
            let is_delay = matches!(f.action, FaultAction::Delay { .. });
            let slot_taken = match f.when {
                FaultWhen::Before => decision.fail.is_some(),
                FaultWhen::After => decision.after_fail.is_some(),
            };
            if !is_delay && slot_taken {
                continue;
            }
            if let Some(p) = f.probability
                && !rng.random_bool(p.clamp(0.0, 1.0))
            {
                continue;
            }
            if let Some(n) = f.times.as_mut() {
                *n -= 1;
            }
            let (delay, fail) = match f.when {
                FaultWhen::Before => (&mut decision.delay_ms, &mut decision.fail),
                FaultWhen::After => (&mut decision.after_delay_ms, &mut decision.after_fail),
            };
            match &f.action {
                FaultAction::Delay { ms } => *delay = delay.saturating_add(*ms),
                other => *fail = Some(other.clone()),
            }
        }
        self.list.retain(|f| f.times != Some(0));
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_calls_then_gone() {
        let mut f = Faults::default();
        f.add(Fault::errcode("user/get", -1).times(2));
        assert!(f.decide("user_get", "user/get").fail.is_some());
        assert!(f.decide("gettoken", "gettoken").fail.is_none());
        assert!(f.decide("x", "user/get").fail.is_some());
        assert!(f.decide("user_get", "user/get").fail.is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn delays_add_and_probability_zero_never_fires() {
        let mut f = Faults::default();
        f.add(Fault::delay("*", 5));
        f.add(Fault::delay("gettoken", 7));
        f.add(Fault::http("gettoken", 503).probability(0.0));
        let d = f.decide("gettoken", "gettoken");
        assert_eq!(d.delay_ms, 12);
        assert_eq!(d.fail, None);
    }

    #[test]
    fn after_faults_are_decided_apart() {
        let mut f = Faults::default();
        f.add(
            Fault::drop_connection("message_send")
                .after_handling()
                .times(1),
        );
        f.add(Fault::delay("message_send", 9).after_handling());
        f.add(Fault::http("message_send", 503).after_handling());
        let d = f.decide("message_send", "message/send");
        assert_eq!(d.fail, None, "nothing stops the call from being handled");
        assert_eq!(d.delay_ms, 0);
        assert_eq!(d.after_delay_ms, 9);
        assert_eq!(d.after_fail, Some(FaultAction::Drop), "the first one wins");
        let d = f.decide("message_send", "message/send");
        assert_eq!(d.after_fail, Some(FaultAction::Http { status: 503 }));
    }

    #[test]
    fn json_form_after() {
        let f: Fault = serde_json::from_str(
            r#"{"endpoint":"message_send","kind":"drop","when":"after","times":1}"#,
        )
        .expect("valid fault JSON");
        assert_eq!(
            f,
            Fault::drop_connection("message_send")
                .after_handling()
                .times(1)
        );
        let back = serde_json::to_value(&f).expect("serializes");
        assert_eq!(back["when"], "after");
        assert!(
            serde_json::from_str::<Fault>(r#"{"endpoint":"x","kind":"drop","when":"later"}"#)
                .is_err()
        );
    }

    #[test]
    fn json_form() {
        let f: Fault = serde_json::from_str(
            r#"{"endpoint":"message_send","kind":"errcode","errcode":45009,"times":1}"#,
        )
        .expect("valid fault JSON");
        assert_eq!(f, Fault::errcode("message_send", 45009).times(1));
    }
}
