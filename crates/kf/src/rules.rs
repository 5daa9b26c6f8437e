//! Rules of 微信客服 requests the spec's field constraints cannot say, named by `spec/kf.toml`
//! (`check = "crate::rules::..."`), so the generated `validate()` runs them on every path (the
//! client before I/O, the sandbox on arrival).

use wecom_core_auth::InvalidInput;

use crate::generated::kf::{KfServiceState, KfServiceStateTransRequest};

/// `service_state/trans`: moving a session to a servicer (state 3) names the servicer (the page:
/// "当state=3时要求必填"). The page names no errcode for a missing one; the sandbox answers 40058
/// (a required parameter is missing).
pub fn check_trans(request: &KfServiceStateTransRequest) -> Result<(), InvalidInput> {
    if request.service_state == KfServiceState::Servicer
        && request.servicer_userid.as_deref().is_none_or(str::is_empty)
    {
        return Err(InvalidInput::new(
            "servicer_userid",
            "is required to give the session to a servicer (service_state 3): name a servicer who is receiving",
        )
        .with_errcode(Some(40058)));
    }
    Ok(())
}
