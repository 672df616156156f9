//! The read side: what the log serves about its *published* tree — entries,
//! RFC 9162 §2.1.3 inclusion and §2.1.4 consistency proofs, `.tlog-proof`
//! files (C2SP tlog-proof), release and revocation lookups, and tiles
//! (C2SP tlog-tiles) — as `sigil_core::log_api` bodies.
//!
//! Every function takes the published tree size (or the [`Published`]
//! checkpoint) and answers only about that tree: an entry or a release the
//! sequencer has integrated but the publisher has not yet published does
//! not exist here (`docs/log.md`, "lifecycle"). Reads go to storage, which
//! may already hold wider partial tiles than the published size: every tile
//! is cut to its width at that size ([`crate::tiles::cut_to_width`]).
//!
//! These functions block on storage: the HTTP handlers call them from
//! `spawn_blocking`, the publisher from its answering task.

use std::cell::RefCell;
use std::collections::HashMap;

use sigil_core::entry::{Entry, EntryBody};
use sigil_core::log_api::{
    ConsistencyProof, EntryInfo, InclusionProof, ReleaseInfo, ReleaseList, RevocationStatus,
};
use sigil_core::merkle::{self, Hash, MerkleError};
use sigil_core::proof::TlogProof;
use sigil_core::tile::{self, TILE_WIDTH, Tile, TileError, TileHashReader, TileKind, TileReader};

use crate::publisher::Published;
#[cfg(doc)]
use crate::storage::RevocationRecord;
use crate::storage::{Storage, StorageError};
use crate::tiles::{StorageTiles, cut_to_width};

