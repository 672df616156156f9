//! The log's storage: one narrow trait, [`Storage`], shaped by what the
//! sequencer and the HTTP API need, with three implementations —
//! [`RocksStore`] (RocksDB, the embedded default, DESIGN.md "Storage and the
//! write path"), [`BucketStore`] (tiles and the checkpoint in an S3 bucket,
//! one compare-and-swapped record, a local index; [`object`]) and
//! [`MemStore`] (memory, with fault injection for crash tests). All pass
//! one conformance suite, `tests/storage_conformance.rs`.
//!
//! What is stored: the C2SP tlog-tiles tiles (<https://c2sp.org/tlog-tiles>,
//! hash tiles and entry bundles, see [`sigil_core::tile`]), the last signed
//! checkpoint, and three indexes the log needs: release rows
//! (crate, version → index, sha256), certificate rows (SHA-256 of a logged
//! certificate chain, [`chain_hash`] → index; a chain is logged once) and
//! revocations (certificate id → first void index and the index of the
//! revocation entry that set it, [`RevocationRecord`]).
//!
//! # Invariants
//!
//! Every implementation keeps these; the conformance suite checks them.
//!
//! 1. **One commit point.** [`Storage::append_batch`] is the only write. It
//!    writes a whole [`Batch`] — tiles, release rows, revocations and the new
//!    checkpoint — atomically: after a crash at any moment, the store holds
//!    either everything the batch wrote or nothing of it, never a part.
//! 2. **Durable on return.** When `append_batch` returns `Ok`, the batch is
//!    on stable storage (RocksDB: the write-ahead log is fsync'd) and every
//!    later read, from any thread or after a crash and restart, sees it. The
//!    sequencer may then hand out promises (indexes, proofs) for its entries.
//! 3. **Compare-and-swap on the size.** A batch applies only if the stored
//!    checkpoint's size (0 for a new log) equals [`Batch::old_size`];
//!    otherwise [`StorageError::Conflict`] and nothing is written. Calls are
//!    serialised inside the store, so two racing sequencers cannot both
//!    extend the same size.
//! 4. **The tree only grows.** The stored size never decreases. A full tile is
//!    never written again once a committed checkpoint covers it (immutable,
//!    served with long cache lifetimes); a partial tile is overwritten in
//!    place by its wider versions, under the same key. The caller guarantees
//!    that every version of a tile is a prefix of the later ones (what
//!    [`sigil_core::tile::append_leaves`] produces); the store checks that
//!    each tile of a batch has the width the tree of `new_size` gives it and
//!    the length that width implies.
//! 5. **Tiles are never behind the checkpoint.** The caller puts in each
//!    batch every tile that changes between `old_size` and `new_size` (the
//!    output of `append_leaves` and the changed bundles); the checkpoint is
//!    written with them. So once [`Storage::load_checkpoint`] returns size
//!    `s`, every tile of the tree of size `s` can be read, at its width at
//!    `s` or wider (a later batch may have widened it meanwhile).
//! 6. **Rows are never rewritten.** A release row, once written, never
//!    changes: a batch that brings a different record for an existing
//!    (crate, version) is refused whole ([`StorageError::ReleaseMismatch`]).
//!    Nor does a certificate row ([`StorageError::CertificateMismatch`]). A
//!    revocation only moves to an earlier `from_index`, and then names the
//!    entry that moved it (`sigil_verifier::RevocationSet`: the earliest
//!    `from_index` wins; of two with the same one, the earlier entry).
//! 7. **Failures.** A validation error ([`StorageError::InvalidBatch`],
//!    [`StorageError::SizeDecrease`], [`StorageError::ReleaseMismatch`],
//!    [`StorageError::CertificateMismatch`]) or
//!    a [`StorageError::Conflict`] means nothing was written. Any other error
//!    from `append_batch` (I/O, RocksDB, an injected fault) means the outcome
//!    is **unknown**: the batch may or may not be durable. The caller must
//!    then reload the checkpoint before it signs anything: if the stored size
//!    is the batch's `new_size`, the batch is in. [`MemStore`] simulates both
//!    outcomes ([`Fault`]).
//! 8. **Corrupt data is an error, not a panic.** Stored values are decoded
//!    defensively; a value that cannot be what its key says (a hash tile
//!    whose length is not a multiple of 32, a bundle that does not parse, a
//!    release row of the wrong length, ...) is [`StorageError::Corrupt`].
//!
//! # Concurrency
//!
//! All methods take `&self`; a store is shared as `Arc<S>` (or
//! `Arc<dyn Storage>`). Reads may run from any number of threads while one
//! batch is being appended; they see each batch whole or not at all.
//! `append_batch` blocks on I/O: the async server calls it from
//! `tokio::task::spawn_blocking`.

