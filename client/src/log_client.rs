//! The client of a Sigil log (DESIGN.md "Interfaces"): one method per
//! endpoint, every body one of `sigil_core::log_api`'s types. Used by
//! `sigil` (through [`crate::blocking::LogClient`]), the CA and monitors.
//!
//! | method | request | answer |
//! |---|---|---|
//! | [`LogClient::submit`] | `POST /api/v1/entries` | [`Submitted`] |
//! | [`LogClient::checkpoint`], [`LogClient::tree_size`] | `GET /checkpoint` | the signed note (C2SP tlog-checkpoint) |
//! | [`LogClient::verified_checkpoint`], [`LogClient::verified_tree_size`] | `GET /checkpoint` | the note, verified with the log's key |
//! | [`LogClient::tile`] | `GET /tile/...` (C2SP tlog-tiles) | the tile's bytes |
//! | [`LogClient::entry`] | `GET /api/v1/entries/{index}` | [`EntryInfo`] |
//! | [`LogClient::inclusion_proof`] | `GET /api/v1/proofs/inclusion` | [`InclusionProof`] |
//! | [`LogClient::consistency_proof`] | `GET /api/v1/proofs/consistency` | [`ConsistencyProof`] |
//! | [`LogClient::releases`] | `GET /api/v1/releases/{crate}` | [`ReleaseList`] |
//! | [`LogClient::release_proof`] | `GET /api/v1/releases/{crate}/{version}` | the `.tlog-proof`, or `None` |
//! | [`LogClient::revocation`] | `GET /api/v1/revocations/{id}` | [`RevocationStatus`], or `None` |
//! | [`LogClient::lookup`] | `POST /api/v1/lookup` | [`LookupAnswer`]: many releases' proofs and their signers' revocation answers |
//! | [`LogClient::health`] | `GET /healthz` | [`Health`] |
//!
//! Where a `404` is an answer (no such release, not revoked) the method
//! returns `None`; a `404 no_such_route` is not: it means the URL is not a
//! log's, and stays [`ClientError::NotFound`].
//!
//! # Checked submissions
//!
//! The log answers a submission only once the entry is durable, with its
//! index and `.tlog-proof` (C2SP tlog-proof). Given the log's verifier key
//! ([`LogClient::with_verifier_key`]), [`LogClient::submit`] checks that
//! answer before returning it: the proof's checkpoint is signed by the log
//! for its origin, its inclusion proof holds, it is for the index the log
//! named, and the proven entry is the one submitted (for a release: the
//! same crate, version and SHA-256, since a resubmission is answered with
//! the entry already logged, whose signatures may differ). The CA hands a
//! certificate out only with such a proof.

use std::sync::Arc;
use std::time::Duration;

use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, VerifiedCheckpoint, verify_checkpoint};
use sigil_core::entry::{Entry, EntryBody};
use sigil_core::log_api::{
    CHECKPOINT_PATH, CONSISTENCY_PATH, ConsistencyProof, ENTRIES_PATH, EntryInfo, HEALTH_PATH,
    Health, INCLUSION_PATH, InclusionProof, LOOKUP_PATH, LookupAnswer, RELEASES_PATH,
    REVOCATIONS_PATH, ReleaseKey, ReleaseList, RevocationStatus, Submitted, encode_lookup,
    encode_submission,
};
use sigil_core::note::{Note, NoteError, parse_verifier_key};

use crate::http::{
    ClientError, ClientOptions, DEFAULT_TIMEOUT, Endpoint, parse_json, path_segment,
};

/// The `404` code of a path the server does not serve at all
/// (`sigil_serve::http_error::no_such_route`).
const NO_SUCH_ROUTE: &str = "no_such_route";

/// The log's code for "it holds no revocation of this certificate".
const NOT_REVOKED: &str = "not_revoked";

/// How many times [`LogClient::submit`] sends again after a `429`.
pub const SUBMIT_RETRIES: u32 = 5;

/// The longest [`LogClient::submit`] waits before sending again, seconds.
pub const MAX_RETRY_WAIT_SECS: u64 = 30;

/// How many times [`LogClient::lookup`] asks again after a `503` (a
/// revocation of a signer being published: the log says to ask again in
/// seconds).
pub const LOOKUP_RETRIES: u32 = 3;

