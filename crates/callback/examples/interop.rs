//! Interoperability with other implementations (used by `bench/compare.sh` against the
//! official `@wecom/crypto`).
//!
//! * `interop gen N`: prints JSON with N random messages encrypted and signed by this crate;
//! * `interop check`: reads such JSON (made by another library) on stdin, verifies and
//!   decrypts every case with this crate, and exits non-zero on any mismatch;
//! * `interop throughput SECS`: prints JSON with operations per second on one core (best
//!   100 ms window within SECS per operation, so a busy shared machine disturbs it less) of
//!   verify+decrypt, verify+decrypt+parse and encrypt+sign, for the same 300-byte message as
//!   `benches/crypto.rs`.

use std::io::Read as _;
use std::process::ExitCode;

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::Rng as _;
use wecom_callback::{CallbackCrypto, Inbound, Reply};

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

/// A text message of exactly 300 bytes of XML (as in `benches/crypto.rs`).
fn message_300() -> String {
    let head = format!(
        "<xml><ToUserName><![CDATA[{RECEIVE_ID}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA["
    );
    let tail = "]]></Content><MsgId>4561255354251345929</MsgId><AgentID>218</AgentID></xml>";
    let content = "x".repeat(300 - head.len() - tail.len());
    format!("{head}{content}{tail}")
}

/// Best operations per second over 100 ms windows during `total`.
fn best_rate(total: Duration, mut op: impl FnMut() -> bool) -> f64 {
    let start = Instant::now();
    let mut best = 0.0f64;
    while start.elapsed() < total {
        let window = Instant::now();
        let mut n = 0u64;
        while window.elapsed() < Duration::from_millis(100) {
            for _ in 0..256 {
                if !op() {
                    return 0.0;
                }
            }
            n += 256;
        }
        best = best.max(n as f64 / window.elapsed().as_secs_f64());
    }
    best
}

fn throughput(crypto: &CallbackCrypto, secs: f64) -> serde_json::Value {
    let (ts, nonce) = ("1409659813", "1372623149");
    let message = message_300();
    let (body, signature) = crypto.seal_delivery(&message, RECEIVE_ID, 218, ts, nonce);
    let encrypted = match wecom_callback::Envelope::parse(body.as_bytes()) {
        Ok(envelope) => envelope.encrypt,
        Err(_) => return serde_json::Value::Null,
    };
    let reply = Reply::text("x".repeat(100)).to_xml("zhangsan", RECEIVE_ID, 1_409_659_813);
    let total = Duration::from_secs_f64(secs);
    let verify_decrypt = best_rate(total, || {
        crypto
            .decrypt(black_box(&signature), ts, nonce, black_box(&encrypted))
            .is_ok_and(|p| p.len() == 300)
    });
    let verify_decrypt_parse = best_rate(total, || {
        crypto
            .open_delivery(black_box(&signature), ts, nonce, black_box(body.as_bytes()))
            .ok()
            .and_then(|p| Inbound::parse(&p).ok())
            .is_some_and(|i| matches!(i, Inbound::Message(_)))
    });
    let encrypt_sign = best_rate(total, || {
        !crypto.seal_reply(black_box(&reply), ts, nonce).is_empty()
    });
    serde_json::json!({"verify_decrypt": verify_decrypt,
        "verify_decrypt_parse": verify_decrypt_parse, "encrypt_sign": encrypt_sign})
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
        Some("throughput") => {
            let secs: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2.0);
            println!("{}", throughput(&crypto, secs));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: interop gen N | interop check < cases.json | interop throughput SECS"
            );
            ExitCode::FAILURE
        }
    }
}
