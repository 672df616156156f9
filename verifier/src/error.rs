//! The verifier's one error type. Each variant has a stable machine code
//! ([`VerifyError::code`]) that the log turns into its HTTP 4xx JSON body
//! (`{"error": {"code", "message"}}`, DESIGN.md "Bad input") and into
//! metrics labels, and a message that says what to fix.

use sigil_core::certificate::CertificateError;
use sigil_core::entry::EntryError;
use sigil_core::statement::StatementError;

use crate::x509::civil_from_days;

/// Why an entry, a certificate chain or a trust root was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The error concerns the release's signer number `index` (from 0, in
    /// envelope order). [`VerifyError::code`] is the code of `source`.
    #[error("signer {index}: {source}")]
    Signer {
        /// Position of the signer in the release.
        index: usize,
        /// What is wrong with it.
        source: Box<VerifyError>,
    },
    /// A certificate chain is empty.
    #[error(
        "the certificate chain is empty: give the leaf certificate first, then the intermediate"
    )]
    EmptyChain,
    /// A certificate is not DER X.509 v3 as RFC 5280 §4.1 defines it.
    #[error(
        "certificate {index} of the chain is malformed ({reason}); send the DER certificates the Sigil CA issued, unchanged"
    )]
    MalformedCertificate {
        /// Position in the chain, from 0 (the leaf).
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A certificate carries a critical extension Sigil does not process
    /// (RFC 5280 §4.2), for example a critical scope extension.
    #[error(
        "certificate {index} of the chain has a critical extension Sigil does not process (RFC 5280 §4.2); the scope extension must be non-critical"
    )]
    UnsupportedCriticalExtension {
        /// Position in the chain, from 0 (the leaf).
        index: usize,
    },
    /// A key is not ECDSA P-256 (uncompressed point), the only key type of
    /// Sigil's profile.
    #[error(
        "certificate {index} has an {algorithm} key; Sigil accepts ECDSA P-256 keys only (make one with `sigil keygen`)"
    )]
    UnsupportedKey {
        /// Position in the chain, from 0 (the leaf).
        index: usize,
        /// The key's algorithm.
        algorithm: &'static str,
    },
    /// A certificate is signed with an algorithm other than
    /// ecdsa-with-SHA256 (RFC 5758 §3.2).
    #[error(
        "a certificate in the chain is signed with an algorithm other than ECDSA P-256 with SHA-256, which is all Sigil accepts"
    )]
    UnsupportedSignatureAlgorithm,
    /// The chain does not lead to a trusted root: unknown issuer, a
    /// certificate whose signature does not verify with its issuer's key, or
    /// a broken path constraint (RFC 5280 §6.1).
    #[error(
        "the certificate chain does not lead to a trusted Sigil root ({reason}); send the leaf and the intermediate of the CA this log or client trusts"
    )]
    UntrustedChain {
        /// What broke the path.
        reason: String,
    },
    /// A certificate's keyUsage, extKeyUsage or basicConstraints does not
    /// allow what it is used for (RFC 5280 §4.2.1.3, §4.2.1.9, §4.2.1.12).
    #[error("a certificate is not allowed this use: {reason}")]
    WrongKeyUsage {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A revocation's signer is not a CA certificate (basicConstraints cA,
    /// RFC 5280 §4.2.1.9).
    #[error(
        "the revocation's signer_chain[0] is not a CA certificate; revocations are signed by the intermediate that issued the certificate"
    )]
    NotCa,
    /// A certificate of the chain had expired at the time the entry is judged
    /// at (RFC 5280 §4.1.2.5).
    #[error("a certificate in the chain expired at {}, before {}, the time this entry is judged at; enroll again (`sigil enroll`) and sign with the new certificate", rfc3339(*not_after_ms), rfc3339(*at_ms))]
    Expired {
        /// The certificate's notAfter, Unix ms.
        not_after_ms: u64,
        /// The time of judgement, Unix ms.
        at_ms: u64,
    },
    /// A certificate of the chain was not yet valid at the time the entry is
    /// judged at (RFC 5280 §4.1.2.5).
    #[error("a certificate in the chain is valid only from {}, after {}, the time this entry is judged at; check the clocks of the CA and of this machine", rfc3339(*not_before_ms), rfc3339(*at_ms))]
    NotYetValid {
        /// The certificate's notBefore, Unix ms.
        not_before_ms: u64,
        /// The time of judgement, Unix ms.
        at_ms: u64,
    },
    /// The leaf's subjectAltName does not hold exactly one valid identity.
    #[error("the leaf certificate's identity is invalid: {reason}")]
    BadIdentity {
        /// What is wrong.
        reason: &'static str,
    },
    /// The leaf has no Sigil scope extension.
    #[error(
        "the leaf certificate has no Sigil scope extension (OID {}); it is not a Sigil maintainer certificate",
        sigil_core::certificate::SCOPE_EXTENSION_OID
    )]
    MissingScope,
    /// The leaf's scope extension is not a valid `CrateScope`.
    #[error("the leaf certificate's scope extension is malformed: {0}")]
    MalformedScope(CertificateError),
    /// The release's crate is not in the signer's scope.
    #[error(
        "{identity} may sign {scope:?} but not `{crate_name}`; ask the CA operator to add the crate to your certificate"
    )]
    OutOfScope {
        /// The release's crate.
        crate_name: String,
        /// The signer's identity.
        identity: String,
        /// The crates the signer may sign.
        scope: Vec<String>,
    },
    /// A certificate of the chain is revoked from a log index at or before
    /// the entry's index.
    #[error(
        "the certificate {} was revoked from log index {from_index}, and this entry is at index {index}; enroll a new key",
        hex::encode(certificate_id)
    )]
    Revoked {
        /// [`crate::certificate_id`] of the revoked certificate.
        certificate_id: [u8; 32],
        /// First index at which it is void.
        from_index: u64,
        /// The entry's index.
        index: u64,
    },
    /// A DSSE signature does not verify with its leaf certificate's key.
    #[error(
        "the DSSE signature does not verify with the key in its leaf certificate; sign with the key the certificate was issued for"
    )]
    BadSignature,
    /// A release has no signer.
    #[error("the release has no signature")]
    NoSigners,
    /// Two signers of one release use the same key.
    #[error("signers {first} and {second} use the same key; each maintainer signs once")]
    DuplicateSigner {
        /// The first signer with the key.
        first: usize,
        /// The second.
        second: usize,
    },
    /// The signed statement is invalid.
    #[error("the signed statement is invalid: {0}")]
    Statement(StatementError),
    /// The release's crate, version or sha256 differ from its statement.
    #[error("the release's crate, version or sha256 differ from what its signed statement says")]
    StatementMismatch,
    /// A revocation's signature does not verify, or its fields are invalid.
    #[error("the revocation is invalid: {reason}")]
    BadRevocation {
        /// What is wrong.
        reason: String,
    },
    /// The entry is of a kind this verifier does not know.
    #[error("the entry is of a kind this verifier does not know; update Sigil")]
    UnknownEntryKind,
    /// A trust root cannot be used.
    #[error("trust root {index} cannot be used: {reason}")]
    BadTrustRoot {
        /// Position among the roots given, from 0.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl VerifyError {
    /// The stable, snake_case machine code of the error: the `code` of the
    /// log's JSON error body and a metrics label. For
    /// [`VerifyError::Signer`] it is the code of the wrapped error.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Signer { source, .. } => source.code(),
            VerifyError::EmptyChain => "empty_chain",
            VerifyError::MalformedCertificate { .. } => "malformed_certificate",
            VerifyError::UnsupportedCriticalExtension { .. } => "unsupported_critical_extension",
            VerifyError::UnsupportedKey { .. } => "unsupported_key",
            VerifyError::UnsupportedSignatureAlgorithm => "unsupported_signature_algorithm",
            VerifyError::UntrustedChain { .. } => "untrusted_chain",
            VerifyError::WrongKeyUsage { .. } => "wrong_key_usage",
            VerifyError::NotCa => "not_a_ca",
            VerifyError::Expired { .. } => "expired",
            VerifyError::NotYetValid { .. } => "not_yet_valid",
            VerifyError::BadIdentity { .. } => "bad_identity",
            VerifyError::MissingScope => "missing_scope",
            VerifyError::MalformedScope(_) => "malformed_scope",
            VerifyError::OutOfScope { .. } => "out_of_scope",
            VerifyError::Revoked { .. } => "revoked",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::NoSigners => "no_signers",
            VerifyError::DuplicateSigner { .. } => "duplicate_signer",
            VerifyError::Statement(_) => "bad_statement",
            VerifyError::StatementMismatch => "statement_mismatch",
            VerifyError::BadRevocation { .. } => "bad_revocation",
            VerifyError::UnknownEntryKind => "unknown_entry_kind",
            VerifyError::BadTrustRoot { .. } => "bad_trust_root",
        }
    }

    /// The error without its [`VerifyError::Signer`] wrappers.
    pub fn innermost(&self) -> &VerifyError {
        match self {
            VerifyError::Signer { source, .. } => source.innermost(),
            other => other,
        }
    }

    /// Wraps the error as concerning signer `index`.
    pub(crate) fn for_signer(self, index: usize) -> VerifyError {
        VerifyError::Signer {
            index,
            source: Box::new(self),
        }
    }
}

impl From<EntryError> for VerifyError {
    fn from(e: EntryError) -> Self {
        VerifyError::BadRevocation {
            reason: e.to_string(),
        }
    }
}

/// Unix milliseconds as an RFC 3339 UTC timestamp, to the second (the
/// times of error messages: the log's refusals use it too).
pub fn rfc3339(ms: u64) -> String {
    let seconds = i64::try_from(ms / 1000).unwrap_or(i64::MAX / 2);
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600_999), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199_000), "2024-02-29T23:59:59Z");
        let _ = rfc3339(u64::MAX);
    }

    #[test]
    fn signer_errors_keep_the_inner_code() {
        let e = VerifyError::BadSignature.for_signer(1).for_signer(0);
        assert_eq!(e.code(), "bad_signature");
        assert_eq!(e.innermost(), &VerifyError::BadSignature);
        assert!(e.to_string().starts_with("signer 0: signer 1: the DSSE"));
    }
}
