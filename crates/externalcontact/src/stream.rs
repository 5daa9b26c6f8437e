//! The cursor-paginated lists as streams, like `user/list_id` in `wecom_contacts`: a member's
//! customers with their details (`externalcontact/batch/get_by_user`, 100 per page) and the
//! customer groups (`externalcontact/groupchat/list`). Pages are fetched one at a time as the
//! stream is polled, so memory stays bounded by one page whatever the number of customers.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use wecom_core_auth::Error;
use wecom_core_auth::error::InvalidInput;

use crate::generated::externalcontact::{
    ContactListResponse, CustomerBatchGetByUserResponse, CustomerDetail, Externalcontact,
    GroupChatRef, GroupchatListResponse, OwnerFilter, ServedContact,
};

/// The largest page `externalcontact/batch/get_by_user` serves (larger limits are served as 100).
pub const MAX_BATCH_PAGE: u32 = 100;
/// The most members one `externalcontact/batch/get_by_user` request may name.
pub const MAX_BATCH_USERS: usize = 100;
/// The largest page `externalcontact/groupchat/list` serves.
pub const MAX_GROUPCHAT_PAGE: u32 = 1_000;

/// What a page answered: its items' count is not needed, only the next cursor.
trait Page {
    fn next_cursor(&self) -> Option<&str>;
}

impl Page for CustomerBatchGetByUserResponse {
    fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

impl Page for ContactListResponse {
    fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

impl Page for GroupchatListResponse {
    fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

/// Follows `next_cursor` until it is empty; a server that answers the cursor it was given is an
/// error (the stream never loops), and the stream ends after the first error.
fn pages<'a, P, F, Fut>(
    area: Externalcontact<'a>,
    endpoint: &'static str,
    fetch: F,
) -> impl Stream<Item = Result<P, Error>> + Send + 'a
where
    P: Page + Send + 'a,
    F: Fn(Externalcontact<'a>, Option<String>) -> Fut + Send + 'a,
    Fut: std::future::Future<Output = Result<P, Error>> + Send + 'a,
{
    crate::outreach::cursor_pages(
        endpoint,
        move |cursor| fetch(area, cursor),
        |page: &P| page.next_cursor().map(str::to_owned),
    )
}

impl<'a> Externalcontact<'a> {
    /// Every page of `externalcontact/batch/get_by_user` for `userids` (1 to 100 members),
    /// following `next_cursor` to the end. `page_size` is clamped to 1..=100.
    ///
    /// An empty or too long member list is refused before any request (the stream's only item).
    pub fn customer_pages(
        self,
        userids: Vec<String>,
        page_size: u32,
    ) -> impl Stream<Item = Result<CustomerBatchGetByUserResponse, Error>> + Send + 'a {
        let bad = if userids.is_empty() || userids.len() > MAX_BATCH_USERS {
            Some(Error::Invalid(
                InvalidInput::new(
                    "userid_list",
                    format!(
                        "has {} members; give 1 to {MAX_BATCH_USERS} (externalcontact/batch/get_by_user: 最多支持100个)",
                        userids.len()
                    ),
                )
                .with_errcode(Some(40058))
                .in_context("customer_batch_get_by_user"),
            ))
        } else {
            None
        };
        let limit = page_size.clamp(1, MAX_BATCH_PAGE);
        let walk = pages(self, "customer_batch_get_by_user", move |area, cursor| {
            let mut call = area
                .customer_batch_get_by_user(userids.clone())
                .limit(limit);
            if let Some(c) = cursor {
                call = call.cursor(c);
            }
            call.into_future()
        });
        match bad {
            Some(e) => stream::once(async move { Err(e) }).left_stream(),
            None => walk.right_stream(),
        }
    }

    /// The customers of `userids` (1 to 100 members) with their details, one
    /// [`CustomerDetail`] per (customer, follow user), 100 per request. Memory stays bounded by
    /// one page: a member with 20,000 customers is 200 requests, read as the stream is polled.
    ///
    /// An app token sees only members in its visible scope (others come back empty); the
    /// 客户联系 secret sees all.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_externalcontact::*;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let mut customers =
    ///     std::pin::pin!(client.externalcontact().customers_of(vec!["zhangsan".into()], 100));
    /// while let Some(row) = customers.try_next().await? {
    ///     println!("{} follows {}", row.follow_info.userid, row.external_contact.external_userid);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn customers_of(
        self,
        userids: Vec<String>,
        page_size: u32,
    ) -> impl Stream<Item = Result<CustomerDetail, Error>> + Send + 'a {
        self.customer_pages(userids, page_size)
            .map_ok(|page| {
                stream::iter(
                    page.external_contact_list
                        .into_iter()
                        .map(Ok::<CustomerDetail, Error>),
                )
            })
            .try_flatten()
    }

    /// Every page of `externalcontact/groupchat/list` (`page_size` clamped to 1..=1,000),
    /// filtered by owners when `owners` is not empty (WeCom answers 81017 without a filter when
    /// the app's scope has more than 1,000 members).
    pub fn group_chat_pages(
        self,
        owners: Vec<String>,
        page_size: u32,
    ) -> impl Stream<Item = Result<GroupchatListResponse, Error>> + Send + 'a {
        let limit = page_size.clamp(1, MAX_GROUPCHAT_PAGE);
        pages(self, "groupchat_list", move |area, cursor| {
            let mut call = area.groupchat_list(limit);
            if !owners.is_empty() {
                call = call.owner_filter(OwnerFilter::new().userid_list(owners.clone()));
            }
            if let Some(c) = cursor {
                call = call.cursor(c);
            }
            call.into_future()
        })
    }

    /// Every customer group (of `owners`, or of every owner the credential sees when empty).
    pub fn group_chats(
        self,
        owners: Vec<String>,
        page_size: u32,
    ) -> impl Stream<Item = Result<GroupChatRef, Error>> + Send + 'a {
        self.group_chat_pages(owners, page_size)
            .map_ok(|page| {
                stream::iter(
                    page.group_chat_list
                        .into_iter()
                        .map(Ok::<GroupChatRef, Error>),
                )
            })
            .try_flatten()
    }

    /// Every external contact the corp serves (`externalcontact/contact_list`), `page_size` per
    /// request (WeCom's default 1,000 when 0), following `next_cursor` to the end. Cursors expire
    /// on WeCom's side: consume the stream without long pauses.
    pub fn served_contacts(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<ServedContact, Error>> + Send + 'a {
        pages(self, "contact_list", move |area, cursor| {
            let mut call = area.contact_list();
            if page_size > 0 {
                call = call.limit(page_size);
            }
            if let Some(c) = cursor {
                call = call.cursor(c);
            }
            call.into_future()
        })
        .map_ok(|page: ContactListResponse| {
            stream::iter(page.info_list.into_iter().map(Ok::<ServedContact, Error>))
        })
        .try_flatten()
    }
}
