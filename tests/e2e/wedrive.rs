//! 微盘 and 文档 (wecom-wedrive) through the client against the sandbox: spaces and their
//! members, files, whole and block uploads byte for byte, ranged and resumed downloads, the
//! pages' rules before any I/O and in the sandbox, file permissions, and the wedoc basics.

use std::io::Write as _;

use wecom_core_auth::{Client, Error};
use wecom_tests::{DEMO_WEEKLY_AGENTID, World, demo};
use wecom_wedrive::blocks::{BLOCK_SIZE, BlockHashes};
use wecom_wedrive::*;

type Res = Result<(), Box<dyn std::error::Error>>;

fn code(e: &Error) -> Option<i64> {
    e.errcode()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i % 251) as u8).wrapping_add(seed))
        .collect()
}

async fn space(w: &World) -> Result<String, Error> {
    Ok(w.client.wedrive().space_create("测试空间").await?.spaceid)
}

fn weekly(w: &World) -> Result<Client, Error> {
    w.client.agent(DEMO_WEEKLY_AGENTID)
}

#[tokio::test]
async fn spaces_members_and_settings() -> Res {
    let w = demo().await?;
    let wd = w.client.wedrive();
    let admin = |u: &str| SpaceMember::new(MemberType::User, SpaceAuth::Admin).userid(u);
    let spaceid = wd
        .space_create("项目资料")
        .auth_info([
            admin("zhangwei"),
            SpaceMember::new(MemberType::Department, SpaceAuth::DownloadOnly).departmentid(2),
        ])
        .await?
        .spaceid;
    let info = wd.space_info(&spaceid).await?.space_info;
    assert_eq!(info.space_name.as_deref(), Some("项目资料"));
    let members = info.auth_list.map(|l| l.auth_info).unwrap_or_default();
    assert_eq!(members.len(), 2);
    assert!(
        members
            .iter()
            .any(|m| m.userid.as_deref() == Some("zhangwei") && m.auth == SpaceAuth::Admin)
    );

    // Two more administrators make four: the sandbox counts those already set (640053).
    let e = wd
        .space_acl_add(
            &spaceid,
            [admin("liuyang"), admin("wangfang"), admin("chenjing")],
        )
        .await
        .err();
    assert_eq!(e.as_ref().and_then(code), Some(640053), "{e:?}");
    wd.space_acl_add(&spaceid, [admin("liuyang")]).await?;
    // Unknown people and departments: 640012 / 640013.
    let ghost = SpaceMember::new(MemberType::User, SpaceAuth::DownloadOnly).userid("ghost");
    let e = wd.space_acl_add(&spaceid, [ghost]).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640012));
    let dept = SpaceMember::new(MemberType::Department, SpaceAuth::DownloadOnly).departmentid(999);
    let e = wd.space_acl_add(&spaceid, [dept]).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640013));
    // Preview rights need the professional edition the sandbox corp lacks: 640015.
    let preview = SpaceMember::new(MemberType::User, SpaceAuth::PreviewOnly).userid("liuyang");
    let e = wd.space_create("x").auth_info([preview]).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640015));

    wd.space_acl_del(
        &spaceid,
        [MemberRef::new(MemberType::Department).departmentid(2)],
    )
    .await?;
    wd.space_rename(&spaceid, "项目资料 2026").await?;
    wd.space_setting(&spaceid)
        .enable_confidential_mode(true)
        .default_file_scope(2)
        .await?;
    let full = wd.new_space_info(&spaceid).await?.space_info;
    assert_eq!(full.space_name.as_deref(), Some("项目资料 2026"));
    let settings = full.secure_setting.unwrap_or_default();
    assert_eq!(settings["enable_confidential_mode"], true);
    assert_eq!(settings["default_file_scope"], 2);
    assert_eq!(full.auth_list.map(|l| l.auth_info.len()), Some(2));
    assert!(!wd.space_share(&spaceid).await?.space_share_url.is_empty());

    // Another app may not touch this app's space (640008).
    let other = weekly(&w)?;
    let e = other.wedrive().space_rename(&spaceid, "mine").await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640008));

    wd.space_dismiss(&spaceid).await?;
    let e = wd.space_info(&spaceid).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640001));
    Ok(())
}

