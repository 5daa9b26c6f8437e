//! The school directory of an education corp (家校通讯录): departments typed as campus (4), stage
//! (3), grade (2) or class (1) under the school (5, the root), students in classes, parents linked
//! to their children with a relation, and the school's 上课直播 live classes. Kept in the corp
//! ([`Corp::school`](crate::corp::Corp::school)), loadable from the corp file's `[school]` table
//! (TOML or JSON), and checked there as if created through the API.
//!
//! Every rule cites its page; the errcodes are WeCom's global table (60xxx, 65xxx).

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The most students a class holds (update_student, page 92041: "每个班级下学生总数不能超过3万个").
pub const MAX_CLASS_STUDENTS: usize = 30_000;

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// An admin of a school department (department_admins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolAdmin {
    /// The member (a teacher of the corp directory).
    pub userid: String,
    /// 1 campus head, 2 grade head, 3 head teacher, 4 subject teacher, 5 stage head.
    #[serde(rename = "type")]
    pub kind: u32,
    /// The subject (head and subject teachers).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
}

/// A department of the school directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolDepartment {
    /// Id (the root, the school itself, is 1).
    pub id: u32,
    /// Name.
    pub name: String,
    /// Parent (0 for the root).
    #[serde(default)]
    pub parentid: u32,
    /// 1 class, 2 grade, 3 stage (学段), 4 campus (校区), 5 the school (root).
    #[serde(rename = "type")]
    pub kind: u32,
    /// 入学年份 (grades).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_year: Option<u32>,
    /// 标准年级 (grades).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_grade: Option<u32>,
    /// Order among siblings, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u32>,
    /// Admins.
    #[serde(default, rename = "admin", skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<SchoolAdmin>,
    /// 1 when the grade graduated.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub is_graduated: u32,
}

/// A student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolStudent {
    /// Userid (unique in the school, case-insensitively).
    pub student_userid: String,
    /// Name.
    pub name: String,
    /// Classes.
    pub department: Vec<u32>,
    /// Mobile number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mobile: String,
}

/// A parent's child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolChildLink {
    /// The student.
    pub student_userid: String,
    /// The relation (爸爸, 妈妈 ...).
    pub relation: String,
}

/// A parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolParent {
    /// Userid (unique in the school, case-insensitively).
    pub parent_userid: String,
    /// Mobile number (unique among parents: 60137).
    pub mobile: String,
    /// 1 when the parent follows 学校通知.
    #[serde(default)]
    pub is_subscribe: u32,
    /// The parent as an external contact (once subscribed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub external_userid: String,
    /// Children.
    #[serde(rename = "child")]
    pub children: Vec<SchoolChildLink>,
}

/// Someone who watched a live class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivingWatcher {
    /// The student watched for.
    pub student_userid: String,
    /// The parent who watched, if a parent did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent_userid: String,
    /// Seconds watched.
    #[serde(default)]
    pub watch_time: u32,
}

/// A 上课直播 live class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolLivingRecord {
    /// Its id.
    pub livingid: String,
    /// The app that created it (only it may read it: page 93740 "只能获取本应用创建的直播"; 92008).
    pub agentid: u32,
    /// Theme.
    pub theme: String,
    /// Start (Unix seconds).
    #[serde(default)]
    pub living_start: i64,
    /// Duration in seconds.
    #[serde(default)]
    pub living_duration: u32,
    /// The teacher streaming.
    pub anchor_userid: String,
    /// The classes it is for.
    #[serde(default)]
    pub partyids: Vec<u32>,
    /// Who watched.
    #[serde(default, rename = "watcher")]
    pub watchers: Vec<LivingWatcher>,
}

/// A student's payment of a 班级收款 project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolPay {
    /// The student.
    pub student_userid: String,
    /// 0 not paid, 1 paid.
    #[serde(default)]
    pub trade_state: u32,
    /// The order.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trade_no: String,
    /// The parent who paid.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payer_parent_userid: String,
    /// The WeChat Pay transaction id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transaction_id: String,
    /// When it was paid.
    #[serde(default)]
    pub pay_time: i64,
}

/// A 班级收款 project (started from the JS-SDK or a mini program, not through this API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchoolPayment {
    /// Its id.
    pub payment_id: String,
    /// The app that started it (only it may read it: pages 94470 / 94471; 60237).
    pub agentid: u32,
    /// Its name.
    pub project_name: String,
    /// The amount.
    pub amount: u64,
    /// Each student's payment.
    #[serde(default, rename = "pay")]
    pub results: Vec<SchoolPay>,
}

