//! `sigil-bench`: Sigil's load and fault harness, a client apart from the
//! servers it drives (the real binaries, on 127.0.0.1).
//!
//! ```text
//! sigil-bench crash --backend rocks|bucket [--cycles N] [--submitters N] [--seed N]
//! ```
//!
//! `crash` (issue #13): submissions at load, SIGKILL at random moments,
//! and after every cycle the checks of `crash.rs`. It prints one JSON line
//! per backend with the figures BENCHMARKS.md reports, and exits non-zero
//! on any loss or fork.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod crash;

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
