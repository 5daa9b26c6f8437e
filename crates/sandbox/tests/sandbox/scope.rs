//! Visible scope and message recipients on hand-built corps.

use wecom_sandbox::Corp;
use wecom_sandbox::corp::{Actor, App, Member, RecipientSpec};

/// 1 root
/// ├── 2 A
/// │   └── 3 A1
/// └── 4 B
///     └── 5 B1
/// Members: a (3), b (4), c (1), d (5), e (2, disabled). Tag 7 = {b} + dept 5.
/// App 10 sees dept 2; app 11 sees c and tag 7; app 12 sees the root; app 13 sees nothing.
fn corp() -> Corp {
    let mut c = Corp::new("wwtest", "Test", "contact");
    c.create_department("A", "", 1, 0, Some(2)).expect("A");
    c.create_department("A1", "", 2, 0, Some(3)).expect("A1");
    c.create_department("B", "", 1, 0, Some(4)).expect("B");
    c.create_department("B1", "", 4, 0, Some(5)).expect("B1");
    for (id, dept) in [("a", 3), ("b", 4), ("c", 1), ("d", 5), ("e", 2)] {
        c.create_member(
            Member::new(id, id.to_uppercase(), vec![dept]).with_email(format!("{id}@example.com")),
        )
        .expect("member");
    }
    c.update_member("e", |m| m.enable = 0).expect("disabled");
    c.create_tag("T", Some(7), None).expect("tag");
    c.add_tag_items(7, Actor::Contact, &["b".into()], &[5])
        .expect("tag items");
    let mut a10 = App::new(10, "Ten", "s10");
    a10.allow_parties = vec![2];
    let mut a11 = App::new(11, "Eleven", "s11");
    a11.allow_users = vec!["c".into()];
    a11.allow_tags = vec![7];
    let mut a12 = App::new(12, "Twelve", "s12");
    a12.allow_parties = vec![1];
    for a in [a10, a11, a12, App::new(13, "Thirteen", "s13")] {
        c.add_app(a).expect("app");
    }
    c
}

fn visible_users(c: &Corp, actor: Actor) -> Vec<String> {
    let s = c.scope(actor);
    c.members()
        .filter(|m| s.contains_user(&m.userid))
        .map(|m| m.userid.clone())
        .collect()
}

fn visible_departments(c: &Corp, actor: Actor) -> Vec<u32> {
    let s = c.scope(actor);
    c.departments()
        .filter(|d| s.contains_department(d.id))
        .map(|d| d.id)
        .collect()
}

#[test]
fn scope_of_departments_subtrees_and_members() {
    let c = corp();
    assert_eq!(visible_users(&c, Actor::App(10)), vec!["a", "e"]);
    assert_eq!(visible_departments(&c, Actor::App(10)), vec![2, 3]);
    assert_eq!(c.scope(Actor::App(10)).top_departments(&c), vec![2]);
}

#[test]
fn scope_of_users_and_tags() {
    let c = corp();
    // c listed; b through the tag; d through the tag's department 5.
    assert_eq!(visible_users(&c, Actor::App(11)), vec!["b", "c", "d"]);
    assert_eq!(visible_departments(&c, Actor::App(11)), vec![5]);
    assert!(c.scope(Actor::App(11)).contains_tag(7));
    assert!(!c.scope(Actor::App(10)).contains_tag(7));
}

#[test]
fn whole_corp_scopes() {
    let c = corp();
    assert!(c.scope(Actor::App(12)).is_whole_corp());
    assert!(c.scope(Actor::Contact).is_whole_corp());
    assert_eq!(visible_users(&c, Actor::App(12)).len(), 5);
    assert!(visible_users(&c, Actor::App(13)).is_empty());
    assert!(
        visible_users(&c, Actor::App(999)).is_empty(),
        "unknown app sees nothing"
    );
}

#[test]
fn visibility_checks_answer_60011_or_60111() {
    let c = corp();
    assert!(
        c.check_user_visible(Actor::App(10), "A").is_ok(),
        "userids are case-insensitive"
    );
    assert_eq!(
        c.check_user_visible(Actor::App(10), "b")
            .map(|_| ())
            .unwrap_err()
            .errcode(),
        60011
    );
    assert_eq!(
        c.check_user_visible(Actor::App(10), "zz")
            .map(|_| ())
            .unwrap_err()
            .errcode(),
        60111
    );
    assert_eq!(
        c.check_department_visible(Actor::App(10), 4)
            .map(|_| ())
            .unwrap_err()
            .errcode(),
        60011
    );
    assert_eq!(
        c.check_department_visible(Actor::App(10), 44)
            .map(|_| ())
            .unwrap_err()
            .errcode(),
        60003
    );
}

#[test]
fn recipients_with_invalid_parts() {
    let c = corp();
    let spec = RecipientSpec::from_pipes("a|b|ghost|e", "3|4|x|99", "7|8");
    let r = c.resolve_recipients(10, &spec).expect("some are valid");
    assert_eq!(r.users, vec!["a"]);
    assert_eq!(
        r.invalid_users,
        vec!["b", "ghost", "e"],
        "outside scope, missing, disabled"
    );
    assert_eq!(r.invalid_parties, vec!["4", "x", "99"]);
    assert_eq!(r.invalid_tags, vec!["7", "8"]);

    // Tag 7 for app 11: b and d (via department 5); party 5 adds nothing new.
    let r = c
        .resolve_recipients(11, &RecipientSpec::from_pipes("", "5", "7"))
        .expect("valid");
    assert_eq!(r.users, vec!["b", "d"]);

    // @all: everyone reachable in scope.
    let r = c
        .resolve_recipients(12, &RecipientSpec::from_pipes("@all", "", ""))
        .expect("valid");
    assert_eq!(r.users, vec!["a", "b", "c", "d"], "disabled e is skipped");
}

#[test]
fn recipients_all_invalid_or_empty() {
    let c = corp();
    let e = c
        .resolve_recipients(10, &RecipientSpec::from_pipes("b|ghost", "4", "7"))
        .expect_err("all invalid");
    assert_eq!(e.errcode(), 81013);
    let e = c
        .resolve_recipients(10, &RecipientSpec::from_pipes("", "", ""))
        .expect_err("nothing given");
    assert_eq!(e.errcode(), 82001);
    let e = c
        .resolve_recipients(77, &RecipientSpec::from_pipes("a", "", ""))
        .expect_err("no such app");
    assert_eq!(e.errcode(), 40056);
    // An app that sees nobody: @all reaches nobody, which is all invalid.
    let e = c
        .resolve_recipients(13, &RecipientSpec::from_pipes("@all", "", ""))
        .expect_err("nobody in scope");
    assert_eq!(e.errcode(), 81013);
}
