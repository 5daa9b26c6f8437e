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

/// A callback router recording every `sys_approval_change` (SpNo, SpStatus, StatuChangeEvent),
/// served on a local port and set as the approval app's callback.
async fn approval_callbacks(
    w: &wecom_tests::World,
) -> Result<
    (
        Arc<Mutex<Vec<(String, i64, i64)>>>,
        tokio::task::JoinHandle<()>,
    ),
    Box<dyn std::error::Error>,
> {
    let seen: Arc<Mutex<Vec<(String, i64, i64)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, w.sandbox.credentials().corpid)?;
    let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = Arc::clone(&log);
        async move {
            if let Inbound::Event(e) = &inbound
                && let EventKind::SysApprovalChange(info) = &e.kind
                && let Ok(mut log) = log.lock()
            {
                log.push((info.sp_no.clone(), info.sp_status, info.statu_change_event));
            }
            None
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    w.admin()
        .set_app_callback(
            DEMO_APPROVAL_AGENTID,
            Some(CallbackConfig {
                url,
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(AES_KEY.to_owned()),
            }),
        )
        .await?;
    Ok((seen, server))
}

/// The `notice` a page form answered with (its 303 redirect).
async fn form_post(
    w: &wecom_tests::World,
    path: &str,
    fields: &[(&str, &str)],
) -> Result<String, Box<dyn std::error::Error>> {
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let r = c
        .post(format!("{}{path}", w.sandbox.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", w.sandbox.base_url())
        .body(body)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 303, "{path}");
    let loc = r
        .headers()
        .get("location")
        .ok_or("no location")?
        .to_str()?
        .to_owned();
    let q = loc.split_once('?').map(|(_, q)| q).unwrap_or("");
    let q = q.split('#').next().unwrap_or("");
    Ok(url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "notice")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default())
}

async fn page(w: &wecom_tests::World) -> Result<String, Box<dyn std::error::Error>> {
    Ok(reqwest::get(format!("{}/", w.sandbox.base_url()))
        .await?
        .text()
        .await?)
}

/// A member submits an application from a template on the sandbox's web page and the approver
/// approves one and rejects another there: SpStatus moves (read back through the API) and each
/// step reaches the app's callback router as `sys_approval_change`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_page_runs_the_approval_flow() -> Res {
    let w = demo().await?;
    let (seen, server) = approval_callbacks(&w).await?;
    let html = page(&w).await?;
    assert!(
        html.contains("id=\"approval-form-sandbox-expense\""),
        "a form for the built-in template"
    );
    let agent = DEMO_APPROVAL_AGENTID.to_string();
    let submit = |money: &'static str| {
        vec![
            ("template_id", BUILTIN),
            ("userid", "lina"),
            ("approver", "zhangwei"),
            ("c:Text-1", "客户拜访"),
            ("c:Money-2", money),
            ("c:Selector-3", "option-1"),
            ("c:Date-4", "2026-11-02"),
        ]
    };
    // A wrong value for the Money control: refused, naming the control, nothing submitted.
    let mut bad = submit("a lot");
    bad.push(("agentid", &agent));
    let notice = form_post(&w, "/sandbox/ui/approval/submit", &bad).await?;
    assert!(notice.contains("金额"), "{notice}");
    let mut fields = submit("120.50");
    fields.push(("agentid", &agent));
    let notice = form_post(&w, "/sandbox/ui/approval/submit", &fields).await?;
    let sp_no = notice
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.strip_suffix(';'))
        .ok_or_else(|| format!("no application number in {notice:?}"))?
        .to_owned();
    assert!(
        notice.contains("已推送") && notice.contains("sys_approval_change"),
        "{notice}"
    );
    let oa = w.client.oa();
    let detail = oa.approval_detail(sp_no.clone()).await?.info;
    assert_eq!(detail.sp_status, SpStatus::InReview);
    assert_eq!(detail.applyer.map(|a| a.userid).as_deref(), Some("lina"));
    let contents = detail.apply_data.map(|d| d.contents).unwrap_or_default();
    assert_eq!(contents.len(), 4, "{contents:?}");
    assert!(
        page(&w)
            .await?
            .contains(&format!("id=\"approval-{sp_no}\""))
    );

    // The approver approves on the page.
    let notice = form_post(
        &w,
        "/sandbox/ui/approval/decide",
        &[
            ("sp_no", &sp_no),
            ("approver", "zhangwei"),
            ("speech", "同意"),
            ("decision", "approve"),
        ],
    )
    .await?;
    assert!(notice.contains("已通过"), "{notice}");
    assert_eq!(
        oa.approval_detail(sp_no.clone()).await?.info.sp_status,
        SpStatus::Approved
    );
    assert!(
        !page(&w)
            .await?
            .contains(&format!("id=\"approval-{sp_no}\"")),
        "no longer pending"
    );

    // A second one, rejected.
    let notice = form_post(&w, "/sandbox/ui/approval/submit", &fields).await?;
    let second = notice
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.strip_suffix(';'))
        .ok_or("no number")?
        .to_owned();
    let notice = form_post(
        &w,
        "/sandbox/ui/approval/decide",
        &[
            ("sp_no", &second),
            ("approver", "zhangwei"),
            ("decision", "reject"),
        ],
    )
    .await?;
    assert!(notice.contains("已驳回"), "{notice}");
    assert_eq!(
        oa.approval_detail(second.clone()).await?.info.sp_status,
        SpStatus::Rejected
    );
    // Deciding again is refused.
    let notice = form_post(
        &w,
        "/sandbox/ui/approval/decide",
        &[
            ("sp_no", &second),
            ("approver", "zhangwei"),
            ("decision", "approve"),
        ],
    )
    .await?;
    assert!(notice.contains("already decided"), "{notice}");

    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(
        seen,
        vec![
            (sp_no.clone(), 1, 1),
            (sp_no, 2, 2),
            (second.clone(), 1, 1),
            (second, 3, 3)
        ]
    );
    server.abort();
    Ok(())
}

