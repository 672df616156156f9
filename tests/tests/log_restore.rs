//! Issue #11 item 10, end to end with real processes: a `sigil-log`
//! restored from an old backup learns from its `sigil-witness` that a
//! larger tree of it was cosigned, and stops signing instead of signing a
//! second tree of the same sizes (a fork). Submissions are then answered
//! `503 log_rolled_back`, `/healthz` says so, the published checkpoint
//! stays where the backup left it, and stderr has an `ERROR` line saying
//! why. Whether the witness tells it when the log starts or on the first
//! round after, the log stops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sigil_core::api_error::ErrorBody;
use sigil_core::entry::EntryBody;
use sigil_core::log_api::encode_submission;
use sigil_e2e::proxy::{self, Proxy, Reply};
use sigil_e2e::test_ca::TestCa;
use sigil_e2e::{Server, command, layout, run_ok};

const ORIGIN: &str = "restore-e2e.sigil.example/log";
const WITNESS: &str = "w.witness.example";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A temporary directory with a CA (root and intermediate, minted in
/// process, `sigil_e2e::test_ca`; the root in `ca/root.pem` as
/// `layout::log_command` expects it), a log key and a witness key, and a
/// running witness.
struct World {
    dir: tempfile::TempDir,
    ca: TestCa,
    witness: Server,
    witness_vkey: String,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("Restore").unwrap();
        std::fs::create_dir_all(dir.path().join("ca")).unwrap();
        std::fs::write(dir.path().join("ca/root.pem"), ca.root_pem()).unwrap();
        let log_vkey = layout::log_keygen(dir.path(), ORIGIN).unwrap();

        let w = dir.path().join("w");
        let mut c = command("sigil-witness").unwrap();
        c.args(["keygen", "--name", WITNESS, "--out", p(&w)]);
        run_ok(c).unwrap();
        let witness_vkey = std::fs::read_to_string(w.join("witness.pub"))
            .unwrap()
            .trim()
            .to_string();
        std::fs::write(w.join("logs"), format!("logs/v0\nvkey {log_vkey}\n")).unwrap();
        let mut c = command("sigil-witness").unwrap();
        c.args(["serve", "--key", p(&w.join("witness.key"))])
            .args(["--logs", p(&w.join("logs"))])
            .args(["--data-dir", p(&w.join("data"))])
            .args(["--listen", "127.0.0.1:0"]);
        let witness = Server::start(c).unwrap();
        World {
            dir,
            ca,
            witness,
            witness_vkey,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `sigil-log serve` on `data`, asking the witness at `witness_url`.
    fn start_log(&self, data: &str, witness_url: &str) -> Server {
        let mut c = layout::log_command(self.dir.path(), data).unwrap();
        c.arg("--witness")
            .arg(format!("{witness_url}={}", self.witness_vkey))
            .args(["--rate-limit", "0"]);
        Server::start(c).unwrap()
    }

    /// A certificate entry not logged before (a fresh leaf).
    fn certificate(&self) -> EntryBody {
        self.ca.certificate("restore").unwrap()
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Submits `body`; returns the status and the error body, if any.
fn submit(log: &Server, body: &EntryBody) -> (u16, Option<ErrorBody>) {
    let r = client()
        .post(format!("{}/api/v1/entries", log.url))
        .header("content-type", "application/json")
        .body(encode_submission(body))
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().unwrap();
    (status, ErrorBody::parse(&bytes))
}

fn get(log: &Server, path: &str) -> (u16, Vec<u8>) {
    let r = client().get(format!("{}{path}", log.url)).send().unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

/// The size line and the signature lines of the published checkpoint.
fn published(log: &Server) -> (u64, String) {
    let (status, body) = get(log, "/checkpoint");
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    let size = text.lines().nth(1).unwrap().parse().unwrap();
    (size, text)
}

/// Logs `n` new certificates, each answered `201`.
fn log_entries(w: &World, log: &Server, n: usize) {
    for _ in 0..n {
        let (status, error) = submit(log, &w.certificate());
        assert_eq!(status, 201, "{error:?}");
    }
}

/// Copies a directory tree (a stopped log's RocksDB: a backup).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Logs 2 entries, takes a backup of the stopped log, logs 2 more (the
/// witness cosigns size 4), stops the log. Returns the backup's name.
fn backup_at_2_witnessed_at_4(w: &World, witness_url: &str) -> &'static str {
    let log = w.start_log("data", witness_url);
    log_entries(w, &log, 2);
    assert!(log.terminate(), "the log did not stop cleanly");
    copy_dir(&w.path("data"), &w.path("backup"));

    let log = w.start_log("data", witness_url);
    log_entries(w, &log, 2);
    let (size, checkpoint) = published(&log);
    assert_eq!(size, 4);
    assert!(
        checkpoint.contains(&format!("— {WITNESS} ")),
        "size 4 is not cosigned: {checkpoint}"
    );
    assert!(log.terminate(), "the log did not stop cleanly");
    "backup"
}

/// What a stopped log answers: submissions and `/healthz` are `503
/// log_rolled_back` saying what happened and what to do, the published
/// size is `published`, and stderr says why at `ERROR`.
fn assert_stopped(w: &World, log: &Server, published_size: u64) {
    let (status, error) = submit(log, &w.certificate());
    let error = error.expect("an error body");
    assert_eq!(
        (status, error.error.code.as_str()),
        (503, "log_rolled_back")
    );
    let message = &error.error.message;
    for needle in [
        format!("witness {WITNESS} has cosigned size 4"),
        "restore the newest backup".to_owned(),
    ] {
        assert!(message.contains(&needle), "{message}");
    }
    let (status, body) = get(log, "/healthz");
    let health = ErrorBody::parse(&body).expect("an error body");
    assert_eq!(
        (status, health.error.code.as_str()),
        (503, "log_rolled_back")
    );
    assert_eq!(published(log).0, published_size);
    let stderr = log.stderr();
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("ERROR") && l.contains("has cosigned size 4")),
        "{stderr}"
    );
}

#[test]
fn item10_a_log_restored_from_an_old_backup_stops_signing_when_its_witness_is_ahead() {
    let w = World::new();
    let backup = backup_at_2_witnessed_at_4(&w, &w.witness.url);

    // Restored: storage holds 2 entries; the witness has cosigned 4. The
    // stored checkpoint is cosigned before the log serves, so the witness
    // tells it at start; a submission (which would make a round) is
    // refused all the same.
    let log = w.start_log(backup, &w.witness.url);
    assert_stopped(&w, &log, 2);
    let (status, _) = submit(&log, &w.certificate());
    assert_eq!(status, 503);
    assert_eq!(published(&log).0, 2, "the restored log grew");
    // Reads of what it published are still served.
    assert_eq!(get(&log, "/tile/entries/000.p/2").0, 200);

    // Nothing is stored of the stop: after a restart the witness is asked
    // again and the log stops again.
    assert!(log.terminate(), "the log did not stop cleanly");
    let log = w.start_log(backup, &w.witness.url);
    assert_stopped(&w, &log, 2);
}

#[test]
fn item10_a_restored_log_whose_witness_was_down_at_start_stops_at_the_next_round() {
    let w = World::new();
    // The log reaches the witness through a switch: down, it answers 503
    // for the witness.
    let down = Arc::new(AtomicBool::new(false));
    let switch = {
        let down = down.clone();
        Proxy::start(&w.witness.url, move |_| {
            if down.load(Ordering::SeqCst) {
                Reply::Answer(proxy::Answer::text(503, "down for maintenance"))
            } else {
                Reply::Forward
            }
        })
    };
    let backup = backup_at_2_witnessed_at_4(&w, &switch.url);

    // The witness is down while the restored log starts: it cannot know
    // yet, starts (failing open) and serves.
    down.store(true, Ordering::SeqCst);
    let log = w.start_log(backup, &switch.url);
    assert_eq!(get(&log, "/healthz").0, 200);
    down.store(false, Ordering::SeqCst);

    // The next round asks the witness, which says it has cosigned 4. A
    // witness that was down is not waited for, so this round may be
    // published before that answer arrives (one entry past the backup); it
    // is then the last.
    let (status, error) = submit(&log, &w.certificate());
    assert!(
        status == 201 || (status == 503 && error.as_ref().unwrap().error.code == "log_rolled_back"),
        "{status} {error:?}"
    );
    // A guard, not a threshold: the witness's answer is on its way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&log, "/healthz").0 == 200 {
        assert!(Instant::now() < deadline, "the log never stopped");
        std::thread::sleep(Duration::from_millis(50));
    }
    let size = published(&log).0;
    assert!(size == 2 || size == 3, "size {size}");
    assert_stopped(&w, &log, size);
}
