//! The command's errors and how they are printed: one line saying what went wrong, with the
//! errcode's meaning and what to do when WeCom answered one. No secret is ever part of it.

use std::sync::OnceLock;

use serde::Serialize;
use wecom::ErrorCode;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is missing or wrong (exit code 2).
    #[error("{problem}; fix: {fix}")]
    Config {
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: String,
    },
    /// An argument's value is unusable (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A call to WeCom failed.
    #[error(transparent)]
    Api(#[from] wecom::Error),
    /// A callback could not be verified, decrypted or parsed.
    #[error(transparent)]
    Callback(#[from] wecom::callback::CallbackError),
    /// The sandbox could not start or refused an admin action.
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// Anything else (a step of the demo that did not go as expected...).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// A configuration error.
    pub fn config(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        CliError::Config {
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code: 2 for usage and configuration errors, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config { .. } | CliError::Usage(_) => 2,
            _ => 1,
        }
    }

    /// The printable form.
    pub fn report(&self) -> Report {
        let errcode = match self {
            // A limit caught before any request names the errcode WeCom would have answered.
            CliError::Api(wecom::Error::Invalid(invalid)) => invalid.errcode,
            CliError::Api(e) => e.errcode(),
            CliError::Callback(e) => Some(i64::from(e.code())),
            _ => None,
        };
        let message = match self {
            // Built from the fields so the meaning and fix come from the full errcode table.
            CliError::Api(wecom::Error::Api(api)) => {
                let endpoint = if api.endpoint.is_empty() {
                    "wecom"
                } else {
                    api.endpoint
                };
                format!(
                    "{endpoint}: WeCom answered errcode {}: {}",
                    api.code.code(),
                    api.errmsg
                )
            }
            other => other.to_string(),
        };
        let (meaning, class, fix) = match (self, errcode) {
            (CliError::Callback(_), _) | (_, None) => (None, None, None),
            (_, Some(code)) => {
                let code = ErrorCode::new(code);
                (
                    code.is_known().then(|| code.meaning().to_owned()),
                    Some(code.class().as_str().to_owned()),
                    code.fix().map(str::to_owned),
                )
            }
        };
        Report {
            message: scrub(&message),
            errcode,
            meaning,
            class,
            fix,
        }
    }
}

impl From<wecom::messages::MediaError> for CliError {
    fn from(e: wecom::messages::MediaError) -> Self {
        match e {
            wecom::messages::MediaError::Wecom(e) => CliError::Api(e),
            other => CliError::Failed(other.to_string()),
        }
    }
}

impl From<wecom_sandbox::SandboxError> for CliError {
    fn from(e: wecom_sandbox::SandboxError) -> Self {
        CliError::Sandbox(e.to_string())
    }
}

impl From<wecom_sandbox::AdminError> for CliError {
    fn from(e: wecom_sandbox::AdminError) -> Self {
        CliError::Sandbox(e.to_string())
    }
}

/// An error as printed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What went wrong.
    pub message: String,
    /// WeCom's errcode (or the callback library's code), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// What the errcode means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// The errcode's class (`permission`, `input`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Report {
    /// The one-line text form.
    pub fn line(&self) -> String {
        let mut out = format!("error: {}", self.message);
        if let Some(m) = &self.meaning {
            out.push_str(&format!(" — {}", m.trim_end_matches('.')));
        }
        if let Some(f) = &self.fix
            && !self.message.contains(f.as_str())
        {
            out.push_str(&format!(". Fix: {f}"));
        }
        scrub(&out.replace('\n', " "))
    }
}

static SECRETS: OnceLock<Vec<String>> = OnceLock::new();

/// Registers the secret values output must never contain.
pub fn set_secrets(secrets: Vec<String>) {
    let _ = SECRETS.set(secrets);
}

/// Replaces any registered secret value in `text` by `***`.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_owned();
    if let Some(secrets) = SECRETS.get() {
        for s in secrets {
            if !s.is_empty() && out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
    }
    out
}
