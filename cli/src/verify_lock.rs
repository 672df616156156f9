//! `sigil verify-lock [Cargo.lock]` and `cargo sigil verify`: every
//! registry package of a lockfile, its `.crate` from cargo's own download
//! cache, its proof from a directory or the log, verified like `sigil
//! verify`. A progress bar while it runs, a summary table or `--json` at the
//! end, and a non-zero exit on any failure (unsigned crates: a warning, or a
//! failure with `--deny-unsigned`).

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sigil_client::lockfile::{self, LockedPackage};

use crate::client::Client;
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

/// Runs `verify-lock`.
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
    for pkg in &packages {
        bar.set_message(format!("{} {}", pkg.name, pkg.version));
        let needed = req.needed.is_none_or(|n| {
            n.packages
                .contains(&(pkg.name.clone(), pkg.version.clone()))
        });
        reports.push(if needed {
            check_one(client, req, &cargo_home, pkg)
        } else {
            PackageReport {
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                status: "not_needed",
                code: None,
                detail: format!(
                    "not used on {}: cargo does not download it here",
                    req.needed.map(|n| n.targets.join(", ")).unwrap_or_default()
                ),
                signers: vec![],
                log_index: None,
            }
        });
        bar.inc(1);
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

fn check_one(
    client: &Client,
    req: &LockRequest<'_>,
    cargo_home: &Path,
    pkg: &LockedPackage,
) -> PackageReport {
    let report = |status, code: Option<&str>, detail: String| PackageReport {
        name: pkg.name.clone(),
        version: pkg.version.clone(),
        status,
        code: code.map(str::to_string),
        detail,
        signers: vec![],
        log_index: None,
    };
    let Some(found) = lockfile::cached_crate_path(cargo_home, pkg) else {
        return report(
            "missing",
            Some("not_downloaded"),
            format!(
                "no {}-{}.crate under {}/registry/cache: run `cargo fetch` first",
                pkg.name,
                pkg.version,
                cargo_home.display()
            ),
        );
    };
    let crate_bytes = match std::fs::read(&found.path) {
        Ok(b) => b,
        Err(e) => {
            return report(
                "failed",
                Some("file_error"),
                format!("{}: {e}", found.path.display()),
            );
        }
    };
    if found.checksum == lockfile::ChecksumMatch::Differs {
        return report(
            "failed",
            Some("checksum_mismatch"),
            format!(
                "{} does not have the SHA-256 Cargo.lock records",
                found.path.display()
            ),
        );
    }
    let proof = match proof_for(client, req, pkg) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return report(
                "unsigned",
                Some("unsigned"),
                "no Sigil proof: nobody signed this release in the log".into(),
            );
        }
        Err(e) => return report("failed", Some(e.code()), e.to_string()),
    };
    match client.verify(&crate_bytes, &proof, Some((&pkg.name, &pkg.version))) {
        Ok(v) => PackageReport {
            status: "verified",
            detail: format!("logged at index {}", v.release.index),
            signers: v
                .release
                .identities()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            log_index: Some(v.release.index),
            ..report("verified", None, String::new())
        },
        Err(e) => report("failed", Some(e.code()), e.to_string()),
    }
}

fn proof_for(
    client: &Client,
    req: &LockRequest<'_>,
    pkg: &LockedPackage,
) -> Result<Option<Vec<u8>>, CliError> {
    if let Some(dir) = req.proofs_dir {
        let path = dir.join(format!("{}-{}.crate.tlog-proof", pkg.name, pkg.version));
        match std::fs::read(&path) {
            Ok(b) => return Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CliError::file(&path, e)),
        }
    }
    match client.log() {
        Some(log) => log
            .release_proof(&pkg.name, &pkg.version)
            .map_err(|e| CliError::from_client("the log", e)),
        None if req.proofs_dir.is_some() => Ok(None),
        None => Err(CliError::Usage(
            "give --log URL or --proofs DIR: verify-lock needs each crate's proof".into(),
        )),
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
