//! Tiled transparency logs: C2SP `tlog-tiles` (<https://c2sp.org/tlog-tiles>).
//!
//! The log publishes its Merkle tree (RFC 6962 §2.1, see [`crate::merkle`])
//! as *tiles*: sequences of at most 256 consecutive hashes of one level, and
//! its entries as *entry bundles* of at most 256 entries.
//!
//! # Tiles
//!
//! Tile height is 8. The `n`-th tile at level `l` holds, for `i` in `0..256`,
//!
//! ```text
//! MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])
//! ```
//!
//! so level-0 tiles hold leaf hashes, and each hash of a level-1 tile is the
//! root of a full level-0 tile (a level-8 subtree). A full tile is exactly
//! 256 hashes (8,192 bytes). The rightmost tile of each level is *partial*
//! for most tree sizes: for a tree of size `s` it holds
//! `floor(s / 256**l) mod 256` hashes, is never hashed into the level above,
//! and is not served when empty. A tree of size 70,000 is 273 full level-0
//! tiles, a level-0 partial of width 112, one full level-1 tile, a level-1
//! partial of width 17 and a level-2 partial of width 1.
//!
//! # Paths
//!
//! ```text
//! tile/<L>/<N>[.p/<W>]          hash tile at level L
//! tile/entries/<N>[.p/<W>]      entry bundle
//! ```
//!
//! * `<L>`: decimal 0 to 63, no leading zeros.
//! * `<N>`: the tile index in zero-padded 3-digit path elements, every
//!   element but the last prefixed with `x`: index 1234067 is
//!   `x001/x234/067`, index 5 is `005`, index 1000 is `x001/000`.
//! * `.p/<W>`: only on partial tiles; `<W>` is the width, decimal 1 to 255,
//!   no leading zeros.
//!
//! So the level-0 partial tile of width 112 at index 1234067 is
//! `tile/0/x001/x234/067.p/112`. [`Tile::parse_path`] accepts exactly the
//! strings [`Tile::path`] produces (optionally with a leading `/`) and
//! rejects every other spelling of the same tile.
//!
//! # Entry bundles
//!
//! A bundle is the concatenation, for each entry, of its length as a
//! big-endian `uint16` and its bytes: entries `""` and `"ab"` encode as
//! `00 00 00 02 61 62`. See [`encode_bundle`] and [`parse_bundle`].

use crate::merkle::{HASH_SIZE, Hash, MerkleError, NodeId, root_from_leaf_hashes};

mod append;
mod bundle;
mod path;
mod reader;

pub use append::append_leaves;
pub use bundle::{encode_bundle, parse_bundle, parse_bundle_for_tile};
pub use reader::{TileHashReader, TileReader};

/// Height of a tile: each tile spans 8 levels of the tree.
pub const TILE_HEIGHT: u8 = 8;
/// Number of hashes in a full tile (`2^TILE_HEIGHT`), and of entries in a
/// full entry bundle.
pub const TILE_WIDTH: u16 = 256;
/// Largest entry an entry bundle can carry (its length prefix is a `uint16`).
pub const MAX_ENTRY_SIZE: usize = 65_535;
/// Highest tile level a path may name (tlog-tiles: `<L>` is 0 to 63).
pub const MAX_TILE_LEVEL: u8 = 63;

/// Which kind of tile: hashes at a level, or entry bundles (`tile/entries/...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Merkle tree hashes (`tile/<L>/...`). Tile level `level` holds hashes
    /// of tree level `8 · level`.
    Hash {
        /// Tile level, 0 to 63.
        level: u8,
    },
    /// An entry bundle (`tile/entries/...`): the entries whose leaf hashes
    /// are the level-0 tile of the same index.
    Entries,
}

/// A tile: `index` N at its level; `width` 1..=256 (256 = full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Hash tile or entry bundle.
    pub kind: TileKind,
    /// Index of the tile among the tiles of its level, from 0.
    pub index: u64,
    /// Number of hashes (entries) in the tile: 256 for a full tile, 1 to 255
    /// for a partial one.
    pub width: u16,
}

impl Tile {
    /// A tile, after checking its fields: level at most 63, width 1 to 256.
    pub fn new(kind: TileKind, index: u64, width: u16) -> Result<Tile, TileError> {
        if let TileKind::Hash { level } = kind
            && level > MAX_TILE_LEVEL
        {
            return Err(TileError::InvalidTile {
                reason: "level above 63",
            });
        }
        if width == 0 || width > TILE_WIDTH {
            return Err(TileError::InvalidTile {
                reason: "width outside 1..=256",
            });
        }
        Ok(Tile { kind, index, width })
    }

