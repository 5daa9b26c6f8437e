//! Mass sends (企业群发): the rules of `add_msg_template` its field constraints cannot state
//! (named by the spec, so the generated call, the CLI and the sandbox all run them), and
//! `get_groupmsg_list_v2` as a stream over its cursor.

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::externalcontact::{AddMsgTemplateRequest, Externalcontact, GroupMsg};

/// The largest page `get_groupmsg_list_v2` serves.
pub const MAX_GROUP_MSG_PAGE: u32 = 100;

/// The rules of `add_msg_template` across fields, as its page (92135) states them in its parameter
/// table (quoted identically by WxJava, go-workwx and Senparc; the docs corpus holds the page only up
/// to its request example):
/// - `external_userid` "不可与sender同时为空": a customer mass send names its customers, or the member
///   whose customers receive it;
/// - `sender` "当类型为发送给客户群时必填": a group mass send names its sender;
/// - `text` and `attachments` "不能同时为空".
///
/// The page names no errcode for these, so the errors carry none.
pub fn check_add_msg_template(req: &AddMsgTemplateRequest) -> Result<(), InvalidInput> {
    let sender = req.sender.as_deref().is_some_and(|s| !s.is_empty());
    let group = req.chat_type.as_deref() == Some("group");
    if group && !sender {
        return Err(InvalidInput::new(
            "sender",
            "is required when chat_type is `group`: name the member whose customer groups receive it",
        ));
    }
    if !group && !sender && req.external_userid.is_empty() {
        return Err(InvalidInput::new(
            "external_userid",
            "and `sender` are both empty: a mass send needs recipients (name the customers, or the member whose customers receive it)",
        ));
    }
    let text = req
        .text
        .as_ref()
        .and_then(|t| t.content.as_deref())
        .is_some_and(|c| !c.is_empty());
    if !text && req.attachments.is_empty() {
        return Err(InvalidInput::new(
            "text",
            "and `attachments` are both empty: give a text or at least one attachment",
        ));
    }
    Ok(())
}

pub(crate) use wecom_core_auth::paging::cursor_pages;

impl<'a> Externalcontact<'a> {
    /// Every mass send of `chat_type` (`single` or `group`) created between `start_time` and
    /// `end_time` (Unix seconds), following `get_groupmsg_list_v2`'s `next_cursor` to the end.
    /// `page_size` is clamped to 1..=100. The stream ends after the first error.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    /// use wecom_externalcontact::ExternalcontactExt;
    /// # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_core_auth::Error> {
    /// let sends: Vec<_> = client
    ///     .externalcontact()
    ///     .group_msgs("single", 1_700_000_000, 1_700_086_400, 100)
    ///     .try_collect()
    ///     .await?;
    /// println!("{} mass sends", sends.len());
    /// # Ok(()) }
    /// ```
    pub fn group_msgs(
        self,
        chat_type: &str,
        start_time: i64,
        end_time: i64,
        page_size: u32,
    ) -> impl Stream<Item = Result<GroupMsg, Error>> + Send + 'a {
        let chat_type = chat_type.to_owned();
        let limit = page_size.clamp(1, MAX_GROUP_MSG_PAGE);
        cursor_pages(
            "get_groupmsg_list_v2",
            move |cursor| {
                let mut call = self
                    .get_groupmsg_list_v2(start_time, end_time)
                    .chat_type(chat_type.clone())
                    .limit(limit);
                if let Some(c) = cursor {
                    call = call.cursor(c);
                }
                call.into_future()
            },
            |page| page.next_cursor.clone(),
        )
        .map_ok(|page| stream::iter(page.group_msg_list.into_iter().map(Ok::<GroupMsg, Error>)))
        .try_flatten()
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::externalcontact::{MassAttachment, MassMedia, MassText};

    fn text(content: &str) -> MassText {
        let mut t = MassText::new();
        t.content = Some(content.to_owned());
        t
    }

    #[test]
    fn a_mass_send_needs_recipients_a_group_sender_and_content() {
        let mut req = AddMsgTemplateRequest::new().text(text("hi"));
        let e = check_add_msg_template(&req).err();
        assert_eq!(e.map(|e| e.field), Some("external_userid".to_owned()));

        req = req.sender("zhangsan");
        assert!(
            check_add_msg_template(&req).is_ok(),
            "a sender alone is enough"
        );

        let group = AddMsgTemplateRequest::new()
            .chat_type("group")
            .text(text("hi"));
        let e = check_add_msg_template(&group).err();
        assert_eq!(e.map(|e| e.field), Some("sender".to_owned()));

        let empty = AddMsgTemplateRequest::new()
            .external_userid(vec!["wmA".to_owned()])
            .text(text(""));
        let e = check_add_msg_template(&empty).err();
        assert_eq!(e.map(|e| e.field), Some("text".to_owned()));
        let with_file = empty.attachments(vec![MassAttachment::File(MassMedia::new("m"))]);
        assert!(check_add_msg_template(&with_file).is_ok());
    }
}
