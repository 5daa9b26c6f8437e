//! `wecom config`: the configuration in effect, without any secret value.

use serde_json::json;

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `set`, `missing` or `unreadable: why` (never the value).
fn status<T>(r: Result<Option<T>, CliError>) -> String {
    match r {
        Ok(Some(_)) => "set".to_owned(),
        Ok(None) => "missing".to_owned(),
        Err(e) => format!("unreadable: {}", e.report().message),
    }
}

pub fn run(ctx: &Ctx) -> Result<(), CliError> {
    let cfg = &ctx.config;
    let selected = cfg.app().map(|a| a.agent_id);
    let apps: Vec<_> = cfg
        .apps
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "agent_id": a.agent_id,
                "secret": status(cfg.app_secret(a)),
                "selected": Some(a.agent_id) == selected,
            })
        })
        .collect();
    let (cb_token, cb_key) = match cfg.app_callback() {
        Ok((t, k)) => (status(Ok(t)), status(Ok(k))),
        Err(e) => {
            let s = format!("unreadable: {}", e.report().message);
            (s.clone(), s)
        }
    };
    let value = json!({
        "origin": cfg.origin,
        "corp_id": cfg.corp_id,
        "base_url": cfg.base_url.clone().unwrap_or_else(|| "https://qyapi.weixin.qq.com".to_owned()),
        "apps": apps,
        "contact_secret": status(cfg.contact_secret()),
        "callback_token": cb_token,
        "callback_aes_key": cb_key,
        "warnings": cfg.warnings,
    });
    ctx.out.emit(&value, || {
        let mut t = format!(
            "from      {}\ncorp_id   {}\nbase_url  {}\n",
            cfg.origin,
            cfg.corp_id.as_deref().unwrap_or("(not configured)"),
            value["base_url"].as_str().unwrap_or_default()
        );
        t.push_str(&format!(
            "contact-sync secret  {}\ncallback token       {}\ncallback AES key     {}\n",
            value["contact_secret"].as_str().unwrap_or_default(),
            value["callback_token"].as_str().unwrap_or_default(),
            value["callback_aes_key"].as_str().unwrap_or_default(),
        ));
        if cfg.apps.is_empty() {
            t.push_str("apps: none\n");
        } else {
            let rows: Vec<Vec<String>> = cfg
                .apps
                .iter()
                .map(|a| {
                    vec![
                        if Some(a.agent_id) == selected {
                            "*".to_owned()
                        } else {
                            String::new()
                        },
                        a.name.clone(),
                        a.agent_id.to_string(),
                        status(cfg.app_secret(a)),
                    ]
                })
                .collect();
            t.push('\n');
            t.push_str(&table(&["", "app", "agent_id", "secret"], &rows));
        }
        t
    })
}
