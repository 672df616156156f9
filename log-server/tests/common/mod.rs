//! What the end-to-end tests share: starting the real `sigil-log` binary on
//! 127.0.0.1 with port 0 and a temporary data directory, and waiting for its
//! `listening on http://IP:PORT` line.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sigil_e2e::Server;

/// A running `sigil-log serve` (the shared harness's [`Server`]: `url`,
/// `stderr`). Killed when dropped.
pub struct LogServer(Server);

impl std::ops::Deref for LogServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

/// Runs `sigil-log keygen` into `dir` and returns (key file, verifier key).
pub fn keygen(dir: &Path, origin: &str) -> (PathBuf, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil-log"))
        .args(["keygen", "--origin", origin, "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = std::fs::read_to_string(dir.join("log.pub")).unwrap();
    (dir.join("log.key"), vkey.trim_end().to_string())
}

/// `sigil-log serve` on 127.0.0.1, port 0, with the given state.
fn serve_command(data_dir: &Path, key: &Path, ca_root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sigil-log"));
    c.arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--key")
        .arg(key)
        .arg("--ca-root")
        .arg(ca_root)
        .args(["--listen", "127.0.0.1:0"]);
    c
}

impl LogServer {
    /// Starts the server and waits until it accepts connections.
    pub fn start(data_dir: &Path, key: &Path, ca_root: &Path, extra: &[&str]) -> LogServer {
        let mut c = serve_command(data_dir, key, ca_root);
        c.args(extra);
        LogServer(Server::start(c).unwrap_or_else(|e| panic!("sigil-log: {e}")))
    }

    /// Starts the server expecting it to refuse to start; returns its stderr.
    pub fn refuses(data_dir: &Path, key: &Path, ca_root: &Path) -> String {
        let out = serve_command(data_dir, key, ca_root).output().unwrap();
        assert!(
            !out.status.success(),
            "sigil-log started but should have refused"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Sends SIGKILL and waits: a crash.
    pub fn kill(mut self) {
        self.0.kill();
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit success.
    pub fn terminate(self) -> bool {
        self.0.terminate()
    }
}
