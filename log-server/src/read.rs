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
//! [`lookup`] answers `POST /api/v1/lookup`: many releases and the
//! revocation answers of their signers, against one published checkpoint
//! (`docs/log.md`, "Looking up many releases at once").
//!
//! These functions block on storage: the HTTP handlers call them from
//! `spawn_blocking`, the publisher from its answering task.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use sigil_core::entry::{Entry, EntryBody};
use sigil_core::log_api::{
    ConsistencyProof, EntryInfo, InclusionProof, LookupAnswer, MAX_LOOKUP_ANSWER_BYTES,
    ReleaseInfo, ReleaseKey, ReleaseList, ReleaseLookup, RevocationLookup, RevocationStatus,
};
use sigil_core::merkle::{self, CachedHashes, Hash, HashReader, MerkleError};
use sigil_core::proof::TlogProof;
use sigil_core::tile::{self, TILE_WIDTH, Tile, TileError, TileHashReader, TileKind, TileReader};
use sigil_verifier::{ChainCache, TrustedRoots, verify_chain};

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
    /// A lookup's proofs would exceed [`MAX_LOOKUP_ANSWER_BYTES`].
    #[error(
        "the answer would hold more than {MAX_LOOKUP_ANSWER_BYTES} bytes of proofs: ask for \
         fewer releases per request"
    )]
    LookupTooLarge,
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
    let tree = TileHashReader::trusted(published.size, &reader);
    Ok(prove(&tree, record.index, published, entry)?)
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
    let tiles = StorageTiles(storage);
    let tree = TileHashReader::trusted(published.size, &tiles);
    revocation_of(storage, &tree, certificate_id, published)?.ok_or(ReadError::NotRevoked)
}

/// [`revocation_status`], with `None` for "not revoked" and the hashes of
/// the tree of `published.size` read through `tree`: the one rule of both
/// revocation answers.
fn revocation_of(
    storage: &dyn Storage,
    tree: &dyn HashReader,
    certificate_id: [u8; 32],
    published: &Published,
) -> Result<Option<RevocationStatus>, ReadError> {
    let Some(record) = storage.revocation(&certificate_id)? else {
        return Ok(None);
    };
    if record.index >= published.size {
        return Err(ReadError::RevocationUnpublished);
    }
    let entry = read_entry(&StorageTiles(storage), record.index, published.size)?;
    let proof = prove(tree, record.index, published, entry)?;
    Ok(Some(RevocationStatus {
        certificate_id,
        from_index: record.from_index,
        index: record.index,
        proof: String::from_utf8_lossy(&proof).into_owned(),
    }))
}

/// `POST /api/v1/lookup` (`sigil_core::log_api::lookup`, `docs/log.md`
/// "Looking up many releases at once"): for each release asked, in the
/// order asked, its `.tlog-proof` against `published` or `not_logged`;
/// then, for every certificate id on the validated path of a signer of a
/// logged release, what [`revocation_status`] answers, as an item.
///
/// The ids are the verifier's (`sigil_verifier::VerifiedSigner::path_ids`):
/// each signer's chain is validated against `roots` at the entry's
/// `integrated_at`, through `chains`, so a maintainer's chain costs one
/// validation however many of its releases are asked. A chain that no
/// longer validates (its root was dropped from `roots`) adds no id; the
/// client then misses an answer and fails that release closed.
///
/// Work and memory: releases are read in index order, one entry bundle at
/// a time; the hash tiles of the proofs are read once each and kept for
/// the call, and so is every node computed from them.
/// [`ReadError::RevocationUnpublished`] for any id makes the whole answer
/// wait, as the single request does;
/// [`ReadError::LookupTooLarge`] once the proofs pass
/// [`MAX_LOOKUP_ANSWER_BYTES`].
pub fn lookup(
    storage: &dyn Storage,
    releases: &[ReleaseKey],
    published: &Published,
    roots: &TrustedRoots,
    chains: &ChainCache,
) -> Result<LookupAnswer, ReadError> {
    let size = published.size;
    let tiles = CachedTiles::new(storage);
    let tree = CachedHashes::new(TileHashReader::trusted(size, &tiles));
    // Bytes of proofs in the answer so far, against MAX_LOOKUP_ANSWER_BYTES.
    let mut spent = 0usize;
    let mut spend = |proof: &[u8]| {
        spent = spent.saturating_add(proof.len());
        if spent > MAX_LOOKUP_ANSWER_BYTES {
            Err(ReadError::LookupTooLarge)
        } else {
            Ok(())
        }
    };
    // (index, position asked) of the logged ones, in index order:
    // neighbours share their entry bundle and most hash tiles.
    let mut logged = Vec::new();
    for (position, key) in releases.iter().enumerate() {
        if let Some(record) = storage
            .release(&key.crate_name, &key.version)?
            .filter(|r| r.index < size)
        {
            logged.push((record.index, position));
        }
    }
    logged.sort_unstable();
    let mut proofs: Vec<Option<String>> = vec![None; releases.len()];
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    let mut bundle = BundleCursor::new(storage, size);
    for (index, position) in logged {
        let entry = bundle.entry(index)?;
        for id in signer_path_ids(&entry, index, roots, chains) {
            if seen.insert(id) {
                ids.push(id);
            }
        }
        let proof = prove(&tree, index, published, entry)?;
        spend(&proof)?;
        if let Some(slot) = proofs.get_mut(position) {
            *slot = Some(String::from_utf8_lossy(&proof).into_owned());
        }
    }
    let mut revocations = Vec::with_capacity(ids.len());
    for certificate_id in ids {
        revocations.push(
            match revocation_of(storage, &tree, certificate_id, published)? {
                None => RevocationLookup::NotRevoked { certificate_id },
                Some(status) => {
                    spend(status.proof.as_bytes())?;
                    RevocationLookup::Revoked(status)
                }
            },
        );
    }
    let releases = releases
        .iter()
        .zip(proofs)
        .map(|(key, proof)| match proof {
            Some(proof) => ReleaseLookup::Logged {
                crate_name: key.crate_name.clone(),
                version: key.version.clone(),
                proof,
            },
            None => ReleaseLookup::NotLogged {
                crate_name: key.crate_name.clone(),
                version: key.version.clone(),
            },
        })
        .collect();
    Ok(LookupAnswer {
        checkpoint: String::from_utf8_lossy(&published.checkpoint).into_owned(),
        releases,
        revocations,
    })
}

