//! Two (or more) `sigil-log serve` processes on one bucket: only the holder
//! of the checkpoint record's lease sequences; the others are standbys
//! (`docs/object-storage.md`, "Standby sequencer"; `storage::object`
//! invariant 4).
//!
//! A standby serves the read API from its own local index, which it keeps
//! up with the bucket ([`BucketStore::follow`]), and the checkpoint the
//! active one published in the bucket, after checking it: signed by the
//! log's key, its root that of the tiles it serves. Submissions get `503
//! not_sequencer`, naming the holder. Every half second it looks at the
//! record; once the holder's lease ran out (its `serial` unchanged for a
//! whole lease), it takes the record over by a compare-and-swap, stops its
//! read-only server (connections in flight finish) and starts the full log
//! on the same socket. The active one renews its lease every third of it.
//!
//! Safety does not rest on the lease or on clocks: a sequencer commits
//! only by a swap on the record's ETag, and a sequencer whose swap loses to
//! another holder stops for good ([`crate::rollback::Stopped::NotSequencer`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sigil_core::checkpoint::Checkpoint;
use sigil_core::merkle;
use sigil_core::note::{self, Verifiers};
use sigil_core::tile::TileHashReader;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::metrics::Metrics;
use crate::publisher::Published;
use crate::rollback::{Halt, Stopped};
use crate::storage::object::{CHECKPOINT_KEY, Role};
use crate::storage::{BucketStore, Storage, StorageError};
use crate::tiles::StorageTiles;
use crate::{LogConfig, ServeError, api};

/// How often a standby looks at the record and follows the bucket.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Serves the log on `listener` from the bucket store: as a standby until
/// this process holds the lease, then as the active sequencer, until
/// `shutdown` resolves.
///
/// # Errors
///
/// [`ServeError`]; [`ServeError::Open`] if the bucket and the local index
/// cannot be reconciled.
pub async fn serve_bucket(
    store: Arc<BucketStore>,
    config: LogConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let socket = listener.into_std()?;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        match blocking(&store, BucketStore::acquire).await? {
            Role::Active => break,
            Role::Standby { holder } => {
                tracing::info!(%holder, "standby: serving reads; the active sequencer holds the lease");
                let listener = TcpListener::from_std(socket.try_clone()?)?;
                stand_by(&store, &config, listener, holder, stop.clone()).await?;
            }
        }
    }
    blocking(&store, BucketStore::verify_edge).await?;
    tracing::info!(holder = store.holder(), "active: this process sequences");
    let (lost_tx, lost) = watch::channel(None::<String>);
    let renewal = {
        let store = store.clone();
        let every = store.lease() / 3;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
            loop {
                tick.tick().await;
                let store = store.clone();
                let renewed = tokio::task::spawn_blocking(move || store.renew()).await;
                match renewed.unwrap_or(Ok(())) {
                    Ok(()) => {}
                    Err(StorageError::LeaseLost { holder }) => {
                        let _ = lost_tx.send(Some(holder));
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "renewing the sequencer's lease failed"),
                }
            }
        })
    };
    let mut stop_active = stop.clone();
    let store_for_release = store.clone();
    let mut lost_active = lost.clone();
    let served = crate::serve(store, config, TcpListener::from_std(socket)?, async move {
        tokio::select! {
            _ = stop_active.wait_for(|s| *s) => {}
            _ = lost_active.wait_for(Option::is_some) => {}
        }
    })
    .await;
    renewal.abort();
    if let Some(holder) = lost.borrow().clone() {
        // Another process sequences now. This one stops rather than turn
        // back into a standby in place: a supervisor restarts it, and it
        // starts as a standby (Sunlight and Tessera exit on a lost lock too).
        return Err(ServeError::LeaseLost { holder });
    }
    // A clean stop: the round in flight is committed; hand the lease over
    // at once rather than after a whole lease.
    if let Err(e) = tokio::task::spawn_blocking(move || store_for_release.release_lease())
        .await
        .unwrap_or(Ok(()))
    {
        tracing::warn!(error = %e, "releasing the sequencer's lease failed; it runs out by itself");
    }
    served
}

