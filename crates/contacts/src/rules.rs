//! Rules of the contacts spec that its field constraints cannot state, named by the spec
//! (`check = "crate::rules::..."`): the generated `validate()` calls them, so the generated calls,
//! the hand-written helpers and the sandbox all refuse the same requests.

use wecom_core_auth::InvalidInput;

use crate::generated::contacts::ExtAttrItem;

/// One custom field of a member's `extattr`: a web field's `url` and `title` are both empty
/// (which clears the field) or both given. Doc 100111 (成员扩展属性): "url和title字段要么同时为空
/// 表示清除该属性,要么同时不为空". The page names no errcode, so the error carries none.
pub fn check_ext_attr_item(item: &ExtAttrItem) -> Result<(), InvalidInput> {
    if let Some(web) = &item.web
        && web.url.is_empty() != web.title.is_empty()
    {
        let (given, empty) = if web.url.is_empty() {
            ("title", "url")
        } else {
            ("url", "title")
        };
        return Err(InvalidInput::new(
            format!("web.{empty}"),
            format!(
                "is empty while `web.{given}` is not: give both, or leave both empty to clear the field"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::contacts::{ExtAttrType, ExtAttrWeb};

    fn web(url: &str, title: &str) -> ExtAttrItem {
        let mut item = ExtAttrItem::new(ExtAttrType::Web, "site");
        item.web = Some(ExtAttrWeb::new(url, title));
        item
    }

    #[test]
    fn web_fields_are_both_given_or_both_empty() {
        assert!(check_ext_attr_item(&web("https://e.com", "Site")).is_ok());
        assert!(
            check_ext_attr_item(&web("", "")).is_ok(),
            "both empty clears it"
        );
        let e = check_ext_attr_item(&web("https://e.com", "")).err();
        assert_eq!(e.map(|e| e.field), Some("web.title".to_owned()));
        let e = check_ext_attr_item(&web("", "Site")).err();
        assert_eq!(e.map(|e| e.field), Some("web.url".to_owned()));
    }
}
