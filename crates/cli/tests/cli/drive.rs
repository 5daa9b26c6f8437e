//! `wecom drive upload|download|ls` against an in-process sandbox: a block upload byte for byte,
//! a resumed download, the listing, and a WeCom error reported with its errcode.

use wecom::wedrive::WedriveExt as _;
use wecom_sandbox::Sandbox;

use crate::common::at;

/// A space of the sandbox's first app (the one the command uses).
async fn space(sandbox: &Sandbox) -> String {
    let creds = sandbox.credentials();
    let app = &creds.apps[0];
    let client = wecom::Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .app(app.agentid, app.secret.clone())
        .build()
        .expect("client");
    client
        .wedrive()
        .space_create("cli")
        .await
        .expect("space")
        .spaceid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drive_upload_ls_download_and_resume() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let spaceid = space(&sb).await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let data: Vec<u8> = (0..2 * 2_097_152 + 77).map(|i| (i % 249) as u8).collect();
    std::fs::write(&src, &data).unwrap();

    let up = at(
        &sb,
        &[
            "--json",
            "drive",
            "upload",
            src.to_str().unwrap(),
            "--space",
            &spaceid,
            "--concurrency",
            "2",
        ],
    )
    .await
    .json();
    assert_eq!(up["blocks_sent"].as_u64(), Some(3), "{up}");
    assert_eq!(up["size"].as_u64(), Some(data.len() as u64));
    let fileid = up["fileid"].as_str().expect("fileid").to_owned();

    let ls = at(&sb, &["drive", "ls", "--space", &spaceid]).await;
    let out = ls.ok();
    assert!(out.contains("big.bin") && out.contains(&fileid), "{out}");

    let dst = dir.path().join("copy.bin");
    let got = at(
        &sb,
        &[
            "--json",
            "drive",
            "download",
            &fileid,
            "-o",
            dst.to_str().unwrap(),
        ],
    )
    .await
    .json();
    assert_eq!(got["bytes"].as_u64(), Some(data.len() as u64));
    assert_eq!(std::fs::read(&dst).unwrap(), data);

    // A partial file is completed with --resume.
    std::fs::write(&dst, &data[..123_456]).unwrap();
    let got = at(
        &sb,
        &[
            "--json",
            "drive",
            "download",
            &fileid,
            "-o",
            dst.to_str().unwrap(),
            "--resume",
        ],
    )
    .await
    .json();
    assert_eq!(got["bytes"].as_u64(), Some((data.len() - 123_456) as u64));
    assert_eq!(std::fs::read(&dst).unwrap(), data);

    // An unknown file: WeCom's errcode in the error.
    let r = at(
        &sb,
        &["drive", "download", "f.nope", "-o", dst.to_str().unwrap()],
    )
    .await;
    assert!(r.error_line().contains("640002"), "{}", r.stderr);
}
