//! The monitor's state on disk: [`MonitorState`] in `<dir>/state.json`,
//! guarded by `<dir>/state.lock`.
//!
//! # File format
//!
//! UTF-8 JSON, one object (hashes and certificate ids lowercase hex):
//!
//! ```text
//! {
//!   "version": 1,
//!   "origin": "<log origin line>",
//!   "checkpoint": "<signed note>" | null,   newest checkpoint verified
//!   "size": N,                              entries processed, <= checkpoint's size
//!   "edge": ["<hash>", ...],                compact range of the first N leaves
//!   "last_integrated_at": ms,               largest integrated_at seen
//!   "violations": V,                        violations seen, all steps
//!   "certificates": ["<id>", ...],          ids of certificates that signed releases
//!   "releases": {"<crate>@<version>": {"index": I, "sha256": "<hex>", "signers": [k, ...]}},
//!   "revocations": {"<id>": from_index}     smallest valid from_index per certificate
//! }
//! ```
//!
//! `edge` holds the hashes of the complete subtrees of the tree of `size`
//! leaves, largest (leftmost) first, one per set bit of `size` (RFC 9162
//! §2.1.1 unrolled, as `sigil_core::merkle::tree_hash` reads them): enough
//! to append leaves and recompute the root without the tiles. `signers`
//! are positions in `certificates`: the leaf and intermediate ids of every
//! signer's validated path, so a later revocation can find the releases it
//! voids.
//!
//! # Growth
//!
//! Bounded by the log's contents, not by time: about 110 bytes of JSON per
//! release (its key, index, hash and two or three small signer numbers),
//! 75 per certificate that signed a release, 80 per revoked certificate;
//! `edge` is at most 64 hashes. A log of 10^6 releases gives a file and a
//! memory footprint of roughly 110 MB. Certificate and revocation entries
//! leave nothing else behind.
//!
//! # Durability
//!
//! Written to `state.json.tmp`, fsynced, renamed over `state.json`, then
//! the directory fsynced (as `crate::checkpoint_cache` does): a crash
//! leaves the old state or the new one. A monitor holds an exclusive lock
//! on `state.lock` (`std::fs::File::try_lock`, `flock(2)` on Unix) for a
//! whole step; a second monitor on the same directory is refused
//! ([`MonitorError::Locked`]) instead of waiting.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sigil_core::checkpoint::{Checkpoint, CheckpointError, CheckpointPolicy, verify_checkpoint};
use sigil_core::note::Note;
use sigil_verifier::RevocationSet;

use super::MonitorError;
use super::follow::CompactRange;

/// Version of the state file format.
pub const STATE_VERSION: u32 = 1;

const STATE_FILE: &str = "state.json";
const TMP_FILE: &str = "state.json.tmp";
const LOCK_FILE: &str = "state.lock";

/// A release the monitor has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReleaseSeen {
    /// Its first log index.
    pub(super) index: u64,
    /// Its `.crate` SHA-256.
    pub(super) sha256: [u8; 32],
    /// Positions in [`MonitorState::certificates`] of its signers' path
    /// certificates; empty if it did not verify.
    pub(super) signers: Vec<u32>,
}

/// What a monitor remembers between steps (module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorState {
    pub(super) origin: String,
    /// The newest verified checkpoint: its note and its text.
    pub(super) checkpoint: Option<(Vec<u8>, Checkpoint)>,
    /// The first `size` leaves: processed entries.
    pub(super) edge: CompactRange,
    pub(super) last_integrated_at: u64,
    pub(super) violations: u64,
    pub(super) certificates: Vec<[u8; 32]>,
    /// Position of each id in `certificates` (derived).
    pub(super) certificate_positions: HashMap<[u8; 32], u32>,
    /// By `crate@version`.
    pub(super) releases: BTreeMap<String, ReleaseSeen>,
    pub(super) revocations: RevocationSet,
}

impl MonitorState {
    /// The state of a monitor that has seen nothing of the log `origin`.
    pub fn new(origin: &str) -> MonitorState {
        MonitorState {
            origin: origin.to_owned(),
            checkpoint: None,
            edge: CompactRange::default(),
            last_integrated_at: 0,
            violations: 0,
            certificates: Vec::new(),
            certificate_positions: HashMap::new(),
            releases: BTreeMap::new(),
            revocations: RevocationSet::new(),
        }
    }

