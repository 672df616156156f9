//! Which registry packages of a Cargo.lock a build needs on a platform.
//!
//! A lockfile lists every package for every platform (`windows-sys`,
//! `wasm-bindgen`, ... in a Linux project), and cargo downloads only those
//! the target platform needs. `verify-lock` verifies exactly those: cargo
//! itself says which they are (`cargo metadata --filter-platform TRIPLE`,
//! whose resolve keeps only the dependencies active on that platform,
//! dev and build dependencies included), run `--offline --locked` so that
//! nothing is fetched or re-resolved behind the user's back. The others are
//! reported as not needed here; a needed package that is not downloaded
//! fails (`--fetch` lets cargo download them first).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::error::CliError;

/// The registry packages (name, version) the build needs on `targets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// The target triples, as given or the host's.
    pub targets: Vec<String>,
    /// (name, version) of every registry package in the filtered resolve.
    pub packages: BTreeSet<(String, String)>,
}

/// The cargo to run: `$CARGO` (set when cargo runs `cargo sigil`), else
/// `cargo` on the `PATH`; in the project's directory, where cargo finds
/// the project's `.cargo/config.toml` (a source replacement, say).
fn cargo(manifest: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    if let Some(dir) = manifest.parent().filter(|d| !d.as_os_str().is_empty()) {
        c.current_dir(dir);
    }
    c
}

/// The host's target triple, from `rustc -vV` (`$RUSTC` if set).
///
/// # Errors
///
/// [`CliError::Usage`] if rustc cannot be run or names no host.
pub fn host_triple() -> Result<String, CliError> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| CliError::Usage(format!("cannot run rustc to learn the host: {e}")))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| CliError::Usage("rustc -vV names no host; pass --target".into()))
}

/// What the project whose manifest is `manifest` needs on `targets` (the
/// host's if empty). With `fetch`, `cargo fetch --locked` for those
/// targets runs first.
///
/// # Errors
///
/// [`CliError::Usage`] when cargo cannot say (its own message, and what
/// to do: typically a needed package is not downloaded yet).
pub fn needed(manifest: &Path, targets: &[String], fetch: bool) -> Result<Needed, CliError> {
    // Absolute: cargo runs in the project's directory.
    let manifest = &std::path::absolute(manifest).map_err(|e| CliError::file(manifest, e))?;
    let targets = if targets.is_empty() {
        vec![host_triple()?]
    } else {
        targets.to_vec()
    };
    if fetch {
        let mut c = cargo(manifest);
        c.args(["fetch", "--locked", "--manifest-path"])
            .arg(manifest);
        for t in &targets {
            c.args(["--target", t]);
        }
        let status = c
            .status()
            .map_err(|e| CliError::Usage(format!("cannot run cargo fetch: {e}")))?;
        if !status.success() {
            return Err(CliError::Usage(format!("cargo fetch failed ({status})")));
        }
    }
    let mut c = cargo(manifest);
    c.args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .arg("--manifest-path")
        .arg(manifest);
    for t in &targets {
        c.args(["--filter-platform", t]);
    }
    let out = c
        .output()
        .map_err(|e| CliError::Usage(format!("cannot run cargo metadata: {e}")))?;
    if !out.status.success() {
        return Err(CliError::Usage(format!(
            "cargo metadata cannot say which crates {} needs on {} ({}); run `cargo fetch` \
             (or pass --fetch) so that every needed crate is downloaded",
            manifest.display(),
            targets.join(", "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let packages = sigil_client::cargo_metadata::registry_packages(&out.stdout)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(Needed { targets, packages })
}
