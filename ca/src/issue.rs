//! Issuing Sigil's certificates (the profile in `sigil_core::certificate`,
//! RFC 5280) with rcgen and aws-lc-rs, and signing revocations
//! (`docs/formats.md` §1.4) with p256.
//!
//! Keys live in memory here, as PKCS#8 DER (RFC 5958) that both rcgen
//! (aws-lc-rs) and p256 load; storing them is the CA server's job.
//!
//! Times are Unix milliseconds, like every time in Sigil; certificates hold
//! whole seconds (RFC 5280 §4.1.2.5), so milliseconds are dropped (rounded
//! down).

use std::fmt;
use std::time::Duration;

use p256::ecdsa::SigningKey as P256SigningKey;
use p256::pkcs8::DecodePrivateKey as _;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PublicKeyData as _, SanType, SerialNumber,
};
use rustls_pki_types::CertificateDer;
use sigil_core::certificate::{
    INTERMEDIATE_PATH_LEN, IdentityKind, ROOT_PATH_LEN, SCOPE_EXTENSION_OID_ARCS,
    classify_identity, encode_scope, validate_serial,
};
use sigil_core::entry::{CrlReason, Revocation};
use sigil_core::statement::p256_public_key_point;
use sigil_verifier::x509::Certificate;
use time::OffsetDateTime;

use crate::error::CaError;

/// Length of the random serial numbers the CA draws, in octets (RFC 5280
/// §4.1.2.2 allows up to 20; CA/Browser Forum rules ask for 64 random bits,
/// these carry 126).
pub const RANDOM_SERIAL_LEN: usize = 16;

/// A CA certificate and its private key: the root or the intermediate.
///
/// The key is PKCS#8 DER (RFC 5958) of an ECDSA P-256 key, loadable by both
/// rcgen (aws-lc-rs) and p256. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificate {
    certificate_der: Vec<u8>,
    key_pkcs8_der: Vec<u8>,
}

impl fmt::Debug for CaCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaCertificate")
            .field("certificate_der", &hex::encode(&self.certificate_der))
            .field("key_pkcs8_der", &"[secret key elided]")
            .finish()
    }
}

impl CaCertificate {
    /// Pairs a CA certificate with its key, checking that the certificate
    /// is a CA certificate (basicConstraints `cA`, keyUsage `keyCertSign`;
    /// RFC 5280 §4.2.1.3, §4.2.1.9) and that the key is the P-256 key it
    /// certifies.
    pub fn from_parts(certificate_der: Vec<u8>, key_pkcs8_der: Vec<u8>) -> Result<Self, CaError> {
        let ca = CaCertificate {
            certificate_der,
            key_pkcs8_der,
        };
        let cert = ca.parsed()?;
        if !cert.is_ca() || !cert.key_usage().is_some_and(|ku| ku.key_cert_sign()) {
            return Err(CaError::BadCertificate(sigil_verifier::VerifyError::NotCa));
        }
        let key = ca.key_pair()?;
        let point = cert.p256_point().ok_or(CaError::BadKey {
            reason: "the certificate's key is not ECDSA P-256",
        })?;
        if key.der_bytes() != point {
            return Err(CaError::BadKey {
                reason: "the key does not match the certificate",
            });
        }
        ca.p256_signing_key()?;
        Ok(ca)
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The certificate's notBefore, Unix ms (RFC 5280 §4.1.2.5).
    pub fn not_before_ms(&self) -> u64 {
        self.parsed().map(|c| c.not_before_ms()).unwrap_or(u64::MAX)
    }

    /// The certificate's notAfter, Unix ms (RFC 5280 §4.1.2.5).
    pub fn not_after_ms(&self) -> u64 {
        self.parsed().map(|c| c.not_after_ms()).unwrap_or(0)
    }

    /// The private key, PKCS#8 DER. Handle with care.
    pub fn key_pkcs8_der(&self) -> &[u8] {
        &self.key_pkcs8_der
    }

    fn parsed(&self) -> Result<Certificate<'_>, CaError> {
        Certificate::parse(&self.certificate_der).map_err(CaError::BadCertificate)
    }

    /// The key for rcgen (aws-lc-rs).
    fn key_pair(&self) -> Result<KeyPair, CaError> {
        let key =
            KeyPair::try_from(self.key_pkcs8_der.as_slice()).map_err(|_| CaError::BadKey {
                reason: "not a PKCS#8 private key",
            })?;
        if key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(CaError::BadKey {
                reason: "not an ECDSA P-256 key",
            });
        }
        Ok(key)
    }

    /// The key for p256, which signs revocations.
    fn p256_signing_key(&self) -> Result<P256SigningKey, CaError> {
        P256SigningKey::from_pkcs8_der(&self.key_pkcs8_der).map_err(|_| CaError::BadKey {
            reason: "p256 cannot load the PKCS#8 key",
        })
    }

    /// An rcgen issuer for this CA: its subject and key identifier come
    /// from the certificate, so the issued certificate's issuer name and
    /// authority key identifier match them exactly (RFC 5280 §4.1.2.4,
    /// §4.2.1.1).
    fn issuer<'k, K: rcgen::SigningKey>(&self, key: K) -> Result<Issuer<'k, K>, CaError> {
        Ok(Issuer::from_ca_cert_der(
            &CertificateDer::from(self.certificate_der.as_slice()),
            key,
        )?)
    }
}

