//! The CA's HTTP API bodies (DESIGN.md "Interfaces"): one definition of
//! every JSON request and response of `sigil-ca`, shared by the server and
//! its clients (`sigil enroll`, `sigil-ca invite`, `sigil-ca revoke`).
//! Errors are [`crate::api_error`]. Requests refuse unknown members;
//! responses ignore them.
//!
//! | request | body | answer |
//! |---|---|---|
//! | `POST /api/v1/enroll` | [`EnrollRequest`] | `201` [`Enrolled`] |
//! | `GET /api/v1/chain` | — | intermediate then root, PEM |
//! | `POST /api/v1/admin/invites` | [`InviteRequest`] | `201` [`Invited`] |
//! | `POST /api/v1/admin/revocations` | [`RevokeRequest`] | `201` [`Revoked`] |
//! | `GET /api/v1/admin/certificates/{serial}` | — | [`CertificateStatus`] |
//!
//! Times are Unix milliseconds; serials are the hex of the certificate's
//! serialNumber content octets (RFC 5280 §4.1.2.2), as `openssl x509
//! -serial` prints them.

use serde::{Deserialize, Serialize};

/// Enrollment (maintainer).
pub const ENROLL_PATH: &str = "/api/v1/enroll";
/// The CA chain (anyone), `application/pem-certificate-chain`.
pub const CHAIN_PATH: &str = "/api/v1/chain";
/// Invitations (admin).
pub const INVITES_PATH: &str = "/api/v1/admin/invites";
/// Revocations (admin).
pub const REVOCATIONS_PATH: &str = "/api/v1/admin/revocations";
/// `{CERTIFICATES_PATH}/{serial}`: what was issued (admin).
pub const CERTIFICATES_PATH: &str = "/api/v1/admin/certificates";

/// `POST /api/v1/enroll`: an invitation token and a PKCS#10 request
/// (RFC 2986) proving possession of the key, PEM or base64 DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The one-time token from the invitation.
    pub token: String,
    /// The certificate request; its subject and extensions are ignored.
    pub csr: String,
}

/// The answer to an enrollment: the certificate, logged before it was
/// handed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The leaf, PEM.
    pub certificate: String,
    /// The intermediate then the root, PEM.
    pub chain: String,
    /// The leaf's serial, hex.
    pub serial: String,
    /// The identity in its subjectAltName.
    pub identity: String,
    /// The crates it may sign.
    pub crates: Vec<String>,
    /// notBefore.
    pub not_before: u64,
    /// notAfter.
    pub not_after: u64,
    /// The index of its `certificate` entry in the log.
    pub log_index: u64,
    /// That entry's `.tlog-proof` (C2SP `tlog-proof`).
    pub proof: String,
}

/// `POST /api/v1/admin/invites`: who may enroll, for which crates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// The identity the certificate will name (an email address or URI).
    pub identity: String,
    /// The crates it may sign.
    pub crates: Vec<String>,
    /// How long the token stays valid, seconds (default: the CA's, 7 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

/// The answer to an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    /// The one-time enrollment token: give it to the maintainer.
    pub token: String,
    /// The identity invited.
    pub identity: String,
    /// The crates.
    pub crates: Vec<String>,
    /// The first instant the token no longer works.
    pub expires_at: u64,
}

/// `POST /api/v1/admin/revocations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The certificate's serial, hex.
    pub serial: String,
    /// An RFC 5280 §5.3.1 reason name, e.g. `keyCompromise`.
    pub reason: String,
    /// The first log index from which releases are void (default: the
    /// log's size now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_index: Option<u64>,
}

/// The answer to a revocation: logged, in effect from `from_index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// The serial, hex.
    pub serial: String,
    /// The reason's name.
    pub reason: String,
    /// Releases at this log index or later are void.
    pub from_index: u64,
    /// When the CA signed it.
    pub revoked_at: u64,
    /// The index of the `revocation` entry in the log.
    pub log_index: u64,
    /// That entry's `.tlog-proof`.
    pub proof: String,
}

/// A certificate the CA issued, and where it is logged (also the CA's
/// stored record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    /// Serial, hex.
    pub serial: String,
    /// The identity in its SAN.
    pub identity: String,
    /// The crates in its scope.
    pub crates: Vec<String>,
    /// notBefore.
    pub not_before: u64,
    /// notAfter.
    pub not_after: u64,
    /// The index of its `certificate` entry in the log.
    pub log_index: u64,
    /// The certificate, base64 DER.
    pub der: String,
}

/// A revocation the CA signed and logged (also the CA's stored record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRecord {
    /// Serial of the revoked certificate, hex.
    pub serial: String,
    /// RFC 5280 reason code.
    pub reason: u8,
    /// Releases at this log index or later are void.
    pub from_index: u64,
    /// When it was signed.
    pub revoked_at: u64,
    /// The index of the `revocation` entry in the log.
    pub log_index: u64,
}

/// `GET /api/v1/admin/certificates/{serial}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateStatus {
    /// What was issued.
    pub certificate: IssuedCertificate,
    /// Its revocation, if any.
    pub revocation: Option<RevocationRecord>,
}
