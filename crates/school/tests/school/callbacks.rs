//! A student change in the sandbox pushes change_school_contact, which the callback router
//! delivers typed.

use std::sync::{Arc, Mutex};

use wecom_callback::generated::events::SchoolContactChange;
use wecom_callback::router::CallbackRouter;
use wecom_callback::{CallbackCrypto, EventKind, Inbound};
use wecom_core_auth::Secret;
use wecom_sandbox::corp::{CallbackConfig, DEMO_APPROVAL_AGENTID};
use wecom_school::*;

use crate::{Res, school};

const TOKEN: &str = "schoolCallbackToken";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn student_changes_reach_the_router_typed() -> Res {
    let s = school().await?;
    let corpid = s.sandbox.credentials().corpid;
    let seen: Arc<Mutex<Vec<SchoolContactChange>>> = Arc::default();
    let log = Arc::clone(&seen);
    let crypto = CallbackCrypto::new(TOKEN, AES_KEY, corpid.clone())?;
    let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
        let log = Arc::clone(&log);
        async move {
            if let Inbound::Event(e) = &inbound
                && let EventKind::ChangeSchoolContact(c) = &e.kind
                && let Ok(mut log) = log.lock()
            {
                log.push(c.clone());
            }
            None
        }
    })
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    s.sandbox
        .admin()
        .set_app_callback(
            DEMO_APPROVAL_AGENTID,
            Some(CallbackConfig {
                url,
                token: Secret::new(TOKEN.to_owned()),
                encoding_aes_key: Secret::new(AES_KEY.to_owned()),
            }),
        )
        .await?;

    let sc = s.client.school();
    sc.student_create("xiaoxin", "小新", vec![22]).await?;
    sc.student_update("xiaoxin")
        .new_student_userid("xiaoxin2")
        .await?;
    sc.student_delete("xiaoxin2").await?;
    sc.school_department_create(20, 1)
        .id(23)
        .name("一年级三班")
        .await?;

    let got = seen.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(
        got,
        vec![
            SchoolContactChange::CreateStudent {
                id: "xiaoxin".into()
            },
            SchoolContactChange::UpdateStudent {
                id: "xiaoxin".into(),
                new_id: Some("xiaoxin2".into())
            },
            SchoolContactChange::DeleteStudent {
                id: "xiaoxin2".into()
            },
            SchoolContactChange::CreateDepartment { id: "23".into() },
        ]
    );
    let log = s.sandbox.admin().callback_log();
    assert!(log.iter().all(|r| r.delivered), "{log:?}");
    server.abort();
    Ok(())
}
