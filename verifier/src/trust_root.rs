//! The CA roots of a client's trust root file (`docs/formats.md` §4):
//! `sigil_core::trust_root` checks the file's shape and keys; the
//! certificates are parsed here, where the X.509 parser lives.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use sigil_core::trust_root::TrustRoot;

use crate::error::VerifyError;
use crate::roots::TrustedRoots;

impl TrustedRoots {
    /// The CA roots of a trust root file (`docs/formats.md` §4.1
    /// `ca_roots`): each element must be exactly one PEM `CERTIFICATE`
    /// block (RFC 7468 §5) holding a DER X.509 v3 CA certificate with an
    /// ECDSA P-256 key, as [`TrustedRoots::from_der`] requires.
    ///
    /// # Errors
    ///
    /// [`VerifyError::BadTrustRoot`] naming the element (from 0) and what
    /// is wrong with it.
    pub fn from_trust_root(root: &TrustRoot) -> Result<TrustedRoots, VerifyError> {
        let mut ders = Vec::with_capacity(root.ca_roots_pem.len());
        for (index, pem) in root.ca_roots_pem.iter().enumerate() {
            let bad = |reason: String| VerifyError::BadTrustRoot { index, reason };
            let mut blocks = CertificateDer::pem_slice_iter(pem.as_bytes());
            let der = match (blocks.next(), blocks.next()) {
                (Some(Ok(der)), None) => der,
                (Some(Err(e)), _) => return Err(bad(format!("PEM: {e}"))),
                (None, _) => return Err(bad("ca_roots element holds no PEM CERTIFICATE".into())),
                (Some(Ok(_)), Some(_)) => {
                    return Err(bad(
                        "ca_roots element holds more than one certificate; give each its own element"
                            .into(),
                    ));
                }
            };
            ders.push(der.as_ref().to_vec());
        }
        TrustedRoots::from_der(ders)
    }
}
