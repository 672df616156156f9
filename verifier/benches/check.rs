//! What the log pays to admit one release, with the raw cryptography it
//! cannot avoid measured in the same run as the baseline:
//!
//! - `check_release/1_signer`: a release entry with one signer (leaf +
//!   intermediate, Sigil's profile): statement, chain to the root,
//!   scope, revocation look-up, DSSE signature: three ECDSA P-256
//!   verifications in all;
//! - `check_release/2_signers`: the same, co-signed (six verifications);
//! - `verify_chain`: the chain alone (two verifications);
//! - `x509::Certificate::parse/leaf`: this crate's parse of the leaf;
//! - `baseline/p256_verify_aws_lc`: one aws-lc-rs ECDSA P-256 verification
//!   of the DSSE signature (`UnparsedPublicKey`, as every check here uses).
//!
//! Run: `cargo bench -p sigil-verifier --bench check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use common::{NOW, TestPki, leaf_params, pki};
use criterion::{Criterion, criterion_group, criterion_main};
use p256::ecdsa::SigningKey;
use sigil_core::entry::ReleaseEntry;
use sigil_core::statement::{Envelope, Release, pae, public_key_spki_der};
use sigil_verifier::x509::Certificate;
use sigil_verifier::{ChainCache, RevocationSet, check_release, verify_chain};

/// A maintainer key and its chain.
fn maintainer(p: &TestPki, seed: u8, identity: &str) -> (SigningKey, Vec<Vec<u8>>) {
    let key = SigningKey::from_slice(&[seed; 32]).unwrap();
    let spki = public_key_spki_der(key.verifying_key()).unwrap();
    let subject = rcgen::SubjectPublicKeyInfo::from_der(&spki).unwrap();
    let chain = p.chain(&leaf_params(identity, &["hello", "hello-macros"]), &subject);
    (key, chain)
}

fn bench(c: &mut Criterion) {
    let p = pki("Sigil Bench");
    let (alice, alice_chain) = maintainer(&p, 1, "alice@example.com");
    let (bob, bob_chain) = maintainer(&p, 2, "https://github.com/bob");
    let release = Release::new("hello", "1.2.3", [0x42; 32]).unwrap();
    let mut envelope = Envelope::sign_release(&release, &alice).unwrap();
    let one = ReleaseEntry::from_envelope(&envelope, vec![alice_chain.clone()]).unwrap();
    envelope.add_signature(&bob).unwrap();
    let two = ReleaseEntry::from_envelope(&envelope, vec![alice_chain.clone(), bob_chain]).unwrap();
    // A revocation index of realistic size that holds neither signer.
    let revocations: RevocationSet = (0u64..10_000).map(|i| ([(i % 251) as u8; 32], i)).collect();

    // Chains validated once, as the log's admission keeps them.
    let chains = ChainCache::new();
    check_release(&one, NOW, 1_000, &p.roots, &revocations, Some(&chains)).unwrap();
    check_release(&two, NOW, 1_000, &p.roots, &revocations, Some(&chains)).unwrap();

    let mut group = c.benchmark_group("check_release");
    group.bench_function("1_signer", |b| {
        b.iter(|| {
            check_release(
                black_box(&one),
                NOW,
                1_000,
                &p.roots,
                &revocations,
                Some(&chains),
            )
            .unwrap()
        })
    });
    group.bench_function("2_signers", |b| {
        b.iter(|| {
            check_release(
                black_box(&two),
                NOW,
                1_000,
                &p.roots,
                &revocations,
                Some(&chains),
            )
            .unwrap()
        })
    });
    group.finish();

    c.bench_function("verify_chain", |b| {
        b.iter(|| verify_chain(black_box(&alice_chain), &p.roots, NOW, Some(&chains)).unwrap())
    });
    c.bench_function("x509::Certificate::parse/leaf", |b| {
        b.iter(|| {
            Certificate::parse(black_box(&alice_chain[0]))
                .unwrap()
                .serial()
                .len()
        })
    });

    let leaf = Certificate::parse(&alice_chain[0]).unwrap();
    let point = leaf.p256_point().unwrap().to_vec();
    let message = pae(&one.payload_type, &one.payload);
    let sig = one.signers[0].sig.clone();
    c.bench_function("baseline/p256_verify_aws_lc", |b| {
        b.iter(|| {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, black_box(&point))
                .verify(black_box(&message), black_box(&sig))
                .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
