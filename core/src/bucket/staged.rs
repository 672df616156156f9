//! A staged batch: everything one round of the log writes, as one
//! immutable object in the bucket, written before the checkpoint record is
//! swapped (`sigil_log::storage::object`, commit order, step 1),
//! so that a sequencer that dies between the swap and the tile writes
//! leaves behind what its successor needs to finish them.
//!
//! The encoding is Sigil's own (the object is private to the log, not part
//! of any C2SP format), big-endian and length-prefixed:
//!
//! ```text
//! "sigil-staged/v1\n"
//! u64 old_size, u64 new_size
//! u32 n, then n × (u16 len, tile path (tlog-tiles), u32 len, tile bytes)
//! u32 n, then n × (u16 len, crate, u16 len, version, u64 index, [32] sha256)
//! u32 n, then n × ([32] chain hash, u64 index)
//! u32 n, then n × ([32] certificate id, u64 from_index, u64 index)
//! u32 len, the signed checkpoint note
//! ```
//!
//! Nothing may follow. [`decode`] checks the framing only; the batch's
//! meaning is checked by the log's store as for any batch.

use crate::tile::Tile;

/// One round of the log as staged: what the log's storage writes together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StagedBatch {
    /// The tree size before the round.
    pub old_size: u64,
    /// The tree size after it.
    pub new_size: u64,
    /// Hash tiles and entry bundles, each at its width at `new_size`.
    pub tiles: Vec<(Tile, Vec<u8>)>,
    /// Release rows: crate, version, index, SHA-256 of the `.crate`.
    pub releases: Vec<(String, String, u64, [u8; 32])>,
    /// Certificate rows: SHA-256 of the chain, index.
    pub certificates: Vec<([u8; 32], u64)>,
    /// Revocation rows: certificate id, first void index, index.
    pub revocations: Vec<([u8; 32], u64, u64)>,
    /// The signed checkpoint note for `new_size`.
    pub checkpoint: Vec<u8>,
}

/// The first bytes of a staged batch.
pub const MAGIC: &[u8] = b"sigil-staged/v1\n";

/// Why bytes are not a staged batch.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StagedError {
    /// The bytes do not start with [`MAGIC`].
    #[error("not a staged batch (no sigil-staged/v1 header)")]
    Magic,
    /// The bytes end inside a field.
    #[error("truncated at byte {0}")]
    Truncated(usize),
    /// A tile path does not parse.
    #[error("tile path {0:?} is not a tlog-tiles path")]
    TilePath(String),
    /// A name is not UTF-8.
    #[error("a crate name or version is not UTF-8")]
    Utf8,
    /// Bytes follow the checkpoint.
    #[error("{0} bytes after the end")]
    Trailing(usize),
}

/// The bytes of `batch` staged.
pub fn encode(batch: &StagedBatch) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        MAGIC.len()
            + 64
            + batch.checkpoint.len()
            + batch.tiles.iter().map(|(_, d)| d.len() + 40).sum::<usize>(),
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&batch.old_size.to_be_bytes());
    out.extend_from_slice(&batch.new_size.to_be_bytes());
    put_len32(&mut out, batch.tiles.len());
    for (tile, data) in &batch.tiles {
        put_bytes16(&mut out, tile.path().as_bytes());
        put_len32(&mut out, data.len());
        out.extend_from_slice(data);
    }
    put_len32(&mut out, batch.releases.len());
    for (name, version, index, sha256) in &batch.releases {
        put_bytes16(&mut out, name.as_bytes());
        put_bytes16(&mut out, version.as_bytes());
        out.extend_from_slice(&index.to_be_bytes());
        out.extend_from_slice(sha256);
    }
    put_len32(&mut out, batch.certificates.len());
    for (hash, index) in &batch.certificates {
        out.extend_from_slice(hash);
        out.extend_from_slice(&index.to_be_bytes());
    }
    put_len32(&mut out, batch.revocations.len());
    for (id, from_index, index) in &batch.revocations {
        out.extend_from_slice(id);
        out.extend_from_slice(&from_index.to_be_bytes());
        out.extend_from_slice(&index.to_be_bytes());
    }
    put_len32(&mut out, batch.checkpoint.len());
    out.extend_from_slice(&batch.checkpoint);
    out
}

