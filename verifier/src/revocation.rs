//! Revocation entries (`docs/formats.md` §1.2, §1.4): how a certificate is
//! named ([`certificate_id`]), what a verifier knows about revocations and
//! the rules that apply them ([`RevocationSet`]), and the check on a
//! revocation entry ([`check_revocation`]): bound to one log by its origin,
//! and judged at its own position like a release, so a revoked CA cannot
//! sign revocations.
//!
//! A revocation voids a certificate from log index `from_index` on: a
//! release at an index below it stays valid, one at `from_index` or after
//! is refused. It names the certificate by serial and issuer, the CA of
//! its `signer_chain[0]`, which is what [`certificate_id`] hashes. The
//! issuer may be the intermediate (revoking a maintainer's leaf) or the
//! root itself (revoking an intermediate): the release check looks up every
//! certificate of the validated path, so revoking an intermediate voids
//! every leaf below it.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use sigil_core::entry::{EntryError, Revocation};
use sigil_core::statement::StatementError;

use crate::chain::{VerifiedSigner, verify_ca_certificate};
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

/// What a verifier knows of revocations, and the two rules that give them
/// meaning (`docs/formats.md` §1.4):
///
/// 1. **The earliest `from_index` wins.** A certificate revoked twice is
///    void from the smaller of the two indexes: releases before it stay
///    valid, so an earlier index only ever voids more
///    ([`RevocationSet::insert`]).
/// 2. **`from_index <= index` voids.** A release at log index `index` is
///    void if any certificate of a signer's validated path (the leaf or an
///    intermediate) is revoked from an index at or before it
///    ([`RevocationSet::voids`], [`RevocationSet::check_signers`]).
///
/// The log's admission and sequencer, a monitor and an online client each
/// build one from what they know (stored rows, the revocation entries they
/// read, the log's answers) and ask it; no other code applies these rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    /// Certificate id → smallest `from_index`.
    from_index: BTreeMap<[u8; 32], u64>,
}

static EMPTY: RevocationSet = RevocationSet::new();

impl RevocationSet {
    /// A set with no revocation in it.
    pub const fn new() -> RevocationSet {
        RevocationSet {
            from_index: BTreeMap::new(),
        }
    }

    /// The empty set, for a check that knows of no revocation (offline).
    pub fn empty() -> &'static RevocationSet {
        &EMPTY
    }

    /// Records a valid revocation of the certificate with this
    /// [`certificate_id`] from `from_index` (rule 1). Returns whether the
    /// set changed: the certificate was not revoked, or only from a later
    /// index.
    pub fn insert(&mut self, certificate_id: [u8; 32], from_index: u64) -> bool {
        match self.from_index.get_mut(&certificate_id) {
            Some(known) if *known <= from_index => false,
            Some(known) => {
                *known = from_index;
                true
            }
            None => {
                self.from_index.insert(certificate_id, from_index);
                true
            }
        }
    }

    /// The first index from which the certificate is void, if it is
    /// revoked.
    pub fn revoked_from(&self, certificate_id: &[u8; 32]) -> Option<u64> {
        self.from_index.get(certificate_id).copied()
    }

    /// Rule 2 for one certificate: its `from_index` if that voids an entry
    /// at `index`.
    pub fn voids(&self, certificate_id: &[u8; 32], index: u64) -> Option<u64> {
        self.revoked_from(certificate_id)
            .filter(|&from| from <= index)
    }

    /// Rule 2 for a path of certificate ids (a signer's leaf and
    /// intermediates): [`VerifyError::Revoked`] naming the first one that
    /// voids an entry at `index`.
    pub fn check_path<'a>(
        &self,
        path: impl IntoIterator<Item = &'a [u8; 32]>,
        index: u64,
    ) -> Result<(), VerifyError> {
        for id in path {
            if let Some(from_index) = self.voids(id, index) {
                return Err(VerifyError::Revoked {
                    certificate_id: *id,
                    from_index,
                    index,
                });
            }
        }
        Ok(())
    }

    /// Rule 2 for a release's verified signers at `index`: the first
    /// revoked path, as [`VerifyError::Signer`] wrapping
    /// [`VerifyError::Revoked`].
    pub fn check_signers(&self, signers: &[VerifiedSigner], index: u64) -> Result<(), VerifyError> {
        for (i, signer) in signers.iter().enumerate() {
            self.check_path(signer.path_ids(), index)
                .map_err(|e| e.for_signer(i))?;
        }
        Ok(())
    }

    /// Every revocation, by certificate id.
    pub fn iter(&self) -> impl Iterator<Item = ([u8; 32], u64)> + '_ {
        self.from_index.iter().map(|(id, from)| (*id, *from))
    }

    /// How many certificates are revoked.
    pub fn len(&self) -> usize {
        self.from_index.len()
    }

    /// Whether no certificate is revoked.
    pub fn is_empty(&self) -> bool {
        self.from_index.is_empty()
    }
}

