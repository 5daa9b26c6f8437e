//! 家校沟通 (school): walk the school's classes, add a student and a parent linked to them, list
//! the class with its parents, send the parents a 学校通知, then tidy up (parents first: WeCom
//! refuses to delete a student who still has parents).
//!
//! Uses the corp in `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET` (and `WECOM_BASE_URL`);
//! the app must be listed under 家校沟通 -> 读取和编辑家校通讯录的应用 and 家长可使用的应用, and
//! `WECOM_SCHOOL_CLASS` names a class to use. With no corp configured it starts an embedded
//! sandbox serving the demo education corp (`wecom sandbox --corp school-demo`).
//!
//! ```text
//! cargo run -p wecom --example school --features school
//! ```

use wecom::prelude::*;
use wecom::school::SchoolChild;

#[path = "common/mod.rs"]
mod common;

#[tokio::main]
async fn main() -> common::Result<()> {
    let (client, agentid, class, _sandbox) = if common::env("WECOM_CORP_ID").is_some() {
        let setup = common::connect().await?;
        let agentid: u32 = common::env("WECOM_AGENT_ID")
            .ok_or("set WECOM_AGENT_ID")?
            .parse()?;
        let class: u32 = common::env("WECOM_SCHOOL_CLASS")
            .ok_or("set WECOM_SCHOOL_CLASS to a class id")?
            .parse()?;
        (setup.client, agentid, class, None)
    } else {
        let sandbox = wecom_sandbox::Sandbox::builder()
            .corp(wecom_sandbox::Corp::school_demo())
            .start()
            .await?;
        println!(
            "no corp configured: using the demo school at {}",
            sandbox.base_url()
        );
        let creds = sandbox.credentials();
        let app = creds.apps.first().ok_or("the sandbox corp has no app")?;
        let client = Client::builder(&creds.corpid)
            .base_url(&creds.base_url)
            .app(app.agentid, app.secret.clone())
            .build()?;
        (client, app.agentid, 22, Some(sandbox))
    };
    let school = client.school();

    for d in school.school_department_list().await?.departments {
        let kind = match d.kind {
            Some(1) => "班级",
            Some(2) => "年级",
            Some(3) => "学段",
            Some(4) => "校区",
            _ => "学校",
        };
        println!(
            "{:>4} {kind} {}{}",
            d.id.unwrap_or_default(),
            d.name.unwrap_or_default(),
            d.register_year
                .map(|y| format!(" (入学 {y})"))
                .unwrap_or_default()
        );
    }

    school
        .student_create("example_student", "示例学生", vec![class])
        .to_invite(false)
        .await?;
    school
        .parent_create(
            "example_parent",
            "13500009999",
            vec![SchoolChild::new("example_student", "妈妈")],
        )
        .to_invite(false)
        .await?;
    for s in school.student_list(class).await?.students {
        let parents: Vec<String> = s
            .parents
            .iter()
            .filter_map(|p| {
                Some(format!(
                    "{}({})",
                    p.parent_userid.as_deref()?,
                    p.relation.as_deref()?
                ))
            })
            .collect();
        println!(
            "{} {}: {}",
            s.student_userid.unwrap_or_default(),
            s.name.unwrap_or_default(),
            parents.join(", ")
        );
    }

    let sent = school
        .school_message_send("text", agentid)
        .to_parent_userid(vec!["example_parent".to_owned()])
        .text(serde_json::json!({ "content": "明天上午九点开家长会" }))
        .await?;
    println!("notice sent; not reached: {:?}", sent.invalid_parent_userid);

    school.parent_delete("example_parent").await?;
    school.student_delete("example_student").await?;
    println!("cleaned up");
    Ok(())
}
