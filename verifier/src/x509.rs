//! Reading the fields of an X.509 v3 certificate (RFC 5280 §4.1) that
//! Sigil's checks need beyond what rustls-webpki exposes: validity,
//! keyUsage, basicConstraints, the subjectAltName identity and the Sigil
//! scope extension (`sigil_core::certificate`).
//!
//! [`Certificate::parse`] is zero-copy and strict: DER only (X.690 §10),
//! version 3, no unique identifiers, outer and inner signature algorithms
//! equal (§4.1.1.2), DEFAULT values omitted (X.690 §11.5), a positive serial of at most 20 octets (§4.1.2.2),
//! at most one instance of each extension (§4.2), no
//! unrecognised critical extension (§4.2: "A certificate-using system MUST
//! reject the certificate if it encounters a critical extension it does not
//! recognize"). It returns a typed error and never panics, whatever the
//! input. It checks no signature: chain validation is [`crate::chain`]'s.

use sigil_core::certificate::{
    CertificateError, IdentityKind, SCOPE_EXTENSION_OID_DER, classify_identity, decode_scope,
    validate_serial,
};

use crate::der::{self, DerResult, Element, Reader, tag};
use crate::error::VerifyError;

/// OID content octets (X.690 §8.19) this module compares against.
pub(crate) mod oid {
    /// `id-ce-subjectKeyIdentifier` 2.5.29.14 (RFC 5280 §4.2.1.2).
    pub(crate) const SUBJECT_KEY_IDENTIFIER: &[u8] = &[0x55, 0x1d, 0x0e];
    /// `id-ce-keyUsage` 2.5.29.15 (RFC 5280 §4.2.1.3).
    pub(crate) const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    /// `id-ce-subjectAltName` 2.5.29.17 (RFC 5280 §4.2.1.6).
    pub(crate) const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
    /// `id-ce-basicConstraints` 2.5.29.19 (RFC 5280 §4.2.1.9).
    pub(crate) const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    /// `id-ce-nameConstraints` 2.5.29.30 (RFC 5280 §4.2.1.10).
    pub(crate) const NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
    /// `id-ce-cRLDistributionPoints` 2.5.29.31 (RFC 5280 §4.2.1.13).
    pub(crate) const CRL_DISTRIBUTION_POINTS: &[u8] = &[0x55, 0x1d, 0x1f];
    /// `id-ce-authorityKeyIdentifier` 2.5.29.35 (RFC 5280 §4.2.1.1).
    pub(crate) const AUTHORITY_KEY_IDENTIFIER: &[u8] = &[0x55, 0x1d, 0x23];
    /// `id-ce-extKeyUsage` 2.5.29.37 (RFC 5280 §4.2.1.12).
    pub(crate) const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    /// `id-ecPublicKey` 1.2.840.10045.2.1 (RFC 5480 §2.1.1).
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// `secp256r1` / `prime256v1` 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1).
    pub(crate) const SECP256R1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// `secp384r1` 1.3.132.0.34 (RFC 5480 §2.1.1.1).
    pub(crate) const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// `secp521r1` 1.3.132.0.35 (RFC 5480 §2.1.1.1).
    pub(crate) const SECP521R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    /// `rsaEncryption` 1.2.840.113549.1.1.1 (RFC 3279 §2.3.1).
    pub(crate) const RSA_ENCRYPTION: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// `id-Ed25519` 1.3.101.112 (RFC 8410 §3).
    pub(crate) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    /// `ecdsa-with-SHA256` 1.2.840.10045.4.3.2 (RFC 5758 §3.2).
    pub(crate) const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
}

/// Most extensions a certificate may carry here. Sigil's carry at most
/// eight; the cap bounds the duplicate check on hostile input.
const MAX_EXTENSIONS: usize = 32;

/// The algorithm of a certificate's subject public key (RFC 5280
/// §4.1.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 (RFC 5480): the only one Sigil accepts.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// ECDSA on P-521.
    EcdsaP521,
    /// ECDSA on another named curve, or with explicit parameters.
    EcdsaOtherCurve,
    /// RSA (`rsaEncryption`).
    Rsa,
    /// Ed25519 (RFC 8410).
    Ed25519,
    /// Anything else.
    Other,
}

