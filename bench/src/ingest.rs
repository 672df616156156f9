//! `sigil-bench ingest` (issue #14, item 2): releases submitted to the
//! real release `sigil-log serve` on RocksDB, every admission check on and
//! one synced write per round, from this process (a client apart from the
//! server). In one run:
//!
//! 1. baselines: ECDSA P-256 verifications per second with aws-lc-rs on
//!    every core, and the log's admission check (`check_release` with a
//!    warm chain cache, as the server runs it) on every core;
//! 2. ingest: a closed loop of `clients` connections submitting pre-signed
//!    releases as fast as the log answers `201` (with the proof);
//! 3. submit → proof: an open loop at `rate` per second, each latency from
//!    sending to the last byte of the `201` carrying the `.tlog-proof`;
//! 4. a profile of phase 2: the CPU seconds of the server's threads and of
//!    this client, per entry (`cpu.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use sigil_core::entry::{EntryBody, ReleaseEntry};
use sigil_core::log_api::{ENTRIES_PATH, encode_submission};
use sigil_core::statement::{self, Envelope, Release};
use sigil_e2e::test_ca::{TestCa, now_ms};
use sigil_verifier::{ChainCache, RevocationSet, TrustedRoots};

use crate::cpu::{self, Spent};
use crate::http::{Latencies, Load};
use crate::server;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How the run is shaped.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Releases in the closed loop.
    pub entries: usize,
    /// Its concurrent connections.
    pub clients: usize,
    /// Offered submissions per second in the open loop.
    pub rate: u64,
    /// Its duration.
    pub seconds: u64,
    /// Client worker threads.
    pub client_threads: usize,
    /// Extra arguments for `sigil-log serve`.
    pub server_args: Vec<String>,
}

/// What the run measured.
#[derive(Debug)]
pub struct Report {
    /// P-256 verifications/s, every core (baseline).
    pub p256_per_s: f64,
    /// `check_release` calls/s with a warm chain cache, every core.
    pub admission_per_s: f64,
    /// Releases accepted per second in the closed loop.
    pub ingest_per_s: f64,
    /// Submissions of the closed loop not answered `201`.
    pub ingest_failed: u64,
    /// The open loop's latencies.
    pub latency: Latencies,
    /// The offered rate.
    pub rate: u64,
    /// The server's CPU during the closed loop.
    pub server_cpu: Spent,
    /// This client's CPU during the closed loop.
    pub client_cpu: Spent,
    /// Releases accepted in the closed loop.
    pub accepted: u64,
    /// Server RSS at the end, KiB.
    pub rss_kib: u64,
}

impl Report {
    /// One JSON line.
    pub fn json(&self) -> serde_json::Value {
        let per_entry_us = |s: f64| (s / self.accepted.max(1) as f64 * 1e7).round() / 10.0;
        let cores = cores() as f64;
        serde_json::json!({
            "baseline_p256_verify_per_s": self.p256_per_s.round(),
            "baseline_admission_per_s": self.admission_per_s.round(),
            "ingest_per_s": self.ingest_per_s.round(),
            "ingest_failed": self.ingest_failed,
            "ratio_to_p256": (self.ingest_per_s / self.p256_per_s * 1000.0).round() / 1000.0,
            "ratio_to_admission": (self.ingest_per_s / self.admission_per_s * 1000.0).round() / 1000.0,
            "server_cpu_us_per_entry": per_entry_us(self.server_cpu.seconds),
            "client_cpu_us_per_entry": per_entry_us(self.client_cpu.seconds),
            "p256_verify_us_per_core": (cores / self.p256_per_s * 1e7).round() / 10.0,
            "server_alone_per_s": (cores * self.accepted as f64 / self.server_cpu.seconds.max(1e-9)).round(),
            "server_cpu": self.server_cpu.json(),
            "client_cpu": self.client_cpu.json(),
            "latency_rate_per_s": self.rate,
            "latency_p50_ms": (self.latency.ms(0.5) * 10.0).round() / 10.0,
            "latency_p90_ms": (self.latency.ms(0.9) * 10.0).round() / 10.0,
            "latency_p99_ms": (self.latency.ms(0.99) * 10.0).round() / 10.0,
            "latency_max_ms": (self.latency.ms(1.0) * 10.0).round() / 10.0,
            "latency_failed": self.latency.failed,
            "server_rss_mib": self.rss_kib / 1024,
        })
    }
}

