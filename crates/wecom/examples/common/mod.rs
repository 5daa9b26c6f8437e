//! The set-up the examples share (included by each with `#[path = "common/mod.rs"] mod common;`):
//! a client for the corp configured in the environment, or for an embedded sandbox (a local
//! fake WeCom) when none is.
//!
//! Environment: `WECOM_CORP_ID`, `WECOM_AGENT_ID`, `WECOM_SECRET`, and optionally
//! `WECOM_CONTACT_SECRET` (the contact-sync secret) and `WECOM_BASE_URL`.

// Each example is its own crate and uses only part of this module.
#![allow(dead_code)]

use wecom::prelude::*;
use wecom_sandbox::Sandbox;

/// The result type of the examples' `main`.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A client, and the sandbox it talks to when no corp is configured (kept alive while this is).
pub struct Setup {
    /// The client.
    pub client: Client,
    /// The embedded sandbox, when `WECOM_CORP_ID` is not set.
    pub sandbox: Option<Sandbox>,
}

/// An environment variable, `None` when unset or empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A client for the configured corp (the app's secret, and the contact-sync secret when
/// `WECOM_CONTACT_SECRET` is set), or for a freshly started sandbox (its first app and its
/// contact-sync secret) when `WECOM_CORP_ID` is not set.
pub async fn connect() -> Result<Setup> {
    if let Some(corpid) = env("WECOM_CORP_ID") {
        let agentid: u32 = env("WECOM_AGENT_ID")
            .ok_or("set WECOM_AGENT_ID")?
            .parse()
            .map_err(|_| "WECOM_AGENT_ID must be a number")?;
        let secret = env("WECOM_SECRET").ok_or("set WECOM_SECRET")?;
        let mut builder = Client::builder(corpid).app(agentid, Secret::new(secret));
        if let Some(secret) = env("WECOM_CONTACT_SECRET") {
            builder = builder.contact_secret(Secret::new(secret));
        }
        if let Some(url) = env("WECOM_BASE_URL") {
            builder = builder.base_url(url);
        }
        return Ok(Setup {
            client: builder.build()?,
            sandbox: None,
        });
    }
    let sandbox = start_sandbox().await?;
    let creds = sandbox.credentials();
    let app = creds.apps.first().ok_or("the sandbox corp has no app")?;
    let client = Client::builder(&creds.corpid)
        .base_url(&creds.base_url)
        .app(app.agentid, app.secret.clone())
        .contact_secret(creds.contact_secret.clone())
        .build()?;
    Ok(Setup {
        client,
        sandbox: Some(sandbox),
    })
}

/// Starts an embedded sandbox and says so.
pub async fn start_sandbox() -> Result<Sandbox> {
    let sandbox = Sandbox::start().await?;
    println!(
        "no corp configured: using a sandbox at {}",
        sandbox.base_url()
    );
    Ok(sandbox)
}

/// The userid of the sandbox corp's first member.
pub fn first_member(sandbox: &Sandbox) -> Result<String> {
    Ok(sandbox
        .admin()
        .corp()
        .members()
        .next()
        .map(|m| m.userid.clone())
        .ok_or("the sandbox corp has no member")?)
}
