//! `sigil-log`: Sigil's transparency log server (DESIGN.md "Interfaces").
//!
//! ```text
//! sigil-log keygen --origin ORIGIN --out DIR      # DIR/log.key (0600), DIR/log.pub
//! sigil-log serve --data-dir DIR --key FILE --ca-root PEM [--listen ADDR]
//!                 [--witness URL=VKEY]... [--witness-quorum K] [--witness-timeout-ms MS]
//!                 [--rate-limit N] [--trusted-proxy CIDR]... [--header-timeout-ms MS]
//!                 [--request-timeout-ms MS] [--max-connections N]
//!                 [--tls-cert PEM --tls-key PEM] [--ca-bundle PEM]
//!                 [--bucket s3://BUCKET[/PREFIX] [--s3-endpoint URL]
//!                  [--sequencer-id NAME] [--lease-ms MS]]
//! sigil-log reindex --bucket s3://BUCKET[/PREFIX] [--s3-endpoint URL]
//!                   --data-dir DIR --origin ORIGIN
//! sigil-log export-tiles --data-dir DIR --origin ORIGIN --out DIR
//! ```
//!
//! With `--bucket`, tiles, bundles and the checkpoint live in the bucket
//! and `--data-dir` holds the local index (`docs/object-storage.md`).
#![forbid(unsafe_code)]

/// jemalloc for the whole process, RocksDB included: glibc's per-thread
/// arenas kept freed memory, and the server's RSS grew with the log
/// (BENCHMARKS.md, "Memory as the log grows").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
use sigil_log::storage::object::{
    Bucket, BucketConfig, BucketStore, FailAction, FailPoint, LeaseConfig,
};
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
        #[command(flatten)]
        bucket: BucketArgs,
        /// This process's name in the bucket's checkpoint record (default:
        /// the host name and the data directory, so that a restart of the
        /// same server takes its lease back at once).
        #[arg(long, requires = "bucket")]
        sequencer_id: Option<String>,
        /// How long the sequencer's lease lasts without renewal: a standby
        /// takes over this long after the active one stopped.
        #[arg(long, default_value_t = 10_000, requires = "bucket")]
        lease_ms: u64,
    },
    /// Writes the tiles, entry bundles and checkpoint of a stopped log's
    /// RocksDB store into a directory, at their C2SP tlog-tiles paths, for
    /// any static file server (nginx, a CDN's origin) to serve.
    ExportTiles {
        /// The log's data directory (the server must be stopped).
        #[arg(long)]
        data_dir: PathBuf,
        /// The log's origin.
        #[arg(long)]
        origin: String,
        /// Where to write `checkpoint` and `tile/...`; created if missing.
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuilds the local index of a log on object storage from the
    /// bucket alone (its entry bundles and checkpoint record), into an
    /// empty --data-dir.
    Reindex {
        #[command(flatten)]
        bucket: BucketArgs,
        /// Directory for the rebuilt index; must be empty or missing.
        #[arg(long)]
        data_dir: PathBuf,
        /// The log's origin.
        #[arg(long)]
        origin: String,
    },
}

/// Where a log on object storage lives.
#[derive(clap::Args, Clone, Debug)]
struct BucketArgs {
    /// Keep tiles, bundles and the checkpoint in this S3 bucket
    /// (`s3://BUCKET` or `s3://BUCKET/PREFIX`) instead of RocksDB alone.
    /// Credentials come from the AWS environment variables; without
    /// AWS_ACCESS_KEY_ID, requests are unsigned.
    #[arg(long, value_name = "URL")]
    bucket: Option<String>,
    /// The S3 endpoint, for stores other than AWS (e.g.
    /// `http://127.0.0.1:8333` for SeaweedFS on loopback).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT", requires = "bucket")]
    s3_endpoint: Option<String>,
}

