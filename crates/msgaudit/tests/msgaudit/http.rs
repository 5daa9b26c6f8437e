//! The four HTTP endpoints through the client against the sandbox, with the 会话内容存档 secret.

use std::sync::Arc;

use wecom_core_auth::{Client, Error, Secret, SystemApp};
use wecom_msgaudit::*;
use wecom_sandbox::areas::msgaudit::{
    add_room, permit_users, set_expired, set_room_agree, set_single_agree,
};
use wecom_tests::{World, demo, fast_retries};

use crate::Res;

/// The demo sandbox and a client holding the 会话内容存档 secret.
pub(crate) async fn archive_world() -> Result<(World, Client), Box<dyn std::error::Error>> {
    let w = demo().await?;
    let creds = w.sandbox.credentials();
    let secret: Secret = w
        .admin()
        .state()
        .corp()
        .system_secret(SystemApp::MsgAudit)
        .cloned()
        .ok_or("the demo corp has a 会话内容存档 secret")?;
    let client = Client::builder(creds.corpid)
        .base_url(w.sandbox.base_url())
        .retry_policy(fast_retries(2))
        .system_secret(SystemApp::MsgAudit, secret)
        .build()?;
    Ok((w, client))
}

fn code(e: &Error) -> Option<i64> {
    match e {
        Error::Invalid(i) => i.errcode,
        other => other.errcode(),
    }
}

#[tokio::test]
async fn permit_users_by_edition() -> Res {
    let (w, client) = archive_world().await?;
    let state = Arc::clone(w.admin().state());
    assert!(client.has_system_secret(SystemApp::MsgAudit));
    assert!(
        client
            .msgaudit()
            .msgaudit_get_permit_user_list()
            .await?
            .ids
            .is_empty()
    );
    permit_users(&state, &["lina".into()], Some(1))?;
    permit_users(&state, &["wangfang".into()], Some(2))?;
    let all = client.msgaudit().msgaudit_get_permit_user_list().await?.ids;
    assert_eq!(all, ["lina", "wangfang"]);
    let service = client
        .msgaudit()
        .msgaudit_get_permit_user_list()
        .edition(MsgAuditEdition::Service)
        .await?
        .ids;
    assert_eq!(service, ["wangfang"]);
    // The admin refuses a member the corp does not have.
    assert!(permit_users(&state, &["ghost".into()], None).is_err());
    Ok(())
}

#[tokio::test]
async fn single_agreements_and_the_100_pair_limit() -> Res {
    let (w, client) = archive_world().await?;
    let state = Arc::clone(w.admin().state());
    set_single_agree(&state, "lina", "wmAgrees", "Agree")?;
    set_single_agree(&state, "lina", "wmRefuses", "Disagree")?;
    let answer = client
        .msgaudit()
        .msgaudit_check_single_agree([
            AgreePair::new("lina", "wmAgrees"),
            AgreePair::new("lina", "wmRefuses"),
        ])
        .await?
        .agreeinfo;
    assert_eq!(answer.len(), 2);
    assert_eq!(answer[0].external_openid.as_deref(), Some("wmAgrees"));
    assert_eq!(answer[0].agree_status, Some(AgreeStatus::Agree));
    assert_eq!(answer[1].agree_status, Some(AgreeStatus::Disagree));
    assert!(answer[0].status_change_time.is_some());

    // More than 100 pairs is refused before any I/O (the page: at most 100 per request).
    let pairs: Vec<AgreePair> = (0..101)
        .map(|i| AgreePair::new("lina", format!("wm{i}")))
        .collect();
    let e = client
        .msgaudit()
        .msgaudit_check_single_agree(pairs)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    let pairs: Vec<AgreePair> = (0..100)
        .map(|i| AgreePair::new("lina", format!("wm{i}")))
        .collect();
    client.msgaudit().msgaudit_check_single_agree(pairs).await?;
    // An unknown status from WeCom is kept, not a parse failure.
    let s: AgreeStatus = serde_json::from_str("\"Later_Maybe\"")?;
    assert!(matches!(s, AgreeStatus::Unknown(_)), "{s:?}");
    Ok(())
}

#[tokio::test]
async fn rooms_agreements_groupchat_and_expiry() -> Res {
    let (w, client) = archive_world().await?;
    let state = Arc::clone(w.admin().state());
    add_room(
        &state,
        "wrInternal01",
        "蓦然回首",
        "lina",
        "公告",
        &["lina".into(), "wangfang".into()],
        false,
    )?;
    add_room(
        &state,
        "wrExternal01",
        "客户群",
        "lina",
        "",
        &["lina".into()],
        true,
    )?;
    set_room_agree(&state, "wrExternal01", "wmCustomerA", "Agree")?;
    set_room_agree(&state, "wrExternal01", "wmCustomerB", "Disagree")?;

    let agree = client
        .msgaudit()
        .msgaudit_check_room_agree("wrExternal01")
        .await?
        .agreeinfo;
    let statuses: Vec<_> = agree
        .iter()
        .map(|a| (a.external_openid.clone(), a.agree_status.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some("wmCustomerA".into()), Some(AgreeStatus::Agree)),
            (Some("wmCustomerB".into()), Some(AgreeStatus::Disagree)),
        ]
    );

    let group = client
        .msgaudit()
        .msgaudit_groupchat_get("wrInternal01")
        .await?;
    assert_eq!(group.roomname.as_deref(), Some("蓦然回首"));
    assert_eq!(group.creator.as_deref(), Some("lina"));
    assert_eq!(group.notice.as_deref(), Some("公告"));
    let members: Vec<_> = group
        .members
        .iter()
        .filter_map(|m| m.memberid.clone())
        .collect();
    assert_eq!(members, ["lina", "wangfang"]);
    assert!(group.members.iter().all(|m| m.jointime.is_some()));

    // Internal groups only; an unknown group is refused.
    let e = client
        .msgaudit()
        .msgaudit_groupchat_get("wrExternal01")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(40058), "{e}");
    let e = client
        .msgaudit()
        .msgaudit_check_room_agree("wrNobody")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(40058), "{e}");
    // An empty roomid never leaves the client.
    let e = client
        .msgaudit()
        .msgaudit_groupchat_get("")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");

    // The archive service expired: 301052, as the 内部群信息 page names it.
    set_expired(&state, true);
    let e = client
        .msgaudit()
        .msgaudit_groupchat_get("wrInternal01")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(301052), "{e}");
    set_expired(&state, false);
    client
        .msgaudit()
        .msgaudit_groupchat_get("wrInternal01")
        .await?;
    Ok(())
}
