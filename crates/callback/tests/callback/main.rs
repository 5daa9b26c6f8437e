//! Integration tests of wecom-callback (one binary; see the modules).

mod crypto_errors;
mod events;
mod proptests;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "axum")]
mod reliability;
mod replies;
#[cfg(feature = "axum")]
mod router;
mod vectors;

use aes::Aes256Enc;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use wecom_callback::CallbackCrypto;

/// The official callback vectors (`tests/vectors/callback-crypto.json`).
pub use wecom_testkit::callback_vectors as vectors;

pub const TOKEN_A: &str = "QDG6eK";
pub const KEY_A: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
pub const RECEIVE_ID_A: &str = "wx5823bf96d3bd56c7";

/// Set A's crypto.
pub fn crypto_a() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN_A, KEY_A, RECEIVE_ID_A).expect("set A's key is valid")
}

/// Encrypt arbitrary raw plaintext bytes (already laid out and padded by the caller, a
/// multiple of 16 bytes) with set A's key: lets tests forge headers and paddings.
pub fn raw_encrypt_a(plain: &[u8]) -> String {
    assert_eq!(plain.len() % 16, 0, "raw plaintext must be whole blocks");
    let key = lenient_key(KEY_A);
    let mut buf = plain.to_vec();
    let len = buf.len();
    let iv: [u8; 16] = key[..16].try_into().expect("16 bytes");
    let ct = cbc::Encryptor::<Aes256Enc>::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, len)
        .expect("whole blocks");
    STANDARD.encode(ct)
}

/// Decode a 43-character EncodingAESKey the way WeCom does (trailing bits ignored).
pub fn lenient_key(key: &str) -> [u8; 32] {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(key).expect("key decodes");
    bytes.try_into().expect("32 bytes")
}

/// Lay out a plaintext like WeCom: 16-byte prefix, 4-byte length, message, receive id,
/// PKCS#7 padding to 32.
pub fn layout(len_field: u32, msg: &[u8], receive_id: &[u8]) -> Vec<u8> {
    let mut out = vec![b'r'; 16];
    out.extend_from_slice(&len_field.to_be_bytes());
    out.extend_from_slice(msg);
    out.extend_from_slice(receive_id);
    let pad = 32 - out.len() % 32;
    out.extend(std::iter::repeat_n(pad as u8, pad));
    out
}

/// Pull `<Name>` out of a reply/delivery XML (test helper; CDATA stripped).
pub fn xml_field(xml: &str, name: &str) -> Option<String> {
    let root = wecom_callback::xml::Element::parse(xml).ok()?;
    root.text_of(name).map(str::to_owned)
}
