//! The block hashes of a 微盘 block upload (`file_upload_init`'s `block_sha`).
//!
//! WeCom's page (文件分块上传, 附录-分块累积sha说明) and its sample
//! (github.com/wecomopen/file_block_digest) define them: cut the file into blocks of exactly
//! 2 MB (2,097,152 bytes; the last may be shorter) and feed them in order to one SHA-1. After each
//! block but the last, the block's value is the hash's **intermediate state**: the five 32-bit
//! words `h0..h4` as they sit in memory on a little-endian machine (each word's bytes least
//! significant first), in hex. The last block's value is the ordinary SHA-1 of the whole file.
//! So a file of one block has one value, its plain SHA-1; the state words are not the digest's
//! byte order, which is the mistake an implementation that "uses the digest of each prefix" makes.
//!
//! ```
//! use wecom_wedrive::blocks::BlockHasher;
//! let mut hasher = BlockHasher::new();
//! hasher.update(b"abc");
//! let hashes = hasher.finish();
//! assert_eq!(hashes.values(), ["a9993e364706816aba3e25717850c26c9cd0d89d"]);
//! assert_eq!(hashes.size(), 3);
//! ```

use std::fmt::Write as _;

use sha1::digest::generic_array::GenericArray;
use sha1::{Digest, Sha1};

type Sha1Block = GenericArray<u8, sha1::digest::consts::U64>;

/// Size of one block: 2 MB, fixed by WeCom.
pub const BLOCK_SIZE: u64 = 2_097_152;

/// The largest file the block upload accepts: 20 GB.
pub const MAX_SIZE: u64 = 20 * 1024 * 1024 * 1024;

/// SHA-1's initial state.
const H0: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// How many blocks a file of `size` bytes has (at least one: an empty file is one empty block).
pub fn block_count(size: u64) -> u64 {
    size.div_ceil(BLOCK_SIZE).max(1)
}

/// The length of block `index` (numbered from 1) of a file of `size` bytes.
pub fn block_len(size: u64, index: u64) -> u64 {
    let start = (index.saturating_sub(1)).saturating_mul(BLOCK_SIZE);
    size.saturating_sub(start).min(BLOCK_SIZE)
}

/// The state words in memory order of a little-endian machine, as hex (what WeCom's sample
/// prints for a block that is not the last).
fn state_hex(state: &[u32; 5]) -> String {
    let mut s = String::with_capacity(40);
    for word in state {
        for b in word.to_le_bytes() {
            let _ = write!(s, "{b:02x}");
        }
    }
    s
}

/// Computes the block hashes of a stream of bytes fed in any pieces.
#[derive(Clone)]
pub struct BlockHasher {
    /// The whole file's SHA-1 (the last block's value).
    whole: Sha1,
    /// The same hash's state, kept by hand through `sha1::compress` to read it after each block.
    state: [u32; 5],
    /// Bytes waiting for a full 64-byte SHA-1 block.
    pending: [u8; 64],
    pending_len: usize,
    /// Bytes fed into the current 2 MB block.
    in_block: u64,
    total: u64,
    /// Values of the completed blocks.
    values: Vec<String>,
    /// Reused buffer of whole SHA-1 blocks for `sha1::compress`.
    scratch: Vec<Sha1Block>,
}

impl std::fmt::Debug for BlockHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockHasher")
            .field("bytes", &self.total)
            .field("blocks_done", &self.values.len())
            .finish_non_exhaustive()
    }
}

