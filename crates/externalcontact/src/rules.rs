//! Rules of the customer-contact spec (part 1) that field constraints cannot state, named by the
//! spec (`check = "crate::rules::..."`): the generated `validate()` calls them, so the generated
//! calls and the sandbox refuse the same requests.

use wecom_core_auth::InvalidInput;

use crate::generated::externalcontact::{
    GroupchatStatisticGroupByDayRequest, GroupchatStatisticRequest, UserBehaviorDataRequest,
};

/// Seconds in a day.
const DAY: i64 = 86_400;
/// Beijing time (UTC+8): WeCom floors the times to its midnight.
const BEIJING: i64 = 8 * 3_600;
/// The longest span `get_user_behavior_data` serves (the page: 支持的最大查询跨度为30天).
pub const MAX_BEHAVIOR_SPAN_DAYS: i64 = 30;

/// `t` floored to 00:00 Beijing time, as WeCom does with the query's times.
pub fn beijing_day(t: i64) -> i64 {
    (t + BEIJING).div_euclid(DAY) * DAY - BEIJING
}

/// `get_user_behavior_data`: `end_time` is not before `start_time`, and the days are at most
/// 30 apart (doc 96358). The page names no errcode for the span; the global 600018 (无效的起始
/// 结束时间) is what WeCom answers for bad times.
pub fn check_behavior_range(req: &UserBehaviorDataRequest) -> Result<(), InvalidInput> {
    check_span(req.start_time, req.end_time)
}

/// `groupchat/statistic`: the same 30-day span (doc 96359), `day_end_time` defaulting to
/// `day_begin_time`.
pub fn check_groupchat_statistic_range(
    req: &GroupchatStatisticRequest,
) -> Result<(), InvalidInput> {
    check_span(
        req.day_begin_time,
        req.day_end_time.unwrap_or(req.day_begin_time),
    )
    .map_err(rename)
}

/// `groupchat/statistic_group_by_day`: the same 30-day span (doc 96359).
pub fn check_groupchat_statistic_by_day_range(
    req: &GroupchatStatisticGroupByDayRequest,
) -> Result<(), InvalidInput> {
    check_span(
        req.day_begin_time,
        req.day_end_time.unwrap_or(req.day_begin_time),
    )
    .map_err(rename)
}

fn rename(mut e: InvalidInput) -> InvalidInput {
    if e.field == "end_time" {
        e.field = "day_end_time".into();
    }
    e.problem = e.problem.replace("start_time", "day_begin_time");
    e
}

fn check_span(start_time: i64, end_time: i64) -> Result<(), InvalidInput> {
    let (start, end) = (beijing_day(start_time), beijing_day(end_time));
    if end < start {
        return Err(InvalidInput::new(
            "end_time",
            format!("is before start_time ({end_time} < {start_time})"),
        )
        .with_errcode(Some(600_018)));
    }
    let days = (end - start) / DAY;
    if days > MAX_BEHAVIOR_SPAN_DAYS {
        return Err(InvalidInput::new(
            "end_time",
            format!(
                "is {days} days after start_time; at most {MAX_BEHAVIOR_SPAN_DAYS} (query longer periods in slices)"
            ),
        )
        .with_errcode(Some(600_018)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(start: i64, end: i64) -> UserBehaviorDataRequest {
        UserBehaviorDataRequest::new(start, end)
    }

    #[test]
    fn days_floor_to_beijing_midnight() {
        // The page's example: 1554296400 (Wed Apr 3 21:00 CST 2019) -> 1554220800 (00:00 CST).
        assert_eq!(beijing_day(1_554_296_400), 1_554_220_800);
        assert_eq!(beijing_day(1_554_220_800), 1_554_220_800);
    }

    #[test]
    fn the_span_is_at_most_30_days() {
        let d0 = 1_554_220_800;
        assert!(check_behavior_range(&req(d0, d0)).is_ok());
        assert!(check_behavior_range(&req(d0, d0 + 30 * DAY + 3_600)).is_ok());
        let e = check_behavior_range(&req(d0, d0 + 31 * DAY)).err();
        assert_eq!(e.and_then(|e| e.errcode), Some(600_018));
        let e = check_behavior_range(&req(d0 + DAY, d0)).err();
        assert_eq!(e.map(|e| e.field), Some("end_time".to_owned()));
    }
}
