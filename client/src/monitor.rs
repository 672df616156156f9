//! The engine of `sigil monitor`: follow a log through its C2SP
//! `tlog-tiles` (<https://c2sp.org/tlog-tiles>), re-verify every
//! checkpoint, tile and entry, and report what a crate owner or an
//! auditor must know. No HTTP here: the log is read through a
//! [`TileSource`], and the caller prints the [`Alert`]s.
//!
//! # One step ([`Monitor::step`])
//!
//! 1. Fetch `/checkpoint` and verify it under the trust root's policy
//!    (C2SP `tlog-checkpoint`: log signature, origin, witness quorum). One
//!    that does not verify is an error ([`MonitorError::Checkpoint`]), not
//!    a violation: anyone on the path could have sent it.
//! 2. Compare it with the newest checkpoint verified before (the state):
//!    same size and another root is a **fork**; a larger one must contain
//!    the old tree: the old root, and the root of the entries already
//!    processed, are recomputed from the new checkpoint's hash tiles (each
//!    tile authenticated against the new root, `TileHashReader::authenticated`)
//!    and must equal the stored ones (RFC 9162 §2.1.4: consistency, here
//!    computed from the tiles instead of a proof). A smaller one is stale
//!    (a cache) and ignored ([`StepReport::stale`]).
//! 3. For each entry bundle of the new range (256 entries, tlog-tiles
//!    `tile/entries/N[.p/W]`): fetch it and the level-0 hash tile of the
//!    same index (authenticated against the new root), and compare each
//!    entry's leaf hash `SHA-256(0x00 || entry)` (RFC 9162 §2.1.1) with
//!    the tile. An entry whose bytes changed fails here.
//! 4. Re-run the log's admission rules on each new entry, in index order
//!    (`log-server` `admission` and `sequencer`), judged at its
//!    `integrated_at`: [`check_release`] with the revocations logged
//!    before it, [`check_certificate_entry`], [`check_revocation`]; one
//!    artifact per `crate@version`; `integrated_at` not going backwards.
//! 5. After the last entry, the root of all processed leaves, kept as a
//!    compact range in the state, must equal the checkpoint's root.
//!
//! The state is saved (atomically, `state` module) after every
//! [`Monitor::with_save_interval`] entries, at the end, and when a step
//! fails after checking at least one bundle (what was checked was
//! authenticated against the adopted checkpoint), so a catch-up that is
//! stopped resumes at the last save. Alerts of entries after that
//! save are raised again on resume: delivery is at least once.
//!
//! # Alerts
//!
//! | kind | when |
//! |---|---|
//! | `release` | a valid release of a watched crate, or signed by a watched identity |
//! | `certificate` | a valid certificate for a watched identity, or whose scope names a watched crate |
//! | `revoked_release` | a revocation logged after a release with `from_index <=` its index voids it (not the log's fault) |
//! | `violation` | the log should not have done this; `code` says what |
//!
//! Violation codes: `fork` (two incompatible checkpoints); `tiles_mismatch`
//! (hash tiles that do not hash to the signed root or to their parent
//! tile); `malformed_tile`, `malformed_bundle`; `entry_hash_mismatch` (an
//! entry's bytes do not hash to the tree); `root_mismatch` (the entries
//! hash to another root); `malformed_entry`; `duplicate_release` (the
//! same `crate@version` and SHA-256 logged twice: the log answers a
//! resubmission with the existing entry); `conflicting_release` (a second
//! artifact for a logged `crate@version`); `time_went_backwards`; and for
//! an entry the verifier refuses, its [`VerifyError::code`] (e.g.
//! `out_of_scope`, `revoked`, `bad_signature`, `expired`).
//!
//! After a violation of the first six kinds the step stops with
//! [`MonitorError::Violation`] and the state does not advance past it
//! (the next step meets it again). Violations of the entry rules do not
//! stop the monitor: the entry is logged for good and the alert says so.
//!
//! # Time
//!
//! Sigil's sequencer stamps `max(now, previous stamp)`, so `integrated_at`
//! never decreases. A monitor tolerates
//! [`DEFAULT_TIME_TOLERANCE_MS`] (one minute) of going backwards, for
//! logs that stamp before they order; more is `time_went_backwards`. An
//! entry is judged at its own `integrated_at`, which the log stamps a
//! little after it admitted the entry, so a certificate that expired in
//! between (a window of about 100 ms) is reported as `expired`.

