//! Signed statements: a DSSE envelope carrying an in-toto Statement v1 about
//! one crate release.
//!
//! Specifications:
//!
//! * DSSE v1.0, `protocol.md` and `envelope.md` in
//!   <https://github.com/secure-systems-lab/dsse>: the signature is computed
//!   over the Pre-Authentication Encoding [`pae`] of the payload type and
//!   the payload, never over the JSON envelope.
//! * in-toto Attestation Framework v1, `spec/v1/statement.md`,
//!   `spec/v1/envelope.md`, `spec/v1/digest_set.md` and the parsing rules in
//!   `spec/v1/README.md` in <https://github.com/in-toto/attestation>.
//! * Sigil: `docs/formats.md`, section "Signed statements".
//!
//! # The statement
//!
//! A release statement says "the file `<crate>-<version>.crate` has this
//! SHA-256". [`statement_json`] writes it as compact JSON with the keys in
//! this fixed order (the only form Sigil produces):
//!
//! ```text
//! {"_type":"https://in-toto.io/Statement/v1",
//!  "subject":[{"name":"hello-1.0.0.crate",
//!              "digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],
//!  "predicateType":"https://sigil.dev/release/v1",
//!  "predicate":{"crate":"hello","version":"1.0.0"}}
//! ```
//!
//! (shown wrapped; the real bytes have no whitespace at all).
//!
//! [`parse_statement`] accepts any JSON statement that means the same thing,
//! following the in-toto parsing rules: unknown fields are ignored at every
//! level, the digest set may carry other algorithms beside `sha256`, and key
//! order does not matter. It is strict about everything Sigil relies on:
//!
//! * the payload is at most [`MAX_STATEMENT_SIZE`] bytes of JSON;
//! * `_type` is [`STATEMENT_TYPE`] and `predicateType` is [`PREDICATE_TYPE`];
//! * there is exactly one subject, and its `name` is
//!   `<predicate.crate>-<predicate.version>.crate`;
//! * its digest set has a `sha256` of exactly 64 lowercase hex digits;
//! * `predicate.crate` is a valid crates.io name and `predicate.version` a
//!   valid SemVer 2.0 version (see [`Release::new`]);
//! * a known field given twice (including a digest algorithm) is an error,
//!   so two parsers can never read two different releases from one payload.
//!
//! # The envelope
//!
//! The standard DSSE JSON envelope ([`Envelope::to_json`],
//! [`Envelope::from_json`]):
//!
//! ```text
//! {"payload":"<base64 statement>","payloadType":"application/vnd.in-toto+json",
//!  "signatures":[{"keyid":"<hex SHA-256 of signer SPKI>","sig":"<base64 DER ECDSA>"}]}
//! ```
//!
//! Each `sig` is an ASN.1 DER ECDSA P-256 / SHA-256 signature over
//! `PAE("application/vnd.in-toto+json", payload)`. A release may carry
//! several maintainers' signatures (DSSE "multiple signatures");
//! [`Envelope::add_signature`] appends one. The `keyid` is an unauthenticated
//! hint (DSSE: it "MUST NOT be used for security decisions"); Sigil fills it
//! with [`key_id`], the lowercase hex SHA-256 of the signer's
//! SubjectPublicKeyInfo DER, which matches the public key in the signer's
//! certificate.
//!
//! Limits and leniency: the envelope JSON is at most [`MAX_ENVELOPE_SIZE`]
//! bytes and carries at least one signature. Base64 fields may use the
//! standard or the URL-safe alphabet (DSSE: verifiers MUST accept either),
//! with or without `=` padding; non-zero trailing bits are rejected. A missing
//! or `null` `keyid` reads as the empty string (DSSE: "unset MUST be treated
//! the same as set-but-empty"). Unknown fields are ignored.
//!
//! # Public keys
//!
//! [`Envelope::verify_signature`] takes the signer's P-256 public key either
//! as the DER SubjectPublicKeyInfo a certificate carries (what most callers
//! have) or as a SEC1 point (the 65-byte uncompressed `04 || X || Y` or the
//! 33-byte compressed form). The first byte decides: `0x30` is SPKI DER,
//! anything else is a SEC1 point. [`p256_public_key_point`] does this
//! normalisation (via `p256`, which checks the `id-ecPublicKey` /
//! `prime256v1` OIDs and that the point is on the curve) and the signature is
//! then checked by aws-lc-rs with `ECDSA_P256_SHA256_ASN1`.
//!
//! # Forward compatibility
//!
//! A new statement layout needs a new predicate type URI (e.g.
//! `https://sigil.dev/release/v2`); this module rejects any other
//! `predicateType`. Additions that follow the in-toto monotonic principle
//! (new optional fields) need no new URI, as v1 parsers ignore them.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// DSSE `payloadType` of an in-toto attestation (in-toto
/// `spec/v1/envelope.md`: "MUST be set to ... `application/vnd.in-toto+json`").
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The statement `_type` of in-toto Statement v1 (`spec/v1/statement.md`).
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// Sigil's predicate type for a crate release (`docs/formats.md`, "Signed
/// statements"). The predicate is `{"crate": <name>, "version": <version>}`.
pub const PREDICATE_TYPE: &str = "https://sigil.dev/release/v1";

