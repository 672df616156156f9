//! [`RocksStore`]: the log's storage in one RocksDB database, the embedded
//! default (DESIGN.md "Storage and the write path").
//!
//! # Key layout (format version 2)
//!
//! One column family (`default`). Every key starts with one ASCII byte
//! naming its table; integers are big-endian.
//!
//! | table | key | value |
//! |---|---|---|
//! | meta: format | `4D` `"format"` (`Mformat`) | version, `u32` (`00 00 00 02`) |
//! | meta: origin | `4D` `"origin"` (`Morigin`) | the log's origin, UTF-8 |
//! | meta: checkpoint | `4D` `"checkpoint"` (`Mcheckpoint`) | tree size `u64` ‖ signed checkpoint note |
//! | tiles | `54` (`T`) ‖ kind `u8` ‖ index `u64` — 10 bytes | the tile's latest contents |
//! | releases | `52` (`R`) ‖ crate ‖ `00` ‖ version | index `u64` ‖ sha256 (32 bytes) — 40 bytes |
//! | certificates | `43` (`C`) ‖ chain hash (32 bytes, [`chain_hash`]) — 33 bytes | index `u64` of the `certificate` entry |
//! | revocations | `56` (`V`) ‖ certificate id (32 bytes) — 33 bytes | from_index `u64` ‖ index `u64` of the revocation entry that set it — 16 bytes |
//!
//! The tile kind byte is the level, `00` to `3F`, for a hash tile and `FF`
//! for an entry bundle. The width is not in the key: a partial tile and its
//! wider and full versions share one key, each write replaces the last, and
//! the width is implied by the value (`len / 32` hashes, or the bundle's
//! entry count). Examples:
//!
//! ```text
//! tile/0/x001/x234/067.p/112   54 00 00 00 00 00 00 12 D4 93     (1234067 = 0x12D493)
//! tile/entries/005             54 FF 00 00 00 00 00 00 00 05
//! serde@1.0.219                52 73 65 72 64 65 00 31 2E 30 2E 32 31 39   ("R" "serde" NUL "1.0.219")
//! ```
//!
//! Why this shape:
//!
//! * Byte order is (table, kind, level, index) order, because the integers are
//!   big-endian and fixed-width: one level's tiles are contiguous and sorted,
//!   so a range scan lists them (mirroring, `fsck`), and since the log only
//!   appends, new tiles land at the end of their level's range. Fresh SST files
//!   then barely overlap old ones and compaction stays cheap; neighbouring keys
//!   share their first 9 bytes, which block prefix compression removes.
//! * Crate names and versions cannot contain NUL (the store refuses them), so
//!   `R` ‖ crate ‖ `00` is a prefix of exactly one crate's rows (`foo` does
//!   not match `foo-bar`), and [`Storage::releases`] is one bounded scan.
//! * The values are raw tile bytes, as served: a read is one point lookup and
//!   no re-encoding. A hash tile does not compress (LZ4 leaves such blocks
//!   raw); entry bundles carry text that does.
//!
//! A different layout is a new [`FORMAT_VERSION`]; [`RocksStore::open`]
//! refuses a store of another version rather than misread it
//! ([`StorageError::FormatVersion`]), and never rewrites one.
//!
//! Versions: **1** had no certificate rows and an 8-byte revocation value
//! (from_index only). **2** added both, so that the log answers a repeated
//! certificate or revocation with the entry already logged and proves a
//! revocation's status with its entry (`docs/log.md`). A version-1 store is
//! refused at open: its missing rows could only be rebuilt by reading every
//! entry again, which this build does not do; run it with the build that
//! wrote it.
//!
//! # Durability and crashes
//!
//! [`Storage::append_batch`] writes the whole batch as one RocksDB
//! `WriteBatch` with `WriteOptions::sync = true`: one record in the
//! write-ahead log, fsync'd before the call returns. That write is the commit
//! point. A crash at any moment leaves one of two states:
//!
//! * before the WAL record is complete on disk: on reopen, WAL recovery
//!   (`PointInTime` mode, set explicitly) drops the torn or missing record and
//!   the store holds the previous batch's state, whole;
//! * after: recovery replays the record and the store holds the whole new
//!   batch, whether or not `append_batch` had returned.
//!
//! Memtable flushes and compactions only move committed data between files and
//! are themselves crash-safe (RocksDB's MANIFEST). Creating a store writes the
//! format marker and origin in one synced batch; a crash before that leaves a
//! RocksDB database with no keys, which the next [`RocksStore::open`] takes as
//! new (a crash inside RocksDB's own creation, before it writes `CURRENT`,
//! leaves files that `open` refuses as [`StorageError::NotAStore`]: remove
//! that directory, it holds no data). RocksDB's `LOCK` file keeps a second
//! process (or a second `open` in this one) out while a store is open.
//!
//! # Footprint
//!
//! Each 256-entry tile is rewritten as it grows from partial to full, always
//! under one key; compaction drops the replaced versions. LZ4 compresses data
//! blocks; a 10 bits/key Bloom filter makes a miss on [`Storage::release`]
//! (every new submission's duplicate check) cost no disk read; index and
//! filter blocks live in a 32 MiB block cache so that memory stays flat as
//! the log grows.
//!
//! Memory, bounded setting by setting (`sigil-bench memory`, BENCHMARKS.md
//! "Memory as the log grows"): the block cache, index and filter blocks
//! included, 32 MiB; two memtables of 16 MiB; at most 1,024 open table
//! files. The binary runs on jemalloc, for RocksDB's allocations too.
//!
//! Measured (the conformance suite's `footprint` test: random, hence
//! incompressible, 200-byte entries in synced batches of 256, then
//! [`RocksStore::compact`]): **34.5 bytes per entry** on disk beyond the
//! entry bytes, at 10⁶ and at 10⁷ entries alike. Of that, 32 bytes are the
//! leaf hash in its level-0 tile and 2 bytes the entry's length prefix in
//! its bundle; level-1 hashes (1/256 of a hash per entry), keys, block
//! index, Bloom filter and block trailers make the last half byte. Release
//! rows, when a log has them, add their key and 40-byte value.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, BottommostLevelCompaction, Cache, CompactOptions, DB,
    DBCompressionType, DBRecoveryMode, Direction, IteratorMode, Options, ReadOptions, WriteBatch,
    WriteOptions,
};
use sigil_core::tile::{Tile, TileKind};

