//! Customer contact (part 1) end to end: customers and the follow-user rule, remarks, corp tags
//! with their errcodes, mark_tag, contact ways, the scan flow (a simulated customer scans a
//! contact way, the app's callback handler gets `add_external_contact` with its WelcomeCode and
//! sends the welcome message: once, within 20 s), customer groups, the streams, and the errors
//! the client gives before any request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use wecom_callback::generated::events::{
    CustomerAdded, ExternalChatChange, ExternalContactChange, ExternalTagChange,
};
use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, EventKind, Inbound};
use wecom_core_auth::clock::ManualClock;
use wecom_core_auth::{Client, Error, InvalidInput, Secret, SystemApp};
use wecom_externalcontact::{ExternalcontactExt, NewCorpTag};
use wecom_sandbox::areas::externalcontact::admin::{NewCustomerGroup, ScanningCustomer};
use wecom_sandbox::areas::externalcontact::book::{Customer, CustomerBook, Follow};
use wecom_sandbox::corp::{App, CallbackConfig, Corp, Member};
use wecom_sandbox::{Sandbox, SandboxClock};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CORPID: &str = "wwcustomers0000001";
const CONTACT_SECRET: &str = "contact-sync-secret-for-the-customer-tests";
const EC_SECRET: &str = "externalcontact-secret-for-the-customer-tests";
/// Sees department 2 (alice, bob).
const SALES_APP: u32 = 200;
/// Sees department 3 (carol).
const SUPPORT_APP: u32 = 201;
const TOKEN: &str = "ecCallbackToken";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
/// 2026-12-01T00:00:00Z, the sandbox's frozen clock.
const T0_MS: i64 = 1_796_083_200_000;

fn secret(agentid: u32) -> String {
    format!("app-secret-{agentid}-for-the-customer-tests")
}

/// 1 公司 ── 2 销售 (alice, bob), 3 客服 (carol).
fn corp() -> Corp {
    let mut c = Corp::new(CORPID, "公司", CONTACT_SECRET);
    c.create_department("销售", "", 1, 0, Some(2))
        .expect("dept");
    c.create_department("客服", "", 1, 0, Some(3))
        .expect("dept");
    for (id, d) in [("alice", 2), ("bob", 2), ("carol", 3)] {
        c.create_member(
            Member::new(id, id.to_uppercase(), vec![d]).with_email(format!("{id}@example.com")),
        )
        .expect("member");
    }
    let mut sales = App::new(SALES_APP, "Sales", secret(SALES_APP));
    sales.allow_parties = vec![2];
    let mut support = App::new(SUPPORT_APP, "Support", secret(SUPPORT_APP));
    support.allow_parties = vec![3];
    c.add_app(sales).expect("app");
    c.add_app(support).expect("app");
    c.set_system_secret(SystemApp::ExternalContact, EC_SECRET.to_owned());
    c
}

async fn start() -> Result<Sandbox, Box<dyn std::error::Error>> {
    Ok(Sandbox::builder()
        .corp(corp())
        .clock(SandboxClock::frozen_at(T0_MS))
        .start()
        .await?)
}

fn app_client(sb: &Sandbox, agentid: u32) -> Result<Client, Error> {
    Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(agentid, Secret::new(secret(agentid)))
        .clock(ManualClock::at(
            SystemTime::UNIX_EPOCH + Duration::from_millis(T0_MS as u64),
        ))
        .build()
}

fn ec_client(sb: &Sandbox) -> Result<Client, Error> {
    Client::builder(CORPID)
        .base_url(sb.base_url())
        .system_secret(
            SystemApp::ExternalContact,
            Secret::new(EC_SECRET.to_owned()),
        )
        .build()
}

fn invalid<T: std::fmt::Debug>(result: Result<T, Error>) -> InvalidInput {
    match result {
        Err(Error::Invalid(i)) => i,
        other => panic!("expected an error before any request, got {other:?}"),
    }
}

