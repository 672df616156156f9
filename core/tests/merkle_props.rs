//! Property and exhaustive tests of `sigil_core::merkle`.
//!
//! - Proofs generated from a tile-backed store (grown with `append_leaves`
//!   in random batches) equal those from `MemoryHashes`, and verify.
//! - Corrupting a proof, a root, the index or a size makes verification
//!   fail, except where RFC 9162 verification provably cannot notice (a size
//!   with the same tree shape: see `size_is_bound_by_the_root`).
//! - `rs_merkle` with an RFC 6962 hasher is an independent oracle for roots
//!   and inclusion paths.
//! - Exhaustively, for every tree size 1..=64: every inclusion and
//!   consistency proof verifies, and fails with any proof hash bit-flipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use sigil_core::merkle::{
    Hash, HashReader, MemoryHashes, MerkleError, NodeId, consistency_proof_nodes,
    inclusion_proof_nodes, leaf_hash, prove_consistency, prove_inclusion, root_from_leaf_hashes,
    tree_hash, verify_consistency, verify_inclusion,
};
use sigil_core::tile::{Tile, TileHashReader, append_leaves};

/// Distinct leaves: leaf `i` hashes the 8 bytes of `i` with a seed.
fn leaves(n: u64, seed: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

/// A tile store grown batch by batch, as the sequencer grows it. Returns
/// the store and the published sizes (batch boundaries).
fn grow_tiles(leaves: &[Hash], batches: &[usize]) -> (HashMap<Tile, Vec<u8>>, Vec<u64>) {
    let mut store = HashMap::new();
    let mut sizes = Vec::new();
    let mut size = 0usize;
    let mut batches = batches.iter().cycle();
    while size < leaves.len() {
        let take = (*batches.next().unwrap()).clamp(1, leaves.len() - size);
        let changed = append_leaves(size as u64, &store, &leaves[size..size + take]).unwrap();
        for (tile, data) in changed {
            store.insert(tile, data);
        }
        size += take;
        sizes.push(size as u64);
    }
    (store, sizes)
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut h = *hash;
    h[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

/// A HashReader that records every call, to check "one read per proof".
struct Counting<'a> {
    inner: &'a MemoryHashes,
    calls: RefCell<Vec<Vec<NodeId>>>,
}

impl HashReader for Counting<'_> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
        self.calls.borrow_mut().push(ids.to_vec());
        self.inner.read_hashes(ids)
    }
}

// ---------------------------------------------------------------------------
// Tree shapes, transcribed from the RFC 6962 §2.1.1/§2.1.2 recursions, as an
// oracle for which (index, size) / (old, new) a verifier cannot tell apart.

/// The side of each audit-path hash, leaf first: `true` when the hash is the
/// left sibling, from PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) (right
/// sibling) / PATH(m - k, D[k:n]) : MTH(D[0:k]) (left sibling).
fn path_sides(m: u64, n: u64) -> Vec<bool> {
    if n <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(n);
    let mut sides = if m < k {
        path_sides(m, k)
    } else {
        path_sides(m - k, n - k)
    };
    sides.push(m >= k);
    sides
}

/// What a consistency verifier does with each proof hash, from
/// SUBPROOF(m, D[n], b): whether the proof starts from the old root (m is the
/// whole left-most complete subtree) and, per further hash, whether it is a
/// left sibling (part of both trees) or a right one (new tree only).
fn subproof_shape(m: u64, n: u64, b: bool) -> (bool, Vec<bool>) {
    if m == n {
        return (b, Vec::new());
    }
    let k = largest_power_of_two_below(n);
    let (starts_at_root, mut sides) = if m <= k {
        subproof_shape(m, k, b)
    } else {
        subproof_shape(m - k, n - k, false)
    };
    sides.push(m > k);
    (starts_at_root, sides)
}

fn largest_power_of_two_below(n: u64) -> u64 {
    let mut k: u64 = 1;
    while k.checked_mul(2).is_some_and(|double| double < n) {
        k *= 2;
    }
    k
}

#[test]
fn shape_oracles_are_sane() {
    assert_eq!(largest_power_of_two_below(2), 1);
    assert_eq!(largest_power_of_two_below(5), 4);
    assert_eq!(largest_power_of_two_below(8), 4);
    assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    // idx 5 of 8: sibling leaf 4 (left), L1[3] (right), L2[0] (left).
    assert_eq!(path_sides(5, 8), [true, false, true]);
    assert_eq!(path_sides(0, 1), Vec::<bool>::new());
    assert_eq!(subproof_shape(4, 8, true), (true, vec![false]));
}

// ---------------------------------------------------------------------------

