//! The rest of the common API end to end (issue 16 part 3): linked corps, workbench, join QR
//! code, active members, ID conversion, the legacy user/getuserinfo, 二次验证, high-definition
//! voice, attachments, upload by URL, task cards, send statistics and linked-corp messages,
//! through the client against the sandbox.

use std::time::Duration;

use wecom_contacts::{ContactsExt, WorkbenchKeydata, WorkbenchKeydataItem, WorkbenchType};
use wecom_core_auth::{AuthExt, Client, Error, ErrorCode, Upload};
use wecom_messages::{AttachmentType, MediaType, MessageContent, MessagesExt, TextMessage};
use wecom_sandbox::OAuthLogin;
use wecom_sandbox::areas::directory_extra::{
    add_customer_group, add_wechat_customer, open_userid, workbench_data,
};
use wecom_sandbox::areas::messages_extra::taskcard_clicks;
use wecom_sandbox::areas::tfa::{mint_tfa_code, tfa_passed};
use wecom_tests::{DEMO_APPROVAL_AGENTID, DEMO_WEEKLY_AGENTID, World};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PARTNER: &str = "wwlinkedcorp0000001";

fn api_code(e: &Error) -> Option<i64> {
    match e {
        Error::Api(a) => Some(a.code.code()),
        _ => None,
    }
}

fn contact_client(w: &World) -> Result<Client, Error> {
    let creds = w.sandbox.credentials();
    Client::builder(creds.corpid)
        .base_url(w.sandbox.base_url())
        .contact_secret(creds.contact_secret)
        .retry_policy(wecom_tests::fast_retries(3))
        .build()
}

fn some_member(w: &World) -> String {
    w.admin()
        .corp()
        .members()
        .next()
        .map(|m| m.userid.clone())
        .unwrap_or_default()
}

fn text(s: &str) -> MessageContent {
    MessageContent::Text(TextMessage::new(s))
}

#[tokio::test]
async fn linked_corps_are_listed_read_and_messaged() -> TestResult {
    let w = wecom_tests::demo().await?;
    let c = w.client.contacts();
    let perm = c.linkedcorp_agent_get_perm_list().await?;
    assert_eq!(perm.department_ids, vec![format!("{PARTNER}/1")]);

    let m = c
        .linkedcorp_user_get(format!("{PARTNER}/buyer1"))
        .await?
        .user_info;
    assert_eq!(m.userid, "buyer1");
    assert_eq!(m.corpid.as_deref(), Some(PARTNER));
    assert_eq!(m.department, vec![format!("{PARTNER}/2")]);

    let root = format!("{PARTNER}/1");
    assert_eq!(
        c.linkedcorp_user_simplelist(root.as_str())
            .await?
            .userlist
            .len(),
        1
    );
    let all = c
        .linkedcorp_user_list(root.as_str())
        .fetch_child(true)
        .await?;
    assert_eq!(all.userlist.len(), 3);
    let depts = c
        .linkedcorp_department_list(root.as_str())
        .await?
        .department_list;
    assert_eq!(depts.len(), 2);
    assert_eq!(depts[1].parentid.as_deref(), Some(root.as_str()));

    let err = c
        .linkedcorp_user_get(format!("{PARTNER}/nobody"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(60111), "{err}");
    let err = c
        .linkedcorp_user_list(format!("{PARTNER}/99"))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(60003), "{err}");
    // A malformed id is refused before any request.
    let err = c.linkedcorp_user_get("buyer1").await.unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");

    let sent = w
        .client
        .messages()
        .linkedcorp_message_send(text("到货了"), DEMO_APPROVAL_AGENTID)
        .touser([format!("{PARTNER}/buyer1"), format!("{PARTNER}/ghost")])
        .await?;
    assert_eq!(sent.invaliduser, vec![format!("{PARTNER}/ghost")]);
    let inbox = w.admin().inbox(&format!("{PARTNER}/buyer1"));
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].msgtype, "text");

    let err = w
        .client
        .messages()
        .linkedcorp_message_send(text("x"), DEMO_APPROVAL_AGENTID)
        .touser([format!("{PARTNER}/ghost")])
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(81013), "{err}");
    Ok(())
}

