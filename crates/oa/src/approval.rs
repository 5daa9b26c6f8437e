//! Approvals typed end to end: a template's controls as [`Control`]s (unknown controls kept as raw
//! JSON), an application built from the template with [`ApplicationBuilder`] (a value of the wrong
//! control type is refused before any call, naming the control's title), the application numbers
//! of a range as a cursor stream, and the spec's hand-written checks (`check = "crate::approval::..."`).
//!
//! ```no_run
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use wecom_oa::approval::{Template, Value};
//! use wecom_oa::OaExt;
//!
//! let detail = client.oa().approval_template_detail("3Tka1eD6v6JfzhDMqPd3aMkFdxqtJMc2ZRioeFXkaaa").await?;
//! let template = Template::from_detail("3Tka1eD6v6JfzhDMqPd3aMkFdxqtJMc2ZRioeFXkaaa", &detail);
//! let request = template
//!     .application("WangXiaoMing")
//!     .set("事由", Value::text("Team offsite"))?
//!     .set("金额", Value::money("1200.50"))?
//!     .build()?;
//! let sp_no = client.execute(request).await?.sp_no;
//! println!("submitted {sp_no}");
//! # Ok(()) }
//! ```

use std::collections::HashSet;

use futures_util::TryStreamExt as _;
use futures_util::stream::Stream;
use serde_json::{Value as Json, json};
use wecom_core_auth::{Error, InvalidInput};

use crate::generated::oa::Oa;
use crate::generated::oa::{
    ApprovalApplyData, ApprovalApplyRequest, ApprovalContent, ApprovalCreateTemplateRequest,
    ApprovalFilter, ApprovalTemplateContent, ApprovalTemplateControl,
    ApprovalTemplateDetailResponse, ApprovalText, ApprovalUpdateTemplateRequest,
    VacationSetUserQuotaRequest,
};

/// WeCom's "approval API parameter error" (审批开放接口参数错误), the code the approval pages answer for
/// a malformed request.
pub const APPROVAL_PARAM_ERROR: i64 = 301025;

/// The kind of a template control, with what its value needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ControlKind {
    /// 文本: `text`.
    Text,
    /// 多行文本: `text`.
    Textarea,
    /// 数字: `new_number`.
    Number,
    /// 金额: `new_money`.
    Money,
    /// 日期 or 日期+时间: `date` (`config.date.type` is `day` or `hour`).
    Date {
        /// `day` or `hour`, as configured.
        date_type: String,
    },
    /// 单选 / 多选: `selector` with option keys of the template.
    Selector {
        /// Multiple choice (`multi`) rather than single (`single`).
        multi: bool,
        /// The options: key and first text.
        options: Vec<(String, String)>,
    },
    /// 成员 / 部门: `members` or `departments` (`config.contact.mode` is `user` or `department`).
    Contact {
        /// `user` or `department`.
        mode: String,
    },
    /// 说明文字: no value.
    Tips,
    /// 附件: `files`.
    File,
    /// 明细: `children`, rows of the child controls.
    Table {
        /// The child controls.
        children: Vec<Control>,
    },
    /// 假勤 - 请假: `vacation`.
    Vacation,
    /// 假勤 - 出差/外出/加班: `attendance`.
    Attendance,
    /// 位置: `location`.
    Location,
    /// 关联审批单: `related_approval`.
    RelatedApproval,
    /// 公式: `formula` (computed by WeCom).
    Formula,
    /// 时长: `date_range`.
    DateRange,
    /// 电话号码.
    PhoneNumber,
    /// 收款账户.
    BankAccount,
    /// A control this SDK does not know yet: its type name and its `config` as WeCom sent it.
    Unknown {
        /// The `control` value.
        control: String,
        /// The raw `config`.
        config: Json,
    },
}

