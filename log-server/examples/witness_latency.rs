//! Submission → proof latency of `sigil-log` with witnesses (`docs/log.md`,
//! "Witnessing"): does a witness that sleeps slow the log down?
//!
//! Starts, on 127.0.0.1, a real `sigil-witness` (release binary), a stub
//! witness that reads each `add-checkpoint` request and sleeps 10 s before
//! answering, and for each configuration a fresh `sigil-log` (release
//! binary, default `--witness-timeout-ms 3000`):
//!
//! - (a) the real witness only, `--witness-quorum 1`;
//! - (b) the real witness and the sleeper, `--witness-quorum 1`;
//! - (c) the sleeper only, `--witness-quorum 1`: the log waits for it once,
//!   fails open after the timeout, then no more (the fail-open cost, once).
//!
//! Each configuration gets the same pre-signed releases at a fixed offered
//! rate (open loop) and reports p50/p90/p99/max from sending the request to
//! receiving the proof, how many proofs carry the real witness's
//! cosignature, and the start time of the log (spawn → listening line; it
//! cosigns the stored checkpoint first, an empty log has none). Performance
//! is measured here, never asserted. Every process is killed at the end.
//!
//! ```sh
//! cargo build --release -p sigil-log -p sigil-witness --bins --examples
//! cargo run --release -p sigil-log --example witness_latency -- [--rate 200] [--seconds 10]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench_pki;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigil_core::entry::{EntryBody, ReleaseEntry};
use sigil_core::log_api::{ENTRIES_PATH, Submitted, encode_submission};
use sigil_core::statement::{Envelope, Release};

/// How long the sleeping witness sleeps before it answers.
const SLEEP: Duration = Duration::from_secs(10);

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns a server that prints `listening on URL`; returns it, its URL and
/// how long it took to get there.
fn spawn(mut c: Command) -> (Proc, String, Duration) {
    let started = Instant::now();
    let mut child = c
        .env("SIGIL_LOG", "warn")
        .stdout(Stdio::null())
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
    let took = started.elapsed();
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), url, took)
}

fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A witness that reads each request, sleeps [`SLEEP`], then answers 503.
fn sleeping_witness() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut writer = conn;
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                std::thread::sleep(SLEEP);
                let _ = writer.write_all(b"HTTP/1.1 503 Sleepy\r\ncontent-length: 0\r\n\r\n");
            });
        }
    });
    url
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Args {
    rate: u64,
    seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        rate: 200,
        seconds: 10,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair
            .get(1)
            .and_then(|v| v.parse::<u64>().ok())
            .expect("flag needs a number");
        match pair[0].as_str() {
            "--rate" => a.rate = value,
            "--seconds" => a.seconds = value,
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Offers `bodies` to `url` at `rate` per second; latency from send to
/// answer of each, and how many answers carry `witness`'s cosignature.
fn offer(
    url: &str,
    bodies: &Arc<Vec<Vec<u8>>>,
    rate: u64,
    witness: &str,
) -> (Vec<Duration>, usize, usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let marker = format!("\u{2014} {witness} ");
    let results = rt.block_on(async {
        let t0 = tokio::time::Instant::now();
        let mut tasks = Vec::with_capacity(bodies.len());
        for k in 0..bodies.len() {
            tokio::time::sleep_until(t0 + interval * k as u32).await;
            let (client, bodies, url, marker) = (
                client.clone(),
                bodies.clone(),
                url.to_string(),
                marker.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let r = client
                    .post(format!("{url}{ENTRIES_PATH}"))
                    .header("content-type", "application/json")
                    .body(bodies[k].clone())
                    .send()
                    .await;
                let answer = match r {
                    Ok(r) if r.status().as_u16() == 201 => r.json::<Submitted>().await.ok(),
                    _ => None,
                };
                let took = sent.elapsed();
                let cosigned = answer.as_ref().is_some_and(|s| s.proof.contains(&marker));
                (answer.is_some(), cosigned, took)
            }));
        }
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let failed = results.iter().filter(|(ok, _, _)| !ok).count();
    let cosigned = results.iter().filter(|(_, c, _)| *c).count();
    let mut latencies: Vec<Duration> = results.into_iter().map(|(_, _, d)| d).collect();
    latencies.sort();
    (latencies, failed, cosigned)
}

fn main() {
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let bin = |name: &str| -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        let path = exe.parent().unwrap().parent().unwrap().join(name);
        assert!(
            path.exists(),
            "build it first: cargo build --release -p sigil-log -p sigil-witness --bins"
        );
        path
    };
    let (log_bin, witness_bin) = (bin("sigil-log"), bin("sigil-witness"));

    // A throwaway CA and one maintainer key.
    let pki = bench_pki::bench_pki(dir.path(), "Bench", "bench");
    let (root_pem, key, chain) = (pki.root_pem, pki.key, pki.chain);

    // The same pre-signed releases for each (fresh) log.
    let count = (a.rate * a.seconds) as usize;
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..count)
            .map(|i| {
                let sha: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(i.to_be_bytes()).into();
                let release = Release::new("bench", &format!("1.0.{i}"), sha).unwrap();
                let env = Envelope::sign_release(&release, &key).unwrap();
                let entry = ReleaseEntry::from_envelope(&env, vec![chain.clone()]).unwrap();
                encode_submission(&EntryBody::Release(entry))
            })
            .collect(),
    );

    let sleeper = sleeping_witness();
    run(Command::new(&witness_bin)
        .args(["keygen", "--name", "fast.witness.bench", "--out"])
        .arg(dir.path().join("fast")));
    let fast_vkey = std::fs::read_to_string(dir.path().join("fast/witness.pub"))
        .unwrap()
        .trim()
        .to_string();
    // The sleeper never cosigns; any witness key will do for its flag.
    run(Command::new(&witness_bin)
        .args(["keygen", "--name", "sleepy.witness.bench", "--out"])
        .arg(dir.path().join("sleepy")));
    let sleepy_vkey = std::fs::read_to_string(dir.path().join("sleepy/witness.pub"))
        .unwrap()
        .trim()
        .to_string();

    let configs: [(&str, bool, bool); 3] = [
        ("(a) fast witness only, quorum 1", true, false),
        ("(b) fast + 10 s sleeper, quorum 1", true, true),
        ("(c) 10 s sleeper only, quorum 1", false, true),
    ];
    println!(
        "{count} releases per configuration at {}/s for {} s; witness timeout 3000 ms (default)",
        a.rate, a.seconds
    );
    let mut results = Vec::new();
    for (i, (name, with_fast, with_sleeper)) in configs.iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        // A log key of its own, so the witness sees one history per log.
        run(Command::new(&log_bin)
            .args([
                "keygen",
                "--origin",
                &format!("case{i}.bench.sigil.test/log"),
            ])
            .arg("--out")
            .arg(case.join("logkey")));
        let log_vkey = std::fs::read_to_string(case.join("logkey/log.pub")).unwrap();
        let logs = case.join("witness-logs");
        std::fs::write(&logs, format!("logs/v0\nvkey {}\n", log_vkey.trim())).unwrap();
        let (_fast, fast_url, _) = spawn({
            let mut c = Command::new(&witness_bin);
            c.arg("serve")
                .arg("--key")
                .arg(dir.path().join("fast/witness.key"))
                .arg("--logs")
                .arg(&logs)
                .arg("--data-dir")
                .arg(case.join("witness-data"))
                .args(["--listen", "127.0.0.1:0"]);
            c
        });
        let mut c = Command::new(&log_bin);
        c.arg("serve")
            .arg("--data-dir")
            .arg(case.join("data"))
            .arg("--key")
            .arg(case.join("logkey/log.key"))
            .arg("--ca-root")
            .arg(&root_pem)
            .args(["--listen", "127.0.0.1:0", "--witness-quorum", "1"])
            // The measured client submits from 127.0.0.1 as fast as it can.
            .args(["--rate-limit", "0"]);
        if *with_fast {
            c.arg("--witness").arg(format!("{fast_url}={fast_vkey}"));
        }
        if *with_sleeper {
            c.arg("--witness").arg(format!("{sleeper}={sleepy_vkey}"));
        }
        let (log, url, start) = spawn(c);
        let (latencies, failed, cosigned) = offer(&url, &bodies, a.rate, "fast.witness.bench");
        drop(log);
        report(name, &latencies, failed, cosigned, start);
        results.push(latencies);
    }
    let (fast, slow) = (&results[0], &results[1]);
    println!(
        "ratio (b)/(a), same run: p50 {:.2}, p99 {:.2}",
        ms(percentile(slow, 0.5)) / ms(percentile(fast, 0.5)),
        ms(percentile(slow, 0.99)) / ms(percentile(fast, 0.99)),
    );
}

fn report(name: &str, lat: &[Duration], failed: usize, cosigned: usize, start: Duration) {
    println!(
        "{name}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {failed} failed; \
         {cosigned}/{} proofs cosigned by the fast witness; log start {:.0} ms",
        ms(percentile(lat, 0.5)),
        ms(percentile(lat, 0.9)),
        ms(percentile(lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        lat.len(),
        ms(start),
    );
}
