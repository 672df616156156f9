//! The sequencer: the log's single writer. It turns the pool of admitted
//! submissions into durable log entries, one round at a time, and hands
//! each durable round to the publisher ([`crate::publisher`]). It never
//! waits for a witness, a reader or a submitter (`docs/log.md`: pending →
//! sequenced → integrated here; published there).
//!
//! # Invariants
//!
//! - **Single writer.** One task owns [`Sequencer`] and is the only caller of
//!   [`Storage::append_batch`]. It owns `size` (the integrated tree size)
//!   and `last_time`; nothing else reads or writes them.
//! - **No promise before durability.** A round is handed to the publisher
//!   only after `append_batch` returned `Ok` — everything of the round
//!   (entries, tiles, index rows, checkpoint) is then on disk in one synced
//!   RocksDB `WriteBatch`. The publisher answers submitters later still,
//!   once a published checkpoint covers the round.
//! - **One root per size, ever.** A round's checkpoint is signed after its
//!   tiles are computed and is written in the same batch. If the write fails,
//!   the round is kept and retried *unchanged* (same entries, same
//!   timestamps, hence the same root and — Ed25519 being deterministic — the
//!   same signed checkpoint) before anything else is sequenced. If it failed
//!   but was persisted anyway, the reload sees the stored checkpoint equal
//!   to the round's and moves on.
//! - **Ordered checks.** Duplicates (a release's crate@version, a certificate
//!   chain, a revocation that moves nothing earlier: answered with the entry
//!   already logged) and revocations depend on position, so they are
//!   decided here ([`Refusal`]), in index order, including against earlier
//!   entries of the same round. Signatures and
//!   chains were checked at admission (`crate::admission`) and are not
//!   repeated, but the entry is judged at its `integrated_at`, which is
//!   later: a certificate of its check that expired by then refuses it
//!   ([`Refusal::CertificateExpired`]).
//! - **Never sign after a rollback.** Once [`Halt`] is set (a witness has
//!   cosigned a larger tree than storage holds: [`crate::rollback`]), no
//!   round is made and a round already signed in memory is not committed;
//!   their submitters are refused at once.
//! - **Never blocked by publishing.** The hand-off to the publisher is an
//!   unbounded channel: the sequencer goes on with the next round at once.
//!   The backlog is bounded by the submission rate times the witness
//!   timeout, and the pool's capacity bounds the rate.
//! - **Integration times never go backwards**: a round is stamped with
//!   `max(now, last_time)`.
//!
//! # Crash recovery
//!
//! A crash before `append_batch` loses only unanswered submissions (their
//! clients see the connection drop and resubmit; a resubmitted release is
//! then a duplicate or new). A crash after it leaves a complete round on
//! disk whose submitters were not answered: the entries are in the log
//! (a resubmission is answered as a duplicate), and the checkpoint is
//! published at the next start. On start, [`Sequencer::open`] verifies the
//! stored checkpoint's signature and origin and recomputes its root from the
//! stored tiles; it refuses to start on any mismatch ([`OpenError`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigil_core::checkpoint::{self, Checkpoint, CheckpointError};
use sigil_core::entry::{Entry, EntryBody, EntryError};
use sigil_core::merkle::{self, Hash, MerkleError};
use sigil_core::note::{self, Ed25519Signer, NoteError, NoteSigner, Verifiers};
use sigil_core::tile::{self, TileError, TileHashReader};
use sigil_verifier::VerifyError;
use sigil_verifier::error::rfc3339;
use tokio::sync::{mpsc, oneshot};

use crate::admission::{Expiry, stored_revocations};
use crate::metrics::{KindLabel, Metrics};
use crate::publisher::{Handoff, Integrated, Reply, SubmitError, Waiting};
use crate::read::read_entry;
use crate::rollback::{Halt, Stopped};
use crate::storage::{Batch, ReleaseRecord, RevocationRecord, Storage, StorageError, chain_hash};
use crate::tiles::{Overlay, StorageTiles, entry_bundles};