/// One control of a template, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    /// The control id (`Text-1569573760849`).
    pub id: String,
    /// The title (zh_CN first, else the first language given).
    pub title: String,
    /// Must be filled.
    pub required: bool,
    /// The kind and its configuration.
    pub kind: ControlKind,
}

fn first_text(texts: &[ApprovalText]) -> String {
    texts
        .iter()
        .find(|t| t.lang == "zh_CN")
        .or_else(|| texts.first())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn control_from_json(property: &Json, config: &Json) -> Control {
    let s = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    let texts: Vec<ApprovalText> = property
        .get("title")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    let control = s(property, "control");
    let kind = kind_of(&control, config);
    Control {
        id: s(property, "id"),
        title: first_text(&texts),
        required: property.get("require").and_then(Json::as_u64) == Some(1),
        kind,
    }
}

fn kind_of(control: &str, config: &Json) -> ControlKind {
    match control {
        "Text" => ControlKind::Text,
        "Textarea" => ControlKind::Textarea,
        "Number" => ControlKind::Number,
        "Money" => ControlKind::Money,
        "Date" => ControlKind::Date {
            date_type: config
                .pointer("/date/type")
                .and_then(Json::as_str)
                .unwrap_or("day")
                .to_owned(),
        },
        "Selector" => {
            let sel = config.get("selector").cloned().unwrap_or(Json::Null);
            let options = sel
                .get("options")
                .and_then(Json::as_array)
                .map(|opts| {
                    opts.iter()
                        .map(|o| {
                            let key = o.get("key").and_then(Json::as_str).unwrap_or("").to_owned();
                            // `value` is a list of texts in answers, one text in create_template.
                            let text = match o.get("value") {
                                Some(Json::Array(v)) => v
                                    .first()
                                    .and_then(|t| t.get("text"))
                                    .and_then(Json::as_str)
                                    .unwrap_or(""),
                                Some(v) => v.get("text").and_then(Json::as_str).unwrap_or(""),
                                None => "",
                            };
                            (key, text.to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            ControlKind::Selector {
                multi: sel.get("type").and_then(Json::as_str) == Some("multi"),
                options,
            }
        }
        "Contact" => ControlKind::Contact {
            mode: config
                .pointer("/contact/mode")
                .and_then(Json::as_str)
                .unwrap_or("user")
                .to_owned(),
        },
        "Tips" => ControlKind::Tips,
        "File" => ControlKind::File,
        "Table" => {
            let children = config
                .pointer("/table/children")
                .and_then(Json::as_array)
                .map(|c| {
                    c.iter()
                        .map(|child| {
                            control_from_json(
                                child.get("property").unwrap_or(&Json::Null),
                                child.get("config").unwrap_or(&Json::Null),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            ControlKind::Table { children }
        }
        "Vacation" => ControlKind::Vacation,
        "Attendance" => ControlKind::Attendance,
        "Location" => ControlKind::Location,
        "RelatedApproval" => ControlKind::RelatedApproval,
        "Formula" => ControlKind::Formula,
        "DateRange" => ControlKind::DateRange,
        "PhoneNumber" => ControlKind::PhoneNumber,
        "BankAccount" => ControlKind::BankAccount,
        other => ControlKind::Unknown {
            control: other.to_owned(),
            config: config.clone(),
        },
    }
}

impl Control {
    /// The typed form of a control as WeCom sends it.
    pub fn from_wire(control: &ApprovalTemplateControl) -> Self {
        let property = serde_json::to_value(&control.property).unwrap_or(Json::Null);
        control_from_json(&property, control.config.as_ref().unwrap_or(&Json::Null))
    }

    /// The `control` name WeCom uses for this kind.
    pub fn type_name(&self) -> &str {
        match &self.kind {
            ControlKind::Text => "Text",
            ControlKind::Textarea => "Textarea",
            ControlKind::Number => "Number",
            ControlKind::Money => "Money",
            ControlKind::Date { .. } => "Date",
            ControlKind::Selector { .. } => "Selector",
            ControlKind::Contact { .. } => "Contact",
            ControlKind::Tips => "Tips",
            ControlKind::File => "File",
            ControlKind::Table { .. } => "Table",
            ControlKind::Vacation => "Vacation",
            ControlKind::Attendance => "Attendance",
            ControlKind::Location => "Location",
            ControlKind::RelatedApproval => "RelatedApproval",
            ControlKind::Formula => "Formula",
            ControlKind::DateRange => "DateRange",
            ControlKind::PhoneNumber => "PhoneNumber",
            ControlKind::BankAccount => "BankAccount",
            ControlKind::Unknown { control, .. } => control,
        }
    }
}

/// A value for a control, to put into an application with [`ApplicationBuilder::set`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// Text or Textarea.
    Text(String),
    /// Number, as its decimal text.
    Number(String),
    /// Money, as its decimal text (`"1200.50"`).
    Money(String),
    /// Date: Unix seconds (a `day` control keeps the day).
    Date(i64),
    /// Selector: the chosen option keys (one for a single choice).
    Options(Vec<String>),
    /// Contact in `user` mode: userids.
    Members(Vec<String>),
    /// Contact in `department` mode: department ids.
    Departments(Vec<String>),
    /// File: file ids of uploaded files.
    Files(Vec<String>),
    /// DateRange: begin and end (Unix seconds) and the duration in seconds.
    DateRange {
        /// Begin, Unix seconds.
        begin: i64,
        /// End, Unix seconds.
        end: i64,
        /// Duration, seconds.
        duration: i64,
    },
    /// RelatedApproval: application numbers.
    RelatedApprovals(Vec<String>),
    /// Table: rows, each a list of (child title or id, value).
    Rows(Vec<Vec<(String, Value)>>),
    /// The `value` object exactly as the page documents it, for controls this type does not
    /// model (Vacation, Attendance, Location, PhoneNumber, BankAccount, unknown controls).
    Raw(Json),
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }
    /// A money value (decimal text).
    pub fn money(s: impl Into<String>) -> Self {
        Value::Money(s.into())
    }
    /// A number value.
    pub fn number(n: impl ToString) -> Self {
        Value::Number(n.to_string())
    }

    fn name(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Number(_) => "number",
            Value::Money(_) => "money",
            Value::Date(_) => "date",
            Value::Options(_) => "selector options",
            Value::Members(_) => "members",
            Value::Departments(_) => "departments",
            Value::Files(_) => "files",
            Value::DateRange { .. } => "date range",
            Value::RelatedApprovals(_) => "related approvals",
            Value::Rows(_) => "table rows",
            Value::Raw(_) => "raw JSON",
        }
    }
}

/// A template with typed controls.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The template id.
    pub id: String,
    /// The name (zh_CN first).
    pub name: String,
    /// The controls in display order.
    pub controls: Vec<Control>,
}

impl Template {
    /// The typed template of a `gettemplatedetail` answer.
    pub fn from_detail(id: impl Into<String>, detail: &ApprovalTemplateDetailResponse) -> Self {
        Self {
            id: id.into(),
            name: first_text(&detail.template_names),
            controls: detail
                .template_content
                .as_ref()
                .map(controls_of)
                .unwrap_or_default(),
        }
    }

    /// The control with this title (any language's first text) or id.
    pub fn control(&self, title_or_id: &str) -> Option<&Control> {
        find(&self.controls, title_or_id)
    }

    /// Starts an application of this template for `creator_userid`.
    pub fn application(&self, creator_userid: impl Into<String>) -> ApplicationBuilder<'_> {
        ApplicationBuilder {
            template: self,
            creator: creator_userid.into(),
            contents: Vec::new(),
            approvers: None,
        }
    }
}

/// The typed controls of a template's content.
pub fn controls_of(content: &ApprovalTemplateContent) -> Vec<Control> {
    content.controls.iter().map(Control::from_wire).collect()
}

fn find<'c>(controls: &'c [Control], key: &str) -> Option<&'c Control> {
    controls
        .iter()
        .find(|c| c.id == key)
        .or_else(|| controls.iter().find(|c| c.title == key))
}

fn mismatch(control: &Control, value: &Value) -> InvalidInput {
    InvalidInput::new(
        format!("apply_data[{}]", control.title),
        format!(
            "control \"{}\" ({}, id {}) does not take a {} value",
            control.title,
            control.type_name(),
            control.id,
            value.name()
        ),
    )
    .with_errcode(Some(APPROVAL_PARAM_ERROR))
}

/// The `value` object of `value` for `control`, or why it does not fit.
pub fn value_json(control: &Control, value: &Value) -> Result<Json, InvalidInput> {
    let v = match (&control.kind, value) {
        (_, Value::Raw(raw)) => {
            if !raw.is_object() {
                return Err(InvalidInput::new(
                    format!("apply_data[{}]", control.title),
                    format!(
                        "control \"{}\" needs a JSON object as its raw value",
                        control.title
                    ),
                )
                .with_errcode(Some(APPROVAL_PARAM_ERROR)));
            }
            raw.clone()
        }
        (ControlKind::Text | ControlKind::Textarea, Value::Text(t)) => json!({ "text": t }),
        (ControlKind::Number, Value::Number(n)) => {
            if n.parse::<f64>().is_err() {
                return Err(InvalidInput::new(
                    format!("apply_data[{}]", control.title),
                    format!("control \"{}\" needs a number, not {n:?}", control.title),
                )
                .with_errcode(Some(APPROVAL_PARAM_ERROR)));
            }
            json!({ "new_number": n })
        }
        (ControlKind::Money, Value::Money(m)) => {
            if m.parse::<f64>().is_err() {
                return Err(InvalidInput::new(
                    format!("apply_data[{}]", control.title),
                    format!("control \"{}\" needs an amount, not {m:?}", control.title),
                )
                .with_errcode(Some(APPROVAL_PARAM_ERROR)));
            }
            json!({ "new_money": m })
        }
        (ControlKind::Date { date_type }, Value::Date(ts)) => {
            json!({ "date": { "type": date_type, "s_timestamp": ts.to_string() } })
        }
        (ControlKind::Selector { multi, options }, Value::Options(keys)) => {
            if !multi && keys.len() != 1 {
                return Err(InvalidInput::new(
                    format!("apply_data[{}]", control.title),
                    format!(
                        "control \"{}\" is a single choice: give exactly one option, not {}",
                        control.title,
                        keys.len()
                    ),
                )
                .with_errcode(Some(APPROVAL_PARAM_ERROR)));
            }
            for k in keys {
                if !options.iter().any(|(key, text)| key == k || text == k) {
                    return Err(InvalidInput::new(
                        format!("apply_data[{}]", control.title),
                        format!("control \"{}\" has no option {k:?}", control.title),
                    )
                    .with_errcode(Some(APPROVAL_PARAM_ERROR)));
                }
            }
            let chosen: Vec<Json> = keys
                .iter()
                .map(|k| {
                    let key = options
                        .iter()
                        .find(|(key, text)| key == k || text == k)
                        .map(|(key, _)| key.clone())
                        .unwrap_or_else(|| k.clone());
                    json!({ "key": key })
                })
                .collect();
            json!({ "selector": { "type": if *multi { "multi" } else { "single" }, "options": chosen } })
        }
        (ControlKind::Contact { mode }, Value::Members(ids)) if mode != "department" => {
            json!({ "members": ids.iter().map(|u| json!({ "userid": u })).collect::<Vec<_>>() })
        }
        (ControlKind::Contact { mode }, Value::Departments(ids)) if mode == "department" => {
            json!({ "departments": ids.iter().map(|d| json!({ "openapi_id": d })).collect::<Vec<_>>() })
        }
        (ControlKind::File, Value::Files(ids)) => {
            json!({ "files": ids.iter().map(|f| json!({ "file_id": f })).collect::<Vec<_>>() })
        }
        (
            ControlKind::DateRange,
            Value::DateRange {
                begin,
                end,
                duration,
            },
        ) => {
            if end < begin {
                return Err(InvalidInput::new(
                    format!("apply_data[{}]", control.title),
                    format!("control \"{}\": the end is before the begin", control.title),
                )
                .with_errcode(Some(APPROVAL_PARAM_ERROR)));
            }
            json!({ "date_range": { "type": "halfday", "new_begin": begin, "new_end": end, "new_duration": duration } })
        }
        (ControlKind::RelatedApproval, Value::RelatedApprovals(nos)) => {
            json!({ "related_approval": nos.iter().map(|n| json!({ "sp_no": n })).collect::<Vec<_>>() })
        }
        (ControlKind::Table { children }, Value::Rows(rows)) => {
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut list = Vec::with_capacity(row.len());
                for (key, v) in row {
                    let child = find(children, key).ok_or_else(|| {
                        InvalidInput::new(
                            format!("apply_data[{}]", control.title),
                            format!("table \"{}\" has no column {key:?}", control.title),
                        )
                        .with_errcode(Some(APPROVAL_PARAM_ERROR))
                    })?;
                    list.push(json!({
                        "control": child.type_name(),
                        "id": child.id,
                        "value": value_json(child, v)?,
                    }));
                }
                out.push(json!({ "list": list }));
            }
            json!({ "children": out })
        }
        _ => return Err(mismatch(control, value)),
    };
    Ok(v)
}

/// An application being filled from a [`Template`]; every value is checked against its control
/// when set, so [`build`](Self::build) returns a request WeCom will accept as to shapes.
#[derive(Debug, Clone)]
pub struct ApplicationBuilder<'t> {
    template: &'t Template,
    creator: String,
    contents: Vec<ApprovalContent>,
    approvers: Option<Vec<String>>,
}

impl ApplicationBuilder<'_> {
    /// Sets the value of the control with this title or id. Errors (before any call) when the
    /// template has no such control or the value is not of the control's type; the error names
    /// the control's title.
    pub fn set(mut self, title_or_id: &str, value: Value) -> Result<Self, InvalidInput> {
        let control = self.template.control(title_or_id).ok_or_else(|| {
            InvalidInput::new(
                format!("apply_data[{title_or_id}]"),
                format!(
                    "template \"{}\" has no control titled or with id {title_or_id:?}",
                    self.template.name
                ),
            )
            .with_errcode(Some(APPROVAL_PARAM_ERROR))
        })?;
        let value = value_json(control, &value)?;
        self.contents.retain(|c| c.id != control.id);
        self.contents.push(ApprovalContent::new(
            control.type_name(),
            control.id.clone(),
            value,
        ));
        Ok(self)
    }

    /// Uses these approvers (one node, any one approves) instead of the template's flow.
    pub fn approvers(mut self, userids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.approvers = Some(userids.into_iter().map(Into::into).collect());
        self
    }

    /// The `applyevent` request. Errors when a required control (other than Tips and Formula,
    /// which take no input) has no value.
    pub fn build(self) -> Result<ApprovalApplyRequest, InvalidInput> {
        for c in &self.template.controls {
            let input = !matches!(c.kind, ControlKind::Tips | ControlKind::Formula);
            if c.required && input && !self.contents.iter().any(|v| v.id == c.id) {
                return Err(InvalidInput::new(
                    format!("apply_data[{}]", c.title),
                    format!(
                        "control \"{}\" ({}) is required by template \"{}\"",
                        c.title,
                        c.type_name(),
                        self.template.name
                    ),
                )
                .with_errcode(Some(APPROVAL_PARAM_ERROR)));
            }
        }
        let mut req = ApprovalApplyRequest::new(
            self.creator,
            self.template.id.clone(),
            u32::from(self.approvers.is_none()),
            ApprovalApplyData::new(self.contents),
        );
        if let Some(users) = self.approvers {
            let node = crate::generated::oa::ApprovalNode::new(1, users).apv_rel(1);
            req = req.process(crate::generated::oa::ApprovalProcess::new(vec![node]));
        }
        Ok(req)
    }
}

/// The `value` keys the applyevent page documents per control type; `None`: the page's
/// appendix in the corpus does not give one, so nothing is enforced.
fn value_keys(control: &str) -> Option<&'static [&'static str]> {
    Some(match control {
        "Text" | "Textarea" => &["text"],
        "Number" => &["new_number"],
        "Money" => &["new_money"],
        "Date" => &["date"],
        "Selector" => &["selector"],
        "Contact" => &["members", "departments"],
        "File" => &["files"],
        "Table" => &["children"],
        "Vacation" => &["vacation"],
        "Attendance" => &["attendance"],
        "Location" => &["location"],
        "RelatedApproval" => &["related_approval"],
        "Formula" => &["formula"],
        "DateRange" => &["date_range"],
        _ => return None,
    })
}