/// The parents who may use an app in 「学校通知 - 学校应用」 (set by the admin; page 94895).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParentScope {
    /// The app.
    pub agentid: u32,
    /// The parents of these students.
    #[serde(default)]
    pub students: Vec<String>,
    /// The parents of these departments' students (sub-departments included).
    #[serde(default)]
    pub departments: Vec<u32>,
}

/// The school directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct School {
    /// Departments; the root (id 1, type 5) is created from the corp's name when missing.
    #[serde(default, rename = "department")]
    pub departments: Vec<SchoolDepartment>,
    /// Students.
    #[serde(default, rename = "student")]
    pub students: Vec<SchoolStudent>,
    /// Parents.
    #[serde(default, rename = "parent")]
    pub parents: Vec<SchoolParent>,
    /// 家校通讯录同步模式 set by set_arch_sync_mode (0: never set).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub arch_sync_mode: u32,
    /// Live classes.
    #[serde(default, rename = "living", skip_serializing_if = "Vec::is_empty")]
    pub livings: Vec<SchoolLivingRecord>,
    /// 班级收款 projects.
    #[serde(default, rename = "payment", skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<SchoolPayment>,
    /// Apps' parent scopes (an app without one reaches no parent).
    #[serde(
        default,
        rename = "parent_scope",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub parent_scopes: Vec<ParentScope>,
    /// 自动升年级: the day (a timestamp of which month and day count) and whether it is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_time: Option<i64>,
    /// 1 when the automatic upgrade is on.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub upgrade_switch: u32,
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether an admin type fits a department type (pages 100158 / 92341: "管理员类型须与部门类型保持
/// 一致,即校区负责人只能配置到校区部门,班主任和任课老师只能设置到班级").
pub fn admin_fits(admin: u32, department: u32) -> bool {
    matches!(
        (admin, department),
        (1, 4) | (2, 2) | (3, 1) | (4, 1) | (5, 3)
    )
}

impl School {
    /// Builds a school from its file form, checking it as the API would (parents first for
    /// departments; students in existing classes; parents' children existing).
    pub fn checked(mut self, corp_name: &str) -> Result<Self, ApiError> {
        if !self.departments.iter().any(|d| d.id == 1) {
            self.departments.insert(
                0,
                SchoolDepartment {
                    id: 1,
                    name: corp_name.to_owned(),
                    parentid: 0,
                    kind: 5,
                    register_year: None,
                    standard_grade: None,
                    order: None,
                    admins: Vec::new(),
                    is_graduated: 0,
                },
            );
        }
        for d in &self.departments {
            if d.id != 1 {
                let parent = self.department(d.parentid).ok_or_else(|| {
                    ApiError::new(
                        60004_i64,
                        format!(
                            "school department {}: parent {} not found",
                            d.id, d.parentid
                        ),
                    )
                })?;
                self.check_placement(d.kind, parent.kind, &d.admins)?;
            }
            if self.departments.iter().filter(|x| x.id == d.id).count() > 1 {
                return Err(ApiError::new(
                    60008_i64,
                    format!("school department {} twice", d.id),
                ));
            }
        }
        for s in &self.students {
            self.check_classes(&s.department)?;
            if self
                .students
                .iter()
                .filter(|x| same(&x.student_userid, &s.student_userid))
                .count()
                > 1
            {
                return Err(ApiError::new(
                    60102_i64,
                    format!("student {} twice", s.student_userid),
                ));
            }
        }
        for p in &self.parents {
            self.check_children(&p.children)?;
        }
        Ok(self)
    }

    /// A department.
    pub fn department(&self, id: u32) -> Option<&SchoolDepartment> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// A student (case-insensitive).
    pub fn student(&self, userid: &str) -> Option<&SchoolStudent> {
        self.students
            .iter()
            .find(|s| same(&s.student_userid, userid))
    }

    /// A parent (case-insensitive).
    pub fn parent(&self, userid: &str) -> Option<&SchoolParent> {
        self.parents.iter().find(|p| same(&p.parent_userid, userid))
    }

    /// The parents of a student, with the relation.
    pub fn parents_of(&self, student: &str) -> Vec<(&SchoolParent, &str)> {
        self.parents
            .iter()
            .filter_map(|p| {
                p.children
                    .iter()
                    .find(|c| same(&c.student_userid, student))
                    .map(|c| (p, c.relation.as_str()))
            })
            .collect()
    }

    /// `type` of a new department against its parent's, and its admins against its type.
    pub fn check_placement(
        &self,
        kind: u32,
        parent_kind: u32,
        admins: &[SchoolAdmin],
    ) -> Result<(), ApiError> {
        // Page 100158: "班级的父部门必须是年级,也就是说type为1的部门的父部门type值必须是2" (65015
        // 父部门类型不匹配).
        if kind == 1 && parent_kind != 2 {
            return Err(ApiError::new(
                65015_i64,
                "parent department type mismatch: a class (type 1) must be under a grade (type 2)",
            ));
        }
        for a in admins {
            if !admin_fits(a.kind, kind) {
                return Err(ApiError::new(
                    65006_i64,
                    format!(
                        "invalid admin type {} for department type {kind}: campus heads go to campuses, grade heads to grades, head and subject teachers to classes, stage heads to stages",
                        a.kind
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Students' classes exist (60123 无效的部门id) and are not full.
    pub fn check_classes(&self, classes: &[u32]) -> Result<(), ApiError> {
        for c in classes {
            if self.department(*c).is_none() {
                return Err(ApiError::new(
                    60123_i64,
                    format!("invalid school department id {c}"),
                ));
            }
            let n = self
                .students
                .iter()
                .filter(|s| s.department.contains(c))
                .count();
            if n >= MAX_CLASS_STUDENTS {
                return Err(ApiError::new(
                    65012_i64,
                    format!("class {c} holds {MAX_CLASS_STUDENTS} students already"),
                ));
            }
        }
        Ok(())
    }

    /// A parent's children are students (65010 此userid并不是学生).
    pub fn check_children(&self, children: &[SchoolChildLink]) -> Result<(), ApiError> {
        for c in children {
            if self.student(&c.student_userid).is_none() {
                return Err(ApiError::new(
                    65010_i64,
                    format!("userid {} is not a student", c.student_userid),
                ));
            }
        }
        Ok(())
    }

    /// Whether the app's parent scope holds the parent (through one of their children).
    pub fn parent_in_scope(&self, agentid: u32, parent: &SchoolParent) -> bool {
        let Some(scope) = self.parent_scopes.iter().find(|s| s.agentid == agentid) else {
            return false;
        };
        let ids: Vec<u32> = scope
            .departments
            .iter()
            .flat_map(|d| self.subtree(*d))
            .map(|d| d.id)
            .collect();
        parent.children.iter().any(|c| {
            scope.students.iter().any(|s| same(s, &c.student_userid))
                || self
                    .student(&c.student_userid)
                    .is_some_and(|st| st.department.iter().any(|d| ids.contains(d)))
        })
    }

    /// The department `id` and everything under it, in tree order.
    pub fn subtree(&self, id: u32) -> Vec<&SchoolDepartment> {
        let mut out = Vec::new();
        let mut queue = vec![id];
        while let Some(next) = queue.pop() {
            if let Some(d) = self.department(next) {
                out.push(d);
                // Siblings in WeCom's order ("order值大的排序靠前"), then by id; the stack pops the
                // first one next, so push them reversed.
                let mut children: Vec<&SchoolDepartment> = self
                    .departments
                    .iter()
                    .filter(|c| c.parentid == next && c.id != next)
                    .collect();
                children.sort_by_key(|c| (std::cmp::Reverse(c.order.unwrap_or(0)), c.id));
                queue.extend(children.iter().rev().map(|c| c.id));
            }
        }
        out
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), and back: H. Hinnant's algorithms.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// China time (UTC+8), in which the school's dates are kept.
const CST: i64 = 8 * 3600;

/// The next upgrade after `now` on the month and day of `upgrade_time` (page 92949: "该时间戳只有月
/// 和日有效"; "如果该学校今年已经升过年级,那本参数会给明年对应日期的时间戳"), as midnight China time.
pub fn next_upgrade(upgrade_time: i64, now: i64) -> i64 {
    let (_, m, d) = civil_from_days((upgrade_time + CST).div_euclid(86_400));
    let (year, _, _) = civil_from_days((now + CST).div_euclid(86_400));
    let at = |y: i64| {
        // February 29th in a year without it falls on March 1st.
        days_from_civil(y, m, d) * 86_400 - CST
    };
    if at(year) > now {
        at(year)
    } else {
        at(year + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_upgrade_is_this_or_next_year() {
        // 2020-07-07 12:22:49 CST (the page's example time) -> July 7th.
        let t = 1_594_095_769;
        // 2026-12-03: July 7th has passed, so 2027-07-07 00:00 CST.
        assert_eq!(
            next_upgrade(t, 1_796_300_000),
            days_from_civil(2027, 7, 7) * 86_400 - CST
        );
        // 2026-01-01: still ahead this year.
        assert_eq!(
            next_upgrade(t, 1_767_225_600),
            days_from_civil(2026, 7, 7) * 86_400 - CST
        );
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }
}