fn errcode<T: std::fmt::Debug>(result: Result<T, Error>) -> i64 {
    match result {
        Err(e) => e
            .errcode()
            .unwrap_or_else(|| panic!("expected an errcode, got {e}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// Puts `n` customers `wm<prefix><i>` on `userid` straight into the sandbox's book.
fn seed(sb: &Sandbox, userid: &str, prefix: &str, n: usize) {
    CustomerBook::of(sb.admin().state()).with(|book| {
        for i in 0..n {
            let id = format!("wm{prefix}{i:05}");
            book.entry(id.clone())
                .or_insert_with(|| Customer {
                    external_userid: id.clone(),
                    name: format!("客户{i}"),
                    kind: 1,
                    ..Customer::default()
                })
                .follows
                .push(Follow {
                    userid: userid.into(),
                    createtime: 1,
                    ..Follow::default()
                });
        }
    });
}

// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_input_fails_before_any_request() -> TestResult {
    let sb = start().await?;
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();
    let before = sb.admin().counters();

    let e = invalid(
        ec.corp_tag_add([NewCorpTag::new("ok")])
            .group_name("组".repeat(31))
            .await,
    );
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("group_name", Some(40072)),
        "{e}"
    );
    let e = invalid(
        ec.corp_tag_add([NewCorpTag::new("t".repeat(31))])
            .group_name("g")
            .await,
    );
    assert_eq!(e.errcode, Some(40072), "{e}");
    let e = invalid(ec.corp_tag_add([NewCorpTag::new("t")]).await);
    assert_eq!(e.errcode, Some(40068), "a group is named: {e}");

    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let e = invalid(ec.customer_batch_get_by_user(many.clone()).await);
    assert_eq!(e.field, "userid_list", "{e}");
    let first = ec.customers_of(many, 100).try_collect::<Vec<_>>().await;
    assert_eq!(invalid(first).field, "userid_list");
    let first = ec
        .customers_of(Vec::new(), 100)
        .try_collect::<Vec<_>>()
        .await;
    assert_eq!(invalid(first).field, "userid_list");

    let e = invalid(ec.customer_remark("alice", "wmX").await);
    assert!(e.to_string().contains("remark"), "{e}");
    let e = invalid(
        ec.customer_remark("alice", "wmX")
            .remark("r".repeat(21))
            .await,
    );
    assert_eq!(e.field, "remark");
    let e = invalid(ec.mark_tag("alice", "wmX").await);
    assert!(e.to_string().contains("add_tag"), "{e}");
    let e = invalid(ec.contact_way_add(3, 2).user(["alice"]).await);
    assert_eq!((e.field.as_str(), e.errcode), ("type", Some(41039)), "{e}");
    let e = invalid(
        ec.send_welcome_msg("code")
            .attachments(vec![serde_json::json!({"msgtype": "link"}); 10])
            .await,
    );
    assert_eq!(e.field, "attachments", "at most 9 attachments: {e}");
    let e = invalid(ec.groupchat_list(1001).await);
    assert_eq!(e.field, "limit");

    // The welcome helper: an empty code (41049) and one older than 20 s (41050), by the
    // client's clock, before any request.
    let app = app_client(&sb, SALES_APP)?;
    let now = T0_MS / 1000;
    let e = invalid(app.externalcontact().welcome("", now, "hi"));
    assert_eq!(e.errcode, Some(41049), "{e}");
    let e = invalid(app.externalcontact().welcome("CODE", now - 21, "hi"));
    assert_eq!(e.errcode, Some(41050), "{e}");
    assert!(e.to_string().contains("21 s old"), "{e}");
    assert!(
        app.externalcontact()
            .welcome("CODE", now - 20, "hi")
            .is_ok(),
        "20 s is still valid"
    );

    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");
    Ok(())
}

#[tokio::test]
async fn an_app_sees_only_customers_of_members_in_its_scope() -> TestResult {
    let sb = start().await?;
    seed(&sb, "alice", "a", 3);
    seed(&sb, "carol", "a", 1); // wma00000 is followed by alice and carol
    let sales = app_client(&sb, SALES_APP)?;
    let support = app_client(&sb, SUPPORT_APP)?;
    let all = ec_client(&sb)?;

    let list = sales.externalcontact().customer_list("alice").await?;
    assert_eq!(list.external_userid, ["wma00000", "wma00001", "wma00002"]);
    assert_eq!(
        errcode(support.externalcontact().customer_list("alice").await),
        60011
    );
    assert_eq!(
        errcode(sales.externalcontact().customer_list("ghost").await),
        60111
    );

    // customer_get shows only the follow users the caller may see.
    let got = sales.externalcontact().customer_get("wma00000").await?;
    let who: Vec<_> = got.follow_user.iter().map(|f| f.userid.as_str()).collect();
    assert_eq!(who, ["alice"]);
    let got = support.externalcontact().customer_get("wma00000").await?;
    let who: Vec<_> = got.follow_user.iter().map(|f| f.userid.as_str()).collect();
    assert_eq!(who, ["carol"]);
    assert_eq!(
        errcode(support.externalcontact().customer_get("wma00001").await),
        84061
    );
    let got = all.externalcontact().customer_get("wma00000").await?;
    assert_eq!(
        got.follow_user.len(),
        2,
        "the 客户联系 secret sees every follow user"
    );
    assert_eq!(
        errcode(all.externalcontact().customer_get("wmnobody").await),
        40096
    );

    let users = sales
        .externalcontact()
        .follow_user_list()
        .await?
        .follow_user;
    assert_eq!(users, ["alice", "bob"]);
    assert_eq!(
        all.externalcontact()
            .follow_user_list()
            .await?
            .follow_user
            .len(),
        3
    );

    // Remarks: only for the member's own customers.
    sales
        .externalcontact()
        .customer_remark("alice", "wma00001")
        .remark("老客户")
        .description("采购")
        .remark_mobiles(["13800000001"])
        .await?;
    let f = &sales
        .externalcontact()
        .customer_get("wma00001")
        .await?
        .follow_user[0];
    assert_eq!(
        (f.remark.as_deref(), f.remark_mobiles.as_slice()),
        (Some("老客户"), ["13800000001".to_owned()].as_slice())
    );
    assert_eq!(
        errcode(
            sales
                .externalcontact()
                .customer_remark("bob", "wma00001")
                .remark("x")
                .await
        ),
        84061
    );
    assert_eq!(
        errcode(
            support
                .externalcontact()
                .customer_remark("alice", "wma00001")
                .remark("x")
                .await
        ),
        60011
    );
    Ok(())
}

#[tokio::test]
async fn corp_tags_follow_the_page() -> TestResult {
    let sb = start().await?;
    seed(&sb, "alice", "t", 1);
    let sales = app_client(&sb, SALES_APP)?;
    let support = app_client(&sb, SUPPORT_APP)?;
    let all = ec_client(&sb)?;

    let g = sales
        .externalcontact()
        .corp_tag_add([
            NewCorpTag::new("意向高").order(2),
            NewCorpTag::new("意向低"),
            NewCorpTag::new("意向高"),
        ])
        .group_name("购买意向")
        .await?
        .tag_group;
    assert_eq!(g.tag.len(), 2, "a name given twice is created once");
    let high = g.tag[0].id.clone();
    // The same group name adds to that group.
    let again = sales
        .externalcontact()
        .corp_tag_add([NewCorpTag::new("观望")])
        .group_name("购买意向")
        .await?
        .tag_group;
    assert_eq!(again.group_id, g.group_id);
    let listed = all.externalcontact().corp_tag_list().await?.tag_group;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].tag.len(), 3);
    let only = all
        .externalcontact()
        .corp_tag_list()
        .tag_id([high.clone()])
        .await?
        .tag_group;
    assert_eq!(only[0].tag.len(), 1, "tag_id filters the tags of the group");

    // Another app may not change it (the page: 应用仅能编辑和删除本应用创建的标签).
    assert_eq!(
        errcode(
            support
                .externalcontact()
                .corp_tag_edit(high.clone())
                .name("x")
                .await
        ),
        81011
    );
    assert_eq!(
        errcode(
            all.externalcontact()
                .corp_tag_edit("etnothing")
                .name("x")
                .await
        ),
        40068
    );
    sales
        .externalcontact()
        .corp_tag_edit(high.clone())
        .name("意向很高")
        .await?;

    // mark_tag on alice's customer, then the tag shows in customer_get.
    sales
        .externalcontact()
        .mark_tag("alice", "wmt00000")
        .add_tag([high.clone()])
        .await?;
    let f = &sales
        .externalcontact()
        .customer_get("wmt00000")
        .await?
        .follow_user[0];
    assert_eq!(f.tags[0].tag_name.as_deref(), Some("意向很高"));
    assert_eq!(f.tags[0].group_name.as_deref(), Some("购买意向"));
    assert_eq!(
        errcode(
            sales
                .externalcontact()
                .mark_tag("alice", "wmt00000")
                .add_tag(["etnothing"])
                .await
        ),
        40068
    );
    assert_eq!(
        errcode(
            sales
                .externalcontact()
                .mark_tag("bob", "wmt00000")
                .add_tag([high.clone()])
                .await
        ),
        84061
    );

    // Deleting the tag removes it from customers too.
    sales
        .externalcontact()
        .corp_tag_del()
        .tag_id([high.clone()])
        .await?;
    let f = &sales
        .externalcontact()
        .customer_get("wmt00000")
        .await?
        .follow_user[0];
    assert!(f.tags.is_empty());
    assert_eq!(
        errcode(sales.externalcontact().corp_tag_del().tag_id([high]).await),
        40068
    );

    // At most 3,000 corp tags: 40126.
    let tags: Vec<NewCorpTag> = (0..2998)
        .map(|i| NewCorpTag::new(format!("t{i}")))
        .collect();
    all.externalcontact()
        .corp_tag_add(tags)
        .group_name("大量")
        .await?;
    assert_eq!(
        errcode(
            all.externalcontact()
                .corp_tag_add([NewCorpTag::new("one more")])
                .group_name("多")
                .await
        ),
        40126
    );
    Ok(())
}