use std::sync::Arc;

use sigil_core::merkle::HASH_SIZE;
use sigil_core::tile::{TILE_WIDTH, Tile, TileKind, parse_bundle, parse_bundle_for_tile};
use sigil_verifier::RevocationSet;

pub mod memory;
pub mod object;
pub mod rocks;

pub use memory::{AppendHook, Fault, MemStore};
pub use object::{BucketStore, ObjectError};
pub use rocks::{DiskUsage, FORMAT_VERSION, RocksStore};

/// A release already in the log (for duplicate detection and
/// `/api/v1/releases`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseRecord {
    /// Index of the release's entry in the log.
    pub index: u64,
    /// SHA-256 of the `.crate` file.
    pub sha256: [u8; 32],
}

/// A revocation in the log: what `GET /api/v1/revocations/{id}` answers
/// and what the sequencer de-duplicates revocations against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevocationRecord {
    /// The first log index from which the certificate no longer counts:
    /// the earliest of every revocation of it in the log.
    pub from_index: u64,
    /// Index of the revocation entry that set `from_index`.
    pub index: u64,
}

/// The key of a certificate row: SHA-256 over the chain, each certificate
/// as its length (`u32`, big-endian) then its DER, leaf first — the
/// certificates of a `certificate` entry (`docs/formats.md` §1).
pub fn chain_hash(chain: &[Vec<u8>]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for der in chain {
        hash.update(u32::try_from(der.len()).unwrap_or(u32::MAX).to_be_bytes());
        hash.update(der);
    }
    hash.finalize().into()
}

/// The log's current state as last committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size of the checkpoint.
    pub size: u64,
    /// The signed checkpoint note (c2sp.org/tlog-checkpoint), as served at
    /// `GET /checkpoint`.
    pub note: Vec<u8>,
}

/// One sequencing round: everything that becomes durable together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Compare-and-swap: must equal the stored checkpoint's size (0 when
    /// there is none).
    pub old_size: u64,
    /// The tree size after the batch: the size of [`Batch::checkpoint`].
    /// At least `old_size` (equal when only the checkpoint changes).
    pub new_size: u64,
    /// Hash tiles and entry bundles that change, full or partial, each with
    /// the width the tree of `new_size` gives it and its full contents
    /// (`32 · width` bytes for a hash tile, `width` entries for a bundle).
    /// A tile that is full at `old_size` may not appear.
    pub tiles: Vec<(Tile, Vec<u8>)>,
    /// New release rows: (crate, version, record). Names may not contain
    /// NUL; `record.index` is below `new_size`. A row identical to a stored
    /// one is accepted and changes nothing.
    pub releases: Vec<(String, String, ReleaseRecord)>,
    /// New certificate rows: ([`chain_hash`], index of the `certificate`
    /// entry); `index` is below `new_size`. A row identical to a stored one
    /// is accepted and changes nothing.
    pub certificates: Vec<([u8; 32], u64)>,
    /// Revocations: (certificate id, record); `record.index` is below
    /// `new_size`. If the certificate is already revoked, the record with the
    /// earliest `from_index` is kept (of two with the same, the earlier
    /// entry).
    pub revocations: Vec<([u8; 32], RevocationRecord)>,
    /// The new signed checkpoint note, for `new_size`. Not empty.
    pub checkpoint: Vec<u8>,
}

