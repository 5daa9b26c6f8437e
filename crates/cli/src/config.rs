//! Where the corp, its apps and their secrets come from: environment variables, a TOML profile
//! file with several profiles and apps, and secret files (or stdin). Secrets are never taken
//! from command-line values and never printed.
//!
//! Precedence, highest first: `--secret-file` / `--contact-secret-file`, environment variables,
//! the selected profile.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wecom::Secret;

use crate::error::CliError;

/// The environment variables read (documented in `wecom --help`).
pub mod env {
    /// The corp's id.
    pub const CORP_ID: &str = "WECOM_CORP_ID";
    /// The app's agentid (selects an app of the profile, or defines the app with `WECOM_SECRET`).
    pub const AGENT_ID: &str = "WECOM_AGENT_ID";
    /// The app's secret.
    pub const SECRET: &str = "WECOM_SECRET";
    /// The contact-sync (通讯录同步) secret.
    pub const CONTACT_SECRET: &str = "WECOM_CONTACT_SECRET";
    /// Another API host (the sandbox's `http://127.0.0.1:PORT`).
    pub const BASE_URL: &str = "WECOM_BASE_URL";
    /// The profile file.
    pub const CONFIG: &str = "WECOM_CONFIG";
    /// The callback Token.
    pub const CALLBACK_TOKEN: &str = "WECOM_CALLBACK_TOKEN";
    /// The callback EncodingAESKey.
    pub const CALLBACK_AES_KEY: &str = "WECOM_CALLBACK_AES_KEY";
    /// The receive id checked in callbacks (default: the corp id).
    pub const CALLBACK_RECEIVE_ID: &str = "WECOM_CALLBACK_RECEIVE_ID";
    /// A JS-SDK ticket for `wecom jssdk sign`.
    pub const JSAPI_TICKET: &str = "WECOM_JSAPI_TICKET";
}

/// A secret as written in the profile file: the value itself (keep the file private), or
/// where to read it.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub enum SecretSource {
    /// `secret = "..."`
    Plain(String),
    /// `secret = { env = "VAR" }`
    Env {
        /// The environment variable holding the secret.
        env: String,
    },
    /// `secret = { file = "/run/secrets/x" }` (surrounding whitespace is trimmed)
    File {
        /// The file holding the secret.
        file: PathBuf,
    },
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Plain(_) => f.write_str("Plain(***)"),
            SecretSource::Env { env } => write!(f, "Env({env})"),
            SecretSource::File { file } => write!(f, "File({})", file.display()),
        }
    }
}

impl SecretSource {
    fn is_plain(&self) -> bool {
        matches!(self, SecretSource::Plain(_))
    }

    /// Reads the secret; `what` names it in errors (never the value).
    fn resolve(&self, what: &str, base: &Path) -> Result<Secret, CliError> {
        match self {
            SecretSource::Plain(v) => Ok(Secret::new(v.trim())),
            SecretSource::Env { env } => match std::env::var(env) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim())),
                _ => Err(CliError::config(
                    format!("{what} is to be read from ${env}, which is not set"),
                    format!("export {env}=... or change the profile"),
                )),
            },
            SecretSource::File { file } => {
                let path = if file.is_relative() {
                    base.join(file)
                } else {
                    file.clone()
                };
                read_secret_file(&path, what)
            }
        }
    }
}

/// Reads a secret from a file, or from stdin when `path` is `-`.
pub fn read_secret_file(path: &Path, what: &str) -> Result<Secret, CliError> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::io(format!("cannot read {what} from stdin"), e))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::io(format!("cannot read {what} from {}", path.display()), e))?
    };
    let value = text.trim();
    if value.is_empty() {
        return Err(CliError::config(
            format!("{what} file {} is empty", path.display()),
            "put the secret on the file's first line",
        ));
    }
    Ok(Secret::new(value))
}

