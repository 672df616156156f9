//! The certificate authority's error type.

use sigil_core::certificate::CertificateError;
use sigil_core::entry::EntryError;
use sigil_verifier::VerifyError;

/// Why the CA could not make a key, a certificate or a revocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A CA name is empty or longer than RFC 5280's `ub-common-name` (64).
    #[error("CA name must be 1 to 64 characters (RFC 5280 ub-common-name)")]
    InvalidName,
    /// An identity, a scope or a serial number breaks Sigil's certificate
    /// profile (`sigil_core::certificate`).
    #[error("{0}")]
    Profile(#[from] CertificateError),
    /// The subject public key is not a P-256 SubjectPublicKeyInfo DER.
    #[error(
        "the subject public key is not an ECDSA P-256 SubjectPublicKeyInfo (make keys with `sigil keygen`)"
    )]
    BadPublicKey,
    /// A validity period is empty, outside the years X.509 can express, or
    /// outside the issuer's.
    #[error("invalid validity period: {reason}")]
    InvalidValidity {
        /// What is wrong.
        reason: &'static str,
    },
    /// A CA key cannot be loaded, is not P-256, or does not match its
    /// certificate.
    #[error("CA key: {reason}")]
    BadKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// A CA certificate cannot be read or is not a CA certificate.
    #[error("CA certificate: {0}")]
    BadCertificate(VerifyError),
    /// rcgen refused to build the certificate.
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// The admin token is too short to resist guessing.
    #[error("the admin token must be at least {min} characters; `sigil-ca init` writes a good one")]
    WeakAdminToken {
        /// The minimum length.
        min: usize,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// A revocation could not be built.
    #[error("revocation: {0}")]
    Entry(#[from] EntryError),
    /// The issued certificate failed the CA's own check of what it wrote;
    /// a bug, nothing the caller can fix.
    #[error("internal error: {0}")]
    Internal(&'static str),
}
