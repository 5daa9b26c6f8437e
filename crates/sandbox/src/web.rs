//! The sandbox's web page: the directory, each app's visible scope, each member's inbox rendered
//! as a WeCom client would show it, and forms to act as a member (send a text, tap a menu item).
//!
//! Server-rendered HTML with inline CSS, no script and no external asset; every value from the
//! corp or a message is escaped.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes as BodyBytes;
use axum::extract::{Query, State as AxState};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use crate::admin::{Admin, menu_items};
use crate::app::App;
use crate::corp::{Actor, Corp};
use crate::store::DeliveredMessage;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Escaped text with line breaks kept.
fn text_html(t: &str) -> String {
    escape(t).replace('\n', "<br>")
}

/// Whether a URL may be used as a link target (http, https, or a sandbox path).
fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("/sandbox/")
}

fn link(url: &str, label: &str) -> String {
    if safe_link(url) {
        format!(
            "<a href=\"{}\" rel=\"noreferrer\">{}</a>",
            escape(url),
            escape(label)
        )
    } else {
        escape(label)
    }
}

/// An image only when it is served by the sandbox itself (no external assets on the page).
fn image(url: &str, base: &str, alt: &str) -> String {
    let local = url.starts_with("/sandbox/media/")
        || (!base.is_empty() && url.starts_with(&format!("{base}/sandbox/media/")));
    if local {
        format!(
            "<img class=\"pic\" src=\"{}\" alt=\"{}\">",
            escape(url),
            escape(alt)
        )
    } else if url.is_empty() {
        String::new()
    } else {
        format!("<div class=\"gray\">[图片] {}</div>", link(url, url))
    }
}

/// WeCom's markdown subset rendered with pulldown-cmark: headings (`#` shown as `<h3>`, `##` as
/// `<h4>`, deeper as `<h5>`), bold, links (http, https and sandbox paths only), inline code,
/// quotes, and `<font color="info|comment|warning">`; a line break is kept as one, as WeCom's
/// client shows it. Any other HTML in the message is shown as text, and images as their text
/// (no external asset on the page).
pub fn markdown_html(src: &str) -> String {
    use pulldown_cmark::{CowStr, Event, HeadingLevel, Parser, Tag, TagEnd};

    fn font_color(html: &str) -> Option<&'static str> {
        let inner = html.trim().strip_prefix("<font")?.strip_suffix('>')?.trim();
        let value = inner
            .strip_prefix("color")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        Some(match value.trim_matches(|c| c == '"' || c == '\'') {
            "info" => "c-info",
            "comment" => "c-comment",
            "warning" => "c-warning",
            _ => "",
        })
    }

    /// Closes the `<font>` spans left open at the end of a block.
    fn close_fonts(events: &mut Vec<Event<'_>>, fonts: &mut usize) {
        for _ in 0..std::mem::take(fonts) {
            events.push(Event::Html(CowStr::Borrowed("</span>")));
        }
    }

    let mut events: Vec<Event<'_>> = Vec::new();
    // Open <font> spans, and links dropped as unsafe (their end is dropped too).
    let mut fonts = 0usize;
    let mut dropped_links: Vec<bool> = Vec::new();
    for event in Parser::new(src) {
        let html = |s: String| Event::Html(CowStr::from(s));
        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let level = match level {
                    HeadingLevel::H1 => HeadingLevel::H3,
                    HeadingLevel::H2 => HeadingLevel::H4,
                    _ => HeadingLevel::H5,
                };
                events.push(Event::Start(Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                }));
            }
            Event::End(TagEnd::Heading(level)) => {
                close_fonts(&mut events, &mut fonts);
                let level = match level {
                    HeadingLevel::H1 => HeadingLevel::H3,
                    HeadingLevel::H2 => HeadingLevel::H4,
                    _ => HeadingLevel::H5,
                };
                events.push(Event::End(TagEnd::Heading(level)));
            }
            Event::Start(Tag::Strong) => events.push(html("<b>".into())),
            Event::End(TagEnd::Strong) => events.push(html("</b>".into())),
            Event::Start(Tag::Link { dest_url, .. }) => {
                let safe = safe_link(&dest_url);
                dropped_links.push(!safe);
                if safe {
                    events.push(html(format!(
                        "<a href=\"{}\" rel=\"noreferrer\">",
                        escape(&dest_url)
                    )));
                }
            }
            Event::End(TagEnd::Link) => {
                if dropped_links.pop() == Some(false) {
                    events.push(html("</a>".into()));
                }
            }
            // Images: only their text (the alt text arrives as Text events).
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            Event::Html(raw) | Event::InlineHtml(raw) => {
                if let Some(class) = font_color(&raw) {
                    fonts += 1;
                    events.push(html(format!("<span class=\"{class}\">")));
                } else if raw.trim() == "</font>" && fonts > 0 {
                    fonts -= 1;
                    events.push(html("</span>".into()));
                } else {
                    events.push(Event::Text(raw));
                }
            }
            Event::SoftBreak => events.push(Event::HardBreak),
            Event::End(end @ TagEnd::Paragraph) => {
                close_fonts(&mut events, &mut fonts);
                events.push(Event::End(end));
            }
            other => events.push(other),
        }
    }
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    for _ in 0..fonts {
        out.push_str("</span>");
    }
    out
}

