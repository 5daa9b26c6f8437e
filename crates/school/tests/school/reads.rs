//! Reads, the OAuth identity, 上课直播 statistics, 学校通知, and a corp without a school.

use serde_json::json;
use wecom_school::*;

use crate::{Res, code, school};

#[tokio::test]
async fn lists_identity_living_and_notices() -> Res {
    let s = school().await?;
    let sc = s.client.school();
    let students = sc.student_list(11).await?.students;
    let ids: Vec<_> = students
        .iter()
        .filter_map(|x| x.student_userid.as_deref())
        .collect();
    assert_eq!(ids, ["xiaoming", "xiaohong"]);
    let xm = &students[0];
    assert_eq!(xm.parents.len(), 2);
    let baba = xm
        .parents
        .iter()
        .find(|p| p.parent_userid.as_deref() == Some("xiaoming_baba"))
        .ok_or("baba")?;
    assert_eq!(baba.is_subscribe, Some(1));
    assert_eq!(baba.relation.as_deref(), Some("爸爸"));
    let parents = sc.parent_list(21).await?.parents;
    assert_eq!(parents.len(), 1, "xiaofang's father");
    assert_eq!(parents[0].children.len(), 2);
    assert!(
        parents[0]
            .children
            .iter()
            .any(|c| c.name.as_deref() == Some("小芳"))
    );
    assert_eq!(code(&sc.student_list(999).await.unwrap_err()), Some(60123));

    // The school OAuth: a code for a parent answers parent_userid, once.
    let admin = s.sandbox.admin();
    let c = admin.school_oauth_code("xiaoming_mama")?;
    let who = sc.school_getuserinfo(&c).await?;
    assert_eq!(who.parent_userid.as_deref(), Some("xiaoming_mama"));
    assert_eq!(who.student_userid, None);
    assert_eq!(
        code(&sc.school_getuserinfo(&c).await.unwrap_err()),
        Some(40029)
    );
    let c = admin.school_oauth_code("xiaogang")?;
    assert_eq!(
        sc.school_getuserinfo(&c).await?.student_userid.as_deref(),
        Some("xiaogang")
    );

    let info = sc
        .living_info_get("LVSCHOOL0001")
        .await?
        .living_info
        .ok_or("info")?;
    assert_eq!(info.anchor_userid.as_deref(), Some("lina"));
    assert_eq!(info.viewer_num, Some(2));
    let stat = sc
        .living_watch_stat_get("LVSCHOOL0001")
        .next_key("0")
        .await?;
    assert_eq!(stat.ending, Some(1));
    assert_eq!(stat.stat_infoes.ok_or("stats")?.students.len(), 2);
    assert_eq!(
        code(&sc.living_info_get("nope").await.unwrap_err()),
        Some(92008)
    );

    // 学校通知 to a class reaches its students' parents; unknown recipients come back.
    let r = sc
        .school_message_send("text", 1000002)
        .to_party(vec!["11".to_owned(), "404".to_owned()])
        .to_parent_userid(vec!["ghost".to_owned()])
        .text(json!({ "content": "明天开家长会" }))
        .await?;
    assert_eq!(r.invalid_party, vec!["404".to_owned()]);
    assert_eq!(r.invalid_parent_userid, vec!["ghost".to_owned()]);
    let sent = admin.school_notices();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["parents"],
        json!(["xiaohong_mama", "xiaoming_baba", "xiaoming_mama"])
    );
    // The content object msgtype names must be there (40008), and a recipient (40058): before I/O.
    let e = sc
        .school_message_send("image", 1000002)
        .toall(true)
        .text(json!({ "content": "x" }))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(40008));
    let e = sc
        .school_message_send("text", 1000002)
        .text(json!({ "content": "x" }))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(40058));
    assert_eq!(s.sandbox.admin().count("school_message_send"), 1);
    Ok(())
}

#[tokio::test]
async fn settings_scope_and_payments() -> Res {
    let s = school().await?;
    let sc = s.client.school();
    // The page's example time (2020-07-07): the next upgrade is a July 7th still to come.
    let next = sc
        .upgrade_info_set()
        .upgrade_time(1_594_090_969)
        .upgrade_switch(1)
        .await?
        .next_upgrade_time
        .ok_or("next_upgrade_time")?;
    assert!(next > 1_594_090_969, "{next}");
    let corp = s.sandbox.admin().corp();
    let school = corp.school().ok_or("a school")?;
    assert_eq!(school.upgrade_switch, 1);
    drop(corp);

    let scope = sc
        .allow_scope_get(1000003)
        .await?
        .allow_scope
        .ok_or("scope")?;
    assert_eq!(
        scope.students.ok_or("students")?.userid,
        vec!["xiaoming".to_owned()]
    );
    let whole = sc
        .allow_scope_get(1000002)
        .await?
        .allow_scope
        .ok_or("scope")?;
    assert_eq!(whole.departments.ok_or("departments")?.partyid, vec![1]);
    assert_eq!(
        code(&sc.allow_scope_get(42).await.unwrap_err()),
        Some(40056)
    );

    let pay = sc.payment_result_get("PAYSCHOOL0001").await?;
    assert_eq!(pay.amount, Some(998));
    let paid = pay
        .payment_result
        .iter()
        .find(|p| p.trade_state == Some(1))
        .ok_or("a paid student")?;
    assert_eq!(paid.payer_parent_userid.as_deref(), Some("xiaoming_baba"));
    let trade = sc
        .trade_get("PAYSCHOOL0001", paid.trade_no.as_deref().ok_or("trade_no")?)
        .await?;
    assert_eq!(trade.pay_time, Some(1_772_323_200));
    assert_eq!(
        code(&sc.trade_get("PAYSCHOOL0001", "nope").await.unwrap_err()),
        Some(60243)
    );
    assert_eq!(
        code(&sc.payment_result_get("PAYOTHER").await.unwrap_err()),
        Some(60237)
    );
    // Refused before I/O: an empty payment_id (60235).
    assert_eq!(
        code(&sc.payment_result_get("").await.unwrap_err()),
        Some(60235)
    );
    Ok(())
}

#[tokio::test]
async fn a_corp_without_a_school_answers_65014() -> Res {
    let sandbox = wecom_sandbox::Sandbox::start().await?;
    let client = wecom_core_auth::Client::builder(sandbox.credentials().corpid)
        .base_url(sandbox.base_url())
        .app(
            wecom_sandbox::corp::DEMO_APPROVAL_AGENTID,
            wecom_core_auth::Secret::new(wecom_sandbox::corp::DEMO_APPROVAL_SECRET.to_owned()),
        )
        .build()?;
    let e = client.school().student_list(1).await.unwrap_err();
    assert_eq!(code(&e), Some(65014));
    Ok(())
}
