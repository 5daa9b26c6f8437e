//! Asynchronous directory export (异步导出接口): start a job, wait for it, and download and decrypt
//! its result files as a stream.
//!
//! WeCom's pages (94849 导出成员 and its siblings) say how the result files are made:
//! - the caller chooses the key: `encoding_aeskey` is 43 characters of a-z, A-Z, 0-9 and
//!   "AESKey=Base64_Decode(encoding_aeskey + “=”)" is 32 bytes;
//! - "加密方式采用AES-256-CBC方式,数据采用PKCS#7填充至32字节的倍数;IV初始向量大小为16字节,取AESKey前16字节";
//! - `export/get_result` lists the files with their size and MD5 ("data_list.size密文数据大小",
//!   "data_list.md5密文数据md5"), downloadable "支持指定Range头部分段下载。有效期2个小时";
//! - a decrypted file is one JSON object holding the records in arrays (`{"userlist": [...]}`).
//!
//! [`Export`] does all of it with bounded memory: each file is fetched one `Range` at a time
//! ([`Client::download_range`]), each range is decrypted as it arrives ([`ExportDecryptor`], which
//! holds back only the last 32 bytes for the padding), and the JSON is cut into records as it
//! arrives ([`RecordSplitter`], which holds one record at a time). Size and MD5 of every file are
//! checked against WeCom's listing before the file's last records are handed over.
//!
//! ```no_run
//! use wecom_contacts::export::{Export, ExportKind, ExportRecord};
//! # async fn demo(client: &wecom_core_auth::Client) -> Result<(), wecom_contacts::export::ExportError> {
//! let mut names = Vec::new();
//! let summary = Export::new(client, ExportKind::SimpleUser)
//!     .run(
//!         |record| {
//!             if let ExportRecord::Member(m) = record {
//!                 names.push(m.userid);
//!             }
//!             Ok(())
//!         },
//!         |_progress| {},
//!     )
//!     .await?;
//! println!("{} records in {} files", summary.records, summary.files);
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use aes::Aes256;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use cbc::cipher::generic_array::GenericArray;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use md5::{Digest, Md5};
use rand::Rng;
use wecom_core_auth::{Client, Error, InvalidInput, Secret};

use crate::generated::contacts::{
    Department, ExportFile, ExportStatus, Member, MemberBrief, TagMember,
};

/// AES block size.
const BLOCK: usize = 16;
/// WeCom pads to a multiple of 32 bytes (PKCS#7 with a 32-byte block), so the padding may span
/// the last two AES blocks.
const PAD_BLOCK: usize = 32;
/// The longest single record [`RecordSplitter`] accepts (a member with every field is a few KB).
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

// ------------------------------------------------------------------------------------------------
// The key

/// The key an export is encrypted with: WeCom's `encoding_aeskey` (43 characters) and the 32-byte
/// AES key it encodes. Debug output never shows either.
#[derive(Clone)]
pub struct ExportKey {
    encoded: Secret,
    key: [u8; 32],
}

impl fmt::Debug for ExportKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExportKey(***)")
    }
}