use std::collections::BTreeSet;
use std::path::Path;

use sigil_core::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy, verify_checkpoint};
use sigil_core::entry::{Entry, EntryBody, ReleaseEntry};
use sigil_core::merkle::{self, Hash, MerkleError, NodeId, leaf_hash};
use sigil_core::tile::{
    TILE_HEIGHT, TILE_WIDTH, Tile, TileError, TileHashReader, TileKind, parse_bundle_for_tile,
};
use sigil_core::trust_root::TrustRoot;

use sigil_verifier::{
    ChainCache, TrustedRoots, VerifyError, check_certificate_entry, check_release, check_revocation,
};

mod alert;
mod source;
mod state;

pub use alert::{Alert, AlertKind};
pub use source::TileSource;
pub use state::{MonitorState, STATE_VERSION};

use source::{FetchError, SourceTiles};
use state::{ReleaseSeen, StateDir, release_key};

/// How far `integrated_at` may go backwards before it is a violation: one
/// minute (module docs, "Time").
pub const DEFAULT_TIME_TOLERANCE_MS: u64 = 60_000;

/// How many entries a step processes between two saves of the state by
/// default: 256 bundles. Each save rewrites the whole state file (about
/// 110 bytes per release seen, `state` module), so this trades the work
/// redone after an interruption against write volume.
pub const DEFAULT_SAVE_INTERVAL: u64 = 65_536;

/// What to alert on besides violations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watch {
    /// Crate names (`--watch-crate`), compared exactly.
    pub crates: BTreeSet<String>,
    /// Identities (`--watch-identity`): an email address or URI as the
    /// certificate's subjectAltName carries it, compared exactly.
    pub identities: BTreeSet<String>,
}

/// Why a step failed. The state is left as it was at the last save.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// Reading or writing the state directory failed.
    #[error("monitor state {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Another monitor holds the state directory's lock.
    #[error(
        "another monitor is using this state directory (lock {} is held); stop it or use another --state",
        path.display()
    )]
    Locked {
        /// The lock file.
        path: std::path::PathBuf,
    },
    /// The state file is damaged or not a monitor state. It is left in
    /// place.
    #[error("the monitor state {} is unusable ({reason}); inspect it, and remove it only to start over from entry 0", path.display())]
    Corrupt {
        /// The state file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The state directory follows another log.
    #[error("the state directory follows the log {found:?}, not {expected:?}; use another --state")]
    WrongLog {
        /// The trust root's origin.
        expected: String,
        /// The state's origin.
        found: String,
    },
    /// The trust root cannot be used.
    #[error("trust root: {0}")]
    TrustRoot(String),
    /// The log's checkpoint does not verify under the trust root.
    #[error("the log's checkpoint does not verify against the trust root: {0}")]
    Checkpoint(#[source] CheckpointError),
    /// The checkpoint, a tile or a bundle could not be fetched.
    #[error("fetching {what}: {reason}")]
    Fetch {
        /// What was asked for (`checkpoint` or a tile path).
        what: String,
        /// The source's reason.
        reason: String,
    },
    /// The log misbehaved in a way that stops the monitor (module docs): a
    /// violation alert was raised, and the state does not advance.
    #[error("SECURITY: the log misbehaved ({code}): {reason}")]
    Violation {
        /// The alert's code.
        code: &'static str,
        /// What happened.
        reason: String,
    },
}

/// What a step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepReport {
    /// Size of the log's checkpoint.
    pub checkpoint_size: u64,
    /// Entries processed before this step.
    pub from_size: u64,
    /// Entries processed after it.
    pub to_size: u64,
    /// Alerts raised, violations included.
    pub alerts: u64,
    /// Violations raised.
    pub violations: u64,
    /// The log served a checkpoint smaller than the one already verified
    /// (a stale cache, or a rollback): nothing was done.
    pub stale: bool,
}

