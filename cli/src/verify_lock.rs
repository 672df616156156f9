//! `sigil verify-lock [Cargo.lock]` and `cargo sigil verify`: every
//! registry package of a lockfile, its `.crate` from cargo's own download
//! cache, its proof from a directory or the log, verified like `sigil
//! verify`. Online, the log is asked a thousand crates per request (`POST
//! /api/v1/lookup`, `docs/log.md` "Looking up many releases at once"). A
//! progress bar while it runs, a summary table or `--json` at the end, and
//! a non-zero exit on any failure (unsigned crates: a warning, or a failure
//! with `--deny-unsigned`).

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sigil_client::lockfile::{self, LockedPackage};
use sigil_core::log_api::{MAX_LOOKUP_RELEASES, ReleaseKey};

use crate::client::{Client, Lookup};
use crate::error::CliError;

/// What `verify-lock` was asked.
pub struct LockRequest<'a> {
    /// The Cargo.lock.
    pub lockfile: &'a Path,
    /// A directory of `<name>-<version>.crate.tlog-proof` files (offline).
    pub proofs_dir: Option<&'a Path>,
    /// `$CARGO_HOME` (default: cargo's own rule).
    pub cargo_home: Option<&'a Path>,
    /// Unsigned crates fail instead of warning.
    pub deny_unsigned: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// The packages the build needs on the target platforms
    /// ([`crate::needed`]); the others are `not_needed`. `None`: every
    /// registry package of the lockfile is needed.
    pub needed: Option<&'a crate::needed::Needed>,
}

/// The verdict on one package.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// Crate name.
    pub name: String,
    /// Version.
    pub version: String,
    /// `verified`, `unsigned`, `missing`, `failed`, or `not_needed` (cargo
    /// does not use it on the target platforms).
    pub status: &'static str,
    /// The machine code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// One line for a person.
    pub detail: String,
    /// Who signed it (verified only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// Its log index (verified only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct LockReport {
    /// Per package, in lockfile order.
    pub packages: Vec<PackageReport>,
    /// Counts.
    pub verified: usize,
    /// Counts.
    pub unsigned: usize,
    /// Counts.
    pub missing: usize,
    /// Counts.
    pub failed: usize,
    /// Counts.
    pub not_needed: usize,
    /// The platforms the build was checked for (empty: every package of
    /// the lockfile counted).
    pub targets: Vec<String>,
    /// Whether the run passes under the policy.
    pub ok: bool,
}

/// How many releases one lookup asks the log for: its limit. A lookup
/// the log finds too large (`too_many`) is asked again in halves.
const LOOKUP_CHUNK: usize = MAX_LOOKUP_RELEASES;

