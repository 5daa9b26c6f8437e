//! `wecom callback decrypt|encrypt|serve`: the shared vectors, round trips, a live server
//! receiving the sandbox's callbacks, and errors without secrets.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;
use wecom_sandbox::Sandbox;
use wecom_sandbox::corp::CallbackConfig;

use crate::common::{run, run_with_stdin, vectors, wecom};

/// `wecom callback <sub>` with a set's Token and key in the environment.
fn with_keys(set: &Value, args: &[&str]) -> Command {
    let mut cmd = wecom(args);
    cmd.env("WECOM_CALLBACK_TOKEN", set["token"].as_str().unwrap())
        .env(
            "WECOM_CALLBACK_AES_KEY",
            set["encoding_aes_key"].as_str().unwrap(),
        )
        .env(
            "WECOM_CALLBACK_RECEIVE_ID",
            set["receive_id"].as_str().unwrap(),
        );
    cmd
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn decrypt_decodes_every_vector_with_its_signature_checked() {
    let v = vectors();
    let mut cases = 0;
    for set in v["sets"].as_array().unwrap() {
        for case in set["cases"].as_array().unwrap() {
            let c = |k: &str| case[k].as_str().unwrap().to_owned();
            let plaintext = c("plaintext");
            // The Encrypt value (or echostr) on stdin, the signature as flags.
            let cmd = with_keys(
                set,
                &[
                    "callback",
                    "decrypt",
                    "--msg-signature",
                    &c("msg_signature"),
                    "--timestamp",
                    &c("timestamp"),
                    "--nonce",
                    &c("nonce"),
                ],
            );
            let r = run_with_stdin(cmd, &c("encrypted"));
            assert_eq!(
                r.ok(),
                format!("{plaintext}\n"),
                "set {} {}",
                set["name"],
                case["kind"]
            );
            assert!(!r.stderr.contains("not checked"), "{}", r.stderr);

            // A whole POSTed body from a file, the query string as captured.
            let dir = tempfile::tempdir().unwrap();
            let body = dir.path().join("body.xml");
            std::fs::write(
                &body,
                format!(
                    "<xml><ToUserName><![CDATA[{}]]></ToUserName><AgentID><![CDATA[218]]></AgentID><Encrypt><![CDATA[{}]]></Encrypt></xml>",
                    set["receive_id"].as_str().unwrap(),
                    c("encrypted")
                ),
            )
            .unwrap();
            let query = format!(
                "/callback?msg_signature={}&timestamp={}&nonce={}",
                c("msg_signature"),
                c("timestamp"),
                c("nonce")
            );
            let r = run(with_keys(
                set,
                &[
                    "--json",
                    "callback",
                    "decrypt",
                    body.to_str().unwrap(),
                    "--query",
                    &query,
                ],
            ));
            let j = r.json();
            assert_eq!(j["plaintext"], plaintext.as_str());
            assert_eq!(j["verified"], true);
            assert_eq!(j["input"], "xml");
            // The JSON variant of the envelope.
            let body = serde_json::json!({"tousername": set["receive_id"], "encrypt": c("encrypted"), "agentid": 218}).to_string();
            let r = run_with_stdin(
                with_keys(set, &["--json", "callback", "decrypt", "--query", &query]),
                &body,
            );
            let jj = r.json();
            assert_eq!(jj["plaintext"], plaintext.as_str());
            assert_eq!(jj["input"], "json");
            if case["kind"] == "message" {
                assert_eq!(j["callback"]["type"], "message");
                assert_eq!(j["callback"]["msg_type"], "text");
                assert!(j["callback"]["fields"]["Content"].is_string());
            }
            cases += 1;
        }
    }
    assert!(cases >= 4, "only {cases} vector cases");
}

#[test]
fn decrypt_answers_a_url_check_from_the_query_alone() {
    let v = vectors();
    let set = &v["sets"][0];
    let case = set["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "url_verify")
        .unwrap();
    let query = format!(
        "msg_signature={}&timestamp={}&nonce={}&echostr={}",
        case["msg_signature"].as_str().unwrap(),
        case["timestamp"].as_str().unwrap(),
        case["nonce"].as_str().unwrap(),
        percent_encode(case["encrypted"].as_str().unwrap())
    );
    let r = run_with_stdin(
        with_keys(set, &["callback", "decrypt", "--query", &query]),
        "",
    );
    assert_eq!(r.ok().trim_end(), case["plaintext"].as_str().unwrap());
}

#[test]
fn decrypt_without_signature_says_it_was_not_checked() {
    let v = vectors();
    let set = &v["sets"][1];
    let case = &set["cases"][1];
    let r = run_with_stdin(
        with_keys(set, &["callback", "decrypt"]),
        case["encrypted"].as_str().unwrap(),
    );
    assert_eq!(r.ok().trim_end(), case["plaintext"].as_str().unwrap());
    assert!(r.stderr.contains("signature not checked"), "{}", r.stderr);
}

#[test]
fn a_wrong_signature_or_key_is_one_line_without_secrets() {
    let v = vectors();
    let set = &v["sets"][0];
    let case = &set["cases"][1];
    let token = set["token"].as_str().unwrap();
    let key = set["encoding_aes_key"].as_str().unwrap();
    let cmd = with_keys(
        set,
        &[
            "callback",
            "decrypt",
            "--msg-signature",
            "0000000000000000000000000000000000000000",
            "--timestamp",
            case["timestamp"].as_str().unwrap(),
            "--nonce",
            case["nonce"].as_str().unwrap(),
        ],
    );
    let r = run_with_stdin(cmd, case["encrypted"].as_str().unwrap());
    let line = r.error_line();
    assert!(line.contains("-40001"), "{line}");
    assert_eq!(r.code, 1);
    r.assert_no_secret(&[token, key]);

    // Set B's key on set A's message.
    let mut cmd = wecom(&[
        "--json",
        "callback",
        "decrypt",
        "--receive-id",
        set["receive_id"].as_str().unwrap(),
    ]);
    cmd.env(
        "WECOM_CALLBACK_AES_KEY",
        v["sets"][1]["encoding_aes_key"].as_str().unwrap(),
    );
    let r = run_with_stdin(cmd, case["encrypted"].as_str().unwrap());
    assert_ne!(r.code, 0);
    let err: Value =
        serde_json::from_str(r.stderr.trim()).expect("--json errors are JSON on stderr");
    assert!(
        err["error"]["errcode"]
            .as_i64()
            .is_some_and(|c| c <= -40001),
        "{err}"
    );
    r.assert_no_secret(&[v["sets"][1]["encoding_aes_key"].as_str().unwrap()]);

    // A malformed key is named as such, not echoed.
    let mut cmd = wecom(&["callback", "decrypt", "--receive-id", "ww1"]);
    cmd.env("WECOM_CALLBACK_AES_KEY", "short-key-value-xyz");
    let r = run_with_stdin(cmd, "abc");
    let line = r.error_line();
    assert!(line.contains("EncodingAESKey"), "{line}");
    r.assert_no_secret(&["short-key-value-xyz"]);
}

#[test]
fn missing_key_is_a_configuration_error() {
    let r = run_with_stdin(
        wecom(&["callback", "decrypt", "--receive-id", "ww1"]),
        "abc",
    );
    let line = r.error_line();
    assert!(line.contains("WECOM_CALLBACK_AES_KEY"), "{line}");
    assert_eq!(r.code, 2);
}

#[test]
fn keys_can_come_from_files_and_the_profile() {
    let v = vectors();
    let set = &v["sets"][0];
    let case = &set["cases"][1];
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let key = dir.path().join("key");
    std::fs::write(&token, set["token"].as_str().unwrap()).unwrap();
    std::fs::write(
        &key,
        format!("{}\n", set["encoding_aes_key"].as_str().unwrap()),
    )
    .unwrap();
    let args = [
        "callback",
        "decrypt",
        "--token-file",
        token.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--receive-id",
        set["receive_id"].as_str().unwrap(),
        "--msg-signature",
        case["msg_signature"].as_str().unwrap(),
        "--timestamp",
        case["timestamp"].as_str().unwrap(),
        "--nonce",
        case["nonce"].as_str().unwrap(),
    ];
    let r = run_with_stdin(wecom(&args), case["encrypted"].as_str().unwrap());
    assert_eq!(r.ok().trim_end(), case["plaintext"].as_str().unwrap());

    let profile = dir.path().join("config.toml");
    std::fs::write(
        &profile,
        format!(
            "[profiles.p]\ncorp_id = \"{}\"\n[profiles.p.apps.a]\nagent_id = 218\ncallback_token = {{ file = \"token\" }}\ncallback_aes_key = {{ env = \"MY_CB_KEY\" }}\n",
            set["receive_id"].as_str().unwrap()
        ),
    )
    .unwrap();
    let mut cmd = wecom(&[
        "callback",
        "decrypt",
        "--msg-signature",
        case["msg_signature"].as_str().unwrap(),
        "--timestamp",
        case["timestamp"].as_str().unwrap(),
        "--nonce",
        case["nonce"].as_str().unwrap(),
    ]);
    cmd.env("WECOM_CONFIG", &profile)
        .env("MY_CB_KEY", set["encoding_aes_key"].as_str().unwrap());
    let r = run_with_stdin(cmd, case["encrypted"].as_str().unwrap());
    assert_eq!(r.ok().trim_end(), case["plaintext"].as_str().unwrap());
}

#[test]
fn encrypt_then_decrypt_round_trips_replies_and_deliveries() {
    let v = vectors();
    let set = &v["sets"][1];
    let reply = "<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好 & <ok>]]></Content></xml>";
    let r = run_with_stdin(
        with_keys(
            set,
            &[
                "callback",
                "encrypt",
                "--timestamp",
                "1700000000",
                "--nonce",
                "n1",
            ],
        ),
        reply,
    );
    let sealed = r.ok().trim().to_owned();
    assert!(sealed.starts_with("<xml><Encrypt>"), "{sealed}");
    assert!(
        sealed.contains("<TimeStamp>") && sealed.contains("1700000000"),
        "{sealed}"
    );
    // A sealed reply carries its own signature: decrypt checks it without flags.
    let r = run_with_stdin(with_keys(set, &["--json", "callback", "decrypt"]), &sealed);
    let j = r.json();
    assert_eq!(j["plaintext"], reply);
    assert_eq!(j["verified"], true);

    // A delivery, as WeCom would POST it to a callback URL.
    let msg = "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[menu_1]]></EventKey><AgentID>1000002</AgentID></xml>";
    let j = run_with_stdin(
        with_keys(
            set,
            &["--json", "callback", "encrypt", "--delivery", "1000002"],
        ),
        msg,
    )
    .json();
    let body = j["body"].as_str().unwrap();
    let query = j["query"].as_str().unwrap();
    let r = run_with_stdin(
        with_keys(set, &["--json", "callback", "decrypt", "--query", query]),
        body,
    );
    let j = r.json();
    assert_eq!(j["plaintext"], msg);
    assert_eq!(j["callback"]["type"], "event");
    assert_eq!(j["callback"]["event"], "click");
    assert_eq!(j["callback"]["event_key"], "menu_1");
}

/// Kills the child on drop (the server runs until stopped).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_the_url_check_prints_events_and_replies() {
    let sandbox = Sandbox::start().await.expect("sandbox starts");
    let creds = sandbox.credentials();
    let agentid = creds.apps[0].agentid;
    let token = "ServeTestToken";
    let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    let mut cmd = wecom(&[
        "callback",
        "serve",
        "--port",
        "0",
        "--path",
        "/wecom",
        "--reply-text",
        "got it",
    ]);
    cmd.env("WECOM_CALLBACK_TOKEN", token)
        .env("WECOM_CALLBACK_AES_KEY", key)
        .env("WECOM_CORP_ID", &creds.corpid)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = Child(cmd.spawn().expect("wecom callback serve starts"));
    let stderr = child.0.stderr.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stderr).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = url
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {url:?}"))
        .to_owned();
    assert!(url.ends_with("/wecom"), "{url}");

    let admin = sandbox.admin();
    let config = CallbackConfig {
        url: url.clone(),
        token: token.into(),
        encoding_aes_key: key.into(),
    };
    admin
        .set_app_callback(agentid, Some(config))
        .await
        .expect("the URL check passes");

    let userid = admin
        .corp()
        .members()
        .next()
        .map(|m| m.userid.clone())
        .unwrap();
    let records = admin
        .member_sends_text(&userid, agentid, "ping")
        .await
        .expect("pushed");
    assert_eq!(records.len(), 1);
    assert!(records[0].delivered, "{records:?}");
    assert!(
        records[0].reply.starts_with("<xml><Encrypt>"),
        "a passive reply: {records:?}"
    );
    // The reply decrypts to the text asked for with --reply-text.
    let crypto = wecom::callback::CallbackCrypto::new(token, key, &creds.corpid).unwrap();
    let sealed = wecom::callback::xml::Element::parse(&records[0].reply).unwrap();
    let field = |n: &str| sealed.text_of(n).unwrap_or_default().to_owned();
    let plain = crypto
        .decrypt(
            &field("MsgSignature"),
            &field("TimeStamp"),
            &field("Nonce"),
            &field("Encrypt"),
        )
        .expect("the reply is signed with the Token");
    assert!(plain.contains("got it"), "{plain}");

    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let event: Value = serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(event["type"], "message");
    assert_eq!(event["from"], userid.as_str());
    assert_eq!(event["fields"]["Content"], "ping");
    assert_eq!(event["agent_id"], agentid);
}
