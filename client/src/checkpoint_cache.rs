//! The client's checkpoint cache: the newest checkpoint seen of each log,
//! so that a log cannot show one client two histories without being caught
//! (split view). RFC 9162 §8.1.2 (consistency between tree heads), C2SP
//! `tlog-checkpoint`.
//!
//! # Rules ([`CheckpointCache::offer`])
//!
//! The offered checkpoint must first verify under the trust root's policy
//! (log signature, origin, witness quorum). Then, against the cached one
//! of the same log:
//!
//! | offered vs cached | with a [`ConsistencySource`] | without one |
//! |---|---|---|
//! | nothing cached | stored: [`CacheOutcome::Stored`] | same |
//! | same size, same root | [`CacheOutcome::Same`] | same |
//! | same size, other root | [`CacheError::Fork`] | same |
//! | larger | proof cached→offered (RFC 9162 §2.1.4.2) verifies: replaced, [`CacheOutcome::Advanced`]; fails: [`CacheError::Fork`]; cannot be had: [`CacheError::NoConsistencyProof`] | [`CacheOutcome::Unverified`], cache unchanged |
//! | smaller | proof offered→cached verifies: [`CacheOutcome::ConsistentOlder`], cache unchanged; fails: [`CacheError::Fork`]; cannot be had: [`CacheError::NoConsistencyProof`] | [`CacheOutcome::Unverified`] |
//!
//! A tree of size 0 is a prefix of every tree, so no proof is needed from
//! it. Only a proof that was received and does not verify is evidence of a
//! fork.
//!
//! **Online, a comparison that cannot be made fails closed**
//! ([`CacheError::NoConsistencyProof`]), as Go's checksum database client
//! does: whoever withholds the proof (a `404`, a `5xx`, garbage, a dropped
//! connection) may be the log hiding a fork, so the release is not
//! accepted and the cache is unchanged. Offline, with no source at all,
//! the comparison is [`CacheOutcome::Unverified`]: not a failure of the
//! release being checked (its proof and checkpoint verified on their own);
//! `sigil verify` accepts it and says that the split-view check needs
//! `--log` or a witness quorum.
//!
//! # Storage and concurrency
//!
//! One file per log in the cache directory, named by the lowercase hex
//! SHA-256 of the origin line, holding the signed checkpoint note byte for
//! byte. [`CheckpointCache::offer`] holds an exclusive lock
//! (`std::fs::File::lock`, `flock(2)` on Unix) on `<name>.lock` from the
//! read through the write, so two processes or threads offering at once
//! are serialised (while it waits for a consistency proof too). A new
//! checkpoint is written to `<name>.tmp`, fsynced, renamed over `<name>`
//! and the directory fsynced: a reader sees the old file or the new one,
//! never a torn one, and a crash leaves one of them.
//!
//! The cached file is re-verified whenever it is read: it must carry a
//! valid signature by the log's key for the log's origin. Its witness
//! cosignatures were checked when it was stored and are not required again,
//! so raising the quorum in the trust root does not make old caches
//! unusable. A file that does not verify is [`CacheError::Corrupt`] and is
//! never replaced automatically: it may be evidence.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use sigil_core::checkpoint::{
    Checkpoint, CheckpointError, CheckpointPolicy, VerifiedCheckpoint, verify_checkpoint,
};
use sigil_core::merkle;
use sigil_core::note::Note;

pub use crate::log_source::{ConsistencySource, FetchError};

/// What [`CheckpointCache::offer`] did with a checkpoint that verified
/// (module docs, "Rules").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheOutcome {
    /// Nothing was cached for this log: the checkpoint is now.
    Stored,
    /// The cached checkpoint has the same size and root.
    Same,
    /// The checkpoint is newer, proved consistent with the cached one, and
    /// replaced it.
    Advanced {
        /// Size of the checkpoint it replaced.
        from_size: u64,
    },
    /// The checkpoint is older and the cached one proved consistent with
    /// it; the cache keeps the newer one.
    ConsistentOlder {
        /// Size of the cached checkpoint.
        cached_size: u64,
    },
    /// Offline (no source to ask), the sizes differ and no consistency
    /// proof could be checked; the cache is unchanged. (Online, a proof
    /// that cannot be had is [`CacheError::NoConsistencyProof`].)
    Unverified {
        /// Size of the cached checkpoint.
        cached_size: u64,
        /// Why it could not be checked, for a person.
        reason: String,
    },
}

impl CacheOutcome {
    /// True unless the comparison could not be made ([`CacheOutcome::Unverified`]).
    pub fn is_verified(&self) -> bool {
        !matches!(self, CacheOutcome::Unverified { .. })
    }
}

