//! What each crate is for, enforced (docs/architecture.md, STYLE.md §3):
//! this test reads the workspace's own manifests and lockfile through
//! `cargo metadata` and fails when a crate reaches the wrong way, when a
//! pure crate pulls in I/O or async machinery, or when the programs a cargo
//! user installs would compile RocksDB.
//!
//! ```text
//! core ← verifier ← client ← cli                 what a cargo user installs
//! core ← keyfile  ← client
//! core ← serve ← cli                            `sigil proxy` is a server too
//! verifier, keyfile, client, serve ← ca          the CA is a client of the log
//! verifier, keyfile, serve ← log
//! core, keyfile, serve ← witness
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

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
            "sigil-client",
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
            "sigil-keyfile",
            "sigil-client",
            "sigil-serve",
        ],
    ),
    (
        "sigil-bench",
        &[
            "sigil-core",
            "sigil-verifier",
            "sigil-e2e",
            "sigil-log",
            "sigil-keyfile",
        ],
    ),
    (
        "sigil-e2e",
        &[
            "sigil-core",
            "sigil-verifier",
            "sigil-keyfile",
            "sigil-client",
            "sigil-serve",
            "sigil-ca",
            "sigil-log",
            "sigil-witness",
            "sigil-cli",
        ],
    ),
];

/// Crates that must not be anywhere among the normal and build
/// dependencies of the pure format and verification crates: no storage, no
/// async runtime, no server, no HTTP, no archives or manifests (those are
/// the client's).
const BANNED_IN_PURE: &[&str] = &[
    "tokio",
    "axum",
    "hyper",
    "reqwest",
    "tower",
    "rocksdb",
    "librocksdb-sys",
    "tar",
    "flate2",
    "toml",
];
const PURE: &[&str] = &["sigil-core", "sigil-verifier"];

/// What the programs a cargo user installs (`sigil`, `cargo-sigil`) must
/// never build: the servers, RocksDB's C++ and the log's S3 client.
const BANNED_IN_CLIENT: &[&str] = &[
    "sigil-log",
    "sigil-ca",
    "rocksdb",
    "librocksdb-sys",
    "object_store",
];

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host")
}

/// `cargo metadata` of the workspace: its own manifests only, or (for the
/// resolved graph) everything built for this host, offline.
fn metadata(no_deps: bool) -> Value {
    let mut args = vec![
        "metadata".to_owned(),
        "--format-version".into(),
        "1".into(),
        "--offline".into(),
    ];
    if no_deps {
        args.push("--no-deps".into());
    } else {
        args.push("--filter-platform".into());
        args.push(host_triple());
    }
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each workspace crate's direct Sigil dependencies, normal and build.
fn sigil_dependencies() -> BTreeMap<String, Vec<String>> {
    let meta = metadata(true);
    let mut map = BTreeMap::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let deps = pkg["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].as_str() != Some("dev"))
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .filter(|name| name.starts_with("sigil-"))
            .collect();
        map.insert(pkg["name"].as_str().unwrap().to_owned(), deps);
    }
    map
}

/// Every package a workspace crate builds for itself (normal and build
/// dependencies, transitively), by name, from the resolved graph.
fn built_by(krate: &str) -> BTreeSet<String> {
    let meta = metadata(false);
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let edges: BTreeMap<&str, Vec<&str>> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let deps = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].as_str() != Some("dev"))
                })
                .map(|d| d["pkg"].as_str().unwrap())
                .collect();
            (n["id"].as_str().unwrap(), deps)
        })
        .collect();
    let start = name_of
        .iter()
        .find(|(_, name)| **name == krate)
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("{krate} not in the resolved graph"));
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        for dep in edges.get(id).into_iter().flatten() {
            if seen.insert(*dep) {
                todo.push(dep);
            }
        }
    }
    seen.iter().map(|id| name_of[id].to_owned()).collect()
}

#[test]
fn sigil_crates_depend_inward_only() {
    let deps = sigil_dependencies();
    for (krate, allowed) in ALLOWED {
        let Some(list) = deps.get(*krate) else {
            panic!("workspace crate {krate} not found by cargo metadata");
        };
        for dep in list {
            assert!(
                allowed.contains(&dep.as_str()),
                "{krate} depends on {dep}, which docs/architecture.md does not allow"
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
    for krate in PURE {
        let built = built_by(krate);
        for banned in BANNED_IN_PURE {
            assert!(
                !built.contains(*banned),
                "{krate} builds {banned}: it holds pure checks over bytes in memory, no I/O, async or file formats of the client"
            );
        }
    }
}

#[test]
fn the_client_a_cargo_user_installs_builds_no_server_and_no_rocksdb() {
    let built = built_by("sigil-cli");
    for banned in BANNED_IN_CLIENT {
        assert!(
            !built.contains(*banned),
            "sigil-cli builds {banned}: `cargo install --path cli` must compile no server and no C++"
        );
    }
    // The witness needs neither the client nor the CA.
    let witness = built_by("sigil-witness");
    for banned in ["sigil-client", "sigil-ca", "sigil-verifier"] {
        assert!(!witness.contains(banned), "sigil-witness builds {banned}");
    }
}