#[tokio::test]
async fn contact_ways_crud_and_paging() -> TestResult {
    let sb = start().await?;
    let sales = app_client(&sb, SALES_APP)?;
    let ec = sales.externalcontact();
    let way = ec
        .contact_way_add(1, 2)
        .user(["alice"])
        .state("展会")
        .await?;
    assert!(way.qr_code.is_some());
    let got = ec.contact_way_get(way.config_id.clone()).await?.contact_way;
    assert_eq!(
        (got.state.as_deref(), got.user.as_slice()),
        (Some("展会"), ["alice".to_owned()].as_slice())
    );
    assert_eq!(
        errcode(ec.contact_way_add(1, 2).user(["alice", "bob"]).await),
        41041
    );
    assert_eq!(
        errcode(ec.contact_way_add(2, 2).user(["carol"]).await),
        60011
    );
    ec.contact_way_update(way.config_id.clone())
        .remark("春季")
        .await?;
    assert_eq!(
        ec.contact_way_get(way.config_id.clone())
            .await?
            .contact_way
            .remark
            .as_deref(),
        Some("春季")
    );
    for _ in 0..4 {
        ec.contact_way_add(2, 2).party([2]).await?;
    }
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut call = ec.contact_way_list().limit(2);
        if let Some(c) = cursor.take() {
            call = call.cursor(c);
        }
        let page = call.await?;
        pages += 1;
        ids.extend(page.contact_way.into_iter().map(|w| w.config_id));
        match page.next_cursor.filter(|c| !c.is_empty()) {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!((ids.len(), pages), (5, 3));
    ec.contact_way_del(way.config_id.clone()).await?;
    assert_eq!(
        errcode(ec.contact_way_get(way.config_id.clone()).await),
        41044
    );
    assert_eq!(errcode(ec.contact_way_del(way.config_id).await), 41044);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_pushes_the_welcome_code_and_the_handler_welcomes_once() -> TestResult {
    // The callback router checks the timestamp's freshness against the real clock, so this
    // sandbox runs on it too (the 20 s expiry below moves the sandbox clock, not the real one).
    let sb = Sandbox::builder().corp(corp()).start().await?;
    let admin = sb.admin();
    let client = Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(SALES_APP, Secret::new(secret(SALES_APP)))
        .build()?;
    let way = client
        .externalcontact()
        .contact_way_add(1, 2)
        .user(["alice"])
        .state("spring-fair")
        .await?;

    // The app's callback handler: on add_external_contact, send the welcome message.
    let seen: Arc<Mutex<Vec<(CustomerAdded, i64)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let handler_client = client.clone();
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, CORPID)?;
    let router = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = Arc::clone(&log);
        let client = handler_client.clone();
        async move {
            if let Inbound::Event(e) = &inbound
                && let EventKind::ChangeExternalContact(ExternalContactChange::AddExternalContact(
                    added,
                )) = &e.kind
            {
                let code = added.welcome_code.clone().unwrap_or_default();
                if let Ok(call) =
                    client
                        .externalcontact()
                        .welcome(&code, e.header.create_time, "欢迎!")
                {
                    let _ = call.await;
                }
                if let Ok(mut l) = log.lock() {
                    l.push((added.clone(), e.header.create_time));
                }
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

    let out = admin
        .scan_contact_way(
            &way.config_id,
            ScanningCustomer {
                name: "李四".into(),
                ..ScanningCustomer::default()
            },
        )
        .await?;
    assert_eq!(out.userid, "alice");
    assert_eq!(
        out.callbacks.len(),
        1,
        "the sales app sees alice; the support app does not"
    );
    assert!(out.callbacks[0].delivered, "{:?}", out.callbacks[0]);
    assert!(out.callbacks[0].plaintext.contains("<WelcomeCode>"));
    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.state.as_deref(), Some("spring-fair"));
    assert_eq!(seen[0].0.external_user_id, out.external_userid);
    let welcomes = admin.welcome_messages();
    assert_eq!(welcomes.len(), 1);
    assert_eq!(
        (welcomes[0].text.as_str(), welcomes[0].userid.as_str()),
        ("欢迎!", "alice")
    );

    // The relation exists, with the contact way's state.
    let f = &client
        .externalcontact()
        .customer_get(out.external_userid.clone())
        .await?
        .follow_user[0];
    assert_eq!(
        (f.state.as_deref(), f.add_way),
        (Some("spring-fair"), Some(1))
    );

    // The code is usable once: 41051 after.
    assert_eq!(
        errcode(
            client
                .externalcontact()
                .send_welcome_msg(out.welcome_code.clone())
                .await
        ),
        41051
    );
    assert_eq!(
        errcode(client.externalcontact().send_welcome_msg("made-up").await),
        41050
    );

    // A second customer: 21 s later (sandbox clock) the code has expired.
    admin.set_app_callback(SALES_APP, None).await?;
    let out = admin
        .scan_contact_way(&way.config_id, ScanningCustomer::default())
        .await?;
    admin.advance_time(20);
    admin.advance_time(1);
    assert_eq!(
        errcode(
            client
                .externalcontact()
                .send_welcome_msg(out.welcome_code.clone())
                .await
        ),
        41050
    );
    // A scan by a customer who already follows the member is refused.
    assert!(
        admin
            .scan_contact_way(
                &way.config_id,
                ScanningCustomer {
                    external_userid: Some(out.external_userid),
                    ..ScanningCustomer::default()
                }
            )
            .await
            .is_err()
    );
    server.abort();
    Ok(())
}

#[tokio::test]
async fn customers_stream_in_pages_of_100() -> TestResult {
    let sb = start().await?;
    seed(&sb, "alice", "s", 250);
    seed(&sb, "bob", "s", 30);
    let client = ec_client(&sb)?;
    let before = sb.admin().count("customer_batch_get_by_user");
    let rows: Vec<_> = client
        .externalcontact()
        .customers_of(vec!["alice".into(), "bob".into()], 100)
        .try_collect()
        .await?;
    assert_eq!(rows.len(), 280);
    assert_eq!(
        sb.admin().count("customer_batch_get_by_user") - before,
        3,
        "280 rows, 100 per page"
    );
    let alice = rows
        .iter()
        .filter(|r| r.follow_info.userid == "alice")
        .count();
    assert_eq!(alice, 250);
    let mut ids: Vec<_> = rows
        .iter()
        .filter(|r| r.follow_info.userid == "alice")
        .map(|r| r.external_contact.external_userid.clone())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 250, "no customer twice");
    // A page size over 100 is served as 100 (the page: 超过最大值时取最大值).
    let page = client
        .externalcontact()
        .customer_batch_get_by_user(["alice"])
        .limit(500)
        .await?;
    assert_eq!(page.external_contact_list.len(), 100);
    // An app outside bob's scope is refused.
    let support = app_client(&sb, SUPPORT_APP)?;
    let r = support
        .externalcontact()
        .customers_of(vec!["bob".into()], 100)
        .try_collect::<Vec<_>>()
        .await;
    assert_eq!(errcode(r), 60011);
    Ok(())
}

#[tokio::test]
async fn customer_groups_list_and_read() -> TestResult {
    let sb = start().await?;
    seed(&sb, "alice", "g", 2);
    let admin = sb.admin();
    let mut ids = Vec::new();
    for (owner, name) in [("alice", "VIP"), ("bob", "售后"), ("carol", "客服群")] {
        let (id, _) = admin
            .create_customer_group(NewCustomerGroup {
                owner: owner.into(),
                name: name.into(),
                members: vec!["wmg00000".into(), "wmg00001".into()],
            })
            .await?;
        ids.push(id);
    }
    let sales = app_client(&sb, SALES_APP)?;
    let chats: Vec<_> = sales
        .externalcontact()
        .group_chats(Vec::new(), 1)
        .try_collect()
        .await?;
    assert_eq!(
        chats.len(),
        2,
        "carol's group is outside the sales app's scope"
    );
    let g = sales
        .externalcontact()
        .groupchat_get(ids[0].clone())
        .need_name(1)
        .await?
        .group_chat;
    assert_eq!(
        (g.owner.as_deref(), g.member_list.len()),
        (Some("alice"), 3)
    );
    assert_eq!(
        g.member_list[1].kind,
        Some(2),
        "a customer is an external member"
    );
    assert_eq!(
        errcode(sales.externalcontact().groupchat_get(ids[2].clone()).await),
        60011
    );
    assert_eq!(
        errcode(sales.externalcontact().groupchat_get("wrnothing").await),
        40050
    );
    let only_bob: Vec<_> = sales
        .externalcontact()
        .group_chats(vec!["bob".into()], 100)
        .try_collect()
        .await?;
    assert_eq!(only_bob.len(), 1);
    Ok(())
}

/// The events as WeCom's page shows them parse into their typed variants (XML written here from
/// the page, not rendered by our code).
#[test]
fn customer_events_parse_from_the_pages_xml() -> TestResult {
    let wrap = |inner: &str, event: &str| {
        format!(
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{inner}</xml>"
        )
    };
    let kind = |xml: String| -> Result<EventKind, Box<dyn std::error::Error>> {
        match Inbound::parse(&xml)? {
            Inbound::Event(e) => Ok(e.kind),
            other => Err(format!("not an event: {other:?}").into()),
        }
    };
    let add = kind(wrap(
        "<ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>",
        "change_external_contact",
    ))?;
    match add {
        EventKind::ChangeExternalContact(ExternalContactChange::AddExternalContact(a)) => {
            assert_eq!(a.welcome_code.as_deref(), Some("WELCOMECODE"));
            assert_eq!(a.state.as_deref(), Some("teststate"));
            assert_eq!(a.user_id, "zhangsan");
        }
        other => panic!("{other:?}"),
    }
    for (change, extra) in [
        ("edit_external_contact", ""),
        (
            "add_half_external_contact",
            "<State><![CDATA[s]]></State><WelcomeCode><![CDATA[W]]></WelcomeCode>",
        ),
        (
            "del_external_contact",
            "<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>",
        ),
        ("del_follow_user", ""),
        (
            "transfer_fail",
            "<FailReason><![CDATA[customer_refused]]></FailReason>",
        ),
    ] {
        let k = kind(wrap(
            &format!(
                "<ChangeType><![CDATA[{change}]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[wmX]]></ExternalUserID>{extra}"
            ),
            "change_external_contact",
        ))?;
        let ok = matches!(
            (&k, change),
            (
                EventKind::ChangeExternalContact(ExternalContactChange::EditExternalContact(_)),
                "edit_external_contact"
            ) | (
                EventKind::ChangeExternalContact(ExternalContactChange::AddHalfExternalContact(_)),
                "add_half_external_contact"
            ) | (
                EventKind::ChangeExternalContact(ExternalContactChange::DelExternalContact { .. }),
                "del_external_contact"
            ) | (
                EventKind::ChangeExternalContact(ExternalContactChange::DelFollowUser(_)),
                "del_follow_user"
            ) | (
                EventKind::ChangeExternalContact(ExternalContactChange::TransferFail { .. }),
                "transfer_fail"
            )
        );
        assert!(ok, "{change}: {k:?}");
    }
    let upd = kind(wrap(
        "<ChatId><![CDATA[wrx7HaBwAAAA]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene><QuitScene>0</QuitScene><MemChangeCnt>2</MemChangeCnt><MemChangeList><Item><![CDATA[Jack]]></Item><Item><![CDATA[Rose]]></Item></MemChangeList><LastMemVer><![CDATA[a]]></LastMemVer><CurMemVer><![CDATA[b]]></CurMemVer>",
        "change_external_chat",
    ))?;
    match upd {
        EventKind::ChangeExternalChat(ExternalChatChange::Update(u)) => {
            assert_eq!(u.update_detail, "add_member");
            assert_eq!(u.mem_change_list, ["Jack", "Rose"]);
            assert_eq!(u.cur_mem_ver.as_deref(), Some("b"));
        }
        other => panic!("{other:?}"),
    }
    let dismiss = kind(wrap(
        "<ChatId><![CDATA[wrx]]></ChatId><ChangeType><![CDATA[dismiss]]></ChangeType>",
        "change_external_chat",
    ))?;
    assert!(matches!(
        dismiss,
        EventKind::ChangeExternalChat(ExternalChatChange::Dismiss { .. })
    ));
    for change in ["create", "update", "delete"] {
        let k = kind(wrap(
            &format!(
                "<Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]></TagType><ChangeType><![CDATA[{change}]]></ChangeType>"
            ),
            "change_external_tag",
        ))?;
        assert!(
            matches!(k, EventKind::ChangeExternalTag(_)),
            "{change}: {k:?}"
        );
    }
    let shuffle = kind(wrap(
        "<Id><![CDATA[GROUP_ID]]></Id><ChangeType><![CDATA[shuffle]]></ChangeType>",
        "change_external_tag",
    ))?;
    assert!(matches!(
        shuffle,
        EventKind::ChangeExternalTag(ExternalTagChange::Shuffle { .. })
    ));
    Ok(())
}

/// The sandbox page lists contact ways with a "scan" button; pressing it (a form POST from the
/// page) adds the customer, and the JSON admin route does the same.
#[tokio::test]
async fn the_page_and_the_admin_api_scan_a_contact_way() -> TestResult {
    let sb = start().await?;
    let client = app_client(&sb, SALES_APP)?;
    let way = client
        .externalcontact()
        .contact_way_add(1, 2)
        .user(["bob"])
        .await?;
    let base = sb.base_url().trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = http.get(format!("{base}/")).send().await?.text().await?;
    assert!(
        page.contains("扫码添加") && page.contains(&way.config_id),
        "the page offers the scan"
    );
    let r = http
        .post(format!("{base}/sandbox/ui/scan"))
        .header("Origin", base.clone())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "config_id={}&name=%E7%8E%8B%E4%BA%94",
            way.config_id
        ))
        .send()
        .await?;
    assert!(r.status().is_redirection(), "{}", r.status());
    let r: serde_json::Value = serde_json::from_str(
        &http
            .post(format!(
                "{base}/sandbox/contact-ways/{}/scan",
                way.config_id
            ))
            .header("Content-Type", "application/json")
            .body(r#"{"name": "赵六"}"#)
            .send()
            .await?
            .text()
            .await?,
    )?;
    assert_eq!(r["userid"], "bob", "{r}");
    assert!(
        r["welcome_code"].as_str().is_some_and(|c| !c.is_empty()),
        "{r}"
    );
    let names: Vec<String> = sb.admin().customers().into_iter().map(|c| c.name).collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"王五".to_owned()) && names.contains(&"赵六".to_owned()),
        "{names:?}"
    );
    let listed = client
        .externalcontact()
        .customer_list("bob")
        .await?
        .external_userid;
    assert_eq!(listed.len(), 2);
    let r = http
        .post(format!("{base}/sandbox/contact-ways/cwnothing/scan"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 400);
    Ok(())
}