/// One app in a profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppFile {
    /// The agentid.
    pub agent_id: u32,
    /// The app's secret.
    pub secret: Option<SecretSource>,
    /// The app's callback Token.
    pub callback_token: Option<SecretSource>,
    /// The app's callback EncodingAESKey.
    pub callback_aes_key: Option<SecretSource>,
}

/// One profile: a corp and its apps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// The corp's id.
    pub corp_id: Option<String>,
    /// Another API host.
    pub base_url: Option<String>,
    /// The contact-sync secret.
    pub contact_secret: Option<SecretSource>,
    /// System apps' own secrets by app name (`external_contact`, `approval`, `checkin`, `kf` ...),
    /// overridden by `WECOM_<NAME>_SECRET` (`WECOM_EXTERNAL_CONTACT_SECRET`).
    #[serde(default)]
    pub system_secrets: BTreeMap<String, SecretSource>,
    /// The app used when `--app` is not given.
    pub default_app: Option<String>,
    /// Apps by name.
    #[serde(default)]
    pub apps: BTreeMap<String, AppFile>,
}

/// The profile file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when `--profile` is not given.
    pub default_profile: Option<String>,
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileFile>,
}

/// What the command line says about configuration.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--config`
    pub config: Option<PathBuf>,
    /// `--profile`
    pub profile: Option<String>,
    /// `--app` (a name from the profile or an agentid)
    pub app: Option<String>,
    /// `--secret-file`
    pub secret_file: Option<PathBuf>,
    /// `--contact-secret-file`
    pub contact_secret_file: Option<PathBuf>,
}

/// An app, resolved.
#[derive(Debug, Clone)]
pub struct App {
    /// Its name in the profile (`env` when it comes from `WECOM_AGENT_ID`).
    pub name: String,
    /// The agentid.
    pub agent_id: u32,
    /// Where its secret is (read when needed).
    secret: Option<SecretSource>,
    /// Callback Token source.
    callback_token: Option<SecretSource>,
    /// Callback key source.
    callback_aes_key: Option<SecretSource>,
}

/// The configuration in effect.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it came from, for messages (`profile "prod" of ~/.config/wecom/config.toml`).
    pub origin: String,
    /// The corp's id.
    pub corp_id: Option<String>,
    /// The API host, when not WeCom's.
    pub base_url: Option<String>,
    /// The profile's apps (plus the one from the environment).
    pub apps: Vec<App>,
    /// Index of the selected app in `apps`.
    pub selected: Option<usize>,
    contact_secret: Option<SecretSource>,
    system_secrets: Vec<(wecom::auth::SystemApp, SecretSource)>,
    secret_override: Option<Secret>,
    contact_secret_override: Option<Secret>,
    base_dir: PathBuf,
    /// Warnings to show (a world-readable file holding secrets...).
    pub warnings: Vec<String>,
}

/// The environment variable holding a system app's secret: `WECOM_EXTERNAL_CONTACT_SECRET` ...
pub fn system_secret_env(app: wecom::auth::SystemApp) -> String {
    format!("WECOM_{}_SECRET", app.name().to_ascii_uppercase())
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The default profile file: `$XDG_CONFIG_HOME/wecom/config.toml` or
/// `~/.config/wecom/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    if let Some(dir) = env_var("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("wecom").join("config.toml"));
    }
    env_var("HOME").map(|h| {
        PathBuf::from(h)
            .join(".config")
            .join("wecom")
            .join("config.toml")
    })
}

