//! 会话内容存档 (message archive), the HTTP part: the archived members, whether a customer agreed
//! to the archiving, and an archived internal group.
//!
//! With a corp configured (`WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET`, and the 会话内容存档
//! secret in `WECOM_MSG_AUDIT_SECRET`) it lists the archived members. Otherwise it starts an
//! embedded sandbox, archives two members, records a customer's answer and a group, and reads
//! them back. The chat content itself needs Tencent's Finance SDK (`libWeWorkFinanceSdk_C`):
//! see `wecom::msgaudit::finance` (feature `msgaudit-finance`).
//!
//! ```text
//! cargo run -p wecom --example msgaudit --features msgaudit
//! ```

use wecom::msgaudit::AgreePair;
use wecom::prelude::*;
use wecom_sandbox::areas::msgaudit::{add_room, permit_users, set_single_agree};

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup { client, sandbox } = common::connect().await?;
    let Some(sandbox) = sandbox else {
        // A real corp: msgaudit endpoints take the 会话内容存档 secret's token.
        drop(client);
        let secret = common::env("WECOM_MSG_AUDIT_SECRET")
            .ok_or("set WECOM_MSG_AUDIT_SECRET to the 会话内容存档 secret")?;
        let mut builder = Client::builder(common::env("WECOM_CORP_ID").unwrap_or_default())
            .system_secret(SystemApp::MsgAudit, Secret::new(secret));
        if let Some(url) = common::env("WECOM_BASE_URL") {
            builder = builder.base_url(url);
        }
        let client = builder.build()?;
        for id in client.msgaudit().msgaudit_get_permit_user_list().await?.ids {
            println!("{id}");
        }
        return Ok(());
    };

    let state = std::sync::Arc::clone(sandbox.admin().state());
    let lina = common::first_member(&sandbox)?;
    permit_users(&state, std::slice::from_ref(&lina), Some(1))?;
    set_single_agree(&state, &lina, "wmCustomer", "Agree")?;
    add_room(
        &state,
        "wrProject",
        "项目群",
        &lina,
        "周会改到周三",
        std::slice::from_ref(&lina),
        false,
    )?;

    let api = client.msgaudit();
    println!(
        "archived members: {:?}",
        api.msgaudit_get_permit_user_list().await?.ids
    );
    for a in api
        .msgaudit_check_single_agree([AgreePair::new(&lina, "wmCustomer")])
        .await?
        .agreeinfo
    {
        println!(
            "{:?} / {:?}: {:?}",
            a.userid, a.external_openid, a.agree_status
        );
    }
    let group = api.msgaudit_groupchat_get("wrProject").await?;
    println!(
        "group {:?} by {:?}, {} member(s), notice {:?}",
        group.roomname,
        group.creator,
        group.members.len(),
        group.notice
    );
    Ok(())
}
