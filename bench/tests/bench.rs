//! Short runs of `sigil-bench ingest` and `sigil-bench reads` (issue #14),
//! so the benchmark tool cannot rot between the runs BENCHMARKS.md
//! reports: every submission and every read must succeed, and each JSON
//! line must carry its figure, its baseline and their ratio. No timing is
//! asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn run(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sigil-bench"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

fn positive(v: &serde_json::Value, key: &str) {
    let x = v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing: {v}"));
    assert!(x.is_finite() && x > 0.0, "{key} = {x}: {v}");
}

#[test]
fn ingest_accepts_every_release_and_reports_its_baselines() {
    let v = run(&[
        "ingest",
        "--entries",
        "400",
        "--clients",
        "32",
        "--rate",
        "200",
        "--seconds",
        "1",
    ]);
    assert_eq!(v["ingest_failed"], 0, "{v}");
    assert_eq!(v["latency_failed"], 0, "{v}");
    for key in [
        "ingest_per_s",
        "baseline_p256_verify_per_s",
        "baseline_admission_per_s",
        "ratio_to_p256",
        "latency_p50_ms",
        "latency_p99_ms",
        "server_cpu_us_per_entry",
    ] {
        positive(&v, key);
    }
}

/// nginx: on the PATH or Debian's; `.ci/setup test` installs it.
fn nginx() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("nginx"))
                .find(|p| p.is_file())
        })
        .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()));
    if found.is_none() {
        let msg = "nginx not found: run `. .ci/setup test` (or `bash .ci/run`), which installs \
                   Debian's nginx-light; or set SIGIL_SKIP_EXTERNAL_TOOLS=1 to skip this test";
        assert!(
            std::env::var("SIGIL_SKIP_EXTERNAL_TOOLS").as_deref() == Ok("1"),
            "{msg}"
        );
        eprintln!("SKIPPED (SIGIL_SKIP_EXTERNAL_TOOLS=1): {msg}");
    }
    found
}

#[test]
fn reads_serve_every_proof_and_tile_from_the_log_and_from_nginx() {
    let Some(nginx) = nginx() else {
        return;
    };
    let v = run(&[
        "reads",
        "--size",
        "70000",
        "--seconds",
        "0.5",
        "--rounds",
        "1",
        "--connections",
        "8",
        "--proof-clients",
        "4",
        "--nginx",
        nginx.to_str().unwrap(),
    ]);
    assert_eq!(v["proofs_failed"], 0, "{v}");
    assert_eq!(v["sigil_tiles_failed"], 0, "{v}");
    assert_eq!(v["nginx_tiles_failed"], 0, "{v}");
    for key in [
        "proofs_per_s",
        "baseline_checkpoint_per_s",
        "sigil_tiles_per_s",
        "baseline_nginx_tiles_per_s",
        "tiles_ratio",
    ] {
        positive(&v, key);
    }
}