impl Config {
    /// Loads the configuration for this command line.
    pub fn load(sel: &Selection) -> Result<Config, CliError> {
        let explicit = sel
            .config
            .clone()
            .or_else(|| env_var(env::CONFIG).map(PathBuf::from));
        let path = explicit.clone().or_else(default_config_path);
        let mut warnings = Vec::new();
        let (file, path) = match path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    CliError::io(format!("cannot read the profile file {}", p.display()), e)
                })?;
                let file: ConfigFile = toml::from_str(&text).map_err(|e| {
                    CliError::config(
                        format!(
                            "the profile file {} is not valid: {}",
                            p.display(),
                            e.message()
                        ),
                        "see `wecom config --help` for its format",
                    )
                })?;
                (Some(file), Some(p))
            }
            Some(p) if explicit.is_some() => {
                return Err(CliError::config(
                    format!("the profile file {} does not exist", p.display()),
                    "check the path given with --config or $WECOM_CONFIG",
                ));
            }
            _ => (None, None),
        };

        let base_dir = path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let (profile_name, profile) = match &file {
            Some(f) => pick_profile(f, sel.profile.as_deref(), path.as_deref())?,
            None => {
                if let Some(name) = &sel.profile {
                    return Err(CliError::config(
                        format!("profile {name:?} requested but there is no profile file"),
                        format!(
                            "create {} or pass --config FILE",
                            default_config_path().map_or_else(
                                || "a profile file".to_owned(),
                                |p| p.display().to_string()
                            )
                        ),
                    ));
                }
                (None, ProfileFile::default())
            }
        };
        if let (Some(p), Some(_)) = (&path, &profile_name) {
            let has_plain = profile
                .contact_secret
                .as_ref()
                .is_some_and(SecretSource::is_plain)
                || profile.apps.values().any(|a| {
                    [&a.secret, &a.callback_token, &a.callback_aes_key]
                        .iter()
                        .any(|s| s.as_ref().is_some_and(SecretSource::is_plain))
                });
            if has_plain && readable_by_others(p) {
                warnings.push(format!(
                    "{} holds secrets and is readable by other users; run `chmod 600 {}`",
                    p.display(),
                    p.display()
                ));
            }
        }

        let origin = match (&profile_name, &path) {
            (Some(n), Some(p)) => format!("profile {n:?} of {}", p.display()),
            _ => "the environment".to_owned(),
        };
        let mut apps: Vec<App> = profile
            .apps
            .iter()
            .map(|(name, a)| App {
                name: name.clone(),
                agent_id: a.agent_id,
                secret: a.secret.clone(),
                callback_token: a.callback_token.clone(),
                callback_aes_key: a.callback_aes_key.clone(),
            })
            .collect();

        // The environment's app: selects a profile app with that agentid, or adds one.
        let env_agent = match env_var(env::AGENT_ID) {
            Some(v) => Some(v.parse::<u32>().map_err(|_| {
                CliError::config(
                    format!("{} is {v:?}, not an agentid", env::AGENT_ID),
                    "set it to the app's AgentId (a number such as 1000002)",
                )
            })?),
            None => None,
        };
        let env_secret = env_var(env::SECRET).map(|_| SecretSource::Env {
            env: env::SECRET.to_owned(),
        });
        let mut env_index = None;
        if let Some(agent_id) = env_agent {
            let i = match apps.iter().position(|a| a.agent_id == agent_id) {
                Some(i) => i,
                None => {
                    apps.push(App {
                        name: "env".to_owned(),
                        agent_id,
                        secret: None,
                        callback_token: None,
                        callback_aes_key: None,
                    });
                    apps.len() - 1
                }
            };
            if env_secret.is_some() {
                apps[i].secret = env_secret.clone();
            }
            env_index = Some(i);
        } else if env_secret.is_some() && apps.is_empty() {
            return Err(CliError::config(
                format!("{} is set but {} is not", env::SECRET, env::AGENT_ID),
                format!("export {}=<the app's AgentId>", env::AGENT_ID),
            ));
        }

        let selected = match &sel.app {
            Some(want) => Some(
                apps.iter()
                    .position(|a| &a.name == want || a.agent_id.to_string() == *want)
                    .ok_or_else(|| {
                        CliError::config(
                            format!("no app {want:?} in {origin}"),
                            if apps.is_empty() {
                                "configure an app (WECOM_AGENT_ID + WECOM_SECRET, or [profiles.NAME.apps.NAME] in the profile file)".to_owned()
                            } else {
                                format!(
                                    "use one of: {}",
                                    apps.iter()
                                        .map(|a| format!("{} ({})", a.name, a.agent_id))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            },
                        )
                    })?,
            ),
            None => env_index
                .or_else(|| {
                    profile
                        .default_app
                        .as_ref()
                        .and_then(|d| apps.iter().position(|a| &a.name == d))
                })
                .or(if apps.is_empty() { None } else { Some(0) }),
        };
        if let Some(d) = &profile.default_app
            && !apps.iter().any(|a| &a.name == d)
        {
            return Err(CliError::config(
                format!("default_app {d:?} of {origin} is not one of its apps"),
                "fix default_app in the profile file",
            ));
        }

        let contact_secret = if env_var(env::CONTACT_SECRET).is_some() {
            Some(SecretSource::Env {
                env: env::CONTACT_SECRET.to_owned(),
            })
        } else {
            profile.contact_secret.clone()
        };

        let mut system_secrets = Vec::new();
        for name in profile.system_secrets.keys() {
            if wecom::auth::SystemApp::from_name(name).is_none() {
                return Err(CliError::config(
                    format!("unknown system app {name:?} in system_secrets of {origin}"),
                    format!(
                        "use one of {}",
                        wecom::auth::SystemApp::ALL.map(|a| a.name()).join(", ")
                    ),
                ));
            }
        }
        for app in wecom::auth::SystemApp::ALL {
            let env_name = system_secret_env(app);
            if env_var(&env_name).is_some() {
                system_secrets.push((app, SecretSource::Env { env: env_name }));
            } else if let Some(source) = profile.system_secrets.get(app.name()) {
                system_secrets.push((app, source.clone()));
            }
        }

        if sel.secret_file.as_deref() == Some(Path::new("-"))
            && sel.contact_secret_file.as_deref() == Some(Path::new("-"))
        {
            return Err(CliError::config(
                "--secret-file and --contact-secret-file cannot both read stdin",
                "put one of the secrets in a file",
            ));
        }
        let secret_override = sel
            .secret_file
            .as_deref()
            .map(|p| read_secret_file(p, "the app secret"))
            .transpose()?;
        let contact_secret_override = sel
            .contact_secret_file
            .as_deref()
            .map(|p| read_secret_file(p, "the contact-sync secret"))
            .transpose()?;
        if secret_override.is_some() && selected.is_none() {
            return Err(CliError::config(
                "--secret-file is given but no app is selected",
                format!("export {}=<the app's AgentId> or pass --app", env::AGENT_ID),
            ));
        }

        Ok(Config {
            origin,
            corp_id: env_var(env::CORP_ID).or(profile.corp_id.clone()),
            base_url: env_var(env::BASE_URL).or(profile.base_url.clone()),
            apps,
            selected,
            contact_secret,
            system_secrets,
            secret_override,
            contact_secret_override,
            base_dir,
            warnings,
        })
    }

    /// The corp id, or an error saying how to configure one.
    pub fn corp_id(&self) -> Result<&str, CliError> {
        self.corp_id.as_deref().ok_or_else(|| {
            CliError::config(
                "no corp configured",
                "export WECOM_CORP_ID, WECOM_AGENT_ID and WECOM_SECRET (or use a profile file, see `wecom config --help`); to try things out run `wecom sandbox` and export the values it prints",
            )
        })
    }

    /// The selected app.
    pub fn app(&self) -> Option<&App> {
        self.selected.and_then(|i| self.apps.get(i))
    }

    /// The selected app's secret (an `--secret-file` wins).
    pub fn app_secret(&self, app: &App) -> Result<Option<Secret>, CliError> {
        let what = format!("the secret of app {} ({})", app.name, app.agent_id);
        if self.app().map(|a| a.agent_id) == Some(app.agent_id)
            && let Some(s) = &self.secret_override
        {
            return Ok(Some(s.clone()));
        }
        app.secret
            .as_ref()
            .map(|s| s.resolve(&what, &self.base_dir))
            .transpose()
    }

    /// The contact-sync secret, when configured.
    pub fn contact_secret(&self) -> Result<Option<Secret>, CliError> {
        if let Some(s) = &self.contact_secret_override {
            return Ok(Some(s.clone()));
        }
        self.contact_secret
            .as_ref()
            .map(|s| s.resolve("the contact-sync secret", &self.base_dir))
            .transpose()
    }

    /// The system apps' secrets configured (environment or profile), read now.
    pub fn system_secrets(&self) -> Result<Vec<(wecom::auth::SystemApp, Secret)>, CliError> {
        self.system_secrets
            .iter()
            .map(|(app, source)| {
                let what = format!("the {} secret", app.title());
                Ok((*app, source.resolve(&what, &self.base_dir)?))
            })
            .collect()
    }

    /// The selected app's callback Token and EncodingAESKey from the profile, if any.
    pub fn app_callback(&self) -> Result<(Option<Secret>, Option<Secret>), CliError> {
        let Some(app) = self.app() else {
            return Ok((None, None));
        };
        let token = app
            .callback_token
            .as_ref()
            .map(|s| s.resolve("the callback token", &self.base_dir))
            .transpose()?;
        let key = app
            .callback_aes_key
            .as_ref()
            .map(|s| s.resolve("the callback EncodingAESKey", &self.base_dir))
            .transpose()?;
        Ok((token, key))
    }

    /// Every secret value this configuration can read, for scrubbing output (errors are
    /// ignored: a secret that cannot be read cannot leak).
    pub fn known_secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |s: Option<Secret>| {
            if let Some(s) = s
                && s.len() >= 4
            {
                out.push(s.expose().to_owned());
            }
        };
        let stdin = |src: &SecretSource| matches!(src, SecretSource::File { file } if file == Path::new("-"));
        for app in &self.apps {
            for src in [&app.secret, &app.callback_token, &app.callback_aes_key]
                .into_iter()
                .flatten()
            {
                if !stdin(src) {
                    push(src.resolve("", &self.base_dir).ok());
                }
            }
        }
        if let Some(src) = &self.contact_secret
            && !stdin(src)
        {
            push(src.resolve("", &self.base_dir).ok());
        }
        push(self.secret_override.clone());
        push(self.contact_secret_override.clone());
        for name in [
            env::SECRET,
            env::CONTACT_SECRET,
            env::CALLBACK_TOKEN,
            env::CALLBACK_AES_KEY,
        ] {
            push(env_var(name).map(Secret::new));
        }
        out
    }
}

fn pick_profile(
    file: &ConfigFile,
    wanted: Option<&str>,
    path: Option<&Path>,
) -> Result<(Option<String>, ProfileFile), CliError> {
    let shown = path.map_or_else(String::new, |p| p.display().to_string());
    let name = match wanted.or(file.default_profile.as_deref()) {
        Some(n) => Some(n.to_owned()),
        None if file.profiles.len() == 1 => file.profiles.keys().next().cloned(),
        None if file.profiles.contains_key("default") => Some("default".to_owned()),
        None if file.profiles.is_empty() => None,
        None => {
            return Err(CliError::config(
                format!("{shown} has several profiles and none is selected"),
                format!(
                    "pass --profile ({}) or set default_profile in the file",
                    file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    };
    match name {
        Some(n) => match file.profiles.get(&n) {
            Some(p) => Ok((Some(n), p.clone())),
            None => Err(CliError::config(
                format!("no profile {n:?} in {shown}"),
                format!(
                    "use one of: {}",
                    if file.profiles.is_empty() {
                        "(none defined)".to_owned()
                    } else {
                        file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            )),
        },
        None => Ok((None, ProfileFile::default())),
    }
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}