impl KeyAlgorithm {
    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::EcdsaP521 => "ECDSA P-521",
            KeyAlgorithm::EcdsaOtherCurve => "ECDSA on another curve",
            KeyAlgorithm::Rsa => "RSA",
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::Other => "an unknown algorithm",
        }
    }
}

/// The keyUsage bits (RFC 5280 §4.2.1.3) this crate looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyUsage {
    /// The named bits, bit 0 (`digitalSignature`) as the most significant
    /// bit of the first octet, as in the BIT STRING.
    bits: u16,
}

impl KeyUsage {
    fn bit(self, n: u8) -> bool {
        self.bits & (0x8000 >> n) != 0
    }
    /// `digitalSignature` (bit 0).
    pub fn digital_signature(self) -> bool {
        self.bit(0)
    }
    /// `keyCertSign` (bit 5).
    pub fn key_cert_sign(self) -> bool {
        self.bit(5)
    }
    /// `cRLSign` (bit 6).
    pub fn crl_sign(self) -> bool {
        self.bit(6)
    }
}

/// The basicConstraints extension (RFC 5280 §4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BasicConstraints {
    /// `cA`.
    pub ca: bool,
    /// `pathLenConstraint`, if present.
    pub path_len: Option<u8>,
}

/// A parsed certificate, borrowing from its DER.
#[derive(Debug, Clone)]
pub struct Certificate<'a> {
    der: &'a [u8],
    tbs: &'a [u8],
    serial: &'a [u8],
    signature_algorithm: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    not_before: i64,
    not_after: i64,
    spki: &'a [u8],
    key_algorithm: KeyAlgorithm,
    public_key: &'a [u8],
    signature: &'a [u8],
    key_usage: Option<KeyUsage>,
    basic_constraints: Option<BasicConstraints>,
    subject_alt_name: Option<&'a [u8]>,
    extended_key_usage: Option<&'a [u8]>,
    scope: Option<&'a [u8]>,
}

impl<'a> Certificate<'a> {
    /// Parses a DER certificate by the rules in the module documentation.
    /// Errors name the certificate as index 0; see
    /// [`Certificate::parse_at`] to give its position in a chain.
    pub fn parse(der: &'a [u8]) -> Result<Self, VerifyError> {
        Self::parse_at(der, 0)
    }

    /// [`Certificate::parse`], with errors naming the certificate as
    /// `index` (its position in the chain it came in).
    pub fn parse_at(der: &'a [u8], index: usize) -> Result<Self, VerifyError> {
        parse_certificate(der).map_err(|e| match e {
            ParseError::Der(reason) => VerifyError::MalformedCertificate { index, reason },
            ParseError::CriticalExtension => VerifyError::UnsupportedCriticalExtension { index },
        })
    }