#[cfg(doc)]
use super::chain_hash;
use super::{
    Batch, ReleaseRecord, RevocationRecord, Storage, StorageError, StoredCheckpoint, StoredRows,
    check_stored_tile, plan_batch,
};

/// The on-disk format version this build reads and writes (the layout in the
/// module documentation).
pub const FORMAT_VERSION: u32 = 2;

/// Key of the format marker.
const KEY_FORMAT: &[u8] = b"Mformat";
/// Key of the log's origin.
const KEY_ORIGIN: &[u8] = b"Morigin";
/// Key of the last committed checkpoint.
const KEY_CHECKPOINT: &[u8] = b"Mcheckpoint";
/// First byte of tile keys.
const TILE_PREFIX: u8 = b'T';
/// Kind byte of entry bundles in tile keys (hash tiles use their level).
const ENTRIES_KIND: u8 = 0xFF;
/// First byte of release keys.
const RELEASE_PREFIX: u8 = b'R';
/// First byte of revocation keys.
const REVOCATION_PREFIX: u8 = b'V';
/// First byte of certificate keys.
const CERTIFICATE_PREFIX: u8 = b'C';
/// Length of a revocation value: from_index `u64` ‖ index `u64`.
const REVOCATION_VALUE_LEN: usize = 16;
/// Length of a release value: index `u64` ‖ sha256.
const RELEASE_VALUE_LEN: usize = 8 + 32;
/// Block cache size; index and filter blocks are charged to it too.
const BLOCK_CACHE_BYTES: usize = 32 << 20;
/// One memtable (RocksDB's default is 64 MiB). A round writes at most
/// `--max-batch` entries of at most 64 KiB each, far below it.
const WRITE_BUFFER_BYTES: usize = 16 << 20;
/// Memtables at most: the one written and one being flushed.
const WRITE_BUFFERS: i32 = 2;
/// Table files kept open. Each open file's reader holds a little memory
/// beside the index and filter blocks (which are in the block cache); at
/// 10⁷ entries a log has about a hundred files, so this bounds the readers
/// only for logs far larger.
const OPEN_FILES: i32 = 1024;

