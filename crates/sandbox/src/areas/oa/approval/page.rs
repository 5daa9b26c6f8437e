//! The approval flow on the sandbox's web page (审批): a member fills in a template's form and
//! submits it, and an approver of a pending application approves or rejects it. Both are plain
//! HTML form posts to `/sandbox/ui/approval/submit` and `/sandbox/ui/approval/decide` (behind
//! the page's Origin/Referer check), running the same code as the admin API
//! ([`Admin::approval_submit`], [`Admin::approval_decide`]): the application is checked against
//! its template, SpStatus moves, and `sys_approval_change` is pushed to the app chosen on the
//! form.
//!
//! A control gets an input by its kind: Text/Textarea a text box, Number/Money a number, Date a
//! date (its 0:00, China time), Selector a choice of its options, Contact (user mode) a member.
//! Other kinds (tables, files, vacation ...) are left to the API; a template that requires one
//! cannot be submitted here, and the page says so.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes as BodyBytes;
use axum::extract::State as AxState;
use axum::response::{IntoResponse, Redirect, Response};
use wecom_oa::approval::{Control, ControlKind, Template, Value as Val, controls_of};

use super::{TZ, with_book};
use crate::admin::Admin;
use crate::app::App;
use crate::web::escape;
use wecom_oa::generated::oa::SpStatus;

/// Whether the page has an input for this control.
fn has_input(c: &Control) -> bool {
    match &c.kind {
        ControlKind::Text
        | ControlKind::Textarea
        | ControlKind::Number
        | ControlKind::Money
        | ControlKind::Date { .. }
        | ControlKind::Selector { .. } => true,
        ControlKind::Contact { mode } => mode == "user",
        _ => false,
    }
}

fn input(c: &Control, members: &str) -> String {
    let name = format!("c:{}", escape(&c.id));
    let req = if c.required { " required" } else { "" };
    match &c.kind {
        ControlKind::Text | ControlKind::Textarea => {
            format!("<input name=\"{name}\"{req}>")
        }
        ControlKind::Number | ControlKind::Money => {
            format!("<input name=\"{name}\" inputmode=\"decimal\"{req}>")
        }
        ControlKind::Date { .. } => format!("<input type=\"date\" name=\"{name}\"{req}>"),
        ControlKind::Selector { multi, options } => {
            let opts: String = options
                .iter()
                .map(|(k, t)| format!("<option value=\"{}\">{}</option>", escape(k), escape(t)))
                .collect();
            let blank = if c.required {
                ""
            } else {
                "<option value=\"\">—</option>"
            };
            let multiple = if *multi { " multiple" } else { "" };
            format!("<select name=\"{name}\"{multiple}{req}>{blank}{opts}</select>")
        }
        ControlKind::Contact { .. } => {
            format!("<select name=\"{name}\"{req}><option value=\"\">—</option>{members}</select>")
        }
        _ => String::new(),
    }
}

