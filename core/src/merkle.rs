//! Merkle tree hashing, inclusion and consistency proofs: RFC 6962 §2.1 /
//! RFC 9162 §2.1 with SHA-256.
//!
//! Specifications:
//! [RFC 9162 §2.1](https://www.rfc-editor.org/rfc/rfc9162#section-2.1)
//! (which restates [RFC 6962 §2.1](https://www.rfc-editor.org/rfc/rfc6962#section-2.1)
//! and adds the verification algorithms used here).
//!
//! # The tree
//!
//! For a list of entries `D[n] = {d(0), ..., d(n-1)}` the Merkle Tree Hash is
//!
//! ```text
//! MTH({})       = SHA-256()                                     (empty_root)
//! MTH({d(0)})   = SHA-256(0x00 || d(0))                         (leaf_hash)
//! MTH(D[n])     = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   (node_hash)
//!                 where k is the largest power of two smaller than n
//! ```
//!
//! Worked example (values from `core/testdata/tlog-vectors/tlog-vectors.txt`):
//! the empty entry has leaf hash `6e340b9c…afa01d`, the one-byte entry `00`
//! has leaf hash `96a296d2…09cfc7`, and the tree of those two entries has
//! root `fac54203…e3c125`:
//!
//! ```
//! use sigil_core::merkle::{leaf_hash, node_hash, root_from_leaf_hashes};
//! let a = leaf_hash(b"");
//! let b = leaf_hash(&[0x00]);
//! assert_eq!(hex::encode(a), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
//! assert_eq!(hex::encode(node_hash(&a, &b)),
//!            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
//! assert_eq!(root_from_leaf_hashes(&[a, b]), node_hash(&a, &b));
//! ```
//!
//! # Stored hashes
//!
//! The log never holds its tree in memory. What it stores are the hashes of
//! *complete* subtrees, named by [`NodeId`] `{ level, index }`: the subtree
//! of `2^level` leaves starting at leaf `index · 2^level`. Every hash a proof
//! needs is either such a stored hash or, on the right edge of a tree whose
//! size is not a power of two, the hash of a range of leaves that is composed
//! from several stored hashes. [`inclusion_proof_nodes`] and
//! [`consistency_proof_nodes`] say which stored hashes a proof needs; the
//! `prove_*` functions fetch them with exactly one [`HashReader::read_hashes`]
//! call, so a store can batch the lookups (one RocksDB multi-get, one round of
//! tile fetches).
//!
//! # Verification
//!
//! [`verify_inclusion`] and [`verify_consistency`] follow RFC 9162 §2.1.3.2 and
//! §2.1.4.2 step by step. In addition, and before running those algorithms,
//! they check the proof length against the exact length that the
//! tree shape dictates, so a wrong length is reported as
//! [`MerkleError::WrongProofLength`]. A consistency proof from size 0 is an
//! error, even from 0 to 0; between equal sizes the proof must be empty and
//! the roots equal.

use sha2::{Digest, Sha256};

mod cached;
mod memory;
mod prove;
mod verify;

pub use cached::CachedHashes;
pub use memory::MemoryHashes;
pub use prove::{
    consistency_proof_nodes, inclusion_proof_nodes, prove_consistency, prove_inclusion,
};
pub use verify::{
    root_from_consistency_proof, root_from_inclusion_proof, verify_consistency, verify_inclusion,
};

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; HASH_SIZE];

/// Size in bytes of a [`Hash`](type@Hash).
pub const HASH_SIZE: usize = 32;

/// Domain-separation prefix of a leaf hash (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// The root of the empty tree.
///
/// `MTH({}) = SHA-256()`, the hash of the empty string
/// (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1>):
/// `e3b0c442…7852b855`.
pub fn empty_root() -> Hash {
    // MTH({}) = SHA-256()
    Sha256::digest([]).into()
}