/// The log's storage. See the module documentation for the invariants every
/// implementation keeps.
pub trait Storage: Send + Sync + 'static {
    /// Bytes of memory the store holds, by part, for `/metrics` (the
    /// store's own counters; like every storage call it may wait on a
    /// lock, so async code calls it off the runtime). Default: nothing to
    /// report.
    fn memory(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// The last committed checkpoint, `None` for a new log.
    fn load_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError>;

    /// The latest stored contents of each tile, in the order asked, `None`
    /// where absent.
    ///
    /// Tiles are looked up by (kind, index) regardless of the requested
    /// width: the stored version may be **wider** than requested (a partial
    /// tile of width `W` is a prefix of every later version of that tile, so
    /// the caller truncates to `32 · W` bytes, or to `W` entries). It is
    /// narrower only if the caller asks for a width that no committed
    /// checkpoint has reached yet.
    ///
    /// Errors: [`StorageError::Corrupt`] if a stored value cannot be a tile of
    /// its kind; the backend's errors.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Option<Vec<u8>>>, StorageError>;

    /// The release row of `crate_name`@`version`, if the log has one.
    fn release(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<ReleaseRecord>, StorageError>;

    /// Every release of a crate, as (version, record), ordered by index.
    fn releases(&self, crate_name: &str) -> Result<Vec<(String, ReleaseRecord)>, StorageError>;

    /// The index of the `certificate` entry of this chain ([`chain_hash`]),
    /// if the log has one.
    fn certificate(&self, chain_hash: &[u8; 32]) -> Result<Option<u64>, StorageError>;

    /// The revocation of the certificate with this id, if the log holds
    /// one: the index from which it is void, and the entry that says so.
    fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationRecord>, StorageError>;

    /// Atomically and durably writes the whole batch, or nothing.
    ///
    /// This is the store's one commit point: when it returns `Ok`, everything
    /// in the batch is on stable storage (fsync'd) and visible to every
    /// reader.
    ///
    /// Checks, in this order, each failing without writing anything:
    /// the batch itself ([`StorageError::SizeDecrease`] if
    /// `new_size < old_size`, [`StorageError::InvalidBatch`] for tiles,
    /// rows or a checkpoint that do not fit `new_size`, and
    /// [`StorageError::ReleaseMismatch`] or
    /// [`StorageError::CertificateMismatch`] for one key twice with
    /// different records); then the compare-and-swap
    /// ([`StorageError::Conflict`] if the stored size is not `old_size`);
    /// then the rows ([`StorageError::ReleaseMismatch`],
    /// [`StorageError::CertificateMismatch`] if a row exists with a
    /// different record). Any other error leaves the outcome unknown (module
    /// documentation, invariant 7).
    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError>;

    /// Publishes a checkpoint the witnesses cosigned where readers that do
    /// not go through the log's API find it: the bucket's `checkpoint`
    /// object (C2SP tlog-tiles), for [`BucketStore`]. The log's own
    /// `GET /checkpoint` serves it from memory either way. Default: nothing
    /// to do (RocksDB and memory are read only through the API).
    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StorageError> {
        let _ = note;
        Ok(())
    }
}

impl<S: Storage + ?Sized> Storage for Arc<S> {
    fn memory(&self) -> Vec<(&'static str, u64)> {
        (**self).memory()
    }
    fn load_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        (**self).load_checkpoint()
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        (**self).read_tiles(tiles)
    }
    fn release(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<ReleaseRecord>, StorageError> {
        (**self).release(crate_name, version)
    }
    fn releases(&self, crate_name: &str) -> Result<Vec<(String, ReleaseRecord)>, StorageError> {
        (**self).releases(crate_name)
    }
    fn certificate(&self, chain_hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        (**self).certificate(chain_hash)
    }
    fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationRecord>, StorageError> {
        (**self).revocation(certificate_id)
    }
    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        (**self).append_batch(batch)
    }
    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StorageError> {
        (**self).publish_checkpoint(note)
    }
}

impl<S: Storage + ?Sized> Storage for Box<S> {
    fn memory(&self) -> Vec<(&'static str, u64)> {
        (**self).memory()
    }
    fn load_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        (**self).load_checkpoint()
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        (**self).read_tiles(tiles)
    }
    fn release(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<ReleaseRecord>, StorageError> {
        (**self).release(crate_name, version)
    }
    fn releases(&self, crate_name: &str) -> Result<Vec<(String, ReleaseRecord)>, StorageError> {
        (**self).releases(crate_name)
    }
    fn certificate(&self, chain_hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        (**self).certificate(chain_hash)
    }
    fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationRecord>, StorageError> {
        (**self).revocation(certificate_id)
    }
    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        (**self).append_batch(batch)
    }
    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StorageError> {
        (**self).publish_checkpoint(note)
    }
}

// Both implementations are `Storage`, and the trait is object-safe.
const _: fn() = || {
    fn assert<T: Storage + ?Sized>() {}
    assert::<RocksStore>();
    assert::<MemStore>();
    assert::<BucketStore>();
    assert::<dyn Storage>();
    assert::<Arc<dyn Storage>>();
};

