//! What a client pays to check one release offline, piece by piece, with the
//! raw cryptography it cannot avoid measured in the same run as baselines:
//!
//! - `proof::verify/…`: a whole `.tlog-proof` (parse, checkpoint signature,
//!   inclusion proof in a tree of about a million entries), against
//!   `baseline/ed25519_verify` (one aws-lc-rs Ed25519 verification of the
//!   same checkpoint text);
//! - `Entry::decode/release`: decoding a release entry with two 700-byte
//!   certificates;
//! - `Envelope::verify_signature`: one DSSE ECDSA P-256 signature, against
//!   `baseline/p256_verify_aws_lc` (aws-lc-rs on a pre-parsed key);
//! - `Envelope::sign_release`: what `sigil sign` pays (p256).
//!
//! Run: `cargo bench -p sigil-core --bench formats`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ED25519, UnparsedPublicKey};
use criterion::{Criterion, criterion_group, criterion_main};
use p256::ecdsa::SigningKey;
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, sign_checkpoint};
use sigil_core::entry::{Entry, EntryBody, ReleaseEntry};
use sigil_core::merkle::{self, MemoryHashes};
use sigil_core::note::{Ed25519Signer, Note};
use sigil_core::proof::{self, TlogProof};
use sigil_core::statement::{self, Envelope, Release};

const ORIGIN: &str = "sigil.example/log";
const SIZE: u64 = (1 << 20) + 12_345;

fn proof_file() -> (Vec<u8>, CheckpointPolicy, Ed25519Signer, Vec<u8>) {
    let entry = vec![0x42u8; 1500];
    let index = SIZE / 3;
    let leaves: Vec<_> = (0..SIZE)
        .map(|i| {
            if i == index {
                merkle::leaf_hash(&entry)
            } else {
                merkle::leaf_hash(&i.to_be_bytes())
            }
        })
        .collect();
    let tree = MemoryHashes::from_leaf_hashes(leaves);
    let log = Ed25519Signer::from_seed(ORIGIN, [9; 32]).unwrap();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: SIZE,
        root: merkle::tree_hash(SIZE, &tree).unwrap(),
        extensions: vec![],
    };
    let signed = sign_checkpoint(&cp, &log).unwrap();
    let file = TlogProof {
        extra: Some(entry),
        index,
        hashes: merkle::prove_inclusion(index, SIZE, &tree).unwrap(),
        checkpoint: signed.clone(),
    }
    .encode();
    let policy = CheckpointPolicy {
        origin: ORIGIN.into(),
        log: Box::new(log.verifier()),
        witnesses: vec![],
        quorum: 0,
    };
    (file, policy, log, signed)
}

fn proofs(c: &mut Criterion) {
    let (file, policy, log, signed) = proof_file();
    c.bench_function("proof::verify/1500B entry, 2^20+12345 tree", |b| {
        b.iter(|| proof::verify(black_box(&file), &policy).unwrap())
    });
    let note = Note::parse(&signed).unwrap();
    let sig = &note.signatures[0].signature;
    let public = log.verifier().public_key();
    let key = UnparsedPublicKey::new(&ED25519, public);
    c.bench_function("baseline/ed25519_verify", |b| {
        b.iter(|| key.verify(black_box(note.text.as_bytes()), sig).unwrap())
    });
}

fn statements(c: &mut Criterion) {
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let release = Release::new("serde", "1.0.228", [3; 32]).unwrap();
    let envelope = Envelope::sign_release(&release, &key).unwrap();
    let spki = statement::public_key_spki_der(key.verifying_key()).unwrap();
    c.bench_function("Envelope::verify_signature (P-256, SPKI key)", |b| {
        b.iter(|| envelope.verify_signature(0, black_box(&spki)).unwrap())
    });
    let point = statement::p256_public_key_point(&spki).unwrap();
    let pae = statement::pae(&envelope.payload_type, &envelope.payload);
    let raw = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point);
    let sig = envelope.signatures[0].sig.clone();
    c.bench_function("baseline/p256_verify_aws_lc", |b| {
        b.iter(|| raw.verify(black_box(&pae), &sig).unwrap())
    });
    c.bench_function("Envelope::sign_release (p256)", |b| {
        b.iter(|| Envelope::sign_release(black_box(&release), &key).unwrap())
    });

    let chain = vec![vec![0x30u8; 700], vec![0x31u8; 700]];
    let entry = Entry {
        integrated_at: 1_764_000_000_000,
        body: EntryBody::Release(ReleaseEntry::from_envelope(&envelope, vec![chain]).unwrap()),
    };
    let bytes = entry.encode().unwrap();
    c.bench_function("Entry::decode/release", |b| {
        b.iter(|| Entry::decode(black_box(&bytes)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = proofs, statements
}
criterion_main!(benches);
