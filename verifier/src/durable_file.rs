//! Replacing a state file so that a crash leaves either the old or the new
//! contents, never a torn file, and the new one survives power loss: write
//! a temporary file in the same directory, `fsync` it, `rename(2)` it over
//! the old one (atomic in POSIX.1-2017), then `fsync` the directory so the
//! rename itself is durable. The checkpoint cache and the monitor's state
//! use it; the caller holds whatever lock makes the temporary name its own.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` through the temporary file `tmp` (same
/// directory). On failure, the path the failing step touched and why.
pub fn replace(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<(), (PathBuf, io::Error)> {
    let at = |p: &Path| {
        let p = p.to_path_buf();
        move |e| (p, e)
    };
    let mut file = File::create(tmp).map_err(at(tmp))?;
    file.write_all(bytes).map_err(at(tmp))?;
    file.sync_all().map_err(at(tmp))?;
    drop(file);
    fs::rename(tmp, path).map_err(at(path))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    sync_dir(dir).map_err(at(dir))
}

/// Makes a rename in `dir` durable (POSIX: fsync the directory).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directories cannot be opened as files here; the rename is what we have.
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
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
        let (at, _) = replace(&missing, &dir.path().join("no/such/dir/t"), b"x").unwrap_err();
        assert!(at.ends_with("t"));
    }
}
