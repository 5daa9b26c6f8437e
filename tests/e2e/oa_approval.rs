//! Approvals, check-in and journals through the client against the sandbox: a template's typed
//! controls, an application built from it (a wrong value type refused before any call, with the
//! control's title), the approver's decision through the admin API pushing `sys_approval_change`
//! to the app's callback, the application numbers as a stream, and a month of check-in records
//! and reports split into the fewest calls.

use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, EventKind, Inbound};
use wecom_core_auth::{Error, Secret};
use wecom_oa::approval::{Template, Value};
use wecom_oa::checkin::Fetch;
use wecom_oa::{ApprovalCreateTemplateRequest, ApprovalTemplateContent, OaExt, SpStatus};
use wecom_sandbox::corp::CallbackConfig;
use wecom_tests::{DEMO_APPROVAL_AGENTID, demo, fast_retries, member_id};

type Res = Result<(), Box<dyn std::error::Error>>;

const TOKEN: &str = "e2eApprovalToken";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const BUILTIN: &str = "sandbox-expense";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_control_type_is_refused_before_any_call_with_its_title() -> Res {
    let w = demo().await?;
    let oa = w.client.oa();
    let detail = oa.approval_template_detail(BUILTIN).await?;
    let template = Template::from_detail(BUILTIN, &detail);
    assert_eq!(template.controls.len(), 4);
    w.admin().reset_counters();
    let e = template
        .application("lina")
        .set("金额", Value::text("a lot"))
        .err()
        .ok_or("a text for a Money control was accepted")?;
    assert!(e.to_string().contains("金额"), "{e}");
    // Sent anyway through the raw call: the spec check refuses it before I/O too.
    let raw = wecom_oa::ApprovalApplyRequest::new(
        "lina",
        BUILTIN,
        1,
        wecom_oa::ApprovalApplyData::new(vec![wecom_oa::ApprovalContent::new(
            "Money",
            "Money-2",
            serde_json::json!({ "text": "a lot" }),
        )]),
    );
    let err = w.client.execute(raw).await.err().ok_or("sent")?;
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert_eq!(
        w.admin().count("approval_apply"),
        0,
        "nothing reached WeCom"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_round_trip_with_its_callback() -> Res {
    let w = demo().await?;
    let admin = w.admin();
    let corpid = w.sandbox.credentials().corpid;
    let seen: Arc<Mutex<Vec<(String, i64, i64)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, corpid)?;
    let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = Arc::clone(&log);
        async move {
            if let Inbound::Event(e) = &inbound
                && let EventKind::SysApprovalChange(info) = &e.kind
                && let Ok(mut log) = log.lock()
            {
                // Newer deliveries carry SpNoStr beside SpNo (pages 96508 / 92633).
                assert_eq!(info.sp_no_str.as_deref(), Some(info.sp_no.as_str()));
                log.push((info.sp_no.clone(), info.sp_status, info.statu_change_event));
            }
            None
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    admin
        .set_app_callback(
            DEMO_APPROVAL_AGENTID,
            Some(CallbackConfig {
                url,
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(AES_KEY.to_owned()),
            }),
        )
        .await?;

    // A template of our own, then an application of it built from its typed controls.
    let content: ApprovalTemplateContent = serde_json::from_value(serde_json::json!({
        "controls": [
            { "property": { "control": "Text", "id": "Text-1", "title": [{ "text": "事由", "lang": "zh_CN" }], "require": 1 } },
            { "property": { "control": "Number", "id": "Number-2", "title": [{ "text": "天数", "lang": "zh_CN" }], "require": 1 } }
        ]
    }))?;
    let created = w
        .client
        .execute(
            ApprovalCreateTemplateRequest::new(vec![wecom_oa::ApprovalText::new("出差", "zh_CN")])
                .template_content(content),
        )
        .await?;
    let oa = w.client.oa();
    let template = Template::from_detail(
        created.template_id.clone(),
        &oa.approval_template_detail(created.template_id.clone())
            .await?,
    );
    let request = template
        .application("lina")
        .set("事由", Value::text("客户拜访"))?
        .set("天数", Value::number(3))?
        .approvers(["zhangwei"])
        .build()?;
    let sp_no = w.client.execute(request).await?.sp_no;

    let detail = oa.approval_detail(sp_no.clone()).await?.info;
    assert_eq!(detail.sp_status, SpStatus::InReview);
    assert_eq!(detail.applyer.map(|a| a.userid).as_deref(), Some("lina"));

    // The approver approves through the admin API: SpStatus moves and the app is told.
    let pushed = admin
        .approval_decide(&sp_no, "zhangwei", true, "同意")
        .await?;
    assert!(pushed.first().is_some_and(|r| r.delivered), "{pushed:?}");
    let detail = oa.approval_detail(sp_no.clone()).await?.info;
    assert_eq!(detail.sp_status, SpStatus::Approved);
    assert!(
        admin
            .approval_decide(&sp_no, "zhangwei", false, "")
            .await
            .is_err()
    );

    // Numbers of the range, as a stream.
    let now = detail.apply_time.unwrap_or(0);
    let numbers: Vec<String> = oa
        .approval_numbers(now - 60, now + 60, Vec::new())
        .try_concat()
        .await?;
    assert_eq!(numbers, vec![sp_no.clone()]);

    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(seen, vec![(sp_no.clone(), 1, 1), (sp_no, 2, 2)]);
    server.abort();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_records_and_reports_in_the_fewest_calls() -> Res {
    let members = 250;
    let w = wecom_tests::big(members, fast_retries(1)).await?;
    let oa = w.client.oa();
    let users: Vec<String> = (0..members).map(member_id).collect();
    // 2026-11-01 00:00 to 2026-11-30 23:59:59, China time: 30 days.
    let (start, end) = (1_793_462_400, 1_793_462_400 + 30 * 86_400 - 1);
    w.admin().reset_counters();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let p = Arc::clone(&progress);
    let records: Vec<_> = oa
        .checkin_records_in(
            start,
            end,
            users.clone(),
            Fetch::default().concurrency(3).on_progress(move |pr| {
                if let Ok(mut p) = p.lock() {
                    p.push(pr.done);
                }
            }),
        )
        .try_concat()
        .await?;
    assert_eq!(
        w.admin().count("checkin_records"),
        3,
        "250 members: 3 calls"
    );
    assert_eq!(progress.lock().map_err(|_| "poisoned")?.len(), 3);
    // November 2026 has 21 workdays; two check-ins each.
    assert_eq!(records.len(), members * 21 * 2);
    let again: Vec<_> = oa
        .checkin_records_in(start, end, users.clone(), Fetch::default())
        .try_concat()
        .await?;
    assert_eq!(records, again, "generated from a seed: the same every time");

    let months: Vec<_> = oa
        .checkin_month_reports_in(start, end - 86_399, users.clone(), Fetch::default())
        .try_concat()
        .await?;
    assert_eq!(months.len(), members);
    let s = months[0].summary_info.clone().ok_or("no summary")?;
    assert_eq!(s.work_days, Some(21));
    assert!(s.regular_work_sec.unwrap_or(0) > 0);

    // Over 30 days in one raw call: refused before I/O with WeCom's code.
    w.admin().reset_counters();
    let e = oa
        .checkin_records(3, start, start + 31 * 86_400, vec!["u00000".to_owned()])
        .await
        .err()
        .ok_or("accepted")?;
    assert!(
        matches!(&e, Error::Invalid(i) if i.errcode == Some(301024)),
        "{e:?}"
    );
    assert_eq!(w.admin().count("checkin_records"), 0);
    Ok(())
}