#[tokio::test]
async fn workbench_templates_and_member_data() -> TestResult {
    let w = wecom_tests::demo().await?;
    let c = w.client.contacts();
    let before = c
        .agent_get_workbench_template(DEMO_APPROVAL_AGENTID)
        .await?;
    assert_eq!(before.template_type, Some(WorkbenchType::Normal));

    let keydata = WorkbenchKeydata::new([WorkbenchKeydataItem::new("12").key("待审批")]);
    c.agent_set_workbench_template(DEMO_APPROVAL_AGENTID, WorkbenchType::Keydata)
        .keydata(keydata.clone())
        .await?;
    let after = c
        .agent_get_workbench_template(DEMO_APPROVAL_AGENTID)
        .await?;
    assert_eq!(after.template_type, Some(WorkbenchType::Keydata));
    assert_eq!(after.keydata, Some(keydata.clone()));

    let user = some_member(&w);
    c.agent_set_workbench_data(DEMO_APPROVAL_AGENTID, user.as_str(), WorkbenchType::Keydata)
        .keydata(keydata)
        .await?;
    let stored = workbench_data(&w.admin().state().clone(), DEMO_APPROVAL_AGENTID, &user);
    assert!(stored.is_some_and(|v| v["keydata"]["items"][0]["data"] == "12"));

    // Another app's template: 301002.
    let err = c
        .agent_get_workbench_template(DEMO_WEEKLY_AGENTID)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(301002), "{err}");
    Ok(())
}

#[tokio::test]
async fn join_qrcode_needs_the_contact_secret_and_active_members_are_counted() -> TestResult {
    let w = wecom_tests::demo().await?;
    let err = w
        .client
        .contacts()
        .corp_get_join_qrcode()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let contact = contact_client(&w)?;
    let qr = contact
        .contacts()
        .corp_get_join_qrcode()
        .size_type(wecom_contacts::JoinQrcodeSize::Px399)
        .await?
        .join_qrcode;
    assert!(qr.contains("qr_size=2"), "{qr}");

    let active = w.admin().corp().members().filter(|m| m.status == 1).count() as u64;
    let stat = contact
        .contacts()
        .user_get_active_stat("2026-01-05")
        .await?;
    assert_eq!(stat.active_cnt, active);
    let err = contact
        .contacts()
        .user_get_active_stat("5 Jan 2026")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    Ok(())
}

#[tokio::test]
async fn ids_convert() -> TestResult {
    let w = wecom_tests::demo().await?;
    let c = w.client.contacts();
    let user = some_member(&w);
    let corpid = w.sandbox.credentials().corpid;
    let r = c
        .batch_userid_to_openuserid([user.clone(), "ghost".to_owned()])
        .await?;
    assert_eq!(r.open_userid_list.len(), 1);
    assert_eq!(
        r.open_userid_list[0].open_userid,
        open_userid(&corpid, &user)
    );
    assert_eq!(r.invalid_userid_list, vec!["ghost".to_owned()]);

    // And back: the open_userid converts to the userid; a plain userid passed by mistake and an
    // unknown open_userid come back as invalid (page 101521).
    let back = c
        .batch_openuserid_to_userid([
            open_userid(&corpid, &user),
            user.clone(),
            "woUnknown".to_owned(),
        ])
        .source_agentid(1_000_002)
        .await?;
    assert_eq!(back.userid_list.len(), 1);
    assert_eq!(back.userid_list[0].userid, user);
    assert_eq!(
        back.invalid_open_userid_list,
        vec![user.clone(), "woUnknown".to_owned()]
    );
    // 1,001 ids are refused before any request (both pages: at most 1,000).
    let before = w.admin().count("batch_openuserid_to_userid");
    let err = c
        .batch_openuserid_to_userid((0..1001).map(|i| format!("wo{i}")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("open_userid_list"), "{err}");
    assert_eq!(w.admin().count("batch_openuserid_to_userid"), before);

    let state = w.admin().state().clone();
    add_wechat_customer(&state, "union-1", "openid-1", "wmCustomer1");
    add_customer_group(&state, "opengid-1", "wrChat1");
    let ext = c
        .externalcontact_unionid_to_external_userid("union-1")
        .openid("openid-1")
        .await?;
    assert_eq!(ext.external_userid.as_deref(), Some("wmCustomer1"));
    assert_eq!(
        c.externalcontact_opengid_to_chatid("opengid-1")
            .await?
            .chat_id,
        "wrChat1"
    );
    assert_eq!(
        c.externalcontact_convert_to_openid("wmCustomer1")
            .await?
            .openid,
        "openid-1"
    );
    let err = c
        .externalcontact_convert_to_openid("wmNobody")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(40096), "{err}");
    let err = c
        .externalcontact_unionid_to_external_userid("union-1")
        .openid("another-openid")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(40058), "{err}");
    Ok(())
}

