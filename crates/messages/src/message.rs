//! [`Message`]: an app message of any type, its recipients, sending, and the [`Receipt`].

use std::time::Duration;

use wecom_core_auth::{Client, ConfigError, Error};

use crate::generated::messages::{
    CardButtonUpdate, MarkdownMessage, MediaMessage, MessageContent, MessageRecallRequest,
    MessageSendRequest, MessageSendResponse, MessageUpdateTemplateCardRequest, MiniprogramNotice,
    MpNewsArticle, MpNewsMessage, NewsArticle, NewsMessage, Safety, TemplateCard,
    TemplateCardMessage, TextCardMessage, TextMessage, VideoMessage,
};
use crate::recipients::Recipients;

/// An app message of any of WeCom's eleven types, with its sharing options.
///
/// Build one with the constructor of its type, then address it with [`Message::to`]:
///
/// ```no_run
/// use wecom_messages::{CardAction, Message, NewsArticle, Recipients, TextNoticeCard};
/// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
/// Message::markdown("**Deploy** finished in `3m12s`").to(Recipients::user("zhangsan")).send(client).await?;
/// Message::news([NewsArticle::new("Release notes").url("https://example.com/notes")])
///     .to(Recipients::departments([2]))
///     .send(client)
///     .await?;
/// let card = TextNoticeCard::new(CardAction::open_url("https://example.com/ticket/42")).sub_title_text("Ticket #42 was assigned to you");
/// Message::template_card(card).to(Recipients::user("lisi")).send(client).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    content: MessageContent,
    safe: Option<Safety>,
    id_trans: bool,
}

impl Message {
    /// A message with this body (any [`MessageContent`]).
    pub fn new(content: impl Into<MessageContent>) -> Self {
        Self {
            content: content.into(),
            safe: None,
            id_trans: false,
        }
    }

    /// Text, 1 to 2048 bytes; `\n` and `<a href="...">` links allowed.
    pub fn text(content: impl Into<String>) -> Self {
        Self::new(TextMessage::new(content))
    }

    /// Markdown (WeCom's subset), 1 to 2048 bytes.
    pub fn markdown(content: impl Into<String>) -> Self {
        Self::new(MarkdownMessage::new(content))
    }

    /// An image uploaded with [`Media::upload`](crate::Media::upload) (type image).
    pub fn image(media_id: impl Into<String>) -> Self {
        Self::new(MessageContent::Image(MediaMessage::new(media_id)))
    }

    /// A voice clip uploaded as type voice (AMR).
    pub fn voice(media_id: impl Into<String>) -> Self {
        Self::new(MessageContent::Voice(MediaMessage::new(media_id)))
    }

    /// A file uploaded as type file.
    pub fn file(media_id: impl Into<String>) -> Self {
        Self::new(MessageContent::File(MediaMessage::new(media_id)))
    }

    /// A video uploaded as type video; add a title and description with
    /// [`VideoMessage::title`]/[`VideoMessage::description`].
    pub fn video(video: impl Into<VideoMessage>) -> Self {
        Self::new(video.into())
    }

    /// A text card: title (128 bytes), description (512 bytes) and a link (2048 bytes).
    /// Set the button text with [`Message::new`]`(TextCardMessage::new(..).btntxt(..))`.
    pub fn textcard(
        title: impl Into<String>,
        description: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        Self::new(TextCardMessage::new(title, description, url))
    }

    /// 1 to 8 linked articles.
    pub fn news(articles: impl IntoIterator<Item = NewsArticle>) -> Self {
        Self::new(NewsMessage::new(articles))
    }

    /// 1 to 8 articles stored by WeCom (HTML content, a cover image media_id each).
    pub fn mpnews(articles: impl IntoIterator<Item = MpNewsArticle>) -> Self {
        Self::new(MpNewsMessage::new(articles))
    }

    /// A mini-program notification.
    pub fn miniprogram_notice(notice: MiniprogramNotice) -> Self {
        Self::new(notice)
    }

    /// A template card of any kind ([`TextNoticeCard`](crate::TextNoticeCard),
    /// [`NewsNoticeCard`](crate::NewsNoticeCard), [`ButtonInteractionCard`](crate::ButtonInteractionCard),
    /// [`VoteInteractionCard`](crate::VoteInteractionCard),
    /// [`MultipleInteractionCard`](crate::MultipleInteractionCard)).
    pub fn template_card(card: impl Into<TemplateCard>) -> Self {
        Self::new(TemplateCardMessage::new(card))
    }

    /// Whether recipients may share it: [`Safety::Confidential`] forbids sharing and adds a
    /// watermark; [`Safety::InCorpOnly`] is for mpnews only.
    pub fn safe(mut self, safe: Safety) -> Self {
        self.safe = Some(safe);
        self
    }

    /// Translates `$userName=ID$` and `$departmentName=ID$` placeholders into names.
    pub fn id_trans(mut self, on: bool) -> Self {
        self.id_trans = on;
        self
    }