/// 加入群聊 join ways are plain CRUD, served by the sandbox's resource engine.
#[tokio::test]
async fn join_ways_crud() -> TestResult {
    let sb = start().await?;
    let client = app_client(&sb, SALES_APP)?;
    let ec = client.externalcontact();
    let e = invalid(ec.join_way_add(2, (0..6).map(|i| format!("wr{i}"))).await);
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("chat_id_list", Some(41091)),
        "{e}"
    );
    let e = invalid(
        ec.join_way_add(2, ["wr1"])
            .room_base_name("群".repeat(41))
            .await,
    );
    assert_eq!(e.field, "room_base_name", "{e}");
    let id = ec
        .join_way_add(2, ["wr1", "wr2"])
        .state("fair")
        .await?
        .config_id;
    let got = ec.join_way_get(id.clone()).await?.join_way;
    assert_eq!(
        (got.state.as_deref(), got.chat_id_list.len()),
        (Some("fair"), 2)
    );
    ec.join_way_update(id.clone(), 2, ["wr3"]).await?;
    assert_eq!(
        ec.join_way_get(id.clone()).await?.join_way.chat_id_list,
        ["wr3"]
    );
    ec.join_way_del(id.clone()).await?;
    assert_eq!(errcode(ec.join_way_get(id).await), 41044);
    Ok(())
}

