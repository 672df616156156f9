//! The log's witness client: one C2SP tlog-witness `add-checkpoint`
//! exchange with one witness (<https://c2sp.org/tlog-witness>), and the
//! checks on what it answers (C2SP tlog-cosignature). Whom to ask, when,
//! and what to publish is the publisher's ([`crate::publisher`]).
//!
//! An exchange sends `POST <witness>/add-checkpoint`: the size the witness
//! last cosigned for this log as far as the log knows (`old`), an RFC 9162
//! §2.1.4 consistency proof from that size, and the log-signed checkpoint.
//! A witness that knows another size answers `409` with it
//! (`text/x.tlog.size`); the request is then made once more from that size.
//!
//! Of the lines a witness returns with `200`, the log keeps exactly one: the
//! first signature line with *that* witness's name and key ID whose
//! cosignature verifies over the checkpoint (C2SP tlog-cosignature). Every
//! other line is dropped, never published: a line under another name — say,
//! a garbage line named like another witness — would make every client that
//! trusts that other witness reject the whole checkpoint (a note's
//! signature from a trusted key must verify), so one witness could break
//! every proof. If no line qualifies, the answer is
//! [`Failure::InvalidCosignature`].
//!
//! The sizes each witness knows live in the publisher's memory; after a
//! restart the first `409` teaches them again.

use std::sync::Arc;
use std::time::Duration;

use sigil_core::checkpoint::{CheckpointPolicy, verify_checkpoint};
use sigil_core::cosignature::CosignatureVerifier;
use sigil_core::merkle::MerkleError;
#[cfg(test)]
use sigil_core::note::NoteSignature;
use sigil_core::note::{Ed25519Verifier, Note, NoteError, NoteVerifier as _};
use sigil_core::witness_protocol::{
    ADD_CHECKPOINT_PATH, WitnessProtocolError, encode_add_checkpoint, parse_cosignature_response,
    parse_size_response,
};

use crate::publisher::Integrated;
use crate::read::consistency_hashes;
use crate::storage::Storage;
use crate::tiles::StorageTiles;

/// The most bytes read from a witness's answer: a few cosignature lines
/// (C2SP tlog-witness §add-checkpoint) are a few hundred bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// One witness the log asks.
#[derive(Clone, Debug)]
pub struct Witness {
    /// Base URL (the spec's endpoint is `<url>/add-checkpoint`).
    pub url: String,
    /// Its cosignature/v1 verifier key.
    pub verifier: CosignatureVerifier,
}

/// Why a witness configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// A `--witness` flag is not `URL=VERIFIER_KEY`.
    #[error("--witness {0:?}: expected URL=VERIFIER_KEY")]
    NotUrlAndKey(String),
    /// The verifier key is not a C2SP signed-note verifier key of type 0x04.
    #[error("witness key {vkey:?}: {source}")]
    Key {
        /// The key text.
        vkey: String,
        /// What is wrong with it.
        source: NoteError,
    },
    /// The quorum asks for more witnesses than are configured.
    #[error("--witness-quorum {quorum} is more than the {witnesses} witnesses configured")]
    QuorumTooLarge {
        /// The quorum asked for.
        quorum: usize,
        /// The witnesses configured.
        witnesses: usize,
    },
}

impl Witness {
    /// A witness at `url` with verifier key `vkey` (C2SP signed-note
    /// verifier key of type 0x04, c2sp.org/tlog-cosignature).
    pub fn new(url: &str, vkey: &str) -> Result<Witness, WitnessError> {
        Ok(Witness {
            url: url.trim_end_matches('/').to_string(),
            verifier: CosignatureVerifier::from_verifier_key(vkey.trim()).map_err(|source| {
                WitnessError::Key {
                    vkey: vkey.to_owned(),
                    source,
                }
            })?,
        })
    }

