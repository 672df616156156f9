//! sigil-log: Sigil's transparency log. Submissions are admitted with the
//! verifier's checks, pooled, sequenced onto C2SP tiles stored in RocksDB,
//! published once the log's witnesses cosigned (or the witness timeout
//! passed), and served over HTTP (DESIGN.md "Storage and the write path";
//! `docs/log.md` for the lifecycle pending → sequenced → integrated →
//! published).
//!
//! | module | what |
//! |---|---|
//! | [`storage`] | the narrow storage trait, RocksDB, object storage (S3) and in-memory backends |
//! | [`standby`] | several servers on one bucket: the lease holder sequences, the others serve reads |
//! | [`tiles`] | tiles as stored and served (C2SP tlog-tiles), width cuts, the entry bundles a round writes |
//! | [`admission`] | the checks a submission passes before it waits in the pool |
//! | [`sequencer`] | the single writer: pool → rounds → durable batches → hand-off |
//! | [`publisher`] | integrated → published: witnesses asked in parallel, quorum, answers with proofs |
//! | [`witnessing`] | one C2SP tlog-witness `add-checkpoint` exchange and its checks |
//! | [`read`] | the read side: entries, proofs, releases, tiles of the published tree; many releases and their signers' revocations at once (`POST /api/v1/lookup`) |
//! | [`rollback`] | the log stops signing once a witness shows its storage was rolled back |
//! | [`api`] | the HTTP routes (bodies from `sigil_core::log_api`) |
//! | [`error`] | errors as HTTP answers, in one place |
//! | [`metrics`] | Prometheus metrics |
//!
//! [`WritePath`] wires the sequencer and the publisher; [`serve`] puts the
//! HTTP API in front of them. The log's key file is
//! `sigil_keyfile::note_key`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod api;
pub mod error;
pub mod metrics;
pub mod publisher;
pub mod read;
pub mod rollback;
pub mod sequencer;
pub mod standby;
pub mod storage;
pub mod tiles;
pub mod witnessing;

use std::future::Future;
use std::sync::Arc;

use sigil_core::note::Ed25519Signer;
use sigil_verifier::TrustedRoots;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use api::ApiConfig;
pub use sequencer::RoundConfig;
pub use standby::serve_bucket;
pub use witnessing::{Witness, Witnesses};

use crate::metrics::Metrics;
use crate::publisher::{Published, Publisher};
use crate::rollback::Halt;
use crate::sequencer::{Pending, Sequencer};

/// Everything `sigil-log serve` is configured with.
pub struct LogConfig {
    /// The log's signing key; its name is the log's origin.
    pub signer: Ed25519Signer,
    /// CA roots entries must chain to.
    pub roots: TrustedRoots,
    /// How rounds are cut.
    pub rounds: RoundConfig,
    /// HTTP settings of the API.
    pub api: ApiConfig,
    /// What one client may hold of the server: connections, timeouts.
    pub http: sigil_serve::http::Limits,
    /// Plain HTTP, or HTTPS (`--tls-cert`, `--tls-key`).
    pub transport: sigil_serve::tls::Transport,
    /// Capacity of the pool of admitted submissions waiting for a round.
    pub pool_capacity: usize,
    /// Witnesses that cosign each new checkpoint (C2SP tlog-witness), and
    /// the quorum a publication waits for.
    pub witnesses: Option<Witnesses>,
}

/// Why the log could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The stored state could not be opened or trusted.
    #[error(transparent)]
    Open(#[from] sequencer::OpenError),
    /// The HTTP client for the witnesses could not be built.
    #[error("HTTP client for the witnesses: {0}")]
    WitnessClient(reqwest::Error),
    /// The publisher stopped before the stored checkpoint was published.
    #[error("the publisher stopped before the log could serve")]
    PublisherStopped,
    /// Another process took the bucket's checkpoint record: this one
    /// stopped sequencing and exits; restarted, it serves as a standby.
    #[error(
        "another sequencer ({holder}) took the log's checkpoint record; this process stopped \
         writing and exits (start it again to serve as a standby)"
    )]
    LeaseLost {
        /// The holder named in the record.
        holder: String,
    },
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Http(#[from] std::io::Error),
}

