//! `Cargo.lock` files (cargo reference, "Cargo.toml vs Cargo.lock", and
//! cargo's `resolver/encode.rs`), and the crates cargo has downloaded for
//! them.
//!
//! # Format
//!
//! A lockfile is TOML. Each `[[package]]` table names one resolved
//! package:
//!
//! ```toml
//! version = 4
//!
//! [[package]]
//! name = "hex"
//! version = "0.4.3"
//! source = "registry+https://github.com/rust-lang/crates.io-index"
//! checksum = "7f24254aa9a54b5c858eaee2f5bccdb46aaf0e486a595ed5fd8f86ba55232a70"
//! dependencies = ["serde"]
//! ```
//!
//! - `source` is absent for path dependencies and workspace members;
//!   `registry+<url>` or `sparse+<url>` for registry packages;
//!   `git+<url>#<commit>` for git dependencies.
//! - `checksum` is the lowercase hex SHA-256 of the registry's `.crate`
//!   file; only registry packages have one.
//!
//! Versions: the top-level `version` key is 3 or 4 in current lockfiles
//! (4 only changes how git references are encoded). Without it, the file
//! is version 1 or 2: version 2 already puts `checksum` in each package;
//! version 1 keeps checksums in a `[metadata]` table instead, one key per
//! package, `"checksum <name> <version> (<source>)" = "<hex>"` (value
//! `"<none>"` for packages without one). All four are read; a version
//! above 4 is refused, because its meaning is unknown. (The `[root]` table
//! of pre-2017 version 1 files, the root workspace member, is ignored: it
//! never comes from a registry.)

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// The newest lockfile format version this module reads.
pub const MAX_LOCKFILE_VERSION: i64 = 4;

/// One `[[package]]` of a `Cargo.lock`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockedPackage {
    /// The package name.
    pub name: String,
    /// The exact version resolved.
    pub version: String,
    /// Where it comes from (`registry+…`, `sparse+…`, `git+…`); `None` for
    /// path dependencies and workspace members.
    pub source: Option<String>,
    /// The SHA-256 of the registry's `.crate` file, for registry packages.
    pub checksum: Option<[u8; 32]>,
}

impl LockedPackage {
    /// Whether the package comes from a registry (`source` starts with
    /// `registry+` or `sparse+`), and so was downloaded as a `.crate`.
    pub fn is_registry(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
    }
}

/// Why a `Cargo.lock` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockfileError {
    /// The text is not TOML.
    #[error("Cargo.lock is not valid TOML: {detail}")]
    Toml {
        /// What the TOML parser said, with the line.
        detail: String,
    },
    /// The top-level `version` is not a number this module knows.
    #[error(
        "Cargo.lock has format version {found}, but this tool reads versions 1 to {MAX_LOCKFILE_VERSION}; if a newer cargo wrote it, update sigil"
    )]
    UnsupportedVersion {
        /// The version found, as written.
        found: String,
    },
    /// `package` is not an array of tables.
    #[error("Cargo.lock's `package` is not an array of tables (`[[package]]`)")]
    PackageNotArray,
    /// A package lacks a required field or has one of the wrong type.
    #[error("Cargo.lock package #{index} ({name}): {problem}")]
    BadPackage {
        /// Its position among the `[[package]]` tables, from 1.
        index: usize,
        /// Its name, or `?` if it has none.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// A checksum is not 64 hex digits.
    #[error(
        "Cargo.lock: the checksum of {name} {version} is not 64 hex digits (a SHA-256): {checksum:?}"
    )]
    BadChecksum {
        /// The package name.
        name: String,
        /// The package version.
        version: String,
        /// The checksum as written.
        checksum: String,
    },
    /// The same name, version and source appear twice.
    #[error("Cargo.lock lists {name} {version} from the same source twice")]
    Duplicate {
        /// The package name.
        name: String,
        /// The package version.
        version: String,
    },
}

