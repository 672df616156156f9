//! sigil-log: Sigil's transparency log. Submissions are admitted with the
//! verifier's checks, pooled, sequenced onto C2SP tiles stored in RocksDB,
//! and served over HTTP (DESIGN.md "Storage and the write path").
//!
//! | module | what |
//! |---|---|
//! | [`storage`] | the narrow storage trait, RocksDB and in-memory backends |
//! | [`tiles`] | tiles as stored and served (C2SP tlog-tiles), width cuts |
//! | [`admission`] | the `POST /api/v1/entries` body and its checks |
//! | [`sequencer`] | pool → rounds → durable batches → answers with proofs |
//! | [`api`] | the HTTP routes |
//! | [`error`] | errors as HTTP responses, in one place |
//! | [`metrics`] | Prometheus metrics |
//!
//! The log's key file is `sigil_keyfile::note_key`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod api;
pub mod error;
pub mod metrics;
pub mod sequencer;
pub mod storage;
pub mod tiles;
pub mod witnessing;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use sigil_core::note::{Ed25519Signer, NoteSigner as _};
use sigil_verifier::TrustedRoots;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub use api::ApiConfig;
pub use sequencer::RoundConfig;

/// Everything `sigil-log serve` is configured with.
pub struct LogConfig {
    /// The log's signing key; its name is the log's origin.
    pub signer: Ed25519Signer,
    /// CA roots entries must chain to.
    pub roots: TrustedRoots,
    /// How rounds are cut.
    pub rounds: RoundConfig,
    /// HTTP settings.
    pub api: ApiConfig,
    /// Capacity of the pool of admitted submissions waiting for a round.
    pub pool_capacity: usize,
    /// Witnesses that cosign each new checkpoint (C2SP tlog-witness).
    pub witnesses: Option<Arc<witnessing::Witnesses>>,
}

/// Why the log could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The stored state could not be opened or trusted.
    #[error(transparent)]
    Open(#[from] sequencer::OpenError),
    /// The HTTP server failed.
    #[error("http server: {0}")]
    Http(#[from] std::io::Error),
}

/// Serves the log on `listener` until `shutdown` resolves, then finishes
/// the round in flight and returns. Prints nothing: the binary announces the
/// address.
pub async fn serve(
    storage: Arc<dyn storage::Storage>,
    config: LogConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let metrics = metrics::Metrics::new();
    let origin = config.signer.name().to_string();
    let (sequencer, published) =
        sequencer::Sequencer::open(storage.clone(), config.signer, &origin, metrics.clone())?;
    let sequencer = match config.witnesses {
        Some(w) => sequencer
            .with_witnesses(w)
            .cosign_at_start()
            .await
            .ok_or(ServeError::Http(std::io::Error::other(
                "collecting cosignatures at start failed",
            )))?,
        None => sequencer,
    };
    let (pool_tx, pool_rx) = mpsc::channel(config.pool_capacity.max(1));
    let rounds = tokio::spawn(sequencer.run(pool_rx, config.rounds));
    let state = api::AppState::new(
        storage,
        config.roots,
        published,
        pool_tx,
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
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    // The router (and with it the pool's sender) is gone: the sequencer
    // finishes what it holds and stops.
    pruner.abort();
    if let Err(e) = rounds.await {
        tracing::error!(error = %e, "sequencer ended abnormally");
    }
    Ok(())
}