#[tokio::test]
async fn rules_the_pages_state_are_checked_before_any_io() -> Res {
    let w = demo().await?;
    let spaceid = space(&w).await?;
    w.admin().reset_counters();
    let wd = w.client.wedrive();
    // 128 汉字 count 256 of the 255 a name may have.
    let long = "报".repeat(128);
    let e = wd
        .file_create(&spaceid, &spaceid, FileType::Folder, &long)
        .await
        .err();
    assert!(matches!(e, Some(Error::Invalid(_))), "{e:?}");
    // Four administrators at once.
    let admins: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|u| SpaceMember::new(MemberType::User, SpaceAuth::Admin).userid(u))
        .collect();
    assert!(matches!(
        wd.space_create("x").auth_info(admins).await,
        Err(Error::Invalid(_))
    ));
    // A whole upload over 10 MB.
    let big = vec![0u8; WHOLE_UPLOAD_MAX as usize + 1];
    let e = Drive::new(&w.client)
        .upload_bytes(&spaceid, &spaceid, "big.bin", &big)
        .await
        .err();
    assert!(
        matches!(e, Some(DriveError::Wecom(Error::Invalid(_)))),
        "{e:?}"
    );
    // A place named twice, and not at all.
    let e = wd
        .file_upload("a.txt", "YWJj")
        .spaceid(&spaceid)
        .fatherid(&spaceid)
        .selected_ticket("t")
        .await
        .err();
    assert!(matches!(e, Some(Error::Invalid(_))));
    assert!(matches!(
        wd.file_upload("a.txt", "YWJj").await,
        Err(Error::Invalid(_))
    ));
    // Hashes that do not fit the size.
    let e = wd
        .file_upload_init("a.bin", BLOCK_SIZE + 1, ["0".repeat(40)])
        .spaceid(&spaceid)
        .fatherid(&spaceid)
        .await
        .err();
    assert!(matches!(e, Some(Error::Invalid(_))));
    let calls: u64 = w
        .admin()
        .counters()
        .iter()
        .filter(|(k, _)| k != "gettoken")
        .map(|(_, n)| n)
        .sum();
    assert_eq!(calls, 0, "nothing may reach WeCom");
    Ok(())
}

