//! The log on object storage, end to end (issue #13): real `sigil-log`,
//! `sigil-ca` and `sigil` processes, a real S3 server on loopback
//! (SeaweedFS, `sigil_e2e::seaweed`).
//!
//! - A log on a bucket signs, proves and verifies like one on RocksDB, and
//!   the bucket alone, read over plain HTTP, is a tlog-tiles log that
//!   `sigil monitor` follows.
//! - Two servers on one bucket: the standby serves reads, refuses writes
//!   with `503 not_sequencer`, and takes over when the active one is killed;
//!   every release signed before is still proven, by the new one.
//! - `sigil-log reindex` rebuilds the local index from the bucket alone.
//! - While the bucket is unreachable, submissions are refused with `503
//!   storage_unavailable`, reads are served from the local index, and the
//!   log takes writes again once the bucket is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use std::path::Path;
use std::time::{Duration, Instant};

use sigil_e2e::seaweed::Seaweed;
use sigil_e2e::{Server, command, layout};
use world::{ORIGIN, ok, p, run, sigil};

/// A CA, a trust root and a log key in a temporary directory, with the S3
/// server the logs use.
struct Setup {
    dir: tempfile::TempDir,
    weed: Seaweed,
}

impl Setup {
    fn new() -> Option<Setup> {
        let weed = Seaweed::start_or_skip()?;
        let dir = tempfile::tempdir().unwrap();
        layout::init_ca(dir.path()).unwrap();
        layout::log_keygen(dir.path(), ORIGIN).unwrap();
        ok(sigil(&[
            "trust-root",
            "--ca-root",
            p(&dir.path().join("ca/root.pem")),
            "--log-key",
            p(&dir.path().join("logkey/log.pub")),
            "--out",
            p(&dir.path().join("trust.json")),
        ]));
        Some(Setup { dir, weed })
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    /// `sigil-log serve` on the bucket, its index in `data`.
    fn log(&self, data: &str, id: &str) -> Server {
        let mut c = layout::log_command(self.dir.path(), data).unwrap();
        c.args(["--bucket", &format!("s3://{}", self.weed.bucket())])
            .args(["--s3-endpoint", &self.weed.endpoint()])
            .args(["--sequencer-id", id, "--lease-ms", "1500"]);
        Server::start(c).unwrap()
    }

    fn ca(&self, log: &Server) -> Server {
        Server::start(
            layout::ca_command(self.dir.path(), &log.url, &self.path("logkey/log.pub")).unwrap(),
        )
        .unwrap()
    }

    /// Signs `name@version` with the maintainer's key through `log`.
    fn release(&self, key: &Path, cert: &Path, log: &Server, name: &str, version: &str) {
        let body = format!("pub fn v() -> &'static str {{ \"{version}\" }}\n");
        let file = layout::package(self.dir.path(), self.dir.path(), name, version, &body).unwrap();
        let out = run(
            layout::sign_command(key, cert, &file, &log.url, &self.path("trust.json")).unwrap(),
        );
        assert!(out.status.success(), "{}", world::stderr(&out));
    }

    /// `sigil verify --log` of `name@version` (packaged again: the same
    /// bytes) against `log`, with a checkpoint cache of `home`.
    fn verify(&self, log: &Server, name: &str, version: &str, home: &str) -> (bool, String) {
        let file = self
            .path("target/package")
            .join(format!("{name}-{version}.crate"));
        let file = if file.exists() {
            file
        } else {
            find_crate(self.dir.path(), name, version)
        };
        let mut c = sigil(&["verify", "--trust-root", p(&self.path("trust.json"))]);
        c.args(["--log", &log.url])
            .arg(&file)
            .env("SIGIL_HOME", self.path(home));
        let out = run(c);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

/// The `.crate` `layout::package` made for `name@version` under `dir`.
fn find_crate(dir: &Path, name: &str, version: &str) -> std::path::PathBuf {
    let want = format!("{name}-{version}.crate");
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == want.as_str()) {
                return path;
            }
        }
    }
    panic!("no {want} under {}", dir.display());
}