/// Largest statement payload [`parse_statement`] accepts, in bytes.
///
/// Sigil's own statements are about 250 bytes; the limit leaves room for
/// in-toto extension fields while keeping a release entry far below the
/// 65,535-byte entry limit (`docs/formats.md`).
pub const MAX_STATEMENT_SIZE: usize = 16 * 1024;

/// Largest JSON envelope [`Envelope::from_json`] accepts, in bytes.
pub const MAX_ENVELOPE_SIZE: usize = 64 * 1024;

/// Longest crate name crates.io accepts, in bytes (crates.io publish rules).
pub const MAX_CRATE_NAME_LEN: usize = 64;

/// Longest version string Sigil accepts, in bytes: the `version<1..255>`
/// bound of a release log entry (`docs/formats.md`, "Log entries").
pub const MAX_VERSION_LEN: usize = 255;

/// Errors from building, parsing, signing and verifying statements and
/// envelopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The input is larger than the limit for its kind.
    #[error("input is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length of the input in bytes.
        len: usize,
        /// The limit that applies.
        max: usize,
    },
    /// The input is not JSON, or a field has the wrong JSON type, or a known
    /// field appears twice.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// A base64 field of the envelope does not decode.
    #[error("field `{field}` is not valid base64")]
    Base64 {
        /// Name of the JSON field.
        field: &'static str,
    },
    /// The crate name breaks the crates.io naming rules.
    #[error("invalid crate name: {reason}")]
    InvalidCrateName {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The version is not a SemVer 2.0 version Sigil accepts.
    #[error("invalid version: {reason}")]
    InvalidVersion {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The statement's `_type` is missing or is not [`STATEMENT_TYPE`].
    #[error("statement _type is not {STATEMENT_TYPE}")]
    WrongStatementType,
    /// The statement does not have exactly one subject.
    #[error("statement has {count} subjects, a release statement has exactly one")]
    SubjectCount {
        /// How many subjects it has.
        count: usize,
    },
    /// The subject `name` is missing or is not `<crate>-<version>.crate`.
    #[error("subject name is not <crate>-<version>.crate for the predicate's crate and version")]
    SubjectNameMismatch,
    /// The subject digest set has no `sha256`.
    #[error("subject digest has no sha256")]
    MissingSha256,
    /// The subject `sha256` is not exactly 64 lowercase hex digits.
    #[error("subject sha256 is not 64 lowercase hex digits")]
    BadSha256,
    /// The statement's `predicateType` is missing or is not [`PREDICATE_TYPE`].
    #[error("predicateType is not {PREDICATE_TYPE}")]
    WrongPredicateType,
    /// The predicate is missing or lacks its `crate` or `version` string.
    #[error("predicate has no crate and version strings")]
    MissingPredicate,
    /// The envelope's `payloadType` is not [`PAYLOAD_TYPE`].
    #[error("payload type is not {PAYLOAD_TYPE}")]
    WrongPayloadType,
    /// The envelope has no signatures.
    #[error("envelope has no signatures")]
    NoSignatures,
    /// The envelope already has a signature with this key ID.
    #[error("envelope already has a signature from key {keyid}")]
    DuplicateSigner {
        /// The key ID that signed already.
        keyid: String,
    },
    /// A signature index is out of range.
    #[error("signature index {index} out of range, envelope has {count}")]
    NoSuchSignature {
        /// The index asked for.
        index: usize,
        /// How many signatures there are.
        count: usize,
    },
    /// The public key is neither a P-256 SubjectPublicKeyInfo DER nor a
    /// valid P-256 SEC1 point.
    #[error("not a P-256 public key (SPKI DER or SEC1 point)")]
    BadPublicKey,
    /// The signature does not verify with the given key.
    #[error("signature does not verify")]
    BadSignature,
    /// The signing key could not produce a signature or encode its public
    /// key.
    #[error("signing failed")]
    Signing,
}

/// The release a statement is about: a crate name, a version and the
/// SHA-256 of the `.crate` file (`docs/formats.md`, "Signed statements").
///
/// The fields are public; [`Release::new`] and [`Release::validate`] check
/// them, and every function in this module that consumes a `Release` for
/// signing validates it first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Release {
    /// Crate name, as published on crates.io (case preserved).
    pub crate_name: String,
    /// SemVer 2.0 version, exactly as written in `Cargo.toml`.
    pub version: String,
    /// SHA-256 of the `.crate` file.
    pub sha256: [u8; 32],
}

