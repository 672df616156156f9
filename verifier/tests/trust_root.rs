//! `TrustedRoots::from_trust_root`: the CA roots of a trust root file
//! (`docs/formats.md` §4) are parsed and refused with the element's index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::{leaf_params, p256_key, pki};
use sigil_core::note::Ed25519Signer;
use sigil_core::trust_root::TrustRoot;
use sigil_verifier::{TrustedRoots, VerifyError};

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

fn trust_root(ca_roots_pem: Vec<String>) -> TrustRoot {
    TrustRoot {
        log_origin: "example.com/log".into(),
        log_key: Ed25519Signer::from_seed("example.com/log", [3; 32])
            .unwrap()
            .verifier()
            .verifier_key(),
        log_url: None,
        witnesses: vec![],
        quorum: 0,
        ca_roots_pem,
    }
}

#[test]
fn roots_of_a_trust_root_file() {
    let a = pki("A");
    let b = pki("B");
    let root = trust_root(vec![pem(&a.root.der), pem(&b.root.der)]);
    // It survives the file's round trip.
    let root = TrustRoot::parse(root.to_json().as_bytes()).unwrap();
    let roots = TrustedRoots::from_trust_root(&root).unwrap();
    assert_eq!(roots.roots_der(), &[a.root.der.clone(), b.root.der.clone()]);
}

#[test]
fn bad_roots_name_their_element() {
    let a = pki("A");
    let leaf = a.chain(&leaf_params("alice@example.com", &["hello"]), &p256_key());
    let cases: Vec<(&str, Vec<String>, usize)> = vec![
        (
            "two certificates in one element",
            vec![format!("{}{}", pem(&a.root.der), pem(&a.root.der))],
            0,
        ),
        (
            "not base64",
            vec![
                pem(&a.root.der),
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
            ],
            1,
        ),
        ("not a certificate", vec![pem(b"hello world, not DER")], 0),
        ("a leaf, not a CA", vec![pem(&leaf[0])], 0),
        ("no PEM block", vec!["MIIB".into()], 0),
    ];
    for (what, pems, index) in cases {
        let err = TrustedRoots::from_trust_root(&trust_root(pems)).expect_err(what);
        assert!(
            matches!(err, VerifyError::BadTrustRoot { index: i, .. } if i == index),
            "{what}: {err:?}"
        );
        assert_eq!(err.code(), "bad_trust_root");
    }
    let err = TrustedRoots::from_trust_root(&trust_root(vec![])).unwrap_err();
    assert_eq!(err.code(), "bad_trust_root");
}
