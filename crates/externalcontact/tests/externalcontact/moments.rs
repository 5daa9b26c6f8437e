//! get_moment_comments: the comments and likes on one member's published copy of a moment, as
//! customers and members leave them (admin `interact_moment`); an app reads only members in its
//! visible scope.

use wecom_externalcontact::{ExternalcontactExt, MassText, MomentVisibleRange};
use wecom_sandbox::areas::externalcontact::outreach::{interact_moment, publish_moment};

use crate::common::*;

#[tokio::test]
async fn comments_and_likes_read_back_per_sender() -> TestResult {
    let sb = start().await?;
    let client = ec_client(&sb)?;
    let ec = client.externalcontact();
    let before = sb.admin().counters();
    let e = invalid(ec.get_moment_comments("", "alice").await);
    assert_eq!(e.field, "moment_id");
    let e = invalid(ec.get_moment_comments("mom1", "").await);
    assert_eq!((e.field.as_str(), e.errcode), ("userid", Some(40003)));
    assert_eq!(sb.admin().counters(), before, "nothing reached the sandbox");

    let range: MomentVisibleRange = serde_json::from_value(serde_json::json!({
        "sender_list": {"user_list": ["alice", "carol"]}
    }))?;
    let mut text = MassText::new();
    text.content = Some("新品".into());
    let job = ec
        .add_moment_task()
        .text(text)
        .visible_range(range)
        .await?
        .jobid;
    let moment_id = ec
        .get_moment_task_result(job)
        .await?
        .result
        .and_then(|r| r.moment_id)
        .ok_or("a moment id")?;

    let state = sb.admin().state().clone();
    // Not published yet: nobody can comment on alice's copy.
    assert!(interact_moment(&state, &moment_id, "alice", "wmA", false).is_err());
    publish_moment(&state, &moment_id, "alice")?;
    publish_moment(&state, &moment_id, "carol")?;
    interact_moment(&state, &moment_id, "alice", "wmA", false)?;
    interact_moment(&state, &moment_id, "alice", "bob", true)?;
    interact_moment(&state, &moment_id, "carol", "wmB", true)?;

    let alice = ec.get_moment_comments(moment_id.clone(), "alice").await?;
    assert_eq!(alice.comment_list.len(), 1);
    assert_eq!(
        alice.comment_list[0].external_userid.as_deref(),
        Some("wmA")
    );
    assert_eq!(alice.comment_list[0].userid, None);
    assert_eq!(alice.like_list.len(), 1);
    assert_eq!(
        alice.like_list[0].userid.as_deref(),
        Some("bob"),
        "a member liked it"
    );
    assert_eq!(alice.like_list[0].create_time, Some(T0_MS / 1000));

    // The sales app sees alice, not carol ("只会返回应用可见范围内用户的发送情况").
    let sales = app_client(&sb, SALES_APP)?;
    let carol = sales
        .externalcontact()
        .get_moment_comments(moment_id.clone(), "carol")
        .await?;
    assert!(carol.like_list.is_empty() && carol.comment_list.is_empty());
    let carol = ec.get_moment_comments(moment_id, "carol").await?;
    assert_eq!(carol.like_list.len(), 1);

    assert_eq!(
        errcode(ec.get_moment_comments("mom-none", "alice").await),
        40058
    );
    Ok(())
}
