//! 上下游 end to end: a downstream corp's handle calls other areas' typed endpoints (contacts,
//! messages) in that corp, with its own token, and the area's endpoints through the client.

use wecom_contacts::ContactsExt;
use wecom_corpgroup::CorpgroupExt;
use wecom_messages::{Message, Recipients};
use wecom_sandbox::areas::corpgroup::{DEMO_DOWNSTREAM, downstream_state};
use wecom_tests::demo;

type Res = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn a_downstream_handle_reads_and_messages_in_the_downstream_corp() -> Res {
    let w = demo().await?;
    let shares = w
        .client
        .corpgroup()
        .list_app_share_info(1000002)
        .business_type(1)
        .await?;
    assert_eq!(shares.corp_list.len(), DEMO_DOWNSTREAM.len());
    let corp = &shares.corp_list[0];
    let down = w.client.downstream(&corp.corpid, corp.agentid)?;

    // Contacts, typed: the downstream corp's directory.
    let member = down.contacts().user_get("a-zhao").await?;
    assert_eq!(member.name.as_deref(), Some("赵经理"));
    let e = w
        .client
        .contacts()
        .user_get("a-zhao")
        .await
        .err()
        .ok_or("upstream has no a-zhao")?;
    assert_eq!(e.errcode(), Some(60111));

    // Messages: sent by the shared app (its downstream agentid), delivered in that corp only.
    let receipt = Message::text("到货通知")
        .to(Recipients::user("a-qian"))
        .send(&down)
        .await?;
    assert!(receipt.is_complete(), "{receipt:?}");
    let state = downstream_state(w.admin().state(), &corp.corpid).ok_or("downstream state")?;
    let inbox = state.inbox("a-qian");
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].agentid, corp.agentid);
    assert!(w.admin().state().inbox("a-qian").is_empty());
    assert_eq!(w.admin().count("corpgroup_corp_gettoken"), 1);
    Ok(())
}