/// A monitor of one log (module docs).
pub struct Monitor {
    policy: CheckpointPolicy,
    roots: TrustedRoots,
    /// Chains validated so far: a maintainer's chain is checked once.
    chains: ChainCache,
    watch: Watch,
    time_tolerance_ms: u64,
    save_interval: u64,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("policy", &self.policy)
            .field("watch", &self.watch)
            .field("time_tolerance_ms", &self.time_tolerance_ms)
            .field("save_interval", &self.save_interval)
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// A monitor of the log `policy` names, judging chains against `roots`.
    pub fn new(policy: CheckpointPolicy, roots: TrustedRoots, watch: Watch) -> Monitor {
        Monitor {
            policy,
            roots,
            chains: ChainCache::new(),
            watch,
            time_tolerance_ms: DEFAULT_TIME_TOLERANCE_MS,
            save_interval: DEFAULT_SAVE_INTERVAL,
        }
    }

    /// A monitor of the trust root's log and CA roots
    /// (`docs/formats.md` §4).
    ///
    /// # Errors
    ///
    /// [`MonitorError::TrustRoot`] if its policy or roots are unusable.
    pub fn from_trust_root(trust: &TrustRoot, watch: Watch) -> Result<Monitor, MonitorError> {
        let policy = trust
            .policy()
            .map_err(|e| MonitorError::TrustRoot(e.to_string()))?;
        let roots = TrustedRoots::from_trust_root(trust)
            .map_err(|e| MonitorError::TrustRoot(e.to_string()))?;
        Ok(Monitor::new(policy, roots, watch))
    }

    /// Sets how far `integrated_at` may go backwards (module docs, "Time").
    pub fn with_time_tolerance(mut self, ms: u64) -> Monitor {
        self.time_tolerance_ms = ms;
        self
    }

    /// Sets how many entries are processed between saves of the state
    /// (at least one bundle; [`DEFAULT_SAVE_INTERVAL`]).
    pub fn with_save_interval(mut self, entries: u64) -> Monitor {
        self.save_interval = entries.max(u64::from(TILE_WIDTH));
        self
    }

    /// The checkpoint policy (origin, log key, witnesses).
    pub fn policy(&self) -> &CheckpointPolicy {
        &self.policy
    }

    /// One step (module docs): verify the log's current checkpoint against
    /// the state in `state_dir`, process every new entry, save. Calls
    /// `on_alert` for each alert as it is found and `on_progress(done,
    /// total)` after each entry bundle (entries of this step).
    ///
    /// # Errors
    ///
    /// [`MonitorError::Violation`] after a fork or tiles/entries that do
    /// not match the checkpoint (the alert was raised first); fetch,
    /// checkpoint, lock and state errors. The state keeps what was saved.
    pub fn step(
        &self,
        source: &dyn TileSource,
        state_dir: &Path,
        on_alert: &mut dyn FnMut(&Alert),
        on_progress: &mut dyn FnMut(u64, u64),
    ) -> Result<StepReport, MonitorError> {
        let dir = StateDir::lock(state_dir)?;
        let mut state = dir
            .load(&self.policy)?
            .unwrap_or_else(|| MonitorState::new(&self.policy.origin));
        let note = source.checkpoint().map_err(|reason| MonitorError::Fetch {
            what: "checkpoint".into(),
            reason,
        })?;
        let verified = verify_checkpoint(&note, &self.policy).map_err(MonitorError::Checkpoint)?;
        let new = verified.checkpoint;
        let mut out = Emitter {
            origin: &self.policy.origin,
            tree_size: new.size,
            on_alert,
            alerts: 0,
            violations: 0,
        };
        let from_size = state.size();
        let mut report = StepReport {
            checkpoint_size: new.size,
            from_size,
            to_size: from_size,
            ..StepReport::default()
        };
        let tiles = SourceTiles::new(source);
        let result = self.advance(&dir, &mut state, note, &new, &tiles, &mut out, on_progress);
        report.alerts = out.alerts;
        report.violations = out.violations;
        report.to_size = state.size();
        match result {
            Ok(Advance::Stale) => {
                report.stale = true;
                Ok(report)
            }
            Ok(Advance::Done) => Ok(report),
            Err(e) => Err(e),
        }
    }

