//! `wecom demo`: the whole story against an embedded sandbox, told step by step. Every step is a
//! call of the SDK's crates; this module only orchestrates and prints.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use wecom::auth::Upload;
use wecom::callback::router::CallbackRouter;
use wecom::callback::xml::Element;
use wecom::callback::{CallbackCrypto, Envelope, Inbound, MessageBody, Reply};
use wecom::contacts::{ContactsExt as _, WalkOptions};
use wecom::messages::{
    CardAction, CardMainTitle, Media, MediaType, Message, MiniprogramNotice, MiniprogramNoticeItem,
    MpNewsArticle, NewsArticle, Recipients, TextNoticeCard, VideoMessage,
};
use wecom::{Client, Secret};
use wecom_sandbox::Sandbox;
use wecom_sandbox::corp::CallbackConfig;

use super::Ctx;
use super::callback::inbound_json;
use super::directory::department_tree;
use super::scope::{explanation_json, rules_text};
use crate::cli::DemoArgs;
use crate::error::CliError;
use crate::output::{Out, write_stdout};

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
/// An AMR header and one silent frame.
const AMR: &[u8] = b"#!AMR\n\x3c\x48\xf5\x1f\x96\x66\x79\xe1\xe0\x01\xe7\x8a\xf0\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00";
/// The start of an MP4 (an `ftyp` box).
const MP4: &[u8] = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free";

/// Prints the story as it goes (text), or collects it into one JSON document (`--json`).
struct Story {
    out: Out,
    steps: Vec<Value>,
}

impl Story {
    fn heading(&self, n: usize, title: &str) -> Result<(), CliError> {
        if self.out.json {
            return Ok(());
        }
        write_stdout(&format!("\n{n}. {title}\n"))
    }

    fn say(&self, text: impl AsRef<str>) -> Result<(), CliError> {
        if self.out.json {
            return Ok(());
        }
        let mut t = String::new();
        for line in text.as_ref().lines() {
            t.push_str("   ");
            t.push_str(line);
            t.push('\n');
        }
        write_stdout(&t)
    }

    fn record(&mut self, step: &str, value: Value) {
        let mut v = match value {
            Value::Object(_) => value,
            other => json!({ "value": other }),
        };
        v["step"] = json!(step);
        self.steps.push(v);
    }
}

pub async fn run(ctx: &Ctx, args: DemoArgs) -> Result<(), CliError> {
    if let Some(corp) = &ctx.config.corp_id
        && !ctx.out.json
    {
        eprintln!(
            "note: the demo always runs against its own embedded sandbox; the configured corp {corp} is not used"
        );
    }
    let sandbox = Sandbox::start().await?;
    let result = story(ctx, &sandbox, args.keep).await;
    sandbox.stop().await;
    result
}

