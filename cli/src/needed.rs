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

use serde::Deserialize;

use crate::error::CliError;

/// The registry packages (name, version) the build needs on `targets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// The target triples, as given or the host's.
    pub targets: Vec<String>,
    /// (name, version) of every registry package in the filtered resolve.
    pub packages: BTreeSet<(String, String)>,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    resolve: Option<Resolve>,
}

#[derive(Deserialize)]
struct Package {
    id: String,
    name: String,
    version: String,
    source: Option<String>,
}

#[derive(Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Deserialize)]
struct Node {
    id: String,
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
    let packages = parse_metadata(&out.stdout)?;
    Ok(Needed { targets, packages })
}

/// The registry packages of `cargo metadata`'s resolve.
///
/// # Errors
///
/// [`CliError::Usage`] if the output is not cargo metadata's JSON.
pub fn parse_metadata(json: &[u8]) -> Result<BTreeSet<(String, String)>, CliError> {
    let metadata: Metadata = serde_json::from_slice(json)
        .map_err(|e| CliError::Usage(format!("cargo metadata's output: {e}")))?;
    let resolve = metadata
        .resolve
        .ok_or_else(|| CliError::Usage("cargo metadata gave no resolve".into()))?;
    let in_resolve: BTreeSet<&str> = resolve.nodes.iter().map(|n| n.id.as_str()).collect();
    Ok(metadata
        .packages
        .into_iter()
        .filter(|p| in_resolve.contains(p.id.as_str()))
        .filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        })
        .map(|p| (p.name, p.version))
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_filtered_resolve_decides() {
        let json = br#"{
            "packages": [
                {"id": "a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)", "name": "a", "version": "1.0.0", "source": "registry+https://github.com/rust-lang/crates.io-index"},
                {"id": "w 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)", "name": "w", "version": "1.0.0", "source": "registry+https://github.com/rust-lang/crates.io-index"},
                {"id": "me 0.1.0 (path+file:///p)", "name": "me", "version": "0.1.0", "source": null},
                {"id": "s 2.0.0 (sparse+https://r.example/)", "name": "s", "version": "2.0.0", "source": "sparse+https://r.example/"}
            ],
            "resolve": {"nodes": [
                {"id": "a 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)"},
                {"id": "me 0.1.0 (path+file:///p)"},
                {"id": "s 2.0.0 (sparse+https://r.example/)"}
            ]}
        }"#;
        let needed = parse_metadata(json).unwrap();
        let want: BTreeSet<(String, String)> = [("a", "1.0.0"), ("s", "2.0.0")]
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(needed, want);
        for bad in [
            &b"{}"[..],
            b"not json",
            br#"{"packages": [], "resolve": null}"#,
        ] {
            assert!(parse_metadata(bad).is_err());
        }
    }
}