/// contact_list streams every (customer, follow user) the caller may see, across pages.
#[tokio::test]
async fn served_contacts_stream_across_pages() -> TestResult {
    let sb = start().await?;
    seed(&sb, "alice", "c", 5);
    seed(&sb, "carol", "c", 3); // wmc00000..2 are followed by alice and carol
    let all = ec_client(&sb)?;
    let before = sb.admin().count("contact_list");
    let rows: Vec<_> = all
        .externalcontact()
        .served_contacts(3)
        .try_collect()
        .await?;
    assert_eq!(rows.len(), 8);
    assert_eq!(
        sb.admin().count("contact_list") - before,
        3,
        "8 rows, 3 per page"
    );
    let mut pairs: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.external_userid.clone().unwrap_or_default(),
                r.follow_userid.clone().unwrap_or_default(),
            )
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), 8, "no row twice across page boundaries");
    let sales = app_client(&sb, SALES_APP)?;
    let seen: Vec<_> = sales
        .externalcontact()
        .served_contacts(0)
        .try_collect()
        .await?;
    assert_eq!(seen.len(), 5, "the sales app sees alice's customers only");
    assert!(
        seen.iter()
            .all(|r| r.is_customer == Some(true) && r.tmp_openid.is_some())
    );
    Ok(())
}

