//! sigil-e2e: end-to-end tests for Sigil. The tests in `tests/` start the real
//! binaries on 127.0.0.1 (port 0) with temporary directories; this library
//! holds what they share: finding the binaries, spawning a server and
//! waiting for its `listening on http://IP:PORT` line (DESIGN.md
//! "Interfaces"), and stopping it when the test ends; and a real S3 server,
//! SeaweedFS, for the object-storage backend (`seaweed`).
//!
//! The binaries are those of the workspace's other packages, which Cargo
//! builds for `cargo test --workspace` (each of those packages has
//! integration tests of its own, so its binaries are built before any test
//! runs). They sit next to the `deps/` directory this test runs from.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod http_json;
pub mod proxy;
pub mod seaweed;
pub mod static_server;
pub mod test_ca;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sigil_cli::server_process::ServerProcess;

/// Why a server could not be started.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// The path of a workspace binary, e.g. `sigil-ca`.
pub fn binary(name: &str) -> Result<PathBuf, StartError> {
    let exe = std::env::current_exe().map_err(|e| StartError(e.to_string()))?;
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| StartError(format!("{} has no grandparent", exe.display())))?;
    let path = dir.join(name);
    // A program that is not a test (`sigil-bench`) runs from
    // target/<profile> itself, next to the others.
    let beside = exe.parent().map(|d| d.join(name));
    if path.is_file() {
        Ok(path)
    } else if let Some(beside) = beside.filter(|p| p.is_file()) {
        Ok(beside)
    } else {
        Err(StartError(format!(
            "{} is missing: run the tests with `cargo test --workspace` (it builds every \
             binary), or `cargo build --bins` first",
            path.display()
        )))
    }
}

/// A command for a workspace binary.
pub fn command(name: &str) -> Result<Command, StartError> {
    Ok(Command::new(binary(name)?))
}

/// A running server process (`sigil_cli::server_process`), logging at
/// `warn`. Killed when dropped.
pub struct Server {
    process: ServerProcess,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Spawns `command` (which must listen on port 0 and print `listening
    /// on http://IP:PORT` on stderr) and waits up to 60 s for that line.
    pub fn start(mut command: Command) -> Result<Server, StartError> {
        let name = Path::new(command.get_program())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        command.env("SIGIL_LOG", "warn");
        let process =
            ServerProcess::start(&name, command, None).map_err(|e| StartError(e.to_string()))?;
        Ok(Server {
            url: process.url.clone(),
            process,
        })
    }

    /// The server's process id, `0` once it is gone.
    pub fn pid(&self) -> u32 {
        self.process.pid().unwrap_or(0)
    }

    /// Everything the server printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// Sends SIGKILL and waits: a crash. The server is gone afterwards; its
    /// `url` and `stderr` stay readable.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Sends SIGTERM and waits up to 6 s for a clean exit; returns whether
    /// it exited successfully.
    pub fn terminate(self) -> bool {
        self.process.terminate(Duration::from_secs(6))
    }
}

