//! The witness key on disk: the C2SP signed-note private key text
//! (`PRIVATE+KEY+<name>+<id>+<base64(0x04 || seed)>`, c2sp.org/tlog-cosignature)
//! in a file only its owner can read, and the verifier key line clients put
//! in their trust root. File modes follow [`sigil_verifier::secret_file`].

use std::path::Path;

use sigil_core::cosignature::CosignatureSigner;
use sigil_verifier::secret_file::{self, SecretFileError};

/// Why a key could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be written or read, or others can read it.
    #[error(transparent)]
    File(#[from] SecretFileError),
    /// The file does not hold a witness private key.
    #[error("{path} is not a signed-note witness private key: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Writes `DIR/witness.key` (mode 0600) and `DIR/witness.pub` (the verifier
/// key line); never overwrites either.
///
/// # Errors
///
/// An I/O error, or a file that already exists.
pub fn write_key_pair(dir: &Path, signer: &CosignatureSigner) -> Result<(), KeyError> {
    let secret = zeroize::Zeroizing::new(format!("{}\n", signer.private_key()));
    secret_file::write_secret(&dir.join("witness.key"), secret.as_bytes())?;
    secret_file::write_public(
        &dir.join("witness.pub"),
        format!("{}\n", signer.verifier().verifier_key()).as_bytes(),
    )?;
    Ok(())
}

/// Reads the witness's private key, refusing a file others can read.
///
/// # Errors
///
/// [`KeyError::File`] or [`KeyError::Malformed`].
pub fn read_signer(path: &Path) -> Result<CosignatureSigner, KeyError> {
    let bytes = zeroize::Zeroizing::new(secret_file::read_secret(path)?);
    let malformed = |reason: String| KeyError::Malformed {
        path: path.display().to_string(),
        reason,
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8 text".into()))?;
    CosignatureSigner::from_private_key(text.trim_end()).map_err(|e| malformed(e.to_string()))
}
