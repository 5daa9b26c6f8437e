//! Rules of 家校沟通 requests the spec's field constraints cannot say, named by `spec/school.toml`
//! (`check = "crate::rules::..."`), so the generated `validate()` runs them on every path (the
//! client before I/O, the sandbox on arrival).

use wecom_core_auth::InvalidInput;

use crate::generated::school::{SchoolDepartmentCreateRequest, SchoolMessageSendRequest};

/// `school/department/create`: register_year and standard_grade are for grades only (the page:
/// "仅当部门类型为年级(2)时生效"). The page says they take no effect elsewhere rather than naming an
/// error, so this check only refuses what cannot be meant: a non-grade with a standard grade.
/// 65009 is WeCom's "无效的标准年级类型".
pub fn check_department_create(
    request: &SchoolDepartmentCreateRequest,
) -> Result<(), InvalidInput> {
    if request.kind != 2 && request.standard_grade.is_some_and(|g| g != 0) {
        return Err(InvalidInput::new(
            "standard_grade",
            "applies to grades only (type 2): drop it, or create the department with type 2",
        )
        .with_errcode(Some(65009)));
    }
    Ok(())
}

/// `externalcontact/message/send` (学校通知): the content object `msgtype` names must be present,
/// and the notice needs a recipient (parents, students, departments or `toall`). The page names no
/// errcode for either; the sandbox answers 40008 (invalid message type) and 40058 (a required
/// parameter is missing), as for message/send.
pub fn check_message_send(request: &SchoolMessageSendRequest) -> Result<(), InvalidInput> {
    let present = match request.msgtype.as_str() {
        "text" => request.text.is_some(),
        "image" => request.image.is_some(),
        "voice" => request.voice.is_some(),
        "video" => request.video.is_some(),
        "file" => request.file.is_some(),
        "news" => request.news.is_some(),
        "mpnews" => request.mpnews.is_some(),
        "miniprogram" => request.miniprogram.is_some(),
        _ => true, // the field's `values` refuses other types
    };
    if !present {
        return Err(InvalidInput::new(
            request.msgtype.as_str(),
            "is the msgtype but its content object is missing: set the field named like the msgtype",
        )
        .with_errcode(Some(40008)));
    }
    let to_all = request.toall == Some(true);
    if !to_all
        && request.to_parent_userid.is_empty()
        && request.to_student_userid.is_empty()
        && request.to_party.is_empty()
    {
        return Err(InvalidInput::new(
            "to_parent_userid",
            "no recipient: name parents, students or departments, or set toall = 1",
        )
        .with_errcode(Some(40058)));
    }
    Ok(())
}