impl ExportKey {
    /// A fresh random key (43 characters of a-z, A-Z, 0-9, as the page requires).
    pub fn generate() -> Self {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        // The 43rd character carries 2 bits of the key and 4 padding bits: choose one whose
        // padding bits are zero (A, Q, g, w), so the key decodes the same in strict decoders.
        const LAST: &[u8] = b"AQgw";
        let mut rng = rand::rng();
        loop {
            let mut s: String = (0..42)
                .map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())]))
                .collect();
            s.push(char::from(LAST[rng.random_range(0..LAST.len())]));
            // 43 characters of the base64 alphabet always decode to 32 bytes: the first try
            // succeeds; the loop only keeps this total without a fallback value.
            if let Ok(k) = Self::from_encoding_aes_key(&s) {
                return k;
            }
        }
    }

    /// The key from an `encoding_aeskey` you chose (43 characters of a-z, A-Z, 0-9).
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, InvalidInput> {
        let bad = |why: &str| {
            InvalidInput::new(
                "encoding_aeskey",
                format!(
                    "{why}: it must be 43 characters of a-z, A-Z, 0-9 (the base64 of a 32-byte key without its `=`)"
                ),
            )
        };
        if encoding_aes_key.len() != 43 {
            return Err(bad(&format!("{} characters", encoding_aes_key.len())));
        }
        if !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("it holds a character outside a-z, A-Z, 0-9"));
        }
        let bytes = B64
            .decode(format!("{encoding_aes_key}="))
            .map_err(|e| bad(&format!("not base64 ({e})")))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| bad("it does not decode to 32 bytes"))?;
        Ok(Self {
            encoded: Secret::new(encoding_aes_key),
            key,
        })
    }

    /// The `encoding_aeskey` to send.
    pub fn encoding_aes_key(&self) -> &Secret {
        &self.encoded
    }

    /// The 32-byte AES key (the IV is its first 16 bytes).
    pub fn aes_key(&self) -> &[u8; 32] {
        &self.key
    }

    /// Encrypts `plain` as WeCom encrypts a result file (AES-256-CBC, IV = the key's first 16
    /// bytes, PKCS#7 padding to a multiple of 32 bytes). The sandbox makes its files with it;
    /// tests use it to make files to decrypt.
    pub fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        let mut buf = Vec::with_capacity(plain.len() + pad);
        buf.extend_from_slice(plain);
        // `pad` is 1..=32.
        buf.resize(plain.len() + pad, pad as u8);
        let mut enc = cbc::Encryptor::<Aes256>::new(
            GenericArray::from_slice(&self.key),
            GenericArray::from_slice(&self.key[..BLOCK]),
        );
        for block in buf.chunks_exact_mut(BLOCK) {
            enc.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        buf
    }
}

// ------------------------------------------------------------------------------------------------
// Streaming decryption

/// Decrypts one result file as it arrives: feed it ciphertext in pieces of any size with
/// [`update`](Self::update), then [`finish`](Self::finish). It keeps at most 15 bytes of
/// ciphertext and 32 bytes of plaintext between calls (the padding is removed at the end).
pub struct ExportDecryptor {
    dec: cbc::Decryptor<Aes256>,
    /// Ciphertext not yet a whole block.
    partial: Vec<u8>,
    /// The last decrypted bytes, held back until the end (they may be padding).
    held: Vec<u8>,
    /// Ciphertext bytes seen.
    seen: u64,
}

impl fmt::Debug for ExportDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportDecryptor")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl ExportDecryptor {
    /// A decryptor for files encrypted with `key`.
    pub fn new(key: &ExportKey) -> Self {
        Self {
            dec: cbc::Decryptor::<Aes256>::new(
                GenericArray::from_slice(&key.key),
                GenericArray::from_slice(&key.key[..BLOCK]),
            ),
            partial: Vec::with_capacity(BLOCK),
            held: Vec::with_capacity(2 * PAD_BLOCK),
            seen: 0,
        }
    }

    /// Decrypts `input` and appends the plaintext that is certainly not padding to `out`.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        self.seen += input.len() as u64;
        if !self.partial.is_empty() {
            let take = (BLOCK - self.partial.len()).min(input.len());
            self.partial.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.partial.len() == BLOCK {
                let start = self.held.len();
                self.held.extend_from_slice(&self.partial);
                self.partial.clear();
                self.dec
                    .decrypt_block_mut(GenericArray::from_mut_slice(&mut self.held[start..]));
            }
        }
        let whole = input.len() / BLOCK * BLOCK;
        let start = self.held.len();
        self.held.extend_from_slice(&input[..whole]);
        for block in self.held[start..].chunks_exact_mut(BLOCK) {
            self.dec
                .decrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        self.partial.extend_from_slice(&input[whole..]);
        // The last 32 bytes may be padding: keep them until `finish`.
        if self.held.len() > PAD_BLOCK {
            let emit = self.held.len() - PAD_BLOCK;
            out.extend_from_slice(&self.held[..emit]);
            self.held.drain(..emit);
        }
    }

    /// Checks the end of the file and appends the last plaintext (without the padding) to `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if !self.partial.is_empty() || !self.seen.is_multiple_of(PAD_BLOCK as u64) || self.seen == 0
        {
            return Err(format!(
                "{} bytes of ciphertext: not a positive multiple of 32 (truncated, or not a WeCom export file)",
                self.seen
            ));
        }
        let n = self.held.len();
        let pad = usize::from(self.held[n - 1]);
        if pad == 0
            || pad > PAD_BLOCK
            || pad > n
            || self.held[n - pad..].iter().any(|b| usize::from(*b) != pad)
        {
            return Err(
                "bad padding after decryption: the file was encrypted with another key (check the encoding_aeskey) or is damaged".to_owned(),
            );
        }
        out.extend_from_slice(&self.held[..n - pad]);
        self.held.clear();
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Streaming JSON: one record at a time

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    /// Before the top-level `{`.
    Start,
    /// In the top-level object, expecting a key, `,` or `}`.
    Object,
    /// Reading a top-level key.
    Key,
    /// After a key, expecting `:`.
    Colon,
    /// Expecting a top-level value.
    Value,
    /// In a top-level value that is not an array (skipped).
    Skip,
    /// In a top-level array, expecting a record, `,` or `]`.
    Array,
    /// In a record.
    Record,
    /// After the top-level `}`.
    End,
}

