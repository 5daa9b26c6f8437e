//! WeChat customer service (微信客服): accounts, servicers, sessions, messages, customers.

use crate::registry::Registry;

/// Registers the 微信客服 handlers.
pub fn register(_r: &mut Registry) {}
