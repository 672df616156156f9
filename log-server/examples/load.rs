//! Load generator for `sigil-log`: starts the real release binary on
//! 127.0.0.1 with a fresh data directory and a throwaway CA, pre-signs
//! releases, then measures
//!
//! 1. the baseline: ECDSA P-256 verifications/s with aws-lc-rs on every core
//!    and `check_release` (full admission check) calls/s on every core;
//! 2. ingest: releases/s with full admission, as fast as N concurrent
//!    clients can submit (closed loop);
//! 3. latency: submission → proof at a fixed offered rate (open loop);
//! 4. the server's resident memory and disk use at the end.
//!
//! Every request goes to 127.0.0.1, is bounded in count and time, and the
//! server is killed when the run ends.
//!
//! ```sh
//! cargo build --release -p sigil-log --bins --examples
//! cargo run --release -p sigil-log --example load -- [--entries 40000] [--clients 64] [--rate 1000] [--seconds 10]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench_pki;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use sigil_core::entry::{Entry, EntryBody, ReleaseEntry};
use sigil_core::log_api::{ENTRIES_PATH, encode_submission};
use sigil_core::statement::{self, Envelope, Release};
use sigil_serve::unix_ms;
use sigil_verifier::{RevocationSet, TrustedRoots};

struct Args {
    entries: usize,
    clients: usize,
    rate: u64,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        entries: 40_000,
        clients: 64,
        rate: 1_000,
        seconds: 10,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair
            .get(1)
            .and_then(|v| v.parse::<u64>().ok())
            .expect("flag needs a number");
        match pair[0].as_str() {
            "--entries" => a.entries = value as usize,
            "--clients" => a.clients = value as usize,
            "--rate" => a.rate = value,
            "--seconds" => a.seconds = value,
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Runs `f` on every core for `dur` and returns calls per second in total.
fn per_second_on_all_cores(dur: Duration, f: impl Fn() + Sync) -> f64 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let count = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                while start.elapsed() < dur {
                    f();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| {
                    let m = e.metadata().unwrap();
                    if m.is_dir() {
                        dir_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let pki = bench_pki::bench_pki(dir.path(), "Load", "load");
    let (root_pem, key, chain) = (pki.root_pem, pki.key, pki.chain);

    // Baselines, measured in this run.
    let env =
        Envelope::sign_release(&Release::new("load", "0.0.0", [1; 32]).unwrap(), &key).unwrap();
    let pae = statement::pae(&env.payload_type, &env.payload);
    let point = statement::p256_public_key_point(&pki.spki).unwrap();
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point);
    let sig = env.signatures[0].sig.clone();
    let verify_rate = per_second_on_all_cores(Duration::from_secs(2), || {
        public.verify(&pae, &sig).unwrap();
    });
    let roots = TrustedRoots::from_der(vec![pki.root_der]).unwrap();
    let entry = ReleaseEntry::from_envelope(&env, vec![chain.clone()]).unwrap();
    let check_rate = per_second_on_all_cores(Duration::from_secs(2), || {
        sigil_verifier::check_release(&entry, unix_ms(), 0, &roots, RevocationSet::empty(), None)
            .unwrap();
    });
    let entry_size = Entry {
        integrated_at: unix_ms(),
        body: EntryBody::Release(entry.clone()),
    }
    .encode()
    .unwrap()
    .len();
    println!("baseline: P-256 verify (aws-lc-rs, all cores): {verify_rate:.0}/s");
    println!("baseline: check_release (full admission, all cores): {check_rate:.0}/s");

    // Pre-sign every submission so the timed phases measure the log.
    let total = a.entries + (a.rate * a.seconds) as usize;
    let started = Instant::now();
    let bodies: Vec<Vec<u8>> = (0..total)
        .map(|i| {
            let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(i.to_be_bytes()).into();
            let env = Envelope::sign_release(
                &Release::new("load", &format!("1.0.{i}"), sha).unwrap(),
                &key,
            )
            .unwrap();
            let entry = ReleaseEntry::from_envelope(&env, vec![chain.clone()]).unwrap();
            encode_submission(&EntryBody::Release(entry))
        })
        .collect();
    println!(
        "pre-signed {total} releases in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The server: the release binary next to this example.
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("sigil-log");
    assert!(
        bin.exists(),
        "build it first: cargo build --release -p sigil-log --bins"
    );
    let keys = dir.path().join("keys");
    let st = Command::new(&bin)
        .args(["keygen", "--origin", "load.sigil.test/log", "--out"])
        .arg(&keys)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let data = dir.path().join("data");
    let mut child = Command::new(&bin)
        .arg("serve")
        .arg("--data-dir")
        .arg(&data)
        .arg("--key")
        .arg(keys.join("log.key"))
        .arg("--ca-root")
        .arg(&root_pem)
        .args(["--listen", "127.0.0.1:0"])
        // Every client of the load is on 127.0.0.1: one rate-limit bucket.
        .args(["--rate-limit", "0"])
        // Every client keeps its connection open: the cap must not hold
        // any of them back (the default, 512, is below --clients 1500).
        .arg("--max-connections")
        .arg((a.clients + 64).to_string())
        .env("SIGIL_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(u) = line.strip_prefix("listening on ") {
            break u.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let pid = child.id();
    let rss_start = rss_kib(pid);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.clients)
        .build()
        .unwrap();

    // Phase 1: closed loop, as fast as the log admits.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let (ok, errors) = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..a.clients {
            let (client, bodies, next, url) =
                (client.clone(), bodies.clone(), next.clone(), url.clone());
            let n = a.entries;
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut errors) = (0usize, 0usize);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let r = client
                        .post(format!("{url}{ENTRIES_PATH}"))
                        .header("content-type", "application/json")
                        .body(bodies[i].clone())
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == 201 => ok += 1,
                        _ => errors += 1,
                    }
                }
                (ok, errors)
            }));
        }
        let mut sum = (0, 0);
        for t in tasks {
            let (o, e) = t.await.unwrap();
            sum = (sum.0 + o, sum.1 + e);
        }
        sum
    });
    let secs = started.elapsed().as_secs_f64();
    let ingest = ok as f64 / secs;
    println!(
        "ingest: {ok} releases in {secs:.2} s = {ingest:.0}/s ({errors} errors) with {} clients; \
         {:.2} x check_release limit, {:.2} x P-256 verify limit",
        a.clients,
        ingest / check_rate,
        ingest / verify_rate
    );

    // Phase 2: open loop at a fixed rate; latency from send to answer.
    let start_index = a.entries;
    let count = (a.rate * a.seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / a.rate as f64);
    let latencies = rt.block_on(async {
        let mut tasks = Vec::with_capacity(count);
        let t0 = tokio::time::Instant::now();
        for k in 0..count {
            tokio::time::sleep_until(t0 + interval * k as u32).await;
            let (client, bodies, url) = (client.clone(), bodies.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let r = client
                    .post(format!("{url}{ENTRIES_PATH}"))
                    .header("content-type", "application/json")
                    .body(bodies[start_index + k].clone())
                    .send()
                    .await;
                let ok = matches!(&r, Ok(r) if r.status().as_u16() == 201);
                (ok, sent.elapsed())
            }));
        }
        let mut out = Vec::with_capacity(count);
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let failed = latencies.iter().filter(|(ok, _)| !ok).count();
    let mut lat: Vec<Duration> = latencies.into_iter().map(|(_, d)| d).collect();
    lat.sort();
    println!(
        "latency at {}/s for {} s: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({failed} failed)",
        a.rate,
        a.seconds,
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.9).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );

    let rss_end = rss_kib(pid);
    let entries = (ok + count - failed) as f64;
    let disk = dir_size(&data);
    println!(
        "server RSS: {} MiB at start, {} MiB after {} entries; data dir {:.1} MiB ({:.0} B/entry, of which {} B are the entry itself)",
        rss_start / 1024,
        rss_end / 1024,
        entries,
        disk as f64 / 1048576.0,
        disk as f64 / entries,
        entry_size,
    );
    let _ = child.kill();
    let _ = child.wait();
}
