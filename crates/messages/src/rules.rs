//! Rules of WeCom's message API that the spec's per-field constraints cannot say (they relate
//! several fields or depend on a card's kind). The spec names the request-level ones
//! (`check = "crate::rules::check_send"`), so the generated `validate()` runs them: every way of
//! sending (`client.messages().message_send(..)`, `Message::..send()`, `Client::execute`) and
//! the sandbox, which validates what it receives, refuse exactly the same inputs.
//!
//! Every function returns the first broken rule as an [`InvalidInput`] naming the field path,
//! what is wrong and the errcode WeCom answers.

use std::collections::HashSet;

use wecom_core_auth::InvalidInput;

use crate::generated::messages::{
    ButtonInteractionCard, CardAction, CardActionMenu, CardButton, CardButtonType, CardContentType,
    CardHorizontalContent, CardImageTextArea, CardJump, CardLinkType, CardQuoteArea,
    MessageContent, MessageSendRequest, MessageUpdateTemplateCardRequest, NewsArticle,
    NewsNoticeCard, RobotCard, RobotMessage, Safety, TemplateCard, TextNoticeCard,
    WebhookSendRequest,
};

fn invalid(field: &str, problem: impl Into<String>, errcode: i64) -> InvalidInput {
    InvalidInput::new(field, problem).with_errcode(Some(errcode))
}

fn missing(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(str::is_empty)
}

/// Everything about a `message/send` request beyond the spec's field constraints: `@all` alone,
/// `safe` per message type, template-card rules.
pub fn check_send(request: &MessageSendRequest) -> Result<(), InvalidInput> {
    check_touser(&request.touser)?;
    check_safe(&request.content, request.safe.as_ref())?;
    check_content(&request.content)
}

/// Everything about a `message/update_template_card` request beyond the spec's field
/// constraints: the rules of its replacement card (named by the spec, so the generated
/// `validate()` runs it on every path).
pub fn check_update_card(request: &MessageUpdateTemplateCardRequest) -> Result<(), InvalidInput> {
    match &request.template_card {
        Some(card) => check_card(card).map_err(|e| e.under("template_card")),
        None => Ok(()),
    }
}

/// Everything about a `webhook/send` request beyond the spec's field constraints: the rules of
/// its template cards ([`check_robot`]).
pub fn check_robot_send(request: &WebhookSendRequest) -> Result<(), InvalidInput> {
    check_robot(&request.content)
}

/// `@all` must be the only entry of `touser`.
pub fn check_touser(touser: &[String]) -> Result<(), InvalidInput> {
    if touser.len() > 1 && touser.iter().any(|u| u == "@all") {
        return Err(invalid(
            "touser",
            "mixes `@all` with userids; `@all` must be alone (use Recipients::everyone())",
            40031,
        ));
    }
    Ok(())
}

/// `safe`: news messages cannot be confidential (40074); `safe = 2` exists for mpnews only.
pub fn check_safe(content: &MessageContent, safe: Option<&Safety>) -> Result<(), InvalidInput> {
    match (content, safe) {
        (MessageContent::News(_), Some(Safety::Confidential | Safety::InCorpOnly)) => Err(invalid(
            "safe",
            "news messages cannot be confidential; send mpnews, or leave `safe` at 0",
            40074,
        )),
        (c, Some(Safety::InCorpOnly)) if !matches!(c, MessageContent::MpNews(_)) => Err(invalid(
            "safe",
            format!(
                "`safe = 2` (in-corp sharing) exists for mpnews only, not {}",
                c.tag().unwrap_or("this type")
            ),
            40058,
        )),
        _ => Ok(()),
    }
}

/// The rules of a message body that its fields cannot state (template cards).
pub fn check_content(content: &MessageContent) -> Result<(), InvalidInput> {
    match content {
        MessageContent::TemplateCard(t) => {
            check_card(&t.card).map_err(|e| e.under("template_card"))
        }
        _ => Ok(()),
    }
}

/// The rules of a group robot message (its template cards).
pub fn check_robot(message: &RobotMessage) -> Result<(), InvalidInput> {
    match message {
        RobotMessage::TemplateCard(t) => match &t.card {
            RobotCard::TextNotice(c) => check_text_notice(c),
            RobotCard::NewsNotice(c) => check_news_notice(c),
            RobotCard::Unknown(_) => Ok(()),
        }
        .map_err(|e| e.under("template_card")),
        _ => Ok(()),
    }
}

/// The rules of a template card of any kind.
pub fn check_card(card: &TemplateCard) -> Result<(), InvalidInput> {
    match card {
        TemplateCard::TextNotice(c) => check_text_notice(c),
        TemplateCard::NewsNotice(c) => check_news_notice(c),
        TemplateCard::ButtonInteraction(c) => check_button_interaction(c),
        TemplateCard::VoteInteraction(_)
        | TemplateCard::MultipleInteraction(_)
        | TemplateCard::Unknown(_) => Ok(()),
    }
}

fn check_menu(menu: &Option<CardActionMenu>, task_id: Option<&str>) -> Result<(), InvalidInput> {
    if let Some(menu) = menu {
        if task_id.is_none_or(str::is_empty) {
            return Err(invalid("task_id", "is required with `action_menu`", 42014));
        }
        unique_keys(
            "action_menu.action_list",
            menu.action_list.iter().map(|a| a.key.as_str()),
        )?;
    }
    Ok(())
}

fn unique_keys<'a>(field: &str, keys: impl Iterator<Item = &'a str>) -> Result<(), InvalidInput> {
    let mut seen = HashSet::new();
    for (i, k) in keys.enumerate() {
        if !seen.insert(k) {
            return Err(invalid(
                &format!("{field}[{i}].key"),
                format!("`{k}` is used twice; keys must be unique in a card"),
                42018,
            ));
        }
    }
    Ok(())
}

