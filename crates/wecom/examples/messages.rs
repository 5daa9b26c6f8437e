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

#[path = "common/mod.rs"]
mod common;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup { client, sandbox } = common::connect().await?;
    let to = match &sandbox {
        Some(sandbox) => common::first_member(sandbox)?,
        None => common::env("WECOM_TO").ok_or("set WECOM_TO to the userid to send to")?,
    };
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
