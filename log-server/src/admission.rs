//! Admission: what `POST /api/v1/entries` accepts, and the checks an entry
//! passes before it may wait in the pool.
//!
//! The checks are the verifier's (`sigil_verifier`), the same code a client
//! runs at install time (DESIGN.md "Workspace": a server never
//! re-implements a check the verifier has). What depends on the entry's
//! position — duplicates and revocations — is checked again by the
//! sequencer, in index order.
//!
//! The request body is `sigil_core::log_api`'s (its module docs give the
//! shapes), parsed by [`parse_submission`]; refusals are
//! [`AdmissionError`], which `crate::error` turns into HTTP answers.

use sigil_core::entry::{Entry, EntryBody, EntryError};
use sigil_core::log_api::{SubmissionError, parse_submission};
use sigil_verifier::{ChainCache, RevocationSet, TrustedRoots, VerifiedSigner, VerifyError};

use crate::storage::{Storage, StorageError};

/// Why a submission was not admitted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    /// The body is not a submission ([`SubmissionError::code`] says how).
    #[error(transparent)]
    Malformed(#[from] SubmissionError),
    /// The verifier refused the entry ([`VerifyError::code`] says why):
    /// signature, chain, validity, scope or a known revocation.
    #[error(transparent)]
    Rejected(#[from] VerifyError),
    /// The entry, once stamped, would be larger than an entry may be.
    #[error("{0}")]
    TooLarge(EntryError),
    /// The entry's kind is one this log does not admit.
    #[error("this log does not admit entries of this kind")]
    UnsupportedKind,
    /// The revocations could not be looked up.
    #[error("revocation lookup: {0}")]
    Storage(#[from] StorageError),
}

/// An entry that passed admission, with what the sequencer needs to place
/// it.
pub struct Admitted {
    /// The entry body to log.
    pub body: EntryBody,
    /// For a release: (crate, version, sha256).
    pub release: Option<(String, String, [u8; 32])>,
    /// For a release: the certificate ids of its signers' paths (leaves and
    /// intermediates); for a revocation: its signer's. A revocation of any
    /// of them from an index at or before the entry's voids it.
    pub signer_ids: Vec<[u8; 32]>,
    /// For a revocation: (certificate id, from_index).
    pub revokes: Option<([u8; 32], u64)>,
    /// When the certificates the entry's check used stop validating: the
    /// sequencer refuses the entry if its `integrated_at` is past it.
    pub expiry: Expiry,
}

/// The earliest notAfter among the certificates an entry's check used (a
/// release's signers' paths, a certificate entry's path, a revocation's
/// signer), computed at admission, and which certificate it is. The entry
/// is judged at its `integrated_at` (`sigil_verifier::check_entry`), which
/// the sequencer stamps later (the batch window, a retried write): it
/// checks this again then ([`sigil_verifier::expired_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// The notAfter, Unix ms (inclusive, to the second).
    pub not_after_ms: u64,
    /// Which certificate, in words, e.g. `signer 0's certificate (for
    /// alice@example.com)`.
    pub certificate: String,
}

impl Expiry {
    /// The earliest notAfter of `signer`'s path, described as `whose`'s
    /// (e.g. "signer 1's").
    fn of_path(signer: &VerifiedSigner, whose: &str) -> Expiry {
        let (not_after_ms, at) = signer.path_not_after();
        let certificate = match at {
            None => format!("{whose} certificate (for {})", signer.identity),
            Some(0) => format!(
                "the CA certificate that issued {whose} certificate (for {})",
                signer.identity
            ),
            Some(k) => format!(
                "CA certificate {} above {whose} certificate (for {})",
                k + 1,
                signer.identity
            ),
        };
        Expiry {
            not_after_ms,
            certificate,
        }
    }

    /// The earlier of `self` and `other` (`self` on a tie).
    fn min(self, other: Expiry) -> Expiry {
        if other.not_after_ms < self.not_after_ms {
            other
        } else {
            self
        }
    }
}

/// The revocations storage holds of these certificates, as a
/// [`RevocationSet`] (whose rules decide what they void).
pub fn stored_revocations<'a>(
    storage: &dyn Storage,
    ids: impl IntoIterator<Item = &'a [u8; 32]>,
) -> Result<RevocationSet, StorageError> {
    let mut set = RevocationSet::new();
    for id in ids {
        if let Some(revoked) = storage.revocation(id)? {
            set.insert(*id, revoked.from_index);
        }
    }
    Ok(set)
}

/// Parses a submission and runs every check that does not depend on the
/// entry's final position. `origin` is the log's origin line (revocations
/// are signed for it), `now` the admission time (Unix ms) and `size` the
/// published tree size: the entry's index will be at least that.
pub fn admit(
    body: &[u8],
    roots: &TrustedRoots,
    origin: &str,
    chains: &ChainCache,
    storage: &dyn Storage,
    now: u64,
    size: u64,
) -> Result<Admitted, AdmissionError> {
    let admitted = match parse_submission(body)? {
        EntryBody::Release(release) => {
            let signers = sigil_verifier::check_release(
                &release,
                now,
                size,
                roots,
                RevocationSet::empty(),
                Some(chains),
            )?;
            // Revocations known now; the sequencer checks again at the
            // entry's own index.
            stored_revocations(storage, signers.iter().flat_map(|s| s.path_ids()))?
                .check_signers(&signers, size)?;
            let expiry = signers
                .iter()
                .enumerate()
                .map(|(i, s)| Expiry::of_path(s, &format!("signer {i}'s")))
                .reduce(Expiry::min)
                // check_release accepts no release without a signer.
                .ok_or(VerifyError::NoSigners)?;
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
                expiry,
                body: EntryBody::Release(release),
            }
        }
        EntryBody::Certificate(entry) => {
            let issued = sigil_verifier::check_certificate_entry(&entry, now, roots, Some(chains))?;
            Admitted {
                body: EntryBody::Certificate(entry),
                release: None,
                signer_ids: vec![],
                revokes: None,
                expiry: Expiry::of_path(&issued, "the logged"),
            }
        }
        EntryBody::Revocation(revocation) => {
            // Bound to this log's origin, and refused if its signer is
            // revoked by now; the sequencer checks the signer again at the
            // entry's own index.
            let checked = sigil_verifier::check_revocation(
                &revocation,
                origin,
                now,
                size,
                roots,
                RevocationSet::empty(),
            )?;
            stored_revocations(storage, [&checked.signer_id])?
                .check_path([&checked.signer_id], size)?;
            Admitted {
                revokes: Some((checked.certificate_id, checked.from_index)),
                body: EntryBody::Revocation(revocation),
                release: None,
                signer_ids: vec![checked.signer_id],
                expiry: Expiry {
                    not_after_ms: checked.signer_not_after_ms,
                    certificate: "the revoking CA's certificate (signer_chain[0])".to_owned(),
                },
            }
        }
        // A kind `log_api` parses but this log does not check yet.
        _ => return Err(AdmissionError::UnsupportedKind),
    };
    // The whole entry must fit the 65,535-byte limit once stamped.
    Entry {
        integrated_at: now,
        body: admitted.body.clone(),
    }
    .encode()
    .map_err(AdmissionError::TooLarge)?;
    Ok(admitted)
}
