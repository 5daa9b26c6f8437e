//! `wecom scope [--user ID]`: the app's visible scope, resolved by the contacts crate, with the
//! rule that puts each member in it (or why a member is outside).

use serde_json::{Value, json};
use wecom::contacts::{ContactsExt as _, Explanation, Reason, VisibleScope};

use super::Ctx;
use crate::cli::ScopeArgs;
use crate::error::CliError;
use crate::output::table;

/// A rule as JSON: its kind, its ids and the sentence.
pub fn reason_json(r: &Reason) -> Value {
    let mut v = match *r {
        Reason::WholeCorp => json!({"rule": "whole_corp"}),
        Reason::ListedMember => json!({"rule": "listed_member"}),
        Reason::ListedDepartment { department, via } => {
            json!({"rule": "listed_department", "department": department, "via": via})
        }
        Reason::TagMember { tag } => json!({"rule": "tag_member", "tag": tag}),
        Reason::TagDepartment {
            tag,
            department,
            via,
        } => json!({"rule": "tag_department", "tag": tag, "department": department, "via": via}),
    };
    v["text"] = json!(r.to_string());
    v
}

/// An explanation as JSON.
pub fn explanation_json(e: &Explanation) -> Value {
    json!({
        "userid": e.userid,
        "visible": e.is_visible(),
        "in_directory": e.in_directory,
        "departments": e.departments,
        "reasons": e.reasons.iter().map(reason_json).collect::<Vec<_>>(),
        "text": e.to_string(),
    })
}

/// The rules in one line.
pub fn rules_text(scope: &VisibleScope) -> String {
    let r = scope.rules();
    if r.whole_corp {
        return "the whole corp".to_owned();
    }
    let ids = |v: &[u32]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        }
    };
    format!(
        "members: {}; departments (with their subtrees): {}; tags: {}",
        if r.users.is_empty() {
            "-".to_owned()
        } else {
            r.users.join(", ")
        },
        ids(&r.departments),
        ids(&r.tags)
    )
}

pub async fn run(ctx: &Ctx, args: ScopeArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let agentid = ctx.agent_id()?;
    let scope = client.contacts().visible_scope(agentid).await?;
    let unresolved = scope.unresolved();
    let unresolved_json = json!({
        "users": unresolved.users,
        "departments": unresolved.departments,
        "tags": unresolved.tags,
        "tag_users": unresolved.tag_users,
    });
    if let Some(user) = args.user {
        let e = scope.explain(&user);
        let mut v = explanation_json(&e);
        v["agentid"] = json!(agentid);
        return ctx.out.emit(&v, || e.to_string());
    }
    let mut members: Vec<&str> = scope.members().collect();
    members.sort_unstable();
    let rows: Vec<(String, Explanation)> = members
        .iter()
        .map(|m| ((*m).to_owned(), scope.explain(m)))
        .collect();
    let mut departments: Vec<u32> = scope.departments().collect();
    departments.sort_unstable();
    let value = json!({
        "agentid": agentid,
        "rules": {
            "whole_corp": scope.rules().whole_corp,
            "users": scope.rules().users,
            "departments": scope.rules().departments,
            "tags": scope.rules().tags,
        },
        "member_count": scope.member_count(),
        "department_count": scope.department_count(),
        "members": rows.iter().map(|(_, e)| explanation_json(e)).collect::<Vec<_>>(),
        "departments": departments,
        "unresolved": unresolved_json,
    });
    ctx.out.emit(&value, || {
        let mut t = format!(
            "app {agentid} sees {} member(s) in {} department(s)\nrules: {}\n\n",
            scope.member_count(),
            scope.department_count(),
            rules_text(&scope)
        );
        let table_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|(m, e)| {
                vec![
                    m.clone(),
                    e.reasons
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ]
            })
            .collect();
        t.push_str(&table(&["userid", "why"], &table_rows));
        if !unresolved.is_empty() {
            t.push_str(&format!(
                "\nnamed by the rules but not in the directory: {unresolved_json}"
            ));
        }
        t
    })
}
