//! A test PKI minted with rcgen directly (not with `sigil-ca`, which
//! depends on this crate), so tests can make the certificates the real CA
//! never would. Shared by the tests and the bench of `sigil-verifier`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    PublicKeyData, SanType,
};
use sigil_core::certificate::{SCOPE_EXTENSION_OID_ARCS, encode_scope};
use sigil_verifier::TrustedRoots;
use time::OffsetDateTime;

/// 2026-01-01T00:00:00Z, Unix ms.
pub const NOW: u64 = 1_767_225_600_000;
/// One day in ms.
pub const DAY: u64 = 86_400_000;

pub fn time(ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp((ms / 1000) as i64).unwrap()
}

/// The scope extension for `crates`, non-critical.
pub fn scope_extension(crates: &[&str]) -> CustomExtension {
    let crates: Vec<String> = crates.iter().map(|s| s.to_string()).collect();
    CustomExtension::from_oid_content(&SCOPE_EXTENSION_OID_ARCS, encode_scope(&crates).unwrap())
}

/// A CA: its parameters, key and certificate.
pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: Vec<u8>,
}

impl Ca {
    /// Signs `params` for `subject`.
    pub fn sign(&self, params: &CertificateParams, subject: &impl PublicKeyData) -> Vec<u8> {
        let issuer = Issuer::from_params(&self.params, &self.key);
        params.signed_by(subject, &issuer).unwrap().der().to_vec()
    }
}

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// Root parameters by Sigil's profile.
pub fn root_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = named(cn);
    p.not_before = time(NOW - 365 * DAY);
    p.not_after = time(NOW + 3650 * DAY);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p
}

/// Intermediate parameters by Sigil's profile.
pub fn intermediate_params(cn: &str) -> CertificateParams {
    let mut p = root_params(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p
}

/// Leaf parameters by Sigil's profile.
pub fn leaf_params(identity: &str, crates: &[&str]) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = DistinguishedName::new();
    p.not_before = time(NOW - DAY);
    p.not_after = time(NOW + DAY);
    p.subject_alt_names = vec![if identity.contains(':') {
        SanType::URI(identity.try_into().unwrap())
    } else {
        SanType::Rfc822Name(identity.try_into().unwrap())
    }];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p.use_authority_key_identifier_extension = true;
    p.custom_extensions = vec![scope_extension(crates)];
    p
}

pub fn p256_key() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap()
}

pub fn self_signed_root(params: CertificateParams, key: KeyPair) -> Ca {
    let der = params.self_signed(&key).unwrap().der().to_vec();
    Ca { params, key, der }
}

pub fn issued_ca(issuer: &Ca, params: CertificateParams, key: KeyPair) -> Ca {
    let der = issuer.sign(&params, &key);
    Ca { params, key, der }
}

/// Root, intermediate and the trust root for them.
pub struct TestPki {
    pub root: Ca,
    pub intermediate: Ca,
    pub roots: TrustedRoots,
}

pub fn pki(name: &str) -> TestPki {
    let root = self_signed_root(root_params(&format!("{name} Root")), p256_key());
    let intermediate = issued_ca(
        &root,
        intermediate_params(&format!("{name} Intermediate")),
        p256_key(),
    );
    let roots = TrustedRoots::from_der(vec![root.der.clone()]).unwrap();
    TestPki {
        root,
        intermediate,
        roots,
    }
}

impl TestPki {
    /// A leaf for `subject` from `params`, and its chain.
    pub fn chain(&self, params: &CertificateParams, subject: &impl PublicKeyData) -> Vec<Vec<u8>> {
        vec![
            self.intermediate.sign(params, subject),
            self.intermediate.der.clone(),
        ]
    }
}