/// The log's storage in a RocksDB database (module documentation: key
/// layout, durability).
pub struct RocksStore {
    /// The database. Safe for concurrent reads and writes; `None` only
    /// while it is being reopened, and after a reopen that failed even
    /// read-only.
    db: RwLock<Option<DB>>,
    /// Set when a write failed (a full disk, an I/O error): RocksDB then
    /// refuses every later write until the database is opened again, which
    /// the next [`Storage::append_batch`] does.
    needs_reopen: AtomicBool,
    /// Held for the whole of [`Storage::append_batch`]: the compare-and-swap
    /// read of the checkpoint, the look-ups of stored rows and the write are
    /// one critical section. Readers never take it.
    append_lock: Mutex<()>,
    /// The store's directory.
    path: PathBuf,
    /// The log's origin, as checked at open.
    origin: String,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.path)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Bytes on disk in a store's directory, by kind of file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskUsage {
    /// Table files (`*.sst`): the data.
    pub sst_bytes: u64,
    /// Write-ahead log files (`*.log`): committed batches not yet flushed.
    pub wal_bytes: u64,
    /// Everything else: `MANIFEST-*`, `OPTIONS-*`, `CURRENT`, `LOCK`, the
    /// info `LOG` files.
    pub other_bytes: u64,
}

impl DiskUsage {
    /// All bytes in the directory.
    pub fn total(&self) -> u64 {
        self.sst_bytes + self.wal_bytes + self.other_bytes
    }
}

