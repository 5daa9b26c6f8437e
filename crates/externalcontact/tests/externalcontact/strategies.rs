//! Customer strategies (客户联系规则组) as declared resources, and both strategy `get_range`s
//! paging the stored range.

use wecom_externalcontact::{CustomerPrivilege, ExternalcontactExt, StrategyRange};

use crate::common::*;

fn member(userid: &str) -> StrategyRange {
    let mut r = StrategyRange::new();
    r.range_type = Some(1);
    r.userid = Some(userid.into());
    r
}

fn party(id: u32) -> StrategyRange {
    let mut r = StrategyRange::new();
    r.range_type = Some(2);
    r.partyid = Some(id);
    r
}

#[tokio::test]
async fn a_customer_strategy_lives_and_its_range_pages() -> TestResult {
    let sb = start().await?;
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();

    let before = sb.admin().counters();
    let admins: Vec<String> = (0..21).map(|i| format!("u{i}")).collect();
    let e = invalid(ec.customer_strategy_create("销售规则", admins).await);
    assert_eq!(e.field, "admin_list", "at most 20 admins: {e}");
    let e = invalid(
        ec.customer_strategy_create("销售规则", Vec::<String>::new())
            .await,
    );
    assert_eq!(e.field, "admin_list", "at least one admin: {e}");
    let nodes: Vec<StrategyRange> = (0..101).map(|i| party(i + 1)).collect();
    let e = invalid(
        ec.customer_strategy_create("销售规则", ["alice"])
            .range(nodes)
            .await,
    );
    assert_eq!(e.field, "range", "at most 100 nodes a call: {e}");
    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");

    let mut privilege = CustomerPrivilege::new();
    privilege.share_customer = Some(false);
    let id = ec
        .customer_strategy_create("销售规则", ["alice"])
        .privilege(privilege)
        .range(vec![member("alice"), member("bob"), party(2)])
        .await?
        .strategy_id;
    let got = ec
        .customer_strategy_get(id)
        .await?
        .strategy
        .ok_or("a strategy")?;
    assert_eq!(got.strategy_name.as_deref(), Some("销售规则"));
    assert_eq!(got.privilege.and_then(|p| p.share_customer), Some(false));
    let ids: Vec<u32> = ec
        .customer_strategy_list()
        .await?
        .strategy
        .into_iter()
        .map(|s| s.strategy_id)
        .collect();
    assert_eq!(ids, vec![id]);

    // get_range, one node a page.
    let first = ec.customer_strategy_get_range(id).limit(2).await?;
    assert_eq!(first.range.len(), 2);
    assert_eq!(first.range[0].userid.as_deref(), Some("alice"));
    let cursor = first.next_cursor.ok_or("a next page")?;
    let second = ec
        .customer_strategy_get_range(id)
        .limit(2)
        .cursor(cursor)
        .await?;
    assert_eq!(second.range.len(), 1);
    assert_eq!(second.range[0].partyid, Some(2));
    assert_eq!(second.next_cursor, None, "no cursor after the last page");

    ec.customer_strategy_edit(id)
        .strategy_name("新规则")
        .await?;
    assert_eq!(
        ec.customer_strategy_get(id)
            .await?
            .strategy
            .and_then(|s| s.strategy_name)
            .as_deref(),
        Some("新规则")
    );
    ec.customer_strategy_del(id).await?;
    assert_eq!(errcode(ec.customer_strategy_get(id).await), 40058);
    assert_eq!(errcode(ec.customer_strategy_get_range(id).await), 40058);
    Ok(())
}

#[tokio::test]
async fn a_moment_strategy_range_reads_back() -> TestResult {
    let sb = start().await?;
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();
    let id = ec
        .moment_strategy_create("朋友圈规则")
        .range(vec![party(3)])
        .await?
        .strategy_id;
    let r = ec.moment_strategy_get_range(id).await?;
    assert_eq!(r.range.len(), 1);
    assert_eq!(
        (r.range[0].range_type, r.range[0].partyid),
        (Some(2), Some(3))
    );
    assert_eq!(errcode(ec.moment_strategy_get_range(id + 1).await), 40058);
    Ok(())
}

#[tokio::test]
async fn strategy_tags_live_under_first_level_groups() -> TestResult {
    use wecom_externalcontact::NewCorpTag;
    let sb = start().await?;
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();

    let before = sb.admin().counters();
    let e = invalid(ec.strategy_tag_add(1, [NewCorpTag::new("t")]).await);
    assert_eq!(e.errcode, Some(40068), "a group is named: {e}");
    let e = invalid(
        ec.strategy_tag_add(1, [NewCorpTag::new("t")])
            .group_name("组".repeat(31))
            .await,
    );
    assert_eq!((e.field.as_str(), e.errcode), ("group_name", Some(40072)));
    let e = invalid(
        ec.strategy_tag_add(1, Vec::<NewCorpTag>::new())
            .group_name("g")
            .await,
    );
    assert_eq!(e.errcode, Some(41018), "no empty groups: {e}");
    let e = invalid(ec.strategy_tag_del().await);
    assert_eq!(e.errcode, Some(40068));
    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");

    let top = ec
        .customer_strategy_create("一级", ["alice"])
        .await?
        .strategy_id;
    let child = ec
        .customer_strategy_create("二级", ["alice"])
        .parent_id(top)
        .await?
        .strategy_id;
    assert_eq!(
        errcode(
            ec.strategy_tag_add(child, [NewCorpTag::new("t")])
                .group_name("g")
                .await
        ),
        40058,
        "only first-level groups hold tags"
    );
    let added = ec
        .strategy_tag_add(
            top,
            [
                NewCorpTag::new("高"),
                NewCorpTag::new("高"),
                NewCorpTag::new("低"),
            ],
        )
        .group_name("意向")
        .await?
        .tag_group;
    assert_eq!(added.strategy_id, Some(top));
    assert_eq!(added.tag.len(), 2, "names are unique in a group");
    let more = ec
        .strategy_tag_add(top, [NewCorpTag::new("中")])
        .group_name("意向")
        .await?
        .tag_group;
    assert_eq!(
        more.group_id, added.group_id,
        "the same name adds to the group"
    );

    let listed = ec.strategy_tag_list().strategy_id(top).await?.tag_group;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].tag.len(), 3);
    let high = added.tag[0].id.clone();
    ec.strategy_tag_edit(high.clone()).name("很高").await?;
    let only = ec
        .strategy_tag_list()
        .tag_id([high.clone()])
        .await?
        .tag_group;
    assert_eq!(only[0].tag.len(), 1);
    assert_eq!(only[0].tag[0].name.as_deref(), Some("很高"));

    assert_eq!(errcode(ec.strategy_tag_edit("etnone").await), 40068);
    assert_eq!(
        errcode(ec.strategy_tag_del().tag_id(["etnone"]).await),
        40068
    );
    ec.strategy_tag_del()
        .group_id([added.group_id.clone()])
        .await?;
    assert!(ec.strategy_tag_list().await?.tag_group.is_empty());
    Ok(())
}