/// Runs `verify-lock`. Online, the log is asked a thousand crates at a
/// time (`POST /api/v1/lookup`, [`Client::lookup`]) rather than once per
/// crate and once per certificate; each crate is still verified alone
/// ([`Client::verify_looked_up`]). Offline (`--proofs DIR` without a log)
/// each crate is checked against its proof file ([`Client::verify`]).
pub fn verify_lock(client: &Client, req: &LockRequest<'_>) -> Result<LockReport, CliError> {
    let text =
        std::fs::read_to_string(req.lockfile).map_err(|e| CliError::file(req.lockfile, e))?;
    let packages: Vec<LockedPackage> = lockfile::parse_lockfile(&text)
        .map_err(|e| CliError::file(req.lockfile, e))?
        .into_iter()
        .filter(LockedPackage::is_registry)
        .collect();
    let cargo_home: PathBuf = match req.cargo_home {
        Some(h) => h.to_path_buf(),
        None => lockfile::cargo_home()
            .ok_or_else(|| CliError::Usage("cannot find CARGO_HOME; set it".into()))?,
    };
    let bar = if req.progress {
        let bar = ProgressBar::new(packages.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} verifying {pos}/{len} crates {wide_bar} {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut reports = Vec::with_capacity(packages.len());
    for chunk in packages.chunks(LOOKUP_CHUNK) {
        let located: Vec<Located> = chunk
            .iter()
            .map(|pkg| locate(req, &cargo_home, pkg))
            .collect();
        check_chunk(client, req, chunk, &located, &bar, &mut reports);
    }
    bar.finish_and_clear();
    let count = |s: &str| reports.iter().filter(|r| r.status == s).count();
    let (verified, unsigned, missing, failed, not_needed) = (
        count("verified"),
        count("unsigned"),
        count("missing"),
        count("failed"),
        count("not_needed"),
    );
    Ok(LockReport {
        ok: failed == 0 && missing == 0 && !(req.deny_unsigned && unsigned > 0),
        packages: reports,
        verified,
        unsigned,
        missing,
        failed,
        not_needed,
        targets: req.needed.map(|n| n.targets.clone()).unwrap_or_default(),
    })
}

/// A package before its proof is looked at: decided already (not needed,
/// not downloaded, not the file Cargo.lock names), or its `.crate` file.
enum Located {
    Decided(PackageReport),
    Ready(PathBuf),
}

/// A report with no signer and no index.
fn report(
    pkg: &LockedPackage,
    status: &'static str,
    code: Option<&str>,
    detail: String,
) -> PackageReport {
    PackageReport {
        name: pkg.name.clone(),
        version: pkg.version.clone(),
        status,
        code: code.map(str::to_string),
        detail,
        signers: vec![],
        log_index: None,
    }
}

fn failed(pkg: &LockedPackage, e: &CliError) -> PackageReport {
    report(pkg, "failed", Some(e.code()), e.to_string())
}

fn locate(req: &LockRequest<'_>, cargo_home: &Path, pkg: &LockedPackage) -> Located {
    let needed = req.needed.is_none_or(|n| {
        n.packages
            .contains(&(pkg.name.clone(), pkg.version.clone()))
    });
    if !needed {
        return Located::Decided(report(
            pkg,
            "not_needed",
            None,
            format!(
                "not used on {}: cargo does not download it here",
                req.needed.map(|n| n.targets.join(", ")).unwrap_or_default()
            ),
        ));
    }
    let Some(found) = lockfile::cached_crate_path(cargo_home, pkg) else {
        return Located::Decided(report(
            pkg,
            "missing",
            Some("not_downloaded"),
            format!(
                "no {}-{}.crate under {}/registry/cache: run `cargo fetch` first",
                pkg.name,
                pkg.version,
                cargo_home.display()
            ),
        ));
    };
    if found.checksum == lockfile::ChecksumMatch::Differs {
        return Located::Decided(report(
            pkg,
            "failed",
            Some("checksum_mismatch"),
            format!(
                "{} does not have the SHA-256 Cargo.lock records",
                found.path.display()
            ),
        ));
    }
    Located::Ready(found.path)
}

/// Checks one chunk of packages: online, one lookup for the chunk's
/// downloaded crates (halved while the log says `too_many`), then each
/// package, in order, into `out`.
fn check_chunk(
    client: &Client,
    req: &LockRequest<'_>,
    packages: &[LockedPackage],
    located: &[Located],
    bar: &ProgressBar,
    out: &mut Vec<PackageReport>,
) {
    let lookup = client.log().and_then(|_| {
        let mut keys: Vec<ReleaseKey> = Vec::new();
        for (pkg, loc) in packages.iter().zip(located) {
            let key = ReleaseKey::new(&pkg.name, &pkg.version);
            // A name or version no release can have is not asked (the log
            // would refuse the whole lookup); a package listed twice is
            // asked once.
            if matches!(loc, Located::Ready(_)) && key.validate().is_ok() && !keys.contains(&key) {
                keys.push(key);
            }
        }
        (!keys.is_empty()).then(|| client.lookup(&keys))
    });
    if let Some(Err(e)) = &lookup
        && e.code() == "too_many"
        && packages.len() > 1
    {
        let half = packages.len() / 2;
        check_chunk(client, req, &packages[..half], &located[..half], bar, out);
        check_chunk(client, req, &packages[half..], &located[half..], bar, out);
        return;
    }
    for (pkg, loc) in packages.iter().zip(located) {
        bar.set_message(format!("{} {}", pkg.name, pkg.version));
        out.push(match loc {
            Located::Decided(report) => report.clone(),
            Located::Ready(path) => check_one(client, req, pkg, path, lookup.as_ref()),
        });
        bar.inc(1);
    }
}

/// Verifies one downloaded package: against `lookup` when online, else
/// against its proof file.
fn check_one(
    client: &Client,
    req: &LockRequest<'_>,
    pkg: &LockedPackage,
    path: &Path,
    lookup: Option<&Result<Lookup, CliError>>,
) -> PackageReport {
    let crate_bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return report(
                pkg,
                "failed",
                Some("file_error"),
                format!("{}: {e}", path.display()),
            );
        }
    };
    let local_proof = match proof_file(req, pkg) {
        Ok(p) => p,
        Err(e) => return failed(pkg, &e),
    };
    let unsigned = || {
        report(
            pkg,
            "unsigned",
            Some("unsigned"),
            "no Sigil proof: nobody signed this release in the log".into(),
        )
    };
    let key = ReleaseKey::new(&pkg.name, &pkg.version);
    let verified = match lookup {
        // Online: the lookup's proof (or the local one) and its
        // revocation answers. A failed lookup fails every crate it was for.
        Some(Ok(lookup)) if key.validate().is_ok() => {
            client.verify_looked_up(&crate_bytes, local_proof.as_deref(), &key, lookup)
        }
        Some(Err(e)) if key.validate().is_ok() => return failed(pkg, e),
        // Offline, or a name no release can have: the proof file, if any.
        _ => match local_proof {
            Some(proof) => client
                .verify(&crate_bytes, &proof, Some((&pkg.name, &pkg.version)))
                .map(Some),
            None if client.log().is_some() || req.proofs_dir.is_some() => Ok(None),
            None => Err(CliError::Usage(
                "give --log URL or --proofs DIR: verify-lock needs each crate's proof".into(),
            )),
        },
    };
    match verified {
        Ok(Some(v)) => PackageReport {
            status: "verified",
            detail: format!("logged at index {}", v.release.index),
            signers: v
                .release
                .identities()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            log_index: Some(v.release.index),
            ..report(pkg, "verified", None, String::new())
        },
        Ok(None) => unsigned(),
        Err(e) => failed(pkg, &e),
    }
}

