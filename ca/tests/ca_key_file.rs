//! A CA's key goes to disk and back (`sigil_keyfile::p256_key`, encrypted)
//! and still fits its certificate: what `sigil-ca init` writes, `sigil-ca
//! serve` can load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use sigil_ca::CaCertificate;
use sigil_keyfile::p256_key::{P256Key, read_key, write_key};

const PASS: &[u8] = b"correct horse battery staple";

#[test]
fn a_ca_key_survives_the_disk() {
    let ca = sigil_ca::new_root(
        "Sigil Test Root",
        1_767_225_600_000,
        Duration::from_secs(86_400),
    )
    .unwrap();
    let key = P256Key::from_pkcs8_der(ca.key_pkcs8_der()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.key");
    write_key(&path, key.signing_key(), Some(PASS)).unwrap();
    let back = read_key(&path, Some(PASS)).unwrap();
    CaCertificate::from_parts(ca.certificate_der().to_vec(), back.pkcs8_der().to_vec()).unwrap();
}
