//! Benchmark of `sigil verify-lock` over N crates (BENCHMARKS.md; issue
//! 14 item 3 measures 300 and 3,000): the real `sigil-ca` and `sigil-log`
//! on RocksDB, ceil(N / 256) maintainers (a certificate's scope holds at
//! most 256 crates) who sign N small real `.crate`s, a cargo-style cache
//! and Cargo.lock, then the `sigil` binary timed end to end with a warm
//! checkpoint cache, offline (`--proofs DIR`) and online (`--log`: one
//! `POST /api/v1/lookup` per 1,000 crates), against a baseline measured in
//! the same run: reading and SHA-256-hashing the same N files; then `sigil
//! monitor --once` catching up on that log from scratch. Each time is the
//! median of RUNS runs.
//!
//! ```text
//! cargo build --release --workspace --bins --examples
//! $CARGO_TARGET_DIR/release/examples/verify_lock_bench [CRATES=300] [RUNS=7]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sigil_cli::client::{Client, TrustRootRequest};
use sigil_cli::maintainer::{self, SignRequest, Signed};
use sigil_cli::quickstart;
use sigil_client::ClientOptions;
use sigil_core::certificate::MAX_SCOPE_CRATES;
use sigil_core::log_api::MAX_LOOKUP_RELEASES;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One `[[package]]` of the Cargo.lock.
fn lock_entry(name: &str, bytes: &[u8]) -> String {
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    format!(
        "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sha}\"\n"
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(7).max(1);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // No rate limit: the maintainers sign from one address.
    let (servers, vkey) =
        quickstart::local_pki_with(dir, &mut |_| {}, &["--rate-limit", "0"]).unwrap();

    let names: Vec<String> = (0..n).map(|i| format!("bench-crate-{i:04}")).collect();
    let scopes: Vec<&[String]> = names.chunks(MAX_SCOPE_CRATES).collect();
    let home = dir.join("cargo-home");
    let cache = home.join("registry/cache/index.crates.io-1949cf8c6b5b557f");
    let proofs = dir.join("proofs");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::create_dir_all(&proofs).unwrap();
    let trust = sigil_cli::client::trust_root(&TrustRootRequest {
        ca_roots: &[dir.join("ca/root.pem")],
        log_key: &vkey,
        origin: None,
        witnesses: &[],
        quorum: 0,
        log_url: None,
    })
    .unwrap();
    let trust_path = dir.join("trust.json");
    std::fs::write(&trust_path, trust).unwrap();
    // Each maintainer signs its crates in a thread of its own, so that
    // the log's rounds carry several submissions.
    let signing = Instant::now();
    let lock_parts: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = scopes
            .iter()
            .enumerate()
            .map(|(m, crates)| {
                let urls = (servers.log_url.as_str(), servers.ca_url.as_str());
                let (trust_path, cache, proofs) = (&trust_path, &cache, &proofs);
                scope.spawn(move || sign_all(dir, m, crates, urls, trust_path, cache, proofs))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let lock = format!("version = 4\n{}", lock_parts.concat());
    eprintln!(
        "{} maintainers signed and logged {n} crates in {:?}",
        scopes.len(),
        signing.elapsed()
    );
    let lockfile = dir.join("Cargo.lock");
    std::fs::write(&lockfile, lock).unwrap();

    let sigil = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("sigil");
    let run = |extra: &[&str]| {
        let start = Instant::now();
        let out = Command::new(&sigil)
            .args(["verify-lock", "--json", "--trust-root"])
            .arg(&trust_path)
            .arg("--cargo-home")
            .arg(&home)
            .args(extra)
            .arg(&lockfile)
            .env("SIGIL_HOME", dir.join("sigil-home"))
            .output()
            .unwrap();
        let took = start.elapsed();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["verified"].as_u64(), Some(n as u64), "{v}");
        took
    };
    let proofs_arg = proofs.to_str().unwrap().to_string();
    let offline = ["--proofs", proofs_arg.as_str()];
    let online = ["--log", servers.log_url.as_str()];
    run(&online); // warm the checkpoint cache and the page cache
    let offline_t = median((0..runs).map(|_| run(&offline)).collect());
    let online_t = median((0..runs).map(|_| run(&online)).collect());
    let baseline = median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                for name in &names {
                    let bytes = std::fs::read(cache.join(format!("{name}-1.0.0.crate"))).unwrap();
                    std::hint::black_box(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                }
                start.elapsed()
            })
            .collect(),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("verify-lock over {n} crates, median of {runs} runs, warm checkpoint cache:");
    println!(
        "  offline (--proofs DIR): {:8.1} ms  ({:.3} ms/crate)",
        ms(offline_t),
        ms(offline_t) / n as f64
    );
    println!(
        "  online  (--log URL):    {:8.1} ms  ({:.3} ms/crate; {} lookup request(s))",
        ms(online_t),
        ms(online_t) / n as f64,
        n.div_ceil(MAX_LOOKUP_RELEASES)
    );
    println!(
        "  baseline: read + SHA-256 of the {n} .crate files: {:.2} ms",
        ms(baseline)
    );
    println!(
        "  ratio offline/baseline: {:.0}x; online/offline: {:.2}x",
        ms(offline_t) / ms(baseline),
        ms(online_t) / ms(offline_t)
    );
    // The monitor over the same log, from scratch each run: every tile
    // fetched over HTTP and recomputed, every entry re-checked.
    let monitor_runs: Vec<Duration> = (0..runs)
        .map(|i| {
            let start = Instant::now();
            let out = Command::new(&sigil)
                .args([
                    "monitor",
                    "--once",
                    "--log",
                    &servers.log_url,
                    "--trust-root",
                ])
                .arg(&trust_path)
                .arg("--state")
                .arg(dir.join(format!("monitor-{i}")))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            start.elapsed()
        })
        .collect();
    let monitor_t = median(monitor_runs);
    let entries = n as f64 + scopes.len() as f64;
    println!(
        "  monitor --once from scratch over the {} entries: {:8.1} ms  ({:.0} entries/s)",
        entries,
        ms(monitor_t),
        entries / monitor_t.as_secs_f64()
    );
    drop(servers);
}

/// Maintainer `m` enrolls for `crates`, packages each one, signs it and
/// logs it, keeping its `.crate` in the cargo cache and its proof in
/// `proofs`. Returns the Cargo.lock entries of its crates, in order.
fn sign_all(
    dir: &Path,
    m: usize,
    crates: &[String],
    (log_url, ca_url): (&str, &str),
    trust_path: &Path,
    cache: &Path,
    proofs: &Path,
) -> String {
    let submit = maintainer::Submit {
        log: log_url,
        checker: Client::load(
            trust_path,
            Some(&dir.join(format!("maintainer-home-{m}"))),
            Some(log_url),
            &ClientOptions::default(),
        )
        .unwrap(),
    };
    let scope: Vec<&str> = crates.iter().map(String::as_str).collect();
    let token = quickstart::invite(dir, ca_url, &format!("m{m}@example.org"), &scope).unwrap();
    let key = maintainer::keygen(&dir.join(format!("m{m}.key")), None).unwrap();
    let cert = dir.join(format!("m{m}.pem"));
    maintainer::enroll(ca_url, &token, &key, &cert, &ClientOptions::default(), None).unwrap();
    let chain = maintainer::read_chain(&cert).unwrap();
    let mut lock = String::new();
    for name in crates {
        let src = dir.join("src").join(name);
        std::fs::create_dir_all(src.join("src")).unwrap();
        std::fs::write(
            src.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        // About 8 KB of source, like a small crate.
        let body: String = (0..200)
            .map(|i| format!("pub fn f{i}() -> u32 {{ {i} }}\n"))
            .collect();
        std::fs::write(src.join("src/lib.rs"), body).unwrap();
        let bytes = sigil_cli::package::package_dir(&src).unwrap();
        let file = cache.join(format!("{name}-1.0.0.crate"));
        std::fs::write(&file, &bytes).unwrap();
        let signed = maintainer::sign(&SignRequest {
            key: &key,
            chain: chain.clone(),
            crate_path: &file,
            add_to: None,
            submit: Some(&submit),
            pending_out: None,
        })
        .unwrap();
        let Signed::Logged { proof_path, .. } = signed else {
            panic!("not logged")
        };
        std::fs::rename(&proof_path, proofs.join(proof_path.file_name().unwrap())).unwrap();
        lock.push_str(&lock_entry(name, &bytes));
    }
    lock
}
