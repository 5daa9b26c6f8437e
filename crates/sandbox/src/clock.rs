//! The sandbox's clock: real time plus an offset the admin API can move forward, so token expiry,
//! code lifetimes and rate-limit windows can be tested without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Sandbox time in milliseconds since the Unix epoch: the system clock plus an offset, or a
/// frozen instant (for fully deterministic tests).
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_ms: AtomicI64,
    /// 0 = not frozen, else the frozen time in ms.
    frozen_ms: AtomicI64,
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl SandboxClock {
    /// A clock that follows the system time.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock stopped at `unix_ms`; it moves only through [`SandboxClock::advance`].
    pub fn frozen_at(unix_ms: i64) -> Self {
        Self {
            offset_ms: AtomicI64::new(0),
            frozen_ms: AtomicI64::new(unix_ms.max(1)),
        }
    }

    /// Now, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        let frozen = self.frozen_ms.load(Ordering::Relaxed);
        let base = if frozen != 0 { frozen } else { system_ms() };
        base.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Now, in seconds since the epoch.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves time forward by `secs` seconds (negative values are ignored: time never goes back).
    /// Huge values saturate: the clock stops at the largest representable instant instead of
    /// wrapping around.
    pub fn advance(&self, secs: i64) {
        if secs > 0 {
            let step = secs.saturating_mul(1000);
            // The closure always returns Some, so the update cannot fail.
            let _ = self
                .offset_ms
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                    Some(o.saturating_add(step))
                });
        }
    }

    /// How far the clock has been moved forward, in seconds.
    pub fn offset_secs(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed) / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_forward_only() {
        let c = SandboxClock::frozen_at(1_000_000);
        assert_eq!(c.now_secs(), 1000);
        c.advance(7200);
        assert_eq!(c.now_secs(), 8200);
        c.advance(-50);
        assert_eq!(c.now_secs(), 8200);
    }

    #[test]
    fn huge_advances_saturate() {
        let c = SandboxClock::frozen_at(1_000_000);
        c.advance(i64::MAX);
        c.advance(i64::MAX);
        assert_eq!(c.now_ms(), i64::MAX);
        assert_eq!(c.now_secs(), i64::MAX / 1000);
        assert!(c.offset_secs() > 0);
        let live = SandboxClock::new();
        live.advance(i64::MAX / 1000 - 5);
        live.advance(i64::MAX / 1000 - 5);
        assert_eq!(live.now_ms(), i64::MAX);
    }
}
