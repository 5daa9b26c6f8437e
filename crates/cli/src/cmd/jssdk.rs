//! `wecom jssdk sign`: the JS-SDK signature of a page URL.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use wecom::Secret;
use wecom::auth::jssdk;

use super::Ctx;
use crate::cli::JssdkCmd;
use crate::config::env;
use crate::error::CliError;

pub async fn run(ctx: &Ctx, cmd: JssdkCmd) -> Result<(), CliError> {
    let JssdkCmd::Sign {
        url,
        ticket,
        noncestr,
        timestamp,
        agent,
    } = cmd;
    let env_ticket = std::env::var(env::JSAPI_TICKET)
        .ok()
        .filter(|t| !t.trim().is_empty());
    let (ticket, source, corp) = match (ticket, env_ticket) {
        (Some(t), _) => (Secret::new(t), "argument", ctx.config.corp_id.clone()),
        (None, Some(t)) => (
            Secret::new(t.trim()),
            "environment",
            ctx.config.corp_id.clone(),
        ),
        (None, None) => {
            let client = ctx.client()?;
            let ticket = if agent {
                client.agent_config_ticket().await?
            } else {
                client.jsapi_ticket().await?
            };
            let source = if agent {
                "agent_config ticket"
            } else {
                "jsapi_ticket"
            };
            (ticket, source, Some(client.corpid().to_owned()))
        }
    };
    let noncestr = noncestr.unwrap_or_else(jssdk::nonce);
    let timestamp = match timestamp {
        Some(ts) => ts,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    let signature = jssdk::signature(ticket.expose(), &noncestr, timestamp, &url);
    let mut value = json!({
        "url": url,
        "noncestr": noncestr,
        "timestamp": timestamp,
        "signature": signature,
        "ticket": source,
    });
    if let Some(corp) = &corp {
        if agent {
            value["corpid"] = json!(corp);
            value["agentid"] = json!(ctx.config.app().map(|a| a.agent_id));
        } else {
            value["appId"] = json!(corp);
        }
    }
    ctx.out.emit(&value, || {
        format!(
            "url        {url}\nnoncestr   {noncestr}\ntimestamp  {timestamp}\nsignature  {signature}\n(ticket from the {source}; the URL's #fragment is not signed)"
        )
    })
}
