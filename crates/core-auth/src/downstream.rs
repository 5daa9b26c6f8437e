//! Acting as a downstream corp (上下游 / 企业互联): [`Client::downstream`].
//!
//! An upstream corp's app shared with downstream corps gets each downstream corp's token from
//! `corpgroup/corp/gettoken`, called with the upstream app's own token. The token is a credential
//! like any other here: one cache slot per (upstream app, downstream corpid, downstream agentid,
//! business_type), in the same [`TokenStore`](crate::TokenStore) (memory or Redis, key kind
//! `downstream_access_token`), single-flight, refreshed ahead of expiry, dropped and fetched once
//! more when the downstream corp rejects it (40001/40014/42001), never shown in Debug output,
//! errors or logs.

use std::collections::HashMap;
use std::sync::Arc;

use crate::client::{Client, Inner, Selection};
use crate::error::{ConfigError, Error};
use crate::generated::auth::CorpgroupCorpGettokenRequest;
use crate::secret::Secret;
use crate::token::{Slot, SlotSource, TokenKey};

/// The downstream slots of a client, by (upstream app number, corpid, agentid, business_type).
pub(crate) type DownstreamSlots = HashMap<(usize, String, u32, u32), Arc<Slot>>;

/// How the downstream corp is linked to the upstream one: `corpgroup/corp/gettoken`'s
/// `business_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BusinessType {
    /// `0`: 企业互联 / 局校互联 (WeCom's default when the field is absent).
    Group,
    /// `1`: 上下游 (an upstream/downstream chain).
    Chain,
}

impl BusinessType {
    /// The wire value: 0 or 1.
    pub fn code(self) -> u32 {
        match self {
            BusinessType::Group => 0,
            BusinessType::Chain => 1,
        }
    }
}

impl Client {
    /// A handle on the same client (same cache, transport and store) acting as downstream corp
    /// `corpid` of the selected app's 上下游 chain (`business_type` 1; [`Client::downstream_with`]
    /// for 企业互联): every call through it, to any area, carries the token of the app `agentid`
    /// that the selected (upstream) app is shared as in that corp (`list_app_share_info` lists
    /// both). The token is fetched with the upstream app's token through
    /// `corpgroup/corp/gettoken`, cached under its own key per (upstream app, corpid, agentid,
    /// business_type) in the client's token store, single-flight (any number of concurrent calls
    /// on a cold cache cause one fetch), refreshed ahead of expiry, and fetched once more when
    /// the downstream corp rejects it (40001/40014/42001). Handles for the same downstream corp
    /// share one token. Fails before any I/O when the client has no app or `corpid` is empty.
    ///
    /// Calls needing the contact-sync or a system app's secret use the downstream token too
    /// (WeCom's page: it calls the downstream corp's directory read-only); JS-SDK tickets are
    /// not available on a downstream handle.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), wecom_core_auth::Error> {
    /// use wecom_core_auth::{Client, Secret};
    /// let upstream = Client::builder("wwupstream0000001")
    ///     .app(1000002, Secret::new(std::env::var("WECOM_SECRET").unwrap_or_default()))
    ///     .build()?;
    /// // App 1000002 is shared with downstream corp wwdownstream00001 as its app 1000005.
    /// let downstream = upstream.downstream("wwdownstream00001", 1000005)?;
    /// let token = downstream.access_token().await?; // cached per downstream corp
    /// # let _ = token;
    /// // Any endpoint: e.g. `downstream.contacts().user_get("zhangsan").await?` reads that corp.
    /// println!("{downstream:?}"); // names the corps, never a token
    /// # Ok(()) }
    /// ```
    pub fn downstream(&self, corpid: &str, agentid: u32) -> Result<Client, Error> {
        self.downstream_with(corpid, agentid, BusinessType::Chain)
    }

