//! Check-in (打卡) over any time range and any number of members: records, day reports, month
//! reports and schedules as typed streams. WeCom limits each call (records: 30 days and 100
//! members; schedules: one month and 100 members; day and month reports: 100 members); these
//! helpers split the range into the fewest windows and the members into the fewest groups the
//! limits allow, call at most `concurrency` at once, and yield each call's batch in order, so
//! memory stays bounded by the batches in flight.
//!
//! Calls are also paced to each API's documented frequency limit ([`Pace`]): at most that many
//! calls start in any 60-second window (records 600/min, day reports 100/min, month reports and
//! schedules 60/min, as their pages say); a call over the budget waits for the window to move.
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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use futures_util::stream::{self, Stream, StreamExt};
use wecom_core_auth::clock::{Clock, Sleep, SystemClock, TokioSleep};
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
/// `getcheckindata`: "接口调用频率限制为600次/分钟".
pub const RECORDS_PER_MINUTE: u32 = 600;
/// `getcheckin_daydata`: "接口调用频率限制为100次/分钟".
pub const DAY_REPORTS_PER_MINUTE: u32 = 100;
/// `getcheckin_monthdata`: "接口调用频率限制为60次/分钟".
pub const MONTH_REPORTS_PER_MINUTE: u32 = 60;
/// `getcheckinschedulist`: "接口调用频率限制为60次/分钟".
pub const SCHEDULES_PER_MINUTE: u32 = 60;
/// The window the per-minute limits count in.
const WINDOW: Duration = Duration::from_secs(60);

/// A per-minute call budget: at most `per_minute` calls start in any 60-second window (a sliding
/// window over the start times, read from an injectable [`Clock`]); a call over the budget waits
/// (through an injectable [`Sleep`]) until the oldest start leaves the window. Shared by the
/// concurrent calls of a split fetch; share one `Arc<Pace>` between fetches of the same API with
/// [`Fetch::pace`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use wecom_core_auth::clock::{Clock, ManualClock};
/// use wecom_oa::checkin::Pace;
///
/// let clock = ManualClock::new();
/// let pace = Pace::per_minute(2).with_clock(clock.clone(), clock.clone());
/// let t0 = clock.now();
/// pace.admit().await;
/// pace.admit().await;
/// pace.admit().await; // the third waits for the window: the manual clock moves a minute
/// assert_eq!(clock.now().duration_since(t0).unwrap(), Duration::from_secs(60));
/// # });
/// ```
pub struct Pace {
    per_minute: u32,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    starts: Mutex<VecDeque<Duration>>,
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace")
            .field("per_minute", &self.per_minute)
            .finish_non_exhaustive()
    }
}

impl Pace {
    /// At most `per_minute` starts a minute (at least 1), on the system clock and tokio's timer.
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            clock: Arc::new(SystemClock),
            sleep: Arc::new(TokioSleep),
            starts: Mutex::new(VecDeque::new()),
        }
    }

    /// Reads time from `clock` and waits through `sleep` (tests: one
    /// [`ManualClock`](wecom_core_auth::clock::ManualClock) for both).
    pub fn with_clock(mut self, clock: impl Clock, sleep: impl Sleep) -> Self {
        self.clock = Arc::new(clock);
        self.sleep = Arc::new(sleep);
        self
    }

    /// The budget.
    pub fn limit(&self) -> u32 {
        self.per_minute
    }

    fn now(&self) -> Duration {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }

    /// Waits until a call may start within the budget, and counts it.
    pub async fn admit(&self) {
        loop {
            let wait = {
                let now = self.now();
                let mut starts = self.starts.lock().unwrap_or_else(|e| e.into_inner());
                while starts.front().is_some_and(|t| *t + WINDOW <= now) {
                    starts.pop_front();
                }
                if starts.len() < self.per_minute as usize {
                    starts.push_back(now);
                    return;
                }
                // The oldest start leaves the window at `oldest + WINDOW`.
                starts
                    .front()
                    .map_or(WINDOW, |oldest| (*oldest + WINDOW).saturating_sub(now))
                    .max(Duration::from_millis(1))
            };
            self.sleep.sleep(wait).await;
        }
    }
}

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
    /// Calls in flight at most (default 8; at least 1).
    pub concurrency: usize,
    /// The per-minute budget: `None` (default) paces to the API's documented limit (records
    /// 600/min, day reports 100/min, month reports and schedules 60/min) on the system clock.
    pub pace: Option<Arc<Pace>>,
    /// Called after each call with the progress so far.
    pub progress: Option<Arc<dyn Fn(Progress) + Send + Sync>>,
    /// `opencheckindatatype` for records: 1 on/off duty, 2 outside, 3 all (default).
    pub record_kind: u32,
}