async fn story(ctx: &Ctx, sandbox: &Sandbox, keep: bool) -> Result<(), CliError> {
    let mut s = Story {
        out: ctx.out,
        steps: Vec::new(),
    };
    let creds = sandbox.credentials();
    let admin = sandbox.admin();
    let corp_name = admin.corp().name().to_owned();
    let page = format!("{}/", creds.base_url);
    let first_app = creds
        .apps
        .first()
        .ok_or_else(|| CliError::Failed("the sandbox corp has no app".into()))?;

    // 1. The sandbox.
    s.heading(1, "A local WeCom")?;
    let apps: Vec<String> = creds
        .apps
        .iter()
        .map(|a| format!("{} ({})", a.name, a.agentid))
        .collect();
    s.say(format!(
        "sandbox at {}, corp {corp_name} ({}), apps: {}",
        creds.base_url,
        creds.corpid,
        apps.join(", ")
    ))?;
    s.record(
        "sandbox",
        json!({"base_url": creds.base_url, "corp_id": creds.corpid, "apps": creds.apps.iter().map(|a| json!({"agent_id": a.agentid, "name": a.name})).collect::<Vec<_>>(), "page": page}),
    );

    let mut builder = Client::builder(&creds.corpid).base_url(&creds.base_url);
    for app in &creds.apps {
        builder = builder.app(app.agentid, app.secret.clone());
    }
    let client = builder
        .contact_secret(creds.contact_secret.clone())
        .build()?;

    // 2. Tokens.
    s.heading(2, "Access token")?;
    let token = client.access_token().await?;
    let cached_for = client
        .cached_token_expiry()
        .and_then(|at| at.duration_since(SystemTime::now()).ok())
        .map_or(0, |d| d.as_secs());
    let again = client.access_token().await?;
    let fetches = admin.count("gettoken");
    s.say(format!(
        "app {} got an access_token ({} bytes, shown as {token}); cached for {cached_for} s",
        first_app.agentid,
        token.len()
    ))?;
    s.say(format!(
        "a second call is served from the cache (same token: {}); gettoken calls so far: {fetches}",
        again == token
    ))?;
    s.record(
        "token",
        json!({"bytes": token.len(), "cached_for": cached_for, "gettoken_calls": fetches, "cached": again == token}),
    );

    // 3. The directory.
    s.heading(3, "Directory")?;
    let snapshot = client.contacts().walk(WalkOptions::full(), |_| {}).await?;
    s.say(format!(
        "{} departments, {} members (read with the contact-sync secret):",
        snapshot.departments.len(),
        snapshot.members.len()
    ))?;
    s.say(department_tree(&snapshot.departments))?;
    let tags = client.contacts().tag_list().await?.taglist;
    let mut tag_lines = Vec::new();
    for t in &tags {
        let tag = client.contacts().tag_get(t.tagid).await?;
        tag_lines.push(format!(
            "tag {} {}: {}",
            t.tagid,
            t.tagname,
            tag.userlist
                .iter()
                .map(|u| u.userid.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s.say(tag_lines.join("\n"))?;
    s.record(
        "directory",
        json!({"departments": snapshot.departments.len(), "members": snapshot.members.len(), "tags": tags.len()}),
    );

    // 4. Visible scope: the narrowest app's.
    s.heading(4, "Visible scope")?;
    let mut scopes = Vec::new();
    for app in &creds.apps {
        let scope = client
            .agent(app.agentid)?
            .contacts()
            .visible_scope(app.agentid)
            .await?;
        scopes.push((app, scope));
    }
    let (narrow_app, narrow) = scopes
        .iter()
        .min_by_key(|(_, sc)| sc.member_count())
        .ok_or_else(|| CliError::Failed("no app to resolve a scope for".into()))?;
    for (app, scope) in &scopes {
        s.say(format!(
            "app {} ({}) sees {} of {} members; rules: {}",
            app.name,
            app.agentid,
            scope.member_count(),
            snapshot.members.len(),
            rules_text(scope)
        ))?;
    }
    let inside = snapshot
        .members
        .iter()
        .map(|m| narrow.explain(&m.userid))
        .find(|e| e.is_visible());
    let outside = snapshot
        .members
        .iter()
        .map(|m| narrow.explain(&m.userid))
        .find(|e| !e.is_visible());
    for e in inside.iter().chain(outside.iter()) {
        s.say(format!("why? {e}"))?;
    }
    s.record(
        "scope",
        json!({
            "apps": scopes.iter().map(|(a, sc)| json!({"agent_id": a.agentid, "members": sc.member_count()})).collect::<Vec<_>>(),
            "inside": inside.as_ref().map(explanation_json),
            "outside": outside.as_ref().map(explanation_json),
        }),
    );

    // 5. Messages of every type, from the first app to a member it can see.
    s.heading(5, "Messages")?;
    let to = scopes
        .first()
        .and_then(|(_, sc)| {
            snapshot
                .members
                .iter()
                .find(|m| sc.is_visible(&m.userid))
                .map(|m| m.userid.clone())
        })
        .ok_or_else(|| CliError::Failed("no member in the first app's scope".into()))?;
    let sender = client.agent(first_app.agentid)?;
    let media = Media::new(&sender);
    let image = media
        .upload(MediaType::Image, Upload::from_bytes("logo.png", PNG))
        .await?
        .media_id;
    let voice = media
        .upload(MediaType::Voice, Upload::from_bytes("hello.amr", AMR))
        .await?
        .media_id;
    let video = media
        .upload(MediaType::Video, Upload::from_bytes("clip.mp4", MP4))
        .await?
        .media_id;
    let file = media
        .upload(
            MediaType::File,
            Upload::from_bytes("report.txt", "Quarterly report\n".as_bytes().to_vec()),
        )
        .await?
        .media_id;
    let messages: Vec<(&str, Message)> = vec![
        ("text", Message::text("你好！The build is green ✅")),
        (
            "markdown",
            Message::markdown(
                "**Deploy** finished in `3m12s`\n> <font color=\"info\">all checks passed</font>",
            ),
        ),
        ("image", Message::image(image.clone())),
        ("voice", Message::voice(voice)),
        (
            "video",
            Message::video(
                VideoMessage::new(video)
                    .title("Demo clip")
                    .description("Ten seconds"),
            ),
        ),
        ("file", Message::file(file)),
        (
            "textcard",
            Message::textcard(
                "Ticket #42",
                "Assigned to you",
                "https://example.com/tickets/42",
            ),
        ),
        (
            "news",
            Message::news([NewsArticle::new("Release notes 1.2")
                .description("What changed")
                .url("https://example.com/notes")]),
        ),
        (
            "mpnews",
            Message::mpnews([MpNewsArticle::new(
                "Welcome aboard",
                image.clone(),
                "<p>Everything a new colleague needs.</p>",
            )
            .author("HR")]),
        ),
        (
            "miniprogram_notice",
            Message::miniprogram_notice(
                MiniprogramNotice::new("wx123456789abcdef0", "会议室预订成功")
                    .description("明天 10:00")
                    .content_item([MiniprogramNoticeItem::new("会议室", "402")]),
            ),
        ),
        (
            "template_card",
            Message::template_card(
                TextNoticeCard::new(CardAction::open_url("https://example.com/approvals/7"))
                    .main_title(
                        CardMainTitle::new()
                            .title("Leave request")
                            .desc("3 days, from Monday"),
                    )
                    .sub_title_text("Tap to review"),
            ),
        ),
    ];
    let mut sent = Vec::new();
    for (kind, message) in messages {
        let receipt = message.to(Recipients::user(&to)).send(&sender).await?;
        s.say(format!(
            "{kind:<18} -> {to}: msgid {}",
            receipt.msgid.as_deref().unwrap_or("-")
        ))?;
        sent.push(
            json!({"msgtype": kind, "msgid": receipt.msgid, "complete": receipt.is_complete()}),
        );
    }
    let inbox = admin.inbox(&to);
    s.say(format!(
        "{to}'s inbox in the sandbox now holds {} message(s)",
        inbox.len()
    ))?;
    s.record(
        "messages",
        json!({"to": to, "sent": sent, "inbox": inbox.len()}),
    );

    // 6. Media round trip.
    s.heading(6, "Media")?;
    let mut copy = Vec::new();
    let n = media.download(&image, &mut copy).await?;
    s.say(format!(
        "uploaded a {}-byte PNG as {image}; downloaded {n} bytes back, identical: {}",
        PNG.len(),
        copy == PNG
    ))?;
    s.record(
        "media",
        json!({"media_id": image, "bytes": n, "identical": copy == PNG}),
    );

    // 7. A callback received and answered.
    s.heading(7, "Callback")?;
    let callback = callback_round_trip(sandbox, &creds.corpid, first_app.agentid, &to).await?;
    s.say(format!(
        "callback URL {} verified by the sandbox (URL check answered)",
        callback.url
    ))?;
    s.say(format!(
        "{to} wrote \"{}\" to the app; the server decrypted: {} from {}",
        callback.sent, callback.what, callback.from
    ))?;
    s.say(format!(
        "and answered with a passive reply, decrypted: {}",
        callback.reply
    ))?;
    s.record(
        "callback",
        json!({"url": callback.url, "event": callback.event, "reply": callback.reply}),
    );

    // 8. A mistake, explained.
    s.heading(8, "Errors say what to do")?;
    // Only the app's own secret: reads are limited to its visible scope.
    let narrow_client = Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .app(narrow_app.agentid, narrow_app.secret.clone())
        .build()?;
    let outsider = outside.as_ref().map(|e| e.userid.clone());
    let error = match &outsider {
        Some(userid) => narrow_client
            .contacts()
            .user_get(userid.as_str())
            .await
            .err(),
        None => None,
    };
    let local = Message::text("x".repeat(3000))
        .to(Recipients::user(&to))
        .send(&sender)
        .await
        .err();
    let mut errors = Vec::new();
    if let (Some(e), Some(userid)) = (error, &outsider) {
        let line = CliError::from(e).report().line();
        s.say(format!(
            "app {} reading {userid}, outside its scope:\n  {line}",
            narrow_app.agentid
        ))?;
        errors.push(line);
    }
    if let Some(e) = local {
        let line = CliError::from(e).report().line();
        s.say(format!(
            "a 3000-byte text, refused before any request:\n  {line}"
        ))?;
        errors.push(line);
    }
    s.record("errors", json!({ "errors": errors }));

    // 9. The page.
    s.heading(9, "Look around")?;
    s.say(format!(
        "the sandbox page shows every inbox and the directory: {page}"
    ))?;
    if ctx.out.json {
        let doc = json!({"ok": true, "page": page, "steps": s.steps});
        write_stdout(&format!("{doc}\n"))?;
    }
    if keep {
        eprintln!(
            "sandbox kept running at {} — Ctrl-C to stop",
            creds.base_url
        );
        super::shutdown_signal().await;
    } else if !ctx.out.json {
        write_stdout(
            "\n(the sandbox stops now; `wecom demo --keep` keeps it running, `wecom sandbox` runs one for other commands)\n",
        )?;
    }
    Ok(())
}

/// What the callback step saw.
struct CallbackSeen {
    url: String,
    sent: String,
    what: String,
    from: String,
    event: Value,
    reply: String,
}

/// Serves a callback URL on loopback with the callback crate's router, registers it with the
/// sandbox's app, makes `userid` send a message, and opens the passive reply.
async fn callback_round_trip(
    sandbox: &Sandbox,
    corpid: &str,
    agentid: u32,
    userid: &str,
) -> Result<CallbackSeen, CliError> {
    let token = Secret::new(crate::cmd::random_alnum(16));
    let key = Secret::new(crate::cmd::random_alnum(43));
    let crypto = CallbackCrypto::new(token.expose(), key.expose(), corpid)?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let router = CallbackRouter::new(crypto.clone(), move |inbound: Inbound| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(inbound_json(&inbound, &inbound.to_xml()));
            match &inbound {
                Inbound::Message(m) => match &m.body {
                    MessageBody::Text { content } => Some(Reply::text(format!(
                        "收到：{content} (echo from the demo's server)"
                    ))),
                    _ => None,
                },
                _ => None,
            }
        }
    })
    .path("/wecom/callback")
    .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::io("cannot listen on 127.0.0.1", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::io("cannot read the listening address", e))?;
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let url = format!("http://{addr}/wecom/callback");

    let admin = sandbox.admin();
    let config = CallbackConfig {
        url: url.clone(),
        token,
        encoding_aes_key: key,
    };
    let outcome = async {
        admin.set_app_callback(agentid, Some(config)).await?;
        let sent = "请问今天的会议几点开始？".to_owned();
        let records = admin.member_sends_text(userid, agentid, &sent).await?;
        let record = records
            .into_iter()
            .next()
            .ok_or_else(|| CliError::Failed("the sandbox pushed no callback".into()))?;
        if !record.delivered {
            return Err(CliError::Failed(format!(
                "the callback was not delivered: {}",
                record.last_error.unwrap_or_default()
            )));
        }
        let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .ok()
            .flatten()
            .ok_or_else(|| CliError::Failed("the callback server saw nothing".into()))?;
        let envelope = Envelope::parse(record.reply.as_bytes())?;
        let sealed = Element::parse(&record.reply)?;
        let field = |n: &str| sealed.text_of(n).unwrap_or_default().to_owned();
        let reply_xml = crypto.decrypt(
            &field("MsgSignature"),
            &field("TimeStamp"),
            &field("Nonce"),
            &envelope.encrypt,
        )?;
        let reply = Element::parse(&reply_xml)?
            .text_of("Content")
            .unwrap_or_default()
            .to_owned();
        let what = match (event["type"].as_str(), event["msg_type"].as_str()) {
            (Some("message"), Some(t)) => format!(
                "a {t} message \"{}\"",
                event["fields"]["Content"].as_str().unwrap_or("")
            ),
            (Some(kind), _) => kind.to_owned(),
            _ => "a callback".to_owned(),
        };
        let from = event["from"].as_str().unwrap_or_default().to_owned();
        Ok(CallbackSeen {
            url: url.clone(),
            sent,
            what,
            from,
            event,
            reply,
        })
    }
    .await;
    server.abort();
    outcome
}
