//! 获客助手: links per app, the range and name rules before any request, a customer opening a
//! link (relation, quota, add_external_contact with a WelcomeCode pushed to the app's handler),
//! the customers and statistics read back, deletion.

use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use wecom_callback::generated::events::{CustomerAdded, ExternalContactChange};
use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, EventKind, Inbound};
use wecom_core_auth::{Client, Secret};
use wecom_externalcontact::ExternalcontactExt;
use wecom_externalcontact::generated::externalcontact::{AcquisitionPriority, AcquisitionRange};
use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::externalcontact::outreach::acquisition::{OpeningCustomer, QuotaGrant};
use wecom_sandbox::corp::CallbackConfig;

use crate::common::*;

fn users(ids: &[&str]) -> AcquisitionRange {
    let mut r = AcquisitionRange::new();
    r.user_list = ids.iter().map(|s| (*s).to_owned()).collect();
    r
}

#[tokio::test]
async fn bad_input_fails_before_any_request() -> TestResult {
    let sb = start().await?;
    let client = app_client(&sb, SALES_APP)?;
    let ec = client.externalcontact();
    let before = sb.admin().counters();

    let e = invalid(ec.acquisition_link_create("spring").await);
    assert_eq!(e.field, "range", "members or departments are needed: {e}");
    let e = invalid(
        ec.acquisition_link_create("spring")
            .range(AcquisitionRange::new())
            .await,
    );
    assert_eq!(e.field, "range", "{e}");
    let e = invalid(
        ec.acquisition_link_create("名".repeat(31))
            .range(users(&["alice"]))
            .await,
    );
    assert_eq!(e.field, "link_name", "at most 30 characters: {e}");
    let many: Vec<String> = (0..501).map(|i| format!("u{i}")).collect();
    let mut r = AcquisitionRange::new();
    r.user_list = many;
    let e = invalid(ec.acquisition_link_create("spring").range(r).await);
    assert!(e.field.contains("user_list"), "at most 500 members: {e}");
    let mut p = AcquisitionPriority::new();
    p.priority_type = Some(3);
    let e = invalid(
        ec.acquisition_link_create("spring")
            .range(users(&["alice"]))
            .priority_option(p)
            .await,
    );
    assert!(e.field.contains("priority_type"), "{e}");
    let e = invalid(ec.acquisition_link_list().limit(101).await);
    assert_eq!(e.field, "limit", "at most 100 a page: {e}");
    let e = invalid(ec.acquisition_customers("ca1").limit(1001).await);
    assert_eq!(e.field, "limit");
    let t0 = T0_MS / 1000;
    let e = invalid(ec.acquisition_statistic("ca1", t0, t0 + 31 * 86_400).await);
    assert_eq!(e.field, "end_time", "at most 30 days apart: {e}");

    // "不支持客户联系系统应用调用": a client holding only the 客户联系 secret has no credential
    // for 获客助手, and says so before any request.
    let only_ec = ec_client(&sb)?;
    let r = only_ec.externalcontact().acquisition_quota().await;
    assert!(r.is_err(), "{r:?}");

    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");
    Ok(())
}

