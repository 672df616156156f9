//! `.crate` files: the gzip'd tar archives that `cargo package` writes and
//! crates.io serves (gzip: RFC 1952; tar: POSIX.1-2017 `pax` "ustar
//! Interchange Format", with the GNU long-name and pax extensions the `tar`
//! crate reads).
//!
//! # Layout
//!
//! Every entry of a `.crate` lies under one top directory named
//! `<name>-<version>/`, where `name` and `version` are the `[package]`
//! fields of the `Cargo.toml` inside it:
//!
//! ```text
//! hello-0.1.0/.cargo_vcs_info.json   (sometimes: the git commit packaged)
//! hello-0.1.0/Cargo.lock             (for packages with binaries)
//! hello-0.1.0/Cargo.toml             (normalized by cargo)
//! hello-0.1.0/Cargo.toml.orig        (the manifest as the author wrote it)
//! hello-0.1.0/src/lib.rs
//! ```
//!
//! [`read_package_id`] checks that layout and returns the name and
//! version. (`sigil quickstart` writes it for its demo crate:
//! `sigil_cli::package`.)
//!
//! # Limits
//!
//! A `.crate` comes from outside, so reading one is bounded: at most
//! [`MAX_DECOMPRESSED`] bytes of tar stream (headers included) and
//! [`MAX_ENTRIES`] entries, and a `Cargo.toml` of at most
//! [`MAX_MANIFEST`] bytes. A decompression bomb is refused once the limit is
//! reached, without holding the data: only `Cargo.toml` is kept in memory.
//!
//! Paths are checked as an extracting tool would need them to be: UTF-8,
//! relative, no `..`, `.` or empty component, no backslash, no duplicate;
//! symbolic and hard links must point inside the top directory (`cargo
//! package` writes neither); device files and FIFOs are refused.

use std::collections::HashSet;
use std::io::{self, Read};

use flate2::read::GzDecoder;
use sigil_core::statement::{StatementError, validate_crate_name, validate_version};
use tar::EntryType;

/// The most bytes of tar stream [`read_package_id`] decompresses: 512 MiB,
/// the limit crates.io applies to an upload's unpacked size (its
/// `max_unpack_size`). Real crates come close to the 10 MB compressed
/// upload limit and decompress to far more than that: `aws-lc-sys` 0.47.0,
/// which Sigil itself depends on, is 9.7 MB and unpacks to 68 MB. The data
/// is streamed, never held, so the limit bounds time, not memory.
pub const MAX_DECOMPRESSED: u64 = 512 * 1024 * 1024;

/// The most tar entries [`read_package_id`] reads: 50,000. The largest
/// crates on crates.io hold a few thousand files.
pub const MAX_ENTRIES: usize = 50_000;

/// The largest `Cargo.toml` accepted: 8 MiB.
pub const MAX_MANIFEST: u64 = 8 * 1024 * 1024;

/// The first two bytes of every gzip member (RFC 1952 §2.3.1, ID1 ID2).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A crate's name and version, as its `Cargo.toml` gives them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId {
    /// The crate name (crates.io rules: [`validate_crate_name`]).
    pub name: String,
    /// The version (SemVer 2.0: [`validate_version`]).
    pub version: String,
}

impl PackageId {
    /// The top directory of the crate's `.crate` file: `<name>-<version>`.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    /// The file name cargo and crates.io give the crate:
    /// `<name>-<version>.crate`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.crate", self.name, self.version)
    }
}