impl Release {
    /// Builds a release after checking the crate name and version.
    ///
    /// Crate name (crates.io rules): 1 to [`MAX_CRATE_NAME_LEN`] ASCII
    /// characters, the first a letter, the rest letters, digits, `-` or `_`.
    /// (crates.io's reserved names are not checked here.)
    ///
    /// Version: SemVer 2.0 (<https://semver.org>, "Backus–Naur Form
    /// Grammar"): `MAJOR.MINOR.PATCH`, then optionally `-` pre-release and
    /// `+` build metadata; numeric identifiers have no leading zeros. As
    /// Cargo does, major, minor and patch must fit in a `u64`. At most
    /// [`MAX_VERSION_LEN`] bytes.
    pub fn new(crate_name: &str, version: &str, sha256: [u8; 32]) -> Result<Self, StatementError> {
        validate_crate_name(crate_name)?;
        validate_version(version)?;
        Ok(Release {
            crate_name: crate_name.to_owned(),
            version: version.to_owned(),
            sha256,
        })
    }

    /// Checks the crate name and version by the rules of [`Release::new`].
    pub fn validate(&self) -> Result<(), StatementError> {
        validate_crate_name(&self.crate_name)?;
        validate_version(&self.version)
    }

    /// The file name of the release: `<crate>-<version>.crate`, as on
    /// crates.io. This is the statement's subject name.
    pub fn artifact_name(&self) -> String {
        format!("{}-{}.crate", self.crate_name, self.version)
    }
}

/// Checks a crate name by the crates.io rules given at [`Release::new`].
pub fn validate_crate_name(name: &str) -> Result<(), StatementError> {
    let bad = |reason| Err(StatementError::InvalidCrateName { reason });
    let Some(first) = name.bytes().next() else {
        return bad("empty");
    };
    if name.len() > MAX_CRATE_NAME_LEN {
        return bad("longer than 64 characters");
    }
    if !first.is_ascii_alphabetic() {
        return bad("does not start with an ASCII letter");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return bad("has a character other than ASCII letters, digits, '-' and '_'");
    }
    Ok(())
}

