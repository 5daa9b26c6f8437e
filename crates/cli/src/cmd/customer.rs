//! `wecom customer|corp-tag|contact-way ...`: customer contact (客户联系), part 1.
//!
//! The credential is the 客户联系 secret when configured (`system_secrets.external_contact` in
//! the profile, or its environment variable; see `wecom config --help`), else the selected app's
//! (an app listed under 客户联系 > 可调用应用, which sees only customers of members in its scope).

use std::io::IsTerminal as _;
use std::time::Duration;

use clap::{Args, Subcommand};
use futures_util::TryStreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use wecom::externalcontact::{ExternalcontactExt as _, NewCorpTag};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom customer ...`
#[derive(Debug, Subcommand)]
pub enum CustomerCmd {
    /// A member's customers with their details, streamed 100 per request (a progress bar on a
    /// terminal; `--json` prints one line per customer).
    List(ListArgs),
    /// One customer and the members following them.
    Get {
        /// The customer's external_userid.
        external_userid: String,
    },
    /// Set a member's remark or description of a customer.
    Remark(RemarkArgs),
    /// Add or remove corp tags on a member's customer.
    Tag(TagArgs),
}

/// `wecom customer list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The member (repeat for several, at most 100).
    #[arg(long = "user", required = true, value_name = "USERID")]
    pub users: Vec<String>,
    /// Page size, 1 to 100.
    #[arg(long, default_value_t = 100)]
    pub page_size: u32,
}

/// `wecom customer remark`
#[derive(Debug, Args)]
pub struct RemarkArgs {
    /// The customer's external_userid.
    pub external_userid: String,
    /// The member who added the customer.
    #[arg(long = "user", value_name = "USERID")]
    pub user: String,
    /// Remark, at most 20 characters.
    #[arg(long)]
    pub remark: Option<String>,
    /// Description, at most 150 characters.
    #[arg(long)]
    pub description: Option<String>,
    /// Company, at most 20 characters (WeChat customers).
    #[arg(long)]
    pub company: Option<String>,
    /// Mobile (repeat for several; replaces the list).
    #[arg(long = "mobile")]
    pub mobiles: Vec<String>,
}

/// `wecom customer tag`
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The customer's external_userid.
    pub external_userid: String,
    /// The member who added the customer.
    #[arg(long = "user", value_name = "USERID")]
    pub user: String,
    /// Corp tag id to add (repeat).
    #[arg(long = "add", value_name = "TAG_ID")]
    pub add: Vec<String>,
    /// Corp tag id to remove (repeat).
    #[arg(long = "remove", value_name = "TAG_ID")]
    pub remove: Vec<String>,
}

/// `wecom corp-tag ...`
#[derive(Debug, Subcommand)]
pub enum CorpTagCmd {
    /// The tag library (every group and tag).
    List,
    /// Add tags to a group (created when new; an existing name adds to it).
    Add {
        /// The group's name (at most 30 characters), or its id with --group-id.
        #[arg(long, required_unless_present = "group_id")]
        group: Option<String>,
        /// An existing group's id.
        #[arg(long)]
        group_id: Option<String>,
        /// Tag name, at most 30 characters (repeat).
        #[arg(long = "tag", required = true, value_name = "NAME")]
        tags: Vec<String>,
    },
    /// Rename or reorder a tag or a group.
    Edit {
        /// The tag or group id.
        id: String,
        /// New name, at most 30 characters.
        #[arg(long)]
        name: Option<String>,
        /// New order (larger first).
        #[arg(long)]
        order: Option<u32>,
    },
    /// Delete tags or groups.
    Delete {
        /// Tag id (repeat).
        #[arg(long = "tag", value_name = "TAG_ID")]
        tags: Vec<String>,
        /// Group id (repeat).
        #[arg(long = "group", value_name = "GROUP_ID")]
        groups: Vec<String>,
    },
}

