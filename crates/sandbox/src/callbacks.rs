//! Callbacks pushed for real: the encrypted XML POSTed to an app's callback URL exactly as WeCom
//! does (`msg_signature`, `timestamp`, `nonce` in the query; the `<xml><ToUserName/><AgentID/>
//! <Encrypt/></xml>` envelope from `wecom_callback`'s own crypto), retried when no 200 comes back
//! in time, and the URL verification GET when a callback is configured.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use wecom_callback::CallbackCrypto;

use crate::corp::CallbackConfig;
use crate::sync::lock;

/// How callbacks are pushed.
#[derive(Debug, Clone)]
pub struct CallbackSettings {
    /// How long to wait for the 200 (WeCom: 5 s).
    pub timeout: Duration,
    /// Retries after the first attempt when it fails or times out (WeCom: 3).
    pub retries: u32,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            retries: 3,
        }
    }
}

/// The outcome of one callback push, kept in the callback log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackRecord {
    /// The URL (its query carries no secret: only the signature, timestamp and nonce).
    pub url: String,
    /// The receiving app (`None` for the contact-sync assistant).
    pub agentid: Option<u32>,
    /// `MsgType` / `Event` of what was pushed, e.g. `text`, `event:click`, `event:change_contact`.
    pub what: String,
    /// The plaintext XML that was encrypted.
    pub plaintext: String,
    /// Attempts made (1 + retries used).
    pub attempts: u32,
    /// Whether an attempt got HTTP 200.
    pub delivered: bool,
    /// The last problem (status, timeout, connection error), when any.
    pub last_error: Option<String>,
    /// The body of the 200 answer (a passive reply, or empty).
    pub reply: String,
    /// The passive reply decrypted, as WeCom reads it (signature checked), when there was one.
    pub reply_plaintext: Option<String>,
    /// Why a non-empty answer is not a passive reply WeCom would accept (bad signature, not
    /// encrypted with the app's key, not a reply envelope).
    pub reply_error: Option<String>,
}

/// Why a callback URL could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The Token/EncodingAESKey pair is unusable.
    #[error("callback settings are unusable: {0}")]
    BadSettings(String),
    /// The URL did not answer 200 in time.
    #[error("callback URL did not answer the verification GET: {0}")]
    Unreachable(String),
    /// The URL answered something other than the decrypted echostr.
    #[error(
        "callback URL answered {got:?} instead of the decrypted echostr (answer the plaintext only: no quotes, BOM or newline)"
    )]
    WrongEcho {
        /// What came back (cut to 100 characters).
        got: String,
    },
}

pub(crate) struct Pusher {
    client: reqwest::Client,
    settings: Mutex<CallbackSettings>,
    /// The newest `log_capacity` records, oldest first.
    log: Mutex<VecDeque<CallbackRecord>>,
    log_capacity: usize,
}

fn nonce() -> String {
    rand::rng()
        .random_range(100_000_000u64..10_000_000_000)
        .to_string()
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = url.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in pairs {
        s.push(sep);
        sep = '&';
        s.push_str(k);
        s.push('=');
        s.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
    }
    s
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// What an inbound XML is, for the log: `text`, `event:click` ...
fn describe(xml: &str) -> String {
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find(&format!("</{name}>"))? + start;
        let v = &xml[start..end];
        Some(
            v.trim_start_matches("<![CDATA[")
                .trim_end_matches("]]>")
                .to_owned(),
        )
    };
    match (tag("MsgType"), tag("Event")) {
        (Some(t), Some(e)) => format!("{t}:{e}"),
        (Some(t), None) => t,
        _ => "unknown".into(),
    }
}