/// Draws a random positive serial number of [`RANDOM_SERIAL_LEN`] octets
/// (RFC 5280 §4.1.2.2): the first octet is `0x40..=0x7f`, so the INTEGER
/// is positive and minimal with no padding octet.
pub fn random_serial() -> Result<Vec<u8>, CaError> {
    let mut serial = vec![0u8; RANDOM_SERIAL_LEN];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| CaError::Random)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x3f) | 0x40;
    }
    Ok(serial)
}

/// A key identifier by RFC 7093 §2 method 1: the leftmost 160 bits of the
/// SHA-256 of the subjectPublicKey BIT STRING's value (for P-256, the
/// 65-byte point), as RFC 5280 §4.2.1.2 allows.
fn key_identifier(public_key: &[u8]) -> Vec<u8> {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public_key);
    digest.as_ref().iter().take(20).copied().collect()
}

/// `id-ce-subjectKeyIdentifier` (RFC 5280 §4.2.1.2), for rcgen.
const SUBJECT_KEY_IDENTIFIER_ARCS: [u64; 4] = [2, 5, 29, 14];

/// Unix ms to a certificate time, dropping milliseconds.
fn to_time(ms: u64) -> Result<OffsetDateTime, CaError> {
    let bad = CaError::InvalidValidity {
        reason: "time outside the years 1950 to 9999",
    };
    let seconds = i64::try_from(ms / 1000).map_err(|_| bad.clone())?;
    let t = OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| bad.clone())?;
    if !(1950..=9999).contains(&t.year()) {
        return Err(bad);
    }
    Ok(t)
}

/// `notBefore = now`, `notAfter = now + validity`, checked.
fn validity(now_ms: u64, validity: Duration) -> Result<(OffsetDateTime, OffsetDateTime), CaError> {
    let span = u64::try_from(validity.as_millis()).unwrap_or(u64::MAX);
    if span < 1000 {
        return Err(CaError::InvalidValidity {
            reason: "shorter than one second",
        });
    }
    Ok((to_time(now_ms)?, to_time(now_ms.saturating_add(span))?))
}

fn ca_name(name: &str) -> Result<DistinguishedName, CaError> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err(CaError::InvalidName);
    }
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    Ok(dn)
}

fn new_p256_key() -> Result<KeyPair, CaError> {
    Ok(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?)
}

/// Creates a self-signed root (`sigil_core::certificate`, "The
/// hierarchy"): subject `CN=<name>`, a new P-256 key, basicConstraints `cA`
/// with pathLen 1 and keyUsage `keyCertSign, cRLSign`, both critical
/// (RFC 5280 §4.2.1.3, §4.2.1.9), subject and authority key identifiers
/// (§4.2.1.1–2), a random serial, valid from `now_ms` for `validity`
/// (`DEFAULT_ROOT_VALIDITY_DAYS` is the profile's default).
pub fn new_root(name: &str, now_ms: u64, validity: Duration) -> Result<CaCertificate, CaError> {
    let key = new_p256_key()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = ca_name(name)?;
    (params.not_before, params.not_after) = self::validity(now_ms, validity)?;
    params.serial_number = Some(SerialNumber::from(random_serial()?));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(ROOT_PATH_LEN));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key.der_bytes()));
    params.use_authority_key_identifier_extension = true;
    let cert = params.self_signed(&key)?;
    CaCertificate::from_parts(cert.der().to_vec(), key.serialize_der())
}

/// Creates the intermediate, signed by `root`: subject `CN=<name>`, a new
/// P-256 key, basicConstraints `cA` with pathLen 0, keyUsage
/// `digitalSignature, keyCertSign, cRLSign` (it signs revocation entries as
/// well as certificates), extKeyUsage `codeSigning` (standard path
/// validation requires the leaf's EKU on the intermediate), subject and
/// authority key identifiers, a random serial, valid from `now_ms` for
/// `validity` but not past the root's `notAfter`.
pub fn new_intermediate(
    root: &CaCertificate,
    name: &str,
    now_ms: u64,
    validity: Duration,
) -> Result<CaCertificate, CaError> {
    let root_cert = root.parsed()?;
    let key = new_p256_key()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = ca_name(name)?;
    (params.not_before, params.not_after) = self::validity(now_ms, validity)?;
    if params.not_after.unix_timestamp() > root_cert.not_after() {
        return Err(CaError::InvalidValidity {
            reason: "the intermediate would outlive the root",
        });
    }
    params.serial_number = Some(SerialNumber::from(random_serial()?));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(INTERMEDIATE_PATH_LEN));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.key_identifier_method = KeyIdMethod::PreSpecified(key_identifier(key.der_bytes()));
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &root.issuer(root.key_pair()?)?)?;
    CaCertificate::from_parts(cert.der().to_vec(), key.serialize_der())
}