/// RFC 9162 inclusion verification does not take the tree size from the
/// proof: it only follows the tree shape, and the root binds the size. Two
/// sizes with the same shape for an index accept the same proof. That is why
/// a verifier must take size and root together from one signed checkpoint.
#[test]
fn size_is_bound_by_the_root() {
    let l = leaves(8, 1);
    let memory = MemoryHashes::from_leaf_hashes(l.clone());
    let root7 = root_from_leaf_hashes(&l[..7]);
    let proof = prove_inclusion(4, 7, &memory).unwrap();
    verify_inclusion(&l[4], 4, 7, &proof, &root7).unwrap();
    assert_eq!(path_sides(4, 7), path_sides(4, 8));
    verify_inclusion(&l[4], 4, 8, &proof, &root7).unwrap();
    // Likewise 4 -> 7 and 4 -> 8 share the shape of their consistency proofs.
    let root4 = root_from_leaf_hashes(&l[..4]);
    let root8 = root_from_leaf_hashes(&l[..8]);
    let proof = prove_consistency(4, 8, &memory).unwrap();
    verify_consistency(4, 7, &root4, &root8, &proof).unwrap();
}

/// Every prove_* and tree_hash makes exactly one read, of the nodes that
/// `*_proof_nodes` lists.
#[test]
fn one_read_per_proof() {
    let memory = MemoryHashes::from_leaf_hashes(leaves(70, 2));
    for size in 1..=70 {
        for index in (0..size).step_by(7) {
            let r = Counting {
                inner: &memory,
                calls: RefCell::default(),
            };
            prove_inclusion(index, size, &r).unwrap();
            assert_eq!(
                r.calls.into_inner(),
                [inclusion_proof_nodes(index, size).unwrap()]
            );
        }
        for old in (1..=size).step_by(5) {
            let r = Counting {
                inner: &memory,
                calls: RefCell::default(),
            };
            prove_consistency(old, size, &r).unwrap();
            assert_eq!(
                r.calls.into_inner(),
                [consistency_proof_nodes(old, size).unwrap()]
            );
        }
        let r = Counting {
            inner: &memory,
            calls: RefCell::default(),
        };
        tree_hash(size, &r).unwrap();
        assert_eq!(r.calls.into_inner().len(), 1);
    }
    // The nodes a proof reads are complete subtrees of the tree.
    for size in 1..=300u64 {
        for index in 0..size {
            for node in inclusion_proof_nodes(index, size).unwrap() {
                assert!(node.is_in_tree(size), "{node:?} for {index} in {size}");
            }
        }
        for old in 1..size {
            for node in consistency_proof_nodes(old, size).unwrap() {
                assert!(node.is_in_tree(size), "{node:?} for {old} -> {size}");
            }
        }
    }
}

/// A reader that loses or adds a hash is an error, not a short proof.
#[test]
fn bad_reader_answers_are_errors() {
    struct Short;
    impl HashReader for Short {
        fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
            Ok(vec![[0; 32]; ids.len().saturating_sub(1)])
        }
    }
    assert!(matches!(
        prove_inclusion(3, 8, &Short),
        Err(MerkleError::ReaderResponse {
            requested: 3,
            returned: 2
        })
    ));
    assert!(matches!(
        tree_hash(8, &Short),
        Err(MerkleError::ReaderResponse { .. })
    ));
    let memory = MemoryHashes::from_leaf_hashes(leaves(4, 3));
    assert!(matches!(
        prove_inclusion(3, 8, &memory),
        Err(MerkleError::MissingNode(_))
    ));
}

// ---------------------------------------------------------------------------
// rs_merkle as an independent oracle.

#[derive(Clone)]
struct Rfc6962;

impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];

    fn hash(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    /// SHA-256(0x01 || l || r); a lone left node moves up unchanged.
    fn concat_and_hash(left: &[u8; 32], right: Option<&[u8; 32]>) -> [u8; 32] {
        match right {
            Some(right) => {
                let mut h = Sha256::new();
                h.update([0x01]);
                h.update(left);
                h.update(right);
                h.finalize().into()
            }
            None => *left,
        }
    }
}