/// The hash of one log entry, as it appears at level 0 of the tree.
///
/// `MTH({d(0)}) = SHA-256(0x00 || d(0))`
/// (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1>).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    // MTH({d(0)}) = SHA-256(0x00 || d(0))
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node from the hashes of its two children.
///
/// `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`
/// (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1>).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle Tree Hash of a list of leaf hashes held in memory.
///
/// Meant for small sets: one tile (the hashes of a tile are the leaves of
/// its height-8 subtree), one sequencing batch, a test. The empty list gives
/// [`empty_root`]; a single hash is returned unchanged.
/// Uses `k` = the largest power of two smaller than `n` to split, as
/// <https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1> defines.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            // MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k < n <= 2k
            // n >= 2, so n - 1 >= 1 and its highest set bit is k.
            let n = leaves.len();
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            let (left, right) = leaves.split_at(k);
            node_hash(&root_from_leaf_hashes(left), &root_from_leaf_hashes(right))
        }
    }
}

/// A complete subtree: level `L`, index `N` covers the leaves
/// `[N·2^L, (N+1)·2^L)`.
///
/// Level 0 is the leaf hashes themselves. A node is *in* a tree of size `s`
/// when its whole leaf range lies below `s`, that is when
/// `index < s >> level`; only such nodes have a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height of the subtree: it has `2^level` leaves. At most 63.
    pub level: u8,
    /// Position of the subtree among the subtrees of its level, from 0.
    pub index: u64,
}

impl NodeId {
    /// The node at `level` with `index`.
    pub fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// Whether this complete subtree lies wholly inside a tree of `size`
    /// leaves (`index < size >> level`). Levels above 63 never do.
    pub fn is_in_tree(&self, size: u64) -> bool {
        match size.checked_shr(u32::from(self.level)) {
            Some(count) if self.level < 64 => self.index < count,
            _ => false,
        }
    }
}

/// Errors of Merkle hashing, proving and verification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not below the tree size (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked for or checked from the empty tree,
    /// which every tree is trivially consistent with: such a proof is
    /// meaningless and refused, even from size 0 to size 0.
    #[error("consistency proof from the empty tree (size 0)")]
    ZeroOldSize,
    /// The old tree size is larger than the new one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    InvalidSize {
        /// The old (first) tree size.
        old_size: u64,
        /// The new (second) tree size.
        new_size: u64,
    },
    /// The proof does not have the exact number of hashes that the tree
    /// shape requires.
    #[error("proof has {got} hashes, expected exactly {expected}")]
    WrongProofLength {
        /// Number of hashes the tree sizes and index call for.
        expected: usize,
        /// Number of hashes in the proof.
        got: usize,
    },
    /// The root computed from the proof is not the expected (new) root.
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    /// A consistency proof does not lead back to the old root
    /// (RFC 9162 §2.1.4.2 step 7, first check).
    #[error("consistency proof does not lead to the old root")]
    OldRootMismatch,
    /// The hash reader has no hash for this complete subtree (it is not in
    /// the tree the reader serves, or the level is above 63).
    #[error("no stored hash for node at level {} index {}", .0.level, .0.index)]
    MissingNode(NodeId),
    /// The hash reader answered with a different number of hashes than it
    /// was asked for.
    #[error("hash reader returned {returned} hashes for {requested} nodes")]
    ReaderResponse {
        /// Number of nodes asked for.
        requested: usize,
        /// Number of hashes returned.
        returned: usize,
    },
    /// The hash reader's storage failed. The source is the storage's own
    /// error; for a [`crate::tile::TileHashReader`] it is a
    /// [`crate::tile::TileError`] (downcast it to tell, e.g., a tile that
    /// failed authentication from a tile that could not be fetched).
    #[error("hash storage: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl MerkleError {
    /// Wraps a storage error as [`MerkleError::Storage`].
    pub fn storage(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        MerkleError::Storage(Box::new(err))
    }
}

/// Where stored hashes come from (RocksDB, tiles over HTTP, memory).
///
/// Implementations return the hash of each complete subtree asked for, or an
/// error; never a made-up value. They may be asked for nodes in any order and
/// for the same node twice.
pub trait HashReader {
    /// Hashes of the given complete subtrees, in the same order. One call per
    /// proof, so stores can batch.
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError>;
}