#[tokio::test]
async fn files_folders_moves_and_deletes() -> Res {
    let w = demo().await?;
    let spaceid = space(&w).await?;
    let wd = w.client.wedrive();
    let drive = Drive::new(&w.client);
    let folder = wd
        .file_create(&spaceid, &spaceid, FileType::Folder, "报告")
        .await?
        .fileid;
    let a = drive
        .upload_bytes(&spaceid, &folder, "a.txt", b"hello")
        .await?;
    let b = drive
        .upload_bytes(&spaceid, &spaceid, "a.txt", b"other")
        .await?;
    let info = wd.file_info(&a.fileid).await?.file_info;
    assert_eq!(info.file_size, Some(5));
    assert_eq!(info.file_type, Some(FileType::File));
    assert_eq!(info.sha.as_deref(), Some(BlockHashes::of(b"hello").sha1()));
    assert_eq!(
        info.md5.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );

    // Moving a.txt next to another a.txt renames it, as the page says: a(1).txt.
    let moved = wd.file_move(&folder, [b.fileid.clone()]).await?;
    let names: Vec<_> = moved
        .file_list
        .map(|l| l.item)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| f.file_name)
        .collect();
    assert_eq!(names, ["a(1).txt"]);
    // With replace, the one there goes.
    let c = drive
        .upload_bytes(&spaceid, &spaceid, "a.txt", b"third")
        .await?;
    wd.file_move(&folder, [c.fileid.clone()])
        .replace(true)
        .await?;
    let e = wd.file_info(&a.fileid).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640003), "replaced: deleted");

    let renamed = wd.file_rename(&c.fileid, "c.txt").await?.file;
    assert_eq!(renamed.and_then(|f| f.file_name).as_deref(), Some("c.txt"));

    // Listing pages with next_start.
    let page = wd
        .file_list(&spaceid, &folder, SortType::NameAsc, 0, 1)
        .await?;
    assert_eq!(page.has_more, Some(true));
    assert_eq!(page.next_start, Some(1));
    let all = drive.list_all(&spaceid, &folder, SortType::NameAsc).await?;
    let names: Vec<_> = all.iter().filter_map(|f| f.file_name.clone()).collect();
    assert_eq!(names, ["a(1).txt", "c.txt"]);

    // A folder that is not in the space; a folder into itself.
    let e = wd
        .file_create(&spaceid, "f.nope", FileType::Folder, "x")
        .await
        .err();
    assert_eq!(e.as_ref().and_then(code), Some(640021));
    let e = wd.file_move(&folder, [folder.clone()]).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640021));

    // Deleting the folder deletes what is in it.
    wd.file_delete([folder.clone()]).await?;
    let e = wd.file_info(&c.fileid).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640003));
    assert!(
        drive
            .list_all(&spaceid, &spaceid, SortType::NameAsc)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn block_upload_and_ranged_download_byte_for_byte() -> Res {
    let w = demo().await?;
    let spaceid = space(&w).await?;
    let dir = tempfile::tempdir()?;
    let src = dir.path().join("数据.bin");
    let data = pattern(2 * BLOCK_SIZE as usize + 12_345, 7);
    std::fs::File::create(&src)?.write_all(&data)?;

    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = std::sync::Arc::clone(&seen);
    let drive = Drive::new(&w.client)
        .concurrency(2)
        .on_progress(move |p| seen2.lock().map(|mut v| v.push(p)).unwrap_or(()));
    let up = drive.upload_path(&spaceid, &spaceid, &src).await?;
    assert!(!up.hit_exist);
    assert_eq!(up.blocks_sent, 3);
    assert_eq!(w.admin().count("file_upload_part"), 3);
    assert_eq!(w.admin().count("file_upload_finish"), 1);
    assert_eq!(
        seen.lock().map(|v| v.last().copied()).ok().flatten(),
        Some(Progress {
            done: data.len() as u64,
            total: Some(data.len() as u64)
        })
    );
    let info = w.client.wedrive().file_info(&up.fileid).await?.file_info;
    assert_eq!(info.file_name.as_deref(), Some("数据.bin"));
    assert_eq!(info.sha.as_deref(), Some(up.sha1.as_str()));

    // Download in 64 KiB ranges, byte for byte.
    let dst = dir.path().join("copy.bin");
    let n = Drive::new(&w.client)
        .range_size(64 * 1024)
        .download_to_path(&up.fileid, &dst)
        .await?;
    assert_eq!(n, data.len() as u64);
    assert_eq!(std::fs::read(&dst)?, data);

    // Resume: a partial file is completed from where it ends.
    let part = dir.path().join("part.bin");
    std::fs::write(&part, &data[..1_000_003])?;
    let added = Drive::new(&w.client)
        .resume_to_path(&up.fileid, &part)
        .await?;
    assert_eq!(added, (data.len() - 1_000_003) as u64);
    assert_eq!(std::fs::read(&part)?, data);
    // Resuming a complete file adds nothing.
    assert_eq!(
        Drive::new(&w.client)
            .resume_to_path(&up.fileid, &part)
            .await?,
        0
    );

    // The same content again: 秒传, no block sent.
    let again = Drive::new(&w.client)
        .upload_path_as(&spaceid, &spaceid, "again.bin", &src)
        .await?;
    assert!(again.hit_exist);
    assert_eq!(w.admin().count("file_upload_part"), 3);
    assert_ne!(again.fileid, up.fileid);
    Ok(())
}

#[tokio::test]
async fn the_sandbox_checks_every_block_and_the_download_cookie() -> Res {
    let w = demo().await?;
    let spaceid = space(&w).await?;
    let wd = w.client.wedrive();
    let data = pattern(BLOCK_SIZE as usize + 10, 1);
    let hashes = BlockHashes::of(&data);
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let key = wd
        .file_upload_init("x.bin", hashes.size(), hashes.values().to_vec())
        .spaceid(&spaceid)
        .fatherid(&spaceid)
        .await?
        .upload_key
        .unwrap_or_default();
    // Block 1 must be a whole 2 MB; block 3 does not exist.
    let e = wd.file_upload_part(&key, 1, b64(&data[..100])).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640048));
    let e = wd.file_upload_part(&key, 3, b64(&data[..10])).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640048));
    wd.file_upload_part(&key, 1, b64(&data[..BLOCK_SIZE as usize]))
        .await?;
    // Finishing with block 2 missing.
    let e = wd.file_upload_finish(&key).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640048));
    // Block 2 with other bytes: the hashes announced do not match.
    wd.file_upload_part(&key, 2, b64(b"abcdefghij")).await?;
    let e = wd.file_upload_finish(&key).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640048), "{e:?}");

    // A reader whose content differs from the hashes: the upload is not finished.
    w.admin().reset_counters();
    let other = pattern(data.len(), 2);
    let e = Drive::new(&w.client)
        .upload_reader(&spaceid, &spaceid, "y.bin", &hashes, &other[..])
        .await
        .err();
    assert!(matches!(e, Some(DriveError::Changed { .. })), "{e:?}");
    assert_eq!(w.admin().count("file_upload_finish"), 0);

    // Folders and documents cannot be downloaded (640029).
    let folder = wd
        .file_create(&spaceid, &spaceid, FileType::Folder, "d")
        .await?
        .fileid;
    let e = wd.file_download().fileid(&folder).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640029));

    // The download URL needs its cookie.
    let f = Drive::new(&w.client)
        .upload_bytes(&spaceid, &spaceid, "s.txt", b"secret")
        .await?;
    let link = wd.file_download().fileid(&f.fileid).await?;
    let http = reqwest::Client::new();
    let bare = http.get(link.download_url.expose()).send().await?;
    assert_eq!(bare.status().as_u16(), 403);
    let ok = http
        .get(link.download_url.expose())
        .header(
            "Cookie",
            format!("{}={}", link.cookie_name, link.cookie_value.expose()),
        )
        .header("Range", "bytes=1-3")
        .send()
        .await?;
    assert_eq!(ok.status().as_u16(), 206);
    assert_eq!(
        ok.headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok()),
        Some("bytes 1-3/6")
    );
    assert_eq!(&ok.bytes().await?[..], b"ecr");
    // After 2 hours the URL is dead; Drive fetches a new one by itself.
    w.admin().advance_time(2 * 3600 + 1);
    let late = http
        .get(link.download_url.expose())
        .header(
            "Cookie",
            format!("{}={}", link.cookie_name, link.cookie_value.expose()),
        )
        .send()
        .await?;
    assert_eq!(late.status().as_u16(), 403);
    let mut out = Vec::new();
    Drive::new(&w.client).download(&f.fileid, &mut out).await?;
    assert_eq!(out, b"secret");
    Ok(())
}

