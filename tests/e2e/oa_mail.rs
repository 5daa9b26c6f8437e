//! Office automation part 3, 应用发送邮件 end to end: a mail with recipients by address and by
//! member, copy, blind copy and attachments lands in the sandbox's mailbox (read through the Rust
//! API and `GET /sandbox/mail/{who}`), and what the page forbids is refused before any request.

use wecom_core_auth::{Client, Error, Secret};
use wecom_oa::{MailAttachment, MailRecipients, OaExt};
use wecom_sandbox::Sandbox;
use wecom_sandbox::areas::oa::mail as sbx;
use wecom_sandbox::corp::{App, Corp, Member};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CORPID: &str = "wwoamail000000001";
const ONE: u32 = 1_000_001;

async fn start() -> Result<(Sandbox, Client), Box<dyn std::error::Error>> {
    let mut c = Corp::new(CORPID, "公司", "contact-secret-for-the-mail-tests");
    c.create_member(Member::new("alice", "Alice", vec![1]).with_email("alice@example.com"))?;
    c.create_member(Member::new("bob", "Bob", vec![1]).with_mobile("13800000002"))?;
    let mut app = App::new(ONE, "App", "app-secret-for-the-mail-tests");
    app.allow_parties = vec![1];
    c.add_app(app)?;
    let sb = Sandbox::builder().corp(c).start().await?;
    let client = Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(ONE, Secret::new("app-secret-for-the-mail-tests".to_owned()))
        .build()?;
    Ok((sb, client))
}

#[tokio::test]
async fn a_sent_mail_lands_in_the_mailbox() -> TestResult {
    let (sb, client) = start().await?;
    client
        .oa()
        .mail_compose_send(
            MailRecipients::new()
                .emails(["word@example.org"])
                .userids(["alice"]),
            "这是标题",
            "<p>这是邮件正文</p>",
        )
        .cc(MailRecipients::new().userids(["bob"]))
        .bcc(MailRecipients::new().emails(["zoro@example.org"]))
        .attachment_list([
            MailAttachment::from_bytes("a.txt", b"hello"),
            MailAttachment::from_bytes("b.bin", &[0u8; 1000]),
        ])
        .await?;
    let mails = sbx::sent_mails(sb.admin().state());
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.agentid, ONE);
    assert_eq!(m.to, vec!["word@example.org", "alice@example.com"]);
    assert_eq!(m.cc, vec![format!("bob@{CORPID}.sandbox.invalid")]);
    assert_eq!(m.bcc, vec!["zoro@example.org"]);
    assert_eq!(
        (m.subject.as_str(), m.content_type.as_str()),
        ("这是标题", "html")
    );
    let sizes: Vec<(&str, usize)> = m
        .attachments
        .iter()
        .map(|a| (a.file_name.as_str(), a.size))
        .collect();
    assert_eq!(sizes, vec![("a.txt", 5), ("b.bin", 1000)]);
    assert_eq!(sbx::mailbox(sb.admin().state(), "bob").len(), 1);
    assert_eq!(
        sbx::mailbox(sb.admin().state(), "zoro@example.org").len(),
        1
    );
    assert!(sbx::mailbox(sb.admin().state(), "carol").is_empty());

    // The admin API shows the same mailbox.
    let text = reqwest::Client::new()
        .get(format!("{}/sandbox/mail/alice", sb.base_url()))
        .send()
        .await?
        .text()
        .await?;
    let body: serde_json::Value = serde_json::from_str(&text)?;
    assert_eq!(body["mails"][0]["subject"], "这是标题");
    assert_eq!(body["mails"][0]["attachments"][1]["size"], 1000);

    // So does the web page.
    let page = reqwest::Client::new()
        .get(format!("{}/", sb.base_url()))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        page.contains("应用邮件") && page.contains("这是标题"),
        "the page lists the mail"
    );
    assert!(page.contains("b.bin (1000 B)"));

    // A text mail; an unknown member is the directory's 60111.
    client
        .oa()
        .mail_compose_send(MailRecipients::new().userids(["bob"]), "s", "plain")
        .content_type("text")
        .await?;
    assert_eq!(
        sbx::mailbox(sb.admin().state(), "bob")[1].content_type,
        "text"
    );
    let e = client
        .oa()
        .mail_compose_send(MailRecipients::new().userids(["ghost"]), "s", "c")
        .await
        .expect_err("unknown member");
    assert_eq!(e.errcode(), Some(60111));
    Ok(())
}

#[tokio::test]
async fn what_the_page_forbids_never_leaves_the_client() -> TestResult {
    let (sb, client) = start().await?;
    let oa = client.oa();
    let to = || MailRecipients::new().userids(["alice"]);
    let refused: Vec<Result<(), Error>> = vec![
        // No recipient in `to`.
        oa.mail_compose_send(MailRecipients::new(), "s", "c")
            .await
            .map(|_| ()),
        // 201 attachments.
        oa.mail_compose_send(to(), "s", "c")
            .attachment_list(vec![MailAttachment::from_bytes("a", b"x"); 201])
            .await
            .map(|_| ()),
        // Over 50 MB with the body.
        oa.mail_compose_send(to(), "s", "c")
            .attachment_list([MailAttachment::new(
                "big",
                "A".repeat(50 * 1024 * 1024 / 3 * 4 + 4),
            )])
            .await
            .map(|_| ()),
        // Not base64.
        oa.mail_compose_send(to(), "s", "c")
            .attachment_list([MailAttachment::new("a.txt", "not base64!")])
            .await
            .map(|_| ()),
        // Neither html nor text.
        oa.mail_compose_send(to(), "s", "c")
            .content_type("markdown")
            .await
            .map(|_| ()),
    ];
    for r in refused {
        assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    }
    assert_eq!(
        sb.admin().counters().iter().map(|(_, n)| n).sum::<u64>(),
        0,
        "no request reached the sandbox"
    );
    assert!(sbx::sent_mails(sb.admin().state()).is_empty());
    Ok(())
}