/// A submission that passed admission, waiting in the pool.
pub struct Pending {
    /// The entry to log; `integrated_at` is stamped by the round.
    pub body: EntryBody,
    /// For a release: (crate, version, sha256), for duplicate detection.
    pub release: Option<(String, String, [u8; 32])>,
    /// For a release: the certificate ids of its signers' paths (leaves and
    /// intermediates); for a revocation: its signer's. For the revocation
    /// re-check in index order.
    pub signer_ids: Vec<[u8; 32]>,
    /// For a revocation: (certificate id, from_index).
    pub revokes: Option<([u8; 32], u64)>,
    /// When the certificates admission checked stop validating; refused if
    /// the round's `integrated_at` is past it.
    pub expiry: Expiry,
    /// When the submission arrived.
    pub received: Instant,
    /// Where the answer goes (sent by the publisher).
    pub respond: oneshot::Sender<Reply>,
}

/// How rounds are cut.
#[derive(Clone, Copy, Debug)]
pub struct RoundConfig {
    /// The longest a submission waits for its round to start.
    pub window: Duration,
    /// The most submissions in one round.
    pub max_batch: usize,
}

/// Why the sequencer did not give a submission an index: the decisions
/// that depend on the entry's position, and failures of the round.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A different artifact is already logged for this crate@version.
    #[error(
        "{crate_name}@{version} is already logged at index {existing_index} with sha256 {}; \
         a published version cannot be replaced, publish a new version",
        hex::encode(existing_sha256)
    )]
    Conflict {
        /// The crate.
        crate_name: String,
        /// The version.
        version: String,
        /// Index of the entry already logged.
        existing_index: u64,
        /// SHA-256 of the `.crate` already logged.
        existing_sha256: [u8; 32],
    },
    /// A certificate on a signer's path (a release's, or a revocation's
    /// CA) is revoked from an index at or before the one this entry would
    /// get (`sigil_verifier::RevocationSet`).
    #[error(
        "a signing certificate was revoked from log index {from_index}; \
         this entry would be at index {index}. Enroll a new key and sign again"
    )]
    Revoked {
        /// The revocation's first void index.
        from_index: u64,
        /// The index the entry would have had.
        index: u64,
    },
    /// A certificate the entry's check used was valid at admission but has
    /// expired by the round's `integrated_at`, the time the entry is judged
    /// at (`sigil_verifier::expired_at`).
    #[error(
        "{certificate} expired at {}, after this entry was admitted but before it was \
         integrated at {}; a logged entry must be valid at its integration time. \
         Renew that certificate (a maintainer enrolls again with `sigil enroll`; a CA \
         certificate is renewed by the CA operator), sign again and resubmit",
        rfc3339(*not_after_ms),
        rfc3339(*integrated_at)
    )]
    CertificateExpired {
        /// Which certificate ([`Expiry::certificate`]).
        certificate: String,
        /// Its notAfter, Unix ms.
        not_after_ms: u64,
        /// The round's integration time, Unix ms.
        integrated_at: u64,
    },
    /// The log has stopped signing: its storage was rolled back, or
    /// another process sequences ([`crate::rollback`]).
    #[error(transparent)]
    Stopped(Stopped),
    /// The entry, stamped, is larger than an entry may be.
    #[error("{0}")]
    EntryTooLarge(EntryError),
    /// Storage failed during the checks.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The round could not be built (a bug or a storage failure); nothing
    /// of it was written.
    #[error("building the round: {0}")]
    Round(Arc<RoundError>),
}