/// Errors of the log's storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// Compare-and-swap failed: the stored checkpoint's size is not the
    /// batch's `old_size` (another writer got there first, or the caller's
    /// view is stale). Nothing was written.
    #[error("stored tree size is {stored}, the batch expected {expected}")]
    Conflict {
        /// Size of the stored checkpoint (0 if none).
        stored: u64,
        /// The batch's `old_size`.
        expected: u64,
    },
    /// The batch would shrink the tree. Nothing was written.
    #[error("batch shrinks the tree from {old_size} to {new_size}")]
    SizeDecrease {
        /// The batch's `old_size`.
        old_size: u64,
        /// The batch's `new_size`.
        new_size: u64,
    },
    /// The batch is malformed: a tile with a width or length that does not
    /// fit `new_size`, a rewrite of a full tile, a name with a NUL byte, a
    /// release index beyond `new_size`, an empty checkpoint. Nothing was
    /// written.
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    /// A release row for this crate and version exists (in the store, or
    /// earlier in the same batch) with a different record. Nothing of the
    /// batch was written.
    #[error("{crate_name}@{version} is already logged at index {} with another record", .existing.index)]
    ReleaseMismatch {
        /// The crate.
        crate_name: String,
        /// The version.
        version: String,
        /// The record already there (the batch's own is in the batch).
        existing: ReleaseRecord,
    },
    /// A certificate row for this chain exists (in the store, or earlier in
    /// the same batch) with another index. Nothing of the batch was written.
    #[error(
        "the certificate chain {} is already logged at index {existing}",
        hex::encode(chain_hash)
    )]
    CertificateMismatch {
        /// The chain's [`chain_hash`].
        chain_hash: [u8; 32],
        /// The index already there.
        existing: u64,
    },
    /// A stored value cannot be what its key says. The store is damaged (or
    /// was written by something else); nothing is repaired.
    #[error("corrupt stored {what}: {reason}")]
    Corrupt {
        /// Which value, e.g. `tile tile/0/005` or `checkpoint`.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The directory holds something that is not a Sigil store: files but no
    /// RocksDB database, or a RocksDB database with data but without the
    /// Sigil format marker. Sigil wrote nothing in it (RocksDB itself may
    /// have recovered its own log while opening a database).
    #[error("{path} is not a Sigil log store: {reason}")]
    NotAStore {
        /// The directory.
        path: std::path::PathBuf,
        /// What was found.
        reason: &'static str,
    },
    /// The store was written in another on-disk format version. It is
    /// left as it is: run it with the build that wrote it (the versions
    /// are listed in [`rocks`]'s documentation).
    #[error(
        "store format version {found} is not supported (this build reads version {supported}); \
         the store was left untouched: run it with the sigil-log that wrote it, or serve a new \
         log from an empty --data-dir"
    )]
    FormatVersion {
        /// Version recorded in the store.
        found: u32,
        /// The version this build reads and writes ([`FORMAT_VERSION`]).
        supported: u32,
    },
    /// The store belongs to a log with another origin.
    #[error("store belongs to log {stored:?}, not {expected:?}")]
    OriginMismatch {
        /// Origin recorded in the store (lossily decoded as UTF-8).
        stored: String,
        /// Origin the caller opened it for.
        expected: String,
    },
    /// The origin given to open a store is empty or has a newline (it is the
    /// first line of every checkpoint).
    #[error("invalid log origin {0:?}: empty or contains a newline")]
    InvalidOrigin(String),
    /// A file-system operation on the store's directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The path operated on.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// RocksDB failed (I/O error, corruption detected by its checksums, the
    /// directory locked by another process, ...).
    #[error("rocksdb: {0}")]
    RocksDb(#[from] rocksdb::Error),
    /// A failure injected into [`MemStore::append_batch`](Storage::append_batch)
    /// by a test ([`MemStore::fail_next_append`]); the fault says whether the
    /// batch was applied.
    #[error("injected append fault ({0:?})")]
    InjectedAppend(Fault),
    /// The object store failed ([`BucketStore`]); for a write, the outcome
    /// is unknown unless the error says otherwise.
    #[error(transparent)]
    Object(#[from] ObjectError),
    /// Another sequencer swapped the checkpoint record ([`BucketStore`],
    /// `object` invariant 4): this one has stopped writing for good.
    #[error(
        "another sequencer ({holder}) now holds the log's checkpoint record; this one stopped \
         writing so that no size is signed twice"
    )]
    LeaseLost {
        /// The holder named in the record.
        holder: String,
    },
    /// Another sequencer holds the lease, which has not run out: this
    /// process serves reads only.
    #[error("this log server is a standby: {holder} holds the sequencer's lease")]
    NotSequencer {
        /// The holder named in the record.
        holder: String,
    },
    /// A write stopped at a [`object::FailPoint`] by a test.
    #[error("injected stop at {0:?}")]
    InjectedPoint(object::FailPoint),
    /// A failure injected into a [`MemStore`] read by a test
    /// ([`MemStore::fail_next_reads`]).
    #[error("injected read fault")]
    InjectedRead,
}

