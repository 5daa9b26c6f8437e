//! The one error type of this crate.

/// Why a callback could not be verified, decrypted, parsed or sealed.
///
/// Each variant is named after a case of WeCom's sample library (WXBizMsgCrypt), and
/// [`CallbackError::code`] gives that library's numeric code (`-40001` ...), so logs can be
/// compared with what other SDKs print. No variant ever contains the token, the
/// EncodingAESKey or the decrypted message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The `msg_signature` does not match `sha1(sort(token, timestamp, nonce, encrypt))`.
    #[error(
        "callback signature mismatch (-40001): the request was not signed with this app's Token; \
         check that the Token configured here is the one set in the app's \"receive messages\" page"
    )]
    ValidateSignature,

    /// The timestamp is outside the accepted window (a replay, or a clock far off).
    #[error(
        "callback timestamp {timestamp:?} is outside the accepted window of {window_secs} s (-40001): \
         a replayed request, or this server's clock is wrong"
    )]
    TimestampOutOfWindow {
        /// The timestamp as received (only digits are kept, at most 20 characters).
        timestamp: String,
        /// The configured window in seconds.
        window_secs: u64,
    },

    /// The body, envelope or decrypted XML/JSON could not be parsed.
    #[error("callback parse error (-40002): {reason}")]
    ParseXml {
        /// What was wrong (never contains decrypted content).
        reason: String,
    },

    /// The body is larger than the configured limit.
    #[error(
        "callback body of {len} bytes exceeds the limit of {limit} bytes (-40002); \
         raise it with `CallbackCrypto::with_max_body` if such messages are expected"
    )]
    BodyTooLarge {
        /// Size of the refused input in bytes.
        len: usize,
        /// The configured limit in bytes.
        limit: usize,
    },

    /// The EncodingAESKey is not 43 base64 characters decoding to 32 bytes.
    #[error(
        "illegal EncodingAESKey (-40004): {reason}; copy the 43-character key from the app's \
         \"receive messages\" settings"
    )]
    IllegalAesKey {
        /// What was wrong (length or characters; never the key itself).
        reason: &'static str,
    },

    /// The receive id inside the decrypted message is not the configured one.
    #[error(
        "receive id mismatch (-40005): the message was encrypted for {found:?}, not for this app's \
         receive id; check the corpid (or suite id) given to CallbackCrypto::new"
    )]
    ValidateReceiveId {
        /// The receive id found in the message (at most 64 characters kept).
        found: String,
    },

    /// The plaintext cannot be encrypted (longer than the format's 4-byte length field allows).
    #[error("encryption failed (-40006): {reason}")]
    Encrypt {
        /// What was wrong.
        reason: &'static str,
    },

    /// The ciphertext is not a whole number of AES blocks, or is empty.
    #[error(
        "decryption failed (-40007): ciphertext of {len} bytes is not a non-empty multiple of 16; \
         the Encrypt field was truncated or altered"
    )]
    Decrypt {
        /// Length of the decoded ciphertext in bytes.
        len: usize,
    },

    /// The decrypted buffer is malformed: bad PKCS#7 padding, a length field that does not
    /// fit, or a message that is not UTF-8. Usually a wrong EncodingAESKey.
    #[error(
        "illegal decrypted buffer (-40008): {reason}; usually the EncodingAESKey does not match \
         the one WeCom uses for this app"
    )]
    IllegalBuffer {
        /// What was wrong.
        reason: &'static str,
    },

    /// A URL check's `echostr` decrypted to something that is not an echostr (WeCom's echostr is
    /// a short random string; a captured delivery replayed as a URL check decrypts to an XML or
    /// JSON document). Refused so that the URL check cannot be used to decrypt captured
    /// callbacks. Carries nothing of the decrypted text but its length.
    #[error(
        "URL check refused (-40002): the echostr decrypted to {len} bytes that are not a short \
         random string (1 to {max} letters, digits or -_.~+/=); a captured callback replayed as \
         a URL check is never answered"
    )]
    NotAnEchostr {
        /// Length of the decrypted text in bytes.
        len: usize,
        /// The longest echostr accepted.
        max: usize,
    },

    /// The encrypted text is not valid base64.
    #[error("base64 decoding of the encrypted text failed (-40010): {reason}")]
    DecodeBase64 {
        /// The decoder's explanation.
        reason: String,
    },
}

impl CallbackError {
    /// The numeric code WeCom's sample library (WXBizMsgCrypt) uses for this case.
    ///
    /// | code | case |
    /// |---|---|
    /// | -40001 | signature mismatch (also a timestamp outside the window) |
    /// | -40002 | parse error (also a body over the size limit, and an echostr that is not one) |
    /// | -40004 | illegal EncodingAESKey |
    /// | -40005 | receive id mismatch |
    /// | -40006 | encryption failed |
    /// | -40007 | decryption failed |
    /// | -40008 | illegal buffer (padding, length, UTF-8) |
    /// | -40010 | base64 decoding failed |
    ///
    /// ```
    /// use wecom_callback::CallbackError;
    /// assert_eq!(CallbackError::ValidateSignature.code(), -40001);
    /// ```
    pub fn code(&self) -> i32 {
        match self {
            CallbackError::ValidateSignature | CallbackError::TimestampOutOfWindow { .. } => -40001,
            CallbackError::ParseXml { .. }
            | CallbackError::BodyTooLarge { .. }
            | CallbackError::NotAnEchostr { .. } => -40002,
            CallbackError::IllegalAesKey { .. } => -40004,
            CallbackError::ValidateReceiveId { .. } => -40005,
            CallbackError::Encrypt { .. } => -40006,
            CallbackError::Decrypt { .. } => -40007,
            CallbackError::IllegalBuffer { .. } => -40008,
            CallbackError::DecodeBase64 { .. } => -40010,
        }
    }

    pub(crate) fn parse(reason: impl Into<String>) -> Self {
        CallbackError::ParseXml {
            reason: reason.into(),
        }
    }
}

/// Keep at most `max` characters of an untrusted string, for error messages.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
