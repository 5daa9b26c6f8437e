//! The optional background refresher.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{Client, Inner};

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

impl Client {
    /// Starts a task (on the current tokio runtime) that every `every` fetches missing tokens and
    /// refreshes those in their soft window, for every app and the contact-sync secret; tickets
    /// are kept fresh once they have been used. Failures are logged; calls handle them as usual.
    #[must_use = "the refresher stops when its handle is dropped; keep the handle"]
    pub fn spawn_refresher(&self, every: Duration) -> RefresherHandle {
        let inner: Arc<Inner> = Arc::clone(&self.inner);
        let every = every.max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            loop {
                for app in &inner.apps {
                    if let Err(e) = inner.token(&app.token).await {
                        tracing::warn!(credential = %app.token.label, error = %e, "background refresh failed");
                    }
                    for ticket in [&app.jsapi, &app.agent_config] {
                        if ticket.has_value()
                            && let Err(e) = inner.token(ticket).await
                        {
                            tracing::warn!(credential = %ticket.label, error = %e, "background refresh failed");
                        }
                    }
                }
                if let Some(contact) = &inner.contact
                    && let Err(e) = inner.token(contact).await
                {
                    tracing::warn!(credential = %contact.label, error = %e, "background refresh failed");
                }
                tokio::time::sleep(every).await;
            }
        });
        RefresherHandle { task }
    }
}
