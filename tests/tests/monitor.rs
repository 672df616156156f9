//! `sigil monitor` against a live `sigil-log` (real processes, RocksDB on
//! disk): it reports a watched crate's release within one poll, and it
//! detects a log whose stored entry was changed under it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use sigil_e2e::{Server, command, layout, run_ok};

const ORIGIN: &str = "monitor-e2e.sigil.example/log";

struct World {
    dir: tempfile::TempDir,
    log: Option<Server>,
    ca: Server,
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

impl World {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn log_url(&self) -> String {
        self.log.as_ref().unwrap().url.clone()
    }

    fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        layout::init_ca(dir.path()).unwrap();
        layout::log_keygen(dir.path(), ORIGIN).unwrap();
        let log = Server::start(layout::log_command(dir.path(), "logdata").unwrap()).unwrap();
        let ca = Server::start(
            layout::ca_command(dir.path(), &log.url, &dir.path().join("logkey/log.pub")).unwrap(),
        )
        .unwrap();
        let w = World {
            dir,
            log: Some(log),
            ca,
        };
        let mut trust = command("sigil").unwrap();
        trust
            .args(["trust-root", "--ca-root", p(&w.path("ca/root.pem"))])
            .args(["--log-key", p(&w.path("logkey/log.pub"))])
            .args(["--out", p(&w.path("trust.json"))]);
        run_ok(trust).unwrap();
        w
    }

    /// An enrolled maintainer for `crates`: (key, cert).
    fn maintainer(&self, who: &str, crates: &[&str]) -> (PathBuf, PathBuf) {
        layout::enroll(self.dir.path(), &self.ca.url, who, crates).unwrap()
    }

    fn publish(&self, key: &Path, cert: &Path, name: &str, version: &str) {
        let body = format!("pub fn v() -> &'static str {{ \"{version}\" }}\n");
        let file = layout::package(self.dir.path(), self.dir.path(), name, version, &body).unwrap();
        run_ok(
            layout::sign_command(key, cert, &file, &self.log_url(), &self.path("trust.json"))
                .unwrap(),
        )
        .unwrap();
    }

    fn monitor(&self, state: &str, extra: &[&str]) -> Command {
        let mut c = command("sigil").unwrap();
        c.args(["monitor", "--log", &self.log_url()])
            .args(["--trust-root", p(&self.path("trust.json"))])
            .args(["--state", p(&self.path(state))])
            .args(extra);
        c
    }
}

/// A running monitor whose stdout lines arrive on a channel.
struct Following {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn follow(mut c: Command) -> Following {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Following { child, lines }
}

fn next_alert(f: &Following, within: Duration) -> Option<Value> {
    f.lines
        .recv_timeout(within)
        .ok()
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
}

#[test]
fn a_watched_release_is_reported_within_one_poll() {
    let w = World::start();
    let (key, cert) = w.maintainer("alice", &["hello", "other"]);
    w.publish(&key, &cert, "other", "1.0.0");
    let f = follow(w.monitor("state", &["--watch-crate", "hello", "--interval", "1"]));
    // Catching up: alice's certificate names the watched crate; the
    // release of `other` is not watched.
    let alert = next_alert(&f, Duration::from_secs(5)).expect("certificate alert");
    assert_eq!(alert["kind"], "certificate", "{alert}");
    assert!(next_alert(&f, Duration::from_millis(1500)).is_none());
    w.publish(&key, &cert, "hello", "1.0.0");
    // One poll is 1 s; allow for the round and the fetch.
    let alert = next_alert(&f, Duration::from_secs(5)).expect("no alert within one poll");
    assert_eq!(alert["kind"], "release", "{alert}");
    assert_eq!(alert["crate"], "hello");
    assert_eq!(alert["version"], "1.0.0");
    assert_eq!(alert["identities"][0], "alice@example.org");
    assert_eq!(alert["origin"], ORIGIN);
    // Alerts are delivered at least once: the state is saved when a step
    // ends, so let the step that printed it finish before stopping.
    std::thread::sleep(Duration::from_millis(1500));
    drop(f);

    // It resumes where it stopped: nothing new, nothing repeated.
    let out = w
        .monitor("state", &["--watch-crate", "hello", "--once"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "repeated alerts");
    // The identity is watched too (certificate and releases).
    let out = w
        .monitor(
            "fresh-state",
            &["--watch-identity", "alice@example.org", "--once"],
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let kinds: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["certificate", "release", "release"], "{kinds:?}");
}

#[test]
fn an_entry_changed_on_disk_is_a_violation() {
    let mut w = World::start();
    let (key, cert) = w.maintainer("bob", &["hello"]);
    w.publish(&key, &cert, "hello", "1.0.0");
    w.publish(&key, &cert, "hello", "1.0.1");
    let out = w.monitor("state", &["--once"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Stop the log, change one byte of the last entry in its stored bundle,
    // start it again: it still serves its (unchanged) checkpoint and tiles.
    assert!(w.log.take().unwrap().terminate());
    {
        let db = rocksdb::DB::open_default(w.path("logdata")).unwrap();
        // `T` ‖ FF (entry bundles) ‖ index 0: log-server/src/storage/rocks.rs.
        let key = [0x54, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut bundle = db.get(key).unwrap().expect("bundle 0");
        let n = bundle.len();
        bundle[n - 3] ^= 0x01;
        db.put(key, bundle).unwrap();
        db.flush().unwrap();
    }
    w.log = Some(Server::start(layout::log_command(w.dir.path(), "logdata").unwrap()).unwrap());

    // A new monitor catches it from the tiles alone.
    let out = w.monitor("fresh-state", &["--once"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "tampering not detected: {stdout} {stderr}"
    );
    let alerts: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}\n{stderr}")))
        .collect();
    assert!(
        alerts
            .iter()
            .any(|a| a["kind"] == "violation" && a["code"] == "entry_hash_mismatch"),
        "{alerts:?}"
    );
}

/// `--webhook URL` POSTs each alert, as the JSON object printed on stdout.
#[test]
fn alerts_are_posted_to_the_webhook() {
    use std::io::{Read, Write};
    let w = World::start();
    let (key, cert) = w.maintainer("carol", &["hello"]);
    w.publish(&key, &cert, "hello", "2.0.0");
    // A one-route HTTP server that hands over each request body.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, bodies) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read headers, then Content-Length bytes of body.
            let body = loop {
                let n = stream.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if rest.len() >= len {
                        break Some(rest[..len].to_string());
                    }
                }
            };
            // Hand the body over before answering: once the monitor has its
            // 200, the test may look.
            if let Some(body) = body {
                let _ = tx.send(body);
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    let out = w
        .monitor(
            "hook-state",
            &["--once", "--watch-crate", "hello", "--webhook", &url],
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let posted: Vec<Value> = bodies
        .try_iter()
        .map(|b| serde_json::from_str(b.trim()).unwrap())
        .collect();
    assert_eq!(posted, printed);
    assert!(
        posted
            .iter()
            .any(|a| a["kind"] == "release" && a["version"] == "2.0.0"),
        "{posted:?}"
    );
}
