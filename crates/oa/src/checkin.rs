//! Check-in (打卡) over any time range and any number of members: records, day reports, month
//! reports and schedules as typed streams. WeCom limits each call (records: 30 days and 100
//! members; schedules: one month and 100 members; day and month reports: 100 members); these
//! helpers split the range into the fewest windows and the members into the fewest groups the
//! limits allow, call at most `concurrency` at once, and yield each call's batch in order, so
//! memory stays bounded by the batches in flight.
//!
//! ```no_run
//! # async fn demo(client: &wecom_core_auth::Client, users: Vec<String>) -> Result<(), wecom_core_auth::Error> {
//! use futures_util::TryStreamExt;
//! use wecom_oa::OaExt;
//! use wecom_oa::checkin::Fetch;
//!
//! let (start, end) = (1_793_491_200, 1_796_083_199); // a month
//! let mut batches = client.oa().checkin_records_in(start, end, users, Fetch::default());
//! let mut n = 0;
//! while let Some(batch) = batches.try_next().await? {
//!     n += batch.len();
//! }
//! println!("{n} records");
//! # Ok(()) }
//! ```

use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::oa::{
    CheckinDayData, CheckinDayDataRequest, CheckinHardwareDataRequest, CheckinMonthData,
    CheckinMonthDataRequest, CheckinRecord, CheckinRecordsRequest, CheckinScheduleListRequest,
    CheckinUserSchedule, Oa,
};

/// A day in seconds.
pub const DAY: i64 = 86_400;
/// `getcheckindata`: "获取记录时间跨度不超过30天".
pub const RECORDS_MAX_SPAN: i64 = 30 * DAY;
/// `getcheckinschedulist` ("跨度不超过一个月") and `get_hardware_checkin_data` ("不超过一个月"),
/// taken as 31 days.
pub const MONTH_MAX_SPAN: i64 = 31 * DAY;
/// Members per call on every check-in read ("用户列表不超过100个").
pub const MAX_MEMBERS: usize = 100;
/// WeCom's code for a time range over the limit (获取打卡记录时间间隔超限).
pub const RANGE_ERRCODE: i64 = 301024;

fn check_span(start: i64, end: i64, max: Option<i64>) -> Result<(), InvalidInput> {
    if end < start {
        return Err(
            InvalidInput::new("endtime", format!("{end} is before starttime {start}"))
                .with_errcode(Some(RANGE_ERRCODE)),
        );
    }
    if let Some(max) = max
        && end - start > max
    {
        return Err(InvalidInput::new(
            "endtime",
            format!(
                "the range is {:.1} days; at most {} days per call (split it, or use the `*_in` streams of `wecom_oa::checkin`)",
                (end - start) as f64 / DAY as f64,
                max / DAY
            ),
        )
        .with_errcode(Some(RANGE_ERRCODE)));
    }
    Ok(())
}

/// `getcheckindata`: `endtime` not before `starttime`, at most 30 days after it.
pub fn check_records(req: &CheckinRecordsRequest) -> Result<(), InvalidInput> {
    check_span(req.starttime, req.endtime, Some(RECORDS_MAX_SPAN))
}

/// Day and month reports: `endtime` not before `starttime` (the pages state no longer limit).
pub fn check_report_range<R: ReportRange>(req: &R) -> Result<(), InvalidInput> {
    let (s, e) = req.range();
    check_span(s, e, None)
}

/// `getcheckinschedulist`: at most one month (31 days).
pub fn check_schedule_range(req: &CheckinScheduleListRequest) -> Result<(), InvalidInput> {
    check_span(req.starttime, req.endtime, Some(MONTH_MAX_SPAN))
}

/// `get_hardware_checkin_data`: at most one month (31 days).
pub fn check_hardware_range(req: &CheckinHardwareDataRequest) -> Result<(), InvalidInput> {
    check_span(req.starttime, req.endtime, Some(MONTH_MAX_SPAN))
}