    /// Reads the state in `dir`, without locking it (for status displays;
    /// [`crate::monitor::Monitor::step`] locks). `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Io`]; [`MonitorError::Corrupt`] if the file is not
    /// a state of this format or its checkpoint does not verify under
    /// `policy`; [`MonitorError::WrongLog`] if it is another log's.
    pub fn load(
        dir: &Path,
        policy: &CheckpointPolicy,
    ) -> Result<Option<MonitorState>, MonitorError> {
        let path = dir.join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(MonitorError::Io { path, source }),
        };
        let corrupt = |reason: String| MonitorError::Corrupt {
            path: path.clone(),
            reason,
        };
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if wire.version != STATE_VERSION {
            return Err(corrupt(format!("unknown state version {}", wire.version)));
        }
        if wire.origin != policy.origin {
            return Err(MonitorError::WrongLog {
                expected: policy.origin.clone(),
                found: wire.origin,
            });
        }
        let checkpoint = match wire.checkpoint {
            None => None,
            Some(note) => Some(
                reverify(note.as_bytes(), policy)
                    .map(|cp| (note.into_bytes(), cp))
                    .map_err(|e| corrupt(format!("its checkpoint does not verify: {e}")))?,
            ),
        };
        let hash = |s: &str| -> Result<[u8; 32], MonitorError> {
            let mut out = [0u8; 32];
            hex::decode_to_slice(s, &mut out)
                .map_err(|e| corrupt(format!("bad hex {s:?}: {e}")))?;
            Ok(out)
        };
        let edge = wire
            .edge
            .iter()
            .map(|h| hash(h))
            .collect::<Result<Vec<_>, _>>()?;
        let edge = CompactRange::from_parts(wire.size, edge)
            .ok_or_else(|| corrupt("edge does not match size".into()))?;
        if edge.size() > checkpoint.as_ref().map_or(0, |(_, cp)| cp.size) {
            return Err(corrupt(
                "more entries processed than the checkpoint holds".into(),
            ));
        }
        let certificates = wire
            .certificates
            .iter()
            .map(|h| hash(h))
            .collect::<Result<Vec<_>, _>>()?;
        let mut releases = BTreeMap::new();
        for (key, r) in wire.releases {
            if r.signers.iter().any(|&s| s as usize >= certificates.len()) {
                return Err(corrupt(format!(
                    "release {key} names an unknown certificate"
                )));
            }
            releases.insert(
                key,
                ReleaseSeen {
                    index: r.index,
                    sha256: hash(&r.sha256)?,
                    signers: r.signers,
                },
            );
        }
        let revocations = wire
            .revocations
            .iter()
            .map(|(id, from)| Ok((hash(id)?, *from)))
            .collect::<Result<RevocationSet, MonitorError>>()?;
        let certificate_positions = certificates
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        Ok(Some(MonitorState {
            origin: wire.origin,
            checkpoint,
            edge,
            last_integrated_at: wire.last_integrated_at,
            violations: wire.violations,
            certificates,
            certificate_positions,
            releases,
            revocations,
        }))
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The newest checkpoint verified, if any.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref().map(|(_, cp)| cp)
    }

    /// The signed note of [`MonitorState::checkpoint`].
    pub fn checkpoint_note(&self) -> Option<&[u8]> {
        self.checkpoint.as_ref().map(|(note, _)| note.as_slice())
    }

    /// Number of entries processed: the next entry to check is at this
    /// index. At most the checkpoint's size (a catch-up interrupted between
    /// saves resumes from here).
    pub fn size(&self) -> u64 {
        self.edge.size()
    }

    /// Violations found over all steps.
    pub fn violations(&self) -> u64 {
        self.violations
    }

    /// The largest `integrated_at` seen (Unix ms).
    pub fn last_integrated_at(&self) -> u64 {
        self.last_integrated_at
    }

    /// The first log index and SHA-256 of `crate_name@version`, if seen.
    pub fn release(&self, crate_name: &str, version: &str) -> Option<(u64, [u8; 32])> {
        self.releases
            .get(&release_key(crate_name, version))
            .map(|r| (r.index, r.sha256))
    }

    /// Number of distinct `crate@version` seen.
    pub fn release_count(&self) -> usize {
        self.releases.len()
    }

    /// The smallest `from_index` of the valid revocations seen of this
    /// certificate.
    pub fn revoked_from(&self, certificate_id: &[u8; 32]) -> Option<u64> {
        self.revocations.revoked_from(certificate_id)
    }

    /// The position of a certificate id in `certificates`, added if new.
    pub(super) fn intern(&mut self, id: [u8; 32]) -> u32 {
        if let Some(&pos) = self.certificate_positions.get(&id) {
            return pos;
        }
        let pos = self.certificates.len() as u32;
        self.certificates.push(id);
        self.certificate_positions.insert(id, pos);
        pos
    }

    fn to_wire(&self) -> Wire {
        Wire {
            version: STATE_VERSION,
            origin: self.origin.clone(),
            checkpoint: self
                .checkpoint
                .as_ref()
                .map(|(note, _)| String::from_utf8_lossy(note).into_owned()),
            size: self.edge.size(),
            edge: self.edge.hashes().iter().map(hex::encode).collect(),
            last_integrated_at: self.last_integrated_at,
            violations: self.violations,
            certificates: self.certificates.iter().map(hex::encode).collect(),
            releases: self
                .releases
                .iter()
                .map(|(k, r)| {
                    (
                        k.clone(),
                        WireRelease {
                            index: r.index,
                            sha256: hex::encode(r.sha256),
                            signers: r.signers.clone(),
                        },
                    )
                })
                .collect(),
            revocations: self
                .revocations
                .iter()
                .map(|(id, from)| (hex::encode(id), from))
                .collect(),
        }
    }
}