/// Checks a version string by the SemVer 2.0 rules given at
/// [`Release::new`].
pub fn validate_version(version: &str) -> Result<(), StatementError> {
    let bad = |reason| Err(StatementError::InvalidVersion { reason });
    if version.is_empty() {
        return bad("empty");
    }
    if version.len() > MAX_VERSION_LEN {
        return bad("longer than 255 bytes");
    }
    // <valid semver> ::= <version core> ["-" <pre-release>] ["+" <build>]
    // The version core holds only digits and dots, so the first '+' starts
    // the build metadata and the first '-' before it the pre-release.
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return bad("not MAJOR.MINOR.PATCH");
    }
    for part in parts {
        if !is_numeric_identifier(part) {
            return bad("MAJOR, MINOR and PATCH must be numbers without leading zeros");
        }
        if part.parse::<u64>().is_err() {
            return bad("MAJOR, MINOR or PATCH does not fit in 64 bits");
        }
    }
    if let Some(pre) = pre {
        for ident in pre.split('.') {
            let alphanumeric = ident.bytes().any(|b| !b.is_ascii_digit());
            if !is_identifier(ident) || !(alphanumeric || is_numeric_identifier(ident)) {
                return bad("bad pre-release identifier");
            }
        }
    }
    if let Some(build) = build {
        // Build identifiers may have leading zeros; '+' may not repeat.
        if !build.split('.').all(is_identifier) {
            return bad("bad build metadata identifier");
        }
    }
    Ok(())
}

/// `<numeric identifier> ::= "0" | <positive digit> [<digits>]`
fn is_numeric_identifier(s: &str) -> bool {
    match s.as_bytes() {
        [] => false,
        [b'0'] => true,
        [b'0', ..] => false,
        digits => digits.iter().all(u8::is_ascii_digit),
    }
}

/// A non-empty run of `[0-9A-Za-z-]` (SemVer identifier characters).
fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Quotes a string as a JSON string literal (escaping what JSON requires).
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The in-toto Statement v1 for a release, as deterministic compact JSON.
///
/// Layout (in-toto `spec/v1/statement.md`; keys in this order, no
/// whitespace):
/// `{"_type":STATEMENT_TYPE,"subject":[{"name":"<crate>-<version>.crate","digest":{"sha256":"<lowercase hex>"}}],"predicateType":PREDICATE_TYPE,"predicate":{"crate":"<crate>","version":"<version>"}}`.
///
/// The function does not validate `release` (its strings are escaped, so
/// the output is always JSON); [`parse_statement`] of the output succeeds
/// exactly when [`Release::validate`] does.
pub fn statement_json(release: &Release) -> Vec<u8> {
    format!(
        concat!(
            r#"{{"_type":{},"subject":[{{"name":{},"digest":{{"sha256":"{}"}}}}],"#,
            r#""predicateType":{},"predicate":{{"crate":{},"version":{}}}}}"#
        ),
        json_string(STATEMENT_TYPE),
        json_string(&release.artifact_name()),
        hex::encode(release.sha256),
        json_string(PREDICATE_TYPE),
        json_string(&release.crate_name),
        json_string(&release.version),
    )
    .into_bytes()
}

/// Statement fields Sigil reads; serde ignores the rest (in-toto parsing
/// rules: "Consumers MUST ignore unrecognized fields") and rejects a known
/// field given twice.
#[derive(Deserialize)]
struct StatementDoc {
    #[serde(rename = "_type")]
    type_: Option<String>,
    subject: Option<Vec<SubjectDoc>>,
    #[serde(rename = "predicateType")]
    predicate_type: Option<String>,
    predicate: Option<PredicateDoc>,
}

/// A ResourceDescriptor, reduced to the fields a release subject uses.
#[derive(Deserialize)]
struct SubjectDoc {
    name: Option<String>,
    digest: Option<DigestSet>,
}

/// Sigil's release predicate.
#[derive(Deserialize)]
struct PredicateDoc {
    #[serde(rename = "crate")]
    crate_name: Option<String>,
    version: Option<String>,
}

/// An in-toto DigestSet (`spec/v1/digest_set.md`): algorithm name to string.
/// Unlike a plain map it rejects an algorithm named twice.
struct DigestSet(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for DigestSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DigestSetVisitor;
        impl<'de> Visitor<'de> for DigestSetVisitor {
            type Value = DigestSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from digest algorithm to string")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DigestSet, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((algorithm, value)) = map.next_entry::<String, String>()? {
                    if out.contains_key(&algorithm) {
                        return Err(A::Error::custom(format!(
                            "digest algorithm `{algorithm}` appears twice"
                        )));
                    }
                    out.insert(algorithm, value);
                }
                Ok(DigestSet(out))
            }
        }
        deserializer.deserialize_map(DigestSetVisitor)
    }
}

