//! Customer contact (客户联系) in one run, against an embedded sandbox: the app creates a corp
//! tag and a 联系我 QR code for a member; a customer scans it in the sandbox (the member adds
//! them); WeCom pushes `change_external_contact` / `add_external_contact` with a WelcomeCode to
//! the app's callback URL, whose handler sends the welcome message (within the code's 20
//! seconds) and tags the customer; finally the member's customers are listed with a stream.
//!
//! ```text
//! cargo run -p wecom --example customers --features externalcontact
//! ```

use std::sync::Arc;

use futures_util::TryStreamExt as _;
use wecom::callback::generated::events::ExternalContactChange;
use wecom::callback::router::CallbackRouter;
use wecom::externalcontact::NewCorpTag;
use wecom::prelude::*;
use wecom_sandbox::areas::externalcontact::admin::ScanningCustomer;
use wecom_sandbox::corp::CallbackConfig;

#[path = "common/mod.rs"]
mod common;

/// The callback handler: a new customer gets the welcome message and the "new" tag.
async fn on_callback(client: Client, tag_id: Arc<str>, inbound: Inbound) -> Option<Reply> {
    let Inbound::Event(e) = &inbound else {
        return None;
    };
    let EventKind::ChangeExternalContact(ExternalContactChange::AddExternalContact(added)) =
        &e.kind
    else {
        return None;
    };
    println!(
        "callback: {} added customer {} (state {:?})",
        added.user_id,
        added.external_user_id,
        added.state.as_deref().unwrap_or("")
    );
    let ec = client.externalcontact();
    // The WelcomeCode is valid 20 s after the event and usable once: send it first.
    if let Some(code) = &added.welcome_code {
        match ec.welcome(code, e.header.create_time, "您好，我是您的专属顾问。") {
            Ok(call) => match call.await {
                Ok(_) => println!("callback: welcome message sent"),
                Err(err) => println!("callback: welcome message refused: {err}"),
            },
            Err(err) => println!("callback: welcome code unusable: {err}"),
        }
    }
    let tagged = ec
        .mark_tag(added.user_id.clone(), added.external_user_id.clone())
        .add_tag([tag_id.to_string()])
        .await;
    println!("callback: tagged the customer: {}", tagged.is_ok());
    None
}

#[tokio::main]
async fn main() -> common::Result<()> {
    let sandbox = common::start_sandbox().await?;
    let creds = sandbox.credentials();
    let app = creds.apps.first().ok_or("the sandbox corp has no app")?;
    let client = Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .app(app.agentid, app.secret.clone())
        .build()?;
    let member = common::first_member(&sandbox)?;
    let ec = client.externalcontact();

    // A corp tag and a 联系我 QR code for the member.
    let group = ec
        .corp_tag_add([NewCorpTag::new("新客户")])
        .group_name("客户阶段")
        .await?
        .tag_group;
    let tag_id: Arc<str> = group.tag.first().ok_or("no tag created")?.id.clone().into();
    let way = ec
        .contact_way_add(1, 2)
        .user([member.clone()])
        .state("example")
        .await?;
    println!(
        "联系我 for {member}: {}",
        way.qr_code.as_deref().unwrap_or("")
    );

    // The app's callback URL, verified by the sandbox like the admin console does.
    let (token, key) = (
        "ExampleToken",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    );
    let crypto = CallbackCrypto::new(token, key, &creds.corpid)?;
    let handler_client = client.clone();
    let router = CallbackRouter::new(crypto, move |inbound| {
        on_callback(handler_client.clone(), Arc::clone(&tag_id), inbound)
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let admin = sandbox.admin();
    admin
        .set_app_callback(
            app.agentid,
            Some(CallbackConfig {
                url,
                token: Secret::new(token),
                encoding_aes_key: Secret::new(key),
            }),
        )
        .await?;

    // A customer scans the QR code in the sandbox: the member adds them and WeCom calls back.
    let scan = admin
        .scan_contact_way(
            &way.config_id,
            ScanningCustomer {
                name: "李四".into(),
                ..ScanningCustomer::default()
            },
        )
        .await?;
    println!(
        "scan: {} now follows {} ({} callback(s) pushed)",
        scan.userid,
        scan.external_userid,
        scan.callbacks.len()
    );
    for w in admin.welcome_messages() {
        println!(
            "sandbox saw the welcome message to {}: {}",
            w.external_userid, w.text
        );
    }

    // The member's customers, streamed (externalcontact/batch/get_by_user, 100 per request).
    let mut customers = std::pin::pin!(ec.customers_of(vec![member.clone()], 100));
    while let Some(row) = customers.try_next().await? {
        println!(
            "{member}'s customer {} {} tags {:?}",
            row.external_contact.external_userid,
            row.external_contact.name.as_deref().unwrap_or(""),
            row.follow_info.tag_id
        );
    }
    Ok(())
}
