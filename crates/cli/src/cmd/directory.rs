//! `wecom department|user|tag|agent ...`: the generated contacts endpoints, printed.

use std::collections::BTreeMap;

use serde_json::json;
use wecom::contacts::{ContactsExt as _, Department, Member};

use super::Ctx;
use crate::cli::{AgentCmd, DepartmentCmd, TagCmd, TagItems, UserCmd, UserFields};
use crate::error::CliError;
use crate::output::table;

fn join<T: ToString>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

/// The departments as an indented tree (children under their parent, larger `order` first).
pub fn department_tree(departments: &[Department]) -> String {
    let ids: std::collections::HashSet<u32> = departments.iter().map(|d| d.id).collect();
    let mut children: BTreeMap<u32, Vec<&Department>> = BTreeMap::new();
    let mut roots = Vec::new();
    for d in departments {
        match d.parentid {
            Some(p) if ids.contains(&p) && p != d.id => children.entry(p).or_default().push(d),
            _ => roots.push(d),
        }
    }
    let by_order = |a: &&Department, b: &&Department| {
        b.order
            .unwrap_or(0)
            .cmp(&a.order.unwrap_or(0))
            .then(a.id.cmp(&b.id))
    };
    roots.sort_by(by_order);
    for list in children.values_mut() {
        list.sort_by(by_order);
    }
    let mut out = String::new();
    let mut stack: Vec<(&Department, usize)> = roots.into_iter().rev().map(|d| (d, 0)).collect();
    let mut seen = std::collections::HashSet::new();
    while let Some((d, depth)) = stack.pop() {
        if !seen.insert(d.id) {
            continue;
        }
        out.push_str(&"  ".repeat(depth));
        out.push_str(&format!("{} {}", d.id, d.name.as_deref().unwrap_or("")));
        if !d.department_leader.is_empty() {
            out.push_str(&format!("  (leaders: {})", d.department_leader.join(", ")));
        }
        out.push('\n');
        if let Some(kids) = children.get(&d.id) {
            for k in kids.iter().rev() {
                stack.push((k, depth + 1));
            }
        }
    }
    out
}

