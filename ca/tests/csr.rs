//! Enrollment requests (`sigil_ca::csr`, RFC 2986): what is accepted, each
//! refusal, and that no input panics. OpenSSL-made requests are tested
//! when `openssl` is on PATH.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::process::Command;

use pkcs8::LineEnding;
use pkcs8::der::pem;
use proptest::prelude::*;
use rcgen::{
    CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
    PublicKeyData as _, SignatureAlgorithm,
};
use sigil_ca::csr::{CheckedCsr, CsrError, MAX_CSR_LEN, check_csr};
use sigil_core::statement::p256_public_key_point;

const SUBJECT: &str = "sigil-enrollment-test";

/// A request for `key` with common name [`SUBJECT`], DER.
fn request(key: &KeyPair) -> Vec<u8> {
    let params = CertificateParams::new(vec![SUBJECT.to_string()]).unwrap();
    params.serialize_request(key).unwrap().der().to_vec()
}

fn key(alg: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(alg).unwrap()
}

fn pem_of(label: &str, der: &[u8]) -> String {
    pem::encode_string(label, LineEnding::LF, der).unwrap()
}

fn assert_accepted(checked: &CheckedCsr, key: &KeyPair) {
    assert_eq!(checked.spki_der(), key.subject_public_key_info().as_slice());
    let point = p256_public_key_point(checked.spki_der()).unwrap();
    assert_eq!(point.as_slice(), key.der_bytes());
}