impl std::fmt::Display for PackageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// Why a `.crate` file or a crate directory was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrateFileError {
    /// The input does not start with the gzip magic bytes.
    #[error("not a gzip file: is this a .crate made by `cargo package`?")]
    NotGzip,
    /// The gzip data is corrupt or ends early.
    #[error(
        "the .crate's gzip data is corrupt or truncated ({detail}); download or package it again"
    )]
    Gzip {
        /// What the decompressor said.
        detail: String,
    },
    /// The gzip data decompresses to something other than a tar archive.
    #[error("the .crate decompresses to something that is not a valid tar archive ({detail})")]
    Tar {
        /// What the tar reader said.
        detail: String,
    },
    /// The archive is larger than [`MAX_DECOMPRESSED`] once decompressed.
    #[error(
        "the .crate decompresses to more than {limit} bytes, more than crates.io accepts; refusing it"
    )]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The archive has more than [`MAX_ENTRIES`] entries.
    #[error("the .crate has more than {limit} entries; refusing it")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// The archive has no entries at all.
    #[error(
        "the .crate's tar archive is empty: a .crate holds at least `<name>-<version>/Cargo.toml`"
    )]
    Empty,
    /// An entry's path is unsafe or malformed.
    #[error("archive entry {path:?} {reason}")]
    BadPath {
        /// The path, lossily decoded as UTF-8.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two entries lie under different top directories.
    #[error(
        "the .crate has entries under both {first:?} and {second:?}: a .crate has exactly one top directory, `<name>-<version>/`"
    )]
    TwoTopDirs {
        /// The first entry's top directory.
        first: String,
        /// The other top directory.
        second: String,
    },
    /// Two entries have the same path, so extracting tools disagree on
    /// which one wins.
    #[error("archive entry {path:?} appears twice")]
    Duplicate {
        /// The path.
        path: String,
    },
    /// A symbolic or hard link points outside the top directory.
    #[error("archive entry {path:?} is a link to {target:?}, outside the crate's top directory")]
    LinkEscapes {
        /// The link's path.
        path: String,
        /// Where it points.
        target: String,
    },
    /// An entry is of a type a `.crate` never holds.
    #[error("archive entry {path:?} is a {kind}, which a .crate never holds")]
    UnsupportedEntry {
        /// The entry's path.
        path: String,
        /// Its type, in words.
        kind: &'static str,
    },
    /// There is no `Cargo.toml` in the top directory.
    #[error("{top}/Cargo.toml is missing: every .crate has one")]
    NoManifest {
        /// The top directory.
        top: String,
    },
    /// `Cargo.toml` is not a regular file.
    #[error("{manifest} is not a regular file")]
    ManifestNotFile {
        /// Where the manifest is.
        manifest: String,
    },
    /// `Cargo.toml` is larger than [`MAX_MANIFEST`].
    #[error("{manifest} is larger than {limit} bytes")]
    ManifestTooLarge {
        /// Where the manifest is.
        manifest: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// `Cargo.toml` is not UTF-8 text.
    #[error("{manifest} is not UTF-8 text")]
    ManifestNotUtf8 {
        /// Where the manifest is.
        manifest: String,
    },
    /// `Cargo.toml` is not valid TOML.
    #[error("{manifest} is not valid TOML: {detail}")]
    ManifestToml {
        /// Where the manifest is.
        manifest: String,
        /// What the TOML parser said, with the line.
        detail: String,
    },
    /// `Cargo.toml` has no `[package]` table.
    #[error("{manifest} has no [package] table (a workspace's root manifest is not a crate)")]
    NoPackageTable {
        /// Where the manifest is.
        manifest: String,
    },
    /// `[package] name` or `version` is missing.
    #[error(
        "{manifest} has no [package] {field}; `cargo package` always writes one, so this is not a packaged crate"
    )]
    MissingField {
        /// Where the manifest is.
        manifest: String,
        /// `name` or `version`.
        field: &'static str,
    },
    /// `[package] name` or `version` is inherited from a workspace.
    #[error(
        "{manifest} inherits [package] {field} from its workspace (`{field}.workspace = true`); a .crate needs the concrete value, which `cargo package` writes in and this reader cannot resolve"
    )]
    InheritedField {
        /// Where the manifest is.
        manifest: String,
        /// `name` or `version`.
        field: &'static str,
    },
    /// `[package] name` or `version` is not a string.
    #[error("{manifest}: [package] {field} is not a string")]
    FieldNotString {
        /// Where the manifest is.
        manifest: String,
        /// `name` or `version`.
        field: &'static str,
    },
    /// The name or version breaks the crates.io or SemVer rules.
    #[error("{manifest}: {source}")]
    InvalidPackage {
        /// Where the manifest is.
        manifest: String,
        /// Which rule.
        source: StatementError,
    },
    /// The top directory is not `<name>-<version>` of the manifest.
    #[error(
        "the .crate's top directory is {top:?}, but its Cargo.toml says {id}, so it should be {expected:?}"
    )]
    NameMismatch {
        /// The top directory found.
        top: String,
        /// The name and version in `Cargo.toml`.
        id: PackageId,
        /// `<name>-<version>`.
        expected: String,
    },
    /// A file system error while packaging a directory.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        source: io::Error,
    },
}

