//! The sequencer: turns the pool of admitted submissions into durable log
//! entries, one round at a time.
//!
//! # Invariants
//!
//! - **Single writer.** One task owns [`Sequencer`] and is the only caller of
//!   [`Storage::append_batch`]. Readers see the log only through the
//!   [`Published`] state, which the sequencer replaces *after* a round is
//!   durable.
//! - **No promise before durability.** A submitter is answered with an index
//!   and a proof only after `append_batch` returned `Ok` — everything of the
//!   round (entries, tiles, index rows, checkpoint) is then on disk in one
//!   synced RocksDB `WriteBatch`.
//! - **One root per size, ever.** A round's checkpoint is signed after its
//!   tiles are computed and is written in the same batch. If the write fails,
//!   the round is kept and retried *unchanged* (same entries, same
//!   timestamps, hence the same root and — Ed25519 being deterministic — the
//!   same signed checkpoint) before anything else is sequenced. If it failed
//!   but was persisted anyway, the reload sees the stored checkpoint equal
//!   to the round's and moves on.
//! - **Ordered checks.** Duplicates (crate@version) and revocations depend on
//!   position, so they are re-checked here, in index order, including
//!   against earlier entries of the same round. Signatures and chains were
//!   checked at admission (`crate::admission`) and are not repeated.
//!
//! # Crash recovery
//!
//! A crash before `append_batch` loses only unanswered submissions (their
//! clients see the connection drop and resubmit; a resubmitted release is
//! then a duplicate or new). A crash after it leaves a complete round on
//! disk. On start, [`Sequencer::open`] verifies the stored checkpoint's
//! signature and origin and recomputes its root from the stored tiles; it
//! refuses to start on any mismatch.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigil_core::checkpoint::{self, Checkpoint};
use sigil_core::entry::{Entry, EntryBody};
use sigil_core::merkle::{self, Hash};
use sigil_core::note::{self, Ed25519Signer, NoteSigner, Verifiers};
use sigil_core::proof::TlogProof;
use sigil_core::tile::{self, TILE_WIDTH, Tile, TileError, TileHashReader, TileKind, TileReader};
use tokio::sync::{mpsc, oneshot, watch};

use sigil_verifier::{RevocationSet, VerifyError};

use crate::admission::stored_revocations;
use crate::error::ApiError;
use crate::metrics::{KindLabel, Metrics};
use crate::storage::{Batch, ReleaseRecord, Storage, StorageError};
use crate::tiles::{Overlay, StorageTiles, cut_to_width};
use crate::witnessing::Witnesses;

/// What readers see: the newest durable checkpoint.
#[derive(Clone, Debug)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The signed checkpoint note (C2SP tlog-checkpoint).
    pub checkpoint: Vec<u8>,
}

/// A submission that passed admission, waiting in the pool.
pub struct Pending {
    /// The entry to log; `integrated_at` is stamped by the round.
    pub body: EntryBody,
    /// For a release: (crate, version, sha256), for duplicate detection.
    pub release: Option<(String, String, [u8; 32])>,
    /// For a release: the certificate ids of its signers' paths (leaves and
    /// intermediates), for the revocation re-check in index order.
    pub signer_ids: Vec<[u8; 32]>,
    /// For a revocation: (certificate id, from_index).
    pub revokes: Option<([u8; 32], u64)>,
    /// When the submission arrived.
    pub received: Instant,
    /// Where the answer goes.
    pub respond: oneshot::Sender<Result<Accepted, ApiError>>,
}

/// The answer to an accepted submission.
#[derive(Clone, Debug)]
pub struct Accepted {
    /// The entry's index.
    pub index: u64,
    /// `false` when the release was already logged (HTTP 200, not 201).
    pub created: bool,
    /// The `.tlog-proof` of the entry against the newest checkpoint.
    pub proof: Vec<u8>,
}

/// How rounds are cut.
#[derive(Clone, Copy, Debug)]
pub struct RoundConfig {
    /// The longest a submission waits for its round to start.
    pub window: Duration,
    /// The most submissions in one round.
    pub max_batch: usize,
}

/// Why the sequencer could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The stored state is not something this log can trust.
    #[error("refusing to start: {0}")]
    Untrusted(String),
}