/// Parses a `Cargo.lock` (versions 1 to 4, module docs) into its packages,
/// in file order. Version 1 `[metadata]` checksums are attached to their
/// packages.
pub fn parse_lockfile(text: &str) -> Result<Vec<LockedPackage>, LockfileError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| before.matches('\n').count() + 1);
        LockfileError::Toml {
            detail: match line {
                Some(line) => format!("line {line}: {}", e.message()),
                None => e.message().to_owned(),
            },
        }
    })?;
    match table.get("version") {
        None => {}
        Some(toml::Value::Integer(v)) if (1..=MAX_LOCKFILE_VERSION).contains(v) => {}
        Some(other) => {
            return Err(LockfileError::UnsupportedVersion {
                found: other.to_string(),
            });
        }
    }
    let packages = match table.get("package") {
        None => &Vec::new(),
        Some(toml::Value::Array(a)) => a,
        Some(_) => return Err(LockfileError::PackageNotArray),
    };
    let metadata = match table.get("metadata") {
        Some(toml::Value::Table(t)) => Some(t),
        _ => None,
    };

    let mut out = Vec::with_capacity(packages.len());
    let mut seen = HashSet::new();
    for (i, value) in packages.iter().enumerate() {
        let index = i + 1;
        let toml::Value::Table(p) = value else {
            return Err(LockfileError::PackageNotArray);
        };
        let shown_name = match p.get("name") {
            Some(toml::Value::String(s)) => s.clone(),
            _ => "?".to_owned(),
        };
        let bad = |problem: String| LockfileError::BadPackage {
            index,
            name: shown_name.clone(),
            problem,
        };
        let string = |field: &str, required: bool| -> Result<Option<String>, LockfileError> {
            match p.get(field) {
                Some(toml::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(toml::Value::String(_)) => Err(bad(format!("`{field}` is empty"))),
                Some(_) => Err(bad(format!("`{field}` is not a string"))),
                None if required => Err(bad(format!("no `{field}`"))),
                None => Ok(None),
            }
        };
        let name = string("name", true)?.unwrap_or_default();
        let version = string("version", true)?.unwrap_or_default();
        let source = string("source", false)?;
        let mut checksum_text = string("checksum", false)?;
        if checksum_text.is_none()
            && let Some(metadata) = metadata
        {
            let key = format!(
                "checksum {name} {version} ({})",
                source.as_deref().unwrap_or_default()
            );
            if let Some(toml::Value::String(s)) = metadata.get(&key)
                && s != "<none>"
            {
                checksum_text = Some(s.clone());
            }
        }
        let checksum = match checksum_text {
            None => None,
            Some(c) => Some(
                parse_checksum(&c).ok_or_else(|| LockfileError::BadChecksum {
                    name: name.clone(),
                    version: version.clone(),
                    checksum: c.clone(),
                })?,
            ),
        };
        if !seen.insert((name.clone(), version.clone(), source.clone())) {
            return Err(LockfileError::Duplicate { name, version });
        }
        out.push(LockedPackage {
            name,
            version,
            source,
            checksum,
        });
    }
    Ok(out)
}

fn parse_checksum(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Cargo's home directory: `$CARGO_HOME` if set and not empty, else
/// `$HOME/.cargo`; `None` if neither variable is set.
pub fn cargo_home() -> Option<PathBuf> {
    let non_empty = |var| std::env::var_os(var).filter(|v| !v.is_empty());
    non_empty("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// How a cached `.crate` compares with its lockfile checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumMatch {
    /// Its SHA-256 equals the lockfile's checksum.
    Matches,
    /// Its SHA-256 differs (or the file could not be read): this is not
    /// the file the lockfile pinned.
    Differs,
    /// The lockfile gives no checksum, so nothing was compared.
    NotChecked,
}

/// A `.crate` file found in cargo's download cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCrate {
    /// The file.
    pub path: PathBuf,
    /// Whether it is the file the lockfile pinned.
    pub checksum: ChecksumMatch,
}

/// Finds the `.crate` file cargo downloaded for a registry package.
///
/// Cargo keeps downloads in
/// `<cargo_home>/registry/cache/<index-dir>/<name>-<version>.crate`, where
/// `<index-dir>` is the registry's host and a hash, e.g.
/// `index.crates.io-1949cf8c6b5b557f` (crates.io, sparse protocol) or
/// `github.com-1ecc6299db9ec823` (crates.io, git index). The hash is
/// cargo's `StableHasher` over the source id, which has changed between
/// cargo versions, so rather than compute it this searches every directory
/// under `registry/cache/`.
///
/// When the lockfile has a checksum, each candidate is hashed and the
/// first (in directory-name order) whose SHA-256 matches is returned with
/// [`ChecksumMatch::Matches`]; if none matches, the first candidate is
/// returned with [`ChecksumMatch::Differs`]. Without a checksum, the first
/// candidate is returned with [`ChecksumMatch::NotChecked`]. Callers that
/// go on to trust the file's contents must require `Matches` (or hash the
/// file themselves).
///
/// `None` when the package is not from a registry, when its name or
/// version could not be a file name (a `/`, a `\`, a NUL, or a leading
/// `.`), or when no cache directory holds the file.
pub fn cached_crate_path(cargo_home: &Path, pkg: &LockedPackage) -> Option<CachedCrate> {
    if !pkg.is_registry() {
        return None;
    }
    let unsafe_part = |s: &str| s.is_empty() || s.starts_with('.') || s.contains(['/', '\\', '\0']);
    if unsafe_part(&pkg.name) || unsafe_part(&pkg.version) {
        return None;
    }
    let file_name = format!("{}-{}.crate", pkg.name, pkg.version);
    let mut dirs: Vec<PathBuf> = fs::read_dir(cargo_home.join("registry").join("cache"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let candidates: Vec<PathBuf> = dirs
        .into_iter()
        .map(|d| d.join(&file_name))
        .filter(|p| p.is_file())
        .collect();
    let first = candidates.first()?.clone();
    let Some(want) = pkg.checksum else {
        return Some(CachedCrate {
            path: first,
            checksum: ChecksumMatch::NotChecked,
        });
    };
    for path in candidates {
        if let Ok(bytes) = fs::read(&path)
            && <[u8; 32]>::from(Sha256::digest(&bytes)) == want
        {
            return Some(CachedCrate {
                path,
                checksum: ChecksumMatch::Matches,
            });
        }
    }
    Some(CachedCrate {
        path: first,
        checksum: ChecksumMatch::Differs,
    })
}
