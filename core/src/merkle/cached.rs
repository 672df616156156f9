//! [`CachedHashes`]: a [`HashReader`] that remembers what it has read, for
//! many proofs against one tree.

use std::cell::RefCell;
use std::collections::HashMap;

use super::{Hash, HashReader, MerkleError, NodeId};

/// A [`HashReader`] that keeps every hash `inner` gave it and asks `inner`
/// only for the nodes it has not seen.
///
/// For answering many inclusion proofs against one tree: a sequencing
/// round's submitters, a lookup of a lockfile's releases. Their audit paths
/// (RFC 9162 §2.1.3.1) share most nodes, and a reader over tlog-tiles
/// computes each node that lies inside a tile from the tile's bottom row
/// (tiles keep every eighth level: c2sp.org/tlog-tiles, "Merkle Tree"),
/// up to 255 hashes for one node. Remembering the nodes makes a round of
/// neighbouring proofs cost about one pass over each tile it touches
/// instead of one per proof.
///
/// The hash of a complete subtree never changes as the tree grows, so what
/// is remembered stays right for every size of the same log; one cache
/// must not serve two logs. Not `Sync`: one per task.
#[derive(Debug)]
pub struct CachedHashes<R> {
    inner: R,
    known: RefCell<HashMap<NodeId, Hash>>,
}

impl<R: HashReader> CachedHashes<R> {
    /// An empty cache in front of `inner`.
    pub fn new(inner: R) -> Self {
        CachedHashes {
            inner,
            known: RefCell::new(HashMap::new()),
        }
    }

    /// Nodes remembered so far.
    pub fn len(&self) -> usize {
        self.known.borrow().len()
    }

    /// Whether nothing has been read yet.
    pub fn is_empty(&self) -> bool {
        self.known.borrow().is_empty()
    }
}

impl<R: HashReader> HashReader for CachedHashes<R> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
        let mut missing: Vec<NodeId> = {
            let known = self.known.borrow();
            ids.iter()
                .filter(|id| !known.contains_key(id))
                .copied()
                .collect()
        };
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let got = self.inner.read_hashes(&missing)?;
            if got.len() != missing.len() {
                return Err(MerkleError::ReaderResponse {
                    requested: missing.len(),
                    returned: got.len(),
                });
            }
            self.known.borrow_mut().extend(missing.into_iter().zip(got));
        }
        let known = self.known.borrow();
        ids.iter()
            .map(|id| known.get(id).copied().ok_or(MerkleError::MissingNode(*id)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::cell::Cell;

    use proptest::prelude::*;

    use super::*;
    use crate::merkle::{MemoryHashes, leaf_hash, prove_inclusion};

    /// Counts the nodes the cache asks for.
    struct Counting<'a> {
        inner: &'a MemoryHashes,
        asked: Cell<usize>,
    }

    impl HashReader for Counting<'_> {
        fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
            self.asked.set(self.asked.get() + ids.len());
            self.inner.read_hashes(ids)
        }
    }

    fn tree(size: u64) -> MemoryHashes {
        MemoryHashes::from_leaf_hashes((0..size).map(|i| leaf_hash(&i.to_le_bytes())).collect())
    }

    proptest! {
        /// Every proof through the cache is the proof without it, whatever
        /// the order of the indexes, and no node is asked for twice.
        #[test]
        fn proofs_through_the_cache_are_the_same(
            size in 1u64..3000,
            picks in proptest::collection::vec(any::<u64>(), 1..40),
        ) {
            let hashes = tree(size);
            let counting = Counting { inner: &hashes, asked: Cell::new(0) };
            let cached = CachedHashes::new(&counting);
            for p in picks {
                let index = p % size;
                prop_assert_eq!(
                    prove_inclusion(index, size, &cached).unwrap(),
                    prove_inclusion(index, size, &hashes).unwrap()
                );
            }
            prop_assert_eq!(counting.asked.get(), cached.len());
        }
    }

    #[test]
    fn neighbours_share_their_paths() {
        let hashes = tree(4096);
        let counting = Counting {
            inner: &hashes,
            asked: Cell::new(0),
        };
        let cached = CachedHashes::new(&counting);
        for index in 0..256 {
            prove_inclusion(index, 4096, &cached).unwrap();
        }
        // 256 proofs of 12 hashes each; the distinct nodes are those of
        // one 256-leaf subtree below its root (510) and its 4 siblings above.
        assert_eq!(counting.asked.get(), 510 + 4);
    }

    /// A reader that answers short is an error, not a panic or a guess.
    struct Short;

    impl HashReader for Short {
        fn read_hashes(&self, _ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
            Ok(vec![[0; 32]])
        }
    }

    #[test]
    fn a_short_answer_is_an_error() {
        let cached = CachedHashes::new(Short);
        let ids = [NodeId::new(0, 0), NodeId::new(0, 1)];
        assert!(matches!(
            cached.read_hashes(&ids),
            Err(MerkleError::ReaderResponse {
                requested: 2,
                returned: 1
            })
        ));
        assert!(cached.is_empty());
    }
}