    /// Parses `--witness URL=VERIFIER_KEY`.
    pub fn parse_flag(flag: &str) -> Result<Witness, WitnessError> {
        let (url, vkey) = flag
            .split_once('=')
            .ok_or_else(|| WitnessError::NotUrlAndKey(flag.to_owned()))?;
        Witness::new(url, vkey)
    }

    /// The witness's key name, as its cosignature lines carry it.
    pub fn name(&self) -> &str {
        self.verifier.name()
    }
}

/// The witnesses of a log, how long to wait for each, and how many
/// cosignatures a checkpoint waits for before it is published.
#[derive(Clone, Debug)]
pub struct Witnesses {
    list: Vec<Witness>,
    timeout: Duration,
    quorum: usize,
    ca_bundle: Vec<reqwest::Certificate>,
}

impl Witnesses {
    /// `list`, each asked with `timeout`; a checkpoint is published once
    /// `quorum` of them cosigned it (default: all of them), or every witness
    /// that is up answered, or `timeout` passed (`docs/log.md`).
    pub fn new(
        list: Vec<Witness>,
        timeout: Duration,
        quorum: Option<usize>,
    ) -> Result<Witnesses, WitnessError> {
        let quorum = quorum.unwrap_or(list.len());
        if quorum > list.len() {
            return Err(WitnessError::QuorumTooLarge {
                quorum,
                witnesses: list.len(),
            });
        }
        Ok(Witnesses {
            list,
            timeout,
            quorum,
            ca_bundle: Vec::new(),
        })
    }

    /// The same witnesses, reached over `https://` trusting exactly the CAs
    /// of `ca_bundle` (`--ca-bundle`) instead of the platform's; an empty
    /// bundle keeps the platform's.
    pub fn with_ca_bundle(mut self, ca_bundle: Vec<reqwest::Certificate>) -> Witnesses {
        self.ca_bundle = ca_bundle;
        self
    }

    /// The CAs trusted for `https://` witnesses (empty: the platform's).
    pub fn ca_bundle(&self) -> &[reqwest::Certificate] {
        &self.ca_bundle
    }

    /// The witnesses, in the order their cosignatures are appended.
    pub fn list(&self) -> &[Witness] {
        &self.list
    }

    /// The longest wait for one witness's answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many cosignatures a checkpoint waits for.
    pub fn quorum(&self) -> usize {
        self.quorum
    }
}

/// What one exchange with a witness came to.
#[derive(Debug)]
pub enum Answer {
    /// The witness's cosignature lines, verified against its key.
    Cosigned(Vec<u8>),
    /// No cosignature.
    Failed {
        /// The size the witness said it knows (from a `409`), if it said.
        known: Option<u64>,
        /// Why.
        why: Failure,
    },
}

/// Why a witness gave no cosignature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The request failed (connection refused, reset, ...).
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    /// The witness answered with a status other than 200 or 409.
    #[error("answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The answer is larger than any cosignature answer.
    #[error("answer larger than {MAX_ANSWER} bytes")]
    TooLarge,
    /// A `409` whose body is not a size.
    #[error("409: {0}")]
    SizeBody(WitnessProtocolError),
    /// A `409` again after the retry from the size it gave.
    #[error("answers 409 again; it knows size {0}")]
    StillConflicting(u64),
    /// The witness has cosigned a larger tree than this checkpoint's: the
    /// log's storage was rolled back, and the publisher stops the log
    /// ([`crate::rollback`]).
    #[error("has cosigned size {known}, beyond ours ({size}): storage rolled back?")]
    Ahead {
        /// What the witness cosigned.
        known: u64,
        /// This checkpoint's size.
        size: u64,
    },
    /// The consistency proof could not be computed.
    #[error("consistency proof: {0}")]
    Proof(#[from] MerkleError),
    /// The proof's worker task failed.
    #[error("consistency proof worker: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// The returned lines do not carry a valid cosignature of this witness.
    #[error("no valid cosignature of this witness: {0}")]
    InvalidCosignature(String),
    /// No answer within the timeout.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
}