/// What a batch writes besides its tiles and checkpoint, once checked
/// against the stored rows: the release and certificate rows that are new,
/// and the revocations that move earlier (one per certificate).
#[derive(Debug, Default)]
struct RowWrites<'a> {
    /// Release rows to insert.
    releases: Vec<(&'a str, &'a str, &'a ReleaseRecord)>,
    /// Certificate rows to insert: (chain hash, index).
    certificates: Vec<([u8; 32], u64)>,
    /// (certificate id, record) to store.
    revocations: Vec<([u8; 32], RevocationRecord)>,
}

/// Look-ups of the stored rows that [`plan_batch`] checks a batch against.
struct StoredRows<R, C, V> {
    release: R,
    certificate: C,
    revocation: V,
}

/// Whether `new` replaces `old` as the revocation of one certificate: the
/// earliest `from_index` wins (`RevocationSet::insert`), and of two with the
/// same `from_index`, the earlier entry.
fn supersedes(new: &RevocationRecord, old: &RevocationRecord) -> bool {
    let mut known = RevocationSet::new();
    known.insert([0; 32], old.from_index);
    known.insert([0; 32], new.from_index)
        || (new.from_index == old.from_index && new.index < old.index)
}

/// The checks of [`Storage::append_batch`] shared by every implementation,
/// in the documented order, given the stored size and look-ups of the
/// stored rows. Run under the implementation's write lock; writes nothing.
fn plan_batch<'a, R, C, V>(
    batch: &'a Batch,
    stored_size: u64,
    mut stored: StoredRows<R, C, V>,
) -> Result<RowWrites<'a>, StorageError>
where
    R: FnMut(&str, &str) -> Result<Option<ReleaseRecord>, StorageError>,
    C: FnMut(&[u8; 32]) -> Result<Option<u64>, StorageError>,
    V: FnMut(&[u8; 32]) -> Result<Option<RevocationRecord>, StorageError>,
{
    let batch_rows = check_batch(batch)?;
    if stored_size != batch.old_size {
        return Err(StorageError::Conflict {
            stored: stored_size,
            expected: batch.old_size,
        });
    }
    let mut writes = RowWrites::default();
    for (crate_name, version, record) in batch_rows.releases {
        match (stored.release)(crate_name, version)? {
            None => writes.releases.push((crate_name, version, record)),
            Some(existing) if existing == *record => {}
            Some(existing) => {
                return Err(StorageError::ReleaseMismatch {
                    crate_name: crate_name.to_string(),
                    version: version.to_string(),
                    existing,
                });
            }
        }
    }
    for (chain_hash, index) in batch_rows.certificates {
        match (stored.certificate)(&chain_hash)? {
            None => writes.certificates.push((chain_hash, index)),
            Some(existing) if existing == index => {}
            Some(existing) => {
                return Err(StorageError::CertificateMismatch {
                    chain_hash,
                    existing,
                });
            }
        }
    }
    for (id, record) in batch_rows.revocations {
        // Only what moves a revocation earlier is written.
        match (stored.revocation)(&id)? {
            Some(existing) if !supersedes(&record, &existing) => {}
            _ => writes.revocations.push((id, record)),
        }
    }
    Ok(writes)
}

