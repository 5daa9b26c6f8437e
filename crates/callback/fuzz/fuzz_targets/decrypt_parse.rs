//! Fuzz decrypt + parse: arbitrary bytes as a delivery body, as an encrypted text, as a
//! decrypted plaintext, and (through a valid encryption) as the message inside.
//! Run: `cd crates/callback/fuzz && cargo fuzz run decrypt_parse` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wecom_callback::{CallbackCrypto, Envelope, Inbound};

const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

fuzz_target!(|data: &[u8]| {
    let Ok(crypto) = CallbackCrypto::new("QDG6eK", KEY, "wx5823bf96d3bd56c7") else {
        return;
    };
    // The body as WeCom would POST it, checked with a signature computed over its Encrypt.
    if let Ok(envelope) = Envelope::parse(data) {
        let sig = crypto.sign("1", "2", &envelope.encrypt);
        if let Ok(plain) = crypto.open_delivery(&sig, "1", "2", data) {
            let _ = Inbound::parse(&plain);
        }
    }
    let text = String::from_utf8_lossy(data);
    // The bytes as the encrypted text, and as a plaintext.
    if let Ok(plain) = crypto.decrypt_unverified(&text) {
        let _ = Inbound::parse(&plain);
    }
    if let Ok(inbound) = Inbound::parse(&text) {
        // Whatever parses renders and parses again.
        let _ = Inbound::parse(&inbound.to_xml());
    }
    // Valid encryption of arbitrary text must come back intact.
    let enc = crypto.encrypt(&text);
    assert_eq!(
        crypto.decrypt_unverified(&enc).ok().as_deref(),
        Some(&*text)
    );
});