fn check_contents(contents: &[ApprovalContent], path: &str) -> Result<(), InvalidInput> {
    let mut ids = HashSet::new();
    for (i, c) in contents.iter().enumerate() {
        let here = format!("{path}[{i}]");
        if !ids.insert(c.id.as_str()) {
            return Err(InvalidInput::new(
                format!("{here}.id"),
                format!("control id {:?} is given twice", c.id),
            )
            .with_errcode(Some(APPROVAL_PARAM_ERROR)));
        }
        if !c.value.is_object() {
            return Err(InvalidInput::new(
                format!("{here}.value"),
                format!("the value of control {:?} must be a JSON object", c.id),
            )
            .with_errcode(Some(APPROVAL_PARAM_ERROR)));
        }
        if let Some(keys) = value_keys(&c.control)
            && !keys.iter().any(|k| c.value.get(*k).is_some())
        {
            return Err(InvalidInput::new(
                format!("{here}.value"),
                format!(
                    "control {:?} is a {} control: its value needs `{}`",
                    c.id,
                    c.control,
                    keys.join("` or `")
                ),
            )
            .with_errcode(Some(APPROVAL_PARAM_ERROR)));
        }
        if c.control == "Table"
            && let Some(rows) = c.value.get("children").and_then(Json::as_array)
        {
            for (r, row) in rows.iter().enumerate() {
                let list: Vec<ApprovalContent> = row
                    .get("list")
                    .and_then(|l| serde_json::from_value(l.clone()).ok())
                    .unwrap_or_default();
                check_contents(&list, &format!("{here}.value.children[{r}].list"))?;
            }
        }
    }
    Ok(())
}

