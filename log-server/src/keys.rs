//! The log's signing key on disk: the C2SP signed-note private key text
//! (`PRIVATE+KEY+<name>+<id>+<base64>`) in a file only its owner can read,
//! and the verifier key line clients pin. File modes follow
//! [`sigil_verifier::secret_file`], the one rule every Sigil key file keeps.

use std::path::Path;

use sigil_core::note::Ed25519Signer;
use sigil_verifier::secret_file::{self, SecretFileError};

/// Why a key could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be written or read, or others can read it.
    #[error(transparent)]
    File(#[from] SecretFileError),
    /// The file does not hold a signed-note Ed25519 private key.
    #[error("{path} is not a signed-note Ed25519 private key: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Writes the private key text to a new file with mode 0600 (never
/// overwrites).
pub fn write_secret(path: &Path, contents: &str) -> Result<(), KeyError> {
    Ok(secret_file::write_secret(path, contents.as_bytes())?)
}

/// Writes a public file (mode 0644, never overwrites).
pub fn write_public(path: &Path, contents: &str) -> Result<(), KeyError> {
    Ok(secret_file::write_public(path, contents.as_bytes())?)
}

/// Reads the log's private key, refusing a file others can read.
pub fn read_signer(path: &Path) -> Result<Ed25519Signer, KeyError> {
    let bytes = zeroize::Zeroizing::new(secret_file::read_secret(path)?);
    let malformed = |reason: String| KeyError::Malformed {
        path: path.display().to_string(),
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8 text".into()))?;
    Ed25519Signer::from_private_key(text.trim_end()).map_err(|e| malformed(e.to_string()))
}
