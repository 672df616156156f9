//! Generating inclusion proofs (RFC 9162 §2.1.3.1) and consistency proofs
//! (RFC 9162 §2.1.4.1) from stored complete-subtree hashes.
//!
//! Each proof hash is `MTH(D[a:b])` for some range of leaves. When the range
//! is a complete subtree its hash is read as is; on the right edge of a tree
//! whose size is not a power of two it is composed from the complete
//! subtrees that make up the range. A [`ProofPlan`] records both: the stored
//! nodes to read, and how many of them fold into each proof hash.

use super::{
    Hash, HashReader, MerkleError, NodeId, fold_range, largest_power_of_two_below, range_nodes,
    read_exact,
};

/// Which stored hashes a proof needs and how they compose into proof hashes.
#[derive(Debug, Default)]
struct ProofPlan {
    /// Every stored node to read, proof hash after proof hash, each proof
    /// hash's nodes left to right.
    nodes: Vec<NodeId>,
    /// For each proof hash, how many consecutive entries of `nodes` make it.
    groups: Vec<usize>,
}

impl ProofPlan {
    /// Builds the plan for a list of leaf ranges, one per proof hash.
    fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut plan = ProofPlan::default();
        for (start, end) in ranges {
            let nodes = range_nodes(start, end);
            plan.groups.push(nodes.len());
            plan.nodes.extend(nodes);
        }
        plan
    }

    /// Reads the plan's nodes with one reader call and composes the proof.
    fn prove(&self, r: &impl HashReader) -> Result<Vec<Hash>, MerkleError> {
        let hashes = read_exact(r, &self.nodes)?;
        let mut proof = Vec::with_capacity(self.groups.len());
        let mut rest = hashes.as_slice();
        for &count in &self.groups {
            let (group, tail) = rest.split_at(count.min(rest.len()));
            rest = tail;
            // Every group holds at least one node: its range is non-empty.
            let hash = fold_range(group).ok_or(MerkleError::ReaderResponse {
                requested: self.nodes.len(),
                returned: hashes.len(),
            })?;
            proof.push(hash);
        }
        Ok(proof)
    }
}

/// The leaf ranges of the audit path `PATH(m, D[n])`, leaf sibling first.
///
/// RFC 9162 §2.1.3.1 (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.1>):
///
/// ```text
/// PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])      for m < k
/// PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])  for m >= k
/// PATH(0, {d(0)}) = {}
/// ```
///
/// The recursion is walked from the root down, so the ranges come out root
/// side first and are reversed at the end.
fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut ranges = Vec::new();
    // The subtree D[lo : lo + n] that still contains leaf `index`.
    let (mut lo, mut n) = (0u64, size);
    while n > 1 {
        let k = largest_power_of_two_below(n);
        if index - lo < k {
            // PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.push((lo + k, lo + n));
            n = k;
        } else {
            // PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.push((lo, lo + k));
            lo += k;
            n -= k;
        }
    }
    ranges.reverse();
    Ok(ProofPlan::from_ranges(ranges))
}

/// The leaf ranges of the consistency proof `PROOF(m, D[n])`.
///
/// RFC 9162 §2.1.4.1 (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.1>):
///
/// ```text
/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true)
/// SUBPROOF(m, D[m], true)  = {}
/// SUBPROOF(m, D[m], false) = {MTH(D[m])}
/// SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          for m <= k
/// SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  for m > k
/// ```
///
/// Sizes are checked first: `old_size` 0 is [`MerkleError::ZeroOldSize`],
/// `old_size > new_size` is [`MerkleError::InvalidSize`], equal sizes give
/// the empty proof.
fn consistency_plan(old_size: u64, new_size: u64) -> Result<ProofPlan, MerkleError> {
    if old_size == 0 {
        return Err(MerkleError::ZeroOldSize);
    }
    if old_size > new_size {
        return Err(MerkleError::InvalidSize { old_size, new_size });
    }
    let mut ranges = Vec::new();
    // SUBPROOF(m, D[lo : lo + n], b), walked from the root down.
    let (mut lo, mut n, mut m, mut b) = (0u64, new_size, old_size, true);
    loop {
        if m == n {
            if !b {
                // SUBPROOF(m, D[m], false) = {MTH(D[m])}
                ranges.push((lo, lo + n));
            }
            break;
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.push((lo + k, lo + n));
            n = k;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.push((lo, lo + k));
            lo += k;
            n -= k;
            m -= k;
            b = false;
        }
    }
    ranges.reverse();
    Ok(ProofPlan::from_ranges(ranges))
}

/// The complete subtrees whose stored hashes [`prove_inclusion`] reads for
/// leaf `index` in the tree of `size` leaves, in the order it reads them.
///
/// Errors: [`MerkleError::IndexOutOfRange`] if `index >= size`.
pub fn inclusion_proof_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, MerkleError> {
    Ok(inclusion_plan(index, size)?.nodes)
}

/// The complete subtrees whose stored hashes [`prove_consistency`] reads for
/// the proof from `old_size` to `new_size`, in the order it reads them.
///
/// Errors: [`MerkleError::ZeroOldSize`], [`MerkleError::InvalidSize`].
pub fn consistency_proof_nodes(old_size: u64, new_size: u64) -> Result<Vec<NodeId>, MerkleError> {
    Ok(consistency_plan(old_size, new_size)?.nodes)
}

/// The inclusion proof (RFC 6962 "audit path") of leaf `index` in the tree of
/// `size` leaves, leaf sibling first, as RFC 9162 §2.1.3.1 defines it
/// (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.1>).
///
/// Calls `r.read_hashes` exactly once, with [`inclusion_proof_nodes`] (an
/// empty list for a tree of one leaf).
pub fn prove_inclusion(
    index: u64,
    size: u64,
    r: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    inclusion_plan(index, size)?.prove(r)
}

/// The consistency proof between the trees of `old_size` and `new_size`
/// leaves, as RFC 9162 §2.1.4.1 defines it
/// (<https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.1>).
///
/// Equal sizes give the empty proof. Calls `r.read_hashes` exactly once,
/// with [`consistency_proof_nodes`], once the sizes are valid.
///
/// Errors: [`MerkleError::ZeroOldSize`] (even from 0 to 0),
/// [`MerkleError::InvalidSize`] if `old_size > new_size`, and the reader's
/// errors.
pub fn prove_consistency(
    old_size: u64,
    new_size: u64,
    r: &impl HashReader,
) -> Result<Vec<Hash>, MerkleError> {
    consistency_plan(old_size, new_size)?.prove(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_at_the_top_of_u64() {
        let plan = inclusion_plan(u64::MAX - 1, u64::MAX).unwrap_or_default();
        assert_eq!(plan.groups.len(), 63);
        let plan = inclusion_plan(0, u64::MAX).unwrap_or_default();
        assert_eq!(plan.groups.len(), 64);
        let plan = consistency_plan(u64::MAX - 1, u64::MAX).unwrap_or_default();
        assert!(!plan.groups.is_empty());
        let plan = consistency_plan(1, u64::MAX).unwrap_or_default();
        assert_eq!(plan.groups.len(), 64);
    }
}
