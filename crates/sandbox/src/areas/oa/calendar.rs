//! Calendars and schedules (日程), meeting rooms (会议室), live streams (直播), corp-paid calls
//! (公费电话).

use crate::registry::Registry;

/// Registers the handlers of this part.
pub fn register(_r: &mut Registry) {}
