//! Never panic, whatever arrives; and what we encrypt always comes back.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use wecom_callback::{CallbackError, Envelope, Header, Inbound, Message, MessageBody};

use crate::{RECEIVE_ID_A, crypto_a, layout, raw_encrypt_a};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let crypto = crypto_a();
        let text = String::from_utf8_lossy(&bytes);
        let _ = crypto.decrypt_unverified(&text);
        let _ = crypto.decrypt_unverified(&STANDARD.encode(&bytes));
        let _ = crypto.open_delivery("sig", "1", "2", &bytes);
        let _ = Envelope::parse(&bytes);
        let _ = Inbound::parse(&text);
        let _ = wecom_callback::xml::Element::parse(&text);
    }

    #[test]
    fn xml_like_garbage_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("<xml>"), Just("</xml>"), Just("<MsgType>"), Just("</MsgType>"), Just("event"), Just("text"),
            Just("<Event>"), Just("</Event>"), Just("change_contact"), Just("<ChangeType>"), Just("</ChangeType>"),
            Just("create_user"), Just("<![CDATA["), Just("]]>"), Just("&lt;"), Just("&x;"), Just("&#99999999;"),
            Just("<!DOCTYPE x>"), Just("<?xml version=\"1.0\"?>"), Just("<!--"), Just("-->"), Just("<a/>"),
            Just("<CreateTime>"), Just("</CreateTime>"), Just("1700000000"), Just("<"), Just(">"), Just("\u{0}"),
        ], 0..40)) {
        let text: String = parts.concat();
        let _ = Inbound::parse(&text);
        let _ = Envelope::parse(text.as_bytes());
    }

    #[test]
    fn encrypt_then_decrypt_round_trips(text in "\\PC{0,400}") {
        let crypto = crypto_a();
        let enc = crypto.encrypt(&text);
        let sig = crypto.sign("1700000000", "n", &enc);
        prop_assert_eq!(crypto.decrypt(&sig, "1700000000", "n", &enc), Ok(text.clone()));
        let (body, sig) = crypto.seal_delivery(&text, RECEIVE_ID_A, 1, "1700000000", "n");
        prop_assert_eq!(crypto.open_delivery(&sig, "1700000000", "n", body.as_bytes()), Ok(text));
    }

    #[test]
    fn truncated_ciphertexts_are_refused(text in "\\PC{0,200}", cut in 1usize..64) {
        let crypto = crypto_a();
        let enc = crypto.encrypt(&text);
        // Padding is optional (as in the official libraries): cut real data.
        let data = enc.trim_end_matches('=');
        let cut = cut.min(data.len());
        let truncated = &data[..data.len() - cut];
        let sig = crypto.sign("1", "2", truncated);
        let result = crypto.decrypt(&sig, "1", "2", truncated);
        prop_assert!(result.is_err(), "truncated by {} chars still decrypted", cut);
        let code = result.map_err(|e| e.code()).unwrap_err();
        prop_assert!([-40010, -40007, -40008, -40005].contains(&code), "code {}", code);
        // Truncating whole 16-byte blocks keeps base64 valid: padding or length must catch it.
        let bytes = STANDARD.decode(&enc).expect("ours is base64");
        if bytes.len() > 16 {
            let shorter = STANDARD.encode(&bytes[..bytes.len() - 16]);
            prop_assert!(crypto.decrypt_unverified(&shorter).is_err());
        }
    }

    #[test]
    fn altered_ciphertexts_are_refused(text in "\\PC{1,200}", at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let crypto = crypto_a();
        let enc = crypto.encrypt(&text);
        let sig = crypto.sign("1", "2", &enc);
        let mut bytes = STANDARD.decode(&enc).expect("ours is base64");
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        let altered = STANDARD.encode(&bytes);
        // With the original signature: always refused, before any decryption.
        prop_assert_eq!(crypto.decrypt(&sig, "1", "2", &altered), Err(CallbackError::ValidateSignature));
        // Without the signature check it must still never panic (CBC alone is malleable).
        let _ = crypto.decrypt_unverified(&altered);
    }

    #[test]
    fn bad_base64_is_refused(text in "[A-Za-z0-9+/=!*. -]{1,200}") {
        let crypto = crypto_a();
        let sig = crypto.sign("1", "2", &text);
        if let Err(e) = crypto.decrypt(&sig, "1", "2", &text) {
            prop_assert!([-40010, -40007, -40008, -40005].contains(&e.code()), "{}", e);
        }
    }

    #[test]
    fn forged_length_fields_never_panic(len_field in any::<u32>(), msg in proptest::collection::vec(any::<u8>(), 0..100)) {
        let crypto = crypto_a();
        let plain = layout(len_field, &msg, RECEIVE_ID_A.as_bytes());
        let result = crypto.decrypt_unverified(&raw_encrypt_a(&plain));
        let fits = len_field as usize == msg.len();
        match std::str::from_utf8(&msg) {
            Ok(s) if fits => prop_assert_eq!(result.clone(), Ok(s.to_owned())),
            _ => prop_assert!(result.is_err()),
        }
        if len_field as usize > msg.len() + RECEIVE_ID_A.len() {
            prop_assert_eq!(result.map_err(|e| e.code()), Err(-40008));
        }
    }

    #[test]
    fn text_messages_round_trip_through_xml(content in "\\PC{0,200}", from in "[a-zA-Z0-9_@.-]{1,64}", msg_id in "[0-9]{1,19}", time in 0i64..=4_102_444_800) {
        let value = Inbound::Message(Message {
            header: Header { to_user_name: "ww1".into(), from_user_name: from, create_time: time, agent_id: Some(1) },
            msg_id,
            body: MessageBody::Text { content },
        });
        let xml = value.to_xml();
        prop_assert_eq!(Inbound::parse(&xml), Ok(value));
    }
}