    /// The body.
    pub fn content(&self) -> &MessageContent {
        &self.content
    }

    /// The `msgtype` (`text`, `news`, ...).
    pub fn msgtype(&self) -> Option<&str> {
        self.content.tag()
    }

    /// Addresses the message.
    pub fn to(self, recipients: impl Into<Recipients>) -> AppMessage {
        AppMessage {
            message: self,
            recipients: recipients.into(),
            agentid: None,
            duplicate_check: None,
        }
    }

    /// The `message/send` request for these recipients from app `agentid`.
    pub fn request(&self, recipients: &Recipients, agentid: u32) -> MessageSendRequest {
        let mut request = MessageSendRequest::new(self.content.clone(), agentid);
        recipients.apply(&mut request);
        request.safe = self.safe;
        if self.id_trans {
            request.enable_id_trans = Some(true);
        }
        request
    }
}

/// A [`Message`] with its recipients, ready to send. Made by [`Message::to`].
#[derive(Debug, Clone, PartialEq)]
pub struct AppMessage {
    message: Message,
    recipients: Recipients,
    agentid: Option<u32>,
    duplicate_check: Option<Duration>,
}

impl AppMessage {
    /// Sends from this app instead of the client's selected one (the client still needs the
    /// app's secret: its token is the one used).
    pub fn agentid(mut self, agentid: u32) -> Self {
        self.agentid = Some(agentid);
        self
    }

    /// Asks WeCom not to deliver an identical message again within `window` (1 s to 4 hours),
    /// even across separate calls. Retries of one call are protected without it.
    pub fn duplicate_check(mut self, window: Duration) -> Self {
        self.duplicate_check = Some(window);
        self
    }

    /// Delivers this message even when an identical one (same body and recipients) was sent
    /// within the client's duplicate-check window.
    ///
    /// With retries enabled (the default) the client turns WeCom's duplicate check on for every
    /// `message/send`, so that a retried send is never delivered twice; a side effect is that a
    /// deliberate repeat of the same message within the window (30 minutes unless
    /// `ClientBuilder::duplicate_check_interval` says otherwise) is answered but not delivered.
    /// This switch turns the check off for this send; the client then does not resend it after
    /// a transient failure (a resend could deliver twice), and the error is returned instead.
    pub fn no_duplicate_check(mut self) -> Self {
        self.duplicate_check = Some(Duration::ZERO);
        self
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The recipients.
    pub fn recipients(&self) -> &Recipients {
        &self.recipients
    }

    /// The request as it will be sent by `client` (agentid filled from the client's selected app
    /// unless set). Fails when neither names an app.
    pub fn request(&self, client: &Client) -> Result<MessageSendRequest, Error> {
        let agentid = match (self.agentid, client.agentid()) {
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => {
                return Err(ConfigError::new(
                    "message/send needs the sending app's agentid, but the client has no app and the message names none",
                    "add the app with `ClientBuilder::app(agentid, secret)`, or call `.agentid(..)` on the message",
                )
                .into());
            }
        };
        let mut request = self.message.request(&self.recipients, agentid);
        match self.duplicate_check {
            Some(Duration::ZERO) => request.enable_duplicate_check = Some(false),
            Some(window) => {
                request.enable_duplicate_check = Some(true);
                request.duplicate_check_interval =
                    Some(u32::try_from(window.as_secs().clamp(1, 14_400)).unwrap_or(14_400));
            }
            None => {}
        }
        Ok(request)
    }

    /// Sends it. Every limit is checked first (nothing is sent when one is broken); retries of
    /// transient failures carry WeCom's duplicate check, so the message is delivered once.
    ///
    /// Recipients WeCom rejected (unknown, outside the app's visible scope) are listed in the
    /// [`Receipt`]; when all are rejected the call fails with errcode 81013.
    pub async fn send(&self, client: &Client) -> Result<Receipt, Error> {
        let mut request = self.request(client)?;
        if self.agentid.is_some_and(|a| client.agentid() != Some(a)) {
            let other = client.agent(request.agentid)?;
            return send_request(&other, &mut request).await;
        }
        send_request(client, &mut request).await
    }
}

/// Executes (the request's `validate()` runs the spec's constraints and [`check_send`](crate::rules::check_send)).
pub(crate) async fn send_request(
    client: &Client,
    request: &mut MessageSendRequest,
) -> Result<Receipt, Error> {
    // A dry run: what WeCom would cut (the client cuts the same fields when it sends, or refuses
    // them in strict mode).
    let truncated = wecom_core_auth::Endpoint::truncate(request, false);
    let response = client.execute(request.clone()).await?;
    let mut receipt = Receipt::from(response);
    receipt.truncated = truncated;
    Ok(receipt)
}

/// What `message/send` answered: who did not receive the message, and the ids for recall and
/// card updates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// The message's id, for [`Receipt::recall`] (within 24 hours).
    pub msgid: Option<String>,
    /// Interactive template cards: the single-use code for `message/update_template_card`.
    pub response_code: Option<String>,
    /// Members that did not receive it (unknown or outside the app's visible scope).
    pub invalid_users: Vec<String>,
    /// Departments that did not receive it.
    pub invalid_departments: Vec<u32>,
    /// Tags that did not receive it.
    pub invalid_tags: Vec<u32>,
    /// Members without an API licence.
    pub unlicensed_users: Vec<String>,
    /// Fields longer than WeCom keeps that were cut before sending (WeCom would have cut them
    /// too): text content over 2048 bytes, textcard titles over 128 characters ... Empty when
    /// nothing was cut. See [`ClientBuilder::strict_lengths`](wecom_core_auth::ClientBuilder::strict_lengths)
    /// to refuse such messages instead.
    pub truncated: Vec<wecom_core_auth::Truncated>,
}

