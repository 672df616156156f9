//! Key files on disk: secrets in files only their owner can read (mode
//! 0600), public files world-readable (0644), neither ever overwritten.
//!
//! The CA, the log, the witness and the `sigil` command keep one rule for
//! their private keys here (the same rule as OpenSSH's "UNPROTECTED
//! PRIVATE KEY FILE" check, and POSIX.1-2017 `open(2)` with `O_CREAT |
//! O_EXCL` for "never overwrite").
//!
//! Guarantees:
//! - [`write_secret`] and [`write_public`] create the file (`O_EXCL`: an
//!   existing file, or a symlink in its place, is an error), set its mode
//!   at creation, write everything and `fsync` it before returning. The
//!   process umask can only remove bits from the mode, never add any.
//! - [`read_secret`] refuses a file whose permission bits grant anything
//!   to group or others, and names the `chmod` that fixes it.
//!
//! Unix only, like the rest of Sigil.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// The mode of a secret file: read and write for its owner only.
pub const SECRET_MODE: u32 = 0o600;

/// The mode of a public file: readable by everyone, writable by its owner.
pub const PUBLIC_MODE: u32 = 0o644;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretFileError {
    /// A file system error (including "file exists" when writing), with
    /// the path.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A secret file grants read, write or execute permission to group or
    /// others.
    #[error("{path} is accessible by other users (mode {mode:03o}); run: chmod 600 {path}")]
    TooOpen {
        /// The file.
        path: String,
        /// Its permission bits (`mode & 0o777`).
        mode: u32,
    },
}

impl SecretFileError {
    /// The path of the file the error is about.
    pub fn path(&self) -> &str {
        match self {
            SecretFileError::Io { path, .. } | SecretFileError::TooOpen { path, .. } => path,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretFileError + '_ {
    move |source| SecretFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn create_new(path: &Path, mode: u32, bytes: &[u8]) -> Result<(), SecretFileError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Writes `bytes` to a new file that only its owner can read (mode 0600),
/// and syncs it to disk. Never overwrites: an existing `path` is an
/// [`SecretFileError::Io`] error of kind `AlreadyExists`.
pub fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), SecretFileError> {
    create_new(path, SECRET_MODE, bytes)
}

/// Writes `bytes` to a new world-readable file (mode 0644, less what the
/// umask removes), and syncs it to disk. Never overwrites.
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<(), SecretFileError> {
    create_new(path, PUBLIC_MODE, bytes)
}

/// Reads a secret file, refusing it if group or others have any permission
/// on it ([`SecretFileError::TooOpen`], whose message says `chmod 600`).
///
/// The mode is checked on the opened file (`fstat`), so a file swapped in
/// between the check and the read is still checked.
pub fn read_secret(path: &Path) -> Result<Vec<u8>, SecretFileError> {
    let mut f = File::open(path).map_err(io(path))?;
    let meta = f.metadata().map_err(io(path))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretFileError::TooOpen {
            path: path.display().to_string(),
            mode,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.read_to_end(&mut bytes).map_err(io(path))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::fs;
    use std::io::ErrorKind;

    fn mode(path: &Path) -> Option<u32> {
        Some(fs::metadata(path).ok()?.permissions().mode() & 0o777)
    }

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn secret_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_secret(&path, b"secret\n").unwrap();
        assert_eq!(mode(&path).unwrap(), 0o600);
        assert_eq!(read_secret(&path).unwrap(), b"secret\n");
    }

    #[test]
    fn public_file_is_0644_at_most() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pub");
        write_public(&path, b"public").unwrap();
        // The umask may remove bits, never add them.
        assert_eq!(mode(&path).unwrap() & !0o644, 0);
        assert_eq!(mode(&path).unwrap() & 0o600, 0o600);
        assert_eq!(fs::read(&path).unwrap(), b"public");
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_secret(&path, b"first").unwrap();
        for result in [
            write_secret(&path, b"second"),
            write_public(&path, b"second"),
        ] {
            match result {
                Err(SecretFileError::Io { source, path: p }) => {
                    assert_eq!(source.kind(), ErrorKind::AlreadyExists);
                    assert_eq!(p, path.display().to_string());
                }
                other => panic!("expected AlreadyExists, got {other:?}"),
            }
        }
        assert_eq!(read_secret(&path).unwrap(), b"first");
    }

    #[test]
    fn does_not_follow_a_symlink_when_writing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_secret(&link, b"x").is_err());
        assert!(!target.exists());
    }

    #[test]
    fn refuses_any_group_or_other_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_secret(&path, b"secret").unwrap();
        for bad in [
            0o640, 0o604, 0o620, 0o602, 0o610, 0o601, 0o644, 0o666, 0o777,
        ] {
            set_mode(&path, bad);
            match read_secret(&path) {
                Err(e @ SecretFileError::TooOpen { .. }) => {
                    let SecretFileError::TooOpen { mode, .. } = &e else {
                        unreachable!()
                    };
                    assert_eq!(*mode, bad);
                    let msg = e.to_string();
                    assert!(
                        msg.contains(&format!("chmod 600 {}", path.display())),
                        "{msg}"
                    );
                    assert!(msg.contains(&format!("{bad:03o}")), "{msg}");
                }
                other => panic!("mode {bad:o}: expected TooOpen, got {other:?}"),
            }
        }
        for good in [0o600, 0o400, 0o700] {
            set_mode(&path, good);
            assert_eq!(read_secret(&path).unwrap(), b"secret", "mode {good:o}");
        }
    }

    #[test]
    fn missing_file_is_an_io_error_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent");
        let e = read_secret(&path).unwrap_err();
        assert!(
            matches!(&e, SecretFileError::Io { source, .. } if source.kind() == ErrorKind::NotFound)
        );
        assert_eq!(e.path(), path.display().to_string());
        assert!(e.to_string().starts_with(&path.display().to_string()));
    }
}
