//! 微信客服 (wecom-kf) through the client against the sandbox: accounts, servicers, the session
//! state machine with the page's moves and errcodes, send_msg's 48-hour / 5-message window,
//! send_msg_on_event codes, sync_msg paging and token expiry, and the kf_msg_or_event loop fed with
//! repeated and out-of-order callbacks.

use std::sync::{Arc, Mutex};

use wecom_core_auth::Error;
use wecom_kf::sync::{KfSync, MemoryCursorStore, SyncOutcome};
use wecom_kf::*;
use wecom_sandbox::areas::kf::admin::{customer_enters, customer_sends};
use wecom_tests::{World, demo};

type Res = Result<(), Box<dyn std::error::Error>>;

fn code(e: &Error) -> Option<i64> {
    match e {
        Error::Invalid(i) => i.errcode,
        other => other.errcode(),
    }
}

async fn account(w: &World) -> Result<String, Error> {
    Ok(w.client
        .kf()
        .kf_account_add("售后客服", "MEDIA_AVATAR")
        .await?
        .open_kfid)
}

fn text(s: &str) -> KfSendContent {
    KfSendContent::Text(KfSendText::new(s))
}

#[tokio::test]
async fn accounts_servicers_and_links() -> Res {
    let w = demo().await?;
    let kf = w.client.kf();
    let id = account(&w).await?;
    kf.kf_account_update(&id).name("新名字").await?;
    let list = kf.kf_account_list().limit(100).await?.account_list;
    let a = list.iter().find(|a| a.open_kfid == id).ok_or("listed")?;
    assert_eq!(a.name.as_deref(), Some("新名字"));
    assert_eq!(a.manage_privilege, Some(true));
    let url = kf.kf_add_contact_way(&id).scene("s_1").await?.url;
    assert!(url.contains("enc_scene"), "{url}");
    // Bad input is refused before any I/O, citing the page's errcode.
    let e = kf.kf_account_add("x".repeat(17), "m").await.unwrap_err();
    assert_eq!(code(&e), Some(95006));
    let e = kf
        .kf_add_contact_way(&id)
        .scene("bad scene!")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");

    let r = kf
        .kf_servicer_add(&id)
        .userid_list(["lina", "ghost"])
        .await?
        .result_list;
    let codes: Vec<_> = r.iter().map(|x| (x.userid.clone(), x.errcode)).collect();
    assert_eq!(
        codes,
        vec![
            (Some("lina".into()), Some(0)),
            (Some("ghost".into()), Some(60111))
        ]
    );
    let again = kf
        .kf_servicer_add(&id)
        .userid_list(["lina"])
        .await?
        .result_list;
    assert_eq!(again[0].errmsg.as_deref(), Some("ignored"));
    let servicers = kf.kf_servicer_list(&id).await?.servicer_list;
    assert_eq!(servicers[0].userid.as_deref(), Some("lina"));
    // Neither a userid nor a department: refused before I/O.
    assert!(kf.kf_servicer_del(&id).await.is_err());
    kf.kf_account_del(&id).await?;
    let e = kf.kf_servicer_list(&id).await.unwrap_err();
    assert_eq!(code(&e), Some(95004));
    Ok(())
}

