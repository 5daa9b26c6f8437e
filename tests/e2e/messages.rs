//! Messages (wecom-messages) through the client against the sandbox: every message type and
//! endpoint, partial-failure receipts, every limit before any I/O, recall, duplicate checks,
//! media round trips, app group chats, group robots, bulk sending, and transient faults.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wecom_core_auth::transport::{
    BoxFuture, HttpRequest, HttpResponse, ReqwestConfig, ReqwestTransport, SendError, Transport,
};
use wecom_core_auth::{Client, Error, LengthUnit, Secret, TransportErrorKind, Upload};
use wecom_messages::bulk::OverLimit;
use wecom_messages::*;
use wecom_sandbox::{Fault, FaultAction};
use wecom_tests::{
    BIG_AGENTID, BIG_SECRET, DEMO_ROBOT_KEY, DEMO_WEEKLY_AGENTID, World, big, demo, fast_retries,
    member_id,
};

type Res = Result<(), Box<dyn std::error::Error>>;

/// The errcode a pre-I/O error cites, or the one WeCom answered.
fn code(e: &Error) -> Option<i64> {
    match e {
        Error::Invalid(i) => i.errcode,
        other => other.errcode(),
    }
}

fn invalid(e: &Error) -> &wecom_core_auth::InvalidInput {
    match e {
        Error::Invalid(i) => i,
        other => panic!("expected an error before I/O, got {other}"),
    }
}

fn png(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend((0..len.saturating_sub(8)).map(|i| (i % 251) as u8));
    v
}

/// Calls that reached the sandbox, besides gettoken.
fn business_calls(w: &World) -> u64 {
    w.admin()
        .counters()
        .iter()
        .filter(|(k, _)| k != "gettoken")
        .map(|(_, n)| n)
        .sum()
}

async fn upload(w: &World, kind: MediaType, name: &str, bytes: Vec<u8>) -> Result<String, Error> {
    Ok(Media::new(&w.client)
        .upload(kind, Upload::from_bytes(name, bytes))
        .await?
        .media_id)
}

