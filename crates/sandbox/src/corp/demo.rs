//! The demo corp loaded when nothing else is given.

use serde_json::json;

use super::{App, Corp, Member, Robot};

/// The demo corp's id.
pub const DEMO_CORPID: &str = "ww5a9c0de1b2f34a01";
/// The demo contact-sync secret.
pub const DEMO_CONTACT_SECRET: &str = "sandbox-contact-sync-secret-0000000000000001";
/// The demo approval app (whole-corp scope).
pub const DEMO_APPROVAL_AGENTID: u32 = 1000002;
/// The demo approval app's secret.
pub const DEMO_APPROVAL_SECRET: &str = "sandbox-approval-app-secret-000000000000002";
/// The demo R&D weekly app (R&D department, the 经理 tag and one member).
pub const DEMO_WEEKLY_AGENTID: u32 = 1000003;
/// The demo R&D weekly app's secret.
pub const DEMO_WEEKLY_SECRET: &str = "sandbox-weekly-report-secret-00000000000003";
/// The demo group robot's webhook key.
pub const DEMO_ROBOT_KEY: &str = "sandbox-robot-key-0001";

impl Corp {
    /// The demo corp 示例科技: six departments, ten members, two tags, two apps with different
    /// visible scopes, a contact-sync secret and a group robot. The `DEMO_*` constants give its ids
    /// and secrets.
    ///
    /// | dept | name | parent |
    /// |---|---|---|
    /// | 1 | 示例科技 | - |
    /// | 2 | 研发部 | 1 |
    /// | 3 | 市场部 | 1 |
    /// | 4 | 前端组 | 2 |
    /// | 5 | 后端组 | 2 |
    /// | 6 | 人事部 | 1 |
    ///
    /// App 1000002 (审批) sees the whole corp; app 1000003 (研发周报) sees 研发部 and its
    /// subtree, the members of tag 1 (经理) and `chenjing`.
    pub fn demo() -> Corp {
        let mut corp = Corp::new(DEMO_CORPID, "示例科技", DEMO_CONTACT_SECRET);
        for app in wecom_core_auth::SystemApp::ALL {
            corp.set_system_secret(app, demo_system_secret(app));
        }
        // The data below is fixed and consistent; `demo_build` reports a broken edit in tests.
        match demo_build(&mut corp) {
            Ok(()) => corp,
            Err(e) => {
                tracing::error!("demo corp is inconsistent: {e}");
                corp
            }
        }
    }
}

/// The demo corp's secret of a system app: `sandbox-<name>-secret` padded to 43 characters.
pub fn demo_system_secret(app: wecom_core_auth::SystemApp) -> String {
    format!("{:-<43}", format!("sandbox-{}-secret-", app.name()))
}

/// userid, name, departments, mobile, email, position.
type Person = (
    &'static str,
    &'static str,
    &'static [u32],
    &'static str,
    &'static str,
    &'static str,
);

