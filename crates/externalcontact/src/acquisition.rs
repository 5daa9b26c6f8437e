//! 获客助手 (customer acquisition links): the rules of `create_link` and `statistic` their field
//! constraints cannot state (named by the spec, so the generated calls, the CLI and the sandbox all
//! run them), and the two cursor lists as streams.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::externalcontact::{
    AcquisitionCustomer, AcquisitionLinkCreateRequest, AcquisitionStatisticRequest, Externalcontact,
};
use crate::outreach::cursor_pages;
use crate::rules::beijing_day;

/// The largest page `list_link` serves (its page: "limit 返回的最大记录数,整型,最大值100").
pub const MAX_LINK_PAGE: u32 = 100;
/// The largest page `customer_acquisition/customer` serves ("最大值1000").
pub const MAX_CUSTOMER_PAGE: u32 = 1000;
/// The longest span `statistic` serves (its page: "起始和结束时间相差不可超过30天").
pub const MAX_STATISTIC_SPAN_DAYS: i64 = 30;
/// `customer_channel` is cut by WeCom after this many bytes ("字符串不超过64字节,超过会被截断").
pub const MAX_CHANNEL_BYTES: usize = 64;

const DAY: i64 = 86_400;

/// `create_link`: "range.user_list和range.department_list不可同时为空" (its page; no errcode named,
/// so the error carries none).
pub fn check_create_link(req: &AcquisitionLinkCreateRequest) -> Result<(), InvalidInput> {
    let empty = req
        .range
        .as_ref()
        .is_none_or(|r| r.user_list.is_empty() && r.department_list.is_empty());
    if empty {
        return Err(InvalidInput::new(
            "range",
            "has neither user_list nor department_list: name the members or departments the link hands customers to",
        ));
    }
    Ok(())
}

/// `statistic`: `end_time` not before `start_time`, and the days at most 30 apart ("统计范围的最小
/// 粒度为日 ... 起始和结束时间相差不可超过30天"). The page names no errcode, so the errors carry none.
pub fn check_statistic(req: &AcquisitionStatisticRequest) -> Result<(), InvalidInput> {
    let (start, end) = (beijing_day(req.start_time), beijing_day(req.end_time));
    if end < start {
        return Err(InvalidInput::new(
            "end_time",
            format!(
                "is before start_time ({} < {})",
                req.end_time, req.start_time
            ),
        ));
    }
    let days = (end - start) / DAY;
    if days > MAX_STATISTIC_SPAN_DAYS {
        return Err(InvalidInput::new(
            "end_time",
            format!(
                "is {days} days after start_time; at most {MAX_STATISTIC_SPAN_DAYS} (query longer periods in slices)"
            ),
        ));
    }
    Ok(())
}

/// `url` with `customer_channel=state` appended, as the page tells to tell channels apart (the
/// customers the link brings then carry `state`). `state` is percent-encoded; WeCom cuts it after
/// 64 bytes.
///
/// ```
/// let url = wecom_externalcontact::acquisition::with_channel("https://work.weixin.qq.com/ca/cawx", "spring sale");
/// assert_eq!(url, "https://work.weixin.qq.com/ca/cawx?customer_channel=spring%20sale");
/// ```
pub fn with_channel(url: &str, state: &str) -> String {
    let mut encoded = String::with_capacity(state.len());
    for b in state.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}customer_channel={encoded}")
}

impl<'a> Externalcontact<'a> {
    /// The ids of every 获客链接 this app created, following `list_link`'s `next_cursor` to the
    /// end. `page_size` is clamped to 1..=100. The stream ends after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_externalcontact::ExternalcontactExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let links: Vec<String> = client.externalcontact().acquisition_links(100).try_collect().await?;
    /// println!("{} links", links.len());
    /// # Ok(()) }
    /// ```
    pub fn acquisition_links(
        self,
        page_size: u32,
    ) -> impl Stream<Item = Result<String, Error>> + Send + 'a {
        let limit = page_size.clamp(1, MAX_LINK_PAGE);
        cursor_pages(
            "customer_acquisition/list_link",
            move |cursor| {
                let mut call = self.acquisition_link_list().limit(limit);
                if let Some(c) = cursor {
                    call = call.cursor(c);
                }
                call.into_future()
            },
            |page| page.next_cursor.clone(),
        )
        .map_ok(|page| stream::iter(page.link_id_list.into_iter().map(Ok::<String, Error>)))
        .try_flatten()
        .boxed()
    }

    /// Every customer the 获客链接 `link_id` brought, following `customer_acquisition/customer`'s
    /// `next_cursor` to the end. `page_size` is clamped to 1..=1000. The stream ends after the
    /// first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_externalcontact::ExternalcontactExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let customers: Vec<_> = client
    ///     .externalcontact()
    ///     .acquisition_customers_of("cawcde0000", 1000)
    ///     .try_collect()
    ///     .await?;
    /// for c in &customers {
    ///     println!("{} via {:?} (chat_status {:?})", c.external_userid, c.state, c.chat_status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn acquisition_customers_of(
        self,
        link_id: &str,
        page_size: u32,
    ) -> impl Stream<Item = Result<AcquisitionCustomer, Error>> + Send + 'a {
        let link_id = link_id.to_owned();
        let limit = page_size.clamp(1, MAX_CUSTOMER_PAGE);
        cursor_pages(
            "customer_acquisition/customer",
            move |cursor| {
                let mut call = self.acquisition_customers(link_id.clone()).limit(limit);
                if let Some(c) = cursor {
                    call = call.cursor(c);
                }
                call.into_future()
            },
            |page| page.next_cursor.clone(),
        )
        .map_ok(|page| {
            stream::iter(
                page.customer_list
                    .into_iter()
                    .map(Ok::<AcquisitionCustomer, Error>),
            )
        })
        .try_flatten()
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::externalcontact::AcquisitionRange;

    #[test]
    fn a_link_needs_members_or_departments() {
        let req = AcquisitionLinkCreateRequest::new("spring");
        assert_eq!(
            check_create_link(&req).err().map(|e| e.field),
            Some("range".to_owned())
        );
        let empty = AcquisitionLinkCreateRequest::new("spring").range(AcquisitionRange::new());
        assert!(check_create_link(&empty).is_err());
        let mut r = AcquisitionRange::new();
        r.department_list = vec![2];
        assert!(check_create_link(&AcquisitionLinkCreateRequest::new("spring").range(r)).is_ok());
    }

    #[test]
    fn the_statistic_spans_at_most_30_days() {
        let d0 = 1_554_220_800;
        assert!(check_statistic(&AcquisitionStatisticRequest::new("ca", d0, d0)).is_ok());
        assert!(
            check_statistic(&AcquisitionStatisticRequest::new(
                "ca",
                d0,
                d0 + 30 * DAY + 60
            ))
            .is_ok()
        );
        let e = check_statistic(&AcquisitionStatisticRequest::new("ca", d0, d0 + 31 * DAY));
        assert_eq!(e.err().map(|e| e.field), Some("end_time".to_owned()));
        assert!(check_statistic(&AcquisitionStatisticRequest::new("ca", d0 + DAY, d0)).is_err());
    }

    #[test]
    fn a_channel_is_appended_encoded() {
        assert_eq!(
            with_channel("https://w/ca/x?a=1", "渠道"),
            "https://w/ca/x?a=1&customer_channel=%E6%B8%A0%E9%81%93"
        );
    }
}
