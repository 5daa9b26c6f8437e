//! Shared set-up of the cross-crate tests (`e2e/`, one module per area) and benchmarks
//! (`benches/`): a sandbox and a client pointed at it.

use std::time::Duration;

use wecom_core_auth::{Client, RetryPolicy, Secret};
use wecom_sandbox::Sandbox;
use wecom_sandbox::corp::{App, Corp, Member, Robot};

pub use wecom_sandbox::corp::{
    DEMO_APPROVAL_AGENTID, DEMO_APPROVAL_SECRET, DEMO_ROBOT_KEY, DEMO_WEEKLY_AGENTID,
    DEMO_WEEKLY_SECRET,
};

/// The app of a generated [`big_corp`] (whole-corp scope).
pub const BIG_AGENTID: u32 = 1000100;
/// Its secret.
pub const BIG_SECRET: &str = "sandbox-big-corp-app-secret-000000000000100";
/// The robot key of a [`big_corp`].
pub const BIG_ROBOT_KEY: &str = "sandbox-big-robot-key";

/// A running sandbox and a client for it.
#[derive(Debug)]
pub struct World {
    /// The sandbox (stops when dropped).
    pub sandbox: Sandbox,
    /// A client with the corp's apps; the first app is selected.
    pub client: Client,
}

impl World {
    /// The sandbox's state, for inspection.
    pub fn admin(&self) -> wecom_sandbox::Admin {
        self.sandbox.admin()
    }
}

/// Retries fast enough for tests: up to `attempts` attempts, 1 to 20 ms apart.
pub fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(20))
}

/// A client for `sandbox` with the apps `(agentid, secret)`, the first selected.
pub fn client_for(
    sandbox: &Sandbox,
    apps: &[(u32, &str)],
    retry: RetryPolicy,
) -> Result<Client, wecom_core_auth::Error> {
    let creds = sandbox.credentials();
    let mut b = Client::builder(creds.corpid)
        .base_url(sandbox.base_url())
        .retry_policy(retry);
    for (agentid, secret) in apps {
        b = b.app(*agentid, Secret::new((*secret).to_owned()));
    }
    b.build()
}

/// The demo corp, with a client holding both demo apps (审批 1000002 selected, whole corp).
pub async fn demo() -> Result<World, Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    let client = client_for(
        &sandbox,
        &[
            (DEMO_APPROVAL_AGENTID, DEMO_APPROVAL_SECRET),
            (DEMO_WEEKLY_AGENTID, DEMO_WEEKLY_SECRET),
        ],
        fast_retries(3),
    )?;
    Ok(World { sandbox, client })
}

/// A corp with `members` members `u00000`, `u00001`, ... in department 2 under the root, one
/// app ([`BIG_AGENTID`]) seeing the whole corp and a robot ([`BIG_ROBOT_KEY`]).
pub fn big_corp(members: usize) -> Result<Corp, Box<dyn std::error::Error>> {
    let mut corp = Corp::new(
        "wwbigcorp0000000001",
        "大公司",
        "sandbox-big-contact-secret-00000000000000001",
    );
    corp.create_department("全员", "All", 1, 100, Some(2))?;
    for i in 0..members {
        let id = member_id(i);
        corp.create_member(
            Member::new(id.clone(), format!("成员{i}"), vec![2])
                .with_email(format!("{id}@example.com")),
        )?;
    }
    let mut app = App::new(BIG_AGENTID, "通知", BIG_SECRET);
    app.allow_parties = vec![1];
    corp.add_app(app)?;
    corp.add_robot(Robot {
        key: BIG_ROBOT_KEY.into(),
        name: "全员群".into(),
    });
    Ok(corp)
}

/// The userid of member `i` of a [`big_corp`].
pub fn member_id(i: usize) -> String {
    format!("u{i:05}")
}

/// A sandbox serving a [`big_corp`] and a client for its app with `retry`. The sandbox clock is
/// frozen (2026-01-05 09:00:00 UTC; move it with `Admin::advance_time`), so per-minute limits
/// never reset in the middle of a test.
pub async fn big(members: usize, retry: RetryPolicy) -> Result<World, Box<dyn std::error::Error>> {
    let sandbox = Sandbox::builder()
        .corp(big_corp(members)?)
        .clock(wecom_sandbox::SandboxClock::frozen_at(1_767_603_600_000))
        .start()
        .await?;
    let client = client_for(&sandbox, &[(BIG_AGENTID, BIG_SECRET)], retry)?;
    Ok(World { sandbox, client })
}
