//! `wecom acquisition ...`: 获客助手 links of the selected app (list with their names and urls,
//! create, delete), the customers a link brought, and the usage left. The 客户联系 secret cannot
//! call these (不支持客户联系系统应用调用): the selected app's token is used.

use clap::Subcommand;
use futures_util::TryStreamExt;
use serde_json::json;
use wecom::externalcontact::{AcquisitionRange, ExternalcontactExt};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom acquisition`
#[derive(Debug, Subcommand)]
pub enum AcquisitionCmd {
    /// 获客链接 of the selected app.
    #[command(subcommand)]
    Link(LinkCmd),
    /// The usage used and left (each customer a link brings uses one).
    Quota,
}

/// `wecom acquisition link`
#[derive(Debug, Subcommand)]
pub enum LinkCmd {
    /// Every link this app created, with its name and url.
    List,
    /// Create a link handing customers to members and/or departments.
    Create {
        /// Name, at most 30 characters.
        name: String,
        /// Members (userids, comma-separated), at most 500.
        #[arg(long = "user", value_delimiter = ',')]
        users: Vec<String>,
        /// Departments (ids, comma-separated), covering at most 500 members.
        #[arg(long = "department", value_delimiter = ',')]
        departments: Vec<u32>,
        /// Members verify each customer (default: customers are added without verification).
        #[arg(long)]
        verify: bool,
    },
    /// Delete a link (it can no longer be used).
    Delete {
        /// The link.
        link_id: String,
    },
    /// The customers a link brought.
    Customers {
        /// The link.
        link_id: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: AcquisitionCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let ec = client.externalcontact();
    match cmd {
        AcquisitionCmd::Quota => {
            let q = ec.acquisition_quota().await?;
            let value = json!({
                "total": q.total,
                "balance": q.balance,
                "quota_list": q.quota_list.iter().map(|p| json!({
                    "expire_date": p.expire_date,
                    "balance": p.balance,
                })).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let mut rows = vec![
                    vec!["used".to_owned(), q.total.unwrap_or(0).to_string()],
                    vec!["left".to_owned(), q.balance.unwrap_or(0).to_string()],
                ];
                for p in &q.quota_list {
                    rows.push(vec![
                        format!("expires {}", p.expire_date.unwrap_or(0)),
                        p.balance.unwrap_or(0).to_string(),
                    ]);
                }
                table(&["", "count"], &rows)
            })
        }
        AcquisitionCmd::Link(LinkCmd::List) => {
            let ids: Vec<String> = ec.acquisition_links(100).try_collect().await?;
            let mut links = Vec::with_capacity(ids.len());
            for id in ids {
                let got = ec.acquisition_link_get(id.clone()).await?;
                let link = got.link.unwrap_or_default();
                let range = got.range.unwrap_or_default();
                links.push((id, link, range));
            }
            let value = json!({
                "links": links.iter().map(|(id, l, r)| json!({
                    "link_id": id,
                    "link_name": l.link_name,
                    "url": l.url,
                    "create_time": l.create_time,
                    "skip_verify": l.skip_verify,
                    "user_list": r.user_list,
                    "department_list": r.department_list,
                })).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let rows: Vec<Vec<String>> = links
                    .iter()
                    .map(|(id, l, r)| {
                        let mut who = r.user_list.join(",");
                        if !r.department_list.is_empty() {
                            let d: Vec<String> =
                                r.department_list.iter().map(u32::to_string).collect();
                            if !who.is_empty() {
                                who.push(' ');
                            }
                            who.push_str(&format!("dept {}", d.join(",")));
                        }
                        vec![
                            id.clone(),
                            l.link_name.clone().unwrap_or_default(),
                            who,
                            l.url.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&["link_id", "name", "members", "url"], &rows)
            })
        }
        AcquisitionCmd::Link(LinkCmd::Create {
            name,
            users,
            departments,
            verify,
        }) => {
            let mut range = AcquisitionRange::new();
            range.user_list = users;
            range.department_list = departments;
            let link = ec
                .acquisition_link_create(name)
                .range(range)
                .skip_verify(!verify)
                .await?
                .link;
            let value = json!({
                "link_id": link.link_id,
                "link_name": link.link_name,
                "url": link.url,
                "create_time": link.create_time,
            });
            ctx.out.emit(&value, || {
                format!(
                    "created {} ({})\n",
                    link.link_id.as_deref().unwrap_or_default(),
                    link.url.as_deref().unwrap_or_default()
                )
            })
        }
        AcquisitionCmd::Link(LinkCmd::Delete { link_id }) => {
            ec.acquisition_link_delete(link_id.clone()).await?;
            ctx.out.emit(&json!({"deleted": link_id}), || {
                format!("deleted {link_id}\n")
            })
        }
        AcquisitionCmd::Link(LinkCmd::Customers { link_id }) => {
            let all: Vec<_> = ec
                .acquisition_customers_of(&link_id, 1000)
                .try_collect()
                .await?;
            let value = json!({
                "customers": all.iter().map(|c| json!({
                    "external_userid": c.external_userid,
                    "userid": c.userid,
                    "chat_status": c.chat_status,
                    "state": c.state,
                })).collect::<Vec<_>>(),
            });
            ctx.out.emit(&value, || {
                let rows: Vec<Vec<String>> = all
                    .iter()
                    .map(|c| {
                        vec![
                            c.external_userid.clone(),
                            c.userid.clone().unwrap_or_default(),
                            match c.chat_status {
                                Some(0) => "not written yet",
                                Some(1) => "has written",
                                _ => "unknown",
                            }
                            .to_owned(),
                            c.state.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&["customer", "member", "chat", "channel"], &rows)
            })
        }
    }
}
