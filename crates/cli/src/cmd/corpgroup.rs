//! `wecom corpgroup ...`: 上下游 / 企业互联. `wecom corpgroup apps` lists the downstream corps the
//! app is shared with (corpgroup/corp/list_app_share_info), each with the app's agentid there:
//! what `wecom api --downstream CORPID --downstream-agent AGENTID` needs to call any endpoint as
//! that corp.

use clap::{Args, Subcommand};
use serde_json::json;
use wecom::corpgroup::{AppShareCorp, CorpgroupExt as _};

use super::Ctx;
use crate::error::CliError;
use crate::output::table;

/// `wecom corpgroup ...`
#[derive(Debug, Subcommand)]
pub enum CorpgroupCmd {
    /// The downstream corps the app (--app, or the profile's) is shared with.
    Apps(AppsArgs),
}

/// `wecom corpgroup apps`
#[derive(Debug, Args)]
pub struct AppsArgs {
    /// 1: 上下游 (default); 0: 企业互联 / 局校互联.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=1))]
    pub business_type: u32,
    /// Only this downstream corp.
    #[arg(long, value_name = "CORPID")]
    pub corpid: Option<String>,
    /// Page size, 1 to 100 (every page is fetched).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
}

pub async fn run(ctx: &Ctx, cmd: CorpgroupCmd) -> Result<(), CliError> {
    let client = ctx.client()?;
    match cmd {
        CorpgroupCmd::Apps(a) => {
            let agentid = client.agentid().ok_or_else(|| {
                CliError::config(
                    "`wecom corpgroup apps` needs the upstream app",
                    "select it with --app (or WECOM_AGENT_ID / the profile's default_app)",
                )
            })?;
            let mut corps: Vec<AppShareCorp> = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut call = client
                    .corpgroup()
                    .list_app_share_info(agentid)
                    .business_type(a.business_type)
                    .limit(a.limit);
                if let Some(c) = &a.corpid {
                    call = call.corpid(c);
                }
                if let Some(c) = &cursor {
                    call = call.cursor(c);
                }
                let page = call.await?;
                corps.extend(page.corp_list);
                match page.next_cursor.filter(|c| !c.is_empty()) {
                    Some(next) if page.ending != Some(1) && cursor.as_ref() != Some(&next) => {
                        cursor = Some(next);
                    }
                    _ => break,
                }
            }
            let rows: Vec<Vec<String>> = corps
                .iter()
                .map(|c| {
                    vec![
                        c.corpid.clone(),
                        c.corp_name.clone().unwrap_or_default(),
                        c.agentid.to_string(),
                    ]
                })
                .collect();
            ctx.out.emit(&json!({ "corp_list": corps }), || {
                let mut t = table(&["corpid", "corp_name", "agentid"], &rows);
                t.push_str(&format!(
                    "\n{} downstream corp(s) share app {agentid}; call one with `wecom api --downstream CORPID --downstream-agent AGENTID ...`",
                    corps.len()
                ));
                t
            })
        }
    }
}