/// Runs `work` on the store off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<BucketStore>,
    work: impl FnOnce(&BucketStore) -> Result<T, StorageError> + Send + 'static,
) -> Result<T, ServeError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|e| ServeError::Http(std::io::Error::other(e)))?
        .map_err(|e| ServeError::Open(e.into()))
}

/// The read-only server of a standby, until this process may sequence or
/// `stop` is set.
async fn stand_by(
    store: &Arc<BucketStore>,
    config: &LogConfig,
    listener: TcpListener,
    holder: String,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let verifiers = Verifiers::new(vec![Box::new(config.signer.verifier())]);
    let (published_tx, published) = watch::channel(Arc::new(Published {
        size: 0,
        root: merkle::empty_root(),
        checkpoint: Vec::new(),
    }));
    if let Some(p) = follow_once(store, &verifiers).await {
        published_tx.send_replace(Arc::new(p));
    }
    // Submissions are refused by the halt before they reach a pool.
    let (pool, _) = mpsc::channel(1);
    let state = api::AppState::new(
        store.clone(),
        config.roots.clone(),
        published,
        pool,
        Halt::stopped(Stopped::NotSequencer { holder }),
        Metrics::new(),
        &config.api,
    );
    let (active_tx, mut active) = watch::channel(false);
    let follower = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FOLLOW_EVERY);
            loop {
                tick.tick().await;
                if let Some(p) = follow_once(&store, &verifiers).await
                    && p.size > published_tx.borrow().size
                {
                    published_tx.send_replace(Arc::new(p));
                }
                match blocking(&store, BucketStore::acquire).await {
                    Ok(Role::Active) => {
                        let _ = active_tx.send(true);
                        return;
                    }
                    Ok(Role::Standby { .. }) => {}
                    Err(e) => tracing::warn!(error = %e, "standby: reading the record failed"),
                }
            }
        })
    };
    let served = sigil_serve::http::serve(
        listener,
        &config.transport,
        api::router(state),
        &config.http,
        async move {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => {}
                _ = active.wait_for(|a| *a) => {}
            }
        },
    )
    .await;
    follower.abort();
    let _ = follower.await;
    Ok(served?)
}

/// Brings the local index up to the record and reads the published
/// checkpoint, checked: signed by the log, not beyond the index, its root
/// the root of the tiles the standby serves. `None` (logged) if anything
/// fails; the standby keeps what it served before.
async fn follow_once(store: &Arc<BucketStore>, verifiers: &Verifiers) -> Option<Published> {
    let followed = blocking(store, |s| {
        let size = s.follow()?;
        let note = s.bucket().get(CHECKPOINT_KEY)?;
        Ok((size, note))
    })
    .await;
    let (size, note) = match followed {
        Ok((size, Some(note))) => (size, note.bytes),
        Ok((_, None)) => return None,
        Err(e) => {
            tracing::debug!(error = %e, "standby: following the bucket failed; trying again");
            return None;
        }
    };
    let checked = (|| {
        let opened = note::open(&note, verifiers).map_err(|e| e.to_string())?;
        let cp = Checkpoint::parse(&opened.text).map_err(|e| e.to_string())?;
        if cp.size > size {
            return Err(format!(
                "the published checkpoint (size {}) is ahead of the record ({size})",
                cp.size
            ));
        }
        let tiles = StorageTiles(&**store as &dyn Storage);
        let root = merkle::tree_hash(cp.size, &TileHashReader::trusted(cp.size, &tiles))
            .map_err(|e| e.to_string())?;
        if root != cp.root {
            return Err("its root is not the root of the bucket's tiles".into());
        }
        Ok(Published {
            size: cp.size,
            root,
            checkpoint: note.clone(),
        })
    })();
    match checked {
        Ok(p) => Some(p),
        Err(reason) => {
            tracing::warn!(%reason, "standby: the bucket's checkpoint was not served");
            None
        }
    }
}