fn get(url: &str) -> (u16, String) {
    let r = reqwest::blocking::get(url).unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// The size in a checkpoint note.
fn size_of(note: &str) -> u64 {
    note.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_log_on_a_bucket_signs_and_proves_and_the_bucket_alone_is_a_tlog_tiles_log() {
    let Some(s) = Setup::new() else { return };
    let log = s.log("logdata", "a");
    let _ca = s.ca(&log);
    let (key, cert) = layout::enroll(s.dir.path(), &_ca.url, "alice", &["hello"]).unwrap();
    for v in ["1.0.0", "1.0.1", "1.1.0"] {
        s.release(&key, &cert, &log, "hello", v);
    }
    let (ok_, out) = s.verify(&log, "hello", "1.0.1", "home");
    assert!(ok_, "{out}");

    // The bucket, read over plain HTTP as a CDN would: the checkpoint the
    // log published, and a monitor that reads only tlog-tiles paths.
    let static_url = format!("{}/{}", s.weed.endpoint(), s.weed.bucket());
    let (status, note) = get(&format!("{static_url}/checkpoint"));
    assert_eq!(status, 200);
    let (_, served) = get(&format!("{}/checkpoint", log.url));
    assert_eq!(
        note, served,
        "the bucket's checkpoint is the one the log serves"
    );
    assert!(size_of(&note) >= 4, "{note}");
    let mut monitor = command("sigil").unwrap();
    monitor
        .args(["monitor", "--log", &static_url])
        .args(["--trust-root", p(&s.path("trust.json"))])
        .args(["--state", p(&s.path("monitor-state"))])
        .args(["--watch-crate", "hello", "--once"]);
    let alerts = ok(monitor);
    assert_eq!(
        alerts.lines().filter(|l| l.contains("\"release\"")).count(),
        3,
        "{alerts}"
    );

    // And azul (Cloudflare's tlog-tiles and signed-note crates) reads the
    // bucket as a log: the checkpoint verifies with the log's key, the root
    // recomputes from the bucket's tiles, every entry is proven.
    azul_reads_the_bucket(&static_url, &s.path("logkey/log.pub"));
}

/// A tlog-tiles reader over plain HTTP for azul, which names tiles the Go
/// sumdb way (`tile/8/...`, `tile/8/data/...`): mapped to the C2SP paths.
struct HttpTiles(String);

impl tlog_tiles::TileReader for HttpTiles {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let path = t.path();
                let rest = path.strip_prefix("tile/8/").unwrap();
                let c2sp = match rest.strip_prefix("data/") {
                    Some(index) => format!("tile/entries/{index}"),
                    None => format!("tile/{rest}"),
                };
                let r = reqwest::blocking::get(format!("{}/{c2sp}", self.0)).unwrap();
                if !r.status().is_success() {
                    return Err(tlog_tiles::Error::InvalidTile);
                }
                Ok(r.bytes().unwrap().to_vec())
            })
            .collect()
    }
    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

fn azul_reads_the_bucket(static_url: &str, log_pub: &Path) {
    use signed_note::VerifierList;
    let (_, note) = get(&format!("{static_url}/checkpoint"));
    let vkey = std::fs::read_to_string(log_pub).unwrap();
    let verifier = signed_note::StandardVerifier::new(vkey.trim()).unwrap();
    let verifiers = VerifierList::new(vec![Box::new(verifier)]);
    let (verified, _) = signed_note::Note::from_bytes(note.as_bytes())
        .unwrap()
        .verify(&verifiers)
        .unwrap();
    assert_eq!(verified.len(), 1, "signed by the log's key");
    let parsed = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
    let cp = tlog_tiles::Checkpoint::from_bytes(parsed.text()).unwrap();
    assert_eq!(cp.origin(), ORIGIN);
    let tiles = HttpTiles(static_url.to_owned());
    let reader = tlog_tiles::TileHashReader::new(cp.size(), *cp.hash(), &tiles);
    assert_eq!(
        tlog_tiles::tree_hash(cp.size(), &reader).unwrap(),
        *cp.hash()
    );
    // Every entry of the bundles is proven against the checkpoint.
    let mut index = 0;
    for bundle in 0..cp.size().div_ceil(256) {
        let width = (cp.size() - bundle * 256).min(256);
        let path = if width == 256 {
            format!("tile/entries/{bundle:03}")
        } else {
            format!("tile/entries/{bundle:03}.p/{width}")
        };
        let r = reqwest::blocking::get(format!("{static_url}/{path}")).unwrap();
        assert!(r.status().is_success(), "{path}");
        let mut data = &r.bytes().unwrap()[..];
        while !data.is_empty() {
            let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
            let entry = &data[2..2 + len];
            let proof = tlog_tiles::prove_record(cp.size(), index, &reader).unwrap();
            tlog_tiles::check_record(
                &proof,
                cp.size(),
                *cp.hash(),
                index,
                tlog_tiles::record_hash(entry),
            )
            .unwrap();
            data = &data[2 + len..];
            index += 1;
        }
    }
    assert_eq!(index, cp.size());
}

