//! 上下游 / 企业互联 (spec/corpgroup.toml, and `corpgroup/corp/gettoken` of spec/auth.toml).
//!
//! The served corp is the upstream corp. Its network ([`Network`], area state of the upstream
//! [`State`]) holds downstream corps, each a whole sandbox corp of its own (a [`State`] with its
//! directory, apps, inboxes ...), linked with a `business_type` (0 企业互联, 1 上下游), and the
//! upstream app shared with it (as which app of the downstream corp). By default, two demo
//! downstream corps in the 上下游 chain ([`DEMO_DOWNSTREAM`]), both sharing the upstream corp's
//! first app (1000002 in the demo corp).
//!
//! - `corpgroup/corp/gettoken` (upstream app token): issues a token valid only in that downstream
//!   corp: the dispatcher (`server.rs`) serves every call carrying it against the downstream corp's
//!   [`State`], so any endpoint works there as it does upstream. The same token while it is valid
//!   (as gettoken); it expires with the sandbox's token lifetime (42001) and is revocable (40014).
//!   An unknown corp (or another `business_type`): 670004; an app not shared with it (unshared,
//!   another upstream app, another downstream agentid): 670001. The page names no errcode; both
//!   come from WeCom's global table.
//! - `corpgroup/corp/list_app_share_info`: the downstream corps an upstream app is shared with,
//!   paged by `limit` (at most 100; 0 = all) and an opaque cursor.
//! - `miniprogram/transfer_session` (downstream token): converts an upstream mini-program session
//!   of a downstream member (minted by the admin route `POST /sandbox/corpgroup/session`, as the
//!   upstream app's `code2Session` would give it) into the downstream corp's userid and session key.
//!
//! Admin routes: [`admin`].

pub mod admin;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use wecom_core_auth::generated::auth::{
    CorpgroupCorpGettokenRequest, CorpgroupCorpGettokenResponse,
};
use wecom_core_auth::{ErrorCode, Secret};
use wecom_corpgroup::generated::corpgroup::{
    AppShareCorp, ListAppShareInfoRequest, ListAppShareInfoResponse,
    MiniprogramTransferSessionRequest, MiniprogramTransferSessionResponse,
};

use crate::areas::auth::random;
use crate::callbacks::{CallbackSettings, Pusher};
use crate::clock::SandboxClock;
use crate::corp::{App, Corp, CorpError, Member};
use crate::error::ApiError;
use crate::registry::{Ctx, Registry};
use crate::state::{State, lock};
use crate::store::StoreLimits;
use crate::tokens::{TokenBook, TokenProblem};

/// A demo downstream corp: corpid, name, the shared app's agentid there, its members (userid,
/// name).
pub type DemoDownstream = (
    &'static str,
    &'static str,
    u32,
    &'static [(&'static str, &'static str)],
);

/// The demo downstream corps.
pub const DEMO_DOWNSTREAM: [DemoDownstream; 2] = [
    (
        "ww7d00000000000a01",
        "示例经销商",
        1000005,
        &[("a-zhao", "赵经理"), ("a-qian", "钱店长")],
    ),
    (
        "ww7d00000000000b02",
        "示例供应商",
        1000006,
        &[("b-sun", "孙主管"), ("b-li", "李采购")],
    ),
];

/// 670001 应用不在共享范围.
const NOT_SHARED: i64 = 670001;
/// 670004 企业不在上下游范围内.
const NOT_LINKED: i64 = 670004;

/// A downstream corp as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownstreamInfo {
    /// Its corpid.
    pub corpid: String,
    /// Its name.
    pub name: String,
    /// 0 企业互联 / 局校互联, 1 上下游.
    pub business_type: u32,
    /// The shared app's agentid in the downstream corp.
    pub agentid: u32,
    /// The upstream app shared with it.
    pub shared_by: u32,
    /// Whether the share is in place (an admin route unshares it).
    pub shared: bool,
    /// Downstream tokens valid now.
    pub valid_tokens: usize,
}

struct Downstream {
    corpid: String,
    business_type: u32,
    agentid: u32,
    shared_by: u32,
    shared: bool,
    state: Arc<State>,
}

/// An upstream mini-program session of a downstream member (what `code2Session` gave the
/// upstream app), kept by the downstream corp for `miniprogram/transfer_session`.
struct Session {
    session_key: String,
    userid: String,
    agentid: u32,
}

