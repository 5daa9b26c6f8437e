//! `wecom health jobs|answers|stat`: 健康上报 report jobs, the answers of a day and the usage
//! statistics. Days are `YYYY-MM-DD` (today in Beijing time by default); jobs and answers reach
//! back 14 days, statistics 30.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Subcommand;
use futures_util::TryStreamExt as _;
use serde_json::json;
use wecom::oa::{HealthAnswer, HealthReportValue, OaExt as _};

use super::Ctx;
use super::schedule::show_time;
use crate::error::CliError;
use crate::output::table;

/// `wecom health`
#[derive(Debug, Subcommand)]
pub enum HealthCmd {
    /// The running report jobs (every page), with their titles on the day.
    Jobs {
        /// The day, `YYYY-MM-DD` (default: today, Beijing time).
        #[arg(long)]
        date: Option<String>,
    },
    /// The answers of a job on a day (every page).
    Answers {
        /// The job id.
        jobid: String,
        /// The day, `YYYY-MM-DD` (default: today, Beijing time).
        #[arg(long)]
        date: Option<String>,
    },
    /// How often the app was used on a day (pv) and by how many members (uv).
    Stat {
        /// The day, `YYYY-MM-DD` (default: today, Beijing time).
        #[arg(long)]
        date: Option<String>,
    },
}

/// Today in Beijing time, `YYYY-MM-DD`.
fn today() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    show_time(u32::try_from(now).ok())
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn value_text(v: &HealthReportValue) -> String {
    if let Some(c) = v.single_choice {
        format!("option {c}")
    } else if !v.multi_choice.is_empty() {
        let ids: Vec<String> = v.multi_choice.iter().map(u32::to_string).collect();
        format!("options {}", ids.join(","))
    } else if let Some(t) = &v.text {
        t.clone()
    } else if !v.fileid.is_empty() {
        format!("{} file(s)", v.fileid.len())
    } else {
        "-".to_owned()
    }
}

fn who(a: &HealthAnswer) -> String {
    match (&a.userid, &a.parent_userid, &a.student_userid) {
        (Some(u), _, _) => u.clone(),
        (None, Some(p), Some(s)) => format!("{p} (for {s})"),
        (None, Some(p), None) => p.clone(),
        _ => "-".to_owned(),
    }
}

pub async fn run(ctx: &Ctx, cmd: HealthCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let oa = client.oa();
    match cmd {
        HealthCmd::Jobs { date } => {
            let date = date.unwrap_or_else(today);
            let ids: Vec<String> = oa
                .health_report_job_ids()
                .try_collect::<Vec<_>>()
                .await?
                .concat();
            let mut jobs = Vec::with_capacity(ids.len());
            for id in &ids {
                let info = oa
                    .health_report_job_info(id.as_str(), date.as_str())
                    .await?;
                jobs.push(json!({"jobid": id, "job_info": info.job_info}));
            }
            ctx.out.emit(&json!({"date": date, "jobs": jobs}), || {
                let rows: Vec<Vec<String>> = jobs
                    .iter()
                    .map(|j| {
                        let info = &j["job_info"];
                        vec![
                            j["jobid"].as_str().unwrap_or_default().to_owned(),
                            info["title"].as_str().unwrap_or_default().to_owned(),
                            info["creator"].as_str().unwrap_or_default().to_owned(),
                            info["finish_cnt"].as_u64().unwrap_or_default().to_string(),
                        ]
                    })
                    .collect();
                table(&["JOB", "TITLE", "CREATOR", "REPORTED"], &rows)
            })
        }
        HealthCmd::Answers { jobid, date } => {
            let date = date.unwrap_or_else(today);
            let answers: Vec<HealthAnswer> = oa
                .health_report_answers(jobid.as_str(), date.as_str())
                .try_collect::<Vec<_>>()
                .await?
                .concat();
            ctx.out.emit(
                &json!({"jobid": jobid, "date": date, "answers": answers}),
                || {
                    let rows: Vec<Vec<String>> = answers
                        .iter()
                        .map(|a| {
                            vec![
                                who(a),
                                show_time(a.report_time),
                                a.report_values
                                    .iter()
                                    .map(|v| {
                                        format!(
                                            "Q{}: {}",
                                            v.question_id.unwrap_or_default(),
                                            value_text(v)
                                        )
                                    })
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            ]
                        })
                        .collect();
                    table(&["WHO", "AT", "ANSWERS"], &rows)
                },
            )
        }
        HealthCmd::Stat { date } => {
            let date = date.unwrap_or_else(today);
            let s = oa.health_report_stat(date.as_str()).await?;
            ctx.out.emit(&s, || {
                format!(
                    "{date}: {} uses by {} members",
                    s.pv.unwrap_or_default(),
                    s.uv.unwrap_or_default()
                )
            })
        }
    }
}
