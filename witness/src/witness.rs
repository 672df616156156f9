//! The witness's one decision: cosign a checkpoint or say why not
//! (c2sp.org/tlog-witness §add-checkpoint), with the state kept in
//! [`crate::state`].
//!
//! The checks, in the spec's order, and the answer each failure gets:
//!
//! | check | answer |
//! |---|---|
//! | the body parses ([`sigil_core::witness_protocol`]), the note parses, its text is a checkpoint | 400 |
//! | the origin is in the log list | 404 |
//! | at least one signature verifies against a trusted key of that origin (others ignored) | 403 |
//! | old size ≤ checkpoint size | 400 |
//! | old size = size of the latest cosigned checkpoint (0 if none) | 409 + that size |
//! | old size = checkpoint size: the root hashes are identical | 409 + that size |
//! | otherwise: the consistency proof from the stored root verifies (RFC 6962 §2.1.2) | 422 |
//!
//! A checkpoint smaller than the stored one always fails the old-size check
//! (old ≤ size < stored size), so it is 409. When every check passes the
//! witness stores the checkpoint durably and only then returns its
//! cosignature (`cosignature/v1`, c2sp.org/tlog-cosignature, timestamped
//! now). The per-origin mutex is held from the old-size check to the end of
//! the store, so two requests can never both pass the check against the
//! same state (the spec's "rolling back K leaves" race).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use sigil_core::checkpoint::Checkpoint;
use sigil_core::cosignature::{CosignatureSigner, CosignatureVerifier};
use sigil_core::merkle::{self, MerkleError};
use sigil_core::note::{Note, NoteSignature};
use sigil_core::witness_protocol::{self, WitnessProtocolError};

use crate::log_list::LogList;
use crate::state::{Latest, StateDir, StateError};

