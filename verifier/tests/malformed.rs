//! Certificates the real CA would never issue, minted with rcgen directly:
//! each is refused with a typed error whose `code()` names the problem, and
//! nothing panics, on these or on random and mutated input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Ca, DAY, NOW, TestPki, intermediate_params, issued_ca, leaf_params, p256_key, pki, root_params,
    scope_extension, self_signed_root,
};
use proptest::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P384_SHA384, PKCS_ED25519, PKCS_RSA_SHA256, RsaKeySize, SanType,
};
use sigil_core::certificate::SCOPE_EXTENSION_OID_ARCS;
use sigil_verifier::x509::Certificate;
use sigil_verifier::{TrustedRoots, VerifyError, verify_chain};

/// A leaf like the good one, changed by `edit`, issued by the intermediate.
fn leaf_with(p: &TestPki, edit: impl FnOnce(&mut CertificateParams)) -> Vec<Vec<u8>> {
    let mut params = leaf_params("alice@example.com", &["hello"]);
    edit(&mut params);
    p.chain(&params, &p256_key())
}

/// A chain whose intermediate is like the good one, changed by `edit`.
fn intermediate_with(
    p: &TestPki,
    key: KeyPair,
    edit: impl FnOnce(&mut CertificateParams),
) -> Vec<Vec<u8>> {
    let mut params = intermediate_params("Odd Intermediate");
    edit(&mut params);
    let inter = issued_ca(&p.root, params, key);
    vec![
        inter.sign(&leaf_params("alice@example.com", &["hello"]), &p256_key()),
        inter.der.clone(),
    ]
}

fn scope_raw(content: Vec<u8>, critical: bool) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(&SCOPE_EXTENSION_OID_ARCS, content);
    ext.set_criticality(critical);
    ext
}