#[tokio::test]
async fn links_belong_to_their_app_and_customers_use_the_quota() -> TestResult {
    let sb = start().await?;
    let admin = sb.admin();
    let client = app_client(&sb, SALES_APP)?;
    let ec = client.externalcontact();

    let created = ec
        .acquisition_link_create("春季活动")
        .range(users(&["alice"]))
        .skip_verify(false)
        .await?;
    let link_id = created.link.link_id.clone().ok_or("no link_id")?;
    let url = created.link.url.clone().ok_or("no url")?;
    assert!(url.contains(&link_id), "{url}");
    assert_eq!(created.link.link_name.as_deref(), Some("春季活动"));

    let got = ec.acquisition_link_get(link_id.clone()).await?;
    let link = got.link.ok_or("no link")?;
    assert_eq!(link.skip_verify, Some(false));
    assert_eq!(got.range.ok_or("no range")?.user_list, vec!["alice"]);
    assert_eq!(
        ec.acquisition_link_list().await?.link_id_list,
        vec![link_id.clone()]
    );

    // A member outside the app's scope cannot be in the range.
    assert_eq!(
        errcode(
            ec.acquisition_link_create("客服")
                .range(users(&["carol"]))
                .await
        ),
        60011
    );
    // Another app does not see this app's link ("需要是当前应用创建").
    let support = app_client(&sb, SUPPORT_APP)?;
    assert_eq!(
        errcode(
            support
                .externalcontact()
                .acquisition_link_get(link_id.clone())
                .await
        ),
        40058
    );
    assert!(
        support
            .externalcontact()
            .acquisition_link_list()
            .await?
            .link_id_list
            .is_empty()
    );

    // No balance yet: the customer cannot be added.
    let refused = admin
        .open_acquisition_link(&link_id, OpeningCustomer::default())
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let q = ec.acquisition_quota().await?;
    assert_eq!((q.total, q.balance), (Some(0), Some(0)));

    admin.grant_acquisition_quota(QuotaGrant {
        balance: 2,
        expire_date: None,
    })?;
    let channel = format!("spring-{}", "x".repeat(70));
    let out = admin
        .open_acquisition_link(
            &link_id,
            OpeningCustomer {
                name: "李四".into(),
                customer_channel: channel.clone(),
                sends_message: true,
                ..OpeningCustomer::default()
            },
        )
        .await?;
    assert_eq!(out.userid, "alice");
    assert_eq!(out.state.len(), 64, "WeCom cuts the channel after 64 bytes");
    assert_eq!(out.balance, 1);

    let q = ec.acquisition_quota().await?;
    assert_eq!((q.total, q.balance), (Some(1), Some(1)));
    assert_eq!(q.quota_list.len(), 1);

    let customers = ec
        .acquisition_customers(link_id.clone())
        .await?
        .customer_list;
    assert_eq!(customers.len(), 1);
    let c = &customers[0];
    assert_eq!(c.external_userid, out.external_userid);
    assert_eq!(c.userid.as_deref(), Some("alice"));
    assert_eq!(c.chat_status, Some(1));
    assert_eq!(c.state.as_deref(), Some(&channel[..64]));

    // The relation exists with the channel as its state; the WelcomeCode works once.
    let f = &ec
        .customer_get(out.external_userid.clone())
        .await?
        .follow_user[0];
    assert_eq!(f.state.as_deref(), Some(&channel[..64]));
    let mut text = wecom_externalcontact::WelcomeText::new();
    text.content = Some("欢迎".into());
    ec.send_welcome_msg(out.welcome_code.clone())
        .text(text)
        .await?;
    assert_eq!(
        errcode(ec.send_welcome_msg(out.welcome_code.clone()).await),
        41051
    );

    // The customer wrote: get_chat_info reads the ChatKey for 30 minutes (the 客户联系 secret
    // may call it, unlike the link calls).
    let key = out.chat_key.clone().ok_or("a chat key")?;
    let ec_only = ec_client(&sb)?;
    let info = ec_only
        .externalcontact()
        .acquisition_chat_info(key.clone())
        .await?;
    assert_eq!(info.userid.as_deref(), Some("alice"));
    assert_eq!(
        info.external_userid.as_deref(),
        Some(out.external_userid.as_str())
    );
    let chat = info.chat_info.ok_or("chat info")?;
    assert_eq!(
        (chat.recv_msg_cnt, chat.link_id.as_deref()),
        (Some(1), Some(link_id.as_str()))
    );
    admin.advance_time(30 * 60 + 1);
    assert_eq!(
        errcode(ec_only.externalcontact().acquisition_chat_info(key).await),
        40058
    );

    // Statistics of the day: two opens (one refused for want of balance), one new customer.
    let t0 = T0_MS / 1000;
    let s = ec.acquisition_statistic(link_id.clone(), t0, t0).await?;
    assert_eq!(
        (s.click_link_customer_cnt, s.new_customer_cnt),
        (Some(2), Some(1))
    );

    // Update: the range moves to the department; the name changes.
    let mut dept = AcquisitionRange::new();
    dept.department_list = vec![2];
    ec.acquisition_link_update(link_id.clone())
        .link_name("夏季活动")
        .range(dept)
        .await?;
    let got = ec.acquisition_link_get(link_id.clone()).await?;
    assert_eq!(
        got.link.and_then(|l| l.link_name).as_deref(),
        Some("夏季活动")
    );
    assert_eq!(got.range.ok_or("no range")?.department_list, vec![2]);

    // Deleted: gone for every call and for customers opening it.
    ec.acquisition_link_delete(link_id.clone()).await?;
    assert_eq!(
        errcode(ec.acquisition_link_get(link_id.clone()).await),
        40058
    );
    assert_eq!(
        errcode(ec.acquisition_customers(link_id.clone()).await),
        40058
    );
    assert_eq!(
        errcode(ec.acquisition_link_delete(link_id.clone()).await),
        40058
    );
    assert!(ec.acquisition_link_list().await?.link_id_list.is_empty());
    assert!(
        admin
            .open_acquisition_link(&link_id, OpeningCustomer::default())
            .await
            .is_err()
    );
    Ok(())
}

