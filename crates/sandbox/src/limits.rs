//! Rate limits as WeCom enforces them (off unless switched on) and the duplicate check of
//! `message/send`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Limits in force when `enabled`. Defaults are WeCom's published numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Whether limits are enforced at all (off by default so tests are not surprised).
    pub enabled: bool,
    /// Calls of one API per corp per minute (past it: 45009 until the minute ends).
    pub per_api_per_minute: u32,
    /// Calls of one API per corp per hour.
    pub per_api_per_hour: u32,
    /// Messages one app may deliver to one member per minute; the excess is dropped silently.
    pub per_member_per_minute: u32,
    /// Messages one app may deliver to one member per hour.
    pub per_member_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: false,
            per_api_per_minute: 10_000,
            per_api_per_hour: 150_000,
            per_member_per_minute: 30,
            per_member_per_hour: 1_000,
        }
    }
}

/// Fixed minute and hour windows for one key.
#[derive(Debug, Default, Clone, Copy)]
struct Windows {
    minute: i64,
    minute_count: u32,
    hour: i64,
    hour_count: u32,
}

impl Windows {
    /// Counts one event at `now_secs` and says whether it fits both limits.
    fn admit(&mut self, now_secs: i64, per_minute: u32, per_hour: u32) -> bool {
        let m = now_secs.div_euclid(60);
        let h = now_secs.div_euclid(3600);
        if m != self.minute {
            self.minute = m;
            self.minute_count = 0;
        }
        if h != self.hour {
            self.hour = h;
            self.hour_count = 0;
        }
        if self.minute_count >= per_minute || self.hour_count >= per_hour {
            return false;
        }
        self.minute_count += 1;
        self.hour_count += 1;
        true
    }
}

/// Counters behind the rate limits.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limits: RateLimits,
    apis: HashMap<String, Windows>,
    members: HashMap<(u32, String), Windows>,
}

impl RateLimiter {
    /// The limits in force.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Replaces the limits (counters are kept).
    pub fn set_limits(&mut self, limits: RateLimits) {
        self.limits = limits;
    }

    /// Counts one call of an API; false when it is past the per-API limits (answer 45009).
    pub fn admit_api(&mut self, name: &str, now_secs: i64) -> bool {
        if !self.limits.enabled {
            return true;
        }
        let (pm, ph) = (self.limits.per_api_per_minute, self.limits.per_api_per_hour);
        match self.apis.get_mut(name) {
            Some(w) => w.admit(now_secs, pm, ph),
            None => {
                let mut w = Windows::default();
                let ok = w.admit(now_secs, pm, ph);
                self.apis.insert(name.to_owned(), w);
                ok
            }
        }
    }

    /// Counts one message from app `agentid` to `userid`; false when it must be dropped silently.
    pub fn admit_message(&mut self, agentid: u32, userid: &str, now_secs: i64) -> bool {
        if !self.limits.enabled {
            return true;
        }
        let (pm, ph) = (
            self.limits.per_member_per_minute,
            self.limits.per_member_per_hour,
        );
        self.members
            .entry((agentid, userid.to_ascii_lowercase()))
            .or_default()
            .admit(now_secs, pm, ph)
    }
}

/// Remembered requests for `enable_duplicate_check`.
#[derive(Debug, Default)]
pub struct DuplicateChecker {
    seen: HashMap<String, (i64, Value)>,
}

/// The default window of the duplicate check, in seconds.
pub const DEFAULT_DUPLICATE_INTERVAL: u64 = 1800;
/// The longest window WeCom accepts, in seconds.
pub const MAX_DUPLICATE_INTERVAL: u64 = 14_400;

impl DuplicateChecker {
    /// If an identical request (`key`, e.g. the canonical JSON body) was answered within the
    /// window, returns that answer; the caller then answers it again without delivering.
    pub fn check(&mut self, key: &str, now_ms: i64) -> Option<Value> {
        self.seen.retain(|_, (until, _)| *until > now_ms);
        self.seen.get(key).map(|(_, v)| v.clone())
    }

    /// Remembers the answer to a request for `interval_secs` (0 = the default 1800 s, capped at 14400).
    pub fn record(&mut self, key: &str, interval_secs: u64, now_ms: i64, answer: Value) {
        let interval = if interval_secs == 0 {
            DEFAULT_DUPLICATE_INTERVAL
        } else {
            interval_secs
        };
        let interval = interval.min(MAX_DUPLICATE_INTERVAL) as i64;
        self.seen
            .insert(key.to_owned(), (now_ms + interval * 1000, answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_limit_per_minute() {
        let mut r = RateLimiter::default();
        r.set_limits(RateLimits {
            enabled: true,
            ..RateLimits::default()
        });
        let ok = (0..40).filter(|_| r.admit_message(1, "a", 120)).count();
        assert_eq!(ok, 30);
        assert!(r.admit_message(1, "b", 120));
        assert!(r.admit_message(2, "a", 120));
        assert!(
            r.admit_message(1, "A", 180),
            "a new minute opens the window again"
        );
    }

    #[test]
    fn api_limit_and_disabled() {
        let mut r = RateLimiter::default();
        assert!((0..20_000).all(|_| r.admit_api("x", 0)));
        r.set_limits(RateLimits {
            enabled: true,
            per_api_per_minute: 3,
            ..RateLimits::default()
        });
        assert_eq!((0..5).filter(|_| r.admit_api("x", 0)).count(), 3);
    }

    #[test]
    fn duplicate_window() {
        let mut d = DuplicateChecker::default();
        d.record("k", 10, 0, Value::from(1));
        assert_eq!(d.check("k", 9_999), Some(Value::from(1)));
        assert_eq!(d.check("k", 10_000), None);
    }
}
