//! Every refusal: typed, with the sample library's code, and no secret in sight.

use std::time::Duration;

use wecom_callback::{CallbackCrypto, CallbackError};

use crate::{KEY_A, RECEIVE_ID_A, TOKEN_A, crypto_a, layout, raw_encrypt_a};

const TS: &str = "1409659813";
const NONCE: &str = "1372623149";

/// Sign and decrypt in one go, so tests reach the stage they target.
fn signed_decrypt(crypto: &CallbackCrypto, encrypted: &str) -> Result<String, CallbackError> {
    let sig = crypto.sign(TS, NONCE, encrypted);
    crypto.decrypt(&sig, TS, NONCE, encrypted)
}

#[test]
fn altered_signatures_are_refused() {
    let crypto = crypto_a();
    let enc = crypto.encrypt("hello");
    let good = crypto.sign(TS, NONCE, &enc);
    assert_eq!(
        crypto.decrypt(&good, TS, NONCE, &enc).as_deref(),
        Ok("hello")
    );
    let mut flipped = good.clone().into_bytes();
    flipped[39] = if flipped[39] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).expect("ascii");
    for bad in [
        flipped.as_str(),
        &good[..39],
        &good.to_uppercase(),
        "",
        &format!("{good}0"),
    ] {
        let err = crypto.decrypt(bad, TS, NONCE, &enc).unwrap_err();
        assert_eq!(err, CallbackError::ValidateSignature, "signature {bad:?}");
        assert_eq!(err.code(), -40001);
    }
    // Any change to what was signed breaks the signature too.
    assert_eq!(
        crypto.decrypt(&good, "1409659814", NONCE, &enc),
        Err(CallbackError::ValidateSignature)
    );
    assert_eq!(
        crypto.decrypt(&good, TS, "other", &enc),
        Err(CallbackError::ValidateSignature)
    );
    let other_token = CallbackCrypto::new("other", KEY_A, RECEIVE_ID_A).expect("valid");
    assert_eq!(
        other_token.decrypt(&good, TS, NONCE, &enc),
        Err(CallbackError::ValidateSignature)
    );
}

#[test]
fn wrong_receive_id_is_refused() {
    let other = CallbackCrypto::new(TOKEN_A, KEY_A, "wwsomeoneelse").expect("valid");
    let enc = crypto_a().encrypt("hello");
    let err = signed_decrypt(&other, &enc).unwrap_err();
    assert_eq!(
        err,
        CallbackError::ValidateReceiveId {
            found: RECEIVE_ID_A.to_owned()
        }
    );
    assert_eq!(err.code(), -40005);
    // An empty receive id (robots) is checked too: it is not a wildcard.
    let robot = CallbackCrypto::new(TOKEN_A, KEY_A, "").expect("valid");
    assert_eq!(signed_decrypt(&robot, &enc).unwrap_err().code(), -40005);
    let robot_msg = robot.encrypt("hi robot");
    assert_eq!(
        signed_decrypt(&robot, &robot_msg).as_deref(),
        Ok("hi robot")
    );
    assert_eq!(
        signed_decrypt(&crypto_a(), &robot_msg).unwrap_err().code(),
        -40005
    );
}

#[test]
fn a_wrong_key_is_refused_as_an_illegal_buffer() {
    let wrong = CallbackCrypto::new(
        TOKEN_A,
        "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
        RECEIVE_ID_A,
    )
    .expect("valid");
    let mut codes = Vec::new();
    for i in 0..20 {
        let enc = crypto_a().encrypt(&format!("message {i}"));
        let err = signed_decrypt(&wrong, &enc).unwrap_err();
        codes.push(err.code());
    }
    // Garbage plaintext: almost always bad padding; in rare cases a padding byte looks
    // right and the length or receive id check refuses it.
    assert!(
        codes.iter().all(|c| [-40008, -40005].contains(c)),
        "{codes:?}"
    );
    assert!(codes.contains(&-40008), "{codes:?}");
}

#[test]
fn bad_keys_are_refused() {
    for (key, why) in [
        (&KEY_A[..42], "42 characters"),
        (&format!("{KEY_A}A")[..], "44 characters"),
        ("", "empty"),
        (
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2*",
            "bad character",
        ),
        (
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2=",
            "padding inside",
        ),
        ("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2é", "non-ASCII"),
    ] {
        let err = CallbackCrypto::new(TOKEN_A, key, RECEIVE_ID_A).unwrap_err();
        assert!(
            matches!(err, CallbackError::IllegalAesKey { .. }),
            "{why}: {err:?}"
        );
        assert_eq!(err.code(), -40004, "{why}");
        assert!(
            err.to_string().contains("43"),
            "the error says what to fix: {err}"
        );
    }
}