/// A request with a `starttime`/`endtime` pair.
pub trait ReportRange {
    /// `(starttime, endtime)`.
    fn range(&self) -> (i64, i64);
}
impl ReportRange for CheckinDayDataRequest {
    fn range(&self) -> (i64, i64) {
        (self.starttime, self.endtime)
    }
}
impl ReportRange for CheckinMonthDataRequest {
    fn range(&self) -> (i64, i64) {
        (self.starttime, self.endtime)
    }
}

/// Consecutive windows covering `[start, end]`, each spanning at most `max_span` seconds
/// (`end - start <= max_span`), the fewest possible. Empty when `end < start`.
pub fn split_range(start: i64, end: i64, max_span: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    if end < start || max_span <= 0 {
        return out;
    }
    let mut s = start;
    loop {
        let e = (s + max_span).min(end);
        out.push((s, e));
        if e >= end {
            break;
        }
        s = e + 1;
    }
    out
}

/// Progress of a split fetch: calls done out of calls planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Calls answered so far.
    pub done: usize,
    /// Calls planned.
    pub total: usize,
}

/// How a split fetch runs.
#[derive(Clone)]
pub struct Fetch {
    /// Calls in flight at most (default 8; at least 1). WeCom's per-API limits are per minute
    /// (records 600/min, day reports 100/min, month reports and schedules 60/min): keep the total
    /// number of calls of a minute under them.
    pub concurrency: usize,
    /// Called after each call with the progress so far.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// `opencheckindatatype` for records: 1 on/off duty, 2 outside, 3 all (default).
    pub record_kind: u32,
}

impl Default for Fetch {
    fn default() -> Self {
        Self {
            concurrency: 8,
            progress: None,
            record_kind: 3,
        }
    }
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch")
            .field("concurrency", &self.concurrency)
            .field("progress", &self.progress.is_some())
            .field("record_kind", &self.record_kind)
            .finish()
    }
}

impl Fetch {
    /// With this many calls in flight at most.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }
    /// Reports progress after each call.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// The calls a split fetch makes: every window crossed with every group of members.
pub fn plan(
    start: i64,
    end: i64,
    max_span: Option<i64>,
    members: usize,
) -> Vec<((i64, i64), std::ops::Range<usize>)> {
    let windows = match max_span {
        Some(span) => split_range(start, end, span),
        None if end >= start => vec![(start, end)],
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for w in windows {
        let mut i = 0;
        while i < members {
            let j = (i + MAX_MEMBERS).min(members);
            out.push((w, i..j));
            i = j;
        }
    }
    out
}

fn run<'a, T, F, Fut>(
    start: i64,
    end: i64,
    max_span: Option<i64>,
    members: Vec<String>,
    fetch: Fetch,
    call: F,
) -> impl Stream<Item = Result<Vec<T>, Error>> + Send + 'a
where
    T: Send + 'a,
    F: Fn((i64, i64), Vec<String>) -> Fut + Send + Sync + 'a,
    Fut: std::future::Future<Output = Result<Vec<T>, Error>> + Send + 'a,
{
    let members: Arc<[String]> = members.into();
    let jobs = plan(start, end, max_span, members.len());
    let total = jobs.len();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let call = Arc::new(call);
    let progress = fetch.progress.clone();
    stream::iter(jobs)
        .map(move |(window, range)| {
            let users = members[range].to_vec();
            let call = Arc::clone(&call);
            let done = Arc::clone(&done);
            let progress = progress.clone();
            async move {
                let out = call(window, users).await;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if let Some(p) = &progress {
                    p(Progress { done: n, total });
                }
                out
            }
        })
        .buffered(fetch.concurrency.max(1))
}

impl<'a> Oa<'a> {
    /// Check-in records of `members` between `start` and `end` (Unix seconds), any length and any
    /// number of members: split into 30-day windows and groups of 100, fetched concurrently,
    /// one batch per call, in order. Empty member lists yield nothing.
    pub fn checkin_records_in(
        self,
        start: i64,
        end: i64,
        members: Vec<String>,
        fetch: Fetch,
    ) -> impl Stream<Item = Result<Vec<CheckinRecord>, Error>> + Send + 'a {
        let kind = fetch.record_kind;
        run(
            start,
            end,
            Some(RECORDS_MAX_SPAN),
            members,
            fetch,
            move |(s, e), users| async move {
                Ok(self.checkin_records(kind, s, e, users).await?.checkindata)
            },
        )
    }