/// One delivered message as a chat bubble.
pub fn render_message(m: &DeliveredMessage, app_name: &str, base: &str) -> String {
    let body = m.message.get(&m.msgtype).cloned().unwrap_or(Value::Null);
    let inner = match m.msgtype.as_str() {
        "text" => format!(
            "<div class=\"text\">{}</div>",
            text_html(s(&body, "content"))
        ),
        "markdown" => format!(
            "<div class=\"md\">{}</div>",
            markdown_html(s(&body, "content"))
        ),
        "textcard" => format!(
            "<div class=\"card\"><div class=\"title\">{}</div><div class=\"desc\">{}</div><div class=\"more\">{}</div></div>",
            escape(s(&body, "title")),
            text_html(&strip_tags(s(&body, "description"))),
            link(
                s(&body, "url"),
                if s(&body, "btntxt").is_empty() {
                    "详情"
                } else {
                    s(&body, "btntxt")
                }
            )
        ),
        "news" | "mpnews" => {
            let mut h = String::from("<div class=\"news\">");
            for a in body
                .get("articles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let desc = if m.msgtype == "news" {
                    s(a, "description")
                } else {
                    s(a, "digest")
                };
                let pic = if m.msgtype == "news" {
                    image(s(a, "picurl"), base, s(a, "title"))
                } else {
                    image(
                        &format!("/sandbox/media/{}", s(a, "thumb_media_id")),
                        base,
                        s(a, "title"),
                    )
                };
                let _ = write!(
                    h,
                    "<div class=\"article\">{pic}<div class=\"title\">{}</div><div class=\"desc\">{}</div></div>",
                    link(s(a, "url"), s(a, "title")),
                    escape(desc)
                );
            }
            h.push_str("</div>");
            h
        }
        "image" => image(
            &format!("/sandbox/media/{}", s(&body, "media_id")),
            base,
            "image",
        ),
        "voice" | "file" | "video" => {
            let id = s(&body, "media_id");
            let label = match m.msgtype.as_str() {
                "voice" => "[语音]",
                "video" => "[视频]",
                _ => "[文件]",
            };
            format!(
                "<div class=\"file\">{label} {} <span class=\"gray\">{}</span></div>",
                link(
                    &format!("/sandbox/media/{id}"),
                    if s(&body, "title").is_empty() {
                        id
                    } else {
                        s(&body, "title")
                    }
                ),
                escape(s(&body, "description"))
            )
        }
        "template_card" => render_template_card(&body, base),
        "miniprogram_notice" => {
            let mut h = format!(
                "<div class=\"card\"><div class=\"title\">{}</div><div class=\"gray\">{}</div>",
                escape(s(&body, "title")),
                escape(s(&body, "description"))
            );
            for item in body
                .get("content_item")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let _ = write!(
                    h,
                    "<div class=\"kv\"><span class=\"gray\">{}</span> {}</div>",
                    escape(s(item, "key")),
                    escape(s(item, "value"))
                );
            }
            h.push_str("</div>");
            h
        }
        _ => format!(
            "<pre>{}</pre>",
            escape(&serde_json::to_string_pretty(&m.message).unwrap_or_default())
        ),
    };
    let recalled = if m.recalled {
        " <span class=\"gray\">(已撤回)</span>"
    } else {
        ""
    };
    format!(
        "<div class=\"msg\" data-msgid=\"{}\"><div class=\"meta\">{} · {} · <code>{}</code>{recalled}</div>{inner}</div>",
        escape(&m.msgid),
        escape(app_name),
        escape(&m.msgtype),
        escape(&m.msgid)
    )
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn render_template_card(card: &Value, base: &str) -> String {
    let mut h = format!(
        "<div class=\"card tcard\" data-card-type=\"{}\">",
        escape(s(card, "card_type"))
    );
    if let Some(src) = card.get("source") {
        let _ = write!(
            h,
            "<div class=\"gray\">{}{}</div>",
            image(s(src, "icon_url"), base, ""),
            escape(s(src, "desc"))
        );
    }
    if let Some(t) = card.get("main_title") {
        let _ = write!(
            h,
            "<div class=\"title\">{}</div><div class=\"gray\">{}</div>",
            escape(s(t, "title")),
            escape(s(t, "desc"))
        );
    }
    if let Some(e) = card.get("emphasis_content") {
        let _ = write!(
            h,
            "<div class=\"emph\">{}</div><div class=\"gray\">{}</div>",
            escape(s(e, "title")),
            escape(s(e, "desc"))
        );
    }
    if let Some(q) = card.get("quote_area") {
        let _ = write!(
            h,
            "<blockquote>{}<br>{}</blockquote>",
            escape(s(q, "title")),
            escape(s(q, "quote_text"))
        );
    }
    if let Some(img) = card.get("card_image") {
        h.push_str(&image(s(img, "url"), base, "card"));
    }
    if !s(card, "sub_title_text").is_empty() {
        let _ = write!(
            h,
            "<div class=\"desc\">{}</div>",
            text_html(s(card, "sub_title_text"))
        );
    }
    for key in ["horizontal_content_list", "vertical_content_list"] {
        for item in card
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let label = if key == "vertical_content_list" {
                s(item, "title")
            } else {
                s(item, "keyname")
            };
            let value = if key == "vertical_content_list" {
                s(item, "desc")
            } else {
                s(item, "value")
            };
            let _ = write!(
                h,
                "<div class=\"kv\"><span class=\"gray\">{}</span> {}</div>",
                escape(label),
                escape(value)
            );
        }
    }
    if let Some(cb) = card.get("checkbox") {
        for o in cb
            .get("option_list")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mark = if o.get("is_checked").and_then(Value::as_bool) == Some(true) {
                "☑"
            } else {
                "☐"
            };
            let _ = write!(h, "<div>{mark} {}</div>", escape(s(o, "text")));
        }
    }
    for sel in card
        .get("select_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = write!(
            h,
            "<div class=\"kv\"><span class=\"gray\">{}</span> ",
            escape(s(sel, "title"))
        );
        let opts: Vec<String> = sel
            .get("option_list")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|o| escape(s(o, "text")))
            .collect();
        let _ = write!(h, "{}</div>", opts.join(" / "));
    }
    for j in card
        .get("jump_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = write!(h, "<div>{}</div>", link(s(j, "url"), s(j, "title")));
    }
    let mut buttons: Vec<String> = card
        .get("button_list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|b| format!("<span class=\"btn\">{}</span>", escape(s(b, "text"))))
        .collect();
    if let Some(sb) = card.get("submit_button") {
        buttons.push(format!(
            "<span class=\"btn\">{}</span>",
            escape(s(sb, "text"))
        ));
    }
    if !buttons.is_empty() {
        let _ = write!(h, "<div class=\"buttons\">{}</div>", buttons.join(""));
    }
    if let Some(a) = card.get("card_action")
        && !s(a, "url").is_empty()
    {
        let _ = write!(
            h,
            "<div class=\"more\">{}</div>",
            link(s(a, "url"), "查看详情")
        );
    }
    h.push_str("</div>");
    h
}

