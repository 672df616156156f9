//! Following the tree (steps 1, 2, 3 and 5 of [`super`]'s docs): fetch
//! and verify the log's checkpoint, check that it extends the one already
//! verified (consistency recomputed from the new tree's hash tiles), read
//! each entry bundle authenticated against the level-0 hash tiles, and
//! keep the processed leaves as a compact range whose root must end equal
//! to the checkpoint's. Nothing here judges what an entry says: that is
//! [`super::judge`].

use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, verify_checkpoint};
use sigil_core::merkle::{self, Hash, MerkleError, NodeId, empty_root, leaf_hash, node_hash};
use sigil_core::tile::{
    TILE_HEIGHT, Tile, TileError, TileHashReader, TileKind, parse_bundle_for_tile,
};

use super::alert::{AlertKind, Emitter};
use super::source::SourceTiles;
use super::state::MonitorState;
use super::{MonitorError, TileSource};
use crate::log_source::FetchError;

/// Step 1: the log's checkpoint, verified under `policy` (C2SP
/// `tlog-checkpoint`: log signature, origin, witness quorum), with its
/// note. One that does not verify is an error, not a violation: anyone on
/// the path could have sent it.
pub(super) fn fetch_checkpoint(
    source: &dyn TileSource,
    policy: &CheckpointPolicy,
) -> Result<(Vec<u8>, Checkpoint), MonitorError> {
    let note = source.checkpoint()?;
    let verified = verify_checkpoint(&note, policy).map_err(MonitorError::Checkpoint)?;
    Ok((note, verified.checkpoint))
}

/// What [`adopt`] made of the log's checkpoint.
pub(super) enum Adopted {
    /// Older than the one verified before (a stale cache): ignored.
    Stale,
    /// The state's checkpoint now (or already was).
    Current,
}

/// Step 2: compares the log's checkpoint `new` with the state's and adopts
/// it if it extends it: same size and another root is a fork; a larger
/// one must hash, from its own tiles, to the stored root at the stored
/// size and to the root of the entries processed (RFC 9162 §2.1.4:
/// consistency, computed from the tiles instead of a proof).
pub(super) fn adopt(
    state: &mut MonitorState,
    note: Vec<u8>,
    new: &Checkpoint,
    reader: &TileHashReader<'_, SourceTiles<'_>>,
    out: &mut Emitter<'_>,
) -> Result<Adopted, MonitorError> {
    match state.checkpoint() {
        Some(old) if new.size < old.size => return Ok(Adopted::Stale),
        Some(old) if new.size == old.size => {
            if new.root != old.root {
                return Err(out.stop(
                    "fork",
                    format!(
                        "two checkpoints of size {} with different roots: {} stored, {} served",
                        new.size,
                        hex::encode(old.root),
                        hex::encode(new.root)
                    ),
                ));
            }
        }
        Some(old) => {
            let old = old.clone();
            check_consistency(state, &old, new, reader, out)?;
            state.checkpoint = Some((note, new.clone()));
        }
        None => state.checkpoint = Some((note, new.clone())),
    }
    Ok(Adopted::Current)
}

/// Step 2 for a larger checkpoint: the stored root and the root of the
/// processed entries, recomputed from the new tree's tiles.
fn check_consistency(
    state: &MonitorState,
    old: &Checkpoint,
    new: &Checkpoint,
    reader: &TileHashReader<'_, SourceTiles<'_>>,
    out: &mut Emitter<'_>,
) -> Result<(), MonitorError> {
    let mut checks = vec![(old.size, old.root, "the stored checkpoint")];
    if state.size() != old.size {
        checks.push((state.size(), state.edge.root(), "the entries processed"));
    }
    for (size, root, what) in checks {
        let computed = merkle::tree_hash(size, reader).map_err(|e| classify_merkle(e, out))?;
        if computed != root {
            return Err(out.stop(
                "fork",
                format!(
                    "the checkpoint of size {} is not an extension of {what}: its first {size} entries hash to {}, not {}",
                    new.size,
                    hex::encode(computed),
                    hex::encode(root)
                ),
            ));
        }
    }
    Ok(())
}

/// One entry bundle whose entries hash to the level-0 tile of the signed
/// tree.
pub(super) struct AuthenticatedBundle {
    /// The index of its first entry.
    pub(super) first: u64,
    /// Its entries, in index order.
    pub(super) entries: Vec<Vec<u8>>,
    /// Their leaf hashes `SHA-256(0x00 || entry)`.
    pub(super) leaves: Vec<Hash>,
}