/// Every row: what is wrong, the chain, and the code it must be refused
/// with.
fn cases(p: &TestPki) -> Vec<(&'static str, Vec<Vec<u8>>, &'static str)> {
    let good = leaf_with(p, |_| {});
    let mut cases = vec![
        ("empty chain", vec![], "empty_chain"),
        (
            "garbage DER",
            vec![b"not a certificate".to_vec()],
            "malformed_certificate",
        ),
        ("empty certificate", vec![vec![]], "malformed_certificate"),
        (
            "leaf cut short",
            vec![good[0][..good[0].len() - 1].to_vec(), good[1].clone()],
            "malformed_certificate",
        ),
        (
            "byte after the leaf",
            vec![[good[0].as_slice(), &[0]].concat(), good[1].clone()],
            "malformed_certificate",
        ),
        (
            "garbage intermediate",
            vec![good[0].clone(), vec![0x30, 0x00]],
            "malformed_certificate",
        ),
        (
            "no EKU",
            leaf_with(p, |l| l.extended_key_usages.clear()),
            "wrong_key_usage",
        ),
        (
            "wrong EKU (serverAuth)",
            leaf_with(p, |l| {
                l.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
            }),
            "wrong_key_usage",
        ),
        (
            "no keyUsage",
            leaf_with(p, |l| l.key_usages.clear()),
            "wrong_key_usage",
        ),
        (
            "keyUsage without digitalSignature",
            leaf_with(p, |l| l.key_usages = vec![KeyUsagePurpose::KeyAgreement]),
            "wrong_key_usage",
        ),
        (
            "keyUsage with keyCertSign",
            leaf_with(p, |l| {
                l.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyCertSign,
                ]
            }),
            "wrong_key_usage",
        ),
        (
            "CA:true leaf",
            leaf_with(p, |l| l.is_ca = IsCa::Ca(BasicConstraints::Unconstrained)),
            "wrong_key_usage",
        ),
        (
            "no scope extension",
            leaf_with(p, |l| l.custom_extensions.clear()),
            "missing_scope",
        ),
        (
            "scope extension marked critical",
            leaf_with(p, |l| {
                l.custom_extensions = vec![scope_raw(
                    sigil_core::certificate::encode_scope(&["hello".into()]).unwrap(),
                    true,
                )]
            }),
            "unsupported_critical_extension",
        ),
        (
            "empty scope",
            leaf_with(p, |l| {
                l.custom_extensions = vec![scope_raw(vec![0x30, 0x00], false)]
            }),
            "malformed_scope",
        ),
        (
            "scope of IA5Strings",
            leaf_with(p, |l| {
                l.custom_extensions = vec![scope_raw(b"\x30\x07\x16\x05hello".to_vec(), false)]
            }),
            "malformed_scope",
        ),
        (
            "scope names a crate twice",
            leaf_with(p, |l| {
                l.custom_extensions = vec![scope_raw(
                    b"\x30\x0e\x0c\x05hello\x0c\x05Hello".to_vec(),
                    false,
                )]
            }),
            "malformed_scope",
        ),
        (
            "scope extension twice",
            leaf_with(p, |l| {
                l.custom_extensions = vec![scope_extension(&["hello"]), scope_extension(&["b"])]
            }),
            "malformed_certificate",
        ),
        (
            "unknown critical extension",
            leaf_with(p, |l| {
                let mut ext =
                    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 1, 1], vec![0x05, 0x00]);
                ext.set_criticality(true);
                l.custom_extensions.push(ext);
            }),
            "unsupported_critical_extension",
        ),
        (
            "no subjectAltName",
            leaf_with(p, |l| {
                l.subject_alt_names.clear();
                l.distinguished_name
                    .push(rcgen::DnType::CommonName, "alice");
            }),
            "bad_identity",
        ),
        (
            "two identities",
            leaf_with(p, |l| {
                l.subject_alt_names
                    .push(SanType::Rfc822Name("bob@example.com".try_into().unwrap()))
            }),
            "bad_identity",
        ),
        (
            "DNS name identity",
            leaf_with(p, |l| {
                l.subject_alt_names = vec![SanType::DnsName("example.com".try_into().unwrap())]
            }),
            "bad_identity",
        ),
        (
            "email address written as a URI",
            leaf_with(p, |l| {
                l.subject_alt_names = vec![SanType::URI("alice@example.com".try_into().unwrap())]
            }),
            "bad_identity",
        ),
        (
            "invalid email address",
            leaf_with(p, |l| {
                l.subject_alt_names = vec![SanType::Rfc822Name(
                    "alice@@example.com".try_into().unwrap(),
                )]
            }),
            "bad_identity",
        ),
        (
            "leaf alone, self-signed",
            {
                let key = p256_key();
                let params = leaf_params("alice@example.com", &["hello"]);
                let ca = Ca {
                    params: params.clone(),
                    key,
                    der: vec![],
                };
                vec![ca.sign(&params, &ca.key)]
            },
            "untrusted_chain",
        ),
        (
            "leaf expired long ago",
            leaf_with(p, |l| {
                l.not_before = common::time(NOW - 30 * DAY);
                l.not_after = common::time(NOW - 20 * DAY);
            }),
            "expired",
        ),
        (
            "intermediate without codeSigning",
            intermediate_with(p, p256_key(), |i| i.extended_key_usages.clear()),
            "wrong_key_usage",
        ),
        (
            "intermediate without keyCertSign",
            intermediate_with(p, p256_key(), |i| {
                i.key_usages = vec![KeyUsagePurpose::DigitalSignature]
            }),
            "wrong_key_usage",
        ),
        (
            "intermediate that is not a CA",
            intermediate_with(p, p256_key(), |i| {
                i.is_ca = IsCa::NoCa;
                i.key_usages.clear();
            }),
            "wrong_key_usage",
        ),
        (
            "intermediate with a P-384 key signs with ECDSA-SHA384",
            intermediate_with(
                p,
                KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap(),
                |_| {},
            ),
            "unsupported_signature_algorithm",
        ),
        (
            "leaf under a second intermediate (pathLen 0)",
            {
                let sub = issued_ca(&p.intermediate, intermediate_params("Sub CA"), p256_key());
                vec![
                    sub.sign(&leaf_params("alice@example.com", &["hello"]), &p256_key()),
                    sub.der.clone(),
                    p.intermediate.der.clone(),
                ]
            },
            "untrusted_chain",
        ),
    ];
    for (what, alg) in [
        ("P-384 leaf key", &PKCS_ECDSA_P384_SHA384),
        ("Ed25519 leaf key", &PKCS_ED25519),
    ] {
        let key = KeyPair::generate_for(alg).unwrap();
        cases.push((
            what,
            p.chain(&leaf_params("alice@example.com", &["hello"]), &key),
            "unsupported_key",
        ));
    }
    let rsa = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
    cases.push((
        "RSA leaf key",
        p.chain(&leaf_params("alice@example.com", &["hello"]), &rsa),
        "unsupported_key",
    ));
    cases
}

