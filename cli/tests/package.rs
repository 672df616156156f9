//! `.crate` files as `sigil_cli::package::package_dir` and `cargo
//! package` write them, read back by `sigil_client::crate_file`: the
//! layout, determinism, and what cannot be packaged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use sigil_cli::package::package_dir;
use sigil_client::crate_file::{CrateFileError, PackageId, read_package_id};

const MANIFEST: &str = "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// A small crate directory with files that must and must not be packaged.
fn crate_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(d.join("README.md"), "# hello\n").unwrap();
    std::fs::write(d.join("LICENSE-MIT"), "MIT\n").unwrap();
    std::fs::write(d.join("notes.txt"), "not packaged\n").unwrap();
    std::fs::write(d.join(".env"), "SECRET=1\n").unwrap();
    std::fs::create_dir_all(d.join("src/bin")).unwrap();
    std::fs::write(d.join("src/lib.rs"), "//! hello\n").unwrap();
    std::fs::write(d.join("src/bin/hi.rs"), "fn main() {}\n").unwrap();
    std::fs::write(d.join("src/.swp"), "editor junk\n").unwrap();
    std::fs::create_dir_all(d.join("target/debug")).unwrap();
    std::fs::write(d.join("target/debug/hello"), "binary\n").unwrap();
    dir
}

/// The paths, modes, mtimes and owners of a `.crate`'s entries.
fn listing(crate_bytes: &[u8]) -> Vec<(String, u32, u64, u64, u64)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(crate_bytes));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                String::from_utf8(e.path_bytes().into_owned()).unwrap(),
                h.mode().unwrap(),
                h.mtime().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
            )
        })
        .collect()
}

#[test]
fn package_dir_round_trips_and_is_deterministic() {
    let dir = crate_dir();
    let bytes = package_dir(dir.path()).unwrap();
    let id = read_package_id(&bytes).unwrap();
    assert_eq!(
        id,
        PackageId {
            name: "hello".into(),
            version: "0.1.0".into()
        }
    );
    assert_eq!(id.dir_name(), "hello-0.1.0");
    assert_eq!(id.file_name(), "hello-0.1.0.crate");

    let entries = listing(&bytes);
    let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "hello-0.1.0/Cargo.toml",
            "hello-0.1.0/Cargo.toml.orig",
            "hello-0.1.0/LICENSE-MIT",
            "hello-0.1.0/README.md",
            "hello-0.1.0/src/bin/hi.rs",
            "hello-0.1.0/src/lib.rs",
        ]
    );
    for (path, mode, mtime, uid, gid) in &entries {
        assert_eq!(
            (*mode, *mtime, *uid, *gid),
            (0o644, 1_153_704_088, 0, 0),
            "{path}"
        );
    }

    // Same contents, different file times and creation order: same bytes.
    let again = crate_dir();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(again.path().join("src/lib.rs"), "//! hello\n").unwrap();
    assert_eq!(package_dir(again.path()).unwrap(), bytes);
    assert_eq!(package_dir(dir.path()).unwrap(), bytes);
}

#[test]
fn package_dir_refuses_what_it_cannot_package() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        package_dir(dir.path()),
        Err(CrateFileError::Io { .. })
    ));
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"w\"\nversion.workspace = true\n",
    )
    .unwrap();
    let err = package_dir(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            CrateFileError::InheritedField {
                field: "version",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("version.workspace = true"),
        "{err}"
    );
}

/// `cargo package` output is accepted. Skipped (with a message) when cargo
/// is missing or cannot package offline here.
#[test]
fn reads_what_cargo_package_writes() {
    let dir = crate_dir();
    // Stand-alone, not part of any enclosing workspace.
    let mut manifest = MANIFEST.to_owned();
    manifest.push_str("\n[workspace]\n");
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    let target = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["package", "--no-verify", "--allow-dirty", "--offline"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target.path())
        .output();
    let out = match out {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            println!(
                "skipped: cargo package failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        Err(e) => {
            println!("skipped: cannot run cargo: {e}");
            return;
        }
    };
    drop(out);
    let file = target.path().join("package/hello-0.1.0.crate");
    let bytes = std::fs::read(&file).unwrap();
    let id = read_package_id(&bytes).unwrap();
    assert_eq!(id.to_string(), "hello 0.1.0");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
    let paths: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect();
    println!("cargo package wrote: {paths:?}");
    assert!(paths.contains(&"hello-0.1.0/Cargo.toml.orig".to_owned()));
}