/// Why a round could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoundError {
    /// Tiles could not be read or computed.
    #[error("tiles: {0}")]
    Tile(#[from] TileError),
    /// The root could not be computed.
    #[error("merkle: {0}")]
    Merkle(#[from] MerkleError),
    /// The checkpoint could not be signed.
    #[error("signing: {0}")]
    Sign(#[from] CheckpointError),
}

/// Why the sequencer could not start: the stored state could not be read,
/// or is not something this log can trust.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The first (empty) checkpoint could not be signed.
    #[error("cannot sign checkpoint: {0}")]
    Sign(CheckpointError),
    /// The stored checkpoint does not verify with the log's key.
    #[error(
        "refusing to start: the stored checkpoint is not signed by this log key ({0}); \
         wrong --key for this --data-dir?"
    )]
    WrongKey(NoteError),
    /// The stored checkpoint's text is not a checkpoint.
    #[error("refusing to start: stored checkpoint malformed: {0}")]
    MalformedCheckpoint(CheckpointError),
    /// The stored checkpoint names another origin than the key.
    #[error(
        "refusing to start: stored checkpoint is for origin {stored:?}, the key is for {key:?}"
    )]
    WrongOrigin {
        /// The stored checkpoint's origin.
        stored: String,
        /// The key's name.
        key: String,
    },
    /// The stored checkpoint's size is not what storage records.
    #[error(
        "refusing to start: stored checkpoint says size {checkpoint} but storage records {stored}"
    )]
    SizeMismatch {
        /// The checkpoint's size.
        checkpoint: u64,
        /// The size storage records.
        stored: u64,
    },
    /// The root could not be recomputed from the stored tiles.
    #[error("refusing to start: cannot recompute the tree root from stored tiles: {0}")]
    Unrecomputable(MerkleError),
    /// The stored tiles do not hash to the stored checkpoint's root.
    #[error(
        "refusing to start: stored tiles give root {} but the checkpoint says {}; \
         the data directory is corrupt",
        hex::encode(tiles),
        hex::encode(checkpoint)
    )]
    RootMismatch {
        /// The root of the stored tiles.
        tiles: Hash,
        /// The stored checkpoint's root.
        checkpoint: Hash,
    },
    /// The newest entry cannot be read (its time is where the next round's
    /// stamps start).
    #[error("refusing to start: last entry unreadable: {0}")]
    LastEntryUnreadable(TileError),
    /// The newest entry does not decode.
    #[error("refusing to start: last entry malformed: {0}")]
    LastEntryMalformed(EntryError),
}

/// The sequencer's own state. See the module documentation.
pub struct Sequencer {
    storage: Arc<dyn Storage>,
    signer: Ed25519Signer,
    origin: String,
    /// Size of the durable (integrated) tree.
    size: u64,
    /// Integration time of the newest entry: stamps never go backwards.
    last_time: u64,
    metrics: Metrics,
    /// A round whose commit failed, retried before anything else.
    unpersisted: Option<Round>,
    /// Durable rounds go here, to the publisher.
    publisher: mpsc::UnboundedSender<Handoff>,
    /// Set (by the publisher) once the log must not sign any more.
    halt: Halt,
}

/// What a round logged so far, by key: later submissions of the same
/// round are decided against it before storage.
#[derive(Default)]
struct RoundRows {
    releases: HashMap<(String, String), ReleaseRecord>,
    certificates: HashMap<[u8; 32], u64>,
    revocations: HashMap<[u8; 32], RevocationRecord>,
}

/// The rows a round writes with its batch.
struct BatchRows {
    releases: Vec<(String, String, ReleaseRecord)>,
    certificates: Vec<([u8; 32], u64)>,
    revocations: Vec<([u8; 32], RevocationRecord)>,
}

/// A round, computed and signed, waiting to be committed and handed off.
struct Round {
    batch: Batch,
    root: Hash,
    entries: HashMap<u64, Vec<u8>>,
    answers: Vec<Waiting>,
    started: Instant,
    kinds: Vec<&'static str>,
}

