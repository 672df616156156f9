//! [`MemStore`]: the log's storage in memory, for tests, with fault
//! injection (STYLE.md §8).
//!
//! Same semantics as [`super::RocksStore`] — the conformance suite runs
//! against both — minus durability: the state lives as long as the value
//! (share it as `Arc<MemStore>` to "restart" a log on the same state).
//!
//! Faults, for crash tests of the sequencer: for each write, the two ways a
//! storage call can fail —
//!
//! * [`Fault::NotPersisted`]: `append_batch` returns an error and the batch is
//!   **not** applied (a write that never reached the disk);
//! * [`Fault::Persisted`]: the batch is applied (if it passes every check;
//!   otherwise that check's error is returned and nothing is applied) and
//!   then `append_batch` returns an error anyway (a write that reached the
//!   disk, followed by a lost acknowledgement).
//!
//! A caller cannot tell the two apart from the error; that is the point
//! (storage module, invariant 7). Queue faults with
//! [`MemStore::fail_next_append`], decide per batch with
//! [`MemStore::set_append_hook`], and fail reads with
//! [`MemStore::fail_next_reads`].
//!
//! Locks: `state` (read-write) holds the data; `faults` holds the fault
//! settings and is never held while `state` is taken or a hook runs.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use sigil_core::tile::{Tile, TileKind};

use super::{
    Batch, ReleaseRecord, RevocationRecord, Storage, StorageError, StoredCheckpoint, StoredRows,
    check_stored_tile, plan_batch,
};

/// How an injected append failure behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The call fails and the batch is not applied.
    NotPersisted,
    /// The batch is applied, then the call fails.
    Persisted,
}

/// Decides, for each [`Storage::append_batch`] call that has no queued
/// fault, whether it fails and how (`None`: it does not).
pub type AppendHook = Arc<dyn Fn(&Batch) -> Option<Fault> + Send + Sync>;

/// The log's storage in memory, with fault injection (module documentation).
#[derive(Default)]
pub struct MemStore {
    /// The stored data.
    state: RwLock<State>,
    /// Faults to inject. Taken briefly, never together with `state`.
    faults: Mutex<Faults>,
}

/// What the store holds.
#[derive(Default)]
struct State {
    /// The last committed checkpoint.
    checkpoint: Option<StoredCheckpoint>,
    /// Latest contents of each tile, by (kind, index).
    tiles: HashMap<(TileKind, u64), Vec<u8>>,
    /// Release rows: crate → version → record.
    releases: BTreeMap<String, BTreeMap<String, ReleaseRecord>>,
    /// Certificate rows: chain hash → index.
    certificates: HashMap<[u8; 32], u64>,
    /// Revocations: certificate id → record.
    revocations: HashMap<[u8; 32], RevocationRecord>,
}

/// Fault-injection settings.
#[derive(Default)]
struct Faults {
    /// Faults for the next append calls, in order.
    appends: VecDeque<Fault>,
    /// Consulted when `appends` is empty.
    hook: Option<AppendHook>,
    /// Number of read calls still to fail.
    failing_reads: u64,
}

impl std::fmt::Debug for MemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read_state();
        f.debug_struct("MemStore")
            .field("size", &state.checkpoint.as_ref().map_or(0, |c| c.size))
            .field("tiles", &state.tiles.len())
            .field("crates", &state.releases.len())
            .field("revocations", &state.revocations.len())
            .finish_non_exhaustive()
    }
}

impl MemStore {
    /// An empty store: no checkpoint, no tiles, no rows, no faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes one more `append_batch` call fail as `fault` says; faults queue
    /// up and are used by the next calls in order. The call returns
    /// [`StorageError::InjectedAppend`].
    pub fn fail_next_append(&self, fault: Fault) {
        self.lock_faults().appends.push_back(fault);
    }

    /// Sets (or, with `None`, removes) the hook consulted by each
    /// `append_batch` call that has no queued fault: e.g. fail the batch that
    /// reaches a given size. The hook runs with no lock of the store held.
    pub fn set_append_hook(&self, hook: Option<AppendHook>) {
        self.lock_faults().hook = hook;
    }

    /// Makes the next `count` read calls (any of `load_checkpoint`,
    /// `read_tiles`, `release`, `releases`, `certificate`, `revocation`) fail with
    /// [`StorageError::InjectedRead`]; replaces the previous count. The reads
    /// `append_batch` makes for its own checks are not affected.
    pub fn fail_next_reads(&self, count: u64) {
        self.lock_faults().failing_reads = count;
    }

