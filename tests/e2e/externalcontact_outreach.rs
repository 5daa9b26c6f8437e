//! Customer contact part 2 end to end: mass sends confirmed by members and read back, transfers
//! waiting 24 hours on the sandbox clock with WeCom's limits, unassigned customers of members who
//! left, group welcome templates as sandbox resources, and the checks made before any request.

use futures_util::TryStreamExt;
use wecom_core_auth::{Client, Error, SystemApp};
use wecom_externalcontact::{
    ExternalcontactExt, GroupWelcomeText, MassAttachment, MassMedia, MassText,
};
use wecom_sandbox::areas::externalcontact::book::{Customer, CustomerBook, Follow};
use wecom_sandbox::areas::externalcontact::outreach::{confirm_mass_send, refuse_transfer};
use wecom_sandbox::{Sandbox, SandboxClock};

type Res = Result<(), Box<dyn std::error::Error>>;

const T0: i64 = 1_780_000_000;
const DAY: i64 = 24 * 3600;

/// A customer followed by `userids` (in that order), with `tags` on every relation.
fn customer(id: &str, userids: &[&str], tags: &[&str]) -> Customer {
    Customer {
        external_userid: id.to_owned(),
        name: id.to_owned(),
        kind: 1,
        follows: userids
            .iter()
            .map(|u| Follow {
                userid: (*u).to_owned(),
                createtime: T0 - 1000,
                tag_ids: tags.iter().map(|t| (*t).to_owned()).collect(),
                ..Follow::default()
            })
            .collect(),
        ..Customer::default()
    }
}

async fn world(customers: Vec<Customer>) -> Result<(Sandbox, Client), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder()
        .clock(SandboxClock::frozen_at(T0 * 1000))
        .start()
        .await?;
    let creds = sandbox.credentials();
    let secret = creds
        .system_secret(SystemApp::ExternalContact)
        .ok_or("the demo corp has a 客户联系 secret")?
        .clone();
    let app = creds.apps.first().ok_or("the demo corp has apps")?;
    let client = Client::builder(creds.corpid.clone())
        .base_url(sandbox.base_url())
        .app(app.agentid, app.secret.clone())
        .system_secret(SystemApp::ExternalContact, secret)
        .build()?;
    CustomerBook::of(sandbox.admin().state()).with(|c| {
        for cu in customers {
            c.insert(cu.external_userid.clone(), cu);
        }
    });
    Ok((sandbox, client))
}

fn text(s: &str) -> MassText {
    let mut t = MassText::new();
    t.content = Some(s.to_owned());
    t
}

