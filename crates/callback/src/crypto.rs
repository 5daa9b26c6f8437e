//! WeCom's callback crypto (the protocol of the sample library WXBizMsgCrypt), done carefully.
//!
//! * signature: lowercase hex `sha1` of `token`, `timestamp`, `nonce` and the encrypted text,
//!   sorted bytewise and concatenated; compared in constant time;
//! * key: `base64(EncodingAESKey + "=")`, 32 bytes; AES-256-CBC with the IV = the key's first 16 bytes;
//! * plaintext: 16 random bytes, the message length (4 bytes, big-endian), the message, the
//!   receive id; PKCS#7-padded to a multiple of **32** bytes; the ciphertext travels as base64.
//!
//! The AES key schedule is computed once in [`CallbackCrypto::new`] and reused; decrypting a
//! message costs one allocation (the base64-decoded buffer, which becomes the returned `String`).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use aes::{Aes256Dec, Aes256Enc};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::error::{CallbackError, clip};
use crate::xml::{Doc, push_cdata, push_cdata_value};

/// Standard base64, lenient like the official libraries: padding optional, non-zero trailing
/// bits accepted (many real EncodingAESKeys have them), always padded on output.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// PKCS#7 block size used by WeCom (32, not AES's 16).
const PAD_BLOCK: usize = 32;
/// Random prefix + length field.
const HEADER: usize = 20;

/// Default limit on a body or an encrypted text: 1 MiB (WeCom's callbacks are a few KiB).
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// The longest decrypted echostr [`CallbackCrypto::verify_url`] answers.
///
/// WeCom's pages describe the echostr only as "加密的字符串" (an encrypted string) whose `msg`
/// is to be answered as is; they say nothing of its length or alphabet. The ones WeCom sends
/// (and the official test vector, `1616140317555161061`) are 18-20 decimal digits. This crate
/// answers only a short random-looking string: 1 to 128 bytes, each an ASCII letter, digit or
/// one of `-_.~+/=`. A decrypted callback (an XML or JSON document) can never pass.
pub const MAX_ECHOSTR: usize = 128;