impl<T: HashReader + ?Sized> HashReader for &T {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
        (**self).read_hashes(ids)
    }
}

/// The root hash of the tree of `size` leaves, from stored hashes.
///
/// Reads the complete subtrees that make up the tree (one per set bit of
/// `size`) in one [`HashReader::read_hashes`] call and folds them from the
/// right, as `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`
/// (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1>) unrolls.
/// Size 0 gives [`empty_root`] (and reads an empty list).
pub fn tree_hash(size: u64, r: &impl HashReader) -> Result<Hash, MerkleError> {
    let nodes = range_nodes(0, size);
    let hashes = read_exact(r, &nodes)?;
    Ok(fold_range(&hashes).unwrap_or_else(empty_root))
}

/// Calls the reader once and checks that it answered every node.
pub(crate) fn read_exact(r: &impl HashReader, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
    let hashes = r.read_hashes(ids)?;
    if hashes.len() != ids.len() {
        return Err(MerkleError::ReaderResponse {
            requested: ids.len(),
            returned: hashes.len(),
        });
    }
    Ok(hashes)
}

/// The largest power of two strictly smaller than `n`, for `n >= 2`
/// (the `k` of RFC 9162 §2.1.1). Returns 0 for `n < 2`.
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    if n < 2 {
        return 0;
    }
    // n - 1 >= 1, so its highest set bit is the largest power of two < n.
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees whose hashes make up `MTH(D[start:end])`, left to
/// right, for a range whose start is aligned to the largest power of two
/// not above its length (every range the RFC recursion visits is). Each set
/// bit of `end - start`, from the highest, is one subtree.
pub(crate) fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut at = start;
    let len = end.saturating_sub(start);
    for level in (0..64u8).rev() {
        let width = 1u64 << level;
        if len & width != 0 {
            nodes.push(NodeId {
                level,
                index: at >> level,
            });
            at = at.wrapping_add(width);
        }
    }
    nodes
}

/// Folds the hashes of the complete subtrees of an aligned range (as listed
/// by [`range_nodes`]) into the range's hash: `h0, h1, …, hk` becomes
/// `node(h0, node(h1, … hk))`. `None` for an empty list.
pub(crate) fn fold_range(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_power_of_two_below_edges() {
        assert_eq!(largest_power_of_two_below(0), 0);
        assert_eq!(largest_power_of_two_below(1), 0);
        assert_eq!(largest_power_of_two_below(2), 1);
        assert_eq!(largest_power_of_two_below(3), 2);
        assert_eq!(largest_power_of_two_below(4), 2);
        assert_eq!(largest_power_of_two_below(5), 4);
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
        assert_eq!(largest_power_of_two_below((1 << 63) + 1), 1 << 63);
        assert_eq!(largest_power_of_two_below(1 << 63), 1 << 62);
    }

    #[test]
    fn range_nodes_of_full_u64_range() {
        let nodes = range_nodes(0, u64::MAX);
        assert_eq!(nodes.len(), 64);
        assert_eq!(nodes[0], NodeId::new(63, 0));
        assert_eq!(nodes[63], NodeId::new(0, u64::MAX - 1));
    }

    #[test]
    fn node_membership_never_overflows() {
        assert!(NodeId::new(63, 0).is_in_tree(u64::MAX));
        assert!(!NodeId::new(63, 1).is_in_tree(u64::MAX));
        assert!(!NodeId::new(64, 0).is_in_tree(u64::MAX));
        assert!(!NodeId::new(255, 0).is_in_tree(u64::MAX));
        assert!(NodeId::new(0, u64::MAX - 1).is_in_tree(u64::MAX));
        assert!(!NodeId::new(0, u64::MAX).is_in_tree(u64::MAX));
        assert!(!NodeId::new(0, 0).is_in_tree(0));
    }
}
