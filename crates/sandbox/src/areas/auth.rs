//! The auth area (spec/auth.toml): gettoken, JS-SDK tickets, OAuth2 web login, callback IPs, API IPs,
//! mini-program login.

use std::collections::HashMap;
use std::sync::Mutex;

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use wecom_core_auth::Secret;
use wecom_core_auth::generated::auth::{
    AuthGetuserdetailRequest, AuthGetuserdetailResponse, AuthGetuserinfoRequest,
    AuthGetuserinfoResponse, GetApiDomainIpRequest, GetApiDomainIpResponse, GetJsapiTicketRequest,
    GetJsapiTicketResponse, GetcallbackipRequest, GetcallbackipResponse, GettokenRequest,
    GettokenResponse, MiniprogramJscode2SessionRequest, MiniprogramJscode2SessionResponse,
    TicketGetRequest, TicketGetResponse,
};

use crate::corp::{Actor, CorpError};
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, TicketOwner, TokenOwner, lock};
use wecom_core_auth::ErrorCode;

/// Who signs in through an OAuth2 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OAuthLogin {
    /// A member; `privateinfo` (scope snsapi_privateinfo) also yields a `user_ticket`.
    Member {
        /// The member.
        userid: String,
        /// Whether the scope was snsapi_privateinfo.
        #[serde(default)]
        privateinfo: bool,
    },
    /// Someone outside the corp.
    NonMember {
        /// Their openid.
        openid: String,
        /// Their external contact id, when they are one.
        #[serde(default)]
        external_userid: Option<String>,
    },
}

/// How long an OAuth2 code lives: 5 minutes.
pub const CODE_TTL_SECS: i64 = 300;
/// How long a user_ticket lives: 1800 s.
pub const USER_TICKET_TTL_SECS: i64 = 1800;

#[derive(Debug)]
struct CodeEntry {
    login: OAuthLogin,
    agentid: u32,
    created: i64,
    used: bool,
}

#[derive(Debug)]
struct JsCodeEntry {
    userid: String,
    agentid: u32,
    created: i64,
    used: bool,
}

#[derive(Debug)]
struct TicketEntry {
    userid: String,
    agentid: u32,
    expires: i64,
}

/// OAuth2 codes, mini-program codes and user tickets (kept as area state in [`State::extension`]).
#[derive(Debug, Default)]
pub struct Logins {
    inner: Mutex<LoginsInner>,
}

