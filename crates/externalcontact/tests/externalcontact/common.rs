//! The corp, sandbox and clients the modules share.

use std::time::{Duration, SystemTime};

use wecom_core_auth::clock::ManualClock;
use wecom_core_auth::{Client, Error, InvalidInput, Secret, SystemApp};
use wecom_sandbox::corp::{App, Corp, Member};
use wecom_sandbox::{Sandbox, SandboxClock};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub const CORPID: &str = "wwcustomers0000004";
const CONTACT_SECRET: &str = "contact-sync-secret-for-the-acquisition-tests";
pub const EC_SECRET: &str = "externalcontact-secret-for-the-acquisition-tests";
/// Sees department 2 (alice, bob, dave).
pub const SALES_APP: u32 = 300;
/// Sees department 3 (carol).
pub const SUPPORT_APP: u32 = 301;
pub const TOKEN: &str = "ecCallbackToken4";
pub const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
/// 2026-12-01T00:00:00Z, the sandbox's frozen clock.
pub const T0_MS: i64 = 1_796_083_200_000;

pub fn secret(agentid: u32) -> String {
    format!("app-secret-{agentid}-for-the-acquisition-tests")
}

/// 1 公司 ── 2 销售 (alice, bob, dave), 3 客服 (carol).
pub fn corp() -> Corp {
    let mut c = Corp::new(CORPID, "公司", CONTACT_SECRET);
    c.create_department("销售", "", 1, 0, Some(2))
        .expect("dept");
    c.create_department("客服", "", 1, 0, Some(3))
        .expect("dept");
    for (id, d) in [("alice", 2), ("bob", 2), ("dave", 2), ("carol", 3)] {
        c.create_member(
            Member::new(id, id.to_uppercase(), vec![d]).with_email(format!("{id}@example.com")),
        )
        .expect("member");
    }
    let mut sales = App::new(SALES_APP, "Sales", secret(SALES_APP));
    sales.allow_parties = vec![2];
    let mut support = App::new(SUPPORT_APP, "Support", secret(SUPPORT_APP));
    support.allow_parties = vec![3];
    c.add_app(sales).expect("app");
    c.add_app(support).expect("app");
    c.set_system_secret(SystemApp::ExternalContact, EC_SECRET.to_owned());
    c
}

pub async fn start() -> Result<Sandbox, Box<dyn std::error::Error>> {
    Ok(Sandbox::builder()
        .corp(corp())
        .clock(SandboxClock::frozen_at(T0_MS))
        .start()
        .await?)
}

pub fn app_client(sb: &Sandbox, agentid: u32) -> Result<Client, Error> {
    Client::builder(CORPID)
        .base_url(sb.base_url())
        .app(agentid, Secret::new(secret(agentid)))
        .clock(ManualClock::at(
            SystemTime::UNIX_EPOCH + Duration::from_millis(T0_MS as u64),
        ))
        .build()
}

/// A client with only the 客户联系 secret.
pub fn ec_client(sb: &Sandbox) -> Result<Client, Error> {
    Client::builder(CORPID)
        .base_url(sb.base_url())
        .system_secret(
            SystemApp::ExternalContact,
            Secret::new(EC_SECRET.to_owned()),
        )
        .build()
}

pub fn invalid<T: std::fmt::Debug>(result: Result<T, Error>) -> InvalidInput {
    match result {
        Err(Error::Invalid(i)) => i,
        other => panic!("expected an error before any request, got {other:?}"),
    }
}

pub fn errcode<T: std::fmt::Debug>(result: Result<T, Error>) -> i64 {
    match result {
        Err(e) => e
            .errcode()
            .unwrap_or_else(|| panic!("expected an errcode, got {e}")),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}
