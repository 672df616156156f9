//! `sigil-bench`: Sigil's load and fault harness, a client apart from the
//! servers it drives (the real binaries, on 127.0.0.1).
//!
//! ```text
//! sigil-bench crash --backend rocks|bucket [--cycles N] [--submitters N] [--seed N]
//! sigil-bench append [--entries N] [--round N]
//! sigil-bench memory [--sizes N,N,...] [--seconds S] [--rate R] [-- SERVER ARGS]
//! sigil-bench ingest [--entries N] [--clients N] [--rate R] [--seconds S] [-- SERVER ARGS]
//! sigil-bench reads [--size N] [--proof-clients N] [--connections N] [--seconds S]
//! sigil-bench table
//! ```
//!
//! Every measurement prints one JSON line with its figure, the baseline
//! measured in the same run and their ratio; `table` runs `append`,
//! `ingest` and `reads` with the settings of BENCHMARKS.md's table and
//! prints its rows.
//!
//! `crash` (issue #13): submissions at load, SIGKILL at random moments,
//! and after every cycle the checks of `crash.rs`. It prints one JSON line
//! per backend with the figures BENCHMARKS.md reports, and exits non-zero
//! on any loss or fork.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod append;
mod cpu;
mod crash;
mod http;
mod ingest;
mod memory;
mod reads;
mod server;
mod table;

/// Sigil's load and fault harness.
#[derive(Parser)]
#[command(name = "sigil-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Kills the log (and its standby and witness) at random moments under
    /// load, and checks after every cycle that nothing acknowledged was
    /// lost and nothing was signed twice.
    Crash {
        /// The log's storage.
        #[arg(long, value_enum)]
        backend: Backend,
        /// Kill-and-restart cycles.
        #[arg(long, default_value_t = 100)]
        cycles: u32,
        /// Concurrent submitters.
        #[arg(long, default_value_t = 8)]
        submitters: usize,
        /// Seed of the random kill moments and targets (default: the clock).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// The write path without admission or HTTP: release entries appended
    /// to a RocksDB log as the sequencer does it, one synced round at a
    /// time, against the same bytes appended and fsync'd to a file.
    Append {
        /// Entries to append.
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// Entries per round (one synced batch each).
        #[arg(long, default_value_t = 4096)]
        round: u64,
    },
    /// The server's resident memory as one log grows through `--sizes`,
    /// under the same reads and writes at each size.
    Memory {
        /// Log sizes, ascending.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
        sizes: Vec<u64>,
        /// Seconds of reads, then of writes, at each size.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Submissions per second in the write phase.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        /// Extra arguments for `sigil-log serve`.
        #[arg(last = true)]
        server_args: Vec<String>,
    },
    /// Releases through the real log with every admission check on:
    /// ingest (closed loop) against the machine's P-256 verify rate, then
    /// submit -> proof latency at a fixed rate (open loop), with a CPU
    /// profile of the server and the client.
    Ingest {
        /// Releases in the closed loop.
        #[arg(long, default_value_t = 100_000)]
        entries: usize,
        /// Its concurrent connections.
        #[arg(long, default_value_t = 3_000)]
        clients: usize,
        /// Submissions per second in the open loop.
        #[arg(long, default_value_t = 1_000)]
        rate: u64,
        /// Seconds of the open loop.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The client's worker threads.
        #[arg(long, default_value_t = 2)]
        client_threads: usize,
        /// Extra arguments for `sigil-log serve`.
        #[arg(last = true)]
        server_args: Vec<String>,
    },
    /// The read path of a grown log: inclusion proofs against `GET
    /// /checkpoint`, and tile GETs from `sigil-log` against nginx serving
    /// `sigil-log export-tiles`'s output.
    Reads {
        /// Entries in the log (at least 65,536).
        #[arg(long, default_value_t = 1_000_000)]
        size: u64,
        /// Connections asking for proofs.
        #[arg(long, default_value_t = 16)]
        proof_clients: usize,
        /// Connections asking for tiles.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Alternations of sigil-log and nginx.
        #[arg(long, default_value_t = 2)]
        rounds: usize,
        /// The client's worker threads.
        #[arg(long, default_value_t = 2)]
        client_threads: usize,
        /// nginx (default: `nginx` on the PATH, else /usr/sbin/nginx).
        #[arg(long)]
        nginx: Option<std::path::PathBuf>,
    },
    /// `append`, `ingest` and `reads` with BENCHMARKS.md's settings, as the
    /// rows of its table (markdown), after their JSON lines.
    Table {
        /// nginx (default: `nginx` on the PATH, else /usr/sbin/nginx).
        #[arg(long)]
        nginx: Option<std::path::PathBuf>,
    },
}