#[derive(Default)]
struct NetworkInner {
    /// This state is a downstream corp's: no network of its own.
    downstream: bool,
    corps: Vec<Downstream>,
    /// Downstream tokens, by (downstream corpid, agentid).
    tokens: Option<TokenBook<(String, u32)>>,
    /// In a downstream corp: sessions by encrypted userid.
    sessions: HashMap<String, Session>,
}

/// The network of the served corp (area state, [`State::extension`]); created with the demo
/// downstream corps on first use.
#[derive(Default)]
pub struct Network {
    inner: Mutex<Option<NetworkInner>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network").finish_non_exhaustive()
    }
}

fn demo_corp(corpid: &str, name: &str, agentid: u32, people: &[(&str, &str)]) -> Corp {
    let padded = |s: String| format!("{s:-<43}");
    let mut corp = Corp::new(corpid, name, padded(format!("sandbox-{corpid}-contact-")));
    let build = |corp: &mut Corp| -> Result<(), CorpError> {
        for (userid, person) in people {
            let email = format!("{userid}@{corpid}.example.com");
            corp.create_member(Member::new(*userid, *person, vec![1]).with_email(email))?;
        }
        let mut app = App::new(
            agentid,
            "共享应用",
            padded(format!("sandbox-{corpid}-app-")),
        );
        app.description = "上游企业共享的应用".into();
        app.allow_parties = vec![1];
        corp.add_app(app)
    };
    if let Err(e) = build(&mut corp) {
        tracing::error!("demo downstream corp {corpid} is inconsistent: {e}");
    }
    corp
}

impl Network {
    /// Runs `f` on the network of `state`, creating it (with the demo downstream corps) on first use.
    fn with<R>(state: &State, f: impl FnOnce(&mut NetworkInner) -> R) -> R {
        let network = state.extension::<Network>();
        let mut guard = lock(&network.inner);
        let inner = guard.get_or_insert_with(|| {
            let shared_by = state.corp().apps().map(|a| a.agentid).min().unwrap_or(0);
            let ttl = lock(&state.tokens).ttl_secs();
            let corps = DEMO_DOWNSTREAM
                .iter()
                .map(|(corpid, name, agentid, people)| {
                    let down = Arc::new(State::new(
                        demo_corp(corpid, name, *agentid, people),
                        SandboxClock::new(),
                        ttl,
                        Pusher::new(CallbackSettings::default(), 64),
                        StoreLimits::default(),
                    ));
                    down.set_base_url(state.base_url().to_owned());
                    *lock(&down.extension::<Network>().inner) = Some(NetworkInner {
                        downstream: true,
                        ..NetworkInner::default()
                    });
                    Downstream {
                        corpid: (*corpid).to_owned(),
                        business_type: 1,
                        agentid: *agentid,
                        shared_by,
                        shared: true,
                        state: down,
                    }
                })
                .collect();
            NetworkInner {
                downstream: false,
                corps,
                tokens: Some(TokenBook::new(ttl, 64)),
                sessions: HashMap::new(),
            }
        });
        f(inner)
    }
}

/// Follows the upstream clock's moves (the admin API moves only the upstream one).
fn sync_clock(up: &State, down: &State) {
    down.clock()
        .advance(up.clock().offset_secs() - down.clock().offset_secs());
}

/// The dispatcher's second look at a token the served corp does not know: a downstream corp's
/// token gives that corp's [`State`] and the agentid of its app there; an expired one
/// [`TokenProblem::Expired`] (42001). `None` when no downstream corp issued it.
pub(crate) fn authenticate(
    state: &State,
    token: Option<&str>,
) -> Option<Result<(Arc<State>, u32), TokenProblem>> {
    let token = token.filter(|t| !t.is_empty())?;
    let now = state.clock().now_ms();
    Network::with(state, |n| {
        let book = n.tokens.as_ref()?;
        match book.check(Some(token), now) {
            Ok((corpid, agentid)) => {
                let down = n.corps.iter().find(|c| c.corpid == corpid)?;
                sync_clock(state, &down.state);
                Some(Ok((Arc::clone(&down.state), agentid)))
            }
            Err(TokenProblem::Expired) => Some(Err(TokenProblem::Expired)),
            Err(_) => None,
        }
    })
}