    /// Steps 2 to 5 of the module docs.
    #[allow(clippy::too_many_arguments)]
    fn advance(
        &self,
        dir: &StateDir,
        state: &mut MonitorState,
        note: Vec<u8>,
        new: &Checkpoint,
        tiles: &SourceTiles<'_>,
        out: &mut Emitter<'_>,
        on_progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Advance, MonitorError> {
        let reader = &TileHashReader::authenticated(new.size, new.root, tiles);
        match state.checkpoint() {
            Some(old) if new.size < old.size => return Ok(Advance::Stale),
            Some(old) if new.size == old.size => {
                if new.root != old.root {
                    return Err(out.stop(
                        "fork",
                        format!(
                            "two checkpoints of size {} with different roots: {} stored, {} served",
                            new.size,
                            hex::encode(old.root),
                            hex::encode(new.root)
                        ),
                    ));
                }
            }
            Some(old) => {
                let old = old.clone();
                self.check_consistency(state, &old, new, reader, out)?;
                state.checkpoint = Some((note, new.clone()));
            }
            None => state.checkpoint = Some((note, new.clone())),
        }
        let start = state.size();
        let total = new.size - start;
        let mut saved = start;
        let mut at = start;
        while at < new.size {
            let bundle = at >> TILE_HEIGHT;
            if let Err(e) = self.process_bundle(state, bundle, new, tiles, reader, out) {
                // Keep the whole bundles checked so far: they were
                // authenticated against the adopted checkpoint.
                if state.size() > saved {
                    dir.save(state)?;
                }
                return Err(e);
            }
            at = state.size();
            on_progress(at - start, total);
            if at - saved >= self.save_interval && at < new.size {
                dir.save(state)?;
                saved = at;
            }
        }
        if state.edge.root() != new.root {
            return Err(out.stop(
                "root_mismatch",
                format!(
                    "the {} entries hash to root {}, the checkpoint says {}",
                    new.size,
                    hex::encode(state.edge.root()),
                    hex::encode(new.root)
                ),
            ));
        }
        dir.save(state)?;
        Ok(Advance::Done)
    }

    /// Step 2 for a larger checkpoint: the stored root and the root of the
    /// processed entries, recomputed from the new tree's tiles.
    fn check_consistency(
        &self,
        state: &MonitorState,
        old: &Checkpoint,
        new: &Checkpoint,
        reader: &TileHashReader<'_, SourceTiles<'_>>,
        out: &mut Emitter<'_>,
    ) -> Result<(), MonitorError> {
        let mut checks = vec![(old.size, old.root, "the stored checkpoint")];
        if state.size() != old.size {
            checks.push((state.size(), state.edge.root(), "the entries processed"));
        }
        for (size, root, what) in checks {
            let computed = merkle::tree_hash(size, reader).map_err(|e| classify_merkle(e, out))?;
            if computed != root {
                return Err(out.stop(
                    "fork",
                    format!(
                        "the checkpoint of size {} is not an extension of {what}: its first {size} entries hash to {}, not {}",
                        new.size,
                        hex::encode(computed),
                        hex::encode(root)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Steps 3 and 4 for the bundle of index `bundle`, from entry
    /// `state.size()` on.
    fn process_bundle(
        &self,
        state: &mut MonitorState,
        bundle: u64,
        new: &Checkpoint,
        tiles: &SourceTiles<'_>,
        reader: &TileHashReader<'_, SourceTiles<'_>>,
        out: &mut Emitter<'_>,
    ) -> Result<(), MonitorError> {
        let Some(tile) = Tile::at_size(TileKind::Entries, bundle, new.size) else {
            return Err(out.stop(
                "malformed_bundle",
                format!("no entry bundle {bundle} in a tree of size {}", new.size),
            ));
        };
        let data = tiles.fetch(&tile).map_err(|e| classify_tile(e, out))?;
        let entries = parse_bundle_for_tile(&tile, &data).map_err(|e| {
            out.stop(
                "malformed_bundle",
                format!("entry bundle {tile} does not parse: {e}"),
            )
        })?;
        let first = bundle << TILE_HEIGHT;
        let ids: Vec<NodeId> = (0..u64::from(tile.width))
            .map(|i| NodeId::new(0, first + i))
            .collect();
        let hashes = reader
            .read_hashes_from_tiles(&ids)
            .map_err(|e| classify_tile(e, out))?;
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        for (i, (leaf, expected)) in leaves.iter().zip(&hashes).enumerate() {
            if leaf != expected {
                let index = first + i as u64;
                let mut alert = out.alert(AlertKind::Violation);
                alert.index = Some(index);
                alert.code = Some("entry_hash_mismatch".into());
                let reason = format!(
                    "entry {index} in bundle {tile} hashes to {}, the tree (signed checkpoint of size {}) has {}: its bytes were changed",
                    hex::encode(leaf),
                    new.size,
                    hex::encode(expected)
                );
                alert.reason = Some(reason.clone());
                out.emit(alert);
                return Err(MonitorError::Violation {
                    code: "entry_hash_mismatch",
                    reason,
                });
            }
        }
        let skip = usize::try_from(state.size() - first).unwrap_or(usize::MAX);
        for (i, (bytes, leaf)) in entries.iter().zip(leaves).enumerate().skip(skip) {
            self.check_entry(state, first + i as u64, bytes, out);
            state.edge.push(leaf);
        }
        Ok(())
    }

    /// Step 4 for one entry: the admission rules, the order rules, alerts.
    fn check_entry(
        &self,
        state: &mut MonitorState,
        index: u64,
        bytes: &[u8],
        out: &mut Emitter<'_>,
    ) {
        let entry = match Entry::decode(bytes) {
            Ok(entry) => entry,
            Err(e) => {
                let mut alert = out.alert(AlertKind::Violation);
                alert.index = Some(index);
                alert.code = Some("malformed_entry".into());
                alert.reason = Some(format!("entry {index} does not decode: {e}"));
                out.violation(state, alert);
                return;
            }
        };
        let at = entry.integrated_at;
        if at.saturating_add(self.time_tolerance_ms) < state.last_integrated_at {
            let mut alert = out.alert(AlertKind::Violation);
            alert.index = Some(index);
            alert.integrated_at = Some(at);
            alert.code = Some("time_went_backwards".into());
            alert.reason = Some(format!(
                "entry {index} is stamped {at}, {} ms before an earlier entry (tolerance {} ms)",
                state.last_integrated_at - at,
                self.time_tolerance_ms
            ));
            out.violation(state, alert);
        }
        state.last_integrated_at = state.last_integrated_at.max(at);
        match &entry.body {
            EntryBody::Release(release) => self.check_release_entry(state, index, at, release, out),
            EntryBody::Certificate(cert) => {
                match check_certificate_entry(cert, at, &self.roots, Some(&self.chains)) {
                    Ok(signer) => {
                        let mut watched: Vec<String> = Vec::new();
                        if self.watch.identities.contains(&signer.identity) {
                            watched.push(format!("identity:{}", signer.identity));
                        }
                        for name in signer
                            .crates
                            .iter()
                            .filter(|c| self.watch.crates.contains(*c))
                        {
                            watched.push(format!("crate:{name}"));
                        }
                        if !watched.is_empty() {
                            let mut alert = out.alert(AlertKind::Certificate);
                            alert.index = Some(index);
                            alert.integrated_at = Some(at);
                            alert.identities = vec![signer.identity];
                            alert.scope = signer.crates;
                            alert.certificate_id = Some(hex::encode(signer.certificate_id));
                            alert.watched = watched;
                            out.emit(alert);
                        }
                    }
                    Err(e) => out.refused(state, index, at, &e, None),
                }
            }
            EntryBody::Revocation(rev) => match check_revocation(rev, at, &self.roots) {
                Ok(id) => self.revoked(state, index, id, rev.from_index, out),
                Err(e) => out.refused(state, index, at, &e, None),
            },
            // A kind this verifier does not know: the log should not have
            // logged what its clients cannot check.
            _ => out.refused(state, index, at, &VerifyError::UnknownEntryKind, None),
        }
    }

    /// A release entry: [`check_release`] with the revocations logged
    /// before it, then one artifact per `crate@version`.
    fn check_release_entry(
        &self,
        state: &mut MonitorState,
        index: u64,
        at: u64,
        release: &ReleaseEntry,
        out: &mut Emitter<'_>,
    ) {
        let checked = check_release(
            release,
            at,
            index,
            &self.roots,
            &state.revocations,
            Some(&self.chains),
        );
        let key = release_key(&release.crate_name, &release.version);
        if let Some(seen) = state.releases.get(&key) {
            let (code, what) = if seen.sha256 == release.sha256 {
                (
                    "duplicate_release",
                    "the same artifact is already logged; a resubmission should have been answered with the existing entry",
                )
            } else {
                (
                    "conflicting_release",
                    "another artifact is already logged for this crate@version; the log must refuse a replacement",
                )
            };
            let mut alert = release_alert(out.alert(AlertKind::Violation), index, at, release);
            alert.code = Some(code.into());
            alert.reason = Some(format!(
                "{key} at index {index} with sha256 {}: logged at index {} with sha256 {}; {what}",
                hex::encode(release.sha256),
                seen.index,
                hex::encode(seen.sha256)
            ));
            out.violation(state, alert);
        }
        let signers = match checked {
            Ok(signers) => signers,
            Err(e) => {
                out.refused(state, index, at, &e, Some(release));
                state.releases.entry(key).or_insert(ReleaseSeen {
                    index,
                    sha256: release.sha256,
                    signers: Vec::new(),
                });
                return;
            }
        };
        if !state.releases.contains_key(&key) {
            let ids: Vec<u32> = signers
                .iter()
                .flat_map(|s| s.path_ids().copied())
                .collect::<Vec<_>>()
                .into_iter()
                .map(|id| state.intern(id))
                .collect();
            state.releases.insert(
                key,
                ReleaseSeen {
                    index,
                    sha256: release.sha256,
                    signers: ids,
                },
            );
        }
        let mut watched: Vec<String> = Vec::new();
        if self.watch.crates.contains(&release.crate_name) {
            watched.push(format!("crate:{}", release.crate_name));
        }
        for s in &signers {
            if self.watch.identities.contains(&s.identity) {
                watched.push(format!("identity:{}", s.identity));
            }
        }
        if !watched.is_empty() {
            let mut alert = release_alert(out.alert(AlertKind::Release), index, at, release);
            alert.identities = signers.into_iter().map(|s| s.identity).collect();
            alert.watched = watched;
            out.emit(alert);
        }
    }

    /// A valid revocation at `index` of certificate `id` from `from_index`:
    /// alerts for the releases it voids that were logged before it and
    /// were not void already, then remembered for later releases.
    fn revoked(
        &self,
        state: &mut MonitorState,
        index: u64,
        id: [u8; 32],
        from_index: u64,
        out: &mut Emitter<'_>,
    ) {
        let earlier = state.revocations.revoked_from(&id);
        // Releases in [from_index, until) become void now; those from an
        // earlier revocation's from_index on were void already (alerted,
        // or refused as violations).
        let until = earlier.unwrap_or(u64::MAX).min(index);
        if let Some(&pos) = state.certificate_positions.get(&id) {
            let voided: Vec<(String, u64, [u8; 32])> = state
                .releases
                .iter()
                .filter(|(_, r)| {
                    r.index >= from_index && r.index < until && r.signers.contains(&pos)
                })
                .map(|(k, r)| (k.clone(), r.index, r.sha256))
                .collect();
            for (key, release_index, sha256) in voided {
                let mut alert = out.alert(AlertKind::RevokedRelease);
                alert.index = Some(release_index);
                if let Some((name, version)) = key.split_once('@') {
                    alert.crate_name = Some(name.to_owned());
                    alert.version = Some(version.to_owned());
                }
                alert.sha256 = Some(hex::encode(sha256));
                alert.certificate_id = Some(hex::encode(id));
                alert.reason = Some(format!(
                    "the revocation at index {index} voids a signing certificate of {key} from index {from_index}; the release at index {release_index} no longer verifies"
                ));
                out.emit(alert);
            }
        }
        state.revocations.insert(id, from_index);
    }
}

/// How [`Monitor::advance`] ended without an error.
enum Advance {
    /// The checkpoint was older than the state's.
    Stale,
    /// Caught up with the checkpoint.
    Done,
}

/// A release's fields in an alert.
fn release_alert(mut alert: Alert, index: u64, at: u64, release: &ReleaseEntry) -> Alert {
    alert.index = Some(index);
    alert.integrated_at = Some(at);
    alert.crate_name = Some(release.crate_name.clone());
    alert.version = Some(release.version.clone());
    alert.sha256 = Some(hex::encode(release.sha256));
    alert
}

/// A tile error met while reading the new tree: a violation when the log's
/// data is wrong, a fetch error when it could not be had.
fn classify_tile(err: TileError, out: &mut Emitter<'_>) -> MonitorError {
    match err {
        TileError::RootMismatch { size } => out.stop(
            "tiles_mismatch",
            format!(
                "the hash tiles of tree size {size} do not hash to the signed checkpoint's root"
            ),
        ),
        TileError::TileMismatch { tile } => out.stop(
            "tiles_mismatch",
            format!("tile {tile} does not hash to the value its parent tile records"),
        ),
        e @ (TileError::WrongTileLength { .. } | TileError::ReaderResponse { .. }) => {
            out.stop("malformed_tile", e.to_string())
        }
        TileError::Storage(inner) => match inner.downcast::<FetchError>() {
            Ok(fetch) => MonitorError::Fetch {
                what: fetch.path,
                reason: fetch.reason,
            },
            Err(other) => MonitorError::Fetch {
                what: "tiles".into(),
                reason: other.to_string(),
            },
        },
        other => MonitorError::Fetch {
            what: "tiles".into(),
            reason: other.to_string(),
        },
    }
}

/// [`classify_tile`] for errors that came through the Merkle functions.
fn classify_merkle(err: MerkleError, out: &mut Emitter<'_>) -> MonitorError {
    match err {
        MerkleError::Storage(inner) => match inner.downcast::<TileError>() {
            Ok(tile) => classify_tile(*tile, out),
            Err(other) => MonitorError::Fetch {
                what: "tiles".into(),
                reason: other.to_string(),
            },
        },
        other => MonitorError::Fetch {
            what: "tiles".into(),
            reason: other.to_string(),
        },
    }
}

/// Raises alerts and counts them.
struct Emitter<'a> {
    origin: &'a str,
    tree_size: u64,
    on_alert: &'a mut dyn FnMut(&Alert),
    alerts: u64,
    violations: u64,
}

impl Emitter<'_> {
    fn alert(&self, kind: AlertKind) -> Alert {
        Alert::new(kind, self.origin, self.tree_size)
    }

    fn emit(&mut self, alert: Alert) {
        self.alerts += 1;
        if alert.is_violation() {
            self.violations += 1;
        }
        (self.on_alert)(&alert);
    }

    /// A violation about an entry: counted in the state too.
    fn violation(&mut self, state: &mut MonitorState, alert: Alert) {
        state.violations = state.violations.saturating_add(1);
        self.emit(alert);
    }

    /// An entry the verifier refuses.
    fn refused(
        &mut self,
        state: &mut MonitorState,
        index: u64,
        at: u64,
        err: &VerifyError,
        release: Option<&ReleaseEntry>,
    ) {
        let mut alert = self.alert(AlertKind::Violation);
        if let Some(release) = release {
            alert = release_alert(alert, index, at, release);
        }
        alert.index = Some(index);
        alert.integrated_at = Some(at);
        alert.code = Some(err.code().into());
        alert.reason = Some(format!("entry {index} should have been refused: {err}"));
        self.violation(state, alert);
    }

    /// A violation that stops the step (not counted in the state, which is
    /// not saved past it).
    fn stop(&mut self, code: &'static str, reason: String) -> MonitorError {
        let mut alert = self.alert(AlertKind::Violation);
        alert.code = Some(code.into());
        alert.reason = Some(reason.clone());
        self.emit(alert);
        MonitorError::Violation { code, reason }
    }
}