impl Default for BlockHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockHasher {
    /// A hasher for a new file.
    pub fn new() -> Self {
        Self {
            whole: Sha1::new(),
            state: H0,
            pending: [0; 64],
            pending_len: 0,
            in_block: 0,
            total: 0,
            values: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Nothing fed yet.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut data: &[u8]) {
        self.whole.update(data);
        while !data.is_empty() {
            // Never cross a 2 MB boundary in one step: the state is read there.
            let room = (BLOCK_SIZE - self.in_block) as usize;
            let take = room.min(data.len());
            self.absorb(&data[..take]);
            self.in_block += take as u64;
            self.total += take as u64;
            data = &data[take..];
            if self.in_block == BLOCK_SIZE {
                // 2 MB is a multiple of 64: nothing is pending here, the state is exact.
                self.values.push(state_hex(&self.state));
                self.in_block = 0;
            }
        }
    }

    fn absorb(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = Sha1Block::clone_from_slice(&self.pending);
            sha1::compress(&mut self.state, std::slice::from_ref(&block));
            self.pending_len = 0;
        }
        let full = data.len() / 64 * 64;
        if full > 0 {
            self.scratch.clear();
            self.scratch.extend(
                data[..full]
                    .chunks_exact(64)
                    .map(Sha1Block::clone_from_slice),
            );
            sha1::compress(&mut self.state, &self.scratch);
        }
        let rest = &data[full..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The hashes of the file fed so far.
    pub fn finish(self) -> BlockHashes {
        let digest = self.whole.finalize();
        let mut last = String::with_capacity(40);
        for b in digest {
            let _ = write!(last, "{b:02x}");
        }
        let mut values = self.values;
        if self.total > 0 && self.in_block == 0 {
            // The file ends on a block boundary: its last block's value is the digest, not the
            // state recorded when the block filled up.
            values.pop();
        }
        values.push(last);
        BlockHashes {
            values,
            size: self.total,
        }
    }
}

/// The block hashes of a whole file, with its size: what `file_upload_init` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHashes {
    values: Vec<String>,
    size: u64,
}

impl BlockHashes {
    /// Hashes of bytes in memory.
    pub fn of(bytes: &[u8]) -> Self {
        let mut h = BlockHasher::new();
        h.update(bytes);
        h.finish()
    }

    /// Hashes of everything `reader` yields, read 64 KiB at a time (memory stays small).
    pub async fn of_reader<R: tokio::io::AsyncRead + Unpin + ?Sized>(
        reader: &mut R,
    ) -> std::io::Result<Self> {
        use tokio::io::AsyncReadExt;
        let mut h = BlockHasher::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h.finish())
    }

    /// The values, one per block, in order (`block_sha`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The whole file's SHA-1, hex (the last value; what `file_info` answers as `sha`).
    pub fn sha1(&self) -> &str {
        self.values.last().map(String::as_str).unwrap_or_default()
    }

    /// Takes the values.
    pub fn into_values(self) -> Vec<String> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    // Expected values computed independently: a plain SHA-1 written in Python (hashlib for the
    // digests, a hand-written compression function for the states, checked against hashlib),
    // printing each state word little-endian as WeCom's sample does.
    #[test]
    fn three_blocks_match_the_independent_vector() {
        let data = pattern(2 * BLOCK_SIZE as usize + 1000);
        let h = BlockHashes::of(&data);
        assert_eq!(
            h.values(),
            [
                "657c72d675f1e792607e5c0a7405f66cbdb8c290",
                "4b64438a2a84291379ac6d3fa0f0b1a3e8fd28ea",
                "b54475570e68553a818c0615e92f8c76fbee021d",
            ]
        );
        assert_eq!(h.size(), data.len() as u64);
    }

    #[test]
    fn a_file_ending_on_a_block_boundary_ends_with_its_digest() {
        let data = pattern(2 * BLOCK_SIZE as usize);
        let h = BlockHashes::of(&data);
        assert_eq!(
            h.values(),
            [
                "657c72d675f1e792607e5c0a7405f66cbdb8c290",
                "077c791119e055e7a0ae5e507089a3f9114836f5",
            ]
        );
        assert_eq!(block_count(h.size()), 2);
    }

    #[test]
    fn pieces_of_any_size_give_the_same_values() {
        let data = pattern(BLOCK_SIZE as usize + 777);
        let whole = BlockHashes::of(&data);
        for piece in [1usize, 63, 64, 65, 4095, 1 << 20] {
            let mut h = BlockHasher::new();
            for c in data.chunks(piece) {
                h.update(c);
            }
            assert_eq!(h.finish(), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn counts_and_lengths() {
        assert_eq!(block_count(0), 1);
        assert_eq!(block_count(1), 1);
        assert_eq!(block_count(BLOCK_SIZE), 1);
        assert_eq!(block_count(BLOCK_SIZE + 1), 2);
        assert_eq!(block_len(BLOCK_SIZE + 1, 1), BLOCK_SIZE);
        assert_eq!(block_len(BLOCK_SIZE + 1, 2), 1);
        assert_eq!(block_len(BLOCK_SIZE + 1, 3), 0);
        assert_eq!(
            BlockHashes::of(b"").values(),
            ["da39a3ee5e6b4b0d3255bfef95601890afd80709"]
        );
    }
}