impl Sequencer {
    /// Loads (or, for an empty store, creates) the log state and checks it:
    /// the stored checkpoint must be signed by `signer`, name its origin,
    /// and its root must be the root of the stored tiles. Returns the
    /// sequencer and the stored checkpoint, which the publisher starts from.
    /// Durable rounds will be sent to `publisher`; once `halt` is set, no
    /// round is made or committed.
    pub fn open(
        storage: Arc<dyn Storage>,
        signer: Ed25519Signer,
        metrics: Metrics,
        publisher: mpsc::UnboundedSender<Handoff>,
        halt: Halt,
    ) -> Result<(Sequencer, Integrated), OpenError> {
        let origin = signer.name().to_owned();
        let stored = match storage.load_checkpoint()? {
            None => {
                let root = merkle::empty_root();
                let checkpoint = sign(&origin, 0, root, &signer).map_err(OpenError::Sign)?;
                // Commit point: the empty log exists.
                storage.append_batch(&Batch {
                    old_size: 0,
                    new_size: 0,
                    tiles: vec![],
                    releases: vec![],
                    certificates: vec![],
                    revocations: vec![],
                    checkpoint: checkpoint.clone(),
                })?;
                Integrated {
                    size: 0,
                    root,
                    note: checkpoint,
                }
            }
            Some(stored) => verify_stored(&*storage, &signer, stored.size, stored.note)?,
        };
        let last_time = if stored.size == 0 {
            0
        } else {
            let bytes = read_entry(&StorageTiles(&*storage), stored.size - 1, stored.size)
                .map_err(OpenError::LastEntryUnreadable)?;
            Entry::decode(&bytes)
                .map_err(OpenError::LastEntryMalformed)?
                .integrated_at
        };
        metrics.integrated_size.set(stored.size as i64);
        Ok((
            Sequencer {
                storage,
                signer,
                origin,
                size: stored.size,
                last_time,
                metrics,
                unpersisted: None,
                publisher,
                halt,
            },
            stored,
        ))
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

    /// One round: order-dependent checks, tiles, checkpoint, commit,
    /// hand-off.
    fn round(&mut self, pending: Vec<Pending>) {
        if let Err(why) = self.halt.check() {
            refuse(pending.into_iter().map(|p| p.respond), &why);
            return;
        }
        let started = Instant::now();
        let now = sigil_serve::unix_ms().max(self.last_time);
        let old_size = self.size;
        let mut next = old_size;
        let mut rows = RoundRows::default();
        let mut entries: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut ordered: Vec<Vec<u8>> = Vec::new();
        let mut answers = Vec::with_capacity(pending.len());
        let mut kinds = Vec::new();
        let mut batch_releases = Vec::new();
        let mut batch_certificates = Vec::new();
        let mut batch_revocations = Vec::new();

        for p in pending {
            let chain = match &p.body {
                EntryBody::Certificate(c) => Some(chain_hash(&c.chain)),
                _ => None,
            };
            let decision = self.decide(&p, chain, next, now, &rows);
            let outcome = match decision {
                Err(e) => Err(e),
                Ok(Some(existing)) => Ok((existing, false)),
                Ok(None) => {
                    let entry = Entry {
                        integrated_at: now,
                        body: p.body,
                    };
                    match entry.encode() {
                        Err(e) => Err(Refusal::EntryTooLarge(e)),
                        Ok(bytes) => {
                            let index = next;
                            next += 1;
                            if let Some((name, version, sha256)) = &p.release {
                                let record = ReleaseRecord {
                                    index,
                                    sha256: *sha256,
                                };
                                rows.releases
                                    .insert((name.clone(), version.clone()), record.clone());
                                batch_releases.push((name.clone(), version.clone(), record));
                            }
                            if let Some(hash) = chain {
                                rows.certificates.insert(hash, index);
                                batch_certificates.push((hash, index));
                            }
                            if let Some((id, from_index)) = p.revokes {
                                let record = RevocationRecord { from_index, index };
                                rows.revocations.insert(id, record);
                                batch_revocations.push((id, record));
                            }
                            kinds.push(entry.kind_name());
                            entries.insert(index, bytes.clone());
                            ordered.push(bytes);
                            Ok((index, true))
                        }
                    }
                }
            };
            answers.push(Waiting {
                respond: p.respond,
                received: p.received,
                outcome,
            });
        }

        if ordered.is_empty() {
            // Nothing new: duplicates and refusals are answered once the
            // tree integrated so far is published.
            self.hand_off(None, answers, HashMap::new());
            return;
        }

        let built = self.build(
            old_size,
            &ordered,
            BatchRows {
                releases: batch_releases,
                certificates: batch_certificates,
                revocations: batch_revocations,
            },
        );
        let (batch, root) = match built {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot build round");
                let e = Arc::new(e);
                let failed = answers
                    .into_iter()
                    .map(|w| Waiting {
                        outcome: Err(Refusal::Round(e.clone())),
                        ..w
                    })
                    .collect();
                self.hand_off(None, failed, HashMap::new());
                return;
            }
        };
        self.last_time = now;
        self.commit(Round {
            batch,
            root,
            entries,
            answers,
            started,
            kinds,
        });
    }

