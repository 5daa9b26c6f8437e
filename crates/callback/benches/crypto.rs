//! Callback crypto throughput, one core.
//!
//! * `callback/verify_decrypt`: signature check + AES-256-CBC + header checks of a 300-byte
//!   message (the work `@wecom/crypto`'s `getSignature` + `decrypt` do);
//! * `callback/verify_decrypt_parse`: the whole delivery: envelope XML, verify, decrypt,
//!   typed parse into `Inbound`;
//! * `callback/encrypt_sign`: one passive reply (random prefix, encrypt, sign, reply XML);
//! * `raw/*`: AES-256-CBC and SHA-1 over 16 KiB with the same crates, the machine's ceiling.
//!
//! `crates/callback/bench/compare.sh` runs this and the same work in `@wecom/crypto`.

use std::hint::black_box;

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha1::{Digest, Sha1};
use wecom_callback::{CallbackCrypto, Inbound, Reply};

const TOKEN: &str = "QDG6eK";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORP: &str = "wx5823bf96d3bd56c7";
const TS: &str = "1409659813";
const NONCE: &str = "1372623149";

/// A text message of exactly 300 bytes of XML.
pub fn message_300() -> String {
    let head = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA["
    );
    let tail = "]]></Content><MsgId>4561255354251345929</MsgId><AgentID>218</AgentID></xml>";
    let content = "x".repeat(300 - head.len() - tail.len());
    format!("{head}{content}{tail}")
}

fn callback(c: &mut Criterion) {
    let crypto = CallbackCrypto::new(TOKEN, KEY, CORP).expect("valid key");
    let message = message_300();
    assert_eq!(message.len(), 300);
    let (body, signature) = crypto.seal_delivery(&message, CORP, 218, TS, NONCE);
    let encrypted = wecom_callback::Envelope::parse(body.as_bytes())
        .expect("envelope")
        .encrypt;
    let reply = Reply::text("x".repeat(100)).to_xml("zhangsan", CORP, 1_409_659_813);

    let mut group = c.benchmark_group("callback");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_decrypt", |b| {
        b.iter(|| {
            crypto
                .decrypt(black_box(&signature), TS, NONCE, black_box(&encrypted))
                .expect("decrypts")
        })
    });
    group.bench_function("verify_decrypt_parse", |b| {
        b.iter(|| {
            let plain = crypto
                .open_delivery(black_box(&signature), TS, NONCE, black_box(body.as_bytes()))
                .expect("opens");
            Inbound::parse(&plain).expect("parses")
        })
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| Inbound::parse(black_box(&message)).expect("parses"))
    });
    group.bench_function("envelope_only", |b| {
        b.iter(|| wecom_callback::Envelope::parse(black_box(body.as_bytes())).expect("parses"))
    });
    group.bench_function("encrypt_sign", |b| {
        b.iter(|| crypto.seal_reply(black_box(&reply), TS, NONCE))
    });
    group.finish();
}

fn raw(c: &mut Criterion) {
    let key = [7u8; 32];
    let iv = [9u8; 16];
    let mut buf = vec![0u8; 16 * 1024];
    let mut group = c.benchmark_group("raw");
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.bench_function("aes256cbc_decrypt_16k", |b| {
        b.iter(|| {
            let n = buf.len();
            cbc::Decryptor::<aes::Aes256Dec>::new(&key.into(), &iv.into())
                .decrypt_padded_mut::<NoPadding>(black_box(&mut buf[..n]))
                .map(|p| p.len())
                .expect("whole blocks")
        })
    });
    group.bench_function("aes256cbc_encrypt_16k", |b| {
        b.iter(|| {
            let n = buf.len();
            cbc::Encryptor::<aes::Aes256Enc>::new(&key.into(), &iv.into())
                .encrypt_padded_mut::<NoPadding>(black_box(&mut buf), n)
                .map(|p| p.len())
                .expect("whole blocks")
        })
    });
    group.bench_function("sha1_16k", |b| b.iter(|| Sha1::digest(black_box(&buf))));
    group.finish();
}

criterion_group!(benches, callback, raw);
criterion_main!(benches);