pub(super) fn demo_build(corp: &mut Corp) -> Result<(), super::CorpError> {
    corp.create_department("研发部", "R&D", 1, 100, Some(2))?;
    corp.create_department("市场部", "Marketing", 1, 90, Some(3))?;
    corp.create_department("前端组", "Frontend", 2, 100, Some(4))?;
    corp.create_department("后端组", "Backend", 2, 90, Some(5))?;
    corp.create_department("人事部", "HR", 1, 80, Some(6))?;

    let people: [Person; 10] = [
        (
            "zhangwei",
            "张伟",
            &[1],
            "13800000001",
            "zhangwei@example.com",
            "总经理",
        ),
        (
            "wangfang",
            "王芳",
            &[2],
            "13800000002",
            "wangfang@example.com",
            "研发总监",
        ),
        (
            "lina",
            "李娜",
            &[4],
            "13800000003",
            "lina@example.com",
            "前端工程师",
        ),
        ("liuyang", "刘洋", &[4], "13800000004", "", "前端工程师"),
        (
            "chenjing",
            "陈静",
            &[3],
            "13800000005",
            "chenjing@example.com",
            "市场经理",
        ),
        (
            "yangming",
            "杨明",
            &[5],
            "13800000006",
            "yangming@example.com",
            "后端工程师",
        ),
        (
            "zhaolei",
            "赵磊",
            &[5, 3],
            "13800000007",
            "zhaolei@example.com",
            "架构师",
        ),
        (
            "huangli",
            "黄丽",
            &[6],
            "",
            "huangli@example.com",
            "人事专员",
        ),
        ("zhouqiang", "周强", &[3], "13800000009", "", "销售"),
        (
            "wuxia",
            "吴霞",
            &[6],
            "13800000010",
            "wuxia@example.com",
            "招聘经理",
        ),
    ];
    for (userid, name, depts, mobile, email, position) in people {
        let mut m = Member::new(userid, name, depts.to_vec())
            .with_mobile(mobile)
            .with_email(email)
            .with_position(position);
        m.gender = if matches!(
            userid,
            "wangfang" | "lina" | "chenjing" | "huangli" | "wuxia"
        ) {
            "2"
        } else {
            "1"
        }
        .into();
        m.openid = format!("o-sandbox-{userid}");
        corp.create_member(m)?;
    }
    corp.update_member("wangfang", |m| m.is_leader_in_dept = vec![1])?;
    corp.update_member("lina", |m| m.direct_leader = vec!["wangfang".into()])?;
    if let Some(d) = corp.departments.get_mut(&2) {
        d.department_leader = vec!["wangfang".into()];
    }

    let managers = corp.create_tag("经理", Some(1), None)?;
    corp.add_tag_items(
        managers,
        super::Actor::Contact,
        &["zhangwei".into(), "wangfang".into(), "wuxia".into()],
        &[],
    )?;
    let duty = corp.create_tag("值班", Some(2), None)?;
    corp.add_tag_items(duty, super::Actor::Contact, &["zhouqiang".into()], &[5])?;

    let mut approval = App::new(DEMO_APPROVAL_AGENTID, "审批", DEMO_APPROVAL_SECRET);
    approval.description = "请假、报销与采购审批".into();
    approval.allow_parties = vec![1];
    approval.home_url = "https://example.com/approval".into();
    approval.redirect_domain = "example.com".into();
    approval.menu = Some(json!({
        "button": [
            {"type": "click", "name": "今日待办", "key": "TODO_TODAY"},
            {"name": "发起", "sub_button": [
                {"type": "click", "name": "请假", "key": "APPLY_LEAVE"},
                {"type": "click", "name": "报销", "key": "APPLY_EXPENSE"},
                {"type": "view", "name": "帮助", "url": "https://example.com/approval/help"}
            ]}
        ]
    }));
    corp.add_app(approval)?;

    let mut weekly = App::new(DEMO_WEEKLY_AGENTID, "研发周报", DEMO_WEEKLY_SECRET);
    weekly.description = "研发部每周进展汇总".into();
    weekly.allow_parties = vec![2];
    weekly.allow_tags = vec![managers];
    weekly.allow_users = vec!["chenjing".into()];
    weekly.menu = Some(json!({
        "button": [
            {"type": "click", "name": "本周周报", "key": "WEEKLY_THIS"},
            {"type": "click", "name": "提交周报", "key": "WEEKLY_SUBMIT"}
        ]
    }));
    corp.add_app(weekly)?;

    corp.add_robot(Robot {
        key: DEMO_ROBOT_KEY.into(),
        name: "研发群".into(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_consistent() {
        let mut corp = Corp::new(DEMO_CORPID, "示例科技", DEMO_CONTACT_SECRET);
        demo_build(&mut corp).expect("demo data follows WeCom's rules");
        assert_eq!(corp.members().count(), 10);
        assert_eq!(corp.departments().count(), 6);
        assert_eq!(corp.tags().count(), 2);
        assert_eq!(corp.apps().count(), 2);
    }
}