/// The log's write path, running: the sequencer (integrates rounds) and
/// the publisher (has them cosigned, publishes, answers), wired by an
/// unbounded hand-off so that sequencing never waits for publishing.
pub struct WritePath {
    /// Admitted submissions go here; each is answered on its `respond`
    /// channel once its round is published.
    pub pool: mpsc::Sender<Pending>,
    /// The published checkpoint, what readers see.
    pub published: watch::Receiver<Arc<Published>>,
    /// Set once the log stopped signing ([`rollback`]).
    pub halt: Halt,
    sequencer: JoinHandle<()>,
    publisher: JoinHandle<()>,
}

impl WritePath {
    /// Opens the log in `storage` ([`Sequencer::open`] checks it), starts
    /// the publisher, waits until the stored checkpoint is published
    /// (cosigned by the witnesses that answer in time), then starts the
    /// sequencer.
    ///
    /// # Errors
    ///
    /// [`ServeError::Open`] if the stored state cannot be trusted,
    /// [`ServeError::WitnessClient`], [`ServeError::PublisherStopped`].
    pub async fn start(
        storage: Arc<dyn storage::Storage>,
        signer: Ed25519Signer,
        rounds: RoundConfig,
        pool_capacity: usize,
        witnesses: Option<Witnesses>,
        metrics: Metrics,
    ) -> Result<WritePath, ServeError> {
        let log = signer.verifier();
        let halt = Halt::new();
        let (handoff_tx, handoff_rx) = mpsc::unbounded_channel();
        let (sequencer, stored) = Sequencer::open(
            storage.clone(),
            signer,
            metrics.clone(),
            handoff_tx,
            halt.clone(),
        )?;
        let (publisher, published) =
            Publisher::new(storage, stored, log, witnesses, metrics, halt.clone())
                .map_err(ServeError::WitnessClient)?;
        let (ready_tx, ready) = oneshot::channel();
        let publisher = tokio::spawn(publisher.run(handoff_rx, ready_tx));
        if ready.await.is_err() {
            return Err(ServeError::PublisherStopped);
        }
        let (pool, pool_rx) = mpsc::channel(pool_capacity.max(1));
        let sequencer = tokio::spawn(sequencer.run(pool_rx, rounds));
        Ok(WritePath {
            pool,
            published,
            halt,
            sequencer,
            publisher,
        })
    }

    /// Stops once every other sender of the pool is gone: the sequencer
    /// finishes the round in flight, the publisher publishes it and answers
    /// its submitters.
    pub async fn stop(self) {
        drop(self.pool);
        if let Err(e) = self.sequencer.await {
            tracing::error!(error = %e, "sequencer ended abnormally");
        }
        if let Err(e) = self.publisher.await {
            tracing::error!(error = %e, "publisher ended abnormally");
        }
    }
}

/// Serves the log on `listener` until `shutdown` resolves, then finishes
/// the round in flight and returns. Prints nothing: the binary announces the
/// address.
///
/// # Errors
///
/// [`ServeError`].
pub async fn serve(
    storage: Arc<dyn storage::Storage>,
    config: LogConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let metrics = Metrics::new();
    let write = WritePath::start(
        storage.clone(),
        config.signer,
        config.rounds,
        config.pool_capacity,
        config.witnesses,
        metrics.clone(),
    )
    .await?;
    let state = api::AppState::new(
        storage,
        config.roots,
        write.published.clone(),
        write.pool.clone(),
        write.halt.clone(),
        metrics,
        &config.api,
    );
    let pruner = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                state.prune_rate_limits();
            }
        })
    };
    let served = sigil_serve::http::serve(
        listener,
        &config.transport,
        api::router(state),
        &config.http,
        shutdown,
    )
    .await;
    // The router (and with it its sender of the pool) is gone: the
    // sequencer finishes what it holds, the publisher publishes it.
    pruner.abort();
    let _ = pruner.await;
    write.stop().await;
    Ok(served?)
}