impl Extend<([u8; 32], u64)> for RevocationSet {
    fn extend<I: IntoIterator<Item = ([u8; 32], u64)>>(&mut self, iter: I) {
        for (id, from) in iter {
            self.insert(id, from);
        }
    }
}

impl FromIterator<([u8; 32], u64)> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = ([u8; 32], u64)>>(iter: I) -> Self {
        let mut set = RevocationSet::new();
        set.extend(iter);
        set
    }
}

/// A revocation entry that passed [`check_revocation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifiedRevocation {
    /// [`certificate_id`] of the revoked certificate (its issuer is the CA
    /// of `signer_chain[0]`).
    pub certificate_id: [u8; 32],
    /// First log index at which the revoked certificate no longer counts.
    pub from_index: u64,
    /// [`certificate_id`] of the signer, `signer_chain[0]` under the root
    /// that issued it: a revocation of the signer voids the revocations it
    /// signs from then on ([`RevocationSet::voids`]), which the log
    /// re-checks at the entry's final index.
    pub signer_id: [u8; 32],
    /// The signer's notAfter, Unix ms (inclusive, to the second): from the
    /// second after it the revocation no longer validates
    /// ([`crate::chain::expired_at`]; the log re-checks it at the entry's
    /// `integrated_at`).
    pub signer_not_after_ms: u64,
}

/// Checks a revocation entry of the log whose checkpoint origin line is
/// `origin`, at log position `index`, judged at `at_ms` (Unix ms; for a
/// logged entry, its `integrated_at`), knowing `revocations`:
///
/// 1. `signer_chain[0]` is a CA certificate (basicConstraints `cA`,
///    keyUsage `keyCertSign`, ECDSA P-256) issued by a trusted root and
///    valid at `at_ms`;
/// 2. that signer is not itself revoked from an index at or before
///    `index` (the rules of [`RevocationSet`], as for a release's signers):
///    once an intermediate is revoked, the revocations it signs later are
///    refused ([`VerifyError::Revoked`], naming the signer);
/// 3. the signature (`docs/formats.md` §1.4) verifies with the signer's key
///    over the message for `origin`: a revocation signed for another log is
///    refused ([`VerifyError::BadRevocation`]).
///
/// Certificates after `signer_chain[0]` are not used: Sigil's CAs sit
/// directly under a root.
pub fn check_revocation(
    rev: &Revocation,
    origin: &str,
    at_ms: u64,
    index: u64,
    roots: &TrustedRoots,
    revocations: &RevocationSet,
) -> Result<VerifiedRevocation, VerifyError> {
    let signer_der = rev.signer_chain.first().ok_or(VerifyError::EmptyChain)?;
    let (ca, signer_id) = verify_ca_certificate(signer_der, roots, at_ms)?;
    revocations.check_path([&signer_id], index)?;
    rev.verify_signature(origin, ca.spki_der())
        .map_err(|e| VerifyError::BadRevocation {
            reason: match e {
                EntryError::Statement(StatementError::BadSignature) => format!(
                    "its signature does not verify with the key of signer_chain[0] for the log \
                     {origin:?}; the CA that issued the certificate signs its revocation, for the \
                     log it submits it to"
                ),
                other => other.to_string(),
            },
        })?;
    Ok(VerifiedRevocation {
        certificate_id: certificate_id(ca.spki_der(), &rev.serial),
        from_index: rev.from_index,
        signer_id,
        signer_not_after_ms: ca.not_after_ms(),
    })
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
    }

    #[test]
    fn the_earliest_from_index_wins_and_voids_from_there() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let mut set = RevocationSet::new();
        assert!(set.insert(a, 10));
        assert!(!set.insert(a, 12), "a later index changes nothing");
        assert!(!set.insert(a, 10));
        assert!(set.insert(a, 4), "an earlier one voids more");
        assert_eq!(set.revoked_from(&a), Some(4));
        assert_eq!(set.voids(&a, 3), None, "releases before it stay valid");
        assert_eq!(set.voids(&a, 4), Some(4));
        assert_eq!(set.voids(&b, 100), None);
        assert!(set.check_path([&b, &a], 3).is_ok());
        match set.check_path([&b, &a], 9) {
            Err(VerifyError::Revoked {
                certificate_id,
                from_index: 4,
                index: 9,
            }) => assert_eq!(certificate_id, a),
            other => panic!("{other:?}"),
        }
        let collected: RevocationSet = [(a, 7), (b, 1), (a, 5)].into_iter().collect();
        assert_eq!(collected.iter().collect::<Vec<_>>(), [(a, 5), (b, 1)]);
        assert_eq!(RevocationSet::empty().len(), 0);
    }
}
