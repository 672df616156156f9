//! One world for the client-side end-to-end tests: `sigil-ca` and
//! `sigil-log` serving on 127.0.0.1 with RocksDB in a temporary directory,
//! a trust root for them, and the `sigil` commands a maintainer and a cargo
//! user run. Shared by `client.rs` and `fail_closed.rs`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sigil_e2e::{Server, command, layout};

pub const ORIGIN: &str = "client-e2e.sigil.example/log";

pub struct World {
    pub dir: tempfile::TempDir,
    pub log: Server,
    pub ca: Server,
}

pub fn run(mut c: Command) -> Output {
    c.env_remove("SIGIL_PASSPHRASE").output().unwrap()
}

pub fn ok(c: Command) -> String {
    let out = run(c);
    assert!(
        out.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn sigil(args: &[&str]) -> Command {
    let mut c = command("sigil").unwrap();
    c.args(args);
    c
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

impl World {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn start(leaf_validity: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        layout::init_ca(dir.path()).unwrap();
        layout::log_keygen(dir.path(), ORIGIN).unwrap();
        let log = start_log(dir.path(), "logdata");
        let mut ca =
            layout::ca_command(dir.path(), &log.url, &dir.path().join("logkey/log.pub")).unwrap();
        ca.args(["--leaf-validity", leaf_validity]);
        let ca = Server::start(ca).unwrap();
        let w = World { dir, log, ca };
        ok(sigil(&[
            "trust-root",
            "--ca-root",
            p(&w.path("ca/root.pem")),
            "--log-key",
            p(&w.path("logkey/log.pub")),
            "--out",
            p(&w.path("trust.json")),
        ]));
        w
    }

    /// Invites, makes a key and enrolls: returns (key, cert) paths.
    pub fn maintainer(&self, who: &str, crates: &[&str]) -> (PathBuf, PathBuf) {
        layout::enroll(self.dir.path(), &self.ca.url, who, crates).unwrap()
    }

    /// A real .crate for `name@version`, packaged from a crate directory.
    pub fn package(&self, name: &str, version: &str, body: &str) -> PathBuf {
        layout::package(self.dir.path(), self.dir.path(), name, version, body).unwrap()
    }

    pub fn sign(&self, key: &Path, cert: &Path, file: &Path, log: &str) -> Output {
        run(layout::sign_command(key, cert, file, log, &self.path("trust.json")).unwrap())
    }

    /// `sigil-ca revoke` of the certificate in `cert` (PEM, leaf first),
    /// key compromise, void from log index 0.
    pub fn revoke_from_0(&self, cert: &Path) {
        let pem = std::fs::read(cert).unwrap();
        let der: rustls_pki_types::CertificateDer<'static> =
            rustls_pki_types::pem::PemObject::pem_slice_iter(&pem)
                .next()
                .unwrap()
                .unwrap();
        let serial = hex::encode(
            sigil_verifier::x509::Certificate::parse(&der)
                .unwrap()
                .serial(),
        );
        let mut revoke = command("sigil-ca").unwrap();
        revoke
            .args(["revoke", "--ca", &self.ca.url, "--serial", &serial])
            .args(["--reason", "keyCompromise", "--from-index", "0"])
            .arg("--admin-token-file")
            .arg(self.path("ca/admin.token"));
        ok(revoke);
    }

    pub fn verify(&self, file: &Path, extra: &[&str]) -> (bool, Value) {
        let mut c = sigil(&[
            "verify",
            "--json",
            "--trust-root",
            p(&self.path("trust.json")),
        ]);
        c.args(extra).arg(file).env("SIGIL_HOME", self.path("home"));
        let out = run(c);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "not JSON: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(out.status.success(), v["ok"] == true, "{v}");
        (out.status.success(), v)
    }
}

/// A Cargo.lock and a cargo-style download cache (`CARGO_HOME`) for
/// `sigil verify-lock`.
pub struct Lock {
    pub lockfile: PathBuf,
    pub cargo_home: PathBuf,
}

impl World {
    /// A Cargo.lock of the given `.crate` files (name, version, file) and
    /// a cargo home whose registry cache holds them, in `dir`.
    pub fn lock(&self, dir: &str, crates: &[(&str, &str, &Path)]) -> Lock {
        let cargo_home = self.path(&format!("{dir}/cargo-home"));
        let cache = cargo_home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
        std::fs::create_dir_all(&cache).unwrap();
        let mut lock =
            String::from("version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n");
        for (name, version, file) in crates {
            let bytes = std::fs::read(file).unwrap();
            let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            std::fs::write(cache.join(format!("{name}-{version}.crate")), &bytes).unwrap();
            lock.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sha}\"\n"
            ));
        }
        let lockfile = self.path(&format!("{dir}/Cargo.lock"));
        std::fs::write(&lockfile, lock).unwrap();
        Lock {
            lockfile,
            cargo_home,
        }
    }

    /// `sigil verify-lock --json` of `lock` with `extra` flags: (success,
    /// the report).
    pub fn verify_lock(&self, lock: &Lock, extra: &[&str]) -> (bool, Value) {
        let mut c = sigil(&["verify-lock", "--json", "--trust-root"]);
        c.arg(self.path("trust.json"))
            .arg("--cargo-home")
            .arg(&lock.cargo_home)
            .args(extra)
            .arg(&lock.lockfile)
            .env("SIGIL_HOME", self.path("home"));
        let out = run(c);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("not JSON: {}", stderr(&out)));
        assert_eq!(out.status.success(), v["ok"] == true, "{v}");
        (out.status.success(), v)
    }
}

/// The (status, code) verify-lock reported for `name`.
pub fn package_status<'a>(report: &'a Value, name: &str) -> (&'a str, &'a str) {
    let p = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"));
    (
        p["status"].as_str().unwrap(),
        p["code"].as_str().unwrap_or(""),
    )
}

pub fn start_log(dir: &Path, data: &str) -> Server {
    Server::start(layout::log_command(dir, data).unwrap()).unwrap()
}

pub fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("<none>")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
