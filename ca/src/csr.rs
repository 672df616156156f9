//! Enrollment requests: a PKCS#10 certification request (RFC 2986 §4)
//! whose signature proves that the maintainer holds the private key of the
//! public key it carries.
//!
//! Input is PEM (RFC 7468 §7 `CERTIFICATE REQUEST`, or the older `NEW
//! CERTIFICATE REQUEST` that some tools still write) or DER, at most
//! [`MAX_CSR_LEN`] bytes. [`check_csr`] accepts it only if:
//!
//! 1. it is exactly one DER `CertificationRequest` (RFC 2986 §4.2), version
//!    0 (§4.1), with nothing after it, in the one DER encoding (X.690 §10);
//! 2. its `subjectPKInfo` is an ECDSA P-256 key: algorithm `id-ecPublicKey`
//!    (1.2.840.10045.2.1) with named curve `prime256v1` (1.2.840.10045.3.1.7)
//!    and an uncompressed point, 65 bytes starting `0x04` (RFC 5480 §2.1.1,
//!    §2.2);
//! 3. its `signatureAlgorithm` is `ecdsa-with-SHA256` (1.2.840.10045.4.3.2)
//!    with absent parameters (RFC 5758 §3.2);
//! 4. the signature over `certificationRequestInfo` verifies with that key
//!    (RFC 2986 §3 step 3: proof of possession).
//!
//! The subject name and the requested attributes and extensions are
//! **ignored by design**: the identity and crate scope of the certificate
//! come from the invitation the CA issued, never from the request. Only the
//! public key is taken, as [`CheckedCsr::spki_der`].
//!
//! Make one with `openssl req -new -key key.pem -subj /CN=x -out req.pem`
//! (with a P-256 key) or rcgen's `CertificateParams::serialize_request`.
//!
//! Cost: one parse and one ECDSA P-256 verification (aws-lc-rs).

use sigil_core::statement::p256_public_key_point;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ECDSA_WITH_SHA256,
};
use x509_parser::prelude::FromDer as _;

use pkcs8::der::pem;

/// The largest request [`check_csr`] reads, PEM or DER, in bytes. A P-256
/// request is about 250 bytes of DER; the margin leaves room for a long
/// subject or extensions, which are ignored anyway.
pub const MAX_CSR_LEN: usize = 16 * 1024;

/// RFC 7468 §7 label.
const LABEL: &str = "CERTIFICATE REQUEST";
/// The label of Netscape-era tools, still accepted (RFC 7468 §7 notes it).
const LABEL_NEW: &str = "NEW CERTIFICATE REQUEST";

/// Why an enrollment request was refused. Each message says what to fix;
/// [`CsrError::code`] gives a stable machine string for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrError {
    /// The request is larger than [`MAX_CSR_LEN`].
    #[error("the certification request is {len} bytes; the limit is {MAX_CSR_LEN}")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// The input is neither a PEM `CERTIFICATE REQUEST` block nor a DER
    /// PKCS#10 `CertificationRequest` (RFC 2986 §4.2).
    #[error(
        "not a PKCS#10 certification request ({reason}); send the PEM \"CERTIFICATE REQUEST\" or DER that `openssl req -new` writes"
    )]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// Bytes follow the DER `CertificationRequest`.
    #[error("{len} bytes follow the certification request; send exactly one request")]
    TrailingData {
        /// How many bytes follow.
        len: usize,
    },
    /// The request's key is not an ECDSA P-256 key with an uncompressed
    /// point.
    #[error(
        "only ECDSA P-256 keys are accepted; make one with `sigil keygen` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`"
    )]
    WrongKeyType,
    /// The request is not signed with ECDSA and SHA-256.
    #[error("the certification request must be signed with ecdsa-with-SHA256 (got {algorithm})")]
    WrongSignatureAlgorithm {
        /// The signature algorithm OID found.
        algorithm: String,
    },
    /// The signature does not verify with the request's key: no proof of
    /// possession.
    #[error("the CSR signature does not verify: it must be signed by the key it contains")]
    BadSignature,
}

impl CsrError {
    /// A stable machine-readable code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            CsrError::TooLarge { .. } => "csr_too_large",
            CsrError::Malformed { .. } => "malformed_csr",
            CsrError::TrailingData { .. } => "csr_trailing_data",
            CsrError::WrongKeyType => "wrong_key_type",
            CsrError::WrongSignatureAlgorithm { .. } => "wrong_signature_algorithm",
            CsrError::BadSignature => "bad_csr_signature",
        }
    }
}

/// A request that passed [`check_csr`]: the maintainer holds the private
/// key of [`CheckedCsr::spki_der`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCsr {
    spki_der: Vec<u8>,
}

