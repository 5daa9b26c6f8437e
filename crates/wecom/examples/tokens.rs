//! Access tokens and JS-SDK signatures.
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and `WECOM_BASE_URL`);
//! with no corp configured it starts an embedded sandbox (a local fake WeCom) and uses that.
//!
//! ```text
//! cargo run -p wecom --example tokens
//! ```

use std::time::SystemTime;

use wecom::prelude::*;
use wecom_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sandbox) = connect().await?;

    // The first call fetches the token (gettoken); later calls use the cache until shortly
    // before it expires. The value is a `Secret`: Debug and Display print `***`.
    let token = client.access_token().await?;
    println!("access_token: {} bytes, shown as {token}", token.len());
    if let Some(expiry) = client.cached_token_expiry() {
        let left = expiry.duration_since(SystemTime::now()).unwrap_or_default();
        println!("cached for another {} s", left.as_secs());
    }
    let again = client.access_token().await?;
    println!("second call served from the cache: {}", again == token);

    // wx.config for a page: the corp's jsapi_ticket is fetched once and cached too.
    let config = client
        .wx_config("https://app.example.com/page?id=1#top", &["scanQRCode"])
        .await?;
    println!(
        "wx.config: appId {} timestamp {} nonceStr {} signature {}",
        config.app_id, config.timestamp, config.nonce_str, config.signature
    );

    // The signature alone, offline (WeCom's published example).
    let signature = wecom::auth::jssdk::signature(
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        "Wm3WZYTPz0wzccnW",
        1414587457,
        "http://mp.weixin.qq.com?params=value",
    );
    println!("offline signature: {signature}");
    Ok(())
}

/// A client for the configured corp, or for an embedded sandbox (kept alive by the returned
/// handle) when `WECOM_CORP_ID` is not set.
async fn connect() -> Result<(Client, Option<Sandbox>), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(corpid) = env("WECOM_CORP_ID") {
        let agentid: u32 = env("WECOM_AGENT_ID")
            .ok_or("set WECOM_AGENT_ID")?
            .parse()
            .map_err(|_| "WECOM_AGENT_ID must be a number")?;
        let secret = env("WECOM_SECRET").ok_or("set WECOM_SECRET")?;
        let mut builder = Client::builder(corpid).app(agentid, Secret::new(secret));
        if let Some(url) = env("WECOM_BASE_URL") {
            builder = builder.base_url(url);
        }
        return Ok((builder.build()?, None));
    }
    let sandbox = Sandbox::start().await?;
    let creds = sandbox.credentials();
    let app = creds.apps.first().ok_or("the sandbox corp has no app")?;
    println!("no corp configured: using a sandbox at {}", creds.base_url);
    let client = Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .app(app.agentid, app.secret.clone())
        .build()?;
    Ok((client, Some(sandbox)))
}
