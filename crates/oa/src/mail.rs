//! 邮件 (mail the app sends, `exmail/app/compose_send`): the page's rules that relate several
//! fields, named by `spec/oa.toml` (`check = "crate::mail::check_compose_send"`) so the generated
//! `validate()` runs them before any request, and [`MailAttachment::from_bytes`].
//!
//! The page (发送普通邮件) says: "to.emails 和 to.userids 至少传一个" and "所有附件加正文的大小不允许
//! 超过50M, 且附件个数不能超过200个" (the count is a spec constraint). It names no errcode for them.
//! "50M" is read as 50 MiB; attachment sizes are their decoded sizes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use wecom_core_auth::InvalidInput;

use crate::generated::oa::{MailAttachment, MailComposeSendRequest};

/// Attachments plus body, at most 50 MB (read as 50 MiB).
pub const MAX_TOTAL_BYTES: u64 = 50 * 1024 * 1024;

impl MailAttachment {
    /// An attachment from a file's name and bytes (encoded in standard base64).
    ///
    /// ```
    /// let a = wecom_oa::MailAttachment::from_bytes("a.txt", b"hello");
    /// assert_eq!(a.content, "aGVsbG8=");
    /// ```
    pub fn from_bytes(file_name: impl Into<String>, bytes: &[u8]) -> Self {
        Self::new(file_name, STANDARD.encode(bytes))
    }
}

/// The decoded size of standard, padded base64, or why it is not base64.
fn decoded_len(b64: &str) -> Result<u64, String> {
    let bytes = b64.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return Err(format!(
            "is {} characters long, not a multiple of 4: not padded base64",
            bytes.len()
        ));
    }
    let pad = bytes.iter().rev().take_while(|b| **b == b'=').count();
    if pad > 2 {
        return Err("ends with more than two '=': not base64".into());
    }
    if let Some(i) = bytes[..bytes.len() - pad]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'))
    {
        return Err(format!(
            "has {:?} at byte {i}: not standard base64 (encode the file with MailAttachment::from_bytes)",
            char::from(bytes[i])
        ));
    }
    Ok((bytes.len() as u64 / 4) * 3 - pad as u64)
}

/// `mail_compose_send`: at least one recipient in `to`; attachments are base64 and, with the
/// body, at most [`MAX_TOTAL_BYTES`].
pub fn check_compose_send(request: &MailComposeSendRequest) -> Result<(), InvalidInput> {
    if request.to.emails.is_empty() && request.to.userids.is_empty() {
        return Err(InvalidInput::new(
            "to",
            "has no recipient: give to.emails or to.userids (至少传一个)",
        ));
    }
    let mut total = request.content.len() as u64;
    for (i, a) in request.attachment_list.iter().enumerate() {
        let n = decoded_len(&a.content)
            .map_err(|why| InvalidInput::new(format!("attachment_list[{i}].content"), why))?;
        total += n;
    }
    if total > MAX_TOTAL_BYTES {
        return Err(InvalidInput::new(
            "attachment_list",
            format!(
                "attachments plus body are {total} bytes; at most 50 MB ({MAX_TOTAL_BYTES} bytes) in one mail: send fewer or smaller files"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::oa::MailRecipients;
    use wecom_core_auth::__private::Validate as _;

    fn to() -> MailRecipients {
        MailRecipients::new().userids(vec!["zhangsan".to_owned()])
    }

    #[test]
    fn decoded_sizes() {
        assert_eq!(decoded_len(""), Ok(0));
        assert_eq!(decoded_len("aGVsbG8="), Ok(5));
        assert_eq!(decoded_len("aGVsbA=="), Ok(4));
        assert!(decoded_len("aGVsbG8").is_err());
        assert!(decoded_len("aGVs*G8=").is_err());
    }

    #[test]
    fn a_mail_needs_a_recipient() {
        let e = MailComposeSendRequest::new(MailRecipients::new(), "s", "c")
            .validate()
            .expect_err("no recipient");
        assert!(e.to_string().contains("to"), "{e}");
        assert!(
            MailComposeSendRequest::new(to(), "s", "c")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn size_and_count_limits() {
        // 50 MiB of attachment plus a one-byte body: one byte over.
        let big = MailAttachment::new(
            "big.bin",
            "A".repeat((MAX_TOTAL_BYTES / 3 * 4) as usize + 4),
        );
        let r = MailComposeSendRequest::new(to(), "s", "c").attachment_list(vec![big]);
        assert!(r.validate().is_err());
        let many = vec![MailAttachment::from_bytes("a.txt", b"x"); 201];
        assert!(
            MailComposeSendRequest::new(to(), "s", "c")
                .attachment_list(many)
                .validate()
                .is_err()
        );
        let ok = vec![MailAttachment::from_bytes("a.txt", b"x"); 200];
        assert!(
            MailComposeSendRequest::new(to(), "s", "c")
                .attachment_list(ok)
                .validate()
                .is_ok()
        );
    }
}
