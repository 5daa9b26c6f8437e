//! Meetings (会议, 预约会议基础管理): the rules of the meeting pages that relate several fields,
//! named by `spec/oa.toml` (`check = "crate::meeting::..."`) so the generated `validate()` runs
//! them on every path (client calls and the sandbox), and [`Oa::user_meeting_ids`], the stream
//! over `meeting/get_user_meetingid`'s cursor.
//!
//! The pages name no errcode for these rules; the errors carry none.

use futures_util::{Stream, TryStreamExt};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::oa::{
    MeetingGetUserMeetingidRequest, MeetingGetUserMeetingidResponse, MeetingUpdateRequest, Oa,
};

/// 获取成员会议ID列表: "时间跨度不超过180天".
pub const MAX_RANGE_SECS: u32 = 180 * 86_400;

/// `meeting_update`: 修改预约会议 says "修改该字段时必须同时指定meeting_duration" of `meeting_start`.
pub fn check_update(request: &MeetingUpdateRequest) -> Result<(), InvalidInput> {
    if request.meeting_start.is_some() && request.meeting_duration.is_none() {
        return Err(InvalidInput::new(
            "meeting_duration",
            "changing meeting_start needs meeting_duration too (修改该字段时必须同时指定meeting_duration)",
        ));
    }
    Ok(())
}

/// `meeting_get_user_meetingid`: the range is not inverted and spans at most 180 days.
pub fn check_user_meetingid(request: &MeetingGetUserMeetingidRequest) -> Result<(), InvalidInput> {
    if let (Some(begin), Some(end)) = (request.begin_time, request.end_time) {
        if end < begin {
            return Err(InvalidInput::new(
                "end_time",
                format!("is {end}, before begin_time {begin}; give the range in order"),
            ));
        }
        if end - begin > MAX_RANGE_SECS {
            return Err(InvalidInput::new(
                "end_time",
                format!(
                    "the range spans {} s; at most 180 days ({MAX_RANGE_SECS} s): split it",
                    end - begin
                ),
            ));
        }
    }
    Ok(())
}

impl<'a> Oa<'a> {
    /// Every meeting id of `userid` this app created in the range, page by page
    /// (`meeting/get_user_meetingid`, 100 per call, following `next_cursor`). `begin`/`end` are
    /// unix seconds, at most 180 days apart (checked before any request). The stream ends after
    /// the first error; a cursor answered twice is an error rather than a loop.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_oa::OaExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let pages: Vec<Vec<String>> = client
    ///     .oa()
    ///     .user_meeting_ids("zhangsan", Some(1_700_000_000), Some(1_700_086_400))
    ///     .try_collect()
    ///     .await?;
    /// # let _ = pages; Ok(()) }
    /// ```
    pub fn user_meeting_ids(
        self,
        userid: impl Into<String>,
        begin: Option<u32>,
        end: Option<u32>,
    ) -> impl Stream<Item = Result<Vec<String>, Error>> + Send + 'a {
        let userid = userid.into();
        wecom_core_auth::paging::cursor_pages(
            "meeting_get_user_meetingid",
            move |cursor: Option<String>| {
                let mut call = self.meeting_get_user_meetingid(userid.clone()).limit(100);
                if let Some(c) = cursor {
                    call = call.cursor(c);
                }
                if let Some(b) = begin {
                    call = call.begin_time(b);
                }
                if let Some(e) = end {
                    call = call.end_time(e);
                }
                call.into_future()
            },
            |page: &MeetingGetUserMeetingidResponse| page.next_cursor.clone(),
        )
        .map_ok(|page| page.meetingid_list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wecom_core_auth::__private::Validate as _;

    #[test]
    fn a_new_start_needs_its_duration() {
        let r = MeetingUpdateRequest::new("m1").meeting_start(1_800_000_000);
        let e = r.validate().expect_err("no duration");
        assert!(e.to_string().contains("meeting_duration"), "{e}");
        assert!(
            MeetingUpdateRequest::new("m1")
                .meeting_start(1_800_000_000)
                .meeting_duration(3600)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn the_range_is_ordered_and_at_most_180_days() {
        let base = MeetingGetUserMeetingidRequest::new("zhangsan");
        assert!(
            base.clone()
                .begin_time(100)
                .end_time(99)
                .validate()
                .is_err()
        );
        assert!(
            base.clone()
                .begin_time(0)
                .end_time(MAX_RANGE_SECS + 1)
                .validate()
                .is_err()
        );
        assert!(
            base.begin_time(0)
                .end_time(MAX_RANGE_SECS)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn duration_and_title_bounds_come_from_the_spec() {
        use crate::generated::oa::MeetingCreateRequest;
        assert!(
            MeetingCreateRequest::new("zhangsan", "周会", 299)
                .validate()
                .is_err()
        );
        assert!(
            MeetingCreateRequest::new("zhangsan", "周会", 86_400)
                .validate()
                .is_err()
        );
        assert!(
            MeetingCreateRequest::new("zhangsan", "", 3600)
                .validate()
                .is_err()
        );
        assert!(
            MeetingCreateRequest::new("zhangsan", "会".repeat(256), 3600)
                .validate()
                .is_err()
        );
        assert!(
            MeetingCreateRequest::new("zhangsan", "会".repeat(255), 3600)
                .validate()
                .is_ok()
        );
    }
}