/// Cuts a decrypted result file (`{"userlist": [record, record, ...], ...}`) into records as the
/// bytes arrive, without holding more than one record. Feed it with [`feed`](Self::feed); every
/// record of a top-level array comes out with the array's key. Top-level values that are not
/// arrays are skipped.
#[derive(Debug)]
pub struct RecordSplitter {
    at: Where,
    key: Vec<u8>,
    record: Vec<u8>,
    /// Nesting inside the current record or skipped value.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Whether the current record is a bare scalar (ends at `,`, `]` or white space).
    scalar: bool,
}

impl Default for RecordSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordSplitter {
    /// A splitter at the start of a file.
    pub fn new() -> Self {
        Self {
            at: Where::Start,
            key: Vec::new(),
            record: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            scalar: false,
        }
    }

    /// Reads `bytes`, calling `emit(key, record)` for every complete record.
    pub fn feed<E>(
        &mut self,
        bytes: &[u8],
        emit: &mut impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), SplitError<E>> {
        for &b in bytes {
            self.step(b, emit)?;
        }
        Ok(())
    }

    /// Checks that the file ended after its top-level object.
    pub fn finish(&self) -> Result<(), String> {
        match self.at {
            Where::End => Ok(()),
            other => Err(format!(
                "the JSON ends too early ({other:?}): the file is truncated"
            )),
        }
    }

    fn syntax<E>(&self, b: u8) -> SplitError<E> {
        SplitError::Syntax(format!(
            "unexpected byte {:?} ({:?})",
            char::from(b),
            self.at
        ))
    }