/// The machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `f` on every core for `dur`; calls per second in total.
pub fn per_second_on_all_cores(dur: Duration, f: impl Fn() -> bool + Sync) -> Result<f64, String> {
    let count = AtomicUsize::new(0);
    let bad = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores() {
            s.spawn(|| {
                while start.elapsed() < dur {
                    if f() {
                        count.fetch_add(1, Ordering::Relaxed);
                    } else {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    if bad.load(Ordering::Relaxed) > 0 {
        return Err("a baseline check failed: the benchmark's own data is wrong".into());
    }
    Ok(count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// The two baselines of the admission path for one signed release:
/// (P-256 verifications/s, `check_release`/s with a warm chain cache),
/// both on every core.
pub fn baselines(
    ca: &TestCa,
    key: &p256::ecdsa::SigningKey,
    chain: &[Vec<u8>],
) -> Result<(f64, f64), String> {
    let env = Envelope::sign_release(&Release::new("bench", "0.0.0", [1; 32]).map_err(err)?, key)
        .map_err(err)?;
    let pae = statement::pae(&env.payload_type, &env.payload);
    let spki = p256::pkcs8::EncodePublicKey::to_public_key_der(key.verifying_key()).map_err(err)?;
    let point = statement::p256_public_key_point(spki.as_bytes()).map_err(err)?;
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point);
    let sig = env.signatures.first().ok_or("no signature")?.sig.clone();
    let p256 =
        per_second_on_all_cores(Duration::from_secs(2), || public.verify(&pae, &sig).is_ok())?;
    let roots = TrustedRoots::from_pem(ca.root_pem().as_bytes()).map_err(err)?;
    let entry = ReleaseEntry::from_envelope(&env, vec![chain.to_vec()]).map_err(err)?;
    let chains = ChainCache::new();
    let admission = per_second_on_all_cores(Duration::from_secs(2), || {
        sigil_verifier::check_release(
            &entry,
            now_ms(),
            0,
            &roots,
            RevocationSet::empty(),
            Some(&chains),
        )
        .is_ok()
    })?;
    Ok((p256, admission))
}

/// `count` submissions of distinct releases of `bench`, numbered from
/// `from`, signed with `key`.
pub fn presign(
    key: &p256::ecdsa::SigningKey,
    chain: &[Vec<u8>],
    from: u64,
    count: u64,
) -> Result<Vec<Vec<u8>>, String> {
    (from..from + count)
        .map(|n| {
            let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(n.to_le_bytes()).into();
            let release = Release::new("bench", &format!("3.0.{n}"), sha).map_err(err)?;
            let env = Envelope::sign_release(&release, key).map_err(err)?;
            let entry = ReleaseEntry::from_envelope(&env, vec![chain.to_vec()]).map_err(err)?;
            Ok(encode_submission(&EntryBody::Release(entry)))
        })
        .collect()
}

/// The whole run.
pub fn run(s: &Settings) -> Result<Report, String> {
    let dir = tempfile::tempdir().map_err(err)?;
    let ca = TestCa::new("Ingest").map_err(err)?;
    let (key, chain) = ca.signer("bench").map_err(err)?;
    let (p256_per_s, admission_per_s) = baselines(&ca, &key, &chain)?;
    eprintln!(
        "baselines: P-256 verify {p256_per_s:.0}/s, admission (check_release) {admission_per_s:.0}/s"
    );

    let latency_count = s.rate * s.seconds;
    let started = Instant::now();
    let ingest_bodies = Arc::new(presign(&key, &chain, 0, s.entries as u64)?);
    let latency_bodies = Arc::new(presign(&key, &chain, s.entries as u64, latency_count)?);
    eprintln!(
        "pre-signed {} releases in {:.1} s",
        s.entries as u64 + latency_count,
        started.elapsed().as_secs_f64()
    );

    server::write_keys(dir.path(), &ca, "bench.sigil.example/log")?;
    let server = server::serve(dir.path(), Some(s.clients), &s.server_args)?;
    let url = format!("{}{ENTRIES_PATH}", server.url);
    let load = Load::new(s.clients, s.client_threads)?;
    let pid = server.pid().to_string();

    let (server_before, client_before) = (cpu::snapshot(&pid), cpu::snapshot("self"));
    let ingest = load.post_all(&url, ingest_bodies, s.clients);
    let server_cpu = Spent::between(&server_before, &cpu::snapshot(&pid));
    let client_cpu = Spent::between(&client_before, &cpu::snapshot("self"));
    eprintln!(
        "ingest: {} in {:.1} s = {:.0}/s ({} failed)",
        ingest.ok,
        ingest.seconds,
        ingest.rate(),
        ingest.failed
    );

    let latency = load.post_at_rate(&url, latency_bodies, s.rate);
    let rss_kib = crate::memory::proc_kib(server.pid(), "VmRSS");
    if !server.terminate() {
        return Err("the server did not stop cleanly".into());
    }
    Ok(Report {
        p256_per_s,
        admission_per_s,
        ingest_per_s: ingest.rate(),
        ingest_failed: ingest.failed,
        latency,
        rate: s.rate,
        server_cpu,
        client_cpu,
        accepted: ingest.ok,
        rss_kib,
    })
}
