//! Time, injectable so that token expiry can be tested without sleeping: a [`Clock`] for reading
//! the time and a [`Sleep`] for waiting (retry backoff, waiting for another instance's fetch).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::transport::BoxFuture;

/// A source of wall-clock time. The token cache reads expiry against it.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock (default).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Waiting, injectable next to the [`Clock`]: the client waits through it between retries and
/// while another instance fetches a token, so tests can make those waits follow test time.
///
/// ```
/// use std::time::Duration;
/// use wecom_core_auth::clock::{Clock, ManualClock, Sleep};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.sleep(Duration::from_secs(30)).await; // returns at once, the clock moved
/// assert_eq!(clock.now().duration_since(t0).unwrap(), Duration::from_secs(30));
/// # });
/// ```
pub trait Sleep: Send + Sync + fmt::Debug + 'static {
    /// Completes after `duration` (of this sleeper's time).
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Tokio's timer (default).
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleep;

impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that moves only when told to; for tests. As a [`Sleep`] it moves itself forward by
/// the duration and returns at once (after yielding to other tasks).
///
/// ```
/// use std::time::Duration;
/// use wecom_core_auth::clock::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(7200));
/// assert_eq!(clock.now().duration_since(t0).unwrap(), Duration::from_secs(7200));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock set to the current system time.
    pub fn new() -> Self {
        Self::at(SystemTime::now())
    }

    /// A clock set to `time`.
    pub fn at(time: SystemTime) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(to_millis(time))),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.millis.fetch_add(
            u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// Sets the clock.
    pub fn set(&self, time: SystemTime) {
        self.millis.store(to_millis(time), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

impl Sleep for ManualClock {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.advance(duration);
        Box::pin(tokio::task::yield_now())
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn to_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn now_millis(clock: &dyn Clock) -> u64 {
    to_millis(clock.now())
}