    fn key_str(&self) -> String {
        // The raw key between the quotes; unescape it as a JSON string.
        let quoted = [b"\"".as_slice(), &self.key, b"\""].concat();
        serde_json::from_slice::<String>(&quoted)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.key).into_owned())
    }

    fn emit_record<E>(
        &mut self,
        emit: &mut impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), SplitError<E>> {
        let key = self.key_str();
        let result = emit(&key, &self.record);
        self.record.clear();
        self.at = Where::Array;
        result.map_err(SplitError::Sink)
    }

    fn step<E>(
        &mut self,
        b: u8,
        emit: &mut impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), SplitError<E>> {
        let ws = matches!(b, b' ' | b'\n' | b'\r' | b'\t');
        match self.at {
            Where::Start => match b {
                b'{' => self.at = Where::Object,
                // A UTF-8 byte order mark, if any.
                0xEF | 0xBB | 0xBF => {}
                _ if ws => {}
                _ => return Err(self.syntax(b)),
            },
            Where::Object => match b {
                b'"' => {
                    self.key.clear();
                    self.escaped = false;
                    self.at = Where::Key;
                }
                b',' => {}
                b'}' => self.at = Where::End,
                _ if ws => {}
                _ => return Err(self.syntax(b)),
            },
            Where::Key => {
                if self.escaped {
                    self.escaped = false;
                    self.key.push(b);
                } else if b == b'\\' {
                    self.escaped = true;
                    self.key.push(b);
                } else if b == b'"' {
                    self.at = Where::Colon;
                } else {
                    self.key.push(b);
                }
            }
            Where::Colon => match b {
                b':' => self.at = Where::Value,
                _ if ws => {}
                _ => return Err(self.syntax(b)),
            },
            Where::Value => match b {
                b'[' => self.at = Where::Array,
                _ if ws => {}
                _ => {
                    // Skip a value that is not an array.
                    self.depth = 0;
                    self.in_string = false;
                    self.escaped = false;
                    self.at = Where::Skip;
                    self.skip_byte(b);
                }
            },
            Where::Skip => self.skip_byte(b),
            Where::Array => match b {
                b']' => self.at = Where::Object,
                b',' => {}
                _ if ws => {}
                _ => {
                    self.record.clear();
                    self.depth = 0;
                    self.in_string = false;
                    self.escaped = false;
                    self.scalar = !matches!(b, b'{' | b'[');
                    self.at = Where::Record;
                    return self.record_byte(b, emit);
                }
            },
            Where::Record => return self.record_byte(b, emit),
            Where::End => {
                if !ws {
                    return Err(self.syntax(b));
                }
            }
        }
        Ok(())
    }

    /// A byte of a skipped top-level value; back to the object when it ends.
    fn skip_byte(&mut self, b: u8) {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.depth == 0 {
                    self.at = Where::Object;
                }
            }
            return;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' if self.depth > 0 => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.at = Where::Object;
                }
            }
            // The end of the object itself, after a scalar.
            b'}' => self.at = Where::End,
            b',' if self.depth == 0 => self.at = Where::Object,
            _ => {}
        }
    }

    fn record_byte<E>(
        &mut self,
        b: u8,
        emit: &mut impl FnMut(&str, &[u8]) -> Result<(), E>,
    ) -> Result<(), SplitError<E>> {
        if self.scalar && !self.in_string {
            let ends = matches!(b, b',' | b']' | b' ' | b'\n' | b'\r' | b'\t');
            if ends && !self.record.is_empty() && self.record[0] != b'"' {
                self.emit_record(emit)?;
                if b == b']' {
                    self.at = Where::Object;
                }
                return Ok(());
            }
        }
        if self.record.len() >= MAX_RECORD_BYTES {
            return Err(SplitError::Syntax(format!(
                "a record is longer than {MAX_RECORD_BYTES} bytes"
            )));
        }
        self.record.push(b);
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.scalar {
                    // A string record ends with its closing quote.
                    return self.emit_record(emit);
                }
            }
            return Ok(());
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 && !self.scalar {
                    return self.emit_record(emit);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Why [`RecordSplitter::feed`] stopped.
#[derive(Debug)]
pub enum SplitError<E> {
    /// The bytes are not the JSON shape of a result file.
    Syntax(String),
    /// The record handler failed.
    Sink(E),
}

// ------------------------------------------------------------------------------------------------
// Records

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportKind {
    /// `export/simple_user`: members with userid, name, departments.
    SimpleUser,
    /// `export/user`: members with their details.
    User,
    /// `export/department`: departments.
    Department,
    /// `export/taguser`: a tag's members and departments.
    TagUser(u32),
}

impl ExportKind {
    /// The `JobType` of the `batch_job_result` event WeCom sends when such a job ends (page
    /// 96298: export_user, export_simple_user, export_department; the tag export is named
    /// `export_taguser` on the third-party page 94956 and `export_tag` on 96298).
    pub fn job_type(self) -> &'static str {
        match self {
            ExportKind::SimpleUser => "export_simple_user",
            ExportKind::User => "export_user",
            ExportKind::Department => "export_department",
            ExportKind::TagUser(_) => "export_taguser",
        }
    }
}

/// One exported record.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExportRecord {
    /// A member of `export/simple_user` (as user/simplelist answers it).
    Member(MemberBrief),
    /// A member of `export/user` (as user/list answers it).
    MemberDetail(Box<Member>),
    /// A department of `export/department` (as department/list answers it).
    Department(Department),
    /// A member holding the tag (`export/taguser`, array `userlist`).
    TagMember(TagMember),
    /// A department holding the tag (`export/taguser`, array `partylist`).
    TagDepartment(u32),
    /// A record of an array this SDK does not know (kept whole).
    Other {
        /// The array's key.
        key: String,
        /// The record.
        value: serde_json::Value,
    },
}

