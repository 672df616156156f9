//! `sigil-log`: Sigil's transparency log server (DESIGN.md "Interfaces").
//!
//! ```text
//! sigil-log keygen --origin ORIGIN --out DIR      # DIR/log.key (0600), DIR/log.pub
//! sigil-log serve --data-dir DIR --key FILE --ca-root PEM [--listen ADDR]
//!                 [--witness URL=VKEY]... [--witness-quorum K] [--witness-timeout-ms MS]
//!                 [--rate-limit N] [--trusted-proxy CIDR]... [--header-timeout-ms MS]
//!                 [--request-timeout-ms MS] [--max-connections N]
//!                 [--tls-cert PEM --tls-key PEM] [--ca-bundle PEM]
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sigil_core::note::{Ed25519Signer, NoteError, NoteSigner as _};
use sigil_keyfile::note_key::{self, NoteKeyError};
use sigil_log::storage::StorageError;
use sigil_log::storage::rocks::RocksStore;
use sigil_log::witnessing::WitnessError;
use sigil_log::{ApiConfig, LogConfig, RoundConfig, ServeError, Witness, Witnesses};
use sigil_serve::client_addr::{ProxyError, TrustedProxies};
use sigil_serve::http::{LimitArgs, LimitError};
use sigil_serve::tls::{TlsArgs, TlsError};
use sigil_verifier::{TrustedRoots, VerifyError};

