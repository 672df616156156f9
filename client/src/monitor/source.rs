//! Where a monitor reads the log: C2SP `tlog-tiles`
//! (<https://c2sp.org/tlog-tiles>) `GET /checkpoint` and `GET /tile/...`,
//! behind [`TileSource`] so that this crate does no HTTP.

use std::cell::RefCell;
use std::collections::HashMap;

use sigil_core::tile::{
    TILE_WIDTH, Tile, TileError, TileKind, TileReader, encode_bundle, parse_bundle,
};

/// The read side of a tiled log, as a monitor sees it. The `sigil monitor`
/// command implements it over HTTP; tests over memory.
pub trait TileSource {
    /// The body of `GET <log>/checkpoint`: the signed checkpoint note
    /// (C2SP `tlog-checkpoint`), byte for byte.
    ///
    /// # Errors
    ///
    /// Why it could not be fetched, for a person (network, HTTP status).
    fn checkpoint(&self) -> Result<Vec<u8>, String>;

    /// The body of `GET <log>/<path>`, where `path` is a whole tlog-tiles
    /// path as [`Tile::path`] writes it, *with* its `tile/` prefix and
    /// without a leading `/`: `tile/0/x001/234.p/17`,
    /// `tile/entries/000`, `tile/1/000`. An implementation over HTTP joins
    /// it to the log's base URL with one `/`.
    ///
    /// # Errors
    ///
    /// Why it could not be fetched, for a person. A partial tile that is
    /// gone (tlog-tiles lets a log delete it once the full tile exists) may
    /// fail: the monitor then asks for the full tile of the same index.
    fn tile(&self, path: &str) -> Result<Vec<u8>, String>;
}

impl<T: TileSource + ?Sized> TileSource for &T {
    fn checkpoint(&self) -> Result<Vec<u8>, String> {
        (**self).checkpoint()
    }
    fn tile(&self, path: &str) -> Result<Vec<u8>, String> {
        (**self).tile(path)
    }
}

/// A tile the source could not deliver.
#[derive(Debug, thiserror::Error)]
#[error("fetching {path}: {reason}")]
pub(super) struct FetchError {
    /// The tile path asked for.
    pub(super) path: String,
    /// The source's reason.
    pub(super) reason: String,
}

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
    /// does not have is cut from the full tile of the same index, whose
    /// first hashes (entries) are the same (tlog-tiles: a full tile holds
    /// what every partial tile of its index held).
    pub(super) fn fetch(&self, tile: &Tile) -> Result<Vec<u8>, TileError> {
        let cacheable =
            matches!(tile.kind, TileKind::Hash { level } if level > 0 || !tile.is_full());
        if cacheable && let Some(data) = self.cache.borrow().get(tile) {
            return Ok(data.clone());
        }
        let path = tile.path();
        let data = match self.source.tile(&path) {
            Ok(data) => data,
            Err(reason) if !tile.is_full() => {
                let full = Tile {
                    width: TILE_WIDTH,
                    ..*tile
                };
                match self.source.tile(&full.path()) {
                    Ok(data) => cut_to_width(tile, data),
                    Err(_) => return Err(TileError::storage(FetchError { path, reason })),
                }
            }
            Err(reason) => return Err(TileError::storage(FetchError { path, reason })),
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