fn member_text(m: &Member) -> String {
    let mut rows: Vec<(&str, String)> = vec![("userid", m.userid.clone())];
    let mut opt = |k: &'static str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            rows.push((k, v.clone()));
        }
    };
    opt("name", &m.name);
    opt("alias", &m.alias);
    opt("position", &m.position);
    opt("mobile", &m.mobile);
    opt("email", &m.email);
    opt("biz_mail", &m.biz_mail);
    opt("telephone", &m.telephone);
    opt("address", &m.address);
    opt("open_userid", &m.open_userid);
    if !m.department.is_empty() {
        rows.push(("department", join(&m.department, ", ")));
    }
    if let Some(main) = m.main_department {
        rows.push(("main_department", main.to_string()));
    }
    if !m.is_leader_in_dept.is_empty() {
        rows.push(("is_leader_in_dept", join(&m.is_leader_in_dept, ", ")));
    }
    if !m.direct_leader.is_empty() {
        rows.push(("direct_leader", m.direct_leader.join(", ")));
    }
    if let Some(g) = &m.gender {
        rows.push(("gender", g.to_string()));
    }
    if let Some(s) = &m.status {
        rows.push(("status", s.to_string()));
    }
    if let Some(e) = m.enable {
        rows.push(("enable", e.to_string()));
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("{k:w$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn department(ctx: &Ctx, cmd: DepartmentCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let contacts = client.contacts();
    match cmd {
        DepartmentCmd::List { id, simple: false } => {
            let mut call = contacts.department_list();
            if let Some(id) = id {
                call = call.id(id);
            }
            let r = call.await?;
            ctx.out.emit(&r, || department_tree(&r.department))
        }
        DepartmentCmd::List { id, simple: true } => {
            let mut call = contacts.department_simplelist();
            if let Some(id) = id {
                call = call.id(id);
            }
            let r = call.await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .department_id
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            d.parentid.map_or_else(String::new, |p| p.to_string()),
                            d.order.map_or_else(String::new, |o| o.to_string()),
                        ]
                    })
                    .collect();
                table(&["id", "parent", "order"], &rows)
            })
        }
        DepartmentCmd::Get { id } => {
            let r = contacts.department_get(id).await?;
            ctx.out.emit(&r, || {
                let d = &r.department;
                let mut t = format!(
                    "id        {}\nname      {}",
                    d.id,
                    d.name.as_deref().unwrap_or("")
                );
                if let Some(en) = &d.name_en {
                    t.push_str(&format!("\nname_en   {en}"));
                }
                if let Some(p) = d.parentid {
                    t.push_str(&format!("\nparent    {p}"));
                }
                if let Some(o) = d.order {
                    t.push_str(&format!("\norder     {o}"));
                }
                if !d.department_leader.is_empty() {
                    t.push_str(&format!("\nleaders   {}", d.department_leader.join(", ")));
                }
                t
            })
        }
        DepartmentCmd::Create {
            name,
            parent,
            name_en,
            order,
            id,
        } => {
            let mut call = contacts.department_create(name.clone(), parent);
            if let Some(v) = name_en {
                call = call.name_en(v);
            }
            if let Some(v) = order {
                call = call.order(v);
            }
            if let Some(v) = id {
                call = call.id(v);
            }
            let r = call.await?;
            ctx.out.emit(&r, || {
                format!("created department {} {name} under {parent}", r.id)
            })
        }
        DepartmentCmd::Update {
            id,
            name,
            name_en,
            parent,
            order,
        } => {
            if name.is_none() && name_en.is_none() && parent.is_none() && order.is_none() {
                return Err(CliError::Usage(
                    "nothing to change: give --name, --name-en, --parent or --order".into(),
                ));
            }
            let mut call = contacts.department_update(id);
            if let Some(v) = name {
                call = call.name(v);
            }
            if let Some(v) = name_en {
                call = call.name_en(v);
            }
            if let Some(v) = parent {
                call = call.parentid(v);
            }
            if let Some(v) = order {
                call = call.order(v);
            }
            call.await?;
            ctx.out.emit(&json!({"updated": id}), || {
                format!("updated department {id}")
            })
        }
        DepartmentCmd::Delete { id } => {
            contacts.department_delete(id).await?;
            ctx.out.emit(&json!({"deleted": id}), || {
                format!("deleted department {id}")
            })
        }
    }
}

pub async fn user(ctx: &Ctx, cmd: UserCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let contacts = client.contacts();
    match cmd {
        UserCmd::Get { userid } => {
            let m = contacts.user_get(userid).await?;
            ctx.out.emit(&m, || member_text(&m))
        }
        UserCmd::List {
            department,
            simple: true,
        } => {
            let r = contacts.user_simplelist(department).await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .userlist
                    .iter()
                    .map(|m| {
                        vec![
                            m.userid.clone(),
                            m.name.clone().unwrap_or_default(),
                            join(&m.department, ","),
                        ]
                    })
                    .collect();
                table(&["userid", "name", "departments"], &rows)
            })
        }
        UserCmd::List {
            department,
            simple: false,
        } => {
            let r = contacts.user_list(department).await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .userlist
                    .iter()
                    .map(|m| {
                        vec![
                            m.userid.clone(),
                            m.name.clone().unwrap_or_default(),
                            join(&m.department, ","),
                            m.position.clone().unwrap_or_default(),
                            m.status
                                .as_ref()
                                .map_or_else(String::new, ToString::to_string),
                        ]
                    })
                    .collect();
                table(
                    &["userid", "name", "departments", "position", "status"],
                    &rows,
                )
            })
        }
        UserCmd::Create(f) => {
            let name = f
                .name
                .clone()
                .ok_or_else(|| CliError::Usage("user create needs --name".into()))?;
            if f.department.is_empty() {
                return Err(CliError::Usage(
                    "user create needs --department (one or more ids, comma-separated)".into(),
                ));
            }
            let mut call = contacts.user_create(f.userid.clone(), name, f.department.clone());
            if let Some(v) = f.mobile {
                call = call.mobile(v);
            }
            if let Some(v) = f.email {
                call = call.email(v);
            }
            if let Some(v) = f.position {
                call = call.position(v);
            }
            if let Some(v) = f.alias {
                call = call.alias(v);
            }
            if let Some(v) = f.gender {
                call = call.gender(v);
            }
            if let Some(v) = f.enable {
                call = call.enable(v);
            }
            call.await?;
            ctx.out.emit(&json!({"created": f.userid}), || {
                format!("created member {}", f.userid)
            })
        }
        UserCmd::Update(f) => update_user(ctx, &client, f).await,
        UserCmd::Delete { userids } => {
            if let [one] = userids.as_slice() {
                contacts.user_delete(one.as_str()).await?;
            } else {
                contacts.user_batchdelete(userids.clone()).await?;
            }
            ctx.out.emit(&json!({"deleted": userids}), || {
                format!("deleted {}", userids.join(", "))
            })
        }
        UserCmd::Find { mobile, email } => {
            let userid = match (mobile, email) {
                (Some(m), _) => contacts.user_getuserid(m).await?.userid,
                (None, Some(e)) => contacts.user_get_userid_by_email(e).await?.userid,
                (None, None) => {
                    return Err(CliError::Usage("give --mobile or --email".into()));
                }
            };
            ctx.out.emit(&json!({"userid": userid}), || userid.clone())
        }
    }
}

