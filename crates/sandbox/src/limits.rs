//! Rate limits as WeCom enforces them (off unless switched on) and the duplicate check of
//! `message/send`.

use std::collections::{HashMap, VecDeque};

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

/// What makes two `message/send` requests "the same message" for `enable_duplicate_check`:
/// the sending app, the recipients and the content (everything else in the body), the last two
/// as SHA-1 digests so a key is small and fixed-size however long the message is.
///
/// WeCom's page (message/send, 90236) says only that a repeat of the same message within
/// `duplicate_check_interval` is not sent again; it does not list the fields compared, so the
/// sandbox compares the whole request except the two duplicate-check fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DuplicateKey {
    agentid: u32,
    recipients: [u8; 20],
    content: [u8; 20],
}

impl DuplicateKey {
    /// The key of a message from `agentid` to `recipients` (any stable text naming them) with
    /// this `content` (any stable serialization of the rest of the request).
    pub fn new(agentid: u32, recipients: &str, content: &[u8]) -> Self {
        use sha1::{Digest, Sha1};
        Self {
            agentid,
            recipients: Sha1::digest(recipients.as_bytes()).into(),
            content: Sha1::digest(content).into(),
        }
    }

    /// A number spreading keys over shards.
    pub fn shard(&self, shards: usize) -> usize {
        usize::from(self.content[0] ^ self.recipients[0]) % shards.max(1)
    }
}

#[derive(Debug)]
struct Remembered {
    until_ms: i64,
    generation: u64,
    answer: Value,
}

/// Remembered `message/send` answers for `enable_duplicate_check`: a hash map from
/// [`DuplicateKey`] to the answer and its expiry, plus the keys in the order they were
/// remembered so expired entries are dropped from the front. Checking and remembering cost
/// O(1) amortized, whatever the number of remembered sends (the earlier version scanned every
/// remembered send on each check).
///
/// At most `capacity` sends are remembered (default
/// [`StoreLimits::duplicate_checks`](crate::store::StoreLimits::duplicate_checks)); past it the
/// oldest are forgotten before their window ends, so a repeat of those would be delivered again.
#[derive(Debug)]
pub struct DuplicateChecker {
    seen: HashMap<DuplicateKey, Remembered>,
    order: VecDeque<(i64, u64, DuplicateKey)>,
    generation: u64,
    capacity: usize,
}

impl Default for DuplicateChecker {
    fn default() -> Self {
        Self::with_capacity(crate::store::StoreLimits::default().duplicate_checks)
    }
}

/// The default window of the duplicate check, in seconds.
pub const DEFAULT_DUPLICATE_INTERVAL: u64 = 1800;
/// The longest window WeCom accepts, in seconds.
pub const MAX_DUPLICATE_INTERVAL: u64 = 14_400;

impl DuplicateChecker {
    /// A checker remembering at most `capacity` sends (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            seen: HashMap::new(),
            order: VecDeque::new(),
            generation: 0,
            capacity: capacity.max(1),
        }
    }

    /// How many sends are remembered (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// If an identical request was answered within its window, returns that answer; the caller
    /// then answers it again without delivering.
    pub fn check(&mut self, key: &DuplicateKey, now_ms: i64) -> Option<Value> {
        self.expire(now_ms);
        self.seen
            .get(key)
            .filter(|r| r.until_ms > now_ms)
            .map(|r| r.answer.clone())
    }

    /// Remembers the answer to a request for `interval_secs` (0 = the default 1800 s, capped at
    /// 14400).
    pub fn record(&mut self, key: DuplicateKey, interval_secs: u64, now_ms: i64, answer: Value) {
        let interval = if interval_secs == 0 {
            DEFAULT_DUPLICATE_INTERVAL
        } else {
            interval_secs
        };
        let interval_ms = interval.min(MAX_DUPLICATE_INTERVAL) as i64 * 1000;
        let until_ms = now_ms.saturating_add(interval_ms);
        self.generation += 1;
        let generation = self.generation;
        self.seen.insert(
            key,
            Remembered {
                until_ms,
                generation,
                answer,
            },
        );
        self.order.push_back((until_ms, generation, key));
        while self.seen.len() > self.capacity {
            if !self.pop_front() {
                break;
            }
        }
    }

    /// Drops expired entries from the front of the order. Entries behind a longer-lived one
    /// wait for it; [`DuplicateChecker::check`] ignores them once expired.
    fn expire(&mut self, now_ms: i64) {
        while self
            .order
            .front()
            .is_some_and(|(until, _, _)| *until <= now_ms)
        {
            self.pop_front();
        }
    }

    /// Forgets the oldest remembered entry (if it is still the current one for its key).
    fn pop_front(&mut self) -> bool {
        let Some((_, generation, key)) = self.order.pop_front() else {
            return false;
        };
        if self
            .seen
            .get(&key)
            .is_some_and(|r| r.generation == generation)
        {
            self.seen.remove(&key);
        }
        true
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

    fn key(n: u32) -> DuplicateKey {
        DuplicateKey::new(1, "u", n.to_string().as_bytes())
    }

    #[test]
    fn duplicate_window() {
        let mut d = DuplicateChecker::default();
        d.record(key(0), 10, 0, Value::from(1));
        assert_eq!(d.check(&key(0), 9_999), Some(Value::from(1)));
        assert_eq!(d.check(&key(0), 10_000), None);
        assert!(d.is_empty(), "expired entries are dropped");
    }

    #[test]
    fn keys_differ_by_app_recipients_and_content() {
        let k = DuplicateKey::new(1, "a", b"x");
        assert_eq!(k, DuplicateKey::new(1, "a", b"x"));
        assert_ne!(k, DuplicateKey::new(2, "a", b"x"));
        assert_ne!(k, DuplicateKey::new(1, "b", b"x"));
        assert_ne!(k, DuplicateKey::new(1, "a", b"y"));
    }

    #[test]
    fn a_long_window_in_front_does_not_hide_a_renewed_key() {
        let mut d = DuplicateChecker::default();
        d.record(key(1), 100, 0, Value::from("long"));
        d.record(key(2), 1, 0, Value::from("short"));
        assert_eq!(
            d.check(&key(2), 1_000),
            None,
            "expired although behind a longer one"
        );
        d.record(key(2), 1, 1_000, Value::from("again"));
        assert_eq!(d.check(&key(2), 1_500), Some(Value::from("again")));
        // The stale entry of the first key(2) leaves the order without removing the new one.
        assert_eq!(d.check(&key(2), 1_999), Some(Value::from("again")));
        assert_eq!(d.check(&key(1), 99_999), Some(Value::from("long")));
        assert_eq!(d.check(&key(1), 100_000), None);
        assert!(d.is_empty());
    }

    #[test]
    fn capacity_forgets_the_oldest() {
        let mut d = DuplicateChecker::with_capacity(3);
        for n in 0..5 {
            d.record(key(n), 1800, 0, Value::from(n));
        }
        assert_eq!(d.len(), 3);
        assert_eq!(d.check(&key(0), 1), None);
        assert_eq!(d.check(&key(1), 1), None);
        assert_eq!(d.check(&key(4), 1), Some(Value::from(4)));
    }

    #[test]
    fn huge_times_saturate() {
        let mut d = DuplicateChecker::default();
        d.record(key(0), 14_400, i64::MAX - 5, Value::from(0));
        assert_eq!(d.check(&key(0), i64::MAX - 1), Some(Value::from(0)));
    }
}
