//! The CA's client of the transparency log: it submits `certificate` and
//! `revocation` entries (`POST /api/v1/entries`, the body shapes of
//! `sigil_log::admission`) and reads the log's size from `GET /checkpoint`
//! (C2SP tlog-checkpoint).
//!
//! The log answers a submission only once the entry is durable and
//! sequenced, with its index and `.tlog-proof` (C2SP tlog-proof): that
//! answer is the CA's evidence that the certificate is logged before it is
//! handed out.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use sigil_core::checkpoint::Checkpoint;
use sigil_core::entry::Revocation;
use sigil_core::note::Note;

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
#[derive(Clone, Debug)]
pub struct LogClient {
    base: String,
    http: reqwest::Client,
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
        Ok(LogClient { base, http })
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Submits a `certificate` entry: the leaf and its issuers up to, not
    /// including, the root, DER.
    pub async fn submit_certificate(&self, chain: &[&[u8]]) -> Result<Logged, LogError> {
        let chain: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
        self.submit(json!({"kind": "certificate", "chain": chain}))
            .await
    }

    /// Submits a `revocation` entry (`docs/formats.md` §1.4).
    pub async fn submit_revocation(&self, r: &Revocation) -> Result<Logged, LogError> {
        let signer_chain: Vec<String> = r.signer_chain.iter().map(|c| STANDARD.encode(c)).collect();
        self.submit(json!({
            "kind": "revocation",
            "serial": hex::encode(&r.serial),
            "reason": r.reason,
            "from_index": r.from_index,
            "revoked_at": r.revoked_at,
            "signature": STANDARD.encode(&r.signature),
            "signer_chain": signer_chain,
        }))
        .await
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
