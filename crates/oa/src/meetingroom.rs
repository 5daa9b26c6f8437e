//! Meeting rooms (会议室): the rules of the 会议室管理 and 会议室预定管理 pages that relate several
//! fields, named by `spec/oa.toml` (`check = "crate::meetingroom::..."`), so the generated
//! `validate()` runs them on every path (client calls and the sandbox).
//!
//! The pages name no errcode for these rules; the errors carry none (WeCom's generic 40058 is
//! what the sandbox answers).

use wecom_core_auth::InvalidInput;

use crate::generated::oa::{
    MeetingroomAddRequest, MeetingroomEditRequest, MeetingroomGetBookingInfoRequest,
};

fn set(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

/// 会议室管理: "如果需要为会议室设置位置信息,则必须同时填写城市(city),楼宇(building)和楼层(floor)三个参数".
fn check_location(
    city: &Option<String>,
    building: &Option<String>,
    floor: &Option<String>,
) -> Result<(), InvalidInput> {
    let given = [set(city), set(building), set(floor)];
    if given.iter().any(|g| *g) && !given.iter().all(|g| *g) {
        let missing: Vec<&str> = ["city", "building", "floor"]
            .iter()
            .zip(given)
            .filter(|(_, g)| !g)
            .map(|(n, _)| *n)
            .collect();
        return Err(InvalidInput::new(
            missing.join(", "),
            "a meeting room's location needs city, building and floor together; give all three or none",
        ));
    }
    Ok(())
}

/// `meetingroom_add`: a location is city, building and floor together.
pub fn check_add(request: &MeetingroomAddRequest) -> Result<(), InvalidInput> {
    check_location(&request.city, &request.building, &request.floor)
}

/// `meetingroom_edit`: a location is city, building and floor together.
pub fn check_edit(request: &MeetingroomEditRequest) -> Result<(), InvalidInput> {
    check_location(&request.city, &request.building, &request.floor)
}

/// `meetingroom_get_booking_info`: "如需使用楼宇进行过滤,则必须同时填写城市字段" (and a floor
/// needs its building); the window is not inverted.
pub fn check_booking_query(request: &MeetingroomGetBookingInfoRequest) -> Result<(), InvalidInput> {
    if set(&request.building) && !set(&request.city) {
        return Err(InvalidInput::new(
            "city",
            "filtering by building needs the city too",
        ));
    }
    if set(&request.floor) && !set(&request.building) {
        return Err(InvalidInput::new(
            "building",
            "filtering by floor needs the building (and the city) too",
        ));
    }
    if let (Some(start), Some(end)) = (request.start_time, request.end_time)
        && end < start
    {
        return Err(InvalidInput::new(
            "end_time",
            format!("is {end}, before start_time {start}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_all_three_or_none() {
        let mut r = MeetingroomAddRequest::new("A", 8);
        assert!(check_add(&r).is_ok());
        r.city = Some("深圳".into());
        let e = check_add(&r).err();
        assert_eq!(e.map(|e| e.field), Some("building, floor".to_owned()));
        r.building = Some("腾讯大厦".into());
        r.floor = Some("18F".into());
        assert!(check_add(&r).is_ok());
    }

    #[test]
    fn a_building_filter_needs_its_city() {
        let mut q = MeetingroomGetBookingInfoRequest::new();
        q.building = Some("腾讯大厦".into());
        assert_eq!(
            check_booking_query(&q).err().map(|e| e.field),
            Some("city".to_owned())
        );
        q.city = Some("深圳".into());
        assert!(check_booking_query(&q).is_ok());
        q.start_time = Some(10);
        q.end_time = Some(5);
        assert!(check_booking_query(&q).is_err());
    }
}