/// The longest [`LogClient::lookup`] waits before asking again, seconds.
pub const MAX_LOOKUP_WAIT_SECS: u64 = 10;

/// An async client of one log (module docs).
#[derive(Clone)]
pub struct LogClient {
    endpoint: Endpoint,
    policy: Option<Arc<CheckpointPolicy>>,
}

impl std::fmt::Debug for LogClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogClient")
            .field("base", &self.endpoint.base())
            .field("checks_proofs", &self.policy.is_some())
            .finish()
    }
}

impl LogClient {
    /// A client of the log at `base` (e.g. `http://127.0.0.1:6962`), with
    /// [`DEFAULT_TIMEOUT`] per request.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn new(base: &str) -> Result<LogClient, ClientError> {
        LogClient::with_timeout(base, DEFAULT_TIMEOUT)
    }

    /// [`LogClient::new`] with another timeout per request. A submission
    /// is answered after the log's sequencing round: the timeout must
    /// cover one.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_timeout(base: &str, timeout: Duration) -> Result<LogClient, ClientError> {
        LogClient::with_options(base, &ClientOptions::with_timeout(timeout))
    }

    /// [`LogClient::new`] with other [`ClientOptions`] (timeout, the CAs
    /// trusted for `https://`).
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`], [`ClientError::Setup`].
    pub fn with_options(base: &str, options: &ClientOptions) -> Result<LogClient, ClientError> {
        Ok(LogClient {
            endpoint: Endpoint::new(base, options)?,
            policy: None,
        })
    }

    /// Checks every submission's `.tlog-proof` against the log's verifier
    /// key (C2SP signed-note `name+keyid+base64`; the origin is the key's
    /// name, as `sigil-log keygen` makes it): module docs, "Checked
    /// submissions".
    ///
    /// # Errors
    ///
    /// The key does not parse.
    pub fn with_verifier_key(self, vkey: &str) -> Result<LogClient, NoteError> {
        let verifier = parse_verifier_key(vkey.trim())?;
        Ok(self.with_policy(CheckpointPolicy {
            origin: verifier.name().to_string(),
            log: verifier,
            witnesses: vec![],
            quorum: 0,
        }))
    }

    /// Checks every submission's `.tlog-proof` under `policy` (origin, log
    /// key, witnesses and quorum).
    pub fn with_policy(mut self, policy: CheckpointPolicy) -> LogClient {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// Whether submissions are checked (module docs).
    pub fn checks_proofs(&self) -> bool {
        self.policy.is_some()
    }

    /// The log's origin line, when the client has the log's key or policy
    /// ([`LogClient::with_verifier_key`]): what a revocation for this log
    /// is signed for (`docs/formats.md` §1.4).
    pub fn origin(&self) -> Option<&str> {
        self.policy.as_deref().map(|p| p.origin.as_str())
    }

    /// The log's base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        self.endpoint.base()
    }

    /// `POST /api/v1/entries`: submits an entry (the log stamps its
    /// integration time) and waits until it is durable.
    ///
    /// # Errors
    ///
    /// [`ClientError::Refused`] with the log's code (`out_of_scope`,
    /// `revoked`, `conflict` with `existing_index`, …);
    /// [`ClientError::BadProof`] when checking (module docs); transport
    /// and answer errors.
    pub async fn submit(&self, body: &EntryBody) -> Result<Submitted, ClientError> {
        let url = format!("{}{ENTRIES_PATH}", self.url());
        let encoded = encode_submission(body);
        // Over the log's rate limit (429), wait as asked and send again, a
        // few times: a submission is idempotent (the log answers a logged
        // entry with its index), so a retry cannot log it twice.
        let mut retries = 0;
        let answer = loop {
            match self
                .endpoint
                .post_json(ENTRIES_PATH, encoded.clone(), None)
                .await
            {
                Err(ClientError::Unavailable {
                    status: 429,
                    retry_after,
                    ..
                }) if retries < SUBMIT_RETRIES => {
                    retries += 1;
                    let wait = retry_after.unwrap_or(1).clamp(1, MAX_RETRY_WAIT_SECS);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                other => break other?,
            }
        };
        let submitted: Submitted = parse_json(&url, &answer)?;
        if let Some(policy) = &self.policy {
            check_submitted(policy, &submitted, body)
                .map_err(|reason| ClientError::BadProof { url, reason })?;
        }
        Ok(submitted)
    }

    /// `GET /checkpoint`: the log's signed checkpoint note, byte for byte,
    /// unverified.
    ///
    /// # Errors
    ///
    /// Transport and HTTP errors.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, ClientError> {
        self.endpoint.get(CHECKPOINT_PATH).await
    }

    /// The log's tree size, from the text of `GET /checkpoint`. The
    /// signature is not checked: use it for defaults (the CA's revocation
    /// index), never to decide what to trust.
    ///
    /// # Errors
    ///
    /// [`ClientError::BadAnswer`] if it is not a checkpoint; transport and
    /// HTTP errors.
    pub async fn tree_size(&self) -> Result<u64, ClientError> {
        let note = self.checkpoint().await?;
        let bad = |e: &dyn std::fmt::Display| ClientError::BadAnswer {
            url: format!("{}{CHECKPOINT_PATH}", self.url()),
            reason: format!("not a checkpoint: {e}"),
        };
        let note = Note::parse(&note).map_err(|e| bad(&e))?;
        Ok(Checkpoint::parse(&note.text).map_err(|e| bad(&e))?.size)
    }

    /// `GET /checkpoint`, verified under the log's key or policy
    /// (`sigil_core::checkpoint::verify_checkpoint`: the log's signature,
    /// its origin, the witness quorum): a size to act on, unlike
    /// [`LogClient::tree_size`].
    ///
    /// # Errors
    ///
    /// [`ClientError::Setup`] if the client has no key or policy
    /// ([`LogClient::with_verifier_key`]); [`ClientError::BadProof`] if the
    /// checkpoint does not verify; transport and HTTP errors.
    pub async fn verified_checkpoint(&self) -> Result<VerifiedCheckpoint, ClientError> {
        let policy = self.policy.as_deref().ok_or_else(|| {
            ClientError::Setup(
                "a verified checkpoint needs the log's verifier key (LogClient::with_verifier_key)"
                    .into(),
            )
        })?;
        let note = self.checkpoint().await?;
        verify_checkpoint(&note, policy).map_err(|e| ClientError::BadProof {
            url: format!("{}{CHECKPOINT_PATH}", self.url()),
            reason: format!("the checkpoint does not verify: {e}"),
        })
    }

    /// The tree size of [`LogClient::verified_checkpoint`].
    ///
    /// # Errors
    ///
    /// As [`LogClient::verified_checkpoint`].
    pub async fn verified_tree_size(&self) -> Result<u64, ClientError> {
        Ok(self.verified_checkpoint().await?.checkpoint.size)
    }

    /// `GET /<path>`: a tile or entry bundle (C2SP tlog-tiles), `path` as
    /// `sigil_core::tile::Tile::path` writes it (`tile/0/x001/234.p/17`;
    /// a leading `/` is allowed).
    ///
    /// # Errors
    ///
    /// [`ClientError::NotFound`] if the log does not have it (a partial
    /// tile may be deleted once its full tile exists); transport and HTTP
    /// errors.
    pub async fn tile(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        self.endpoint
            .get(&format!("/{}", path.trim_start_matches('/')))
            .await
    }

    /// `GET /api/v1/entries/{index}`.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotFound`] for an index not yet published;
    /// transport, HTTP and answer errors.
    pub async fn entry(&self, index: u64) -> Result<EntryInfo, ClientError> {
        self.endpoint
            .get_json(&format!("{ENTRIES_PATH}/{index}"))
            .await
    }

    /// `GET /api/v1/proofs/inclusion?index=I&size=N` (RFC 9162 §2.1.3).
    ///
    /// # Errors
    ///
    /// [`ClientError::BadAnswer`] if the proof is for another index or
    /// size; transport, HTTP and answer errors.
    pub async fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<InclusionProof, ClientError> {
        let path = format!("{INCLUSION_PATH}?index={index}&size={size}");
        let proof: InclusionProof = self.endpoint.get_json(&path).await?;
        if (proof.index, proof.size) != (index, size) {
            return Err(self.mismatch(&path, "index and size"));
        }
        Ok(proof)
    }

    /// `GET /api/v1/proofs/consistency?from=M&to=N` (RFC 9162 §2.1.4).
    ///
    /// # Errors
    ///
    /// [`ClientError::BadAnswer`] if the proof is between other sizes;
    /// transport, HTTP and answer errors.
    pub async fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProof, ClientError> {
        let path = format!("{CONSISTENCY_PATH}?from={from}&to={to}");
        let proof: ConsistencyProof = self.endpoint.get_json(&path).await?;
        if (proof.from, proof.to) != (from, to) {
            return Err(self.mismatch(&path, "tree sizes"));
        }
        Ok(proof)
    }

    /// `GET /api/v1/releases/{crate}`: every logged version.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotFound`] for a crate never logged; transport, HTTP
    /// and answer errors.
    pub async fn releases(&self, crate_name: &str) -> Result<ReleaseList, ClientError> {
        self.endpoint
            .get_json(&format!("{RELEASES_PATH}/{}", path_segment(crate_name)))
            .await
    }

    /// `GET /api/v1/releases/{crate}/{version}`: the release's
    /// `.tlog-proof` against the log's newest checkpoint, or `None` if the
    /// log has no such release (nobody signed it).
    ///
    /// # Errors
    ///
    /// Transport and HTTP errors; never "absent" for a failure to ask.
    pub async fn release_proof(
        &self,
        crate_name: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, ClientError> {
        let path = format!(
            "{RELEASES_PATH}/{}/{}",
            path_segment(crate_name),
            path_segment(version)
        );
        absent_on_404(self.endpoint.get(&path).await)
    }

    /// `GET /api/v1/revocations/{certificate_id}`: the log's revocation of
    /// this certificate (`sigil_verifier::certificate_id`) with the
    /// entry's proof (the caller checks it), or `None` if the log says it
    /// holds none (`404` with the code `not_revoked`, and nothing else).
    ///
    /// # Errors
    ///
    /// Transport, HTTP and answer errors; never "not revoked" for a
    /// failure to ask.
    pub async fn revocation(
        &self,
        certificate_id: &[u8; 32],
    ) -> Result<Option<RevocationStatus>, ClientError> {
        let path = format!("{REVOCATIONS_PATH}/{}", hex::encode(certificate_id));
        let url = format!("{}{path}", self.url());
        // Only the log's own `not_revoked` means absent: any other 404 (a
        // proxy's, a bare one) is an error, never "not revoked".
        let answer = match self.endpoint.get(&path).await {
            Ok(body) => Some(body),
            Err(ClientError::NotFound { code, .. }) if code == NOT_REVOKED => None,
            Err(e) => return Err(e),
        };
        match answer {
            None => Ok(None),
            Some(body) => {
                let status: RevocationStatus = parse_json(&url, &body)?;
                if &status.certificate_id != certificate_id {
                    return Err(self.mismatch(&path, "certificate id"));
                }
                Ok(Some(status))
            }
        }
    }

    /// `POST /api/v1/lookup`: the `.tlog-proof`s of `releases` and the
    /// revocation answers for every certificate on their signers' paths,
    /// against one checkpoint (`sigil_core::log_api::lookup`). At most
    /// `sigil_core::log_api::MAX_LOOKUP_RELEASES` releases, each once: the
    /// caller splits longer lists. Asks again after a `503` with
    /// `Retry-After`, up to [`LOOKUP_RETRIES`] times (a lookup changes
    /// nothing). The answer is only parsed: pair it with the question
    /// ([`crate::lookup::match_answer`]) and check every proof in it.
    ///
    /// # Errors
    ///
    /// [`ClientError::Refused`] with the log's code (`too_many`: ask for
    /// fewer; `malformed_release`, `duplicate_release`, …); transport,
    /// HTTP and answer errors.
    pub async fn lookup(&self, releases: &[ReleaseKey]) -> Result<LookupAnswer, ClientError> {
        let url = format!("{}{LOOKUP_PATH}", self.url());
        let body = encode_lookup(releases);
        let mut retries = 0;
        let answer = loop {
            match self
                .endpoint
                .post_json(LOOKUP_PATH, body.clone(), None)
                .await
            {
                Err(ClientError::Unavailable {
                    status: 503,
                    retry_after: Some(wait),
                    ..
                }) if retries < LOOKUP_RETRIES => {
                    retries += 1;
                    let wait = wait.clamp(1, MAX_LOOKUP_WAIT_SECS);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                other => break other?,
            }
        };
        parse_json(&url, &answer)
    }

    /// `GET /healthz`: liveness and the published tree size.
    ///
    /// # Errors
    ///
    /// Transport, HTTP and answer errors.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.endpoint.get_json(HEALTH_PATH).await
    }

    fn mismatch(&self, path: &str, what: &str) -> ClientError {
        ClientError::BadAnswer {
            url: format!("{}{path}", self.url()),
            reason: format!("the answer is for other {what} than asked"),
        }
    }
}