/// Why the cache refused a checkpoint or could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// No cache directory: none of `SIGIL_HOME`, `XDG_CACHE_HOME`, `HOME`
    /// is set.
    #[error(
        "cannot find a directory for the checkpoint cache: set SIGIL_HOME (or XDG_CACHE_HOME or HOME)"
    )]
    NoCacheDir,
    /// Reading or writing the cache failed.
    #[error(
        "checkpoint cache {}: {source}; make the directory writable or point SIGIL_HOME elsewhere",
        path.display()
    )]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The offered checkpoint does not verify under the trust root's policy.
    #[error("the log's checkpoint does not verify against the trust root: {0}")]
    Offered(CheckpointError),
    /// The cached file does not verify: damaged, or written by someone
    /// else. It is left in place.
    #[error(
        "the cached checkpoint {} does not verify ({reason}); it was not replaced: inspect it, and delete it only if you know why it changed",
        path.display()
    )]
    Corrupt {
        /// The cached file.
        path: PathBuf,
        /// Why it does not verify.
        reason: String,
    },
    /// Online, the consistency proof between the cached checkpoint and the
    /// offered one could not be had (module docs): the log, or whoever
    /// answers for it, withheld it. Nothing was cached; the release must
    /// not be trusted until the proof can be checked.
    #[error(
        "the log {origin} did not prove that its checkpoint of size {to_size} extends the one of size {from_size} (a split-view check): {source}. \
         Do not trust this release until the check passes; retry when the log answers, and report it to the log operator if it keeps failing"
    )]
    NoConsistencyProof {
        /// The log's origin.
        origin: String,
        /// The smaller tree size.
        from_size: u64,
        /// The larger tree size.
        to_size: u64,
        /// Why no proof could be had.
        source: FetchError,
    },
    /// The log presented two histories that cannot both be true: two roots
    /// for one size, or a consistency proof that does not verify.
    #[error(
        "SECURITY ERROR: the log {origin} presented two different histories: {reason}. \
         Do not trust releases from this log until this is explained; report both checkpoints to the log operator and your security contact.\n\
         --- checkpoint in the cache ---\n{cached}\
         --- checkpoint just received ---\n{offered}"
    )]
    Fork {
        /// The log's origin.
        origin: String,
        /// What proves the fork.
        reason: String,
        /// The cached signed note, in full.
        cached: String,
        /// The offered signed note, in full.
        offered: String,
    },
}

/// The checkpoint cache in one directory (module docs).
#[derive(Debug, Clone)]
pub struct CheckpointCache {
    dir: PathBuf,
}