    /// The tile path of tlog-tiles, without a leading `/`, e.g.
    /// `tile/0/x001/x234/067.p/112` or `tile/entries/000`.
    ///
    /// For a tile that [`Tile::new`] accepts, [`Tile::parse_path`] gives it
    /// back.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// Parses a tile path, with or without a leading `/`.
    ///
    /// Strict: only the canonical spelling is accepted, so that one tile has
    /// one path. Rejected, among others: leading zeros in `<L>` or `<W>`;
    /// `<L>` above 63; index elements that are not 3 digits, a missing or
    /// extra `x`, a leading `x000/` element; `.p/0`, `.p/256` and above;
    /// empty elements and a trailing `/`; an index above `u64::MAX`.
    pub fn parse_path(path: &str) -> Result<Tile, TileError> {
        path::parse(path)
    }

    /// Whether the tile holds 256 hashes (entries).
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The tile with this kind and index as published for a tree of `size`
    /// leaves: full, partial with the width that size gives, or `None` if the
    /// tree has no such tile (yet).
    pub fn at_size(kind: TileKind, index: u64, size: u64) -> Option<Tile> {
        let count = match kind {
            TileKind::Hash { level } if level > MAX_TILE_LEVEL => return None,
            TileKind::Hash { level } => level_count(size, level),
            TileKind::Entries => size,
        };
        let full = count >> TILE_HEIGHT;
        let width = if index < full {
            TILE_WIDTH
        } else if index == full && count % 256 != 0 {
            (count % 256) as u16
        } else {
            return None;
        };
        Some(Tile { kind, index, width })
    }
}

impl std::fmt::Display for Tile {
    /// Writes [`Tile::path`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        path::format(self, f)
    }
}