#[test]
fn rcgen_request_is_accepted_as_der_and_pem() {
    let key = key(&PKCS_ECDSA_P256_SHA256);
    let der = request(&key);
    assert_accepted(&check_csr(&der).unwrap(), &key);

    let params = CertificateParams::new(vec![SUBJECT.to_string()]).unwrap();
    let rcgen_pem = params.serialize_request(&key).unwrap().pem().unwrap();
    assert!(rcgen_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_accepted(&check_csr(rcgen_pem.as_bytes()).unwrap(), &key);

    let variants = [
        pem_of("CERTIFICATE REQUEST", &der),
        pem_of("NEW CERTIFICATE REQUEST", &der),
        pem::encode_string("CERTIFICATE REQUEST", LineEnding::CRLF, &der).unwrap(),
        format!("\n  {}\n\n", pem_of("CERTIFICATE REQUEST", &der)),
    ];
    for text in variants {
        let checked = check_csr(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_accepted(&checked, &key);
        assert_eq!(checked.clone().into_spki_der(), checked.spki_der());
    }
}

#[test]
fn subject_and_extensions_do_not_matter() {
    let key = key(&PKCS_ECDSA_P256_SHA256);
    let mut params =
        CertificateParams::new(vec!["evil.example".to_string(), "*.crates.io".to_string()])
            .unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let der = params.serialize_request(&key).unwrap().der().to_vec();
    assert_accepted(&check_csr(&der).unwrap(), &key);
}

#[test]
fn other_key_types_are_refused() {
    for (name, alg) in [
        ("p384", &PKCS_ECDSA_P384_SHA384),
        ("ed25519", &PKCS_ED25519),
    ] {
        let der = request(&key(alg));
        let e = check_csr(&der).unwrap_err();
        assert_eq!(e, CsrError::WrongKeyType, "{name}");
        assert_eq!(e.code(), "wrong_key_type");
        assert!(e.to_string().contains("sigil keygen"), "{e}");
        assert!(e.to_string().contains("ec_paramgen_curve:P-256"), "{e}");
    }
}

/// The offset of the last occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .rposition(|w| w == needle)
        .unwrap()
}

#[test]
fn mis_signed_requests_are_refused() {
    let key = key(&PKCS_ECDSA_P256_SHA256);
    let der = request(&key);

    // The last byte is the signature's `s`.
    let mut bad_signature = der.clone();
    *bad_signature.last_mut().unwrap() ^= 0x01;
    // A byte of the subject, which the signature covers.
    let mut bad_subject = der.clone();
    bad_subject[find(&der, SUBJECT.as_bytes())] ^= 0x01;
    // A byte of the public key (its last coordinate byte): another point,
    // almost surely not on the curve; either way the signature fails.
    let mut bad_key = der.clone();
    bad_key[find(&der, &key.der_bytes()[60..])] ^= 0x01;

    for (name, input) in [
        ("signature", bad_signature),
        ("subject", bad_subject),
        ("key", bad_key),
    ] {
        let e = check_csr(&input).unwrap_err();
        assert_eq!(e, CsrError::BadSignature, "{name}");
        assert_eq!(e.code(), "bad_csr_signature");
        assert_eq!(
            e.to_string(),
            "the CSR signature does not verify: it must be signed by the key it contains"
        );
    }

    // Another key's signature over the same request body.
    let other = request(&self::key(&PKCS_ECDSA_P256_SHA256));
    let sig_alg = [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    let mut spliced = der[..find(&der, &sig_alg)].to_vec();
    spliced.extend_from_slice(&other[find(&other, &sig_alg)..]);
    // Fix the outer SEQUENCE length (0x30 0x82 HI LO for these sizes).
    assert_eq!(spliced[..2], [0x30, 0x82]);
    let len = u16::try_from(spliced.len() - 4).unwrap().to_be_bytes();
    spliced[2..4].copy_from_slice(&len);
    assert_eq!(check_csr(&spliced).unwrap_err(), CsrError::BadSignature);
}

/// A P-256 key that puts its point in the request compressed (SEC 1 v2
/// §2.3.3), and signs with the real key.
struct CompressedPoint {
    key: KeyPair,
    compressed: Vec<u8>,
}

impl rcgen::PublicKeyData for CompressedPoint {
    fn der_bytes(&self) -> &[u8] {
        &self.compressed
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for CompressedPoint {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key.sign(msg)
    }
}

#[test]
fn compressed_points_are_refused() {
    let key = key(&PKCS_ECDSA_P256_SHA256);
    let compressed = p256::ecdsa::VerifyingKey::from_sec1_bytes(key.der_bytes())
        .unwrap()
        .to_sec1_point(true)
        .as_bytes()
        .to_vec();
    assert_eq!(compressed.len(), 33);
    let signer = CompressedPoint { key, compressed };
    let params = CertificateParams::new(vec![SUBJECT.to_string()]).unwrap();
    let der = params.serialize_request(&signer).unwrap().der().to_vec();
    assert_eq!(check_csr(&der).unwrap_err(), CsrError::WrongKeyType);
}

#[test]
fn framing_errors() {
    let key = key(&PKCS_ECDSA_P256_SHA256);
    let der = request(&key);
    let mut trailing = der.clone();
    trailing.extend_from_slice(&[0, 0]);
    assert_eq!(
        check_csr(&trailing).unwrap_err(),
        CsrError::TrailingData { len: 2 }
    );
    assert_eq!(
        check_csr(&trailing).unwrap_err().code(),
        "csr_trailing_data"
    );
    assert_eq!(
        check_csr(pem_of("CERTIFICATE REQUEST", &trailing).as_bytes()).unwrap_err(),
        CsrError::TrailingData { len: 2 }
    );

    let too_large = vec![0x30; MAX_CSR_LEN + 1];
    let e = check_csr(&too_large).unwrap_err();
    assert_eq!(
        e,
        CsrError::TooLarge {
            len: MAX_CSR_LEN + 1
        }
    );
    assert_eq!(e.code(), "csr_too_large");

    // x509-parser alone would take a primitive outer tag (0x10) and any
    // tag on the signature algorithm's OID.
    let mut primitive = der.clone();
    primitive[0] = 0x10;
    let mut oid_tag = der.clone();
    let at = find(
        &der,
        &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
    );
    oid_tag[at] = 0x04;

    type Row = (&'static str, Vec<u8>);
    let malformed: Vec<Row> = vec![
        ("empty", vec![]),
        ("primitive outer tag", primitive),
        ("signature OID tag", oid_tag),
        ("limit", vec![0x30; MAX_CSR_LEN]),
        ("text", b"hello".to_vec()),
        ("whitespace", b"  \n".to_vec()),
        (
            "certificate label",
            pem_of("CERTIFICATE", &der).into_bytes(),
        ),
        (
            "two blocks",
            [
                pem_of("CERTIFICATE REQUEST", &der),
                pem_of("CERTIFICATE REQUEST", &der),
            ]
            .concat()
            .into_bytes(),
        ),
        (
            "text after the block",
            format!("{}junk\n", pem_of("CERTIFICATE REQUEST", &der)).into_bytes(),
        ),
        (
            "pem without end",
            b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n".to_vec(),
        ),
        ("certificate der", {
            let cert = CertificateParams::new(vec![SUBJECT.to_string()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            cert.der().to_vec()
        }),
    ];
    for (name, input) in malformed {
        let e = check_csr(&input).unwrap_err();
        assert!(matches!(e, CsrError::Malformed { .. }), "{name}: {e:?}");
        assert_eq!(e.code(), "malformed_csr");
    }
}

#[test]
fn truncations_never_pass_or_panic() {
    let der = request(&key(&PKCS_ECDSA_P256_SHA256));
    let text = pem_of("CERTIFICATE REQUEST", &der);
    for len in 0..der.len() {
        assert!(check_csr(&der[..len]).is_err(), "der len {len}");
    }
    for len in 0..text.len() {
        // Dropping the final newline leaves a complete block.
        let result = check_csr(&text.as_bytes()[..len]);
        assert!(result.is_err() || len + 1 == text.len(), "pem len {len}");
    }
}

#[test]
fn every_bit_flip_is_refused_without_panic() {
    let der = request(&key(&PKCS_ECDSA_P256_SHA256));
    let mut accepted = Vec::new();
    for i in 0..der.len() {
        for bit in 0..8 {
            let mut flipped = der.clone();
            flipped[i] ^= 1 << bit;
            // A flip never passes, whether it breaks the encoding, the
            // signature or the key.
            if check_csr(&flipped).is_ok() {
                accepted.push((i, bit, der[i]));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "accepted (byte, bit, original): {accepted:?}\n{}",
        hex::encode(&der)
    );
}

#[test]
fn error_codes_are_stable() {
    let rows: &[(CsrError, &str)] = &[
        (CsrError::TooLarge { len: 1 }, "csr_too_large"),
        (
            CsrError::Malformed {
                reason: String::new(),
            },
            "malformed_csr",
        ),
        (CsrError::TrailingData { len: 1 }, "csr_trailing_data"),
        (CsrError::WrongKeyType, "wrong_key_type"),
        (
            CsrError::WrongSignatureAlgorithm {
                algorithm: String::new(),
            },
            "wrong_signature_algorithm",
        ),
        (CsrError::BadSignature, "bad_csr_signature"),
    ];
    for (e, code) in rows {
        assert_eq!(e.code(), *code, "{e:?}");
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = check_csr(&bytes);
    }

    #[test]
    fn random_pem_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = check_csr(pem_of("CERTIFICATE REQUEST", &bytes).as_bytes());
    }

    #[test]
    fn mutated_requests_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut der = valid_request().to_vec();
        for (at, byte) in edits {
            let i = at.index(der.len());
            der[i] = byte;
        }
        let len = cut.index(der.len() + 1);
        let _ = check_csr(&der[..len]);
    }
}

/// One valid request, made once for the property tests.
fn valid_request() -> &'static [u8] {
    static REQUEST: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    REQUEST.get_or_init(|| request(&key(&PKCS_ECDSA_P256_SHA256)))
}

// OpenSSL-made requests. Skipped (with a note) when `openssl` is absent.

fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl not on PATH; skipping");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openssl_requests() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let read = |name: &str| fs::read(d.join(name)).unwrap();

    // A P-256 key and its request, PEM and DER.
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "k.pem",
        ],
    );
    openssl(
        d,
        &[
            "req", "-new", "-key", "k.pem", "-subj", "/CN=x", "-out", "req.pem",
        ],
    );
    openssl(
        d,
        &[
            "req", "-in", "req.pem", "-outform", "DER", "-out", "req.der",
        ],
    );
    openssl(
        d,
        &[
            "pkey", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "pub.der",
        ],
    );
    let spki = read("pub.der");
    for name in ["req.pem", "req.der"] {
        let checked = check_csr(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(checked.spki_der(), spki.as_slice(), "{name}");
    }

    // The same key signing with SHA-384.
    openssl(
        d,
        &[
            "req",
            "-new",
            "-key",
            "k.pem",
            "-subj",
            "/CN=x",
            "-sha384",
            "-out",
            "sha384.pem",
        ],
    );
    let e = check_csr(&read("sha384.pem")).unwrap_err();
    assert!(
        matches!(&e, CsrError::WrongSignatureAlgorithm { algorithm } if algorithm == "1.2.840.10045.4.3.3"),
        "{e:?}"
    );
    assert_eq!(e.code(), "wrong_signature_algorithm");

    // RSA and P-384 keys.
    openssl(
        d,
        &[
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-subj", "/CN=x",
            "-out", "rsa.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            "p384.key",
            "-subj",
            "/CN=x",
            "-out",
            "p384.pem",
        ],
    );
    for name in ["rsa.pem", "p384.pem"] {
        assert_eq!(
            check_csr(&read(name)).unwrap_err(),
            CsrError::WrongKeyType,
            "{name}"
        );
    }
}