/// The sequencer's own state. See the module documentation.
pub struct Sequencer {
    storage: Arc<dyn Storage>,
    signer: Ed25519Signer,
    origin: String,
    /// Size of the durable tree.
    size: u64,
    /// Integration time of the newest entry: stamps never go backwards.
    last_time: u64,
    metrics: Metrics,
    published: watch::Sender<Arc<Published>>,
    /// A round whose commit failed, retried before anything else.
    unpersisted: Option<Round>,
    /// Witnesses asked to cosign each new checkpoint before it is published.
    witnesses: Option<Arc<Witnesses>>,
}

/// What a submission gets from its round: (index, created) or a refusal.
type Outcome = Result<(u64, bool), ApiError>;

/// A round's tiles and rows, its root, and its new entries by index.
type Built = (Batch, Hash, HashMap<u64, Vec<u8>>);

/// A round, computed and signed, waiting to be committed and answered.
struct Round {
    batch: Batch,
    root: Hash,
    entries: HashMap<u64, Vec<u8>>,
    answers: Vec<(Pending, Outcome)>,
    started: Instant,
    kinds: Vec<&'static str>,
}

impl Sequencer {
    /// Loads (or, for an empty store, creates) the log state and checks it:
    /// the stored checkpoint must be signed by `signer`, name `origin`, and
    /// its root must be the root of the stored tiles.
    pub fn open(
        storage: Arc<dyn Storage>,
        signer: Ed25519Signer,
        origin: &str,
        metrics: Metrics,
    ) -> Result<(Sequencer, watch::Receiver<Arc<Published>>), OpenError> {
        let published = match storage.load_checkpoint()? {
            None => {
                let root = merkle::empty_root();
                let checkpoint = sign(origin, 0, root, &signer)?;
                storage.append_batch(&Batch {
                    old_size: 0,
                    new_size: 0,
                    tiles: vec![],
                    releases: vec![],
                    revocations: vec![],
                    checkpoint: checkpoint.clone(),
                })?;
                Published {
                    size: 0,
                    root,
                    checkpoint,
                }
            }
            Some(stored) => verify_stored(&*storage, &signer, origin, stored.size, stored.note)?,
        };
        let last_time = if published.size == 0 {
            0
        } else {
            let bytes = read_entry(&*storage, published.size - 1, published.size)
                .map_err(|e| OpenError::Untrusted(format!("last entry unreadable: {e}")))?;
            Entry::decode(&bytes)
                .map_err(|e| OpenError::Untrusted(format!("last entry malformed: {e}")))?
                .integrated_at
        };
        metrics.tree_size.set(published.size as i64);
        let size = published.size;
        let (tx, rx) = watch::channel(Arc::new(published));
        Ok((
            Sequencer {
                storage,
                signer,
                origin: origin.to_string(),
                size,
                last_time,
                metrics,
                published: tx,
                unpersisted: None,
                witnesses: None,
            },
            rx,
        ))
    }

    /// Has every new checkpoint cosigned by `witnesses` (C2SP tlog-witness)
    /// before it is published and put in proofs.
    pub fn with_witnesses(mut self, witnesses: Arc<Witnesses>) -> Sequencer {
        self.witnesses = Some(witnesses);
        self
    }

    /// Asks the witnesses to cosign the stored checkpoint (it is stored
    /// without cosignatures) and publishes the result, so the first
    /// checkpoint readers see after a start is cosigned. `None` if the work
    /// panicked.
    pub async fn cosign_at_start(self) -> Option<Sequencer> {
        if self.witnesses.is_none() {
            return Some(self);
        }
        self.blocking(Sequencer::cosign_published).await
    }

    /// Runs rounds until every sender of the pool is gone (the server shut
    /// down), finishing the round in flight.
    pub async fn run(mut self, mut pool: mpsc::Receiver<Pending>, config: RoundConfig) {
        let mut backoff = Duration::from_millis(50);
        loop {
            if self.unpersisted.is_some() {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                match self.blocking(Sequencer::retry).await {
                    Some(s) => self = s,
                    None => return,
                }
                continue;
            }
            backoff = Duration::from_millis(50);
            let Some(first) = pool.recv().await else {
                return;
            };
            let mut pending = vec![first];
            let deadline = tokio::time::Instant::now() + config.window;
            while pending.len() < config.max_batch {
                match tokio::time::timeout_at(deadline, pool.recv()).await {
                    Ok(Some(p)) => pending.push(p),
                    Ok(None) | Err(_) => break,
                }
            }
            match self.blocking(move |s| s.round(pending)).await {
                Some(s) => self = s,
                None => return,
            }
        }
    }