    /// The whole certificate, DER.
    pub fn der(&self) -> &'a [u8] {
        self.der
    }

    /// The DER `tbsCertificate` (RFC 5280 §4.1.1.1): what the issuer signed.
    pub fn tbs_certificate(&self) -> &'a [u8] {
        self.tbs
    }

    /// The serial number: the content octets of the DER INTEGER (RFC 5280
    /// §4.1.2.2), as a revocation entry's `serial` holds them.
    pub fn serial(&self) -> &'a [u8] {
        self.serial
    }

    /// True if the certificate is signed with `ecdsa-with-SHA256`, without
    /// parameters (RFC 5758 §3.2).
    pub fn signed_with_ecdsa_sha256(&self) -> bool {
        self.signature_algorithm == oid::ECDSA_WITH_SHA256
    }

    /// The issuer Name's content octets (the RDNSequence without its outer
    /// SEQUENCE header; RFC 5280 §4.1.2.4).
    pub fn issuer(&self) -> &'a [u8] {
        self.issuer
    }

    /// The subject Name's content octets (RFC 5280 §4.1.2.6).
    pub fn subject(&self) -> &'a [u8] {
        self.subject
    }

    /// `notBefore` in Unix seconds (RFC 5280 §4.1.2.5).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter` in Unix seconds, inclusive (RFC 5280 §4.1.2.5).
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// `notBefore` in Unix milliseconds, 0 for times before 1970.
    pub fn not_before_ms(&self) -> u64 {
        seconds_to_ms(self.not_before)
    }

    /// `notAfter` in Unix milliseconds, 0 for times before 1970.
    pub fn not_after_ms(&self) -> u64 {
        seconds_to_ms(self.not_after)
    }

    /// The SubjectPublicKeyInfo, DER (RFC 5280 §4.1.2.7), outer SEQUENCE
    /// included.
    pub fn spki_der(&self) -> &'a [u8] {
        self.spki
    }

    /// The subject public key's algorithm.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key_algorithm
    }

    /// The subject public key as a 65-byte uncompressed SEC1 point (RFC
    /// 5480 §2.2), if it is a P-256 key in that form; the form aws-lc-rs
    /// verifies with.
    pub fn p256_point(&self) -> Option<&'a [u8]> {
        (self.key_algorithm == KeyAlgorithm::EcdsaP256
            && self.public_key.len() == 65
            && self.public_key.first() == Some(&0x04))
        .then_some(self.public_key)
    }

    /// The signatureValue's octets: for ECDSA, the DER `Ecdsa-Sig-Value`.
    pub fn signature(&self) -> &'a [u8] {
        self.signature
    }

    /// keyUsage, if the extension is present.
    pub fn key_usage(&self) -> Option<KeyUsage> {
        self.key_usage
    }

    /// basicConstraints, if the extension is present.
    pub fn basic_constraints(&self) -> Option<BasicConstraints> {
        self.basic_constraints
    }

    /// True if basicConstraints is present with `cA` TRUE.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.is_some_and(|bc| bc.ca)
    }

    /// True if the extKeyUsage extension lists `purpose` (OID content
    /// octets). Malformed content reads as absent: rustls-webpki checks the
    /// extension during chain validation.
    pub fn has_extended_key_usage(&self, purpose: &[u8]) -> bool {
        let Some(content) = self.extended_key_usage else {
            return false;
        };
        let mut r = Reader::new(content);
        while let Ok(el) = r.expect(tag::OID, "") {
            if el.content == purpose {
                return true;
            }
        }
        false
    }

    /// The raw DER of the Sigil scope extension's `extnValue`, if present.
    pub fn scope_der(&self) -> Option<&'a [u8]> {
        self.scope
    }

    /// The crates the certificate may sign: the Sigil scope extension
    /// (`sigil_core::certificate::decode_scope`).
    pub fn scope(&self) -> Result<Vec<String>, VerifyError> {
        let der = self.scope.ok_or(VerifyError::MissingScope)?;
        decode_scope(der).map_err(VerifyError::MalformedScope)
    }

    /// The maintainer's identity: the one `rfc822Name` or
    /// `uniformResourceIdentifier` in subjectAltName (RFC 5280 §4.2.1.6),
    /// whose form must be the one `classify_identity` gives the string.
    pub fn identity(&self) -> Result<String, VerifyError> {
        let content = self.subject_alt_name.ok_or(VerifyError::BadIdentity {
            reason: "the certificate has no subjectAltName",
        })?;
        let mut r = Reader::new(content);
        let name = r
            .any()
            .map_err(|reason| VerifyError::BadIdentity { reason })?;
        if !r.is_empty() {
            return Err(VerifyError::BadIdentity {
                reason: "subjectAltName holds more than one name",
            });
        }
        let kind = match name.tag {
            tag::RFC822_NAME => IdentityKind::Rfc822Name,
            tag::URI => IdentityKind::Uri,
            _ => {
                return Err(VerifyError::BadIdentity {
                    reason: "subjectAltName is neither an rfc822Name nor a URI",
                });
            }
        };
        let identity = std::str::from_utf8(name.content).map_err(|_| VerifyError::BadIdentity {
            reason: "subjectAltName is not ASCII",
        })?;
        match classify_identity(identity) {
            Ok(k) if k == kind => Ok(identity.to_owned()),
            Ok(_) => Err(VerifyError::BadIdentity {
                reason: "subjectAltName form does not match the identity (URIs start with a scheme, email addresses do not)",
            }),
            Err(CertificateError::InvalidIdentity { reason }) => {
                Err(VerifyError::BadIdentity { reason })
            }
            Err(_) => Err(VerifyError::BadIdentity {
                reason: "invalid identity",
            }),
        }
    }
}