/// Reads the name and version of the crate in a `.crate` file, after
/// checking its layout (module docs): one top directory `<name>-<version>/`
/// holding a `Cargo.toml` whose `[package]` gives that name and version.
///
/// The whole archive is read, so that every path is checked and the gzip
/// trailer's CRC-32 and length (RFC 1952 §2.3.1) are verified: a truncated
/// or corrupted file is refused.
pub fn read_package_id(crate_bytes: &[u8]) -> Result<PackageId, CrateFileError> {
    if !crate_bytes.starts_with(&GZIP_MAGIC) {
        return Err(CrateFileError::NotGzip);
    }
    let mut archive = tar::Archive::new(Bounded::new(GzDecoder::new(crate_bytes)));
    let walked = walk(&mut archive);
    let mut reader = archive.into_inner();
    // Read to the end of the gzip member, so that its CRC-32 and length
    // are checked (the tar reader stops at the end-of-archive blocks).
    let walked = walked.and_then(|w| {
        io::copy(&mut reader, &mut io::sink()).map_err(Walk::Io)?;
        Ok(w)
    });
    let (top, manifest) = walked.map_err(|e| reader.explain(e))?;
    let manifest_path = format!("{top}/Cargo.toml");
    let Some(manifest) = manifest else {
        return Err(CrateFileError::NoManifest { top });
    };
    let text = String::from_utf8(manifest).map_err(|_| CrateFileError::ManifestNotUtf8 {
        manifest: manifest_path.clone(),
    })?;
    let id = parse_manifest(&text, &manifest_path)?;
    if id.dir_name() != top {
        return Err(CrateFileError::NameMismatch {
            expected: id.dir_name(),
            top,
            id,
        });
    }
    Ok(id)
}

/// An error while walking the archive: either a verdict, or an I/O error
/// that [`Bounded::explain`] turns into one.
enum Walk {
    Crate(CrateFileError),
    Io(io::Error),
}

impl From<CrateFileError> for Walk {
    fn from(e: CrateFileError) -> Self {
        Walk::Crate(e)
    }
}

