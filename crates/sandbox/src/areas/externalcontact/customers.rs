//! Customers and their follow users, remarks, corp tags, contact ways, join ways, customer groups.

use crate::registry::Registry;

/// Registers the handlers of this part.
pub fn register(_r: &mut Registry) {}