impl ExportRecord {
    /// Decodes one record of the array `key` of a `kind` export.
    pub fn decode(kind: ExportKind, key: &str, json: &[u8]) -> Result<Self, serde_json::Error> {
        Ok(match (kind, key) {
            (ExportKind::SimpleUser, "userlist") => {
                ExportRecord::Member(serde_json::from_slice(json)?)
            }
            (ExportKind::User, "userlist") => {
                ExportRecord::MemberDetail(Box::new(serde_json::from_slice(json)?))
            }
            (ExportKind::Department, "department") => {
                ExportRecord::Department(serde_json::from_slice(json)?)
            }
            (ExportKind::TagUser(_), "userlist") => {
                ExportRecord::TagMember(serde_json::from_slice(json)?)
            }
            (ExportKind::TagUser(_), "partylist") => {
                ExportRecord::TagDepartment(serde_json::from_slice(json)?)
            }
            _ => ExportRecord::Other {
                key: key.to_owned(),
                value: serde_json::from_slice(json)?,
            },
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Errors and progress

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A WeCom call (start, poll, download) failed.
    #[error(transparent)]
    Wecom(#[from] Error),
    /// WeCom reports the job failed (status 3, 异常失败).
    #[error("export job {jobid} failed on WeCom's side (status 3); start a new one")]
    Failed {
        /// The job.
        jobid: String,
    },
    /// The job did not end within the wait limit.
    #[error(
        "export job {jobid} still not done after {polls} polls ({waited:?}); poll export/get_result later or raise Export::max_wait"
    )]
    TimedOut {
        /// The job.
        jobid: String,
        /// Polls made.
        polls: u32,
        /// Time waited between polls.
        waited: Duration,
    },
    /// A file's size or MD5 differs from what export/get_result listed.
    #[error("result file {file}: {problem}")]
    Integrity {
        /// Index of the file in data_list.
        file: usize,
        /// What differs.
        problem: String,
    },
    /// A file could not be decrypted.
    #[error("result file {file}: {problem}")]
    Decrypt {
        /// Index of the file in data_list.
        file: usize,
        /// What went wrong.
        problem: String,
    },
    /// A decrypted file is not the expected JSON.
    #[error("result file {file}: {problem}")]
    Json {
        /// Index of the file in data_list.
        file: usize,
        /// What went wrong.
        problem: String,
    },
    /// The record handler failed.
    #[error("the record handler failed: {0}")]
    Sink(#[source] std::io::Error),
}

/// Where an export is, for progress bars.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExportProgress {
    /// The job was started.
    Started {
        /// Its id.
        jobid: String,
    },
    /// A poll of export/get_result answered this status.
    Waiting {
        /// The status.
        status: ExportStatus,
        /// Polls so far.
        polls: u32,
    },
    /// Downloading and decrypting.
    Downloading {
        /// The file (0-based) being fetched.
        file: usize,
        /// Files in all.
        files: usize,
        /// Ciphertext bytes fetched over all files.
        bytes: u64,
        /// Ciphertext bytes over all files (the listed sizes).
        total_bytes: u64,
        /// Records handed over so far.
        records: u64,
    },
}

/// What an export produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Result files.
    pub files: usize,
    /// Records handed to the handler.
    pub records: u64,
    /// Ciphertext bytes downloaded.
    pub bytes: u64,
    /// Polls of export/get_result.
    pub polls: u32,
}

// ------------------------------------------------------------------------------------------------
// The runner

/// Runs an asynchronous export: starts the job, polls `export/get_result`, then downloads,
/// checks and decrypts every file as a stream. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Export<'a> {
    client: &'a Client,
    kind: ExportKind,
    key: ExportKey,
    block_size: Option<u32>,
    poll_every: Duration,
    max_wait: Duration,
    chunk: u64,
}

impl<'a> Export<'a> {
    /// An export of `kind` with a fresh random key, polling every 2 s for at most 30 minutes and
    /// downloading in 1 MiB ranges.
    pub fn new(client: &'a Client, kind: ExportKind) -> Self {
        Self {
            client,
            kind,
            key: ExportKey::generate(),
            block_size: None,
            poll_every: Duration::from_secs(2),
            max_wait: Duration::from_secs(30 * 60),
            chunk: 1024 * 1024,
        }
    }