/// get_user_behavior_data: the 30-day span checked before any request (600018), the sandbox's
/// daily counts of new customers, and the follow-user rule.
#[tokio::test]
async fn behavior_data_counts_new_customers_per_day() -> TestResult {
    let sb = start().await?;
    let day = wecom_externalcontact::rules::beijing_day(T0_MS / 1000);
    CustomerBook::of(sb.admin().state()).with(|book| {
        for (i, at) in [day - 86_400 + 10, day + 5, day + 3_600]
            .into_iter()
            .enumerate()
        {
            let id = format!("wmb{i}");
            book.insert(
                id.clone(),
                Customer {
                    external_userid: id,
                    follows: vec![Follow {
                        userid: "alice".into(),
                        createtime: at,
                        ..Follow::default()
                    }],
                    ..Customer::default()
                },
            );
        }
    });
    let sales = app_client(&sb, SALES_APP)?;
    let ec = sales.externalcontact();
    let e = invalid(
        ec.user_behavior_data(day - 31 * 86_400, day)
            .userid(["alice"])
            .await,
    );
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("end_time", Some(600018)),
        "{e}"
    );
    let e = invalid(ec.user_behavior_data(day, day).await);
    assert!(e.to_string().contains("userid"), "{e}");
    let rows = ec
        .user_behavior_data(day - 86_400, day + 7_200)
        .userid(["alice"])
        .await?
        .behavior_data;
    let counts: Vec<_> = rows
        .iter()
        .map(|r| (r.stat_time, r.new_contact_cnt))
        .collect();
    assert_eq!(counts, [(day - 86_400, Some(1)), (day, Some(2))]);
    let by_party = ec
        .user_behavior_data(day, day)
        .partyid([2])
        .await?
        .behavior_data;
    assert_eq!(
        by_party[0].new_contact_cnt,
        Some(2),
        "department 2 holds alice"
    );
    assert_eq!(
        errcode(ec.user_behavior_data(day, day).userid(["carol"]).await),
        60011
    );
    assert_eq!(
        errcode(
            ec.user_behavior_data(day - 200 * 86_400, day - 190 * 86_400)
                .userid(["alice"])
                .await
        ),
        600018,
        "older than 180 days"
    );
    Ok(())
}

