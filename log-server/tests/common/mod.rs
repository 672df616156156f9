//! What the end-to-end tests share: starting the real `sigil-log` binary on
//! 127.0.0.1 with port 0 and a temporary data directory, and waiting for its
//! `listening on http://IP:PORT` line.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running `sigil-log serve`. Killed when dropped.
pub struct LogServer {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Everything the server printed on stderr so far.
    pub stderr: Arc<Mutex<String>>,
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
        let mut child = serve_command(data_dir, key, ca_root)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env("SIGIL_LOG", "warn")
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_string());
                }
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sigil-log did not start:\n{}", log.lock().unwrap());
            }
        };
        LogServer {
            child: Some(child),
            url,
            stderr: log,
        }
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
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit success.
    pub fn terminate(mut self) -> bool {
        let Some(mut c) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        for _ in 0..300 {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }
}

impl Drop for LogServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
