//! `sigil-bench crash`: the log under load, killed at random moments.
//!
//! Each cycle: submitters log fresh certificates as fast as the log takes
//! them, and a maintainer enrolls with the CA (`sigil-ca`, which logs each
//! certificate before it answers) again and again; at a random moment one
//! process is killed with SIGKILL — the log (RocksDB), the active or the
//! standby log (bucket), the CA or the witness — and started again on its
//! port; on the bucket a restarted log may carry
//! `SIGIL_LOG_FAIL_POINT`, so that its first write aborts the process
//! between the commit steps (after staging, after the swap, after the
//! tiles). After every cycle:
//!
//! - every acknowledged entry is in the log at its index, with identical
//!   bytes (each answer's `.tlog-proof` was verified when it came back);
//! - every certificate the CA issued is in the log: submitted again, it is
//!   answered as already logged (`200`), never as new (`201`);
//! - every checkpoint the log ever returned is consistent with the latest
//!   (a consistency proof from the log, verified here), and no size was
//!   ever signed with two roots;
//! - the log answers.
//!
//! A loss or a fork is counted, printed and makes the run fail.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sigil_core::checkpoint::{CheckpointPolicy, verify_checkpoint};
use sigil_core::entry::{CertificateEntry, Entry, EntryBody};
use sigil_core::log_api::{
    CONSISTENCY_PATH, ConsistencyProof, ENTRIES_PATH, EntryInfo, Submitted, encode_submission,
};
use sigil_core::merkle::{Hash, verify_consistency};
use sigil_core::note::parse_verifier_key;
use sigil_e2e::seaweed::Seaweed;
use sigil_e2e::test_ca::{TestCa, now_ms};
use sigil_e2e::{Server, command, layout, run_ok};

use crate::Backend;

const ORIGIN: &str = "crash.sigil.example/log";
const WITNESS: &str = "crash.sigil.example/witness";

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// The backend.
    pub backend: String,
    /// Cycles run.
    pub cycles: u32,
    /// Entries acknowledged with a verified proof.
    pub acknowledged: u64,
    /// Certificates the CA issued (each logged before it answered).
    pub certificates: u64,
    /// Acknowledged entries missing or changed.
    pub losses: u64,
    /// Sizes signed with two roots, or checkpoints not consistent with the
    /// latest.
    pub forks: u64,
    /// Kills, by target.
    pub kills: BTreeMap<&'static str, u32>,
    /// Restarts that aborted at a commit step (bucket).
    pub fail_points: BTreeMap<&'static str, u32>,
    /// The latest published size.
    pub final_size: u64,
    /// Wall time.
    pub seconds: f64,
}

impl Report {
    /// One JSON line.
    pub fn json(&self) -> String {
        serde_json::json!({
            "backend": self.backend,
            "cycles": self.cycles,
            "acknowledged": self.acknowledged,
            "certificates": self.certificates,
            "losses": self.losses,
            "forks": self.forks,
            "kills": self.kills,
            "fail_points": self.fail_points,
            "final_size": self.final_size,
            "seconds": (self.seconds * 10.0).round() / 10.0,
        })
        .to_string()
    }
}

/// A xorshift generator: reproducible kill moments from `--seed`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The processes and keys of one run.
struct Fixture {
    dir: tempfile::TempDir,
    /// Fixed ports, so that a restarted server is where its clients (the
    /// CA's client of the log) expect it: log a, log b, the CA.
    ports: [u16; 3],
    weed: Option<Seaweed>,
    test_ca: TestCa,
    witness_vkey: String,
    log_vkey: String,
    issued: AtomicU64,
}

impl Fixture {
    fn new(backend: Backend) -> Result<Fixture, String> {
        let weed = match backend {
            Backend::Rocks => None,
            Backend::Bucket => Some(
                Seaweed::start_or_skip()
                    .ok_or("SeaweedFS is missing (SIGIL_SKIP_EXTERNAL_TOOLS=1)")?,
            ),
        };
        let dir = tempfile::tempdir().map_err(err)?;
        let test_ca = TestCa::new("Crash").map_err(err)?;
        let log_vkey = layout::log_keygen(dir.path(), ORIGIN).map_err(err)?;
        // A real CA too; the log accepts both roots.
        layout::init_ca(dir.path()).map_err(err)?;
        let mut roots = test_ca.root_pem();
        roots.push_str(&std::fs::read_to_string(dir.path().join("ca/root.pem")).map_err(err)?);
        std::fs::write(dir.path().join("roots.pem"), roots).map_err(err)?;
        let mut ports = [0u16; 3];
        let held: Vec<std::net::TcpListener> = (0..3)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        for (port, l) in ports.iter_mut().zip(&held) {
            *port = l.local_addr().map_err(err)?.port();
        }
        drop(held);
        let w = dir.path().join("w");
        let mut c = command("sigil-witness").map_err(err)?;
        c.args(["keygen", "--name", WITNESS, "--out"]).arg(&w);
        run_ok(c).map_err(err)?;
        let witness_vkey = std::fs::read_to_string(w.join("witness.pub"))
            .map_err(err)?
            .trim()
            .to_owned();
        std::fs::write(w.join("logs"), format!("logs/v0\nvkey {log_vkey}\n")).map_err(err)?;
        Ok(Fixture {
            dir,
            ports,
            weed,
            test_ca,
            witness_vkey,
            log_vkey,
            issued: AtomicU64::new(0),
        })
    }