/// SHA-256(0x00 || d), written out without sigil_core.
fn oracle_leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rs_merkle_agrees(n in 1usize..600, seed in any::<u64>(), picks in prop::collection::vec(any::<prop::sample::Index>(), 8)) {
        let entries: Vec<Vec<u8>> = (0..n).map(|i| [seed.to_be_bytes(), (i as u64).to_be_bytes()].concat()).collect();
        let ours: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let theirs: Vec<Hash> = entries.iter().map(|e| oracle_leaf(e)).collect();
        prop_assert_eq!(&ours, &theirs);
        let tree = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&theirs);
        let memory = MemoryHashes::from_leaf_hashes(ours.clone());
        prop_assert_eq!(Some(root_from_leaf_hashes(&ours)), tree.root());
        prop_assert_eq!(Some(tree_hash(n as u64, &memory).unwrap()), tree.root());
        for pick in picks {
            let i = pick.index(n);
            let expected = tree.proof(&[i]).proof_hashes().to_vec();
            prop_assert_eq!(prove_inclusion(i as u64, n as u64, &memory).unwrap(), expected, "leaf {} of {}", i, n);
        }
    }

    #[test]
    fn tile_store_proofs_equal_memory_proofs_and_verify(
        n in 1u64..1500,
        seed in any::<u64>(),
        batches in prop::collection::vec(1usize..300, 1..8),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<prop::sample::Index>()), 6),
    ) {
        let l = leaves(n, seed);
        let memory = MemoryHashes::from_leaf_hashes(l.clone());
        let (store, sizes) = grow_tiles(&l, &batches);
        for (a, b, c) in picks {
            // Two published sizes and a leaf of the smaller tree.
            let (x, y) = (sizes[a.index(sizes.len())], sizes[b.index(sizes.len())]);
            let (old, new) = (x.min(y), x.max(y));
            let index = c.index(old as usize) as u64;
            let old_root = root_from_leaf_hashes(&l[..old as usize]);
            let new_root = root_from_leaf_hashes(&l[..new as usize]);

            let trusted = TileHashReader::trusted(new, &store);
            let auth = TileHashReader::authenticated(new, new_root, &store);
            prop_assert_eq!(tree_hash(new, &trusted).unwrap(), new_root);
            prop_assert_eq!(tree_hash(new, &auth).unwrap(), new_root);

            let proof = prove_inclusion(index, new, &memory).unwrap();
            prop_assert_eq!(&prove_inclusion(index, new, &trusted).unwrap(), &proof);
            prop_assert_eq!(&prove_inclusion(index, new, &auth).unwrap(), &proof);
            prop_assert!(verify_inclusion(&l[index as usize], index, new, &proof, &new_root).is_ok());
            check_inclusion_mutations(&l, index, new, &proof, &new_root)?;

            let proof = prove_consistency(old, new, &memory).unwrap();
            prop_assert_eq!(&prove_consistency(old, new, &trusted).unwrap(), &proof);
            prop_assert_eq!(&prove_consistency(old, new, &auth).unwrap(), &proof);
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof).is_ok());
            check_consistency_mutations(old, new, &old_root, &new_root, &proof)?;
        }
    }
}

/// Every corruption of an inclusion proof's inputs is rejected, except a
/// size with the same tree shape (see `size_is_bound_by_the_root`).
fn check_inclusion_mutations(
    l: &[Hash],
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TestCaseError> {
    let leaf = &l[index as usize];
    let verify = |leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash| {
        verify_inclusion(leaf, index, size, proof, root).is_ok()
    };
    for (i, _) in proof.iter().enumerate() {
        for bit in [0, 97, 255, (i * 31 + index as usize) % 256] {
            let mut bad = proof.to_vec();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(
                !verify(leaf, index, size, &bad, root),
                "proof[{}] bit {}",
                i,
                bit
            );
        }
    }
    for bit in [0, 128, 255] {
        prop_assert!(
            !verify(leaf, index, size, proof, &flip(root, bit)),
            "root bit {}",
            bit
        );
        prop_assert!(
            !verify(&flip(leaf, bit), index, size, proof, root),
            "leaf bit {}",
            bit
        );
    }
    // Another index of the same tree: a different path, always rejected.
    for other in [
        index.wrapping_sub(1),
        index + 1,
        index ^ 1,
        index ^ 2,
        size,
        u64::MAX,
    ] {
        if other != index {
            prop_assert!(
                !verify(leaf, other, size, proof, root),
                "index {} -> {}",
                index,
                other
            );
        }
    }
    // Another size: rejected unless the verifier cannot see the difference.
    for other in [
        size - 1,
        size + 1,
        size * 2,
        size / 2,
        size.next_power_of_two(),
        index,
        u64::MAX,
    ] {
        if other != size {
            let same_shape = index < other && path_sides(index, other) == path_sides(index, size);
            prop_assert_eq!(
                verify(leaf, index, other, proof, root),
                same_shape,
                "size {} -> {}",
                size,
                other
            );
        }
    }
    prop_assert!(
        !verify(leaf, index, size, &[proof, &[*root]].concat(), root),
        "extended"
    );
    if let Some((_, short)) = proof.split_last() {
        prop_assert!(!verify(leaf, index, size, short, root), "truncated");
    }
    Ok(())
}

/// Every corruption of a consistency proof's inputs is rejected, except
/// sizes with the same tree shape.
fn check_consistency_mutations(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), TestCaseError> {
    let verify = |old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]| {
        verify_consistency(old, new, old_root, new_root, proof).is_ok()
    };
    for (i, _) in proof.iter().enumerate() {
        for bit in [0, 97, 255, (i * 31 + old as usize) % 256] {
            let mut bad = proof.to_vec();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(
                !verify(old, new, old_root, new_root, &bad),
                "proof[{}] bit {}",
                i,
                bit
            );
        }
    }
    for bit in [0, 128, 255] {
        prop_assert!(
            !verify(old, new, &flip(old_root, bit), new_root, proof),
            "old root bit {}",
            bit
        );
        prop_assert!(
            !verify(old, new, old_root, &flip(new_root, bit), proof),
            "new root bit {}",
            bit
        );
    }
    let shape = |m: u64, n: u64| (m > 0 && m < n).then(|| subproof_shape(m, n, true));
    for other in [old - 1, old + 1, old * 2, old / 2, new, new + 1] {
        if other != old {
            let same =
                old != new && shape(other, new).is_some() && shape(other, new) == shape(old, new);
            prop_assert_eq!(
                verify(other, new, old_root, new_root, proof),
                same,
                "old {} -> {}",
                old,
                other
            );
        }
    }
    for other in [new - 1, new + 1, new * 2, new / 2, old] {
        if other != new {
            let same =
                old != new && shape(old, other).is_some() && shape(old, other) == shape(old, new);
            prop_assert_eq!(
                verify(old, other, old_root, new_root, proof),
                same,
                "new {} -> {}",
                new,
                other
            );
        }
    }
    prop_assert!(
        !verify(
            old,
            new,
            old_root,
            new_root,
            &[proof, &[*new_root]].concat()
        ),
        "extended"
    );
    if let Some((_, short)) = proof.split_last() {
        prop_assert!(!verify(old, new, old_root, new_root, short), "truncated");
    }
    Ok(())
}

