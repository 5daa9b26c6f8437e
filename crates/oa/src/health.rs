//! 健康上报 (health reports): streams over the offset-paged job list and answers.
//!
//! `health/get_report_jobids` says `ending` is 1 on the last page; `health/get_report_answer`
//! gives no end marker, so a page shorter than the page size ends it. Both streams also stop on
//! an empty page, so a server that never says it is done cannot make them loop.

use futures_util::stream::{self, Stream};
use wecom_core_auth::Error;

use crate::generated::oa::{HealthAnswer, Oa};

/// Page size of the streams: the pages' maximum.
pub const PAGE: u32 = 100;

impl<'a> Oa<'a> {
    /// Every running report job's id, page by page (`health/get_report_jobids`, 100 per call,
    /// until `ending` is 1). The stream ends after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_oa::OaExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let pages: Vec<Vec<String>> = client.oa().health_report_job_ids().try_collect().await?;
    /// # let _ = pages; Ok(()) }
    /// ```
    pub fn health_report_job_ids(
        self,
    ) -> impl Stream<Item = Result<Vec<String>, Error>> + Send + 'a {
        stream::unfold(Some(0u32), move |offset| async move {
            let offset = offset?;
            match self.health_report_jobids().offset(offset).limit(PAGE).await {
                Ok(page) => {
                    let n = u32::try_from(page.jobids.len()).unwrap_or(u32::MAX);
                    let last = page.ending == Some(1) || n == 0;
                    let next = if last { None } else { offset.checked_add(n) };
                    Some((Ok(page.jobids), next))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// Every answer sheet of `jobid` on `date` (`YYYY-MM-DD`, the last 14 days), page by page
    /// (`health/get_report_answer`, 100 per call, until a short page). The stream ends after the
    /// first error.
    pub fn health_report_answers(
        self,
        jobid: impl Into<String>,
        date: impl Into<String>,
    ) -> impl Stream<Item = Result<Vec<HealthAnswer>, Error>> + Send + 'a {
        let (jobid, date) = (jobid.into(), date.into());
        stream::unfold(Some(0u32), move |offset| {
            let (jobid, date) = (jobid.clone(), date.clone());
            async move {
                let offset = offset?;
                let call = self
                    .health_report_answer(jobid, date)
                    .offset(offset)
                    .limit(PAGE);
                match call.await {
                    Ok(page) => {
                        let n = u32::try_from(page.answers.len()).unwrap_or(u32::MAX);
                        let next = if n < PAGE {
                            None
                        } else {
                            offset.checked_add(n)
                        };
                        Some((Ok(page.answers), next))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }
}
