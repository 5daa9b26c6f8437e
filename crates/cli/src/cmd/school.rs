//! `wecom school ...`: the school directory of 家校沟通: students, parents and classes. The
//! credential is the 家校沟通 secret when the profile has one (存量 corps), else the app's (an app
//! listed under 家校沟通).

use clap::{Args, Subcommand};
use serde_json::json;
use wecom::school::{SchoolChild, SchoolExt as _};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom school ...`
#[derive(Debug, Subcommand)]
pub enum SchoolCmd {
    /// Students: list a class, get, create, delete.
    #[command(subcommand)]
    Student(StudentCmd),
    /// Parents: list a class's parents, get, create, delete.
    #[command(subcommand)]
    Parent(ParentCmd),
    /// Classes and the other school departments (grades, stages, campuses).
    #[command(subcommand)]
    Class(ClassCmd),
}

/// `wecom school student ...`
#[derive(Debug, Subcommand)]
pub enum StudentCmd {
    /// The students of a class (or any school department), with their parents.
    List(DepartmentArg),
    /// A student with their parents.
    Get(UseridArg),
    /// Create a student in one or more classes.
    Create(StudentCreateArgs),
    /// Delete a student (WeCom refuses while the student has parents: 65013).
    Delete(UseridArg),
}

/// `wecom school parent ...`
#[derive(Debug, Subcommand)]
pub enum ParentCmd {
    /// The parents of a class's students, with their children.
    List(DepartmentArg),
    /// A parent with their children.
    Get(UseridArg),
    /// Create a parent linked to children (`--child xiaoming:妈妈`, repeated).
    Create(ParentCreateArgs),
    /// Delete a parent.
    Delete(UseridArg),
}

/// `wecom school class ...`
#[derive(Debug, Subcommand)]
pub enum ClassCmd {
    /// The school's departments (or those under `--id`) with their types and admins.
    List(ClassListArgs),
}

/// A school department.
#[derive(Debug, Args)]
pub struct DepartmentArg {
    /// The class (school department id).
    pub department_id: u32,
}

/// A student's or parent's userid.
#[derive(Debug, Args)]
pub struct UseridArg {
    /// The userid in the school directory.
    pub userid: String,
}

/// `wecom school student create`
#[derive(Debug, Args)]
pub struct StudentCreateArgs {
    /// The student's userid (1-64 bytes of letters, digits and `_-@.`).
    pub userid: String,
    /// The student's name (1-32 characters).
    pub name: String,
    /// A class id (repeat for several, at most 20).
    #[arg(long = "class", required = true, value_name = "ID")]
    pub classes: Vec<u32>,
    /// The student's mobile number.
    #[arg(long)]
    pub mobile: Option<String>,
    /// Do not send an invitation.
    #[arg(long)]
    pub no_invite: bool,
}

/// `wecom school parent create`
#[derive(Debug, Args)]
pub struct ParentCreateArgs {
    /// The parent's userid.
    pub userid: String,
    /// The parent's mobile number.
    #[arg(long)]
    pub mobile: String,
    /// A child as `STUDENT_USERID:RELATION` (e.g. `xiaoming:妈妈`), repeat for several (at most 10).
    #[arg(long = "child", required = true, value_name = "STUDENT:RELATION")]
    pub children: Vec<String>,
    /// Do not send an invitation.
    #[arg(long)]
    pub no_invite: bool,
}

/// `wecom school class list`
#[derive(Debug, Args)]
pub struct ClassListArgs {
    /// Start from this department (default: the whole school).
    #[arg(long)]
    pub id: Option<u32>,
}

/// 1 class, 2 grade, 3 stage, 4 campus, 5 school (page 92299).
fn kind_name(kind: Option<u32>) -> &'static str {
    match kind {
        Some(1) => "class",
        Some(2) => "grade",
        Some(3) => "stage",
        Some(4) => "campus",
        Some(5) => "school",
        _ => "?",
    }
}

fn children(list: &[String]) -> Result<Vec<SchoolChild>, CliError> {
    list.iter()
        .map(|c| match c.split_once(':') {
            Some((s, r)) if !s.is_empty() && !r.is_empty() => Ok(SchoolChild::new(s, r)),
            _ => Err(CliError::Usage(format!(
                "--child {c}: write STUDENT_USERID:RELATION, e.g. xiaoming:妈妈"
            ))),
        })
        .collect()
}

pub async fn run(ctx: &Ctx, cmd: SchoolCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let school = client.school();
    match cmd {
        SchoolCmd::Student(StudentCmd::List(a)) => {
            let list = school.student_list(a.department_id).await?.students;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    let parents: Vec<String> = s
                        .parents
                        .iter()
                        .map(|p| {
                            format!(
                                "{}({})",
                                p.parent_userid.as_deref().unwrap_or("?"),
                                p.relation.as_deref().unwrap_or("")
                            )
                        })
                        .collect();
                    vec![
                        s.student_userid.clone().unwrap_or_default(),
                        s.name.clone().unwrap_or_default(),
                        parents.join(" "),
                    ]
                })
                .collect();
            ctx.out.emit(&json!({ "students": list }), || {
                table(&["student_userid", "name", "parents"], &rows)
            })
        }
        SchoolCmd::Student(StudentCmd::Get(a)) | SchoolCmd::Parent(ParentCmd::Get(a)) => {
            let r = school.school_user_get(&a.userid).await?;
            let v = json!({ "user_type": r.user_type, "student": r.student, "parent": r.parent });
            ctx.out
                .emit(&v, || serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        SchoolCmd::Student(StudentCmd::Create(a)) => {
            let mut call = school
                .student_create(&a.userid, &a.name, a.classes)
                .to_invite(!a.no_invite);
            if let Some(m) = &a.mobile {
                call = call.mobile(m);
            }
            call.await?;
            ctx.out.emit(&json!({ "created": a.userid }), || {
                format!("created student {}", a.userid)
            })
        }
        SchoolCmd::Student(StudentCmd::Delete(a)) => {
            school.student_delete(&a.userid).await?;
            ctx.out.emit(&json!({ "deleted": a.userid }), || {
                format!("deleted student {}", a.userid)
            })
        }
        SchoolCmd::Parent(ParentCmd::List(a)) => {
            let list = school.parent_list(a.department_id).await?.parents;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    let kids: Vec<String> = p
                        .children
                        .iter()
                        .map(|c| {
                            format!(
                                "{}({})",
                                c.student_userid.as_deref().unwrap_or("?"),
                                c.relation.as_deref().unwrap_or("")
                            )
                        })
                        .collect();
                    vec![
                        p.parent_userid.clone().unwrap_or_default(),
                        p.is_subscribe.map_or(String::new(), |s| s.to_string()),
                        kids.join(" "),
                    ]
                })
                .collect();
            ctx.out.emit(&json!({ "parents": list }), || {
                table(&["parent_userid", "subscribed", "children"], &rows)
            })
        }
        SchoolCmd::Parent(ParentCmd::Create(a)) => {
            let kids = children(&a.children)?;
            school
                .parent_create(&a.userid, &a.mobile, kids)
                .to_invite(!a.no_invite)
                .await?;
            ctx.out.emit(&json!({ "created": a.userid }), || {
                format!("created parent {}", a.userid)
            })
        }
        SchoolCmd::Parent(ParentCmd::Delete(a)) => {
            school.parent_delete(&a.userid).await?;
            ctx.out.emit(&json!({ "deleted": a.userid }), || {
                format!("deleted parent {}", a.userid)
            })
        }
        SchoolCmd::Class(ClassCmd::List(a)) => {
            let mut call = school.school_department_list();
            if let Some(id) = a.id {
                call = call.id(id);
            }
            let list = call.await?.departments;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    vec![
                        d.id.map_or(String::new(), |i| i.to_string()),
                        kind_name(d.kind).to_owned(),
                        d.name.clone().unwrap_or_default(),
                        d.parentid.map_or(String::new(), |i| i.to_string()),
                        d.register_year.map_or(String::new(), |y| y.to_string()),
                    ]
                })
                .collect();
            ctx.out.emit(&json!({ "departments": list }), || {
                table(&["id", "type", "name", "parent", "入学年份"], &rows)
            })
        }
    }
}
