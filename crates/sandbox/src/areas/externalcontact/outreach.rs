//! Mass sends, welcome messages, group welcome templates, transfers, moments, statistics,
//! intercept rules, 获客助手, product albums.

use crate::registry::Registry;

/// Registers the handlers of this part.
pub fn register(_r: &mut Registry) {}
