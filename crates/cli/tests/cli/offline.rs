//! Commands that need no corp: errcode, jssdk sign with a given ticket, help.

use crate::common::{run, vectors, wecom};

#[test]
fn errcode_explains_meaning_class_and_fix() {
    let r = run(wecom(&["errcode", "60020"]));
    let out = r.ok();
    assert!(out.starts_with("errcode 60020: "), "{out}");
    assert!(out.contains("class: permission"), "{out}");
    assert!(out.contains("what to do: "), "{out}");
    assert!(out.contains("不安全的访问IP"), "{out}");
}

#[test]
fn errcode_json_parses_and_accepts_negative_codes() {
    let v = run(wecom(&["--json", "errcode", "-1"])).json();
    assert_eq!(v["errcode"], -1);
    assert_eq!(v["class"], "transient");
    assert_eq!(v["retryable"], true);
    assert!(v["meaning"].as_str().is_some_and(|m| !m.is_empty()));
}

#[test]
fn unknown_errcode_fails_with_one_line() {
    let r = run(wecom(&["errcode", "123456789"]));
    let line = r.error_line();
    assert!(line.contains("123456789"), "{line}");
    assert!(line.contains("devtool/query?e=123456789"), "{line}");
    assert_eq!(r.code, 1);
}

#[test]
fn jssdk_sign_reproduces_the_published_signature() {
    let v = vectors();
    let s = &v["jsapi_signature"];
    let args = [
        "jssdk",
        "sign",
        "--url",
        s["url"].as_str().unwrap(),
        "--ticket",
        s["ticket"].as_str().unwrap(),
        "--noncestr",
        s["noncestr"].as_str().unwrap(),
        "--timestamp",
        s["timestamp"].as_str().unwrap(),
    ];
    let out = run(wecom(&args)).ok().to_owned();
    let expected = s["signature"].as_str().unwrap();
    assert!(out.contains(&format!("signature  {expected}")), "{out}");
    // The ticket is not echoed.
    assert!(!out.contains(s["ticket"].as_str().unwrap()));

    let mut json_args = vec!["--json"];
    json_args.extend_from_slice(&args);
    let j = run(wecom(&json_args)).json();
    assert_eq!(j["signature"], expected);
    assert_eq!(j["timestamp"], 1414587457);
}

#[test]
fn jssdk_sign_ignores_the_fragment_and_reads_the_ticket_from_env() {
    let v = vectors();
    let s = &v["jsapi_signature"];
    let url = format!("{}#section", s["url"].as_str().unwrap());
    let mut cmd = wecom(&[
        "--json",
        "jssdk",
        "sign",
        "--url",
        &url,
        "--noncestr",
        s["noncestr"].as_str().unwrap(),
        "--timestamp",
        s["timestamp"].as_str().unwrap(),
    ]);
    cmd.env("WECOM_JSAPI_TICKET", s["ticket"].as_str().unwrap());
    let j = run(cmd).json();
    assert_eq!(j["signature"], s["signature"]);
    assert_eq!(j["ticket"], "environment");
}

#[test]
fn jssdk_sign_without_ticket_or_corp_is_a_configuration_error() {
    let r = run(wecom(&["jssdk", "sign", "--url", "https://example.com/"]));
    let line = r.error_line();
    assert!(line.contains("no corp configured"), "{line}");
    assert!(line.contains("WECOM_CORP_ID"), "{line}");
    assert_eq!(r.code, 2);
}

#[test]
fn help_lists_every_command() {
    let out = run(wecom(&["--help"])).ok().to_owned();
    for cmd in [
        "sandbox",
        "demo",
        "token",
        "department",
        "user",
        "tag",
        "agent",
        "scope",
        "send",
        "media",
        "drive",
        "contacts",
        "callback",
        "jssdk",
        "errcode",
        "config",
    ] {
        assert!(
            out.contains(&format!("\n  {cmd} ")),
            "`{cmd}` missing from --help:\n{out}"
        );
    }
    assert!(out.contains("WECOM_SECRET"));
}

#[test]
fn secrets_are_not_accepted_as_flags() {
    for args in [
        vec!["token", "--secret", "abc"],
        vec!["callback", "decrypt", "--token", "abc"],
        vec!["callback", "decrypt", "--key", "abc"],
    ] {
        let r = run(wecom(&args));
        assert_eq!(r.code, 2, "{args:?} should be refused: {}", r.stderr);
    }
}
