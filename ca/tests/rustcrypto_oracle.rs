//! Issue #11, "certificates every parser can read": RustCrypto's X.509
//! parser (`x509-cert`, whose `const-oid` refuses OID arcs beyond what fits
//! in its encoding, as the old `2.25` UUID arc did) reads the root, the
//! intermediate and a leaf Sigil's CA issues, and finds the scope
//! extension under `SCOPE_EXTENSION_OID` with the bytes Sigil's own
//! decoder reads. pkilint is the other oracle (`external_tools.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use p256::ecdsa::SigningKey;
use sigil_ca::issue::{issue_leaf, new_intermediate, new_root, random_serial};
use sigil_core::certificate::{SCOPE_EXTENSION_OID, decode_scope};
use sigil_core::statement::public_key_spki_der;
use x509_cert::der::{Decode as _, Encode as _};

/// 2026-01-01T00:00:00Z, Unix ms.
const NOW: u64 = 1_767_225_600_000;
const DAY: u64 = 86_400_000;

#[test]
fn rustcrypto_reads_every_certificate_sigil_issues() {
    let root = new_root("Oracle Root", NOW - DAY, Duration::from_secs(3650 * 86_400)).unwrap();
    let intermediate = new_intermediate(
        &root,
        "Oracle Intermediate",
        NOW - DAY,
        Duration::from_secs(1000 * 86_400),
    )
    .unwrap();
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let spki = public_key_spki_der(key.verifying_key()).unwrap();
    let serial = random_serial().unwrap();
    let leaf = issue_leaf(
        &intermediate,
        &spki,
        "alice@example.org",
        &["hello".to_string(), "hello-macros".to_string()],
        NOW - DAY,
        NOW + DAY,
        Some(&serial),
    )
    .unwrap();

    let oid = x509_cert::der::asn1::ObjectIdentifier::new(SCOPE_EXTENSION_OID).unwrap();
    for (what, der) in [
        ("root", root.certificate_der()),
        ("intermediate", intermediate.certificate_der()),
    ] {
        let cert = x509_cert::Certificate::from_der(der)
            .unwrap_or_else(|e| panic!("x509-cert cannot read the {what}: {e}"));
        assert_eq!(cert.to_der().unwrap(), der, "{what} re-encodes differently");
        let has_scope = cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .any(|e| e.extn_id == oid);
        assert!(!has_scope, "the {what} carries a scope");
    }
    let cert = x509_cert::Certificate::from_der(&leaf)
        .unwrap_or_else(|e| panic!("x509-cert cannot read the leaf: {e}"));
    assert_eq!(
        cert.to_der().unwrap(),
        leaf,
        "the leaf re-encodes differently"
    );
    assert_eq!(
        cert.tbs_certificate.serial_number.as_bytes(),
        serial.as_slice()
    );
    let scope = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == oid)
        .expect("the leaf's scope extension, under SCOPE_EXTENSION_OID");
    assert!(!scope.critical);
    let crates = decode_scope(scope.extn_value.as_bytes()).unwrap();
    assert_eq!(crates, ["hello", "hello-macros"]);
}
