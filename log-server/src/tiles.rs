//! Tiles as the log stores and serves them (C2SP tlog-tiles,
//! <https://c2sp.org/tlog-tiles>).
//!
//! Storage keeps one version of each tile: the newest, full or partial. A
//! partial tile of width `W` is a prefix of every later version of the same
//! tile (hash tiles: the first `W` hashes; entry bundles: the first `W`
//! entries), so any published width is cut from the stored bytes. This module
//! is that cut, as a [`TileReader`] over [`Storage`], plus what a sequencing
//! round writes: the entry bundles it changes ([`entry_bundles`]; the hash
//! tiles are `sigil_core::tile::append_leaves`) and an [`Overlay`] of those
//! tiles over storage, from which the round computes its root before commit.

use std::collections::HashMap;

use sigil_core::merkle::HASH_SIZE;
use sigil_core::tile::{self, TILE_WIDTH, Tile, TileError, TileKind, TileReader};

use crate::storage::Storage;

/// Cuts a stored tile down to the width `tile` asks for.
///
/// Errors if the stored version is narrower than asked (the log never
/// publishes a width it has not stored) or is not a well-formed bundle.
pub fn cut_to_width(tile: &Tile, mut stored: Vec<u8>) -> Result<Vec<u8>, TileError> {
    let width = usize::from(tile.width);
    match tile.kind {
        TileKind::Hash { .. } => {
            let want = width * HASH_SIZE;
            if stored.len() < want || !stored.len().is_multiple_of(HASH_SIZE) {
                return Err(TileError::WrongTileLength {
                    tile: *tile,
                    expected: want,
                    got: stored.len(),
                });
            }
            stored.truncate(want);
            Ok(stored)
        }
        TileKind::Entries => {
            // Walk the 2-byte big-endian length prefixes of the first W entries.
            let mut offset = 0usize;
            for index in 0..width {
                let Some(prefix) = stored.get(offset..offset + 2) else {
                    return Err(TileError::TruncatedLength { index, offset });
                };
                let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
                let end = offset + 2 + len;
                if end > stored.len() {
                    return Err(TileError::TruncatedEntry {
                        index,
                        len,
                        available: stored.len() - offset - 2,
                    });
                }
                offset = end;
            }
            stored.truncate(offset);
            Ok(stored)
        }
    }
}

/// Reads tiles out of a [`Storage`], cut to the requested width. A tile that
/// is not stored is [`TileError::MissingTile`].
pub struct StorageTiles<'a>(pub &'a dyn Storage);

impl TileReader for StorageTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        let stored = self.0.read_tiles(tiles).map_err(TileError::storage)?;
        tiles
            .iter()
            .zip(stored)
            .map(|(tile, data)| match data {
                Some(data) => cut_to_width(tile, data),
                None => Err(TileError::MissingTile(*tile)),
            })
            .collect()
    }
}

/// The tiles one sequencing round writes, consulted before storage: the
/// round computes its new root before the batch is committed.
pub struct Overlay<'a> {
    tiles: HashMap<(TileKind, u64), &'a [u8]>,
    base: StorageTiles<'a>,
}

impl<'a> Overlay<'a> {
    /// Tiles of the round (newest bytes of each) over `storage`.
    pub fn new(tiles: &'a [(Tile, Vec<u8>)], storage: &'a dyn Storage) -> Overlay<'a> {
        Overlay {
            tiles: tiles
                .iter()
                .map(|(t, data)| ((t.kind, t.index), data.as_slice()))
                .collect(),
            base: StorageTiles(storage),
        }
    }
}

impl TileReader for Overlay<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        let missing: Vec<Tile> = tiles
            .iter()
            .filter(|t| !self.tiles.contains_key(&(t.kind, t.index)))
            .copied()
            .collect();
        let mut from_base = self.base.read_tiles(&missing)?.into_iter();
        tiles
            .iter()
            .map(|t| match self.tiles.get(&(t.kind, t.index)) {
                Some(data) => cut_to_width(t, data.to_vec()),
                None => from_base.next().ok_or(TileError::MissingTile(*t)),
            })
            .collect()
    }
}

