//! `sigil-bench table`: the write and read rows of BENCHMARKS.md's one
//! table, measured in one run with the settings the table names (issue
//! #14, "Done when"). Each measurement's JSON line goes to stderr as it
//! ends; the rows are printed at the end as markdown: measure, command,
//! figure, baseline (same run), ratio, bar.

use std::path::Path;

use serde_json::Value;

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// `12345.6` as `12,346`.
fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**not met**" }
}

/// Runs the three measurements and returns the table's rows.
pub fn run(nginx: &Path) -> Result<String, String> {
    let append = crate::append_run(1_000_000, 4096)?;
    eprintln!("{append}");
    let ingest = crate::ingest::run(&crate::ingest::Settings {
        entries: 100_000,
        clients: 3_000,
        rate: 1_000,
        seconds: 10,
        client_threads: 2,
        server_args: vec![],
    })?
    .json();
    eprintln!("{ingest}");
    let reads = crate::reads::run(&crate::reads::Settings {
        size: 1_000_000,
        proof_clients: 16,
        tile_connections: 64,
        seconds: 10.0,
        rounds: 2,
        client_threads: 2,
        nginx: nginx.to_owned(),
    })?
    .json();
    eprintln!("{reads}");

    let mut rows = vec![
        "| measure | command | figure | baseline, same run | ratio | bar |".to_owned(),
        "|---|---|---|---|---|---|".to_owned(),
    ];
    let ratio = num(&ingest, "ratio_to_p256");
    rows.push(format!(
        "| ingest, full admission, 3,000 connections | `sigil-bench ingest` | {}/s | P-256 verify, aws-lc-rs, every core: {}/s | {ratio:.2} | ≥ 0.7: {} |",
        thousands(num(&ingest, "ingest_per_s")),
        thousands(num(&ingest, "baseline_p256_verify_per_s")),
        met(ratio >= 0.7),
    ));
    let ratio = num(&ingest, "ratio_to_admission");
    rows.push(format!(
        "| the same ingest, against admission alone | `sigil-bench ingest` | {}/s | `check_release`, warm chain cache, every core: {}/s | {ratio:.2} | |",
        thousands(num(&ingest, "ingest_per_s")),
        thousands(num(&ingest, "baseline_admission_per_s")),
    ));
    let p99 = num(&ingest, "latency_p99_ms");
    rows.push(format!(
        "| submit → proof at 1,000/s, p50 / p99 | `sigil-bench ingest` | {:.0} / {p99:.0} ms ({} failed) | the 100 ms sequencing window: a log with free commits answers at p50 50, p99 99 ms | {:.2} / {:.2} | p99 < 250 ms: {} |",
        num(&ingest, "latency_p50_ms"),
        num(&ingest, "latency_failed"),
        num(&ingest, "latency_p50_ms") / 50.0,
        p99 / 99.0,
        met(p99 < 250.0),
    ));
    let rate = num(&append, "append_per_s");
    rows.push(format!(
        "| raw append, no admission, no HTTP | `sigil-bench append --entries 1000000` | {}/s | the same bytes to a file, one fsync per round: {}/s | {:.2} | ≥ 50,000/s: {} |",
        thousands(rate),
        thousands(num(&append, "baseline_file_fsync_per_s")),
        num(&append, "ratio"),
        met(rate >= 50_000.0),
    ));
    rows.push(format!(
        "| inclusion proofs from a 10⁶ log, 16 connections | `sigil-bench reads` | {}/s | `GET /checkpoint`, same server and connections: {}/s | {:.2} | |",
        thousands(num(&reads, "proofs_per_s")),
        thousands(num(&reads, "baseline_checkpoint_per_s")),
        num(&reads, "proofs_ratio"),
    ));
    let ratio = num(&reads, "tiles_ratio");
    rows.push(format!(
        "| tile GETs, 64 connections, 10⁶ log | `sigil-bench reads` | {}/s | nginx over `sigil-log export-tiles`: {}/s | {ratio:.2} | ≥ 0.5 × nginx: {} |",
        thousands(num(&reads, "sigil_tiles_per_s")),
        thousands(num(&reads, "baseline_nginx_tiles_per_s")),
        met(ratio >= 0.5),
    ));
    Ok(rows.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(-45_000.0), "-45,000");
    }
}
