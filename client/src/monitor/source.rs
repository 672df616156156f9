//! The tiles of one monitor step: C2SP `tlog-tiles`
//! (<https://c2sp.org/tlog-tiles>) `GET /tile/...` through a
//! [`TileSource`], cached for the step, with a deleted partial tile cut
//! from its full tile.

use std::cell::RefCell;
use std::collections::HashMap;

use sigil_core::tile::{
    TILE_WIDTH, Tile, TileError, TileKind, TileReader, encode_bundle, parse_bundle,
};

use crate::log_source::{FetchError, TileSource};

/// A [`TileReader`] over a [`TileSource`] for one monitor step.
///
/// Caches, for the step, every hash tile except full level-0 tiles (each
/// of which is read once, with its entry bundle): the right-edge partial
/// tiles and the level-1 and higher tiles that authenticate every level-0
/// tile are then fetched once per step. For a log of 10^8 entries that is
/// at most about 1,530 level-1 tiles, 12 MB.
pub(super) struct SourceTiles<'a> {
    source: &'a dyn TileSource,
    cache: RefCell<HashMap<Tile, Vec<u8>>>,
}

impl<'a> SourceTiles<'a> {
    pub(super) fn new(source: &'a dyn TileSource) -> Self {
        SourceTiles {
            source,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// One tile, from the cache or the source; a partial tile the source
    /// does not have ([`FetchError::NotFound`]) is cut from the full tile
    /// of the same index, whose first hashes (entries) are the same
    /// (tlog-tiles: a full tile holds what every partial tile of its index
    /// held). Any other failure is returned as it is, wrapped in
    /// `TileError::Storage`.
    pub(super) fn fetch(&self, tile: &Tile) -> Result<Vec<u8>, TileError> {
        let cacheable =
            matches!(tile.kind, TileKind::Hash { level } if level > 0 || !tile.is_full());
        if cacheable && let Some(data) = self.cache.borrow().get(tile) {
            return Ok(data.clone());
        }
        let data = match self.source.tile(&tile.path()) {
            Ok(data) => data,
            Err(FetchError::NotFound { .. }) if !tile.is_full() => {
                let full = Tile {
                    width: TILE_WIDTH,
                    ..*tile
                };
                self.source
                    .tile(&full.path())
                    .map(|data| cut_to_width(tile, data))
                    .map_err(TileError::storage)?
            }
            Err(e) => return Err(TileError::storage(e)),
        };
        if cacheable {
            self.cache.borrow_mut().insert(*tile, data.clone());
        }
        Ok(data)
    }
}

/// The first `tile.width` hashes (entries) of the full tile of the same
/// index. Data that is too short or does not parse is returned unchanged,
/// for the caller's length or bundle check to refuse.
fn cut_to_width(tile: &Tile, full: Vec<u8>) -> Vec<u8> {
    let width = usize::from(tile.width);
    match tile.kind {
        TileKind::Hash { .. } => {
            let len = width * sigil_core::merkle::HASH_SIZE;
            if full.len() >= len {
                full[..len].to_vec()
            } else {
                full
            }
        }
        TileKind::Entries => {
            let cut = match parse_bundle(&full) {
                Ok(entries) if entries.len() >= width => encode_bundle(&entries[..width]).ok(),
                _ => None,
            };
            cut.unwrap_or(full)
        }
    }
}

impl TileReader for SourceTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        tiles.iter().map(|t| self.fetch(t)).collect()
    }
}