/// The entry bundles that change when `entries` are appended to a tree of
/// `old_size` read through `base`: the old partial bundle (if any) extended,
/// then new ones, each with its full contents at the new width (C2SP
/// tlog-tiles §Log Entries: a bundle holds up to 256 entries, each with a
/// 2-byte big-endian length prefix).
pub fn entry_bundles(
    base: &dyn TileReader,
    old_size: u64,
    entries: &[Vec<u8>],
) -> Result<Vec<(Tile, Vec<u8>)>, TileError> {
    let width = u64::from(TILE_WIDTH);
    let mut current: Vec<Vec<u8>> = Vec::new();
    if let Some(partial) = tile::partial_entry_tile(old_size) {
        let data = base.read_tiles(&[partial])?;
        let bundle = data.first().ok_or(TileError::MissingTile(partial))?;
        current = tile::parse_bundle_for_tile(&partial, bundle)?
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
    }
    let mut index = old_size / width;
    let mut out = Vec::new();
    for entry in entries {
        current.push(entry.clone());
        if current.len() as u64 == width {
            out.push(encode(index, &current)?);
            current.clear();
            index += 1;
        }
    }
    if !current.is_empty() {
        out.push(encode(index, &current)?);
    }
    return Ok(out);

    fn encode(index: u64, entries: &[Vec<u8>]) -> Result<(Tile, Vec<u8>), TileError> {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let width = u16::try_from(entries.len()).map_err(|_| TileError::InvalidTile {
            reason: "bundle wider than a tile",
        })?;
        Ok((
            Tile::new(TileKind::Entries, index, width)?,
            tile::encode_bundle(&refs)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sigil_core::tile::encode_bundle;

    #[test]
    fn bundles_and_hash_tiles_cut_to_any_smaller_width() {
        let entries: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; usize::from(i)]).collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let full = encode_bundle(&refs).unwrap();
        for w in 1..=10u16 {
            let tile = Tile::new(TileKind::Entries, 0, w).unwrap();
            let cut = cut_to_width(&tile, full.clone()).unwrap();
            assert_eq!(cut, encode_bundle(&refs[..usize::from(w)]).unwrap());
        }
        let tile = Tile::new(TileKind::Entries, 0, 11).unwrap();
        assert!(cut_to_width(&tile, full).is_err());

        let hashes = vec![7u8; 32 * 5];
        let tile = Tile::new(TileKind::Hash { level: 0 }, 0, 3).unwrap();
        assert_eq!(cut_to_width(&tile, hashes.clone()).unwrap().len(), 96);
        let tile = Tile::new(TileKind::Hash { level: 0 }, 0, 6).unwrap();
        assert!(cut_to_width(&tile, hashes).is_err());
    }

    /// Newest bytes of each bundle, as storage keeps them.
    struct Bundles(std::cell::RefCell<HashMap<u64, Vec<u8>>>);

    impl TileReader for Bundles {
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
            let stored = self.0.borrow();
            tiles
                .iter()
                .map(|t| match stored.get(&t.index) {
                    Some(data) => cut_to_width(t, data.clone()),
                    None => Err(TileError::MissingTile(*t)),
                })
                .collect()
        }
    }

    proptest::proptest! {
        /// However entries are cut into rounds, the bundles written round
        /// after round are those of all entries appended at once.
        #[test]
        fn bundles_do_not_depend_on_how_rounds_are_cut(
            rounds in proptest::collection::vec(0usize..300, 1..6),
        ) {
            let store = Bundles(std::cell::RefCell::new(HashMap::new()));
            let mut all: Vec<Vec<u8>> = Vec::new();
            for round in rounds {
                let start = all.len();
                let entries: Vec<Vec<u8>> =
                    (start..start + round).map(|i| i.to_be_bytes().to_vec()).collect();
                for (tile, data) in entry_bundles(&store, start as u64, &entries).unwrap() {
                    proptest::prop_assert_eq!(
                        u64::from(tile.width),
                        (start + round - tile.index as usize * 256).min(256) as u64
                    );
                    store.0.borrow_mut().insert(tile.index, data);
                }
                all.extend(entries);
            }
            let once = Bundles(std::cell::RefCell::new(HashMap::new()));
            for (tile, data) in entry_bundles(&once, 0, &all).unwrap() {
                once.0.borrow_mut().insert(tile.index, data);
            }
            proptest::prop_assert_eq!(&*store.0.borrow(), &*once.0.borrow());
        }
    }
}
