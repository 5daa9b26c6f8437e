//! Retry policy for transient failures.

use std::time::Duration;

/// How transient failures (errcode -1 / 6000, HTTP 5xx, connect errors, timeouts) are retried.
///
/// Only [`RetrySafety::Idempotent`](crate::RetrySafety::Idempotent) endpoints and endpoints made
/// safe by WeCom's duplicate check are retried; rate limits (45009, 45033), permission and input
/// errors never are. Token errors (40001/40014/42001 on a business call) are handled separately:
/// the token is refreshed and the call sent once more, whatever this policy says.
///
/// ```
/// use std::time::Duration;
/// use wecom_core_auth::RetryPolicy;
/// let policy = RetryPolicy::default().max_attempts(5).initial_backoff(Duration::from_millis(50));
/// assert_eq!(policy.attempts(), 5);
/// assert!(RetryPolicy::none().attempts() == 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts in all, backoff from 200 ms doubling up to 2 s, with full jitter.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Never retry transient failures.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts including the first (at least 1; at most 10).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.clamp(1, 10);
        self
    }

    /// The first backoff; each further one doubles, up to [`RetryPolicy::max_backoff`].
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Total attempts including the first.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether any retry is allowed.
    pub fn enabled(&self) -> bool {
        self.max_attempts > 1
    }

    /// The pause before attempt `next_attempt` (2 = the first retry): a random duration between
    /// half and all of `min(max_backoff, initial * 2^(next_attempt-2))`.
    pub fn backoff(&self, next_attempt: u32) -> Duration {
        let exp = next_attempt.saturating_sub(2).min(16);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1 << exp)
            .min(self.max_backoff);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        if millis < 2 {
            return ceiling;
        }
        Duration::from_millis(rand::random_range(millis / 2..=millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));
        for _ in 0..100 {
            let b2 = p.backoff(2);
            assert!(
                b2 >= Duration::from_millis(50) && b2 <= Duration::from_millis(100),
                "{b2:?}"
            );
            let b3 = p.backoff(3);
            assert!(
                b3 >= Duration::from_millis(100) && b3 <= Duration::from_millis(200),
                "{b3:?}"
            );
            let b9 = p.backoff(9);
            assert!(
                b9 >= Duration::from_millis(175) && b9 <= Duration::from_millis(350),
                "{b9:?}"
            );
        }
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(99).attempts(), 10);
    }
}
