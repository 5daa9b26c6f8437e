//! Access tokens and JS-SDK signatures.
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and `WECOM_BASE_URL`);
//! with no corp configured it starts an embedded sandbox (a local fake WeCom) and uses that.
//!
//! ```text
//! cargo run -p wecom --example tokens
//! ```

use std::time::SystemTime;

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup {
        client,
        sandbox: _sandbox, // named, not `..`: the sandbox must outlive the calls
    } = common::connect().await?;

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
