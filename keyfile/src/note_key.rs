//! Signed-note key files (C2SP `signed-note`): the private key text
//! `PRIVATE+KEY+<name>+<key id>+<base64(type ‖ key)>` in a file only its
//! owner can read ([`crate::secret_file`]), and the verifier key line
//! (`<name>+<key id>+<base64(type ‖ public key)>`) in a public file beside
//! it. The log signs checkpoints with an Ed25519 key (type `0x01`); a
//! witness cosigns with a `cosignature/v1` key (type `0x04`,
//! C2SP `tlog-cosignature`).
//!
//! ```text
//! DIR/<stem>.key   PRIVATE+KEY+log.example.org/sigil+5e2a5f7c+AX…   mode 0600
//! DIR/<stem>.pub   log.example.org/sigil+5e2a5f7c+AR…               mode 0644
//! ```
//!
//! Neither file is ever overwritten; the key text is wiped from memory
//! after it is parsed or written.

use std::path::{Path, PathBuf};

use sigil_core::cosignature::CosignatureSigner;
use sigil_core::note::Ed25519Signer;
use zeroize::Zeroizing;

use crate::secret_file::{self, SecretFileError};

/// Why a signed-note key could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NoteKeyError {
    /// The file could not be written or read, or others can read it.
    #[error(transparent)]
    File(#[from] SecretFileError),
    /// The file does not hold a signed-note private key of the kind asked
    /// for.
    #[error("{} is not a signed-note {kind} private key: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The kind expected (`Ed25519`, `cosignature/v1`).
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The two files of a key pair in `dir`: `<stem>.key` (private, 0600)
/// and `<stem>.pub` (the verifier key line, 0644).
pub fn key_paths(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{stem}.key")),
        dir.join(format!("{stem}.pub")),
    )
}

/// Writes a key pair as `<stem>.key` and `<stem>.pub` in `dir` (module
/// docs): `private_key` is the `PRIVATE+KEY+…` text, `verifier_key` the
/// public line. Never overwrites either file.
///
/// # Errors
///
/// [`NoteKeyError::File`], also when a file exists already.
pub fn write_key_pair(
    dir: &Path,
    stem: &str,
    private_key: &str,
    verifier_key: &str,
) -> Result<(PathBuf, PathBuf), NoteKeyError> {
    let (secret, public) = key_paths(dir, stem);
    let text = Zeroizing::new(format!("{private_key}\n"));
    secret_file::write_secret(&secret, text.as_bytes())?;
    secret_file::write_public(&public, format!("{verifier_key}\n").as_bytes())?;
    Ok((secret, public))
}

/// Writes a log's Ed25519 key pair as `DIR/log.key` and `DIR/log.pub`.
///
/// # Errors
///
/// As [`write_key_pair`].
pub fn write_log_key(
    dir: &Path,
    signer: &Ed25519Signer,
) -> Result<(PathBuf, PathBuf), NoteKeyError> {
    write_key_pair(
        dir,
        "log",
        &Zeroizing::new(signer.private_key()),
        &signer.verifier().verifier_key(),
    )
}

/// Writes a witness's `cosignature/v1` key pair as `DIR/witness.key` and
/// `DIR/witness.pub`.
///
/// # Errors
///
/// As [`write_key_pair`].
pub fn write_witness_key(
    dir: &Path,
    signer: &CosignatureSigner,
) -> Result<(PathBuf, PathBuf), NoteKeyError> {
    write_key_pair(
        dir,
        "witness",
        &Zeroizing::new(signer.private_key()),
        &signer.verifier().verifier_key(),
    )
}

/// Reads the private key text of `path`, refusing a file others can read,
/// and parses it with `parse`.
fn read<T, E: std::fmt::Display>(
    path: &Path,
    kind: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, NoteKeyError> {
    let bytes = Zeroizing::new(secret_file::read_secret(path)?);
    let malformed = |reason: String| NoteKeyError::Malformed {
        path: path.to_path_buf(),
        kind,
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8 text".into()))?;
    parse(text.trim_end()).map_err(|e| malformed(e.to_string()))
}

/// Reads a log's Ed25519 signing key (signature type `0x01`).
///
/// # Errors
///
/// [`NoteKeyError::File`] or [`NoteKeyError::Malformed`].
pub fn read_log_key(path: &Path) -> Result<Ed25519Signer, NoteKeyError> {
    read(path, "Ed25519", Ed25519Signer::from_private_key)
}

/// Reads a witness's `cosignature/v1` signing key (type `0x04`).
///
/// # Errors
///
/// [`NoteKeyError::File`] or [`NoteKeyError::Malformed`].
pub fn read_witness_key(path: &Path) -> Result<CosignatureSigner, NoteKeyError> {
    read(path, "cosignature/v1", CosignatureSigner::from_private_key)
}
