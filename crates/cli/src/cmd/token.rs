//! `wecom token`: get an access token through the client's cache.

use std::time::SystemTime;

use serde_json::json;

use super::Ctx;
use crate::cli::TokenArgs;
use crate::error::CliError;
use crate::output::write_stdout;

pub async fn run(ctx: &Ctx, args: TokenArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let (token, whose, expires_in) = if args.contact {
        let token = client.contact_access_token().await?;
        (token, "the contact-sync secret".to_owned(), None)
    } else {
        let token = client.access_token().await?;
        let expires_in = client
            .cached_token_expiry()
            .and_then(|at| at.duration_since(SystemTime::now()).ok())
            .map(|d| d.as_secs());
        let agent = client.agentid().map_or_else(String::new, |a| a.to_string());
        (token, format!("app {agent}"), expires_in)
    };
    if args.reveal && !ctx.out.json {
        return write_stdout(&format!("{}\n", token.expose()));
    }
    let mut value = json!({
        "corp_id": client.corpid(),
        "agent_id": if args.contact { None } else { client.agentid() },
        "kind": if args.contact { "contact" } else { "app" },
        "length": token.len(),
        "expires_in": expires_in,
    });
    if args.reveal {
        value["access_token"] = json!(token.expose());
    }
    ctx.out.emit(&value, || {
        let mut t = format!(
            "got an access_token for {whose} of corp {}: {} bytes",
            client.corpid(),
            token.len()
        );
        if let Some(secs) = expires_in {
            t.push_str(&format!(", cached for {secs} s"));
        }
        t.push_str("\n(the value is not shown; `wecom token --reveal` prints it)");
        t
    })
}
