//! App messages and media: text, markdown, a text card, news, an uploaded image, a download.
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and `WECOM_BASE_URL`),
//! sending to `WECOM_TO` (a userid); with no corp configured it starts an embedded sandbox and
//! shows what landed in the member's inbox.
//!
//! ```text
//! cargo run -p wecom --example messages
//! ```

use wecom::auth::Upload;
use wecom::messages::{MediaType, NewsArticle};
use wecom::prelude::*;
use wecom_sandbox::Sandbox;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, to, sandbox) = connect().await?;
    let me = Recipients::user(&to);

    let receipt = Message::text("Hello from the wecom crate 👋")
        .to(me.clone())
        .send(&client)
        .await?;
    println!("text sent: msgid {:?}", receipt.msgid);

    Message::markdown("**Build** finished: `3m12s`, <font color=\"info\">green</font>")
        .to(me.clone())
        .send(&client)
        .await?;
    Message::textcard("Ticket #42", "Assigned to you", "https://example.com/t/42")
        .to(me.clone())
        .send(&client)
        .await?;
    Message::news([NewsArticle::new("Release notes").url("https://example.com/notes")])
        .to(me.clone())
        .send(&client)
        .await?;

    // Media: upload (checked against WeCom's type and size limits first), send, download.
    let media = Media::new(&client);
    let uploaded = media
        .upload(MediaType::Image, Upload::from_bytes("pixel.png", PNG))
        .await?;
    println!(
        "uploaded {} bytes as media_id {}",
        PNG.len(),
        uploaded.media_id
    );
    Message::image(uploaded.media_id.clone())
        .to(me.clone())
        .send(&client)
        .await?;
    let mut copy = Vec::new();
    let n = media.download(&uploaded.media_id, &mut copy).await?;
    println!("downloaded {n} bytes, identical: {}", copy == PNG);

    // Mistakes never leave the process: the limit and WeCom's errcode are in the error.
    let too_long = Message::text("x".repeat(3000)).to(me).send(&client).await;
    if let Err(e) = too_long {
        println!("refused locally: {e}");
    }

    if let Some(sandbox) = &sandbox {
        for m in sandbox.admin().inbox(&to) {
            println!("{to}'s inbox: {} ({})", m.msgtype, m.msgid);
        }
    }
    Ok(())
}

/// A client and a recipient for the configured corp, or for an embedded sandbox (kept alive by
/// the returned handle) when `WECOM_CORP_ID` is not set.
async fn connect() -> Result<(Client, String, Option<Sandbox>), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(corpid) = env("WECOM_CORP_ID") {
        let agentid: u32 = env("WECOM_AGENT_ID")
            .ok_or("set WECOM_AGENT_ID")?
            .parse()
            .map_err(|_| "WECOM_AGENT_ID must be a number")?;
        let secret = env("WECOM_SECRET").ok_or("set WECOM_SECRET")?;
        let to = env("WECOM_TO").ok_or("set WECOM_TO to the userid to send to")?;
        let mut builder = Client::builder(corpid).app(agentid, Secret::new(secret));
        if let Some(url) = env("WECOM_BASE_URL") {
            builder = builder.base_url(url);
        }
        return Ok((builder.build()?, to, None));
    }
    let sandbox = Sandbox::start().await?;
    let creds = sandbox.credentials();
    let app = creds.apps.first().ok_or("the sandbox corp has no app")?;
    println!("no corp configured: using a sandbox at {}", creds.base_url);
    let client = Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .app(app.agentid, app.secret.clone())
        .build()?;
    let to = sandbox
        .admin()
        .corp()
        .members()
        .next()
        .map(|m| m.userid.clone())
        .ok_or("the sandbox corp has no member")?;
    Ok((client, to, Some(sandbox)))
}