/// What an exchange needs besides the witness.
pub struct Exchange {
    /// The HTTP client (its timeout bounds each request).
    pub http: reqwest::Client,
    /// Storage, for consistency proofs.
    pub storage: Arc<dyn Storage>,
    /// The log's key, to verify the cosigned checkpoint.
    pub log: Ed25519Verifier,
}

/// What a witness answered to one `add-checkpoint` request.
enum Heard {
    Cosigned(Vec<u8>),
    KnowsSize(u64),
}

impl Exchange {
    /// Asks `witness` to cosign `checkpoint`, believing it last cosigned
    /// size `known` (module docs: one retry after a `409`).
    pub async fn add_checkpoint(
        &self,
        witness: &Witness,
        checkpoint: &Integrated,
        known: u64,
    ) -> Answer {
        let size = checkpoint.size;
        let mut old = known;
        let mut retried = false;
        let lines = loop {
            if old > size {
                return Answer::Failed {
                    known: Some(old),
                    why: Failure::Ahead { known: old, size },
                };
            }
            let heard = match self.ask(witness, checkpoint, old).await {
                Ok(h) => h,
                Err(why) => {
                    let known = (old != known).then_some(old);
                    return Answer::Failed { known, why };
                }
            };
            match heard {
                Heard::Cosigned(lines) => break lines,
                Heard::KnowsSize(k) if k != old && !retried => {
                    retried = true;
                    old = k;
                }
                Heard::KnowsSize(k) => {
                    return Answer::Failed {
                        known: Some(k),
                        why: Failure::StillConflicting(k),
                    };
                }
            }
        };
        match own_cosignature(witness, &checkpoint.note, &lines) {
            Ok(line) => {
                // The kept line, with the log's signature, must verify as a
                // cosigned checkpoint of this log (belt and braces: the line
                // was checked alone above).
                let mut candidate = checkpoint.note.clone();
                candidate.extend_from_slice(&line);
                let policy = CheckpointPolicy {
                    origin: self.log.name().to_owned(),
                    log: Box::new(self.log.clone()),
                    witnesses: vec![witness.verifier.clone()],
                    quorum: 1,
                };
                match verify_checkpoint(&candidate, &policy) {
                    Ok(_) => Answer::Cosigned(line),
                    Err(e) => Answer::Failed {
                        known: (old != known).then_some(old),
                        why: Failure::InvalidCosignature(e.to_string()),
                    },
                }
            }
            Err(why) => Answer::Failed {
                known: (old != known).then_some(old),
                why: Failure::InvalidCosignature(why),
            },
        }
    }