/// `None` for a `404` that answers the question; a `404 no_such_route`
/// (not a log's URL) stays an error.
fn absent_on_404(result: Result<Vec<u8>, ClientError>) -> Result<Option<Vec<u8>>, ClientError> {
    match result {
        Ok(body) => Ok(Some(body)),
        Err(ClientError::NotFound { code, .. }) if code != NO_SUCH_ROUTE => Ok(None),
        Err(e) => Err(e),
    }
}

/// Module docs, "Checked submissions"; the reason for a person otherwise.
fn check_submitted(
    policy: &CheckpointPolicy,
    submitted: &Submitted,
    body: &EntryBody,
) -> Result<(), String> {
    let verified =
        sigil_core::proof::verify(submitted.proof.as_bytes(), policy).map_err(|e| e.to_string())?;
    if verified.index != submitted.index {
        return Err(format!(
            "the log said index {} but the proof is for index {}",
            submitted.index, verified.index
        ));
    }
    let entry = Entry::decode(&verified.entry).map_err(|e| e.to_string())?;
    if !same_entry(&entry.body, body) {
        return Err("the proven entry is not the one submitted".into());
    }
    Ok(())
}

/// Whether the proven entry is the submitted one: for a release, the same
/// crate, version and SHA-256; otherwise the same body.
fn same_entry(proven: &EntryBody, submitted: &EntryBody) -> bool {
    match (proven, submitted) {
        (EntryBody::Release(a), EntryBody::Release(b)) => a.release() == b.release(),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use sigil_core::entry::{CertificateEntry, ReleaseEntry, Signer};

    use super::*;

    /// (the `404`'s code, whether it means "absent")
    const NOT_FOUND: &[(&str, bool)] = &[
        ("no_such_release", true),
        ("not_revoked", true),
        ("http_404", true),
        ("no_such_route", false),
    ];

    #[test]
    fn a_404_is_absent_unless_the_route_is_unknown() {
        for (code, absent) in NOT_FOUND {
            let result = absent_on_404(Err(ClientError::NotFound {
                url: "u".into(),
                code: (*code).into(),
                message: String::new(),
            }));
            assert_eq!(matches!(result, Ok(None)), *absent, "code {code}");
        }
        assert_eq!(absent_on_404(Ok(vec![1])).unwrap(), Some(vec![1]));
        let refused = absent_on_404(Err(ClientError::Timeout { url: "u".into() }));
        assert!(matches!(refused, Err(ClientError::Timeout { .. })));
    }

    fn release(version: &str, sha: u8, sig: u8) -> EntryBody {
        EntryBody::Release(ReleaseEntry {
            crate_name: "serde".into(),
            version: version.into(),
            sha256: [sha; 32],
            payload_type: "application/vnd.in-toto+json".into(),
            payload: vec![sig],
            signers: vec![Signer {
                keyid: String::new(),
                sig: vec![sig],
                chain: vec![vec![sig]],
            }],
        })
    }

    fn certificate(byte: u8) -> EntryBody {
        EntryBody::Certificate(CertificateEntry {
            chain: vec![vec![byte]],
        })
    }

    #[test]
    fn the_proven_entry_must_be_the_submitted_one() {
        let rows = [
            // A resubmitted release is answered with the logged entry,
            // whose signatures may be others'.
            (release("1.0.0", 1, 1), release("1.0.0", 1, 2), true),
            (release("1.0.0", 1, 1), release("1.0.0", 2, 1), false),
            (release("1.0.0", 1, 1), release("1.0.1", 1, 1), false),
            (certificate(1), certificate(1), true),
            (certificate(1), certificate(2), false),
            (certificate(1), release("1.0.0", 1, 1), false),
        ];
        for (proven, submitted, same) in rows {
            assert_eq!(
                same_entry(&proven, &submitted),
                same,
                "{proven:?} vs {submitted:?}"
            );
        }
    }
}