impl CheckedCsr {
    /// The SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7), byte for byte as
    /// in the request: an ECDSA P-256 key that
    /// [`sigil_core::statement::p256_public_key_point`] accepts.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// [`CheckedCsr::spki_der`], by value.
    pub fn into_spki_der(self) -> Vec<u8> {
        self.spki_der
    }
}

fn malformed(reason: impl ToString) -> CsrError {
    CsrError::Malformed {
        reason: reason.to_string(),
    }
}

/// The request's DER: the body of a PEM block if the input starts with
/// `-----BEGIN ` (after white space), else the input itself.
fn request_der(input: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, CsrError> {
    let text = input.trim_ascii();
    if !text.starts_with(b"-----BEGIN ") {
        return Ok(std::borrow::Cow::Borrowed(input));
    }
    let (label, der) = pem::decode_vec(text).map_err(|e| malformed(format!("PEM: {e}")))?;
    if label != LABEL && label != LABEL_NEW {
        return Err(malformed(format!(
            "a PEM \"{label}\" block, not \"{LABEL}\""
        )));
    }
    Ok(std::borrow::Cow::Owned(der))
}

/// `AlgorithmIdentifier { ecdsa-with-SHA256 }` in DER, parameters absent
/// (RFC 5758 §3.2).
const ECDSA_WITH_SHA256_DER: [u8; 12] = [
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

/// A DER tag and definite length (X.690 §8.1.3, §10.1: the shortest form).
fn push_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    let be = len.to_be_bytes();
    let significant = &be[be.iter().take_while(|&&b| b == 0).count()..];
    match significant {
        [] => out.push(0),
        [short] if *short < 0x80 => out.push(*short),
        long => {
            // At most size_of::<usize>() = 8 octets.
            out.push(0x80 | long.len() as u8);
            out.extend_from_slice(long);
        }
    }
}

/// The DER `CertificationRequest` (RFC 2986 §4.2) with this signed part
/// and an ecdsa-with-SHA256 signature, the only encoding [`check_csr`]
/// accepts.
fn canonical_request(info_der: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(info_der.len() + signature.len() + 20);
    body.extend_from_slice(info_der);
    body.extend_from_slice(&ECDSA_WITH_SHA256_DER);
    // BIT STRING with zero unused bits (X.690 §8.6.2).
    push_header(&mut body, 0x03, signature.len() + 1);
    body.push(0);
    body.extend_from_slice(signature);
    let mut out = Vec::with_capacity(body.len() + 4);
    push_header(&mut out, 0x30, body.len());
    out.extend_from_slice(&body);
    out
}

/// Parses and checks an enrollment request (the rules are in the module
/// documentation), returning its public key.
pub fn check_csr(input: &[u8]) -> Result<CheckedCsr, CsrError> {
    if input.len() > MAX_CSR_LEN {
        return Err(CsrError::TooLarge { len: input.len() });
    }
    let der = request_der(input)?;
    let (rest, csr) = X509CertificationRequest::from_der(&der).map_err(malformed)?;
    if !rest.is_empty() {
        return Err(CsrError::TrailingData { len: rest.len() });
    }
    let info = &csr.certification_request_info;
    if info.version.0 != 0 {
        return Err(malformed(format!(
            "version {} (RFC 2986 §4.1 requires 0)",
            info.version.0
        )));
    }

    let spki = &info.subject_pki;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    let point = &spki.subject_public_key;
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY
        || curve != Some(OID_EC_P256)
        || point.unused_bits != 0
        || point.data.len() != 65
        || point.data.first() != Some(&0x04)
    {
        return Err(CsrError::WrongKeyType);
    }

    let sig_alg = &csr.signature_algorithm;
    if sig_alg.algorithm != OID_SIG_ECDSA_WITH_SHA256 || sig_alg.parameters.is_some() {
        return Err(CsrError::WrongSignatureAlgorithm {
            algorithm: match &sig_alg.parameters {
                None => sig_alg.algorithm.to_id_string(),
                Some(_) => format!("{} with parameters", sig_alg.algorithm.to_id_string()),
            },
        });
    }
    // x509-parser does not check the tags around the signed part; the
    // only DER encoding of the rest is fixed, so compare with it.
    if canonical_request(info.raw, &csr.signature_value.data) != *der {
        return Err(malformed(
            "not DER (X.690 §10): the framing around the signed part",
        ));
    }
    csr.verify_signature().map_err(|_| CsrError::BadSignature)?;

    // The point verified a signature, so it is on the curve; this is the
    // parser every later use of the key goes through.
    p256_public_key_point(spki.raw).map_err(|_| CsrError::WrongKeyType)?;
    Ok(CheckedCsr {
        spki_der: spki.raw.to_vec(),
    })
}