/// Customer-group statistics per owner and per day, from the groups the sandbox holds.
#[tokio::test]
async fn group_statistics_per_owner_and_per_day() -> TestResult {
    let sb = start().await?;
    let admin = sb.admin();
    for (owner, members) in [("alice", 2), ("alice", 0), ("bob", 1)] {
        admin
            .create_customer_group(NewCustomerGroup {
                owner: owner.into(),
                name: format!("{owner} group"),
                members: (0..members).map(|i| format!("wmz{i}")).collect(),
            })
            .await?;
    }
    let day = wecom_externalcontact::rules::beijing_day(T0_MS / 1000);
    let sales = app_client(&sb, SALES_APP)?;
    let ec = sales.externalcontact();
    let e = invalid(
        ec.groupchat_statistic(day - 31 * 86_400)
            .day_end_time(day)
            .await,
    );
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("day_end_time", Some(600018)),
        "{e}"
    );
    let r = ec.groupchat_statistic(day).order_by(2).await?;
    assert_eq!(r.total, Some(2), "alice and bob are the visible owners");
    assert_eq!(r.items[0].owner, "alice", "most groups first");
    assert_eq!(
        (r.items[0].data.chat_total, r.items[0].data.member_total),
        (Some(2), Some(4))
    );
    let asc = ec
        .groupchat_statistic(day)
        .order_by(2)
        .order_asc(1)
        .limit(1)
        .await?;
    assert_eq!(
        (
            asc.items.len(),
            asc.items[0].owner.as_str(),
            asc.next_offset
        ),
        (1, "bob", Some(1))
    );
    let by_day = ec
        .groupchat_statistic_group_by_day(
            day - 86_400,
            wecom_externalcontact::OwnerFilter::new().userid_list(["alice", "bob"]),
        )
        .day_end_time(day)
        .await?
        .items;
    let new: Vec<_> = by_day
        .iter()
        .map(|d| (d.stat_time, d.data.new_chat_cnt))
        .collect();
    assert_eq!(new, [(day - 86_400, Some(0)), (day, Some(3))]);
    assert_eq!(
        errcode(
            ec.groupchat_statistic(day)
                .owner_filter(wecom_externalcontact::OwnerFilter::new().userid_list(["carol"]))
                .await
        ),
        60011
    );
    Ok(())
}