impl RocksStore {
    /// Opens the store in `dir` for the log `origin`, creating it if `dir`
    /// does not exist or is empty.
    ///
    /// A new store gets the format marker ([`FORMAT_VERSION`]) and the origin,
    /// synced, before this returns. An existing one must carry the same
    /// format version and origin.
    ///
    /// Errors: [`StorageError::InvalidOrigin`];
    /// [`StorageError::NotAStore`] for a non-empty directory without a RocksDB
    /// database, or a RocksDB database that holds data but no Sigil format
    /// marker; [`StorageError::FormatVersion`];
    /// [`StorageError::OriginMismatch`]; [`StorageError::Io`] if the
    /// directory cannot be read or created; [`StorageError::RocksDb`], e.g.
    /// when another process has the store open.
    pub fn open(dir: &Path, origin: &str) -> Result<Self, StorageError> {
        if origin.is_empty() || origin.contains('\n') {
            return Err(StorageError::InvalidOrigin(origin.to_string()));
        }
        let io = |source| StorageError::Io {
            path: dir.to_path_buf(),
            source,
        };
        // Never let RocksDB create a database among someone else's files.
        let fresh = match sigil_serve::store_dir(dir).map_err(io)? {
            sigil_serve::StoreDir::Fresh => true,
            sigil_serve::StoreDir::RocksDb => false,
            sigil_serve::StoreDir::Foreign => {
                return Err(StorageError::NotAStore {
                    path: dir.to_path_buf(),
                    reason: "the directory is not empty and holds no RocksDB database",
                });
            }
        };
        let db = DB::open(&options(fresh), dir)?;
        let store = RocksStore {
            db: RwLock::new(Some(db)),
            needs_reopen: AtomicBool::new(false),
            append_lock: Mutex::new(()),
            path: dir.to_path_buf(),
            origin: origin.to_string(),
        };
        store.check_or_init()?;
        Ok(store)
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Bytes on disk in the store's directory, by kind of file (for
    /// measurements and `/metrics`).
    pub fn disk_usage(&self) -> Result<DiskUsage, StorageError> {
        let io = |source| StorageError::Io {
            path: self.path.clone(),
            source,
        };
        let mut usage = DiskUsage::default();
        for entry in std::fs::read_dir(&self.path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let meta = entry.metadata().map_err(io)?;
            if !meta.is_file() {
                continue;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".sst") {
                usage.sst_bytes += meta.len();
            } else if name.ends_with(".log") {
                usage.wal_bytes += meta.len();
            } else {
                usage.other_bytes += meta.len();
            }
        }
        Ok(usage)
    }

    /// Flushes the memtable and compacts the whole key range down to the
    /// last level, dropping every replaced tile version (for measurements;
    /// background compaction does this gradually on its own).
    pub fn compact(&self) -> Result<(), StorageError> {
        self.with_db(|db| {
            db.flush()?;
            let mut opts = CompactOptions::default();
            opts.set_bottommost_level_compaction(BottommostLevelCompaction::Force);
            db.compact_range_opt::<&[u8], &[u8]>(None, None, &opts);
            Ok(())
        })
    }

    /// Runs `read` on the database.
    fn with_db<T>(
        &self,
        read: impl FnOnce(&DB) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(db) => read(db),
            None => Err(StorageError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(
                    "the database could not be opened again after a failed write",
                ),
            }),
        }
    }

    /// Opens the database again after a failed write: RocksDB stops taking
    /// writes after one fails (a full disk, an I/O error) until it is
    /// reopened, and recovers its write-ahead log on the way (a write that
    /// failed half-way is not in it; one that failed only at its sync may
    /// be, which is why a failed write's outcome is unknown, invariant 7).
    /// If it cannot be opened for writing, it is opened read-only so that
    /// reads go on, and the next write tries again.
    fn reopen(&self) -> Result<(), StorageError> {
        let mut slot = self.db.write().unwrap_or_else(PoisonError::into_inner);
        // Closed first: RocksDB allows one open handle per directory.
        *slot = None;
        match DB::open(&options(false), &self.path) {
            Ok(db) => {
                *slot = Some(db);
                self.needs_reopen.store(false, Ordering::SeqCst);
                tracing::warn!(path = %self.path.display(), "store reopened after a failed write");
                Ok(())
            }
            Err(e) => {
                *slot = DB::open_for_read_only(&options(false), &self.path, false).ok();
                Err(e.into())
            }
        }
    }

    /// Checks the format marker and origin of an opened database, or writes
    /// them into a database that has no keys at all.
    fn check_or_init(&self) -> Result<(), StorageError> {
        self.with_db(|db| self.check_or_init_in(db))
    }

    fn check_or_init_in(&self, db: &DB) -> Result<(), StorageError> {
        let Some(format) = db.get_pinned(KEY_FORMAT)? else {
            if db
                .iterator(IteratorMode::Start)
                .next()
                .transpose()?
                .is_some()
            {
                return Err(StorageError::NotAStore {
                    path: self.path.clone(),
                    reason: "a RocksDB database with data but no Sigil format marker",
                });
            }
            let mut batch = WriteBatch::default();
            batch.put(KEY_FORMAT, FORMAT_VERSION.to_be_bytes());
            batch.put(KEY_ORIGIN, self.origin.as_bytes());
            // Commit point of the store's creation: marker and origin together.
            db.write_opt(batch, &sync_writes())?;
            return Ok(());
        };
        let found = <[u8; 4]>::try_from(&*format)
            .map(u32::from_be_bytes)
            .map_err(|_| StorageError::Corrupt {
                what: "format marker".into(),
                reason: format!("{} bytes, expected 4", format.len()),
            })?;
        if found != FORMAT_VERSION {
            return Err(StorageError::FormatVersion {
                found,
                supported: FORMAT_VERSION,
            });
        }
        let stored = db
            .get_pinned(KEY_ORIGIN)?
            .ok_or_else(|| StorageError::Corrupt {
                what: "origin".into(),
                reason: "missing beside the format marker".into(),
            })?;
        if *stored != *self.origin.as_bytes() {
            return Err(StorageError::OriginMismatch {
                stored: String::from_utf8_lossy(&stored).into_owned(),
                expected: self.origin.clone(),
            });
        }
        Ok(())
    }

    /// The stored tree size: the checkpoint's, 0 without one.
    fn stored_size(&self) -> Result<u64, StorageError> {
        Ok(self.load_checkpoint()?.map_or(0, |c| c.size))
    }
}