    /// [`Client::downstream`] with the link type: [`BusinessType::Group`] for 企业互联 / 局校互联,
    /// [`BusinessType::Chain`] for 上下游.
    pub fn downstream_with(
        &self,
        corpid: &str,
        agentid: u32,
        business_type: BusinessType,
    ) -> Result<Client, Error> {
        if let Some(current) = &self.downstream {
            return Err(ConfigError::new(
                format!(
                    "this handle already acts as downstream corp {}",
                    current.key.corpid()
                ),
                "call `downstream` on the upstream corp's client",
            )
            .into());
        }
        let corpid = corpid.trim();
        if corpid.is_empty() || corpid.len() > 64 || corpid.contains([':', ' ', '\t', '\n']) {
            return Err(ConfigError::new(
                format!(
                    "`{corpid}` is not a downstream corpid (1 to 64 bytes, no `:` or whitespace)"
                ),
                "pass the downstream corp's corpid as `list_app_share_info` lists it",
            )
            .into());
        }
        let Some(upstream) = self.agent else {
            return Err(ConfigError::new(
                format!("acting as downstream corp {corpid} needs the upstream app's access_token, but this client has no app"),
                "add the app shared with the downstream corp with `ClientBuilder::app(agentid, secret)`",
            )
            .into());
        };
        let inner = &self.inner;
        let up_agentid = inner.apps[upstream].agentid;
        let code = business_type.code();
        let slot = {
            let mut slots = inner
                .downstream
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(
                slots
                    .entry((upstream, corpid.to_owned(), agentid, code))
                    .or_insert_with(|| {
                        Arc::new(Slot::with_key(
                            TokenKey::downstream(&inner.corpid, up_agentid, corpid, agentid, code),
                            format!(
                                "the token of downstream corp {corpid} (its app {agentid}, business_type {code}) through app {up_agentid} of corp {}",
                                inner.corpid
                            ),
                            SlotSource::Downstream {
                                upstream,
                                corpid: corpid.to_owned(),
                                agentid,
                                business_type: code,
                            },
                        ))
                    }),
            )
        };
        Ok(Client {
            inner: Arc::clone(inner),
            agent: self.agent,
            robot: self.robot.clone(),
            downstream: Some(slot),
        })
    }

    /// The downstream corp this handle acts as ([`Client::downstream`]), if any.
    pub fn downstream_corpid(&self) -> Option<&str> {
        self.downstream.as_ref().map(|s| s.key.corpid())
    }

    /// JS-SDK tickets are cached per upstream app: not for a downstream handle.
    pub(crate) fn refuse_downstream_ticket(&self, what: &str) -> Result<(), Error> {
        match &self.downstream {
            None => Ok(()),
            Some(slot) => Err(ConfigError::new(
                format!(
                    "`{what}` on a handle acting as downstream corp {}: JS-SDK tickets are cached per upstream app, not per downstream corp",
                    slot.key.corpid()
                ),
                "fetch the downstream corp's ticket with `downstream.raw(Method::Get, \"get_jsapi_ticket\").send()` and sign it with `WxConfig::sign`",
            )
            .into()),
        }
    }
}

