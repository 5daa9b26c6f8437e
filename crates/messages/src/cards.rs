//! Short constructors for the parts of template cards (the generated `new()` + setters work too).

use crate::generated::messages::{
    CardAction, CardButton, CardButtonType, CardContentType, CardHorizontalContent, CardJump,
    CardLinkType,
};

impl CardAction {
    /// Tapping the card opens `url`.
    pub fn open_url(url: impl Into<String>) -> Self {
        Self::new(CardLinkType::Url).url(url)
    }

    /// Tapping the card opens a page of a mini-program linked to the app.
    pub fn open_miniprogram(appid: impl Into<String>, pagepath: impl Into<String>) -> Self {
        Self::new(CardLinkType::Miniprogram)
            .appid(appid)
            .pagepath(pagepath)
    }
}

impl CardButton {
    /// A button that sends a callback event with `key` (and a `response_code` to update the card).
    pub fn callback(text: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(text)
            .button_type(CardButtonType::Callback)
            .key(key)
    }

    /// A button that opens `url`.
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(text).button_type(CardButtonType::Url).url(url)
    }
}

impl CardJump {
    /// A link opening `url`.
    pub fn to_url(title: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(title).link_type(CardLinkType::Url).url(url)
    }

    /// A link opening a mini-program page.
    pub fn to_miniprogram(
        title: impl Into<String>,
        appid: impl Into<String>,
        pagepath: impl Into<String>,
    ) -> Self {
        Self::new(title)
            .link_type(CardLinkType::Miniprogram)
            .appid(appid)
            .pagepath(pagepath)
    }
}

impl CardHorizontalContent {
    /// A plain key/value line.
    pub fn plain(keyname: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(keyname).value(value)
    }

    /// A line whose value opens `url`.
    pub fn link(
        keyname: impl Into<String>,
        value: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        Self::new(keyname)
            .content_type(CardContentType::Url)
            .value(value)
            .url(url)
    }

    /// A file to download: `file_name` (with its extension) and the media_id of an upload.
    pub fn attachment(
        keyname: impl Into<String>,
        file_name: impl Into<String>,
        media_id: impl Into<String>,
    ) -> Self {
        Self::new(keyname)
            .content_type(CardContentType::Attachment)
            .value(file_name)
            .media_id(media_id)
    }

    /// A line opening a member's profile.
    pub fn member(
        keyname: impl Into<String>,
        value: impl Into<String>,
        userid: impl Into<String>,
    ) -> Self {
        Self::new(keyname)
            .content_type(CardContentType::Member)
            .value(value)
            .userid(userid)
    }
}