/// The page's 审批 section: a form per template, and the applications in review with buttons
/// for their approvers.
pub(crate) fn page_section(admin: &Admin) -> String {
    let corp = admin.corp();
    let members: String = corp
        .members()
        .map(|m| {
            format!(
                "<option value=\"{}\">{}</option>",
                escape(&m.userid),
                escape(&m.name)
            )
        })
        .collect();
    let apps: String = corp
        .apps()
        .map(|a| {
            format!(
                "<option value=\"{}\">{} ({})</option>",
                a.agentid,
                escape(&a.name),
                a.agentid
            )
        })
        .collect();
    let (templates, pending) = with_book(admin.state(), |b| {
        let templates: Vec<(String, String, Vec<Control>)> = b
            .templates
            .iter()
            .take(20)
            .map(|(id, (names, content))| {
                let name = names.first().map(|n| n.text.clone()).unwrap_or_default();
                (id.clone(), name, controls_of(content))
            })
            .collect();
        let pending: Vec<(String, String, String, Vec<String>)> = b
            .applications
            .values()
            .filter(|a| a.detail.sp_status == SpStatus::InReview)
            .take(50)
            .map(|a| {
                let d = &a.detail;
                (
                    d.sp_no.clone(),
                    d.sp_name.clone().unwrap_or_default(),
                    d.applyer
                        .as_ref()
                        .map(|x| x.userid.clone())
                        .unwrap_or_default(),
                    d.sp_record
                        .iter()
                        .flat_map(|r| r.details.iter().map(|x| x.approver.userid.clone()))
                        .collect(),
                )
            })
            .collect();
        (templates, pending)
    });
    let mut h = String::from("<section id=\"approvals\"><h2>审批</h2>");
    for (id, name, controls) in &templates {
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/sandbox/ui/approval/submit\" class=\"approval-form\" id=\"approval-form-{eid}\">\
             <div><b>{}</b> <span class=\"gray\">{eid}</span></div><input type=\"hidden\" name=\"template_id\" value=\"{eid}\">\
             <div>申请人 <select name=\"userid\">{members}</select> 审批人 <select name=\"approver\">{members}</select> \
             通知应用 <select name=\"agentid\"><option value=\"\">—</option>{apps}</select></div>",
            escape(name),
            eid = escape(id),
        );
        let mut api_only = Vec::new();
        for c in controls {
            if has_input(c) {
                let _ = write!(
                    h,
                    "<div><label>{}{} {}</label></div>",
                    escape(&c.title),
                    if c.required { " *" } else { "" },
                    input(c, &members)
                );
            } else if !matches!(c.kind, ControlKind::Tips | ControlKind::Formula) {
                api_only.push(c);
            }
        }
        if api_only.iter().any(|c| c.required) {
            let names: Vec<String> = api_only.iter().map(|c| escape(&c.title)).collect();
            let _ = write!(
                h,
                "<div class=\"gray\">必填控件 {} 只能通过 oa/applyevent 提交</div></form>",
                names.join("、")
            );
        } else {
            h.push_str("<button type=\"submit\">提交申请</button></form>");
        }
    }
    if pending.is_empty() {
        h.push_str("<div class=\"gray\">没有审批中的申请。</div>");
    } else {
        h.push_str("<table><tr><th>审批单</th><th>申请人</th><th>审批</th></tr>");
        for (sp_no, name, applyer, approvers) in &pending {
            let approver_options: String = if approvers.is_empty() {
                members.clone()
            } else {
                approvers
                    .iter()
                    .map(|u| format!("<option value=\"{0}\">{0}</option>", escape(u)))
                    .collect()
            };
            let _ = write!(
                h,
                "<tr id=\"approval-{no}\"><td>{} <span class=\"gray\">{no}</span></td><td>{}</td><td>\
                 <form method=\"post\" action=\"/sandbox/ui/approval/decide\"><input type=\"hidden\" name=\"sp_no\" value=\"{no}\">\
                 <select name=\"approver\">{approver_options}</select><input name=\"speech\" placeholder=\"审批意见\">\
                 <button type=\"submit\" name=\"decision\" value=\"approve\">通过</button>\
                 <button type=\"submit\" name=\"decision\" value=\"reject\">驳回</button></form></td></tr>",
                escape(name),
                escape(applyer),
                no = escape(sp_no),
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
    h
}

fn back(notice: &str) -> Response {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", notice)
        .finish();
    Redirect::to(&format!("/?{q}#approvals")).into_response()
}

fn outcome(records: &[crate::callbacks::CallbackRecord]) -> String {
    if records.is_empty() {
        return "没有推送回调 (未选择应用或应用未设置回调 URL)".to_owned();
    }
    records
        .iter()
        .map(|r| {
            if r.delivered {
                format!("已推送 {} 到 {}", r.what, r.url)
            } else {
                format!(
                    "推送 {} 失败: {}",
                    r.what,
                    r.last_error.clone().unwrap_or_default()
                )
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `yyyy-mm-dd` to the Unix time of its 0:00 in China time.
fn date_secs(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || it.next().is_some() {
        return None;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 - TZ)
}

/// The form's value for a control, typed; `None` when left empty.
fn value_of(c: &Control, raw: &[String]) -> Result<Option<Val>, String> {
    let first = raw.first().map(|s| s.trim()).unwrap_or("");
    let picked: Vec<String> = raw
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if picked.is_empty() {
        return Ok(None);
    }
    Ok(Some(match &c.kind {
        ControlKind::Text | ControlKind::Textarea => Val::text(first),
        ControlKind::Number => Val::number(first),
        ControlKind::Money => Val::money(first),
        ControlKind::Date { .. } => Val::Date(
            date_secs(first).ok_or_else(|| format!("{}: {first:?} is not a date", c.title))?,
        ),
        ControlKind::Selector { .. } => Val::Options(picked),
        ControlKind::Contact { .. } => Val::Members(picked),
        _ => return Ok(None),
    }))
}

async fn ui_submit(AxState(app): AxState<App>, body: BodyBytes) -> Response {
    let mut f: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body).into_owned() {
        f.entry(k).or_default().push(v);
    }
    let one = |k: &str| {
        f.get(k)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let (template_id, userid, approver) = (one("template_id"), one("userid"), one("approver"));
    let agentid = one("agentid").parse::<u32>().ok();
    let admin = Admin::new(Arc::clone(&app.state));
    let found = with_book(admin.state(), |b| {
        b.templates
            .get(&template_id)
            .map(|(names, content)| Template {
                id: template_id.clone(),
                name: names.first().map(|n| n.text.clone()).unwrap_or_default(),
                controls: controls_of(content),
            })
    });
    let Some(template) = found else {
        return back(&format!("没有模板 {template_id}"));
    };
    let mut builder = template.application(userid.clone());
    for c in template.controls.iter().filter(|c| has_input(c)) {
        let raw = f.get(&format!("c:{}", c.id)).cloned().unwrap_or_default();
        match value_of(c, &raw) {
            Ok(Some(v)) => match builder.set(&c.id, v) {
                Ok(b) => builder = b,
                Err(e) => return back(&e.to_string()),
            },
            Ok(None) => {}
            Err(e) => return back(&e),
        }
    }
    if !approver.is_empty() {
        builder = builder.approvers([approver.clone()]);
    }
    let req = match builder.build() {
        Ok(r) => r,
        Err(e) => return back(&e.to_string()),
    };
    let approvers: Vec<String> = if approver.is_empty() {
        Vec::new()
    } else {
        vec![approver]
    };
    match admin
        .approval_submit(
            &userid,
            &template_id,
            approvers,
            req.apply_data.contents,
            agentid,
        )
        .await
    {
        Ok((sp_no, pushed)) => back(&format!("已提交审批单 {sp_no}; {}", outcome(&pushed))),
        Err(e) => back(&e.to_string()),
    }
}

async fn ui_decide(AxState(app): AxState<App>, body: BodyBytes) -> Response {
    let f: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let approve = match get("decision").as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return back(&format!(
                "decision must be approve or reject, not {other:?}"
            ));
        }
    };
    let sp_no = get("sp_no");
    let admin = Admin::new(Arc::clone(&app.state));
    match admin
        .approval_decide(&sp_no, &get("approver"), approve, &get("speech"))
        .await
    {
        Ok(pushed) => back(&format!(
            "审批单 {sp_no} 已{}; {}",
            if approve { "通过" } else { "驳回" },
            outcome(&pushed)
        )),
        Err(e) => back(&e.to_string()),
    }
}

/// The page's form routes of this section.
pub(crate) fn routes() -> axum::Router<App> {
    axum::Router::new()
        .route(
            "/sandbox/ui/approval/submit",
            axum::routing::post(ui_submit),
        )
        .route(
            "/sandbox/ui/approval/decide",
            axum::routing::post(ui_decide),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_china_midnights() {
        // 2026-01-01 00:00 +08:00
        assert_eq!(date_secs("2026-01-01"), Some(1_767_196_800));
        assert_eq!(date_secs("2026-13-01"), None);
        assert_eq!(date_secs("x"), None);
    }
}
