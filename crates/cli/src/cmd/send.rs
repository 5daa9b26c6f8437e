//! `wecom send <type> ...` and `wecom send --json FILE`: builds a [`Message`] with the
//! messages crate (which checks every limit before sending) and prints the receipt.

use std::io::Read as _;
use std::path::Path;

use serde_json::{Value, json};
use wecom::Client;
use wecom::messages::{
    Media, MediaType, Message, MessageSendRequest, MiniprogramNotice, MiniprogramNoticeItem,
    MpNewsArticle, NewsArticle, Receipt, Recipients, Safety, TemplateCard, TextCardMessage,
    VideoMessage,
};

use super::Ctx;
use crate::cli::{MediaSource, SendArgs, SendKind};
use crate::error::CliError;

/// Reads a file, or stdin for `-`.
pub fn read_text(path: &Path, what: &str) -> Result<String, CliError> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::io(format!("cannot read {what} from stdin"), e))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("cannot read {what} {}", path.display()), e))
    }
}

/// `-` means stdin (trailing newline dropped); anything else is the content itself.
fn content(arg: String) -> Result<String, CliError> {
    if arg == "-" {
        let text = read_text(Path::new("-"), "the content")?;
        Ok(text.trim_end_matches(['\n', '\r']).to_owned())
    } else {
        Ok(arg)
    }
}

/// The recipients of the command line.
fn recipients(args: &SendArgs) -> Result<Recipients, CliError> {
    let users: Vec<String> = args
        .to
        .as_deref()
        .unwrap_or("")
        .split([',', '|'])
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if users.iter().any(|u| u == "@all") {
        return Ok(Recipients::everyone());
    }
    let r = Recipients::users(users)
        .with_departments(args.party.iter().copied())
        .with_tags(args.tag.iter().copied());
    if r.is_empty() {
        return Err(CliError::Usage(
            "no recipient: give --to USERIDS (or @all), --party IDS or --tag IDS".into(),
        ));
    }
    Ok(r)
}

/// A media_id, uploading the file first when one is given.
async fn media_id(
    client: &Client,
    source: MediaSource,
    kind: MediaType,
    out_note: bool,
) -> Result<String, CliError> {
    match (source.media_id, source.file) {
        (Some(id), _) => Ok(id),
        (None, Some(path)) => {
            let uploaded = Media::new(client).upload_path(kind.clone(), &path).await?;
            if out_note {
                eprintln!(
                    "uploaded {} as {kind} media {}",
                    path.display(),
                    uploaded.media_id
                );
            }
            Ok(uploaded.media_id)
        }
        (None, None) => Err(CliError::Usage("give --media-id ID or --file PATH".into())),
    }
}

/// `key=value` items of a mini-program notice.
fn items(raw: &[String]) -> Result<Vec<MiniprogramNoticeItem>, CliError> {
    raw.iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| MiniprogramNoticeItem::new(k.trim(), v.trim()))
                .ok_or_else(|| CliError::Usage(format!("--item {item:?} is not KEY=VALUE")))
        })
        .collect()
}

async fn build(client: &Client, kind: SendKind, note: bool) -> Result<Message, CliError> {
    Ok(match kind {
        SendKind::Text { content: c } => Message::text(content(c)?),
        SendKind::Markdown { content: c } => Message::markdown(content(c)?),
        SendKind::Image(src) => {
            Message::image(media_id(client, src, MediaType::Image, note).await?)
        }
        SendKind::Voice(src) => {
            Message::voice(media_id(client, src, MediaType::Voice, note).await?)
        }
        SendKind::File(src) => Message::file(media_id(client, src, MediaType::File, note).await?),
        SendKind::Video {
            media,
            title,
            description,
        } => {
            let mut video =
                VideoMessage::new(media_id(client, media, MediaType::Video, note).await?);
            if let Some(t) = title {
                video = video.title(t);
            }
            if let Some(d) = description {
                video = video.description(d);
            }
            Message::video(video)
        }
        SendKind::Textcard {
            title,
            description,
            url,
            btntxt,
        } => {
            let mut card = TextCardMessage::new(title, description, url);
            if let Some(b) = btntxt {
                card = card.btntxt(b);
            }
            Message::new(card)
        }
        SendKind::News {
            title,
            url,
            description,
            picurl,
        } => {
            let mut article = NewsArticle::new(title).url(url);
            if let Some(d) = description {
                article = article.description(d);
            }
            if let Some(p) = picurl {
                article = article.picurl(p);
            }
            Message::news([article])
        }
        SendKind::Mpnews {
            title,
            content: html,
            thumb,
            author,
            digest,
        } => {
            let thumb = media_id(client, thumb, MediaType::Image, note).await?;
            let mut article = MpNewsArticle::new(title, thumb, html);
            if let Some(a) = author {
                article = article.author(a);
            }
            if let Some(d) = digest {
                article = article.digest(d);
            }
            Message::mpnews([article])
        }
        SendKind::MiniprogramNotice {
            appid,
            title,
            page,
            description,
            items: raw,
        } => {
            let mut notice = MiniprogramNotice::new(appid, title).content_item(items(&raw)?);
            if let Some(p) = page {
                notice = notice.page(p);
            }
            if let Some(d) = description {
                notice = notice.description(d);
            }
            Message::miniprogram_notice(notice)
        }
        SendKind::TemplateCard { card } => {
            let text = read_text(&card, "the template card")?;
            let card: TemplateCard = serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!(
                    "{} is not a template_card object: {e}",
                    card.display()
                ))
            })?;
            Message::template_card(card)
        }
    })
}

