//! Revocation entries (`docs/formats.md` §1.2, §1.4): how a certificate is
//! named, what a verifier knows about revocations, and the check on a
//! revocation entry.
//!
//! A revocation voids a certificate from log index `from_index` on: a
//! release at an index below it stays valid, one at `from_index` or after
//! is refused. It names the certificate by serial and issuer, the CA of
//! its `signer_chain[0]`, which is what [`certificate_id`] hashes. The
//! issuer may be the intermediate (revoking a maintainer's leaf) or the
//! root itself (revoking an intermediate): the release check looks up every
//! certificate of the validated path, so revoking an intermediate voids
//! every leaf below it.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest as _, Sha256};
use sigil_core::entry::{EntryError, Revocation};
use sigil_core::statement::StatementError;

use crate::chain::verify_ca_certificate;
use crate::error::VerifyError;
use crate::roots::TrustedRoots;

/// Identifies a certificate for revocation:
///
/// ```text
/// SHA-256( uint16 len(issuer_spki) || issuer_spki || serial )
/// ```
///
/// where `issuer_spki` is the issuing CA's SubjectPublicKeyInfo DER (RFC
/// 5280 §4.1.2.7) and its length is 2 bytes big-endian, and `serial` is the
/// content octets of the certificate's serialNumber INTEGER (RFC 5280
/// §4.1.2.2), as `entry::Revocation::serial` holds them. An issuer's
/// serials are unique (RFC 5280 §4.1.2.2), so the pair names one
/// certificate; the length prefix keeps the split unambiguous. An SPKI
/// longer than 65,535 bytes (none fits in a log entry) is hashed with its
/// length truncated to 16 bits.
pub fn certificate_id(issuer_spki_der: &[u8], serial: &[u8]) -> [u8; 32] {
    let len = u16::try_from(issuer_spki_der.len()).unwrap_or(u16::MAX);
    Sha256::new()
        .chain_update(len.to_be_bytes())
        .chain_update(issuer_spki_der)
        .chain_update(serial)
        .finalize()
        .into()
}

/// What the verifier knows about revocations: the log, its index of
/// revocation entries; a client or monitor, the revocation entries it has
/// seen.
pub trait RevocationView {
    /// The smallest `from_index` of any valid revocation of the certificate
    /// with this [`certificate_id`], or `None` if it is not revoked.
    fn revoked_from(&self, certificate_id: &[u8; 32]) -> Option<u64>;
}

/// A view with no revocation in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRevocations;

impl RevocationView for NoRevocations {
    fn revoked_from(&self, _: &[u8; 32]) -> Option<u64> {
        None
    }
}

impl<S: std::hash::BuildHasher> RevocationView for HashMap<[u8; 32], u64, S> {
    fn revoked_from(&self, certificate_id: &[u8; 32]) -> Option<u64> {
        self.get(certificate_id).copied()
    }
}

impl RevocationView for BTreeMap<[u8; 32], u64> {
    fn revoked_from(&self, certificate_id: &[u8; 32]) -> Option<u64> {
        self.get(certificate_id).copied()
    }
}

impl<V: RevocationView + ?Sized> RevocationView for &V {
    fn revoked_from(&self, certificate_id: &[u8; 32]) -> Option<u64> {
        (**self).revoked_from(certificate_id)
    }
}

/// Checks a revocation at `at_ms` (Unix ms): `signer_chain[0]` is a CA
/// certificate (basicConstraints `cA`, keyUsage `keyCertSign`, ECDSA
/// P-256) issued by a trusted root and valid at `at_ms`, and the
/// revocation's signature (`docs/formats.md` §1.4) verifies with its key.
/// Returns the [`certificate_id`] of the revoked certificate, whose issuer
/// is `signer_chain[0]`. Certificates after `signer_chain[0]` are not used:
/// Sigil's CAs sit directly under a root.
pub fn check_revocation(
    rev: &Revocation,
    at_ms: u64,
    roots: &TrustedRoots,
) -> Result<[u8; 32], VerifyError> {
    let signer_der = rev.signer_chain.first().ok_or(VerifyError::EmptyChain)?;
    let ca = verify_ca_certificate(signer_der, roots, at_ms)?;
    rev.verify_signature(ca.spki_der())
        .map_err(|e| VerifyError::BadRevocation {
            reason: match e {
                EntryError::Statement(StatementError::BadSignature) => {
                    "its signature does not verify with the key of signer_chain[0]; the CA that issued the certificate signs its revocation".into()
                }
                other => other.to_string(),
            },
        })?;
    Ok(certificate_id(ca.spki_der(), &rev.serial))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn certificate_id_is_length_prefixed() {
        // Moving a byte between SPKI and serial changes the id.
        assert_ne!(certificate_id(b"ab", b"c"), certificate_id(b"a", b"bc"));
        let mut input = vec![0x00, 0x02];
        input.extend_from_slice(b"abc");
        assert_eq!(
            certificate_id(b"ab", b"c"),
            <[u8; 32]>::from(Sha256::digest(&input))
        );
        let mut map = HashMap::new();
        map.insert(certificate_id(b"ab", b"c"), 7u64);
        assert_eq!(map.revoked_from(&certificate_id(b"ab", b"c")), Some(7));
        assert_eq!(NoRevocations.revoked_from(&[0; 32]), None);
    }
}