    fn policy(&self) -> Result<CheckpointPolicy, String> {
        Ok(CheckpointPolicy {
            origin: ORIGIN.to_owned(),
            log: parse_verifier_key(&self.log_vkey).map_err(err)?,
            witnesses: Vec::new(),
            quorum: 0,
        })
    }

    fn start_witness(&self) -> Result<Server, String> {
        let w = self.dir.path().join("w");
        let mut c = command("sigil-witness").map_err(err)?;
        c.arg("serve")
            .arg("--key")
            .arg(w.join("witness.key"))
            .arg("--logs")
            .arg(w.join("logs"))
            .arg("--data-dir")
            .arg(w.join("data"))
            .args(["--listen", "127.0.0.1:0"]);
        Server::start(c).map_err(err)
    }

    fn start_log(
        &self,
        name: &str,
        witness: &str,
        fail_point: Option<&str>,
    ) -> Result<Server, String> {
        let port = if name == "a" {
            self.ports[0]
        } else {
            self.ports[1]
        };
        let mut c = command("sigil-log").map_err(err)?;
        c.arg("serve")
            .arg("--data-dir")
            .arg(self.dir.path().join(format!("data-{name}")))
            .arg("--key")
            .arg(self.dir.path().join("logkey/log.key"))
            .arg("--ca-root")
            .arg(self.dir.path().join("roots.pem"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--batch-window-ms", "10"]);
        c.arg("--witness")
            .arg(format!("{witness}={}", self.witness_vkey))
            .args(["--witness-timeout-ms", "500", "--rate-limit", "0"]);
        if let Some(weed) = &self.weed {
            c.args(["--bucket", &format!("s3://{}", weed.bucket())])
                .args(["--s3-endpoint", &weed.endpoint()])
                .args(["--sequencer-id", name, "--lease-ms", "1000"]);
        }
        if let Some(point) = fail_point {
            c.env("SIGIL_LOG_FAIL_POINT", point);
        }
        Server::start(c).map_err(err)
    }

    /// `sigil-ca serve` on its port, logging through `log` (the failover
    /// relay in front of the logs).
    fn start_ca(&self, log: &str) -> Result<Server, String> {
        let dir = self.dir.path();
        let mut c = command("sigil-ca").map_err(err)?;
        c.arg("serve")
            .arg("--dir")
            .arg(dir.join("ca"))
            .arg("--data-dir")
            .arg(dir.join("cadata"))
            .args(["--log", log])
            .args(["--listen", &format!("127.0.0.1:{}", self.ports[2])])
            .args(["--log-timeout", "5s"])
            .arg("--admin-token-file")
            .arg(dir.join("ca/admin.token"))
            .arg("--log-key")
            .arg(dir.join("logkey/log.pub"));
        Server::start(c).map_err(err)
    }

    /// One enrollment at the CA: the certificate chain it issued (leaf
    /// first), or `None` if it did not answer with one.
    fn enroll(&self, ca_url: &str) -> Option<Vec<Vec<u8>>> {
        use rustls_pki_types::pem::PemObject as _;
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let (_, cert) =
            layout::enroll(self.dir.path(), ca_url, &format!("m{n}"), &["crash"]).ok()?;
        let pem = std::fs::read(cert).ok()?;
        let chain: Vec<Vec<u8>> = rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
            .filter_map(Result::ok)
            .map(|c| c.to_vec())
            .collect();
        (!chain.is_empty()).then_some(chain)
    }

    /// A certificate entry never logged before.
    fn certificate(&self) -> Result<EntryBody, String> {
        self.test_ca.certificate("crash").map_err(err)
    }
}

/// What submitters saw in one cycle.
#[derive(Default)]
struct Seen {
    /// (index, entry bytes) acknowledged.
    acked: Vec<(u64, Vec<u8>)>,
    /// (size, root) of every checkpoint returned.
    checkpoints: Vec<(u64, Hash)>,
    /// Answers whose proof did not verify, or proved another entry.
    bad_answers: u64,
    /// Certificate chains the CA issued.
    issued: Vec<Vec<Vec<u8>>>,
}

fn client() -> Result<reqwest::blocking::Client, String> {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(err)
}

/// Submits until `stop`, to whichever log takes writes.
fn submit_loop(
    fixture: &Fixture,
    policy: &CheckpointPolicy,
    urls: &[String],
    stop: &AtomicBool,
    seen: &Mutex<Seen>,
) {
    let Ok(http) = client() else { return };
    let mut at = 0;
    while !stop.load(Ordering::Relaxed) {
        let Ok(body) = fixture.certificate() else {
            return;
        };
        let url = &urls[at % urls.len()];
        let sent = http
            .post(format!("{url}{ENTRIES_PATH}"))
            .header("content-type", "application/json")
            .body(encode_submission(&body))
            .send();
        let answer = match sent {
            Ok(r) if r.status().as_u16() == 201 => r.bytes().ok(),
            _ => {
                // Down, a standby, restarting: the other one, shortly.
                at += 1;
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let Some(answer) = answer else { continue };
        let mut seen = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let proven = serde_json::from_slice::<Submitted>(&answer)
            .map_err(err)
            .and_then(|s| {
                sigil_core::proof::verify(s.proof.as_bytes(), policy)
                    .map_err(err)
                    .map(|v| (s.index, v))
            });
        match proven {
            Ok((index, v))
                if v.index == index && Entry::decode(&v.entry).is_ok_and(|e| e.body == body) =>
            {
                seen.checkpoints
                    .push((v.checkpoint.checkpoint.size, v.checkpoint.checkpoint.root));
                seen.acked.push((index, v.entry));
            }
            _ => seen.bad_answers += 1,
        }
    }
}

/// The failover relay's rule: the request to each log in turn, the first
/// answer that is not a `503` (a standby, a log restarting) back.
fn failover(logs: &[String], req: &sigil_e2e::proxy::Request) -> sigil_e2e::proxy::Reply {
    use sigil_e2e::proxy::{Answer, Reply};
    let Ok(http) = client() else {
        return Reply::Answer(Answer::text(503, "relay: no HTTP client"));
    };
    for url in logs {
        let sent = match req.method.as_str() {
            "POST" => http
                .post(format!("{url}{}", req.path))
                .header("content-type", "application/json")
                .body(req.body.clone())
                .send(),
            _ => http.get(format!("{url}{}", req.path)).send(),
        };
        let Ok(r) = sent else { continue };
        let status = r.status().as_u16();
        if status == 503 {
            continue;
        }
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let body = r.bytes().map(|b| b.to_vec()).unwrap_or_default();
        return Reply::Answer(Answer {
            status,
            content_type,
            body,
        });
    }
    Reply::Answer(Answer::json(
        503,
        r#"{"error":{"code":"unavailable","message":"relay: no log takes writes"}}"#,
    ))
}

/// The latest published checkpoint of any log answering, verified.
fn latest(urls: &[String], policy: &CheckpointPolicy) -> Option<(u64, Hash, String)> {
    let http = client().ok()?;
    let mut best: Option<(u64, Hash, String)> = None;
    for url in urls {
        let Ok(r) = http.get(format!("{url}/checkpoint")).send() else {
            continue;
        };
        if !r.status().is_success() {
            continue;
        }
        let Ok(note) = r.bytes() else { continue };
        let Ok(v) = verify_checkpoint(&note, policy) else {
            continue;
        };
        let size = v.checkpoint.size;
        if best.as_ref().is_none_or(|b| size > b.0) {
            best = Some((size, v.checkpoint.root, url.clone()));
        }
    }
    best
}

/// For a bucket log being restarted, one time in two: the commit step at
/// which its first write aborts the process (`SIGIL_LOG_FAIL_POINT`).
fn fail_point(backend: Backend, rng: &mut Rng, report: &mut Report) -> Option<&'static str> {
    if backend != Backend::Bucket || rng.below(2) == 0 {
        return None;
    }
    let point = ["after-stage", "after-swap", "after-tiles"][rng.below(3) as usize];
    *report.fail_points.entry(point).or_default() += 1;
    Some(point)
}

/// Runs the harness.
pub fn run(
    backend: Backend,
    cycles: u32,
    submitters: usize,
    seed: Option<u64>,
) -> Result<Report, String> {
    let started = Instant::now();
    let fixture = Fixture::new(backend)?;
    let policy = fixture.policy()?;
    let mut rng = Rng(seed.unwrap_or_else(now_ms) | 1);
    let mut report = Report {
        backend: format!("{backend:?}").to_lowercase(),
        ..Report::default()
    };
    let names: &[&'static str] = match backend {
        Backend::Rocks => &["a"],
        Backend::Bucket => &["a", "b"],
    };
    let mut witness = Some(fixture.start_witness()?);
    let mut logs: Vec<Option<Server>> = Vec::new();
    for name in names {
        let url = witness.as_ref().map(|w| w.url.clone()).unwrap_or_default();
        logs.push(Some(fixture.start_log(name, &url, None)?));
    }
    // The CA reaches the log through a relay that, like a load balancer's
    // health check, sends each request to whichever log takes writes.
    let log_urls: Vec<String> = (0..names.len())
        .map(|i| format!("http://127.0.0.1:{}", fixture.ports[i]))
        .collect();
    let relay = {
        let targets = log_urls.clone();
        sigil_e2e::proxy::Proxy::start(&log_urls[0], move |req| failover(&targets, req))
    };
    let mut ca = Some(fixture.start_ca(&relay.url)?);
    let ca_url = format!("http://127.0.0.1:{}", fixture.ports[2]);
    let mut roots: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut all_acked: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut last_latest = 0u64;

    for cycle in 0..cycles {
        // Anything dead (killed, aborted at a fail point, exited after
        // losing its lease) is started again, as a supervisor would.
        let witness_url = match &witness {
            Some(w) => w.url.clone(),
            None => {
                let w = fixture.start_witness()?;
                let url = w.url.clone();
                witness = Some(w);
                url
            }
        };
        for (i, slot) in logs.iter_mut().enumerate() {
            let alive = slot.as_ref().is_some_and(|s| {
                client()
                    .ok()
                    .and_then(|c| c.get(format!("{}/checkpoint", s.url)).send().ok())
                    .is_some()
            });
            if !alive {
                *slot = None;
                let point = fail_point(backend, &mut rng, &mut report);
                *slot = Some(fixture.start_log(names[i], &witness_url, point)?);
            }
        }
        let urls: Vec<String> = logs.iter().flatten().map(|s| s.url.clone()).collect();
        let stop = AtomicBool::new(false);
        let seen = Mutex::new(Seen::default());
        if ca.is_none() {
            ca = Some(fixture.start_ca(&relay.url)?);
        }
        let target = match (backend, rng.below(10)) {
            (_, 0) => "witness",
            (_, 1) => "ca",
            (Backend::Rocks, _) => "log",
            (Backend::Bucket, n) if n < 6 => "log-a",
            (Backend::Bucket, _) => "log-b",
        };
        std::thread::scope(|scope| -> Result<(), String> {
            for _ in 0..submitters {
                scope.spawn(|| submit_loop(&fixture, &policy, &urls, &stop, &seen));
            }
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    match fixture.enroll(&ca_url) {
                        Some(chain) => seen
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .issued
                            .push(chain),
                        None => std::thread::sleep(Duration::from_millis(100)),
                    }
                }
            });
            std::thread::sleep(Duration::from_millis(200 + rng.below(1200)));
            match target {
                "witness" => {
                    if let Some(mut w) = witness.take() {
                        w.kill();
                    }
                }
                "ca" => {
                    if let Some(mut c) = ca.take() {
                        c.kill();
                    }
                }
                "log" | "log-a" => {
                    if let Some(s) = logs[0].as_mut() {
                        s.kill();
                    }
                }
                _ => {
                    if let Some(s) = logs[1].as_mut() {
                        s.kill();
                    }
                }
            }
            *report.kills.entry(target).or_default() += 1;
            std::thread::sleep(Duration::from_millis(rng.below(300)));
            stop.store(true, Ordering::Relaxed);
            Ok(())
        })?;
        let seen = seen
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.bad_answers > 0 {
            eprintln!(
                "cycle {cycle}: {} answers did not prove their entry",
                seen.bad_answers
            );
            report.losses += seen.bad_answers;
        }
        // Restart what was killed, then check.
        if ca.is_none() {
            ca = Some(fixture.start_ca(&relay.url)?);
        }
        if witness.is_none() {
            witness = Some(fixture.start_witness()?);
        }
        let witness_url = witness.as_ref().map(|w| w.url.clone()).unwrap_or_default();
        for (i, slot) in logs.iter_mut().enumerate() {
            let dead = slot.as_ref().is_none_or(|s| {
                client()
                    .ok()
                    .and_then(|c| c.get(format!("{}/checkpoint", s.url)).send().ok())
                    .is_none()
            });
            if dead {
                *slot = None;
                let point = fail_point(backend, &mut rng, &mut report);
                *slot = Some(fixture.start_log(names[i], &witness_url, point)?);
            }
        }
        let urls: Vec<String> = logs.iter().flatten().map(|s| s.url.clone()).collect();
        let want = seen
            .checkpoints
            .iter()
            .map(|c| c.0)
            .chain([last_latest])
            .max()
            .unwrap_or(0);
        // The log answers, with a checkpoint at least as new as anything
        // it returned before (a standby may take a lease to catch up).
        let deadline = Instant::now() + Duration::from_secs(60);
        let (size, root, url) = loop {
            match latest(&urls, &policy) {
                Some(l) if l.0 >= want => break l,
                _ if Instant::now() > deadline => {
                    return Err(format!(
                        "cycle {cycle}: no log published a checkpoint of size {want} or more \
                         within 60 s (a loss, or the log does not answer)"
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        };
        let http = client()?;
        let mut sizes: BTreeMap<u64, Hash> = BTreeMap::new();
        for &(s, r) in &seen.checkpoints {
            sizes.insert(s, r);
            match roots.insert(s, r) {
                Some(old) if old != r => {
                    eprintln!("cycle {cycle}: size {s} was signed with two roots");
                    report.forks += 1;
                }
                _ => {}
            }
        }
        if let Some(old) = roots.get(&last_latest) {
            sizes.insert(last_latest, *old);
        }
        if let Some(old) = roots.insert(size, root)
            && old != root
        {
            eprintln!("cycle {cycle}: size {size} was signed with two roots");
            report.forks += 1;
        }
        for (&s, r) in &sizes {
            if s == 0 || s >= size {
                if s == size && *r != root {
                    report.forks += 1;
                }
                continue;
            }
            let proof = http
                .get(format!("{url}{CONSISTENCY_PATH}?from={s}&to={size}"))
                .send()
                .and_then(|r| r.json::<ConsistencyProof>());
            let consistent = proof
                .map_err(err)
                .and_then(|p| verify_consistency(s, size, r, &root, &p.hashes).map_err(err));
            if let Err(e) = consistent {
                eprintln!("cycle {cycle}: checkpoint {s} is not consistent with {size}: {e}");
                report.forks += 1;
            }
        }
        for (index, bytes) in &seen.acked {
            let got = http
                .get(format!("{url}{ENTRIES_PATH}/{index}"))
                .send()
                .and_then(|r| r.json::<EntryInfo>());
            match got {
                Ok(info) if info.entry == *bytes => {}
                other => {
                    eprintln!(
                        "cycle {cycle}: acknowledged entry {index} lost: {:?}",
                        other.err()
                    );
                    report.losses += 1;
                }
            }
        }
        // Every certificate the CA issued is logged: submitted again, it is
        // a duplicate.
        for chain in &seen.issued {
            let body = EntryBody::Certificate(CertificateEntry {
                chain: chain.clone(),
            });
            // Whichever log sequences answers; a standby says 503.
            let mut answered = None;
            for _ in 0..50 {
                answered = urls.iter().find_map(|u| {
                    let r = http
                        .post(format!("{u}{ENTRIES_PATH}"))
                        .header("content-type", "application/json")
                        .body(encode_submission(&body))
                        .send()
                        .ok()?;
                    let status = r.status().as_u16();
                    (status == 200 || status == 201).then_some(status)
                });
                if answered.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            if answered != Some(200) {
                eprintln!(
                    "cycle {cycle}: a certificate the CA issued was not in the log ({answered:?})"
                );
                report.losses += 1;
            }
        }
        report.certificates += seen.issued.len() as u64;
        report.acknowledged += seen.acked.len() as u64;
        all_acked.extend(seen.acked);
        last_latest = size;
        report.final_size = size;
        report.cycles = cycle + 1;
        eprintln!(
            "cycle {cycle}: killed {target}; size {size}, acknowledged {} in all, {} losses, {} forks",
            report.acknowledged, report.losses, report.forks
        );
    }
    // At the end, every entry acknowledged in the whole run, once more.
    if let Some((_, _, url)) = latest(
        &logs
            .iter()
            .flatten()
            .map(|s| s.url.clone())
            .collect::<Vec<_>>(),
        &policy,
    ) {
        let http = client()?;
        for (index, bytes) in &all_acked {
            let got = http
                .get(format!("{url}{ENTRIES_PATH}/{index}"))
                .send()
                .and_then(|r| r.json::<EntryInfo>());
            if !matches!(got, Ok(ref info) if info.entry == *bytes) {
                eprintln!("end: acknowledged entry {index} lost");
                report.losses += 1;
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