    /// Runs `work` on the sequencer off the async threads (it hashes, signs
    /// and fsyncs). `None` if it panicked: the log then takes no more writes
    /// and keeps serving reads.
    async fn blocking(
        mut self,
        work: impl FnOnce(&mut Sequencer) + Send + 'static,
    ) -> Option<Sequencer> {
        match tokio::task::spawn_blocking(move || {
            work(&mut self);
            self
        })
        .await
        {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "sequencer task failed; no more writes");
                None
            }
        }
    }

    /// One round: order-dependent checks, tiles, checkpoint, commit, answers.
    fn round(&mut self, pending: Vec<Pending>) {
        let started = Instant::now();
        let now = unix_ms().max(self.last_time);
        let old_size = self.size;
        let mut next = old_size;
        let mut round_releases: HashMap<(String, String), ReleaseRecord> = HashMap::new();
        let mut round_revocations = RevocationSet::new();
        let mut entries: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut ordered: Vec<Vec<u8>> = Vec::new();
        let mut answers = Vec::with_capacity(pending.len());
        let mut kinds = Vec::new();
        let mut batch_releases = Vec::new();
        let mut batch_revocations = Vec::new();

        for p in pending {
            let decision = self.decide(&p, next, &round_releases, &round_revocations);
            let outcome = match decision {
                Err(e) => Err(e),
                Ok(Some(existing)) => Ok((existing, false)),
                Ok(None) => {
                    let entry = Entry {
                        integrated_at: now,
                        body: p.body.clone(),
                    };
                    match entry.encode() {
                        Err(e) => Err(ApiError::bad_request("entry_too_large", e.to_string())),
                        Ok(bytes) => {
                            let index = next;
                            next += 1;
                            if let Some((name, version, sha256)) = &p.release {
                                let record = ReleaseRecord {
                                    index,
                                    sha256: *sha256,
                                };
                                round_releases
                                    .insert((name.clone(), version.clone()), record.clone());
                                batch_releases.push((name.clone(), version.clone(), record));
                            }
                            if let Some((id, from)) = p.revokes {
                                round_revocations.insert(id, from);
                                batch_revocations.push((id, from));
                            }
                            kinds.push(entry.kind_name());
                            entries.insert(index, bytes.clone());
                            ordered.push(bytes);
                            Ok((index, true))
                        }
                    }
                }
            };
            answers.push((p, outcome));
        }

        if ordered.is_empty() {
            // Nothing new: answer duplicates and refusals against the
            // current checkpoint.
            let published = self.published.borrow().clone();
            self.answer(answers, &published, &HashMap::new());
            return;
        }

        let round = match self.build(
            old_size,
            ordered,
            entries,
            batch_releases,
            batch_revocations,
        ) {
            Ok((batch, root, entries)) => Round {
                batch,
                root,
                entries,
                answers,
                started,
                kinds,
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot build round");
                let published = self.published.borrow().clone();
                let failed = answers
                    .into_iter()
                    .map(|(p, _)| (p, Err(ApiError::Internal(format!("building round: {e}")))))
                    .collect();
                self.answer(failed, &published, &HashMap::new());
                return;
            }
        };
        self.last_time = now;
        self.commit(round);
    }

    /// Duplicate and revocation checks for one submission at `index`:
    /// `Ok(Some(i))` for a release already logged at `i`, `Ok(None)` to log it.
    fn decide(
        &self,
        p: &Pending,
        index: u64,
        round_releases: &HashMap<(String, String), ReleaseRecord>,
        round_revocations: &RevocationSet,
    ) -> Result<Option<u64>, ApiError> {
        if let Some((name, version, sha256)) = &p.release {
            let key = (name.clone(), version.clone());
            let existing = match round_releases.get(&key) {
                Some(r) => Some(r.clone()),
                None => self
                    .storage
                    .release(name, version)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            };
            if let Some(existing) = existing {
                if existing.sha256 == *sha256 {
                    return Ok(Some(existing.index));
                }
                return Err(ApiError::Conflict {
                    message: format!(
                        "{name}@{version} is already logged at index {} with sha256 {}; \
                         a published version cannot be replaced, publish a new version",
                        existing.index,
                        hex::encode(existing.sha256)
                    ),
                    existing_index: existing.index,
                });
            }
            let mut known = stored_revocations(&*self.storage, &p.signer_ids)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            known.extend(
                p.signer_ids
                    .iter()
                    .filter_map(|id| round_revocations.revoked_from(id).map(|f| (*id, f))),
            );
            if let Err(VerifyError::Revoked { from_index, .. }) =
                known.check_path(&p.signer_ids, index)
            {
                return Err(ApiError::Rejected {
                    code: "revoked",
                    message: format!(
                        "a signing certificate was revoked from log index {from_index}; \
                         this release would be at index {index}. Enroll a new key and sign again"
                    ),
                });
            }
        }
        Ok(None)
    }

    /// Computes the tiles, root and signed checkpoint of a round.
    fn build(
        &self,
        old_size: u64,
        ordered: Vec<Vec<u8>>,
        entries: HashMap<u64, Vec<u8>>,
        releases: Vec<(String, String, ReleaseRecord)>,
        revocations: Vec<([u8; 32], u64)>,
    ) -> Result<Built, RoundError> {
        let new_size = old_size + ordered.len() as u64;
        let base = StorageTiles(&*self.storage);
        let leaves: Vec<Hash> = ordered.iter().map(|e| merkle::leaf_hash(e)).collect();
        let mut tiles = tile::append_leaves(old_size, &base, &leaves)?;
        tiles.extend(entry_bundles(&base, old_size, &ordered)?);
        let overlay = Overlay::new(&tiles, &*self.storage);
        let root = merkle::tree_hash(new_size, &TileHashReader::trusted(new_size, &overlay))?;
        let checkpoint = sign(&self.origin, new_size, root, &self.signer)
            .map_err(|e| RoundError::Sign(e.to_string()))?;
        Ok((
            Batch {
                old_size,
                new_size,
                tiles,
                releases,
                revocations,
                checkpoint,
            },
            root,
            entries,
        ))
    }

    /// Commits a round; on success publishes and answers, on failure keeps
    /// it for [`Sequencer::retry`].
    fn commit(&mut self, round: Round) {
        match self.storage.append_batch(&round.batch) {
            Ok(()) => self.committed(round),
            Err(e) => {
                self.metrics.storage_failures.inc();
                tracing::error!(error = %e, size = round.batch.new_size, "storage write failed; will retry the same round");
                // Failed but persisted? Then the round is done.
                match self.storage.load_checkpoint() {
                    Ok(Some(stored)) if stored.note == round.batch.checkpoint => {
                        self.committed(round)
                    }
                    _ => self.unpersisted = Some(round),
                }
            }
        }
    }

    fn retry(&mut self) {
        if let Some(round) = self.unpersisted.take() {
            self.commit(round);
        }
    }

    /// After a durable commit: publish the new checkpoint, then answer.
    fn committed(&mut self, round: Round) {
        let published = Published {
            size: round.batch.new_size,
            root: round.root,
            checkpoint: self.cosigned(&round.batch.checkpoint, round.batch.new_size),
        };
        self.size = published.size;
        let new_entries = round.batch.new_size - round.batch.old_size;
        self.metrics.tree_size.set(published.size as i64);
        self.metrics.batch_size.observe(new_entries as f64);
        self.metrics
            .batch_seconds
            .observe(round.started.elapsed().as_secs_f64());
        for kind in &round.kinds {
            self.metrics
                .admitted
                .get_or_create(&KindLabel {
                    kind: (*kind).to_string(),
                })
                .inc();
        }
        tracing::debug!(size = published.size, new_entries, "round committed");
        // Commit point: everything below is derived from durable state.
        self.published.send_replace(Arc::new(published.clone()));
        self.answer(round.answers, &published, &round.entries);
    }

    /// Republishes the current checkpoint with the witnesses' cosignatures.
    fn cosign_published(&mut self) {
        let current = self.published.borrow().clone();
        if current.size == 0 {
            return;
        }
        let checkpoint = self.cosigned(&current.checkpoint, current.size);
        self.published.send_replace(Arc::new(Published {
            checkpoint,
            ..(*current).clone()
        }));
    }

    /// The checkpoint note with the configured witnesses' cosignatures
    /// appended (those that answered with a valid one).
    fn cosigned(&self, note: &[u8], size: u64) -> Vec<u8> {
        let Some(witnesses) = &self.witnesses else {
            return note.to_vec();
        };
        let reader = CachedTiles::new(&*self.storage);
        let signer = &self.signer;
        witnesses.cosign(
            note,
            size,
            &self.origin,
            &|| Box::new(signer.verifier()),
            &|old| {
                merkle::prove_consistency(old, size, &TileHashReader::trusted(size, &reader))
                    .map_err(|e| e.to_string())
            },
        )
    }

    /// Sends each submitter its answer, with a proof against `published`.
    fn answer(
        &self,
        answers: Vec<(Pending, Outcome)>,
        published: &Published,
        fresh: &HashMap<u64, Vec<u8>>,
    ) {
        let reader = CachedTiles::new(&*self.storage);
        for (p, outcome) in answers {
            let reply = outcome.and_then(|(index, created)| {
                let entry = match fresh.get(&index) {
                    Some(bytes) => bytes.clone(),
                    None => read_entry_with(&reader, index, published.size)
                        .map_err(|e| ApiError::Internal(e.to_string()))?,
                };
                let proof = prove(&reader, index, published, entry)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok(Accepted {
                    index,
                    created,
                    proof,
                })
            });
            // Refusals are counted where the HTTP answer is made.
            if matches!(&reply, Ok(a) if !a.created) {
                self.metrics.duplicates.inc();
            }
            self.metrics
                .submit_seconds
                .observe(p.received.elapsed().as_secs_f64());
            // The submitter may have given up (timeout, disconnect).
            let _ = p.respond.send(reply);
        }
    }
}