/// Parses a release statement (the DSSE payload) strictly, by the rules in
/// the module documentation, and returns the release it names.
///
/// Checks in this order: size, JSON, `_type`, `predicateType`, subject
/// count, predicate presence, crate name, version, subject name, sha256.
pub fn parse_statement(payload: &[u8]) -> Result<Release, StatementError> {
    if payload.len() > MAX_STATEMENT_SIZE {
        return Err(StatementError::TooLarge {
            len: payload.len(),
            max: MAX_STATEMENT_SIZE,
        });
    }
    let doc: StatementDoc =
        serde_json::from_slice(payload).map_err(|e| StatementError::Json(e.to_string()))?;
    if doc.type_.as_deref() != Some(STATEMENT_TYPE) {
        return Err(StatementError::WrongStatementType);
    }
    if doc.predicate_type.as_deref() != Some(PREDICATE_TYPE) {
        return Err(StatementError::WrongPredicateType);
    }
    let mut subjects = doc.subject.unwrap_or_default();
    let subject = match subjects.len() {
        1 => subjects.swap_remove(0),
        count => return Err(StatementError::SubjectCount { count }),
    };
    let (Some(crate_name), Some(version)) = doc
        .predicate
        .map(|p| (p.crate_name, p.version))
        .unwrap_or_default()
    else {
        return Err(StatementError::MissingPredicate);
    };
    validate_crate_name(&crate_name)?;
    validate_version(&version)?;
    let mut release = Release {
        crate_name,
        version,
        sha256: [0; 32],
    };
    if subject.name.as_deref() != Some(release.artifact_name().as_str()) {
        return Err(StatementError::SubjectNameMismatch);
    }
    let digests = subject.digest.map(|d| d.0).unwrap_or_default();
    let sha256 = digests.get("sha256").ok_or(StatementError::MissingSha256)?;
    release.sha256 = decode_lower_hex_32(sha256).ok_or(StatementError::BadSha256)?;
    Ok(release)
}

/// Decodes exactly 64 lowercase hex digits (in-toto DigestSet: "lowercase
/// hex-encoded values").
fn decode_lower_hex_32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// DSSE Pre-Authentication Encoding (DSSE `protocol.md`, "Signature
/// Definition"):
///
/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
/// where SP is one space (0x20) and LEN is the byte length in ASCII decimal
/// without leading zeros. `payload_type` is taken as its UTF-8 bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The key ID Sigil puts in a DSSE signature: the lowercase hex SHA-256 of
/// the signer's SubjectPublicKeyInfo DER (the `subjectPublicKeyInfo` of the
/// signer's certificate). DSSE treats it as an unauthenticated hint only.
pub fn key_id(public_key_spki_der: &[u8]) -> String {
    hex::encode(Sha256::digest(public_key_spki_der))
}

/// The SubjectPublicKeyInfo DER of a P-256 public key (uncompressed point,
/// named curve `prime256v1`), as a certificate for it carries.
pub fn public_key_spki_der(key: &VerifyingKey) -> Result<Vec<u8>, StatementError> {
    key.to_public_key_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| StatementError::Signing)
}

/// Normalises a P-256 public key to its 65-byte uncompressed SEC1 point
/// `04 || X || Y` (SEC 1 v2 §2.3.3), the form aws-lc-rs verifies with.
///
/// Accepts a DER SubjectPublicKeyInfo (RFC 5480: algorithm `id-ecPublicKey`
/// with named curve `prime256v1`; recognised by its first byte `0x30`) or a
/// SEC1 point, compressed (33 bytes) or uncompressed (65 bytes). The point
/// must be on the curve and not the identity.
pub fn p256_public_key_point(spki_or_sec1: &[u8]) -> Result<[u8; 65], StatementError> {
    let key = if spki_or_sec1.first() == Some(&0x30) {
        VerifyingKey::from_public_key_der(spki_or_sec1).ok()
    } else {
        VerifyingKey::from_sec1_bytes(spki_or_sec1).ok()
    }
    .ok_or(StatementError::BadPublicKey)?;
    let point = key.to_sec1_point(false);
    point
        .as_bytes()
        .try_into()
        .map_err(|_| StatementError::BadPublicKey)
}