#[tokio::test]
async fn sessions_move_as_the_page_allows_and_send_msg_keeps_the_window() -> Res {
    let w = demo().await?;
    let kf = w.client.kf();
    let state = Arc::clone(w.admin().state());
    let id = account(&w).await?;
    kf.kf_servicer_add(&id).userid_list(["lina"]).await?;

    // No session yet: 4 (已结束/未开始); the API cannot move it, nor send.
    let s = kf.kf_service_state_get(&id, "wmCust").await?;
    assert_eq!(s.service_state, KfServiceState::Ended);
    let e = kf
        .kf_service_state_trans(&id, "wmCust", KfServiceState::Assistant)
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(95016));
    assert_eq!(
        code(&kf.kf_send_msg("wmCust", &id, text("hi")).await.unwrap_err()),
        Some(95018)
    );

    // The customer writes: 0; five messages may go out, the sixth may not.
    customer_sends(&state, &id, "wmCust", "客户", "在吗", None).await?;
    assert_eq!(
        kf.kf_service_state_get(&id, "wmCust").await?.service_state,
        KfServiceState::New
    );
    for i in 0..5 {
        kf.kf_send_msg("wmCust", &id, text(&format!("answer {i}")))
            .await?;
    }
    let e = kf
        .kf_send_msg("wmCust", &id, text("six"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(95001));
    // The customer writes again: the quota restarts; 48 hours later the window is closed.
    customer_sends(&state, &id, "wmCust", "客户", "还在吗", None).await?;
    kf.kf_send_msg("wmCust", &id, text("yes")).await?;
    w.admin().advance_time(48 * 3600 + 1);
    let e = kf
        .kf_send_msg("wmCust", &id, text("late"))
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(95002));
    customer_sends(&state, &id, "wmCust", "客户", "hello", None).await?;

    // 0 -> 1 (assistant) -> 3 (a servicer who is receiving) -> 3 -> 4.
    kf.kf_service_state_trans(&id, "wmCust", KfServiceState::Assistant)
        .await?;
    kf.kf_send_msg("wmCust", &id, text("assistant here"))
        .await?;
    // State 3 needs a servicer: refused before I/O.
    let e = kf
        .kf_service_state_trans(&id, "wmCust", KfServiceState::Servicer)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e}");
    let e = kf
        .kf_service_state_trans(&id, "wmCust", KfServiceState::Servicer)
        .servicer_userid("zhangwei")
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(95014));
    kf.kf_service_state_trans(&id, "wmCust", KfServiceState::Servicer)
        .servicer_userid("lina")
        .await?;
    let s = kf.kf_service_state_get(&id, "wmCust").await?;
    assert_eq!(
        (s.service_state, s.servicer_userid.as_deref()),
        (KfServiceState::Servicer, Some("lina"))
    );
    // A person serves it: the API may not send; nor go back to the assistant.
    assert_eq!(
        code(&kf.kf_send_msg("wmCust", &id, text("x")).await.unwrap_err()),
        Some(95018)
    );
    let e = kf
        .kf_service_state_trans(&id, "wmCust", KfServiceState::Assistant)
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(95016));
    let ended = kf
        .kf_service_state_trans(&id, "wmCust", KfServiceState::Ended)
        .await?;
    let msg_code = ended.msg_code.ok_or("ending answers a msg_code")?;
    // The end-of-session message with the code: once.
    let reply = KfEventReplyContent::Text(KfSendText::new("感谢咨询"));
    kf.kf_send_msg_on_event(&msg_code, reply.clone()).await?;
    let e = kf.kf_send_msg_on_event(&msg_code, reply).await.unwrap_err();
    assert_eq!(code(&e), Some(40058));
    Ok(())
}

#[tokio::test]
async fn sync_msg_pages_and_its_token_expires_after_ten_minutes() -> Res {
    let w = demo().await?;
    let kf = w.client.kf();
    let state = Arc::clone(w.admin().state());
    let id = account(&w).await?;
    let mut token = String::new();
    for i in 0..5 {
        token = customer_sends(&state, &id, "wmP", "P", &format!("m{i}"), None)
            .await?
            .token;
    }
    let welcome = customer_enters(&state, &id, "wmQ", "Q", "s_1", None).await?;
    let page1 = kf
        .kf_sync_msg()
        .open_kfid(&id)
        .token(&token)
        .limit(4)
        .await?;
    assert_eq!((page1.msg_list.len(), page1.has_more), (4, Some(1)));
    let page2 = kf
        .kf_sync_msg()
        .open_kfid(&id)
        .cursor(page1.next_cursor.clone().ok_or("a cursor")?)
        .limit(4)
        .await?;
    assert_eq!((page2.msg_list.len(), page2.has_more), (2, Some(0)));
    match &page1.msg_list[0].content {
        KfMessageContent::Text(t) => assert_eq!(t.content, "m0"),
        other => panic!("a text first: {other:?}"),
    }
    match &page2.msg_list[1].content {
        KfMessageContent::Event(KfEvent::EnterSession(e)) => {
            assert_eq!(e.welcome_code.as_deref(), Some(welcome.id.as_str()));
            assert_eq!(e.scene.as_deref(), Some("s_1"));
        }
        other => panic!("the enter_session event last: {other:?}"),
    }
    // The welcome code answers the event once.
    kf.kf_send_msg_on_event(
        &welcome.id,
        KfEventReplyContent::Text(KfSendText::new("欢迎")),
    )
    .await?;
    // Customers of the last 48 hours.
    let c = kf.kf_customer_batchget(["wmP", "wmNobody"]).await?;
    assert_eq!(c.customer_list[0].external_userid, "wmP");
    assert_eq!(c.invalid_external_userid, vec!["wmNobody".to_owned()]);

    // Ten minutes later the token is refused (95007).
    w.admin().advance_time(601);
    let e = kf.kf_sync_msg().token(&token).await.unwrap_err();
    assert_eq!(code(&e), Some(95007));
    Ok(())
}