#[test]
fn malformed_certificates_are_refused_with_their_code() {
    let p = pki("Sigil Test");
    // The unmodified leaf passes, so each row fails for its own reason.
    let good = leaf_with(&p, |_| {});
    let signer = verify_chain(&good, &p.roots, NOW, None).unwrap();
    assert_eq!(signer.crates, ["hello"]);
    assert_eq!(signer.identity, "alice@example.com");

    let mut failures = Vec::new();
    for (what, chain, code) in cases(&p) {
        match verify_chain(&chain, &p.roots, NOW, None) {
            Ok(_) => failures.push(format!("{what}: accepted, expected {code}")),
            Err(e) if e.code() != code => {
                failures.push(format!("{what}: got {} ({e}), expected {code}", e.code()))
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn errors_name_the_certificate() {
    let p = pki("Sigil Test");
    let good = leaf_with(&p, |_| {});
    let err = verify_chain(&[good[0].clone(), b"junk".to_vec()], &p.roots, NOW, None).unwrap_err();
    assert!(
        matches!(err, VerifyError::MalformedCertificate { index: 1, .. }),
        "{err:?}"
    );
    let rsa = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
    let err = verify_chain(
        &p.chain(&leaf_params("alice@example.com", &["hello"]), &rsa),
        &p.roots,
        NOW,
        None,
    )
    .unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnsupportedKey {
            index: 0,
            algorithm: "RSA"
        }
    );
}

#[test]
fn trust_roots() {
    let p = pki("Sigil Test");
    let other = pki("Other");
    let pem = format!(
        "comment\n{}\n{}",
        pem_of(&p.root.der),
        pem_of(&other.root.der)
    );
    let roots = TrustedRoots::from_pem(pem.as_bytes()).unwrap();
    assert_eq!(
        roots.roots_der(),
        &[p.root.der.clone(), other.root.der.clone()]
    );
    verify_chain(&leaf_with(&p, |_| {}), &roots, NOW, None).unwrap();
    verify_chain(&leaf_with(&other, |_| {}), &roots, NOW, None).unwrap();

    let bad = |r: Result<TrustedRoots, VerifyError>| r.unwrap_err().code();
    assert_eq!(
        bad(TrustedRoots::from_pem(b"no pem here")),
        "bad_trust_root"
    );
    assert_eq!(bad(TrustedRoots::from_der(vec![])), "bad_trust_root");
    assert_eq!(
        bad(TrustedRoots::from_der(vec![b"junk".to_vec()])),
        "bad_trust_root"
    );
    assert_eq!(
        bad(TrustedRoots::from_pem(
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
        )),
        "bad_trust_root"
    );
    // A leaf is not a root.
    let leaf = leaf_with(&p, |_| {}).remove(0);
    assert_eq!(bad(TrustedRoots::from_der(vec![leaf])), "bad_trust_root");
    // Roots are P-256.
    let p384 = self_signed_root(
        root_params("P-384 Root"),
        KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap(),
    );
    assert_eq!(
        bad(TrustedRoots::from_der(vec![p384.der])),
        "bad_trust_root"
    );
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
        lines.join("\n")
    )
}

/// A valid chain, built once for the property tests.
fn fixture() -> &'static (TestPki, Vec<Vec<u8>>) {
    static FIXTURE: std::sync::OnceLock<(TestPki, Vec<Vec<u8>>)> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        let p = pki("Sigil Fuzz");
        let chain = leaf_with(&p, |_| {});
        (p, chain)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random bytes as a certificate: an error, never a panic.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let (p, chain) = fixture();
        prop_assert!(verify_chain(std::slice::from_ref(&bytes), &p.roots, NOW, None).is_err());
        prop_assert!(verify_chain(&[chain[0].clone(), bytes.clone()], &p.roots, NOW, None).is_err());
        let _ = std::hint::black_box(Certificate::parse(&bytes));
        let _ = std::hint::black_box(TrustedRoots::from_der(vec![bytes.clone()]));
        let _ = std::hint::black_box(TrustedRoots::from_pem(&bytes));
    }

    /// One byte of a valid leaf or intermediate changed: refused (every
    /// byte is signed or frames what is signed), never a panic.
    #[test]
    fn mutated_certificates_are_refused(
        which in 0usize..2,
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let (p, chain) = fixture();
        let mut chain = chain.clone();
        let i = at.index(chain[which].len());
        chain[which][i] ^= xor;
        prop_assert!(verify_chain(&chain, &p.roots, NOW, None).is_err());
    }

    /// Valid certificates cut anywhere: refused, never a panic.
    #[test]
    fn truncated_certificates_are_refused(at in any::<prop::sample::Index>()) {
        let (p, chain) = fixture();
        let cut = at.index(chain[0].len());
        let chain = vec![chain[0][..cut].to_vec(), chain[1].clone()];
        prop_assert!(verify_chain(&chain, &p.roots, NOW, None).is_err());
    }
}
