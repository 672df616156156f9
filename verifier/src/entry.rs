//! One entry point for every kind of log entry (`docs/formats.md` §1).

use sigil_core::entry::{Entry, EntryBody};

use crate::certificate_entry::check_certificate_entry;
use crate::chain::{ChainCache, VerifiedSigner};
use crate::error::VerifyError;
use crate::release::check_release;
use crate::revocation::{RevocationSet, check_revocation};
use crate::roots::TrustedRoots;

/// What a valid entry says, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckedEntry {
    /// A release and its signers, in envelope order.
    Release(Vec<VerifiedSigner>),
    /// A certificate the CA issued.
    Certificate(VerifiedSigner),
    /// A revocation: the certificate it voids and from which log index.
    Revocation {
        /// [`crate::certificate_id`] of the revoked certificate.
        certificate_id: [u8; 32],
        /// First log index at which the certificate no longer counts.
        from_index: u64,
    },
}

/// Checks a log entry at log position `index` of the log whose checkpoint
/// origin line is `origin`, judged at its `integrated_at`:
/// [`check_release`], [`check_certificate_entry`] or [`check_revocation`]
/// by kind. A log calls it with the time it is about to stamp; a client or
/// monitor with the entry as logged.
pub fn check_entry(
    entry: &Entry,
    origin: &str,
    index: u64,
    roots: &TrustedRoots,
    revocations: &RevocationSet,
    chains: Option<&ChainCache>,
) -> Result<CheckedEntry, VerifyError> {
    let at_ms = entry.integrated_at;
    match &entry.body {
        EntryBody::Release(release) => {
            check_release(release, at_ms, index, roots, revocations, chains)
                .map(CheckedEntry::Release)
        }
        EntryBody::Certificate(cert) => {
            check_certificate_entry(cert, at_ms, roots, chains).map(CheckedEntry::Certificate)
        }
        EntryBody::Revocation(rev) => {
            check_revocation(rev, origin, at_ms, index, roots, revocations).map(|checked| {
                CheckedEntry::Revocation {
                    certificate_id: checked.certificate_id,
                    from_index: checked.from_index,
                }
            })
        }
        // EntryBody is non-exhaustive: a kind this verifier does not know
        // is refused, never silently accepted.
        _ => Err(VerifyError::UnknownEntryKind),
    }
}
