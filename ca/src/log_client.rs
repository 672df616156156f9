//! The CA's client of the transparency log: it submits `certificate` and
//! `revocation` entries (`POST /api/v1/entries`, the body shapes of
//! `sigil_log::admission`) and reads the log's size from `GET /checkpoint`
//! (C2SP tlog-checkpoint).
//!
//! The log answers a submission only once the entry is durable and
//! sequenced, with its index and `.tlog-proof` (C2SP tlog-proof): that
//! answer is the CA's evidence that the certificate is logged before it is
//! handed out.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy};
use sigil_core::entry::{Entry, EntryBody, Revocation};
use sigil_core::note::{Note, parse_verifier_key};

/// Why the log did not take an entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The log could not be reached or did not answer in time; nothing is
    /// known to be logged.
    #[error("the log at {url} is unreachable: {reason}")]
    Unreachable {
        /// The log's base URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// The log answered with a server error (5xx) or an unreadable body.
    #[error("the log at {url} failed: {reason}")]
    Failed {
        /// The log's base URL.
        url: String,
        /// What it said.
        reason: String,
    },
    /// The log's answer does not prove that it logged the entry: the
    /// proof does not verify against the log's key, or it proves another
    /// entry. The CA hands nothing out.
    #[error("the log's proof does not hold: {0}")]
    BadProof(String),
    /// The log refused the entry (4xx): the CA and the log disagree (for
    /// example the log trusts another root).
    #[error("the log refused the entry ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The log's error code.
        code: String,
        /// The log's message.
        message: String,
    },
}

/// What the log answered for a logged entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Logged {
    /// The entry's index.
    pub index: u64,
    /// Its `.tlog-proof` (C2SP tlog-proof) against the log's newest
    /// checkpoint.
    pub proof: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Deserialize)]
struct ErrorFields {
    code: String,
    message: String,
}

/// A client of one log.
#[derive(Clone)]
pub struct LogClient {
    base: String,
    http: reqwest::Client,
    policy: Option<Arc<CheckpointPolicy>>,
}

impl std::fmt::Debug for LogClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogClient")
            .field("base", &self.base)
            .field("checks_proofs", &self.policy.is_some())
            .finish()
    }
}

impl LogClient {
    /// A client of the log at `base` (e.g. `http://127.0.0.1:6962`), with a
    /// timeout for each request. The log answers a submission after its
    /// sequencing round, so the timeout must cover a round.
    pub fn new(base: &str, timeout: Duration) -> Result<LogClient, LogError> {
        let base = base.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| LogError::Unreachable {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(LogClient {
            base,
            http,
            policy: None,
        })
    }

    /// Checks every answer's `.tlog-proof` against the log's verifier key
    /// (C2SP signed-note; the origin is the key's name, as `sigil-log
    /// keygen` makes it): the checkpoint's signature, the inclusion proof,
    /// and that the proven entry is the one submitted.
    pub fn with_verifier_key(mut self, vkey: &str) -> Result<LogClient, String> {
        let verifier = parse_verifier_key(vkey.trim()).map_err(|e| e.to_string())?;
        self.policy = Some(Arc::new(CheckpointPolicy {
            origin: verifier.name().to_string(),
            log: verifier,
            witnesses: vec![],
            quorum: 0,
        }));
        Ok(self)
    }

    /// Whether answers are checked ([`LogClient::with_verifier_key`]).
    pub fn checks_proofs(&self) -> bool {
        self.policy.is_some()
    }

    /// With a verifier key: the proof verifies and proves an entry whose
    /// body `expected` accepts, at the index the log named.
    fn check(
        &self,
        logged: &Logged,
        expected: impl Fn(&EntryBody) -> bool,
    ) -> Result<(), LogError> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        let verified = sigil_core::proof::verify(logged.proof.as_bytes(), policy)
            .map_err(|e| LogError::BadProof(e.to_string()))?;
        if verified.index != logged.index {
            return Err(LogError::BadProof(format!(
                "the log said index {} but the proof is for index {}",
                logged.index, verified.index
            )));
        }
        let entry =
            Entry::decode(&verified.entry).map_err(|e| LogError::BadProof(e.to_string()))?;
        if !expected(&entry.body) {
            return Err(LogError::BadProof(
                "the proven entry is not the one submitted".into(),
            ));
        }
        Ok(())
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Submits a `certificate` entry: the leaf and its issuers up to, not
    /// including, the root, DER.
    pub async fn submit_certificate(&self, chain: &[&[u8]]) -> Result<Logged, LogError> {
        let encoded: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
        let logged = self
            .submit(json!({"kind": "certificate", "chain": encoded}))
            .await?;
        self.check(&logged, |body| {
            matches!(body, EntryBody::Certificate(c)
                if c.chain.len() == chain.len() && c.chain.iter().zip(chain).all(|(a, b)| a == b))
        })?;
        Ok(logged)
    }

    /// Submits a `revocation` entry (`docs/formats.md` §1.4).
    pub async fn submit_revocation(&self, r: &Revocation) -> Result<Logged, LogError> {
        let signer_chain: Vec<String> = r.signer_chain.iter().map(|c| STANDARD.encode(c)).collect();
        let logged = self
            .submit(json!({
                "kind": "revocation",
                "serial": hex::encode(&r.serial),
                "reason": r.reason,
                "from_index": r.from_index,
                "revoked_at": r.revoked_at,
                "signature": STANDARD.encode(&r.signature),
                "signer_chain": signer_chain,
            }))
            .await?;
        self.check(
            &logged,
            |body| matches!(body, EntryBody::Revocation(x) if x == r),
        )?;
        Ok(logged)
    }

    async fn submit(&self, body: serde_json::Value) -> Result<Logged, LogError> {
        let url = format!("{}/api/v1/entries", self.base);
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| LogError::Failed {
                url: self.base.clone(),
                reason: format!("unreadable answer: {e}"),
            });
        }
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => (b.error.code, b.error.message),
            Err(_) => (
                "unknown".to_string(),
                String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            ),
        };
        if status.is_client_error() && status.as_u16() != 429 {
            Err(LogError::Refused {
                status: status.as_u16(),
                code,
                message,
            })
        } else {
            Err(LogError::Failed {
                url: self.base.clone(),
                reason: format!("{status}: {code}: {message}"),
            })
        }
    }

    /// The log's current tree size, from the text of `GET /checkpoint`.
    /// The signature is not checked here: the size only picks a default
    /// `from_index` for a revocation, and the log itself enforces it.
    pub async fn tree_size(&self) -> Result<u64, LogError> {
        let url = format!("{}/checkpoint", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(e))?;
        let failed = |reason: String| LogError::Failed {
            url: self.base.clone(),
            reason,
        };
        if !status.is_success() {
            return Err(failed(format!("GET /checkpoint: {status}")));
        }
        let note = Note::parse(&bytes).map_err(|e| failed(format!("checkpoint: {e}")))?;
        let checkpoint =
            Checkpoint::parse(&note.text).map_err(|e| failed(format!("checkpoint: {e}")))?;
        Ok(checkpoint.size)
    }

    fn unreachable(&self, e: reqwest::Error) -> LogError {
        LogError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        }
    }
}
