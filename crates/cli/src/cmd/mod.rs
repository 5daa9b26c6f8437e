//! One module per command; each parses nothing itself, calls the library and prints.

pub(crate) mod acquisition;
pub mod api;
mod approval;
mod callback;
mod checkin;
mod config_show;
pub mod corpgroup;
pub(crate) mod customer;
mod demo;
mod directory;
mod drive;
mod errcode;
mod export;
mod export_async;
pub mod health;
pub mod invoice;
mod jssdk;
pub mod kf;
pub mod mail;
mod media;
pub mod meeting;
pub mod msgaudit;
mod proxy;
mod sandbox;
pub mod schedule;
pub mod school;
mod scope;
mod send;
mod token;
mod transfer;

use wecom::{Client, Secret};

use crate::cli::{Cli, Command};
use crate::config::{Config, Selection};
use crate::error::{CliError, set_secrets};
use crate::output::Out;

/// What every command gets: the output mode and the configuration.
pub struct Ctx {
    /// How to print.
    pub out: Out,
    /// The configuration in effect.
    pub config: Config,
}

impl Ctx {
    /// A client for the configured corp: every app whose secret can be read, the contact-sync
    /// secret, the selected app selected.
    pub fn client(&self) -> Result<Client, CliError> {
        let cfg = &self.config;
        let corp_id = cfg.corp_id()?;
        let mut builder = Client::builder(corp_id);
        if let Some(url) = &cfg.base_url {
            builder = builder.base_url(url.trim_end_matches('/'));
        }
        let selected = cfg.app().map(|a| a.agent_id);
        let mut added = Vec::new();
        for app in &cfg.apps {
            match cfg.app_secret(app) {
                Ok(Some(secret)) => {
                    builder = builder.app(app.agent_id, secret);
                    added.push(app.agent_id);
                }
                Ok(None) if Some(app.agent_id) == selected => {
                    return Err(CliError::config(
                        format!(
                            "app {} ({}) has no secret configured",
                            app.name, app.agent_id
                        ),
                        "export WECOM_SECRET, pass --secret-file FILE, or set `secret` in the profile",
                    ));
                }
                // A broken secret source only matters for the selected app.
                Err(e) if Some(app.agent_id) == selected => return Err(e),
                _ => {}
            }
        }
        let contact: Option<Secret> = cfg.contact_secret()?;
        let has_contact = contact.is_some();
        if let Some(secret) = contact {
            builder = builder.contact_secret(secret);
        }
        let system = cfg.system_secrets()?;
        let has_system = !system.is_empty();
        for (app, secret) in system {
            builder = builder.system_secret(app, secret);
        }
        if added.is_empty() && !has_contact && !has_system {
            return Err(CliError::config(
                format!("no secret configured for corp {corp_id}"),
                "export WECOM_AGENT_ID and WECOM_SECRET (or WECOM_CONTACT_SECRET), or use a profile (see `wecom config --help`)",
            ));
        }
        let client = builder.build()?;
        match selected {
            Some(id) if added.contains(&id) => Ok(client.agent(id)?),
            _ => Ok(client),
        }
    }

    /// The selected app's agentid, or an error saying how to pick one.
    pub fn agent_id(&self) -> Result<u32, CliError> {
        self.config.app().map(|a| a.agent_id).ok_or_else(|| {
            CliError::config(
                "no app selected",
                "export WECOM_AGENT_ID (with WECOM_SECRET), or pass --app NAME|AGENTID",
            )
        })
    }
}

/// `n` random letters and digits (a callback Token or EncodingAESKey for the demo).
pub fn random_alnum(n: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString as _};
    Alphanumeric.sample_string(&mut rand::rng(), n)
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM: servers stop cleanly either way.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the command.
pub async fn run(cli: Cli, out: Out) -> Result<(), CliError> {
    let selection = Selection {
        config: cli.config.clone(),
        profile: cli.profile.clone(),
        app: cli.app.clone(),
        secret_file: cli.secret_file.clone(),
        contact_secret_file: cli.contact_secret_file.clone(),
    };
    // Commands that work without any configuration must not fail on a broken one.
    let needs_config = !matches!(
        cli.command,
        Command::Errcode(_) | Command::Sandbox(_) | Command::Demo(_)
    ) && !api::offline(&cli.command);
    let config = if needs_config {
        Config::load(&selection)?
    } else {
        Config::load(&selection).unwrap_or_default()
    };
    set_secrets(config.known_secrets());
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let ctx = Ctx { out, config };
    match cli.command {
        Command::Sandbox(args) => sandbox::run(&ctx, args).await,
        Command::Demo(args) => demo::run(&ctx, args).await,
        Command::Token(args) => token::run(&ctx, args).await,
        Command::Callback(cmd) => callback::run(&ctx, cmd).await,
        Command::Jssdk(cmd) => jssdk::run(&ctx, cmd).await,
        Command::Errcode(args) => errcode::run(&ctx, args),
        Command::Config => config_show::run(&ctx),
        Command::Department(cmd) => directory::department(&ctx, cmd).await,
        Command::User(cmd) => directory::user(&ctx, cmd).await,
        Command::Tag(cmd) => directory::tag(&ctx, cmd).await,
        Command::Agent(cmd) => directory::agent(&ctx, cmd).await,
        Command::Send(args) => send::run(&ctx, args).await,
        Command::Media(cmd) => media::run(&ctx, cmd).await,
        Command::Drive(cmd) => drive::run(&ctx, cmd).await,
        Command::Scope(args) => scope::run(&ctx, args).await,
        Command::Schedule(cmd) => schedule::run(&ctx, cmd).await,
        Command::Meeting(cmd) => meeting::run(&ctx, cmd).await,
        Command::Health(cmd) => health::run(&ctx, cmd).await,
        Command::Mail(cmd) => mail::run(&ctx, cmd).await,
        Command::Transfer(cmd) => transfer::run(&ctx, cmd).await,
        Command::Acquisition(cmd) => acquisition::run(&ctx, cmd).await,
        Command::Contacts(cmd) => export::run(&ctx, cmd).await,
        Command::Api(args) => api::run(&ctx, args).await,
        Command::Proxy(args) => proxy::run(&ctx, args).await,
        Command::Kf(cmd) => kf::run(&ctx, cmd).await,
        Command::Msgaudit(cmd) => msgaudit::run(&ctx, cmd).await,
        Command::Invoice(cmd) => invoice::run(&ctx, cmd).await,
        Command::School(cmd) => school::run(&ctx, cmd).await,
        Command::Corpgroup(cmd) => corpgroup::run(&ctx, cmd).await,
        Command::Approval(cmd) => approval::run(&ctx, cmd).await,
        Command::Checkin(cmd) => checkin::run(&ctx, cmd).await,
        Command::Customer(cmd) => customer::customer(&ctx, cmd).await,
        Command::CorpTag(cmd) => customer::corp_tag(&ctx, cmd).await,
        Command::ContactWay(cmd) => customer::contact_way(&ctx, cmd).await,
    }
}