/// A complete message/send body from a file: sent through the same checked path.
fn from_file(ctx: &Ctx, path: &Path) -> Result<(Message, Recipients, Option<u32>), CliError> {
    let text = read_text(path, "the message")?;
    let mut body: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{} is not JSON: {e}", path.display())))?;
    let Some(obj) = body.as_object_mut() else {
        return Err(CliError::Usage(format!(
            "{} must hold one message/send body (a JSON object with msgtype)",
            path.display()
        )));
    };
    let explicit_agent = obj
        .get("agentid")
        .and_then(Value::as_u64)
        .and_then(|a| u32::try_from(a).ok());
    if explicit_agent.is_none() {
        obj.insert("agentid".into(), json!(ctx.agent_id()?));
    }
    let request: MessageSendRequest = serde_json::from_value(body).map_err(|e| {
        CliError::Usage(format!(
            "{} is not a message/send body: {e}",
            path.display()
        ))
    })?;
    let recipients = if request.touser.iter().any(|u| u == "@all") {
        Recipients::everyone()
    } else {
        Recipients::users(request.touser.clone())
            .with_departments(request.toparty.iter().copied())
            .with_tags(request.totag.iter().copied())
    };
    let mut message = Message::new(request.content);
    if let Some(s) = request.safe {
        message = message.safe(s);
    }
    if request.enable_id_trans == Some(true) {
        message = message.id_trans(true);
    }
    Ok((message, recipients, explicit_agent))
}

/// The receipt as JSON.
fn receipt_json(r: &Receipt, msgtype: &str) -> Value {
    json!({
        "msgtype": msgtype,
        "msgid": r.msgid,
        "response_code": r.response_code,
        "invalid_users": r.invalid_users,
        "invalid_departments": r.invalid_departments,
        "invalid_tags": r.invalid_tags,
        "unlicensed_users": r.unlicensed_users,
        "truncated": r.truncated.iter().map(|t| json!({
            "field": t.field, "length": t.length, "limit": t.limit, "unit": t.unit.as_str(),
        })).collect::<Vec<_>>(),
        "complete": r.is_complete(),
    })
}

/// The receipt for people.
fn receipt_text(r: &Receipt, msgtype: &str) -> String {
    let mut t = format!("sent {msgtype} message");
    if let Some(id) = &r.msgid {
        t.push_str(&format!(", msgid {id}"));
    }
    let list = |v: &[String]| v.join(", ");
    let ids = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
    if !r.invalid_users.is_empty() {
        t.push_str(&format!(
            "\nnot delivered to members: {}",
            list(&r.invalid_users)
        ));
    }
    if !r.invalid_departments.is_empty() {
        t.push_str(&format!(
            "\nnot delivered to departments: {}",
            ids(&r.invalid_departments)
        ));
    }
    if !r.invalid_tags.is_empty() {
        t.push_str(&format!(
            "\nnot delivered to tags: {}",
            ids(&r.invalid_tags)
        ));
    }
    if !r.unlicensed_users.is_empty() {
        t.push_str(&format!(
            "\nmembers without a licence: {}",
            list(&r.unlicensed_users)
        ));
    }
    for cut in &r.truncated {
        t.push_str(&format!("\ncut before sending, as WeCom would: {cut}"));
    }
    t
}

pub async fn run(ctx: &Ctx, mut args: SendArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let (message, recipients, agent) = match (args.kind.take(), &args.file) {
        (Some(kind), _) => {
            let recipients = recipients(&args)?;
            let mut message = build(&client, kind, !ctx.out.json).await?;
            if let Some(s) = args.safe {
                message = message.safe(Safety::from(i64::from(s)));
            }
            (message, recipients, None)
        }
        (None, Some(path)) => from_file(ctx, path)?,
        (None, None) => {
            return Err(CliError::Usage(
                "give a message type (`wecom send text ...`) or a JSON file (`wecom send --json FILE`); see `wecom send --help`".into(),
            ));
        }
    };
    let msgtype = message.msgtype().unwrap_or("unknown").to_owned();
    let mut app_message = message.to(recipients);
    if let Some(a) = agent {
        app_message = app_message.agentid(a);
    }
    if args.no_duplicate_check {
        app_message = app_message.no_duplicate_check();
    } else if let Some(secs) = args.duplicate_window {
        app_message = app_message.duplicate_check(std::time::Duration::from_secs(secs));
    }
    let receipt = app_message.send(&client).await?;
    ctx.out.emit(&receipt_json(&receipt, &msgtype), || {
        receipt_text(&receipt, &msgtype)
    })
}