/// Every inclusion and consistency proof of every tree of 1..=64 leaves
/// verifies, and fails with any one of its hashes bit-flipped (three bits
/// tried per hash), with a wrong index, or with a size of another shape.
#[test]
fn exhaustive_small_trees() {
    const MAX: u64 = 64;
    let l = leaves(MAX + 1, 7);
    let memory = MemoryHashes::from_leaf_hashes(l.clone());
    let roots: Vec<Hash> = (0..=MAX + 1)
        .map(|n| root_from_leaf_hashes(&l[..n as usize]))
        .collect();
    let (mut inclusion, mut consistency, mut flips, mut same_shape_sizes) = (0, 0, 0, 0);
    for size in 1..=MAX {
        let root = &roots[size as usize];
        for index in 0..size {
            let leaf = &l[index as usize];
            let proof = prove_inclusion(index, size, &memory).unwrap();
            verify_inclusion(leaf, index, size, &proof, root).unwrap();
            for i in 0..proof.len() {
                for bit in [0, 133, 255] {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], bit);
                    assert!(
                        verify_inclusion(leaf, index, size, &bad, root).is_err(),
                        "{index}/{size} [{i}] bit {bit}"
                    );
                    flips += 1;
                }
            }
            for other in (0..=size).filter(|&other| other != index) {
                assert!(
                    verify_inclusion(leaf, other, size, &proof, root).is_err(),
                    "{index}->{other}/{size}"
                );
            }
            for other in 0..=MAX {
                if other != size {
                    let same = index < other && path_sides(index, other) == path_sides(index, size);
                    assert_eq!(
                        verify_inclusion(leaf, index, other, &proof, root).is_ok(),
                        same,
                        "{index}/{size}->{other}"
                    );
                    same_shape_sizes += usize::from(same);
                }
            }
            inclusion += 1;
        }
        for old in 1..=size {
            let old_root = &roots[old as usize];
            let proof = prove_consistency(old, size, &memory).unwrap();
            verify_consistency(old, size, old_root, root, &proof).unwrap();
            for i in 0..proof.len() {
                for bit in [0, 133, 255] {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], bit);
                    assert!(
                        verify_consistency(old, size, old_root, root, &bad).is_err(),
                        "{old}->{size} [{i}] bit {bit}"
                    );
                    flips += 1;
                }
            }
            let other_root = &roots[(old as usize % MAX as usize) + 1];
            if other_root != old_root {
                assert!(verify_consistency(old, size, other_root, root, &proof).is_err());
            }
            consistency += 1;
        }
    }
    assert_eq!(inclusion, 64 * 65 / 2);
    assert_eq!(consistency, 64 * 65 / 2);
    assert!(flips > 20_000, "{flips}");
    // The same-shape exception is real, and common: about a third of the
    // (index, size, other size) triples here.
    assert!(same_shape_sizes > 0, "{same_shape_sizes}");
}