#[tokio::test]
async fn file_members_sharing_and_permissions() -> Res {
    let w = demo().await?;
    let spaceid = space(&w).await?;
    let wd = w.client.wedrive();
    let f = Drive::new(&w.client)
        .upload_bytes(&spaceid, &spaceid, "p.txt", b"p")
        .await?
        .fileid;
    wd.file_acl_add(
        &f,
        [FileMember::new(MemberType::User).userid("liuyang").auth(1)],
    )
    .await?;
    let e = wd
        .file_acl_add(
            &f,
            [FileMember::new(MemberType::User).userid("ghost").auth(1)],
        )
        .await
        .err();
    assert_eq!(e.as_ref().and_then(code), Some(640012));
    let p = wd.get_file_permission(&f).await?;
    let members: Vec<_> = p
        .file_member_list
        .iter()
        .filter_map(|m| m.userid.clone())
        .collect();
    assert_eq!(members, ["liuyang"]);
    wd.file_acl_del(&f, [MemberRef::new(MemberType::User).userid("liuyang")])
        .await?;
    assert!(
        wd.get_file_permission(&f)
            .await?
            .file_member_list
            .is_empty()
    );

    wd.file_setting(&f, 2).auth(1).await?;
    let range = wd.get_file_permission(&f).await?.share_range;
    assert_eq!(range.and_then(|r| r.enable_corp_internal), Some(true));
    // Scopes with approval need a space administrator (640014).
    let e = wd.file_setting(&f, 4).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640014));
    assert!(!wd.file_share(&f).await?.share_url.is_empty());

    // Watermarks are for online documents (640016 for a file).
    let mark = WatermarkSetting::new().text("内部").margin_type(2);
    let e = wd.file_secure_setting(&f, mark.clone()).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640016));
    let doc = wd
        .file_create(&spaceid, &spaceid, FileType::Doc, "周报")
        .await?;
    assert!(doc.url.is_some());
    wd.file_secure_setting(&doc.fileid, mark).await?;
    let wm = wd.get_file_permission(&doc.fileid).await?.watermark;
    assert_eq!(wm.and_then(|w| w.text).as_deref(), Some("内部"));

    let pro = wd.mng_pro_info().await?;
    assert_eq!(pro.is_pro, Some(false));
    assert!(wd.mng_capacity().await?.total_capacity_for_all.unwrap_or(0) > 0);
    Ok(())
}

#[tokio::test]
async fn wedoc_basics() -> Res {
    let w = demo().await?;
    let wd = w.client.wedrive();
    let created = wd
        .create_doc(DocType::Sheet, "预算")
        .admin_users(["zhangwei"])
        .await?;
    assert!(!created.url.is_empty());
    wd.rename_doc("预算 2026").docid(&created.docid).await?;
    let info = wd.get_doc_base_info(&created.docid).await?.doc_base_info;
    assert_eq!(info.doc_name.as_deref(), Some("预算 2026"));
    assert_eq!(info.doc_type, Some(DocType::Sheet));
    assert!(
        !wd.doc_share()
            .docid(&created.docid)
            .await?
            .share_url
            .is_empty()
    );
    // Only the app that created it may change it.
    let other = weekly(&w)?;
    let e = other.wedrive().del_doc().docid(&created.docid).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640004));
    // docid or formid, exactly one: before any I/O.
    assert!(matches!(wd.del_doc().await, Err(Error::Invalid(_))));
    wd.del_doc().docid(&created.docid).await?;
    let e = wd.get_doc_base_info(&created.docid).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640002));
    Ok(())
}

