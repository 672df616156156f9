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
//!    `integrated_at`: `sigil_verifier::check_release` with the revocations
//!    logged before it, `check_certificate_entry`, `check_revocation`; one
//!    artifact per `crate@version`; `integrated_at` not going backwards.
//! 5. After the last entry, the root of all processed leaves, kept as a
//!    compact range in the state, must equal the checkpoint's root.
//!
//! Steps 1 to 3 and 5 *follow the tree* (`follow` module: nothing there
//! reads what an entry says); step 4 *re-judges entries* (`judge`
//! module: nothing there fetches); this module runs a step and saves.
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
//! an entry the verifier refuses, its `sigil_verifier::VerifyError::code` (e.g.
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

use sigil_core::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy};
use sigil_core::tile::{TILE_HEIGHT, TILE_WIDTH, TileHashReader};
use sigil_core::trust_root::TrustRoot;
use sigil_verifier::{ChainCache, TrustedRoots};

mod alert;
mod follow;
mod judge;
mod source;
mod state;

pub use crate::log_source::{FetchError, TileSource};
pub use alert::{Alert, AlertKind};
pub use state::{MonitorState, STATE_VERSION};

use alert::Emitter;
use follow::Adopted;
use judge::Judge;
use source::SourceTiles;
use state::StateDir;

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
    /// The checkpoint, a tile or a bundle could not be fetched (a full
    /// tile the log does not have, or a log that cannot be read now):
    /// retry later.
    #[error("fetching {0}")]
    Fetch(#[from] FetchError),
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

/// A monitor of one log (module docs): it follows the tree
/// (`follow` module), judges each new entry (`judge` module), and saves
/// its state.
pub struct Monitor {
    policy: CheckpointPolicy,
    judge: Judge,
    save_interval: u64,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("policy", &self.policy)
            .field("watch", &self.judge.watch)
            .field("time_tolerance_ms", &self.judge.time_tolerance_ms)
            .field("save_interval", &self.save_interval)
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// A monitor of the log `policy` names, judging chains against `roots`.
    pub fn new(policy: CheckpointPolicy, roots: TrustedRoots, watch: Watch) -> Monitor {
        Monitor {
            judge: Judge {
                origin: policy.origin.clone(),
                roots,
                chains: ChainCache::new(),
                watch,
                time_tolerance_ms: DEFAULT_TIME_TOLERANCE_MS,
            },
            policy,
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
        self.judge.time_tolerance_ms = ms;
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
        let (note, new) = follow::fetch_checkpoint(source, &self.policy)?;
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
        report.stale = matches!(result?, Adopted::Stale);
        Ok(report)
    }

    /// Steps 2 to 5 of the module docs: adopt the checkpoint, then for
    /// each bundle authenticate it and judge its new entries, saving the
    /// state every [`Monitor::with_save_interval`] entries and at the end.
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
    ) -> Result<Adopted, MonitorError> {
        let reader = &TileHashReader::authenticated(new.size, new.root, tiles);
        if let Adopted::Stale = follow::adopt(state, note, new, reader, out)? {
            return Ok(Adopted::Stale);
        }
        let start = state.size();
        let total = new.size - start;
        let mut saved = start;
        let mut at = start;
        while at < new.size {
            let bundle = match follow::read_bundle(at >> TILE_HEIGHT, new, tiles, reader, out) {
                Ok(bundle) => bundle,
                Err(e) => {
                    // Keep the whole bundles checked so far: they were
                    // authenticated against the adopted checkpoint.
                    if state.size() > saved {
                        dir.save(state)?;
                    }
                    return Err(e);
                }
            };
            let skip = usize::try_from(state.size() - bundle.first).unwrap_or(usize::MAX);
            let entries = bundle.entries.iter().zip(bundle.leaves);
            for (i, (bytes, leaf)) in entries.enumerate().skip(skip) {
                self.judge.entry(state, bundle.first + i as u64, bytes, out);
                state.edge.push(leaf);
            }
            at = state.size();
            on_progress(at - start, total);
            if at - saved >= self.save_interval && at < new.size {
                dir.save(state)?;
                saved = at;
            }
        }
        follow::check_root(&state.edge, new, out)?;
        dir.save(state)?;
        Ok(Adopted::Current)
    }
}
