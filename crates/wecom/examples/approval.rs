//! An approval round trip: read a template's typed controls, build an application from it (a
//! value of the wrong control type is refused before any call, naming the control), submit it,
//! and receive `sys_approval_change` on a callback URL when the approver decides. Needs the
//! `oa` and `axum` features.
//!
//! With `WECOM_CORP_ID` (and `WECOM_AGENT_ID`, `WECOM_SECRET`, `WECOM_TEMPLATE_ID`,
//! `WECOM_CREATOR`) set it submits to that corp (the decision then happens in WeCom); otherwise
//! it starts an embedded sandbox, serves a callback URL and makes an approver approve through
//! the sandbox's admin API.
//!
//! ```text
//! cargo run -p wecom --example approval --features oa,axum
//! ```

use std::sync::Arc;

use tokio::sync::mpsc;
use wecom::callback::router::CallbackRouter;
use wecom::oa::approval::{Template, Value};
use wecom::prelude::*;
use wecom_sandbox::corp::CallbackConfig;

#[path = "common/mod.rs"]
mod common;

const TOKEN: &str = "exampleApprovalToken";
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup { client, sandbox } = common::connect().await?;
    let template_id =
        common::env("WECOM_TEMPLATE_ID").unwrap_or_else(|| "sandbox-expense".to_owned());
    let creator = common::env("WECOM_CREATOR").unwrap_or_else(|| "lina".to_owned());

    // The template, typed.
    let detail = client
        .oa()
        .approval_template_detail(template_id.clone())
        .await?;
    let template = Template::from_detail(template_id, &detail);
    println!("template {}:", template.name);
    for c in &template.controls {
        println!(
            "  {} {} ({}){}",
            c.id,
            c.title,
            c.type_name(),
            if c.required { ", required" } else { "" }
        );
    }

    // A wrong value is refused here, before anything is sent.
    if let Err(e) = template
        .application(&creator)
        .set("金额", Value::text("a lot"))
    {
        println!("refused before sending: {e}");
    }

    // In the sandbox: a callback URL that forwards sys_approval_change events to us.
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, i64)>();
    let mut server = None;
    if let Some(sandbox) = &sandbox {
        let creds = sandbox.credentials();
        let crypto = CallbackCrypto::new(TOKEN, AES_KEY, creds.corpid.clone())?;
        let tx = Arc::new(tx);
        let app = CallbackRouter::new(crypto, move |inbound: Inbound| {
            let tx = Arc::clone(&tx);
            async move {
                if let Inbound::Event(e) = &inbound
                    && let EventKind::SysApprovalChange(info) = &e.kind
                {
                    let _ = tx.send((info.sp_no.clone(), info.sp_status));
                }
                None
            }
        })
        .into_router();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        server = Some(tokio::spawn(
            async move { axum::serve(listener, app).await },
        ));
        let agentid = creds.apps.first().ok_or("no app")?.agentid;
        sandbox
            .admin()
            .set_app_callback(
                agentid,
                Some(CallbackConfig {
                    url,
                    token: Secret::new(TOKEN.to_owned()),
                    encoding_aes_key: Secret::new(AES_KEY.to_owned()),
                }),
            )
            .await?;
    }

    let request = template
        .application(&creator)
        .set("事由", Value::text("客户拜访差旅"))?
        .set("金额", Value::money("1280.00"))?
        .set("类型", Value::Options(vec!["差旅".into()]))?
        .approvers(["zhangwei"])
        .build()?;
    let sp_no = client.execute(request).await?.sp_no;
    println!("submitted {sp_no}");

    if let Some(sandbox) = &sandbox {
        sandbox
            .admin()
            .approval_decide(&sp_no, "zhangwei", true, "同意")
            .await?;
        for _ in 0..2 {
            if let Some((no, status)) = rx.recv().await {
                println!("callback: sys_approval_change {no} SpStatus {status}");
            }
        }
    }
    let info = client.oa().approval_detail(sp_no).await?.info;
    println!("now: {:?}", info.sp_status);
    if let Some(s) = server {
        s.abort();
    }
    Ok(())
}
