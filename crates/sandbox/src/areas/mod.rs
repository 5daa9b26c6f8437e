//! Handlers per area, one file each. An area exposes `pub fn register(r: &mut Registry)`;
//! [`register_all`] calls every area's. Adding an area = a new file here and one line below.

use crate::registry::Registry;

pub mod auth;
pub mod contacts;
pub mod corpgroup;
pub mod directory_extra;
pub mod export;
pub mod externalcontact;
pub mod invoice;
pub mod kf;
pub mod messages;
pub mod messages_extra;
pub mod msgaudit;
pub mod oa;
pub mod school;
pub mod tfa;
pub mod wedrive;

/// Registers the handlers of every area.
pub fn register_all(r: &mut Registry) {
    auth::register(r);
    contacts::register(r);
    messages::register(r);
    externalcontact::register(r);
    oa::register(r);
    kf::register(r);
    // Issue 16 part 3: export, linked corps, workbench, ID conversion, 二次验证, media extras.
    export::register(r);
    directory_extra::register(r);
    messages_extra::register(r);
    tfa::register(r);
    wedrive::register(r);
    // Issue 17: 会话内容存档 (HTTP part) and 电子发票.
    msgaudit::register(r);
    invoice::register(r);
    // Issue 17: 家校沟通 (school directory, OAuth identity, 上课直播 statistics, 学校通知).
    school::register(r);
    // Issue 17 item 4: 上下游 (downstream tokens, app shares, mini-program sessions).
    corpgroup::register(r);
    // Endpoints declared as resource operations in the spec (`[endpoint.resource]`), for those
    // without a handler above.
    r.add_resources(wecom_core_auth::generated::auth::RESOURCES);
    r.add_resources(wecom_contacts::generated::contacts::RESOURCES);
    r.add_resources(wecom_messages::generated::messages::RESOURCES);
    r.add_resources(wecom_externalcontact::generated::externalcontact::RESOURCES);
    r.add_resources(wecom_oa::generated::oa::RESOURCES);
    r.add_resources(wecom_kf::generated::kf::RESOURCES);
    r.add_resources(wecom_wedrive::generated::wedrive::RESOURCES);
    r.add_resources(wecom_msgaudit::generated::msgaudit::RESOURCES);
    r.add_resources(wecom_invoice::generated::invoice::RESOURCES);
    r.add_resources(wecom_corpgroup::generated::corpgroup::RESOURCES);
    r.add_resources(wecom_school::generated::school::RESOURCES);
}
