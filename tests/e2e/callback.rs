//! Callbacks end to end: the sandbox pushes encrypted messages and menu clicks to a callback
//! server built with `wecom-callback`'s router, the user's handler answers with a passive
//! reply, and the reply decrypts on the sandbox side (signature checked), the way WeCom reads it.

use std::sync::{Arc, Mutex};

use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, EventKind, Inbound, MessageBody, Reply};
use wecom_contacts::{ContactsExt, MenuButton};
use wecom_core_auth::Secret;
use wecom_sandbox::corp::CallbackConfig;
use wecom_tests::{DEMO_APPROVAL_AGENTID, demo};

type Res = Result<(), Box<dyn std::error::Error>>;

const TOKEN: &str = "e2eCallbackToken";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_pushes_handler_replies_reply_decrypts() -> Res {
    let w = demo().await?;
    let admin = w.admin();
    let corpid = w.sandbox.credentials().corpid;

    // What the handler saw, in order.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, corpid.clone())?;
    let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = Arc::clone(&log);
        async move {
            let (line, reply) = match &inbound {
                Inbound::Message(m) => match &m.body {
                    MessageBody::Text { content } => (
                        format!("text from {}: {content}", m.header.from_user_name),
                        Some(Reply::text(format!("echo: {content}"))),
                    ),
                    _ => ("other message".to_owned(), None),
                },
                Inbound::Event(e) => match &e.kind {
                    EventKind::Click { event_key } => (
                        format!("click {event_key} by {}", e.header.from_user_name),
                        Some(Reply::text(format!("you clicked {event_key}"))),
                    ),
                    EventKind::ChangeExternalContact(
                        wecom_callback::generated::events::ExternalContactChange::TransferFail {
                            fail_reason,
                            user_id,
                            external_user_id,
                        },
                    ) => (
                        format!(
                            "transfer of {external_user_id} to {user_id} failed: {fail_reason}"
                        ),
                        None,
                    ),
                    EventKind::TemplateCardMenuEvent(card) => (
                        format!(
                            "card menu {} of {} by {} (code {} chars)",
                            card.event_key,
                            card.task_id,
                            e.header.from_user_name,
                            card.response_code.len()
                        ),
                        None,
                    ),
                    _ => ("other event".to_owned(), None),
                },
                _ => ("unknown".to_owned(), None),
            };
            if let Ok(mut log) = log.lock() {
                log.push(line);
            }
            reply
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // Configuring the callback makes the sandbox verify the URL first (the echostr GET).
    admin
        .set_app_callback(
            DEMO_APPROVAL_AGENTID,
            Some(CallbackConfig {
                url: url.clone(),
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(AES_KEY.to_owned()),
            }),
        )
        .await?;

    // A member writes to the app: the reply decrypts to the handler's answer.
    let wecom_side = CallbackCrypto::new(TOKEN, AES_KEY, corpid.clone())?;
    let records = admin
        .member_sends_text("lina", DEMO_APPROVAL_AGENTID, "hi 你好")
        .await?;
    let record = records.first().ok_or("nothing was pushed")?;
    assert!(record.delivered, "{record:?}");
    let reply = wecom_side.open_reply(&record.reply)?;
    assert!(reply.contains("echo: hi 你好"), "{reply}");
    // The sandbox read the reply the same way, as WeCom would.
    assert_eq!(
        record.reply_plaintext.as_deref(),
        Some(reply.as_str()),
        "{record:?}"
    );
    assert_eq!(record.reply_error, None);
    assert!(
        reply.contains("lina"),
        "the reply goes back to the sender: {reply}"
    );

    // A tampered reply is refused, as WeCom would.
    let tampered = record
        .reply
        .replacen("<Nonce><![CDATA[", "<Nonce><![CDATA[x", 1);
    assert!(wecom_side.open_reply(&tampered).is_err());

    // A menu click: the app sets its menu through the client, the member taps it.
    w.client
        .contacts()
        .menu_create(
            DEMO_APPROVAL_AGENTID,
            [MenuButton::click("报表", "REPORT_TODAY")],
        )
        .await?;
    let records = admin
        .member_clicks("lina", DEMO_APPROVAL_AGENTID, "REPORT_TODAY")
        .await?;
    let record = records.first().ok_or("the click was not pushed")?;
    assert_eq!(record.what, "event:click");
    let reply = record
        .reply_plaintext
        .clone()
        .ok_or("the sandbox could not read the click's reply")?;
    assert!(reply.contains("you clicked REPORT_TODAY"), "{reply}");

    // A text_notice card with a menu: the member's menu tap reaches the handler typed, with the
    // response_code that updates the card.
    let card = wecom_messages::TextNoticeCard::new(wecom_messages::CardAction::open_url(
        "https://example.com/t/1",
    ))
    .sub_title_text("Deploy done")
    .task_id("menu-task-7")
    .action_menu(wecom_messages::CardActionMenu::new([
        wecom_messages::CardMenuAction::new("Mute", "mute"),
    ]));
    let sent = wecom_messages::Message::template_card(wecom_messages::TemplateCard::from(card))
        .to(wecom_messages::Recipients::user("lina"))
        .send(&w.client)
        .await?;
    let used = admin
        .member_uses_card("lina", sent.msgid.as_deref().ok_or("msgid")?, "mute")
        .await?;
    let record = used.records.first().ok_or("the menu tap was not pushed")?;
    assert_eq!(record.what, "event:template_card_menu_event");
    assert!(record.delivered, "{record:?}");
    assert!(record.plaintext.contains(&used.response_code), "{record:?}");

    // A customer refuses a transfer to lina: change_external_contact / transfer_fail reaches the
    // handler typed (the 客户联系 API falls back to this app's token, an app under 可调用应用).
    wecom_sandbox::areas::externalcontact::book::CustomerBook::of(admin.state()).with(|c| {
        c.insert(
            "wmTransfer".into(),
            wecom_sandbox::areas::externalcontact::book::Customer {
                external_userid: "wmTransfer".into(),
                name: "客户".into(),
                kind: 1,
                follows: vec![wecom_sandbox::areas::externalcontact::book::Follow {
                    userid: "wangfang".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
    });
    use wecom_externalcontact::ExternalcontactExt as _;
    let started = w
        .client
        .externalcontact()
        .transfer_customer("wangfang", "lina", ["wmTransfer"])
        .await?;
    assert_eq!(started.customer.first().map(|c| c.errcode), Some(0));
    let records = wecom_sandbox::areas::externalcontact::outreach::refuse_transfer_and_notify(
        admin.state(),
        "wmTransfer",
        "lina",
    )
    .await
    .ok_or("the transfer was waiting")?;
    let record = records.first().ok_or("transfer_fail was not pushed")?;
    assert_eq!(record.what, "event:change_external_contact");
    assert!(record.delivered, "{record:?}");

    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    assert_eq!(
        seen,
        vec![
            "text from lina: hi 你好".to_owned(),
            "click REPORT_TODAY by lina".to_owned(),
            "card menu mute of menu-task-7 by lina (code 32 chars)".to_owned(),
            "transfer of wmTransfer to lina failed: customer_refused".to_owned(),
        ]
    );
    server.abort();
    Ok(())
}