async fn update_user(ctx: &Ctx, client: &wecom::Client, f: UserFields) -> Result<(), CliError> {
    let mut call = client.contacts().user_update(f.userid.clone());
    let mut changed = false;
    if let Some(v) = f.name {
        call = call.name(v);
        changed = true;
    }
    if !f.department.is_empty() {
        call = call.department(f.department);
        changed = true;
    }
    if let Some(v) = f.mobile {
        call = call.mobile(v);
        changed = true;
    }
    if let Some(v) = f.email {
        call = call.email(v);
        changed = true;
    }
    if let Some(v) = f.position {
        call = call.position(v);
        changed = true;
    }
    if let Some(v) = f.alias {
        call = call.alias(v);
        changed = true;
    }
    if let Some(v) = f.gender {
        call = call.gender(v);
        changed = true;
    }
    if let Some(v) = f.enable {
        call = call.enable(v);
        changed = true;
    }
    if !changed {
        return Err(CliError::Usage(
            "nothing to change: give at least one of --name, --department, --mobile, --email, --position, --alias, --gender, --enable".into(),
        ));
    }
    call.await?;
    ctx.out.emit(&json!({"updated": f.userid}), || {
        format!("updated member {}", f.userid)
    })
}

pub async fn tag(ctx: &Ctx, cmd: TagCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let contacts = client.contacts();
    match cmd {
        TagCmd::List => {
            let r = contacts.tag_list().await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .taglist
                    .iter()
                    .map(|t| vec![t.tagid.to_string(), t.tagname.clone()])
                    .collect();
                table(&["tagid", "name"], &rows)
            })
        }
        TagCmd::Get { id } => {
            let r = contacts.tag_get(id).await?;
            ctx.out.emit(&r, || {
                let users: Vec<String> = r
                    .userlist
                    .iter()
                    .map(|u| match &u.name {
                        Some(n) if !n.is_empty() => format!("{} ({n})", u.userid),
                        _ => u.userid.clone(),
                    })
                    .collect();
                format!(
                    "tag {id} {}\nmembers      {}\ndepartments  {}",
                    r.tagname,
                    if users.is_empty() {
                        "-".to_owned()
                    } else {
                        users.join(", ")
                    },
                    if r.partylist.is_empty() {
                        "-".to_owned()
                    } else {
                        join(&r.partylist, ", ")
                    }
                )
            })
        }
        TagCmd::Create { name, id } => {
            let mut call = contacts.tag_create(name.clone());
            if let Some(id) = id {
                call = call.tagid(id);
            }
            let r = call.await?;
            ctx.out
                .emit(&r, || format!("created tag {} {name}", r.tagid))
        }
        TagCmd::Update { id, name } => {
            contacts.tag_update(id, name.clone()).await?;
            ctx.out.emit(&json!({"updated": id}), || {
                format!("renamed tag {id} to {name}")
            })
        }
        TagCmd::Delete { id } => {
            contacts.tag_delete(id).await?;
            ctx.out
                .emit(&json!({"deleted": id}), || format!("deleted tag {id}"))
        }
        TagCmd::Add(items) => {
            check_items(&items)?;
            let call = contacts
                .tag_addtagusers(items.id)
                .userlist(items.users.clone())
                .partylist(items.parties.clone());
            let r = call.await?;
            ctx.out
                .emit(&items_json(&items, &r.invalidlist, &r.invalidparty), || {
                    items_text("added to", &items, &r.invalidlist, &r.invalidparty)
                })
        }
        TagCmd::Remove(items) => {
            check_items(&items)?;
            let call = contacts
                .tag_deltagusers(items.id)
                .userlist(items.users.clone())
                .partylist(items.parties.clone());
            let r = call.await?;
            ctx.out
                .emit(&items_json(&items, &r.invalidlist, &r.invalidparty), || {
                    items_text("removed from", &items, &r.invalidlist, &r.invalidparty)
                })
        }
    }
}