/// `<name>-<version>.crate.tlog-proof` in `--proofs DIR`, if given and
/// there.
fn proof_file(req: &LockRequest<'_>, pkg: &LockedPackage) -> Result<Option<Vec<u8>>, CliError> {
    let Some(dir) = req.proofs_dir else {
        return Ok(None);
    };
    let path = dir.join(format!("{}-{}.crate.tlog-proof", pkg.name, pkg.version));
    match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::file(&path, e)),
    }
}

/// The summary table for a person.
pub fn table(report: &LockReport) -> String {
    let mut out = String::new();
    let width = report
        .packages
        .iter()
        .map(|p| p.name.len() + p.version.len() + 1)
        .max()
        .unwrap_or(10)
        .max(7);
    out.push_str(&format!("{:<width$}  {:<8}  detail\n", "package", "status"));
    for p in &report.packages {
        let id = format!("{} {}", p.name, p.version);
        let detail = if p.signers.is_empty() {
            p.detail.clone()
        } else {
            format!("{} by {}", p.detail, p.signers.join(", "))
        };
        out.push_str(&format!("{id:<width$}  {:<8}  {detail}\n", p.status));
    }
    let not_needed = if report.targets.is_empty() {
        String::new()
    } else {
        format!(
            ", {} not needed on {}",
            report.not_needed,
            report.targets.join(", ")
        )
    };
    out.push_str(&format!(
        "\n{} verified, {} unsigned, {} missing, {} failed{not_needed}: {}\n",
        report.verified,
        report.unsigned,
        report.missing,
        report.failed,
        if report.ok { "OK" } else { "FAILED" }
    ));
    out
}