impl Pusher {
    /// A pusher keeping the newest `log_capacity` records (at least 1) in its log.
    pub(crate) fn new(settings: CallbackSettings, log_capacity: usize) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(4)
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!("callback client with defaults: {e}");
                reqwest::Client::new()
            });
        Self {
            client,
            settings: Mutex::new(settings),
            log: Mutex::new(VecDeque::new()),
            log_capacity: log_capacity.max(1),
        }
    }

    pub(crate) fn settings(&self) -> CallbackSettings {
        lock(&self.settings).clone()
    }

    pub(crate) fn set_settings(&self, settings: CallbackSettings) {
        *lock(&self.settings) = settings;
    }

    pub(crate) fn log(&self) -> Vec<CallbackRecord> {
        lock(&self.log).iter().cloned().collect()
    }

    fn keep(&self, record: CallbackRecord) {
        let mut log = lock(&self.log);
        while log.len() >= self.log_capacity {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// Encrypts `plaintext_xml` for `config` and POSTs it, retrying as WeCom does.
    pub(crate) async fn push(
        &self,
        config: &CallbackConfig,
        corpid: &str,
        agentid: Option<u32>,
        plaintext_xml: &str,
        now_secs: i64,
    ) -> CallbackRecord {
        let mut record = CallbackRecord {
            url: config.url.clone(),
            agentid,
            what: describe(plaintext_xml),
            plaintext: plaintext_xml.to_owned(),
            attempts: 0,
            delivered: false,
            last_error: None,
            reply: String::new(),
            reply_plaintext: None,
            reply_error: None,
        };
        let crypto = match CallbackCrypto::new(
            config.token.expose(),
            config.encoding_aes_key.expose(),
            corpid,
        ) {
            Ok(c) => c,
            Err(e) => {
                record.last_error = Some(format!("callback settings are unusable: {e}"));
                self.keep(record.clone());
                return record;
            }
        };
        let timestamp = now_secs.to_string();
        let nonce = nonce();
        let agent = agentid.map(|a| a.to_string()).unwrap_or_default();
        let (body, signature) =
            crypto.seal_delivery(plaintext_xml, corpid, &agent, &timestamp, &nonce);
        let url = with_query(
            &config.url,
            &[
                ("msg_signature", &signature),
                ("timestamp", &timestamp),
                ("nonce", &nonce),
            ],
        );
        let settings = self.settings();
        for _ in 0..=settings.retries {
            record.attempts += 1;
            let sent = self
                .client
                .post(&url)
                .header("Content-Type", "text/xml")
                .header("User-Agent", "Mozilla/4.0 (wecom-sandbox)")
                .body(body.clone())
                .timeout(settings.timeout)
                .send()
                .await;
            match sent {
                Ok(resp) if resp.status() == reqwest::StatusCode::OK => {
                    record.delivered = true;
                    record.last_error = None;
                    record.reply = resp.text().await.unwrap_or_default();
                    if !record.reply.trim().is_empty() {
                        match crypto.open_reply(&record.reply) {
                            Ok(plain) => record.reply_plaintext = Some(plain),
                            Err(e) => record.reply_error = Some(e.to_string()),
                        }
                    }
                    break;
                }
                Ok(resp) => record.last_error = Some(format!("HTTP {}", resp.status().as_u16())),
                Err(e) if e.is_timeout() => {
                    record.last_error = Some(format!(
                        "no answer within {} ms",
                        settings.timeout.as_millis()
                    ));
                }
                Err(e) => record.last_error = Some(format!("connection failed: {e}")),
            }
        }
        self.keep(record.clone());
        record
    }

    /// The URL check WeCom makes when a callback is saved: GET with an encrypted `echostr`; the
    /// URL must answer the decrypted text within the timeout.
    pub(crate) async fn verify(
        &self,
        config: &CallbackConfig,
        corpid: &str,
        now_secs: i64,
    ) -> Result<(), VerifyError> {
        let crypto = CallbackCrypto::new(
            config.token.expose(),
            config.encoding_aes_key.expose(),
            corpid,
        )
        .map_err(|e| VerifyError::BadSettings(e.to_string()))?;
        let echo: String = rand::rng()
            .random_range(1_000_000_000_000_000_000u64..u64::MAX)
            .to_string();
        let encrypted = crypto.encrypt(&echo);
        let timestamp = now_secs.to_string();
        let nonce = nonce();
        let signature = crypto.sign(&timestamp, &nonce, &encrypted);
        let url = with_query(
            &config.url,
            &[
                ("msg_signature", &signature),
                ("timestamp", &timestamp),
                ("nonce", &nonce),
                ("echostr", &encrypted),
            ],
        );
        let timeout = self.settings().timeout;
        let resp = self
            .client
            .get(&url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| VerifyError::Unreachable(e.to_string()))?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(VerifyError::Unreachable(format!(
                "HTTP {}",
                resp.status().as_u16()
            )));
        }
        let text = resp
            .text()
            .await
            .map_err(|e| VerifyError::Unreachable(e.to_string()))?;
        if text == echo {
            Ok(())
        } else {
            Err(VerifyError::WrongEcho {
                got: clip(&text, 100),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_reads_type_and_event() {
        assert_eq!(
            describe(
                "<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event></xml>"
            ),
            "event:click"
        );
        assert_eq!(describe("<xml><MsgType>text</MsgType></xml>"), "text");
        assert_eq!(describe("<xml/>"), "unknown");
    }

    #[test]
    fn query_is_appended() {
        assert_eq!(
            with_query("http://h/cb", &[("a", "1"), ("b", "x y")]),
            "http://h/cb?a=1&b=x+y"
        );
        assert_eq!(
            with_query("http://h/cb?k=v", &[("a", "1")]),
            "http://h/cb?k=v&a=1"
        );
    }

    #[test]
    fn the_log_keeps_the_newest() {
        let p = Pusher::new(CallbackSettings::default(), 2);
        for n in 0..5 {
            p.keep(CallbackRecord {
                url: n.to_string(),
                agentid: None,
                what: "text".into(),
                plaintext: String::new(),
                attempts: 1,
                delivered: true,
                last_error: None,
                reply: String::new(),
                reply_plaintext: None,
                reply_error: None,
            });
        }
        let urls: Vec<String> = p.log().into_iter().map(|r| r.url).collect();
        assert_eq!(urls, ["3", "4"]);
    }
}
