//! The corp model's rules, each with WeCom's errcode.

use wecom_sandbox::Corp;
use wecom_sandbox::corp::{Actor, App, Member};

fn err<T: std::fmt::Debug>(r: Result<T, wecom_sandbox::corp::CorpError>) -> i64 {
    r.expect_err("the operation must be refused").errcode()
}

#[test]
fn department_rules() {
    let mut c = Corp::demo();
    assert_eq!(err(c.create_department("x", "", 999, 0, None)), 60004);
    assert_eq!(
        err(c.create_department("研发部", "", 1, 0, None)),
        60008,
        "sibling names are unique"
    );
    assert!(
        c.create_department("研发部", "", 3, 0, None).is_ok(),
        "the same name under another parent is fine"
    );
    assert_eq!(err(c.create_department("a:b", "", 1, 0, None)), 60009);
    assert_eq!(err(c.create_department("", "", 1, 0, None)), 60001);
    assert_eq!(
        err(c.create_department(&"长".repeat(65), "", 1, 0, None)),
        60001
    );
    assert!(
        c.create_department(&"长".repeat(64), "", 1, 0, None)
            .is_ok()
    );
    assert_eq!(
        err(c.create_department("x", "", 1, 0, Some(2))),
        60008,
        "id taken"
    );
    assert_eq!(err(c.create_department("x", "", 1, 0, Some(1))), 60123);
    // Depth: the root is level 1; 15 levels at most.
    let mut parent = 1;
    for level in 2..=15 {
        parent = c
            .create_department(&format!("L{level}"), "", parent, 0, None)
            .expect("within 15 levels");
    }
    assert_eq!(c.depth(parent), 15);
    assert_eq!(err(c.create_department("L16", "", parent, 0, None)), 81002);
    // Moving a department under its own subtree is a cycle.
    assert_eq!(
        err(c.update_department(2, None, None, Some(4), None)),
        60010
    );
    assert_eq!(
        err(c.update_department(2, None, None, Some(2), None)),
        60010
    );
    // Moving 研发部 (3 levels) under the 15-level chain would be too deep.
    assert_eq!(
        err(c.update_department(2, None, None, Some(parent), None)),
        81002
    );
    assert!(
        c.update_department(4, Some("前端"), None, Some(3), Some(5))
            .is_ok()
    );
    assert_eq!(c.department(4).map(|d| d.parentid).ok(), Some(3));
    // Deletion.
    assert_eq!(err(c.delete_department(1)), 60007);
    assert_eq!(
        err(c.delete_department(2)),
        60006,
        "研发部 has 后端组 below it"
    );
    assert_eq!(err(c.delete_department(5)), 60005, "后端组 has members");
    assert_eq!(err(c.delete_department(12345)), 60003);
    let empty = c.create_department("空", "", 1, 0, None).expect("created");
    assert!(c.delete_department(empty).is_ok());
    assert_eq!(err(c.department(empty)), 60003);
}

#[test]
fn subtree_lists_parents_first() {
    let c = Corp::demo();
    let ids: Vec<u32> = c.subtree(2).expect("exists").iter().map(|d| d.id).collect();
    assert_eq!(ids, vec![2, 4, 5]);
    assert_eq!(c.subtree(1).expect("root").len(), 6);
}

#[test]
fn member_rules() {
    let mut c = Corp::demo();
    let m = |id: &str| Member::new(id, "测试", vec![2]).with_mobile("13900000001");
    assert_eq!(
        err(c.create_member(Member::new("_bad", "x", vec![2]).with_mobile("1"))),
        40003
    );
    assert_eq!(
        err(c.create_member(Member::new("张三", "x", vec![2]).with_mobile("1"))),
        40003
    );
    assert_eq!(
        err(c.create_member(Member::new("ZhangWei", "x", vec![2]).with_mobile("1"))),
        60102,
        "case-insensitive"
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "", vec![2]).with_mobile("1"))),
        60112
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![2]))),
        60129,
        "mobile or email needed"
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![]).with_mobile("1"))),
        60127
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![77]).with_mobile("1"))),
        60003
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![2]).with_mobile("13800000001"))),
        60104
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![2]).with_mobile("138 0000"))),
        60103
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![2]).with_email("ZHANGWEI@example.com"))),
        60106
    );
    assert_eq!(
        err(c.create_member(Member::new("new1", "x", vec![2]).with_email("nope"))),
        60105
    );
    let mut many = Member::new("new1", "x", (2..=102).collect()).with_mobile("1");
    assert_eq!(err(c.create_member(many.clone())), 60110, "101 departments");
    many.department = vec![2, 3];
    many.is_leader_in_dept = vec![1];
    assert_eq!(err(c.create_member(many.clone())), 60132);
    many.is_leader_in_dept = vec![1, 0];
    many.order = vec![1];
    assert_eq!(
        err(c.create_member(many.clone())),
        40058,
        "order must match department"
    );
    many.order = vec![1, 2];
    c.create_member(many).expect("valid member");
    // Delete and create the same userid again.
    c.create_member(m("again")).expect("created");
    c.delete_member("AGAIN")
        .expect("deleted case-insensitively");
    assert_eq!(err(c.member("again")), 60111);
    c.create_member(m("again"))
        .expect("a deleted userid can be created again");
    // Update: rename keeps references; mobile of another member is refused.
    assert_eq!(
        err(c.update_member("again", |x| x.mobile = "13800000002".into())),
        60104
    );
    c.update_member("wangfang", |x| x.userid = "wang.fang".into())
        .expect("renamed");
    assert!(
        c.tag(1)
            .expect("tag")
            .users
            .iter()
            .any(|u| u == "wang.fang"),
        "tags follow the rename"
    );
    assert_eq!(
        c.member("lina").expect("lina").direct_leader,
        vec!["wang.fang".to_owned()]
    );
    // batchdelete: one unknown id fails the whole call.
    assert_eq!(
        err(c.delete_members(&["lina".into(), "ghost".into()])),
        60111
    );
    assert!(c.member("lina").is_ok());
}