/// Sigil's transparency log.
#[derive(Parser)]
#[command(name = "sigil-log", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at start; boxing the flags buys nothing"
)]
enum Command {
    /// Makes the log's Ed25519 signing key: DIR/log.key (mode 0600) and the
    /// verifier key line DIR/log.pub that clients pin.
    Keygen {
        /// The log's origin, e.g. `sigil.example.org/log` (C2SP tlog-checkpoint).
        #[arg(long)]
        origin: String,
        /// Directory to write the two files to (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Runs the log.
    Serve {
        /// Directory of the log's RocksDB store (created if missing).
        #[arg(long)]
        data_dir: PathBuf,
        /// The log's private key file (from `keygen`).
        #[arg(long)]
        key: PathBuf,
        /// PEM file of the CA root certificate(s) entries must chain to.
        #[arg(long)]
        ca_root: PathBuf,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:6962")]
        listen: SocketAddr,
        /// Longest a submission waits for its sequencing round, in ms.
        #[arg(long, default_value_t = 100)]
        batch_window_ms: u64,
        /// Most submissions in one round.
        #[arg(long, default_value_t = 4096)]
        max_batch: usize,
        /// Submissions per second per client address, with bursts of twice
        /// that; over it a submission is answered 429 before its body is
        /// read. 0 disables the limit.
        #[arg(long, default_value_t = DEFAULT_RATE_LIMIT)]
        rate_limit: u32,
        /// A proxy (CIDR block or address) whose X-Forwarded-For names the
        /// client for the rate limit; repeat for several. Default: none,
        /// the peer address is the client's.
        #[arg(long = "trusted-proxy", value_name = "CIDR")]
        trusted_proxies: Vec<String>,
        /// Largest accepted request body in bytes.
        #[arg(long, default_value_t = 256 * 1024)]
        body_limit: usize,
        /// A witness to ask for a cosignature of each new checkpoint, as
        /// `URL=VERIFIER_KEY` (C2SP tlog-witness); repeat for several.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// Longest wait for one witness, in ms. A checkpoint is published
        /// with the cosignatures that arrived by then (fail open; clients
        /// enforce their own quorum).
        #[arg(long, default_value_t = 3000)]
        witness_timeout_ms: u64,
        /// How many valid cosignatures a new checkpoint waits for before
        /// it is published (default: every --witness). It is published
        /// sooner if every witness that is up has answered, and at the
        /// latest after --witness-timeout-ms. Witnesses that failed last
        /// time are still asked but not waited for.
        #[arg(long)]
        witness_quorum: Option<usize>,
        /// Trust exactly the CAs in this PEM bundle for `https://`
        /// witnesses, instead of the platform's.
        #[arg(long, value_name = "PEM", env = "SIGIL_CA_BUNDLE")]
        ca_bundle: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

/// Default of `--rate-limit`: submissions per second per client. A
/// maintainer publishes a handful of releases at a time and a CA logs one
/// certificate per enrollment, far below it; a client looping on the log
/// is held to it.
const DEFAULT_RATE_LIMIT: u32 = 10;

/// Why `sigil-log` stopped with an error.
#[derive(Debug, thiserror::Error)]
enum MainError {
    /// `--origin` is not a valid key name.
    #[error("--origin: {0}")]
    Origin(NoteError),
    /// A file or directory could not be read or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The log's key file could not be read or written.
    #[error(transparent)]
    Key(#[from] NoteKeyError),
    /// The CA root file is not PEM certificates.
    #[error("{}: {source}", path.display())]
    CaRoot {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: VerifyError,
    },
    /// The store could not be opened.
    #[error("{}: {source}", path.display())]
    Storage {
        /// The data directory.
        path: PathBuf,
        /// Why.
        source: StorageError,
    },
    /// A `--witness` flag or the quorum is wrong.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// A `--trusted-proxy` is not a CIDR block.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// A limit flag is wrong.
    #[error(transparent)]
    Limits(#[from] LimitError),
    /// `--tls-cert`/`--tls-key` cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// `--ca-bundle` cannot be used.
    #[error("--ca-bundle {path}: {reason}")]
    CaBundle {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The runtime could not start or the address could not be bound.
    #[error(transparent)]
    Start(#[from] sigil_serve::StartError),
    /// The log could not run.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

fn main() -> ExitCode {
    sigil_serve::init_tracing();
    sigil_serve::exit("sigil-log", run(Cli::parse()))
}

fn run(cli: Cli) -> Result<(), MainError> {
    match cli.command {
        Command::Keygen { origin, out } => keygen(&origin, &out),
        Command::Serve {
            data_dir,
            key,
            ca_root,
            listen,
            batch_window_ms,
            max_batch,
            rate_limit,
            trusted_proxies,
            body_limit,
            witnesses,
            witness_timeout_ms,
            witness_quorum,
            ca_bundle,
            limits,
            tls,
        } => {
            let witnesses = witnesses
                .iter()
                .map(|w| Witness::parse_flag(w))
                .collect::<Result<Vec<_>, _>>()?;
            let witnesses = if witnesses.is_empty() {
                match witness_quorum {
                    Some(q) if q > 0 => {
                        return Err(WitnessError::QuorumTooLarge {
                            quorum: q,
                            witnesses: 0,
                        }
                        .into());
                    }
                    _ => None,
                }
            } else {
                let bundle = match &ca_bundle {
                    Some(path) => read_ca_bundle(path)?,
                    None => Vec::new(),
                };
                Some(
                    Witnesses::new(
                        witnesses,
                        Duration::from_millis(witness_timeout_ms),
                        witness_quorum,
                    )?
                    .with_ca_bundle(bundle),
                )
            };
            let transport = tls.transport()?;
            let signer = note_key::read_log_key(&key)?;
            let pem = std::fs::read(&ca_root).map_err(|source| MainError::Io {
                path: ca_root.clone(),
                source,
            })?;
            let roots = TrustedRoots::from_pem(&pem).map_err(|source| MainError::CaRoot {
                path: ca_root.clone(),
                source,
            })?;
            std::fs::create_dir_all(&data_dir).map_err(|source| MainError::Io {
                path: data_dir.clone(),
                source,
            })?;
            let storage = RocksStore::open(&data_dir, signer.name()).map_err(|source| {
                MainError::Storage {
                    path: data_dir.clone(),
                    source,
                }
            })?;
            // A round waits at most two witness timeouts to be published
            // (docs/log.md, "Witnessing"), after its batch window: submitters
            // wait longer than that.
            let submit_timeout = Duration::from_secs(30).max(
                Duration::from_millis(witness_timeout_ms)
                    .saturating_mul(2)
                    .saturating_add(Duration::from_millis(batch_window_ms))
                    .saturating_add(Duration::from_secs(10)),
            );
            let http = limits.limits(
                submit_timeout,
                "a submitter waits for its entry to be published",
            )?;
            let config = LogConfig {
                signer,
                roots,
                rounds: RoundConfig {
                    window: Duration::from_millis(batch_window_ms),
                    max_batch: max_batch.max(1),
                },
                api: ApiConfig {
                    body_limit,
                    rate_limit: NonZeroU32::new(rate_limit),
                    trusted_proxies: TrustedProxies::parse(&trusted_proxies)?,
                    submit_timeout,
                },
                http,
                transport,
                pool_capacity: max_batch.max(1) * 4,
                witnesses,
            };
            let runtime = sigil_serve::runtime()?;
            runtime.block_on(async move {
                let stop = sigil_serve::shutdown_signal("finishing the round in flight");
                let listener = sigil_serve::bind(listen, &config.transport).await?;
                sigil_log::serve(Arc::new(storage), config, listener, stop).await?;
                Ok::<(), MainError>(())
            })?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
    }
}

/// The certificates of the PEM bundle at `path`: at least one.
fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, MainError> {
    let bad = |reason: String| MainError::CaBundle {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM CERTIFICATE in it".into()));
    }
    Ok(certs)
}

fn keygen(origin: &str, out: &std::path::Path) -> Result<(), MainError> {
    let signer = Ed25519Signer::generate(origin).map_err(MainError::Origin)?;
    std::fs::create_dir_all(out).map_err(|source| MainError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let (secret, public) = note_key::write_log_key(out, &signer)?;
    eprintln!(
        "wrote {} (private, mode 0600) and {}",
        secret.display(),
        public.display()
    );
    Ok(())
}