/// The log's storage under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// RocksDB in a data directory (the default of `sigil-log serve`).
    Rocks,
    /// A SeaweedFS bucket on loopback, with an active and a standby log.
    Bucket,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Ingest {
            entries,
            clients,
            rate,
            seconds,
            client_threads,
            server_args,
        } => json_or_fail(
            ingest::run(&ingest::Settings {
                entries,
                clients: clients.max(1),
                rate: rate.max(1),
                seconds,
                client_threads,
                server_args,
            })
            .map(|r| r.json()),
        ),
        Command::Reads {
            size,
            proof_clients,
            connections,
            seconds,
            rounds,
            client_threads,
            nginx,
        } => json_or_fail(
            reads::run(&reads::Settings {
                size,
                proof_clients: proof_clients.max(1),
                tile_connections: connections.max(1),
                seconds,
                rounds,
                client_threads,
                nginx: nginx.unwrap_or_else(reads::default_nginx),
            })
            .map(|r| r.json()),
        ),
        Command::Table { nginx } => match table::run(&nginx.unwrap_or_else(reads::default_nginx)) {
            Ok(rows) => {
                println!("{rows}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sigil-bench: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Append { entries, round } => json_or_fail(append_run(entries, round.max(1))),
        Command::Memory {
            sizes,
            seconds,
            rate,
            server_args,
        } => match memory::run(&sizes, seconds, rate.max(1), &server_args, |p| {
            println!("{}", p.json())
        }) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sigil-bench: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Crash {
            backend,
            cycles,
            submitters,
            seed,
        } => match crash::run(backend, cycles, submitters.max(1), seed) {
            Ok(report) => {
                println!("{}", report.json());
                if report.losses == 0 && report.forks == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("sigil-bench: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Prints a measurement's JSON line, or its error.
fn json_or_fail(result: Result<serde_json::Value, String>) -> ExitCode {
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sigil-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `append`: the raw append rate and the fsync baseline, as one JSON line.
pub(crate) fn append_run(entries: u64, round: u64) -> Result<serde_json::Value, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let dir = tempfile::tempdir().map_err(|e| err(&e))?;
    let ca = sigil_e2e::test_ca::TestCa::new("Append").map_err(|e| err(&e))?;
    let (key, chain) = ca.signer("bench").map_err(|e| err(&e))?;
    let signers = append::release_signers(&key, chain)?;
    let signer = sigil_core::note::Ed25519Signer::generate("append.sigil.example/log")
        .map_err(|e| err(&e))?;
    let mut log = append::Appender::open(&dir.path().join("data"), signer, signers)?;
    let (spent, bytes) = log.append(entries, round)?;
    let rate = entries as f64 / spent.as_secs_f64();
    let entry_len = (bytes / entries.max(1)) as usize;
    let rounds = entries.div_ceil(round).min(200);
    let baseline = append::fsync_baseline(dir.path(), rounds, round, entry_len)?;
    Ok(serde_json::json!({
        "entries": entries,
        "round": round,
        "entry_bytes": entry_len,
        "seconds": (spent.as_secs_f64() * 10.0).round() / 10.0,
        "append_per_s": rate.round(),
        "baseline_file_fsync_per_s": baseline.round(),
        "ratio": (rate / baseline * 1000.0).round() / 1000.0,
    }))
}
