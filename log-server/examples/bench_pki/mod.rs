//! A throwaway CA and one maintainer for the log's load examples (`load`,
//! `witness_latency`): a root and an intermediate made with `sigil-ca`'s
//! issuance code, the root written as PEM for `sigil-log serve --ca-root`,
//! and a P-256 key with a leaf allowed to sign one crate.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePublicKey as _;
use sigil_ca::issue;
use sigil_serve::unix_ms;

const DAY_MS: u64 = 86_400_000;

/// What a load example signs with.
pub struct BenchPki {
    /// The root certificate, DER.
    pub root_der: Vec<u8>,
    /// `dir/root.pem`, for `--ca-root`.
    pub root_pem: PathBuf,
    /// The maintainer's key.
    pub key: SigningKey,
    /// Its SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
    /// Its leaf, then the intermediate.
    pub chain: Vec<Vec<u8>>,
}

/// A CA named `name` (valid from a day ago) and a maintainer
/// `<crate_name>@example.com` who may sign `crate_name`; the root is
/// written to `dir/root.pem`.
pub fn bench_pki(dir: &Path, name: &str, crate_name: &str) -> BenchPki {
    let year = Duration::from_secs(365 * 86_400);
    let root = issue::new_root(&format!("{name} Root"), unix_ms() - DAY_MS, year * 10).unwrap();
    let intermediate = issue::new_intermediate(
        &root,
        &format!("{name} Intermediate"),
        unix_ms() - DAY_MS,
        year,
    )
    .unwrap();
    let root_pem = dir.join("root.pem");
    std::fs::write(
        &root_pem,
        sigil_core::pem::certificate_pem(root.certificate_der()),
    )
    .unwrap();
    let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let spki = key.verifying_key().to_public_key_der().unwrap().to_vec();
    let leaf = issue::issue_leaf(
        &intermediate,
        &spki,
        &format!("{crate_name}@example.com"),
        &[crate_name.to_string()],
        unix_ms() - 60_000,
        unix_ms() + DAY_MS,
        None,
    )
    .unwrap();
    BenchPki {
        root_der: root.certificate_der().to_vec(),
        root_pem,
        key,
        spki,
        chain: vec![leaf, intermediate.certificate_der().to_vec()],
    }
}
