//! `keys-example/` is one coherent demo set made by the project's own
//! commands: the trust root names the CA root and the log key that are
//! there, the CA keys match their certificates, and the maintainer's
//! certificate is for the maintainer key, chains to the root and is in the
//! log its proof names. (Whether it is still current is not checked: the
//! demo certificate expires.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use sigil_core::entry::{Entry, EntryBody};
use sigil_core::trust_root::TrustRoot;

fn dir() -> PathBuf {
    // Cargo's run-time value first: a shared target dir may hold a binary
    // built in another clone.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../keys-example")
}

/// A 0600 copy of a key file (git checks keys out world-readable, and
/// Sigil refuses those).
fn private_copy(tmp: &Path, rel: &str) -> PathBuf {
    let to = tmp.join(rel.replace('/', "_"));
    std::fs::copy(dir().join(rel), &to).unwrap();
    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
    to
}

#[test]
fn keys_example_is_one_coherent_demo_set() {
    let tmp = tempfile::tempdir().unwrap();
    let trust = TrustRoot::parse(&std::fs::read(dir().join("trust-root.json")).unwrap()).unwrap();
    let root_pem = std::fs::read_to_string(dir().join("ca/root.pem")).unwrap();
    assert_eq!(trust.ca_roots_pem, vec![root_pem.clone()]);
    let log_pub = std::fs::read_to_string(dir().join("log/log.pub")).unwrap();
    assert_eq!(trust.log_key, log_pub.trim());

    // The CA keys match their certificates.
    for stem in ["root", "intermediate"] {
        let key = private_copy(tmp.path(), &format!("ca/{stem}.key"));
        let der = sigil_ca::setup::read_certificate(&dir().join(format!("ca/{stem}.pem"))).unwrap();
        let key = sigil_keyfile::p256_key::read_key(&key, None).unwrap();
        sigil_ca::CaCertificate::from_parts(der, key.pkcs8_der().to_vec()).unwrap();
    }
    // The log key signs as the trust root's log.
    let log_key = private_copy(tmp.path(), "log/log.key");
    let signer = sigil_keyfile::note_key::read_log_key(&log_key).unwrap();
    assert_eq!(
        sigil_core::note::NoteSigner::name(&signer),
        trust.log_origin.as_str()
    );

    // The maintainer's certificate: for its key, chaining to the root,
    // logged in the log of the trust root.
    let key = private_copy(tmp.path(), "maintainer.key");
    let key = sigil_keyfile::p256_key::read_key(&key, None).unwrap();
    let chain = sigil_cli::maintainer::read_chain(&dir().join("maintainer.pem")).unwrap();
    let leaf = sigil_verifier::x509::Certificate::parse(&chain[0]).unwrap();
    assert_eq!(leaf.p256_point(), Some(key.public_key_sec1().as_slice()));
    assert_eq!(leaf.identity().unwrap(), "maintainer@example.invalid");
    let roots = sigil_verifier::TrustedRoots::from_pem(root_pem.as_bytes()).unwrap();
    let proof = std::fs::read(dir().join("maintainer.pem.tlog-proof")).unwrap();
    let verified = sigil_core::proof::verify(&proof, &trust.policy().unwrap()).unwrap();
    let entry = Entry::decode(&verified.entry).unwrap();
    let EntryBody::Certificate(logged) = &entry.body else {
        panic!("not a certificate entry");
    };
    assert_eq!(logged.chain, chain);
    sigil_verifier::check_certificate_entry(logged, entry.integrated_at, &roots, None).unwrap();
}