/// Signs `message` with ECDSA P-256 / SHA-256 (deterministic nonce, RFC
/// 6979 §3.2) and returns the ASN.1 DER signature (RFC 3279 §2.2.3
/// `Ecdsa-Sig-Value`).
pub(crate) fn sign_p256_der(key: &SigningKey, message: &[u8]) -> Result<Vec<u8>, StatementError> {
    let sig: DerSignature = key.try_sign(message).map_err(|_| StatementError::Signing)?;
    Ok(sig.as_bytes().to_vec())
}

/// Verifies an ASN.1 DER ECDSA P-256 / SHA-256 signature with aws-lc-rs.
/// The key is taken in any form [`p256_public_key_point`] accepts.
pub(crate) fn verify_p256_der(
    spki_or_sec1: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), StatementError> {
    let point = p256_public_key_point(spki_or_sec1)?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
        .verify(message, signature)
        .map_err(|_| StatementError::BadSignature)
}

/// One DSSE signature (DSSE `envelope.md`: `{"keyid", "sig"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Unauthenticated key hint; Sigil writes [`key_id`] of the signer.
    /// Empty when the envelope did not set it.
    pub keyid: String,
    /// ASN.1 DER ECDSA P-256 / SHA-256 signature over
    /// [`pae`]`(payload_type, payload)`.
    pub sig: Vec<u8>,
}

/// A DSSE envelope (DSSE `envelope.md`, "Standard JSON envelope"), decoded:
/// payload and signatures are raw bytes here and base64 only in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// DSSE `payloadType`; [`PAYLOAD_TYPE`] for Sigil statements.
    pub payload_type: String,
    /// DSSE `payload`: the serialized body, here the statement JSON.
    pub payload: Vec<u8>,
    /// DSSE `signatures`, in envelope order.
    pub signatures: Vec<Signature>,
}

/// The JSON form of an envelope, for parsing; unknown fields are ignored
/// (DSSE `envelope.md`, "Parsing rules").
#[derive(Deserialize)]
struct EnvelopeDoc {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<SignatureDoc>,
}

/// The JSON form of one signature.
#[derive(Deserialize)]
struct SignatureDoc {
    #[serde(default)]
    keyid: Option<String>,
    sig: String,
}

/// Base64 decoding config: padding optional, trailing bits must be zero.
const LENIENT_PADDING: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);
/// Standard alphabet (RFC 4648 §4), padding optional.
const BASE64_STANDARD: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT_PADDING);
/// URL-safe alphabet (RFC 4648 §5), padding optional.
const BASE64_URL_SAFE: GeneralPurpose =
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT_PADDING);

/// Decodes standard or URL-safe base64 (DSSE `protocol.md`: "verifiers MUST
/// accept either"). One string may not mix the two alphabets.
fn decode_base64(s: &str, field: &'static str) -> Result<Vec<u8>, StatementError> {
    BASE64_STANDARD
        .decode(s)
        .or_else(|_| BASE64_URL_SAFE.decode(s))
        .map_err(|_| StatementError::Base64 { field })
}

impl Envelope {
    /// Creates the envelope for `release` with one signature by `key`:
    /// payload [`statement_json`], payload type [`PAYLOAD_TYPE`], keyid
    /// [`key_id`] of the key's SPKI DER. Validates `release` first.
    pub fn sign_release(release: &Release, key: &SigningKey) -> Result<Envelope, StatementError> {
        release.validate()?;
        let mut envelope = Envelope {
            payload_type: PAYLOAD_TYPE.to_owned(),
            payload: statement_json(release),
            signatures: Vec::new(),
        };
        envelope.add_signature(key)?;
        Ok(envelope)
    }

