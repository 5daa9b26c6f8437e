//! The contacts area end to end: every endpoint of spec/contacts.toml through the client against
//! the sandbox, the errors WeCom answers, the errors the client gives before any request, batch
//! jobs with their callback, and the visible-scope resolver on corps where the answer is known.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use wecom_callback::{CallbackCrypto, EventKind, Inbound};
use wecom_contacts::scope::{Directory, Reason, ScopeRules, VisibleScope};
use wecom_contacts::{
    BatchCallback, BatchGetresultResponse, BatchStatus, BizMailAlias, ContactsExt, EmailType,
    ExtAttr, ExtAttrItem, ExtAttrMiniprogram, ExtAttrText, ExtAttrType, ExtAttrWeb, Gender,
    MemberDetail, MemberSource, MenuAction, MenuButton, MenuSubButton, WalkOptions, WalkPhase,
};
use wecom_core_auth::{Client, Error, InvalidInput, Secret};
use wecom_sandbox::areas::contacts::set_batch_row_delay;
use wecom_sandbox::corp::{Actor, App, CallbackConfig, Corp, Member};
use wecom_sandbox::{Sandbox, corp};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CORPID: &str = "wwcontacts0000001";
const CONTACT_SECRET: &str = "contact-sync-secret-for-the-contacts-tests";
/// Sees department 3 (with 5), tag 10 (dave + department 5) and grace.
const SCOPED: u32 = 100;
/// Sees tag 11, which holds department 6 (with 7).
const TAGGED: u32 = 101;
/// Sees the root.
const EVERYONE: u32 = 102;

fn secret(agentid: u32) -> String {
    format!("app-secret-{agentid}-for-the-contacts-tests")
}

/// ```text
/// 1 公司
/// ├── 2 研发 ── 3 后端 ── 5 存储
/// │          └─ 4 前端
/// └── 6 销售 ── 7 华东
/// ```
/// Members: alice (3), bob (5), carol (4), dave (6), erin (7), frank (4 and 7), grace (1).
/// Tag 10 "oncall" = dave + department 5; tag 11 "sales" = department 6.
fn corp() -> Corp {
    let mut c = Corp::new(CORPID, "公司", CONTACT_SECRET);
    for (id, name, parent) in [
        (2, "研发", 1),
        (3, "后端", 2),
        (4, "前端", 2),
        (5, "存储", 3),
        (6, "销售", 1),
        (7, "华东", 6),
    ] {
        c.create_department(name, "", parent, 0, Some(id))
            .expect("department");
    }
    for (i, (id, depts)) in [
        ("alice", vec![3]),
        ("bob", vec![5]),
        ("carol", vec![4]),
        ("dave", vec![6]),
        ("erin", vec![7]),
        ("frank", vec![4, 7]),
        ("grace", vec![1]),
    ]
    .into_iter()
    .enumerate()
    {
        let m = Member::new(id, id.to_uppercase(), depts)
            .with_email(format!("{id}@example.com"))
            .with_mobile(format!("1380000000{i}"));
        c.create_member(m).expect("member");
    }
    c.create_tag("oncall", Some(10), None).expect("tag 10");
    c.add_tag_items(10, Actor::Contact, &["dave".into()], &[5])
        .expect("tag 10 items");
    c.create_tag("sales", Some(11), None).expect("tag 11");
    c.add_tag_items(11, Actor::Contact, &[], &[6])
        .expect("tag 11 items");
    let mut scoped = App::new(SCOPED, "Scoped", secret(SCOPED));
    scoped.allow_parties = vec![3];
    scoped.allow_tags = vec![10];
    scoped.allow_users = vec!["grace".into()];
    scoped.redirect_domain = "example.com".into();
    let mut tagged = App::new(TAGGED, "Tagged", secret(TAGGED));
    tagged.allow_tags = vec![11];
    let mut everyone = App::new(EVERYONE, "Everyone", secret(EVERYONE));
    everyone.allow_parties = vec![1];
    for a in [scoped, tagged, everyone] {
        c.add_app(a).expect("app");
    }
    c
}

async fn start() -> Result<Sandbox, Box<dyn std::error::Error>> {
    Ok(Sandbox::builder().corp(corp()).start().await?)
}

/// A client with every app and the contact-sync secret (`EVERYONE` selected).
fn contact_client(sb: &Sandbox) -> Result<Client, Error> {
    let mut b = Client::builder(CORPID).base_url(sb.base_url());
    for a in [EVERYONE, SCOPED, TAGGED] {
        b = b.app(a, Secret::new(secret(a)));
    }
    b.contact_secret(Secret::new(CONTACT_SECRET.to_owned()))
        .build()
}

/// A client with one app and no contact-sync secret.
fn app_client(sb: &Sandbox, agentid: u32) -> Result<Client, Error> {
    Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(agentid, Secret::new(secret(agentid)))
        .build()
}

/// Sends a request the way a client not written here would, and reads the JSON answer.
async fn json(
    request: reqwest::RequestBuilder,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_str(&request.send().await?.text().await?)?)
}

