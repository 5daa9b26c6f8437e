//! Group robots (群机器人): messages into a group chat through a webhook key.

use std::path::Path;

use base64::Engine as _;
use md5::{Digest, Md5};
use wecom_core_auth::{Client, Error, Upload};

use crate::generated::messages::{
    MediaMessage, MediaType, RobotArticle, RobotCard, RobotImage, RobotMarkdown, RobotMarkdownV2,
    RobotMessage, RobotNews, RobotTemplateCard, RobotText, WebhookSendRequest,
    WebhookUploadMediaRequest, WebhookUploadMediaResponse,
};
use crate::media::MediaError;

impl RobotMessage {
    /// Text, 1 to 2048 bytes. Mention members with [`RobotText::mentioned_list`]
    /// (`RobotMessage::from(RobotText::new("..").mentioned_list(["zhangsan"]))`).
    pub fn text(content: impl Into<String>) -> Self {
        Self::Text(RobotText::new(content))
    }

    /// Markdown, 1 to 4096 bytes (40058 beyond).
    pub fn markdown(content: impl Into<String>) -> Self {
        Self::Markdown(RobotMarkdown::new(content))
    }

    /// Markdown v2 (doc 99110): tables, lists, images and dividers, but no `<@userid>` mentions.
    /// The page gives no length limit that this SDK could read, so none is checked here.
    ///
    /// ```
    /// use wecom_messages::RobotMessage;
    /// let m = RobotMessage::markdown_v2("| a | b |\n| :- | -: |\n| 1 | 2 |");
    /// assert!(matches!(m, RobotMessage::MarkdownV2(_)));
    /// ```
    pub fn markdown_v2(content: impl Into<String>) -> Self {
        Self::MarkdownV2(RobotMarkdownV2::new(content))
    }

    /// An image sent inline: base64 and MD5 are computed here. JPG or PNG, at most 2 MB
    /// (checked when sending, errcode 40009).
    pub fn image(bytes: &[u8]) -> Self {
        let md5 = Md5::digest(bytes);
        let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
        Self::Image(RobotImage::new(
            base64::engine::general_purpose::STANDARD.encode(bytes),
            hex,
        ))
    }

    /// 1 to 8 linked articles.
    pub fn news(articles: impl IntoIterator<Item = RobotArticle>) -> Self {
        Self::News(RobotNews::new(articles))
    }

    /// A file uploaded with [`Robot::upload`] (type file).
    pub fn file(media_id: impl Into<String>) -> Self {
        Self::File(MediaMessage::new(media_id))
    }

    /// A voice clip uploaded with [`Robot::upload`] (type voice).
    pub fn voice(media_id: impl Into<String>) -> Self {
        Self::Voice(MediaMessage::new(media_id))
    }

    /// A text_notice or news_notice template card.
    pub fn template_card(card: impl Into<RobotCard>) -> Self {
        Self::TemplateCard(RobotTemplateCard::new(card))
    }
}

/// A group robot: a client with the robot's webhook key selected.
///
/// ```no_run
/// use wecom_messages::{Robot, RobotMessage, RobotText};
/// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
/// let robot_client = client.robot(wecom_core_auth::Secret::new("693a91f6-...".to_owned()));
/// let robot = Robot::new(&robot_client);
/// robot.send(RobotMessage::from(RobotText::new("Deploy done").mentioned_list(["@all"]))).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Robot<'a> {
    client: &'a Client,
}

impl<'a> Robot<'a> {
    /// The robot of `client` (select it with [`Client::robot`]).
    pub fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// Posts a message (every limit checked first). At most 20 messages a minute per robot.
    pub async fn send(&self, message: impl Into<RobotMessage>) -> Result<(), Error> {
        // `validate()` runs the spec's limits and the card rules ([`check_robot`](crate::rules::check_robot)).
        let message = message.into();
        self.client
            .execute(WebhookSendRequest::new(message))
            .await
            .map(|_| ())
    }

    /// Uploads a file (6 bytes to 20 MB) or an AMR voice clip (up to 2 MB) for a file/voice
    /// message, checked before sending and streamed.
    pub async fn upload(
        &self,
        kind: MediaType,
        upload: Upload,
    ) -> Result<WebhookUploadMediaResponse, Error> {
        // `validate()` checks the file (`media::check_robot_upload`) before anything is sent.
        self.client
            .execute(WebhookUploadMediaRequest::new(kind, upload))
            .await
    }

    /// Uploads a file from disk (see [`Robot::upload`]).
    pub async fn upload_path(
        &self,
        kind: MediaType,
        path: impl AsRef<Path>,
    ) -> Result<WebhookUploadMediaResponse, MediaError> {
        let path = path.as_ref();
        let upload = Upload::from_path(path).map_err(|source| MediaError::Io {
            action: "opening",
            target: path.display().to_string(),
            source,
        })?;
        Ok(self.upload(kind, upload).await?)
    }
}
