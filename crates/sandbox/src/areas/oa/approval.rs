//! Approvals (审批), check-in (打卡) and journals (汇报).

use crate::registry::Registry;

/// Registers the handlers of this part.
pub fn register(_r: &mut Registry) {}
