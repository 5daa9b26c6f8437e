//! Every case of tests/vectors/callback-crypto.json (except the JS-SDK signature, which is
//! core-auth's).

use wecom_callback::{CallbackCrypto, Inbound, MessageBody};

use crate::{lenient_key, vectors};

fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} missing"))
}

#[test]
fn every_vector_case_verifies_decrypts_and_reencrypts() {
    let vectors = vectors();
    let sets = vectors["sets"].as_array().expect("sets");
    let mut cases_checked = 0;
    let mut byte_for_byte = 0;
    for set in sets {
        let crypto = CallbackCrypto::new(
            s(set, "token"),
            s(set, "encoding_aes_key"),
            s(set, "receive_id"),
        )
        .expect("vector key is valid");
        if let Some(hex) = set["aes_key_hex"].as_str() {
            let key = lenient_key(s(set, "encoding_aes_key"));
            let ours: String = key.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(ours, hex, "set {}: key decoding", s(set, "name"));
        }
        for case in set["cases"].as_array().expect("cases") {
            let (ts, nonce, enc, sig, plain) = (
                s(case, "timestamp"),
                s(case, "nonce"),
                s(case, "encrypted"),
                s(case, "msg_signature"),
                s(case, "plaintext"),
            );
            let what = format!("set {} case {}", s(set, "name"), s(case, "kind"));
            assert_eq!(crypto.sign(ts, nonce, enc), sig, "{what}: signature");
            let decrypted = match s(case, "kind") {
                "url_verify" => crypto.verify_url(sig, ts, nonce, enc),
                _ => crypto.decrypt(sig, ts, nonce, enc),
            };
            assert_eq!(decrypted.as_deref(), Ok(plain), "{what}: decrypt");

            // The same text inside a delivery envelope, XML and JSON.
            let xml_body = format!(
                "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>",
                s(set, "receive_id")
            );
            assert_eq!(
                crypto
                    .open_delivery(sig, ts, nonce, xml_body.as_bytes())
                    .as_deref(),
                Ok(plain),
                "{what}: XML envelope"
            );
            let json_body = serde_json::json!({"tousername": s(set, "receive_id"), "encrypt": enc, "agentid": 218}).to_string();
            assert_eq!(
                crypto
                    .open_delivery(sig, ts, nonce, json_body.as_bytes())
                    .as_deref(),
                Ok(plain),
                "{what}: JSON envelope"
            );

            if let Some(prefix) = case["random_prefix_ascii"].as_str() {
                let prefix: [u8; 16] = prefix.as_bytes().try_into().expect("16-byte prefix");
                let ours = crypto.encrypt_with_prefix(plain, &prefix);
                assert_eq!(ours, enc, "{what}: byte-for-byte encryption");
                assert_eq!(
                    crypto.sign(ts, nonce, &ours),
                    sig,
                    "{what}: signature of ours"
                );
                byte_for_byte += 1;
            }
            cases_checked += 1;
        }
    }
    assert_eq!(cases_checked, 4, "all four cases were checked");
    assert_eq!(
        byte_for_byte, 2,
        "both fixed-prefix encryptions were checked"
    );
}

#[test]
fn vector_messages_parse_as_text_messages() {
    let vectors = vectors();
    let mut seen = Vec::new();
    for set in vectors["sets"].as_array().expect("sets") {
        for case in set["cases"].as_array().expect("cases") {
            if case["kind"] != "message" {
                continue;
            }
            let inbound = Inbound::parse(s(case, "plaintext")).expect("parses");
            let Inbound::Message(msg) = inbound else {
                panic!("expected a message, got {inbound:?}")
            };
            assert_eq!(msg.header.to_user_name, s(set, "receive_id"));
            let MessageBody::Text { content } = &msg.body else {
                panic!("expected text")
            };
            seen.push((content.clone(), msg.msg_id.clone(), msg.header.agent_id));
        }
    }
    assert_eq!(
        seen,
        vec![
            (
                "hello".to_owned(),
                "4561255354251345929".to_owned(),
                Some(218)
            ),
            ("你好".to_owned(), "1456453720".to_owned(), Some(1000002)),
        ]
    );
}

#[test]
fn random_prefix_encryptions_differ_but_decrypt_to_the_same_text() {
    let crypto = crate::crypto_a();
    let a = crypto.encrypt("<xml>same</xml>");
    let b = crypto.encrypt("<xml>same</xml>");
    assert_ne!(a, b, "the random prefix makes each ciphertext unique");
    assert_eq!(
        crypto.decrypt_unverified(&a).as_deref(),
        Ok("<xml>same</xml>")
    );
    assert_eq!(
        crypto.decrypt_unverified(&b).as_deref(),
        Ok("<xml>same</xml>")
    );
}