/// Why a read was not answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The entry index is not below the published tree size.
    #[error("index {index} is beyond the tree size {size}")]
    NoSuchEntry {
        /// The index asked for.
        index: u64,
        /// The published tree size.
        size: u64,
    },
    /// An inclusion proof was asked for outside `index < size <= published`.
    #[error(
        "need index < size <= {published} (the published tree size); got index {index}, size {size}"
    )]
    InclusionOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
        /// The published tree size.
        published: u64,
    },
    /// A consistency proof was asked for outside `0 < from <= to <= published`.
    #[error(
        "need 0 < from <= to <= {published} (the published tree size); got from {from}, to {to}"
    )]
    ConsistencyOutOfRange {
        /// The older size asked for.
        from: u64,
        /// The newer size asked for.
        to: u64,
        /// The published tree size.
        published: u64,
    },
    /// The tile does not exist at the published size (or is wider).
    #[error("{tile} does not exist at tree size {size}")]
    NoSuchTile {
        /// The tile asked for.
        tile: Tile,
        /// The published tree size.
        size: u64,
    },
    /// The release is not in the published tree.
    #[error("{crate_name}@{version} is not in the log")]
    NoSuchRelease {
        /// The crate.
        crate_name: String,
        /// The version.
        version: String,
    },
    /// The log holds no revocation of the certificate.
    #[error(
        "the log holds no revocation of this certificate (the log's claim: a log cannot prove \
         absence; monitors check it)"
    )]
    NotRevoked,
    /// A revocation of the certificate is integrated but not yet published.
    #[error("a revocation of this certificate is being published; ask again in a few seconds")]
    RevocationUnpublished,
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// A stored tile is missing or malformed (a bug or corruption).
    #[error("tiles: {0}")]
    Tile(#[from] TileError),
    /// A proof could not be computed from the stored tiles.
    #[error("merkle: {0}")]
    Merkle(#[from] MerkleError),
}

/// `GET /api/v1/entries/{index}`: the entry at `index` of the tree of
/// `size`, and what it says when it decodes.
pub fn entry_info(storage: &dyn Storage, index: u64, size: u64) -> Result<EntryInfo, ReadError> {
    if index >= size {
        return Err(ReadError::NoSuchEntry { index, size });
    }
    let bytes = read_entry(&StorageTiles(storage), index, size)?;
    let mut info = EntryInfo {
        index,
        leaf_hash: merkle::leaf_hash(&bytes),
        entry: Vec::new(),
        kind: None,
        integrated_at: None,
        crate_name: None,
        version: None,
        sha256: None,
    };
    if let Ok(entry) = Entry::decode(&bytes) {
        info.kind = Some(entry.kind_name().to_owned());
        info.integrated_at = Some(entry.integrated_at);
        if let EntryBody::Release(r) = &entry.body {
            info.crate_name = Some(r.crate_name.clone());
            info.version = Some(r.version.clone());
            info.sha256 = Some(r.sha256);
        }
    }
    info.entry = bytes;
    Ok(info)
}

/// `GET /api/v1/proofs/inclusion`: the RFC 9162 §2.1.3.1 inclusion proof of
/// leaf `index` in the tree of `size` (default: the published size).
pub fn inclusion_proof(
    storage: &dyn Storage,
    index: u64,
    size: Option<u64>,
    published: u64,
) -> Result<InclusionProof, ReadError> {
    let size = size.unwrap_or(published);
    if size > published || index >= size {
        return Err(ReadError::InclusionOutOfRange {
            index,
            size,
            published,
        });
    }
    let hashes = merkle::prove_inclusion(
        index,
        size,
        &TileHashReader::trusted(size, &StorageTiles(storage)),
    )?;
    Ok(InclusionProof {
        index,
        size,
        hashes,
    })
}

/// `GET /api/v1/proofs/consistency`: the RFC 9162 §2.1.4.1 consistency
/// proof from `from` to `to` (default: the published size).
pub fn consistency_proof(
    storage: &dyn Storage,
    from: u64,
    to: Option<u64>,
    published: u64,
) -> Result<ConsistencyProof, ReadError> {
    let to = to.unwrap_or(published);
    if from == 0 || from > to || to > published {
        return Err(ReadError::ConsistencyOutOfRange {
            from,
            to,
            published,
        });
    }
    Ok(ConsistencyProof {
        from,
        to,
        hashes: consistency_hashes(&StorageTiles(storage), from, to)?,
    })
}

/// The consistency proof from `old` to `size` (RFC 9162 §2.1.4.1), as a
/// witness is sent it (empty from 0 and to the same size, C2SP
/// tlog-witness §add-checkpoint).
pub fn consistency_hashes(
    reader: &dyn TileReader,
    old: u64,
    size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if old == 0 || old == size {
        return Ok(Vec::new());
    }
    merkle::prove_consistency(old, size, &TileHashReader::trusted(size, reader))
}

/// `GET /api/v1/releases/{crate}`: the versions of `crate_name` in the tree
/// of `size`.
pub fn release_list(
    storage: &dyn Storage,
    crate_name: &str,
    size: u64,
) -> Result<ReleaseList, ReadError> {
    let releases = storage
        .releases(crate_name)?
        .into_iter()
        .filter(|(_, r)| r.index < size)
        .map(|(version, r)| ReleaseInfo {
            version,
            index: r.index,
            sha256: r.sha256,
        })
        .collect();
    Ok(ReleaseList {
        crate_name: crate_name.to_owned(),
        releases,
    })
}

/// `GET /api/v1/releases/{crate}/{version}`: the release's `.tlog-proof`
/// against the published checkpoint.
pub fn release_proof(
    storage: &dyn Storage,
    crate_name: &str,
    version: &str,
    published: &Published,
) -> Result<Vec<u8>, ReadError> {
    let record = storage
        .release(crate_name, version)?
        .filter(|r| r.index < published.size)
        .ok_or_else(|| ReadError::NoSuchRelease {
            crate_name: crate_name.to_owned(),
            version: version.to_owned(),
        })?;
    let reader = StorageTiles(storage);
    let entry = read_entry(&reader, record.index, published.size)?;
    Ok(prove(&reader, record.index, published, entry)?)
}

/// `GET /api/v1/revocations/{certificate_id}`: the revocation of the
/// certificate that sets its `from_index` (the earliest, storage's
/// [`RevocationRecord`]), with the `.tlog-proof` of that entry against
/// `published`. [`ReadError::NotRevoked`] if storage holds none: the log's
/// claim, which a log cannot prove (`docs/log.md`, "Revocation status").
/// [`ReadError::RevocationUnpublished`] if the entry that sets it is
/// integrated but not yet published: the log does not answer "not revoked"
/// (nor an older, later `from_index`) while it knows better.
pub fn revocation_status(
    storage: &dyn Storage,
    certificate_id: [u8; 32],
    published: &Published,
) -> Result<RevocationStatus, ReadError> {
    let record = storage
        .revocation(&certificate_id)?
        .ok_or(ReadError::NotRevoked)?;
    if record.index >= published.size {
        return Err(ReadError::RevocationUnpublished);
    }
    let reader = StorageTiles(storage);
    let entry = read_entry(&reader, record.index, published.size)?;
    let proof = prove(&reader, record.index, published, entry)?;
    Ok(RevocationStatus {
        certificate_id,
        from_index: record.from_index,
        index: record.index,
        proof: String::from_utf8_lossy(&proof).into_owned(),
    })
}

/// `GET /tile/...`: the tile's bytes. Any width up to the published one is
/// served: a partial tile is a prefix of every later version of it.
pub fn tile(storage: &dyn Storage, tile: Tile, size: u64) -> Result<Vec<u8>, ReadError> {
    Tile::at_size(tile.kind, tile.index, size)
        .filter(|published| tile.width <= published.width)
        .ok_or(ReadError::NoSuchTile { tile, size })?;
    let data = StorageTiles(storage).read_tiles(&[tile])?;
    Ok(data.into_iter().next().unwrap_or_default())
}

/// The `.tlog-proof` (C2SP tlog-proof) of `entry`, at `index`, against
/// `published`: the entry as `extra`, the RFC 9162 §2.1.3.1 inclusion
/// proof, and the published checkpoint with its cosignatures.
pub fn prove(
    reader: &dyn TileReader,
    index: u64,
    published: &Published,
    entry: Vec<u8>,
) -> Result<Vec<u8>, MerkleError> {
    let hashes = merkle::prove_inclusion(
        index,
        published.size,
        &TileHashReader::trusted(published.size, reader),
    )?;
    Ok(TlogProof {
        extra: Some(entry),
        index,
        hashes,
        checkpoint: published.checkpoint.clone(),
    }
    .encode())
}

/// The bytes of entry `index` from the entry bundles of a tree of `size`.
pub fn read_entry(reader: &dyn TileReader, index: u64, size: u64) -> Result<Vec<u8>, TileError> {
    let tile = Tile::at_size(TileKind::Entries, index / u64::from(TILE_WIDTH), size).ok_or(
        TileError::InvalidTile {
            reason: "entry index beyond the tree size",
        },
    )?;
    let data = reader.read_tiles(&[tile])?;
    let bundle = data.first().ok_or(TileError::MissingTile(tile))?;
    let entries = tile::parse_bundle_for_tile(&tile, bundle)?;
    entries
        .get((index % u64::from(TILE_WIDTH)) as usize)
        .map(|e| e.to_vec())
        .ok_or(TileError::MissingTile(tile))
}

/// A [`TileReader`] over storage that remembers what it read, for answering
/// a round's proofs (they share most tiles). Keeps the stored (newest)
/// bytes of each tile and cuts them to the width asked for.
pub struct CachedTiles<'a> {
    storage: &'a dyn Storage,
    cache: RefCell<HashMap<(TileKind, u64), Vec<u8>>>,
}

impl<'a> CachedTiles<'a> {
    /// An empty cache over `storage`.
    pub fn new(storage: &'a dyn Storage) -> Self {
        CachedTiles {
            storage,
            cache: RefCell::new(HashMap::new()),
        }
    }
}

impl TileReader for CachedTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        let missing: Vec<Tile> = {
            let cache = self.cache.borrow();
            tiles
                .iter()
                .filter(|t| !cache.contains_key(&(t.kind, t.index)))
                .copied()
                .collect()
        };
        if !missing.is_empty() {
            let stored = self
                .storage
                .read_tiles(&missing)
                .map_err(TileError::storage)?;
            let mut cache = self.cache.borrow_mut();
            for (t, data) in missing.iter().zip(stored) {
                if let Some(data) = data {
                    cache.insert((t.kind, t.index), data);
                }
            }
        }
        let cache = self.cache.borrow();
        tiles
            .iter()
            .map(|t| match cache.get(&(t.kind, t.index)) {
                Some(data) => cut_to_width(t, data.clone()),
                None => Err(TileError::MissingTile(*t)),
            })
            .collect()
    }
}