/// `applyevent`: each value has the key its control type takes (the page's appendix: `text`,
/// `new_number`, `new_money`, `date`, `selector` ...), and no control id repeats. Errcode 301025.
pub fn check_apply(req: &ApprovalApplyRequest) -> Result<(), InvalidInput> {
    check_contents(&req.apply_data.contents, "apply_data.contents")?;
    if req.use_template_approver == 0 && req.process.is_none() && req.approver.is_none() {
        return Err(InvalidInput::new(
            "process",
            "with use_template_approver = 0 the approval flow must be given (`process`)",
        )
        .with_errcode(Some(APPROVAL_PARAM_ERROR)));
    }
    Ok(())
}

fn check_template(
    names: &[ApprovalText],
    content: Option<&ApprovalTemplateContent>,
) -> Result<(), InvalidInput> {
    let err = |field: String, problem: String| {
        Err(InvalidInput::new(field, problem).with_errcode(Some(APPROVAL_PARAM_ERROR)))
    };
    for (i, n) in names.iter().enumerate() {
        let len = n.text.chars().count();
        if len == 0 || len > 40 {
            return err(
                format!("template_name[{i}].text"),
                format!("is {len} characters; a template name has 1 to 40"),
            );
        }
    }
    let Some(content) = content else {
        return Ok(());
    };
    let mut ids = HashSet::new();
    for (i, c) in content.controls.iter().enumerate() {
        let p = &c.property;
        let here = format!("template_content.controls[{i}].property");
        let valid_id = p.id.split_once('-').is_some_and(|(kind, n)| {
            !kind.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        });
        if !valid_id {
            return err(
                format!("{here}.id"),
                format!("{:?} is not of the form `Control-digits` (`Text-01`)", p.id),
            );
        }
        if !ids.insert(p.id.as_str()) {
            return err(format!("{here}.id"), format!("{:?} is used twice", p.id));
        }
        for t in &p.title {
            let len = t.text.chars().count();
            if len == 0 || len > 40 {
                return err(
                    format!("{here}.title"),
                    format!("is {len} characters; a control title has 1 to 40"),
                );
            }
        }
        for t in &p.placeholder {
            let len = t.text.chars().count();
            if len > 80 {
                return err(
                    format!("{here}.placeholder"),
                    format!("is {len} characters; at most 80"),
                );
            }
        }
    }
    Ok(())
}

