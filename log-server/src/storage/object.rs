//! The object-storage backend ([`BucketStore`]): the log's tiles, entry
//! bundles and public `checkpoint` in an S3-compatible bucket, at their
//! C2SP tlog-tiles paths (<https://c2sp.org/tlog-tiles>), so that any static
//! host or CDN serves the read path; one small record, compare-and-swapped,
//! is the only state the log trusts (`docs/object-storage.md`; the shape
//! of Sunlight's and Tessera's S3 backends).
//!
//! # Layout of the bucket
//!
//! | key | what | written |
//! |---|---|---|
//! | `tile/<L>/<N>[.p/<W>]` | hash tiles | create-only, `Cache-Control: public, max-age=604800, immutable` |
//! | `tile/entries/<N>[.p/<W>]` | entry bundles | the same |
//! | `checkpoint` | the newest published (cosigned) checkpoint | overwritten, `no-cache` |
//! | `.sigil/record` | the checkpoint record ([`record`]) | compare-and-swap on its ETag |
//! | `.sigil/staging/<size>-<hash>` | a staged batch ([`staged`]) | create-only |
//!
//! A partial tile is a new object for each width (`.p/W`, as tlog-tiles
//! names it), so no tile or bundle is ever overwritten.
//!
//! Next to the bucket, a local [`RocksStore`] (the `--data-dir`) holds the
//! indexes the API needs (release, certificate and revocation rows) and a
//! copy of the tiles, from which reads are served. It is derived: it can be
//! rebuilt from the bucket alone ([`BucketStore::reindex`]), so losing the
//! machine loses nothing.
//!
//! # Invariants
//!
//! These replace invariant 1 of [`crate::storage`] ("one commit point")
//! for this backend; invariants 2 to 8 hold as written there.
//!
//! 1. **Commit order.** [`Storage::append_batch`] does, in this order:
//!    1. *stage*: the whole batch (tiles, rows, signed checkpoint) is
//!       written create-only at `.sigil/staging/<new_size>-<hash>`. The
//!       sequencer signed the checkpoint just before; a signature that is
//!       not followed by a swap is never shown to anyone.
//!    2. *swap*: the record goes from the stored size (`old_size`) to
//!       `new_size`, naming the staged batch, by compare-and-swap on the
//!       ETag read before. **This is the commit point**: the batch is in
//!       the log once the swap succeeds, and only then.
//!    3. *tiles*: tiles and bundles are written create-only.
//!    4. *index*: the local store takes the batch.
//!    5. *publish*: the publisher, once witnesses cosigned, overwrites
//!       `checkpoint` ([`Storage::publish_checkpoint`]).
//!    6. *answer*: the publisher answers the submitters.
//! 2. **Create-only, compare on conflict.** An immutable object that exists
//!    with the same bytes is a success (a retry, a recovery); with other
//!    bytes it is [`ObjectError::Different`]: two trees under one name. The
//!    log stops writing and says so; nothing is overwritten.
//! 3. **Recovery.** Whenever the state is unknown (at start, after a failed
//!    write, when taking over from another sequencer) the record is read
//!    again and its staged batch is applied again: steps 3 and 4 repeat,
//!    idempotently by invariant 2. A record naming a staged batch that is
//!    missing or does not match it, a local index ahead of the record, or
//!    one at the same size with another checkpoint, stop the store with
//!    [`StorageError::Corrupt`]; nothing is repaired silently. The
//!    sequencer then recomputes the root from the tiles and checks the
//!    record's signed checkpoint ([`crate::sequencer::Sequencer::open`]);
//!    the right-edge tiles in the bucket are compared with those it
//!    checked ([`BucketStore::verify_edge`]).
//! 4. **One sequencer, never two roots for one size.** The record carries
//!    a lease: its holder swaps it (every round, and every third of the
//!    lease when idle). Another process sees the record's `serial`
//!    unchanged for a whole lease, on its own monotonic clock, before it
//!    takes the record over — by a swap, so only one of two contenders can.
//!    A sequencer whose swap loses to another holder stops
//!    ([`StorageError::LeaseLost`]) and never retries with a new root: the
//!    swap on the ETag, not the lease, is what rules out a fork.
//!
//! # Crash points
//!
//! A crash before the swap leaves at most an unreferenced staged object
//! (never read). A crash after it leaves a record ahead of the tiles and
//! the index: the next start, or the standby taking over, applies the
//! staged batch again. [`FailPoint`] stops a write at each step for the
//! tests (`SIGIL_LOG_FAIL_POINT` makes `sigil-log` abort there, for the
//! crash harness).

