//! Office automation part 3, 健康上报 end to end: report jobs, their questions, the generated
//! answers (deterministic per corp, job and day) streamed page by page, usage statistics, the
//! pages' day bounds (14 days for jobs and answers, 30 for statistics) and bad input refused
//! before any request.

use futures_util::TryStreamExt;
use wecom_core_auth::{Client, Error, Secret};
use wecom_oa::{HealthQuestionType, OaExt};
use wecom_sandbox::areas::oa::health as sbx;
use wecom_sandbox::corp::{App, Corp, Member};
use wecom_sandbox::{Sandbox, SandboxClock};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CORPID: &str = "wwoahealth0000001";
const ONE: u32 = 1_000_001;
/// 2026-12-03 02:00 UTC (10:00 in Beijing), the sandbox clock.
const NOW: i64 = 1_796_263_200;
const TODAY: &str = "2026-12-03";

fn corp(members: usize) -> Corp {
    let mut c = Corp::new(CORPID, "公司", "contact-secret-for-the-health-tests");
    for i in 0..members {
        c.create_member(
            Member::new(format!("m{i:03}"), format!("成员{i}"), vec![1])
                .with_mobile(format!("138{i:08}")),
        )
        .expect("member");
    }
    let mut app = App::new(ONE, "App", "app-secret-for-the-health-tests");
    app.allow_parties = vec![1];
    c.add_app(app).expect("app");
    c
}

async fn start(members: usize) -> Result<(Sandbox, Client), Box<dyn std::error::Error>> {
    let sb = Sandbox::builder()
        .corp(corp(members))
        .clock(SandboxClock::frozen_at(NOW * 1000))
        .start()
        .await?;
    let client = Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(
            ONE,
            Secret::new("app-secret-for-the-health-tests".to_owned()),
        )
        .build()?;
    Ok((sb, client))
}

fn errcode<T: std::fmt::Debug>(result: Result<T, Error>) -> i64 {
    match result {
        Err(e) => e
            .errcode()
            .unwrap_or_else(|| panic!("expected an errcode, got {e}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[tokio::test]
async fn jobs_questions_and_answers_of_a_day() -> TestResult {
    let (sb, client) = start(250).await?;
    let oa = client.oa();

    // Job ids: one page of 100, or page by page with the stream (`ending` ends it).
    let page = oa.health_report_jobids().limit(2).await?;
    assert_eq!((page.jobids.len(), page.ending), (2, Some(0)));
    let all: Vec<String> = oa
        .health_report_job_ids()
        .try_collect::<Vec<_>>()
        .await?
        .concat();
    assert_eq!(all, sbx::job_ids(CORPID));
    let jobid = all[0].clone();

    let job = oa
        .health_report_job_info(jobid.as_str(), TODAY)
        .await?
        .job_info
        .expect("job_info");
    assert_eq!(job.job_type, Some(1));
    let kinds: Vec<_> = job
        .question_templates
        .iter()
        .map(|q| q.question_type)
        .collect();
    assert_eq!(
        kinds,
        vec![
            Some(HealthQuestionType::SingleChoice),
            Some(HealthQuestionType::Text)
        ]
    );
    assert_eq!(job.question_templates[0].option_list.len(), 2);

    // Answers: 250 members, about four in five answer; three pages of at most 100.
    sb.admin().reset_counters();
    let pages: Vec<Vec<_>> = oa
        .health_report_answers(jobid.as_str(), TODAY)
        .try_collect()
        .await?;
    let answers: Vec<_> = pages.concat();
    let expected = sbx::generated_answers(sb.admin().state(), &jobid, TODAY);
    assert_eq!(answers, expected);
    assert!(
        (150..250).contains(&answers.len()),
        "{} answered",
        answers.len()
    );
    assert_eq!(
        sb.admin().count("health_report_answer"),
        u64::try_from(answers.len() / 100 + 1)?
    );
    assert_eq!(job.finish_cnt, Some(u32::try_from(answers.len())?));
    let first = &answers[0];
    assert_eq!(first.id_type, Some(1));
    assert_eq!(first.report_values.len(), 2);
    assert!(matches!(first.report_values[0].single_choice, Some(1 | 2)));
    assert!(first.report_values[1].text.is_some());

    // The same corp, job and day answer the same; another day differs.
    let again: Vec<_> = oa
        .health_report_answers(jobid.as_str(), TODAY)
        .try_collect::<Vec<_>>()
        .await?
        .concat();
    assert_eq!(again, answers);
    let yesterday = oa
        .health_report_answer(jobid.as_str(), "2026-12-02")
        .limit(100)
        .await?
        .answers;
    assert_ne!(
        yesterday,
        answers[..yesterday.len().min(answers.len())].to_vec()
    );

    // Statistics: every job's answers that day (pv), by distinct members (uv).
    let stat = oa.health_report_stat(TODAY).await?;
    let mut pv = 0u64;
    let mut uv = std::collections::BTreeSet::new();
    for j in sbx::job_ids(CORPID) {
        for a in sbx::generated_answers(sb.admin().state(), &j, TODAY) {
            pv += 1;
            uv.insert(a.userid.unwrap_or_default());
        }
    }
    assert_eq!(
        (stat.pv, stat.uv),
        (Some(pv), Some(u64::try_from(uv.len())?))
    );
    Ok(())
}

#[tokio::test]
async fn days_outside_the_pages_bounds_and_unknown_jobs() -> TestResult {
    let (_sb, client) = start(5).await?;
    let oa = client.oa();
    let jobid = sbx::job_ids(CORPID).remove(0);
    // 14 days for jobs and answers (today and the 13 before), 30 for statistics.
    assert!(
        oa.health_report_job_info(jobid.as_str(), "2026-11-20")
            .await
            .is_ok()
    );
    assert_eq!(
        errcode(
            oa.health_report_job_info(jobid.as_str(), "2026-11-19")
                .await
        ),
        40058
    );
    assert_eq!(
        errcode(oa.health_report_answer(jobid.as_str(), "2026-12-04").await),
        40058
    );
    assert!(oa.health_report_stat("2026-11-04").await.is_ok());
    assert_eq!(errcode(oa.health_report_stat("2026-11-03").await), 40058);
    assert_eq!(errcode(oa.health_report_stat("2026-02-30").await), 40058);
    assert_eq!(
        errcode(oa.health_report_job_info("nosuchjob", TODAY).await),
        40058
    );
    Ok(())
}

#[tokio::test]
async fn bad_health_input_never_leaves_the_client() -> TestResult {
    let (sb, client) = start(5).await?;
    let oa = client.oa();
    for r in [
        oa.health_report_stat("2026/12/03").await.map(|_| ()),
        oa.health_report_job_info("j", "20261203").await.map(|_| ()),
        oa.health_report_answer("j", TODAY)
            .limit(101)
            .await
            .map(|_| ()),
        oa.health_report_answer("j", TODAY)
            .limit(0)
            .await
            .map(|_| ()),
        oa.health_report_jobids().limit(101).await.map(|_| ()),
    ] {
        assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    }
    assert_eq!(
        sb.admin().counters().iter().map(|(_, n)| n).sum::<u64>(),
        0,
        "no request reached the sandbox"
    );
    Ok(())
}