/// Errors of tile paths, tile contents, tile readers and entry bundles.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// A string is not a canonical tlog-tiles tile path. `path` is cut
    /// to its first 100 characters.
    #[error("invalid tile path {path:?}: {reason}")]
    InvalidPath {
        /// The rejected path (at most 100 characters of it).
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tile's fields are out of range (level above 63, width not 1 to 256),
    /// or a hash tile was given where an entry bundle is expected.
    #[error("invalid tile: {reason}")]
    InvalidTile {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The node is not a complete subtree of the tree of this size, so no
    /// tile of that tree holds its hash.
    #[error("node at level {} index {} is not in a tree of size {size}", .node.level, .node.index)]
    NodeNotInTree {
        /// The node asked for.
        node: NodeId,
        /// The tree size.
        size: u64,
    },
    /// Tile data does not have the length its width implies
    /// (32 bytes per hash).
    #[error("tile {tile} has {got} bytes, expected {expected}")]
    WrongTileLength {
        /// The tile.
        tile: Tile,
        /// `32 · width`.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// A tile reader answered with a different number of tiles than it was
    /// asked for.
    #[error("tile reader returned {returned} tiles for {requested}")]
    ReaderResponse {
        /// Tiles asked for.
        requested: usize,
        /// Tiles returned.
        returned: usize,
    },
    /// The tile reader does not have this tile.
    #[error("tile {0} not found")]
    MissingTile(Tile),
    /// Authentication failed: the right-edge (partial) tiles of the tree do
    /// not hash to the trusted root. At least one of them is wrong.
    #[error("tiles of tree size {size} do not hash to the trusted root")]
    RootMismatch {
        /// The tree size.
        size: u64,
    },
    /// Authentication failed: a full tile does not hash to the value its
    /// (authenticated) parent tile records for it.
    #[error("tile {tile} does not match the hash recorded in its parent tile")]
    TileMismatch {
        /// The rejected tile.
        tile: Tile,
    },
    /// Appending would take the tree beyond `u64::MAX` leaves.
    #[error("tree size {old_size} plus {added} entries overflows")]
    SizeOverflow {
        /// Size before the append.
        old_size: u64,
        /// Number of entries to append.
        added: usize,
    },
    /// An entry is longer than [`MAX_ENTRY_SIZE`] bytes.
    #[error("entry {index} is {len} bytes, more than 65,535")]
    EntryTooLarge {
        /// Position of the entry in the bundle.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// A bundle would hold (or holds) more than 256 entries.
    #[error("bundle has more than 256 entries ({count} seen)")]
    TooManyEntries {
        /// Entries given to the encoder, or seen by the parser when it
        /// stopped (257).
        count: usize,
    },
    /// A bundle has no entries: empty tiles are never published.
    #[error("empty entry bundle")]
    EmptyBundle,
    /// A bundle ends inside an entry's 2-byte length prefix.
    #[error("bundle truncated in the length of entry {index} at byte {offset}")]
    TruncatedLength {
        /// Position of the entry.
        index: usize,
        /// Byte offset of the length prefix.
        offset: usize,
    },
    /// A bundle ends inside an entry's bytes.
    #[error("bundle truncated in entry {index}: {len} bytes announced, {available} left")]
    TruncatedEntry {
        /// Position of the entry.
        index: usize,
        /// Length announced by the prefix.
        len: usize,
        /// Bytes left in the bundle.
        available: usize,
    },
    /// A bundle holds a different number of entries than its tile's width.
    #[error("bundle for a tile of width {expected} holds {got} entries")]
    BundleWidthMismatch {
        /// The tile's width.
        expected: u16,
        /// Entries in the bundle.
        got: usize,
    },
    /// The tile storage failed (I/O, network); the source is its own error.
    #[error("tile storage: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl TileError {
    /// Wraps a storage error as [`TileError::Storage`].
    pub fn storage(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        TileError::Storage(Box::new(err))
    }
}

impl From<TileError> for MerkleError {
    /// A node outside the tree becomes [`MerkleError::MissingNode`]; every
    /// other tile error is the hash reader's storage error.
    fn from(err: TileError) -> Self {
        match err {
            TileError::NodeNotInTree { node, .. } => MerkleError::MissingNode(node),
            other => MerkleError::storage(other),
        }
    }
}

/// Number of hashes at tree level `8 · tile_level` in a tree of `size`
/// leaves: `floor(size / 256**tile_level)`; 0 above level 7.
fn level_count(size: u64, tile_level: u8) -> u64 {
    size.checked_shr(u32::from(tile_level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// Iterator over the tiles of a tree, level by level, index by index; see
/// [`hash_tiles`] and [`entry_tiles`].
#[derive(Clone, Debug)]
pub struct Tiles {
    /// Tree size.
    size: u64,
    /// Kind of the next tile; `None` once finished.
    next: Option<TileKind>,
    /// Index of the next tile within its level.
    index: u64,
}

impl Iterator for Tiles {
    type Item = Tile;

    fn next(&mut self) -> Option<Tile> {
        loop {
            let kind = self.next?;
            if let Some(tile) = Tile::at_size(kind, self.index, self.size) {
                self.index += 1;
                return Some(tile);
            }
            // This level is done: move up one hash level, or stop.
            self.index = 0;
            self.next = match kind {
                TileKind::Hash { level } if level < MAX_TILE_LEVEL => {
                    let up = level + 1;
                    (level_count(self.size, up) > 0).then_some(TileKind::Hash { level: up })
                }
                _ => None,
            };
        }
    }
}

/// Every hash tile of the tree of `size` leaves, full and partial, all
/// levels: level 0 first, by index within a level.
///
/// Lazy: a tree of 10^8 entries has about 392,000 tiles, a tree near
/// `u64::MAX` about 2^56. For what changes as the log grows, see
/// [`partial_tiles`].
pub fn hash_tiles(size: u64) -> Tiles {
    Tiles {
        size,
        next: (size > 0).then_some(TileKind::Hash { level: 0 }),
        index: 0,
    }
}

/// Every hash tile of the tree of `size` leaves, collected: see
/// [`hash_tiles`] (about 24 bytes per tile; for 70,000 entries 277 tiles).
pub fn hash_tiles_for_size(size: u64) -> Vec<Tile> {
    hash_tiles(size).collect()
}

/// The right-edge partial hash tiles of the tree of `size` leaves, one per
/// level whose width `floor(size / 256**l) mod 256` is not zero, lowest level
/// first. These are the tiles a tree of this size adds besides full tiles;
/// they are also what [`append_leaves`] reads and what authenticates a tree
/// against its root.
pub fn partial_tiles(size: u64) -> Vec<Tile> {
    (0..=MAX_TILE_LEVEL)
        .take_while(|&level| level_count(size, level) > 0)
        .filter_map(|level| {
            let count = level_count(size, level);
            Tile::at_size(TileKind::Hash { level }, count >> TILE_HEIGHT, size)
        })
        .collect()
}

/// Every entry bundle of the tree of `size` leaves, full and partial, by
/// index. Lazy; see [`entry_tiles_for_size`].
pub fn entry_tiles(size: u64) -> Tiles {
    Tiles {
        size,
        next: (size > 0).then_some(TileKind::Entries),
        index: 0,
    }
}

/// Every entry bundle of the tree of `size` leaves, collected.
pub fn entry_tiles_for_size(size: u64) -> Vec<Tile> {
    entry_tiles(size).collect()
}

/// The partial entry bundle of the tree of `size` leaves, if `size` is not a
/// multiple of 256.
pub fn partial_entry_tile(size: u64) -> Option<Tile> {
    Tile::at_size(TileKind::Entries, size >> TILE_HEIGHT, size).filter(|t| !t.is_full())
}

/// Where the hash of a complete subtree is found in the tiles of a tree:
/// the hash is the Merkle Tree Hash of `count` consecutive hashes of `tile`,
/// starting at position `start`.
///
/// A node of tree level `8·t` is one hash of a level-`t` tile (`count` 1); a
/// node of level `8·t + j` is the root of `2^j` hashes of that tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeLocation {
    /// The tile, with the width it has in the tree the location was asked for.
    pub tile: Tile,
    /// Position of the first hash, 0 to 255.
    pub start: u16,
    /// Number of hashes: a power of two, 1 to 128.
    pub count: u16,
}

impl NodeLocation {
    /// The node's hash, from the data of [`NodeLocation::tile`].
    ///
    /// Errors: [`TileError::WrongTileLength`] if the data is not
    /// `32 · width` bytes.
    pub fn hash_from(&self, data: &[u8]) -> Result<Hash, TileError> {
        check_tile_length(&self.tile, data)?;
        let from = usize::from(self.start) * HASH_SIZE;
        let to = from + usize::from(self.count) * HASH_SIZE;
        let bytes = data.get(from..to).ok_or(TileError::WrongTileLength {
            tile: self.tile,
            expected: to,
            got: data.len(),
        })?;
        Ok(root_from_leaf_hashes(&hashes_of(bytes)))
    }
}

/// Which tile, at the width it has in the tree of `size` leaves, holds the
/// stored hash of `node`, and at what position.
///
/// Errors: [`TileError::NodeNotInTree`] unless the node is a complete
/// subtree of that tree.
pub fn tile_for_node(node: NodeId, size: u64) -> Result<NodeLocation, TileError> {
    if !node.is_in_tree(size) {
        return Err(TileError::NodeNotInTree { node, size });
    }
    let tile_level = node.level / TILE_HEIGHT;
    let within = node.level % TILE_HEIGHT;
    // Position of the node's first hash among the hashes of tree level
    // 8 · tile_level. No overflow: index << level < size for a node in the tree.
    let first = node.index << within;
    let kind = TileKind::Hash { level: tile_level };
    let tile = Tile::at_size(kind, first >> TILE_HEIGHT, size)
        .ok_or(TileError::NodeNotInTree { node, size })?;
    Ok(NodeLocation {
        tile,
        start: (first % u64::from(TILE_WIDTH)) as u16,
        count: 1 << within,
    })
}

/// The hashes of a hash tile, checking that the data is `32 · width` bytes.
pub fn parse_hash_tile(tile: &Tile, data: &[u8]) -> Result<Vec<Hash>, TileError> {
    check_tile_length(tile, data)?;
    Ok(hashes_of(data))
}

/// The bytes of a hash tile: the hashes, concatenated.
pub fn encode_hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Checks that a hash tile's data is `32 · width` bytes. Entry bundles have
/// no fixed length and pass.
fn check_tile_length(tile: &Tile, data: &[u8]) -> Result<(), TileError> {
    let expected = usize::from(tile.width) * HASH_SIZE;
    if matches!(tile.kind, TileKind::Hash { .. }) && data.len() != expected {
        return Err(TileError::WrongTileLength {
            tile: *tile,
            expected,
            got: data.len(),
        });
    }
    Ok(())
}

/// Splits bytes into 32-byte hashes (a trailing partial hash is ignored;
/// callers check lengths first).
fn hashes_of(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(HASH_SIZE)
        .map(|chunk| {
            let mut hash = [0u8; HASH_SIZE];
            hash.copy_from_slice(chunk);
            hash
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_70000_matches_the_spec_example() {
        let tiles = hash_tiles_for_size(70_000);
        let count = |level: u8, full: bool| {
            tiles
                .iter()
                .filter(|t| t.kind == TileKind::Hash { level } && t.is_full() == full)
                .count()
        };
        assert_eq!(count(0, true), 273);
        assert_eq!(count(1, true), 1);
        assert_eq!(count(2, true), 0);
        assert_eq!(tiles.len(), 277);
        let partial: Vec<_> = partial_tiles(70_000).iter().map(|t| t.width).collect();
        assert_eq!(partial, [112, 17, 1]);
    }

    #[test]
    fn tiles_near_u64_max() {
        let edges = partial_tiles(u64::MAX);
        assert_eq!(edges.len(), 8);
        assert!(edges.iter().all(|t| t.width == 255));
        assert_eq!(hash_tiles(u64::MAX).take(3).count(), 3);
        assert_eq!(
            tile_for_node(NodeId::new(63, 0), u64::MAX)
                .ok()
                .map(|l| (l.tile.width, l.count)),
            Some((255, 128))
        );
    }
}