/// `create_template`: names at most 40 characters, control ids `Control-digits` and unique,
/// control titles at most 40 characters, placeholders at most 80 (the page's 参数说明).
pub fn check_create_template(req: &ApprovalCreateTemplateRequest) -> Result<(), InvalidInput> {
    check_template(&req.template_name, req.template_content.as_ref())
}

/// `update_template`: the same rules as [`check_create_template`].
pub fn check_update_template(req: &ApprovalUpdateTemplateRequest) -> Result<(), InvalidInput> {
    check_template(&req.template_name, req.template_content.as_ref())
}

/// `setoneuserquota`: the balance is a multiple of 8640 s (0.1 day) for day-based types and of
/// 360 s (0.1 hour) for hour-based ones (the page's `leftduration`). Errcode 301063 (参数错误).
pub fn check_set_quota(req: &VacationSetUserQuotaRequest) -> Result<(), InvalidInput> {
    let unit = if req.time_attr == 1 { 360 } else { 8640 };
    if !req.leftduration.is_multiple_of(unit) {
        return Err(InvalidInput::new(
            "leftduration",
            format!(
                "is {} s; a balance {} must be a multiple of {unit} s",
                req.leftduration,
                if unit == 360 { "by hour" } else { "by day" }
            ),
        )
        .with_errcode(Some(301063)));
    }
    Ok(())
}