pub mod bucket;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sigil_core::entry::{Entry, EntryBody};
use sigil_core::merkle;
use sigil_core::tile::{self, TILE_WIDTH, Tile, TileKind};

use crate::storage::{
    Batch, ReleaseRecord, RevocationRecord, RocksStore, Storage, StorageError, StoredCheckpoint,
    StoredRows, chain_hash, plan_batch,
};
use crate::tiles::{Overlay, StorageTiles, entry_bundles};
pub use bucket::{Bucket, BucketConfig, IMMUTABLE, NO_CACHE};
use sigil_core::bucket::staged;
pub use sigil_core::bucket::{Record, StagedBatch};
use sigil_core::tile::TileHashReader;

/// Key of the checkpoint record.
pub const RECORD_KEY: &str = ".sigil/record";
/// Prefix of staged batches.
pub const STAGING_PREFIX: &str = ".sigil/staging/";
/// Key of the public checkpoint (C2SP tlog-tiles: `<prefix>/checkpoint`).
pub const CHECKPOINT_KEY: &str = "checkpoint";

/// Entries replayed per local write when the index is rebuilt from the
/// bundles: 64 bundles.
const REPLAY_CHUNK: u64 = 64 * TILE_WIDTH as u64;

/// Errors of the bucket itself.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// `--bucket` or the client settings are not usable.
    #[error("bucket {url}: {reason}")]
    Config {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The bucket's own runtime could not start.
    #[error("starting the S3 client's runtime: {0}")]
    Runtime(std::io::Error),
    /// The S3 client's runtime stopped (the process is shutting down).
    #[error("the S3 client stopped")]
    Stopped,
    /// An S3 request failed (unreachable, refused, timed out, ...). For a
    /// write the outcome is unknown.
    #[error("S3 {op} of {key}: {source}")]
    S3 {
        /// The object.
        key: String,
        /// What was tried.
        op: &'static str,
        /// The client's error.
        #[source]
        source: Box<object_store::Error>,
    },
    /// An immutable object exists with other bytes than the log wrote
    /// (invariant 2): the bucket holds another tree under this log's
    /// names. The log stops writing.
    #[error(
        "{key} exists in the bucket with other bytes than this log computed: another tree was \
         written under this log's names (a second sequencer without the record, or a copy of \
         another log's bucket); the log stops writing"
    )]
    Different {
        /// The object.
        key: String,
    },
}

/// Where a write stops, for tests: each is a moment a crash can come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailPoint {
    /// After the batch is staged, before the record is swapped.
    AfterStage,
    /// After the swap, before any tile is written.
    AfterSwap,
    /// After the tiles, before the local index.
    AfterTiles,
}

impl FailPoint {
    /// Parses `after-stage`, `after-swap`, `after-tiles`.
    pub fn parse(s: &str) -> Option<FailPoint> {
        match s {
            "after-stage" => Some(FailPoint::AfterStage),
            "after-swap" => Some(FailPoint::AfterSwap),
            "after-tiles" => Some(FailPoint::AfterTiles),
            _ => None,
        }
    }
}

/// What a fail point does when reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailAction {
    /// Returns an error from `append_batch` (in-process tests).
    Error,
    /// Aborts the process on the spot (the crash harness): nothing after
    /// the point runs, not even destructors.
    Abort,
}

/// Who may sequence, as the record says. A record whose holder is empty
/// was released at a clean stop: anyone may take it at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// This process holds the lease (or the log is new).
    Active,
    /// Another process holds it, and its lease has not run out.
    Standby {
        /// The holder named in the record.
        holder: String,
    },
}

/// How a [`BucketStore`] sequences.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// This process's name in the record.
    pub holder: String,
    /// How long a lease lasts without a swap.
    pub lease: Duration,
}

/// The state the store trusts, under its lock.
#[derive(Debug, Default)]
struct State {
    /// The record and its ETag as last read or written; `None` for a
    /// bucket without a record (a new log).
    record: Option<(Record, Option<String>)>,
    /// `false` until read, and after any write whose outcome is unknown:
    /// the record must be read (and its batch applied) again before
    /// anything is trusted.
    known: bool,
    /// Another holder's record as first seen: (holder, serial, when).
    watching: Option<(String, u64, Instant)>,
    /// Set once a swap lost to another holder: no more writes.
    lost: Option<String>,
}

/// The log's storage on an S3 bucket, with a local index. See the module
/// documentation.
pub struct BucketStore {
    bucket: Bucket,
    local: RocksStore,
    origin: String,
    lease: LeaseConfig,
    state: Mutex<State>,
    fail: Mutex<Option<(FailPoint, FailAction)>>,
}