impl Storage for RocksStore {
    fn memory(&self) -> Vec<(&'static str, u64)> {
        // RocksDB's own accounting (include/rocksdb/db.h, "Properties"):
        // what `rocks.rs`'s settings bound, part by part.
        const PARTS: [(&str, &str); 4] = [
            ("table_readers", "rocksdb.estimate-table-readers-mem"),
            ("memtables", "rocksdb.cur-size-all-mem-tables"),
            ("block_cache", "rocksdb.block-cache-usage"),
            ("block_cache_pinned", "rocksdb.block-cache-pinned-usage"),
        ];
        self.with_db(|db| {
            Ok(PARTS
                .iter()
                .filter_map(|(part, property)| {
                    db.property_int_value(*property)
                        .ok()
                        .flatten()
                        .map(|v| (*part, v))
                })
                .collect())
        })
        .unwrap_or_default()
    }

    fn load_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        self.with_db(|db| {
            db.get_pinned(KEY_CHECKPOINT)?
                .map(|value| decode_checkpoint(&value))
                .transpose()
        })
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        if tiles.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<[u8; 10]> = tiles.iter().map(|t| tile_key(t.kind, t.index)).collect();
        let values: Vec<Option<Vec<u8>>> = self.with_db(|db| match keys.as_slice() {
            // One tile (every `GET /tile/...`): a pinned Get copies the
            // value once, where MultiGet allocates a zeroed buffer for the
            // block and copies the value twice (an entry bundle is about
            // 350 KiB: the copies were a quarter of serving it).
            [key] => Ok(vec![db.get_pinned(key)?.map(|v| v.to_vec())]),
            // Several: one MultiGet, one consistent view of all keys, and
            // RocksDB batches the block reads.
            _ => Ok(db.multi_get(&keys).into_iter().collect::<Result<_, _>>()?),
        })?;
        tiles
            .iter()
            .zip(values)
            .map(|(tile, value)| {
                if let Some(data) = &value {
                    check_stored_tile(tile.kind, tile.index, data)?;
                }
                Ok(value)
            })
            .collect()
    }

    fn release(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<ReleaseRecord>, StorageError> {
        if crate_name.contains('\0') || version.contains('\0') {
            return Ok(None); // Never stored: the key would be ambiguous.
        }
        self.with_db(|db| {
            db.get_pinned(release_key(crate_name, version))?
                .map(|value| decode_release(crate_name, version, &value))
                .transpose()
        })
    }

    fn releases(&self, crate_name: &str) -> Result<Vec<(String, ReleaseRecord)>, StorageError> {
        if crate_name.contains('\0') {
            return Ok(Vec::new());
        }
        let prefix = release_prefix(crate_name);
        // Upper bound: the prefix with its final NUL raised to 01.
        let mut upper = prefix.clone();
        upper.pop();
        upper.push(1);
        let mut read = ReadOptions::default();
        read.set_iterate_upper_bound(upper);
        let guard = self.db.read().unwrap_or_else(PoisonError::into_inner);
        let db = guard.as_ref().ok_or_else(|| StorageError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(
                "the database could not be opened again after a failed write",
            ),
        })?;
        let mut rows = Vec::new();
        for item in db.iterator_opt(IteratorMode::From(&prefix, Direction::Forward), read) {
            let (key, value) = item?;
            let suffix = key.get(prefix.len()..).unwrap_or_default();
            let version = std::str::from_utf8(suffix)
                .ok()
                .filter(|v| !v.contains('\0'))
                .ok_or_else(|| StorageError::Corrupt {
                    what: format!("release key of {crate_name}"),
                    reason: "version is not UTF-8 without NUL".into(),
                })?;
            let record = decode_release(crate_name, version, &value)?;
            rows.push((version.to_string(), record));
        }
        rows.sort_by_key(|(_, record)| record.index);
        Ok(rows)
    }

    fn certificate(&self, chain_hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        self.with_db(|db| {
            db.get_pinned(prefixed(CERTIFICATE_PREFIX, chain_hash))?
                .map(|value| {
                    <[u8; 8]>::try_from(&*value)
                        .map(u64::from_be_bytes)
                        .map_err(|_| StorageError::Corrupt {
                            what: format!("certificate row {}", hex::encode(chain_hash)),
                            reason: format!("{} bytes, expected 8", value.len()),
                        })
                })
                .transpose()
        })
    }

    fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationRecord>, StorageError> {
        self.with_db(|db| {
            db.get_pinned(prefixed(REVOCATION_PREFIX, certificate_id))?
                .map(|value| decode_revocation(certificate_id, &value))
                .transpose()
        })
    }

    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        // Only one append at a time: the checks below read the state the
        // write replaces. A panic cannot leave `()` inconsistent.
        let _writer = self
            .append_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.needs_reopen.load(Ordering::SeqCst) {
            self.reopen()?;
        }
        let rows = plan_batch(
            batch,
            self.stored_size()?,
            StoredRows {
                release: |crate_name: &str, version: &str| self.release(crate_name, version),
                certificate: |hash: &[u8; 32]| self.certificate(hash),
                revocation: |id: &[u8; 32]| self.revocation(id),
            },
        )?;
        let mut write = WriteBatch::default();
        for (tile, data) in &batch.tiles {
            write.put(tile_key(tile.kind, tile.index), data);
        }
        for (crate_name, version, record) in rows.releases {
            write.put(release_key(crate_name, version), encode_release(record));
        }
        for (chain_hash, index) in rows.certificates {
            write.put(
                prefixed(CERTIFICATE_PREFIX, &chain_hash),
                index.to_be_bytes(),
            );
        }
        for (id, record) in rows.revocations {
            write.put(prefixed(REVOCATION_PREFIX, &id), encode_revocation(&record));
        }
        write.put(
            KEY_CHECKPOINT,
            encode_checkpoint(batch.new_size, &batch.checkpoint),
        );
        // COMMIT POINT. One WAL record, fsync'd before write_opt returns:
        // after a crash the whole batch is there or none of it. An error here
        // leaves the outcome unknown (storage module, invariant 7).
        let written = self.with_db(|db| Ok(db.write_opt(write, &sync_writes())?));
        if written.is_err() {
            self.needs_reopen.store(true, Ordering::SeqCst);
        }
        written
    }
}

