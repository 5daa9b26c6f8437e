//! Schedules (日程): the repeat rule's cross-field rules, named by `spec/oa.toml`
//! (`[model.ScheduleReminders] check = "crate::schedule::check_reminders"`), so every schedule
//! sent (add, update, the sandbox) runs them.

use wecom_core_auth::InvalidInput;

use crate::generated::oa::{RepeatType, ScheduleAttendee, ScheduleReminders};

/// An attendee by userid: `client.oa().schedule_add_attendees(id, ["alice", "bob"])`.
impl From<&str> for ScheduleAttendee {
    fn from(userid: &str) -> Self {
        ScheduleAttendee::new(userid)
    }
}

/// An attendee by userid.
impl From<String> for ScheduleAttendee {
    fn from(userid: String) -> Self {
        ScheduleAttendee::new(userid)
    }
}

/// A repeat rule's fields only make sense together (创建日程):
/// - `repeat_type`, `repeat_until`, `is_custom_repeat` need `is_repeat` = 1;
/// - a custom repeat (`is_custom_repeat` = 1) needs `repeat_interval` (WeCom: 90486,
///   缺失repeate_interval参数);
/// - `repeat_day_of_week` belongs to a custom weekly repeat and `repeat_day_of_month` to a custom
///   monthly one ("仅当指定为自定义重复且重复类型为每周/每月时有效").
pub fn check_reminders(r: &ScheduleReminders) -> Result<(), InvalidInput> {
    let repeat = r.is_repeat == Some(true);
    let custom = r.is_custom_repeat == Some(true);
    if !repeat {
        for (field, given) in [
            ("repeat_type", r.repeat_type.is_some()),
            ("repeat_until", r.repeat_until.is_some_and(|u| u != 0)),
            ("is_custom_repeat", custom),
        ] {
            if given {
                return Err(InvalidInput::new(
                    field,
                    "is part of a repeat rule: set is_repeat to 1 (or drop it)",
                ));
            }
        }
        return Ok(());
    }
    if custom && r.repeat_interval.is_none() {
        return Err(InvalidInput::new(
            "repeat_interval",
            "a custom repeat (is_custom_repeat = 1) needs repeat_interval",
        )
        .with_errcode(Some(90486)));
    }
    let custom_weekly = custom && matches!(r.repeat_type, Some(RepeatType::Weekly));
    let custom_monthly = custom && matches!(r.repeat_type, Some(RepeatType::Monthly));
    if !r.repeat_day_of_week.is_empty() && !custom_weekly {
        return Err(InvalidInput::new(
            "repeat_day_of_week",
            "counts only for a custom weekly repeat (is_custom_repeat = 1, repeat_type = 1)",
        ));
    }
    if !r.repeat_day_of_month.is_empty() && !custom_monthly {
        return Err(InvalidInput::new(
            "repeat_day_of_month",
            "counts only for a custom monthly repeat (is_custom_repeat = 1, repeat_type = 2)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wecom_core_auth::__private::Validate as _;

    #[test]
    fn repeat_fields_need_is_repeat() {
        let r = ScheduleReminders::new().repeat_type(RepeatType::Weekly);
        assert_eq!(
            check_reminders(&r).err().map(|e| e.field),
            Some("repeat_type".to_owned())
        );
        assert!(check_reminders(&r.is_repeat(true)).is_ok());
    }

    #[test]
    fn a_custom_repeat_needs_its_interval_and_the_right_kind() {
        let r = ScheduleReminders::new()
            .is_repeat(true)
            .is_custom_repeat(true)
            .repeat_type(RepeatType::Monthly)
            .repeat_day_of_week(vec![1, 3]);
        let e = check_reminders(&r).err();
        assert_eq!(e.as_ref().and_then(|e| e.errcode), Some(90486));
        let r = r.repeat_interval(2);
        assert_eq!(
            check_reminders(&r).err().map(|e| e.field),
            Some("repeat_day_of_week".to_owned())
        );
        let r = r.repeat_type(RepeatType::Weekly);
        assert!(check_reminders(&r).is_ok());
        // The generated validate() runs the check too.
        assert!(r.validate().is_ok());
        assert!(ScheduleReminders::new().repeat_until(5).validate().is_err());
    }
}
