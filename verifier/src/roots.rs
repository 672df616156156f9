//! Trust anchors: the CA root certificates a log or a client trusts (RFC
//! 5280 §6.1.1 (d), "trust anchor information"). They are parsed once, when
//! the set is built, and then shared by every check.

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, TrustAnchor};

use crate::error::VerifyError;
use crate::x509::Certificate;

/// The CA roots a log or client trusts, parsed once.
///
/// Each root must be a DER X.509 v3 CA certificate (basicConstraints `cA`)
/// with an ECDSA P-256 key, as Sigil's profile makes them
/// (`sigil_core::certificate`). As RFC 5280 §6.2 allows and rustls-webpki
/// does, a root's own validity period and signature are not checked: it is
/// trusted because it is configured.
#[derive(Debug, Clone)]
pub struct TrustedRoots {
    roots: Vec<Vec<u8>>,
    /// rustls-webpki's form of each root, same order as `roots`.
    anchors: Vec<TrustAnchor<'static>>,
    /// What the revocation check needs of each root, same order.
    keys: Vec<RootKey>,
}

/// A root's subject and key, for checking a CA certificate it issued
/// without rustls-webpki (which validates end-entity certificates only).
#[derive(Debug, Clone)]
pub(crate) struct RootKey {
    /// Subject Name content octets (RFC 5280 §4.1.2.6).
    pub(crate) subject: Vec<u8>,
    /// Uncompressed P-256 point.
    pub(crate) point: Vec<u8>,
    /// The root's SubjectPublicKeyInfo DER: the issuer half of the
    /// [`crate::certificate_id`] of a certificate it issued.
    pub(crate) spki: Vec<u8>,
}

impl TrustedRoots {
    /// Reads one or more PEM `CERTIFICATE` blocks (RFC 7468 §5); text
    /// around the blocks and other block types are ignored.
    pub fn from_pem(pem: &[u8]) -> Result<Self, VerifyError> {
        let mut roots = Vec::new();
        for (index, block) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let cert = block.map_err(|e| VerifyError::BadTrustRoot {
                index,
                reason: format!("PEM: {e}"),
            })?;
            roots.push(cert.as_ref().to_vec());
        }
        Self::from_der(roots)
    }

    /// Builds the set from DER certificates; there must be at least one.
    pub fn from_der(roots: Vec<Vec<u8>>) -> Result<Self, VerifyError> {
        if roots.is_empty() {
            return Err(VerifyError::BadTrustRoot {
                index: 0,
                reason: "no CERTIFICATE given".into(),
            });
        }
        let mut anchors = Vec::with_capacity(roots.len());
        let mut keys = Vec::with_capacity(roots.len());
        for (index, der) in roots.iter().enumerate() {
            let bad = |reason: String| VerifyError::BadTrustRoot { index, reason };
            let cert = Certificate::parse(der).map_err(|e| bad(e.to_string()))?;
            if !cert.is_ca() {
                return Err(bad("not a CA certificate (basicConstraints cA)".into()));
            }
            let point = match (cert.key_algorithm(), cert.p256_point()) {
                (_, Some(point)) => point,
                (algorithm, None) => {
                    return Err(bad(format!(
                        "its key is {}, Sigil roots are ECDSA P-256",
                        algorithm.name()
                    )));
                }
            };
            let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                .map_err(|e| bad(format!("rustls-webpki: {e:?}")))?
                .to_owned();
            keys.push(RootKey {
                subject: cert.subject().to_vec(),
                point: point.to_vec(),
                spki: cert.spki_der().to_vec(),
            });
            anchors.push(anchor);
        }
        Ok(TrustedRoots {
            roots,
            anchors,
            keys,
        })
    }

    /// The roots' DER certificates, in the order given.
    pub fn roots_der(&self) -> &[Vec<u8>] {
        &self.roots
    }

    /// rustls-webpki's trust anchors, for path validation.
    pub(crate) fn anchors(&self) -> &[TrustAnchor<'static>] {
        &self.anchors
    }

    /// Subject and key of each root.
    pub(crate) fn keys(&self) -> &[RootKey] {
        &self.keys
    }
}