    /// Uses `key` instead of a random one.
    pub fn key(mut self, key: ExportKey) -> Self {
        self.key = key;
        self
    }

    /// Records per result file, 10,000 to 1,000,000 (WeCom's default: 1,000,000).
    pub fn block_size(mut self, block_size: u32) -> Self {
        self.block_size = Some(block_size);
        self
    }

    /// The pause between polls (through the client's pause seam).
    pub fn poll_every(mut self, every: Duration) -> Self {
        self.poll_every = every;
        self
    }

    /// The longest total pause while waiting for the job before giving up.
    pub fn max_wait(mut self, max: Duration) -> Self {
        self.max_wait = max;
        self
    }

    /// Bytes per download range (at least 32; default 1 MiB). Memory stays about one range.
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk = bytes.max(PAD_BLOCK as u64);
        self
    }

    /// The key the files are encrypted with.
    pub fn export_key(&self) -> &ExportKey {
        &self.key
    }

    /// Starts the job; answers its jobid.
    pub async fn start(&self) -> Result<String, ExportError> {
        use crate::generated::contacts::ContactsExt as _;
        let key = self.key.encoding_aes_key().clone();
        let c = self.client.contacts();
        let jobid = match self.kind {
            ExportKind::SimpleUser => {
                let mut call = c.export_simple_user(key);
                if let Some(n) = self.block_size {
                    call = call.block_size(n);
                }
                call.await?.jobid
            }
            ExportKind::User => {
                let mut call = c.export_user(key);
                if let Some(n) = self.block_size {
                    call = call.block_size(n);
                }
                call.await?.jobid
            }
            ExportKind::Department => {
                let mut call = c.export_department(key);
                if let Some(n) = self.block_size {
                    call = call.block_size(n);
                }
                call.await?.jobid
            }
            ExportKind::TagUser(tagid) => {
                let mut call = c.export_taguser(tagid, key);
                if let Some(n) = self.block_size {
                    call = call.block_size(n);
                }
                call.await?.jobid
            }
        };
        Ok(jobid)
    }

    /// Polls `export/get_result` until the job is done; answers its files.
    pub async fn wait(
        &self,
        jobid: &str,
        mut progress: impl FnMut(ExportProgress),
    ) -> Result<(Vec<ExportFile>, u32), ExportError> {
        use crate::generated::contacts::ContactsExt as _;
        let mut polls = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            let answer = self.client.contacts().export_get_result(jobid).await?;
            polls += 1;
            progress(ExportProgress::Waiting {
                status: answer.status,
                polls,
            });
            match answer.status {
                ExportStatus::Done => return Ok((answer.data_list, polls)),
                ExportStatus::Failed => {
                    return Err(ExportError::Failed {
                        jobid: jobid.to_owned(),
                    });
                }
                _ => {}
            }
            if waited >= self.max_wait {
                return Err(ExportError::TimedOut {
                    jobid: jobid.to_owned(),
                    polls,
                    waited,
                });
            }
            self.client.pause(self.poll_every).await;
            waited += self.poll_every;
        }
    }

    /// Downloads, checks and decrypts `files` in order, handing every record to `on_record`.
    pub async fn fetch(
        &self,
        files: &[ExportFile],
        mut on_record: impl FnMut(ExportRecord) -> std::io::Result<()>,
        mut progress: impl FnMut(ExportProgress),
    ) -> Result<ExportSummary, ExportError> {
        let total_bytes: u64 = files.iter().map(|f| f.size).sum();
        let mut summary = ExportSummary {
            files: files.len(),
            ..ExportSummary::default()
        };
        let kind = self.kind;
        let mut plain = Vec::with_capacity(usize::try_from(self.chunk).unwrap_or(1 << 20) + 64);
        for (index, file) in files.iter().enumerate() {
            let mut dec = ExportDecryptor::new(&self.key);
            let mut split = RecordSplitter::new();
            let mut md5 = Md5::new();
            let mut offset = 0u64;
            loop {
                let end = offset + self.chunk - 1;
                let chunk = self.client.download_range(&file.url, offset..=end).await?;
                let len = chunk.bytes.len() as u64;
                if len == 0 {
                    break;
                }
                md5.update(&chunk.bytes);
                offset += len;
                summary.bytes += len;
                plain.clear();
                dec.update(&chunk.bytes, &mut plain);
                summary.records += feed_records(&mut split, &plain, kind, index, &mut on_record)?;
                progress(ExportProgress::Downloading {
                    file: index,
                    files: files.len(),
                    bytes: summary.bytes,
                    total_bytes,
                    records: summary.records,
                });
                if offset >= file.size || len < self.chunk {
                    break;
                }
            }
            if offset != file.size {
                return Err(ExportError::Integrity {
                    file: index,
                    problem: format!(
                        "{offset} bytes downloaded, export/get_result listed {}",
                        file.size
                    ),
                });
            }
            let hex: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
            if !hex.eq_ignore_ascii_case(&file.md5) {
                return Err(ExportError::Integrity {
                    file: index,
                    problem: format!("MD5 {hex} differs from the listed {}", file.md5),
                });
            }
            plain.clear();
            dec.finish(&mut plain)
                .map_err(|problem| ExportError::Decrypt {
                    file: index,
                    problem,
                })?;
            summary.records += feed_records(&mut split, &plain, kind, index, &mut on_record)?;
            split.finish().map_err(|problem| ExportError::Json {
                file: index,
                problem,
            })?;
        }
        Ok(summary)
    }

    /// Starts the job, waits for it and fetches its files: [`start`](Self::start),
    /// [`wait`](Self::wait) and [`fetch`](Self::fetch) in one call.
    pub async fn run(
        &self,
        on_record: impl FnMut(ExportRecord) -> std::io::Result<()>,
        mut progress: impl FnMut(ExportProgress),
    ) -> Result<ExportSummary, ExportError> {
        let jobid = self.start().await?;
        progress(ExportProgress::Started {
            jobid: jobid.clone(),
        });
        let (files, polls) = self.wait(&jobid, &mut progress).await?;
        let mut summary = self.fetch(&files, on_record, &mut progress).await?;
        summary.polls = polls;
        Ok(summary)
    }
}

