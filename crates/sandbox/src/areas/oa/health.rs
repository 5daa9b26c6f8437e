//! 健康上报 (health reports). The sandbox corp has [`JOBS`] running report jobs, each asking
//! every enabled member two questions (a choice with options 有/没有 and a free-text 常驻地址, the
//! two kinds the page's example shows). Who answered on a day, and what, is generated from the
//! corp id, the job, the day and the userid (FNV-1a, stable across runs and machines): about four
//! members in five answer each day. Usage statistics (`pv`, `uv`) count those answers.
//!
//! Days are `YYYY-MM-DD` in Beijing time (UTC+8) by the sandbox clock. The pages bound them: job
//! details and answers only for the last 14 days (仅支持获取最近14天数据), statistics at most 30
//! days back (最长支持获取30天前数据); a day outside, a day in the future or an unknown job is
//! answered with 40058 (the pages name no errcode).

use wecom_oa::{
    HealthAnswer, HealthApplyRange, HealthOption, HealthQuestion, HealthQuestionType,
    HealthReportAnswerRequest, HealthReportAnswerResponse, HealthReportJob,
    HealthReportJobInfoRequest, HealthReportJobInfoResponse, HealthReportJobidsRequest,
    HealthReportJobidsResponse, HealthReportStatRequest, HealthReportStatResponse, HealthReportTo,
    HealthReportValue,
};

use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::State;

/// How many report jobs the sandbox corp runs.
pub const JOBS: u32 = 3;
const DAY: i64 = 86_400;
const BEIJING: i64 = 8 * 3600;
const PLACES: [&str; 4] = ["广东省广州市", "广东省深圳市", "北京市", "上海市"];

pub(super) fn register(r: &mut Registry) {
    r.add::<HealthReportStatRequest, _, _>(stat);
    r.add::<HealthReportJobidsRequest, _, _>(jobids);
    r.add::<HealthReportJobInfoRequest, _, _>(job_info);
    r.add::<HealthReportAnswerRequest, _, _>(answer);
}

