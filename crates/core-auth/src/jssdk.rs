//! JS-SDK: tickets, signatures and the parameters of `wx.config` / `wx.agentConfig`.
//!
//! Tickets are cached like tokens (per corp and app, refreshed ahead of expiry, single flight):
//! WeCom allows 400 jsapi_ticket fetches an hour per corp and 100 per app.

use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::client::Client;
use crate::error::Error;
use crate::secret::Secret;

/// The JS-SDK signature: lowercase hex SHA-1 of
/// `jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}`, with the URL's
/// `#fragment` removed (the values are used raw, not URL-encoded).
///
/// ```
/// use wecom_core_auth::jssdk::signature;
/// let sig = signature("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
///                     "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value#top");
/// assert_eq!(sig, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
/// ```
pub fn signature(ticket: &str, noncestr: &str, timestamp: u64, url: &str) -> String {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let mut h = Sha1::new();
    h.update(
        format!("jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}")
            .as_bytes(),
    );
    let digest = h.finalize();
    let mut out = String::with_capacity(40);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A random nonce for signatures: 16 alphanumeric characters.
pub fn nonce() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 16)
}

/// The parameters of `wx.config` (corp-level JS-SDK). Serializes with the JS names
/// (`appId`, `nonceStr`, `jsApiList`...): hand it to the page as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WxConfig {
    /// Must be false outside debugging.
    pub debug: bool,
    /// Required by WeCom's JS-SDK to enable the newer APIs.
    pub beta: bool,
    /// The corpid.
    pub app_id: String,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// The nonce used in the signature.
    pub nonce_str: String,
    /// The signature.
    pub signature: String,
    /// The APIs the page will use.
    pub js_api_list: Vec<String>,
}

impl WxConfig {
    /// Signs a `wx.config` for `url` with a given ticket, nonce and timestamp.
    pub fn sign(
        corpid: &str,
        ticket: &Secret,
        url: &str,
        nonce_str: String,
        timestamp: u64,
        js_api_list: &[&str],
    ) -> Self {
        WxConfig {
            debug: false,
            beta: true,
            app_id: corpid.to_owned(),
            timestamp,
            signature: signature(ticket.expose(), &nonce_str, timestamp, url),
            nonce_str,
            js_api_list: js_api_list.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// The parameters of `wx.agentConfig` (app-level JS-SDK). Serializes with the JS names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WxAgentConfig {
    /// The corpid.
    pub corpid: String,
    /// The app.
    pub agentid: u32,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// The nonce used in the signature.
    pub nonce_str: String,
    /// The signature (made with the app's agent_config ticket).
    pub signature: String,
    /// The APIs the page will use.
    pub js_api_list: Vec<String>,
}

impl WxAgentConfig {
    /// Signs a `wx.agentConfig` for `url` with a given agent_config ticket, nonce and timestamp.
    pub fn sign(
        corpid: &str,
        agentid: u32,
        ticket: &Secret,
        url: &str,
        nonce_str: String,
        timestamp: u64,
        js_api_list: &[&str],
    ) -> Self {
        WxAgentConfig {
            corpid: corpid.to_owned(),
            agentid,
            timestamp,
            signature: signature(ticket.expose(), &nonce_str, timestamp, url),
            nonce_str,
            js_api_list: js_api_list.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Client {
    /// The corp's jsapi_ticket (for `wx.config`), fetched with the selected app's token and
    /// cached. Never log it.
    pub async fn jsapi_ticket(&self) -> Result<Secret, Error> {
        self.refuse_downstream_ticket("get_jsapi_ticket")?;
        let app = self.inner.app_slot(self.selected(), "get_jsapi_ticket")?;
        Ok(self.inner.cache.token(&app.jsapi).await?.value.clone())
    }

    /// The selected app's agent_config ticket (for `wx.agentConfig`), cached. Never log it.
    pub async fn agent_config_ticket(&self) -> Result<Secret, Error> {
        self.refuse_downstream_ticket("ticket_get")?;
        let app = self.inner.app_slot(self.selected(), "ticket_get")?;
        Ok(self
            .inner
            .cache
            .token(&app.agent_config)
            .await?
            .value
            .clone())
    }

    /// Signed `wx.config` parameters for the page at `url` (its `#fragment` is ignored).
    pub async fn wx_config(&self, url: &str, js_api_list: &[&str]) -> Result<WxConfig, Error> {
        let ticket = self.jsapi_ticket().await?;
        Ok(WxConfig::sign(
            self.corpid(),
            &ticket,
            url,
            nonce(),
            self.unix_now(),
            js_api_list,
        ))
    }

    /// Signed `wx.agentConfig` parameters for the selected app and the page at `url`.
    pub async fn wx_agent_config(
        &self,
        url: &str,
        js_api_list: &[&str],
    ) -> Result<WxAgentConfig, Error> {
        let ticket = self.agent_config_ticket().await?;
        let agentid = self.agentid().unwrap_or_default();
        Ok(WxAgentConfig::sign(
            self.corpid(),
            agentid,
            &ticket,
            url,
            nonce(),
            self.unix_now(),
            js_api_list,
        ))
    }

    fn unix_now(&self) -> u64 {
        crate::clock::now_millis(self.clock()) / 1000
    }
}