const CSS: &str = "body{font-family:-apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;margin:0;background:#f3f4f6;color:#222}\
header{background:#2b6cde;color:#fff;padding:12px 20px}header h1{margin:0;font-size:20px}header .gray{color:#dbe6ff}\
main{display:grid;grid-template-columns:minmax(280px,1fr) 2fr;gap:16px;padding:16px}\
section{background:#fff;border-radius:8px;padding:12px 16px;margin-bottom:16px}h2{font-size:16px;margin:4px 0 10px}\
ul.tree{list-style:none;padding-left:16px;margin:2px 0}.dept{font-weight:600}.member{color:#444}\
.gray{color:#888;font-size:12px}.msg{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px 12px;margin:8px 0;max-width:560px}\
.meta{font-size:12px;color:#999;margin-bottom:4px}.card .title{font-weight:600;margin:4px 0}.card .more{border-top:1px solid #eee;margin-top:6px;padding-top:4px}\
.article{display:flex;flex-direction:column;border-bottom:1px solid #eee;padding:4px 0}.pic{max-width:240px;max-height:180px;border-radius:4px}\
.btn{display:inline-block;border:1px solid #2b6cde;color:#2b6cde;border-radius:4px;padding:2px 10px;margin:4px 6px 0 0}\
.emph{font-size:24px;color:#2b6cde}.kv{margin:2px 0}.c-info{color:#07c160}.c-comment{color:#888}.c-warning{color:#fa5151}\
blockquote{border-left:3px solid #ddd;margin:4px 0;padding-left:8px;color:#666}form{margin:6px 0}input,select{margin:2px}\
.notice{background:#fffbe6;border:1px solid #ffe58f;padding:8px 12px;margin:12px 16px;border-radius:6px}\
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;font-size:13px}";

