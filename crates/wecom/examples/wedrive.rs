//! 微盘 (WeDrive): a space, a folder, a large file uploaded in 2 MB blocks (streamed from disk),
//! listed, downloaded in ranges and compared byte for byte; then a 文档.
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and `WECOM_BASE_URL`);
//! the app must be listed under 微盘 -> 可调用接口的应用 in the admin console. With no corp
//! configured it starts an embedded sandbox.
//!
//! ```text
//! cargo run -p wecom --example wedrive --features wedrive
//! ```

use std::io::Write as _;

use wecom::prelude::*;
use wecom::wedrive::{DocType, FileType, SortType};

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let common::Setup {
        client,
        sandbox: _sandbox,
    } = common::connect().await?;
    let wd = client.wedrive();

    let spaceid = wd.space_create("wecom-rs example").await?.spaceid;
    let folder = wd
        .file_create(&spaceid, &spaceid, FileType::Folder, "reports")
        .await?
        .fileid;
    println!("space {spaceid}, folder {folder}");

    // A 5 MB file on disk: three 2 MB blocks. The upload reads it twice (hashes, then blocks)
    // and never holds it in memory.
    let dir = std::env::temp_dir().join(format!("wecom-wedrive-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let src = dir.join("report.bin");
    let data: Vec<u8> = (0..5 * 1024 * 1024 + 123)
        .map(|i| (i % 253) as u8)
        .collect();
    std::fs::File::create(&src)?.write_all(&data)?;

    let drive = Drive::new(&client).on_progress(|p| {
        if let Some(total) = p.total {
            eprint!("\r{:>3}%", p.done * 100 / total.max(1));
        }
    });
    let up = drive.upload_path(&spaceid, &folder, &src).await?;
    eprintln!();
    println!(
        "uploaded {} bytes as {} ({} blocks, sha1 {})",
        up.size, up.fileid, up.blocks_sent, up.sha1
    );

    for f in drive.list_all(&spaceid, &folder, SortType::NameAsc).await? {
        println!(
            "  {} {:>10} bytes",
            f.file_name.unwrap_or_default(),
            f.file_size.unwrap_or(0)
        );
    }

    let copy = dir.join("copy.bin");
    let n = Drive::new(&client)
        .download_to_path(&up.fileid, &copy)
        .await?;
    println!(
        "downloaded {n} bytes in ranges, identical: {}",
        std::fs::read(&copy)? == data
    );

    // The same content again is not sent: WeCom recognises it (秒传).
    let again = Drive::new(&client)
        .upload_path_as(&spaceid, &spaceid, "report-again.bin", &src)
        .await?;
    println!("second upload: hit_exist = {}", again.hit_exist);

    // 文档: a sheet, renamed, and its share link.
    let doc = wd.create_doc(DocType::Sheet, "Budget").await?;
    wd.rename_doc("Budget 2026").docid(&doc.docid).await?;
    println!(
        "sheet {} shared at {}",
        doc.docid,
        wd.doc_share().docid(&doc.docid).await?.share_url
    );

    // Mistakes never leave the process: a name of 128 汉字 counts 256 of the 255 allowed.
    if let Err(e) = wd
        .file_create(&spaceid, &spaceid, FileType::Folder, "报".repeat(128))
        .await
    {
        println!("refused locally: {e}");
    }

    wd.space_dismiss(&spaceid).await?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