impl Receipt {
    /// Whether every listed recipient got the message.
    pub fn is_complete(&self) -> bool {
        self.invalid_users.is_empty()
            && self.invalid_departments.is_empty()
            && self.invalid_tags.is_empty()
            && self.unlicensed_users.is_empty()
    }

    /// Withdraws the message from every recipient (within 24 hours; 42052 after).
    pub async fn recall(&self, client: &Client) -> Result<(), Error> {
        let Some(msgid) = self.msgid.as_deref() else {
            return Err(wecom_core_auth::InvalidInput::new(
                "msgid",
                "is missing from the receipt: WeCom answered none, so there is nothing to recall",
            )
            .in_context("message_recall")
            .into());
        };
        client
            .execute(MessageRecallRequest::new(msgid))
            .await
            .map(|_| ())
    }
}

impl From<MessageSendResponse> for Receipt {
    fn from(r: MessageSendResponse) -> Self {
        Self {
            msgid: r.msgid.filter(|m| !m.is_empty()),
            response_code: r.response_code.filter(|c| !c.is_empty()),
            invalid_users: r.invaliduser,
            invalid_departments: r.invalidparty,
            invalid_tags: r.invalidtag,
            unlicensed_users: r.unlicenseduser,
            truncated: Vec::new(),
        }
    }
}

/// An update of an interactive template card already delivered
/// (`message/update_template_card`): its buttons become a label, or the whole card is replaced.
/// The `response_code` comes from the [`Receipt`] or the card's callback event; it can be used
/// once, within 24 hours.
///
/// ```no_run
/// use wecom_messages::CardUpdate;
/// # async fn demo(client: &wecom_core_auth::Client, receipt: wecom_messages::Receipt) -> Result<(), wecom_core_auth::Error> {
/// if let Some(code) = receipt.response_code {
///     CardUpdate::replace_buttons(code, "已处理").for_everyone().send(client).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CardUpdate {
    /// The request, its `agentid` set at [`CardUpdate::send`] unless given.
    request: MessageUpdateTemplateCardRequest,
    agentid: Option<u32>,
}

impl CardUpdate {
    /// Turns the card's buttons into the label `label` (e.g. 已处理).
    pub fn replace_buttons(response_code: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            request: MessageUpdateTemplateCardRequest::new(0, response_code)
                .button(CardButtonUpdate::new(label)),
            agentid: None,
        }
    }

    /// Replaces the whole card.
    pub fn replace_card(response_code: impl Into<String>, card: impl Into<TemplateCard>) -> Self {
        Self {
            request: MessageUpdateTemplateCardRequest::new(0, response_code).template_card(card),
            agentid: None,
        }
    }

    /// Updates the card of these recipients only (at most 1000).
    pub fn for_users<I, S>(mut self, userids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.request
            .userids
            .extend(userids.into_iter().map(Into::into));
        self
    }

    /// Updates the card of recipients in these departments (at most 100).
    pub fn for_departments(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.request.partyids.extend(ids);
        self
    }

    /// Updates the card of recipients holding these tags (at most 100).
    pub fn for_tags(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.request.tagids.extend(ids);
        self
    }

    /// Updates the card of every recipient.
    pub fn for_everyone(mut self) -> Self {
        self.request.atall = Some(true);
        self
    }

    /// The app that sent the card, when it is not the client's selected one.
    pub fn agentid(mut self, agentid: u32) -> Self {
        self.agentid = Some(agentid);
        self
    }

    /// Sends the update (agentid filled from the client's selected app unless set); answers the
    /// recipients whose card could not be updated.
    pub async fn send(mut self, client: &Client) -> Result<Vec<String>, Error> {
        self.request.agentid = match self.agentid.or_else(|| client.agentid()) {
            Some(a) => a,
            None => {
                return Err(ConfigError::new(
                    "message/update_template_card needs the app's agentid, but the client has no app",
                    "add the app with `ClientBuilder::app(agentid, secret)`, or call `.agentid(..)`",
                )
                .into());
            }
        };
        // `validate()` runs the card's rules ([`check_update_card`](crate::rules::check_update_card)).
        Ok(client.execute(self.request).await?.invaliduser)
    }
}
