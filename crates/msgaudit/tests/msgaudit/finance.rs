//! Feature `finance`: RSA decryption of encrypt_random_key, the typed messages, the pull loop and
//! media downloads, over the test double of the SDK.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde_json::json;
use wecom_msgaudit::finance::*;

use crate::Res;
use crate::double::{FakeFinanceSdk, KEY_V1, KEY_V2, encrypt_for};

fn keys() -> Result<PrivateKeys, FinanceError> {
    PrivateKeys::new().with_pem(1, KEY_V1)?.with_pem(2, KEY_V2)
}

#[test]
fn random_keys_decrypt_by_version_and_keys_never_show() -> Res {
    let keys = keys()?;
    assert_eq!(keys.versions(), [1, 2]);
    assert_eq!(
        keys.decrypt_random_key(1, &encrypt_for(KEY_V1, "k-one"))?,
        "k-one"
    );
    assert_eq!(
        keys.decrypt_random_key(2, &encrypt_for(KEY_V2, "k-two"))?,
        "k-two"
    );
    // The wrong version's key does not decrypt it; an unknown version names the fix.
    let e = keys
        .decrypt_random_key(2, &encrypt_for(KEY_V1, "k-one"))
        .unwrap_err();
    assert!(matches!(e, FinanceError::Key(_)), "{e}");
    let e = keys
        .decrypt_random_key(7, &encrypt_for(KEY_V1, "k"))
        .unwrap_err();
    assert!(matches!(e, FinanceError::UnknownKeyVersion(7)), "{e}");
    assert!(e.to_string().contains("with_pem(7"), "{e}");
    let e = keys.decrypt_random_key(1, "not base64!").unwrap_err();
    assert!(matches!(e, FinanceError::Key(_)), "{e}");
    // Debug shows the versions only.
    let debug = format!("{keys:?}");
    assert_eq!(debug, "PrivateKeys { versions: [1, 2] }");
    assert!(PrivateKeys::new().with_pem(1, "garbage").is_err());
    Ok(())
}

#[test]
fn messages_are_typed_as_the_page_shows_them() -> Res {
    let m = ChatMessage::from_json(
        r#"{"msgid":"CAQQ","action":"send","from":"XuJinSheng","tolist":["icefog"],"roomid":"","msgtime":1547087894783,"msgtype":"text","text":{"content":"test"}}"#,
    )?;
    assert_eq!(m.action, ChatAction::Send);
    assert_eq!(m.tolist, ["icefog"]);
    assert!(!m.is_group());
    assert!(matches!(&m.content, ChatContent::Text(t) if t.content == "test"));

    let m = ChatMessage::from_value(json!({
        "msgid":"1","action":"send","from":"a","tolist":["b"],"msgtime":1,"msgtype":"image",
        "image":{"md5sum":"50de","filesize":70961,"sdkfileid":"FILEID"}}))?;
    assert_eq!(m.content.sdkfileid(), Some("FILEID"));

    let m = ChatMessage::from_value(json!({
        "msgid":"2","action":"recall","from":"kenshin","tolist":["wm"],"msgtime":1,
        "msgtype":"revoke","revoke":{"pre_msgid":"148_1603875600"}}))?;
    assert_eq!(m.action, ChatAction::Recall);
    assert!(
        matches!(&m.content, ChatContent::Revoke(r) if r.pre_msgid.as_deref() == Some("148_1603875600"))
    );

    let m = ChatMessage::from_value(json!({
        "msgid":"3","action":"switch","time":1554119421840i64,"user":"XuJinSheng"}))?;
    assert_eq!(m.action, ChatAction::Switch);
    assert!(
        matches!(&m.content, ChatContent::Switch(s) if s.user.as_deref() == Some("XuJinSheng") && s.time == Some(1554119421840))
    );

    // Content keys that differ from the msgtype.
    let m = ChatMessage::from_value(json!({
        "msgid":"4","action":"send","from":"ken","tolist":["icef"],"roomid":"wrJaw","msgtime":1,
        "msgtype":"docmsg","doc":{"title":"测试","doc_creator":"test","link_url":"https://doc"}}))?;
    assert!(m.is_group());
    assert!(matches!(&m.content, ChatContent::Doc(d) if d.doc_creator.as_deref() == Some("test")));
    let m = ChatMessage::from_value(json!({
        "msgid":"5","action":"send","msgtype":"markdown","info":{"content":"请前往系统查看"}}))?;
    assert!(matches!(&m.content, ChatContent::Markdown(t) if t.content == "请前往系统查看"));
    let m = ChatMessage::from_value(json!({
        "msgid":"6","action":"send","msgtype":"external_redpacket",
        "redpacket":{"type":1,"wish":"恭喜发财","totalcnt":2,"totalamount":20}}))?;
    assert!(
        matches!(&m.content, ChatContent::ExternalRedPacket(r) if r.totalamount == Some(20) && r.packet_type == Some(1))
    );
    let m = ChatMessage::from_value(json!({
        "msgid":"7","action":"send","msgtype":"meeting_voice_call","voiceid":"grb8",
        "meeting_voice_call":{"endtime":1594197635,"sdkfileid":"FILEID",
            "demofiledata":[{"filename":"a.docx","demooperator":"wo1","starttime":1,"endtime":2}],
            "sharescreendata":[{"share":"wo1","starttime":3,"endtime":4}]}}))?;
    match &m.content {
        ChatContent::MeetingVoiceCall { voiceid, call } => {
            assert_eq!(voiceid.as_deref(), Some("grb8"));
            assert_eq!(call.demofiledata[0].filename.as_deref(), Some("a.docx"));
            assert_eq!(call.sharescreendata[0].share.as_deref(), Some("wo1"));
        }
        other => return Err(format!("not a voice call: {other:?}").into()),
    }
    let m = ChatMessage::from_value(json!({
        "msgid":"8","action":"send","msgtype":"mixed","mixed":{"item":[
            {"type":"text","content":"{\"content\":\"你好\"}"},
            {"type":"image","content":"{\"sdkfileid\":\"X\"}"}]}}))?;
    match &m.content {
        ChatContent::Mixed(mx) => {
            assert_eq!(mx.item.len(), 2);
            assert_eq!(mx.item[0].content_json(), Some(json!({"content": "你好"})));
        }
        other => return Err(format!("not mixed: {other:?}").into()),
    }

    // A type the crate does not type, and a content of the wrong shape: kept as JSON.
    let news = json!({"msgid":"9","action":"send","msgtype":"news","info":{"item":[]}});
    let m = ChatMessage::from_value(news.clone())?;
    assert_eq!(
        m.content,
        ChatContent::Unknown {
            msgtype: "news".into(),
            raw: news.clone()
        }
    );
    assert_eq!(m.raw, news);
    let m =
        ChatMessage::from_value(json!({"msgid":"10","action":"send","msgtype":"text","text":5}))?;
    assert!(matches!(&m.content, ChatContent::Unknown { msgtype, .. } if msgtype == "text"));
    // Only a message without msgid, or not an object, is an error.
    assert!(ChatMessage::from_value(json!({"action":"send"})).is_err());
    assert!(ChatMessage::from_json("[1]").is_err());
    Ok(())
}