fn invalid(result: Result<impl std::fmt::Debug, Error>) -> InvalidInput {
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

fn sorted<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().map(Into::into).collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------------------------------
// Errors before any request

#[tokio::test]
async fn invalid_input_fails_before_any_request() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();

    let e = invalid(c.user_get("zhang san").await);
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("userid", Some(40003)),
        "{e}"
    );

    let long = "a".repeat(65);
    let e = invalid(
        c.user_create(long, "Long", [1u32])
            .email("long@example.com")
            .await,
    );
    assert_eq!((e.field.as_str(), e.errcode), ("userid", Some(40003)));
    assert!(e.to_string().contains("65"), "says how long it is: {e}");

    let ids: Vec<String> = (0..201).map(|i| format!("u{i}")).collect();
    let e = invalid(c.user_batchdelete(ids).await);
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("useridlist", Some(40032)),
        "{e}"
    );

    let e = invalid(c.department_create("", 1u32).await);
    assert_eq!((e.field.as_str(), e.errcode), ("name", Some(60001)), "{e}");
    let e = invalid(c.department_create("a|b", 1u32).await);
    assert_eq!(e.field, "name");
    // 1-64 characters (pages 90341 / 90206): 64 Chinese characters pass the check, 65 do not.
    let e = invalid(c.department_create("部".repeat(65), 1u32).await);
    assert_eq!((e.field.as_str(), e.errcode), ("name", Some(60001)), "{e}");

    let e = invalid(c.department_move(3, 3).await);
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("parentid", Some(60010)),
        "{e}"
    );

    let e = invalid(c.user_create("nomail", "No Mail", [1u32]).await);
    assert_eq!(
        e.errcode,
        Some(60129),
        "a new member needs a mobile or an email: {e}"
    );
    let e = invalid(
        c.user_create("many", "Many", 1..=101u32)
            .email("m@example.com")
            .await,
    );
    assert_eq!(e.errcode, Some(60110), "101 departments: {e}");
    // Up to 100 departments pass the client's check (older pages said 20).
    let hundred =
        wecom_contacts::UserCreateRequest::new("many", "Many", 1..=100u32).email("m@example.com");
    assert!(
        wecom_core_auth::Endpoint::validate(&hundred).is_ok(),
        "100 departments are allowed"
    );
    let e = invalid(
        c.user_create("lead", "Lead", [1u32, 2u32])
            .email("l@example.com")
            .is_leader_in_dept([1u32])
            .await,
    );
    assert_eq!(e.errcode, Some(60132));
    let e = invalid(c.tag_addtagusers(10u32).await);
    assert_eq!(e.errcode, Some(40070));
    let e = invalid(c.agent_set(EVERYONE).description("abc").await);
    assert_eq!((e.field.as_str(), e.errcode), ("description", Some(45004)));
    let four = (0..4).map(|i| MenuButton::click(format!("b{i}"), "K"));
    let e = invalid(c.menu_create(EVERYONE, four).await);
    assert_eq!(e.errcode, Some(40016));
    let mut deep = MenuSubButton::click("deep", "K");
    deep.sub_button = vec![serde_json::json!({"type": "click", "name": "third", "key": "K"})];
    let e = invalid(
        c.menu_create(EVERYONE, [MenuButton::group("g", [deep])])
            .await,
    );
    assert_eq!(e.errcode, Some(40022), "menus have two levels: {e}");
    let e = invalid(c.menu_create(EVERYONE, [MenuButton::new("neither")]).await);
    assert_eq!(e.errcode, Some(40017));
    // Sub-buttons: names up to 40 bytes (top level 16), their own errcodes 40025/40026.
    let sub = |name: String, key: String| MenuButton::group("g", [MenuSubButton::click(name, key)]);
    let e = invalid(
        c.menu_create(EVERYONE, [sub("x".repeat(41), "K".into())])
            .await,
    );
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("button[0].sub_button[0].name", Some(40025)),
        "{e}"
    );
    let e = invalid(
        c.menu_create(EVERYONE, [sub("x".into(), "K".repeat(129))])
            .await,
    );
    assert_eq!(e.errcode, Some(40026), "{e}");
    let forty =
        wecom_contacts::MenuCreateRequest::new(EVERYONE, [sub("子".repeat(13), "K".into())]);
    assert!(
        wecom_core_auth::Endpoint::validate(&forty).is_ok(),
        "a 39-byte sub-button name is allowed"
    );

    let admin = sb.admin();
    for endpoint in [
        "gettoken",
        "user_get",
        "user_create",
        "user_batchdelete",
        "department_create",
        "department_simplelist",
        "menu_create",
    ] {
        assert_eq!(admin.count(endpoint), 0, "{endpoint} was called");
    }
    Ok(())
}

#[tokio::test]
async fn member_fields_follow_the_doc_pages() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();

    // user/getuserid: "mobile...长度为5~32个字节" (doc 96267).
    let e = invalid(c.user_getuserid("1234").await);
    assert_eq!(
        (e.field.as_str(), e.errcode),
        ("mobile", Some(60103)),
        "{e}"
    );
    assert_eq!(sb.admin().count("user_getuserid"), 0);

    // extattr (doc 100111): text values up to 64 characters, types 0 and 1 only, a web field
    // cleared by sending url and title both empty.
    let text = |value: String| {
        let mut item = ExtAttrItem::new(ExtAttrType::Text, "备注");
        item.text = Some(ExtAttrText::new(value));
        ExtAttr::new([item])
    };
    c.user_create("ext64", "Ext", [1u32])
        .email("ext64@example.com")
        .extattr(text("字".repeat(64)))
        .await?;
    let e = invalid(c.user_update("ext64").extattr(text("字".repeat(65))).await);
    assert!(e.field.ends_with("text.value"), "{e}");
    let mut mini = ExtAttrItem::new(ExtAttrType::Miniprogram, "app");
    mini.miniprogram = Some(ExtAttrMiniprogram::new("wx1234", "App"));
    let e = invalid(c.user_update("ext64").extattr(ExtAttr::new([mini])).await);
    assert!(e.field.ends_with("type"), "{e}");
    let web = |url: &str, title: &str| {
        let mut item = ExtAttrItem::new(ExtAttrType::Web, "site");
        item.web = Some(ExtAttrWeb::new(url, title));
        ExtAttr::new([item])
    };
    c.user_update("ext64").extattr(web("", "")).await?;
    let e = invalid(
        c.user_update("ext64")
            .extattr(web("https://e.com", ""))
            .await,
    );
    assert!(e.field.ends_with("web.title"), "{e}");

    // user/update takes biz_mail_alias (request example of doc 90197).
    c.user_update("ext64")
        .biz_mail_alias(BizMailAlias::new(["ext@example.com"]))
        .await?;
    assert_eq!(
        sb.admin().count("user_update"),
        2,
        "the two valid updates only"
    );
    Ok(())
}