fn seconds_to_ms(seconds: i64) -> u64 {
    u64::try_from(seconds).map_or(0, |s| s.saturating_mul(1000))
}

/// Why parsing failed, before the caller adds the certificate's index.
enum ParseError {
    /// Not DER, or not the X.509 structure.
    Der(&'static str),
    /// A critical extension this crate does not process.
    CriticalExtension,
}

impl From<&'static str> for ParseError {
    fn from(reason: &'static str) -> Self {
        ParseError::Der(reason)
    }
}

/// RFC 5280 §4.1:
///
/// ```text
/// Certificate ::= SEQUENCE { tbsCertificate TBSCertificate,
///     signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
/// TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1,
///     serialNumber CertificateSerialNumber, signature AlgorithmIdentifier,
///     issuer Name, validity Validity, subject Name,
///     subjectPublicKeyInfo SubjectPublicKeyInfo,
///     issuerUniqueID [1] IMPLICIT UniqueIdentifier OPTIONAL,
///     subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL,
///     extensions [3] EXPLICIT Extensions OPTIONAL }
/// ```
fn parse_certificate(der: &[u8]) -> Result<Certificate<'_>, ParseError> {
    let mut outer = Reader::new(der);
    let cert = outer.expect(tag::SEQUENCE, "not a DER SEQUENCE")?;
    outer.finish("bytes after the certificate")?;

    let mut c = Reader::new(cert.content);
    let tbs = c.expect(tag::SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let signature_algorithm = c.expect(tag::SEQUENCE, "signatureAlgorithm is not a SEQUENCE")?;
    let signature_value = c.expect(tag::BIT_STRING, "signatureValue is not a BIT STRING")?;
    c.finish("bytes after signatureValue")?;
    let (unused, signature) = der::bit_string(signature_value.content)?;
    if unused != 0 {
        return Err("signatureValue has unused bits".into());
    }

    let mut t = Reader::new(tbs.content);
    let version = t.expect(tag::CONTEXT_0_CONSTRUCTED, "not an X.509 v3 certificate")?;
    if version.content != [tag::INTEGER, 0x01, 0x02] {
        return Err("not an X.509 v3 certificate".into());
    }
    let serial = t.expect(tag::INTEGER, "serialNumber is not an INTEGER")?;
    if validate_serial(serial.content).is_err() {
        return Err(
            "serialNumber is not a positive, minimal INTEGER of at most 20 octets (RFC 5280 §4.1.2.2)"
                .into(),
        );
    }
    let tbs_signature = t.expect(tag::SEQUENCE, "signature is not a SEQUENCE")?;
    if tbs_signature.whole != signature_algorithm.whole {
        return Err("signature and signatureAlgorithm differ (RFC 5280 §4.1.1.2)".into());
    }
    let issuer = t.expect(tag::SEQUENCE, "issuer is not a Name")?;
    let validity = t.expect(tag::SEQUENCE, "validity is not a SEQUENCE")?;
    let (not_before, not_after) = parse_validity(validity.content)?;
    let subject = t.expect(tag::SEQUENCE, "subject is not a Name")?;
    let spki = t.expect(tag::SEQUENCE, "subjectPublicKeyInfo is not a SEQUENCE")?;
    let (key_algorithm, public_key) = parse_spki(spki.content)?;

    let mut cert = Certificate {
        der,
        tbs: tbs.whole,
        serial: serial.content,
        signature_algorithm: algorithm_oid(signature_algorithm.content)?,
        issuer: issuer.content,
        subject: subject.content,
        not_before,
        not_after,
        spki: spki.whole,
        key_algorithm,
        public_key,
        signature,
        key_usage: None,
        basic_constraints: None,
        subject_alt_name: None,
        extended_key_usage: None,
        scope: None,
    };
    if let Some(extensions) = t.optional(tag::CONTEXT_3_CONSTRUCTED)? {
        parse_extensions(extensions, &mut cert)?;
    }
    t.finish("unexpected field in tbsCertificate (unique identifiers are not accepted)")?;
    Ok(cert)
}