/// Checks a batch on its own (no stored state): sizes, tiles, names,
/// duplicates, checkpoint. Returns its rows deduplicated: one release row
/// per (crate, version), one certificate row per chain, one revocation per
/// certificate (the one that wins, [`supersedes`]).
fn check_batch(batch: &Batch) -> Result<RowWrites<'_>, StorageError> {
    let Batch {
        old_size, new_size, ..
    } = *batch;
    if new_size < old_size {
        return Err(StorageError::SizeDecrease { old_size, new_size });
    }
    let invalid = |msg: String| Err(StorageError::InvalidBatch(msg));
    if batch.checkpoint.is_empty() {
        return invalid("empty checkpoint".into());
    }
    let mut seen = std::collections::HashSet::new();
    for (tile, data) in &batch.tiles {
        if Tile::at_size(tile.kind, tile.index, new_size) != Some(*tile) {
            return invalid(format!(
                "tile {tile} is not a tile of the tree of size {new_size}"
            ));
        }
        if Tile::at_size(tile.kind, tile.index, old_size).is_some_and(|t| t.is_full()) {
            return invalid(format!("tile {tile} is already full at size {old_size}"));
        }
        if !seen.insert((tile.kind, tile.index)) {
            return invalid(format!("tile {tile} appears twice"));
        }
        match tile.kind {
            TileKind::Hash { .. } => {
                let expected = usize::from(tile.width) * HASH_SIZE;
                if data.len() != expected {
                    return invalid(format!(
                        "tile {tile} has {} bytes, expected {expected}",
                        data.len()
                    ));
                }
            }
            TileKind::Entries => {
                if let Err(err) = parse_bundle_for_tile(tile, data) {
                    return invalid(format!("entry bundle {tile}: {err}"));
                }
            }
        }
    }
    let mut rows = RowWrites::default();
    let mut releases = std::collections::HashMap::new();
    for (crate_name, version, record) in &batch.releases {
        if crate_name.contains('\0') || version.contains('\0') {
            return invalid(format!("release {crate_name:?}@{version:?} has a NUL byte"));
        }
        if record.index >= new_size {
            return invalid(format!(
                "release {crate_name}@{version} at index {} is beyond size {new_size}",
                record.index
            ));
        }
        match releases.entry((crate_name.as_str(), version.as_str())) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(record);
                rows.releases
                    .push((crate_name.as_str(), version.as_str(), record));
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                if *slot.get() != record {
                    return Err(StorageError::ReleaseMismatch {
                        crate_name: crate_name.clone(),
                        version: version.clone(),
                        existing: (*slot.get()).clone(),
                    });
                }
            }
        }
    }
    let beyond = |what: String, index: u64| {
        invalid(format!("{what} at index {index} is beyond size {new_size}"))
    };
    let mut certificates = std::collections::HashMap::new();
    for &(chain_hash, index) in &batch.certificates {
        if index >= new_size {
            return beyond(format!("certificate {}", hex::encode(chain_hash)), index);
        }
        match certificates.entry(chain_hash) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
                rows.certificates.push((chain_hash, index));
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                if *slot.get() != index {
                    return Err(StorageError::CertificateMismatch {
                        chain_hash,
                        existing: *slot.get(),
                    });
                }
            }
        }
    }
    let mut revocations: std::collections::HashMap<[u8; 32], RevocationRecord> =
        std::collections::HashMap::new();
    for &(id, record) in &batch.revocations {
        if record.index >= new_size {
            return beyond(format!("revocation of {}", hex::encode(id)), record.index);
        }
        match revocations.entry(id) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(record);
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                if supersedes(&record, slot.get()) {
                    slot.insert(record);
                }
            }
        }
    }
    rows.revocations = revocations.into_iter().collect();
    Ok(rows)
}

/// Checks that a stored tile value can be a tile of its kind: a hash tile
/// is 1 to 256 hashes; an entry bundle parses, with 1 to 256 entries.
/// `Corrupt` otherwise. (The width is not stored: it is implied by the
/// value.)
fn check_stored_tile(kind: TileKind, index: u64, data: &[u8]) -> Result<(), StorageError> {
    let corrupt = |reason: String| {
        // The full tile's path names (kind, index) without a width.
        let tile = Tile {
            kind,
            index,
            width: TILE_WIDTH,
        };
        Err(StorageError::Corrupt {
            what: format!("tile {tile}"),
            reason,
        })
    };
    match kind {
        TileKind::Hash { .. } => {
            let max = usize::from(TILE_WIDTH) * HASH_SIZE;
            if data.is_empty() || !data.len().is_multiple_of(HASH_SIZE) || data.len() > max {
                return corrupt(format!(
                    "{} bytes is not 1 to 256 hashes of 32 bytes",
                    data.len()
                ));
            }
        }
        TileKind::Entries => {
            if let Err(err) = parse_bundle(data) {
                return corrupt(err.to_string());
            }
        }
    }
    Ok(())
}
