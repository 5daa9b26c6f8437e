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

    /// The department `id` and everything under it, in tree order.
    pub fn subtree(&self, id: u32) -> Vec<&SchoolDepartment> {
        let mut out = Vec::new();
        let mut queue = vec![id];
        while let Some(next) = queue.pop() {
            if let Some(d) = self.department(next) {
                out.push(d);
                queue.extend(
                    self.departments
                        .iter()
                        .filter(|c| c.parentid == next && c.id != next)
                        .map(|c| c.id),
                );
            }
        }
        out
    }
}