/// The OID of an AlgorithmIdentifier (RFC 5280 §4.1.1.2) that has no
/// parameters, as ECDSA's must not (RFC 5758 §3.2); an empty slice for any
/// other, which matches no algorithm Sigil accepts.
fn algorithm_oid(content: &[u8]) -> DerResult<&[u8]> {
    let mut r = Reader::new(content);
    let algorithm = r.expect(tag::OID, "AlgorithmIdentifier without an OID")?;
    if r.is_empty() {
        Ok(algorithm.content)
    } else {
        Ok(&[])
    }
}

/// `Validity ::= SEQUENCE { notBefore Time, notAfter Time }` (RFC 5280
/// §4.1.2.5), as Unix seconds.
fn parse_validity(content: &[u8]) -> DerResult<(i64, i64)> {
    let mut r = Reader::new(content);
    let not_before = parse_time(r.any()?)?;
    let not_after = parse_time(r.any()?)?;
    r.finish("bytes after notAfter")?;
    Ok((not_before, not_after))
}

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` in
/// the forms RFC 5280 §4.1.2.5.1–2 requires: `YYMMDDHHMMSSZ` (years 1950
/// to 2049) and `YYYYMMDDHHMMSSZ`, in UTC, no fractions.
fn parse_time(el: Element<'_>) -> DerResult<i64> {
    let (year, rest) = match (el.tag, el.content.len()) {
        (tag::UTC_TIME, 13) => {
            let yy = digits(el.content, 0, 2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        (tag::GENERALIZED_TIME, 15) => (digits(el.content, 0, 4)?, 4),
        (tag::UTC_TIME | tag::GENERALIZED_TIME, _) => {
            return Err("time is not in the RFC 5280 form (…HHMMSSZ)");
        }
        _ => return Err("validity time is neither UTCTime nor GeneralizedTime"),
    };
    if el.content.last() != Some(&b'Z') {
        return Err("time is not in UTC (…Z)");
    }
    let month = digits(el.content, rest, 2)?;
    let day = digits(el.content, rest + 2, 2)?;
    let hour = digits(el.content, rest + 4, 2)?;
    let minute = digits(el.content, rest + 6, 2)?;
    let second = digits(el.content, rest + 8, 2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err("time out of range");
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// `count` ASCII digits at `at`, as a number.
fn digits(s: &[u8], at: usize, count: usize) -> DerResult<i64> {
    let part = s
        .get(at..at + count)
        .ok_or("time is not in the RFC 5280 form")?;
    part.iter().try_fold(0i64, |acc, &b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + i64::from(b - b'0'))
        } else {
            Err("time has a non-digit")
        }
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms", `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`] (same source, `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
/// subjectPublicKey BIT STRING }` (RFC 5280 §4.1.2.7; EC keys RFC 5480
/// §2.1.1: `id-ecPublicKey` with a `namedCurve` parameter).
fn parse_spki(content: &[u8]) -> DerResult<(KeyAlgorithm, &[u8])> {
    let mut r = Reader::new(content);
    let algorithm = r.expect(tag::SEQUENCE, "SPKI algorithm is not a SEQUENCE")?;
    let key = r.expect(tag::BIT_STRING, "subjectPublicKey is not a BIT STRING")?;
    r.finish("bytes after subjectPublicKey")?;
    let (unused, key) = der::bit_string(key.content)?;
    if unused != 0 {
        return Err("subjectPublicKey has unused bits");
    }
    let mut a = Reader::new(algorithm.content);
    let id = a.expect(tag::OID, "SPKI algorithm without an OID")?;
    let params = if a.is_empty() { None } else { Some(a.any()?) };
    a.finish("bytes after SPKI algorithm parameters")?;
    let kind = match id.content {
        oid::EC_PUBLIC_KEY => match params {
            Some(p) if p.tag == tag::OID => match p.content {
                oid::SECP256R1 => KeyAlgorithm::EcdsaP256,
                oid::SECP384R1 => KeyAlgorithm::EcdsaP384,
                oid::SECP521R1 => KeyAlgorithm::EcdsaP521,
                _ => KeyAlgorithm::EcdsaOtherCurve,
            },
            _ => KeyAlgorithm::EcdsaOtherCurve,
        },
        oid::RSA_ENCRYPTION => KeyAlgorithm::Rsa,
        oid::ED25519 => KeyAlgorithm::Ed25519,
        _ => KeyAlgorithm::Other,
    };
    Ok((kind, key))
}

