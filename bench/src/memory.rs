//! `sigil-bench memory`: the log server's resident memory as the log grows
//! (issue #14, item 1). One log is grown by raw appends (`append.rs`) to
//! each size in turn; at each, the real `sigil-log serve` is started on it
//! and given the same work — readers asking for inclusion proofs and
//! entries at random indexes, then submissions of signed releases at a
//! fixed rate — and its RSS (and peak RSS) is read from `/proc` after each
//! phase. The server is stopped before the log grows further.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sigil_core::log_api::ENTRIES_PATH;
use sigil_e2e::test_ca::TestCa;

use crate::append::{Appender, release_signers};
use crate::server;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// What one size gave.
#[derive(Debug)]
pub struct Point {
    /// Entries in the log.
    pub size: u64,
    /// RSS right after start, KiB.
    pub rss_start: u64,
    /// RSS after the readers, KiB.
    pub rss_reads: u64,
    /// RSS after the writers, KiB.
    pub rss_writes: u64,
    /// Peak RSS (VmHWM), KiB.
    pub rss_peak: u64,
    /// Proof and entry reads served per second.
    pub reads_per_s: f64,
    /// Submissions accepted.
    pub accepted: u64,
    /// RocksDB's own accounting after the writes, MiB by part (the
    /// server's `sigil_log_storage_memory_bytes`).
    pub storage_mib: serde_json::Map<String, serde_json::Value>,
}

impl Point {
    /// One JSON line.
    pub fn json(&self) -> String {
        serde_json::json!({
            "size": self.size,
            "rss_start_mib": self.rss_start / 1024,
            "rss_after_reads_mib": self.rss_reads / 1024,
            "rss_after_writes_mib": self.rss_writes / 1024,
            "rss_peak_mib": self.rss_peak / 1024,
            "reads_per_s": self.reads_per_s.round(),
            "accepted": self.accepted,
            "storage_after_writes_mib": self.storage_mib,
        })
        .to_string()
    }
}

/// `/proc/<pid>/status` field `field` (`VmRSS`, `VmHWM`), KiB.
pub fn proc_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Grows one log through `sizes` and measures the server at each.
pub fn run(
    sizes: &[u64],
    seconds: u64,
    rate: u64,
    extra_server_args: &[String],
    mut report: impl FnMut(&Point),
) -> Result<Vec<Point>, String> {
    let dir = tempfile::tempdir().map_err(err)?;
    let ca = TestCa::new("Memory").map_err(err)?;
    let (key, chain) = ca.signer("bench").map_err(err)?;
    let signer = server::write_keys(dir.path(), &ca, "memory.sigil.example/log")?;
    let data = dir.path().join("data");
    let mut appender = Appender::open(&data, signer, release_signers(&key, chain.clone())?)?;
    let mut points = Vec::new();
    let mut submitted = 0u64;
    for &size in sizes {
        if size > appender.size() {
            let started = Instant::now();
            let (_, _) = appender.append(size - appender.size(), 4096)?;
            eprintln!(
                "grew the log to {size} entries in {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        // The store is closed while the server has it.
        let resume = appender.close();
        let point = measure(
            dir.path(),
            size,
            seconds,
            rate,
            extra_server_args,
            &key,
            &chain,
            &mut submitted,
        )?;
        report(&point);
        points.push(point);
        appender = resume.reopen(&data)?;
    }
    Ok(points)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site, each a measurement setting"
)]
fn measure(
    dir: &Path,
    size: u64,
    seconds: u64,
    rate: u64,
    extra_server_args: &[String],
    key: &p256::ecdsa::SigningKey,
    chain: &[Vec<u8>],
    submitted: &mut u64,
) -> Result<Point, String> {
    let server = server::serve(dir, None, extra_server_args)?;
    let pid = server.pid();
    let rss_start = proc_kib(pid, "VmRSS");
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(err)?;

    // Readers: inclusion proofs and entries at random indexes.
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..16u64 {
            let (http, stop, reads, url) = (&http, &stop, &reads, &server.url);
            s.spawn(move || {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (t + 1);
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let index = x % size.max(1);
                    let path = if x & 1 == 0 {
                        format!("/api/v1/proofs/inclusion?index={index}&size={size}")
                    } else {
                        format!("{ENTRIES_PATH}/{index}")
                    };
                    if http
                        .get(format!("{url}{path}"))
                        .send()
                        .is_ok_and(|r| r.status().is_success())
                    {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    let reads_per_s = reads.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let rss_reads = proc_kib(pid, "VmRSS");

    // Writers: signed releases at `rate` per second.
    let total = rate * seconds;
    let bodies = crate::ingest::presign(key, chain, *submitted, total)?;
    *submitted += total;
    let accepted = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..64 {
            let (http, accepted, next, bodies, url) =
                (&http, &accepted, &next, &bodies, &server.url);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i as usize) else {
                        return;
                    };
                    // Open loop: submission i leaves at i / rate seconds.
                    let due = Duration::from_secs_f64(i as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                    let ok = http
                        .post(format!("{url}{ENTRIES_PATH}"))
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .is_ok_and(|r| r.status().as_u16() == 201);
                    if ok {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let rss_writes = proc_kib(pid, "VmRSS");
    let rss_peak = proc_kib(pid, "VmHWM");
    let storage_mib = storage_memory(&http, &server.url);
    if !server.terminate() {
        return Err("the server did not stop cleanly".into());
    }
    Ok(Point {
        size,
        rss_start,
        rss_reads,
        rss_writes,
        rss_peak,
        reads_per_s,
        accepted: accepted.load(Ordering::Relaxed),
        storage_mib,
    })
}

/// The server's `sigil_log_storage_memory_bytes{part=".."}` gauges, in
/// MiB with one decimal; empty if `/metrics` does not answer.
fn storage_memory(
    http: &reqwest::blocking::Client,
    url: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("sigil_log_storage_memory_bytes{part=\"")?;
            let (part, value) = rest.split_once("\"} ")?;
            let bytes: f64 = value.trim().parse().ok()?;
            let mib = (bytes / 1_048_576.0 * 10.0).round() / 10.0;
            Some((part.to_owned(), serde_json::json!(mib)))
        })
        .collect()
}
