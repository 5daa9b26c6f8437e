//! Interoperability with other implementations (used by `bench/compare.sh` against the
//! official `@wecom/crypto`).
//!
//! * `interop gen N`: prints JSON with N random messages encrypted and signed by this crate;
//! * `interop check`: reads such JSON (made by another library) on stdin, verifies and
//!   decrypts every case with this crate, and exits non-zero on any mismatch.

use std::io::Read as _;
use std::process::ExitCode;

use rand::Rng as _;
use wecom_callback::CallbackCrypto;

const TOKEN: &str = "QDG6eK";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const RECEIVE_ID: &str = "wx5823bf96d3bd56c7";

fn random_text(rng: &mut impl rand::Rng) -> String {
    const ALPHABET: &[char] = &[
        'a', 'Z', '0', ' ', '<', '>', '&', '"', '\n', 'é', '你', '好', '企', '业', '🙂', ']',
    ];
    let len = rng.random_range(0..1500);
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let crypto = match CallbackCrypto::new(TOKEN, KEY, RECEIVE_ID) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match args.first().map(String::as_str) {
        Some("gen") => {
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
            let mut rng = rand::rng();
            let cases: Vec<serde_json::Value> = (0..n)
                .map(|i| {
                    let plaintext = random_text(&mut rng);
                    let timestamp = (1_700_000_000 + i).to_string();
                    let nonce = rng.random_range(0..u32::MAX).to_string();
                    let encrypt = crypto.encrypt(&plaintext);
                    let msg_signature = crypto.sign(&timestamp, &nonce, &encrypt);
                    serde_json::json!({"timestamp": timestamp, "nonce": nonce, "encrypt": encrypt,
                        "msg_signature": msg_signature, "plaintext": plaintext})
                })
                .collect();
            let doc = serde_json::json!({"token": TOKEN, "encoding_aes_key": KEY,
                "receive_id": RECEIVE_ID, "cases": cases});
            println!("{doc}");
            ExitCode::SUCCESS
        }
        Some("check") => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                eprintln!("cannot read stdin: {e}");
                return ExitCode::FAILURE;
            }
            let doc: serde_json::Value = match serde_json::from_str(&input) {
                Ok(doc) => doc,
                Err(e) => {
                    eprintln!("stdin is not JSON: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let empty = Vec::new();
            let cases = doc["cases"].as_array().unwrap_or(&empty);
            let field =
                |case: &serde_json::Value, k: &str| case[k].as_str().unwrap_or("").to_owned();
            let mut failures = 0;
            for (i, case) in cases.iter().enumerate() {
                let result = crypto.decrypt(
                    &field(case, "msg_signature"),
                    &field(case, "timestamp"),
                    &field(case, "nonce"),
                    &field(case, "encrypt"),
                );
                if result.as_deref() != Ok(field(case, "plaintext").as_str()) {
                    failures += 1;
                    eprintln!("case {i}: {result:?}");
                }
            }
            println!(
                "wecom-callback decrypted {} of {} messages made by the other library",
                cases.len() - failures,
                cases.len()
            );
            if failures == 0 && !cases.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: interop gen N | interop check < cases.json");
            ExitCode::FAILURE
        }
    }
}
