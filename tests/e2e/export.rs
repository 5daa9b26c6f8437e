//! Asynchronous directory export end to end (issue 16 part 3): `export/*` through the client
//! against the sandbox, the files downloaded in ranges, checked and decrypted as a stream.

use std::time::Duration;

use wecom_contacts::ContactsExt;
use wecom_contacts::export::{Export, ExportError, ExportKey, ExportKind, ExportRecord};
use wecom_contacts::{ExportStatus, TagMember};
use wecom_core_auth::{Error, Secret};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn quick(export: Export<'_>) -> Export<'_> {
    export
        .poll_every(Duration::from_millis(5))
        .max_wait(Duration::from_secs(20))
}

async fn collect(export: &Export<'_>) -> Result<Vec<ExportRecord>, ExportError> {
    let mut out = Vec::new();
    export
        .run(
            |r| {
                out.push(r);
                Ok(())
            },
            |_| {},
        )
        .await?;
    Ok(out)
}

#[tokio::test]
async fn simple_user_export_lists_every_visible_member_in_small_ranges() -> TestResult {
    let w = wecom_tests::demo().await?;
    let mut expected: Vec<String> = w
        .admin()
        .corp()
        .members()
        .map(|m| m.userid.clone())
        .collect();
    expected.sort();
    // 64-byte ranges: every file is fetched in many pieces, records span range boundaries.
    let export = quick(Export::new(&w.client, ExportKind::SimpleUser)).chunk_size(64);
    let mut seen = Vec::new();
    let mut downloads = 0u32;
    let summary = export
        .run(
            |r| {
                if let ExportRecord::Member(m) = r {
                    seen.push(m.userid);
                }
                Ok(())
            },
            |p| {
                if matches!(
                    p,
                    wecom_contacts::export::ExportProgress::Downloading { .. }
                ) {
                    downloads += 1;
                }
            },
        )
        .await?;
    seen.sort();
    assert_eq!(seen, expected);
    assert_eq!(summary.records as usize, expected.len());
    assert_eq!(summary.files, 1);
    assert!(downloads > 5, "{downloads} ranges");
    assert!(summary.polls >= 1);
    Ok(())
}

#[tokio::test]
async fn an_app_exports_only_its_visible_scope() -> TestResult {
    let w = wecom_tests::demo().await?;
    let weekly = w.client.agent(wecom_tests::DEMO_WEEKLY_AGENTID)?;
    let visible: Vec<String> = {
        let mut v: Vec<String> = weekly
            .contacts()
            .user_list(2)
            .fetch_child(true)
            .await?
            .userlist
            .into_iter()
            .map(|m| m.userid)
            .collect();
        v.sort();
        v
    };
    let records = collect(&quick(Export::new(&weekly, ExportKind::User))).await?;
    let mut got: Vec<String> = records
        .into_iter()
        .filter_map(|r| match r {
            ExportRecord::MemberDetail(m) => Some(m.userid),
            _ => None,
        })
        .collect();
    got.sort();
    let all = w.admin().corp().members().count();
    assert!(got.len() < all, "the weekly app sees part of the corp");
    for u in &visible {
        assert!(got.contains(u), "{u} is visible and exported");
    }
    Ok(())
}

#[tokio::test]
async fn departments_and_tags_export() -> TestResult {
    let w = wecom_tests::demo().await?;
    let listed = w
        .client
        .contacts()
        .department_list()
        .await?
        .department
        .len();
    let records = collect(&quick(Export::new(&w.client, ExportKind::Department))).await?;
    let departments = records
        .iter()
        .filter(|r| matches!(r, ExportRecord::Department(_)))
        .count();
    assert_eq!(departments, listed);

    let tag = w.client.contacts().tag_list().await?.taglist[0].tagid;
    let got = w.client.contacts().tag_get(tag).await?;
    let records = collect(&quick(Export::new(&w.client, ExportKind::TagUser(tag)))).await?;
    let members: Vec<TagMember> = records
        .iter()
        .filter_map(|r| match r {
            ExportRecord::TagMember(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let parties: Vec<u32> = records
        .iter()
        .filter_map(|r| match r {
            ExportRecord::TagDepartment(d) => Some(*d),
            _ => None,
        })
        .collect();
    assert_eq!(members, got.userlist);
    assert_eq!(parties, got.partylist);
    Ok(())
}

#[tokio::test]
async fn a_big_directory_comes_in_blocks_of_block_size() -> TestResult {
    let w = wecom_tests::big(10_001, wecom_tests::fast_retries(3)).await?;
    let export = quick(Export::new(&w.client, ExportKind::SimpleUser)).block_size(10_000);
    let mut count = 0u64;
    let mut last = String::new();
    let summary = export
        .run(
            |r| {
                if let ExportRecord::Member(m) = r {
                    count += 1;
                    last = m.userid;
                }
                Ok(())
            },
            |_| {},
        )
        .await?;
    assert_eq!(summary.files, 2, "10,001 members in blocks of 10,000");
    assert_eq!(count, 10_001);
    assert_eq!(summary.records, 10_001);
    assert!(!last.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_wrong_key_or_another_caller_is_refused() -> TestResult {
    let w = wecom_tests::demo().await?;
    let export = quick(Export::new(&w.client, ExportKind::SimpleUser));
    let jobid = export.start().await?;
    let (files, _) = export.wait(&jobid, |_| {}).await?;

    // The same files with another key: the padding check fails, nothing is mistaken for data.
    let other = quick(Export::new(&w.client, ExportKind::SimpleUser)).key(ExportKey::generate());
    let mut handed = 0;
    let err = other
        .fetch(
            &files,
            |_| {
                handed += 1;
                Ok(())
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, ExportError::Decrypt { .. } | ExportError::Json { .. }),
        "{err}"
    );

    // A damaged listing (wrong MD5) is caught before the last records are handed over.
    let mut damaged = files.clone();
    damaged[0].md5 = "0".repeat(32);
    let err = export
        .fetch(&damaged, |_| Ok(()), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, ExportError::Integrity { .. }), "{err}");

    // Only the caller that started the job may read its result.
    let weekly = w.client.agent(wecom_tests::DEMO_WEEKLY_AGENTID)?;
    let err = weekly
        .contacts()
        .export_get_result(jobid.as_str())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err}");
    let mine = w
        .client
        .contacts()
        .export_get_result(jobid.as_str())
        .await?;
    assert_eq!(mine.status, ExportStatus::Done);
    Ok(())
}

#[tokio::test]
async fn a_bad_key_is_refused_before_any_request() -> TestResult {
    let w = wecom_tests::demo().await?;
    let before = w.admin().count("export_simple_user");
    let err = w
        .client
        .contacts()
        .export_simple_user(Secret::new("too-short"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    let err = w
        .client
        .contacts()
        .export_simple_user(ExportKey::generate().encoding_aes_key().clone())
        .block_size(5)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert_eq!(w.admin().count("export_simple_user"), before);
    Ok(())
}