impl<'a> Oa<'a> {
    /// Every application number submitted between `start` and `end` (Unix seconds), page by page
    /// (`getapprovalinfo`, 100 per call, following `new_next_cursor`). The stream ends after the
    /// first error; a cursor answered twice is an error rather than a loop.
    pub fn approval_numbers(
        self,
        start: i64,
        end: i64,
        filters: Vec<ApprovalFilter>,
    ) -> impl Stream<Item = Result<Vec<String>, Error>> + Send + 'a {
        let (start, end) = (start.to_string(), end.to_string());
        wecom_core_auth::paging::cursor_pages(
            "approval_info",
            move |cursor: Option<String>| {
                self.approval_info(start.clone(), end.clone())
                    .size(100)
                    .new_cursor(cursor.unwrap_or_default())
                    .filters(filters.clone())
                    .into_future()
            },
            |page: &crate::ApprovalInfoResponse| page.new_next_cursor.clone(),
        )
        .map_ok(|page| page.sp_no_list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let detail: ApprovalTemplateDetailResponse = serde_json::from_value(json!({
            "template_names": [{ "text": "报销", "lang": "zh_CN" }],
            "template_content": { "controls": [
                { "property": { "control": "Text", "id": "Text-1", "title": [{ "text": "事由", "lang": "zh_CN" }], "require": 1 } },
                { "property": { "control": "Money", "id": "Money-2", "title": [{ "text": "金额", "lang": "zh_CN" }], "require": 1 } },
                { "property": { "control": "Selector", "id": "Selector-3", "title": [{ "text": "类型", "lang": "zh_CN" }] },
                  "config": { "selector": { "type": "single", "options": [
                      { "key": "option-1", "value": [{ "text": "差旅", "lang": "zh_CN" }] },
                      { "key": "option-2", "value": [{ "text": "餐费", "lang": "zh_CN" }] } ] } } },
                { "property": { "control": "Hologram", "id": "Hologram-4", "title": [{ "text": "全息", "lang": "zh_CN" }] },
                  "config": { "beam": 3 } }
            ] }
        }))
        .unwrap();
        Template::from_detail("tpl", &detail)
    }

