//! The publisher: takes each round the sequencer made durable, has its
//! checkpoint cosigned by the log's witnesses, publishes it, and only then
//! answers the round's submitters with `.tlog-proof`s against the published
//! checkpoint. This is the "publish" half of Tessera's integrate-then-publish
//! split (STYLE.md §11; `docs/log.md` for the lifecycle and the rules).
//!
//! # Invariants
//!
//! - **Sequencing never waits for a witness.** The sequencer hands rounds
//!   over an unbounded channel ([`Handoff`]) and goes on; every network
//!   call is made here, off the sequencer's task.
//! - **Readers see only published state.** This task owns the only sender
//!   of the [`Published`] watch channel; `/checkpoint`, tiles and proofs are
//!   served at the published size. The published size never decreases; at
//!   the same size the checkpoint only gains cosignatures.
//! - **Answers follow publication, in order.** A round's submitters
//!   (duplicates and refusals too) are answered once a published checkpoint
//!   covers the tree integrated up to their round, in the order rounds were
//!   handed over, with proofs against that checkpoint.
//! - **Witnesses are asked in parallel, at most one request in flight per
//!   witness,** each bounded by the witness timeout. When a checkpoint is
//!   published is decided by [`cosigning::Cosigning`], a pure state machine:
//!   as soon as the quorum (`--witness-quorum`) of valid cosignatures
//!   arrived, or every witness that is up answered, or the timeout passed
//!   (fail open: clients enforce their own quorum). A witness that failed or
//!   timed out is down: still asked in the background, never waited for,
//!   until it answers in time again.
//! - **Coalescing.** Checkpoints integrated while one is being cosigned are
//!   not cosigned one by one: the next attempt takes the newest (C2SP
//!   tlog-witness accepts any older size with a consistency proof).
//! - **Late cosignatures count.** A valid cosignature of the size still
//!   published is added, and the checkpoint republished.
//! - **At start** the stored checkpoint (stored without cosignatures) is
//!   cosigned under the same rules before the log serves.
//! - **A witness ahead of the log stops it.** A configured witness that
//!   answers it has cosigned a larger size than the checkpoint asked
//!   ([`Failure::Ahead`]) proves the storage was rolled back: the publisher
//!   sets [`Halt`] ([`crate::rollback`]), publishes no larger size from
//!   then on, and refuses the submitters of rounds it had not published.
//!
//! # Crash recovery
//!
//! Nothing here is durable: cosignatures live in memory and in what was
//! served. After a crash, rounds that were integrated but not published are
//! in storage; their submitters got no answer (they resubmit and get the
//! existing entry), and the stored checkpoint, which covers them, is
//! cosigned and published at the next start.

pub mod cosigning;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigil_core::merkle::{CachedHashes, Hash};
use sigil_core::note::Ed25519Verifier;
use sigil_core::tile::TileHashReader;
use tokio::sync::{mpsc, oneshot, watch};

use crate::metrics::{Metrics, WitnessLabel};
use crate::read::{CachedTiles, ReadError, prove, read_entry};
use crate::rollback::{Halt, RolledBack};
use crate::sequencer::Refusal;
use crate::storage::Storage;
use crate::witnessing::{Answer, Exchange, Failure, Witness, Witnesses};
use cosigning::{Action, Cosigning};

/// A checkpoint of the integrated tree, signed by the log, without
/// cosignatures: what the sequencer committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integrated {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The log-signed checkpoint note (C2SP tlog-checkpoint).
    pub note: Vec<u8>,
}

/// What readers see: the newest published checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The signed checkpoint note with the witnesses' cosignatures.
    pub checkpoint: Vec<u8>,
}

/// A round's outcome, handed from the sequencer to the publisher.
pub struct Handoff {
    /// The integrated tree size after the round: its submitters are
    /// answered once the published size reaches it.
    pub size: u64,
    /// The round's new checkpoint; `None` if it added no entry.
    pub checkpoint: Option<Integrated>,
    /// The round's submitters, in order.
    pub answers: Vec<Waiting>,
    /// The round's new entries by index (read from here, not storage).
    pub fresh: HashMap<u64, Vec<u8>>,
}

