//! The witness's durable state: for each log, the latest checkpoint it
//! cosigned (c2sp.org/tlog-witness §add-checkpoint: "The witness MUST
//! persist the new checkpoint before responding").
//!
//! # Layout
//!
//! ```text
//! <data dir>/LOCK                      held (flock) while a witness runs on the directory
//! <data dir>/<hex SHA-256(origin)>     one per log: the signed checkpoint note, verbatim,
//!                                      as the log sent it with the accepted request
//! <data dir>/<hex SHA-256(origin)>.tmp a write in progress; removed at start
//! ```
//!
//! # Invariants
//!
//! - [`StateDir::store`] returns only once the new file is durable: written
//!   to a temporary file, `fsync`ed, renamed over the old one (atomic on
//!   POSIX) and the directory `fsync`ed. A crash at any step leaves either
//!   the old file or the new one, never a mix, and at worst a `.tmp` file
//!   that [`StateDir::open`] removes.
//! - The caller (`crate::witness`) holds the origin's mutex across its
//!   check and the store, so the compare-and-swap is atomic; it updates its
//!   in-memory copy only after `store` succeeded, and hands out a
//!   cosignature only after that.
//! - [`StateDir::open`] refuses a file it cannot read back as a checkpoint of
//!   the origin its name says: the witness does not start rather than
//!   forget what it cosigned (and then cosign a fork).
//! - Only one process uses a directory at a time ([`std::fs::File::try_lock`]
//!   on `LOCK`).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use sigil_core::checkpoint::Checkpoint;
use sigil_core::note::Note;
use sigil_keyfile::durable_file;

/// Why the state directory could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A file system error, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Another process holds the directory's lock.
    #[error("{path} is in use by another sigil-witness")]
    Locked {
        /// The lock file.
        path: String,
    },
    /// A state file does not hold a checkpoint of the origin its name says.
    #[error(
        "{path} is corrupt ({reason}); refusing to start: the witness must not forget what it \
         cosigned. Restore the file from a backup, or remove it only if this witness never \
         gave out a cosignature for that log"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The latest checkpoint cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    /// The parsed checkpoint: its size and root are what the witness checks against.
    pub checkpoint: Checkpoint,
    /// The signed note, verbatim.
    pub note: Vec<u8>,
}

impl Latest {
    /// Reads a stored note back. Signatures are not checked again: the
    /// witness checked them before storing.
    fn parse(note: &[u8]) -> Result<Latest, String> {
        let parsed = Note::parse(note).map_err(|e| format!("not a signed note: {e}"))?;
        let checkpoint =
            Checkpoint::parse(&parsed.text).map_err(|e| format!("not a checkpoint: {e}"))?;
        Ok(Latest {
            checkpoint,
            note: note.to_vec(),
        })
    }
}

/// The file name of an origin's state: the lowercase hex SHA-256 of the
/// origin line (any origin is a safe, fixed-length name).
pub fn file_name(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

/// The open state directory, locked for this process.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    /// Held for the life of the process; the lock goes with the descriptor.
    _lock: File,
}

impl StateDir {
    /// Creates the directory if needed, locks it, removes leftover `.tmp`
    /// files and loads every state file, by origin.
    ///
    /// # Errors
    ///
    /// [`StateError::Locked`], an I/O error, or [`StateError::Corrupt`].
    pub fn open(dir: &Path) -> Result<(StateDir, HashMap<String, Latest>), StateError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    path: lock_path.display().to_string(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let mut loaded = HashMap::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "LOCK" {
                continue;
            }
            if name.ends_with(".tmp") {
                // A write that did not reach its rename: the old file stands.
                fs::remove_file(&path).map_err(io(&path))?;
                continue;
            }
            let is_state = name.len() == 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !is_state {
                tracing::warn!(path = %path.display(), "ignoring a file that is not witness state");
                continue;
            }
            let corrupt = |reason: String| StateError::Corrupt {
                path: path.display().to_string(),
                reason,
            };
            let bytes = fs::read(&path).map_err(io(&path))?;
            let latest = Latest::parse(&bytes).map_err(corrupt)?;
            if file_name(&latest.checkpoint.origin) != name {
                return Err(corrupt(format!(
                    "it holds a checkpoint of {:?}, whose file name is {}",
                    latest.checkpoint.origin,
                    file_name(&latest.checkpoint.origin)
                )));
            }
            loaded.insert(latest.checkpoint.origin.clone(), latest);
        }
        fsync_dir(dir)?;
        Ok((
            StateDir {
                dir: dir.to_path_buf(),
                _lock: lock,
            },
            loaded,
        ))
    }

    /// Replaces the origin's state with `latest`, durably (see the module
    /// invariants). The caller holds the origin's mutex.
    ///
    /// # Errors
    ///
    /// An I/O error; the old state is then still in place (or, if only the
    /// final directory `fsync` failed, the new one may be).
    pub fn store(&self, latest: &Latest) -> Result<(), StateError> {
        let name = file_name(&latest.checkpoint.origin);
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        // Commit point: durable once `replace` returns.
        durable_file::replace(&path, &tmp, &latest.note).map_err(|e| StateError::Io {
            path: e.path.display().to_string(),
            source: e.source,
        })
    }
}

fn fsync_dir(dir: &Path) -> Result<(), StateError> {
    durable_file::sync_dir(dir).map_err(io(dir))
}
