//! No secret, token or ticket in the Debug or Display output of a client or of any error.

use std::time::Duration;

use wecom_core_auth::{Client, Error, Secret};

use crate::builder;
use crate::endpoints::{ContactPing, Html, Leak, Ping};
use crate::server::{CORPID, Fake, Fault, ROBOT_KEY, SECRET_A, SECRET_B, SECRET_CONTACT};

fn assert_clean(text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "found a secret or token in:\n{text}"
        );
    }
}

fn both<T: std::fmt::Debug + std::fmt::Display>(v: &T) -> String {
    format!("{v:?}\n{v}\n{v:#?}")
}

#[tokio::test]
async fn no_secret_or_token_in_debug_or_display_output() {
    let fake = Fake::start().await;
    let client = builder(&fake)
        .contact_secret(SECRET_CONTACT)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    client.execute(Ping::default()).await.unwrap();
    client.execute(ContactPing::default()).await.unwrap();
    let ticket = client.jsapi_ticket().await.unwrap();
    let robot = client.robot(ROBOT_KEY);

    let mut errors: Vec<(&str, Error)> = Vec::new();
    // Invalid
    errors.push((
        "invalid",
        client
            .execute(Ping {
                param: Some("much-too-long".into()),
            })
            .await
            .unwrap_err(),
    ));
    // Config
    errors.push((
        "config",
        builder(&fake)
            .build()
            .unwrap()
            .execute(ContactPing::default())
            .await
            .unwrap_err(),
    ));
    // Transport (timeout; the URL carries the token)
    fake.fail_next(
        "ping",
        std::iter::repeat_n(Fault::Delay(Duration::from_secs(2)), 3),
    );
    errors.push((
        "transport",
        client.execute(Ping::default()).await.unwrap_err(),
    ));
    // Transport (HTTP status)
    fake.fail_next("ping", std::iter::repeat_n(Fault::Status(503), 3));
    errors.push(("status", client.execute(Ping::default()).await.unwrap_err()));
    // Api
    fake.fail_next(
        "ping",
        [Fault::Errcode(
            60020,
            "not allow to access from your ip, hint: [1], from ip: 203.0.113.9",
        )],
    );
    errors.push(("api", client.execute(Ping::default()).await.unwrap_err()));
    // Decode, with the token in the body
    errors.push(("decode", client.execute(Leak::default()).await.unwrap_err()));
    errors.push((
        "decode-html",
        client.execute(Html::default()).await.unwrap_err(),
    ));
    // CoolDown (the first call sees the Api error, the second the cool-down)
    let wrong = Client::builder(CORPID)
        .app(1000002, "wrong-secret-QQQQ-5555")
        .base_url(fake.base_url())
        .build()
        .unwrap();
    errors.push((
        "gettoken-api",
        wrong.execute(Ping::default()).await.unwrap_err(),
    ));
    errors.push((
        "cool-down",
        wrong.execute(Ping::default()).await.unwrap_err(),
    ));

    let kinds: Vec<&str> = errors
        .iter()
        .map(|(_, e)| match e {
            Error::Invalid(_) => "Invalid",
            Error::Config(_) => "Config",
            Error::Transport(_) => "Transport",
            Error::Api(_) => "Api",
            Error::Decode { .. } => "Decode",
            Error::CoolDown(_) => "CoolDown",
            _ => "other",
        })
        .collect();
    for k in [
        "Invalid",
        "Config",
        "Transport",
        "Api",
        "Decode",
        "CoolDown",
    ] {
        assert!(kinds.contains(&k), "variant {k} not covered: {kinds:?}");
    }

    let mut secrets: Vec<String> = [
        SECRET_A,
        SECRET_B,
        SECRET_CONTACT,
        ROBOT_KEY,
        "wrong-secret-QQQQ-5555",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    secrets.extend(fake.issued_tokens());
    secrets.push(ticket.expose().to_owned());
    assert!(secrets.len() >= 8);

    for (what, e) in &errors {
        let text = both(e);
        assert_clean(&text, &secrets);
        if *what == "transport" {
            assert!(text.contains("access_token=***"), "{text}");
        }
        if *what == "decode" {
            assert!(text.contains("\"access_token\":\"***\""), "{text}");
        }
    }
    assert_clean(&format!("{client:?}\n{client:#?}\n{robot:?}"), &secrets);
    assert_clean(
        &format!("{:?}", builder(&fake).contact_secret(SECRET_CONTACT)),
        &secrets,
    );
    assert_clean(
        &format!("{:?} {}", Secret::new(SECRET_A), Secret::new(SECRET_A)),
        &secrets,
    );
    assert!(format!("{client:?}").contains(CORPID));
    assert!(format!("{client:?}").contains("1000003"));
}

#[tokio::test]
async fn credentials_in_the_base_url_are_masked() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let builder = Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .base_url(format!("http://gateway:pa55word-XYZ@127.0.0.1:{port}"))
        .retry_policy(wecom_core_auth::RetryPolicy::none());
    assert_clean(&format!("{builder:?}"), &["pa55word-XYZ".to_owned()]);
    let client = builder.build().unwrap();
    assert_clean(&format!("{client:?}"), &["pa55word-XYZ".to_owned()]);
    let e = client.execute(Ping::default()).await.unwrap_err();
    assert_clean(&both(&e), &["pa55word-XYZ".to_owned()]);
    let bad = Client::builder(CORPID)
        .app(1000002, SECRET_A)
        .base_url("ftp://gateway:pa55word-XYZ@127.0.0.1/")
        .build()
        .unwrap_err();
    assert_clean(&both(&bad), &["pa55word-XYZ".to_owned()]);
}
