//! The optional background refresher.

use std::sync::Arc;
use std::time::Duration;

use super::{Slot, TokenCache};

/// Keeps tokens (and tickets already in use) fresh in the background, so no call ever waits for a
/// fetch. Not needed for correctness: without it the first caller in the soft window refreshes.
/// Stops when dropped (or with [`RefresherHandle::stop`]): keep it for as long as the refresher
/// should run.
///
/// Dropping the handle at once is almost certainly a mistake, so it is `#[must_use]`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// # async fn demo(client: wecom_core_auth::Client) {
/// client.spawn_refresher(std::time::Duration::from_secs(60)); // stopped right away
/// # }
/// ```
///
/// ```
/// # async fn demo(client: wecom_core_auth::Client) {
/// let _refresher = client.spawn_refresher(std::time::Duration::from_secs(60));
/// // ... serve requests; the refresher stops when `_refresher` goes out of scope.
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the refresher stops when its handle is dropped; keep the handle"]
pub struct RefresherHandle {
    task: tokio::task::JoinHandle<()>,
}

impl RefresherHandle {
    /// Stops the refresher.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for RefresherHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the refresher task: every `every`, the `always` slots are fetched or refreshed as
/// needed, and the `when_used` ones (tickets) too once they hold a value.
/// `later` is asked on every round for slots made after the start (downstream corps' tokens,
/// whose handles may be created at any time); they are kept fresh once they hold a value.
pub(crate) fn spawn_refresher(
    cache: Arc<TokenCache>,
    always: Vec<Arc<Slot>>,
    when_used: Vec<Arc<Slot>>,
    later: Box<dyn Fn() -> Vec<Arc<Slot>> + Send + Sync>,
    every: Duration,
) -> RefresherHandle {
    let every = every.max(Duration::from_millis(10));
    let task = tokio::spawn(async move {
        loop {
            for slot in &always {
                if let Err(e) = cache.token(slot).await {
                    tracing::warn!(credential = %slot.label, error = %e, "background refresh failed");
                }
            }
            for slot in when_used.iter().cloned().chain(later()) {
                if slot.has_value()
                    && let Err(e) = cache.token(&slot).await
                {
                    tracing::warn!(credential = %slot.label, error = %e, "background refresh failed");
                }
            }
            tokio::time::sleep(every).await;
        }
    });
    RefresherHandle { task }
}
