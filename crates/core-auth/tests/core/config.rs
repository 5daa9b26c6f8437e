//! Credential selection, configuration errors before I/O, validation, binary answers.

use wecom_core_auth::{Client, Error};

use crate::builder;
use crate::endpoints::{
    ContactPing, CustomerPing, GetMedia, Html, Open, Ping, ReadPing, RobotSend,
};
use crate::server::{CORPID, Fake, Fault, ROBOT_KEY, SECRET_A, SECRET_CONTACT, SECRET_EXTERNAL};

#[tokio::test]
async fn a_contact_call_without_the_contact_secret_fails_before_any_io() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let e = client.execute(ContactPing::default()).await.unwrap_err();
    let Error::Config(c) = &e else {
        panic!("expected a config error, got {e:?}")
    };
    let text = e.to_string();
    assert!(
        text.contains("ClientBuilder::contact_secret")
            && text.contains("通讯录同步")
            && text.contains("contact_ping"),
        "{text}"
    );
    assert!(c.fix.contains("ClientBuilder::contact_secret"));
    assert_eq!(fake.gettoken_calls(), 0);
    assert_eq!(fake.hits("contact/ping"), 0);
    assert!(e.endpoint().is_none());
}

#[tokio::test]
async fn app_or_contact_prefers_the_contact_secret() {
    let fake = Fake::start().await;
    let without = builder(&fake).build().unwrap();
    assert_eq!(
        without.execute(ReadPing::default()).await.unwrap().owner,
        "app1000002"
    );
    let with = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .build()
        .unwrap();
    assert_eq!(
        with.execute(ReadPing::default()).await.unwrap().owner,
        "contact"
    );
    assert_eq!(
        with.execute(ContactPing::default()).await.unwrap().owner,
        "contact"
    );
    assert_eq!(
        with.execute(Ping::default()).await.unwrap().owner,
        "app1000002"
    );
}

#[tokio::test]
async fn a_system_area_prefers_the_system_secret_and_falls_back_to_the_app() {
    use wecom_core_auth::SystemApp;
    let fake = Fake::start().await;
    // Without the 客户联系 secret: the selected app's token (an app under 可调用应用).
    let without = builder(&fake).build().unwrap();
    assert!(!without.has_system_secret(SystemApp::ExternalContact));
    assert_eq!(
        without
            .execute(CustomerPing::default())
            .await
            .unwrap()
            .owner,
        "app1000002"
    );
    let with = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .system_secret(SystemApp::ExternalContact, SECRET_EXTERNAL)
        .build()
        .unwrap();
    assert!(with.has_system_secret(SystemApp::ExternalContact));
    assert!(!with.has_system_secret(SystemApp::Approval));
    assert_eq!(
        with.execute(CustomerPing::default()).await.unwrap().owner,
        "external_contact"
    );
    // Other areas keep their own credentials.
    assert_eq!(
        with.execute(Ping::default()).await.unwrap().owner,
        "app1000002"
    );
    assert_eq!(
        with.execute(ReadPing::default()).await.unwrap().owner,
        "contact"
    );
    // The secret never shows in Debug.
    let debug = format!("{with:?}");
    assert!(!debug.contains(SECRET_EXTERNAL), "{debug}");

    // Neither the system secret nor an app: a config error before any I/O.
    let before = fake.gettoken_calls();
    let hits = fake.hits("customer/ping");
    let bare = Client::builder(CORPID)
        .contact_secret(SECRET_CONTACT)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    let e = bare.execute(CustomerPing::default()).await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("客户联系") && text.contains("customer_ping"),
        "{text}"
    );
    assert_eq!(fake.gettoken_calls(), before);
    assert_eq!(fake.hits("customer/ping"), hits);

    // An empty system secret is refused when building.
    let e = Client::builder(CORPID)
        .system_secret(SystemApp::Approval, " ")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("审批"), "{e}");
}

#[tokio::test]
async fn agent_selects_the_app() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    assert_eq!(
        client.agentid(),
        Some(1000002),
        "the first app is the default"
    );
    assert_eq!(client.agentids(), vec![1000002, 1000003]);
    let b = client.agent(1000003).unwrap();
    assert_eq!(b.agentid(), Some(1000003));
    assert_eq!(
        b.execute(Ping::default()).await.unwrap().owner,
        "app1000003"
    );
    assert_eq!(
        client.execute(Ping::default()).await.unwrap().owner,
        "app1000002"
    );
    let e = client.agent(42).unwrap_err();
    assert!(e.to_string().contains("ClientBuilder::app(42"), "{e}");
}