/// Parses a staged batch.
///
/// # Errors
///
/// [`StagedError`].
pub fn decode(bytes: &[u8]) -> Result<StagedBatch, StagedError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(StagedError::Magic)?;
    let mut r = Reader {
        rest,
        at: MAGIC.len(),
    };
    let old_size = r.u64()?;
    let new_size = r.u64()?;
    let mut batch = StagedBatch {
        old_size,
        new_size,
        ..StagedBatch::default()
    };
    for _ in 0..r.u32()? {
        let path = r.str16()?;
        let tile = Tile::parse_path(&path).map_err(|_| StagedError::TilePath(path.clone()))?;
        let len = r.u32()? as usize;
        batch.tiles.push((tile, r.take(len)?.to_vec()));
    }
    for _ in 0..r.u32()? {
        let name = r.str16()?;
        let version = r.str16()?;
        let index = r.u64()?;
        let sha256 = r.hash()?;
        batch.releases.push((name, version, index, sha256));
    }
    for _ in 0..r.u32()? {
        let hash = r.hash()?;
        let index = r.u64()?;
        batch.certificates.push((hash, index));
    }
    for _ in 0..r.u32()? {
        let id = r.hash()?;
        let from_index = r.u64()?;
        let index = r.u64()?;
        batch.revocations.push((id, from_index, index));
    }
    let len = r.u32()? as usize;
    batch.checkpoint = r.take(len)?.to_vec();
    if !r.rest.is_empty() {
        return Err(StagedError::Trailing(r.rest.len()));
    }
    Ok(batch)
}

fn put_len32(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_bytes16(out: &mut Vec<u8>, bytes: &[u8]) {
    // Tile paths, crate names and versions are far below 64 KiB.
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

struct Reader<'a> {
    rest: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StagedError> {
        if self.rest.len() < n {
            return Err(StagedError::Truncated(self.at + self.rest.len()));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        self.at += n;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], StagedError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u64(&mut self) -> Result<u64, StagedError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, StagedError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn hash(&mut self) -> Result<[u8; 32], StagedError> {
        self.array()
    }
    fn str16(&mut self) -> Result<String, StagedError> {
        let len = u16::from_be_bytes(self.array()?);
        let bytes = self.take(usize::from(len))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| StagedError::Utf8)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tile::TileKind;
    use proptest::prelude::*;

    fn batch() -> StagedBatch {
        StagedBatch {
            old_size: 3,
            new_size: 5,
            tiles: vec![
                (
                    Tile::new(TileKind::Hash { level: 0 }, 0, 5).unwrap(),
                    vec![7; 160],
                ),
                (Tile::new(TileKind::Entries, 0, 5).unwrap(), vec![0, 1, 9]),
            ],
            releases: vec![("serde".into(), "1.0.0".into(), 4, [2; 32])],
            certificates: vec![([3; 32], 3)],
            revocations: vec![([4; 32], 1, 4)],
            checkpoint: b"origin\n5\nroot\n\n- sig\n".to_vec(),
        }
    }

    #[test]
    fn round_trip() {
        let b = batch();
        assert_eq!(decode(&encode(&b)).unwrap(), b);
    }

    #[test]
    fn every_truncation_and_extension_is_an_error() {
        let bytes = encode(&batch());
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err(), "prefix of {n} bytes");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode(&longer), Err(StagedError::Trailing(1)));
        let mut bad_path = bytes.clone();
        // The first tile path starts after the magic, two sizes and a count.
        let at = MAGIC.len() + 8 + 8 + 4 + 2;
        bad_path[at] = b'x';
        assert!(matches!(decode(&bad_path), Err(StagedError::TilePath(_))));
        assert_eq!(decode(b"sigil-staged/v2\n"), Err(StagedError::Magic));
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&bytes);
            let _ = decode(&framed);
            let _ = decode(&bytes);
        }
    }
}
