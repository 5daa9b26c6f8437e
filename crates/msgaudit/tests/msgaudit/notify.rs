//! End to end: the sandbox archives a message and pushes `msgaudit_notify` to the app's callback
//! URL; the handler (the callback crate's router) sees the typed event and pulls the archive.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, EventKind, Inbound};
use wecom_core_auth::Secret;
use wecom_msgaudit::finance::*;
use wecom_sandbox::areas::msgaudit::{archive_text, archived};
use wecom_sandbox::corp::CallbackConfig;
use wecom_tests::{DEMO_APPROVAL_AGENTID, demo};

use crate::Res;
use crate::double::{FakeFinanceSdk, KEY_V1};

const TOKEN: &str = "msgauditCallbackToken";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_pushes_msgaudit_notify_and_the_pull_reads_it() -> Res {
    let w = demo().await?;
    let state = Arc::clone(w.admin().state());
    let corpid = w.sandbox.credentials().corpid;

    let (tx, mut rx) = mpsc::unbounded_channel::<i64>();
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, corpid.clone())?;
    let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let tx = tx.clone();
        async move {
            if let Inbound::Event(e) = &inbound
                && e.kind == EventKind::MsgauditNotify
            {
                let _ = tx.send(e.header.agent_id.unwrap_or_default());
            }
            None
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    w.admin()
        .set_app_callback(
            DEMO_APPROVAL_AGENTID,
            Some(CallbackConfig {
                url,
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(AES_KEY.to_owned()),
            }),
        )
        .await?;

    let a = archive_text(
        &state,
        "lina",
        &["wmCustomer".into()],
        None,
        "您好,请问订单到了吗",
        Some(DEMO_APPROVAL_AGENTID),
    )
    .await?;
    assert_eq!(a.seq, 1);
    let record = a.callbacks.first().ok_or("nothing was pushed")?;
    assert!(record.delivered, "{record:?}");
    assert_eq!(record.what, "event:msgaudit_notify");
    assert!(
        record
            .plaintext
            .contains("<Event><![CDATA[msgaudit_notify]]></Event>")
    );
    assert_eq!(rx.recv().await, Some(i64::from(DEMO_APPROVAL_AGENTID)));

    // The archive holds the message in the page's format; an SDK (here the test double fed with
    // what the sandbox archived) serves it, and the pull reads it once.
    let sdk = Arc::new(FakeFinanceSdk::default());
    for m in archived(&state) {
        sdk.push_json(m.message);
    }
    let puller = ArchivePuller::new(
        sdk,
        PrivateKeys::new().with_pem(1, KEY_V1)?,
        Arc::new(MemorySeqStore::default()),
    );
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    let n = puller
        .pull(move |m: ArchivedMessage| {
            let log = Arc::clone(&log);
            async move {
                if let (Ok(mut l), ChatContent::Text(t)) = (log.lock(), &m.message.content) {
                    l.push(format!("{:?}: {}", m.message.from, t.content));
                }
                Ok(())
            }
        })
        .await?;
    assert_eq!(n, 1);
    assert_eq!(
        seen.lock().map(|s| s.clone()).unwrap_or_default(),
        ["Some(\"lina\"): 您好,请问订单到了吗"]
    );
    // Without an agentid nothing is pushed.
    let quiet = archive_text(&state, "lina", &["wm2".into()], None, "hi", None).await?;
    assert!(quiet.callbacks.is_empty());
    assert_eq!(quiet.seq, 2);
    server.abort();
    Ok(())
}