fn text_card() -> TextNoticeCard {
    TextNoticeCard::new(CardAction::open_url("https://example.com/t/1"))
        .main_title(
            CardMainTitle::new()
                .title("Ticket #1")
                .desc("assigned to you"),
        )
        .source(
            CardSource::new()
                .desc("Helpdesk")
                .desc_color(CardSourceColor::Green),
        )
        .horizontal_content_list([
            CardHorizontalContent::plain("Owner", "lina"),
            CardHorizontalContent::member("Lead", "王芳", "wangfang"),
        ])
        .jump_list([CardJump::to_url("Open", "https://example.com/t/1")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_type_lands_in_the_inbox() -> Res {
    let w = demo().await?;
    let c = &w.client;
    let image = upload(&w, MediaType::Image, "chart.png", png(2048)).await?;
    let voice = upload(
        &w,
        MediaType::Voice,
        "hello.amr",
        b"#!AMR\n0123456789".to_vec(),
    )
    .await?;
    let video = upload(&w, MediaType::Video, "clip.mp4", vec![7u8; 4096]).await?;
    let file = upload(
        &w,
        MediaType::File,
        "report.pdf",
        b"%PDF-1.7 report".to_vec(),
    )
    .await?;

    let messages = vec![
        Message::text("hello <a href=\"https://example.com\">link</a>"),
        Message::image(&image),
        Message::voice(&voice),
        Message::video(
            VideoMessage::new(&video)
                .title("Demo")
                .description("A short clip"),
        ),
        Message::file(&file),
        Message::new(
            TextCardMessage::new(
                "Leave approved",
                "<div class=\"gray\">2026-11-24</div>",
                "https://example.com/leave/1",
            )
            .btntxt("查看"),
        ),
        Message::news([
            NewsArticle::new("Release 1.0")
                .url("https://example.com/r")
                .picurl("https://example.com/p.png"),
            NewsArticle::new("Mini")
                .appid("wx123")
                .pagepath("pages/index"),
        ]),
        Message::mpnews([MpNewsArticle::new("Handbook", &image, "<p>Welcome</p>")
            .author("HR")
            .digest("Read me")])
        .safe(Safety::InCorpOnly),
        Message::markdown("**bold** `code`"),
        Message::miniprogram_notice(
            MiniprogramNotice::new("wx0123456789abcdef", "会议室预订成功")
                .page("pages/index?x=1")
                .description("请准时参加会议")
                .emphasis_first_item(true)
                .content_item([
                    MiniprogramNoticeItem::new("会议室", "402"),
                    MiniprogramNoticeItem::new("时间", "10:00-11:00"),
                ]),
        ),
        Message::template_card(text_card()),
    ];
    let mut msgids = Vec::new();
    for m in &messages {
        let receipt = m.clone().to(Recipients::user("lina")).send(c).await?;
        assert!(receipt.is_complete(), "{receipt:?}");
        msgids.push(receipt.msgid.clone().ok_or("no msgid")?);
    }
    let inbox = w.admin().inbox("lina");
    let types: Vec<&str> = inbox.iter().map(|m| m.msgtype.as_str()).collect();
    assert_eq!(
        types,
        [
            "text",
            "image",
            "voice",
            "video",
            "file",
            "textcard",
            "news",
            "mpnews",
            "markdown",
            "miniprogram_notice",
            "template_card"
        ]
    );
    let ids: Vec<&str> = inbox.iter().map(|m| m.msgid.as_str()).collect();
    assert_eq!(ids, msgids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        inbox
            .iter()
            .all(|m| m.agentid == wecom_tests::DEMO_APPROVAL_AGENTID && !m.recalled)
    );
    // Bodies arrive as sent.
    assert_eq!(
        inbox[0].message["text"]["content"],
        json!("hello <a href=\"https://example.com\">link</a>")
    );
    assert_eq!(inbox[1].message["image"]["media_id"], json!(image));
    assert_eq!(inbox[3].message["video"]["title"], json!("Demo"));
    assert_eq!(inbox[5].message["textcard"]["btntxt"], json!("查看"));
    assert_eq!(
        inbox[6].message["news"]["articles"][1]["pagepath"],
        json!("pages/index")
    );
    assert_eq!(inbox[7].message["safe"], json!(2));
    assert_eq!(
        inbox[9].message["miniprogram_notice"]["content_item"][1]["value"],
        json!("10:00-11:00")
    );
    let card = &inbox[10].message["template_card"];
    assert_eq!(card["card_type"], json!("text_notice"));
    assert_eq!(
        card["card_action"],
        json!({"type": 1, "url": "https://example.com/t/1"})
    );
    assert_eq!(card["horizontal_content_list"][1]["type"], json!(3));
    assert_eq!(card["source"]["desc_color"], json!(3));
    // Nobody else got anything.
    assert!(w.admin().inbox("wangfang").is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_five_template_cards_and_card_updates() -> Res {
    let w = demo().await?;
    let c = &w.client;
    let news = NewsNoticeCard::new(
        CardMainTitle::new().title("Sales"),
        CardAction::open_miniprogram("wx0123", "pages/a"),
    )
    .card_image(CardImage::new("https://example.com/c.png").aspect_ratio(1.5))
    .vertical_content_list([CardVerticalContent::new("Q3").desc("up 12%")])
    .action_menu(CardActionMenu::new([CardMenuAction::new("Mute", "mute")]))
    .task_id("news-1");
    let buttons = ButtonInteractionCard::new(
        "task-btn_1@x",
        CardMainTitle::new().title("Approve?"),
        [
            CardButton::callback("Yes", "yes"),
            CardButton::callback("No", "no").style(2u32),
        ],
    )
    .button_selection(CardSelection::new(
        "who",
        [CardOption::new("a", "A"), CardOption::new("b", "B")],
    ));
    let vote = VoteInteractionCard::new(
        "task-vote",
        CardMainTitle::new().title("Lunch"),
        CardCheckbox::new(
            "lunch",
            [
                CardCheckboxOption::new("1", "Noodles"),
                CardCheckboxOption::new("2", "Rice").is_checked(true),
            ],
        )
        .mode(CheckboxMode::Multiple),
        CardSubmitButton::new("Vote", "submit"),
    );
    let multi = MultipleInteractionCard::new(
        "task-multi",
        CardMainTitle::new().title("Survey"),
        [
            CardSelection::new("q1", [CardOption::new("y", "Yes")]),
            CardSelection::new("q2", [CardOption::new("n", "No")]),
        ],
        CardSubmitButton::new("Send", "send"),
    );
    let notice = c_send(c, Message::template_card(news)).await?;
    assert!(
        notice.response_code.is_none(),
        "notice cards are not interactive"
    );
    let mut codes = Vec::new();
    for card in [
        TemplateCard::from(buttons.clone()),
        TemplateCard::from(vote),
        TemplateCard::from(multi),
    ] {
        let r = c_send(c, Message::template_card(card)).await?;
        codes.push((
            r.msgid.clone().ok_or("msgid")?,
            r.response_code
                .clone()
                .ok_or("interactive cards answer a response_code")?,
        ));
    }
    let kinds: Vec<Value> = w
        .admin()
        .inbox("lina")
        .iter()
        .map(|m| m.message["template_card"]["card_type"].clone())
        .collect();
    assert_eq!(
        kinds,
        [
            json!("news_notice"),
            json!("button_interaction"),
            json!("vote_interaction"),
            json!("multiple_interaction")
        ]
    );

    // Replace the buttons with a label, for everyone; the code is single-use.
    let (msgid, code0) = &codes[0];
    let update = CardUpdate::replace_buttons(code0.clone(), "已处理").for_everyone();
    assert!(update.clone().send(c).await?.is_empty());
    let again = update.send(c).await.err().ok_or("second use must fail")?;
    assert_eq!(code(&again), Some(60140));
    // Replace a whole card for one member; an unknown member is reported (through the raw
    // generated endpoint, which needs the agentid spelled out).
    let (_, code1) = &codes[1];
    let agentid = c.agentid().ok_or("agentid")?;
    let replace = |agentid: u32| {
        c.messages()
            .message_update_template_card(agentid, code1.clone())
            .userids(["lina", "zhouqiang"])
            .template_card(TemplateCard::from(text_card()))
    };
    let answer = replace(agentid).await?;
    assert_eq!(answer.invaliduser, ["zhouqiang"]);
    // Another app may not update it.
    let err = replace(DEMO_WEEKLY_AGENTID)
        .await
        .err()
        .ok_or("other app")?;
    assert_eq!(code(&err), Some(301002));
    let updates = wecom_sandbox::areas::messages::card_updates(w.admin().state());
    assert_eq!(updates.len(), 2);
    assert_eq!(&updates[0].msgid, msgid);
    assert_eq!(updates[0].userids, ["lina"]);
    assert_eq!(
        updates[0].update,
        json!({"button": {"replace_name": "已处理"}})
    );
    assert_eq!(
        updates[1].update["template_card"]["card_type"],
        json!("text_notice")
    );

    // A response_code is valid 72 hours (doc 94945), not 24: still usable after two days...
    let (_, code2) = &codes[2];
    w.admin().advance_time(48 * 3600);
    c.messages()
        .message_update_template_card(agentid, code2.clone())
        .userids(["lina"])
        .template_card(TemplateCard::from(text_card()))
        .await?;
    // ... and refused after 72 hours.
    let late = c_send(c, Message::template_card(TemplateCard::from(buttons))).await?;
    let late_code = late.response_code.ok_or("response_code")?;
    w.admin().advance_time(72 * 3600 + 1);
    let err = CardUpdate::replace_buttons(late_code, "done")
        .for_everyone()
        .send(c)
        .await
        .err()
        .ok_or("a code older than 72 hours was accepted")?;
    assert_eq!(code(&err), Some(60140));
    Ok(())
}

async fn c_send(c: &Client, m: Message) -> Result<Receipt, Error> {
    m.to(Recipients::user("lina")).send(c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_failure_receipts_and_scope() -> Res {
    let w = demo().await?;
    // 研发周报 sees 研发部 (2, 4, 5), the 经理 tag's members and chenjing.
    let weekly = w.client.agent(DEMO_WEEKLY_AGENTID)?;
    let receipt = Message::text("weekly report due")
        .to(Recipients::users(["lina", "huangli", "nobody"])
            .with_departments([4, 3, 999])
            .with_tags([1, 2]))
        .send(&weekly)
        .await?;
    assert_eq!(receipt.invalid_users, ["huangli", "nobody"]);
    assert_eq!(receipt.invalid_departments, [3, 999]);
    assert_eq!(receipt.invalid_tags, [2]);
    assert!(!receipt.is_complete());
    let msgid = receipt.msgid.clone().ok_or("msgid")?;
    // lina directly, liuyang via 前端组, zhangwei/wangfang/wuxia via the 经理 tag.
    for who in ["lina", "liuyang", "zhangwei", "wangfang", "wuxia"] {
        let inbox = w.admin().inbox(who);
        assert_eq!(inbox.len(), 1, "{who}");
        assert_eq!(inbox[0].msgid, msgid);
        assert_eq!(inbox[0].agentid, DEMO_WEEKLY_AGENTID);
    }
    for who in ["huangli", "zhouqiang", "chenjing", "yangming"] {
        assert!(w.admin().inbox(who).is_empty(), "{who}");
    }
    // Everything invalid: 81013, nothing delivered.
    let err = Message::text("x")
        .to(Recipients::users(["huangli"]).with_departments([3]))
        .send(&weekly)
        .await
        .err()
        .ok_or("must fail")?;
    assert_eq!(code(&err), Some(81013));
    assert!(w.admin().inbox("huangli").is_empty());
    // The agentid in the body must be the token's app.
    let err = Message::text("x")
        .to(Recipients::user("lina"))
        .agentid(4242)
        .send(&w.client)
        .await
        .err()
        .ok_or("unknown app")?;
    assert!(matches!(err, Error::Config(_)), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_and_departments_expand() -> Res {
    let w = demo().await?;
    let r = Message::markdown("all hands at 3pm")
        .to(Recipients::everyone())
        .send(&w.client)
        .await?;
    assert!(r.is_complete());
    let corp = w.admin().corp();
    let mut n = 0;
    for m in corp.members() {
        let inbox = w.admin().inbox(&m.userid);
        assert_eq!(inbox.len(), 1, "{}", m.userid);
        n += 1;
    }
    assert_eq!(n, 10);
    // @all from the narrower app reaches its scope only.
    w.admin().clear_inboxes();
    Message::text("R&D only")
        .to(Recipients::everyone())
        .send(&w.client.agent(DEMO_WEEKLY_AGENTID)?)
        .await?;
    assert_eq!(w.admin().inbox("yangming").len(), 1);
    assert!(w.admin().inbox("huangli").is_empty());
    // Department 2 reaches its subtree (前端组, 后端组), each member once.
    w.admin().clear_inboxes();
    Message::text("R&D")
        .to(Recipients::departments([2, 4]))
        .send(&w.client)
        .await?;
    for who in ["wangfang", "lina", "liuyang", "yangming", "zhaolei"] {
        assert_eq!(w.admin().inbox(who).len(), 1, "{who}");
    }
    assert!(w.admin().inbox("chenjing").is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_fails_before_any_io() -> Res {
    let w = demo().await?;
    let c = &w.client;
    let to = || Recipients::user("lina");
    let cases: Vec<(&str, Message, Recipients, i64, &str)> = vec![
        (
            "markdown over 2048 bytes",
            Message::markdown("a".repeat(2049)),
            to(),
            45002,
            "markdown.content",
        ),
        ("empty text", Message::text(""), to(), 45002, "text.content"),
        (
            "1001 members",
            Message::text("hi"),
            Recipients::users((0..1001).map(|i| format!("u{i}"))),
            40032,
            "touser",
        ),
        (
            "101 departments",
            Message::text("hi"),
            Recipients::departments(1..=101),
            82002,
            "toparty",
        ),
        (
            "101 tags",
            Message::text("hi"),
            Recipients::tags(1..=101),
            82003,
            "totag",
        ),
        (
            "no recipient",
            Message::text("hi"),
            Recipients::new(),
            82001,
            "touser",
        ),
        (
            "a `|` in a userid",
            Message::text("hi"),
            Recipients::user("a|b"),
            40031,
            "touser",
        ),
        (
            "@all mixed with userids",
            Message::text("hi"),
            Recipients::users(["@all", "lina"]),
            40031,
            "touser",
        ),
        (
            "9 articles",
            Message::news((0..9).map(|i| NewsArticle::new(format!("a{i}")).url("https://e.com"))),
            to(),
            45008,
            "news.articles",
        ),
        (
            "0 articles",
            Message::news([]),
            to(),
            45008,
            "news.articles",
        ),
        (
            "9 mpnews articles",
            Message::mpnews((0..9).map(|i| MpNewsArticle::new(format!("a{i}"), "m", "c"))),
            to(),
            45008,
            "mpnews.articles",
        ),
        (
            "article without a link",
            Message::news([NewsArticle::new("t")]),
            to(),
            41010,
            "news.articles[0]",
        ),
        (
            "url without a scheme",
            Message::textcard("t", "d", "example.com"),
            to(),
            45034,
            "textcard.url",
        ),
        (
            "mpnews author over 64 bytes",
            Message::mpnews([MpNewsArticle::new("t", "m", "c").author("a".repeat(65))]),
            to(),
            45032,
            "mpnews.articles[0].author",
        ),
        (
            "mini-program title of 3 chars",
            Message::miniprogram_notice(MiniprogramNotice::new("wx1", "会议室")),
            to(),
            45002,
            "miniprogram_notice.title",
        ),
        (
            "11 mini-program items",
            Message::miniprogram_notice(
                MiniprogramNotice::new("wx1", "会议室预订").content_item(
                    (0..11).map(|i| MiniprogramNoticeItem::new(format!("k{i}"), "v")),
                ),
            ),
            to(),
            90201,
            "miniprogram_notice.content_item",
        ),
        (
            "task_id with a space",
            Message::template_card(ButtonInteractionCard::new(
                "bad id",
                CardMainTitle::new().title("t"),
                [CardButton::callback("a", "a")],
            )),
            to(),
            42014,
            "template_card.task_id",
        ),
        (
            "7 buttons",
            Message::template_card(ButtonInteractionCard::new(
                "t1",
                CardMainTitle::new().title("t"),
                (0..7).map(|i| CardButton::callback("b", format!("k{i}"))),
            )),
            to(),
            40058,
            "template_card.button_list",
        ),
        (
            "duplicate button keys",
            Message::template_card(ButtonInteractionCard::new(
                "t1",
                CardMainTitle::new().title("t"),
                [
                    CardButton::callback("a", "k"),
                    CardButton::callback("b", "k"),
                ],
            )),
            to(),
            42018,
            "template_card.button_list[1].key",
        ),
        (
            "callback button without key",
            Message::template_card(ButtonInteractionCard::new(
                "t1",
                CardMainTitle::new().title("t"),
                [CardButton::new("a")],
            )),
            to(),
            42019,
            "template_card.button_list[0].key",
        ),
        (
            "text_notice action without url",
            Message::template_card(
                TextNoticeCard::new(CardAction::new(CardLinkType::Url)).sub_title_text("x"),
            ),
            to(),
            42028,
            "template_card.card_action.url",
        ),
        (
            "text_notice action of type 0",
            Message::template_card(
                TextNoticeCard::new(CardAction::new(CardLinkType::None)).sub_title_text("x"),
            ),
            to(),
            42028,
            "template_card.card_action.type",
        ),
        (
            "text_notice without title",
            Message::template_card(TextNoticeCard::new(CardAction::open_url("https://e.com"))),
            to(),
            40058,
            "template_card",
        ),
        (
            "action_menu without task_id",
            Message::template_card(
                text_card().action_menu(CardActionMenu::new([CardMenuAction::new("a", "b")])),
            ),
            to(),
            42014,
            "template_card.task_id",
        ),
        (
            "news_notice without image",
            Message::template_card(NewsNoticeCard::new(
                CardMainTitle::new().title("t"),
                CardAction::open_url("https://e.com"),
            )),
            to(),
            42044,
            "template_card",
        ),
        (
            "aspect ratio 3",
            Message::template_card(
                NewsNoticeCard::new(
                    CardMainTitle::new().title("t"),
                    CardAction::open_url("https://e.com"),
                )
                .card_image(CardImage::new("https://e.com/a.png").aspect_ratio(3.0)),
            ),
            to(),
            40058,
            "template_card.card_image.aspect_ratio",
        ),
        (
            "21 vote options",
            Message::template_card(VoteInteractionCard::new(
                "t",
                CardMainTitle::new().title("t"),
                CardCheckbox::new(
                    "q",
                    (0..21).map(|i| CardCheckboxOption::new(format!("{i}"), "x")),
                ),
                CardSubmitButton::new("s", "s"),
            )),
            to(),
            40058,
            "template_card.checkbox.option_list",
        ),
        (
            "4 selectors",
            Message::template_card(MultipleInteractionCard::new(
                "t",
                CardMainTitle::new().title("t"),
                (0..4).map(|i| CardSelection::new(format!("q{i}"), [CardOption::new("a", "b")])),
                CardSubmitButton::new("s", "s"),
            )),
            to(),
            40058,
            "template_card.select_list",
        ),
        (
            "confidential news",
            Message::news([NewsArticle::new("t").url("https://e.com")]).safe(Safety::Confidential),
            to(),
            40074,
            "safe",
        ),
    ];
    for (what, message, recipients, errcode, field) in cases {
        let err = message
            .to(recipients)
            .send(c)
            .await
            .err()
            .ok_or_else(|| format!("{what}: accepted"))?;
        let i = invalid(&err);
        assert_eq!(i.errcode, Some(errcode), "{what}: {err}");
        assert!(
            i.field.starts_with(field),
            "{what}: field `{}` (expected `{field}`): {err}",
            i.field
        );
        assert!(
            err.to_string().contains(&i.field),
            "{what}: the message names the field: {err}"
        );
    }

    // Media: size and type limits before the upload starts.
    let dir = tempfile::tempdir()?;
    let big_file = dir.path().join("big.zip");
    std::fs::File::create(&big_file)?.set_len(21 * 1024 * 1024)?; // sparse: no 21 MB written
    let media = Media::new(c);
    let err = media
        .upload_path(MediaType::File, &big_file)
        .await
        .err()
        .ok_or("21 MB accepted")?;
    let err = err.as_wecom().ok_or("a WeCom error")?;
    assert_eq!(code(err), Some(45001), "{err}");
    assert!(
        err.to_string().contains("21 MB") && err.to_string().contains("20 MB"),
        "{err}"
    );
    for (kind, name, len, errcode) in [
        (MediaType::File, "tiny.txt", 5usize, 40006),
        (MediaType::Image, "big.png", 10 * 1024 * 1024 + 1, 45001),
        (MediaType::Voice, "long.amr", 2 * 1024 * 1024 + 1, 45001),
        (MediaType::Video, "big.mp4", 10 * 1024 * 1024 + 1, 45001),
        (MediaType::Image, "photo.gif", 100, 40004),
        (MediaType::Voice, "song.mp3", 100, 40004),
        (MediaType::Video, "clip.avi", 100, 40004),
    ] {
        let err = media
            .upload(kind.clone(), Upload::from_bytes(name, vec![1u8; len]))
            .await
            .err()
            .ok_or("accepted")?;
        assert_eq!(code(&err), Some(errcode), "{kind} {name}: {err}");
    }
    let err = media
        .upload_image(Upload::from_bytes("a.png", png(2 * 1024 * 1024 + 1)))
        .await
        .err()
        .ok_or("accepted")?;
    assert_eq!(code(&err), Some(45001));
    // Robots: markdown over 4096 bytes, image over 2 MB, 9 articles.
    let robot_client = w.client.robot(Secret::new(DEMO_ROBOT_KEY.to_owned()));
    let robot = Robot::new(&robot_client);
    for (what, m, errcode) in [
        // 40058, as the live server answers (see spec/messages.toml RobotMarkdown).
        ("markdown", RobotMessage::markdown("a".repeat(4097)), 40058),
        (
            "image",
            RobotMessage::image(&png(2 * 1024 * 1024 + 10)),
            40009,
        ),
        (
            "news",
            RobotMessage::news((0..9).map(|i| RobotArticle::new(format!("{i}"), "https://e.com"))),
            45008,
        ),
        ("text", RobotMessage::text("a".repeat(2049)), 45002),
    ] {
        let err = robot.send(m).await.err().ok_or(what)?;
        assert_eq!(code(&err), Some(errcode), "{what}: {err}");
    }
    let err = robot
        .upload(
            MediaType::Voice,
            Upload::from_bytes("a.amr", vec![0u8; 2 * 1024 * 1024 + 1]),
        )
        .await
        .err()
        .ok_or("voice")?;
    assert_eq!(code(&err), Some(45001));

    // None of it reached the sandbox, not even for a token.
    assert_eq!(business_calls(&w), 0, "{:?}", w.admin().counters());
    assert_eq!(w.admin().count("gettoken"), 0);
    Ok(())
}

/// The rules the spec cannot state (`rules::check_send`, `media::check_upload`, ...) are named by
/// the spec, so the generated `validate()` runs them: the builders, the generated call and
/// `Client::execute` refuse exactly the same inputs, with the same error, before any I/O.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_written_rules_refuse_the_same_on_every_path() -> Res {
    let w = demo().await?;
    let c = &w.client;
    let agentid = c.agentid().ok_or("agentid")?;
    let news = || Message::news([NewsArticle::new("t").url("https://e.com")]);
    let cases: Vec<(&str, Message, Recipients, i64)> = vec![
        (
            "@all mixed with userids",
            Message::text("hi"),
            Recipients::users(["@all", "lina"]),
            40031,
        ),
        (
            "confidential news",
            news().safe(Safety::Confidential),
            Recipients::user("lina"),
            40074,
        ),
        (
            "in-corp sharing for a text",
            Message::text("hi").safe(Safety::InCorpOnly),
            Recipients::user("lina"),
            40058,
        ),
    ];
    for (what, message, recipients, errcode) in cases {
        let request = message.request(&recipients, agentid);
        let mut call = c
            .messages()
            .message_send(request.content.clone(), request.agentid)
            .touser(request.touser.clone())
            .toparty(request.toparty.clone())
            .totag(request.totag.clone());
        if let Some(safe) = request.safe {
            call = call.safe(safe);
        }
        let generated = call
            .await
            .err()
            .ok_or_else(|| format!("{what}: generated call accepted"))?;
        let raw = c
            .execute(request)
            .await
            .err()
            .ok_or_else(|| format!("{what}: execute accepted"))?;
        let built = message
            .to(recipients)
            .send(c)
            .await
            .err()
            .ok_or_else(|| format!("{what}: builder accepted"))?;
        assert_eq!(
            invalid(&generated).errcode,
            Some(errcode),
            "{what}: {generated}"
        );
        assert_eq!(invalid(&generated), invalid(&built), "{what}");
        assert_eq!(invalid(&generated), invalid(&raw), "{what}");
    }

    // Media: `Media::upload` and the generated `media_upload` apply the same file limits.
    for (kind, name, len, errcode) in [
        (MediaType::Image, "photo.gif", 100, 40004),
        (MediaType::File, "tiny.txt", 5usize, 40006),
    ] {
        let file = || Upload::from_bytes(name, vec![1u8; len]);
        let built = Media::new(c)
            .upload(kind.clone(), file())
            .await
            .err()
            .ok_or("builder accepted")?;
        let generated = c
            .messages()
            .media_upload(kind.clone(), file())
            .await
            .err()
            .ok_or("generated call accepted")?;
        assert_eq!(
            invalid(&generated).errcode,
            Some(errcode),
            "{name}: {generated}"
        );
        assert_eq!(invalid(&generated), invalid(&built), "{name}");
    }
    let image = || Upload::from_bytes("a.png", png(2 * 1024 * 1024 + 1));
    let built = Media::new(c)
        .upload_image(image())
        .await
        .err()
        .ok_or("image")?;
    let generated = c
        .messages()
        .media_uploadimg(image())
        .await
        .err()
        .ok_or("image")?;
    assert_eq!(invalid(&generated), invalid(&built));

    // Robots: `Robot::upload` and the generated `webhook_upload_media`.
    let robot_client = w.client.robot(Secret::new(DEMO_ROBOT_KEY.to_owned()));
    let voice = || Upload::from_bytes("a.amr", vec![0u8; 2 * 1024 * 1024 + 1]);
    let built = Robot::new(&robot_client)
        .upload(MediaType::Voice, voice())
        .await
        .err()
        .ok_or("voice")?;
    let generated = robot_client
        .messages()
        .webhook_upload_media(MediaType::Voice, voice())
        .await
        .err()
        .ok_or("voice")?;
    assert_eq!(invalid(&generated).errcode, Some(45001), "{generated}");
    assert_eq!(invalid(&generated), invalid(&built));

    // None of it reached the sandbox.
    assert_eq!(business_calls(&w), 0, "{:?}", w.admin().counters());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_answers_the_spec_errcodes_too() -> Res {
    // The same limits, sent raw past the client's checks: the sandbox validates with the same
    // generated code and answers WeCom's errcodes.
    let w = demo().await?;
    let http = reqwest_client()?;
    let token = w.client.access_token().await?;
    let url = format!(
        "{}/cgi-bin/message/send?access_token={}",
        w.sandbox.base_url(),
        token.expose()
    );
    let cases = [
        (
            json!({"touser": "lina", "msgtype": "markdown", "agentid": 1000002, "markdown": {"content": "a".repeat(2049)}}),
            45002,
        ),
        (
            json!({"msgtype": "text", "agentid": 1000002, "text": {"content": "hi"}}),
            82001,
        ),
        (
            json!({"touser": "lina", "msgtype": "video2", "agentid": 1000002, "video2": {}}),
            40008,
        ),
        (
            json!({"touser": "lina", "msgtype": "news", "agentid": 1000002, "news": {"articles": (0..9).map(|_| json!({"title": "t", "url": "https://e.com"})).collect::<Vec<_>>()}}),
            45008,
        ),
        (
            json!({"touser": "lina", "msgtype": "text", "agentid": 1000003, "text": {"content": "hi"}}),
            301002,
        ),
    ];
    for (body, errcode) in cases {
        let raw = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?
            .bytes()
            .await?;
        let answer: Value = serde_json::from_slice(&raw)?;
        assert_eq!(answer["errcode"], json!(errcode), "{body}: {answer}");
    }
    assert!(w.admin().inbox("lina").is_empty());
    Ok(())
}

#[tokio::test]
async fn over_long_fields_are_cut_as_wecom_would() -> Res {
    let w = demo().await?;
    let c = &w.client;
    // Text over 2048 bytes: cut on a character boundary (2046 bytes: 682 three-byte characters),
    // delivered, and the receipt says what was cut.
    let r = Message::text("字".repeat(700))
        .to(Recipients::user("lina"))
        .send(c)
        .await?;
    assert_eq!(r.truncated.len(), 1, "{r:?}");
    let t = &r.truncated[0];
    assert_eq!(
        (t.field.as_str(), t.length, t.limit, t.unit),
        ("text.content", 2100, 2048, LengthUnit::Bytes)
    );
    let inbox = w.admin().inbox("lina");
    assert_eq!(inbox[0].message["text"]["content"], json!("字".repeat(682)));

    // Textcard titles count characters: 43 Chinese characters (129 bytes) pass whole; 130
    // characters are cut to 128.
    let r = Message::textcard("单".repeat(43), "d", "https://example.com")
        .to(Recipients::user("lina"))
        .send(c)
        .await?;
    assert!(r.truncated.is_empty(), "{r:?}");
    let r = Message::textcard("长".repeat(130), "d", "https://example.com")
        .to(Recipients::user("lina"))
        .send(c)
        .await?;
    assert_eq!(r.truncated[0].field, "textcard.title");
    let inbox = w.admin().inbox("lina");
    assert_eq!(
        inbox[1].message["textcard"]["title"],
        json!("单".repeat(43))
    );
    assert_eq!(
        inbox[2].message["textcard"]["title"],
        json!("长".repeat(128))
    );

    // A strict client refuses instead, before any request.
    let creds = w.sandbox.credentials();
    let strict = Client::builder(creds.corpid.clone())
        .base_url(w.sandbox.base_url())
        .app(
            wecom_tests::DEMO_APPROVAL_AGENTID,
            Secret::new(wecom_tests::DEMO_APPROVAL_SECRET.to_owned()),
        )
        .strict_lengths(true)
        .build()?;
    let e = Message::text("x".repeat(2049))
        .to(Recipients::user("wangfang"))
        .send(&strict)
        .await
        .unwrap_err();
    let Error::Invalid(i) = &e else {
        panic!("expected a refusal before any request, got {e:?}")
    };
    assert_eq!(i.field, "text.content");
    assert!(
        e.to_string().contains("2049 bytes") && e.to_string().contains("strict"),
        "{e}"
    );
    assert!(w.admin().inbox("wangfang").is_empty());

    // Sent raw past the client, the sandbox cuts too (WeCom delivers the rest).
    let http = reqwest_client()?;
    let token = w.client.access_token().await?;
    let raw = http
        .post(format!(
            "{}/cgi-bin/message/send?access_token={}",
            w.sandbox.base_url(),
            token.expose()
        ))
        .header("content-type", "application/json")
        .body(json!({"touser": "wangfang", "msgtype": "text", "agentid": 1000002, "text": {"content": "a".repeat(3000)}}).to_string())
        .send()
        .await?
        .bytes()
        .await?;
    let raw: Value = serde_json::from_slice(&raw)?;
    assert_eq!(raw["errcode"], json!(0), "{raw}");
    let inbox = w.admin().inbox("wangfang");
    assert_eq!(inbox[0].message["text"]["content"], json!("a".repeat(2048)));

    // News mini-program links need appid and pagepath together; pagepath at most 128 bytes.
    for (article, field) in [
        (NewsArticle::new("t").appid("wx123"), "pagepath"),
        (
            NewsArticle::new("t")
                .url("https://e.com")
                .pagepath("pages/a"),
            "appid",
        ),
        (
            NewsArticle::new("t")
                .appid("wx123")
                .pagepath("p".repeat(129)),
            "pagepath",
        ),
    ] {
        let e = Message::news([article])
            .to(Recipients::user("lina"))
            .send(c)
            .await
            .unwrap_err();
        let Error::Invalid(i) = &e else {
            panic!("expected a refusal before any request, got {e:?}")
        };
        assert!(i.field.ends_with(field), "{e}");
    }
    Ok(())
}

fn reqwest_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder().no_proxy().build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_removes_and_expires_after_a_day() -> Res {
    let w = demo().await?;
    let r = Message::text("oops")
        .to(Recipients::users(["lina", "liuyang"]))
        .send(&w.client)
        .await?;
    r.recall(&w.client).await?;
    for who in ["lina", "liuyang"] {
        let inbox = w.admin().inbox(who);
        assert!(inbox[0].recalled, "{who}");
    }
    // Another app may not recall it.
    let r2 = Message::text("mine")
        .to(Recipients::user("lina"))
        .send(&w.client)
        .await?;
    let weekly = w.client.agent(DEMO_WEEKLY_AGENTID)?;
    let err = r2.recall(&weekly).await.err().ok_or("other app recalled")?;
    assert_eq!(code(&err), Some(301002));
    // After 24 hours: 42052, and the message stays.
    w.admin().advance_time(24 * 3600 + 1);
    let err = r2
        .recall(&w.client)
        .await
        .err()
        .ok_or("late recall accepted")?;
    assert_eq!(code(&err), Some(42052), "{err}");
    assert!(!w.admin().inbox("lina")[1].recalled);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_check_suppresses_identical_sends() -> Res {
    let w = demo().await?;
    let m = Message::text("standup in 5")
        .to(Recipients::user("lina"))
        .duplicate_check(Duration::from_secs(600));
    let a = m.send(&w.client).await?;
    let b = m.send(&w.client).await?;
    assert_eq!(
        a.msgid, b.msgid,
        "the duplicate is answered like the original"
    );
    assert_eq!(w.admin().inbox("lina").len(), 1);
    // A different text is another message; after the window the same text is new again.
    Message::text("standup in 4")
        .to(Recipients::user("lina"))
        .duplicate_check(Duration::from_secs(600))
        .send(&w.client)
        .await?;
    assert_eq!(w.admin().inbox("lina").len(), 2);
    w.admin().advance_time(601);
    let c = m.send(&w.client).await?;
    assert_ne!(c.msgid, a.msgid);
    assert_eq!(w.admin().inbox("lina").len(), 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliberate_repeats_need_no_duplicate_check() -> Res {
    // With retries on, the client sends every message/send with WeCom's duplicate check, so an
    // identical repeat inside the window is answered but not delivered...
    let w = demo().await?;
    let m = Message::text("build failed").to(Recipients::user("lina"));
    let a = m.send(&w.client).await?;
    let b = m.send(&w.client).await?;
    assert_eq!(a.msgid, b.msgid);
    assert_eq!(w.admin().inbox("lina").len(), 1);
    // ...unless the check is switched off for that send.
    let c = m.clone().no_duplicate_check().send(&w.client).await?;
    assert_ne!(c.msgid, a.msgid);
    assert_eq!(w.admin().inbox("lina").len(), 2);
    // Without retries the client leaves the check off: repeats are delivered.
    let plain = wecom_tests::client_for(
        &w.sandbox,
        &[(
            wecom_tests::DEMO_APPROVAL_AGENTID,
            wecom_tests::DEMO_APPROVAL_SECRET,
        )],
        wecom_core_auth::RetryPolicy::none(),
    )?;
    m.send(&plain).await?;
    m.send(&plain).await?;
    assert_eq!(w.admin().inbox("lina").len(), 4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_round_trips_byte_for_byte_with_ranges() -> Res {
    let w = demo().await?;
    let dir = tempfile::tempdir()?;
    // 9.5 MB of varied bytes, streamed from disk, downloaded in 1 MiB ranges and whole.
    let data: Vec<u8> = (0..9_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let src = dir.path().join("data.bin");
    std::fs::write(&src, &data)?;
    let media = Media::new(&w.client);
    let up = media.upload_path(MediaType::File, &src).await?;
    assert_eq!(up.media_type, MediaType::File);
    assert!(up.created_at.parse::<i64>().is_ok());
    let out = dir.path().join("copy.bin");
    let n = media
        .chunk_size(1024 * 1024)
        .download_to_path(&up.media_id, &out)
        .await?;
    assert_eq!(n, data.len() as u64);
    assert!(std::fs::read(&out)? == data, "ranged download differs");
    let mut whole = Vec::new();
    let n = Media::new(&w.client)
        .download(&up.media_id, &mut whole)
        .await?;
    assert_eq!(n as usize, data.len());
    assert!(whole == data);
    // A size that is an exact multiple of the range.
    let exact = Media::new(&w.client)
        .upload(
            MediaType::File,
            Upload::from_bytes("e.bin", vec![9u8; 4096]),
        )
        .await?;
    let mut buf = Vec::new();
    assert_eq!(
        Media::new(&w.client)
            .chunk_size(1024)
            .download(&exact.media_id, &mut buf)
            .await?,
        4096
    );
    assert_eq!(buf, vec![9u8; 4096]);
    // One range.
    let part = media.download_range(&up.media_id, 100..=199).await?;
    assert_eq!(&part[..], &data[100..200]);
    // From a reader without a length: streamed with the limit enforced on the way.
    let reader = tokio::fs::File::open(&src).await?;
    let up2 = media
        .upload_reader(MediaType::File, "r.bin", reader, None)
        .await?;
    let mut again = Vec::new();
    media.download(&up2.media_id, &mut again).await?;
    assert!(again == data);
    // An unknown media_id is a JSON error in place of the bytes.
    let err = media
        .download_range("nope", 0..=10)
        .await
        .err()
        .ok_or("unknown media")?;
    assert_eq!(code(&err), Some(40007), "{err}");
    // uploadimg answers a URL that serves the same bytes.
    let img = png(5000);
    let url = media
        .upload_image(Upload::from_bytes("logo.png", img.clone()))
        .await?;
    let served = reqwest_client()?.get(&url).send().await?.bytes().await?;
    assert_eq!(&served[..], &img[..]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_group_chats() -> Res {
    let w = demo().await?;
    let m = w.client.messages();
    let created = m
        .appchat_create(["lina", "liuyang", "wangfang"])
        .name("前端周会")
        .owner("lina")
        .chatid("fe2026")
        .await?;
    assert_eq!(created.chatid, "fe2026");
    let again = m
        .appchat_create(["lina", "liuyang"])
        .chatid("fe2026")
        .await
        .err()
        .ok_or("duplicate chatid")?;
    assert_eq!(code(&again), Some(86215));
    let bad = m
        .appchat_create(["lina", "ghost"])
        .await
        .err()
        .ok_or("unknown member")?;
    assert_eq!(code(&bad), Some(86216));
    let one = m.appchat_create(["lina"]).await.err().ok_or("one member")?;
    assert_eq!(code(&one), Some(86216));
    assert!(
        matches!(one, Error::Invalid(_)),
        "2..2000 members is checked before sending"
    );
    let generated = m.appchat_create(["lina", "liuyang"]).await?;
    assert!(!generated.chatid.is_empty());

    m.appchat_update("fe2026")
        .name("前端例会")
        .add_user_list(["yangming"])
        .del_user_list(["wangfang"])
        .owner("liuyang")
        .await?;
    let info = m.appchat_get("fe2026").await?.chat_info;
    assert_eq!(info.name.as_deref(), Some("前端例会"));
    assert_eq!(info.owner.as_deref(), Some("liuyang"));
    assert_eq!(info.userlist, ["lina", "liuyang", "yangming"]);
    let missing = m.appchat_get("nochat").await.err().ok_or("unknown chat")?;
    assert_eq!(code(&missing), Some(86003));

    m.appchat_send(
        "fe2026",
        AppChatContent::from(AppChatText::new("周会改到周四")),
    )
    .await?;
    m.appchat_send(
        "fe2026",
        AppChatContent::from(MarkdownMessage::new("**议程**")),
    )
    .safe(Safety::Confidential)
    .await?;
    let log = wecom_sandbox::areas::messages::chat_messages(w.admin().state(), "fe2026");
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].message,
        json!({"msgtype": "text", "text": {"content": "周会改到周四"}})
    );
    assert_eq!(log[1].message["safe"], json!(1));
    // The narrower app may not run group chats (its scope is not the whole corp).
    let weekly = w.client.agent(DEMO_WEEKLY_AGENTID)?;
    let err = weekly
        .messages()
        .appchat_create(["lina", "liuyang"])
        .await
        .err()
        .ok_or("scope")?;
    assert_eq!(code(&err), Some(60011));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_robots() -> Res {
    let w = demo().await?;
    let robot_client = w.client.robot(Secret::new(DEMO_ROBOT_KEY.to_owned()));
    let robot = Robot::new(&robot_client);
    let file = robot
        .upload(
            MediaType::File,
            Upload::from_bytes("notes.txt", b"meeting notes".to_vec()),
        )
        .await?;
    let voice = robot
        .upload(
            MediaType::Voice,
            Upload::from_bytes("v.amr", b"#!AMR\n1234".to_vec()),
        )
        .await?;
    let image = png(3000);
    let card = TextNoticeCard::new(CardAction::open_url("https://example.com"))
        .main_title(CardMainTitle::new().title("Build #12 green"));
    let messages = [
        RobotMessage::from(
            RobotText::new("deploy done <@lina>")
                .mentioned_list(["lina", "@all"])
                .mentioned_mobile_list(["13800000003"]),
        ),
        RobotMessage::markdown("# Done\n> in 3 min"),
        RobotMessage::markdown_v2("| step | time |\n| :- | -: |\n| build | 3 min |"),
        RobotMessage::image(&image),
        RobotMessage::news([RobotArticle::new("Changelog", "https://example.com/c")
            .description("v1.2")
            .picurl("https://example.com/p.png")]),
        RobotMessage::file(&file.media_id),
        RobotMessage::voice(&voice.media_id),
        RobotMessage::template_card(RobotCard::from(card)),
    ];
    for m in messages {
        robot.send(m).await?;
    }
    let posted = w.admin().robot_messages();
    let types: Vec<&str> = posted
        .iter()
        .filter_map(|p| p.message["msgtype"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "text",
            "markdown",
            "markdown_v2",
            "image",
            "news",
            "file",
            "voice",
            "template_card"
        ]
    );
    assert!(posted.iter().all(|p| p.chat == "研发群"));
    assert_eq!(
        posted[0].message["text"]["mentioned_list"],
        json!(["lina", "@all"])
    );
    assert_eq!(
        posted[3].message["image"]["md5"].as_str().map(str::len),
        Some(32)
    );
    assert_eq!(
        posted[7].message["template_card"]["card_type"],
        json!("text_notice")
    );
    // The uploaded file round-trips.
    let mut bytes = Vec::new();
    Media::new(&w.client)
        .download(&file.media_id, &mut bytes)
        .await?;
    assert_eq!(bytes, b"meeting notes");

    // A wrong key: 93000.
    let wrong = w.client.robot(Secret::new("not-a-key".to_owned()));
    let err = Robot::new(&wrong)
        .send(RobotMessage::text("hi"))
        .await
        .err()
        .ok_or("wrong key")?;
    assert_eq!(code(&err), Some(93000));
    // A tampered md5: 301019.
    let mut tampered = RobotMessage::image(&image);
    if let RobotMessage::Image(i) = &mut tampered {
        i.md5 = "0".repeat(32);
    }
    let err = robot.send(tampered).await.err().ok_or("md5")?;
    assert_eq!(code(&err), Some(301019));

    // 20 a minute: 8 sent above, 12 more fit, the 21st is refused; a minute later it works again.
    for i in 0..12 {
        robot.send(RobotMessage::text(format!("tick {i}"))).await?;
    }
    let err = robot
        .send(RobotMessage::text("one too many"))
        .await
        .err()
        .ok_or("21st message")?;
    assert_eq!(code(&err), Some(45009), "{err}");
    w.admin().advance_time(61);
    robot.send(RobotMessage::text("next minute")).await?;
    assert_eq!(w.admin().robot_messages().len(), 21);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_sender_chunks_reports_and_limits() -> Res {
    let w = big(2500, fast_retries(3)).await?;
    let mut members: Vec<String> = (0..2500).map(member_id).collect();
    members.push("ghost1".into());
    members.push(member_id(7)); // a duplicate is sent to once
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let receipt = BulkSender::new(&w.client, Message::text("benefits enrolment closes Friday"))
        .members(members)
        .on_progress(move |p| log.lock().unwrap_or_else(|e| e.into_inner()).push(*p))
        .send()
        .await?;
    assert_eq!(
        receipt.msgids.len(),
        3,
        "2501 distinct members in chunks of 1000"
    );
    assert_eq!(receipt.invalid_users, ["ghost1"]);
    assert!(receipt.failures.is_empty());
    assert_eq!(w.admin().count("message_send"), 3);
    for i in [0, 999, 1000, 2499] {
        assert_eq!(w.admin().inbox(&member_id(i)).len(), 1);
    }
    let progress = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(
        progress.iter().map(|p| p.members_sent).collect::<Vec<_>>(),
        [1000, 2000, 2501]
    );
    assert_eq!(
        progress.last().map(|p| (p.members_total, p.chunks_sent)),
        Some((2501, 3))
    );

    // A message breaking a limit fails before any request.
    let before = w.admin().count("message_send");
    let err = BulkSender::new(&w.client, Message::markdown("x".repeat(3000)))
        .members(["u00001"])
        .send()
        .await
        .err()
        .ok_or("too long")?;
    assert_eq!(code(&err), Some(45002));
    assert_eq!(w.admin().count("message_send"), before);

    // Per-member limit: 2 messages per 400 ms. Skip reports the excess...
    let limiter = MemberLimiter::new([(2, Duration::from_millis(400))]);
    let few: Vec<String> = (0..5).map(member_id).collect();
    w.admin().clear_inboxes();
    for round in 0..3 {
        let r = BulkSender::new(&w.client, Message::text(format!("round {round}")))
            .members(few.clone())
            .limiter(limiter.clone())
            .over_limit(OverLimit::Skip)
            .send()
            .await?;
        if round < 2 {
            assert!(r.is_complete(), "round {round}: {r:?}");
        } else {
            assert_eq!(
                r.rate_limited, few,
                "the third message within the window is held back"
            );
            assert!(r.msgids.is_empty());
        }
    }
    // ...and Wait holds it until the window allows, then delivers it.
    let r = BulkSender::new(&w.client, Message::text("round 3"))
        .members(few.clone())
        .limiter(limiter.clone())
        .send()
        .await?;
    assert!(r.is_complete(), "{r:?}");
    for m in &few {
        let texts: Vec<Value> = w
            .admin()
            .inbox(m)
            .iter()
            .map(|d| d.message["text"]["content"].clone())
            .collect();
        assert_eq!(
            texts,
            [json!("round 0"), json!("round 1"), json!("round 3")],
            "{m}"
        );
    }
    // WeCom's own limits: 30 a minute per member.
    let wecom = MemberLimiter::wecom();
    let now = std::time::Instant::now();
    assert!((0..30).all(|_| wecom.try_admit(BIG_AGENTID, "u1", now).is_ok()));
    let next = wecom
        .try_admit(BIG_AGENTID, "u1", now)
        .err()
        .ok_or("31st")?;
    assert_eq!(next.duration_since(now), Duration::from_secs(60));
    assert!(wecom.try_admit(BIG_AGENTID, "u2", now).is_ok());
    Ok(())
}

/// A transport that loses a share of `message/send` answers after the sandbox handled the
/// request: the outcome is unknown to the client, the case the duplicate check exists for.
#[derive(Debug)]
struct LossyTransport {
    inner: ReqwestTransport,
    every: usize,
    calls: AtomicUsize,
    lost: AtomicUsize,
}

impl Transport for LossyTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, SendError>> {
        Box::pin(async move {
            let is_send = request.url.contains("/message/send");
            let answer = self.inner.send(request).await?;
            if is_send && self.calls.fetch_add(1, Ordering::Relaxed) % self.every == self.every - 1
            {
                self.lost.fetch_add(1, Ordering::Relaxed);
                return Err(SendError::new(
                    TransportErrorKind::Timeout,
                    "answer lost on the way back (test)",
                ));
            }
            Ok(answer)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_lose_and_duplicate_nothing() -> Res {
    let members = 50;
    let w = big(members, fast_retries(10)).await?;
    // 20% of sends fail before WeCom handles them (-1 busy, HTTP 503, dropped connection)...
    let admin = w.admin();
    let busy = FaultAction::Errcode {
        errcode: -1,
        errmsg: None,
    };
    admin.add_fault(Fault::new("message_send", busy).probability(0.08));
    admin.add_fault(Fault::http("message_send", 503).probability(0.07));
    admin.add_fault(Fault::drop_connection("message_send").probability(0.05));
    // ...and one answer in ten is lost after it was handled.
    let transport = Arc::new(LossyTransport {
        inner: ReqwestTransport::new(&ReqwestConfig::default())?,
        every: 10,
        calls: AtomicUsize::new(0),
        lost: AtomicUsize::new(0),
    });
    let client = Client::builder(w.sandbox.credentials().corpid)
        .base_url(w.sandbox.base_url())
        .app(BIG_AGENTID, Secret::new(BIG_SECRET.to_owned()))
        .retry_policy(fast_retries(10))
        .transport(transport.clone())
        .build()?;

    let sends = 1000;
    let client = Arc::new(client);
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let client = Arc::clone(&client);
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (worker..sends).step_by(16) {
                let to = member_id(i % members);
                let r = Message::text(format!("message #{i}"))
                    .to(Recipients::user(to.clone()))
                    .send(&client)
                    .await;
                out.push((i, to, r));
            }
            out
        }));
    }
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for t in tasks {
        for (i, to, r) in t.await? {
            match r {
                Ok(_) => expected
                    .entry(to)
                    .or_default()
                    .push(format!("message #{i}")),
                Err(e) => failures.push(format!("#{i}: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} sends failed after retries: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let attempts = admin.count("message_send");
    assert!(
        attempts > sends as u64 + 150,
        "faults were injected: {attempts} attempts for {sends} sends"
    );
    assert!(transport.lost.load(Ordering::Relaxed) >= 50);
    // Every member got exactly its messages, each once.
    let mut delivered = 0;
    for i in 0..members {
        let who = member_id(i);
        let mut got: Vec<String> = admin
            .inbox(&who)
            .iter()
            .filter_map(|m| m.message["text"]["content"].as_str().map(str::to_owned))
            .collect();
        let mut want = expected.remove(&who).unwrap_or_default();
        got.sort();
        want.sort();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for g in &got {
            *counts.entry(g.as_str()).or_default() += 1;
        }
        assert!(counts.values().all(|&n| n == 1), "{who} got a duplicate");
        assert_eq!(got, want, "{who}");
        delivered += got.len();
    }
    assert_eq!(delivered, sends);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_limiter_prevents_silent_drops() -> Res {
    let w = big(3, fast_retries(3)).await?;
    w.admin().set_rate_limits(wecom_sandbox::RateLimits {
        enabled: true,
        ..wecom_sandbox::RateLimits::default()
    });
    // Without a limiter WeCom (here the sandbox) answers ok but drops past 30 a minute.
    for i in 0..35 {
        let r = BulkSender::new(&w.client, Message::text(format!("unlimited {i}")))
            .members([member_id(0)])
            .send()
            .await?;
        assert!(r.is_complete(), "WeCom says nothing about the drop");
    }
    assert_eq!(
        w.admin().inbox(&member_id(0)).len(),
        30,
        "5 dropped silently"
    );
    // With WeCom's limits applied client-side nothing disappears: the excess is reported.
    let limiter = MemberLimiter::wecom();
    let (mut delivered, mut held) = (0, 0);
    for i in 0..35 {
        let r = BulkSender::new(&w.client, Message::text(format!("limited {i}")))
            .members([member_id(1)])
            .limiter(limiter.clone())
            .over_limit(OverLimit::Skip)
            .send()
            .await?;
        delivered += r.msgids.len();
        held += r.rate_limited.len();
    }
    assert_eq!((delivered, held), (30, 5));
    assert_eq!(w.admin().inbox(&member_id(1)).len(), 30);
    Ok(())
}
