//! The legacy `user/getuserinfo` and two-factor verification (二次验证): `auth/get_tfa_info`,
//! `user/tfa_succ`, `user/authsucc` (spec/auth.toml; issue 16 part 3).
//!
//! The 二次验证 page of a corp receives a `code` when a member logs in; tests and the page mint one
//! with [`mint_tfa_code`]. The code is single use and lives 5 minutes (page 99499); the contact-sync
//! secret reads it with `user/getuserinfo`, or the contact-sync secret or an app (the member in
//! its visible scope) with `auth/get_tfa_info`, which answers a `tfa_code` (single use, 5 minutes)
//! for `user/tfa_succ`. `user/authsucc` confirms a member who joins for the first time: a member
//! not yet activated (status 4) becomes active. Members who passed are listed by [`tfa_passed`].
//! With an app token `user/getuserinfo` redeems OAuth2 codes like `auth/getuserinfo`, in the old
//! answer shape.

use std::collections::HashMap;
use std::sync::Mutex;

use wecom_core_auth::generated::auth::{
    AuthGetTfaInfoRequest, AuthGetTfaInfoResponse, UserAuthsuccRequest, UserAuthsuccResponse,
    UserGetuserinfoRequest, UserGetuserinfoResponse, UserTfaSuccRequest, UserTfaSuccResponse,
};
use wecom_core_auth::{ErrorCode, Secret};

use crate::areas::auth::{OAuthLogin, Redeemed, USER_TICKET_TTL_SECS, random, redeem_oauth_code};
use crate::corp::{Actor, CorpError};
use crate::error::ApiError;
use crate::registry::{Caller, Ctx, Registry};
use crate::state::{State, lock};

/// How long a verification-page code and a tfa_code live: 5 minutes.
pub const TFA_TTL_SECS: i64 = 300;

#[derive(Debug)]
struct Code {
    userid: String,
    created: i64,
    used: bool,
}

#[derive(Debug, Default)]
struct Inner {
    page_codes: HashMap<String, Code>,
    tfa_codes: HashMap<String, Code>,
    passed: Vec<String>,
}

/// Verification codes (area state in [`State::extension`]).
#[derive(Debug, Default)]
pub struct TfaCodes {
    inner: Mutex<Inner>,
}

/// Registers the endpoints.
pub fn register(r: &mut Registry) {
    r.add::<UserGetuserinfoRequest, _, _>(user_getuserinfo);
    r.add::<AuthGetTfaInfoRequest, _, _>(auth_get_tfa_info);
    r.add::<UserTfaSuccRequest, _, _>(user_tfa_succ);
    r.add::<UserAuthsuccRequest, _, _>(user_authsucc);
}

/// Mints the `code` WeCom gives the corp's 二次验证 page when `userid` logs in.
pub fn mint_tfa_code(state: &State, userid: &str) -> Result<String, CorpError> {
    let userid = state.corp().member(userid)?.userid.clone();
    let code = random(40);
    let codes = state.extension::<TfaCodes>();
    lock(&codes.inner).page_codes.insert(
        code.clone(),
        Code {
            userid,
            created: state.now_secs(),
            used: false,
        },
    );
    Ok(code)
}

/// Members whose verification `user/tfa_succ` confirmed, in order.
pub fn tfa_passed(state: &State) -> Vec<String> {
    lock(&state.extension::<TfaCodes>().inner).passed.clone()
}

/// Takes a code of `map` once: 40029 when unknown, used or older than 5 minutes.
fn take(map: &mut HashMap<String, Code>, code: &str, now: i64) -> Result<String, ApiError> {
    let invalid = || ApiError::new(ErrorCode::INVALID_OAUTH_CODE, "invalid code");
    let entry = map.get_mut(code).ok_or_else(invalid)?;
    if entry.used || now - entry.created >= TFA_TTL_SECS {
        return Err(invalid());
    }
    entry.used = true;
    Ok(entry.userid.clone())
}