fn check_items(items: &TagItems) -> Result<(), CliError> {
    if items.users.is_empty() && items.parties.is_empty() {
        return Err(CliError::Usage("give --users and/or --parties".into()));
    }
    Ok(())
}

/// The outcome of `tag add` / `tag remove` (lists as arrays, like `send`'s receipt).
fn items_json(items: &TagItems, bad_users: &[String], bad_parties: &[u32]) -> serde_json::Value {
    json!({
        "tagid": items.id,
        "users": items.users,
        "parties": items.parties,
        "invalid_users": bad_users,
        "invalid_departments": bad_parties,
    })
}

fn items_text(verb: &str, items: &TagItems, bad_users: &[String], bad_parties: &[u32]) -> String {
    let mut t = format!(
        "{verb} tag {}: {} member(s), {} department(s)",
        items.id,
        items.users.len() - bad_users.len().min(items.users.len()),
        items.parties.len() - bad_parties.len().min(items.parties.len())
    );
    if !bad_users.is_empty() {
        t.push_str(&format!("\ninvalid members: {}", bad_users.join(", ")));
    }
    if !bad_parties.is_empty() {
        t.push_str(&format!(
            "\ninvalid departments: {}",
            join(bad_parties, ", ")
        ));
    }
    t
}

pub async fn agent(ctx: &Ctx, cmd: AgentCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let contacts = client.contacts();
    match cmd {
        AgentCmd::Get { agentid } => {
            let id = match agentid {
                Some(id) => id,
                None => ctx.agent_id()?,
            };
            // agent/get needs the app's own token: use it when its secret is configured.
            let own = if client.agentids().contains(&id) {
                client.agent(id)?
            } else {
                client.clone()
            };
            let a = own.contacts().agent_get(id).await?;
            ctx.out.emit(&a, || {
                let users: Vec<String> = a
                    .allow_userinfos
                    .as_ref()
                    .map(|u| u.user.iter().map(|u| u.userid.clone()).collect())
                    .unwrap_or_default();
                let parties = a
                    .allow_partys
                    .as_ref()
                    .map(|p| p.partyid.clone())
                    .unwrap_or_default();
                let tags = a
                    .allow_tags
                    .as_ref()
                    .map(|t| t.tagid.clone())
                    .unwrap_or_default();
                let dash = |s: String| if s.is_empty() { "-".to_owned() } else { s };
                let mut t = format!("app {} {}", a.agentid, a.name);
                if let Some(d) = a.description.as_ref().filter(|d| !d.is_empty()) {
                    t.push_str(&format!("\ndescription      {d}"));
                }
                t.push_str(&format!(
                    "\nvisible scope    members: {}; departments: {}; tags: {}",
                    dash(users.join(", ")),
                    dash(join(&parties, ", ")),
                    dash(join(&tags, ", "))
                ));
                if a.close == Some(true) {
                    t.push_str("\nstatus           disabled");
                }
                if let Some(h) = a.home_url.as_ref().filter(|h| !h.is_empty()) {
                    t.push_str(&format!("\nhome_url         {h}"));
                }
                if let Some(r) = a.redirect_domain.as_ref().filter(|r| !r.is_empty()) {
                    t.push_str(&format!("\nredirect_domain  {r}"));
                }
                t.push_str("\n(`wecom scope` expands the visible scope into members)");
                t
            })
        }
        AgentCmd::List => {
            let r = contacts.agent_list().await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .agentlist
                    .iter()
                    .map(|a| vec![a.agentid.to_string(), a.name.clone().unwrap_or_default()])
                    .collect();
                table(&["agentid", "name"], &rows)
            })
        }
    }
}