    #[test]
    fn controls_are_typed_and_unknown_ones_keep_their_json() {
        let t = template();
        assert_eq!(t.name, "报销");
        assert_eq!(t.controls[1].kind, ControlKind::Money);
        assert!(
            matches!(&t.controls[2].kind, ControlKind::Selector { multi: false, options } if options.len() == 2)
        );
        assert_eq!(
            t.controls[3].kind,
            ControlKind::Unknown {
                control: "Hologram".into(),
                config: json!({ "beam": 3 })
            }
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_with_the_title() {
        let t = template();
        let e = t
            .application("u")
            .set("金额", Value::text("a lot"))
            .err()
            .unwrap();
        assert!(e.problem.contains("金额"), "{e:?}");
        assert!(e.problem.contains("Money"), "{e:?}");
        assert_eq!(e.errcode, Some(APPROVAL_PARAM_ERROR));
        let e = t
            .application("u")
            .set("金额", Value::money("12x"))
            .err()
            .unwrap();
        assert!(e.problem.contains("金额"));
    }

    #[test]
    fn a_complete_application_builds_and_passes_the_spec_check() {
        let t = template();
        let req = t
            .application("u")
            .set("事由", Value::text("trip"))
            .unwrap()
            .set("金额", Value::money("12.5"))
            .unwrap()
            .set("类型", Value::Options(vec!["餐费".into()]))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(req.use_template_approver, 1);
        assert_eq!(
            req.apply_data.contents[2].value["selector"]["options"][0]["key"],
            "option-2"
        );
        check_apply(&req).unwrap();
    }

    #[test]
    fn a_missing_required_control_is_named() {
        let e = template()
            .application("u")
            .set("事由", Value::text("trip"))
            .unwrap()
            .build()
            .err()
            .unwrap();
        assert!(e.problem.contains("金额"), "{e:?}");
    }

    #[test]
    fn check_apply_refuses_a_value_without_its_key() {
        let mut req = ApprovalApplyRequest::new(
            "u",
            "tpl",
            1,
            ApprovalApplyData::new(vec![ApprovalContent::new(
                "Money",
                "Money-2",
                json!({ "text": "12" }),
            )]),
        );
        let e = check_apply(&req).err().unwrap();
        assert!(e.problem.contains("new_money"), "{e:?}");
        req.apply_data.contents[0].value = json!({ "new_money": "12" });
        check_apply(&req).unwrap();
    }

    #[test]
    fn quota_must_be_a_tenth_of_the_unit() {
        let ok = VacationSetUserQuotaRequest::new("u", 1, 8640 * 3, 0);
        check_set_quota(&ok).unwrap();
        let bad = VacationSetUserQuotaRequest::new("u", 1, 1000, 0);
        assert!(check_set_quota(&bad).is_err());
        let hours = VacationSetUserQuotaRequest::new("u", 1, 720, 1);
        check_set_quota(&hours).unwrap();
    }
}
