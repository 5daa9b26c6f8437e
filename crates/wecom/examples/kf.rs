//! WeChat customer service (微信客服): an account, its servicer, and the `kf_msg_or_event` loop
//! that turns WeCom's callbacks into messages (read with `kf/sync_msg` from a stored cursor, in
//! order, each once) and answers each customer with `kf/send_msg`.
//!
//! With a corp configured (`WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` of an app under
//! 微信客服 → 可调用接口的应用) it lists the accounts. Otherwise it starts an embedded sandbox,
//! serves a callback URL, plays a customer writing to a new account and shows the loop answering.
//!
//! ```text
//! cargo run -p wecom --example kf --features kf
//! ```

use std::sync::Arc;

use tokio::sync::mpsc;
use wecom::callback::EventKind;
use wecom::callback::router::CallbackRouter;
use wecom::kf::sync::{KfSync, MemoryCursorStore};
use wecom::kf::{KfMessage, KfMessageContent, KfSendContent, KfSendText};
use wecom::prelude::*;
use wecom_sandbox::areas::kf::admin::customer_sends;
use wecom_sandbox::corp::CallbackConfig;

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup { client, sandbox } = common::connect().await?;
    let Some(sandbox) = sandbox else {
        for a in client.kf().kf_account_list().await?.account_list {
            println!("{} {:?}", a.open_kfid, a.name);
        }
        return Ok(());
    };

    // An account, with the first member as its servicer.
    let kf = client.kf();
    let open_kfid = kf.kf_account_add("售后客服", "MEDIA_ID").await?.open_kfid;
    kf.kf_servicer_add(&open_kfid)
        .userid_list([common::first_member(&sandbox)?])
        .await?;
    println!("account {open_kfid} created");

    // The loop: each message once, in order; answer customers' texts.
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
    let replier = client.clone();
    let sync = Arc::new(KfSync::new(
        client.clone(),
        Arc::new(MemoryCursorStore::default()),
        move |m: KfMessage| {
            let client = replier.clone();
            let done = done_tx.clone();
            async move {
                if let (KfMessageContent::Text(t), Some(customer), Some(account)) =
                    (&m.content, &m.external_userid, &m.open_kfid)
                {
                    println!("customer {customer} wrote: {}", t.content);
                    let answer =
                        KfSendContent::Text(KfSendText::new(format!("收到: {}", t.content)));
                    client.kf().kf_send_msg(customer, account, answer).await?;
                    let _ = done.send(t.content.clone());
                }
                Ok(())
            }
        },
    ));

    // The callback URL: answer at once (WeCom waits 5 s), read the messages in the background.
    let creds = sandbox.credentials();
    let agentid = creds
        .apps
        .first()
        .ok_or("the sandbox corp has no app")?
        .agentid;
    let (token, key) = (
        "ExampleToken",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    );
    let crypto = CallbackCrypto::new(token, key, &creds.corpid)?;
    let on_callback = Arc::clone(&sync);
    let router = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let sync = Arc::clone(&on_callback);
        async move {
            if let Inbound::Event(e) = &inbound
                && let EventKind::KfMsgOrEvent {
                    token,
                    open_kfid: Some(open_kfid),
                } = &e.kind
            {
                let (token, open_kfid) = (token.clone(), open_kfid.clone());
                tokio::spawn(async move {
                    if let Err(e) = sync.on_callback(&open_kfid, Some(&token)).await {
                        eprintln!("kf sync failed: {e}");
                    }
                });
            }
            None
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let admin = sandbox.admin();
    let config = CallbackConfig {
        url,
        token: Secret::new(token),
        encoding_aes_key: Secret::new(key),
    };
    admin.set_app_callback(agentid, Some(config)).await?;

    // A customer writes twice (the sandbox pushes kf_msg_or_event for each).
    for text in ["你好", "我的订单还没到"] {
        customer_sends(admin.state(), &open_kfid, "wmCustomer1", "顾客", text, None).await?;
    }
    for _ in 0..2 {
        let text = done_rx.recv().await.ok_or("the loop stopped")?;
        println!("answered: {text}");
    }
    Ok(())
}