/// `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension`,
/// `Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN
/// DEFAULT FALSE, extnValue OCTET STRING }` (RFC 5280 §4.1).
fn parse_extensions<'a>(
    wrapper: Element<'a>,
    cert: &mut Certificate<'a>,
) -> Result<(), ParseError> {
    let mut w = Reader::new(wrapper.content);
    let list = w.expect(tag::SEQUENCE, "extensions is not a SEQUENCE")?;
    w.finish("bytes after extensions")?;
    let mut r = Reader::new(list.content);
    let mut seen: Vec<&[u8]> = Vec::new();
    while !r.is_empty() {
        if seen.len() == MAX_EXTENSIONS {
            return Err("more than 32 extensions".into());
        }
        let ext = r.expect(tag::SEQUENCE, "extension is not a SEQUENCE")?;
        let mut e = Reader::new(ext.content);
        let id = e.expect(tag::OID, "extension without an extnID")?.content;
        let critical = match e.optional(tag::BOOLEAN)? {
            Some(b) => der::boolean_default_false(b.content)?,
            None => false,
        };
        let value = e.expect(tag::OCTET_STRING, "extension without an extnValue")?;
        e.finish("bytes after extnValue")?;
        if seen.contains(&id) {
            return Err("an extension appears twice (RFC 5280 §4.2)".into());
        }
        seen.push(id);
        let value = value.content;
        match id {
            oid::KEY_USAGE => cert.key_usage = Some(parse_key_usage(value)?),
            oid::BASIC_CONSTRAINTS => {
                cert.basic_constraints = Some(parse_basic_constraints(value)?);
            }
            oid::SUBJECT_ALT_NAME => cert.subject_alt_name = Some(sequence_content(value)?),
            oid::EXT_KEY_USAGE => cert.extended_key_usage = Some(sequence_content(value)?),
            // Processed by rustls-webpki during chain validation.
            oid::NAME_CONSTRAINTS | oid::CRL_DISTRIBUTION_POINTS => {}
            // RFC 5280 §4.2.1.1–2: conforming CAs mark these non-critical.
            oid::SUBJECT_KEY_IDENTIFIER | oid::AUTHORITY_KEY_IDENTIFIER if !critical => {}
            // The scope must be non-critical (sigil_core::certificate), so
            // that relying parties without Sigil's rules still validate.
            id if id == SCOPE_EXTENSION_OID_DER && !critical => cert.scope = Some(value),
            _ if critical => return Err(ParseError::CriticalExtension),
            _ => {}
        }
    }
    if seen.is_empty() {
        return Err("empty extensions (RFC 5280 §4.1: SIZE (1..MAX))".into());
    }
    Ok(())
}

/// The content of a DER value that must be exactly one non-empty SEQUENCE.
fn sequence_content(value: &[u8]) -> DerResult<&[u8]> {
    let mut r = Reader::new(value);
    let seq = r.expect(tag::SEQUENCE, "extension value is not a SEQUENCE")?;
    r.finish("bytes after extension value")?;
    if seq.content.is_empty() {
        return Err("empty SEQUENCE in an extension that requires SIZE (1..MAX)");
    }
    Ok(seq.content)
}

/// `KeyUsage ::= BIT STRING` (RFC 5280 §4.2.1.3); at least one bit set.
fn parse_key_usage(value: &[u8]) -> DerResult<KeyUsage> {
    let mut r = Reader::new(value);
    let bits = r.expect(tag::BIT_STRING, "keyUsage is not a BIT STRING")?;
    r.finish("bytes after keyUsage")?;
    let (_, octets) = der::bit_string(bits.content)?;
    let bits = match octets {
        [a] => u16::from(*a) << 8,
        [a, b] => (u16::from(*a) << 8) | u16::from(*b),
        _ => return Err("keyUsage is not 1 or 2 octets"),
    };
    if bits == 0 {
        return Err("keyUsage with no bit set (RFC 5280 §4.2.1.3)");
    }
    Ok(KeyUsage { bits })
}

