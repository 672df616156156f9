//! Collecting witness cosignatures for each new checkpoint (C2SP
//! tlog-witness, tlog-cosignature).
//!
//! After a round is durable, the sequencer asks every configured witness to
//! cosign the new checkpoint with `POST <witness>/add-checkpoint`: the size
//! the witness last cosigned for this log (`old`), an RFC 9162 consistency
//! proof from that size, and the signed checkpoint. A witness that knows
//! another size answers `409` with it (`text/x.tlog.size`); the request is
//! then made once more from that size. Every cosignature returned is checked
//! against the witness's key before it is appended to the checkpoint note,
//! and the cosigned note is what the log publishes and puts in proofs.
//!
//! A witness that is down, slow or refuses costs only its cosignature: the
//! checkpoint is published with those that arrived (clients decide on their
//! quorum). The sizes each witness knows are kept in memory; after a
//! restart the first `409` teaches them again. The stored checkpoint is
//! kept without cosignatures, so at start the log asks for them before it
//! serves (a down witness delays the start by its timeout).

use std::sync::Mutex;
use std::time::Duration;

use sigil_core::checkpoint::{CheckpointPolicy, verify_checkpoint};
use sigil_core::cosignature::CosignatureVerifier;
use sigil_core::merkle::Hash;
use sigil_core::note::NoteVerifier;
use sigil_core::witness_protocol::{
    ADD_CHECKPOINT_PATH, encode_add_checkpoint, parse_size_response,
};

/// One witness the log asks.
pub struct Witness {
    /// Base URL (the spec's endpoint is `<url>/add-checkpoint`).
    pub url: String,
    /// Its cosignature/v1 verifier key.
    pub verifier: CosignatureVerifier,
    /// The size it last cosigned for this log, as far as the log knows.
    known: Mutex<u64>,
}

impl Witness {
    /// A witness at `url` with verifier key `vkey` (C2SP signed-note
    /// verifier key of type 0x04).
    pub fn new(url: &str, vkey: &str) -> Result<Witness, String> {
        Ok(Witness {
            url: url.trim_end_matches('/').to_string(),
            verifier: CosignatureVerifier::from_verifier_key(vkey.trim())
                .map_err(|e| format!("witness key {vkey:?}: {e}"))?,
            known: Mutex::new(0),
        })
    }

    /// Parses `--witness URL=VKEY`.
    pub fn parse_flag(flag: &str) -> Result<Witness, String> {
        let (url, vkey) = flag
            .split_once('=')
            .ok_or_else(|| format!("--witness {flag:?}: expected URL=VERIFIER_KEY"))?;
        Witness::new(url, vkey)
    }
}

/// The witnesses of a log and how long to wait for them.
pub struct Witnesses {
    /// The witnesses.
    pub list: Vec<Witness>,
    /// Longest wait for one witness's answer.
    pub timeout: Duration,
}

/// What a witness answered.
enum Answer {
    Cosigned(Vec<u8>),
    KnowsSize(u64),
    Failed(String),
}

impl Witnesses {
    fn ask(&self, http: &reqwest::blocking::Client, w: &Witness, body: Vec<u8>) -> Answer {
        let url = format!("{}{ADD_CHECKPOINT_PATH}", w.url);
        let response = match http.post(&url).body(body).send() {
            Ok(r) => r,
            Err(e) => return Answer::Failed(format!("{url}: {e}")),
        };
        let status = response.status().as_u16();
        let bytes = match response.bytes() {
            Ok(b) => b.to_vec(),
            Err(e) => return Answer::Failed(format!("{url}: {e}")),
        };
        match status {
            200 => Answer::Cosigned(bytes),
            409 => match parse_size_response(&bytes) {
                Ok(size) => Answer::KnowsSize(size),
                Err(e) => Answer::Failed(format!("{url}: 409: {e}")),
            },
            other => Answer::Failed(format!(
                "{url}: {other}: {}",
                String::from_utf8_lossy(&bytes)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )),
        }
    }

    /// Asks every witness to cosign `note` (the log-signed checkpoint of
    /// `size`), with consistency proofs from `prove(old)`; returns the note
    /// with every valid cosignature appended.
    pub fn cosign(
        &self,
        note: &[u8],
        size: u64,
        policy_origin: &str,
        log: &dyn Fn() -> Box<dyn NoteVerifier>,
        prove: &dyn Fn(u64) -> Result<Vec<Hash>, String>,
    ) -> Vec<u8> {
        let http = match reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "no HTTP client for witnesses");
                return note.to_vec();
            }
        };
        let mut cosigned = note.to_vec();
        for w in &self.list {
            let mut old = *w.known.lock().unwrap_or_else(|p| p.into_inner());
            let mut answer = Answer::Failed("not asked".into());
            for _attempt in 0..2 {
                if old > size {
                    answer = Answer::Failed(format!(
                        "{} has cosigned size {old}, beyond ours ({size}): a fork?",
                        w.url
                    ));
                    break;
                }
                let proof = if old == 0 || old == size {
                    Ok(vec![])
                } else {
                    prove(old)
                };
                let proof = match proof {
                    Ok(p) => p,
                    Err(e) => {
                        answer = Answer::Failed(e);
                        break;
                    }
                };
                answer = self.ask(&http, w, encode_add_checkpoint(old, &proof, note));
                match answer {
                    Answer::KnowsSize(known) if known != old => old = known,
                    _ => break,
                }
            }
            match answer {
                Answer::Cosigned(lines) => {
                    let mut candidate = cosigned.clone();
                    candidate.extend_from_slice(&lines);
                    let policy = CheckpointPolicy {
                        origin: policy_origin.to_string(),
                        log: log(),
                        witnesses: vec![w.verifier.clone()],
                        quorum: 1,
                    };
                    match verify_checkpoint(&candidate, &policy) {
                        Ok(_) => {
                            cosigned = candidate;
                            *w.known.lock().unwrap_or_else(|p| p.into_inner()) = size;
                        }
                        Err(e) => {
                            tracing::warn!(witness = %w.url, error = %e, "invalid cosignature ignored")
                        }
                    }
                }
                Answer::KnowsSize(known) => {
                    *w.known.lock().unwrap_or_else(|p| p.into_inner()) = known;
                    tracing::warn!(witness = %w.url, known, "witness keeps answering 409");
                }
                Answer::Failed(e) => tracing::warn!(witness = %w.url, error = %e, "no cosignature"),
            }
        }
        cosigned
    }
}
