//! The check on a certificate entry (`docs/formats.md` §1, kind 2): the CA
//! logs every certificate it issues before handing it out.

use sigil_core::entry::CertificateEntry;

use crate::chain::{ChainCache, VerifiedSigner, verify_chain};
use crate::error::VerifyError;
use crate::roots::TrustedRoots;

/// Checks a certificate entry at `at_ms` (Unix ms; for a logged entry, its
/// `integrated_at`): its chain (the issued leaf first) validates to a
/// trusted root with extended key usage `codeSigning`, and the leaf
/// carries one identity and a well-formed scope ([`verify_chain`]).
/// Returns what the certificate says, for monitors watching identities and
/// crates.
pub fn check_certificate_entry(
    entry: &CertificateEntry,
    at_ms: u64,
    roots: &TrustedRoots,
    chains: Option<&ChainCache>,
) -> Result<VerifiedSigner, VerifyError> {
    verify_chain(&entry.chain, roots, at_ms, chains)
}
