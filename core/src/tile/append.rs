//! Growing the tiled tree: [`append_leaves`].

use super::reader::read_tiles_checked;
use super::{
    MAX_TILE_LEVEL, TILE_WIDTH, Tile, TileError, TileKind, encode_hash_tile, level_count,
    parse_hash_tile, partial_tiles,
};
use crate::merkle::{Hash, root_from_leaf_hashes};

/// Growing the log: given a reader for the current tiles of a tree of
/// `old_size` and the leaf hashes of the new entries, return every hash tile
/// (full or partial, at every level) whose content changes, with its new
/// bytes. This is what the sequencer writes in one batch.
///
/// Reads only the right-edge partial tiles of the old tree
/// ([`super::partial_tiles`]`(old_size)`), in one
/// [`super::TileReader::read_tiles`] call (none when `old_size` is a multiple
/// of 256 at every level, e.g. 0). Tiles come out level by level, lowest
/// first, by index within a level. Each level-`l` tile that becomes full
/// contributes its root, `MTH` of its 256 hashes, as one new hash of level
/// `l + 1` (<https://c2sp.org/tlog-tiles#merkle-tree>); partial tiles are
/// never hashed into the level above. Entry bundles are the caller's
/// ([`super::encode_bundle`]).
///
/// An empty `new_leaf_hashes` changes nothing and returns no tile.
///
/// Errors: [`TileError::SizeOverflow`], the reader's errors, and
/// [`TileError::WrongTileLength`] / [`TileError::ReaderResponse`] if it
/// answers badly.
pub fn append_leaves(
    old_size: u64,
    r: &impl super::TileReader,
    new_leaf_hashes: &[Hash],
) -> Result<Vec<(Tile, Vec<u8>)>, TileError> {
    let overflow = || TileError::SizeOverflow {
        old_size,
        added: new_leaf_hashes.len(),
    };
    let added = u64::try_from(new_leaf_hashes.len()).map_err(|_| overflow())?;
    old_size.checked_add(added).ok_or_else(overflow)?;
    if new_leaf_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let edges = partial_tiles(old_size);
    let edge_data = read_tiles_checked(r, &edges)?;

    let mut changed = Vec::new();
    // Hashes that join the current level: leaf hashes at level 0, then the
    // roots of the tiles that became full one level below.
    let mut incoming: Vec<Hash> = new_leaf_hashes.to_vec();
    for level in 0..=MAX_TILE_LEVEL {
        if incoming.is_empty() {
            break;
        }
        let kind = TileKind::Hash { level };
        let first_tile = level_count(old_size, level) / u64::from(TILE_WIDTH);
        // The level's hashes from the start of its old right-edge tile on:
        // what that partial tile held, then the new ones.
        let mut row = match edges.iter().zip(&edge_data).find(|(t, _)| t.kind == kind) {
            Some((tile, data)) => parse_hash_tile(tile, data)?,
            None => Vec::new(),
        };
        row.extend_from_slice(&incoming);
        let mut completed = Vec::new();
        for (index, hashes) in (first_tile..).zip(row.chunks(usize::from(TILE_WIDTH))) {
            let tile = Tile {
                kind,
                index,
                width: hashes.len() as u16,
            };
            if tile.is_full() {
                completed.push(root_from_leaf_hashes(hashes));
            }
            changed.push((tile, encode_hash_tile(hashes)));
        }
        incoming = completed;
    }
    Ok(changed)
}
