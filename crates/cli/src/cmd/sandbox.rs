//! `wecom sandbox`: a local WeCom until Ctrl-C.

use serde_json::json;
use wecom_sandbox::{Sandbox, ServeOptions};

use super::Ctx;
use crate::cli::SandboxArgs;
use crate::error::CliError;
use crate::output::write_stdout;

/// The sandbox's corp and fake secrets as one JSON object: the first stdout line of
/// `wecom sandbox`. Printing these secrets is the point: they belong to the sandbox's own corp.
pub fn announce(sandbox: &Sandbox) -> serde_json::Value {
    let creds = sandbox.credentials();
    json!({
        "base_url": creds.base_url,
        "corp_id": creds.corpid,
        "apps": creds.apps.iter().map(|a| json!({
            "agent_id": a.agentid,
            "name": a.name,
            "secret": a.secret.expose(),
        })).collect::<Vec<_>>(),
        "contact_secret": creds.contact_secret.expose(),
        "system_secrets": creds.system_secrets.iter().map(|(app, s)| (app.name().to_owned(), json!(s.expose()))).collect::<serde_json::Map<_, _>>(),
        "page": format!("{}/", creds.base_url),
    })
}

pub async fn run(ctx: &Ctx, args: SandboxArgs) -> Result<(), CliError> {
    if args.dump_corp {
        return write_stdout(&wecom_sandbox::Corp::demo().to_toml());
    }
    let options = ServeOptions {
        port: args.port,
        bind: args.bind,
        corp: args.corp,
        token_ttl_secs: args.token_ttl,
        admin_hosts: Vec::new(),
    };
    let json = ctx.out.json;
    wecom_sandbox::serve(
        options,
        |sandbox| {
            let info = announce(sandbox);
            let _ = write_stdout(&format!("{info}\n"));
            if !json {
                let creds = sandbox.credentials();
                let mut hint = format!(
                    "WeCom sandbox for corp {} running at {} (page: {}/)\nUse it from another terminal:\n  export WECOM_BASE_URL={} WECOM_CORP_ID={}",
                    creds.corpid, creds.base_url, creds.base_url, creds.base_url, creds.corpid
                );
                if let Some(app) = creds.apps.first() {
                    hint.push_str(&format!(
                        " WECOM_AGENT_ID={} WECOM_SECRET={}",
                        app.agentid,
                        app.secret.expose()
                    ));
                }
                hint.push_str(&format!(
                    " WECOM_CONTACT_SECRET={}",
                    creds.contact_secret.expose()
                ));
                hint.push_str(
                    "\nSystem apps' secrets (客户联系, 审批, 打卡 ...) are in `--json` output; export them as WECOM_<APP>_SECRET (e.g. WECOM_EXTERNAL_CONTACT_SECRET) to use them instead of the app's token.\nStop it with Ctrl-C.",
                );
                eprintln!("{hint}");
            }
        },
        super::shutdown_signal(),
    )
    .await
    .map_err(|e| match e {
        wecom_sandbox::SandboxError::Parse { .. } | wecom_sandbox::SandboxError::InvalidCorp(_) => {
            CliError::Sandbox(format!(
                "{e} (`wecom sandbox --dump-corp > corp.toml` writes the demo corp to start from)"
            ))
        }
        other => other.into(),
    })
}
