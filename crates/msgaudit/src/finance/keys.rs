//! The corp's RSA private keys by `publickey_ver`, and the decryption of `encrypt_random_key`.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};

use super::FinanceError;

/// The corp's RSA private keys, one per version of the message encryption public key
/// (`publickey_ver`). Debug output names the versions, never the keys.
///
/// ```
/// # use wecom_msgaudit::finance::PrivateKeys;
/// let keys = PrivateKeys::new();
/// assert!(keys.versions().is_empty());
/// assert!(PrivateKeys::new().with_pem(1, "not a key").is_err());
/// ```
#[derive(Clone, Default)]
pub struct PrivateKeys {
    keys: BTreeMap<u32, RsaPrivateKey>,
}

impl fmt::Debug for PrivateKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKeys")
            .field("versions", &self.versions())
            .finish()
    }
}

impl PrivateKeys {
    /// No keys yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the private key of version `version` from PEM text: PKCS#1 (`-----BEGIN RSA PRIVATE
    /// KEY-----`, what `openssl genrsa` writes) or PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub fn with_pem(mut self, version: u32, pem: &str) -> Result<Self, FinanceError> {
        let pem = pem.trim();
        let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| {
                FinanceError::Key(format!(
                    "the PKCS#1 PEM of version {version} could not be read: {e}"
                ))
            })?
        } else if pem.contains("BEGIN PRIVATE KEY") {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| {
                FinanceError::Key(format!(
                    "the PKCS#8 PEM of version {version} could not be read: {e}"
                ))
            })?
        } else {
            return Err(FinanceError::Key(format!(
                "version {version}: expected a PEM private key (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)"
            )));
        };
        self.keys.insert(version, key);
        Ok(self)
    }

    /// Adds an already parsed key.
    pub fn with_key(mut self, version: u32, key: RsaPrivateKey) -> Self {
        self.keys.insert(version, key);
        self
    }

    /// The versions held.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// Decrypts a message's `encrypt_random_key`: base64, then RSA-PKCS#1 v1.5 with the key of
    /// `publickey_ver`. The result is the random key `DecryptData` takes (text).
    ///
    /// The `rsa` crate's PKCS#1 v1.5 decryption is not constant-time (advisory RUSTSEC-2023-0071,
    /// the Marvin attack). That matters when an attacker can submit many ciphertexts and time the
    /// answers; here the ciphertexts are what WeCom's SDK hands your process. Do not expose this
    /// call as a decryption service to others.
    pub fn decrypt_random_key(
        &self,
        publickey_ver: u32,
        encrypt_random_key: &str,
    ) -> Result<String, FinanceError> {
        let key = self
            .keys
            .get(&publickey_ver)
            .ok_or(FinanceError::UnknownKeyVersion(publickey_ver))?;
        let cipher = base64::engine::general_purpose::STANDARD
            .decode(encrypt_random_key.trim())
            .map_err(|e| FinanceError::Key(format!("encrypt_random_key is not base64: {e}")))?;
        let plain = key.decrypt(Pkcs1v15Encrypt, &cipher).map_err(|_| {
            FinanceError::Key(format!(
                "encrypt_random_key does not decrypt with the key of version {publickey_ver} (wrong key for this version, or damaged data)"
            ))
        })?;
        String::from_utf8(plain)
            .map_err(|_| FinanceError::Key("the decrypted random key is not UTF-8 text".into()))
    }
}
