//! wecom-msgaudit: the HTTP endpoints against the sandbox, the `msgaudit_notify` callback, and
//! (feature `finance`) the RSA key decryption, the typed messages and the pull loop over a test
//! double of the Finance SDK (the double lives here, in the tests; the crate ships none).

mod http;

#[cfg(feature = "finance")]
mod double;
#[cfg(feature = "finance")]
mod finance;
#[cfg(feature = "finance")]
mod notify;

type Res = Result<(), Box<dyn std::error::Error>>;