    /// Test hook: stores `data` as the latest contents of the tile
    /// (`kind`, `index`), bypassing every check, to test readers against a
    /// damaged store (a later read returns [`StorageError::Corrupt`] if the
    /// data cannot be such a tile).
    pub fn overwrite_tile_unchecked(&self, kind: TileKind, index: u64, data: Vec<u8>) {
        self.write_state().tiles.insert((kind, index), data);
    }

    /// Fails this read if a read fault is pending.
    fn read_fault(&self) -> Result<(), StorageError> {
        let mut faults = self.lock_faults();
        if faults.failing_reads > 0 {
            faults.failing_reads -= 1;
            return Err(StorageError::InjectedRead);
        }
        Ok(())
    }

    /// The fault for this append call: the queued one, or the hook's answer.
    fn append_fault(&self, batch: &Batch) -> Option<Fault> {
        let hook = {
            let mut faults = self.lock_faults();
            if let Some(fault) = faults.appends.pop_front() {
                return Some(fault);
            }
            faults.hook.clone()
        };
        hook.and_then(|hook| hook(batch))
    }

    // The locks guard plain maps that every critical section leaves
    // consistent (no user code runs under them), so a poisoned lock is safe
    // to keep using.

    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// The release row, if stored.
    fn release(&self, crate_name: &str, version: &str) -> Option<ReleaseRecord> {
        self.releases.get(crate_name)?.get(version).cloned()
    }
}

impl Storage for MemStore {
    fn load_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StorageError> {
        self.read_fault()?;
        Ok(self.read_state().checkpoint.clone())
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.read_fault()?;
        let state = self.read_state();
        tiles
            .iter()
            .map(|tile| {
                let data = state.tiles.get(&(tile.kind, tile.index)).cloned();
                if let Some(data) = &data {
                    check_stored_tile(tile.kind, tile.index, data)?;
                }
                Ok(data)
            })
            .collect()
    }

    fn release(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<ReleaseRecord>, StorageError> {
        self.read_fault()?;
        Ok(self.read_state().release(crate_name, version))
    }

    fn releases(&self, crate_name: &str) -> Result<Vec<(String, ReleaseRecord)>, StorageError> {
        self.read_fault()?;
        let state = self.read_state();
        let mut rows: Vec<_> = state
            .releases
            .get(crate_name)
            .into_iter()
            .flatten()
            .map(|(version, record)| (version.clone(), record.clone()))
            .collect();
        rows.sort_by_key(|(_, record)| record.index);
        Ok(rows)
    }

    fn certificate(&self, chain_hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        self.read_fault()?;
        Ok(self.read_state().certificates.get(chain_hash).copied())
    }

    fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationRecord>, StorageError> {
        self.read_fault()?;
        Ok(self.read_state().revocations.get(certificate_id).copied())
    }

    fn append_batch(&self, batch: &Batch) -> Result<(), StorageError> {
        let fault = self.append_fault(batch);
        if fault == Some(Fault::NotPersisted) {
            return Err(StorageError::InjectedAppend(Fault::NotPersisted));
        }
        {
            // The write lock makes the checks and the update one step.
            let mut state = self.write_state();
            let stored_size = state.checkpoint.as_ref().map_or(0, |c| c.size);
            let rows = plan_batch(
                batch,
                stored_size,
                StoredRows {
                    release: |crate_name: &str, version: &str| {
                        Ok(state.release(crate_name, version))
                    },
                    certificate: |hash: &[u8; 32]| Ok(state.certificates.get(hash).copied()),
                    revocation: |id: &[u8; 32]| Ok(state.revocations.get(id).copied()),
                },
            )?;
            // COMMIT POINT (in memory): nothing below can fail.
            for (tile, data) in &batch.tiles {
                state.tiles.insert((tile.kind, tile.index), data.clone());
            }
            for (crate_name, version, record) in rows.releases {
                state
                    .releases
                    .entry(crate_name.to_string())
                    .or_default()
                    .insert(version.to_string(), record.clone());
            }
            state.certificates.extend(rows.certificates);
            state.revocations.extend(rows.revocations);
            state.checkpoint = Some(StoredCheckpoint {
                size: batch.new_size,
                note: batch.checkpoint.clone(),
            });
        }
        match fault {
            Some(fault) => Err(StorageError::InjectedAppend(fault)),
            None => Ok(()),
        }
    }
}
