//! The directory: departments, members, tags, and the app's visible scope.
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and
//! `WECOM_CONTACT_SECRET`, `WECOM_BASE_URL`); with no corp configured it starts an embedded
//! sandbox (a local fake WeCom) and uses that.
//!
//! ```text
//! cargo run -p wecom --example contacts
//! ```

use wecom::contacts::{WalkOptions, WalkPhase};
use wecom::prelude::*;

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup {
        client,
        sandbox: _sandbox, // named, not `..`: the sandbox must outlive the calls
    } = common::connect().await?;
    let contacts = client.contacts();

    // The department tree the app can see (the whole corp with the contact-sync secret).
    let departments = contacts.department_list().await?;
    println!("{} departments:", departments.department.len());
    for d in &departments.department {
        println!(
            "  {} {} (parent {:?})",
            d.id,
            d.name.as_deref().unwrap_or(""),
            d.parentid
        );
    }

    // Members of the root department and everything below it.
    let members = contacts.user_list(1).fetch_child(true).await?;
    println!("{} members, for example:", members.userlist.len());
    for m in members.userlist.iter().take(3) {
        println!(
            "  {} {} in {:?}",
            m.userid,
            m.name.as_deref().unwrap_or(""),
            m.department
        );
    }

    // Tags.
    for t in contacts.tag_list().await?.taglist {
        let tag = contacts.tag_get(t.tagid).await?;
        println!(
            "tag {} {}: {} member(s)",
            t.tagid,
            t.tagname,
            tag.userlist.len()
        );
    }

    // The whole directory in a few requests (user/list_id pages), with progress.
    let snapshot = contacts
        .walk(WalkOptions::ids(), |p| {
            if p.phase == WalkPhase::Done {
                println!("walked the directory in {} request(s)", p.requests);
            }
        })
        .await?;

    // The app's visible scope, fetched and expanded: who it can see, and why.
    if let Some(agentid) = client.agentid() {
        let scope = contacts.visible_scope(agentid).await?;
        println!(
            "app {agentid} sees {} of {} members",
            scope.member_count(),
            snapshot.members.len()
        );
        if let Some(m) = snapshot.members.first() {
            println!("  {}", scope.explain(&m.userid));
        }
    }

    // A mistake is caught before any request, with the field, the limit and WeCom's errcode.
    let bad = contacts
        .user_get("not a valid userid because of the spaces")
        .await;
    if let Err(e) = bad {
        println!("refused locally: {e}");
    }
    Ok(())
}