#[derive(Debug, Default)]
struct LoginsInner {
    codes: HashMap<String, CodeEntry>,
    js_codes: HashMap<String, JsCodeEntry>,
    user_tickets: HashMap<String, TicketEntry>,
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Mints an OAuth2 code (see [`Admin::mint_oauth_code`](crate::Admin::mint_oauth_code)).
pub(crate) fn mint_oauth_code(
    state: &State,
    login: OAuthLogin,
    agentid: u32,
) -> Result<String, CorpError> {
    {
        let corp = state.corp();
        corp.app(agentid)?;
        if let OAuthLogin::Member { userid, .. } = &login {
            corp.check_user_visible(Actor::App(agentid), userid)?;
        }
    }
    let login = match login {
        OAuthLogin::Member {
            userid,
            privateinfo,
        } => OAuthLogin::Member {
            userid: state.corp().member(&userid)?.userid.clone(),
            privateinfo,
        },
        other => other,
    };
    let code = random(43);
    let logins = state.extension::<Logins>();
    lock(&logins.inner).codes.insert(
        code.clone(),
        CodeEntry {
            login,
            agentid,
            created: state.now_secs(),
            used: false,
        },
    );
    Ok(code)
}

/// Mints a mini-program js_code.
pub(crate) fn mint_js_code(state: &State, userid: &str, agentid: u32) -> Result<String, CorpError> {
    let canonical = {
        let corp = state.corp();
        corp.app(agentid)?;
        corp.check_user_visible(Actor::App(agentid), userid)?
            .userid
            .clone()
    };
    let code = random(32);
    let logins = state.extension::<Logins>();
    lock(&logins.inner).js_codes.insert(
        code.clone(),
        JsCodeEntry {
            userid: canonical,
            agentid,
            created: state.now_secs(),
            used: false,
        },
    );
    Ok(code)
}

/// Registers the auth endpoints.
pub fn register(r: &mut Registry) {
    r.add::<GettokenRequest, _, _>(gettoken);
    r.add::<GetJsapiTicketRequest, _, _>(get_jsapi_ticket);
    r.add::<TicketGetRequest, _, _>(ticket_get)
        .wrong_credential(ErrorCode::JSAPI_TICKET_UNAVAILABLE.code());
    r.add::<AuthGetuserinfoRequest, _, _>(auth_getuserinfo);
    r.add::<AuthGetuserdetailRequest, _, _>(auth_getuserdetail);
    r.add::<GetcallbackipRequest, _, _>(getcallbackip);
    r.add::<GetApiDomainIpRequest, _, _>(get_api_domain_ip);
    r.add::<MiniprogramJscode2SessionRequest, _, _>(miniprogram_jscode2session);
}

async fn gettoken(ctx: Ctx, req: GettokenRequest) -> Result<GettokenResponse, ApiError> {
    let state = ctx.state();
    let actor = {
        let corp = state.corp();
        if req.corpid != corp.corpid() {
            return Err(ApiError::new(ErrorCode::INVALID_CORPID, "invalid corpid"));
        }
        let secret = req.corpsecret.expose();
        if secret == corp.contact_secret().expose() {
            TokenOwner::Actor(Actor::Contact)
        } else if let Some(app) = corp.app_by_secret(secret) {
            TokenOwner::Actor(Actor::App(app.agentid))
        } else if let Some(app) = corp.system_app_by_secret(secret) {
            TokenOwner::System(app)
        } else {
            return Err(ApiError::new(
                ErrorCode::INVALID_SECRET,
                "invalid credential, the corpsecret is wrong or not the latest",
            ));
        }
    };
    let issued = lock(&state.tokens).issue(actor, state.clock().now_ms());
    Ok(GettokenResponse::new(
        Secret::new(issued.value),
        issued.expires_in,
    ))
}

fn ticket(state: &State, owner: TicketOwner) -> (Secret, u64) {
    let issued = lock(&state.tickets).issue(owner, state.clock().now_ms());
    (Secret::new(issued.value), issued.expires_in)
}

async fn get_jsapi_ticket(
    ctx: Ctx,
    _req: GetJsapiTicketRequest,
) -> Result<GetJsapiTicketResponse, ApiError> {
    ctx.agentid()?;
    let (ticket, expires_in) = ticket(ctx.state(), TicketOwner::Corp);
    Ok(GetJsapiTicketResponse::new(ticket, expires_in))
}

async fn ticket_get(ctx: Ctx, _req: TicketGetRequest) -> Result<TicketGetResponse, ApiError> {
    let agentid = ctx.agentid().map_err(|_| {
        ApiError::new(
            ErrorCode::JSAPI_TICKET_UNAVAILABLE,
            "jsapi_ticket not available for this token",
        )
    })?;
    if ctx
        .state()
        .corp()
        .app(agentid)
        .map(|a| a.close == 1)
        .unwrap_or(true)
    {
        return Err(ApiError::new(
            ErrorCode::JSAPI_TICKET_UNAVAILABLE,
            "jsapi_ticket not available: the app is closed",
        ));
    }
    let (ticket, expires_in) = ticket(ctx.state(), TicketOwner::Agent(agentid));
    Ok(TicketGetResponse::new(ticket, expires_in))
}

async fn auth_getuserinfo(
    ctx: Ctx,
    req: AuthGetuserinfoRequest,
) -> Result<AuthGetuserinfoResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    let logins = state.extension::<Logins>();
    let mut inner = lock(&logins.inner);
    let invalid = || ApiError::new(ErrorCode::INVALID_OAUTH_CODE, "invalid code");
    let entry = inner.codes.get_mut(&req.code).ok_or_else(invalid)?;
    if entry.agentid != agentid || now - entry.created >= CODE_TTL_SECS {
        return Err(invalid());
    }
    if entry.used {
        return Err(ApiError::new(
            ErrorCode::OAUTH_CODE_USED,
            "code has been used",
        ));
    }
    entry.used = true;
    let login = entry.login.clone();
    match login {
        OAuthLogin::Member {
            userid,
            privateinfo,
        } => {
            let user_ticket = privateinfo.then(|| {
                let t = random(64);
                inner.user_tickets.insert(
                    t.clone(),
                    TicketEntry {
                        userid: userid.clone(),
                        agentid,
                        expires: now + USER_TICKET_TTL_SECS,
                    },
                );
                Secret::new(t)
            });
            let mut answer = AuthGetuserinfoResponse::new().userid(userid);
            answer.user_ticket = user_ticket;
            Ok(answer)
        }
        OAuthLogin::NonMember {
            openid,
            external_userid,
        } => {
            let mut answer = AuthGetuserinfoResponse::new().openid(openid);
            answer.external_userid = external_userid;
            Ok(answer)
        }
    }
}