#[tokio::test]
async fn legacy_getuserinfo_answers_the_old_shape() -> TestResult {
    let w = wecom_tests::demo().await?;
    let user = some_member(&w);
    let code = w.admin().mint_oauth_code(
        OAuthLogin::Member {
            userid: user.clone(),
            privateinfo: true,
        },
        DEMO_APPROVAL_AGENTID,
    )?;
    let who = w.client.auth().user_getuserinfo(code.as_str()).await?;
    assert_eq!(who.userid.as_deref(), Some(user.as_str()));
    assert!(who.user_ticket.is_some());
    assert_eq!(who.expires_in, Some(1800));
    // The code works once.
    let err = w
        .client
        .auth()
        .user_getuserinfo(code.as_str())
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&err),
        Some(ErrorCode::OAUTH_CODE_USED.code()),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn two_factor_verification_flows() -> TestResult {
    let w = wecom_tests::demo().await?;
    let state = w.admin().state().clone();
    let user = some_member(&w);
    let contact = contact_client(&w)?;

    // The contact-sync secret reads the verification page's code (once).
    let code = mint_tfa_code(&state, &user)?;
    let who = contact.auth().user_getuserinfo(code.as_str()).await?;
    assert_eq!(who.userid.as_deref(), Some(user.as_str()));
    let err = contact
        .auth()
        .auth_get_tfa_info(code.as_str())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(40029), "{err}");

    // An app reads it with auth/get_tfa_info and confirms with user/tfa_succ.
    let code = mint_tfa_code(&state, &user)?;
    let info = w.client.auth().auth_get_tfa_info(code.as_str()).await?;
    assert_eq!(info.userid, user);
    assert!(!format!("{info:?}").contains(info.tfa_code.expose()));
    let err = w
        .client
        .auth()
        .user_tfa_succ("someone-else", info.tfa_code.clone())
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(40058), "{err}");
    w.client
        .auth()
        .user_tfa_succ(user.as_str(), info.tfa_code.clone())
        .await?;
    assert_eq!(tfa_passed(&state), vec![user.clone()]);
    let err = w
        .client
        .auth()
        .user_tfa_succ(user.as_str(), info.tfa_code)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(40058), "used twice: {err}");

    // user/authsucc activates a member who joins for the first time.
    w.admin()
        .with_corp(|c| c.update_member(&user, |m| m.status = 4).map(|_| ()))?;
    contact.auth().user_authsucc(user.as_str()).await?;
    assert_eq!(w.admin().corp().member(&user)?.status, 1);
    let err = w
        .client
        .auth()
        .user_authsucc(user.as_str())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(_)),
        "the contact-sync secret only: {err}"
    );
    Ok(())
}

/// A small AMR file (the magic header and some frames).
fn amr() -> Vec<u8> {
    let mut v = b"#!AMR\n".to_vec();
    v.extend(std::iter::repeat_n(0x3c, 64));
    v
}

