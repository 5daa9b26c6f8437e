//! OAuth2 web login (网页授权登录): the authorize URL, and who signed in.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::client::Client;
use crate::error::{DecodeError, Error, InvalidInput};
use crate::generated::auth::{
    AuthGetuserdetailRequest, AuthGetuserdetailResponse, AuthGetuserinfoRequest,
    AuthGetuserinfoResponse, MiniprogramJscode2SessionRequest, MiniprogramJscode2SessionResponse,
};
use crate::secret::Secret;

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// WeCom's authorize page.
pub const AUTHORIZE_URL: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";

/// What the login may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OAuthScope {
    /// `snsapi_base`: silent, gives the userid (or openid for non-members).
    #[default]
    Base,
    /// `snsapi_privateinfo`: asks the member's consent; gives a `user_ticket` for
    /// `auth/getuserdetail`. Needs the agentid.
    PrivateInfo,
}

impl OAuthScope {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthScope::Base => "snsapi_base",
            OAuthScope::PrivateInfo => "snsapi_privateinfo",
        }
    }
}

impl fmt::Display for OAuthScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds the URL to send a browser to for OAuth2 login.
///
/// ```
/// use wecom_core_auth::oauth::{AuthorizeUrl, OAuthScope};
/// let url = AuthorizeUrl::new("ww0123", "https://app.example.com/cb?x=1")
///     .scope(OAuthScope::PrivateInfo)
///     .agentid(1000002)
///     .state("abc123")
///     .build()
///     .unwrap();
/// assert_eq!(url, "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww0123\
///     &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&response_type=code\
///     &scope=snsapi_privateinfo&state=abc123&agentid=1000002#wechat_redirect");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeUrl {
    endpoint: String,
    corpid: String,
    redirect_uri: String,
    scope: OAuthScope,
    state: Option<String>,
    agentid: Option<u32>,
}

impl AuthorizeUrl {
    /// A login for corp `corpid` that comes back to `redirect_uri` (its domain must be the app's
    /// trusted domain, or WeCom answers 50001).
    pub fn new(corpid: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Self {
            endpoint: AUTHORIZE_URL.to_owned(),
            corpid: corpid.into(),
            redirect_uri: redirect_uri.into(),
            scope: OAuthScope::Base,
            state: None,
            agentid: None,
        }
    }

    /// The scope (default `snsapi_base`).
    pub fn scope(mut self, scope: OAuthScope) -> Self {
        self.scope = scope;
        self
    }

    /// A value WeCom hands back unchanged (use it against CSRF): up to 128 bytes of `[a-zA-Z0-9]`.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// The app (required for `snsapi_privateinfo`).
    pub fn agentid(mut self, agentid: u32) -> Self {
        self.agentid = Some(agentid);
        self
    }

    /// Replaces WeCom's authorize page (a local sandbox).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// The URL, or what is wrong with the parameters.
    pub fn build(&self) -> Result<String, InvalidInput> {
        let ctx = "oauth2_authorize";
        if self.corpid.is_empty() {
            return Err(InvalidInput::new("appid", "is empty; pass the corpid").in_context(ctx));
        }
        match url::Url::parse(&self.redirect_uri) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(InvalidInput::new(
                    "redirect_uri",
                    format!("`{}` is not an absolute http(s) URL", self.redirect_uri),
                )
                .in_context(ctx));
            }
        }
        if let Some(state) = &self.state {
            if state.len() > 128 {
                return Err(InvalidInput::new(
                    "state",
                    format!("is {} bytes; at most 128 allowed", state.len()),
                )
                .in_context(ctx));
            }
            if let Some(bad) = state.chars().find(|c| !c.is_ascii_alphanumeric()) {
                return Err(InvalidInput::new(
                    "state",
                    format!("contains {bad:?}; only a-z, A-Z and 0-9 are allowed"),
                )
                .in_context(ctx));
            }
        }
        if self.scope == OAuthScope::PrivateInfo && self.agentid.is_none() {
            return Err(
                InvalidInput::new("agentid", "is required with scope snsapi_privateinfo")
                    .in_context(ctx),
            );
        }
        let mut url = format!(
            "{}?appid={}&redirect_uri={}&response_type=code&scope={}",
            self.endpoint,
            utf8_percent_encode(&self.corpid, COMPONENT),
            utf8_percent_encode(&self.redirect_uri, COMPONENT),
            self.scope
        );
        if let Some(state) = &self.state {
            url.push_str("&state=");
            url.push_str(state);
        }
        if let Some(agentid) = self.agentid {
            url.push_str(&format!("&agentid={agentid}"));
        }
        url.push_str("#wechat_redirect");
        Ok(url)
    }
}