/// Runs a command to completion; its stdout if it succeeded, else an error
/// with everything it printed.
pub fn run_ok(mut c: Command) -> Result<String, StartError> {
    let out = c
        .env_remove("SIGIL_PASSPHRASE")
        .output()
        .map_err(|e| StartError(format!("{c:?}: {e}")))?;
    if !out.status.success() {
        return Err(StartError(format!(
            "{c:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    String::from_utf8(out.stdout).map_err(|e| StartError(e.to_string()))
}

/// The directory layout the end-to-end tests share under one root `dir`:
/// `ca/` (from `sigil-ca init`), `logkey/` (from `sigil-log keygen`),
/// `<data>/` for a log's RocksDB and `cadata/` for the CA's.
pub mod layout {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use crate::{StartError, command, run_ok};

    /// `sigil-ca init --out dir/ca`.
    pub fn init_ca(dir: &Path) -> Result<(), StartError> {
        let mut c = command("sigil-ca")?;
        c.arg("init").arg("--out").arg(dir.join("ca"));
        run_ok(c).map(drop)
    }

    /// `sigil-log keygen --origin ORIGIN --out dir/logkey`; returns the
    /// verifier key.
    pub fn log_keygen(dir: &Path, origin: &str) -> Result<String, StartError> {
        let mut c = command("sigil-log")?;
        c.args(["keygen", "--origin", origin, "--out"])
            .arg(dir.join("logkey"));
        run_ok(c)?;
        std::fs::read_to_string(dir.join("logkey/log.pub"))
            .map(|s| s.trim_end().to_string())
            .map_err(|e| StartError(e.to_string()))
    }

    /// `sigil-log serve` with the key in `dir/logkey`, the CA root in
    /// `dir/ca`, RocksDB in `dir/<data>`, on 127.0.0.1:0, 10 ms rounds.
    pub fn log_command(dir: &Path, data: &str) -> Result<Command, StartError> {
        let mut c = command("sigil-log")?;
        c.arg("serve")
            .arg("--data-dir")
            .arg(dir.join(data))
            .arg("--key")
            .arg(dir.join("logkey/log.key"))
            .arg("--ca-root")
            .arg(dir.join("ca/root.pem"))
            .args(["--listen", "127.0.0.1:0", "--batch-window-ms", "10"]);
        Ok(c)
    }

    /// Invites `<who>@example.org` for `crates` at the CA at `ca_url` (admin
    /// token in `dir/ca`), makes `dir/<who>.key` and enrolls it into
    /// `dir/<who>.pem`; returns (key, cert).
    pub fn enroll(
        dir: &Path,
        ca_url: &str,
        who: &str,
        crates: &[&str],
    ) -> Result<(PathBuf, PathBuf), StartError> {
        let mut invite = command("sigil-ca")?;
        invite
            .args(["invite", "--ca", ca_url])
            .args(["--identity", &format!("{who}@example.org")])
            .arg("--admin-token-file")
            .arg(dir.join("ca/admin.token"));
        for c in crates {
            invite.args(["--crate", c]);
        }
        let token = run_ok(invite)?.trim().to_string();
        let (key, cert) = (
            dir.join(format!("{who}.key")),
            dir.join(format!("{who}.pem")),
        );
        let mut keygen = command("sigil")?;
        keygen.arg("keygen").arg("--out").arg(&key);
        run_ok(keygen)?;
        let mut enroll = command("sigil")?;
        enroll
            .args(["enroll", "--ca", ca_url, "--token", &token])
            .arg("--key")
            .arg(&key)
            .arg("--out")
            .arg(&cert);
        run_ok(enroll)?;
        Ok((key, cert))
    }

    /// A real `.crate` of `name@version` whose `src/lib.rs` is `body`,
    /// packaged from `dir/src-<name>-<version>/` into `out_dir`.
    pub fn package(
        dir: &Path,
        out_dir: &Path,
        name: &str,
        version: &str,
        body: &str,
    ) -> Result<PathBuf, StartError> {
        let err = |e: &dyn std::fmt::Display| StartError(e.to_string());
        let src = dir.join(format!("src-{name}-{version}"));
        std::fs::create_dir_all(src.join("src")).map_err(|e| err(&e))?;
        std::fs::write(
            src.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n"),
        )
        .map_err(|e| err(&e))?;
        std::fs::write(src.join("src/lib.rs"), body).map_err(|e| err(&e))?;
        let bytes = sigil_cli::package::package_dir(&src).map_err(|e| err(&e))?;
        std::fs::create_dir_all(out_dir).map_err(|e| err(&e))?;
        let out = out_dir.join(format!("{name}-{version}.crate"));
        std::fs::write(&out, bytes).map_err(|e| err(&e))?;
        Ok(out)
    }

    /// `sigil sign --key KEY --cert CERT --log LOG --trust-root TRUST
    /// FILE`, not yet run. The maintainer's checkpoint cache is in
    /// `TRUST`'s directory, one per log URL (tests run deliberate forks of
    /// one log on other ports).
    pub fn sign_command(
        key: &Path,
        cert: &Path,
        file: &Path,
        log: &str,
        trust: &Path,
    ) -> Result<Command, StartError> {
        let mut c = command("sigil")?;
        c.arg("sign")
            .arg("--key")
            .arg(key)
            .arg("--cert")
            .arg(cert)
            .args(["--log", log])
            .arg("--trust-root")
            .arg(trust)
            .env(
                "SIGIL_HOME",
                trust.parent().unwrap_or(Path::new(".")).join(format!(
                    "maintainer-home-{}",
                    log.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                )),
            )
            .arg(file);
        Ok(c)
    }

    /// `sigil-ca serve` for the CA in `dir/ca`, RocksDB in `dir/cadata`,
    /// logging to `log_url` and checking its proofs with `log_key`.
    pub fn ca_command(dir: &Path, log_url: &str, log_key: &Path) -> Result<Command, StartError> {
        let mut c = command("sigil-ca")?;
        c.arg("serve")
            .arg("--dir")
            .arg(dir.join("ca"))
            .arg("--data-dir")
            .arg(dir.join("cadata"))
            .args(["--log", log_url, "--listen", "127.0.0.1:0"])
            .args(["--log-timeout", "5s"])
            .arg("--admin-token-file")
            .arg(dir.join("ca/admin.token"))
            .arg("--log-key")
            .arg(log_key);
        Ok(c)
    }
}
