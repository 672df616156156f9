//! Packaging a small crate directory into a `.crate`, as `cargo package`
//! lays one out (gzip'd tar; the layout `sigil_client::crate_file` reads
//! back), deterministically. `sigil quickstart` packages its demo crate
//! with it, and the tests and benchmarks make their `.crate` files with it.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use sigil_client::crate_file::{CrateFileError, MAX_DECOMPRESSED, MAX_MANIFEST, parse_manifest};
use tar::EntryType;

/// The modification time of every entry [`package_dir`] writes:
/// 1153704088 (2006-07-24 01:21:28 UTC), the `tar` crate's
/// [`tar::DETERMINISTIC_TIMESTAMP`]. It is fixed so that the same directory
/// always packages to the same bytes, and non-zero because some tools treat
/// an mtime of 0 as "unknown".
pub const PACKAGE_MTIME: u64 = 1_153_704_088;

/// Builds a `.crate` from a small crate directory, laid out as `cargo
/// package` lays it out, and deterministically: the same directory
/// contents always give the same bytes.
///
/// What goes in, under `<name>-<version>/` (name and version from
/// `dir/Cargo.toml`, which must give both as strings):
/// - `Cargo.toml`, as written, and a copy of it as `Cargo.toml.orig`;
/// - `build.rs`, if present;
/// - top-level files whose name starts with `README`, `LICENSE`,
///   `LICENCE`, `COPYING` or `NOTICE` (any case);
/// - every file under `src/`.
///
/// Hidden files and directories (name starting with `.`) and any `target`
/// directory are skipped. Symbolic links to files are followed, as cargo
/// does; a symbolic link to a directory is an error.
///
/// The archive: entries sorted by path (byte order), each a regular file
/// (GNU tar header; long paths use the GNU long-name extension) with mode
/// 0644, uid and gid 0, no user or group name and mtime
/// [`PACKAGE_MTIME`]; gzip at the best compression, header mtime 0 and OS
/// "unknown" (255).
///
/// Differences from `cargo package`: cargo rewrites `Cargo.toml` into a
/// normalized form (workspace inheritance resolved, path dependencies
/// removed, targets listed) and keeps the author's file as
/// `Cargo.toml.orig`; here both are the author's file, so a manifest that
/// inherits from a workspace is refused. Cargo also includes every file not
/// excluded by `package.include`/`exclude` or `.gitignore` (tests,
/// examples, benches), adds `Cargo.lock` and `.cargo_vcs_info.json`, and
/// uses the files' own mtimes. The result is a valid `.crate` that
/// `sigil_client::crate_file::read_package_id` accepts, not a byte-for-byte twin of cargo's.
pub fn package_dir(dir: &Path) -> Result<Vec<u8>, CrateFileError> {
    let manifest_path = dir.join("Cargo.toml");
    let manifest = read_file_bounded(&manifest_path, MAX_MANIFEST)?;
    let text = std::str::from_utf8(&manifest).map_err(|_| CrateFileError::ManifestNotUtf8 {
        manifest: manifest_path.display().to_string(),
    })?;
    let id = parse_manifest(text, &manifest_path.display().to_string())?;

    // (path inside the top directory, file on disk)
    let mut files: Vec<(String, PathBuf)> = vec![
        ("Cargo.toml".to_owned(), manifest_path.clone()),
        ("Cargo.toml.orig".to_owned(), manifest_path),
    ];
    for entry in read_dir_sorted(dir)? {
        let (name, path, is_dir) = entry;
        let upper = name.to_ascii_uppercase();
        let wanted = name == "build.rs"
            || ["README", "LICENSE", "LICENCE", "COPYING", "NOTICE"]
                .iter()
                .any(|p| upper.starts_with(p));
        if wanted && !is_dir {
            files.push((name, path));
        }
    }
    let src = dir.join("src");
    if src.is_dir() {
        collect_files(&src, "src", &mut files)?;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));

    let top = id.dir_name();
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    let mut builder = tar::Builder::new(gz);
    let mut total = 0u64;
    for (rel, path) in &files {
        let data = read_file_bounded(path, MAX_DECOMPRESSED)?;
        total += data.len() as u64 + 1024;
        if total > MAX_DECOMPRESSED {
            return Err(CrateFileError::TooLarge {
                limit: MAX_DECOMPRESSED,
            });
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(PACKAGE_MTIME);
        let archive_path = format!("{top}/{rel}");
        builder
            .append_data(&mut header, &archive_path, data.as_slice())
            .map_err(|source| CrateFileError::Io {
                path: path.display().to_string(),
                source,
            })?;
    }
    let io_err = |source| CrateFileError::Io {
        path: dir.display().to_string(),
        source,
    };
    let gz = builder.into_inner().map_err(io_err)?;
    let mut gz = gz;
    gz.flush().map_err(io_err)?;
    gz.finish().map_err(io_err)
}

/// The entries of a directory, sorted by name, hidden ones and `target`
/// skipped: (name, path, is a directory).
fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, CrateFileError> {
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| CrateFileError::Io { path, source }
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(CrateFileError::BadPath {
                path: path.display().to_string(),
                reason: "is not UTF-8, which a .crate path must be",
            });
        };
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let link = entry.file_type().map_err(io_err(&path))?.is_symlink();
        let meta = fs::metadata(&path).map_err(io_err(&path))?;
        if meta.is_dir() && link {
            return Err(CrateFileError::BadPath {
                path: path.display().to_string(),
                reason: "is a symbolic link to a directory, which package_dir does not follow",
            });
        }
        if meta.is_dir() || meta.is_file() {
            out.push((name, path, meta.is_dir()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Adds every file under `dir` (recursively) to `files`, as `prefix/...`.
fn collect_files(
    dir: &Path,
    prefix: &str,
    files: &mut Vec<(String, PathBuf)>,
) -> Result<(), CrateFileError> {
    for (name, path, is_dir) in read_dir_sorted(dir)? {
        let rel = format!("{prefix}/{name}");
        if is_dir {
            collect_files(&path, &rel, files)?;
        } else {
            files.push((rel, path));
        }
    }
    Ok(())
}

/// Reads a file of at most `limit` bytes.
fn read_file_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, CrateFileError> {
    let io_err = |source| CrateFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = fs::File::open(path).map_err(io_err)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > limit {
        return Err(if path.file_name() == Some("Cargo.toml".as_ref()) {
            CrateFileError::ManifestTooLarge {
                manifest: path.display().to_string(),
                limit,
            }
        } else {
            CrateFileError::TooLarge { limit }
        });
    }
    Ok(bytes)
}