/// Options for the database; `create` for a new store.
fn options(create: bool) -> Options {
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(&Cache::new_lru_cache(BLOCK_CACHE_BYTES));
    table.set_bloom_filter(10.0, false);
    table.set_cache_index_and_filter_blocks(true);
    // Partitioned index and filters: a look-up loads one 4 KiB partition,
    // not a table file's whole filter. With one filter block per file, a
    // log of 10⁶ entries had 1.2 MiB filters that the 32 MiB cache could
    // not keep, and every duplicate check read and checksummed one from
    // disk (BENCHMARKS.md, "Memory as the log grows"). The top level of
    // each stays pinned; index and filter blocks go to the cache's
    // high-priority pool, ahead of data blocks.
    table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
    table.set_partition_filters(true);
    table.set_metadata_block_size(4096);
    table.set_pin_top_level_index_and_filter(true);
    table.set_cache_index_and_filter_blocks_with_high_priority(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);

    let mut opts = Options::default();
    opts.create_if_missing(create);
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES);
    opts.set_max_write_buffer_number(WRITE_BUFFERS);
    opts.set_max_open_files(OPEN_FILES);
    opts.set_block_based_table_factory(&table);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_bottommost_compression_type(DBCompressionType::Lz4);
    // A torn last WAL record (crash during a write) is dropped whole;
    // corruption before it stops recovery there rather than skipping records.
    opts.set_wal_recovery_mode(DBRecoveryMode::PointInTime);
    // Bound the info LOG files.
    opts.set_keep_log_file_num(4);
    opts.set_max_log_file_size(4 << 20);
    opts
}