/// Why the witness did not cosign (c2sp.org/tlog-witness §add-checkpoint).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddCheckpointError {
    /// The request body is malformed (400).
    #[error("malformed request: {0}")]
    Malformed(#[from] WitnessProtocolError),
    /// The note or its checkpoint text is malformed (400).
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// The checkpoint's origin is not in the log list (404).
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No signature verifies against a key the witness trusts for the origin (403).
    #[error("no valid signature from a trusted key of {0:?}")]
    NoTrustedSignature(String),
    /// The old size is larger than the checkpoint's size (400).
    #[error("old size {old_size} is larger than the checkpoint size {size}")]
    OldSizeTooLarge {
        /// The request's old size.
        old_size: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The old size is not the size of the latest cosigned checkpoint (409).
    #[error("old size {old_size} is not the latest cosigned size {latest_size}")]
    OldSizeMismatch {
        /// The request's old size.
        old_size: u64,
        /// The size of the latest checkpoint cosigned for the origin (0 if none).
        latest_size: u64,
    },
    /// Same size as the latest cosigned checkpoint, another root: a fork (409).
    #[error("the checkpoint has the latest cosigned size {latest_size} but another root hash")]
    RootMismatch {
        /// The size of the latest cosigned checkpoint.
        latest_size: u64,
    },
    /// The consistency proof does not verify (422).
    #[error("the consistency proof does not verify: {0}")]
    BadProof(#[from] MerkleError),
    /// The state could not be stored; nothing was cosigned (500).
    #[error("storing the witness state: {0}")]
    Storage(#[from] StateError),
    /// The cosignature could not be made (500).
    #[error("cosigning: {0}")]
    Cosign(String),
}

impl AddCheckpointError {
    /// The HTTP status the spec assigns (§add-checkpoint).
    pub fn status(&self) -> u16 {
        match self {
            AddCheckpointError::Malformed(_)
            | AddCheckpointError::MalformedCheckpoint(_)
            | AddCheckpointError::OldSizeTooLarge { .. } => 400,
            AddCheckpointError::NoTrustedSignature(_) => 403,
            AddCheckpointError::UnknownOrigin(_) => 404,
            AddCheckpointError::OldSizeMismatch { .. }
            | AddCheckpointError::RootMismatch { .. } => 409,
            AddCheckpointError::BadProof(_) => 422,
            AddCheckpointError::Storage(_) | AddCheckpointError::Cosign(_) => 500,
        }
    }

    /// For a 409: the size of the latest cosigned checkpoint, the body of the answer.
    pub fn latest_size(&self) -> Option<u64> {
        match self {
            AddCheckpointError::OldSizeMismatch { latest_size, .. }
            | AddCheckpointError::RootMismatch { latest_size } => Some(*latest_size),
            _ => None,
        }
    }
}

/// A witness: its key, the logs it knows and, per origin, the latest
/// checkpoint it cosigned behind that origin's mutex.
pub struct Witness {
    signer: CosignatureSigner,
    logs: LogList,
    state: StateDir,
    /// One entry per origin of `logs`, fixed at start. The value is the
    /// durable state's copy; it changes only after [`StateDir::store`] succeeded.
    latest: HashMap<String, Mutex<Option<Latest>>>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("key", &self.signer.verifier().verifier_key())
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

impl Witness {
    /// A witness over an opened state directory and what it loaded.
    /// State for origins no longer in the log list is kept on disk but not used.
    pub fn new(
        signer: CosignatureSigner,
        logs: LogList,
        state: StateDir,
        mut loaded: HashMap<String, Latest>,
    ) -> Witness {
        let latest = logs
            .origins()
            .map(|o| (o.to_owned(), Mutex::new(loaded.remove(o))))
            .collect();
        for origin in loaded.keys() {
            tracing::info!(%origin, "state for a log that is no longer listed: kept, not used");
        }
        Witness {
            signer,
            logs,
            state,
            latest,
        }
    }

    /// The witness's verifier key (type `0x04`), for clients' trust roots.
    pub fn verifier(&self) -> CosignatureVerifier {
        self.signer.verifier()
    }

    /// The latest cosigned checkpoint of an origin, if any.
    pub fn latest(&self, origin: &str) -> Option<Latest> {
        self.latest
            .get(origin)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Handles an `add-checkpoint` request body with the current time (see
    /// the module docs). Blocks on file I/O: call it off the async runtime.
    ///
    /// # Errors
    ///
    /// Why the checkpoint was not cosigned; [`AddCheckpointError::status`]
    /// gives the HTTP status.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<NoteSignature>, AddCheckpointError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| AddCheckpointError::Cosign("system clock is before 1970".into()))?
            .as_secs();
        self.add_checkpoint_at(body, now)
    }

    /// [`Witness::add_checkpoint`] with the cosignature timestamp given (POSIX seconds).
    ///
    /// # Errors
    ///
    /// As [`Witness::add_checkpoint`].
    pub fn add_checkpoint_at(
        &self,
        body: &[u8],
        timestamp: u64,
    ) -> Result<Vec<NoteSignature>, AddCheckpointError> {
        let request = witness_protocol::parse_add_checkpoint(body)?;
        let note = Note::parse(&request.note)
            .map_err(|e| AddCheckpointError::MalformedCheckpoint(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text)
            .map_err(|e| AddCheckpointError::MalformedCheckpoint(e.to_string()))?;
        let origin = &checkpoint.origin;
        let (Some(keys), Some(latest)) = (self.logs.keys(origin), self.latest.get(origin)) else {
            return Err(AddCheckpointError::UnknownOrigin(origin.clone()));
        };
        // Signatures from unknown keys are ignored; one valid trusted one suffices.
        let signed = note.signatures.iter().any(|sig| {
            keys.iter().any(|k| {
                k.name() == sig.name
                    && k.key_id() == sig.key_id
                    && k.verify(note.text.as_bytes(), &sig.signature)
            })
        });
        if !signed {
            return Err(AddCheckpointError::NoTrustedSignature(origin.clone()));
        }
        if request.old_size > checkpoint.size {
            return Err(AddCheckpointError::OldSizeTooLarge {
                old_size: request.old_size,
                size: checkpoint.size,
            });
        }

        // Compare-and-swap: the lock is held until the new state is durable.
        let mut latest = latest.lock().unwrap_or_else(PoisonError::into_inner);
        let (latest_size, latest_root) = latest.as_ref().map_or((0, merkle::empty_root()), |l| {
            (l.checkpoint.size, l.checkpoint.root)
        });
        if request.old_size != latest_size {
            return Err(AddCheckpointError::OldSizeMismatch {
                old_size: request.old_size,
                latest_size,
            });
        }
        if request.old_size == checkpoint.size {
            if checkpoint.root != latest_root {
                return Err(AddCheckpointError::RootMismatch { latest_size });
            }
            if !request.proof.is_empty() {
                return Err(AddCheckpointError::BadProof(
                    MerkleError::WrongProofLength {
                        expected: 0,
                        got: request.proof.len(),
                    },
                ));
            }
        } else if request.old_size > 0 {
            merkle::verify_consistency(
                request.old_size,
                checkpoint.size,
                &latest_root,
                &checkpoint.root,
                &request.proof,
            )?;
        }
        // (old size 0: every tree extends the empty tree, and the proof is empty.)
        let cosignature = self
            .signer
            .cosign(&note.text, timestamp)
            .map_err(|e| AddCheckpointError::Cosign(e.to_string()))?;
        let unchanged = latest
            .as_ref()
            .is_some_and(|l| l.checkpoint.size == checkpoint.size);
        if !unchanged {
            let new = Latest {
                checkpoint,
                note: request.note,
            };
            self.state.store(&new)?;
            // Commit point: durable on disk; now the in-memory copy, then the answer.
            *latest = Some(new);
        }
        Ok(vec![cosignature])
    }
}
