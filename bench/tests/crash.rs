//! The short variant of the crash harness, in every test run (issue #13):
//! `sigil-bench crash` for a few cycles on each backend, which must end
//! with no loss and no fork. The long runs (100 cycles each) and their
//! figures are in BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn crash(backend: &str, cycles: &str) {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sigil-bench"));
    c.args([
        "crash",
        "--backend",
        backend,
        "--cycles",
        cycles,
        "--seed",
        "42",
    ]);
    let out = c.output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(v["losses"], 0, "{v}");
    assert_eq!(v["forks"], 0, "{v}");
    assert!(v["acknowledged"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn rocksdb_log_killed_under_load_loses_nothing_and_never_forks() {
    crash("rocks", "4");
}

#[test]
fn bucket_logs_killed_under_load_lose_nothing_and_never_fork() {
    if sigil_e2e::seaweed::weed().is_none() {
        return;
    }
    crash("bucket", "6");
}