/// Registers the corpgroup endpoints.
pub fn register(r: &mut Registry) {
    r.add::<CorpgroupCorpGettokenRequest, _, _>(gettoken);
    r.add::<ListAppShareInfoRequest, _, _>(list_app_share_info);
    r.add::<MiniprogramTransferSessionRequest, _, _>(transfer_session);
}

fn upstream_only(n: &NetworkInner, what: &str) -> Result<(), ApiError> {
    if n.downstream {
        return Err(ApiError::api_forbidden(format_args!(
            "{what} needs an upstream app's access_token, not a downstream corp's"
        )));
    }
    Ok(())
}

async fn gettoken(
    ctx: Ctx,
    req: CorpgroupCorpGettokenRequest,
) -> Result<CorpgroupCorpGettokenResponse, ApiError> {
    let upstream = ctx.agentid()?;
    let state = ctx.state();
    let business_type = req.business_type.unwrap_or(0);
    let ttl = lock(&state.tokens).ttl_secs();
    let now = state.clock().now_ms();
    let issued = Network::with(state, |n| {
        upstream_only(n, "corpgroup/corp/gettoken")?;
        let corp = n
            .corps
            .iter()
            .find(|c| c.corpid == req.corpid && c.business_type == business_type)
            .ok_or_else(|| {
                ApiError::new(
                    NOT_LINKED,
                    format!(
                        "corp not in chain, hint: {} is not linked to this corp with business_type {business_type}",
                        req.corpid
                    ),
                )
            })?;
        if !corp.shared || corp.shared_by != upstream || corp.agentid != req.agentid {
            return Err(ApiError::new(
                NOT_SHARED,
                format!(
                    "app not in share scope, hint: app {upstream} is not shared with {} as its app {}",
                    req.corpid, req.agentid
                ),
            ));
        }
        let key = (corp.corpid.clone(), corp.agentid);
        let book = n.tokens.get_or_insert_with(|| TokenBook::new(ttl, 64));
        book.set_ttl_secs(ttl);
        Ok(book.issue(key, now))
    })?;
    Ok(CorpgroupCorpGettokenResponse::new(
        Secret::new(issued.value),
        issued.expires_in,
    ))
}

async fn list_app_share_info(
    ctx: Ctx,
    req: ListAppShareInfoRequest,
) -> Result<ListAppShareInfoResponse, ApiError> {
    let state = ctx.state();
    Network::with(state, |n| {
        upstream_only(n, "corpgroup/corp/list_app_share_info")
    })?;
    // The page does not say whether `agentid` must be the calling app; not enforced.
    state.corp().app(req.agentid).map_err(|_| {
        ApiError::new(
            ErrorCode::INVALID_AGENTID,
            format!("invalid agentid, hint: no app {} in this corp", req.agentid),
        )
    })?;
    let business_type = req.business_type.unwrap_or(0);
    let all: Vec<(String, u32, Arc<State>)> = Network::with(state, |n| {
        n.corps
            .iter()
            .filter(|c| c.shared && c.shared_by == req.agentid)
            .filter(|c| c.business_type == business_type)
            .filter(|c| req.corpid.as_deref().is_none_or(|id| id == c.corpid))
            .map(|c| (c.corpid.clone(), c.agentid, Arc::clone(&c.state)))
            .collect()
    });
    let start = match req.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => c
            .strip_prefix("share-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(|| {
                ApiError::invalid_parameter(format_args!("hint: unknown cursor `{c}`"))
            })?,
    };
    let limit = match req.limit.unwrap_or(0) {
        0 => all.len(),
        n => n as usize,
    };
    let end = (start + limit).min(all.len());
    let page = all[start..end]
        .iter()
        .map(|(corpid, agentid, down)| {
            AppShareCorp::new(corpid.clone(), *agentid).corp_name(down.corp().name().to_owned())
        })
        .collect::<Vec<_>>();
    let ending = end >= all.len();
    Ok(ListAppShareInfoResponse::new()
        .ending(u32::from(ending))
        .corp_list(page)
        .next_cursor(if ending {
            String::new()
        } else {
            format!("share-{end}")
        }))
}