#[tokio::test]
async fn a_mass_send_waits_for_the_member_and_reads_back() -> Res {
    let (sandbox, client) = world(vec![
        customer("wmA", &["wangfang"], &["vip"]),
        customer("wmB", &["wangfang"], &[]),
        customer("wmC", &["lina"], &[]),
    ])
    .await?;
    let ec = client.externalcontact();
    let sent = ec
        .add_msg_template()
        .external_userid(["wmA", "wmB", "wmC", "wmNobody"])
        .text(text("新品上市"))
        .await?;
    assert_eq!(sent.fail_list, vec!["wmNobody".to_owned()]);
    let msgid = sent.msgid.ok_or("a msgid")?;

    // Each customer goes to the member who follows them; nobody has sent it yet.
    let tasks = ec.get_groupmsg_task(msgid.clone()).await?;
    let who: Vec<_> = tasks
        .task_list
        .iter()
        .map(|t| (t.userid.as_str(), t.status))
        .collect();
    assert_eq!(who, vec![("lina", Some(0)), ("wangfang", Some(0))]);

    let state = sandbox.admin().state().clone();
    assert_eq!(confirm_mass_send(&state, &msgid, "wangfang")?, 2);
    let tasks = ec.get_groupmsg_task(msgid.clone()).await?;
    let wf = tasks
        .task_list
        .iter()
        .find(|t| t.userid == "wangfang")
        .ok_or("wangfang")?;
    assert_eq!((wf.status, wf.send_time), (Some(2), Some(T0)));
    let result = ec
        .get_groupmsg_send_result(msgid.clone(), "wangfang")
        .await?;
    let reached: Vec<_> = result
        .send_list
        .iter()
        .map(|s| (s.external_userid.clone().unwrap_or_default(), s.status))
        .collect();
    assert_eq!(
        reached,
        vec![("wmA".to_owned(), Some(1)), ("wmB".to_owned(), Some(1))]
    );
    let lina = ec.get_groupmsg_send_result(msgid.clone(), "lina").await?;
    assert_eq!(lina.send_list.first().and_then(|s| s.status), Some(0));

    // The list streams it; a cancelled task can no longer be sent or reminded.
    let all: Vec<_> = ec
        .group_msgs("single", T0 - 10, T0 + 10, 1)
        .try_collect()
        .await?;
    assert_eq!(
        all.iter().map(|m| m.msgid.as_str()).collect::<Vec<_>>(),
        vec![msgid.as_str()]
    );
    // chat_type defaults to single, and a limit over 100 is answered with 50 a page, not refused
    // (page 96355: "默认为single", "超过最大值时取默认值").
    let page = ec.get_groupmsg_list_v2(T0 - 10, T0 + 10).limit(500).await?;
    assert_eq!(
        page.group_msg_list
            .iter()
            .map(|m| m.msgid.as_str())
            .collect::<Vec<_>>(),
        vec![msgid.as_str()]
    );
    let groups = ec
        .get_groupmsg_list_v2(T0 - 10, T0 + 10)
        .chat_type("group")
        .await?;
    assert!(groups.group_msg_list.is_empty(), "{groups:?}");
    for _ in 0..3 {
        ec.remind_groupmsg_send(msgid.clone()).await?;
    }
    let e = ec.remind_groupmsg_send(msgid.clone()).await.err();
    assert_eq!(
        e.and_then(|e| e.errcode()),
        Some(41094),
        "three reminders a day"
    );
    ec.cancel_groupmsg_send(msgid.clone()).await?;
    let e = confirm_mass_send(&state, &msgid, "lina").err();
    assert_eq!(e.map(|e| e.errcode), Some(41093));
    let e = ec.get_groupmsg_task("msg-unknown").await.err();
    assert_eq!(e.and_then(|e| e.errcode()), Some(41047));
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_sender_sends_to_its_customers_with_the_tags_asked_for() -> Res {
    let (sandbox, client) = world(vec![
        customer("wmA", &["wangfang"], &["vip"]),
        customer("wmB", &["wangfang"], &[]),
    ])
    .await?;
    let ec = client.externalcontact();
    let filter: wecom_externalcontact::MassTagFilter =
        serde_json::from_value(serde_json::json!({"group_list": [{"tag_list": ["vip"]}]}))?;
    let sent = ec
        .add_msg_template()
        .sender("wangfang")
        .tag_filter(filter)
        .attachments(vec![MassAttachment::File(MassMedia::new("media-1"))])
        .await?;
    let msgid = sent.msgid.ok_or("a msgid")?;
    let result = ec.get_groupmsg_send_result(msgid, "wangfang").await?;
    let ids: Vec<_> = result
        .send_list
        .iter()
        .filter_map(|s| s.external_userid.clone())
        .collect();
    assert_eq!(ids, vec!["wmA".to_owned()]);

    // A sender without customers: WeCom's 41048.
    let e = ec
        .add_msg_template()
        .sender("lina")
        .text(text("hi"))
        .await
        .err();
    assert_eq!(e.and_then(|e| e.errcode()), Some(41048));
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn bad_mass_sends_are_refused_before_any_request() -> Res {
    let (sandbox, client) = world(vec![]).await?;
    let ec = client.externalcontact();
    let before = sandbox.admin().count("add_msg_template");
    let cases = [
        (
            ec.add_msg_template().text(text("no recipients")),
            "external_userid",
        ),
        (
            ec.add_msg_template()
                .chat_type("group")
                .text(text("no sender")),
            "sender",
        ),
        (ec.add_msg_template().sender("wangfang"), "text"),
        (
            ec.add_msg_template().sender("wangfang").attachments(vec![
                MassAttachment::File(
                    MassMedia::new("m")
                );
                10
            ]),
            "attachments",
        ),
    ];
    for (call, field) in cases {
        match call.await {
            Err(Error::Invalid(e)) => assert_eq!(e.field, field),
            other => return Err(format!("{field}: expected an input error, got {other:?}").into()),
        }
    }
    assert_eq!(
        sandbox.admin().count("add_msg_template"),
        before,
        "nothing was sent"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_transfer_waits_a_day_and_a_customer_moves_twice_in_90_days_at_most() -> Res {
    let (sandbox, client) = world(vec![customer("wmA", &["wangfang"], &[])]).await?;
    let ec = client.externalcontact();
    let admin = sandbox.admin();
    let book = CustomerBook::of(admin.state());

    let r = ec
        .transfer_customer("wangfang", "lina", ["wmA", "wmX"])
        .await?;
    let codes: Vec<_> = r
        .customer
        .iter()
        .map(|c| (c.external_userid.as_str(), c.errcode))
        .collect();
    assert_eq!(codes, vec![("wmA", 0), ("wmX", 40096)]);
    let again = ec.transfer_customer("wangfang", "lina", ["wmA"]).await?;
    assert_eq!(
        again.customer.first().map(|c| c.errcode),
        Some(40129),
        "already being transferred"
    );

    let waiting = ec.transfer_result("wangfang", "lina").await?;
    let s = waiting.customer.first().ok_or("one transfer")?;
    assert_eq!((s.status, s.takeover_time), (Some(2), Some(T0 + DAY)));
    assert!(
        book.follows("wmA", "wangfang"),
        "nothing moves before 24 hours"
    );

    admin.advance_time(DAY);
    let done = ec.transfer_result("wangfang", "lina").await?;
    assert_eq!(done.customer.first().and_then(|c| c.status), Some(1));
    assert!(book.follows("wmA", "lina") && !book.follows("wmA", "wangfang"));

    // Second transfer (back), then a third within 90 days: 40128.
    let r = ec.transfer_customer("lina", "wangfang", ["wmA"]).await?;
    assert_eq!(r.customer.first().map(|c| c.errcode), Some(0));
    admin.advance_time(DAY);
    let r = ec.transfer_customer("wangfang", "lina", ["wmA"]).await?;
    assert_eq!(r.customer.first().map(|c| c.errcode), Some(40128));
    admin.advance_time(90 * DAY);
    let r = ec.transfer_customer("wangfang", "lina", ["wmA"]).await?;
    assert_eq!(
        r.customer.first().map(|c| c.errcode),
        Some(0),
        "the window has passed"
    );

    // The customer refuses: status 3, and the customer stays.
    assert!(refuse_transfer(admin.state(), "wmA", "lina"));
    admin.advance_time(DAY);
    let r = ec.transfer_result("wangfang", "lina").await?;
    assert_eq!(r.customer.last().and_then(|c| c.status), Some(3));
    assert!(book.follows("wmA", "wangfang"));

    let e = ec.transfer_customer("lina", "lina", ["wmA"]).await.err();
    assert_eq!(e.and_then(|e| e.errcode()), Some(40130));
    let r = ec.transfer_customer("lina", "wangfang", ["wmA"]).await?;
    assert_eq!(
        r.customer.first().map(|c| c.errcode),
        Some(40131),
        "lina does not follow wmA"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn customers_of_members_who_left_are_listed_and_handed_over() -> Res {
    let (sandbox, client) = world(vec![
        customer("wmA", &["gone"], &[]),
        customer("wmB", &["gone"], &[]),
        customer("wmC", &["gone", "lina"], &[]),
        customer("wmD", &["lina"], &[]),
    ])
    .await?;
    let ec = client.externalcontact();
    let waiting: Vec<_> = ec.unassigned(2).try_collect().await?;
    let ids: Vec<_> = waiting.iter().map(|c| c.external_userid.as_str()).collect();
    assert_eq!(ids, vec!["wmA", "wmB", "wmC"]);

    let e = ec
        .resigned_transfer_customer("lina", "wangfang", ["wmD"])
        .await
        .err();
    assert!(e.is_some(), "lina has not left");
    let r = ec
        .resigned_transfer_customer("gone", "wangfang", ["wmA"])
        .await?;
    assert_eq!(r.customer.first().map(|c| c.errcode), Some(0));
    let left: Vec<_> = ec.unassigned(1000).try_collect().await?;
    assert_eq!(left.len(), 2, "wmA is being handed over");

    sandbox.admin().advance_time(DAY);
    let r = ec.resigned_transfer_result("gone", "wangfang").await?;
    assert_eq!(r.customer.first().and_then(|c| c.status), Some(1));
    assert!(CustomerBook::of(sandbox.admin().state()).follows("wmA", "wangfang"));
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn group_welcome_templates_are_kept_and_read_back() -> Res {
    let (sandbox, client) = world(vec![]).await?;
    let ec = client.externalcontact();
    let mut t = GroupWelcomeText::new();
    t.content = Some("欢迎 %NICKNAME%".to_owned());
    let id = ec.group_welcome_template_add().text(t).await?.template_id;
    let got = ec.group_welcome_template_get(id.clone()).await?;
    assert_eq!(
        got.text.and_then(|t| t.content).as_deref(),
        Some("欢迎 %NICKNAME%")
    );
    ec.group_welcome_template_del(id.clone()).await?;
    let e = ec.group_welcome_template_get(id).await.err();
    assert_eq!(e.and_then(|e| e.errcode()), Some(40058));
    // Neither text nor attachment: refused before any request.
    let e = ec.group_welcome_template_add().await.err();
    assert!(matches!(e, Some(Error::Invalid(_))));
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_moment_is_published_by_its_senders_and_reaches_their_tagged_customers() -> Res {
    let (sandbox, client) = world(vec![
        customer("wmA", &["wangfang"], &["vip"]),
        customer("wmB", &["wangfang"], &[]),
        customer("wmC", &["lina"], &["vip"]),
    ])
    .await?;
    let ec = client.externalcontact();
    let range: wecom_externalcontact::MomentVisibleRange =
        serde_json::from_value(serde_json::json!({
            "sender_list": {"user_list": ["wangfang", "lina", "nobody"]},
            "external_contact_list": {"tag_list": ["vip"]}
        }))?;
    let job = ec
        .add_moment_task()
        .text(text("春季新品"))
        .visible_range(range)
        .await?
        .jobid;
    let done = ec.get_moment_task_result(job).await?;
    assert_eq!(done.status, Some(3));
    let result = done.result.ok_or("a result")?;
    assert_eq!(
        result.invalid_sender_list.map(|s| s.user_list),
        Some(vec!["nobody".to_owned()])
    );
    let moment_id = result.moment_id.ok_or("a moment id")?;

    let meant: Vec<_> = ec
        .get_moment_customer_list(moment_id.clone(), "wangfang")
        .await?
        .customer_list
        .into_iter()
        .map(|c| c.external_userid)
        .collect();
    assert_eq!(meant, vec!["wmA".to_owned()], "only the vip customer");
    let sent = ec
        .get_moment_send_result(moment_id.clone(), "wangfang")
        .await?;
    assert!(sent.customer_list.is_empty(), "not published yet");

    let state = sandbox.admin().state().clone();
    assert_eq!(
        wecom_sandbox::areas::externalcontact::outreach::publish_moment(
            &state, &moment_id, "wangfang"
        )?,
        1
    );
    let sent = ec
        .get_moment_send_result(moment_id.clone(), "wangfang")
        .await?;
    assert_eq!(sent.customer_list.len(), 1);
    let tasks = ec.get_moment_task(moment_id.clone()).await?;
    let status: Vec<_> = tasks
        .task_list
        .iter()
        .map(|t| (t.userid.as_str(), t.publish_status))
        .collect();
    assert_eq!(status, vec![("lina", Some(0)), ("wangfang", Some(1))]);

    let listed: Vec<_> = ec.moments(T0 - 60, T0 + 60).try_collect().await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].text.as_ref().and_then(|t| t.content.as_deref()),
        Some("春季新品")
    );

    ec.cancel_moment_task(moment_id.clone()).await?;
    assert!(
        wecom_sandbox::areas::externalcontact::outreach::publish_moment(&state, &moment_id, "lina")
            .is_err()
    );

    // Before any request: an empty moment, and a list window over 30 days.
    let before = sandbox.admin().count("add_moment_task");
    assert!(matches!(ec.add_moment_task().await, Err(Error::Invalid(_))));
    assert_eq!(sandbox.admin().count("add_moment_task"), before);
    let e = ec.get_moment_list(T0, T0 + 31 * DAY).await.err();
    assert!(
        matches!(e, Some(Error::Invalid(ref i)) if i.field == "end_time"),
        "{e:?}"
    );
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn intercept_rules_are_kept_listed_changed_and_deleted() -> Res {
    let (sandbox, client) = world(vec![]).await?;
    let ec = client.externalcontact();
    let range: wecom_externalcontact::InterceptRange =
        serde_json::from_value(serde_json::json!({"user_list": ["wangfang"]}))?;
    let id = ec
        .add_intercept_rule("敏感词", ["红包", "转账"], 1, range)
        .await?
        .rule_id;
    let listed = ec.get_intercept_rule_list().await?;
    assert_eq!(
        listed
            .rule_list
            .iter()
            .map(|r| r.rule_id.as_str())
            .collect::<Vec<_>>(),
        vec![id.as_str()]
    );
    ec.update_intercept_rule(id.clone())
        .rule_name("改名")
        .await?;
    let rule = ec
        .get_intercept_rule(id.clone())
        .await?
        .rule
        .ok_or("a rule")?;
    assert_eq!(rule.rule_name.as_deref(), Some("改名"));
    assert_eq!(rule.word_list, vec!["红包".to_owned(), "转账".to_owned()]);
    ec.del_intercept_rule(id.clone()).await?;
    let e = ec.get_intercept_rule(id).await.err();
    assert_eq!(e.and_then(|e| e.errcode()), Some(40058));

    // Before any request: a name over 20 characters, and a range naming nobody.
    let before = sandbox.admin().count("add_intercept_rule");
    let long = "名".repeat(21);
    let range: wecom_externalcontact::InterceptRange =
        serde_json::from_value(serde_json::json!({"user_list": ["wangfang"]}))?;
    let e = ec.add_intercept_rule(long, ["x"], 1, range).await.err();
    assert!(
        matches!(e, Some(Error::Invalid(ref i)) if i.field == "rule_name"),
        "{e:?}"
    );
    let nobody: wecom_externalcontact::InterceptRange =
        serde_json::from_value(serde_json::json!({}))?;
    let e = ec.add_intercept_rule("r", ["x"], 2, nobody).await.err();
    assert!(matches!(e, Some(Error::Invalid(_))), "{e:?}");
    assert_eq!(sandbox.admin().count("add_intercept_rule"), before);
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn product_albums_are_kept_listed_changed_and_deleted() -> Res {
    let (sandbox, client) = world(vec![]).await?;
    let ec = client.externalcontact();
    let id = ec
        .add_product_album()
        .description("世界上最好的商品")
        .price(30_000)
        .product_sn("SKU001")
        .await?
        .product_id;
    ec.update_product_album(id.clone()).price(25_000).await?;
    let p = ec
        .get_product_album(id.clone())
        .await?
        .product
        .ok_or("a product")?;
    assert_eq!(
        (p.price, p.product_sn.as_deref()),
        (Some(25_000), Some("SKU001"))
    );
    let all = ec.get_product_album_list().await?;
    assert_eq!(all.product_list.len(), 1);
    ec.delete_product_album(id.clone()).await?;
    assert_eq!(
        ec.get_product_album(id)
            .await
            .err()
            .and_then(|e| e.errcode()),
        Some(40058)
    );

    // Over 50,000 yuan, or a code with other than letters and digits: refused before any request.
    let before = sandbox.admin().count("add_product_album");
    assert!(matches!(
        ec.add_product_album().price(5_000_001).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        ec.add_product_album().product_sn("SKU-1").await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(sandbox.admin().count("add_product_album"), before);
    sandbox.stop().await;
    Ok(())
}

#[tokio::test]
async fn moment_strategies_are_kept_listed_changed_and_deleted() -> Res {
    let (sandbox, client) = world(vec![]).await?;
    let ec = client.externalcontact();
    let id = ec
        .moment_strategy_create("销售组")
        .admin_list(["wangfang"])
        .await?
        .strategy_id;
    ec.moment_strategy_edit(id)
        .strategy_name("大客户组")
        .await?;
    let s = ec
        .moment_strategy_get(id)
        .await?
        .strategy
        .ok_or("a strategy")?;
    assert_eq!(
        (s.strategy_id, s.strategy_name.as_deref()),
        (id, Some("大客户组"))
    );
    assert_eq!(s.admin_list, vec!["wangfang".to_owned()]);
    let ids: Vec<u32> = ec
        .moment_strategy_list()
        .await?
        .strategy
        .iter()
        .map(|s| s.strategy_id)
        .collect();
    assert_eq!(ids, vec![id]);
    ec.moment_strategy_del(id).await?;
    assert_eq!(
        ec.moment_strategy_get(id)
            .await
            .err()
            .and_then(|e| e.errcode()),
        Some(40058)
    );
    sandbox.stop().await;
    Ok(())
}

/// An app listed under 可调用应用 calls with its own token, and sees only its visible scope: the
/// takeover member must be in it (page 92125: "接替成员必须在此第三方应用或自建应用的可见范围内").
#[tokio::test]
async fn an_app_hands_customers_only_to_members_in_its_scope() -> Res {
    let (sandbox, _) = world(vec![customer("wmA", &["lina"], &[])]).await?;
    let creds = sandbox.credentials();
    let weekly = wecom_sandbox::corp::DEMO_WEEKLY_AGENTID;
    let app = creds
        .apps
        .iter()
        .find(|a| a.agentid == weekly)
        .ok_or("the weekly app")?;
    let client = Client::builder(creds.corpid.clone())
        .base_url(sandbox.base_url())
        .app(app.agentid, app.secret.clone())
        .build()?;
    let ec = client.externalcontact();
    // zhouqiang (市场部) is outside the weekly app's scope: 60011.
    let e = ec
        .transfer_customer("lina", "zhouqiang", ["wmA"])
        .await
        .err();
    assert_eq!(e.and_then(|e| e.errcode()), Some(60011));
    // wangfang (tag 经理) is inside it.
    let r = ec.transfer_customer("lina", "wangfang", ["wmA"]).await?;
    assert_eq!(r.customer.first().map(|c| c.errcode), Some(0));
    sandbox.stop().await;
    Ok(())
}