/// `wecom contact-way ...`
#[derive(Debug, Subcommand)]
pub enum ContactWayCmd {
    /// Create a 联系我 QR code for members (one member: type 1; several or --party: type 2).
    Add {
        /// Member (repeat).
        #[arg(long = "user", value_name = "USERID")]
        users: Vec<String>,
        /// Department (repeat).
        #[arg(long = "party", value_name = "ID")]
        parties: Vec<u32>,
        /// Channel marker returned with each customer (at most 30 characters).
        #[arg(long)]
        state: Option<String>,
        /// Remark (at most 30 characters).
        #[arg(long)]
        remark: Option<String>,
    },
    /// One contact way.
    Get {
        /// The config_id.
        config_id: String,
    },
    /// The contact ways created through the API.
    List,
    /// Delete a contact way.
    Delete {
        /// The config_id.
        config_id: String,
    },
}

fn bar(ctx: &Ctx) -> ProgressBar {
    let bar = if ctx.out.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub async fn customer(ctx: &Ctx, cmd: CustomerCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let ec = client.externalcontact();
    match cmd {
        CustomerCmd::List(args) => {
            let bar = bar(ctx);
            let mut pages = std::pin::pin!(ec.customer_pages(args.users, args.page_size));
            let mut rows: Vec<Vec<String>> = Vec::new();
            let (mut requests, mut count) = (0usize, 0usize);
            while let Some(page) = pages.try_next().await? {
                requests += 1;
                for d in page.external_contact_list {
                    count += 1;
                    if ctx.out.json {
                        bar.suspend(|| ctx.out.json_line(&d))?;
                    } else {
                        rows.push(vec![
                            d.external_contact.external_userid.clone(),
                            d.external_contact.name.clone().unwrap_or_default(),
                            d.follow_info.userid.clone(),
                            d.follow_info.remark.clone().unwrap_or_default(),
                            d.follow_info.tag_id.join(","),
                        ]);
                    }
                }
                bar.set_message(format!("{count} customers, {requests} requests"));
            }
            bar.finish_and_clear();
            if !ctx.out.json {
                crate::output::write_stdout(&table(
                    &["external_userid", "name", "member", "remark", "tags"],
                    &rows,
                ))?;
            }
            Ok(())
        }
        CustomerCmd::Get { external_userid } => {
            let r = ec.customer_get(external_userid).await?;
            ctx.out.emit(&r, || {
                let c = &r.external_contact;
                let rows: Vec<Vec<String>> = r
                    .follow_user
                    .iter()
                    .map(|f| {
                        vec![
                            f.userid.clone(),
                            f.remark.clone().unwrap_or_default(),
                            f.state.clone().unwrap_or_default(),
                            f.tags
                                .iter()
                                .filter_map(|t| t.tag_name.clone())
                                .collect::<Vec<_>>()
                                .join(","),
                        ]
                    })
                    .collect();
                format!(
                    "{} {}\n{}",
                    c.external_userid,
                    c.name.clone().unwrap_or_default(),
                    table(&["member", "remark", "state", "tags"], &rows)
                )
            })
        }
        CustomerCmd::Remark(a) => {
            let mut call = ec.customer_remark(a.user, a.external_userid);
            if let Some(r) = a.remark {
                call = call.remark(r);
            }
            if let Some(d) = a.description {
                call = call.description(d);
            }
            if let Some(c) = a.company {
                call = call.remark_company(c);
            }
            if !a.mobiles.is_empty() {
                call = call.remark_mobiles(a.mobiles);
            }
            call.await?;
            ctx.out
                .emit(&json!({"ok": true}), || "remark set".to_owned())
        }
        CustomerCmd::Tag(a) => {
            ec.mark_tag(a.user, a.external_userid)
                .add_tag(a.add)
                .remove_tag(a.remove)
                .await?;
            ctx.out
                .emit(&json!({"ok": true}), || "tags changed".to_owned())
        }
    }
}

pub async fn corp_tag(ctx: &Ctx, cmd: CorpTagCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let ec = client.externalcontact();
    match cmd {
        CorpTagCmd::List => {
            let r = ec.corp_tag_list().await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .tag_group
                    .iter()
                    .flat_map(|g| {
                        g.tag.iter().map(move |t| {
                            vec![
                                g.group_id.clone(),
                                g.group_name.clone().unwrap_or_default(),
                                t.id.clone(),
                                t.name.clone().unwrap_or_default(),
                            ]
                        })
                    })
                    .collect();
                table(&["group_id", "group", "tag_id", "tag"], &rows)
            })
        }
        CorpTagCmd::Add {
            group,
            group_id,
            tags,
        } => {
            let mut call = ec.corp_tag_add(tags.into_iter().map(NewCorpTag::new));
            if let Some(id) = group_id {
                call = call.group_id(id);
            }
            if let Some(name) = group {
                call = call.group_name(name);
            }
            let r = call.await?;
            ctx.out.emit(&r, || {
                let rows: Vec<Vec<String>> = r
                    .tag_group
                    .tag
                    .iter()
                    .map(|t| vec![t.id.clone(), t.name.clone().unwrap_or_default()])
                    .collect();
                format!(
                    "group {}\n{}",
                    r.tag_group.group_id,
                    table(&["tag_id", "tag"], &rows)
                )
            })
        }
        CorpTagCmd::Edit { id, name, order } => {
            let mut call = ec.corp_tag_edit(id);
            if let Some(n) = name {
                call = call.name(n);
            }
            if let Some(o) = order {
                call = call.order(o);
            }
            call.await?;
            ctx.out.emit(&json!({"ok": true}), || "changed".to_owned())
        }
        CorpTagCmd::Delete { tags, groups } => {
            ec.corp_tag_del().tag_id(tags).group_id(groups).await?;
            ctx.out.emit(&json!({"ok": true}), || "deleted".to_owned())
        }
    }
}