    /// The checks that depend on position and on the round's time, for one
    /// submission at `index` stamped `integrated_at` (`chain`: the
    /// [`chain_hash`] of a certificate entry): `Ok(Some(i))` when the log
    /// already holds what it says at `i` — the same release, the same
    /// certificate chain, or a revocation of the same certificate (whose id
    /// names its issuer's key, the only key that can sign its revocation)
    /// from an index at or before this one's — and `Ok(None)` to log it.
    /// A new entry whose certificates expired by `integrated_at`, or whose
    /// signer is revoked at `index`, is refused.
    fn decide(
        &self,
        p: &Pending,
        chain: Option<[u8; 32]>,
        index: u64,
        integrated_at: u64,
        rows: &RoundRows,
    ) -> Result<Option<u64>, Refusal> {
        if let Some(hash) = chain {
            let existing = match rows.certificates.get(&hash) {
                Some(i) => Some(*i),
                None => self.storage.certificate(&hash)?,
            };
            if existing.is_some() {
                return Ok(existing);
            }
        }
        if let Some((id, from_index)) = p.revokes {
            let existing = match rows.revocations.get(&id) {
                Some(r) => Some(*r),
                None => self.storage.revocation(&id)?,
            };
            // Only a revocation that moves from_index earlier changes what
            // the log says (RevocationSet: the earliest wins).
            if let Some(r) = existing.filter(|r| r.from_index <= from_index) {
                return Ok(Some(r.index));
            }
        }
        if let Some((name, version, sha256)) = &p.release {
            let key = (name.clone(), version.clone());
            let existing = match rows.releases.get(&key) {
                Some(r) => Some(r.clone()),
                None => self.storage.release(name, version)?,
            };
            if let Some(existing) = existing {
                if existing.sha256 == *sha256 {
                    return Ok(Some(existing.index));
                }
                return Err(Refusal::Conflict {
                    crate_name: name.clone(),
                    version: version.clone(),
                    existing_index: existing.index,
                    existing_sha256: existing.sha256,
                });
            }
        }
        // The entry is judged at its integrated_at (sigil_verifier::
        // check_entry), later than admission judged it: a batch window, a
        // retried write (issue #11 item 10).
        if sigil_verifier::expired_at(p.expiry.not_after_ms, integrated_at) {
            return Err(Refusal::CertificateExpired {
                certificate: p.expiry.certificate.clone(),
                not_after_ms: p.expiry.not_after_ms,
                integrated_at,
            });
        }
        // A release's signers, or a revocation's signer (issue #11 item 6:
        // a revoked CA cannot sign revocations), at this entry's index.
        let mut known = stored_revocations(&*self.storage, &p.signer_ids)?;
        known.extend(
            p.signer_ids
                .iter()
                .filter_map(|id| rows.revocations.get(id).map(|r| (*id, r.from_index))),
        );
        if let Err(VerifyError::Revoked { from_index, .. }) = known.check_path(&p.signer_ids, index)
        {
            return Err(Refusal::Revoked { from_index, index });
        }
        Ok(None)
    }

    /// Computes the tiles, root and signed checkpoint of a round.
    fn build(
        &self,
        old_size: u64,
        ordered: &[Vec<u8>],
        rows: BatchRows,
    ) -> Result<(Batch, Hash), RoundError> {
        let new_size = old_size + ordered.len() as u64;
        let base = StorageTiles(&*self.storage);
        let leaves: Vec<Hash> = ordered.iter().map(|e| merkle::leaf_hash(e)).collect();
        let mut tiles = tile::append_leaves(old_size, &base, &leaves)?;
        tiles.extend(entry_bundles(&base, old_size, ordered)?);
        let overlay = Overlay::new(&tiles, &*self.storage);
        let root = merkle::tree_hash(new_size, &TileHashReader::trusted(new_size, &overlay))?;
        let checkpoint = sign(&self.origin, new_size, root, &self.signer)?;
        Ok((
            Batch {
                old_size,
                new_size,
                tiles,
                releases: rows.releases,
                certificates: rows.certificates,
                revocations: rows.revocations,
                checkpoint,
            },
            root,
        ))
    }