impl Inner {
    /// Every downstream slot created so far.
    pub(crate) fn downstream_slots(&self) -> Vec<Arc<Slot>> {
        self.downstream
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// `corpgroup/corp/gettoken` with upstream app number `upstream`'s token. WeCom's answer is
    /// kept; the error names the downstream corp and app and, for the sharing errcodes, what to
    /// fix.
    pub(crate) async fn fetch_downstream(
        &self,
        upstream: usize,
        corpid: &str,
        agentid: u32,
        business_type: u32,
    ) -> Result<(Secret, u64), Error> {
        let sel = Selection {
            agent: Some(upstream),
            ..Selection::default()
        };
        let request =
            CorpgroupCorpGettokenRequest::new(corpid, agentid).business_type(business_type);
        match self.call(&sel, request).await {
            Ok(r) => Ok((r.access_token, r.expires_in)),
            Err(Error::Api(mut api)) => {
                let up = self.apps[upstream].agentid;
                let fix = match api.code().code() {
                    670001 => format!(
                        "app {up} is not shared with downstream corp {corpid} as its app {agentid}: share it (admin console, 上下游 > 应用共享), have the corp confirm a share that needs it, and take corpid and agentid from list_app_share_info"
                    ),
                    670004 => format!(
                        "corp {corpid} is not linked to corp {} with business_type {business_type} (0 企业互联, 1 上下游): check the corpid and Client::downstream_with",
                        self.corpid
                    ),
                    _ => format!(
                        "while fetching the token of downstream corp {corpid} (its app {agentid}) through app {up}"
                    ),
                };
                api.errmsg = format!("{}; downstream: {fix}", api.errmsg);
                Err(Error::Api(api))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{AppRef, TokenKind};

    fn client() -> Client {
        Client::builder("wwupstream")
            .app(1000002, Secret::new("upstream-app-secret"))
            .app(1000003, Secret::new("other-app-secret"))
            .base_url("http://127.0.0.1:9")
            .build()
            .expect("builds")
    }

    #[test]
    fn every_part_of_the_downstream_key_tells_tokens_apart() {
        let key = TokenKey::downstream("wwup", 1000002, "wwdown", 1000005, 1);
        assert_eq!(
            key.to_string(),
            "downstream_access_token:wwdown:1000005:via:wwup:1000002:1"
        );
        assert_eq!(key.kind(), TokenKind::DownstreamAccessToken);
        assert_eq!(key.via(), Some(("wwup", 1000002, 1)));
        let others = [
            TokenKey::downstream("wwup2", 1000002, "wwdown", 1000005, 1),
            TokenKey::downstream("wwup", 1000003, "wwdown", 1000005, 1),
            TokenKey::downstream("wwup", 1000002, "wwdown2", 1000005, 1),
            TokenKey::downstream("wwup", 1000002, "wwdown", 1000006, 1),
            TokenKey::downstream("wwup", 1000002, "wwdown", 1000005, 0),
            // The downstream corp's own app token is another credential too.
            TokenKey::new(TokenKind::AccessToken, "wwdown", AppRef::Agent(1000005)),
        ];
        for other in others {
            assert_ne!(other, key);
            assert_ne!(other.to_string(), key.to_string());
        }
    }

    #[test]
    fn handles_for_the_same_downstream_app_share_one_slot() {
        let c = client();
        let a = c.downstream("wwdown", 1000005).unwrap();
        let again = c.downstream("wwdown", 1000005).unwrap();
        assert!(Arc::ptr_eq(
            a.downstream.as_ref().unwrap(),
            again.downstream.as_ref().unwrap()
        ));
        let other_app = c.downstream("wwdown", 1000006).unwrap();
        let other_link = c
            .downstream_with("wwdown", 1000005, BusinessType::Group)
            .unwrap();
        let other_upstream = c
            .agent(1000003)
            .unwrap()
            .downstream("wwdown", 1000005)
            .unwrap();
        for other in [&other_app, &other_link, &other_upstream] {
            assert!(!Arc::ptr_eq(
                a.downstream.as_ref().unwrap(),
                other.downstream.as_ref().unwrap()
            ));
        }
        assert_eq!(c.inner.downstream_slots().len(), 4);
        assert_eq!(a.downstream_corpid(), Some("wwdown"));
        // The app it acts as, in the downstream corp.
        assert_eq!(a.agentid(), Some(1000005));
        assert_eq!(c.agentid(), Some(1000002));
        assert_eq!(c.downstream_corpid(), None);
        // `agent` selects an app of the corp itself again.
        assert_eq!(a.agent(1000002).unwrap().downstream_corpid(), None);
    }

    #[test]
    fn bad_input_is_refused_before_any_io_with_the_fix() {
        let c = client();
        for bad in ["", "  ", "ww:down", "ww down", &"w".repeat(65)] {
            let e = c.downstream(bad, 1).unwrap_err();
            assert!(e.to_string().contains("list_app_share_info"), "{e}");
        }
        let nested = c.downstream("wwdown", 1).unwrap().downstream("wwother", 2);
        assert!(nested.unwrap_err().to_string().contains("upstream"));
        let no_app = Client::builder("wwupstream")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let e = no_app.downstream("wwdown", 1).unwrap_err();
        assert!(e.to_string().contains("ClientBuilder::app"), "{e}");
    }

    #[tokio::test]
    async fn tickets_are_refused_on_a_downstream_handle() {
        let down = client().downstream("wwdown", 1000005).unwrap();
        let e = down.jsapi_ticket().await.unwrap_err();
        assert!(e.to_string().contains("wwdown"), "{e}");
        assert!(down.agent_config_ticket().await.is_err());
    }

    #[test]
    fn debug_names_the_downstream_corp() {
        let down = client().downstream("wwdown", 1000005).unwrap();
        let shown = format!("{down:?}");
        assert!(
            shown.contains("downstream_access_token:wwdown:1000005"),
            "{shown}"
        );
        assert!(!shown.contains("upstream-app-secret"));
        assert_eq!(BusinessType::Group.code(), 0);
        assert_eq!(BusinessType::Chain.code(), 1);
    }
}
