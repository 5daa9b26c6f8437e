//! Transfers (在职继承 / 离职继承): `get_unassigned_list` as a stream over its cursor.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use wecom_core_auth::Error;

use crate::generated::externalcontact::{Externalcontact, UnassignedCustomer};
use crate::outreach::cursor_pages;

/// The largest page `get_unassigned_list` serves (its page, 92124: "最大值为1000").
pub const MAX_UNASSIGNED_PAGE: u32 = 1000;

impl<'a> Externalcontact<'a> {
    /// Every customer of members who left that is waiting for a new follower, following
    /// `get_unassigned_list`'s `next_cursor` to the end (`is_last` also ends it). `page_size` is
    /// clamped to 1..=1000. The stream ends after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_externalcontact::ExternalcontactExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let waiting: Vec<_> = client.externalcontact().unassigned(1000).try_collect().await?;
    /// for c in &waiting {
    ///     println!("{} (of {})", c.external_userid, c.handover_userid);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn unassigned(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<UnassignedCustomer, Error>> + Send + 'a {
        let size = page_size.clamp(1, MAX_UNASSIGNED_PAGE);
        cursor_pages(
            "get_unassigned_list",
            move |cursor| {
                let mut call = self.get_unassigned_list().page_size(size);
                if let Some(c) = cursor {
                    call = call.cursor(c);
                }
                call.into_future()
            },
            |page| {
                if page.is_last == Some(true) {
                    None
                } else {
                    page.next_cursor.clone()
                }
            },
        )
        .map_ok(|page| stream::iter(page.info.into_iter().map(Ok::<UnassignedCustomer, Error>)))
        .try_flatten()
        .boxed()
    }
}