/// The key of a release in the state: `crate@version` (a crate name has
/// no `@`).
pub(super) fn release_key(crate_name: &str, version: &str) -> String {
    format!("{crate_name}@{version}")
}

/// A stored checkpoint must still carry the log's valid signature for its
/// origin; cosignatures were checked when it was adopted and a higher
/// quorum since does not void it (as `crate::checkpoint_cache`).
fn reverify(note: &[u8], policy: &CheckpointPolicy) -> Result<Checkpoint, CheckpointError> {
    match verify_checkpoint(note, policy) {
        Ok(verified) => Ok(verified.checkpoint),
        Err(CheckpointError::InsufficientCosignatures { .. }) => {
            Checkpoint::parse(&Note::parse(note)?.text)
        }
        Err(e) => Err(e),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    version: u32,
    origin: String,
    checkpoint: Option<String>,
    size: u64,
    edge: Vec<String>,
    last_integrated_at: u64,
    violations: u64,
    certificates: Vec<String>,
    releases: BTreeMap<String, WireRelease>,
    revocations: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRelease {
    index: u64,
    sha256: String,
    signers: Vec<u32>,
}

/// The state directory, locked for one step.
pub(super) struct StateDir {
    dir: PathBuf,
    /// Held (and so locked) until dropped.
    _lock: File,
}

impl StateDir {
    /// Creates `dir` if needed and takes its lock without waiting.
    pub(super) fn lock(dir: &Path) -> Result<StateDir, MonitorError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| MonitorError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(MonitorError::Locked { path }),
            Err(fs::TryLockError::Error(source)) => return Err(MonitorError::Io { path, source }),
        }
        Ok(StateDir {
            dir: dir.to_path_buf(),
            _lock: file,
        })
    }

    pub(super) fn load(
        &self,
        policy: &CheckpointPolicy,
    ) -> Result<Option<MonitorState>, MonitorError> {
        MonitorState::load(&self.dir, policy)
    }

    /// Replaces the state atomically and durably (module docs).
    pub(super) fn save(&self, state: &MonitorState) -> Result<(), MonitorError> {
        let path = self.dir.join(STATE_FILE);
        let tmp = self.dir.join(TMP_FILE);
        let bytes = serde_json::to_vec(&state.to_wire()).map_err(|e| MonitorError::Io {
            path: tmp.clone(),
            source: io::Error::other(e),
        })?;
        sigil_keyfile::durable_file::replace(&path, &tmp, &bytes).map_err(|e| MonitorError::Io {
            path: e.path,
            source: e.source,
        })
    }
}