impl CheckpointCache {
    /// The cache in `dir`, created (with its parents) if missing.
    ///
    /// # Errors
    ///
    /// [`CacheError::Io`] if the directory cannot be created.
    pub fn open(dir: impl Into<PathBuf>) -> Result<CheckpointCache, CacheError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| CacheError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(CheckpointCache { dir })
    }

    /// The default cache directory: `$SIGIL_HOME` if set, else
    /// `$XDG_CACHE_HOME/sigil` (when absolute, as the XDG Base Directory
    /// specification requires), else `$HOME/.cache/sigil`.
    ///
    /// # Errors
    ///
    /// [`CacheError::NoCacheDir`] when none of them is set.
    pub fn default_dir() -> Result<PathBuf, CacheError> {
        default_dir_from(|name| std::env::var_os(name))
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the checkpoint of the log with this origin.
    pub fn path_for(&self, origin: &str) -> PathBuf {
        self.dir.join(file_name(origin))
    }

    /// The cached checkpoint of the policy's log, re-verified (module docs:
    /// the log's signature and origin; witness cosignatures are not
    /// required again), or `None` if nothing is cached.
    ///
    /// # Errors
    ///
    /// [`CacheError::Io`]; [`CacheError::Corrupt`] if the file does not
    /// verify.
    pub fn cached(
        &self,
        policy: &CheckpointPolicy,
    ) -> Result<Option<VerifiedCheckpoint>, CacheError> {
        let path = self.path_for(&policy.origin);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::Io { path, source }),
        };
        let corrupt = |reason: String| CacheError::Corrupt {
            path: path.clone(),
            reason,
        };
        match verify_checkpoint(&bytes, policy) {
            Ok(verified) => Ok(Some(verified)),
            // Every signature verified and the origin matched: only the
            // cosignatures are short of today's quorum (module docs).
            Err(CheckpointError::InsufficientCosignatures { .. }) => {
                let note = Note::parse(&bytes).map_err(|e| corrupt(e.to_string()))?;
                let checkpoint =
                    Checkpoint::parse(&note.text).map_err(|e| corrupt(e.to_string()))?;
                Ok(Some(VerifiedCheckpoint {
                    checkpoint,
                    note: bytes,
                    cosigners: Vec::new(),
                }))
            }
            Err(e) => Err(corrupt(e.to_string())),
        }
    }

    /// Offers a signed checkpoint of the policy's log to the cache and
    /// compares it with the cached one (module docs, "Rules"). Safe to call
    /// from several processes or threads at once.
    ///
    /// # Errors
    ///
    /// [`CacheError::Offered`] if the checkpoint does not verify under
    /// `policy`; [`CacheError::Fork`] if it contradicts the cached one;
    /// [`CacheError::NoConsistencyProof`] if `source` cannot prove the two
    /// consistent; [`CacheError::Corrupt`], [`CacheError::Io`].
    pub fn offer(
        &self,
        policy: &CheckpointPolicy,
        note_bytes: &[u8],
        source: Option<&dyn ConsistencySource>,
    ) -> Result<CacheOutcome, CacheError> {
        let offered = verify_checkpoint(note_bytes, policy).map_err(CacheError::Offered)?;
        let _lock = self.lock(&policy.origin)?;
        let Some(cached) = self.cached(policy)? else {
            self.store(&policy.origin, note_bytes)?;
            return Ok(CacheOutcome::Stored);
        };
        let (old, new) = (&cached.checkpoint, &offered.checkpoint);
        let fork = |reason: String| CacheError::Fork {
            origin: policy.origin.clone(),
            reason,
            cached: String::from_utf8_lossy(&cached.note).into_owned(),
            offered: String::from_utf8_lossy(&offered.note).into_owned(),
        };
        if new.size == old.size {
            if new.root == old.root {
                return Ok(CacheOutcome::Same);
            }
            return Err(fork(format!(
                "two checkpoints of size {} with different root hashes",
                new.size
            )));
        }
        // Prove the smaller tree a prefix of the larger one.
        let (small, large) = if new.size > old.size {
            (old, new)
        } else {
            (new, old)
        };
        if small.size > 0 {
            let Some(source) = source else {
                return Ok(CacheOutcome::Unverified {
                    cached_size: old.size,
                    reason: format!(
                        "offline: the cached checkpoint (size {}) and this one (size {}) were not compared; the split-view check needs --log URL or a witness quorum in the trust root",
                        old.size, new.size
                    ),
                });
            };
            // Online: no proof, no trust (module docs). The cache stays as
            // it was.
            let proof = source
                .consistency_proof(small.size, large.size)
                .map_err(|source| CacheError::NoConsistencyProof {
                    origin: policy.origin.clone(),
                    from_size: small.size,
                    to_size: large.size,
                    source,
                })?;
            merkle::verify_consistency(small.size, large.size, &small.root, &large.root, &proof)
                .map_err(|e| {
                    fork(format!(
                        "the log's consistency proof from size {} to size {} does not verify ({e})",
                        small.size, large.size
                    ))
                })?;
        }
        if new.size > old.size {
            self.store(&policy.origin, note_bytes)?;
            Ok(CacheOutcome::Advanced {
                from_size: old.size,
            })
        } else {
            Ok(CacheOutcome::ConsistentOlder {
                cached_size: old.size,
            })
        }
    }

    /// Takes the exclusive lock of one log's entry; it is released when the
    /// returned file is dropped (closed).
    fn lock(&self, origin: &str) -> Result<File, CacheError> {
        let path = self.dir.join(format!("{}.lock", file_name(origin)));
        let io = |source| CacheError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }

    /// Replaces one log's file atomically and durably (module docs). The
    /// caller holds the log's lock, so the temporary name is its own.
    fn store(&self, origin: &str, note: &[u8]) -> Result<(), CacheError> {
        let path = self.path_for(origin);
        let tmp = self.dir.join(format!("{}.tmp", file_name(origin)));
        sigil_keyfile::durable_file::replace(&path, &tmp, note).map_err(|e| CacheError::Io {
            path: e.path,
            source: e.source,
        })
    }
}

/// The cache file name of a log: lowercase hex SHA-256 of its origin.
fn file_name(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// [`CheckpointCache::default_dir`] over any environment.
fn default_dir_from(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<PathBuf, CacheError> {
    let set = |name| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(home) = set("SIGIL_HOME") {
        return Ok(home);
    }
    if let Some(xdg) = set("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("sigil"));
    }
    set("HOME")
        .map(|home| home.join(".cache").join("sigil"))
        .ok_or(CacheError::NoCacheDir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Result<PathBuf, CacheError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        default_dir_from(|name| map.get(name).map(Into::into))
    }

    #[test]
    fn default_dir_order() {
        let all = [
            ("SIGIL_HOME", "/s"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(env(&all).unwrap(), PathBuf::from("/s"));
        assert_eq!(env(&all[1..]).unwrap(), PathBuf::from("/x/sigil"));
        assert_eq!(env(&all[2..]).unwrap(), PathBuf::from("/h/.cache/sigil"));
        // Empty and relative values do not count.
        assert_eq!(
            env(&[
                ("SIGIL_HOME", ""),
                ("XDG_CACHE_HOME", "rel"),
                ("HOME", "/h")
            ])
            .unwrap(),
            PathBuf::from("/h/.cache/sigil")
        );
        assert!(matches!(env(&[]), Err(CacheError::NoCacheDir)));
    }

    #[test]
    fn file_names_are_hashed_origins() {
        assert_eq!(
            file_name(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