/// Walks every entry, checking its path and type; returns the top
/// directory and the bytes of `<top>/Cargo.toml` if there is one.
fn walk<R: Read>(archive: &mut tar::Archive<R>) -> Result<(String, Option<Vec<u8>>), Walk> {
    let mut top: Option<String> = None;
    let mut manifest = None;
    let mut seen = HashSet::new();
    let mut count = 0usize;
    for entry in archive.entries().map_err(Walk::Io)? {
        let mut entry = entry.map_err(Walk::Io)?;
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            // A pax global header (`git archive` writes one) names no file.
            continue;
        }
        count += 1;
        if count > MAX_ENTRIES {
            return Err(CrateFileError::TooManyEntries { limit: MAX_ENTRIES }.into());
        }
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let path = checked_path(&raw, kind.is_dir())?;
        let entry_top = path[0];
        match &top {
            None => top = Some(entry_top.to_owned()),
            Some(t) if t != entry_top => {
                return Err(CrateFileError::TwoTopDirs {
                    first: t.clone(),
                    second: entry_top.to_owned(),
                }
                .into());
            }
            Some(_) => {}
        }
        if !seen.insert(path.join("/")) {
            return Err(CrateFileError::Duplicate { path: shown }.into());
        }
        let is_manifest = path.len() == 2 && path[1] == "Cargo.toml";
        match kind {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Directory => {}
            EntryType::Symlink | EntryType::Link => {
                check_link(&entry, &path, &shown, kind == EntryType::Symlink)?;
            }
            other => {
                return Err(CrateFileError::UnsupportedEntry {
                    path: shown,
                    kind: kind_name(other),
                }
                .into());
            }
        }
        if is_manifest {
            if !matches!(kind, EntryType::Regular | EntryType::Continuous) {
                return Err(CrateFileError::ManifestNotFile { manifest: shown }.into());
            }
            if entry.size() > MAX_MANIFEST {
                return Err(CrateFileError::ManifestTooLarge {
                    manifest: shown,
                    limit: MAX_MANIFEST,
                }
                .into());
            }
            let mut bytes = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST)
                .read_to_end(&mut bytes)
                .map_err(Walk::Io)?;
            manifest = Some(bytes);
        }
    }
    match top {
        Some(top) => Ok((top, manifest)),
        None => Err(CrateFileError::Empty.into()),
    }
}

/// Splits an entry path into its components after the checks of the
/// module docs. A directory entry may end in `/`; everything else must
/// lie under a top directory.
fn checked_path(raw: &[u8], is_dir: bool) -> Result<Vec<&str>, CrateFileError> {
    let bad = |reason| CrateFileError::BadPath {
        path: String::from_utf8_lossy(raw).into_owned(),
        reason,
    };
    let text = std::str::from_utf8(raw).map_err(|_| bad("is not UTF-8"))?;
    if text.is_empty() {
        return Err(bad("is empty"));
    }
    if text.starts_with('/') {
        return Err(bad("is an absolute path"));
    }
    if text.contains('\\') {
        return Err(bad("contains a backslash"));
    }
    if text.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    let trimmed = if is_dir {
        text.strip_suffix('/').unwrap_or(text)
    } else {
        text
    };
    let parts: Vec<&str> = trimmed.split('/').collect();
    for part in &parts {
        match *part {
            ".." => return Err(bad("contains `..`")),
            "." => return Err(bad("contains a `.` component")),
            "" => return Err(bad("contains an empty component")),
            _ => {}
        }
    }
    if parts.len() < 2 && !is_dir {
        return Err(bad("is not under a top directory `<name>-<version>/`"));
    }
    Ok(parts)
}

/// Checks that a link stays inside the top directory `path[0]`. A symbolic
/// link's target is relative to the link's directory; a hard link's is
/// relative to the archive root.
fn check_link<R: Read>(
    entry: &tar::Entry<'_, R>,
    path: &[&str],
    shown: &str,
    symbolic: bool,
) -> Result<(), CrateFileError> {
    let target = entry
        .link_name_bytes()
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let target_text = String::from_utf8_lossy(&target).into_owned();
    let escapes = || CrateFileError::LinkEscapes {
        path: shown.to_owned(),
        target: target_text.clone(),
    };
    let Ok(target) = std::str::from_utf8(&target) else {
        return Err(escapes());
    };
    if target.is_empty() || target.starts_with('/') || target.contains('\\') {
        return Err(escapes());
    }
    let mut resolved: Vec<&str> = if symbolic {
        path[..path.len() - 1].to_vec()
    } else {
        Vec::new()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if resolved.pop().is_none() {
                    return Err(escapes());
                }
            }
            p => resolved.push(p),
        }
        // Once outside the top directory, a later component cannot bring
        // the link back in any way an extractor agrees on.
        if resolved.first() != Some(&path[0]) {
            return Err(escapes());
        }
    }
    if resolved.len() < 2 {
        return Err(escapes());
    }
    Ok(())
}

