//! `wecom checkin records|report`: check-in over any range and any number of members, split to
//! WeCom's per-call limits and fetched concurrently, with a progress bar.

use std::io::IsTerminal as _;

use futures_util::TryStreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wecom::oa::OaExt as _;
use wecom::oa::checkin::{Fetch, Progress};

use super::Ctx;
use crate::cli::{CheckinCmd, ReportKind};
use crate::error::CliError;
use crate::output::table;

/// China time, in which WeCom's check-in days start.
const TZ: i64 = 8 * 3600;

/// Unix seconds, or `YYYY-MM-DD` (0:00 China time).
pub fn parse_time(s: &str) -> Result<i64, CliError> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let bad = || CliError::Usage(format!("{s:?} is neither Unix seconds nor YYYY-MM-DD"));
    let mut it = s.split('-');
    let (y, m, d) = (
        it.next()
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(bad)?,
        it.next()
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(bad)?,
        it.next()
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(bad)?,
    );
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from civil (proleptic Gregorian).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400 - TZ)
}

fn users(list: &[String]) -> Result<Vec<String>, CliError> {
    let out: Vec<String> = list
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if out.is_empty() {
        return Err(CliError::Usage("give members with --users a,b,c".into()));
    }
    Ok(out)
}

fn bar(ctx: &Ctx) -> ProgressBar {
    if ctx.out.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} calls {elapsed}") {
            b.set_style(style);
        }
        b
    }
}

fn fetch(bar: &ProgressBar, concurrency: usize) -> Fetch {
    let b = bar.clone();
    Fetch::default()
        .concurrency(concurrency)
        .on_progress(move |p: Progress| {
            b.set_length(p.total as u64);
            b.set_position(p.done as u64);
        })
}

pub async fn run(ctx: &Ctx, cmd: CheckinCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let oa = client.oa();
    match cmd {
        CheckinCmd::Records {
            from,
            to,
            users: u,
            concurrency,
        } => {
            let (start, end) = (parse_time(&from)?, parse_time(&to)? + 86_399);
            let bar = bar(ctx);
            let mut batches = std::pin::pin!(oa.checkin_records_in(
                start,
                end,
                users(&u)?,
                fetch(&bar, concurrency)
            ));
            let mut n = 0usize;
            let mut exceptions = 0usize;
            while let Some(batch) = batches.try_next().await? {
                for r in &batch {
                    n += 1;
                    if r.exception_type.as_deref().is_some_and(|e| !e.is_empty()) {
                        exceptions += 1;
                    }
                    if ctx.out.json {
                        ctx.out.json_line(r)?;
                    }
                }
            }
            bar.finish_and_clear();
            if ctx.out.json {
                return Ok(());
            }
            ctx.out
                .emit(&json!({ "records": n, "exceptions": exceptions }), || {
                    format!("{n} records, {exceptions} with an exception")
                })
        }
        CheckinCmd::Report {
            kind,
            from,
            to,
            users: u,
            concurrency,
        } => {
            let (start, end) = (parse_time(&from)?, parse_time(&to)?);
            let bar = bar(ctx);
            let mut rows = Vec::new();
            match kind {
                ReportKind::Month => {
                    let mut s = std::pin::pin!(oa.checkin_month_reports_in(
                        start,
                        end,
                        users(&u)?,
                        fetch(&bar, concurrency)
                    ));
                    while let Some(batch) = s.try_next().await? {
                        for d in batch {
                            if ctx.out.json {
                                ctx.out.json_line(&d)?;
                                continue;
                            }
                            let sum = d.summary_info.clone().unwrap_or_default();
                            rows.push(vec![
                                d.base_info.acctid.clone(),
                                d.base_info.name.clone().unwrap_or_default(),
                                sum.work_days.unwrap_or(0).to_string(),
                                sum.except_days.unwrap_or(0).to_string(),
                                format!("{:.1}", sum.regular_work_sec.unwrap_or(0) as f64 / 3600.0),
                            ]);
                        }
                    }
                    bar.finish_and_clear();
                    if !ctx.out.json {
                        crate::output::write_stdout(&table(
                            &["userid", "name", "work days", "exception days", "hours"],
                            &rows,
                        ))?;
                    }
                }
                ReportKind::Day => {
                    let mut s = std::pin::pin!(oa.checkin_day_reports_in(
                        start,
                        end,
                        users(&u)?,
                        fetch(&bar, concurrency)
                    ));
                    while let Some(batch) = s.try_next().await? {
                        for d in batch {
                            if ctx.out.json {
                                ctx.out.json_line(&d)?;
                                continue;
                            }
                            let sum = d.summary_info.clone().unwrap_or_default();
                            rows.push(vec![
                                d.base_info.acctid.clone(),
                                d.base_info.date.to_string(),
                                sum.checkin_count.unwrap_or(0).to_string(),
                                format!("{:.1}", sum.regular_work_sec.unwrap_or(0) as f64 / 3600.0),
                                d.exception_infos.len().to_string(),
                            ]);
                        }
                    }
                    bar.finish_and_clear();
                    if !ctx.out.json {
                        crate::output::write_stdout(&table(
                            &["userid", "day", "check-ins", "hours", "exceptions"],
                            &rows,
                        ))?;
                    }
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_china_midnight() {
        assert_eq!(parse_time("2026-11-01").ok(), Some(1_793_462_400));
        assert_eq!(parse_time("1700000000").ok(), Some(1_700_000_000));
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