fn tree(corp: &Corp, id: u32, out: &mut String) {
    let Ok(d) = corp.department(id) else { return };
    let members: Vec<String> = corp
        .members_of(id, false)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            format!(
                "<li class=\"member\">{} <span class=\"gray\">{} {}</span></li>",
                escape(&m.name),
                escape(&m.userid),
                escape(&m.position)
            )
        })
        .collect();
    let _ = write!(
        out,
        "<li><span class=\"dept\">{}</span> <span class=\"gray\">#{}</span><ul class=\"tree\">{}",
        escape(&d.name),
        d.id,
        members.join("")
    );
    for c in corp.children(id) {
        tree(corp, c.id, out);
    }
    out.push_str("</ul></li>");
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

/// Renders the whole page.
pub(crate) fn page(admin: &Admin, notice: Option<&str>) -> String {
    let corp = admin.corp();
    let base = admin.state().base_url().to_owned();
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>WeCom sandbox · {}</title><style>{CSS}</style></head><body>\
         <header><h1>{} <span class=\"gray\">企业微信 sandbox</span></h1><div class=\"gray\">corpid <code>{}</code> · API <code>{}/cgi-bin/</code> · <a style=\"color:#fff\" href=\"/sandbox/state\">state</a> · <a style=\"color:#fff\" href=\"/sandbox/console\">API console</a></div></header>",
        escape(corp.name()),
        escape(corp.name()),
        escape(corp.corpid()),
        escape(&base)
    );
    if let Some(n) = notice.filter(|n| !n.is_empty()) {
        let _ = write!(h, "<div class=\"notice\" id=\"notice\">{}</div>", escape(n));
    }
    h.push_str("<main><div>");

    // Directory.
    h.push_str("<section id=\"directory\"><h2>通讯录</h2><ul class=\"tree\">");
    tree(&corp, 1, &mut h);
    h.push_str("</ul></section><section id=\"tags\"><h2>标签</h2><table><tr><th>标签</th><th>成员</th><th>部门</th></tr>");
    for t in corp.tags() {
        let users: Vec<String> = t
            .users
            .iter()
            .map(|u| escape(corp.member(u).map(|m| m.name.as_str()).unwrap_or(u)))
            .collect();
        let parties: Vec<String> = t
            .parties
            .iter()
            .map(|p| escape(corp.department(*p).map(|d| d.name.as_str()).unwrap_or("?")))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{} <span class=\"gray\">#{}</span></td><td>{}</td><td>{}</td></tr>",
            escape(&t.tagname),
            t.tagid,
            users.join("、"),
            parties.join("、")
        );
    }
    h.push_str("</table></section>");

    // Apps and scope.
    for app in corp.apps() {
        let scope = corp.scope(Actor::App(app.agentid));
        let visible: Vec<String> = corp
            .members()
            .filter(|m| scope.contains_user(&m.userid))
            .map(|m| escape(&m.name))
            .collect();
        let depts: Vec<String> = corp
            .departments()
            .filter(|d| scope.contains_department(d.id))
            .map(|d| escape(&d.name))
            .collect();
        let _ = write!(
            h,
            "<section class=\"app\" id=\"app-{id}\"><h2>{} <span class=\"gray\">agentid {id}</span></h2><div class=\"gray\">{}</div>\
             <div><b>可见范围</b>: {} 人 — {}</div><div><b>部门</b>: {}</div><div class=\"gray\">回调: {}</div>",
            escape(&app.name),
            escape(&app.description),
            visible.len(),
            visible.join("、"),
            depts.join("、"),
            app.callback
                .as_ref()
                .map(|c| escape(&c.url))
                .unwrap_or_else(|| "未设置".into()),
            id = app.agentid,
        );
        let options: String = corp
            .members()
            .filter(|m| scope.contains_user(&m.userid))
            .map(|m| {
                format!(
                    "<option value=\"{}\">{}</option>",
                    escape(&m.userid),
                    escape(&m.name)
                )
            })
            .collect();
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/sandbox/ui/send\"><input type=\"hidden\" name=\"agentid\" value=\"{id}\">\
             <select name=\"userid\">{options}</select><input name=\"content\" placeholder=\"以成员身份发消息\" required>\
             <button type=\"submit\">发送</button></form>",
            id = app.agentid
        );
        let menu = app.menu.clone().unwrap_or(Value::Null);
        let items = menu_items(&menu);
        if !items.is_empty() {
            let item_options: String = items
                .iter()
                .map(|b| {
                    let key = if s(b, "key").is_empty() {
                        s(b, "url")
                    } else {
                        s(b, "key")
                    };
                    format!(
                        "<option value=\"{}\">{} ({})</option>",
                        escape(key),
                        escape(s(b, "name")),
                        escape(s(b, "type"))
                    )
                })
                .collect();
            let _ = write!(
                h,
                "<form method=\"post\" action=\"/sandbox/ui/click\"><input type=\"hidden\" name=\"agentid\" value=\"{id}\">\
                 <select name=\"userid\">{options}</select><select name=\"key\">{item_options}</select>\
                 <button type=\"submit\">点击菜单</button></form>",
                id = app.agentid
            );
        }
        h.push_str("</section>");
    }
    h.push_str(&crate::areas::externalcontact::admin::page_section(admin));
    h.push_str(&crate::areas::oa::approval_page_section(admin));
    h.push_str("</div><div>");

    // Inboxes.
    h.push_str("<section id=\"inboxes\"><h2>成员消息</h2>");
    let mut any = false;
    for m in corp.members() {
        let inbox = admin.inbox(&m.userid);
        if inbox.is_empty() {
            continue;
        }
        any = true;
        let _ = write!(
            h,
            "<div class=\"inbox\" id=\"inbox-{}\"><h2>{} <span class=\"gray\">{} · {} 条</span></h2>",
            escape(&m.userid),
            escape(&m.name),
            escape(&m.userid),
            inbox.len()
        );
        for msg in &inbox {
            let app_name = corp
                .app(msg.agentid)
                .map(|a| a.name.clone())
                .unwrap_or_else(|_| msg.agentid.to_string());
            h.push_str(&render_message(msg, &app_name, &base));
        }
        h.push_str("</div>");
    }
    if !any {
        h.push_str("<div class=\"gray\">还没有消息。用 message/send 发一条试试。</div>");
    }
    h.push_str("</section>");
    let robots = admin.robot_messages();
    if !robots.is_empty() {
        h.push_str("<section id=\"robots\"><h2>群机器人</h2>");
        for r in robots {
            let msgtype = s(&r.message, "msgtype").to_owned();
            let fake = DeliveredMessage {
                msgid: String::new(),
                agentid: 0,
                userid: String::new(),
                msgtype,
                message: r.message.clone(),
                at: r.at,
                recalled: false,
            };
            h.push_str(&render_message(&fake, &r.chat, &base));
        }
        h.push_str("</section>");
    }
    // Mail the apps sent (exmail/app/compose_send): crates/sandbox/src/areas/oa/mail.rs.
    h.push_str(&crate::areas::oa::mail::page_section(admin.state()));
    let log = admin.callback_log();
    if !log.is_empty() {
        h.push_str("<section id=\"callbacks\"><h2>回调记录</h2><table><tr><th>事件</th><th>URL</th><th>次数</th><th>结果</th></tr>");
        for r in log.iter().rev().take(30) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.what),
                escape(&r.url),
                r.attempts,
                if r.delivered {
                    "200".to_owned()
                } else {
                    escape(r.last_error.as_deref().unwrap_or(""))
                }
            );
        }
        h.push_str("</table></section>");
    }
    h.push_str(&crate::console::log_section(admin.state()));
    h.push_str("</div></main></body></html>");
    h
}