#[tokio::test]
async fn repeated_and_out_of_order_callbacks_reach_the_handler_once_in_order() -> Res {
    let w = demo().await?;
    let state = Arc::clone(w.admin().state());
    let id = account(&w).await?;
    let got = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&got);
    let sync = Arc::new(
        KfSync::new(
            w.client.clone(),
            Arc::new(MemoryCursorStore::default()),
            move |m: KfMessage| {
                let sink = Arc::clone(&sink);
                async move {
                    if let KfMessageContent::Text(t) = m.content {
                        sink.lock().map_err(|_| "poisoned")?.push(t.content);
                    }
                    Ok(())
                }
            },
        )
        .page_size(2),
    );
    let mut tokens = Vec::new();
    for i in 0..3 {
        tokens.push(
            customer_sends(&state, &id, "wmR", "R", &format!("a{i}"), None)
                .await?
                .token,
        );
    }
    // The newest callback first, then the older ones, each twice, some at the same time.
    let order = [2, 2, 0, 1, 0, 1];
    let calls = order.iter().map(|&i| {
        let sync = Arc::clone(&sync);
        let id = id.clone();
        let token = tokens[i].clone();
        tokio::spawn(async move { sync.on_callback(&id, Some(&token)).await })
    });
    for r in futures_util::future::join_all(calls).await {
        r??;
    }
    // More messages, and a stale token from the first wave (expired: read without it).
    customer_sends(&state, &id, "wmR", "R", "b0", None).await?;
    w.admin().advance_time(601);
    let out = sync.on_callback(&id, Some(&tokens[0])).await?;
    assert!(
        matches!(out, SyncOutcome::Read { delivered: 1, .. }),
        "{out:?}"
    );
    assert_eq!(
        *got.lock().map_err(|_| "poisoned")?,
        vec!["a0", "a1", "a2", "b0"]
    );
    Ok(())
}

#[tokio::test]
async fn knowledge_groups_and_questions() -> Res {
    let w = demo().await?;
    let kf = w.client.kf();
    let g = kf.kf_knowledge_add_group("售后").await?.group_id;
    // Names are unique; at most 12 characters (refused before I/O).
    let e = kf.kf_knowledge_add_group("售后").await.unwrap_err();
    assert_eq!(code(&e), Some(40058));
    assert!(matches!(
        kf.kf_knowledge_add_group("一二三四五六七八九十一二三")
            .await,
        Err(Error::Invalid(_))
    ));
    kf.kf_knowledge_mod_group(&g, "售后服务").await?;
    let q = |s: &str| KfIntentQuestion::new(KfIntentText::new(s));
    let answer = KfIntentAnswer::new(KfIntentText::new("七天无理由退货"));
    let id = kf
        .kf_knowledge_add_intent(&g, q("怎么退货"), [answer.clone()])
        .await?
        .intent_id;
    assert!(id.is_some());
    let e = kf
        .kf_knowledge_add_intent(&g, q("怎么退货"), [answer])
        .await
        .unwrap_err();
    assert_eq!(code(&e), Some(40058), "questions do not repeat");
    kf.kf_knowledge_del_group(&g).await?;
    assert_eq!(
        code(&kf.kf_knowledge_del_group(&g).await.unwrap_err()),
        Some(40058)
    );
    Ok(())
}