/// A link's target must be there: a url for `Url`, an appid for `Miniprogram`.
fn check_link(
    field: &str,
    link: Option<&CardLinkType>,
    url: &Option<String>,
    appid: &Option<String>,
) -> Result<(), InvalidInput> {
    match link {
        Some(CardLinkType::Url) if missing(url) => Err(invalid(
            &format!("{field}.url"),
            "is required when the link type is 1 (url)",
            42028,
        )),
        Some(CardLinkType::Miniprogram) if missing(appid) => Err(invalid(
            &format!("{field}.appid"),
            "is required when the link type is 2 (mini-program)",
            90200,
        )),
        _ => Ok(()),
    }
}

/// `card_action` of a notice card: a url or a mini-program (type 1 or 2).
fn check_card_action(action: &CardAction) -> Result<(), InvalidInput> {
    if !matches!(
        action.link_type,
        CardLinkType::Url | CardLinkType::Miniprogram
    ) {
        return Err(invalid(
            "card_action.type",
            format!(
                "is {}; a notice card's action must be 1 (url) or 2 (mini-program)",
                action.link_type.code()
            ),
            42028,
        ));
    }
    check_link(
        "card_action",
        Some(&action.link_type),
        &action.url,
        &action.appid,
    )
}

fn check_quote(quote: &Option<CardQuoteArea>) -> Result<(), InvalidInput> {
    match quote {
        Some(q) => check_link("quote_area", q.link_type.as_ref(), &q.url, &q.appid),
        None => Ok(()),
    }
}

fn check_image_text(area: &Option<CardImageTextArea>) -> Result<(), InvalidInput> {
    match area {
        Some(a) => check_link("image_text_area", a.link_type.as_ref(), &a.url, &a.appid),
        None => Ok(()),
    }
}

fn check_horizontal(list: &[CardHorizontalContent]) -> Result<(), InvalidInput> {
    for (i, item) in list.iter().enumerate() {
        let at = |f: &str| format!("horizontal_content_list[{i}].{f}");
        match item.content_type {
            Some(CardContentType::Url) if missing(&item.url) => {
                return Err(invalid(
                    &at("url"),
                    "is required for a url line (type 1)",
                    42028,
                ));
            }
            Some(CardContentType::Attachment) if missing(&item.media_id) => {
                return Err(invalid(
                    &at("media_id"),
                    "is required for an attachment line (type 2)",
                    42029,
                ));
            }
            Some(CardContentType::Member) if missing(&item.userid) => {
                return Err(invalid(
                    &at("userid"),
                    "is required for a member line (type 3)",
                    40003,
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_jumps(list: &[CardJump]) -> Result<(), InvalidInput> {
    for (i, j) in list.iter().enumerate() {
        check_link(
            &format!("jump_list[{i}]"),
            j.link_type.as_ref(),
            &j.url,
            &j.appid,
        )?;
    }
    Ok(())
}

fn check_buttons(list: &[CardButton]) -> Result<(), InvalidInput> {
    for (i, b) in list.iter().enumerate() {
        let at = |f: &str| format!("button_list[{i}].{f}");
        match b.button_type {
            Some(CardButtonType::Url) if missing(&b.url) => {
                return Err(invalid(
                    &at("url"),
                    "is required for a url button (type 1)",
                    42028,
                ));
            }
            None | Some(CardButtonType::Callback) if missing(&b.key) => {
                return Err(invalid(
                    &at("key"),
                    "is required for a callback button (type 0, the default)",
                    42019,
                ));
            }
            _ => {}
        }
    }
    unique_keys("button_list", list.iter().filter_map(|b| b.key.as_deref()))
}

/// A news article's mini-program link: `appid` and `pagepath` together (message/send news table).
pub fn check_news_article(article: &NewsArticle) -> Result<(), InvalidInput> {
    match (missing(&article.appid), missing(&article.pagepath)) {
        (false, true) => Err(InvalidInput::new(
            "pagepath",
            "is missing: a mini-program link needs both appid and pagepath",
        )),
        (true, false) => Err(InvalidInput::new(
            "appid",
            "is missing: a mini-program link needs both appid and pagepath",
        )),
        _ => Ok(()),
    }
}

fn check_text_notice(c: &TextNoticeCard) -> Result<(), InvalidInput> {
    check_menu(&c.action_menu, c.task_id.as_deref())?;
    if c.main_title.as_ref().is_none_or(|t| missing(&t.title)) && missing(&c.sub_title_text) {
        return Err(invalid(
            "main_title.title",
            "a text_notice card needs a main_title.title or a sub_title_text",
            40058,
        ));
    }
    check_card_action(&c.card_action)?;
    check_quote(&c.quote_area)?;
    check_horizontal(&c.horizontal_content_list)?;
    check_jumps(&c.jump_list)
}

fn check_news_notice(c: &NewsNoticeCard) -> Result<(), InvalidInput> {
    check_menu(&c.action_menu, c.task_id.as_deref())?;
    check_card_action(&c.card_action)?;
    check_quote(&c.quote_area)?;
    check_image_text(&c.image_text_area)?;
    check_horizontal(&c.horizontal_content_list)?;
    check_jumps(&c.jump_list)
}

fn check_button_interaction(c: &ButtonInteractionCard) -> Result<(), InvalidInput> {
    check_menu(&c.action_menu, Some(&c.task_id))?;
    if let Some(a) = &c.card_action {
        check_link("card_action", Some(&a.link_type), &a.url, &a.appid)?;
    }
    check_quote(&c.quote_area)?;
    check_horizontal(&c.horizontal_content_list)?;
    check_buttons(&c.button_list)
}