    /// One request: `old`, the proof from it, the note.
    async fn ask(
        &self,
        witness: &Witness,
        checkpoint: &Integrated,
        old: u64,
    ) -> Result<Heard, Failure> {
        let storage = self.storage.clone();
        let size = checkpoint.size;
        let proof = tokio::task::spawn_blocking(move || {
            consistency_hashes(&StorageTiles(&*storage), old, size)
        })
        .await??;
        let url = format!("{}{ADD_CHECKPOINT_PATH}", witness.url);
        let mut response = self
            .http
            .post(&url)
            .body(encode_add_checkpoint(old, &proof, &checkpoint.note))
            .send()
            .await?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(Failure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        match status {
            200 => Ok(Heard::Cosigned(body)),
            409 => parse_size_response(&body)
                .map(Heard::KnowsSize)
                .map_err(Failure::SizeBody),
            other => Err(Failure::Status {
                status: other,
                body: String::from_utf8_lossy(&body).chars().take(200).collect(),
            }),
        }
    }
}

/// The one line of a witness's `200` answer the log keeps: the first
/// signature line with the witness's name and key ID whose cosignature
/// verifies over the text of `note` (the log-signed checkpoint), re-encoded
/// (c2sp.org/signed-note §Format). Every other line is dropped. `Err` says
/// why none qualifies.
fn own_cosignature(witness: &Witness, note: &[u8], answer: &[u8]) -> Result<Vec<u8>, String> {
    let text = Note::parse(note)
        .map_err(|e| format!("the log's own checkpoint does not parse: {e}"))?
        .text;
    let lines = parse_cosignature_response(answer).map_err(|e| e.to_string())?;
    let verifier = &witness.verifier;
    lines
        .iter()
        .filter(|l| l.name == verifier.name() && l.key_id == verifier.key_id())
        .find(|l| verifier.verify(text.as_bytes(), &l.signature))
        .map(|l| l.to_line().into_bytes())
        .ok_or_else(|| {
            format!(
                "no line of the answer is a valid cosignature by {} (key ID {:08x})",
                verifier.name(),
                verifier.key_id()
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use sigil_core::checkpoint::{Checkpoint, sign_checkpoint};
    use sigil_core::cosignature::CosignatureSigner;
    use sigil_core::note::{Ed25519Signer, NoteSigner as _};

    /// Table test: which line of an answer is kept.
    #[test]
    fn only_the_asked_witness_s_valid_line_is_kept() {
        let log = Ed25519Signer::from_seed("log.example/log", [1; 32]).unwrap();
        let note = sign_checkpoint(
            &Checkpoint {
                origin: "log.example/log".into(),
                size: 3,
                root: [7; 32],
                extensions: vec![],
            },
            &log,
        )
        .unwrap();
        let text = Note::parse(&note).unwrap().text;
        let w1 = CosignatureSigner::from_seed("w1.example", [2; 32]).unwrap();
        let w2 = CosignatureSigner::from_seed("w2.example", [3; 32]).unwrap();
        let asked = Witness::new("http://w1", &w1.verifier().verifier_key()).unwrap();
        let line = |s: &CosignatureSigner| {
            NoteSignature {
                name: s.name().to_owned(),
                key_id: s.key_id(),
                signature: s.sign(text.as_bytes()).unwrap(),
            }
            .to_line()
        };
        let good = line(&w1);
        let other = line(&w2);
        // Named like w2, key ID of w2, signature garbage.
        let forged = NoteSignature {
            name: "w2.example".into(),
            key_id: w2.key_id(),
            signature: vec![0; 72],
        }
        .to_line();
        // w1's name with a bad signature; w1's name with another key ID.
        let bad_w1 = NoteSignature {
            name: "w1.example".into(),
            key_id: w1.key_id(),
            signature: vec![1; 72],
        }
        .to_line();
        let wrong_id = NoteSignature {
            name: "w1.example".into(),
            key_id: w1.key_id() ^ 1,
            signature: w1.sign(text.as_bytes()).unwrap(),
        }
        .to_line();
        let cases: &[(&str, String, Option<&str>)] = &[
            ("its line alone", good.clone(), Some(&good)),
            (
                "its line, then a forged line of another",
                format!("{good}{forged}"),
                Some(&good),
            ),
            (
                "a forged line, then its line",
                format!("{forged}{good}"),
                Some(&good),
            ),
            (
                "another witness's valid line too",
                format!("{other}{good}"),
                Some(&good),
            ),
            (
                "a bad line under its name, then its line",
                format!("{bad_w1}{good}"),
                Some(&good),
            ),
            ("its line twice", format!("{good}{good}"), Some(&good)),
            ("only another's valid line", other.clone(), None),
            ("only a forged line", forged.clone(), None),
            ("its signature under another key ID", wrong_id.clone(), None),
            ("a bad line under its name", bad_w1.clone(), None),
            ("not signature lines", format!("{good}garbage\n"), None),
            ("empty", String::new(), None),
        ];
        for (what, answer, want) in cases {
            let kept = own_cosignature(&asked, &note, answer.as_bytes());
            match want {
                Some(line) => assert_eq!(kept.as_deref(), Ok(line.as_bytes()), "{what}"),
                None => assert!(kept.is_err(), "{what}: kept {kept:?}"),
            }
        }
    }
}
