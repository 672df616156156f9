//! The log's signing key on disk: the C2SP signed-note private key text
//! (`PRIVATE+KEY+<name>+<id>+<base64>`) in a file only its owner can read,
//! and the verifier key line clients pin.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use sigil_core::note::Ed25519Signer;

/// Why a key could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// File system error, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file is readable by group or others.
    #[error("{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The file does not hold a signed-note Ed25519 private key.
    #[error("{path} is not a signed-note Ed25519 private key: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `contents` to a new file with mode 0600 (never overwrites).
pub fn write_secret(path: &Path, contents: &str) -> Result<(), KeyError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(contents.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Writes a public file (mode 0644, never overwrites).
pub fn write_public(path: &Path, contents: &str) -> Result<(), KeyError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
        .map_err(io(path))?;
    f.write_all(contents.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Reads the log's private key, refusing a file others can read.
pub fn read_signer(path: &Path) -> Result<Ed25519Signer, KeyError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            path: path.display().to_string(),
            mode,
        });
    }
    let text = fs::read_to_string(path).map_err(io(path))?;
    Ed25519Signer::from_private_key(text.trim_end()).map_err(|e| KeyError::Malformed {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
