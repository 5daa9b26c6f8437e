//! The demo education corp (`wecom sandbox --corp school-demo`): the demo corp's people and apps
//! as the school's teachers and apps, plus a school directory: one campus, one primary stage, two
//! standard grades (入学年份 2024 and 2025) with two classes each, eight students, and parents
//! linked to them (one parent with two children, one student with two parents), one of them
//! subscribed to 学校通知, one 上课直播 class with watchers, one 班级收款 project, and the
//! parents' scope of both demo apps (审批: the whole school; 研发周报: 小明's parents).

use serde_json::from_value;
use serde_json::json;

use super::model::School;
use crate::corp::Corp;

/// The demo school's directory (checked against the demo corp's teachers).
pub fn demo_school() -> School {
    // The data is fixed; `school_demo_is_consistent` (tests) proves it parses and checks.
    from_value(json!({
        "department": [
            { "id": 1, "name": "示例实验小学", "parentid": 0, "type": 5 },
            { "id": 2, "name": "本部校区", "parentid": 1, "type": 4,
              "admin": [{ "userid": "zhangwei", "type": 1 }] },
            { "id": 3, "name": "小学部", "parentid": 2, "type": 3,
              "admin": [{ "userid": "wangfang", "type": 5 }] },
            { "id": 10, "name": "二年级", "parentid": 3, "type": 2, "register_year": 2024, "standard_grade": 2,
              "admin": [{ "userid": "chenjing", "type": 2 }] },
            { "id": 11, "name": "二年级一班", "parentid": 10, "type": 1,
              "admin": [{ "userid": "lina", "type": 3, "subject": "语文" }, { "userid": "liuyang", "type": 4, "subject": "数学" }] },
            { "id": 12, "name": "二年级二班", "parentid": 10, "type": 1,
              "admin": [{ "userid": "yangming", "type": 3, "subject": "数学" }] },
            { "id": 20, "name": "一年级", "parentid": 3, "type": 2, "register_year": 2025, "standard_grade": 1 },
            { "id": 21, "name": "一年级一班", "parentid": 20, "type": 1,
              "admin": [{ "userid": "huangli", "type": 3, "subject": "英语" }] },
            { "id": 22, "name": "一年级二班", "parentid": 20, "type": 1 }
        ],
        "student": [
            { "student_userid": "xiaoming", "name": "小明", "department": [11] },
            { "student_userid": "xiaohong", "name": "小红", "department": [11] },
            { "student_userid": "xiaogang", "name": "小刚", "department": [12] },
            { "student_userid": "xiaoli", "name": "小丽", "department": [12] },
            { "student_userid": "xiaofang", "name": "小芳", "department": [21] },
            { "student_userid": "xiaojun", "name": "小军", "department": [21] },
            { "student_userid": "xiaoyu", "name": "小雨", "department": [22] },
            { "student_userid": "xiaotian", "name": "小天", "department": [22] }
        ],
        "parent": [
            { "parent_userid": "xiaoming_baba", "mobile": "13900000001", "is_subscribe": 1,
              "external_userid": "wmSCHOOLxiaomingbaba",
              "child": [{ "student_userid": "xiaoming", "relation": "爸爸" }, { "student_userid": "xiaofang", "relation": "爸爸" }] },
            { "parent_userid": "xiaoming_mama", "mobile": "13900000002",
              "child": [{ "student_userid": "xiaoming", "relation": "妈妈" }] },
            { "parent_userid": "xiaohong_mama", "mobile": "13900000003",
              "child": [{ "student_userid": "xiaohong", "relation": "妈妈" }] },
            { "parent_userid": "xiaogang_yeye", "mobile": "13900000004",
              "child": [{ "student_userid": "xiaogang", "relation": "爷爷" }] }
        ],
        "living": [
            { "livingid": "LVSCHOOL0001", "agentid": 1000002, "theme": "二年级一班 语文公开课",
              "living_start": 1764748800, "living_duration": 2400, "anchor_userid": "lina",
              "partyids": [11],
              "watcher": [
                  { "student_userid": "xiaoming", "parent_userid": "xiaoming_baba", "watch_time": 1800 },
                  { "student_userid": "xiaohong", "watch_time": 2400 }
              ] }
        ],
        "payment": [
            { "payment_id": "PAYSCHOOL0001", "agentid": 1000002, "project_name": "二年级一班 春游费", "amount": 998,
              "pay": [
                  { "student_userid": "xiaoming", "trade_state": 1, "trade_no": "T20260301000001",
                    "payer_parent_userid": "xiaoming_baba", "transaction_id": "4200000000202603010000000001",
                    "pay_time": 1772323200 },
                  { "student_userid": "xiaohong", "trade_state": 0 }
              ] }
        ],
        "parent_scope": [
            { "agentid": 1000002, "departments": [1] },
            { "agentid": 1000003, "students": ["xiaoming"] }
        ]
    }))
    .unwrap_or_default()
}

impl Corp {
    /// The demo education corp: [`Corp::demo`]'s departments, members (the teachers) and apps,
    /// renamed 示例实验小学, with [`demo_school`] as its school directory.
    pub fn school_demo() -> Corp {
        let mut corp = Corp::demo();
        let school = demo_school();
        if let Err(e) = corp.set_school(Some(school)) {
            tracing::error!("demo school is inconsistent: {}", e.errmsg);
        }
        corp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_demo_is_consistent() {
        let school = demo_school();
        assert_eq!(school.students.len(), 8, "the demo data parses");
        let corp = Corp::school_demo();
        let s = corp.school().expect("the demo corp is a school");
        assert_eq!(s.departments.len(), 9);
        assert_eq!(s.parents_of("xiaoming").len(), 2);
        // The file form round-trips.
        let again = Corp::from_toml_str(&corp.to_toml()).expect("loads back");
        assert_eq!(again.school(), corp.school());
    }
}
