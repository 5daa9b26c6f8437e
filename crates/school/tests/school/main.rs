//! wecom-school through the typed client against the sandbox's demo education corp
//! (`Corp::school_demo`): every endpoint, WeCom's rules and errcodes, bad input refused before
//! any I/O, and the change_school_contact callback reaching the callback router typed.

mod callbacks;
mod departments;
mod directory;
mod reads;

use wecom_core_auth::{Client, Error, Secret};
use wecom_sandbox::Sandbox;
use wecom_sandbox::corp::{Corp, DEMO_APPROVAL_AGENTID, DEMO_APPROVAL_SECRET};

type Res = Result<(), Box<dyn std::error::Error>>;

/// A sandbox serving the demo education corp, and a client with the 审批 app (whole corp).
struct School {
    sandbox: Sandbox,
    client: Client,
}

async fn school() -> Result<School, Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder().corp(Corp::school_demo()).start().await?;
    let client = Client::builder(sandbox.credentials().corpid)
        .base_url(sandbox.base_url())
        .app(
            DEMO_APPROVAL_AGENTID,
            Secret::new(DEMO_APPROVAL_SECRET.to_owned()),
        )
        .build()?;
    Ok(School { sandbox, client })
}

/// The errcode of an error: the pre-I/O check's or WeCom's.
fn code(e: &Error) -> Option<i64> {
    match e {
        Error::Invalid(i) => i.errcode,
        other => other.errcode(),
    }
}

/// How many calls of the endpoint (spec name) reached the sandbox.
fn calls(s: &School, endpoint: &str) -> u64 {
    s.sandbox.admin().count(endpoint)
}