#[test]
fn tag_rules() {
    let mut c = Corp::demo();
    assert_eq!(err(c.create_tag("经理", None, None)), 40071);
    assert_eq!(err(c.create_tag("", None, None)), 40072);
    assert_eq!(err(c.create_tag("x", Some(1), None)), 40068);
    let app_tag = c
        .create_tag("周报组", None, Some(1000003))
        .expect("created by app 1000003");
    // Only the creator may change a tag.
    assert_eq!(err(c.rename_tag(app_tag, "改名", Actor::Contact)), 81011);
    assert_eq!(err(c.rename_tag(1, "改名", Actor::App(1000003))), 81011);
    c.rename_tag(app_tag, "改名", Actor::App(1000003))
        .expect("creator renames");
    // An app adds only members inside its scope; the rest come back as invalid.
    let r = c
        .add_tag_items(
            app_tag,
            Actor::App(1000003),
            &["lina".into(), "huangli".into(), "ghost".into()],
            &[4, 6],
        )
        .expect("partly valid");
    assert_eq!(
        r.invalid_users,
        vec!["huangli".to_owned(), "ghost".to_owned()]
    );
    assert_eq!(r.invalid_parties, vec![6]);
    assert_eq!(
        err(c.add_tag_items(app_tag, Actor::App(1000003), &["ghost".into()], &[999])),
        40070
    );
    assert_eq!(
        err(c.remove_tag_items(app_tag, Actor::App(1000003), &["huangli".into()], &[])),
        40031
    );
    let r = c
        .remove_tag_items(
            app_tag,
            Actor::App(1000003),
            &["lina".into(), "x".into()],
            &[],
        )
        .expect("partly valid");
    assert_eq!(r.invalid_users, vec!["x".to_owned()]);
    assert_eq!(c.tag(app_tag).expect("tag").users, Vec::<String>::new());
    c.delete_tag(app_tag, Actor::App(1000003))
        .expect("creator deletes");
    assert_eq!(err(c.tag(app_tag)), 40068);
}

#[test]
fn apps_and_secrets() {
    let mut c = Corp::demo();
    assert_eq!(err(c.app(1)), 40056);
    let mut app = App::new(1000009, "新应用", "s3cret");
    app.allow_users = vec!["ghost".into()];
    assert_eq!(err(c.add_app(app.clone())), 60111);
    app.allow_users = vec!["lina".into()];
    c.add_app(app).expect("valid app");
    assert_eq!(c.app_by_secret("s3cret").map(|a| a.agentid), Some(1000009));
    let dbg = format!("{:?}", c.app(1000009).expect("app"));
    assert!(
        !dbg.contains("s3cret"),
        "secrets never appear in Debug output: {dbg}"
    );
}

#[test]
fn files_round_trip() {
    let c = Corp::demo();
    let again = Corp::from_toml_str(&c.to_toml()).expect("TOML round trip");
    assert_eq!(again, c);
    let again = Corp::from_json_str(&c.to_json()).expect("JSON round trip");
    assert_eq!(again, c);
    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["corp.toml", "corp.json"] {
        let path = dir.path().join(name);
        c.save(&path).expect("saved");
        assert_eq!(Corp::load(&path).expect("loaded"), c);
    }
    // A file that breaks a rule is refused with the rule.
    let bad = "corpid = \"ww1\"\nname = \"X\"\ncontact_secret = \"s\"\n[[member]]\nuserid = \"a\"\nname = \"A\"\ndepartment = [9]\n";
    let e = Corp::from_toml_str(bad).expect_err("member in a missing department");
    assert!(e.to_string().contains("department 9 does not exist"), "{e}");
    let e = Corp::from_toml_str("corpid = 1").expect_err("not a corp");
    assert!(e.to_string().contains("see the demo corp"), "{e}");
    // Departments may be listed children first.
    let unordered = "corpid = \"ww1\"\nname = \"X\"\ncontact_secret = \"s\"\n\
        [[department]]\nid = 3\nname = \"C\"\nparentid = 2\n[[department]]\nid = 2\nname = \"B\"\nparentid = 1\n";
    let c = Corp::from_toml_str(unordered).expect("parents resolved");
    assert_eq!(c.depth(3), 3);
    let cyclic = "corpid = \"ww1\"\nname = \"X\"\ncontact_secret = \"s\"\n\
        [[department]]\nid = 3\nname = \"C\"\nparentid = 2\n[[department]]\nid = 2\nname = \"B\"\nparentid = 3\n";
    assert!(Corp::from_toml_str(cyclic).is_err());
}
