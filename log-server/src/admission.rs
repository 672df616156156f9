//! Admission: what `POST /api/v1/entries` accepts, and the checks an entry
//! passes before it may wait in the pool.
//!
//! The checks are the verifier's (`sigil_verifier`), the same code a client
//! runs at install time (DESIGN.md "Workspace": a server never
//! re-implements a check the verifier has). What depends on the entry's
//! position — duplicates and revocations — is checked again by the
//! sequencer, in index order.
//!
//! # Request body
//!
//! A JSON object whose `kind` selects one of three shapes. Certificates are
//! base64 (RFC 4648 §4) DER, leaf first, root excluded.
//!
//! ```json
//! {"kind": "release",
//!  "envelope": { DSSE envelope: payloadType, payload, signatures },
//!  "chains": [["<leaf>", "<intermediate>"], ...]}       one chain per signature, same order
//!
//! {"kind": "certificate", "chain": ["<leaf>", "<intermediate>"]}
//!
//! {"kind": "revocation", "serial": "<hex DER INTEGER content>", "reason": 1,
//!  "from_index": 120, "revoked_at": 1767225600000,
//!  "signature": "<base64 DER ECDSA>", "signer_chain": ["<intermediate>"]}
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::value::RawValue;
use sigil_core::entry::{CertificateEntry, Entry, EntryBody, ReleaseEntry, Revocation};
use sigil_core::statement::Envelope;
use sigil_verifier::{ChainCache, RevocationSet, TrustedRoots, VerifyError};

use crate::error::ApiError;
use crate::storage::Storage;

/// The kinds `POST /api/v1/entries` takes.
pub const KINDS: &[&str] = &["release", "certificate", "revocation"];

