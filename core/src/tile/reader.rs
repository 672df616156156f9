//! Reading stored hashes out of tiles: [`TileReader`] and [`TileHashReader`].

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use super::{
    NodeLocation, TILE_HEIGHT, Tile, TileError, TileKind, check_tile_length, partial_tiles,
    root_from_leaf_hashes, tile_for_node,
};
use crate::merkle::{Hash, HashReader, MerkleError, NodeId, empty_root, fold_range, range_nodes};

/// Read tiles from somewhere (storage, HTTP).
pub trait TileReader {
    /// The contents of the given tiles, in the same order: for a hash tile
    /// exactly `32 · width` bytes, for an entry bundle the bundle. Tiles are
    /// asked for at the width the caller's tree size gives them; a reader
    /// may answer a partial tile from the prefix of the full tile of the same
    /// index, which holds the same hashes. One call per proof or append, so
    /// readers can fetch in parallel or batch.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError>;
}

impl<T: TileReader + ?Sized> TileReader for &T {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        (**self).read_tiles(tiles)
    }
}

/// A map of tiles (tests, small in-memory stores). A tile that is not in
/// the map is [`TileError::MissingTile`].
impl<S: BuildHasher> TileReader for HashMap<Tile, Vec<u8>, S> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        tiles
            .iter()
            .map(|t| self.get(t).cloned().ok_or(TileError::MissingTile(*t)))
            .collect()
    }
}

/// A map of tiles (tests, small in-memory stores). A tile that is not in
/// the map is [`TileError::MissingTile`].
impl TileReader for BTreeMap<Tile, Vec<u8>> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        tiles
            .iter()
            .map(|t| self.get(t).cloned().ok_or(TileError::MissingTile(*t)))
            .collect()
    }
}

/// Calls `r.read_tiles` once (not at all for an empty list) and checks that
/// every tile came back with the length its width implies.
pub(super) fn read_tiles_checked(
    r: &(impl TileReader + ?Sized),
    tiles: &[Tile],
) -> Result<Vec<Vec<u8>>, TileError> {
    if tiles.is_empty() {
        return Ok(Vec::new());
    }
    let data = r.read_tiles(tiles)?;
    if data.len() != tiles.len() {
        return Err(TileError::ReaderResponse {
            requested: tiles.len(),
            returned: data.len(),
        });
    }
    for (tile, bytes) in tiles.iter().zip(&data) {
        check_tile_length(tile, bytes)?;
    }
    Ok(data)
}

/// [`HashReader`] over tiles for a tree of `size`. Two modes:
///
/// - [`TileHashReader::trusted`]: the log reading its own storage; tiles are
///   only checked for length.
/// - [`TileHashReader::authenticated`]: a client or monitor. Every tile it
///   reads is checked against the trusted root before any hash from it is
///   returned: the right-edge partial tiles must hash to the root (they hold
///   the complete subtrees the root is made of), and each full tile must hash
///   to the value its parent tile records, up to an authenticated partial
///   tile. A mismatch is an error ([`TileError::RootMismatch`],
///   [`TileError::TileMismatch`], wrapped in [`MerkleError::Storage`]).
///
/// Each [`HashReader::read_hashes`] call makes one [`TileReader::read_tiles`]
/// call (none for an empty request). Nothing is cached between calls: wrap
/// the tile reader for that. Nodes outside the tree are
/// [`MerkleError::MissingNode`].
#[derive(Debug)]
pub struct TileHashReader<'a, R: TileReader + ?Sized> {
    /// Tree size the tiles are read at.
    size: u64,
    /// Trusted root to authenticate tiles against, in authenticated mode.
    root: Option<Hash>,
    /// Where the tiles come from.
    reader: &'a R,
}

impl<'a, R: TileReader + ?Sized> TileHashReader<'a, R> {
    /// A reader that trusts the tiles (the log reading its own storage).
    pub fn trusted(size: u64, reader: &'a R) -> Self {
        TileHashReader {
            size,
            root: None,
            reader,
        }
    }

    /// A reader that authenticates every tile it reads against `root`, the
    /// root hash of the tree of `size` leaves from a verified checkpoint.
    pub fn authenticated(size: u64, root: Hash, reader: &'a R) -> Self {
        TileHashReader {
            size,
            root: Some(root),
            reader,
        }
    }