/// A submitter waiting for its answer.
pub struct Waiting {
    /// Where the answer goes.
    pub respond: oneshot::Sender<Reply>,
    /// When the submission arrived.
    pub received: Instant,
    /// What the sequencer decided: (index, created) or a refusal.
    pub outcome: Result<(u64, bool), Refusal>,
}

/// The answer to an accepted submission.
#[derive(Clone, Debug)]
pub struct Accepted {
    /// The entry's index.
    pub index: u64,
    /// `false` when the release was already logged (HTTP 200, not 201).
    pub created: bool,
    /// The `.tlog-proof` of the entry against the published checkpoint.
    pub proof: Vec<u8>,
}

/// Why a submission got no index and proof.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The sequencer refused it.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// It is logged, but its proof could not be read (a bug or a storage
    /// failure).
    #[error("the entry is logged but its proof could not be made: {0}")]
    Unproven(ReadError),
}

/// What a submitter is answered.
pub type Reply = Result<Accepted, SubmitError>;

/// The publisher's task state. See the module documentation.
pub struct Publisher {
    storage: Arc<dyn Storage>,
    metrics: Metrics,
    cosigning: Cosigning,
    witnesses: Arc<[Witness]>,
    timeout: Duration,
    exchange: Arc<Exchange>,
    published: watch::Sender<Arc<Published>>,
    /// Rounds waiting for publication, oldest first.
    queue: VecDeque<Handoff>,
    heard_tx: mpsc::UnboundedSender<(usize, u64, Answer)>,
    heard_rx: mpsc::UnboundedReceiver<(usize, u64, Answer)>,
    /// Told once the stored checkpoint is published (cosigned) at start.
    ready: Option<oneshot::Sender<()>>,
    /// Set here when a witness is ahead of the log; read by all.
    halt: Halt,
}