async fn index(AxState(app): AxState<App>, Query(q): Query<PageQuery>) -> Response {
    let admin = Admin::new(Arc::clone(&app.state));
    Html(page(&admin, q.notice.as_deref())).into_response()
}

fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn back(notice: &str) -> Response {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", notice)
        .finish();
    Redirect::to(&format!("/?{q}")).into_response()
}

fn outcome(records: &[crate::callbacks::CallbackRecord]) -> String {
    match records {
        [] => "应用未设置回调 URL，没有推送".to_owned(),
        rs => rs
            .iter()
            .map(|r| {
                if r.delivered {
                    format!("已推送 {} 到 {}", r.what, r.url)
                } else {
                    format!(
                        "推送 {} 失败: {}",
                        r.what,
                        r.last_error.clone().unwrap_or_default()
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

async fn ui_send(AxState(app): AxState<App>, body: BodyBytes) -> Response {
    let f = form(&body);
    let admin = Admin::new(Arc::clone(&app.state));
    let agentid = f.get("agentid").and_then(|a| a.parse().ok()).unwrap_or(0);
    let userid = f.get("userid").cloned().unwrap_or_default();
    let content = f.get("content").cloned().unwrap_or_default();
    match admin.member_sends_text(&userid, agentid, &content).await {
        Ok(r) => back(&outcome(&r)),
        Err(e) => back(&e.to_string()),
    }
}

async fn ui_click(AxState(app): AxState<App>, body: BodyBytes) -> Response {
    let f = form(&body);
    let admin = Admin::new(Arc::clone(&app.state));
    let agentid = f.get("agentid").and_then(|a| a.parse().ok()).unwrap_or(0);
    let userid = f.get("userid").cloned().unwrap_or_default();
    let key = f.get("key").cloned().unwrap_or_default();
    match admin.member_clicks(&userid, agentid, &key).await {
        Ok(r) => back(&outcome(&r)),
        Err(e) => back(&e.to_string()),
    }
}

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/", get(index))
        .route("/sandbox/ui/send", post(ui_send))
        .route("/sandbox/ui/click", post(ui_click))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything() {
        assert_eq!(escape("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }

    #[test]
    fn markdown_subset() {
        let h = markdown_html(
            "# 标题\n**粗** `c` [链接](https://example.com/?a=1&b=2)\n> 引用\n<font color=\"warning\">警告</font>\n[x](javascript:alert(1))",
        );
        assert!(h.contains("<h3>标题</h3>"), "{h}");
        assert!(h.contains("<b>粗</b>"), "{h}");
        assert!(h.contains("<code>c</code>"), "{h}");
        assert!(
            h.contains("<a href=\"https://example.com/?a=1&amp;b=2\""),
            "{h}"
        );
        assert!(h.contains("<blockquote>") && h.contains("引用"), "{h}");
        assert!(h.contains("<span class=\"c-warning\">警告</span>"), "{h}");
        assert!(!h.contains("href=\"javascript"), "{h}");
    }

    #[test]
    fn markdown_html_other_than_font_is_text() {
        let h = markdown_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> ![a](https://e.com/x.png) <font color=\"info\">open",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        assert!(
            h.contains("open</span></p>"),
            "an open font is closed in its block: {h}"
        );
        let lines = markdown_html("第一行\n第二行");
        assert!(lines.contains("第一行<br />"), "line breaks kept: {lines}");
    }

    #[test]
    fn script_in_text_is_inert() {
        let m = DeliveredMessage {
            msgid: "1".into(),
            agentid: 1,
            userid: "u".into(),
            msgtype: "text".into(),
            message: serde_json::json!({"msgtype": "text", "text": {"content": "<script>alert(1)</script>"}}),
            at: 0,
            recalled: false,
        };
        let h = render_message(&m, "<b>app</b>", "");
        assert!(!h.contains("<script>"));
        assert!(!h.contains("<b>app</b>"));
    }
}