impl BucketArgs {
    /// The bucket, if one is given.
    fn open(&self) -> Result<Option<Bucket>, MainError> {
        let Some(url) = &self.bucket else {
            return Ok(None);
        };
        let bucket = Bucket::open(&BucketConfig {
            url: url.clone(),
            endpoint: self.s3_endpoint.clone(),
            timeout: Duration::from_secs(10),
        })
        .map_err(|e| MainError::Bucket(e.into()))?;
        Ok(Some(bucket))
    }
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
    /// The bucket could not be used.
    #[error("--bucket: {0}")]
    Bucket(StorageError),
    /// `reindex` without `--bucket`.
    #[error("reindex rebuilds the index of a log on object storage: give its --bucket")]
    NoBucket,
    /// `reindex` needs an empty directory.
    #[error("{}: not empty; reindex builds a new index in an empty directory", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
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
        Command::Reindex {
            bucket,
            data_dir,
            origin,
        } => reindex(&bucket, &data_dir, &origin),
        Command::ExportTiles {
            data_dir,
            origin,
            out,
        } => export_tiles(&data_dir, &origin, &out),
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
            bucket,
            sequencer_id,
            lease_ms,
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
            let origin = signer.name().to_owned();
            let storage_error = |source| MainError::Storage {
                path: data_dir.clone(),
                source,
            };
            let storage: Backend = match bucket.open()? {
                None => Backend::Rocks(Arc::new(
                    RocksStore::open(&data_dir, &origin).map_err(storage_error)?,
                )),
                Some(bucket) => {
                    let lease = LeaseConfig {
                        holder: sequencer_id.unwrap_or_else(|| default_sequencer_id(&data_dir)),
                        lease: Duration::from_millis(lease_ms.max(300)),
                    };
                    let store = BucketStore::open(bucket, &data_dir, &origin, lease)
                        .map_err(storage_error)?;
                    // The crash harness (`sigil-bench crash`) stops a write
                    // at a chosen step by aborting the process there.
                    if let Some(point) = std::env::var("SIGIL_LOG_FAIL_POINT")
                        .ok()
                        .and_then(|p| FailPoint::parse(&p))
                    {
                        tracing::warn!(
                            ?point,
                            "SIGIL_LOG_FAIL_POINT: the first write aborts there"
                        );
                        store.set_fail_point(Some((point, FailAction::Abort)));
                    }
                    Backend::Bucket(Arc::new(store))
                }
            };
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
                match storage {
                    Backend::Rocks(store) => {
                        sigil_log::serve(store, config, listener, stop).await?
                    }
                    Backend::Bucket(store) => {
                        sigil_log::serve_bucket(store, config, listener, stop).await?
                    }
                }
                Ok::<(), MainError>(())
            })?;
            tracing::info!("stopped cleanly");
            Ok(())
        }
    }
}

/// Where the log is stored.
enum Backend {
    /// RocksDB alone (the default).
    Rocks(Arc<RocksStore>),
    /// A bucket, with a local index.
    Bucket(Arc<BucketStore>),
}

/// The default `--sequencer-id`: host name and data directory.
fn default_sequencer_id(data_dir: &std::path::Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "sigil-log".to_owned());
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    format!("{host}:{}", dir.display())
}

/// `sigil-log export-tiles`: every tile of the tree at the stored size,
/// at the width it has there (full tiles, and the right edge's partial
/// ones), and the stored checkpoint (signed by the log; the cosigned one
/// is only in the running server's memory).
fn export_tiles(
    data_dir: &std::path::Path,
    origin: &str,
    out: &std::path::Path,
) -> Result<(), MainError> {
    use sigil_log::storage::Storage as _;
    let storage_error = |source| MainError::Storage {
        path: data_dir.to_owned(),
        source,
    };
    let io = |path: &std::path::Path| {
        let path = path.to_owned();
        move |source| MainError::Io { path, source }
    };
    let store = RocksStore::open(data_dir, origin).map_err(storage_error)?;
    let Some(stored) = store.load_checkpoint().map_err(storage_error)? else {
        return Err(MainError::Storage {
            path: data_dir.to_owned(),
            source: StorageError::Corrupt {
                what: "checkpoint".into(),
                reason: "the store holds no log yet".into(),
            },
        });
    };
    let reader = sigil_log::tiles::StorageTiles(&store);
    let mut written = 0u64;
    let tiles: Vec<_> = sigil_core::tile::hash_tiles(stored.size)
        .chain(sigil_core::tile::entry_tiles(stored.size))
        .collect();
    for chunk in tiles.chunks(256) {
        let data = sigil_core::tile::TileReader::read_tiles(&reader, chunk).map_err(|e| {
            MainError::Storage {
                path: data_dir.to_owned(),
                source: StorageError::Corrupt {
                    what: "tiles".into(),
                    reason: e.to_string(),
                },
            }
        })?;
        for (tile, bytes) in chunk.iter().zip(data) {
            let path = out.join(tile.path());
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, bytes).map_err(io(&path))?;
            written += 1;
        }
    }
    let checkpoint = out.join("checkpoint");
    std::fs::write(&checkpoint, &stored.note).map_err(io(&checkpoint))?;
    eprintln!(
        "wrote {written} tiles and the checkpoint of size {} to {}",
        stored.size,
        out.display()
    );
    Ok(())
}

/// `sigil-log reindex`.
fn reindex(bucket: &BucketArgs, data_dir: &std::path::Path, origin: &str) -> Result<(), MainError> {
    let Some(opened) = bucket.open()? else {
        return Err(MainError::NoBucket);
    };
    if std::fs::read_dir(data_dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(MainError::NotEmpty {
            path: data_dir.to_owned(),
        });
    }
    std::fs::create_dir_all(data_dir).map_err(|source| MainError::Io {
        path: data_dir.to_owned(),
        source,
    })?;
    let lease = LeaseConfig {
        holder: format!("reindex:{}", default_sequencer_id(data_dir)),
        lease: Duration::from_secs(10),
    };
    let storage_error = |source| MainError::Storage {
        path: data_dir.to_owned(),
        source,
    };
    let store = BucketStore::open(opened, data_dir, origin, lease).map_err(storage_error)?;
    let size = store.reindex().map_err(storage_error)?;
    eprintln!(
        "rebuilt the index of {origin} in {} from the bucket: {size} entries",
        data_dir.display()
    );
    Ok(())
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