/// Why a round could not be built (a bug or a storage failure; the
/// submitters get a 500 and the log goes on).
#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error("tiles: {0}")]
    Tile(#[from] TileError),
    #[error("merkle: {0}")]
    Merkle(#[from] merkle::MerkleError),
    #[error("signing: {0}")]
    Sign(String),
}

/// The `.tlog-proof` of the entry at `index` against `published`.
pub fn prove(
    reader: &dyn TileReader,
    index: u64,
    published: &Published,
    entry: Vec<u8>,
) -> Result<Vec<u8>, merkle::MerkleError> {
    let hashes = merkle::prove_inclusion(
        index,
        published.size,
        &TileHashReader::trusted(published.size, reader),
    )?;
    Ok(TlogProof {
        extra: Some(entry),
        index,
        hashes,
        checkpoint: published.checkpoint.clone(),
    }
    .encode())
}

/// Reads the bytes of entry `index` from the entry bundles of a tree of
/// `size`.
pub fn read_entry(storage: &dyn Storage, index: u64, size: u64) -> Result<Vec<u8>, TileError> {
    read_entry_with(&StorageTiles(storage), index, size)
}

fn read_entry_with(reader: &dyn TileReader, index: u64, size: u64) -> Result<Vec<u8>, TileError> {
    let tile = Tile::at_size(TileKind::Entries, index / u64::from(TILE_WIDTH), size).ok_or(
        TileError::InvalidTile {
            reason: "entry index beyond the tree size",
        },
    )?;
    let data = reader.read_tiles(&[tile])?;
    let bundle = data.first().ok_or(TileError::MissingTile(tile))?;
    let entries = tile::parse_bundle_for_tile(&tile, bundle)?;
    entries
        .get((index % u64::from(TILE_WIDTH)) as usize)
        .map(|e| e.to_vec())
        .ok_or(TileError::MissingTile(tile))
}

/// The entry bundles that change when `entries` are appended to a tree of
/// `old_size`: the old partial bundle (if any) extended, then new ones.
fn entry_bundles(
    base: &StorageTiles<'_>,
    old_size: u64,
    entries: &[Vec<u8>],
) -> Result<Vec<(Tile, Vec<u8>)>, TileError> {
    let width = u64::from(TILE_WIDTH);
    let mut current: Vec<Vec<u8>> = Vec::new();
    if let Some(partial) = tile::partial_entry_tile(old_size) {
        let data = base.read_tiles(&[partial])?;
        let bundle = data.first().ok_or(TileError::MissingTile(partial))?;
        current = tile::parse_bundle_for_tile(&partial, bundle)?
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
    }
    let mut index = old_size / width;
    let mut out = Vec::new();
    for entry in entries {
        current.push(entry.clone());
        if current.len() as u64 == width {
            out.push(encode(index, &current)?);
            current.clear();
            index += 1;
        }
    }
    if !current.is_empty() {
        out.push(encode(index, &current)?);
    }
    return Ok(out);

    fn encode(index: u64, entries: &[Vec<u8>]) -> Result<(Tile, Vec<u8>), TileError> {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let width = u16::try_from(entries.len()).map_err(|_| TileError::InvalidTile {
            reason: "bundle wider than a tile",
        })?;
        Ok((
            Tile::new(TileKind::Entries, index, width)?,
            tile::encode_bundle(&refs)?,
        ))
    }
}

/// Signs the checkpoint for (`size`, `root`).
fn sign(origin: &str, size: u64, root: Hash, signer: &Ed25519Signer) -> Result<Vec<u8>, OpenError> {
    checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions: vec![],
        },
        signer,
    )
    .map_err(|e| OpenError::Untrusted(format!("cannot sign checkpoint: {e}")))
}

