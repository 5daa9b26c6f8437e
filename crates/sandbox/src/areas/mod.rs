//! Handlers per area, one file each. An area exposes `pub fn register(r: &mut Registry)`;
//! [`register_all`] calls every area's. Adding an area = a new file here and one line below.

use crate::registry::Registry;

pub mod auth;
pub mod contacts;
pub mod messages;

/// Registers the handlers of every area.
pub fn register_all(r: &mut Registry) {
    auth::register(r);
    contacts::register(r);
    messages::register(r);
}
