//! The SDK's own client (core-auth) against the sandbox: token caching, refresh on 40014/42001,
//! retries of transient failures, and the sandbox's counters seeing exactly that.

use wecom_core_auth::Client;
use wecom_core_auth::generated::auth::AuthExt;
use wecom_sandbox::{Fault, Sandbox, TokenTarget};

fn client_for(sb: &Sandbox) -> Client {
    let creds = sb.credentials();
    let app = creds.app(1000002).expect("demo app");
    Client::builder(creds.corpid.clone())
        .app(app.agentid, app.secret.clone())
        .contact_secret(creds.contact_secret.clone())
        .base_url(sb.base_url())
        .build()
        .expect("client builds")
}

#[tokio::test]
async fn one_gettoken_for_many_calls_and_refresh_on_revocation_and_expiry() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = client_for(&sb);
    for _ in 0..5 {
        let ips = client.auth().getcallbackip().await.expect("served");
        assert_eq!(ips.ip_list, vec!["127.0.0.1".to_owned()]);
    }
    assert_eq!(sb.admin().count("gettoken"), 1, "the token is cached");
    assert_eq!(sb.admin().count("getcallbackip"), 5);

    // Revoked: the call answers 40014, the client drops the token, gets a new one, retries once.
    assert_eq!(sb.admin().revoke_tokens(TokenTarget::App(1000002)), 1);
    client
        .auth()
        .getcallbackip()
        .await
        .expect("refreshed and retried");
    assert_eq!(sb.admin().count("gettoken"), 2);
    assert_eq!(sb.admin().count("getcallbackip"), 7);

    // Expired on the server's clock only: 42001, refresh, retry.
    sb.admin().advance_time(7200);
    client
        .auth()
        .getcallbackip()
        .await
        .expect("refreshed and retried");
    assert_eq!(sb.admin().count("gettoken"), 3);
    assert_eq!(sb.admin().count("getcallbackip"), 9);
}

#[tokio::test]
async fn transient_faults_are_retried_and_permanent_ones_reported() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = client_for(&sb);
    sb.admin()
        .add_fault(Fault::errcode("getcallbackip", -1).times(1));
    client
        .auth()
        .getcallbackip()
        .await
        .expect("retried after system busy");
    assert_eq!(sb.admin().count("getcallbackip"), 2);

    sb.admin()
        .add_fault(Fault::errcode("getcallbackip", 60020).times(1));
    let e = client
        .auth()
        .getcallbackip()
        .await
        .expect_err("60020 is not retried");
    assert_eq!(e.errcode(), Some(60020));
    assert!(
        e.to_string().contains("127.0.0.1"),
        "the from-ip hint is kept: {e}"
    );
    assert!(
        !e.to_string()
            .contains(sb.credentials().contact_secret.expose())
    );
}

#[tokio::test]
async fn get_api_domain_ip_answers_the_address_the_api_is_served_on() {
    let sb = Sandbox::start().await.expect("sandbox starts");
    let client = client_for(&sb);
    let ips = client.auth().get_api_domain_ip().await.expect("served");
    let host = sb
        .base_url()
        .trim_start_matches("http://")
        .parse::<std::net::SocketAddr>()
        .expect("base_url is ip:port")
        .ip()
        .to_string();
    assert_eq!(ips.ip_list, vec![host]);
    assert_eq!(sb.admin().count("get_api_domain_ip"), 1);
}