/// Whether a decrypted echostr is shaped like one; see [`MAX_ECHOSTR`].
fn is_echostr(text: &str) -> bool {
    (1..=MAX_ECHOSTR).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b))
}

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The format of a delivery: XML (the default for apps) or JSON (robots, some newer callbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<xml><ToUserName/><AgentID/><Encrypt/></xml>`
    Xml,
    /// `{"tousername": .., "encrypt": .., "agentid": ..}`
    Json,
}

/// The outer, unencrypted envelope of a POSTed delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `ToUserName` / `tousername`: the corpid (empty when absent).
    pub to_user_name: String,
    /// `AgentID` / `agentid`, as text (absent for contact and some other callbacks).
    pub agent_id: Option<String>,
    /// The base64 ciphertext (`Encrypt` / `encrypt`).
    pub encrypt: String,
    /// Which variant the body used.
    pub format: Format,
}

impl Envelope {
    /// Parse a delivery body, XML or JSON (detected by its first non-blank byte).
    pub fn parse(body: &[u8]) -> Result<Envelope, CallbackError> {
        let raw = RawEnvelope::parse(body)?;
        Ok(Envelope {
            to_user_name: raw.to_user_name.into_owned(),
            agent_id: raw.agent_id.map(Cow::into_owned),
            encrypt: raw.encrypt.into_owned(),
            format: raw.format,
        })
    }
}

/// A verified, decrypted delivery: see [`CallbackCrypto::open_delivery_detailed`].
#[derive(Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Which variant the body used (answer in the same one).
    pub format: Format,
    /// The envelope's `AgentID` / `agentid`, as text. Not signed: see
    /// [`CallbackCrypto::open_delivery_detailed`].
    pub envelope_agent_id: Option<String>,
    /// The decrypted message.
    pub plaintext: String,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The plaintext may carry personal data: only its size is shown.
        f.debug_struct("Delivery")
            .field("format", &self.format)
            .field("envelope_agent_id", &self.envelope_agent_id)
            .field("plaintext_len", &self.plaintext.len())
            .finish()
    }
}

/// [`Envelope`] borrowing from the body (no copy of the ciphertext on the hot path).
struct RawEnvelope<'a> {
    to_user_name: Cow<'a, str>,
    agent_id: Option<Cow<'a, str>>,
    encrypt: Cow<'a, str>,
    format: Format,
}

impl<'a> RawEnvelope<'a> {
    fn parse(body: &'a [u8]) -> Result<RawEnvelope<'a>, CallbackError> {
        let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
        if first == Some(b'{') {
            #[derive(serde::Deserialize)]
            struct Json<'a> {
                #[serde(default, borrow)]
                tousername: Option<Cow<'a, str>>,
                #[serde(borrow)]
                encrypt: Cow<'a, str>,
                #[serde(default)]
                agentid: Option<serde_json::Value>,
            }
            let json: Json<'a> = serde_json::from_slice(body)
                .map_err(|e| CallbackError::parse(format!("bad JSON envelope: {e}")))?;
            let agent_id = match json.agentid {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(Cow::Owned(s)),
                Some(serde_json::Value::Number(n)) => Some(Cow::Owned(n.to_string())),
                Some(_) => {
                    return Err(CallbackError::parse(
                        "JSON envelope: agentid is not a number",
                    ));
                }
            };
            return Ok(RawEnvelope {
                to_user_name: json.tousername.unwrap_or_default(),
                agent_id,
                encrypt: json.encrypt,
                format: Format::Json,
            });
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| CallbackError::parse("the body is neither UTF-8 XML nor JSON"))?;
        let mut doc = Doc::parse(text)?;
        let mut take = |name: &str| doc.take_root_child_text(name);
        let encrypt = take("Encrypt")
            .ok_or_else(|| CallbackError::parse("the XML envelope has no <Encrypt> element"))?;
        Ok(RawEnvelope {
            to_user_name: take("ToUserName").unwrap_or_default(),
            agent_id: take("AgentID"),
            encrypt,
            format: Format::Xml,
        })
    }
}

/// Verifies, decrypts, encrypts and signs WeCom callbacks for one app (one Token,
/// EncodingAESKey and receive id).
///
/// Cheap to clone (the key schedule is copied, the clock is shared). `Debug` shows no secret.
///
/// ```
/// use wecom_callback::CallbackCrypto;
/// let crypto = CallbackCrypto::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")?;
/// let echo = crypto.verify_url(
///     "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
///     "1409659589",
///     "263014780",
///     "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
/// )?;
/// assert_eq!(echo, "1616140317555161061");
/// // A reply WeCom will accept:
/// let reply = crypto.seal_reply("<xml>...</xml>", "1409659590", "42");
/// assert!(reply.starts_with("<xml><Encrypt>"));
/// # Ok::<(), wecom_callback::CallbackError>(())
/// ```
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    enc: Aes256Enc,
    dec: Aes256Dec,
    iv: [u8; 16],
    receive_id: String,
    window: Option<Duration>,
    clock: Option<Clock>,
    max_body: usize,
}

impl fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("token", &"<redacted>")
            .field("encoding_aes_key", &"<redacted>")
            .field("receive_id", &self.receive_id)
            .field("timestamp_window", &self.window)
            .field("max_body", &self.max_body)
            .finish()
    }
}