    /// The tree size the tiles are read at.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hashes of `ids`, with typed tile errors.
    pub fn read_hashes_from_tiles(&self, ids: &[NodeId]) -> Result<Vec<Hash>, TileError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let locations = ids
            .iter()
            .map(|&id| tile_for_node(id, self.size))
            .collect::<Result<Vec<_>, _>>()?;
        let mut plan = TilePlan::default();
        for location in &locations {
            plan.add(location.tile);
        }
        if self.root.is_some() {
            // The right-edge tiles, to check against the root...
            for tile in partial_tiles(self.size) {
                plan.add(tile);
            }
            // ...and the chain of parents of every full tile, up to one of them.
            for location in &locations {
                let mut tile = location.tile;
                while tile.is_full() {
                    tile = self.parent_location(&tile)?.tile;
                    plan.add(tile);
                }
            }
        }
        let data = read_tiles_checked(self.reader, &plan.tiles)?;
        if let Some(root) = self.root {
            self.authenticate(&plan, &data, &root)?;
        }
        locations
            .iter()
            .map(|location| plan.hash(location, &data))
            .collect()
    }

    /// Where the hash of a full hash tile is recorded: one hash of the tile
    /// one level up (tree level `8 · (level + 1)`, index = the tile's index).
    fn parent_location(&self, tile: &Tile) -> Result<NodeLocation, TileError> {
        let TileKind::Hash { level } = tile.kind else {
            return Err(TileError::InvalidTile {
                reason: "an entry bundle has no parent tile",
            });
        };
        let node = NodeId::new(
            level.saturating_add(1).saturating_mul(TILE_HEIGHT),
            tile.index,
        );
        tile_for_node(node, self.size)
    }

    /// Checks every tile of `plan` against `root`.
    fn authenticate(
        &self,
        plan: &TilePlan,
        data: &[Vec<u8>],
        root: &Hash,
    ) -> Result<(), TileError> {
        // The root is made of the complete subtrees of the tree, which all lie
        // in the partial tiles: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])),
        // https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1, unrolled.
        // Together they cover every hash of every partial tile.
        let mut subtrees = Vec::new();
        for node in range_nodes(0, self.size) {
            subtrees.push(plan.hash(&tile_for_node(node, self.size)?, data)?);
        }
        let computed = fold_range(&subtrees).unwrap_or_else(empty_root);
        if computed != *root {
            return Err(TileError::RootMismatch { size: self.size });
        }
        // Each full tile is the level-8 subtree whose root its parent records.
        for (tile, bytes) in plan.tiles.iter().zip(data) {
            if !tile.is_full() {
                continue;
            }
            let recorded = plan.hash(&self.parent_location(tile)?, data)?;
            let hashes = super::parse_hash_tile(tile, bytes)?;
            if root_from_leaf_hashes(&hashes) != recorded {
                return Err(TileError::TileMismatch { tile: *tile });
            }
        }
        Ok(())
    }
}

impl<R: TileReader + ?Sized> HashReader for TileHashReader<'_, R> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MerkleError> {
        Ok(self.read_hashes_from_tiles(ids)?)
    }
}

/// The distinct tiles one read needs, in the order first asked for.
#[derive(Debug, Default)]
struct TilePlan {
    /// Tiles to read.
    tiles: Vec<Tile>,
    /// Position of each tile in `tiles`.
    positions: HashMap<Tile, usize>,
}

impl TilePlan {
    /// Adds a tile unless it is already planned.
    fn add(&mut self, tile: Tile) {
        let next = self.tiles.len();
        self.positions.entry(tile).or_insert_with(|| {
            self.tiles.push(tile);
            next
        });
    }

    /// The hash at `location`, from the data read for the plan.
    fn hash(&self, location: &NodeLocation, data: &[Vec<u8>]) -> Result<Hash, TileError> {
        let bytes = self
            .positions
            .get(&location.tile)
            .and_then(|&i| data.get(i))
            .ok_or(TileError::MissingTile(location.tile))?;
        location.hash_from(bytes)
    }
}