/// Rules made with 管理打卡规则 are read back by getcorpcheckinoption and, for the members their
/// range covers, by getcheckinoption; updates keep what is not sent; arrays are emptied only by
/// clear_checkin_option_array_field (not both wifimac_infos and loc_infos); deletion removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_rules_are_created_changed_and_read_back() -> Res {
    use wecom_oa::CheckinOptionGroup;
    let w = demo().await?;
    let oa = w.client.oa();
    let mut group = CheckinOptionGroup::new();
    group.groupname = Some("晚班".into());
    group.grouptype = Some(1);
    group.checkindate = Some(serde_json::json!([{
        "workdays": [1, 2, 3, 4, 5],
        "checkintime": [{ "time_id": 1, "work_sec": 50400, "off_work_sec": 79200 }]
    }]));
    group.range = Some(serde_json::json!({ "userid": ["lina"], "party_id": [], "tagid": [] }));
    group.wifimac_infos =
        Some(serde_json::json!([{ "wifiname": "Office", "wifimac": "c0:7b:bc:37:f8:d3" }]));
    group.loc_infos = Some(serde_json::json!([]));
    oa.checkin_add_option(group).effective_now(true).await?;

    let groups = oa.checkin_corp_option().await?.group;
    let made = groups
        .iter()
        .find(|g| g.groupname.as_deref() == Some("晚班"))
        .ok_or("the new rule is not listed")?;
    let id = made.groupid;
    assert_ne!(id, 1);
    assert_eq!(made.checkindate[0].checkintime[0].work_sec, 50400);
    let day = 1_793_462_400;
    let info = oa
        .checkin_option(day, vec!["lina".to_owned(), "zhangwei".to_owned()])
        .await?
        .info;
    let rule_of = |u: &str| {
        info.iter()
            .find(|i| i.userid == u)
            .and_then(|i| i.group.as_ref())
            .map(|g| g.groupid)
    };
    assert_eq!(rule_of("lina"), Some(id), "covered by the new rule's range");
    assert_eq!(
        rule_of("zhangwei"),
        Some(1),
        "everyone else keeps the built-in rule"
    );

    // An update changes only what it sends.
    let mut change = CheckinOptionGroup::new();
    change.groupid = Some(id);
    change.groupname = Some("晚班二".into());
    change.white_users = Vec::new();
    oa.checkin_update_option(change).await?;
    let groups = oa.checkin_corp_option().await?.group;
    let after = groups.iter().find(|g| g.groupid == id).ok_or("gone")?;
    assert_eq!(after.groupname.as_deref(), Some("晚班二"));
    assert_eq!(after.checkindate[0].checkintime[0].work_sec, 50400, "kept");
    // Without its groupid: refused.
    let e = oa
        .checkin_update_option(CheckinOptionGroup::new())
        .await
        .err()
        .ok_or("an update without groupid was accepted")?;
    assert_eq!(e.errcode(), Some(40058), "{e}");

    // Emptying wifimac_infos would leave no place to check in (loc_infos is empty): refused.
    let e = oa
        .checkin_clear_option_array_field(id, vec![3])
        .await
        .err()
        .ok_or("accepted")?;
    assert!(e.to_string().contains("wifimac_infos"), "{e}");
    oa.checkin_clear_option_array_field(id, vec![1, 2]).await?;
    // Out-of-range field numbers are refused before any call.
    w.admin().reset_counters();
    assert!(matches!(
        oa.checkin_clear_option_array_field(id, vec![5]).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(w.admin().count("checkin_clear_option_array_field"), 0);

    // Another app cannot delete it; its creator can.
    let other = wecom_tests::client_for(
        &w.sandbox,
        &[(
            wecom_tests::DEMO_WEEKLY_AGENTID,
            wecom_tests::DEMO_WEEKLY_SECRET,
        )],
        fast_retries(1),
    )?;
    let e = other
        .oa()
        .checkin_delete_option(id)
        .await
        .err()
        .ok_or("another app deleted the rule")?;
    assert!(e.to_string().contains("another app"), "{e}");
    oa.checkin_delete_option(id).await?;
    let groups = oa.checkin_corp_option().await?.group;
    assert!(groups.iter().all(|g| g.groupid != id));
    assert_eq!(
        oa.checkin_option(day, vec!["lina".to_owned()]).await?.info[0]
            .group
            .as_ref()
            .map(|g| g.groupid),
        Some(1)
    );
    Ok(())
}

/// A transport that notes the injected clock's time of every getcheckindata request, and counts
/// the answers.
#[derive(Debug)]
struct Stamped {
    inner: wecom_core_auth::transport::ReqwestTransport,
    clock: wecom_core_auth::clock::ManualClock,
    at: Arc<Mutex<Vec<std::time::SystemTime>>>,
    answered: Arc<std::sync::atomic::AtomicUsize>,
}

impl wecom_core_auth::transport::Transport for Stamped {
    fn send(
        &self,
        request: wecom_core_auth::transport::HttpRequest,
    ) -> wecom_core_auth::transport::BoxFuture<
        '_,
        Result<wecom_core_auth::transport::HttpResponse, wecom_core_auth::transport::SendError>,
    > {
        use wecom_core_auth::clock::Clock;
        let checkin = request.url.contains("/checkin/getcheckindata");
        if checkin && let Ok(mut at) = self.at.lock() {
            at.push(self.clock.now());
        }
        Box::pin(async move {
            let out = self.inner.send(request).await;
            if checkin {
                self.answered
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            out
        })
    }
}

type Waiters = Arc<Mutex<Vec<(std::time::SystemTime, tokio::sync::oneshot::Sender<()>)>>>;

/// A sleep that waits for the test to move the manual clock past its deadline (so that time
/// moves only while no call is between its admission and its answer).
#[derive(Debug, Clone)]
struct Gate {
    clock: wecom_core_auth::clock::ManualClock,
    waiters: Waiters,
}

impl wecom_core_auth::clock::Sleep for Gate {
    fn sleep(&self, d: std::time::Duration) -> wecom_core_auth::transport::BoxFuture<'static, ()> {
        use wecom_core_auth::clock::Clock;
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Ok(mut w) = self.waiters.lock() {
            w.push((self.clock.now() + d, tx));
        }
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

/// A month of records for 1,000 members (10 calls) under a budget of 4 calls a minute, 8 in
/// flight, on an injected clock that moves only when every unfinished call waits for the budget:
/// the sandbox answers all 10, and no 60-second window of that clock holds more than 4 requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_calls_keep_to_the_per_minute_budget() -> Res {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use wecom_core_auth::clock::{Clock, ManualClock};
    use wecom_oa::checkin::Pace;
    const CALLS: usize = 10;
    let members = 1000;
    let w = wecom_tests::big(members, fast_retries(1)).await?;
    let clock = ManualClock::new();
    let at: Arc<Mutex<Vec<std::time::SystemTime>>> = Arc::default();
    let answered = Arc::new(AtomicUsize::new(0));
    let client = wecom_core_auth::Client::builder(w.sandbox.credentials().corpid)
        .base_url(w.sandbox.base_url())
        .app(
            wecom_tests::BIG_AGENTID,
            Secret::new(wecom_tests::BIG_SECRET.to_owned()),
        )
        .clock(clock.clone())
        .transport(Arc::new(Stamped {
            inner: wecom_core_auth::transport::ReqwestTransport::new(
                &wecom_core_auth::transport::ReqwestConfig::default(),
            )?,
            clock: clock.clone(),
            at: Arc::clone(&at),
            answered: Arc::clone(&answered),
        }))
        .build()?;
    let users: Vec<String> = (0..members).map(member_id).collect();
    let (start, end) = (1_793_462_400, 1_793_462_400 + 30 * 86_400 - 1);
    w.admin().reset_counters();
    let gate = Gate {
        clock: clock.clone(),
        waiters: Waiters::default(),
    };
    // Moves the clock to the next wake-up once every unfinished call sleeps in the pace.
    let finished = Arc::new(AtomicBool::new(false));
    let driver = {
        let (gate, at, answered, finished) = (
            gate.clone(),
            Arc::clone(&at),
            Arc::clone(&answered),
            Arc::clone(&finished),
        );
        tokio::spawn(async move {
            while !finished.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                let done = answered.load(Ordering::SeqCst);
                let sent = at.lock().map(|a| a.len()).unwrap_or(0);
                let Ok(mut waiters) = gate.waiters.lock() else {
                    break;
                };
                if sent != done || waiters.is_empty() || waiters.len() + done != CALLS {
                    continue;
                }
                let Some(next) = waiters.iter().map(|(t, _)| *t).min() else {
                    continue;
                };
                if next > gate.clock.now() {
                    gate.clock.set(next);
                }
                let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut *waiters)
                    .into_iter()
                    .partition(|(t, _)| *t <= next);
                *waiters = rest;
                for (_, tx) in due {
                    let _ = tx.send(());
                }
            }
        })
    };
    let pace = Arc::new(Pace::per_minute(4).with_clock(clock.clone(), gate));
    let batches: Result<Vec<_>, _> = client
        .oa()
        .checkin_records_in(
            start,
            end,
            users,
            Fetch::default().concurrency(8).pace(pace),
        )
        .try_collect()
        .await;
    finished.store(true, Ordering::SeqCst);
    driver.await?;
    assert_eq!(batches?.len(), CALLS);
    assert_eq!(w.admin().count("checkin_records"), CALLS as u64);
    let at = at.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(at.len(), CALLS);
    let minute = std::time::Duration::from_secs(60);
    for t in &at {
        let n = at.iter().filter(|u| **u >= *t && **u < *t + minute).count();
        assert!(n <= 4, "{n} calls in the minute from {t:?}: {at:?}");
    }
    let span = at
        .iter()
        .max()
        .copied()
        .unwrap_or(std::time::UNIX_EPOCH)
        .duration_since(at.iter().min().copied().unwrap_or(std::time::UNIX_EPOCH))?;
    assert!(
        span >= 2 * minute,
        "10 calls at 4 a minute span 3 windows: {span:?}"
    );
    Ok(())
}