#[test]
fn a_standby_serves_reads_refuses_writes_and_takes_over_when_the_active_one_dies() {
    let Some(s) = Setup::new() else { return };
    let mut active = s.log("data-a", "a");
    let ca = s.ca(&active);
    let (key, cert) = layout::enroll(s.dir.path(), &ca.url, "alice", &["hello"]).unwrap();
    s.release(&key, &cert, &active, "hello", "1.0.0");
    let standby = s.log("data-b", "b");

    // Reads: the standby serves what the active one published.
    let (_, published) = get(&format!("{}/checkpoint", active.url));
    eventually(
        "the standby serves the published checkpoint",
        Duration::from_secs(15),
        || get(&format!("{}/checkpoint", standby.url)).1 == published,
    );
    let (ok_, out) = s.verify(&standby, "hello", "1.0.0", "home-standby");
    assert!(ok_, "{out}");

    // Writes: refused, naming the active one.
    let body = "pub fn v() -> &'static str { \"1.0.1\" }\n";
    let file = layout::package(s.dir.path(), s.dir.path(), "hello", "1.0.1", body).unwrap();
    let out =
        run(layout::sign_command(&key, &cert, &file, &standby.url, &s.path("trust.json")).unwrap());
    assert!(!out.status.success());
    let err = world::stderr(&out);
    assert!(
        err.contains("not_sequencer") || err.contains("does not sequence"),
        "{err}"
    );
    assert!(err.contains(" a ") || err.contains(": a holds"), "{err}");

    // The active one dies; the standby takes over within seconds.
    active.kill();
    let killed = Instant::now();
    eventually("the standby sequences", Duration::from_secs(30), || {
        run(layout::sign_command(&key, &cert, &file, &standby.url, &s.path("trust.json")).unwrap())
            .status
            .success()
    });
    eprintln!("took over {:?} after the kill", killed.elapsed());
    // Everything signed before is still proven, by the new sequencer; and
    // the checkpoint it serves extends the one the old one published (the
    // verifier checks consistency with its cache).
    for v in ["1.0.0", "1.0.1"] {
        let (ok_, out) = s.verify(&standby, "hello", v, "home-standby");
        assert!(ok_, "{v}: {out}");
    }
    let (_, after) = get(&format!("{}/checkpoint", standby.url));
    assert!(size_of(&after) > size_of(&published), "{after}");
}

#[test]
fn reindex_rebuilds_the_index_from_the_bucket_alone() {
    let Some(s) = Setup::new() else { return };
    let log = s.log("data-a", "a");
    let ca = s.ca(&log);
    let (key, cert) = layout::enroll(s.dir.path(), &ca.url, "alice", &["hello"]).unwrap();
    for v in ["1.0.0", "1.0.1"] {
        s.release(&key, &cert, &log, "hello", v);
    }
    assert!(log.terminate());
    drop(ca);
    // The machine is lost: a new data directory, from the bucket alone.
    let mut reindex = command("sigil-log").unwrap();
    reindex
        .args(["reindex", "--bucket", &format!("s3://{}", s.weed.bucket())])
        .args(["--s3-endpoint", &s.weed.endpoint()])
        .args(["--origin", ORIGIN])
        .arg("--data-dir")
        .arg(s.path("rebuilt"));
    let out = run(reindex);
    assert!(out.status.success(), "{}", world::stderr(&out));
    assert!(
        world::stderr(&out).contains("entries"),
        "{}",
        world::stderr(&out)
    );
    // A directory that is not empty is refused.
    let mut again = command("sigil-log").unwrap();
    again
        .args(["reindex", "--bucket", &format!("s3://{}", s.weed.bucket())])
        .args(["--s3-endpoint", &s.weed.endpoint()])
        .args(["--origin", ORIGIN])
        .arg("--data-dir")
        .arg(s.path("rebuilt"));
    let out = run(again);
    assert!(!out.status.success());
    assert!(
        world::stderr(&out).contains("not empty"),
        "{}",
        world::stderr(&out)
    );

    // The log runs on the rebuilt index: the release rows came back (the
    // proof lookup by crate@version), and so did the certificate row (the
    // same certificate is a duplicate, not a new entry).
    let log = s.log("rebuilt", "a2");
    let (ok_, out) = s.verify(&log, "hello", "1.0.1", "home");
    assert!(ok_, "{out}");
    s.release(&key, &cert, &log, "hello", "1.0.2");
    let (ok_, out) = s.verify(&log, "hello", "1.0.2", "home");
    assert!(ok_, "{out}");
}

#[test]
fn an_unreachable_bucket_refuses_writes_clearly_serves_reads_and_recovers() {
    let Some(mut s) = Setup::new() else { return };
    let log = s.log("data", "a");
    let ca = s.ca(&log);
    let (key, cert) = layout::enroll(s.dir.path(), &ca.url, "alice", &["hello"]).unwrap();
    s.release(&key, &cert, &log, "hello", "1.0.0");

    // The S3 server goes away.
    s.weed.stop();
    let body = "pub fn v() -> &'static str { \"1.0.1\" }\n";
    let file = layout::package(s.dir.path(), s.dir.path(), "hello", "1.0.1", body).unwrap();
    let trust = s.path("trust.json");
    let sign = || run(layout::sign_command(&key, &cert, &file, &log.url, &trust).unwrap());
    // The round in flight fails (its submitter waits, then times out);
    // from then on every submission is refused at once, saying why.
    let start = Instant::now();
    loop {
        let out = sign();
        assert!(!out.status.success(), "signed with the bucket down");
        let err = world::stderr(&out);
        if err.contains("storage_unavailable") {
            assert!(err.contains("S3"), "{err}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{err}");
    }
    // Reads are served from the local index meanwhile.
    let (status, _) = get(&format!("{}/checkpoint", log.url));
    assert_eq!(status, 200);
    let (ok_, out) = s.verify(&log, "hello", "1.0.0", "home");
    assert!(ok_, "{out}");

    // The bucket is back: the same process takes writes again.
    s.weed.restart().unwrap();
    eventually(
        "the log takes writes again",
        Duration::from_secs(60),
        || sign().status.success(),
    );
    let (ok_, out) = s.verify(&log, "hello", "1.0.1", "home");
    assert!(ok_, "{out}");
}
