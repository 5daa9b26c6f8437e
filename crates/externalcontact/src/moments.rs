//! Moments (客户朋友圈): the rules of `add_moment_task` and `get_moment_list` their field
//! constraints cannot state, and `get_moment_list` as a stream over its cursor.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::externalcontact::{
    AddMomentTaskRequest, Externalcontact, GetMomentListRequest, Moment,
};
use crate::outreach::cursor_pages;

/// The largest page `get_moment_list` serves (page 93333: "最大值20").
pub const MAX_MOMENT_PAGE: u32 = 20;
/// Page 93333: "朋友圈记录的起止时间间隔不能超过30天".
pub const MAX_MOMENT_WINDOW_SECS: i64 = 30 * 24 * 3600;

/// `add_moment_task` (page 95094): `text.content` "不能与附件同时为空", and attachments "不能与
/// text.content同时为空". The page names no errcode.
pub fn check_add_moment_task(req: &AddMomentTaskRequest) -> Result<(), InvalidInput> {
    let text = req
        .text
        .as_ref()
        .and_then(|t| t.content.as_deref())
        .is_some_and(|c| !c.is_empty());
    if !text && req.attachments.is_empty() {
        return Err(InvalidInput::new(
            "text",
            "and `attachments` are both empty: a moment needs a text or at least one attachment",
        ));
    }
    Ok(())
}

/// `get_moment_list` (page 93333): "朋友圈记录的起止时间间隔不能超过30天". The page names no
/// errcode.
pub fn check_get_moment_list(req: &GetMomentListRequest) -> Result<(), InvalidInput> {
    if req.end_time < req.start_time {
        return Err(InvalidInput::new(
            "end_time",
            "is before `start_time`: give the window's start first",
        ));
    }
    if req.end_time - req.start_time > MAX_MOMENT_WINDOW_SECS {
        return Err(InvalidInput::new(
            "end_time",
            "is more than 30 days after `start_time` (起止时间间隔不能超过30天): ask for the window in parts",
        ));
    }
    Ok(())
}

impl<'a> Externalcontact<'a> {
    /// Every moment published between `start_time` and `end_time` (Unix seconds, at most 30
    /// days apart), following `get_moment_list`'s `next_cursor` to the end, 20 per request (the
    /// page's maximum). The stream ends after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_externalcontact::ExternalcontactExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let moments: Vec<_> = client
    ///     .externalcontact()
    ///     .moments(1_700_000_000, 1_700_086_400)
    ///     .try_collect()
    ///     .await?;
    /// println!("{} moments", moments.len());
    /// # Ok(()) }
    /// ```
    pub fn moments(
        self,
        start_time: i64,
        end_time: i64,
    ) -> impl Stream<Item = Result<Moment, Error>> + Send + 'a {
        cursor_pages(
            "get_moment_list",
            move |cursor| {
                let mut call = self
                    .get_moment_list(start_time, end_time)
                    .limit(MAX_MOMENT_PAGE);
                if let Some(c) = cursor {
                    call = call.cursor(c);
                }
                call.into_future()
            },
            |page| page.next_cursor.clone(),
        )
        .map_ok(|page| stream::iter(page.moment_list.into_iter().map(Ok::<Moment, Error>)))
        .try_flatten()
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_needs_content_and_the_list_a_window_of_30_days() {
        let e = check_add_moment_task(&AddMomentTaskRequest::new()).err();
        assert_eq!(e.map(|e| e.field), Some("text".to_owned()));
        assert!(
            check_get_moment_list(&GetMomentListRequest::new(0, MAX_MOMENT_WINDOW_SECS)).is_ok()
        );
        let e =
            check_get_moment_list(&GetMomentListRequest::new(0, MAX_MOMENT_WINDOW_SECS + 1)).err();
        assert_eq!(e.map(|e| e.field), Some("end_time".to_owned()));
        let e = check_get_moment_list(&GetMomentListRequest::new(10, 5)).err();
        assert_eq!(e.map(|e| e.field), Some("end_time".to_owned()));
    }
}