impl Publisher {
    /// A publisher starting from the `stored` checkpoint, which readers see
    /// (without cosignatures) until [`Publisher::run`] publishes. It sets
    /// `halt` when a witness is ahead of the log.
    ///
    /// # Errors
    ///
    /// The HTTP client for the witnesses cannot be built.
    pub fn new(
        storage: Arc<dyn Storage>,
        stored: Integrated,
        log: Ed25519Verifier,
        witnesses: Option<Witnesses>,
        metrics: Metrics,
        halt: Halt,
    ) -> Result<(Publisher, watch::Receiver<Arc<Published>>), reqwest::Error> {
        let (list, timeout, quorum, ca_bundle) = match witnesses {
            Some(w) => (
                w.list().to_vec(),
                w.timeout(),
                w.quorum(),
                w.ca_bundle().to_vec(),
            ),
            None => (Vec::new(), Duration::from_secs(1), 0, Vec::new()),
        };
        // A witness is asked, never followed elsewhere: no redirects.
        let mut http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none());
        if !ca_bundle.is_empty() {
            http = http.tls_certs_only(ca_bundle);
        }
        let http = http.build()?;
        let cosigning = Cosigning::new(list.len(), quorum, timeout, stored);
        let (published, rx) = watch::channel(Arc::new(cosigning.published()));
        metrics.tree_size.set(cosigning.published().size as i64);
        let (heard_tx, heard_rx) = mpsc::unbounded_channel();
        Ok((
            Publisher {
                exchange: Arc::new(Exchange {
                    http,
                    storage: storage.clone(),
                    log,
                }),
                storage,
                metrics,
                cosigning,
                witnesses: list.into(),
                timeout,
                published,
                queue: VecDeque::new(),
                heard_tx,
                heard_rx,
                ready: None,
                halt,
            },
            rx,
        ))
    }

    /// Publishes until the sequencer is gone and everything it handed over
    /// is published and answered. `ready` is told once the stored
    /// checkpoint has been cosigned (at once without witnesses).
    pub async fn run(
        mut self,
        mut handoffs: mpsc::UnboundedReceiver<Handoff>,
        ready: oneshot::Sender<()>,
    ) {
        self.ready = Some(ready);
        let actions = self.cosigning.start(Instant::now());
        self.perform(actions).await;
        self.tell_ready();
        let mut open = true;
        while open || !self.cosigning.is_idle() || !self.queue.is_empty() {
            let deadline = self.cosigning.deadline();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            let actions = tokio::select! {
                handoff = handoffs.recv(), if open => match handoff {
                    Some(h) => {
                        let checkpoint = h.checkpoint.clone();
                        self.queue.push_back(h);
                        match checkpoint {
                            Some(c) => self.cosigning.integrated(c, Instant::now()),
                            None => Vec::new(),
                        }
                    }
                    None => {
                        open = false;
                        Vec::new()
                    }
                },
                Some((witness, size, answer)) = self.heard_rx.recv() => {
                    self.heard(witness, size, answer)
                }
                () = sleep => self.cosigning.tick(Instant::now()),
            };
            self.perform(actions).await;
            self.tell_ready();
            // A round that added nothing may already be covered.
            self.answer_covered().await;
            self.refuse_uncovered();
        }
    }

    /// Records a witness's answer (metrics, logs) and feeds it to the
    /// state machine.
    fn heard(&mut self, witness: usize, size: u64, answer: Answer) -> Vec<Action> {
        let name = self
            .witnesses
            .get(witness)
            .map(|w| w.name().to_owned())
            .unwrap_or_default();
        let was_up = self.cosigning.is_up(witness);
        let outcome = match &answer {
            Answer::Cosigned(_) => {
                if !was_up {
                    tracing::info!(witness = %name, size, "witness cosigns again");
                }
                "cosigned"
            }
            Answer::Failed {
                why: Failure::Ahead { known, size },
                ..
            } => {
                // Only a witness of the log's configuration is asked: the
                // operator trusts it with this claim (docs/log.md).
                self.halt.stop(RolledBack {
                    witness: name.clone(),
                    cosigned: *known,
                    stored: *size,
                });
                "ahead"
            }
            Answer::Failed { why, .. } => {
                if was_up {
                    tracing::warn!(witness = %name, size, error = %why, "no cosignature; witness is down until it answers in time");
                } else {
                    tracing::debug!(witness = %name, size, error = %why, "no cosignature");
                }
                "failed"
            }
        };
        self.metrics
            .witness_answers
            .get_or_create(&WitnessLabel {
                witness: name,
                outcome: outcome.to_owned(),
            })
            .inc();
        self.cosigning
            .answered(witness, size, answer, Instant::now())
    }

    /// Carries out the state machine's actions.
    async fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Ask {
                    witness,
                    checkpoint,
                    known,
                } => self.ask(witness, checkpoint, known),
                Action::Publish(published)
                    if self.halt.reason().is_some()
                        && published.size > self.published.borrow().size =>
                {
                    // Signed after the storage was rolled back: never shown.
                    tracing::debug!(size = published.size, "not published: the log stopped");
                }
                Action::Publish(published) => {
                    self.publish_to_storage(&published).await;
                    tracing::debug!(size = published.size, "published");
                    self.metrics.tree_size.set(published.size as i64);
                    self.published.send_replace(Arc::new(published));
                    self.answer_covered().await;
                }
            }
        }
    }

    /// Writes the cosigned checkpoint where readers outside the API find
    /// it (the bucket's `checkpoint`, `storage::object` commit step 5),
    /// before any submitter is answered. Tried three times; after that the
    /// round is published through the API anyway (every answer carries its
    /// own checkpoint, and the next round writes the object again) and the
    /// failure is counted and logged.
    async fn publish_to_storage(&self, published: &Published) {
        let mut wait = std::time::Duration::from_millis(100);
        for attempt in 1..=3 {
            let storage = self.storage.clone();
            let note = published.checkpoint.clone();
            let done = tokio::task::spawn_blocking(move || storage.publish_checkpoint(&note)).await;
            match done {
                Ok(Ok(())) => return,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, size = published.size, attempt, "publishing the checkpoint object failed");
                }
                Err(e) => tracing::error!(error = %e, "publishing the checkpoint object failed"),
            }
            tokio::time::sleep(wait).await;
            wait *= 4;
        }
        self.metrics.storage_failures.inc();
    }

    /// Starts one exchange with a witness, bounded by the timeout; its
    /// answer comes back on `heard`.
    fn ask(&self, witness: usize, checkpoint: Integrated, known: u64) {
        let Some(w) = self.witnesses.get(witness).cloned() else {
            return;
        };
        let (exchange, heard, timeout) =
            (self.exchange.clone(), self.heard_tx.clone(), self.timeout);
        tokio::spawn(async move {
            let size = checkpoint.size;
            let answer =
                tokio::time::timeout(timeout, exchange.add_checkpoint(&w, &checkpoint, known))
                    .await
                    .unwrap_or(Answer::Failed {
                        known: None,
                        why: Failure::TimedOut(timeout),
                    });
            // The publisher holds a sender: this fails only once it is gone.
            let _ = heard.send((witness, size, answer));
        });
    }

    fn tell_ready(&mut self) {
        if !self.cosigning.is_starting()
            && let Some(ready) = self.ready.take()
        {
            let _ = ready.send(());
        }
    }

    /// Answers every queued round the published checkpoint covers, in
    /// order, with proofs against it.
    async fn answer_covered(&mut self) {
        let published = self.published.borrow().clone();
        let mut covered = Vec::new();
        while self.queue.front().is_some_and(|h| h.size <= published.size) {
            covered.extend(self.queue.pop_front());
        }
        if covered.is_empty() {
            return;
        }
        let (storage, metrics) = (self.storage.clone(), self.metrics.clone());
        let answered = tokio::task::spawn_blocking(move || {
            answer(&*storage, &published, covered, &metrics);
        })
        .await;
        if let Err(e) = answered {
            // The submitters' channels were dropped with the task: they see
            // a 503 and resubmit (their entries are durable: duplicates).
            tracing::error!(error = %e, "answering task failed");
        }
    }
}

