//! A test double of the Finance SDK (test code only; the crate ships no SDK).
//!
//! It keeps plaintext messages with their seqs and serves them as `GetChatData` would: the random
//! key RSA-encrypted (PKCS#1 v1.5) with the public half of a test key and base64'd, the message
//! "encrypted" by the double's own reversible scheme (`<random key>|<base64 of the JSON>`), which
//! only its own `decrypt_data` undoes. It counts its calls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::rand_core::OsRng;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use wecom_core_auth::transport::BoxFuture;
use wecom_msgaudit::finance::{FinanceError, FinanceSdk, MediaChunk};

/// The test key of version 1 (PKCS#1 PEM).
pub(crate) const KEY_V1: &str = include_str!("test_key_v1.pem");
/// Another test key, of version 2 (PKCS#8 PEM).
pub(crate) const KEY_V2: &str = include_str!("test_key_v2_pkcs8.pem");

/// Encrypts `random_key` for version-1 readers, as WeCom does: RSA-PKCS#1 v1.5, base64.
pub(crate) fn encrypt_for(pem: &str, random_key: &str) -> String {
    let private = if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem).expect("test key")
    } else {
        use rsa::pkcs8::DecodePrivateKey as _;
        RsaPrivateKey::from_pkcs8_pem(pem).expect("test key")
    };
    let public = RsaPublicKey::from(&private);
    let cipher = public
        .encrypt(&mut OsRng, Pkcs1v15Encrypt, random_key.as_bytes())
        .expect("encrypt");
    B64.encode(cipher)
}

#[derive(Default)]
struct Inner {
    messages: Vec<(u64, u32, Value)>,
    /// Serve every message again, whatever seq is asked (a misbehaving SDK).
    replay: bool,
    media: HashMap<String, Vec<u8>>,
    /// Media that never finishes and never moves its index.
    stuck_media: bool,
}

/// The double.
#[derive(Default)]
pub(crate) struct FakeFinanceSdk {
    inner: Mutex<Inner>,
    pub(crate) get_chat_data_calls: AtomicUsize,
    pub(crate) decrypt_calls: AtomicUsize,
    pub(crate) media_calls: AtomicUsize,
}

impl FakeFinanceSdk {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Archives a text message (next seq) encrypted for key `version`; returns its seq.
    pub(crate) fn push_text(&self, version: u32, from: &str, content: &str) -> u64 {
        self.with(|i| {
            let seq = i.messages.len() as u64 + 1;
            i.messages.push((
                seq,
                version,
                json!({
                    "msgid": format!("msg{seq}"),
                    "action": "send",
                    "from": from,
                    "tolist": ["wmCustomer"],
                    "roomid": "",
                    "msgtime": 1_700_000_000_000i64 + seq as i64,
                    "msgtype": "text",
                    "text": {"content": content},
                }),
            ));
            seq
        })
    }

    /// Archives a message given as JSON (next seq) for key version 1.
    pub(crate) fn push_json(&self, message: Value) -> u64 {
        self.with(|i| {
            let seq = i.messages.len() as u64 + 1;
            i.messages.push((seq, 1, message));
            seq
        })
    }

    pub(crate) fn replay(&self, on: bool) {
        self.with(|i| i.replay = on);
    }

    pub(crate) fn add_media(&self, id: &str, bytes: Vec<u8>) {
        self.with(|i| {
            i.media.insert(id.to_owned(), bytes);
        });
    }

    pub(crate) fn stuck_media(&self, on: bool) {
        self.with(|i| i.stuck_media = on);
    }
}

impl FinanceSdk for FakeFinanceSdk {
    fn get_chat_data(
        &self,
        seq: u64,
        limit: u32,
        _timeout_secs: u32,
    ) -> BoxFuture<'_, Result<String, FinanceError>> {
        self.get_chat_data_calls.fetch_add(1, Ordering::SeqCst);
        let page: Vec<Value> = self.with(|i| {
            i.messages
                .iter()
                .filter(|(s, _, _)| i.replay || *s > seq)
                .take(limit as usize)
                .map(|(s, version, m)| {
                    let random_key = format!("randomkey{s}");
                    let pem = if *version == 2 { KEY_V2 } else { KEY_V1 };
                    json!({
                        "seq": s,
                        "msgid": m["msgid"],
                        "publickey_ver": version,
                        "encrypt_random_key": encrypt_for(pem, &random_key),
                        "encrypt_chat_msg": format!("{random_key}|{}", B64.encode(m.to_string())),
                    })
                })
                .collect()
        });
        let text = json!({"errcode": 0, "errmsg": "ok", "chatdata": page}).to_string();
        Box::pin(async move { Ok(text) })
    }

    fn decrypt_data(
        &self,
        random_key: &str,
        encrypt_chat_msg: &str,
    ) -> Result<String, FinanceError> {
        self.decrypt_calls.fetch_add(1, Ordering::SeqCst);
        let (key, body) = encrypt_chat_msg
            .split_once('|')
            .ok_or_else(|| FinanceError::Json("not the double's format".into()))?;
        if key != random_key {
            return Err(FinanceError::Sdk {
                call: "DecryptData",
                code: -1,
                message: "wrong random key".into(),
            });
        }
        let bytes = B64
            .decode(body)
            .map_err(|e| FinanceError::Json(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| FinanceError::Json(e.to_string()))
    }

    fn get_media_data<'a>(
        &'a self,
        index: &'a str,
        sdk_file_id: &'a str,
        _timeout_secs: u32,
    ) -> BoxFuture<'a, Result<MediaChunk, FinanceError>> {
        self.media_calls.fetch_add(1, Ordering::SeqCst);
        let chunk = self.with(|i| {
            if i.stuck_media {
                return Ok(MediaChunk {
                    data: vec![0],
                    next_index: "same".into(),
                    is_finish: false,
                });
            }
            let bytes = i.media.get(sdk_file_id).ok_or(FinanceError::Sdk {
                call: "GetMediaData",
                code: -1,
                message: "unknown sdkfileid".into(),
            })?;
            let start: usize = if index.is_empty() {
                0
            } else {
                index
                    .parse()
                    .map_err(|_| FinanceError::Json("bad index".into()))?
            };
            let end = (start + 3).min(bytes.len());
            Ok(MediaChunk {
                data: bytes[start..end].to_vec(),
                next_index: end.to_string(),
                is_finish: end == bytes.len(),
            })
        });
        Box::pin(async move { chunk })
    }
}