/// Write options of every write: synced.
fn sync_writes() -> WriteOptions {
    let mut opts = WriteOptions::default();
    opts.set_sync(true);
    opts
}

/// `T` ‖ kind (level, or `FF` for bundles) ‖ index, big-endian.
fn tile_key(kind: TileKind, index: u64) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = TILE_PREFIX;
    key[1] = match kind {
        TileKind::Hash { level } => level,
        TileKind::Entries => ENTRIES_KIND,
    };
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

/// `R` ‖ crate ‖ `00`: the prefix of one crate's release keys.
fn release_prefix(crate_name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(crate_name.len() + 2);
    key.push(RELEASE_PREFIX);
    key.extend_from_slice(crate_name.as_bytes());
    key.push(0);
    key
}

/// `R` ‖ crate ‖ `00` ‖ version.
fn release_key(crate_name: &str, version: &str) -> Vec<u8> {
    let mut key = release_prefix(crate_name);
    key.extend_from_slice(version.as_bytes());
    key
}

/// `V` ‖ certificate id, or `C` ‖ chain hash.
fn prefixed(prefix: u8, hash: &[u8; 32]) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = prefix;
    key[1..].copy_from_slice(hash);
    key
}

/// from_index `u64` ‖ index `u64`.
fn encode_revocation(record: &RevocationRecord) -> [u8; REVOCATION_VALUE_LEN] {
    let mut value = [0u8; REVOCATION_VALUE_LEN];
    value[..8].copy_from_slice(&record.from_index.to_be_bytes());
    value[8..].copy_from_slice(&record.index.to_be_bytes());
    value
}

/// Inverse of [`encode_revocation`].
fn decode_revocation(id: &[u8; 32], value: &[u8]) -> Result<RevocationRecord, StorageError> {
    let corrupt = || StorageError::Corrupt {
        what: format!("revocation {}", hex::encode(id)),
        reason: format!("{} bytes, expected {REVOCATION_VALUE_LEN}", value.len()),
    };
    let value: &[u8; REVOCATION_VALUE_LEN] = value.try_into().map_err(|_| corrupt())?;
    let (from_index, index) = value.split_at(8);
    Ok(RevocationRecord {
        from_index: u64::from_be_bytes(from_index.try_into().map_err(|_| corrupt())?),
        index: u64::from_be_bytes(index.try_into().map_err(|_| corrupt())?),
    })
}

/// index `u64` ‖ sha256.
fn encode_release(record: &ReleaseRecord) -> [u8; RELEASE_VALUE_LEN] {
    let mut value = [0u8; RELEASE_VALUE_LEN];
    value[..8].copy_from_slice(&record.index.to_be_bytes());
    value[8..].copy_from_slice(&record.sha256);
    value
}

/// Inverse of [`encode_release`].
fn decode_release(
    crate_name: &str,
    version: &str,
    value: &[u8],
) -> Result<ReleaseRecord, StorageError> {
    let corrupt = || StorageError::Corrupt {
        what: format!("release {crate_name}@{version}"),
        reason: format!("{} bytes, expected {RELEASE_VALUE_LEN}", value.len()),
    };
    let (index, sha256) = value.split_first_chunk::<8>().ok_or_else(corrupt)?;
    Ok(ReleaseRecord {
        index: u64::from_be_bytes(*index),
        sha256: sha256.try_into().map_err(|_| corrupt())?,
    })
}

/// size `u64` ‖ note.
fn encode_checkpoint(size: u64, note: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + note.len());
    value.extend_from_slice(&size.to_be_bytes());
    value.extend_from_slice(note);
    value
}

/// Inverse of [`encode_checkpoint`]; the note is never empty.
fn decode_checkpoint(value: &[u8]) -> Result<StoredCheckpoint, StorageError> {
    match value.split_first_chunk::<8>() {
        Some((size, note)) if !note.is_empty() => Ok(StoredCheckpoint {
            size: u64::from_be_bytes(*size),
            note: note.to_vec(),
        }),
        _ => Err(StorageError::Corrupt {
            what: "checkpoint".into(),
            reason: format!("{} bytes, expected a size and a note", value.len()),
        }),
    }
}
