//! Dependencies point one way: `core` ← `verifier` ← (`ca`, `log-server`) ← `cli`
//! (DESIGN.md "Workspace", STYLE.md §3). This test reads the workspace's own
//! manifests through `cargo metadata` and fails when a crate reaches the
//! wrong way, or when the format crates pull in I/O or async machinery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;

/// For each workspace crate, the Sigil crates it may depend on (normal and
/// build dependencies; tests and benches may use anything).
const ALLOWED: &[(&str, &[&str])] = &[
    ("sigil-core", &[]),
    ("sigil-verifier", &["sigil-core"]),
    ("sigil-keyfile", &["sigil-core"]),
    ("sigil-serve", &["sigil-core"]),
    (
        "sigil-client",
        &["sigil-core", "sigil-verifier", "sigil-keyfile"],
    ),
    (
        "sigil-ca",
        &[
            "sigil-core",
            "sigil-verifier",
            "sigil-keyfile",
            "sigil-serve",
        ],
    ),
    (
        "sigil-log",
        &[
            "sigil-core",
            "sigil-verifier",
            "sigil-keyfile",
            "sigil-serve",
        ],
    ),
    (
        "sigil-witness",
        &["sigil-core", "sigil-keyfile", "sigil-serve"],
    ),
    (
        "sigil-cli",
        &[
            "sigil-core",
            "sigil-verifier",
            "sigil-client",
            "sigil-keyfile",
            "sigil-ca",
            "sigil-log",
            "sigil-serve",
        ],
    ),
    (
        "sigil-e2e",
        &[
            "sigil-core",
            "sigil-verifier",
            "sigil-keyfile",
            "sigil-client",
            "sigil-ca",
            "sigil-log",
            "sigil-cli",
            "sigil-witness",
            "sigil-serve",
        ],
    ),
];

/// Crates that must not appear among the normal dependencies of the pure
/// format and verification crates: no storage, no async runtime, no server.
const BANNED_IN_PURE: &[&str] = &["tokio", "axum", "rocksdb", "hyper", "reqwest", "tower"];
const PURE: &[&str] = &["sigil-core", "sigil-verifier"];

/// (dependency name, kind: None = normal, "dev", "build"; optional?)
type Deps = Vec<(String, Option<String>, bool)>;

fn workspace_dependencies() -> BTreeMap<String, Deps> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
                .join(".."),
        )
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut map = BTreeMap::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap().to_string();
        let deps = pkg["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_string(),
                    d["kind"].as_str().map(str::to_string),
                    d["optional"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        map.insert(name, deps);
    }
    map
}

#[test]
fn sigil_crates_depend_inward_only() {
    let deps = workspace_dependencies();
    for (krate, allowed) in ALLOWED {
        let Some(list) = deps.get(*krate) else {
            panic!("workspace crate {krate} not found by cargo metadata");
        };
        for (dep, kind, _) in list {
            if kind.as_deref() == Some("dev") || !dep.starts_with("sigil-") {
                continue;
            }
            assert!(
                allowed.contains(&dep.as_str()),
                "{krate} depends on {dep}, against core <- verifier <- (ca, log-server) <- cli"
            );
        }
    }
    // Every workspace crate is covered by the table above.
    for name in deps.keys() {
        assert!(
            ALLOWED.iter().any(|(k, _)| k == name),
            "workspace crate {name} missing from the layering table"
        );
    }
}

#[test]
fn format_and_verifier_crates_stay_pure() {
    let deps = workspace_dependencies();
    for krate in PURE {
        for (dep, kind, optional) in &deps[*krate] {
            // A network client may sit behind an optional feature in its own
            // module (STYLE.md §3); the default build stays pure.
            if kind.as_deref() == Some("dev") || *optional {
                continue;
            }
            assert!(
                !BANNED_IN_PURE.contains(&dep.as_str()),
                "{krate} must not depend on {dep}: it holds pure checks, no I/O or async"
            );
        }
    }
}