#[test]
fn bad_base64_and_bad_lengths_are_refused() {
    let crypto = crypto_a();
    for (enc, code) in [
        ("not base64!", -40010),
        ("AAAA*AAA", -40010),
        ("", -40007),
        ("AAAA", -40007),              // 3 bytes
        (&"A".repeat(44)[..], -40007), // 33 bytes... not a multiple of 16
    ] {
        let err = signed_decrypt(&crypto, enc).unwrap_err();
        assert_eq!(err.code(), code, "{enc:?}: {err}");
    }
}

#[test]
fn forged_headers_and_paddings_are_refused() {
    let crypto = crypto_a();
    let rid = RECEIVE_ID_A.as_bytes();
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("well formed", layout(5, b"hello", rid), 0),
        ("huge length", layout(u32::MAX, b"hello", rid), -40008),
        (
            "negative length as i32",
            layout(0x8000_0000, b"hello", rid),
            -40008,
        ),
        (
            "length one past the end",
            layout(5 + rid.len() as u32 + 1, b"hello", rid),
            -40008,
        ),
        (
            "length eats the receive id",
            layout(5 + rid.len() as u32, b"hello", rid),
            -40005,
        ),
        (
            "short length leaves text in the id",
            layout(4, b"hello", rid),
            -40005,
        ),
        ("non-UTF-8 message", layout(2, &[0xff, 0xfe], rid), -40008),
        (
            "no room for the header",
            {
                let mut v = vec![b'r'; 10];
                v.extend(std::iter::repeat_n(22u8, 22));
                v
            },
            -40008,
        ),
        (
            "padding byte zero",
            {
                let mut v = layout(5, b"hello", rid);
                let n = v.len();
                v[n - 1] = 0;
                v
            },
            -40008,
        ),
        (
            "padding byte 33",
            {
                let mut v = layout(5, b"hello", rid);
                let n = v.len();
                v[n - 1] = 33;
                v
            },
            -40008,
        ),
        (
            "inconsistent padding",
            {
                let mut v = layout(5, b"hello", rid);
                let n = v.len();
                let pad = v[n - 1] as usize;
                if pad > 1 {
                    v[n - 2] ^= 0x55;
                } else {
                    v[n - 1] = 2; // claims two bytes, the one before is not 2
                }
                v
            },
            -40008,
        ),
        ("padding longer than the data", vec![32u8; 32], -40008),
    ];
    for (what, plain, code) in cases {
        let enc = raw_encrypt_a(&plain);
        let result = signed_decrypt(&crypto, &enc);
        match code {
            0 => assert_eq!(result.as_deref(), Ok("hello"), "{what}"),
            code => assert_eq!(result.map_err(|e| e.code()), Err(code), "{what}"),
        }
    }
}

#[test]
fn timestamp_window_uses_the_injected_clock() {
    let crypto = crypto_a()
        .with_timestamp_window(Duration::from_secs(300))
        .with_clock(|| 1_409_659_813 + 200);
    let enc = crypto.encrypt("x");
    let sig = crypto.sign(TS, NONCE, &enc);
    assert_eq!(crypto.decrypt(&sig, TS, NONCE, &enc).as_deref(), Ok("x"));

    let late = crypto.clone().with_clock(|| 1_409_659_813 + 301);
    let err = late.decrypt(&sig, TS, NONCE, &enc).unwrap_err();
    assert_eq!(
        err,
        CallbackError::TimestampOutOfWindow {
            timestamp: TS.to_owned(),
            window_secs: 300
        }
    );
    assert_eq!(err.code(), -40001);
    let early = crypto.clone().with_clock(|| 1_409_659_813 - 301);
    assert!(early.decrypt(&sig, TS, NONCE, &enc).is_err());

    let sig = crypto.sign("soon", NONCE, &enc);
    assert!(matches!(
        crypto.decrypt(&sig, "soon", NONCE, &enc),
        Err(CallbackError::TimestampOutOfWindow { .. })
    ));
    // Without a window, any timestamp is accepted (like the sample library).
    assert_eq!(
        crypto_a().decrypt(&sig, "soon", NONCE, &enc).as_deref(),
        Ok("x")
    );
}