/// Checks a stored checkpoint before the log serves it again.
fn verify_stored(
    storage: &dyn Storage,
    signer: &Ed25519Signer,
    origin: &str,
    size: u64,
    note_bytes: Vec<u8>,
) -> Result<Published, OpenError> {
    let untrusted = OpenError::Untrusted;
    let verifiers = Verifiers::new(vec![Box::new(signer.verifier())]);
    let opened = note::open(&note_bytes, &verifiers).map_err(|e| {
        untrusted(format!(
            "the stored checkpoint is not signed by this log key ({e}); wrong --key for this --data-dir?"
        ))
    })?;
    let cp = Checkpoint::parse(&opened.text)
        .map_err(|e| untrusted(format!("stored checkpoint malformed: {e}")))?;
    if cp.origin != origin || signer.name() != origin {
        return Err(untrusted(format!(
            "stored checkpoint is for origin {:?}, the key is for {:?}",
            cp.origin,
            signer.name()
        )));
    }
    if cp.size != size {
        return Err(untrusted(format!(
            "stored checkpoint says size {} but storage records {size}",
            cp.size
        )));
    }
    let root = merkle::tree_hash(size, &TileHashReader::trusted(size, &StorageTiles(storage)))
        .map_err(|e| {
            untrusted(format!(
                "cannot recompute the tree root from stored tiles: {e}"
            ))
        })?;
    if root != cp.root {
        return Err(untrusted(format!(
            "stored tiles give root {} but the checkpoint says {}; the data directory is corrupt",
            hex::encode(root),
            hex::encode(cp.root)
        )));
    }
    Ok(Published {
        size,
        root,
        checkpoint: note_bytes,
    })
}

