//! Replacing a state file so that a crash leaves either the old or the new
//! contents, never a torn file, and the new one survives power loss: write
//! a temporary file in the same directory, `fsync` it, `rename(2)` it over
//! the old one (atomic in POSIX.1-2017), then `fsync` the directory so the
//! rename itself is durable. A client's checkpoint cache, a monitor's state
//! and a witness's cosigned checkpoints use it; the caller holds whatever
//! lock makes the temporary name its own.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// A step of [`replace`] failed. Before the rename the old file stands;
/// if only the final directory `fsync` failed, the new one may stand.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct DurableError {
    /// The file or directory the failing step touched.
    pub path: PathBuf,
    /// The operating system's error.
    pub source: io::Error,
}

/// Replaces `path` with `bytes` through the temporary file `tmp` (same
/// directory); durable when it returns `Ok` (module docs).
///
/// # Errors
///
/// [`DurableError`] naming the path the failing step touched.
pub fn replace(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), DurableError> {
    let at = |p: &Path| {
        let path = p.to_path_buf();
        move |source| DurableError { path, source }
    };
    let mut file = File::create(tmp).map_err(at(tmp))?;
    file.write_all(bytes).map_err(at(tmp))?;
    file.sync_all().map_err(at(tmp))?;
    drop(file);
    fs::rename(tmp, path).map_err(at(path))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Commit point: the rename is durable once the directory is.
    sync_dir(dir).map_err(at(dir))
}

/// Makes a rename (or a create, or a remove) in `dir` durable (POSIX:
/// fsync the directory).
///
/// # Errors
///
/// The operating system's error.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let (path, tmp) = (dir.path().join("state"), dir.path().join("state.tmp"));
        replace(&path, &tmp, b"one").unwrap();
        replace(&path, &tmp, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert!(!tmp.exists());
        let missing = dir.path().join("no/such/dir/state");
        let e = replace(&missing, &dir.path().join("no/such/dir/t"), b"x").unwrap_err();
        assert!(e.path.ends_with("t"));
        assert!(e.to_string().contains("no/such/dir/t"), "{e}");
    }
}