async fn transfer_session(
    ctx: Ctx,
    req: MiniprogramTransferSessionRequest,
) -> Result<MiniprogramTransferSessionResponse, ApiError> {
    let agentid = ctx.agentid()?;
    let userid = Network::with(ctx.state(), |n| {
        if !n.downstream {
            return Err(ApiError::api_forbidden(
                "miniprogram/transfer_session needs a downstream corp's access_token (corpgroup/corp/gettoken)",
            ));
        }
        match n.sessions.get(&req.userid) {
            Some(s) if s.session_key == req.session_key.expose() && s.agentid == agentid => {
                Ok(s.userid.clone())
            }
            _ => Err(ApiError::invalid_parameter(
                "hint: userid and session_key are not an upstream session of this downstream corp's shared app",
            )),
        }
    })?;
    Ok(MiniprogramTransferSessionResponse::new(
        userid,
        Secret::new(random(24)),
    ))
}

// ---------------------------------------------------------------------------------------------
// Admin operations (Rust; their HTTP form is in `admin.rs`).
// ---------------------------------------------------------------------------------------------

/// The downstream corps of the served corp.
pub fn downstream_corps(state: &State) -> Vec<DownstreamInfo> {
    let now = state.clock().now_ms();
    Network::with(state, |n| {
        let valid = |corpid: &str| {
            n.tokens
                .as_ref()
                .map_or(0, |b| b.valid_count_where(|(c, _)| c == corpid, now))
        };
        n.corps
            .iter()
            .map(|c| DownstreamInfo {
                corpid: c.corpid.clone(),
                name: c.state.corp().name().to_owned(),
                business_type: c.business_type,
                agentid: c.agentid,
                shared_by: c.shared_by,
                shared: c.shared,
                valid_tokens: valid(&c.corpid),
            })
            .collect()
    })
}

/// A downstream corp's own state (its directory, inboxes, counters ...).
pub fn downstream_state(state: &State, corpid: &str) -> Option<Arc<State>> {
    Network::with(state, |n| {
        n.corps
            .iter()
            .find(|c| c.corpid == corpid)
            .map(|c| Arc::clone(&c.state))
    })
}

/// Shares or unshares the app with downstream corp `corpid`. Unsharing revokes the corp's
/// downstream tokens (40014 after) and makes `corpgroup/corp/gettoken` answer 670001.
pub fn set_shared(state: &State, corpid: &str, shared: bool) -> Result<(), String> {
    let now = state.clock().now_ms();
    Network::with(state, |n| {
        let corp = n
            .corps
            .iter_mut()
            .find(|c| c.corpid == corpid)
            .ok_or_else(|| format!("no downstream corp {corpid}"))?;
        corp.shared = shared;
        if !shared && let Some(book) = n.tokens.as_mut() {
            book.revoke(|(c, _)| c == corpid, now);
        }
        Ok(())
    })
}

/// Revokes the downstream tokens of `corpid` (every downstream corp's when `None`); returns how
/// many were valid. The next call with one is answered 40014.
pub fn revoke_tokens(state: &State, corpid: Option<&str>) -> usize {
    let now = state.clock().now_ms();
    Network::with(state, |n| {
        n.tokens.as_mut().map_or(0, |book| {
            book.revoke(|(c, _)| corpid.is_none_or(|id| id == c), now)
        })
    })
}

/// What the upstream app's `code2Session` gives when member `userid` of downstream corp `corpid`
/// logs into its mini program: an encrypted userid and the upstream session key, for
/// `miniprogram/transfer_session`.
pub fn mint_session(state: &State, corpid: &str, userid: &str) -> Result<(String, Secret), String> {
    let (down, agentid) = Network::with(state, |n| {
        n.corps
            .iter()
            .find(|c| c.corpid == corpid)
            .map(|c| (Arc::clone(&c.state), c.agentid))
    })
    .ok_or_else(|| format!("no downstream corp {corpid}"))?;
    let userid = down
        .corp()
        .member(userid)
        .map_err(|e| e.to_string())?
        .userid
        .clone();
    let encrypted = format!("wm{}", random(30));
    let session_key = random(24);
    Network::with(&down, |n| {
        n.sessions.insert(
            encrypted.clone(),
            Session {
                session_key: session_key.clone(),
                userid,
                agentid,
            },
        );
    });
    Ok((encrypted, Secret::new(session_key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_downstream_corps_follow_the_directory_rules() {
        for (corpid, name, agentid, people) in DEMO_DOWNSTREAM {
            let corp = demo_corp(corpid, name, agentid, people);
            assert_eq!(corp.members().count(), people.len(), "{corpid}");
            assert_eq!(
                corp.app(agentid).expect("shared app").allow_parties,
                vec![1]
            );
        }
    }
}