impl Client {
    /// An [`AuthorizeUrl`] for this corp and the selected app.
    pub fn authorize_url(&self, redirect_uri: impl Into<String>) -> AuthorizeUrl {
        let url = AuthorizeUrl::new(self.corpid(), redirect_uri);
        match self.agentid() {
            Some(id) => url.agentid(id),
            None => url,
        }
    }
}

/// Who signed in through OAuth2 (`auth/getuserinfo`).
#[derive(Debug, Clone, PartialEq)]
pub enum OAuthUser {
    /// A member of the corp.
    Member {
        /// The member's userid.
        userid: String,
        /// For [`Client::oauth_user_detail`]; only with scope `snsapi_privateinfo`. Never log it.
        user_ticket: Option<Secret>,
    },
    /// Someone outside the corp.
    NonMember {
        /// Their openid.
        openid: String,
        /// Their external contact id, when they are one of the corp's external contacts.
        external_userid: Option<String>,
    },
}

impl OAuthUser {
    /// Sorts the generated answer into member or non-member; an answer with neither a userid nor
    /// an openid is a decode error.
    pub fn from_response(r: AuthGetuserinfoResponse) -> Result<Self, Error> {
        match (r.userid, r.openid) {
            (Some(userid), _) if !userid.is_empty() => Ok(OAuthUser::Member {
                userid,
                user_ticket: r.user_ticket,
            }),
            (_, Some(openid)) if !openid.is_empty() => Ok(OAuthUser::NonMember {
                openid,
                external_userid: r.external_userid,
            }),
            _ => Err(Error::Decode {
                endpoint: "auth_getuserinfo",
                source: DecodeError::new(
                    "the answer has neither `userid` (member) nor `openid` (non-member)",
                    b"",
                ),
            }),
        }
    }

    /// The userid, for a member.
    pub fn userid(&self) -> Option<&str> {
        match self {
            OAuthUser::Member { userid, .. } => Some(userid),
            OAuthUser::NonMember { .. } => None,
        }
    }
}

impl Client {
    /// Exchanges the `code` WeCom appended to the redirect URI (single use, valid 5 minutes) for
    /// who signed in, with the selected app's token.
    pub async fn oauth_user(&self, code: &str) -> Result<OAuthUser, Error> {
        let r = self.execute(AuthGetuserinfoRequest::new(code)).await?;
        OAuthUser::from_response(r)
    }

    /// A signed-in member's details (scope `snsapi_privateinfo`), from the `user_ticket` of
    /// [`Client::oauth_user`].
    pub async fn oauth_user_detail(
        &self,
        user_ticket: &Secret,
    ) -> Result<AuthGetuserdetailResponse, Error> {
        self.execute(AuthGetuserdetailRequest::new(user_ticket.clone()))
            .await
    }

    /// WeCom mini-program login: exchanges the `js_code` from `wx.qy.login` for the corp, the
    /// member and a session key.
    pub async fn miniprogram_session(
        &self,
        js_code: &str,
    ) -> Result<MiniprogramJscode2SessionResponse, Error> {
        self.execute(MiniprogramJscode2SessionRequest::new(js_code))
            .await
    }
}
