//! [`MemoryHashes`]: every stored hash of a small tree, in memory.

use super::{Hash, HashReader, MerkleError, NodeId, node_hash};

/// A [`HashReader`] over an in-memory list of leaf hashes (tests, small
/// trees, benchmarks).
///
/// Keeps the hash of every complete subtree, level by level (about twice the
/// memory of the leaf hashes), so each read is a lookup. The log itself does
/// not use this: its tree lives in tiles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryHashes {
    /// `levels[l][i]` is the hash of the complete subtree at level `l`,
    /// index `i`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryHashes {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tree of these leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Self {
        if leaves.is_empty() {
            return Self::default();
        }
        let mut levels = vec![leaves];
        loop {
            let next: Vec<Hash> = match levels.last() {
                Some(below) if below.len() >= 2 => below
                    .chunks_exact(2)
                    .map(|pair| node_hash(&pair[0], &pair[1]))
                    .collect(),
                _ => break,
            };
            levels.push(next);
        }
        MemoryHashes { levels }
    }

    /// Appends one leaf hash, storing the hash of every subtree it completes.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut hash = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(hash);
            // An even count means the new node completed a pair.
            match row.as_slice() {
                [.., left, right] if row.len() % 2 == 0 => hash = node_hash(left, right),
                _ => return,
            }
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.leaf_hashes().len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.leaf_hashes().is_empty()
    }

    /// The leaf hashes, in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        self.levels.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// The stored hash of one complete subtree, if the tree has it.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let row = self.levels.get(usize::from(id.level))?;
        row.get(usize::try_from(id.index).ok()?).copied()
    }
}

impl HashReader for MemoryHashes {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
        ids.iter()
            .map(|&id| self.node(id).ok_or(MerkleError::MissingNode(id)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_from_leaf_hashes, tree_hash};

    #[test]
    fn push_and_from_leaf_hashes_agree() {
        let leaves: Vec<Hash> = (0u32..100).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut pushed = MemoryHashes::new();
        for (n, leaf) in leaves.iter().enumerate() {
            pushed.push(*leaf);
            let built = MemoryHashes::from_leaf_hashes(leaves[..=n].to_vec());
            assert_eq!(pushed, built, "after {} leaves", n + 1);
            let root = tree_hash(pushed.len(), &pushed).ok();
            assert_eq!(root, Some(root_from_leaf_hashes(&leaves[..=n])));
        }
    }
}