pub async fn contact_way(ctx: &Ctx, cmd: ContactWayCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    let ec = client.externalcontact();
    match cmd {
        ContactWayCmd::Add {
            users,
            parties,
            state,
            remark,
        } => {
            let way_type = if users.len() == 1 && parties.is_empty() {
                1
            } else {
                2
            };
            let mut call = ec.contact_way_add(way_type, 2).user(users).party(parties);
            if let Some(s) = state {
                call = call.state(s);
            }
            if let Some(r) = remark {
                call = call.remark(r);
            }
            let r = call.await?;
            ctx.out.emit(&r, || {
                format!(
                    "config_id  {}\nqr_code    {}",
                    r.config_id,
                    r.qr_code.clone().unwrap_or_default()
                )
            })
        }
        ContactWayCmd::Get { config_id } => {
            let r = ec.contact_way_get(config_id).await?;
            ctx.out.emit(&r, || {
                let w = &r.contact_way;
                format!(
                    "config_id  {}\nmembers    {}\nstate      {}\nqr_code    {}",
                    w.config_id,
                    w.user.join(", "),
                    w.state.clone().unwrap_or_default(),
                    w.qr_code.clone().unwrap_or_default()
                )
            })
        }
        ContactWayCmd::List => {
            let mut ids = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut call = ec.contact_way_list();
                if let Some(c) = cursor.take() {
                    call = call.cursor(c);
                }
                let page = call.await?;
                ids.extend(page.contact_way.into_iter().map(|w| w.config_id));
                match page.next_cursor.filter(|c| !c.is_empty()) {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            ctx.out
                .emit(&json!({ "config_ids": ids }), || ids.join("\n"))
        }
        ContactWayCmd::Delete { config_id } => {
            ec.contact_way_del(config_id).await?;
            ctx.out.emit(&json!({"ok": true}), || "deleted".to_owned())
        }
    }
}