/// A [`TileReader`] over storage that remembers what it read, for answering
/// a round's proofs (they share most tiles).
struct CachedTiles<'a> {
    storage: &'a dyn Storage,
    cache: RefCell<HashMap<(TileKind, u64), Vec<u8>>>,
}

impl<'a> CachedTiles<'a> {
    fn new(storage: &'a dyn Storage) -> Self {
        CachedTiles {
            storage,
            cache: RefCell::new(HashMap::new()),
        }
    }
}

impl TileReader for CachedTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        let missing: Vec<Tile> = {
            let cache = self.cache.borrow();
            tiles
                .iter()
                .filter(|t| !cache.contains_key(&(t.kind, t.index)))
                .copied()
                .collect()
        };
        if !missing.is_empty() {
            let stored = self
                .storage
                .read_tiles(&missing)
                .map_err(TileError::storage)?;
            let mut cache = self.cache.borrow_mut();
            for (t, data) in missing.iter().zip(stored) {
                if let Some(data) = data {
                    cache.insert((t.kind, t.index), data);
                }
            }
        }
        let cache = self.cache.borrow();
        tiles
            .iter()
            .map(|t| match cache.get(&(t.kind, t.index)) {
                Some(data) => cut_to_width(t, data.clone()),
                None => Err(TileError::MissingTile(*t)),
            })
            .collect()
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