/// `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
/// pathLenConstraint INTEGER (0..MAX) OPTIONAL }` (RFC 5280 §4.2.1.9);
/// path lengths above 255 are refused.
fn parse_basic_constraints(value: &[u8]) -> DerResult<BasicConstraints> {
    let mut r = Reader::new(value);
    let seq = r.expect(tag::SEQUENCE, "basicConstraints is not a SEQUENCE")?;
    r.finish("bytes after basicConstraints")?;
    let mut s = Reader::new(seq.content);
    let ca = match s.optional(tag::BOOLEAN)? {
        Some(b) => der::boolean_default_false(b.content)?,
        None => false,
    };
    let path_len = match s.optional(tag::INTEGER)? {
        Some(i) => Some(match i.content {
            [n] if *n < 0x80 => *n,
            [0, n] if *n >= 0x80 => *n,
            _ => return Err("pathLenConstraint is not an INTEGER in 0..=255"),
        }),
        None => None,
    };
    s.finish("bytes after pathLenConstraint")?;
    Ok(BasicConstraints { ca, path_len })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1950, 1, 1), -7_305);
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn times() {
        let el = |t: u8, s: &'static str| Element {
            tag: t,
            content: s.as_bytes(),
            whole: s.as_bytes(),
        };
        // 2026-01-01T00:00:00Z = 1_767_225_600.
        assert_eq!(
            parse_time(el(tag::UTC_TIME, "260101000000Z")),
            Ok(1_767_225_600)
        );
        assert_eq!(
            parse_time(el(tag::GENERALIZED_TIME, "20260101000000Z")),
            Ok(1_767_225_600)
        );
        assert_eq!(
            parse_time(el(tag::UTC_TIME, "500101000000Z")),
            Ok(-631_152_000)
        );
        assert_eq!(
            parse_time(el(tag::UTC_TIME, "240229235959Z")),
            Ok(days_from_civil(2024, 2, 29) * 86_400 + 86_399)
        );
        for bad in [
            "250229000000Z",
            "261301000000Z",
            "260100000000Z",
            "260101240000Z",
            "260101006000Z",
            "260101000060Z",
            "2601010000Z",
            "260101000000+",
            "26010100000aZ",
        ] {
            assert!(parse_time(el(tag::UTC_TIME, bad)).is_err(), "{bad}");
        }
        assert!(parse_time(el(tag::OCTET_STRING, "260101000000Z")).is_err());
        assert!(parse_time(el(tag::GENERALIZED_TIME, "20260101000000.5Z")).is_err());
    }

    #[test]
    fn basic_constraints_and_key_usage() {
        let bc = |h: &str| parse_basic_constraints(&hex::decode(h).unwrap());
        assert_eq!(
            bc("3000"),
            Ok(BasicConstraints {
                ca: false,
                path_len: None
            })
        );
        assert_eq!(
            bc("30060101ff020101"),
            Ok(BasicConstraints {
                ca: true,
                path_len: Some(1)
            })
        );
        assert_eq!(
            bc("30070101ff02020080"),
            Ok(BasicConstraints {
                ca: true,
                path_len: Some(128)
            })
        );
        assert!(bc("30060101ff020180").is_err());
        assert!(bc("30070101ff0202007f").is_err());
        assert!(bc("30030101aa").is_err());
        // DER omits a DEFAULT value (X.690 §11.5): cA FALSE is not encoded.
        assert!(bc("3003010100").is_err());
        assert!(bc("300302010100").is_err());

        let ku = |h: &str| parse_key_usage(&hex::decode(h).unwrap());
        let leaf = ku("03020780").unwrap();
        assert!(leaf.digital_signature() && !leaf.key_cert_sign());
        let ca = ku("03020106").unwrap();
        assert!(ca.key_cert_sign() && ca.crl_sign() && !ca.digital_signature());
        let both = ku("03020186").unwrap();
        assert!(both.key_cert_sign() && both.digital_signature());
        assert!(ku("030100").is_err());
        assert!(ku("03020000").is_err());
    }
}