/// Feeds plaintext to the splitter, decoding and handing over each record; answers how many.
fn feed_records(
    split: &mut RecordSplitter,
    plain: &[u8],
    kind: ExportKind,
    file: usize,
    on_record: &mut impl FnMut(ExportRecord) -> std::io::Result<()>,
) -> Result<u64, ExportError> {
    let mut n = 0u64;
    split
        .feed(plain, &mut |key: &str,
                           json: &[u8]|
         -> Result<(), ExportError> {
            let record = ExportRecord::decode(kind, key, json).map_err(|e| ExportError::Json {
                file,
                problem: format!("a record of `{key}` does not decode: {e}"),
            })?;
            on_record(record).map_err(ExportError::Sink)?;
            n += 1;
            Ok(())
        })
        .map_err(|e| match e {
            SplitError::Syntax(problem) => ExportError::Json { file, problem },
            SplitError::Sink(e) => e,
        })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ExportKey {
        ExportKey::from_encoding_aes_key("IJUiXNpvGbODwKEBSEsAeOAPAhkqHqNCF6g19t9wfg2").unwrap()
    }

    fn decrypt_in_pieces(key: &ExportKey, cipher: &[u8], piece: usize) -> Result<Vec<u8>, String> {
        let mut dec = ExportDecryptor::new(key);
        let mut out = Vec::new();
        for p in cipher.chunks(piece.max(1)) {
            dec.update(p, &mut out);
        }
        dec.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn the_page_example_key_decodes_to_32_bytes() {
        let k = key();
        assert_eq!(k.aes_key().len(), 32);
        assert_eq!(format!("{k:?}"), "ExportKey(***)");
        assert!(ExportKey::from_encoding_aes_key("short").is_err());
        assert!(ExportKey::from_encoding_aes_key(&"+".repeat(43)).is_err());
    }

    #[test]
    fn generated_keys_are_valid_and_differ() {
        let a = ExportKey::generate();
        let b = ExportKey::generate();
        let ea = a.encoding_aes_key().expose();
        assert_eq!(ea.len(), 43);
        assert!(ea.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(ea, b.encoding_aes_key().expose());
    }

    #[test]
    fn decrypts_whatever_the_pieces() {
        let k = key();
        for len in [0usize, 1, 15, 16, 31, 32, 33, 63, 64, 65, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let cipher = k.encrypt(&plain);
            assert_eq!(cipher.len() % 32, 0);
            assert!(cipher.len() > plain.len());
            for piece in [1, 3, 16, 17, 32, 100, 4096] {
                assert_eq!(
                    decrypt_in_pieces(&k, &cipher, piece).unwrap(),
                    plain,
                    "len {len} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn a_wrong_key_or_a_truncated_file_is_an_error() {
        let k = key();
        let cipher = k.encrypt(b"{\"userlist\":[]}");
        let other = ExportKey::generate();
        assert!(
            decrypt_in_pieces(&other, &cipher, 7)
                .unwrap_err()
                .contains("padding")
        );
        assert!(
            decrypt_in_pieces(&k, &cipher[..cipher.len() - 16], 7)
                .unwrap_err()
                .contains("multiple of 32")
        );
        assert!(decrypt_in_pieces(&k, &[], 7).is_err());
    }

    fn split_all(text: &str, piece: usize) -> Result<Vec<(String, String)>, String> {
        let mut s = RecordSplitter::new();
        let mut out = Vec::new();
        for p in text.as_bytes().chunks(piece.max(1)) {
            s.feed(p, &mut |k: &str, j: &[u8]| -> Result<(), ()> {
                out.push((k.to_owned(), String::from_utf8(j.to_vec()).unwrap()));
                Ok(())
            })
            .map_err(|e| match e {
                SplitError::Syntax(m) => m,
                SplitError::Sink(()) => "sink".to_owned(),
            })?;
        }
        s.finish()?;
        Ok(out)
    }

    #[test]
    fn splits_records_whatever_the_pieces() {
        let text = r#" {"userlist": [ {"userid":"a","name":"A \"q\" ]}","department":[1,2]}, {"userid":"b"} ],
            "partylist":[3, 4 ,"x,y", true], "note": {"k":[1,{"z":"]"}]}, "n": 5, "e": [] }"#;
        for piece in [1, 2, 5, 64, 4096] {
            let got = split_all(text, piece).unwrap();
            assert_eq!(
                got,
                vec![
                    (
                        "userlist".to_owned(),
                        r#"{"userid":"a","name":"A \"q\" ]}","department":[1,2]}"#.to_owned()
                    ),
                    ("userlist".to_owned(), r#"{"userid":"b"}"#.to_owned()),
                    ("partylist".to_owned(), "3".to_owned()),
                    ("partylist".to_owned(), "4".to_owned()),
                    ("partylist".to_owned(), r#""x,y""#.to_owned()),
                    ("partylist".to_owned(), "true".to_owned()),
                ],
                "piece {piece}"
            );
        }
    }

    #[test]
    fn a_truncated_or_wrong_document_is_an_error() {
        assert!(split_all(r#"{"userlist":[{"userid":"a"}"#, 3).is_err());
        assert!(split_all(r#"["a"]"#, 3).is_err());
        assert!(split_all(r#"{"a":[1]} x"#, 3).is_err());
    }

    #[test]
    fn decodes_records_by_kind_and_key() {
        let m = ExportRecord::decode(
            ExportKind::SimpleUser,
            "userlist",
            br#"{"userid":"a","name":"A","department":[1]}"#,
        )
        .unwrap();
        assert!(matches!(m, ExportRecord::Member(ref b) if b.userid == "a"));
        let d = ExportRecord::decode(
            ExportKind::Department,
            "department",
            br#"{"id":2,"name":"D","parentid":1}"#,
        )
        .unwrap();
        assert!(matches!(d, ExportRecord::Department(ref d) if d.id == 2));
        let t = ExportRecord::decode(ExportKind::TagUser(1), "partylist", b"7").unwrap();
        assert_eq!(t, ExportRecord::TagDepartment(7));
        let o = ExportRecord::decode(ExportKind::User, "something", b"[1]").unwrap();
        assert!(matches!(o, ExportRecord::Other { ref key, .. } if key == "something"));
    }
}
