//! Multipart uploads streamed from files, bytes and readers.

use wecom_core_auth::{Error, Upload};

use crate::builder;
use crate::endpoints::UploadMedia;
use crate::server::{Fake, Fault};

#[tokio::test]
async fn a_file_is_streamed_with_its_length() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("报告 2024.pdf");
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let r = client
        .execute(UploadMedia {
            media: Upload::from_path(&path).unwrap(),
        })
        .await
        .unwrap();
    assert!(!r.chunked, "a known length is sent as Content-Length");
    assert_eq!(
        r.content_length.as_deref(),
        Some(r.received.to_string().as_str())
    );
    assert!(
        r.received > 3_000_000 && r.received < 3_000_400,
        "{}",
        r.received
    );
    assert!(
        r.content_type
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    assert!(
        r.head
            .contains("name=\"media\"; filename=\"报告 2024.pdf\"; filelength=3000000"),
        "{}",
        r.head
    );
    assert!(
        r.head.contains("Content-Type: application/pdf"),
        "{}",
        r.head
    );
    let body = &fake.seen()[0].body;
    let start = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        &body[start..start + content.len()],
        &content[..],
        "content arrives intact"
    );
}

#[tokio::test]
async fn bytes_and_readers_upload_too() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let r = client
        .execute(UploadMedia {
            media: Upload::from_bytes("a.png", vec![1u8; 1000]).with_content_type("image/png"),
        })
        .await
        .unwrap();
    assert!(!r.chunked);
    assert!(
        r.head
            .contains("filename=\"a.png\"; filelength=1000\r\nContent-Type: image/png"),
        "{}",
        r.head
    );

    let reader = Upload::from_reader("log.txt", &b"hello from a reader"[..], None);
    let r = client.execute(UploadMedia { media: reader }).await.unwrap();
    assert!(r.chunked, "an unknown length goes chunked");
    assert!(r.head.contains("hello from a reader"));
}

#[tokio::test]
async fn a_reader_upload_is_never_resent_but_a_file_upload_is() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    client
        .execute(UploadMedia {
            media: Upload::from_bytes("warm.txt", "x"),
        })
        .await
        .unwrap();

    fake.fail_next("upload", [Fault::Errcode(-1, "system busy")]);
    let reader = Upload::from_reader("r.txt", &b"data"[..], Some(4));
    let e = client
        .execute(UploadMedia { media: reader })
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(-1));
    assert_eq!(fake.hits("upload"), 2, "not resent: the reader is consumed");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    std::fs::write(&path, b"file data").unwrap();
    fake.fail_next("upload", [Fault::Errcode(-1, "system busy")]);
    client
        .execute(UploadMedia {
            media: Upload::from_path(&path).unwrap(),
        })
        .await
        .expect("a file can be sent again");
    assert_eq!(fake.hits("upload"), 4);

    // A rejected token with a file upload: refreshed and resent.
    fake.revoke_all_tokens();
    client
        .execute(UploadMedia {
            media: Upload::from_path(&path).unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(fake.gettoken_calls(), 2);
}

#[tokio::test]
async fn a_missing_file_is_a_clear_error() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.bin");
    std::fs::write(&path, b"12345").unwrap();
    let upload = Upload::from_path(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let e = client
        .execute(UploadMedia { media: upload })
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Transport(_)) && e.to_string().contains("gone.bin"),
        "{e}"
    );
    assert!(
        Upload::from_path(dir.path()).is_err(),
        "a directory is not a file"
    );
}