async fn user_getuserinfo(
    ctx: Ctx,
    req: UserGetuserinfoRequest,
) -> Result<UserGetuserinfoResponse, ApiError> {
    let state = ctx.state();
    match ctx.caller() {
        Caller::App(agentid) => {
            let Redeemed { login, user_ticket } = redeem_oauth_code(state, *agentid, &req.code)?;
            let mut answer = UserGetuserinfoResponse::new();
            match login {
                OAuthLogin::Member { userid, .. } => answer.userid = Some(userid),
                OAuthLogin::NonMember {
                    openid,
                    external_userid,
                } => {
                    answer.openid = Some(openid);
                    answer.external_userid = external_userid;
                }
            }
            if user_ticket.is_some() {
                answer.expires_in = u64::try_from(USER_TICKET_TTL_SECS).ok();
            }
            answer.user_ticket = user_ticket;
            Ok(answer)
        }
        _ => {
            // The contact-sync secret reads the 二次验证 page's code ("使用“通讯录同步助手”调用接口
            // 根据code获取成员信息", page 99521).
            ctx.actor()?;
            let now = state.now_secs();
            let codes = state.extension::<TfaCodes>();
            let userid = take(&mut lock(&codes.inner).page_codes, &req.code, now)?;
            let mut answer = UserGetuserinfoResponse::new();
            answer.userid = Some(userid);
            Ok(answer)
        }
    }
}

async fn auth_get_tfa_info(
    ctx: Ctx,
    req: AuthGetTfaInfoRequest,
) -> Result<AuthGetTfaInfoResponse, ApiError> {
    let actor = ctx.actor()?;
    let state = ctx.state();
    let now = state.now_secs();
    let codes = state.extension::<TfaCodes>();
    let userid = {
        let mut inner = lock(&codes.inner);
        // Check the scope before using the code up.
        let userid = inner
            .page_codes
            .get(&req.code)
            .map(|c| c.userid.clone())
            .ok_or_else(|| ApiError::new(ErrorCode::INVALID_OAUTH_CODE, "invalid code"))?;
        if let Actor::App(_) = actor {
            // "如用自建应用调用,用户需要在二次验证范围和应用可见范围内" (page 99499).
            state.corp().check_user_visible(actor, &userid)?;
        }
        take(&mut inner.page_codes, &req.code, now)?
    };
    let tfa_code = random(32);
    lock(&codes.inner).tfa_codes.insert(
        tfa_code.clone(),
        Code {
            userid: userid.clone(),
            created: now,
            used: false,
        },
    );
    Ok(AuthGetTfaInfoResponse::new(userid, Secret::new(tfa_code)))
}

async fn user_tfa_succ(ctx: Ctx, req: UserTfaSuccRequest) -> Result<UserTfaSuccResponse, ApiError> {
    ctx.actor()?;
    let state = ctx.state();
    let now = state.now_secs();
    let codes = state.extension::<TfaCodes>();
    let mut inner = lock(&codes.inner);
    let bad = || {
        // The page names no errcode for a bad tfa_code: the generic invalid parameter.
        ApiError::invalid_parameter(
            "invalid tfa_code: unknown, used, older than 5 minutes, or issued for another member",
        )
    };
    match inner.tfa_codes.get(req.tfa_code.expose()) {
        Some(c)
            if c.userid.eq_ignore_ascii_case(&req.userid)
                && !c.used
                && now - c.created < TFA_TTL_SECS => {}
        _ => return Err(bad()),
    }
    let userid = take(&mut inner.tfa_codes, req.tfa_code.expose(), now).map_err(|_| bad())?;
    inner.passed.push(userid);
    Ok(UserTfaSuccResponse::new())
}

async fn user_authsucc(
    ctx: Ctx,
    req: UserAuthsuccRequest,
) -> Result<UserAuthsuccResponse, ApiError> {
    ctx.actor()?;
    let mut corp = ctx.state().corp_mut();
    corp.update_member(&req.userid, |m| {
        // Not yet activated (4) -> active (1); other states stay.
        if m.status == 4 {
            m.status = 1;
        }
    })?;
    Ok(UserAuthsuccResponse::new())
}