#[test]
fn wedrive_callbacks_are_typed_and_round_trip() -> Res {
    use wecom_callback::generated::events::{WedriveFileChange, WedriveSpaceChange};
    use wecom_callback::{EventKind, Inbound};
    // Page 97900's example, with two files.
    let xml = "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
        <CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType>\
        <Event><![CDATA[wedrive_file_change]]></Event><ChangeType><![CDATA[move_file]]></ChangeType>\
        <FileId><![CDATA[f1]]></FileId><FileId><![CDATA[f2]]></FileId></xml>";
    let Inbound::Event(ev) = Inbound::parse(xml)? else {
        return Err("not an event".into());
    };
    let EventKind::WedriveFileChange(WedriveFileChange::MoveFile { file_ids }) = &ev.kind else {
        return Err(format!("not a move_file: {:?}", ev.kind).into());
    };
    let ids: Vec<_> = file_ids
        .iter()
        .map(|e| (e.name.as_str(), e.text.as_str()))
        .collect();
    assert_eq!(ids, [("FileId", "f1"), ("FileId", "f2")]);
    assert_eq!(
        Inbound::parse(&Inbound::Event(ev.clone()).to_xml())?,
        Inbound::Event(ev)
    );

    // Page 97903's example: two spaces.
    let xml = "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>\
        <CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType>\
        <Event><![CDATA[wedrive_space_change]]></Event><ChangeType><![CDATA[space_security_settings_change]]></ChangeType>\
        <SpaceId><![CDATA[s1]]></SpaceId><SpaceId><![CDATA[s2]]></SpaceId></xml>";
    let Inbound::Event(ev) = Inbound::parse(xml)? else {
        return Err("not an event".into());
    };
    let EventKind::WedriveSpaceChange(WedriveSpaceChange::SpaceSecuritySettingsChange {
        space_ids,
    }) = &ev.kind
    else {
        return Err(format!("not a settings change: {:?}", ev.kind).into());
    };
    assert_eq!(space_ids.len(), 2);
    assert_eq!(space_ids[1].text, "s2");
    Ok(())
}

#[tokio::test]
async fn the_wedrive_secret_calls_wedrive_and_owns_its_spaces() -> Res {
    use wecom_core_auth::SystemApp;
    let w = demo().await?;
    let secret = "sandbox-wedrive-secret-0000000000000000001";
    w.admin()
        .with_corp(|c| c.set_system_secret(SystemApp::Wedrive, secret));
    let creds = w.sandbox.credentials();
    let client = Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .system_secret(
            SystemApp::Wedrive,
            wecom_core_auth::Secret::new(secret.to_owned()),
        )
        .build()?;
    assert!(client.has_system_secret(SystemApp::Wedrive));
    let spaceid = client.wedrive().space_create("微盘 secret").await?.spaceid;
    let up = Drive::new(&client)
        .upload_bytes(&spaceid, &spaceid, "a.txt", b"abc")
        .await?;
    let mut out = Vec::new();
    Drive::new(&client).download(&up.fileid, &mut out).await?;
    assert_eq!(out, b"abc");
    // An app's token does not own what the 微盘 secret created.
    let e = w.client.wedrive().space_info(&spaceid).await.err();
    assert_eq!(e.as_ref().and_then(code), Some(640008));
    Ok(())
}

#[tokio::test]
async fn a_dead_download_url_fails_without_showing_its_ticket() -> Res {
    let w = demo().await?;
    let spaceid = space(&w).await?;
    let f = Drive::new(&w.client)
        .upload_bytes(&spaceid, &spaceid, "t.txt", b"t")
        .await?;
    let link = w.client.wedrive().file_download().fileid(&f.fileid).await?;
    let url = link.download_url.expose().to_owned();
    // No cookie: 403, reported as a transport error that shows the origin only.
    let e = w
        .client
        .get_url("wedrive_file_download_url", &url, Default::default())
        .await
        .err()
        .ok_or("a GET without the cookie must fail")?;
    let Error::Transport(t) = &e else {
        return Err(format!("expected a transport error, got {e}").into());
    };
    assert_eq!(t.kind, wecom_core_auth::TransportErrorKind::Status(403));
    let token = url.rsplit('/').next().unwrap_or_default();
    assert!(!token.is_empty() && !e.to_string().contains(token), "{e}");
    assert!(t.url.ends_with("/***"), "{}", t.url);
    Ok(())
}
