//! The output of `cargo metadata --format-version 1` as `verify-lock`
//! reads it (the Cargo Book, "cargo metadata"): which registry packages
//! are in the resolve. With `--filter-platform`, the resolve keeps only
//! the dependencies active on that platform (`sigil_cli::needed`).

use std::collections::BTreeSet;

use serde::Deserialize;

/// The output is not cargo metadata's JSON with a resolve.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cargo metadata's output cannot be read: {0}")]
pub struct MetadataError(String);

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

/// The registry packages of `cargo metadata`'s resolve.
///
/// # Errors
///
/// [`MetadataError`] if the output is not cargo metadata's JSON with a
/// resolve.
pub fn registry_packages(json: &[u8]) -> Result<BTreeSet<(String, String)>, MetadataError> {
    let metadata: Metadata =
        serde_json::from_slice(json).map_err(|e| MetadataError(e.to_string()))?;
    let resolve = metadata
        .resolve
        .ok_or_else(|| MetadataError("no resolve".into()))?;
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
        let needed = registry_packages(json).unwrap();
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
            assert!(registry_packages(bad).is_err());
        }
    }
}
