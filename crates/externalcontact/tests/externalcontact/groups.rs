//! Customer groups handed to a new owner: 离职继承 (`groupchat/transfer`) only for owners who
//! left, 在职继承 (`groupchat/onjob_transfer`) only for owners who stay and at most twice in 90
//! days per group, with an errcode per group in `failed_chat_list`.

use wecom_externalcontact::ExternalcontactExt;
use wecom_sandbox::areas::externalcontact::admin::NewCustomerGroup;

use crate::common::*;

fn codes(list: &[wecom_externalcontact::FailedChat]) -> Vec<(String, i64)> {
    list.iter()
        .map(|f| (f.chat_id.clone(), f.errcode))
        .collect()
}

#[tokio::test]
async fn bad_input_fails_before_any_request() -> TestResult {
    let sb = start().await?;
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();
    let before = sb.admin().counters();
    let e = invalid(ec.groupchat_transfer(Vec::<String>::new(), "bob").await);
    assert_eq!(e.field, "chat_id_list", "1 to 100 groups: {e}");
    let many: Vec<String> = (0..101).map(|i| format!("wr{i}")).collect();
    let e = invalid(ec.groupchat_onjob_transfer(many, "bob").await);
    assert_eq!(e.field, "chat_id_list", "{e}");
    let e = invalid(ec.groupchat_onjob_transfer(["wr1"], "").await);
    assert_eq!((e.field.as_str(), e.errcode), ("new_owner", Some(40003)));
    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");
    Ok(())
}

#[tokio::test]
async fn groups_change_owner_by_the_pages_rules() -> TestResult {
    let sb = start().await?;
    let admin = sb.admin();
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();
    let group = |owner: &str| NewCustomerGroup {
        owner: owner.into(),
        name: format!("{owner}'s group"),
        members: Vec::new(),
    };
    let (alices, _) = admin.create_customer_group(group("alice")).await?;
    let (daves, _) = admin.create_customer_group(group("dave")).await?;

    // 在职继承: alice stays; bob takes the group over at once.
    let r = ec.groupchat_onjob_transfer([alices.clone()], "bob").await?;
    assert!(r.failed_chat_list.is_empty(), "{:?}", r.failed_chat_list);
    let chat = ec.groupchat_get(alices.clone()).await?.group_chat;
    assert_eq!(chat.owner.as_deref(), Some("bob"));
    assert!(chat.member_list.iter().any(|m| m.userid == "bob"));
    assert!(chat.admin_list.iter().any(|a| a.userid == "bob"));

    // The same owner: 90504; an unknown group: 40050; 离职继承 of a group whose owner stays: 90500.
    let r = ec
        .groupchat_onjob_transfer([alices.clone(), "wrnone".to_owned()], "bob")
        .await?;
    assert_eq!(
        codes(&r.failed_chat_list),
        vec![(alices.clone(), 90504), ("wrnone".to_owned(), 40050)]
    );
    let r = ec.groupchat_transfer([alices.clone()], "alice").await?;
    assert_eq!(codes(&r.failed_chat_list), vec![(alices.clone(), 90500)]);

    // Twice in 90 days is the most: the third 在职继承 of the group fails.
    ec.groupchat_onjob_transfer([alices.clone()], "alice")
        .await?;
    let r = ec.groupchat_onjob_transfer([alices.clone()], "bob").await?;
    assert_eq!(codes(&r.failed_chat_list), vec![(alices.clone(), 40058)]);
    admin.advance_time(90 * 86_400);
    let r = ec.groupchat_onjob_transfer([alices.clone()], "bob").await?;
    assert!(
        r.failed_chat_list.is_empty(),
        "90 days later it may move again"
    );

    // dave leaves: 在职继承 refuses his group (90502); 离职继承 hands it to alice.
    admin.with_corp(|c| c.delete_member("dave"))?;
    let r = ec
        .groupchat_onjob_transfer([daves.clone()], "alice")
        .await?;
    assert_eq!(codes(&r.failed_chat_list), vec![(daves.clone(), 90502)]);
    let r = ec.groupchat_transfer([daves.clone()], "alice").await?;
    assert!(r.failed_chat_list.is_empty(), "{:?}", r.failed_chat_list);
    assert_eq!(
        ec.groupchat_get(daves.clone())
            .await?
            .group_chat
            .owner
            .as_deref(),
        Some("alice")
    );

    // The new owner must exist and be visible to the caller.
    assert_eq!(
        errcode(ec.groupchat_transfer([daves.clone()], "ghost").await),
        60111
    );
    let support = app_client(&sb, SUPPORT_APP)?;
    assert_eq!(
        errcode(
            support
                .externalcontact()
                .groupchat_onjob_transfer([daves], "bob")
                .await
        ),
        60011
    );
    Ok(())
}