/// FNV-1a over the parts, separated.
fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The corp's job ids, in order.
pub fn job_ids(corpid: &str) -> Vec<String> {
    (1..=JOBS)
        .map(|n| format!("hj{:012x}{n}", hash(&[corpid]) & 0xffff_ffff_ffff))
        .collect()
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day number of `YYYY-MM-DD`, if it is a real date.
fn parse_day(date: &str) -> Option<i64> {
    let mut it = date.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let n = days_from_civil(y, m, d);
    // 2023-02-30 and the like roll over into another month: refuse them.
    (days_from_civil(y, m, 1) + d - 1 == n && (m == 12 || n < days_from_civil(y, m + 1, 1)))
        .then_some(n)
}

/// The day of `date`, within the last `back` days (today included) by the sandbox clock.
fn day_within(state: &State, date: &str, back: i64, rule: &str) -> Result<i64, ApiError> {
    let day = parse_day(date).ok_or_else(|| {
        ApiError::invalid_parameter(format!("date {date:?} is not a day YYYY-MM-DD"))
    })?;
    let today = (state.now_secs() + BEIJING).div_euclid(DAY);
    if day > today || day <= today - back {
        return Err(ApiError::invalid_parameter(format!(
            "date {date} is outside the last {back} days ({rule})"
        )));
    }
    Ok(day)
}

fn job_index(corpid: &str, jobid: &str) -> Result<usize, ApiError> {
    job_ids(corpid)
        .iter()
        .position(|j| j == jobid)
        .ok_or_else(|| ApiError::invalid_parameter(format!("jobid {jobid} names no report job")))
}

fn questions() -> Vec<HealthQuestion> {
    let mut choice = HealthQuestion::new()
        .question_id(1)
        .title("请问你有任何身体不适吗?")
        .question_type(HealthQuestionType::SingleChoice)
        .is_required(1);
    choice.option_list = vec![
        HealthOption::new().option_id(1).option_text("有"),
        HealthOption::new().option_id(2).option_text("没有"),
    ];
    let text = HealthQuestion::new()
        .question_id(2)
        .title("常驻地址")
        .question_type(HealthQuestionType::Text)
        .is_required(0);
    vec![choice, text]
}

/// Every enabled member's answers to job `jobid` on day `day`, in userid order.
fn answers_of(state: &State, jobid: &str, day: i64) -> Vec<HealthAnswer> {
    let corp = state.corp();
    let corpid = corp.corpid().to_owned();
    let day_s = day.to_string();
    let mut users: Vec<String> = corp
        .members()
        .filter(|m| m.enable != 0)
        .map(|m| m.userid.clone())
        .collect();
    users.sort();
    users
        .into_iter()
        .filter_map(|u| {
            let h = hash(&[&corpid, jobid, &day_s, &u]);
            if h % 5 == 4 {
                return None; // about one member in five does not answer that day
            }
            let at = day * DAY - BEIJING + 7 * 3600 + i64::try_from((h >> 8) % 7200).unwrap_or(0);
            let choice = if (h >> 20).is_multiple_of(10) { 1 } else { 2 };
            let place = PLACES[usize::try_from((h >> 32) % 4).unwrap_or(0)];
            let mut a = HealthAnswer::new()
                .id_type(1)
                .userid(u)
                .report_time(u32::try_from(at).unwrap_or(0));
            a.report_values = vec![
                HealthReportValue::new()
                    .question_id(1)
                    .single_choice(choice),
                HealthReportValue::new().question_id(2).text(place),
            ];
            Some(a)
        })
        .collect()
}

async fn stat(
    ctx: Ctx,
    req: HealthReportStatRequest,
) -> Result<HealthReportStatResponse, ApiError> {
    let state = ctx.state();
    let day = day_within(state, &req.date, 30, "最长支持获取30天前数据")?;
    let corpid = state.corp().corpid().to_owned();
    let mut uv = std::collections::BTreeSet::new();
    let mut pv = 0u64;
    for j in job_ids(&corpid) {
        for a in answers_of(state, &j, day) {
            pv += 1;
            uv.insert(a.userid.unwrap_or_default());
        }
    }
    Ok(HealthReportStatResponse::new()
        .pv(pv)
        .uv(u64::try_from(uv.len()).unwrap_or(u64::MAX)))
}

async fn jobids(
    ctx: Ctx,
    req: HealthReportJobidsRequest,
) -> Result<HealthReportJobidsResponse, ApiError> {
    let all = job_ids(ctx.state().corp().corpid());
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.unwrap_or(100) as usize;
    let page: Vec<String> = all.iter().skip(offset).take(limit).cloned().collect();
    let ending = u32::from(offset + page.len() >= all.len());
    Ok(HealthReportJobidsResponse::new()
        .ending(ending)
        .jobids(page))
}

async fn job_info(
    ctx: Ctx,
    req: HealthReportJobInfoRequest,
) -> Result<HealthReportJobInfoResponse, ApiError> {
    let state = ctx.state();
    let (corpid, creator) = {
        let corp = state.corp();
        let mut ids: Vec<String> = corp.members().map(|m| m.userid.clone()).collect();
        ids.sort();
        (
            corp.corpid().to_owned(),
            ids.into_iter().next().unwrap_or_default(),
        )
    };
    let n = job_index(&corpid, &req.jobid)?;
    let day = day_within(state, &req.date, 14, "仅支持获取最近14天数据")?;
    let finished = answers_of(state, &req.jobid, day).len();
    let mut job = HealthReportJob::new()
        .title(format!("每日健康上报 {}", n + 1))
        .creator(creator.clone())
        .job_type(1)
        .apply_range(HealthApplyRange::new().partyids(vec![1u32]))
        .report_to(HealthReportTo::new().userids(vec![creator]))
        .report_type(1)
        .skip_weekend(0)
        .finish_cnt(u32::try_from(finished).unwrap_or(u32::MAX));
    job.question_templates = questions();
    Ok(HealthReportJobInfoResponse::new().job_info(job))
}

async fn answer(
    ctx: Ctx,
    req: HealthReportAnswerRequest,
) -> Result<HealthReportAnswerResponse, ApiError> {
    let state = ctx.state();
    let corpid = state.corp().corpid().to_owned();
    job_index(&corpid, &req.jobid)?;
    let day = day_within(state, &req.date, 14, "仅支持获取最近14天数据")?;
    let offset = req.offset.unwrap_or(0) as usize;
    let limit = req.limit.unwrap_or(100) as usize;
    let page: Vec<HealthAnswer> = answers_of(state, &req.jobid, day)
        .into_iter()
        .skip(offset)
        .take(limit)
        .collect();
    Ok(HealthReportAnswerResponse::new().answers(page))
}

/// The answers the sandbox generates for `jobid` on `date` (for tests and the admin API).
pub fn generated_answers(state: &State, jobid: &str, date: &str) -> Vec<HealthAnswer> {
    parse_day(date)
        .map(|day| answers_of(state, jobid, day))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(parse_day("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("2023-13-01"), None);
        assert_eq!(parse_day("x"), None);
    }

    #[test]
    fn job_ids_are_stable_per_corp() {
        assert_eq!(job_ids("ww1"), job_ids("ww1"));
        assert_ne!(job_ids("ww1"), job_ids("ww2"));
        assert_eq!(job_ids("ww1").len(), JOBS as usize);
    }
}
