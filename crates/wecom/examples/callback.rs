//! Receiving callbacks: a callback URL served with axum that answers WeCom's URL check,
//! decrypts each delivery into a typed [`Inbound`] and answers text messages with an encrypted
//! passive reply. Needs the `axum` feature (`wecom = { features = ["axum"] }`).
//!
//! With `WECOM_CALLBACK_TOKEN`, `WECOM_CALLBACK_AES_KEY` and `WECOM_CORP_ID` set, it serves on
//! `127.0.0.1:$WECOM_CALLBACK_PORT` (default 8080) until stopped: put it behind your public URL.
//! Otherwise it starts an embedded sandbox, registers the callback URL with the sandbox's app,
//! makes a member send a message and shows the event and the reply.
//!
//! ```text
//! cargo run -p wecom --example callback
//! ```

use wecom::callback::router::CallbackRouter;
use wecom::callback::xml::Element;
use wecom::callback::{Envelope, MessageBody};
use wecom::prelude::*;
use wecom_sandbox::corp::CallbackConfig;

#[path = "common/mod.rs"]
mod common;

/// What the app does with each callback: answer text messages, acknowledge the rest.
async fn handle(inbound: Inbound) -> Option<Reply> {
    match &inbound {
        Inbound::Message(m) => {
            println!(
                "message {} from {}",
                m.body.msg_type(),
                m.header.from_user_name
            );
            match &m.body {
                MessageBody::Text { content } => Some(Reply::text(format!("you said: {content}"))),
                _ => None,
            }
        }
        Inbound::Event(e) => {
            println!("event {} from {}", e.kind.name(), e.header.from_user_name);
            None
        }
        _ => {
            println!("a callback of a type this version does not know (raw XML kept)");
            None
        }
    }
}

#[tokio::main]
async fn main() -> common::Result<()> {
    use common::env;
    if let (Some(corpid), Some(token), Some(key)) = (
        env("WECOM_CORP_ID"),
        env("WECOM_CALLBACK_TOKEN"),
        env("WECOM_CALLBACK_AES_KEY"),
    ) {
        let crypto = CallbackCrypto::new(token, &key, corpid)?;
        let port = env("WECOM_CALLBACK_PORT").unwrap_or_else(|| "8080".to_owned());
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
        println!("callback URL served on http://{}/", listener.local_addr()?);
        axum::serve(listener, CallbackRouter::new(crypto, handle).into_router()).await?;
        return Ok(());
    }

    // No corp: the whole round trip against a sandbox.
    let sandbox = common::start_sandbox().await?;
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

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let router = CallbackRouter::new(crypto.clone(), handle).into_router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    // Like saving the "receive messages" settings in the admin console: the sandbox checks the
    // URL (the router answers the echostr) before accepting it.
    let admin = sandbox.admin();
    let config = CallbackConfig {
        url: url.clone(),
        token: Secret::new(token),
        encoding_aes_key: Secret::new(key),
    };
    admin.set_app_callback(agentid, Some(config)).await?;
    println!("callback URL {url} verified by the sandbox");

    // A member writes to the app; the sandbox pushes the encrypted callback to our router.
    let userid = common::first_member(&sandbox)?;
    for record in admin.member_sends_text(&userid, agentid, "hello").await? {
        println!("pushed {} (delivered: {})", record.what, record.delivered);
        if record.reply.is_empty() {
            continue;
        }
        // The reply is encrypted and signed; open it the way WeCom does.
        let envelope = Envelope::parse(record.reply.as_bytes())?;
        let reply = Element::parse(&record.reply)?;
        let field = |name: &str| reply.text_of(name).unwrap_or_default().to_owned();
        let plaintext = crypto.decrypt(
            &field("MsgSignature"),
            &field("TimeStamp"),
            &field("Nonce"),
            &envelope.encrypt,
        )?;
        println!("passive reply, decrypted: {plaintext}");
    }
    Ok(())
}
