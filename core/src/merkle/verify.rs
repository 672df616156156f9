//! Verifying inclusion proofs (RFC 9162 §2.1.3.2) and consistency proofs
//! (RFC 9162 §2.1.4.2).
//!
//! The algorithms are the RFC's, step by step, with the RFC's variable names
//! (`fn` is spelled `fn_`, a Rust keyword). Before running them the proof's
//! length is compared with the exact length the tree shape dictates, so a
//! short or long proof is reported as [`MerkleError::WrongProofLength`]; the
//! RFC's own `sn` checks would reject it too, with a less useful message.

use super::{Hash, MerkleError, node_hash};

/// Number of hashes in the inclusion proof of leaf `index` in a tree of
/// `size` leaves, for `index < size`.
///
/// The path splits into an *inner* part, below the point where the paths to
/// `index` and to the last leaf `size - 1` meet (one hash per level: the
/// bit length of `index ^ (size - 1)`), and a *border* part above it, one
/// hash per set bit of `index` above the inner levels.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let last = size.saturating_sub(1);
    let inner = u64::BITS - (index ^ last).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Number of hashes in the consistency proof between sizes
/// `0 < old_size < new_size`.
///
/// It is the inclusion proof length of leaf `old_size - 1` in the new tree,
/// minus the levels below the largest complete subtree the old tree ends
/// with (`2^shift`, `shift` = trailing zeros of `old_size`), plus one hash for
/// that subtree itself unless it is the whole old tree (then the verifier
/// starts from the old root instead).
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let last_old = old_size.saturating_sub(1);
    let inner = u64::BITS - (last_old ^ new_size.saturating_sub(1)).leading_zeros();
    let border = last_old.checked_shr(inner).unwrap_or(0).count_ones();
    let shift = old_size.trailing_zeros();
    let start = u32::from(!old_size.is_power_of_two());
    (start + inner.saturating_sub(shift) + border) as usize
}

/// The root hash that an inclusion proof leads to, from the leaf's hash.
///
/// RFC 9162 §2.1.3.2 (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2>)
/// without the final comparison with a root, which the caller makes
/// (usually through [`verify_inclusion`]).
///
/// Errors: [`MerkleError::IndexOutOfRange`] if `index >= size`,
/// [`MerkleError::WrongProofLength`] unless the proof has exactly the length
/// the index and size require.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, MerkleError> {
    // 1. Compare leaf_index from the inclusion_proof input with tree_size.
    //    If leaf_index is greater than or equal to tree_size, then fail the
    //    proof verification.
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    let wrong_length = MerkleError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // 2. Set fn to leaf_index and sn to tree_size - 1.
    let (mut fn_, mut sn) = (index, size - 1);
    // 3. Set r to hash.
    let mut r = *leaf_hash;
    // 4. For each value p in the inclusion_path array:
    for p in proof {
        // a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return Err(wrong_length);
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, &r);
            // ii. If LSB(fn) is not set, then right-shift both fn and sn
            //     equally until either LSB(fn) is set or fn is 0.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. Compare sn to 0. (The comparison of r with root_hash is the caller's.)
    if sn != 0 {
        return Err(wrong_length);
    }
    Ok(r)
}

/// Checks that `proof` proves the leaf with hash `leaf_hash` is at `index` in
/// the tree of `size` leaves whose root is `root`.
///
/// RFC 9162 §2.1.3.2 (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2>),
/// plus an exact proof-length check.
///
/// Errors: those of [`root_from_inclusion_proof`], and
/// [`MerkleError::RootMismatch`] if the proof leads to another root.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    // 5. ... Compare r against the root_hash.
    if root_from_inclusion_proof(leaf_hash, index, size, proof)? != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// The new root hash that a consistency proof leads to, after checking that