#[tokio::test]
async fn the_link_stream_follows_every_page() -> TestResult {
    let sb = start().await?;
    let client = app_client(&sb, SALES_APP)?;
    let ec = client.externalcontact();
    let mut made = Vec::new();
    for i in 0..5 {
        let l = ec
            .acquisition_link_create(format!("link {i}"))
            .range(users(&["bob"]))
            .await?;
        made.push(l.link.link_id.ok_or("no link_id")?);
    }
    let before = sb.admin().count("acquisition_link_list");
    let all: Vec<String> = ec.acquisition_links(2).try_collect().await?;
    assert_eq!(all, made);
    assert_eq!(
        sb.admin().count("acquisition_link_list") - before,
        3,
        "pages of 2, 2 and 1"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_link_pushes_add_external_contact_to_the_handler() -> TestResult {
    // The callback router checks the timestamp against the real clock: this sandbox runs on it.
    let sb = Sandbox::builder().corp(corp()).start().await?;
    let admin = sb.admin();
    let client = Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(SALES_APP, Secret::new(secret(SALES_APP)))
        .build()?;
    let link = client
        .externalcontact()
        .acquisition_link_create("广告")
        .range(users(&["bob"]))
        .await?
        .link;
    let link_id = link.link_id.ok_or("no link_id")?;

    let seen: Arc<Mutex<Vec<CustomerAdded>>> = Arc::default();
    let log = Arc::clone(&seen);
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, CORPID)?;
    let router = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = Arc::clone(&log);
        async move {
            if let Inbound::Event(e) = &inbound
                && let EventKind::ChangeExternalContact(ExternalContactChange::AddExternalContact(
                    added,
                )) = &e.kind
                && let Ok(mut l) = log.lock()
            {
                l.push(added.clone());
            }
            None::<wecom_callback::Reply>
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    admin
        .set_app_callback(
            SALES_APP,
            Some(CallbackConfig {
                url,
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(AES_KEY.to_owned()),
            }),
        )
        .await?;
    admin.grant_acquisition_quota(QuotaGrant {
        balance: 1,
        expire_date: None,
    })?;
    let out = admin
        .open_acquisition_link(
            &link_id,
            OpeningCustomer {
                customer_channel: "wechat-ad".into(),
                ..OpeningCustomer::default()
            },
        )
        .await?;
    assert_eq!(out.callbacks.len(), 1, "the sales app sees bob");
    assert!(out.callbacks[0].delivered, "{:?}", out.callbacks[0]);
    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].user_id, "bob");
    assert_eq!(seen[0].state.as_deref(), Some("wechat-ad"));
    assert_eq!(
        seen[0].welcome_code.as_deref(),
        Some(out.welcome_code.as_str())
    );
    // The balance is used up: the next customer is refused.
    assert!(
        admin
            .open_acquisition_link(&link_id, OpeningCustomer::default())
            .await
            .is_err()
    );
    server.abort();
    Ok(())
}

#[tokio::test]
async fn a_welcome_code_sent_once_is_refused_the_second_time_before_any_request() -> TestResult {
    let sb = start().await?;
    let admin = sb.admin();
    let client = app_client(&sb, SALES_APP)?;
    let ec = client.externalcontact();
    let link_id = ec
        .acquisition_link_create("欢迎")
        .range(users(&["alice"]))
        .await?
        .link
        .link_id
        .ok_or("no link_id")?;
    admin.grant_acquisition_quota(QuotaGrant {
        balance: 1,
        expire_date: None,
    })?;
    let out = admin
        .open_acquisition_link(&link_id, OpeningCustomer::default())
        .await?;
    let created = T0_MS / 1000;
    ec.welcome(&out.welcome_code, created, "您好")?.await?;
    let before = admin.counters();
    let e = invalid(ec.welcome(&out.welcome_code, created, "您好"));
    assert_eq!(e.errcode, Some(41051), "{e}");
    assert_eq!(admin.counters(), before, "nothing reached the sandbox");
    Ok(())
}

/// The admin routes, as a test from outside the project drives them over HTTP.
#[tokio::test]
async fn the_admin_routes_grant_quota_and_open_a_link() -> TestResult {
    let sb = start().await?;
    let client = app_client(&sb, SALES_APP)?;
    let link_id = client
        .externalcontact()
        .acquisition_link_create("http")
        .range(users(&["dave"]))
        .await?
        .link
        .link_id
        .ok_or("no link_id")?;
    let base = sb.base_url().trim_end_matches('/').to_owned();
    let http = reqwest::Client::new();
    let post = |path: String, body: &'static str| {
        let http = http.clone();
        async move {
            let r = http
                .post(path)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            let status = r.status().as_u16();
            let v: serde_json::Value = serde_json::from_str(&r.text().await?)?;
            Ok::<_, Box<dyn std::error::Error>>((status, v))
        }
    };
    let open = format!("{base}/sandbox/customer-acquisition/{link_id}/open");
    let (status, v) = post(open.clone(), r#"{"name":"王五"}"#).await?;
    assert_eq!(status, 400, "no balance yet: {v}");
    let (status, v) = post(
        format!("{base}/sandbox/customer-acquisition/quota"),
        r#"{"balance":3}"#,
    )
    .await?;
    assert_eq!((status, &v["balance"]), (200, &serde_json::json!(3)), "{v}");
    let (status, v) = post(open, r#"{"name":"王五","customer_channel":"web"}"#).await?;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["userid"], "dave");
    assert_eq!(v["state"], "web");
    assert_eq!(v["balance"], 2);
    let customers = client
        .externalcontact()
        .acquisition_customers(link_id)
        .await?
        .customer_list;
    assert_eq!(
        customers[0].external_userid,
        v["external_userid"].as_str().ok_or("an external_userid")?
    );
    Ok(())
}