impl Default for Fetch {
    fn default() -> Self {
        Self {
            concurrency: 8,
            pace: None,
            progress: None,
            record_kind: 3,
        }
    }
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetch")
            .field("concurrency", &self.concurrency)
            .field("pace", &self.pace)
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
    /// Paces the calls with `pace` instead of the API's documented limit (a lower budget, a
    /// budget shared with other fetches, or an injected clock).
    pub fn pace(mut self, pace: Arc<Pace>) -> Self {
        self.pace = Some(pace);
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
    per_minute: u32,
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
    let pace = fetch
        .pace
        .clone()
        .unwrap_or_else(|| Arc::new(Pace::per_minute(per_minute)));
    stream::iter(jobs)
        .map(move |(window, range)| {
            let users = members[range].to_vec();
            let call = Arc::clone(&call);
            let done = Arc::clone(&done);
            let progress = progress.clone();
            let pace = Arc::clone(&pace);
            async move {
                pace.admit().await;
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
            RECORDS_PER_MINUTE,
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
            DAY_REPORTS_PER_MINUTE,
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
            MONTH_REPORTS_PER_MINUTE,
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
            SCHEDULES_PER_MINUTE,
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

    /// 50 concurrent calls under a 10-a-minute budget on a manual clock: no 60-second window
    /// holds more than 10 starts, and the calls spread over 5 windows.
    #[tokio::test]
    async fn concurrent_calls_keep_to_the_budget_per_window() {
        use wecom_core_auth::clock::ManualClock;
        let clock = ManualClock::new();
        let pace = Arc::new(Pace::per_minute(10).with_clock(clock.clone(), clock.clone()));
        let starts: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let fetch = Fetch::default().concurrency(8).pace(Arc::clone(&pace));
        let log = Arc::clone(&starts);
        let c = clock.clone();
        let members: Vec<String> = (0..5000).map(|i| format!("u{i}")).collect();
        let batches: Vec<Result<Vec<usize>, Error>> = run(
            0,
            30 * DAY - 1,
            Some(RECORDS_MAX_SPAN),
            RECORDS_PER_MINUTE,
            members,
            fetch,
            move |_, users| {
                let log = Arc::clone(&log);
                let c = c.clone();
                async move {
                    let at = c.now().duration_since(UNIX_EPOCH).unwrap_or_default();
                    log.lock().unwrap().push(at);
                    tokio::task::yield_now().await;
                    Ok(vec![users.len()])
                }
            },
        )
        .collect()
        .await;
        assert_eq!(batches.len(), 50);
        let starts = starts.lock().unwrap().clone();
        assert_eq!(starts.len(), 50);
        for t in &starts {
            let in_window = starts
                .iter()
                .filter(|u| **u >= *t && **u < *t + WINDOW)
                .count();
            assert!(
                in_window <= 10,
                "{in_window} calls in the minute from {t:?}"
            );
        }
        let first = starts.iter().min().copied().unwrap_or_default();
        let last = starts.iter().max().copied().unwrap_or_default();
        assert!(
            last - first >= 4 * WINDOW,
            "50 calls at 10/min need 5 windows"
        );
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