impl CallbackCrypto {
    /// Set up for one app.
    ///
    /// * `token`: the Token from the app's "receive messages" settings;
    /// * `encoding_aes_key`: the 43-character EncodingAESKey from the same page;
    /// * `receive_id`: the corpid for a self-built app (the suite id for a third-party suite,
    ///   `""` for a robot). Every decrypted message's receive id must equal it.
    ///
    /// Fails with [`CallbackError::IllegalAesKey`] unless the key is 43 base64 characters that
    /// decode to 32 bytes.
    pub fn new(
        token: impl Into<String>,
        encoding_aes_key: &str,
        receive_id: impl Into<String>,
    ) -> Result<Self, CallbackError> {
        if encoding_aes_key.len() != 43 {
            return Err(CallbackError::IllegalAesKey {
                reason: "it must be exactly 43 characters long",
            });
        }
        let key = B64
            .decode(encoding_aes_key)
            .map_err(|_| CallbackError::IllegalAesKey {
                reason: "it is not base64 (letters, digits, '+' and '/')",
            })?;
        if key.len() != 32 {
            return Err(CallbackError::IllegalAesKey {
                reason: "it does not decode to 32 bytes",
            });
        }
        let enc = Aes256Enc::new_from_slice(&key).map_err(|_| CallbackError::IllegalAesKey {
            reason: "it does not decode to 32 bytes",
        })?;
        let dec = Aes256Dec::new_from_slice(&key).map_err(|_| CallbackError::IllegalAesKey {
            reason: "it does not decode to 32 bytes",
        })?;
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&key[..16]);
        Ok(CallbackCrypto {
            token: token.into(),
            enc,
            dec,
            iv,
            receive_id: receive_id.into(),
            window: None,
            clock: None,
            max_body: DEFAULT_MAX_BODY,
        })
    }

    /// Refuse requests whose `timestamp` is further than `window` from now (replays).
    /// Off by default here, like WeCom's sample library (so tools can open old captures); the
    /// [router](crate::router) turns on a 5-minute window unless told otherwise.
    pub fn with_timestamp_window(mut self, window: Duration) -> Self {
        self.window = Some(window);
        self
    }

    /// No timestamp window (the default of `CallbackCrypto::new`).
    pub fn without_timestamp_window(mut self) -> Self {
        self.window = None;
        self
    }

    /// The timestamp window, if any.
    pub fn timestamp_window(&self) -> Option<Duration> {
        self.window
    }

    /// Now, in Unix seconds, by this crypto's clock (see [`with_clock`](Self::with_clock)).
    pub fn now(&self) -> i64 {
        match &self.clock {
            Some(clock) => clock(),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        }
    }

    /// Replace the clock used by the timestamp window (Unix seconds); for tests.
    pub fn with_clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(now));
        self
    }

    /// Limit the size of bodies and encrypted texts (default [`DEFAULT_MAX_BODY`]).
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The receive id every message must carry.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// The body size limit in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The signature of an encrypted text: lowercase hex
    /// `sha1(sort([token, timestamp, nonce, encrypted]).concat())`.
    pub fn sign(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        let hex = self.signature_hex(timestamp, nonce, encrypted);
        // Hex digits are ASCII.
        hex.iter().map(|&b| b as char).collect()
    }

    fn signature_hex(&self, timestamp: &str, nonce: &str, encrypted: &str) -> [u8; 40] {
        let mut parts = [
            self.token.as_bytes(),
            timestamp.as_bytes(),
            nonce.as_bytes(),
            encrypted.as_bytes(),
        ];
        parts.sort_unstable();
        let mut sha = Sha1::new();
        for part in parts {
            sha.update(part);
        }
        let digest = sha.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 40];
        for (i, byte) in digest.iter().enumerate() {
            out[2 * i] = HEX[usize::from(byte >> 4)];
            out[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
        }
        out
    }

    /// Check the size, the signature (in constant time) and, if configured, the timestamp
    /// window of a request. [`decrypt`](Self::decrypt) does this first; use it alone to
    /// authenticate before spending more work.
    pub fn verify(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypted: &str,
    ) -> Result<(), CallbackError> {
        if encrypted.len() > self.max_body {
            return Err(CallbackError::BodyTooLarge {
                len: encrypted.len(),
                limit: self.max_body,
            });
        }
        let expected = self.signature_hex(timestamp, nonce, encrypted);
        if !bool::from(expected.as_slice().ct_eq(msg_signature.as_bytes())) {
            return Err(CallbackError::ValidateSignature);
        }
        if let Some(window) = self.window {
            let now = self.now();
            let within = timestamp
                .parse::<i64>()
                .ok()
                .map(|ts| ts.abs_diff(now) <= window.as_secs());
            if within != Some(true) {
                return Err(CallbackError::TimestampOutOfWindow {
                    timestamp: clip(timestamp, 20),
                    window_secs: window.as_secs(),
                });
            }
        }
        Ok(())
    }

    /// Answer WeCom's URL check: verify the `echostr` and return its plaintext, which is the
    /// exact body to send back (no quotes, newline or BOM).
    ///
    /// Only a plaintext shaped like an echostr is returned (see [`MAX_ECHOSTR`]): anything
    /// else is refused with [`CallbackError::NotAnEchostr`], so a captured delivery's
    /// `Encrypt` replayed as `?echostr=` (its signature is valid) never gets its plaintext
    /// answered.
    pub fn verify_url(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        echostr: &str,
    ) -> Result<String, CallbackError> {
        let plaintext = self.decrypt(msg_signature, timestamp, nonce, echostr)?;
        if is_echostr(&plaintext) {
            Ok(plaintext)
        } else {
            Err(CallbackError::NotAnEchostr {
                len: plaintext.len(),
                max: MAX_ECHOSTR,
            })
        }
    }

    /// Verify and decrypt one encrypted text (the `Encrypt` field or the `echostr`).
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypted_b64: &str,
    ) -> Result<String, CallbackError> {
        self.verify(msg_signature, timestamp, nonce, encrypted_b64)?;
        self.decrypt_unverified(encrypted_b64)
    }

    /// Verify and decrypt a POSTed delivery (XML or JSON envelope); returns the plaintext
    /// message (XML for app callbacks), ready for [`Inbound::parse`](crate::Inbound::parse).
    pub fn open_delivery(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: impl AsRef<[u8]>,
    ) -> Result<String, CallbackError> {
        self.open_delivery_with_format(msg_signature, timestamp, nonce, body.as_ref())
            .map(|(_, plaintext)| plaintext)
    }

    /// Like [`open_delivery`](Self::open_delivery), also telling whether the envelope was XML
    /// or JSON (answer in the same format).
    pub fn open_delivery_with_format(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<(Format, String), CallbackError> {
        if body.len() > self.max_body {
            return Err(CallbackError::BodyTooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        let envelope = RawEnvelope::parse(body)?;
        let plaintext = self.decrypt(msg_signature, timestamp, nonce, &envelope.encrypt)?;
        Ok((envelope.format, plaintext))
    }

    /// Like [`open_delivery`](Self::open_delivery), also returning what the envelope said
    /// outside the ciphertext (its format and `AgentID`).
    ///
    /// The envelope's `AgentID` is **not** covered by the signature (only the `Encrypt` text
    /// is): trust the plaintext's own `AgentID` first.
    pub fn open_delivery_detailed(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<Delivery, CallbackError> {
        if body.len() > self.max_body {
            return Err(CallbackError::BodyTooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        let envelope = RawEnvelope::parse(body)?;
        let plaintext = self.decrypt(msg_signature, timestamp, nonce, &envelope.encrypt)?;
        Ok(Delivery {
            format: envelope.format,
            envelope_agent_id: envelope.agent_id.map(Cow::into_owned),
            plaintext,
        })
    }

    /// Decrypt **without checking the signature**: for tools that inspect a captured
    /// callback. A server must use [`decrypt`](Self::decrypt). The receive id is still checked.
    pub fn decrypt_unverified(&self, encrypted_b64: &str) -> Result<String, CallbackError> {
        if encrypted_b64.len() > self.max_body {
            return Err(CallbackError::BodyTooLarge {
                len: encrypted_b64.len(),
                limit: self.max_body,
            });
        }
        let mut buf =
            B64.decode(encrypted_b64.trim_ascii())
                .map_err(|e| CallbackError::DecodeBase64 {
                    reason: e.to_string(),
                })?;
        let len = buf.len();
        if len == 0 || len % 16 != 0 {
            return Err(CallbackError::Decrypt { len });
        }
        let plain_len =
            cbc::Decryptor::<Aes256Dec>::inner_iv_init(self.dec.clone(), &self.iv.into())
                .decrypt_padded_mut::<NoPadding>(&mut buf)
                .map_err(|_| CallbackError::Decrypt { len })?
                .len();
        // PKCS#7 with 32-byte blocks.
        let pad = usize::from(buf[plain_len - 1]);
        if pad == 0 || pad > PAD_BLOCK || pad > plain_len {
            return Err(CallbackError::IllegalBuffer {
                reason: "bad PKCS#7 padding",
            });
        }
        let content_len = plain_len - pad;
        if buf[content_len..plain_len]
            .iter()
            .any(|&b| usize::from(b) != pad)
        {
            return Err(CallbackError::IllegalBuffer {
                reason: "bad PKCS#7 padding",
            });
        }
        if content_len < HEADER {
            return Err(CallbackError::IllegalBuffer {
                reason: "decrypted data is shorter than its 20-byte header",
            });
        }
        let msg_len = u32::from_be_bytes([buf[16], buf[17], buf[18], buf[19]]);
        let msg_end = usize::try_from(msg_len)
            .ok()
            .and_then(|n| n.checked_add(HEADER))
            .filter(|&end| end <= content_len)
            .ok_or(CallbackError::IllegalBuffer {
                reason: "the message length field exceeds the decrypted data",
            })?;
        let receive_id = &buf[msg_end..content_len];
        if receive_id != self.receive_id.as_bytes() {
            return Err(CallbackError::ValidateReceiveId {
                found: clip(&String::from_utf8_lossy(receive_id), 64),
            });
        }
        buf.copy_within(HEADER..msg_end, 0);
        buf.truncate(msg_end - HEADER);
        String::from_utf8(buf).map_err(|_| CallbackError::IllegalBuffer {
            reason: "the decrypted message is not UTF-8",
        })
    }

    /// Encrypt a message with a fresh random 16-byte prefix; returns base64.
    ///
    /// The format stores the length in 4 bytes: a plaintext over 4 GiB is cut at that
    /// limit (on a character boundary).
    pub fn encrypt(&self, plaintext: &str) -> String {
        self.encrypt_with_prefix(plaintext, &rand::random::<[u8; 16]>())
    }

    /// Encrypt with a given 16-byte prefix (deterministic; for test vectors only — real
    /// messages need [`encrypt`](Self::encrypt)'s random prefix).
    pub fn encrypt_with_prefix(&self, plaintext: &str, prefix: &[u8; 16]) -> String {
        let msg = cap_u32(plaintext).as_bytes();
        let content_len = HEADER + msg.len() + self.receive_id.len();
        let pad = PAD_BLOCK - content_len % PAD_BLOCK;
        let total = content_len + pad;
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(prefix);
        // `cap_u32` guarantees the length fits.
        buf.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(u32::MAX).to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(self.receive_id.as_bytes());
        // pad is 1..=32, so it fits a byte.
        buf.resize(total, pad as u8);
        let encrypted =
            cbc::Encryptor::<Aes256Enc>::inner_iv_init(self.enc.clone(), &self.iv.into())
                .encrypt_padded_mut::<NoPadding>(&mut buf, total);
        match encrypted {
            Ok(ciphertext) => B64.encode(ciphertext),
            // Unreachable: `total` is a multiple of 32 and equals the buffer's length.
            Err(_) => String::new(),
        }
    }

    /// A passive reply body: `plaintext_xml` encrypted, signed, in WeCom's reply XML
    /// `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`.
    pub fn seal_reply(&self, plaintext_xml: &str, timestamp: &str, nonce: &str) -> String {
        let encrypted = self.encrypt(plaintext_xml);
        let signature = self.sign(timestamp, nonce, &encrypted);
        let mut out = String::with_capacity(encrypted.len() + 160);
        out.push_str("<xml>");
        push_cdata(&mut out, "Encrypt", &encrypted);
        push_cdata(&mut out, "MsgSignature", &signature);
        out.push_str("<TimeStamp>");
        push_cdata_value(&mut out, timestamp);
        out.push_str("</TimeStamp>");
        push_cdata(&mut out, "Nonce", nonce);
        out.push_str("</xml>");
        out
    }

    /// What WeCom does with a passive reply: parses the reply envelope
    /// (`<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`, or the JSON variant
    /// `{"encrypt", "msgsignature", "timestamp", "nonce"}`), checks its signature and
    /// decrypts it. Used by the sandbox to read what an app answered, and by tests.
    ///
    /// ```
    /// use wecom_callback::CallbackCrypto;
    /// let c = CallbackCrypto::new("T", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwcorp")?;
    /// let reply = c.seal_reply("<xml><MsgType>text</MsgType></xml>", "1700000000", "n1");
    /// assert_eq!(c.open_reply(&reply)?, "<xml><MsgType>text</MsgType></xml>");
    /// let json = c.seal_reply_json("{}", "1700000000", "n2");
    /// assert_eq!(c.open_reply(&json)?, "{}");
    /// # Ok::<(), wecom_callback::CallbackError>(())
    /// ```
    pub fn open_reply(&self, body: impl AsRef<[u8]>) -> Result<String, CallbackError> {
        let body = body.as_ref();
        if body.len() > self.max_body {
            return Err(CallbackError::BodyTooLarge {
                len: body.len(),
                limit: self.max_body,
            });
        }
        let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
        if first == Some(b'{') {
            #[derive(serde::Deserialize)]
            struct Json {
                encrypt: String,
                msgsignature: String,
                timestamp: serde_json::Value,
                nonce: String,
            }
            let json: Json = serde_json::from_slice(body)
                .map_err(|e| CallbackError::parse(format!("bad JSON reply: {e}")))?;
            let timestamp = match json.timestamp {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    return Err(CallbackError::parse(
                        "JSON reply: timestamp is not a number",
                    ));
                }
            };
            return self.decrypt(&json.msgsignature, &timestamp, &json.nonce, &json.encrypt);
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| CallbackError::parse("the reply is neither UTF-8 XML nor JSON"))?;
        let mut doc = Doc::parse(text)?;
        let mut take = |name: &'static str| {
            doc.take_root_child_text(name).ok_or_else(|| {
                CallbackError::parse(format!("the reply XML has no <{name}> element"))
            })
        };
        let encrypt = take("Encrypt")?;
        let signature = take("MsgSignature")?;
        let timestamp = take("TimeStamp")?;
        let nonce = take("Nonce")?;
        self.decrypt(&signature, &timestamp, &nonce, &encrypt)
    }

    /// A passive reply for the JSON variant: `{"encrypt", "msgsignature", "timestamp", "nonce"}`.
    pub fn seal_reply_json(&self, plaintext: &str, timestamp: &str, nonce: &str) -> String {
        let encrypted = self.encrypt(plaintext);
        let signature = self.sign(timestamp, nonce, &encrypted);
        let timestamp_value = match timestamp.parse::<i64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => serde_json::Value::from(timestamp),
        };
        serde_json::json!({
            "encrypt": encrypted,
            "msgsignature": signature,
            "timestamp": timestamp_value,
            "nonce": nonce,
        })
        .to_string()
    }

    /// What WeCom itself POSTs to a callback URL: returns the body
    /// `<xml><ToUserName/><AgentID/><Encrypt/></xml>` and the `msg_signature` to put in the
    /// query string (`?msg_signature=..&timestamp=..&nonce=..`).
    ///
    /// Used by the project's sandbox to push callbacks, and by tests.
    ///
    /// ```
    /// use wecom_callback::CallbackCrypto;
    /// let c = CallbackCrypto::new("T", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwcorp")?;
    /// let (body, sig) = c.seal_delivery("<xml><MsgType>text</MsgType></xml>", "wwcorp", 1000002, "1700000000", "n1");
    /// assert_eq!(c.open_delivery(&sig, "1700000000", "n1", &body)?, "<xml><MsgType>text</MsgType></xml>");
    /// # Ok::<(), wecom_callback::CallbackError>(())
    /// ```
    pub fn seal_delivery(
        &self,
        plaintext_xml: &str,
        to_user_name: &str,
        agent_id: impl fmt::Display,
        timestamp: &str,
        nonce: &str,
    ) -> (String, String) {
        let encrypted = self.encrypt(plaintext_xml);
        let signature = self.sign(timestamp, nonce, &encrypted);
        let mut out = String::with_capacity(encrypted.len() + 128);
        out.push_str("<xml>");
        push_cdata(&mut out, "ToUserName", to_user_name);
        push_cdata(&mut out, "AgentID", &agent_id.to_string());
        push_cdata(&mut out, "Encrypt", &encrypted);
        out.push_str("</xml>");
        (out, signature)
    }

    /// The JSON variant of [`seal_delivery`](Self::seal_delivery):
    /// `{"tousername", "encrypt", "agentid"}` and the `msg_signature`.
    pub fn seal_delivery_json(
        &self,
        plaintext: &str,
        to_user_name: &str,
        agent_id: impl fmt::Display,
        timestamp: &str,
        nonce: &str,
    ) -> (String, String) {
        let encrypted = self.encrypt(plaintext);
        let signature = self.sign(timestamp, nonce, &encrypted);
        let agent_id = agent_id.to_string();
        let agent_value = match agent_id.parse::<i64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => serde_json::Value::from(agent_id),
        };
        let body = serde_json::json!({
            "tousername": to_user_name,
            "encrypt": encrypted,
            "agentid": agent_value,
        })
        .to_string();
        (body, signature)
    }
}

/// The longest prefix of `s` (on a char boundary) whose length fits in a `u32`.
fn cap_u32(s: &str) -> &str {
    let max = u32::MAX as usize;
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