impl std::fmt::Debug for BucketStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketStore")
            .field("bucket", &self.bucket.url())
            .field("local", &self.local.path())
            .field("holder", &self.lease.holder)
            .finish()
    }
}

impl BucketStore {
    /// Opens the log `origin` in `bucket`, with its local index in
    /// `local_dir` (created if missing). Reads the record and checks its
    /// origin; writes nothing. Call [`BucketStore::acquire`] before
    /// sequencing.
    ///
    /// # Errors
    ///
    /// [`StorageError::OriginMismatch`], [`StorageError::Corrupt`] for a
    /// record that does not parse, the local store's and the bucket's
    /// errors.
    pub fn open(
        bucket: Bucket,
        local_dir: &Path,
        origin: &str,
        lease: LeaseConfig,
    ) -> Result<BucketStore, StorageError> {
        let local = RocksStore::open(local_dir, origin)?;
        let store = BucketStore {
            bucket,
            local,
            origin: origin.to_owned(),
            lease,
            state: Mutex::new(State::default()),
            fail: Mutex::new(None),
        };
        {
            let mut state = store.lock();
            store.read_record(&mut state)?;
        }
        Ok(store)
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The local index.
    pub fn local(&self) -> &RocksStore {
        &self.local
    }

    /// This process's name in the record.
    pub fn holder(&self) -> &str {
        &self.lease.holder
    }

    /// The lease duration this store writes.
    pub fn lease(&self) -> Duration {
        self.lease.lease
    }

    /// Makes the next write stop at `point` (tests, the crash harness).
    pub fn set_fail_point(&self, fail: Option<(FailPoint, FailAction)>) {
        if let Ok(mut slot) = self.fail.lock() {
            *slot = fail;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic under the lock leaves `known` as it was; the next call
        // re-reads the record if it was false.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fail_at(&self, point: FailPoint) -> Result<(), StorageError> {
        let armed = self.fail.lock().ok().and_then(|mut slot| match *slot {
            Some((p, action)) if p == point => {
                *slot = None;
                Some(action)
            }
            _ => None,
        });
        match armed {
            None => Ok(()),
            Some(FailAction::Error) => Err(StorageError::InjectedPoint(point)),
            Some(FailAction::Abort) => {
                tracing::error!(?point, "fail point reached: aborting");
                std::process::abort()
            }
        }
    }

    /// Reads the record into `state`, checking its origin.
    fn read_record(&self, state: &mut State) -> Result<(), StorageError> {
        let got = self.bucket.get(RECORD_KEY)?;
        state.record = match got {
            None => None,
            Some(object) => {
                let record = Record::parse(&object.bytes).map_err(|e| StorageError::Corrupt {
                    what: format!("record {}/{RECORD_KEY}", self.bucket.url()),
                    reason: e.to_string(),
                })?;
                if record.origin != self.origin {
                    return Err(StorageError::OriginMismatch {
                        stored: record.origin,
                        expected: self.origin.clone(),
                    });
                }
                Some((record, object.e_tag))
            }
        };
        state.known = true;
        Ok(())
    }

    /// Whether this process may sequence, taking the lease over if its
    /// holder let it run out (invariant 4); as active, applies the
    /// record's staged batch again and catches the local index up
    /// (invariant 3).
    ///
    /// # Errors
    ///
    /// The bucket's and the local store's errors; [`StorageError::Corrupt`]
    /// on a mismatch between them.
    pub fn acquire(&self) -> Result<Role, StorageError> {
        let mut state = self.lock();
        if let Some(holder) = &state.lost {
            return Ok(Role::Standby {
                holder: holder.clone(),
            });
        }
        self.read_record(&mut state)?;
        let Some((record, e_tag)) = state.record.clone() else {
            // A new log: the first batch creates the record (and the local
            // index must be empty too).
            self.recover(&mut state)?;
            return Ok(Role::Active);
        };
        // An empty holder: the last one released the lease at a clean stop.
        if record.holder != self.lease.holder && !record.holder.is_empty() {
            let now = Instant::now();
            let seen = match &state.watching {
                Some((h, serial, at)) if *h == record.holder && *serial == record.serial => *at,
                _ => {
                    state.watching = Some((record.holder.clone(), record.serial, now));
                    now
                }
            };
            if now.duration_since(seen) < Duration::from_millis(record.lease_ms) {
                return Ok(Role::Standby {
                    holder: record.holder,
                });
            }
            tracing::warn!(
                previous = %record.holder,
                lease_ms = record.lease_ms,
                "the sequencer's lease ran out; taking the record over"
            );
        }
        if record.holder != self.lease.holder {
            let taken = Record {
                holder: self.lease.holder.clone(),
                lease_ms: lease_ms(self.lease.lease),
                serial: record.serial + 1,
                ..record.clone()
            };
            if !self.swap(&mut state, e_tag, &taken)? {
                let holder = state
                    .record
                    .as_ref()
                    .map(|(r, _)| r.holder.clone())
                    .unwrap_or_default();
                return Ok(Role::Standby { holder });
            }
        }
        state.watching = None;
        self.recover(&mut state)?;
        Ok(Role::Active)
    }

    /// Renews the lease by a swap of the record that changes only its
    /// serial. Called every third of the lease by the active sequencer.
    ///
    /// # Errors
    ///
    /// [`StorageError::LeaseLost`] once another holder has the record; the
    /// bucket's errors (the lease then runs out unless a later renewal
    /// succeeds).
    pub fn renew(&self) -> Result<(), StorageError> {
        let mut state = self.lock();
        if let Some(holder) = &state.lost {
            return Err(StorageError::LeaseLost {
                holder: holder.clone(),
            });
        }
        if !state.known {
            self.read_record(&mut state)?;
        }
        let Some((record, e_tag)) = state.record.clone() else {
            return Ok(());
        };
        if record.holder != self.lease.holder {
            state.lost = Some(record.holder.clone());
            return Err(StorageError::LeaseLost {
                holder: record.holder,
            });
        }
        let renewed = Record {
            serial: record.serial + 1,
            lease_ms: lease_ms(self.lease.lease),
            ..record
        };
        if self.swap(&mut state, e_tag, &renewed)? {
            Ok(())
        } else {
            Err(self.lost(&mut state))
        }
    }

    /// Gives the lease up at a clean stop, so that a standby (or the next
    /// start) takes over at once instead of after a whole lease: a swap
    /// that leaves the holder empty. Nothing is written once the lease was
    /// lost.
    ///
    /// # Errors
    ///
    /// The bucket's; the lease then runs out by itself.
    pub fn release_lease(&self) -> Result<(), StorageError> {
        let mut state = self.lock();
        if state.lost.is_some() || !state.known {
            return Ok(());
        }
        let Some((record, e_tag)) = state.record.clone() else {
            return Ok(());
        };
        if record.holder != self.lease.holder {
            return Ok(());
        }
        let released = Record {
            holder: String::new(),
            serial: record.serial + 1,
            ..record
        };
        if self.swap(&mut state, e_tag, &released)? {
            state.lost = Some(String::new());
        }
        Ok(())
    }

    /// For a standby: reads the record and brings the local index up to
    /// it from the bucket, writing nothing to the bucket. Returns the size
    /// the local index now serves.
    ///
    /// # Errors
    ///
    /// The bucket's and local store's errors; a tile the active sequencer
    /// has not written yet is an error until it has.
    pub fn follow(&self) -> Result<u64, StorageError> {
        let mut state = self.lock();
        self.read_record(&mut state)?;
        let Some((record, _)) = state.record.clone() else {
            return Ok(0);
        };
        // Nothing new (most looks): the staged batch is not downloaded.
        let local = self.local.load_checkpoint()?.map_or(0, |c| c.size);
        if local != record.size {
            let staged = self.staged(&record)?;
            self.catch_up(&record, Some(&staged))?;
        }
        Ok(record.size)
    }

    /// Records a lost swap: who has the record now.
    fn lost(&self, state: &mut State) -> StorageError {
        let holder = state
            .record
            .as_ref()
            .map(|(r, _)| r.holder.clone())
            .unwrap_or_default();
        tracing::error!(%holder, "the checkpoint record was swapped by another sequencer; this one stops writing");
        state.lost = Some(holder.clone());
        StorageError::LeaseLost { holder }
    }

    /// Swaps the record from `e_tag` to `new`. `Ok(true)` if it holds
    /// `new` now (including when an earlier attempt's answer was lost and
    /// the record already has these very bytes); `Ok(false)` if another
    /// write won, with `state` holding what the record is now.
    fn swap(
        &self,
        state: &mut State,
        e_tag: Option<String>,
        new: &Record,
    ) -> Result<bool, StorageError> {
        let bytes = new.encode();
        let outcome = self.bucket.swap(RECORD_KEY, e_tag, bytes.clone());
        match outcome {
            Ok(bucket::Swap::Done(e_tag)) => {
                state.record = Some((new.clone(), e_tag));
                state.known = true;
                Ok(true)
            }
            Ok(bucket::Swap::Lost) => {
                // Lost, or a retry of our own write whose first answer was
                // lost: the bytes tell (they name this holder and serial).
                let now = self.bucket.get(RECORD_KEY);
                let now = now.inspect_err(|_| state.known = false)?;
                match now {
                    Some(object) if object.bytes == bytes => {
                        state.record = Some((new.clone(), object.e_tag));
                        state.known = true;
                        Ok(true)
                    }
                    _ => {
                        self.read_record(state)?;
                        Ok(false)
                    }
                }
            }
            Err(e) => {
                state.known = false;
                Err(e.into())
            }
        }
    }

    /// Invariant 3: the record's staged batch applied again (tiles, then
    /// the local index), and the local index caught up to the record.
    fn recover(&self, state: &mut State) -> Result<(), StorageError> {
        self.read_record(state)?;
        let Some((record, _)) = state.record.clone() else {
            let local = self.local.load_checkpoint()?;
            if let Some(local) = local.filter(|c| c.size > 0) {
                return Err(StorageError::Corrupt {
                    what: format!("bucket {}", self.bucket.url()),
                    reason: format!(
                        "it has no checkpoint record, but the local index holds {} entries of \
                         this log: the bucket was emptied or is another one",
                        local.size
                    ),
                });
            }
            return Ok(());
        };
        let staged = self.staged(&record)?;
        self.write_tiles(&staged)?;
        self.catch_up(&record, Some(&staged))?;
        Ok(())
    }

    /// The staged batch the record names, checked against it.
    fn staged(&self, record: &Record) -> Result<Batch, StorageError> {
        let corrupt = |reason: String| StorageError::Corrupt {
            what: format!("staged batch {}", record.staged),
            reason,
        };
        let object = self
            .bucket
            .get(&record.staged)?
            .ok_or_else(|| corrupt("the record names it, but it is missing".into()))?;
        let batch = staged::decode(&object.bytes)
            .map(from_staged)
            .map_err(|e| corrupt(e.to_string()))?;
        if batch.new_size != record.size || batch.checkpoint != record.checkpoint {
            return Err(corrupt(format!(
                "it is for size {} and another checkpoint than the record's (size {})",
                batch.new_size, record.size
            )));
        }
        Ok(batch)
    }

    /// Writes a batch's tiles and bundles, create-only (invariant 2).
    fn write_tiles(&self, batch: &Batch) -> Result<(), StorageError> {
        let objects = batch
            .tiles
            .iter()
            .map(|(tile, data)| (tile.path(), data.clone()))
            .collect();
        self.bucket.create_all(objects, IMMUTABLE)?;
        Ok(())
    }

    /// Brings the local index to `record`: by `staged` when it starts
    /// where the index is, else by replaying the bundles from the bucket.
    fn catch_up(&self, record: &Record, staged: Option<&Batch>) -> Result<(), StorageError> {
        let mut local = self.local.load_checkpoint()?;
        if local.is_none() && record.size > 0 {
            // An empty index: it starts at the empty tree.
            self.local.append_batch(&Batch {
                checkpoint: placeholder(0),
                ..Batch::default()
            })?;
            local = self.local.load_checkpoint()?;
        }
        let local_size = local.as_ref().map_or(0, |c| c.size);
        let mismatch = |reason: String| StorageError::Corrupt {
            what: format!("local index {}", self.local.path().display()),
            reason,
        };
        if local_size > record.size {
            return Err(mismatch(format!(
                "it holds {local_size} entries, more than the bucket's record ({}): the bucket \
                 was rolled back or is another log's; run `sigil-log reindex` to rebuild the \
                 index from the bucket if the bucket is right",
                record.size
            )));
        }
        if local_size == record.size {
            return match local {
                Some(local) if local.note != record.checkpoint && record.size > 0 => {
                    Err(mismatch(format!(
                        "its checkpoint for size {} differs from the bucket's record",
                        record.size
                    )))
                }
                Some(_) => Ok(()),
                // An empty index and the empty log's record.
                None => self.local.append_batch(&Batch {
                    old_size: 0,
                    new_size: 0,
                    checkpoint: record.checkpoint.clone(),
                    ..Batch::default()
                }),
            };
        }
        if let Some(staged) = staged.filter(|b| b.old_size == local_size) {
            return self.local.append_batch(staged);
        }
        self.replay(local_size, record)
    }

    /// Rebuilds the local index from `size` up to `record` from the
    /// bucket's entry bundles:
    /// the rows each entry implies, the hash tiles recomputed from its leaf
    /// hashes.
    ///
    /// The bundles come from the bucket, so before the last chunk is
    /// written the root of the rebuilt tree must be the root the record's
    /// checkpoint names: another tree is refused ([`StorageError::Corrupt`])
    /// before the index says it is at the record's size. (The checkpoint's
    /// signature is the sequencer's to check when it opens the store.)
    fn replay(&self, mut size: u64, record: &Record) -> Result<(), StorageError> {
        let signed_root = checkpoint_root(&record.checkpoint)?;
        while size < record.size {
            let end = record.size.min((size / REPLAY_CHUNK + 1) * REPLAY_CHUNK);
            let entries = self.bundle_entries(size, end, record.size)?;
            let batch = replay_batch(
                &self.local,
                size,
                &entries,
                if end == record.size {
                    record.checkpoint.clone()
                } else {
                    placeholder(end)
                },
            )?;
            if end == record.size {
                let overlay = Overlay::new(&batch.tiles, &self.local);
                let root = merkle::tree_hash(end, &TileHashReader::trusted(end, &overlay));
                if root.ok() != Some(signed_root) {
                    return Err(StorageError::Corrupt {
                        what: format!("entry bundles in {}", self.bucket.url()),
                        reason: format!(
                            "the tree they make at size {end} does not have the root the \
                             record's checkpoint names: they are not this log's"
                        ),
                    });
                }
            }
            self.local.append_batch(&batch)?;
            tracing::debug!(size = end, "index rebuilt from the bucket");
            size = end;
        }
        Ok(())
    }

    /// Entries `[start, end)` from the bucket's bundles, as they are in the
    /// tree of size `size`.
    fn bundle_entries(
        &self,
        start: u64,
        end: u64,
        size: u64,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        let width = u64::from(TILE_WIDTH);
        let tiles: Vec<Tile> = (start / width..end.div_ceil(width))
            .filter_map(|n| Tile::at_size(TileKind::Entries, n, size))
            .collect();
        let keys: Vec<String> = tiles.iter().map(Tile::path).collect();
        let data = self.bucket.get_many(&keys)?;
        let mut out = Vec::new();
        for (tile, data) in tiles.iter().zip(data) {
            let missing = || StorageError::Corrupt {
                what: format!("bundle {tile}"),
                reason: format!(
                    "missing from the bucket, though the record says size {size}: the \
                     sequencer that swapped it has not written it yet, or it was lost"
                ),
            };
            let data = data.ok_or_else(missing)?;
            let parsed =
                tile::parse_bundle_for_tile(tile, &data).map_err(|e| StorageError::Corrupt {
                    what: format!("bundle {tile}"),
                    reason: e.to_string(),
                })?;
            let first = tile.index * width;
            for (i, entry) in parsed.into_iter().enumerate() {
                let index = first + i as u64;
                if (start..end).contains(&index) {
                    out.push(entry.to_vec());
                }
            }
        }
        Ok(out)
    }

    /// Compares the bucket's right-edge tiles of the record's tree with the
    /// local index's (which the sequencer checks against the signed root).
    ///
    /// # Errors
    ///
    /// [`StorageError::Corrupt`] naming the first tile that differs or is
    /// missing; the bucket's errors.
    pub fn verify_edge(&self) -> Result<(), StorageError> {
        let size = self.local.load_checkpoint()?.map_or(0, |c| c.size);
        let mut tiles = tile::partial_tiles(size);
        tiles.extend(tile::partial_entry_tile(size));
        let keys: Vec<String> = tiles.iter().map(Tile::path).collect();
        let remote = self.bucket.get_many(&keys)?;
        let local = StorageTiles(&self.local);
        for (tile, remote) in tiles.iter().zip(remote) {
            let ours = tile::TileReader::read_tiles(&local, &[*tile])
                .map_err(|e| StorageError::Corrupt {
                    what: format!("local tile {tile}"),
                    reason: e.to_string(),
                })?
                .pop();
            if remote.as_ref() != ours.as_ref() {
                return Err(StorageError::Corrupt {
                    what: format!("tile {tile} in {}", self.bucket.url()),
                    reason: "missing or different from the tree the record's checkpoint signs"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// Rebuilds the local index from the bucket alone, from an empty
    /// directory: what `sigil-log reindex` does.
    ///
    /// # Errors
    ///
    /// [`StorageError::Corrupt`] if the local index is not empty or the
    /// bucket has no record; the bucket's and local store's errors.
    pub fn reindex(&self) -> Result<u64, StorageError> {
        let mut state = self.lock();
        self.read_record(&mut state)?;
        let Some((record, _)) = state.record.clone() else {
            return Err(StorageError::Corrupt {
                what: format!("bucket {}", self.bucket.url()),
                reason: "it has no checkpoint record: there is no log to index".into(),
            });
        };
        self.catch_up(&record, None)?;
        Ok(record.size)
    }
}

/// A batch as staged in the bucket.
fn to_staged(batch: &Batch) -> StagedBatch {
    StagedBatch {
        old_size: batch.old_size,
        new_size: batch.new_size,
        tiles: batch.tiles.clone(),
        releases: batch
            .releases
            .iter()
            .map(|(c, v, r)| (c.clone(), v.clone(), r.index, r.sha256))
            .collect(),
        certificates: batch.certificates.clone(),
        revocations: batch
            .revocations
            .iter()
            .map(|(id, r)| (*id, r.from_index, r.index))
            .collect(),
        checkpoint: batch.checkpoint.clone(),
    }
}

/// A staged batch as the store applies it.
fn from_staged(staged: StagedBatch) -> Batch {
    Batch {
        old_size: staged.old_size,
        new_size: staged.new_size,
        tiles: staged.tiles,
        releases: staged
            .releases
            .into_iter()
            .map(|(c, v, index, sha256)| (c, v, ReleaseRecord { index, sha256 }))
            .collect(),
        certificates: staged.certificates,
        revocations: staged
            .revocations
            .into_iter()
            .map(|(id, from_index, index)| (id, RevocationRecord { from_index, index }))
            .collect(),
        checkpoint: staged.checkpoint,
    }
}

/// The root a signed checkpoint note names (its signature unchecked).
fn checkpoint_root(note: &[u8]) -> Result<merkle::Hash, StorageError> {
    let corrupt = |reason: String| StorageError::Corrupt {
        what: format!("record {RECORD_KEY}"),
        reason: format!("its checkpoint: {reason}"),
    };
    let note = sigil_core::note::Note::parse(note).map_err(|e| corrupt(e.to_string()))?;
    let checkpoint = sigil_core::checkpoint::Checkpoint::parse(&note.text)
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(checkpoint.root)
}

/// The checkpoint the local index holds while it is rebuilt, before it
/// reaches the record's size: never served, never compared.
fn placeholder(size: u64) -> Vec<u8> {
    format!("sigil-log index being rebuilt, at size {size}\n").into_bytes()
}

fn lease_ms(lease: Duration) -> u64 {
    u64::try_from(lease.as_millis()).unwrap_or(u64::MAX)
}

/// The batch that appends `entries` at `old_size` to `local`: tiles
/// computed as the sequencer computes them, and the rows each entry
/// implies (a release's crate@version, a certificate's chain, a
/// revocation's certificate id).
fn replay_batch(
    local: &RocksStore,
    old_size: u64,
    entries: &[Vec<u8>],
    checkpoint: Vec<u8>,
) -> Result<Batch, StorageError> {
    let base = StorageTiles(local);
    let corrupt = |index: u64, reason: String| StorageError::Corrupt {
        what: format!("entry {index}"),
        reason,
    };
    let leaves: Vec<_> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
    let mut tiles = tile::append_leaves(old_size, &base, &leaves)
        .map_err(|e| corrupt(old_size, e.to_string()))?;
    tiles.extend(
        entry_bundles(&base, old_size, entries).map_err(|e| corrupt(old_size, e.to_string()))?,
    );
    let mut batch = Batch {
        old_size,
        new_size: old_size + entries.len() as u64,
        tiles,
        checkpoint,
        ..Batch::default()
    };
    for (i, bytes) in entries.iter().enumerate() {
        let index = old_size + i as u64;
        let entry = Entry::decode(bytes).map_err(|e| corrupt(index, e.to_string()))?;
        match entry.body {
            EntryBody::Release(r) => batch.releases.push((
                r.crate_name,
                r.version,
                ReleaseRecord {
                    index,
                    sha256: r.sha256,
                },
            )),
            EntryBody::Certificate(c) => batch.certificates.push((chain_hash(&c.chain), index)),
            EntryBody::Revocation(r) => {
                let issuer = r
                    .signer_chain
                    .first()
                    .ok_or_else(|| corrupt(index, "revocation without a signer chain".into()))?;
                let issuer = sigil_verifier::x509::Certificate::parse(issuer)
                    .map_err(|e| corrupt(index, e.to_string()))?;
                let id = sigil_verifier::certificate_id(issuer.spki_der(), &r.serial);
                batch.revocations.push((
                    id,
                    RevocationRecord {
                        from_index: r.from_index,
                        index,
                    },
                ));
            }
            _ => {}
        }
    }
    Ok(batch)
}

impl Storage for BucketStore {
    fn load_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        let mut state = self.lock();
        self.recover(&mut state)?;
        Ok(state.record.as_ref().map(|(r, _)| StoredCheckpoint {
            size: r.size,
            note: r.checkpoint.clone(),
        }))
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.local.read_tiles(tiles)
    }

    fn release(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<ReleaseRecord>, StorageError> {
        self.local.release(crate_name, version)
    }

    fn releases(&self, crate_name: &str) -> Result<Vec<(String, ReleaseRecord)>, StorageError> {
        self.local.releases(crate_name)
    }

    fn certificate(&self, chain_hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        self.local.certificate(chain_hash)
    }

    fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationRecord>, StorageError> {
        self.local.revocation(certificate_id)
    }

    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        let mut state = self.lock();
        if let Some(holder) = &state.lost {
            return Err(StorageError::LeaseLost {
                holder: holder.clone(),
            });
        }
        if !state.known {
            self.recover(&mut state)?;
        }
        let (record, e_tag) = match state.record.clone() {
            Some((r, e)) => (Some(r), e),
            None => (None, None),
        };
        let stored_size = record.as_ref().map_or(0, |r| r.size);
        // Every check before anything is written (invariant 7 of storage).
        plan_batch(
            batch,
            stored_size,
            StoredRows {
                release: |c: &str, v: &str| self.local.release(c, v),
                certificate: |h: &[u8; 32]| self.local.certificate(h),
                revocation: |id: &[u8; 32]| self.local.revocation(id),
            },
        )?;
        if let Some(record) = record.as_ref().filter(|r| r.holder != self.lease.holder) {
            return Err(StorageError::NotSequencer {
                holder: record.holder.clone(),
            });
        }
        // 1. Stage.
        let key = format!(
            "{STAGING_PREFIX}{:020}-{}",
            batch.new_size,
            &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&batch.checkpoint))[..32]
        );
        self.bucket.create_all(
            vec![(key.clone(), staged::encode(&to_staged(batch)))],
            NO_CACHE,
        )?;
        self.fail_at(FailPoint::AfterStage)?;
        // 2. Swap: the commit point.
        let new = Record {
            origin: self.origin.clone(),
            size: batch.new_size,
            checkpoint: batch.checkpoint.clone(),
            staged: key,
            holder: self.lease.holder.clone(),
            lease_ms: lease_ms(self.lease.lease),
            serial: record.as_ref().map_or(0, |r| r.serial + 1),
        };
        if !self.swap(&mut state, e_tag, &new)? {
            let now = state.record.as_ref().map(|(r, _)| r.clone());
            return match now {
                Some(r) if r.holder != self.lease.holder => Err(self.lost(&mut state)),
                _ => Err(StorageError::Conflict {
                    stored: now.map_or(0, |r| r.size),
                    expected: batch.old_size,
                }),
            };
        }
        // From here the batch is in the log; a failure leaves the state
        // unknown, and the next call applies the staged batch again.
        let applied = self
            .fail_at(FailPoint::AfterSwap)
            .and_then(|()| self.write_tiles(batch))
            .and_then(|()| self.fail_at(FailPoint::AfterTiles))
            .and_then(|()| self.local.append_batch(batch));
        if applied.is_err() {
            state.known = false;
        }
        applied
    }

    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StorageError> {
        if let Some(holder) = &self.lock().lost {
            return Err(StorageError::LeaseLost {
                holder: holder.clone(),
            });
        }
        self.bucket.overwrite(CHECKPOINT_KEY, note.to_vec())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fail_points_parse() {
        assert_eq!(FailPoint::parse("after-swap"), Some(FailPoint::AfterSwap));
        assert_eq!(FailPoint::parse("after-stage"), Some(FailPoint::AfterStage));
        assert_eq!(FailPoint::parse("after-tiles"), Some(FailPoint::AfterTiles));
        assert_eq!(FailPoint::parse("later"), None);
    }

    #[test]
    fn placeholders_are_not_checkpoints() {
        assert!(
            sigil_core::checkpoint::Checkpoint::parse(
                std::str::from_utf8(&placeholder(5)).unwrap()
            )
            .is_err()
        );
    }
}
