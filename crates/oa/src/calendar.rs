//! Calendars (日历): conveniences over the generated types.

use crate::generated::oa::CalendarShare;

/// A share member by userid, with the default permission (可查看).
impl From<&str> for CalendarShare {
    fn from(userid: &str) -> Self {
        CalendarShare::new(userid)
    }
}

/// A share member by userid, with the default permission (可查看).
impl From<String> for CalendarShare {
    fn from(userid: String) -> Self {
        CalendarShare::new(userid)
    }
}