    /// Commits a round; on success hands it to the publisher, on failure
    /// keeps it for [`Sequencer::retry`].
    fn commit(&mut self, round: Round) {
        // The round was signed in memory; once the log stopped signing it
        // is never stored nor handed to the publisher.
        if let Err(why) = self.halt.check() {
            refuse(round.answers.into_iter().map(|w| w.respond), &why);
            return;
        }
        match self.storage.append_batch(&round.batch) {
            Ok(()) => {
                self.halt.storage_recovered();
                self.committed(round)
            }
            // Another sequencer has the bucket's record (storage::object,
            // invariant 4): this round was never committed, and no round
            // will be; never retried with a new root.
            Err(StorageError::LeaseLost { holder } | StorageError::NotSequencer { holder }) => {
                self.halt.stop(Stopped::NotSequencer { holder });
                if let Err(why) = self.halt.check() {
                    refuse(round.answers.into_iter().map(|w| w.respond), &why);
                }
            }
            Err(e) => {
                self.metrics.storage_failures.inc();
                tracing::error!(error = %e, size = round.batch.new_size, "storage write failed; will retry the same round");
                self.halt.storage_failed(e.to_string());
                // Failed but persisted? Then the round is done.
                match self.storage.load_checkpoint() {
                    Ok(Some(stored)) if stored.note == round.batch.checkpoint => {
                        self.halt.storage_recovered();
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

    /// After a durable commit: the round is integrated; the publisher takes
    /// it from here.
    fn committed(&mut self, round: Round) {
        // Commit point: everything below is derived from durable state.
        self.size = round.batch.new_size;
        let new_entries = round.batch.new_size - round.batch.old_size;
        self.metrics.integrated_size.set(self.size as i64);
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
        tracing::debug!(size = self.size, new_entries, "round integrated");
        let integrated = Integrated {
            size: round.batch.new_size,
            root: round.root,
            note: round.batch.checkpoint,
        };
        self.hand_off(Some(integrated), round.answers, round.entries);
    }

    /// Gives the publisher a round's outcome: the new checkpoint (if the
    /// round added entries) and the submitters to answer once the tree
    /// integrated so far is published.
    fn hand_off(
        &self,
        checkpoint: Option<Integrated>,
        answers: Vec<Waiting>,
        fresh: HashMap<u64, Vec<u8>>,
    ) {
        let handoff = Handoff {
            size: self.size,
            checkpoint,
            answers,
            fresh,
        };
        // Fails only when the publisher is gone (it panicked): the
        // submitters then see their answer channel closed, a 503.
        if self.publisher.send(handoff).is_err() {
            tracing::error!("the publisher is gone; rounds are durable but not published");
        }
    }
}

/// Answers submitters at once: the log stopped signing ([`crate::rollback`]).
/// Their entries will never be published, so they need not wait for the
/// publisher's order.
fn refuse(respond: impl Iterator<Item = oneshot::Sender<Reply>>, why: &Stopped) {
    for r in respond {
        // The submitter may have given up.
        let _ = r.send(Err(SubmitError::Refused(Refusal::Stopped(why.clone()))));
    }
}

/// Signs the checkpoint for (`size`, `root`) (C2SP tlog-checkpoint).
fn sign(
    origin: &str,
    size: u64,
    root: Hash,
    signer: &Ed25519Signer,
) -> Result<Vec<u8>, CheckpointError> {
    checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions: vec![],
        },
        signer,
    )
}

/// Checks a stored checkpoint before the log serves it again.
fn verify_stored(
    storage: &dyn Storage,
    signer: &Ed25519Signer,
    size: u64,
    note_bytes: Vec<u8>,
) -> Result<Integrated, OpenError> {
    let verifiers = Verifiers::new(vec![Box::new(signer.verifier())]);
    let opened = note::open(&note_bytes, &verifiers).map_err(OpenError::WrongKey)?;
    let cp = Checkpoint::parse(&opened.text).map_err(OpenError::MalformedCheckpoint)?;
    if cp.origin != signer.name() {
        return Err(OpenError::WrongOrigin {
            stored: cp.origin,
            key: signer.name().to_owned(),
        });
    }
    if cp.size != size {
        return Err(OpenError::SizeMismatch {
            checkpoint: cp.size,
            stored: size,
        });
    }
    let root = merkle::tree_hash(size, &TileHashReader::trusted(size, &StorageTiles(storage)))
        .map_err(OpenError::Unrecomputable)?;
    if root != cp.root {
        return Err(OpenError::RootMismatch {
            tiles: root,
            checkpoint: cp.root,
        });
    }
    Ok(Integrated {
        size,
        root,
        note: note_bytes,
    })
}