fn kind_name(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "GNU sparse file",
        _ => "tar entry of an unknown type",
    }
}

/// Parses `[package] name` and `version` from a manifest's text and checks
/// them by the crates.io and SemVer rules. `manifest` names the file in
/// errors.
///
/// # Errors
///
/// [`CrateFileError`]: the TOML does not parse, or `[package]`, `name` or
/// `version` is missing, inherited from a workspace, not a string or not
/// valid.
pub fn parse_manifest(text: &str, manifest: &str) -> Result<PackageId, CrateFileError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .and_then(|s| text.get(..s.start))
            .map(|before| before.matches('\n').count() + 1);
        let detail = match line {
            Some(line) => format!("line {line}: {}", e.message()),
            None => e.message().to_owned(),
        };
        CrateFileError::ManifestToml {
            manifest: manifest.to_owned(),
            detail,
        }
    })?;
    let Some(toml::Value::Table(package)) = table.get("package") else {
        return Err(CrateFileError::NoPackageTable {
            manifest: manifest.to_owned(),
        });
    };
    let field = |field: &'static str| -> Result<String, CrateFileError> {
        match package.get(field) {
            Some(toml::Value::String(s)) => Ok(s.clone()),
            None => Err(CrateFileError::MissingField {
                manifest: manifest.to_owned(),
                field,
            }),
            Some(toml::Value::Table(t))
                if t.get("workspace") == Some(&toml::Value::Boolean(true)) =>
            {
                Err(CrateFileError::InheritedField {
                    manifest: manifest.to_owned(),
                    field,
                })
            }
            Some(_) => Err(CrateFileError::FieldNotString {
                manifest: manifest.to_owned(),
                field,
            }),
        }
    };
    let name = field("name")?;
    let version = field("version")?;
    let invalid = |source| CrateFileError::InvalidPackage {
        manifest: manifest.to_owned(),
        source,
    };
    validate_crate_name(&name).map_err(invalid)?;
    validate_version(&version).map_err(invalid)?;
    Ok(PackageId { name, version })
}

/// The decompressed stream, counted: refuses to yield more than
/// [`MAX_DECOMPRESSED`] bytes, and remembers whether an error came from the
/// gzip decoder (corrupt data) or the limit, so that the tar reader's
/// wrapped I/O errors can be explained.
struct Bounded<R> {
    inner: R,
    read: u64,
    over_limit: bool,
    gzip_error: Option<String>,
}

impl<R> Bounded<R> {
    fn new(inner: R) -> Self {
        Bounded {
            inner,
            read: 0,
            over_limit: false,
            gzip_error: None,
        }
    }

    fn explain(&self, e: Walk) -> CrateFileError {
        match e {
            Walk::Crate(e) => e,
            Walk::Io(_) if self.over_limit => CrateFileError::TooLarge {
                limit: MAX_DECOMPRESSED,
            },
            Walk::Io(_) if self.gzip_error.is_some() => CrateFileError::Gzip {
                detail: self.gzip_error.clone().unwrap_or_default(),
            },
            Walk::Io(e) => CrateFileError::Tar {
                detail: e.to_string(),
            },
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read >= MAX_DECOMPRESSED {
            // Is there anything past the limit? One more byte says.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe) {
                Ok(0) => Ok(0),
                Ok(_) => {
                    self.over_limit = true;
                    Err(io::Error::other("decompressed size limit reached"))
                }
                Err(e) => {
                    self.gzip_error = Some(e.to_string());
                    Err(e)
                }
            };
        }
        let room = usize::try_from(MAX_DECOMPRESSED - self.read).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        match self.inner.read(&mut buf[..len]) {
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.gzip_error = Some(e.to_string());
                Err(e)
            }
        }
    }
}
