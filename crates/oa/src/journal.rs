//! Journals (汇报): the pages' range rules and the record ids of a range as a cursor stream.

use futures_util::stream::{self, Stream};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::oa::{JournalFilter, JournalRecordListRequest, JournalStatListRequest, Oa};

/// `get_record_list`: "开始时间和结束时间间隔不能超过一个月", taken as 31 days.
pub const RECORD_LIST_MAX_SPAN: i64 = 31 * 86_400;
/// `get_stat_list`: "时间区间最大长度为一年", taken as 366 days.
pub const STAT_LIST_MAX_SPAN: i64 = 366 * 86_400;

fn span(start: i64, end: i64, max: i64, what: &str) -> Result<(), InvalidInput> {
    if end < start {
        return Err(InvalidInput::new(
            "endtime",
            format!("{end} is before starttime {start}"),
        ));
    }
    if end - start > max {
        return Err(InvalidInput::new(
            "endtime",
            format!(
                "the range is {} days; {what} allows at most {} days",
                (end - start) / 86_400,
                max / 86_400
            ),
        ));
    }
    Ok(())
}

/// `get_record_list`: at most one month.
pub fn check_record_list(req: &JournalRecordListRequest) -> Result<(), InvalidInput> {
    span(
        req.starttime,
        req.endtime,
        RECORD_LIST_MAX_SPAN,
        "get_record_list",
    )
}

/// `get_stat_list`: at most one year.
pub fn check_stat_list(req: &JournalStatListRequest) -> Result<(), InvalidInput> {
    span(
        req.starttime,
        req.endtime,
        STAT_LIST_MAX_SPAN,
        "get_stat_list",
    )
}

impl<'a> Oa<'a> {
    /// Every journal record id between `start` and `end`, page by page (100 per call), until
    /// `endflag` is 1 or a page comes back empty. The stream ends after the first error.
    pub fn journal_record_ids(
        self,
        start: i64,
        end: i64,
        filters: Vec<JournalFilter>,
    ) -> impl Stream<Item = Result<Vec<String>, Error>> + Send + 'a {
        stream::unfold(Some(0u32), move |cursor| {
            let filters = filters.clone();
            async move {
                let cursor = cursor?;
                let call = self
                    .journal_record_list(start, end, cursor, 100)
                    .filters(filters);
                match call.await {
                    Ok(page) => {
                        let last = page.endflag == Some(1)
                            || page.journaluuid_list.is_empty()
                            || page.next_cursor.is_none_or(|c| c <= cursor);
                        let next = if last { None } else { page.next_cursor };
                        Some((Ok(page.journaluuid_list), next))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }
}
