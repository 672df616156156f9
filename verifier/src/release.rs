//! The check on a release entry (`docs/formats.md` §1.3 and §2.4): the
//! log's admission check and a client's install-time check are this one
//! function.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use sigil_core::entry::ReleaseEntry;
use sigil_core::statement::pae;

use crate::chain::{ChainCache, VerifiedSigner, validate};
use crate::error::VerifyError;
use crate::revocation::RevocationSet;
use crate::roots::TrustedRoots;

/// Checks a release entry at log position `index`, judged at `at_ms` (Unix
/// ms; for a logged entry, its `integrated_at`). It is valid if:
///
/// 1. it has at least one signer, and its DSSE envelope
///    ([`ReleaseEntry::envelope`]) names, in its statement, exactly the
///    entry's crate, version and SHA-256 (`docs/formats.md` §2.4 steps 3–4);
/// 2. every signer's chain validates at `at_ms` ([`crate::verify_chain`]);
/// 3. the release's crate is in every signer's scope (exact match);
/// 4. no certificate of any signer's path is revoked with `from_index <=
///    index` ([`RevocationSet::check_path`]);
/// 5. every DSSE signature verifies over `PAE(payloadType, payload)` with
///    its own leaf's key (§2.4 step 2; aws-lc-rs, ECDSA P-256/SHA-256);
/// 6. no two signers share a key.
///
/// Errors about one signer come wrapped in [`VerifyError::Signer`]. On
/// success, returns each signer's [`VerifiedSigner`], in envelope order.
/// `chains` spares validating a chain seen before ([`ChainCache`]).
pub fn check_release(
    release: &ReleaseEntry,
    at_ms: u64,
    index: u64,
    roots: &TrustedRoots,
    revocations: &RevocationSet,
    chains: Option<&ChainCache>,
) -> Result<Vec<VerifiedSigner>, VerifyError> {
    if release.signers.is_empty() {
        return Err(VerifyError::NoSigners);
    }
    let envelope = release.envelope();
    let stated = envelope.release().map_err(VerifyError::Statement)?;
    if stated != release.release() {
        return Err(VerifyError::StatementMismatch);
    }
    let message = pae(&envelope.payload_type, &envelope.payload);

    let mut verified: Vec<VerifiedSigner> = Vec::with_capacity(release.signers.len());
    for (i, (signer, signature)) in release.signers.iter().zip(&envelope.signatures).enumerate() {
        let chain = validate(&signer.chain, roots, at_ms, chains).map_err(|e| e.for_signer(i))?;
        let check = || {
            if !chain.signer.crates.contains(&release.crate_name) {
                return Err(VerifyError::OutOfScope {
                    crate_name: release.crate_name.clone(),
                    identity: chain.signer.identity.clone(),
                    scope: chain.signer.crates.clone(),
                });
            }
            revocations.check_path(chain.signer.path_ids(), index)?;
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &chain.point)
                .verify(&message, &signature.sig)
                .map_err(|_| VerifyError::BadSignature)
        };
        check().map_err(|e| e.for_signer(i))?;
        if let Some(first) = verified
            .iter()
            .position(|v| v.spki_der == chain.signer.spki_der)
        {
            return Err(VerifyError::DuplicateSigner { first, second: i });
        }
        verified.push(chain.signer);
    }
    Ok(verified)
}