async fn auth_getuserdetail(
    ctx: Ctx,
    req: AuthGetuserdetailRequest,
) -> Result<AuthGetuserdetailResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    let userid = {
        let logins = state.extension::<Logins>();
        let inner = lock(&logins.inner);
        match inner.user_tickets.get(req.user_ticket.expose()) {
            Some(t) if t.agentid == agentid && t.expires > now => t.userid.clone(),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::INVALID_PARAMETER,
                    "invalid user_ticket: unknown, expired or issued to another app",
                ));
            }
        }
    };
    let corp = state.corp();
    let m = corp
        .check_user_visible(Actor::App(agentid), &userid)
        .map_err(ApiError::from)?;
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let mut answer = AuthGetuserdetailResponse::new(m.userid.clone())
        .gender(if m.gender.is_empty() {
            "0".to_owned()
        } else {
            m.gender.clone()
        })
        .qr_code(format!("{}/sandbox/qr/{}", state.base_url(), m.userid));
    answer.avatar = opt(&m.avatar);
    answer.mobile = opt(&m.mobile);
    answer.email = opt(&m.email);
    answer.biz_mail = opt(&m.biz_mail);
    answer.address = opt(&m.address);
    Ok(answer)
}

async fn getcallbackip(
    _ctx: Ctx,
    _req: GetcallbackipRequest,
) -> Result<GetcallbackipResponse, ApiError> {
    Ok(GetcallbackipResponse::new().ip_list(["127.0.0.1"]))
}

/// The API domain's addresses (doc 97073): for the sandbox, the address it serves the API on.
async fn get_api_domain_ip(
    ctx: Ctx,
    _req: GetApiDomainIpRequest,
) -> Result<GetApiDomainIpResponse, ApiError> {
    Ok(GetApiDomainIpResponse::new().ip_list(api_domain_ip(ctx.state().base_url())))
}

/// The host of `base_url` (`http://127.0.0.1:8080` -> `127.0.0.1`), when it is an IP address.
fn api_domain_ip(base_url: &str) -> Option<String> {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.ip().to_string())
}

async fn miniprogram_jscode2session(
    ctx: Ctx,
    req: MiniprogramJscode2SessionRequest,
) -> Result<MiniprogramJscode2SessionResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let state = ctx.state();
    let now = state.now_secs();
    let userid = {
        let logins = state.extension::<Logins>();
        let mut inner = lock(&logins.inner);
        let invalid = || ApiError::new(ErrorCode::INVALID_OAUTH_CODE, "invalid code");
        let entry = inner.js_codes.get_mut(&req.js_code).ok_or_else(invalid)?;
        if entry.agentid != agentid || entry.used || now - entry.created >= CODE_TTL_SECS {
            return Err(invalid());
        }
        entry.used = true;
        entry.userid.clone()
    };
    let corpid = state.corp().corpid().to_owned();
    Ok(MiniprogramJscode2SessionResponse::new(
        corpid,
        userid,
        Secret::new(random(24)),
    ))
}