#[tokio::test]
async fn directory_writes_need_the_contact_sync_secret() -> TestResult {
    let sb = start().await?;
    let app_only = app_client(&sb, EVERYONE)?;
    let c = app_only.contacts();
    for result in [
        c.user_create("x1", "X", [1u32])
            .email("x1@example.com")
            .await
            .map(|_| ()),
        c.user_delete("alice").await.map(|_| ()),
        c.department_create("New", 1u32).await.map(|_| ()),
        c.batch_syncuser("media").await.map(|_| ()),
    ] {
        match result {
            Err(Error::Config(e)) => {
                assert!(
                    e.to_string().contains("contact-sync secret"),
                    "names the secret: {e}"
                );
                assert!(e.fix.contains("contact_secret"), "says how to fix it: {e}");
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }
    assert_eq!(sb.admin().count("gettoken"), 0, "nothing was sent");

    // A client not written here, holding only an app token, gets WeCom's 48002.
    let http = reqwest::Client::new();
    let base = sb.base_url();
    let token = json(http.get(format!(
        "{base}/cgi-bin/gettoken?corpid={CORPID}&corpsecret={}",
        secret(EVERYONE)
    )))
    .await?;
    let token = token["access_token"].as_str().ok_or("no token")?.to_owned();
    let answer = json(
        http.post(format!("{base}/cgi-bin/user/create?access_token={token}"))
            .body(r#"{"userid":"x2","name":"X","department":[1],"email":"x2@example.com"}"#),
    )
    .await?;
    assert_eq!(answer["errcode"], 48002, "{answer}");
    Ok(())
}

#[tokio::test]
async fn another_client_gets_the_specs_errcodes_from_the_sandbox() -> TestResult {
    // The sandbox validates with the same generated rules: a client that skips them gets WeCom's
    // codes on the wire.
    let sb = start().await?;
    let http = reqwest::Client::new();
    let base = sb.base_url();
    let token = json(http.get(format!(
        "{base}/cgi-bin/gettoken?corpid={CORPID}&corpsecret={CONTACT_SECRET}"
    )))
    .await?;
    let token = token["access_token"].as_str().ok_or("no token")?.to_owned();
    let post = |path: &str, body: String| {
        let req = http
            .post(format!("{base}/cgi-bin/{path}?access_token={token}"))
            .body(body);
        json(req)
    };
    let ids: Vec<String> = (0..201).map(|i| format!("u{i}")).collect();
    let cases = [
        (
            "user/create",
            r#"{"userid":"zhang san","name":"Z","department":[1],"email":"z@example.com"}"#
                .to_owned(),
            40003,
        ),
        (
            "user/batchdelete",
            serde_json::json!({ "useridlist": ids }).to_string(),
            40032,
        ),
        (
            "department/create",
            r#"{"name":"","parentid":1}"#.to_owned(),
            60001,
        ),
        (
            "user/create",
            r#"{"userid":"x","name":"X","department":[1]}"#.to_owned(),
            60129,
        ),
        ("tag/deltagusers", r#"{"tagid":10}"#.to_owned(), 40031),
        ("user/create", "not json".to_owned(), 47001),
    ];
    for (path, body, code) in cases {
        let answer = post(path, body).await?;
        assert_eq!(answer["errcode"], code, "{path}: {answer}");
    }
    let answer = json(http.get(format!(
        "{base}/cgi-bin/user/get?access_token={token}&userid=alice"
    )))
    .await?;
    assert_eq!(
        (answer["errcode"].as_i64(), answer["userid"].as_str()),
        (Some(0), Some("alice"))
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Departments

#[tokio::test]
async fn departments_create_read_update_delete() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();

    let id = c
        .department_create("测试", 2u32)
        .name_en("QA")
        .order(7u32)
        .id(20u32)
        .await?
        .id;
    assert_eq!(id, 20);
    let auto = c.department_create("自动", 20u32).await?.id;
    assert!(auto > 20, "a fresh id: {auto}");
    // A 64-character name is WeCom's maximum (pages 90341 / 90206) and the sandbox keeps it.
    let long = c.department_create("长".repeat(64), 20u32).await?.id;
    let d = c.department_get(long).await?.department;
    assert_eq!(d.name.map(|n| n.chars().count()), Some(64));
    c.department_delete(long).await?;

    let d = c.department_get(20).await?.department;
    assert_eq!(
        (d.name.as_deref(), d.name_en.as_deref(), d.parentid, d.order),
        (Some("测试"), Some("QA"), Some(2), Some(7))
    );

    let subtree: Vec<u32> = c
        .department_list()
        .id(2u32)
        .await?
        .department
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(subtree[0], 2, "the department first, then its subtree");
    assert_eq!(
        subtree.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([2, 3, 4, 5, 20, auto])
    );
    let all = c.department_simplelist().await?.department_id;
    assert_eq!(all.len(), 9);
    let pos = |id: u32| all.iter().position(|d| d.id == id);
    assert!(pos(20) < pos(auto), "parents before children");

    // Errors WeCom answers.
    assert_eq!(
        errcode(c.department_create("后端", 2u32).await),
        60008,
        "sibling names are unique"
    );
    assert_eq!(errcode(c.department_create("X", 999u32).await), 60004);
    assert_eq!(
        errcode(c.department_create("X", 1u32).id(3u32).await),
        60008,
        "id taken"
    );
    assert_eq!(errcode(c.department_get(999).await), 60003);
    assert_eq!(
        errcode(c.department_update(2u32).parentid(5u32).await),
        60010,
        "cycle"
    );
    assert_eq!(errcode(c.department_delete(1).await), 60007);
    assert_eq!(errcode(c.department_delete(3).await), 60006, "has children");
    assert_eq!(errcode(c.department_delete(4).await), 60005, "has members");

    // The cycle check of department_move reads the subtree, then refuses before the update.
    let before = sb.admin().count("department_update");
    let e = invalid(c.department_move(2, 5).await);
    assert_eq!(e.errcode, Some(60010), "{e}");
    assert_eq!(
        sb.admin().count("department_update"),
        before,
        "the update was not sent"
    );

    c.department_move(20, 6).await?;
    c.department_update(20u32).name("质量").order(3u32).await?;
    let d = c.department_get(20).await?.department;
    assert_eq!(
        (d.name.as_deref(), d.parentid, d.order),
        (Some("质量"), Some(6), Some(3))
    );

    c.department_delete(auto).await?;
    c.department_delete(20).await?;
    assert_eq!(errcode(c.department_get(20).await), 60003);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Members

#[tokio::test]
async fn members_create_read_update_delete() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();

    c.user_create("Zhangsan", "张三", [3u32, 6u32])
        .mobile("+86-13900000001")
        .email("zhangsan@example.com")
        .biz_mail("zs@corp.example.com")
        .order([10u32, 20])
        .is_leader_in_dept([1u32, 0])
        .position("工程师")
        .gender(Gender::Male)
        .telephone("010-1234,5")
        .direct_leader(["alice"])
        .main_department(6u32)
        .address("北京")
        .await?;
    let m = c.user_get("zhangsan").await?;
    assert_eq!(
        m.userid, "Zhangsan",
        "found case-insensitively, spelled as created"
    );
    assert_eq!(
        (m.name.as_deref(), m.department.clone(), m.order.clone()),
        (Some("张三"), vec![3, 6], vec![10, 20])
    );
    assert_eq!(
        (
            m.is_leader_in_dept.clone(),
            m.main_department,
            m.gender.clone()
        ),
        (vec![1, 0], Some(6), Some(Gender::Male))
    );
    assert_eq!(
        (m.mobile.as_deref(), m.position.as_deref(), m.enable),
        (Some("+86-13900000001"), Some("工程师"), Some(true))
    );
    assert_eq!(m.direct_leader, vec!["alice"]);

    // WeCom's uniqueness rules.
    let dup = |userid: &str, mobile: &str, email: &str| {
        c.user_create(userid, "Dup", [1u32])
            .mobile(mobile)
            .email(email)
    };
    assert_eq!(
        errcode(dup("ZHANGSAN", "13900000009", "z9@example.com").await),
        60102
    );
    assert_eq!(
        errcode(dup("z2", "+86-13900000001", "z2@example.com").await),
        60104
    );
    assert_eq!(
        errcode(dup("z3", "13900000003", "ZhangSan@example.com").await),
        60106
    );
    assert_eq!(
        errcode(
            c.user_create("z4", "Z", [99u32])
                .email("z4@example.com")
                .await
        ),
        60003
    );
    assert_eq!(errcode(c.user_get("nobody").await), 60111);

    // Update: omitted fields stay, a new department list replaces the per-department lists.
    c.user_update("zhangsan")
        .department([4u32])
        .position("架构师")
        .enable(false)
        .await?;
    let m = c.user_get("zhangsan").await?;
    assert_eq!(
        (m.department.clone(), m.position.as_deref(), m.enable),
        (vec![4], Some("架构师"), Some(false))
    );
    assert_eq!(m.mobile.as_deref(), Some("+86-13900000001"));
    c.user_update("zhangsan").new_userid("zs").await?;
    assert_eq!(c.user_get("zs").await?.userid, "zs");
    assert_eq!(errcode(c.user_get("zhangsan").await), 60111);

    // Lookups.
    assert_eq!(c.user_getuserid("+86-13900000001").await?.userid, "zs");
    assert_eq!(errcode(c.user_getuserid("13999999999").await), 46004);
    assert_eq!(
        c.user_get_userid_by_email("zs@corp.example.com")
            .await?
            .userid,
        "zs"
    );
    let personal = c
        .user_get_userid_by_email("zhangsan@example.com")
        .email_type(EmailType::Personal);
    assert_eq!(personal.await?.userid, "zs");
    assert_eq!(
        errcode(c.user_get_userid_by_email("zhangsan@example.com").await),
        46004,
        "not a corp mailbox"
    );
    assert_eq!(
        errcode(c.user_convert_to_openid("zs").await),
        43004,
        "not bound to WeChat"
    );
    sb.admin().with_corp(|corp| {
        corp.update_member("zs", |m| m.openid = "oWeChat-zs".into())
            .map(|_| ())
    })?;
    assert_eq!(c.user_convert_to_openid("zs").await?.openid, "oWeChat-zs");
    assert_eq!(c.user_convert_to_userid("oWeChat-zs").await?.userid, "zs");
    assert_eq!(errcode(c.user_convert_to_userid("oUnknown").await), 40073);

    // Lists.
    let brief = c.user_simplelist(4).await?.userlist;
    assert_eq!(
        sorted(brief.iter().map(|m| m.userid.as_str())),
        vec!["carol", "frank", "zs"]
    );
    let deep = c.user_list(2u32).fetch_child(true).await?.userlist;
    assert_eq!(
        sorted(deep.iter().map(|m| m.userid.as_str())),
        vec!["alice", "bob", "carol", "frank", "zs"]
    );
    assert!(
        deep.iter().all(|m| m.name.is_some()),
        "details come with user/list"
    );
    let only = c.user_simplelist(2u32).await?.userlist;
    assert!(only.is_empty(), "no member sits directly in 2");

    // Delete, and the userid is free again.
    c.user_delete("zs").await?;
    assert_eq!(errcode(c.user_delete("zs").await), 60111);
    c.user_create("zs", "Again", [1u32])
        .email("again@example.com")
        .await?;
    assert_eq!(c.user_get("zs").await?.name.as_deref(), Some("Again"));

    // batchdelete: one unknown userid fails the whole call.
    assert_eq!(errcode(c.user_batchdelete(["zs", "ghost"]).await), 60111);
    assert!(c.user_get("zs").await.is_ok(), "nothing was deleted");
    c.user_batchdelete(["zs", "grace"]).await?;
    assert_eq!(errcode(c.user_get("grace").await), 60111);
    Ok(())
}

#[tokio::test]
async fn list_id_streams_every_row_across_pages() -> TestResult {
    let sb = start().await?;
    sb.admin()
        .with_corp(|corp| -> Result<(), corp::CorpError> {
            for i in 0..23 {
                let id = format!("p{i:02}");
                corp.create_member(
                    Member::new(&id, &id, vec![2, 6]).with_email(format!("{id}@example.com")),
                )?;
            }
            Ok(())
        })?;
    let client = contact_client(&sb)?;
    let rows: Vec<_> = client.contacts().user_ids(5).try_collect().await?;
    // 7 original members (frank twice) + 23 members in two departments.
    assert_eq!(rows.len(), 8 + 46);
    let pairs: BTreeSet<(String, u32)> = rows
        .iter()
        .map(|r| (r.userid.clone(), r.department))
        .collect();
    assert_eq!(pairs.len(), rows.len(), "no row twice");
    assert!(pairs.contains(&("frank".into(), 4)) && pairs.contains(&("frank".into(), 7)));
    assert!(pairs.contains(&("p22".into(), 6)));
    assert_eq!(
        sb.admin().count("user_list_id"),
        11,
        "54 rows in pages of 5"
    );

    // Only the contact-sync secret may call user/list_id (doc 96067): an app-only client is
    // refused before any request, naming the secret it needs.
    let scoped = app_client(&sb, SCOPED)?;
    let before = sb.admin().count("user_list_id");
    let refused: Result<Vec<_>, Error> = scoped.contacts().user_ids(1000).try_collect().await;
    match refused {
        Err(Error::Config(e)) => {
            assert!(
                e.to_string().contains("contact-sync"),
                "names the secret: {e}"
            );
            assert!(e.fix.contains("contact_secret"), "says how to fix it: {e}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    assert_eq!(sb.admin().count("user_list_id"), before, "no request sent");
    Ok(())
}

#[tokio::test]
async fn walking_with_only_an_app_secret_reads_simplelist_per_department() -> TestResult {
    let sb = start().await?;
    let client = app_client(&sb, SCOPED)?;
    let snap = client.contacts().walk(WalkOptions::ids(), |_| {}).await?;
    assert_eq!(snap.source, MemberSource::SimplelistPerDepartment);
    assert_eq!(
        sorted(snap.members.iter().map(|m| m.userid.as_str())),
        vec!["alice", "bob"],
        "the members of the departments the app may list (dave and grace are in its scope by tag \
         and by name, outside those departments: visible_scope reads them with user/get)"
    );
    assert_eq!(sb.admin().count("user_list_id"), 0, "never sent");
    assert_eq!(
        sb.admin().count("user_simplelist"),
        snap.departments.len() as u64,
        "one request per department"
    );

    let with_secret = contact_client(&sb)?;
    let snap = with_secret
        .contacts()
        .walk(WalkOptions::ids(), |_| {})
        .await?;
    assert_eq!(snap.source, MemberSource::ListId);
    let snap = with_secret
        .contacts()
        .walk(WalkOptions::full(), |_| {})
        .await?;
    assert_eq!(snap.source, MemberSource::ListPerDepartment);
    Ok(())
}

#[tokio::test]
async fn walking_the_directory_reports_progress() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let mut seen = Vec::new();
    let snap = client
        .contacts()
        .walk(
            WalkOptions {
                page_size: 3,
                ..WalkOptions::ids()
            },
            |p| seen.push(*p),
        )
        .await?;
    assert_eq!(snap.departments.len(), 7);
    assert_eq!(snap.members.len(), 7);
    let frank = snap
        .members
        .iter()
        .find(|m| m.userid == "frank")
        .ok_or("frank")?;
    assert_eq!(frank.department, vec![4, 7]);
    assert_eq!(seen.first().map(|p| p.phase), Some(WalkPhase::Departments));
    let last = seen.last().ok_or("no progress")?;
    assert_eq!(
        (last.phase, last.members, last.rows, last.departments),
        (WalkPhase::Done, 7, 8, 7)
    );
    assert!(
        seen.windows(2)
            .all(|w| w[0].requests <= w[1].requests && w[0].members <= w[1].members)
    );

    let mut calls = 0;
    let full = client
        .contacts()
        .walk(
            WalkOptions {
                detail: MemberDetail::Full,
                ..WalkOptions::default()
            },
            |_| calls += 1,
        )
        .await?;
    assert_eq!(full.members.len(), 7);
    assert!(full.members.iter().all(|m| m.name.is_some()), "full detail");
    assert_eq!(
        sb.admin().count("user_list"),
        7,
        "one request per department"
    );
    assert!(calls >= 9);

    // The contact-sync secret from a new IP: department/list refused with 48009, simplelist used.
    sb.admin()
        .add_fault(wecom_sandbox::Fault::errcode("department_list", 48009).times(1));
    let snap = client.contacts().walk(WalkOptions::ids(), |_| {}).await?;
    assert_eq!(snap.departments.len(), 7);
    assert!(
        snap.departments.iter().all(|d| d.name.is_none()),
        "simplelist has no names"
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Tags

#[tokio::test]
async fn tags_and_partial_failures() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();
    let id = c.tag_create("值班").tagid(30u32).await?.tagid;
    assert_eq!(id, 30);
    assert_eq!(
        errcode(c.tag_create("值班").await),
        40071,
        "names are unique"
    );
    c.tag_update(30u32, "夜班").await?;

    let added = c
        .tag_addtagusers(30u32)
        .userlist(["alice", "ghost", "nobody"])
        .partylist([4u32, 999])
        .await?;
    assert_eq!(
        added.invalidlist,
        vec!["ghost", "nobody"],
        "\"a|b\" arrives as a list"
    );
    assert_eq!(added.invalidparty, vec![999]);
    assert_eq!(
        errcode(c.tag_addtagusers(30u32).userlist(["ghost"]).await),
        40070
    );

    let tag = c.tag_get(30).await?;
    assert_eq!(
        (tag.tagname.as_str(), tag.partylist.clone()),
        ("夜班", vec![4])
    );
    assert_eq!(
        tag.userlist
            .iter()
            .map(|u| (u.userid.as_str(), u.name.as_deref()))
            .collect::<Vec<_>>(),
        vec![("alice", Some("ALICE"))]
    );

    let removed = c.tag_deltagusers(30u32).userlist(["alice", "bob"]).await?;
    assert_eq!(removed.invalidlist, vec!["bob"]);
    assert_eq!(
        errcode(c.tag_deltagusers(30u32).userlist(["bob"]).await),
        40031
    );

    let names: Vec<String> = c
        .tag_list()
        .await?
        .taglist
        .into_iter()
        .map(|t| t.tagname)
        .collect();
    assert_eq!(sorted(names), vec!["oncall", "sales", "夜班"]);

    // Only a tag's creator may change it; an app creates its own.
    let app = app_client(&sb, EVERYONE)?;
    assert_eq!(errcode(app.contacts().tag_update(30u32, "x").await), 81011);
    let mine = app.contacts().tag_create("app-tag").await?.tagid;
    app.contacts().tag_delete(mine).await?;
    c.tag_delete(30).await?;
    assert_eq!(errcode(c.tag_get(30).await), 40068);

    // batch/invite reports what it could not invite.
    let scoped = app_client(&sb, SCOPED)?;
    let r = scoped
        .contacts()
        .batch_invite()
        .user(["alice", "carol", "ghost"])
        .party([3u32, 6])
        .tag([10u32, 11])
        .await?;
    assert_eq!(
        (r.invaliduser, r.invalidparty, r.invalidtag),
        (vec!["carol".into(), "ghost".into()], vec![6], vec![11])
    );
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Batch jobs

/// A one-shot HTTP receiver for callbacks: answers 200 and hands over (query, body).
async fn receiver() -> Result<(String, mpsc::UnboundedReceiver<(String, Vec<u8>)>), std::io::Error>
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/callback", listener.local_addr()?);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then Content-Length bytes of body.
            let (head_end, length) = loop {
                let Ok(n) = sock.read(&mut chunk).await else {
                    break (0, 0);
                };
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    break (end + 4, length);
                }
            };
            while buf.len() < head_end + length {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let first = String::from_utf8_lossy(&buf)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let query = first
                .split_whitespace()
                .nth(1)
                .and_then(|t| t.split_once('?'))
                .map(|(_, q)| q.to_owned())
                .unwrap_or_default();
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            let _ = tx.send((query, buf[head_end.min(buf.len())..].to_vec()));
        }
    });
    Ok((url, rx))
}

fn query_param(query: &str, name: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn upload_csv(sb: &Sandbox, text: &str) -> String {
    sb.admin().state().store_media(
        "file",
        Bytes::from(text.to_owned()),
        "text/csv",
        "import.csv",
        false,
    )
}

async fn wait_done(client: &Client, jobid: &str) -> Result<BatchGetresultResponse, Error> {
    for _ in 0..500 {
        let r = client.contacts().batch_getresult(jobid).await?;
        if r.status == BatchStatus::Done {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    client.contacts().batch_getresult(jobid).await
}

/// 43 base64 characters for 32 bytes (the last one's two padding bits are zero).
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE";

#[tokio::test]
async fn batch_syncuser_runs_reports_progress_and_calls_back() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();
    let (url, mut inbox) = receiver().await?;
    let csv = "姓名,帐号,手机号,邮箱,所在部门,职务,性别\n\
               新人,newbie,13700000001,newbie@example.com,3;6,实习生,女\n\
               ALICE-2,alice,,,,组长,\n\
               坏行,bad row,,x@example.com,1,,\n\
               重复,nobody2,,alice@example.com,1,,\n";
    let media = upload_csv(&sb, csv);
    set_batch_row_delay(sb.admin().state(), Duration::from_millis(60));
    let callback = BatchCallback::new(
        url,
        Secret::new("cbtoken".to_owned()),
        Secret::new(AES_KEY.to_owned()),
    );
    let jobid = c
        .batch_syncuser(media.clone())
        .callback(callback)
        .await?
        .jobid;

    // One job at a time.
    assert_eq!(errcode(c.batch_syncuser(media).await), 302008);
    // Progress while it runs.
    let mut saw_progress = false;
    for _ in 0..100 {
        let r = c.batch_getresult(jobid.as_str()).await?;
        if r.status == BatchStatus::Running && (1..100).contains(&r.percentage.unwrap_or(0)) {
            saw_progress = true;
            assert!(!r.result.is_empty() && r.result.len() < 4);
            break;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    assert!(saw_progress, "getresult showed the job part-way");

    let r = wait_done(&client, &jobid).await?;
    assert_eq!(
        (r.status, r.total, r.percentage),
        (BatchStatus::Done, Some(4), Some(100))
    );
    assert_eq!(r.job_type.as_ref().map(|t| t.as_str()), Some("sync_user"));
    let rows: Vec<(Option<&str>, i64)> = r
        .result
        .iter()
        .map(|row| (row.userid.as_deref(), row.errcode))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some("newbie"), 0),
            (Some("alice"), 0),
            (Some("bad row"), 40003),
            (Some("nobody2"), 60106)
        ]
    );

    let newbie = c.user_get("newbie").await?;
    assert_eq!(
        (
            newbie.department.clone(),
            newbie.gender.clone(),
            newbie.position.as_deref()
        ),
        (vec![3, 6], Some(Gender::Female), Some("实习生"))
    );
    let alice = c.user_get("alice").await?;
    assert_eq!(
        (
            alice.name.as_deref(),
            alice.position.as_deref(),
            alice.department.clone()
        ),
        (Some("ALICE-2"), Some("组长"), vec![3])
    );

    // The batch_job_result event, encrypted for the job's callback.
    let (query, body) = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
        .await?
        .ok_or("no callback")?;
    let crypto = CallbackCrypto::new("cbtoken", AES_KEY, CORPID)?;
    let plain = crypto.open_delivery(
        &query_param(&query, "msg_signature"),
        &query_param(&query, "timestamp"),
        &query_param(&query, "nonce"),
        body,
    )?;
    match Inbound::parse(&plain)? {
        Inbound::Event(e) => match e.kind {
            EventKind::BatchJobResult(job) => {
                assert_eq!(
                    (job.job_id.as_str(), job.job_type.as_str(), job.err_code),
                    (jobid.as_str(), "sync_user", 0)
                );
                assert_eq!(e.header.from_user_name, "sys");
            }
            other => panic!("expected batch_job_result, got {other:?}"),
        },
        other => panic!("expected an event, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn batch_replaceuser_and_replaceparty() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?;
    let c = client.contacts();

    // Deleting 6 of 7 members (over 80%, under 50 people) is refused.
    let only_alice = upload_csv(&sb, "userid,name,department\nalice,Alice,3\n");
    assert_eq!(errcode(c.batch_replaceuser(only_alice).await), 45026);
    assert_eq!(errcode(c.batch_syncuser("no-such-media").await), 40007);

    // The file keeps 6 of 7: grace goes, henry comes.
    let csv = "userid,name,department,email\nalice,Alice,3,\nbob,Bob,5,\ncarol,Carol,4,\ndave,Dave,6,\nerin,Erin,7,\nfrank,Frank,4;7,\nhenry,Henry,2,henry@example.com\n";
    let jobid = c
        .batch_replaceuser(upload_csv(&sb, csv))
        .to_invite(false)
        .await?
        .jobid;
    let r = wait_done(&client, &jobid).await?;
    assert!(
        r.result.iter().all(|row| row.errcode == 0),
        "{:?}",
        r.result
    );
    assert_eq!(errcode(c.user_get("grace").await), 60111);
    assert_eq!(c.user_get("henry").await?.department, vec![2]);

    // Departments: 4 renamed and moved under 6, 8 created under 7 (listed before its parent row
    // order does not matter), 5 missing from the file but not empty, so kept; 3 has members and
    // children, kept too.
    let csv = "部门名称,部门ID,父部门ID,排序\n华东一区,8,7,5\n公司,1,0,\n研发,2,1,\n后端,3,2,\n网页,4,6,9\n销售,6,1,\n华东,7,6,\n";
    let jobid = c.batch_replaceparty(upload_csv(&sb, csv)).await?.jobid;
    let r = wait_done(&client, &jobid).await?;
    let by_id = |id: u32| {
        r.result
            .iter()
            .find(|row| row.partyid == Some(id))
            .map(|row| (row.action, row.errcode))
    };
    assert_eq!(by_id(8), Some((Some(1), 0)), "created");
    assert_eq!(
        by_id(4),
        Some((Some(2 | 4 | 8), 0)),
        "renamed, moved, reordered"
    );
    assert_eq!(by_id(2), Some((Some(0), 0)), "unchanged");
    let d4 = c.department_get(4).await?.department;
    assert_eq!(
        (d4.name.as_deref(), d4.parentid, d4.order),
        (Some("网页"), Some(6), Some(9))
    );
    assert_eq!(c.department_get(8).await?.department.parentid, Some(7));
    assert!(c.department_get(5).await.is_ok(), "not empty, so kept");

    // Empty it and replace again: now it goes.
    c.user_delete("bob").await?;
    let jobid = c.batch_replaceparty(upload_csv(&sb, csv)).await?.jobid;
    wait_done(&client, &jobid).await?;
    assert_eq!(errcode(c.department_get(5).await), 60003);

    // Only the last 5 results are kept.
    let mut ids = vec![jobid];
    for _ in 0..5 {
        let j = c
            .batch_syncuser(upload_csv(&sb, "userid,name\nalice,Alice\n"))
            .await?
            .jobid;
        wait_done(&client, &j).await?;
        ids.push(j);
    }
    assert_eq!(errcode(c.batch_getresult(ids[0].as_str()).await), 40089);
    assert!(c.batch_getresult(ids[5].as_str()).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn batch_result_goes_to_the_contact_sync_callback_when_the_job_names_none() -> TestResult {
    let sb = start().await?;
    let (url, mut inbox) = receiver().await?;
    let token = Secret::new("cbtoken".to_owned());
    sb.admin().with_corp(|corp| {
        corp.set_contact_callback(Some(CallbackConfig {
            url,
            token,
            encoding_aes_key: Secret::new(AES_KEY.to_owned()),
        }))
    });
    let client = contact_client(&sb)?;
    let jobid = client
        .contacts()
        .batch_syncuser(upload_csv(&sb, "userid,name\nalice,Alice\n").as_str())
        .await?
        .jobid;
    wait_done(&client, &jobid).await?;
    let (_, body) = tokio::time::timeout(Duration::from_secs(5), inbox.recv())
        .await?
        .ok_or("no callback")?;
    assert!(!body.is_empty());
    let log = sb.admin().callback_log();
    let record = log
        .iter()
        .find(|r| r.what == "event:batch_job_result")
        .ok_or("not logged")?;
    assert!(record.delivered && record.plaintext.contains(&jobid));
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Apps and menus

#[tokio::test]
async fn agents_and_menus() -> TestResult {
    let sb = start().await?;
    let client = contact_client(&sb)?.agent(SCOPED)?;
    let c = client.contacts();

    let agent = c.agent_get(SCOPED).await?;
    assert_eq!(agent.name, "Scoped");
    assert_eq!(
        agent.allow_partys.as_ref().map(|p| p.partyid.clone()),
        Some(vec![3])
    );
    assert_eq!(
        agent.allow_tags.as_ref().map(|t| t.tagid.clone()),
        Some(vec![10])
    );
    let users: Vec<String> = agent
        .allow_userinfos
        .iter()
        .flat_map(|a| a.user.iter().map(|u| u.userid.clone()))
        .collect();
    assert_eq!(users, vec!["grace"]);
    assert_eq!(
        errcode(c.agent_get(EVERYONE).await),
        301002,
        "a token manages its own app only"
    );
    assert_eq!(errcode(c.agent_get(999).await), 40056);
    let list = c.agent_list().await?.agentlist;
    assert_eq!(
        list.iter().map(|a| a.agentid).collect::<Vec<_>>(),
        vec![SCOPED]
    );

    c.agent_set(SCOPED)
        .name("新名字")
        .description("一个测试应用")
        .isreportenter(true)
        .home_url("https://example.com/home")
        .await?;
    let agent = c.agent_get(SCOPED).await?;
    assert_eq!(
        (
            agent.name.as_str(),
            agent.description.as_deref(),
            agent.isreportenter
        ),
        ("新名字", Some("一个测试应用"), Some(true))
    );
    assert_eq!(
        errcode(c.agent_set(SCOPED).logo_mediaid("missing").await),
        40007
    );

    assert_eq!(errcode(c.menu_get(SCOPED).await), 46003, "no menu yet");
    let menu = c.menu_create(
        SCOPED,
        [
            MenuButton::click("报表", "REPORT"),
            MenuButton::group(
                "更多",
                [
                    MenuSubButton::view("官网", "https://www.example.com/"),
                    MenuSubButton::pic_weixin("相册", "PIC"),
                ],
            ),
        ],
    );
    let set = menu.request().button.clone();
    menu.await?;
    let got = c.menu_get(SCOPED).await?.button;
    assert_eq!(got, set, "what was set comes back");
    assert_eq!(got[1].sub_button[0].action, MenuAction::View);

    // What the spec cannot say, the sandbox checks as WeCom does.
    let mut keyless = MenuButton::click("报表", "K");
    keyless.key = None;
    assert_eq!(errcode(c.menu_create(SCOPED, [keyless]).await), 40019);
    let outside = MenuButton::group("g", [MenuSubButton::view("外站", "https://other.org/")]);
    assert_eq!(errcode(c.menu_create(SCOPED, [outside]).await), 40054);
    assert_eq!(
        errcode(
            c.menu_create(SCOPED, [MenuButton::view("外站", "https://other.org/")])
                .await
        ),
        40055
    );

    // A tap on the menu reaches the app's callback as a click event.
    let (url, _inbox) = receiver().await?;
    let config = CallbackConfig {
        url,
        token: Secret::new("t".to_owned()),
        encoding_aes_key: Secret::new(AES_KEY.to_owned()),
    };
    sb.admin()
        .with_corp(|corp| corp.update_app(SCOPED, |a| a.callback = Some(config)))?;
    let records = sb.admin().member_clicks("alice", SCOPED, "REPORT").await?;
    assert!(
        records
            .iter()
            .any(|r| r.what == "event:click" && r.delivered)
    );

    c.menu_delete(SCOPED).await?;
    assert_eq!(errcode(c.menu_get(SCOPED).await), 46003);
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// Visible scope

#[tokio::test]
async fn visible_scope_is_resolved_and_enforced_the_same_way() -> TestResult {
    let sb = start().await?;
    let everyone = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"];
    let expected = [
        // department 3 with 5, tag 10 (dave + department 5), grace listed
        (SCOPED, vec!["alice", "bob", "dave", "grace"], vec![3, 5]),
        // tag 11 holds department 6, so 6 and 7 with dave, erin and frank (in 4 and 7)
        (TAGGED, vec!["dave", "erin", "frank"], vec![6, 7]),
        (EVERYONE, everyone.to_vec(), vec![1, 2, 3, 4, 5, 6, 7]),
    ];
    for (agentid, members, departments) in expected {
        // Resolved from the API by the SDK, with the contact-sync secret...
        let client = contact_client(&sb)?.agent(agentid)?;
        let scope = client.contacts().visible_scope(agentid).await?;
        assert_eq!(
            sorted(scope.members()),
            sorted(members.clone()),
            "app {agentid}"
        );
        let mut depts: Vec<u32> = scope.departments().collect();
        depts.sort_unstable();
        assert_eq!(depts, departments, "app {agentid}");
        // ... and from the app's own token, which sees only its scope: the same answer.
        let own = app_client(&sb, agentid)?;
        let own_scope = own.contacts().visible_scope(agentid).await?;
        assert_eq!(
            sorted(own_scope.members()),
            sorted(members.clone()),
            "app {agentid} with its own token"
        );
        // The sandbox enforces the same rule.
        for m in everyone {
            let allowed = own.contacts().user_get(m).await;
            assert_eq!(allowed.is_ok(), scope.is_visible(m), "app {agentid}, {m}");
            if let Err(e) = allowed {
                assert_eq!(e.errcode(), Some(60011));
                assert!(
                    e.to_string().contains("outside the visible scope"),
                    "the reason comes with it: {e}"
                );
            }
        }
    }

    let client = contact_client(&sb)?.agent(SCOPED)?;
    let scope = client.contacts().visible_scope(SCOPED).await?;
    assert_eq!(
        scope.explain("bob").reasons,
        vec![
            Reason::TagDepartment {
                tag: 10,
                department: 5,
                via: 5
            },
            Reason::ListedDepartment {
                department: 3,
                via: 5
            }
        ]
    );
    assert_eq!(
        scope.explain("dave").reasons,
        vec![Reason::TagMember { tag: 10 }]
    );
    assert_eq!(scope.explain("grace").reasons, vec![Reason::ListedMember]);
    let why = scope.explain("frank").to_string();
    assert_eq!(
        why,
        "frank is outside the visible scope: not listed in allow_userinfos; departments 4, 7 are not under a listed \
         department (3) or a department of a listed tag; holds none of the listed tags (10)"
    );
    // The contact-sync secret covers the whole corp.
    let corp = sb.admin().corp();
    let whole = VisibleScope::resolve(corp.directory(), ScopeRules::contact_sync());
    assert_eq!(whole.member_count(), 7);
    assert_eq!(whole.explain("frank").reasons, vec![Reason::WholeCorp]);
    Ok(())
}

#[test]
fn scope_on_hand_built_corps() {
    // Nested departments: 10 > 11 > 12 > 13, a member at each level and one outside.
    let mut d = Directory::new();
    d.add_department(1, 0);
    for (id, parent) in [(10, 1), (11, 10), (12, 11), (13, 12), (20, 1)] {
        d.add_department(id, parent);
    }
    for (m, dept) in [("l1", 10), ("l2", 11), ("l3", 12), ("l4", 13), ("out", 20)] {
        d.add_member(m, [dept]);
    }
    let s = VisibleScope::resolve(d.clone(), ScopeRules::new().with_departments([11]));
    assert_eq!(sorted(s.members()), vec!["l2", "l3", "l4"]);
    assert_eq!(
        s.explain("l4").reasons,
        vec![Reason::ListedDepartment {
            department: 11,
            via: 13
        }]
    );

    // A tag holding a department: its whole subtree, not its parent.
    d.add_tag(5, ["out"], [12]);
    let s = VisibleScope::resolve(d.clone(), ScopeRules::new().with_tags([5]));
    assert_eq!(sorted(s.members()), vec!["l3", "l4", "out"]);
    let mut depts: Vec<u32> = s.departments().collect();
    depts.sort_unstable();
    assert_eq!(depts, vec![12, 13]);
    assert!(
        !s.is_department_visible(20),
        "a listed member does not bring its department"
    );

    // A member in several departments: visible through any, with every matching rule.
    d.add_member("both", [10, 20]);
    let s = VisibleScope::resolve(d, ScopeRules::new().with_departments([20]).with_tags([5]));
    assert!(s.is_visible("both"));
    assert!(!s.is_visible("l1"));
    assert_eq!(
        s.explain("both").reasons,
        vec![Reason::ListedDepartment {
            department: 20,
            via: 20
        }]
    );
}