#[derive(Deserialize)]
struct KindOnly {
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseRequest {
    #[allow(dead_code)]
    kind: String,
    envelope: Box<RawValue>,
    chains: Vec<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateRequest {
    #[allow(dead_code)]
    kind: String,
    chain: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationRequest {
    #[allow(dead_code)]
    kind: String,
    serial: String,
    reason: u8,
    from_index: u64,
    revoked_at: u64,
    signature: String,
    signer_chain: Vec<String>,
}

/// An entry that passed admission, with what the sequencer needs to place
/// it.
pub struct Admitted {
    /// The entry body to log.
    pub body: EntryBody,
    /// For a release: (crate, version, sha256).
    pub release: Option<(String, String, [u8; 32])>,
    /// For a release: the certificate ids of its signers' paths (leaves and
    /// intermediates).
    pub signer_ids: Vec<[u8; 32]>,
    /// For a revocation: (certificate id, from_index).
    pub revokes: Option<([u8; 32], u64)>,
}

/// The revocations storage holds of these certificates, as a
/// [`RevocationSet`] (whose rules decide what they void).
pub fn stored_revocations<'a>(
    storage: &dyn Storage,
    ids: impl IntoIterator<Item = &'a [u8; 32]>,
) -> Result<RevocationSet, crate::storage::StorageError> {
    let mut set = RevocationSet::new();
    for id in ids {
        if let Some(from_index) = storage.revocation(id)? {
            set.insert(*id, from_index);
        }
    }
    Ok(set)
}

/// Parses a submission and runs every check that does not depend on the
/// entry's final position. `now` is the admission time (Unix ms) and
/// `size` the published tree size: the entry's index will be at least that.
pub fn admit(
    body: &[u8],
    roots: &TrustedRoots,
    chains: &ChainCache,
    storage: &dyn Storage,
    now: u64,
    size: u64,
) -> Result<Admitted, ApiError> {
    let kind: KindOnly = serde_json::from_slice(body).map_err(json_error)?;
    let admitted = match kind.kind.as_str() {
        "release" => {
            let req: ReleaseRequest = serde_json::from_slice(body).map_err(json_error)?;
            let envelope = Envelope::from_json(req.envelope.get().as_bytes())
                .map_err(|e| ApiError::bad_request("malformed_envelope", e.to_string()))?;
            let signer_chains = req
                .chains
                .iter()
                .map(|c| decode_chain(c))
                .collect::<Result<Vec<_>, _>>()?;
            let release = ReleaseEntry::from_envelope(&envelope, signer_chains)
                .map_err(|e| ApiError::bad_request("malformed_release", e.to_string()))?;
            let signers = sigil_verifier::check_release(
                &release,
                now,
                size,
                roots,
                RevocationSet::empty(),
                Some(chains),
            )
            .map_err(rejected)?;
            // Revocations known now; the sequencer checks again at the
            // entry's own index.
            stored_revocations(storage, signers.iter().flat_map(|s| s.path_ids()))
                .map_err(|e| ApiError::Internal(format!("revocation lookup: {e}")))?
                .check_signers(&signers, size)
                .map_err(rejected)?;
            Admitted {
                release: Some((
                    release.crate_name.clone(),
                    release.version.clone(),
                    release.sha256,
                )),
                // Every certificate of every signer's path: a revocation of
                // the leaf or of an intermediate voids the release.
                signer_ids: signers.iter().flat_map(|s| s.path_ids().copied()).collect(),
                revokes: None,
                body: EntryBody::Release(release),
            }
        }
        "certificate" => {
            let req: CertificateRequest = serde_json::from_slice(body).map_err(json_error)?;
            let entry = CertificateEntry {
                chain: decode_chain(&req.chain)?,
            };
            sigil_verifier::check_certificate_entry(&entry, now, roots, Some(chains))
                .map_err(rejected)?;
            Admitted {
                body: EntryBody::Certificate(entry),
                release: None,
                signer_ids: vec![],
                revokes: None,
            }
        }
        "revocation" => {
            let req: RevocationRequest = serde_json::from_slice(body).map_err(json_error)?;
            let revocation = Revocation {
                serial: hex::decode(&req.serial).map_err(|e| {
                    ApiError::bad_request("malformed_revocation", format!("serial is not hex: {e}"))
                })?,
                reason: req.reason,
                from_index: req.from_index,
                revoked_at: req.revoked_at,
                signature: decode_b64("signature", &req.signature)?,
                signer_chain: decode_chain(&req.signer_chain)?,
            };
            let id = sigil_verifier::check_revocation(&revocation, now, roots).map_err(rejected)?;
            Admitted {
                revokes: Some((id, revocation.from_index)),
                body: EntryBody::Revocation(revocation),
                release: None,
                signer_ids: vec![],
            }
        }
        other => {
            return Err(ApiError::bad_request(
                "unknown_kind",
                format!("unknown entry kind {other:?}; expected one of {KINDS:?}"),
            ));
        }
    };
    // The whole entry must fit the 65,535-byte limit once stamped.
    Entry {
        integrated_at: now,
        body: admitted.body.clone(),
    }
    .encode()
    .map_err(|e| ApiError::bad_request("malformed_entry", e.to_string()))?;
    Ok(admitted)
}

fn rejected(e: VerifyError) -> ApiError {
    ApiError::Rejected {
        code: e.code(),
        message: e.to_string(),
    }
}

fn json_error(e: serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "malformed_json",
        format!("request body is not a valid submission: {e}"),
    )
}

fn decode_b64(what: &str, s: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD.decode(s).map_err(|e| {
        ApiError::bad_request(
            "malformed_base64",
            format!("{what} is not standard padded base64: {e}"),
        )
    })
}

fn decode_chain(chain: &[String]) -> Result<Vec<Vec<u8>>, ApiError> {
    if chain.is_empty() {
        return Err(ApiError::bad_request(
            "malformed_chain",
            "a certificate chain needs at least the leaf certificate",
        ));
    }
    chain.iter().map(|c| decode_b64("certificate", c)).collect()
}