/// it leads back to `old_root`.
///
/// RFC 9162 §2.1.4.2 (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.2>)
/// up to and including the comparison with the old root; the caller compares
/// the result with the new root it holds (usually through
/// [`verify_consistency`]). With equal sizes the proof must be empty and the
/// result is `old_root`.
///
/// Errors: [`MerkleError::ZeroOldSize`] (even from 0 to 0),
/// [`MerkleError::InvalidSize`] if `old_size > new_size`,
/// [`MerkleError::WrongProofLength`] unless the proof has exactly the
/// required length, [`MerkleError::OldRootMismatch`].
pub fn root_from_consistency_proof(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    proof: &[Hash],
) -> Result<Hash, MerkleError> {
    if old_size == 0 {
        return Err(MerkleError::ZeroOldSize);
    }
    if old_size > new_size {
        return Err(MerkleError::InvalidSize { old_size, new_size });
    }
    if old_size == new_size {
        // Equal trees: nothing to prove, and nothing may be sent.
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        return Ok(*old_root);
    }
    let expected = consistency_proof_len(old_size, new_size);
    let wrong_length = MerkleError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    // 1. If consistency_path is an empty array, stop and fail the proof
    //    verification. (Covered by the exact length: `expected` >= 1 here.)
    if proof.is_empty() || proof.len() != expected {
        return Err(wrong_length);
    }
    // 2. If first_tree_size is an exact power of 2, then prepend first_hash
    //    to the consistency_path array.
    let prepended = old_size.is_power_of_two().then_some(old_root);
    let mut path = prepended.into_iter().chain(proof);
    // 3. Set fn to first_tree_size - 1 and sn to second_tree_size - 1.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    // 4. If LSB(fn) is set, then right-shift both fn and sn equally until
    //    LSB(fn) is not set.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. Set both fr and sr to the first value in the consistency_path array.
    let first = path.next().ok_or(MerkleError::WrongProofLength {
        expected,
        got: proof.len(),
    })?;
    let (mut fr, mut sr) = (*first, *first);
    // 6. For each subsequent value c in the consistency_path array:
    for c in path {
        // a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return Err(wrong_length);
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn_ & 1 == 1 || fn_ == sn {
            // i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, &fr);
            // ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, &sr);
            // iii. If LSB(fn) is not set, then right-shift both fn and sn
            //      equally until either LSB(fn) is set or fn is 0.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            // Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(&sr, c);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7. After completing iterating through the consistency_path array as
    //    described above, verify that the fr calculated is equal to the
    //    first_hash supplied, that the sr calculated is equal to the
    //    second_hash supplied, and that sn is 0.
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(MerkleError::OldRootMismatch);
    }
    Ok(sr)
}

/// Checks that `proof` proves the tree of `new_size` leaves with root
/// `new_root` extends the tree of `old_size` leaves with root `old_root`.
///
/// RFC 9162 §2.1.4.2 (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.2>),
/// plus: an exact proof-length check; `old_size == 0` is an error (even to
/// size 0); equal sizes need an empty proof and equal roots.
///
/// Errors: those of [`root_from_consistency_proof`], and
/// [`MerkleError::RootMismatch`] if the proof leads to another new root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if root_from_consistency_proof(old_size, new_size, old_root, proof)? != *new_root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{HashReader, NodeId, prove_consistency, prove_inclusion};

    /// Answers every node with the zero hash: enough to count proof hashes
    /// for trees far too large to build.
    struct Zeros;
    impl HashReader for Zeros {
        fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
            Ok(vec![[0; 32]; ids.len()])
        }
    }

    fn proof_len(proof: Result<Vec<Hash>, MerkleError>) -> usize {
        proof.map(|p| p.len()).unwrap_or(usize::MAX)
    }

    /// The closed-form lengths agree with the RFC recursion's proof shapes.
    #[test]
    fn lengths_match_the_recursive_definition() {
        for size in 1..=200u64 {
            for index in 0..size {
                let generated = proof_len(prove_inclusion(index, size, &Zeros));
                assert_eq!(
                    inclusion_proof_len(index, size),
                    generated,
                    "{index} {size}"
                );
            }
            for old in 1..size {
                let generated = proof_len(prove_consistency(old, size, &Zeros));
                assert_eq!(consistency_proof_len(old, size), generated, "{old} {size}");
            }
        }
        let big = [
            (0, u64::MAX),
            (u64::MAX - 1, u64::MAX),
            (1 << 62, u64::MAX),
            (1 << 63, u64::MAX),
            ((1 << 63) - 1, 1 << 63),
        ];
        for (a, b) in big {
            let generated = proof_len(prove_inclusion(a, b, &Zeros));
            assert_eq!(inclusion_proof_len(a, b), generated, "{a} {b}");
            if a + 1 < b {
                let generated = proof_len(prove_consistency(a + 1, b, &Zeros));
                assert_eq!(consistency_proof_len(a + 1, b), generated, "{a}+1 {b}");
            }
        }
    }
}
