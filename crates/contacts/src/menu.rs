//! Builders for well-formed custom-menu buttons.
//!
//! The spec checks lengths and counts; which fields an action needs (a `click` needs a `key`, a
//! `view` a `url`, a mini-program its `appid` and `pagepath`) depends on the action, which the
//! spec format cannot say. These constructors set exactly what each action needs.
//!
//! ```
//! use wecom_contacts::{MenuButton, MenuCreateRequest, MenuSubButton};
//! let menu = MenuCreateRequest::new(1000002, [
//!     MenuButton::click("今日报表", "REPORT_TODAY"),
//!     MenuButton::group("更多", [
//!         MenuSubButton::view("官网", "https://example.com"),
//!         MenuSubButton::scancode_push("扫一扫", "SCAN"),
//!     ]),
//! ]);
//! assert_eq!(menu.button.len(), 2);
//! ```

use crate::generated::contacts::{MenuAction, MenuButton, MenuSubButton};

macro_rules! keyed_actions {
    ($ty:ident, $ctor:expr, $($(#[$doc:meta])* $name:ident => $action:ident),* $(,)?) => {
        impl $ty {
            $(
                $(#[$doc])*
                pub fn $name(name: impl Into<String>, key: impl Into<String>) -> Self {
                    let mut b: $ty = $ctor(name.into(), MenuAction::$action);
                    b.key = Some(key.into());
                    b
                }
            )*

            /// A button opening `url` (a `view` event is pushed too).
            pub fn view(name: impl Into<String>, url: impl Into<String>) -> Self {
                let mut b: $ty = $ctor(name.into(), MenuAction::View);
                b.url = Some(url.into());
                b
            }

            /// A button opening page `pagepath` of mini-program `appid`.
            pub fn miniprogram(name: impl Into<String>, appid: impl Into<String>, pagepath: impl Into<String>) -> Self {
                let mut b: $ty = $ctor(name.into(), MenuAction::ViewMiniprogram);
                b.appid = Some(appid.into());
                b.pagepath = Some(pagepath.into());
                b
            }
        }
    };
}

fn top(name: String, action: MenuAction) -> MenuButton {
    MenuButton::new(name).action(action)
}

fn sub(name: String, action: MenuAction) -> MenuSubButton {
    MenuSubButton::new(action, name)
}

keyed_actions!(MenuButton, top,
    /// A button sending a `click` event with `key`.
    click => Click,
    /// A button scanning a code and opening the result (`scancode_push` event with `key`).
    scancode_push => ScancodePush,
    /// A button scanning a code and waiting for the app's reply (`scancode_waitmsg` event).
    scancode_waitmsg => ScancodeWaitmsg,
    /// A button taking a photo (`pic_sysphoto` event).
    pic_sysphoto => PicSysphoto,
    /// A button taking a photo or picking one from the album (`pic_photo_or_album` event).
    pic_photo_or_album => PicPhotoOrAlbum,
    /// A button picking from the WeCom album (`pic_weixin` event).
    pic_weixin => PicWeixin,
    /// A button sending a location (`location_select` event).
    location_select => LocationSelect,
);

keyed_actions!(MenuSubButton, sub,
    /// A button sending a `click` event with `key`.
    click => Click,
    /// A button scanning a code and opening the result (`scancode_push` event with `key`).
    scancode_push => ScancodePush,
    /// A button scanning a code and waiting for the app's reply (`scancode_waitmsg` event).
    scancode_waitmsg => ScancodeWaitmsg,
    /// A button taking a photo (`pic_sysphoto` event).
    pic_sysphoto => PicSysphoto,
    /// A button taking a photo or picking one from the album (`pic_photo_or_album` event).
    pic_photo_or_album => PicPhotoOrAlbum,
    /// A button picking from the WeCom album (`pic_weixin` event).
    pic_weixin => PicWeixin,
    /// A button sending a location (`location_select` event).
    location_select => LocationSelect,
);

impl MenuButton {
    /// A group of 1-5 buttons under `name` (menus have two levels).
    pub fn group(
        name: impl Into<String>,
        buttons: impl IntoIterator<Item = MenuSubButton>,
    ) -> Self {
        MenuButton::new(name).sub_button(buttons)
    }
}

/// What an action needs besides its name, as WeCom checks it: `(field, errcode)` of the first
/// missing field, or `None` when the button is complete. Used by the sandbox; useful before
/// `menu/create` when buttons come from configuration.
pub fn missing_field(
    action: &MenuAction,
    key: Option<&str>,
    url: Option<&str>,
    appid: Option<&str>,
    pagepath: Option<&str>,
) -> Option<(&'static str, i64)> {
    let empty = |v: Option<&str>| v.is_none_or(str::is_empty);
    match action {
        MenuAction::View if empty(url) => Some(("url", 40020)),
        MenuAction::ViewMiniprogram if empty(appid) => Some(("appid", 90200)),
        MenuAction::ViewMiniprogram if empty(pagepath) => Some(("pagepath", 40058)),
        MenuAction::View | MenuAction::ViewMiniprogram => None,
        MenuAction::Unknown(_) => None,
        _ if empty(key) => Some(("key", 40019)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_what_the_action_needs() {
        let b = MenuButton::click("报表", "R");
        assert_eq!(b.action, Some(MenuAction::Click));
        assert_eq!(b.key.as_deref(), Some("R"));
        let v = MenuSubButton::view("官网", "https://example.com");
        assert_eq!(v.action, MenuAction::View);
        assert_eq!(
            missing_field(&v.action, v.key.as_deref(), v.url.as_deref(), None, None),
            None
        );
        let m = MenuButton::miniprogram("小程序", "wx123", "pages/index");
        assert_eq!(m.action, Some(MenuAction::ViewMiniprogram));
        let g = MenuButton::group("更多", [MenuSubButton::location_select("位置", "LOC")]);
        assert_eq!(g.sub_button.len(), 1);
        assert_eq!(g.action, None);
    }

    #[test]
    fn missing_fields_name_wecom_errcodes() {
        assert_eq!(
            missing_field(&MenuAction::Click, None, None, None, None),
            Some(("key", 40019))
        );
        assert_eq!(
            missing_field(&MenuAction::Click, Some(""), None, None, None),
            Some(("key", 40019))
        );
        assert_eq!(
            missing_field(&MenuAction::View, None, None, None, None),
            Some(("url", 40020))
        );
        assert_eq!(
            missing_field(&MenuAction::ViewMiniprogram, None, None, None, Some("p")),
            Some(("appid", 90200))
        );
        assert_eq!(
            missing_field(&MenuAction::PicWeixin, Some("k"), None, None, None),
            None
        );
    }
}