#[test]
fn bodies_over_the_limit_are_refused() {
    let crypto = crypto_a().with_max_body(100);
    let enc = crypto.encrypt(&"x".repeat(200));
    let sig = crypto.sign(TS, NONCE, &enc);
    let err = crypto.decrypt(&sig, TS, NONCE, &enc).unwrap_err();
    assert!(
        matches!(err, CallbackError::BodyTooLarge { limit: 100, .. }),
        "{err:?}"
    );
    let body = format!("<xml><Encrypt>{}</Encrypt></xml>", "A".repeat(120));
    let err = crypto
        .open_delivery(&sig, TS, NONCE, body.as_bytes())
        .unwrap_err();
    assert_eq!(err.code(), -40002);
    assert_eq!(crypto.max_body(), 100);
}

#[test]
fn malformed_envelopes_are_parse_errors() {
    let crypto = crypto_a();
    for body in [
        "",
        "<xml><ToUserName>x</ToUserName></xml>",
        "<xml><Encrypt>abc</Encrypt>",
        "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>&x;</Encrypt></xml>",
        "<xml><Encrypt>&x;</Encrypt></xml>",
        "{\"tousername\": \"x\"}",
        "{\"encrypt\": 5}",
        "{ not json",
    ] {
        let err = crypto
            .open_delivery("sig", TS, NONCE, body.as_bytes())
            .unwrap_err();
        assert!(
            matches!(err, CallbackError::ParseXml { .. }),
            "{body:?}: {err:?}"
        );
        assert_eq!(err.code(), -40002);
    }
    let err = crypto
        .open_delivery("sig", TS, NONCE, &[0xff, 0xfe, 0x00][..])
        .unwrap_err();
    assert_eq!(err.code(), -40002);
}

#[test]
fn no_secret_in_debug_or_errors() {
    let crypto = crypto_a();
    let debug = format!("{crypto:?}");
    assert!(!debug.contains(TOKEN_A), "{debug}");
    assert!(!debug.contains(KEY_A), "{debug}");
    assert!(
        debug.contains(RECEIVE_ID_A),
        "receive id is not secret and helps: {debug}"
    );
    // Key errors never echo the key.
    let bad_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2*";
    let err = CallbackCrypto::new(TOKEN_A, bad_key, RECEIVE_ID_A).unwrap_err();
    assert!(!err.to_string().contains("jWmYm7qr5n"), "{err}");
    assert!(!format!("{err:?}").contains("jWmYm7qr5n"), "{err:?}");
    // Errors after decryption never contain the decrypted text.
    let secret_text = "top secret payload";
    let enc = crypto.encrypt(secret_text);
    let other = CallbackCrypto::new(TOKEN_A, KEY_A, "wwother").expect("valid");
    let err = signed_decrypt(&other, &enc).unwrap_err();
    assert!(!err.to_string().contains(secret_text), "{err}");
}

#[test]
fn error_codes_cover_the_sample_library() {
    let cases = [
        (CallbackError::ValidateSignature, -40001),
        (CallbackError::IllegalAesKey { reason: "x" }, -40004),
        (
            CallbackError::ValidateReceiveId { found: "x".into() },
            -40005,
        ),
        (CallbackError::Encrypt { reason: "x" }, -40006),
        (CallbackError::Decrypt { len: 3 }, -40007),
        (CallbackError::IllegalBuffer { reason: "x" }, -40008),
        (CallbackError::DecodeBase64 { reason: "x".into() }, -40010),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err}");
        assert!(err.to_string().contains(&code.to_string()), "{err}");
    }
}

#[test]
fn the_url_check_answers_only_echostr_shaped_plaintexts() {
    let crypto = crypto_a();
    let check = |plaintext: &str| {
        let enc = crypto.encrypt(plaintext);
        let sig = crypto.sign(TS, NONCE, &enc);
        crypto.verify_url(&sig, TS, NONCE, &enc)
    };
    for good in [
        "1616140317555161061",
        "7",
        "AbC-_.~+/=9",
        &"9".repeat(wecom_callback::MAX_ECHOSTR),
    ] {
        assert_eq!(check(good).as_deref(), Ok(good), "{good:?} is an echostr");
    }
    let delivery =
        "<xml><ToUserName><![CDATA[ww]]></ToUserName><Content><![CDATA[secret]]></Content></xml>";
    for bad in [
        delivery,
        r#"{"msgtype":"text","text":{"content":"secret"}}"#,
        "",
        "two words",
        "line\nbreak",
        "你好",
        &"9".repeat(wecom_callback::MAX_ECHOSTR + 1),
    ] {
        let error = check(bad).expect_err("not an echostr");
        assert!(
            matches!(error, CallbackError::NotAnEchostr { len, .. } if len == bad.len()),
            "{bad:?}: {error:?}"
        );
        assert_eq!(error.code(), -40002);
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}