/// The certificate ids of the validated paths of a logged release's
/// signers ([`lookup`]); none for an entry that is not a release, or a
/// chain that does not validate any more (logged: it should not happen).
fn signer_path_ids(
    entry: &[u8],
    index: u64,
    roots: &TrustedRoots,
    chains: &ChainCache,
) -> Vec<[u8; 32]> {
    let (integrated_at, release) = match Entry::decode(entry) {
        Ok(Entry {
            integrated_at,
            body: EntryBody::Release(release),
        }) => (integrated_at, release),
        _ => {
            tracing::warn!(index, "a release row names an entry that is not a release");
            return Vec::new();
        }
    };
    let mut ids = Vec::new();
    for signer in &release.signers {
        match verify_chain(&signer.chain, roots, integrated_at, Some(chains)) {
            Ok(verified) => ids.extend(verified.path_ids().copied()),
            Err(e) => tracing::warn!(
                index,
                error = %e,
                "a logged signer's chain no longer validates; its revocation answers are left out"
            ),
        }
    }
    ids
}

/// Entries read in index order, one entry bundle (C2SP tlog-tiles) kept
/// at a time.
struct BundleCursor<'a> {
    storage: &'a dyn Storage,
    size: u64,
    /// The bundle last read, and its bytes.
    current: Option<(Tile, Vec<u8>)>,
}

impl<'a> BundleCursor<'a> {
    fn new(storage: &'a dyn Storage, size: u64) -> Self {
        BundleCursor {
            storage,
            size,
            current: None,
        }
    }

    /// The bytes of entry `index` (below the tree size).
    fn entry(&mut self, index: u64) -> Result<Vec<u8>, TileError> {
        let tile = Tile::at_size(TileKind::Entries, index / u64::from(TILE_WIDTH), self.size)
            .ok_or(TileError::InvalidTile {
                reason: "entry index beyond the tree size",
            })?;
        let data = match self.current.take() {
            Some((t, data)) if t == tile => data,
            _ => StorageTiles(self.storage)
                .read_tiles(&[tile])?
                .into_iter()
                .next()
                .ok_or(TileError::MissingTile(tile))?,
        };
        let entry = tile::parse_bundle_for_tile(&tile, &data)?
            .get((index % u64::from(TILE_WIDTH)) as usize)
            .map(|e| e.to_vec())
            .ok_or(TileError::MissingTile(tile));
        self.current = Some((tile, data));
        entry
    }
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
/// proof, and the published checkpoint with its cosignatures. `tree` reads
/// the hashes of the tree of `published.size` (a [`TileHashReader`] over
/// it; a [`CachedHashes`] in front of one for many proofs).
pub fn prove(
    tree: &dyn HashReader,
    index: u64,
    published: &Published,
    entry: Vec<u8>,
) -> Result<Vec<u8>, MerkleError> {
    let hashes = merkle::prove_inclusion(index, published.size, &tree)?;
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