#[tokio::test]
async fn hd_voice_and_attachments() -> TestResult {
    let w = wecom_tests::demo().await?;
    let m = w.client.messages();
    let voice = m
        .media_upload(MediaType::Voice, Upload::from_bytes("v.amr", amr()))
        .await?;
    let hd = m.media_get_jssdk(voice.media_id.as_str()).await?;
    assert_eq!(hd.as_ref(), amr().as_slice());
    let image = m
        .media_upload(MediaType::Image, Upload::from_bytes("a.png", png()))
        .await?;
    let err = m
        .media_get_jssdk(image.media_id.as_str())
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&err),
        Some(ErrorCode::INVALID_MEDIA_ID.code()),
        "{err}"
    );

    let up = m
        .media_upload_attachment(
            MediaType::Image,
            AttachmentType::Moment,
            Upload::from_bytes("a.png", png()),
        )
        .await?;
    assert_eq!(up.media_type, MediaType::Image);
    assert!(
        up.created_at
            .as_ref()
            .is_some_and(serde_json::Value::is_number)
    );
    let before = w.admin().count("media_upload_attachment");
    let err = m
        .media_upload_attachment(
            MediaType::File,
            AttachmentType::Moment,
            Upload::from_bytes("a.txt", b"hello world".to_vec()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert_eq!(w.admin().count("media_upload_attachment"), before);
    m.media_upload_attachment(
        MediaType::File,
        AttachmentType::ProductAlbum,
        Upload::from_bytes("a.txt", b"hello world".to_vec()),
    )
    .await?;
    Ok(())
}

fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(std::iter::repeat_n(7u8, 64));
    v
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn upload_by_url_fetches_checks_and_stores() -> TestResult {
    let w = wecom_tests::demo().await?;
    let m = w.client.messages();
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    let source = m
        .media_upload(
            MediaType::File,
            Upload::from_bytes("big.bin", bytes.clone()),
        )
        .await?;
    let url = format!("{}/sandbox/media/{}", w.sandbox.base_url(), source.media_id);

    let job = m
        .media_upload_by_url(MediaType::File, "big.bin", url.as_str(), md5_hex(&bytes))
        .await?
        .jobid;
    let detail = loop {
        let r = m.media_get_upload_by_url_result(job.as_str()).await?;
        if let Some(d) = r.detail {
            assert_eq!(r.status, 2);
            break d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(detail.errcode, 0);
    let media_id = detail.media_id.unwrap_or_default();
    let got = m.media_get(media_id.as_str()).await?;
    assert_eq!(got.as_ref(), bytes.as_slice());

    let job = m
        .media_upload_by_url(MediaType::File, "big.bin", url.as_str(), "0".repeat(32))
        .await?
        .jobid;
    let detail = loop {
        if let Some(d) = m.media_get_upload_by_url_result(job.as_str()).await?.detail {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(detail.errcode, 40058);
    assert!(detail.errmsg.unwrap_or_default().contains("md5"));

    // Only video and file, and a 32-hex md5: refused before any request.
    let err = m
        .media_upload_by_url(MediaType::Image, "a.png", url.as_str(), md5_hex(&bytes))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    Ok(())
}

#[tokio::test]
async fn task_cards_and_statistics() -> TestResult {
    let w = wecom_tests::demo().await?;
    let user = some_member(&w);
    let r = w
        .client
        .messages()
        .message_update_taskcard(
            [user.clone(), "ghost".to_owned()],
            DEMO_APPROVAL_AGENTID,
            "task-1",
            "agree",
        )
        .await?;
    assert_eq!(r.invaliduser, vec!["ghost".to_owned()]);
    let state = w.admin().state().clone();
    assert_eq!(
        taskcard_clicks(&state, "task-1"),
        vec![(user.clone(), "agree".to_owned())]
    );

    let stats = w.client.messages().message_get_statistics().await?;
    assert!(stats.statistics.is_empty());
    w.client
        .messages()
        .message_send(text("hi"), DEMO_APPROVAL_AGENTID)
        .touser([user.clone()])
        .await?;
    let stats = w.client.messages().message_get_statistics().await?;
    assert_eq!(stats.statistics.len(), 1);
    assert_eq!(stats.statistics[0].agentid, DEMO_APPROVAL_AGENTID);
    assert_eq!(stats.statistics[0].count, 1);
    let yesterday = w
        .client
        .messages()
        .message_get_statistics()
        .time_type(1)
        .await?;
    assert!(yesterday.statistics.is_empty());
    Ok(())
}