    /// Day reports of `members` for the days from `start` to `end` (each the Unix time of a
    /// day's 0:00), in groups of 100 members, fetched concurrently.
    pub fn checkin_day_reports_in(
        self,
        start: i64,
        end: i64,
        members: Vec<String>,
        fetch: Fetch,
    ) -> impl Stream<Item = Result<Vec<CheckinDayData>, Error>> + Send + 'a {
        run(
            start,
            end,
            None,
            members,
            fetch,
            move |(s, e), users| async move { Ok(self.checkin_day_data(s, e, users).await?.datas) },
        )
    }

    /// Month reports (totals over `start`..`end`) of `members`, in groups of 100, concurrently.
    pub fn checkin_month_reports_in(
        self,
        start: i64,
        end: i64,
        members: Vec<String>,
        fetch: Fetch,
    ) -> impl Stream<Item = Result<Vec<CheckinMonthData>, Error>> + Send + 'a {
        run(
            start,
            end,
            None,
            members,
            fetch,
            move |(s, e), users| async move { Ok(self.checkin_month_data(s, e, users).await?.datas) },
        )
    }

    /// Shifts of `members` between `start` and `end`: one-month windows, groups of 100.
    pub fn checkin_schedules_in(
        self,
        start: i64,
        end: i64,
        members: Vec<String>,
        fetch: Fetch,
    ) -> impl Stream<Item = Result<Vec<CheckinUserSchedule>, Error>> + Send + 'a {
        run(
            start,
            end,
            Some(MONTH_MAX_SPAN),
            members,
            fetch,
            move |(s, e), users| async move {
                Ok(self.checkin_schedule_list(s, e, users).await?.schedule_list)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_into_the_fewest_windows() {
        assert_eq!(split_range(0, 10, 30), vec![(0, 10)]);
        assert_eq!(split_range(0, 30, 30), vec![(0, 30)]);
        assert_eq!(split_range(0, 31, 30), vec![(0, 30), (31, 31)]);
        assert_eq!(split_range(0, 100, 30).len(), 4);
        assert!(split_range(5, 4, 30).is_empty());
        let w = split_range(0, 95 * DAY, RECORDS_MAX_SPAN);
        assert_eq!(w.len(), 4);
        assert!(w.iter().all(|(s, e)| e - s <= RECORDS_MAX_SPAN));
        assert!(w.windows(2).all(|p| p[1].0 == p[0].1 + 1));
    }

    #[test]
    fn a_month_for_5000_members_is_50_calls() {
        let month = plan(0, 30 * DAY - 1, Some(RECORDS_MAX_SPAN), 5000);
        assert_eq!(month.len(), 50);
        assert!(month.iter().all(|(_, r)| r.len() == 100));
        assert_eq!(plan(0, 10, Some(RECORDS_MAX_SPAN), 101).len(), 2);
        assert!(plan(0, 10, None, 0).is_empty());
    }

    #[test]
    fn over_long_ranges_are_refused_before_any_call() {
        let ok = CheckinRecordsRequest::new(3, 0, RECORDS_MAX_SPAN, vec!["a".to_owned()]);
        check_records(&ok).unwrap();
        let long = CheckinRecordsRequest::new(3, 0, RECORDS_MAX_SPAN + 1, vec!["a".to_owned()]);
        let e = check_records(&long).err().unwrap();
        assert_eq!(e.errcode, Some(RANGE_ERRCODE));
        let backwards = CheckinRecordsRequest::new(3, 10, 5, vec!["a".to_owned()]);
        assert!(check_records(&backwards).is_err());
    }
}