    /// Appends a signature by `key` over [`pae`]`(payload_type, payload)`
    /// (a co-signature by another maintainer; DSSE `envelope.md`, "Multiple
    /// signatures"). Refuses a key whose key ID has signed already.
    pub fn add_signature(&mut self, key: &SigningKey) -> Result<(), StatementError> {
        let keyid = key_id(&public_key_spki_der(key.verifying_key())?);
        if self.signatures.iter().any(|s| s.keyid == keyid) {
            return Err(StatementError::DuplicateSigner { keyid });
        }
        let sig = sign_p256_der(key, &pae(&self.payload_type, &self.payload))?;
        self.signatures.push(Signature { keyid, sig });
        Ok(())
    }

    /// Parses a standard DSSE JSON envelope (`payloadType`, base64
    /// `payload`, `signatures` of `{keyid, sig}`), by the limits and
    /// leniency rules in the module documentation. Does not verify
    /// anything and does not look at the payload.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, StatementError> {
        if bytes.len() > MAX_ENVELOPE_SIZE {
            return Err(StatementError::TooLarge {
                len: bytes.len(),
                max: MAX_ENVELOPE_SIZE,
            });
        }
        let doc: EnvelopeDoc =
            serde_json::from_slice(bytes).map_err(|e| StatementError::Json(e.to_string()))?;
        if doc.signatures.is_empty() {
            return Err(StatementError::NoSignatures);
        }
        let payload = decode_base64(&doc.payload, "payload")?;
        let signatures = doc
            .signatures
            .into_iter()
            .map(|s| {
                Ok(Signature {
                    keyid: s.keyid.unwrap_or_default(),
                    sig: decode_base64(&s.sig, "sig")?,
                })
            })
            .collect::<Result<Vec<_>, StatementError>>()?;
        Ok(Envelope {
            payload_type: doc.payload_type,
            payload,
            signatures,
        })
    }

    /// Writes the standard DSSE JSON envelope: compact, keys sorted
    /// (`payload`, `payloadType`, `signatures`; `keyid`, `sig`), standard
    /// padded base64, `keyid` always present.
    pub fn to_json(&self) -> Vec<u8> {
        /// The written form: members in this (sorted) order.
        #[derive(Serialize)]
        struct Written<'a> {
            payload: String,
            #[serde(rename = "payloadType")]
            payload_type: &'a str,
            signatures: Vec<WrittenSignature<'a>>,
        }
        #[derive(Serialize)]
        struct WrittenSignature<'a> {
            keyid: &'a str,
            sig: String,
        }
        let b64 = &base64::engine::general_purpose::STANDARD;
        let written = Written {
            payload: b64.encode(&self.payload),
            payload_type: &self.payload_type,
            signatures: self
                .signatures
                .iter()
                .map(|s| WrittenSignature {
                    keyid: &s.keyid,
                    sig: b64.encode(&s.sig),
                })
                .collect(),
        };
        // Strings and a list of them always serialize.
        serde_json::to_vec(&written).unwrap_or_default()
    }

    /// Verifies signature number `index` over [`pae`]`(payload_type,
    /// payload)` with aws-lc-rs (ECDSA P-256 / SHA-256, ASN.1 DER
    /// signature).
    ///
    /// The key may be the signer's SubjectPublicKeyInfo DER (as in its
    /// certificate) or its SEC1 point; see [`p256_public_key_point`]. The
    /// `keyid` is not consulted. This checks the signature only: call
    /// [`Envelope::release`] for the payload type and the statement.
    pub fn verify_signature(
        &self,
        index: usize,
        spki_or_sec1_public_key: &[u8],
    ) -> Result<(), StatementError> {
        let signature = self
            .signatures
            .get(index)
            .ok_or(StatementError::NoSuchSignature {
                index,
                count: self.signatures.len(),
            })?;
        verify_p256_der(
            spki_or_sec1_public_key,
            &pae(&self.payload_type, &self.payload),
            &signature.sig,
        )
    }

    /// The release the envelope is about: the payload type must be
    /// [`PAYLOAD_TYPE`], then [`parse_statement`] of the payload. Does not
    /// verify signatures.
    pub fn release(&self) -> Result<Release, StatementError> {
        if self.payload_type != PAYLOAD_TYPE {
            return Err(StatementError::WrongPayloadType);
        }
        parse_statement(&self.payload)
    }
}