fn texts(seen: &Mutex<Vec<(u64, String)>>) -> Vec<u64> {
    seen.lock()
        .map(|s| s.iter().map(|(q, _)| *q).collect())
        .unwrap_or_default()
}

fn recorder(
    seen: &Arc<Mutex<Vec<(u64, String)>>>,
) -> impl Fn(ArchivedMessage) -> std::future::Ready<Result<(), HandlerError>> + use<> {
    let seen = Arc::clone(seen);
    move |m: ArchivedMessage| {
        if let (Ok(mut s), ChatContent::Text(t)) = (seen.lock(), &m.message.content) {
            s.push((m.seq, t.content.clone()));
        }
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn pulls_in_order_across_pages_and_restarts() -> Res {
    let sdk = Arc::new(FakeFinanceSdk::default());
    for i in 1..=5 {
        sdk.push_text(if i % 2 == 0 { 2 } else { 1 }, "lina", &format!("m{i}"));
    }
    let store = Arc::new(MemorySeqStore::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let puller = ArchivePuller::new(sdk.clone(), keys()?, store.clone()).limit(2);
    assert_eq!(puller.pull(recorder(&seen)).await?, 5);
    assert_eq!(texts(&seen), [1, 2, 3, 4, 5]);
    assert_eq!(puller.seq().await?, 5);
    // Pages of 2: 2 + 2 + 1, then an empty page ends the pull.
    assert_eq!(sdk.get_chat_data_calls.load(Ordering::SeqCst), 4);

    // Nothing new: one call, nothing handed over.
    assert_eq!(puller.pull(recorder(&seen)).await?, 0);
    assert_eq!(sdk.get_chat_data_calls.load(Ordering::SeqCst), 5);

    // A restart (a new puller over the same store) continues after seq 5.
    sdk.push_text(1, "lina", "m6");
    sdk.push_text(1, "lina", "m7");
    let restarted = ArchivePuller::new(sdk.clone(), keys()?, store.clone());
    assert_eq!(restarted.pull(recorder(&seen)).await?, 2);
    assert_eq!(texts(&seen), [1, 2, 3, 4, 5, 6, 7]);
    Ok(())
}

#[tokio::test]
async fn a_failure_stops_the_pull_without_loss_or_repeat() -> Res {
    let sdk = Arc::new(FakeFinanceSdk::default());
    for i in 1..=4 {
        sdk.push_text(1, "lina", &format!("m{i}"));
    }
    let store = Arc::new(MemorySeqStore::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let puller = ArchivePuller::new(sdk.clone(), keys()?, store.clone());

    // The handler refuses seq 3: seqs 1 and 2 are kept, 3 is not lost.
    let log = Arc::clone(&seen);
    let e = puller
        .pull(move |m: ArchivedMessage| {
            let log = Arc::clone(&log);
            async move {
                if m.seq == 3 {
                    return Err("database down".into());
                }
                if let Ok(mut s) = log.lock() {
                    s.push((m.seq, m.msgid.clone()));
                }
                Ok(())
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(e, FinanceError::Handler { seq: 3, .. }), "{e}");
    assert_eq!(puller.seq().await?, 2);
    puller.pull(recorder(&seen)).await?;
    assert_eq!(texts(&seen), [1, 2, 3, 4]);

    // An SDK that serves old messages again: they are skipped, not handed over twice.
    sdk.replay(true);
    sdk.push_text(1, "lina", "m5");
    assert_eq!(puller.pull(recorder(&seen)).await?, 1);
    assert_eq!(texts(&seen), [1, 2, 3, 4, 5]);
    sdk.replay(false);

    // A message whose key version is unknown stops the pull before it; adding the key resumes.
    sdk.push_text(2, "lina", "m6");
    let only_v1 = ArchivePuller::new(
        sdk.clone(),
        PrivateKeys::new().with_pem(1, KEY_V1)?,
        store.clone(),
    );
    let e = only_v1.pull(recorder(&seen)).await.unwrap_err();
    assert!(matches!(e, FinanceError::UnknownKeyVersion(2)), "{e}");
    assert_eq!(only_v1.seq().await?, 5);
    assert_eq!(puller.pull(recorder(&seen)).await?, 1);
    assert_eq!(texts(&seen), [1, 2, 3, 4, 5, 6]);
    Ok(())
}

#[tokio::test]
async fn a_pull_during_a_pull_makes_the_running_one_read_again() -> Res {
    let sdk = Arc::new(FakeFinanceSdk::default());
    sdk.push_text(1, "lina", "m1");
    let store = Arc::new(MemorySeqStore::default());
    let puller = Arc::new(ArchivePuller::new(sdk.clone(), keys()?, store));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (p, s, log) = (Arc::clone(&puller), Arc::clone(&sdk), Arc::clone(&seen));
    let handed = puller
        .pull(move |m: ArchivedMessage| {
            let (p, s, log) = (Arc::clone(&p), Arc::clone(&s), Arc::clone(&log));
            async move {
                if let Ok(mut l) = log.lock() {
                    l.push(m.seq);
                }
                if m.seq == 1 {
                    // A callback arrives meanwhile: a message was archived, a second pull starts.
                    s.push_text(1, "lina", "m2");
                    let second = p.pull(|_| async { Ok(()) }).await?;
                    assert_eq!(second, 0, "the second pull must not read");
                }
                Ok(())
            }
        })
        .await?;
    assert_eq!(handed, 2);
    assert_eq!(seen.lock().map(|s| s.clone()).unwrap_or_default(), [1, 2]);
    Ok(())
}

#[tokio::test]
async fn media_downloads_chunk_by_chunk() -> Res {
    let sdk = FakeFinanceSdk::default();
    sdk.add_media("FILE1", b"0123456789".to_vec());
    let mut got = Vec::new();
    let n = download_media(&sdk, "FILE1", 5, 100, |c| {
        got.extend_from_slice(c);
        Ok(())
    })
    .await?;
    assert_eq!(n, 10);
    assert_eq!(got, b"0123456789");
    // 3 bytes a chunk: 4 chunks.
    assert_eq!(sdk.media_calls.load(Ordering::SeqCst), 4);

    let e = download_media(&sdk, "", 5, 100, |_| Ok(()))
        .await
        .unwrap_err();
    assert!(matches!(e, FinanceError::Media(_)), "{e}");
    let e = download_media(&sdk, "FILE1", 5, 2, |_| Ok(()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not finished after 2 chunks"), "{e}");
    sdk.stuck_media(true);
    let e = download_media(&sdk, "FILE1", 5, 100, |_| Ok(()))
        .await
        .unwrap_err();
    assert!(matches!(e, FinanceError::Media(_)), "{e}");
    Ok(())
}

#[test]
fn sdk_errors_in_get_chat_data_are_typed() {
    let e = parse_chat_data(r#"{"errcode":10001,"errmsg":"network error"}"#).unwrap_err();
    assert!(
        matches!(&e, FinanceError::Sdk { call: "GetChatData", code: 10001, message } if message == "network error"),
        "{e}"
    );
    assert!(matches!(
        parse_chat_data("nope"),
        Err(FinanceError::Json(_))
    ));
}

#[tokio::test]
async fn json_the_double_serves_is_readable() -> Res {
    let sdk = FakeFinanceSdk::default();
    sdk.push_json(
        json!({"msgid":"x","action":"send","msgtype":"todo","todo":{"title":"t","content":"c"}}),
    );
    let text = sdk.get_chat_data(0, 10, 5).await?;
    let items = parse_chat_data(&text)?;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].seq, 1);
    let key = keys()?.decrypt_random_key(items[0].publickey_ver, &items[0].encrypt_random_key)?;
    let plain = sdk.decrypt_data(&key, &items[0].encrypt_chat_msg)?;
    let m = ChatMessage::from_json(&plain)?;
    assert!(matches!(&m.content, ChatContent::Todo(t) if t.title.as_deref() == Some("t")));
    Ok(())
}
