//! Writing the Sigil scope extension's OID with rcgen.
//!
//! rcgen encodes OIDs with yasna, whose arcs are `u64`; the scope OID
//! `2.25.139526725496265795380794671847951376368`
//! (`sigil_core::certificate::SCOPE_EXTENSION_OID`) has a 127-bit third arc.
//! So rcgen is given a placeholder OID whose DER content is exactly as long
//! (20 octets) and which occurs nowhere else, and [`ScopeOidSigner`]
//! replaces it with the real OID in the TBSCertificate octets just before
//! signing them. [`finish`] then makes the same replacement in rcgen's
//! output: lengths are unchanged, so the output holds exactly the octets
//! that were signed. [`finish`] checks that the placeholder occurred once
//! and that the signature verifies over the result.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey};
use sigil_core::certificate::SCOPE_EXTENSION_OID_DER;
use sigil_verifier::x509::Certificate;

use crate::error::CaError;

/// Arcs of the placeholder OID `2.25.P1.P2`: P1 takes 10 base-128 octets
/// and P2 takes 9, so with the first octet (`2.25` = 0x69) the content is
/// 20 octets, like the real OID's. (`P1` spells "SCOPE", `P2` "SIGIL".)
pub(crate) const PLACEHOLDER_ARCS: [u64; 4] = [2, 25, 0x8000_0053_434f_5045, 0x5349_4749_4c00_0001];

/// The placeholder's DER (tag, length, content), as rcgen writes it.
const PLACEHOLDER_TLV: [u8; 22] = [
    0x06, 0x14, 0x69, 0x81, 0x80, 0x80, 0x80, 0x8a, 0xb4, 0x9a, 0xbd, 0xa0, 0x45, 0xd3, 0xa4, 0xd1,
    0xe9, 0x94, 0xe0, 0x80, 0x80, 0x01,
];

/// Replaces the one placeholder OID in `der` with the real scope OID.
/// Returns false, leaving `der` alone, unless it occurs exactly once.
fn patch(der: &mut [u8]) -> bool {
    let mut at = der
        .windows(PLACEHOLDER_TLV.len())
        .enumerate()
        .filter(|(_, w)| *w == PLACEHOLDER_TLV)
        .map(|(i, _)| i);
    let (Some(i), None) = (at.next(), at.next()) else {
        return false;
    };
    match der.get_mut(i + 2..i + PLACEHOLDER_TLV.len()) {
        Some(content) => {
            content.copy_from_slice(&SCOPE_EXTENSION_OID_DER);
            true
        }
        None => false,
    }
}

/// A signing key that signs the TBSCertificate with the placeholder OID
/// replaced by the real one (module documentation).
pub(crate) struct ScopeOidSigner<'a, K> {
    /// The issuer's key.
    pub(crate) key: &'a K,
}

impl<K: PublicKeyData> PublicKeyData for ScopeOidSigner<'_, K> {
    fn der_bytes(&self) -> &[u8] {
        self.key.der_bytes()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.key.algorithm()
    }
}

impl<K: SigningKey> SigningKey for ScopeOidSigner<'_, K> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let mut tbs = msg.to_vec();
        // If the placeholder is not there exactly once, `finish` refuses
        // the certificate; sign the octets unchanged meanwhile.
        patch(&mut tbs);
        self.key.sign(&tbs)
    }
}

/// Makes rcgen's output the certificate that was signed, and checks it:
/// the placeholder occurred exactly once, and the signature verifies with
/// `issuer_point` (the issuer's uncompressed P-256 point) over the patched
/// TBSCertificate.
pub(crate) fn finish(mut der: Vec<u8>, issuer_point: &[u8]) -> Result<Vec<u8>, CaError> {
    if !patch(&mut der) {
        return Err(CaError::Internal(
            "the scope placeholder OID is not in the certificate exactly once",
        ));
    }
    let cert = Certificate::parse(&der).map_err(CaError::BadCertificate)?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, issuer_point)
        .verify(cert.tbs_certificate(), cert.signature())
        .map_err(|_| CaError::Internal("the patched certificate's signature does not verify"))?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// The placeholder TLV is the DER of `PLACEHOLDER_ARCS` (X.690 §8.19).
    #[test]
    fn placeholder_encoding() {
        let mut content = vec![0x69];
        for &arc in &PLACEHOLDER_ARCS[2..] {
            let mut base128 = vec![(arc & 0x7f) as u8];
            let mut rest = arc >> 7;
            while rest > 0 {
                base128.push((rest & 0x7f) as u8 | 0x80);
                rest >>= 7;
            }
            base128.reverse();
            content.extend(base128);
        }
        assert_eq!(content.len(), SCOPE_EXTENSION_OID_DER.len());
        assert_eq!(&PLACEHOLDER_TLV[..2], &[0x06, 0x14]);
        assert_eq!(&PLACEHOLDER_TLV[2..], &content[..]);
    }

    #[test]
    fn patch_needs_exactly_one_placeholder() {
        let mut none = vec![1, 2, 3];
        assert!(!patch(&mut none));
        let mut two = [PLACEHOLDER_TLV, PLACEHOLDER_TLV].concat();
        assert!(!patch(&mut two));
        assert_eq!(two, [PLACEHOLDER_TLV, PLACEHOLDER_TLV].concat());
        let mut one = [&[9u8][..], &PLACEHOLDER_TLV, &[9]].concat();
        assert!(patch(&mut one));
        assert_eq!(&one[3..23], &SCOPE_EXTENSION_OID_DER);
    }
}