/// Issues a maintainer's leaf certificate (`sigil_core::certificate`, "The
/// hierarchy"), signed by `intermediate`:
///
/// * subject empty, subjectAltName (critical, RFC 5280 §4.1.2.6) the
///   `identity`, as an `rfc822Name` or a URI by
///   `sigil_core::certificate::classify_identity`;
/// * the key `subject_public_key_spki_der`, which must be an ECDSA P-256
///   SubjectPublicKeyInfo DER with an uncompressed point;
/// * keyUsage `digitalSignature` (critical), extKeyUsage `codeSigning`,
///   no basicConstraints (an end entity), subject and authority key
///   identifiers;
/// * the Sigil scope extension listing `crates`, non-critical;
/// * valid from `not_before_ms` to `not_after_ms` (inclusive, to the
///   second), within the intermediate's validity;
/// * serial `serial`, or a [`random_serial`] if `None`.
///
/// Returns the certificate, DER. The CA logs it (a certificate entry)
/// before handing it out.
pub fn issue_leaf(
    intermediate: &CaCertificate,
    subject_public_key_spki_der: &[u8],
    identity: &str,
    crates: &[String],
    not_before_ms: u64,
    not_after_ms: u64,
    serial: Option<&[u8]>,
) -> Result<Vec<u8>, CaError> {
    let issuer_cert = intermediate.parsed()?;
    if issuer_cert.p256_point().is_none() {
        return Err(CaError::BadKey {
            reason: "the intermediate's key is not ECDSA P-256",
        });
    }
    let san = match classify_identity(identity)? {
        IdentityKind::Uri => SanType::URI(identity.try_into()?),
        _ => SanType::Rfc822Name(identity.try_into()?),
    };
    let scope = encode_scope(crates)?;
    if subject_public_key_spki_der.first() != Some(&0x30) {
        return Err(CaError::BadPublicKey);
    }
    p256_public_key_point(subject_public_key_spki_der).map_err(|_| CaError::BadPublicKey)?;
    let public_key = rcgen::SubjectPublicKeyInfo::from_der(subject_public_key_spki_der)
        .map_err(|_| CaError::BadPublicKey)?;
    let serial = match serial {
        Some(s) => {
            validate_serial(s)?;
            s.to_vec()
        }
        None => random_serial()?,
    };

    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.not_before = to_time(not_before_ms)?;
    params.not_after = to_time(not_after_ms)?;
    if params.not_before >= params.not_after {
        return Err(CaError::InvalidValidity {
            reason: "notBefore is not before notAfter",
        });
    }
    if params.not_before.unix_timestamp() < issuer_cert.not_before()
        || params.not_after.unix_timestamp() > issuer_cert.not_after()
    {
        return Err(CaError::InvalidValidity {
            reason: "the leaf's validity is not within the intermediate's",
        });
    }
    params.serial_number = Some(SerialNumber::from(serial));
    params.subject_alt_names = vec![san];
    // No basicConstraints: an end entity (RFC 5280 §4.2.1.9). rcgen writes
    // the subject key identifier only with basicConstraints, and its
    // `ExplicitNoCa` encodes the DEFAULT `cA FALSE`, which DER forbids
    // (X.690 §11.5), so the identifier is added here.
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.use_authority_key_identifier_extension = true;
    let mut ski = vec![0x04, 20];
    ski.extend(key_identifier(public_key.der_bytes()));
    params.custom_extensions = vec![
        CustomExtension::from_oid_content(&SUBJECT_KEY_IDENTIFIER_ARCS, ski),
        CustomExtension::from_oid_content(&SCOPE_EXTENSION_OID_ARCS, scope),
    ];

    let key = intermediate.key_pair()?;
    let issuer = intermediate.issuer(&key)?;
    let der = params.signed_by(&public_key, &issuer)?.der().to_vec();
    // The leaf must carry exactly the key given, in the uncompressed form
    // verifiers read (a compressed point passes p256 but not the profile).
    let issued = Certificate::parse(&der).map_err(CaError::BadCertificate)?;
    if issued.spki_der() != subject_public_key_spki_der || issued.p256_point().is_none() {
        return Err(CaError::BadPublicKey);
    }
    Ok(der)
}

/// Signs a revocation (`docs/formats.md` §1.4) of the certificate with
/// serial `serial` that `intermediate` issued, for the log whose checkpoint
/// origin line is `origin` (the revocation verifies in that log only):
/// void from log index `from_index` on, revoked at `revoked_at_ms`. The
/// signer chain is the intermediate's certificate alone (the root is not
/// included).
pub fn sign_revocation(
    intermediate: &CaCertificate,
    origin: &str,
    serial: &[u8],
    reason: CrlReason,
    from_index: u64,
    revoked_at_ms: u64,
) -> Result<Revocation, CaError> {
    validate_serial(serial)?;
    let key = intermediate.p256_signing_key()?;
    Ok(Revocation::sign(
        origin,
        serial.to_vec(),
        reason.code(),
        from_index,
        revoked_at_ms,
        vec![intermediate.certificate_der.clone()],
        &key,
    )?)
}