#[tokio::test]
async fn an_app_call_on_a_client_without_apps_names_the_fix() {
    let fake = Fake::start().await;
    let client = Client::builder(CORPID)
        .contact_secret(SECRET_CONTACT)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    assert_eq!(client.agentid(), None);
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert!(
        matches!(e, Error::Config(_)) && e.to_string().contains("ClientBuilder::app"),
        "{e}"
    );
    assert_eq!(
        client.execute(ContactPing::default()).await.unwrap().owner,
        "contact"
    );
    assert_eq!(
        client.execute(Open::default()).await.unwrap_err().errcode(),
        Some(41001),
        "no credential was added"
    );
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_io() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let e = client
        .execute(Ping {
            param: Some("much-too-long".into()),
        })
        .await
        .unwrap_err();
    let Error::Invalid(inv) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(inv.field, "param");
    assert_eq!(inv.context, "ping");
    assert_eq!(inv.errcode, Some(40058));
    assert_eq!(
        e.to_string(),
        "ping: invalid `param`: is 13 bytes; at most 8 allowed (WeCom would answer errcode 40058)"
    );
    assert_eq!(e.class(), wecom_core_auth::ErrorClass::Input);
    assert_eq!(fake.gettoken_calls(), 0);
    assert_eq!(fake.hits("ping"), 0);
    // Query values are percent-encoded.
    client
        .execute(Ping {
            param: Some("a b&c=d".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        fake.seen()
            .last()
            .unwrap()
            .query
            .get("param")
            .map(String::as_str),
        Some("a b&c=d")
    );
}

#[tokio::test]
async fn builder_rejects_unusable_settings() {
    let cases: Vec<(wecom_core_auth::ClientBuilder, &str)> = vec![
        (Client::builder(""), "corpid is empty"),
        (
            Client::builder(CORPID).app(1, ""),
            "secret of app 1 is empty",
        ),
        (
            Client::builder(CORPID).app(1, "s").app(1, "t"),
            "added twice",
        ),
        (
            Client::builder(CORPID).contact_secret(" "),
            "contact-sync secret is empty",
        ),
        (
            Client::builder(CORPID).base_url("not a url"),
            "is not a URL",
        ),
        (
            Client::builder(CORPID).base_url("ftp://127.0.0.1"),
            "scheme `ftp`",
        ),
        (
            Client::builder(CORPID).base_url("http://127.0.0.1/?access_token=x"),
            "query or fragment",
        ),
        (
            Client::builder(CORPID).proxy("::not a proxy::"),
            "bad proxy URL",
        ),
    ];
    for (b, expected) in cases {
        let e = b.build().unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(
            e.to_string().contains(expected),
            "{e} (expected {expected:?})"
        );
    }
    // A proxy is accepted (not used in these tests), and a base URL with a trailing slash too.
    let c = Client::builder(CORPID)
        .app(1, "s")
        .proxy("http://user:pw@127.0.0.1:3128")
        .base_url("http://127.0.0.1:1/")
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:1");
    assert!(!format!("{c:?}").contains("pw@"), "{c:?}");
}

#[tokio::test]
async fn robot_calls_carry_the_key_and_no_token() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let e = client.execute(RobotSend).await.unwrap_err();
    assert!(e.to_string().contains("Client::robot"), "{e}");
    let r = client.robot(ROBOT_KEY).execute(RobotSend).await.unwrap();
    assert_eq!(r.owner, "robot");
    let seen = fake.seen();
    assert_eq!(
        seen[0].query.get("key").map(String::as_str),
        Some(ROBOT_KEY)
    );
    assert!(!seen[0].query.contains_key("access_token"));
    assert_eq!(fake.gettoken_calls(), 0);
    let e = client
        .robot("wrong-key")
        .execute(RobotSend)
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(93000));
}

#[tokio::test]
async fn binary_answers_pass_through_and_json_errors_in_their_place_are_errors() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let bytes = client
        .execute(GetMedia {
            range: Some("bytes=0-99".into()),
        })
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"\x89PNG raw bytes");
    let seen = fake.seen();
    assert_eq!(seen[0].headers.get("range").unwrap(), "bytes=0-99");
    assert_eq!(
        seen[0].query.get("media_id").map(String::as_str),
        Some("MEDIA 1/2")
    );
    fake.fail_next("media/get", [Fault::Errcode(40007, "invalid media_id")]);
    let e = client.execute(GetMedia::default()).await.unwrap_err();
    assert_eq!(e.errcode(), Some(40007));
    assert_eq!(e.endpoint(), Some("media_get"));
}

#[tokio::test]
async fn a_non_json_answer_is_a_decode_error() {
    let fake = Fake::start().await;
    let client = builder(&fake).build().unwrap();
    let e = client.execute(Html::default()).await.unwrap_err();
    let Error::Decode { endpoint, source } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*endpoint, "html");
    assert!(source.body_excerpt.contains("proxy login"));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn access_tokens_can_be_read_for_other_tools() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .build()
        .unwrap();
    let a = client.access_token().await.unwrap();
    let c = client.contact_access_token().await.unwrap();
    assert_ne!(a, c);
    assert!(fake.issued_tokens().contains(&a.expose().to_owned()));
    assert_eq!(client.access_token().await.unwrap(), a, "cached");
    assert_eq!(fake.gettoken_calls(), 2);
    let no_contact = Client::builder(CORPID)
        .app(1, SECRET_A)
        .base_url(fake.base_url())
        .build()
        .unwrap();
    assert!(matches!(
        no_contact.contact_access_token().await,
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn requests_go_through_the_egress_proxy_with_the_user_agent() {
    let fake = Fake::start().await;
    // `wecom.invalid` cannot resolve: only the proxy (here the fake itself, which accepts
    // absolute-form requests) can answer.
    let client = Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .base_url("http://wecom.invalid")
        .proxy(format!("http://user:hunter2@{}", fake.addr))
        .user_agent("my-service/1.2")
        .build()
        .unwrap();
    assert_eq!(
        client.execute(Ping::default()).await.unwrap().owner,
        "app1000002"
    );
    let seen = fake.seen();
    assert_eq!(seen[0].headers.get("host").unwrap(), "wecom.invalid");
    assert_eq!(seen[0].headers.get("user-agent").unwrap(), "my-service/1.2");
    assert!(
        seen[0].headers.get("proxy-authorization").is_some(),
        "proxy credentials are sent"
    );
    assert!(!format!("{client:?}").contains("hunter2"));
}