impl Publisher {
    /// Once the log stopped signing, refuses the submitters of every queued
    /// round the published checkpoint does not cover: it never will.
    fn refuse_uncovered(&mut self) {
        let Err(why) = self.halt.check() else {
            return;
        };
        let published = self.published.borrow().size;
        while let Some(round) = self.queue.pop_back() {
            if round.size <= published {
                self.queue.push_back(round);
                break;
            }
            for w in round.answers {
                // The submitter may have given up.
                let _ = w
                    .respond
                    .send(Err(SubmitError::Refused(Refusal::Stopped(why.clone()))));
            }
        }
    }
}

/// Sends each submitter of `rounds` its answer, with a proof against
/// `published`.
fn answer(storage: &dyn Storage, published: &Published, rounds: Vec<Handoff>, metrics: &Metrics) {
    let reader = CachedTiles::new(storage);
    // The rounds' entries are neighbours: their proofs share most nodes,
    // computed once each (a node inside a tile costs up to 255 hashes).
    let tree = CachedHashes::new(TileHashReader::trusted(published.size, &reader));
    for round in rounds {
        for w in round.answers {
            let reply = match w.outcome {
                Err(refusal) => Err(SubmitError::Refused(refusal)),
                Ok((index, created)) => {
                    let entry = match round.fresh.get(&index) {
                        Some(bytes) => Ok(bytes.clone()),
                        None => read_entry(&reader, index, published.size).map_err(ReadError::from),
                    };
                    entry
                        .and_then(|e| prove(&tree, index, published, e).map_err(ReadError::from))
                        .map(|proof| Accepted {
                            index,
                            created,
                            proof,
                        })
                        .map_err(SubmitError::Unproven)
                }
            };
            // Refusals are counted where the HTTP answer is made.
            if matches!(&reply, Ok(a) if !a.created) {
                metrics.duplicates.inc();
            }
            metrics
                .submit_seconds
                .observe(w.received.elapsed().as_secs_f64());
            // The submitter may have given up (timeout, disconnect).
            let _ = w.respond.send(reply);
        }
    }
}