/// Step 3: the entry bundle of index `bundle` of the tree `new` and the
/// level-0 hash tile of the same index (authenticated against the new
/// root); each entry's leaf hash (RFC 9162 §2.1.1) must be the tile's. An
/// entry whose bytes changed fails here.
pub(super) fn read_bundle(
    bundle: u64,
    new: &Checkpoint,
    tiles: &SourceTiles<'_>,
    reader: &TileHashReader<'_, SourceTiles<'_>>,
    out: &mut Emitter<'_>,
) -> Result<AuthenticatedBundle, MonitorError> {
    let Some(tile) = Tile::at_size(TileKind::Entries, bundle, new.size) else {
        return Err(out.stop(
            "malformed_bundle",
            format!("no entry bundle {bundle} in a tree of size {}", new.size),
        ));
    };
    let data = tiles.fetch(&tile).map_err(|e| classify_tile(e, out))?;
    let entries = parse_bundle_for_tile(&tile, &data).map_err(|e| {
        out.stop(
            "malformed_bundle",
            format!("entry bundle {tile} does not parse: {e}"),
        )
    })?;
    let first = bundle << TILE_HEIGHT;
    let ids: Vec<NodeId> = (0..u64::from(tile.width))
        .map(|i| NodeId::new(0, first + i))
        .collect();
    let hashes = reader
        .read_hashes_from_tiles(&ids)
        .map_err(|e| classify_tile(e, out))?;
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    for (i, (leaf, expected)) in leaves.iter().zip(&hashes).enumerate() {
        if leaf != expected {
            let index = first + i as u64;
            let mut alert = out.alert(AlertKind::Violation);
            alert.index = Some(index);
            alert.code = Some("entry_hash_mismatch".into());
            let reason = format!(
                "entry {index} in bundle {tile} hashes to {}, the tree (signed checkpoint of size {}) has {}: its bytes were changed",
                hex::encode(leaf),
                new.size,
                hex::encode(expected)
            );
            alert.reason = Some(reason.clone());
            out.emit(alert);
            return Err(MonitorError::Violation {
                code: "entry_hash_mismatch",
                reason,
            });
        }
    }
    Ok(AuthenticatedBundle {
        first,
        entries: entries.into_iter().map(<[u8]>::to_vec).collect(),
        leaves,
    })
}

/// Step 5: after the last entry, the root of all processed leaves must be
/// the checkpoint's.
pub(super) fn check_root(
    edge: &CompactRange,
    new: &Checkpoint,
    out: &mut Emitter<'_>,
) -> Result<(), MonitorError> {
    if edge.root() == new.root {
        return Ok(());
    }
    Err(out.stop(
        "root_mismatch",
        format!(
            "the {} entries hash to root {}, the checkpoint says {}",
            new.size,
            hex::encode(edge.root()),
            hex::encode(new.root)
        ),
    ))
}

/// The hashes of the complete subtrees of a tree of `size` leaves, largest
/// first: RFC 9162 §2.1.1's `MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) ||
/// MTH(D[k:n]))` unrolled along the right edge. Appending a leaf merges
/// the equal-sized subtrees at the end, like a binary counter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// From stored parts; `None` unless there is one hash per set bit.
    pub(super) fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<CompactRange> {
        (hashes.len() == size.count_ones() as usize).then_some(CompactRange { size, hashes })
    }

    /// Number of leaves.
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// The subtree hashes, largest first (what the state stores).
    pub(super) fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash. The caller appends only leaves of a tree
    /// whose size is a `u64`, so `size + 1` does not overflow.
    pub(super) fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        // Each trailing 1 bit of `size` is a subtree of the new one's size:
        // merge it, MTH = SHA-256(0x01 || left || right).
        while size & 1 == 1 {
            match self.hashes.pop() {
                Some(left) => hash = node_hash(&left, &hash),
                None => break,
            }
            size >>= 1;
        }
        self.hashes.push(hash);
        self.size = self.size.saturating_add(1);
    }

    /// The root: `node(h0, node(h1, … hk))`, or the empty root.
    pub(super) fn root(&self) -> Hash {
        match self.hashes.split_last() {
            None => empty_root(),
            Some((last, rest)) => rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)),
        }
    }
}

/// A tile error met while reading the new tree: a violation when the log's
/// data is wrong, a fetch error when it could not be had.
fn classify_tile(err: TileError, out: &mut Emitter<'_>) -> MonitorError {
    match err {
        TileError::RootMismatch { size } => out.stop(
            "tiles_mismatch",
            format!(
                "the hash tiles of tree size {size} do not hash to the signed checkpoint's root"
            ),
        ),
        TileError::TileMismatch { tile } => out.stop(
            "tiles_mismatch",
            format!("tile {tile} does not hash to the value its parent tile records"),
        ),
        e @ (TileError::WrongTileLength { .. } | TileError::ReaderResponse { .. }) => {
            out.stop("malformed_tile", e.to_string())
        }
        TileError::Storage(inner) => match inner.downcast::<FetchError>() {
            Ok(fetch) => MonitorError::Fetch(*fetch),
            Err(other) => MonitorError::Fetch(FetchError::unavailable("tiles", other)),
        },
        other => MonitorError::Fetch(FetchError::unavailable("tiles", other)),
    }
}

/// [`classify_tile`] for errors that came through the Merkle functions.
fn classify_merkle(err: MerkleError, out: &mut Emitter<'_>) -> MonitorError {
    match err {
        MerkleError::Storage(inner) => match inner.downcast::<TileError>() {
            Ok(tile) => classify_tile(*tile, out),
            Err(other) => MonitorError::Fetch(FetchError::unavailable("tiles", other)),
        },
        other => MonitorError::Fetch(FetchError::unavailable("tiles", other)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;
    use sigil_core::merkle::root_from_leaf_hashes;

    proptest! {
        /// The compact range's root is the RFC 9162 root of the same leaves,
        /// at every size on the way.
        #[test]
        fn compact_range_matches_rfc_root(n in 0usize..300) {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let mut range = CompactRange::default();
            prop_assert_eq!(range.root(), empty_root());
            for (i, leaf) in leaves.iter().enumerate() {
                range.push(*leaf);
                prop_assert_eq!(range.size(), i as u64 + 1);
                prop_assert_eq!(range.hashes.len(), range.size().count_ones() as usize);
                prop_assert_eq!(range.root(), root_from_leaf_hashes(&leaves[..=i]));
            }
        }
    }
}
