//! Signed-note and checkpoint costs on the paths that run per request:
//! verifying a log checkpoint (alone and with three witness cosignatures),
//! verifying an ECDSA P-256 note (Rekor), and parsing a checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, sign_checkpoint, verify_checkpoint};
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::note::{self, Ed25519Signer, Note, Verifiers};

/// Rekor's ECDSA P-256 checkpoint (transparency-dev/formats tests; also in
/// `testdata/tlog-vectors/tlog-vectors.txt`).
const REKOR_VKEY: &str = "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=";
const REKOR_NOTE: &str = "Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n\u{2014} rekor.sigstore.dev wNI9ajBEAiARInWIWyCdyG27CO6LPnPekyw20qO0YJfoaPaowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n";

fn checkpoint() -> Checkpoint {
    Checkpoint {
        origin: "sigil.example/log".into(),
        size: 123_456_789,
        root: [0x5a; 32],
        extensions: vec![],
    }
}

fn bench_notes(c: &mut Criterion) {
    let log = Ed25519Signer::from_seed("sigil.example/log", [1; 32]).unwrap();
    let witnesses: Vec<CosignatureSigner> = (1..=3)
        .map(|i| CosignatureSigner::from_seed(&format!("witness{i}.example"), [i; 32]).unwrap())
        .collect();
    let cp = checkpoint();
    let signed = sign_checkpoint(&cp, &log).unwrap();
    let mut cosigned = Note::parse(&signed).unwrap();
    for w in &witnesses {
        cosigned
            .signatures
            .push(w.cosign(&cp.to_text(), 1_700_000_000).unwrap());
    }
    let cosigned = cosigned.to_bytes();

    let known = Verifiers::new(vec![Box::new(log.verifier())]);
    c.bench_function("open Ed25519 checkpoint, 1 log signature", |b| {
        b.iter(|| note::open(black_box(&signed), &known).unwrap())
    });

    let policy = |quorum| CheckpointPolicy {
        origin: cp.origin.clone(),
        log: Box::new(log.verifier()),
        witnesses: witnesses.iter().map(|w| w.verifier()).collect(),
        quorum,
    };
    let log_only = policy(0);
    c.bench_function("verify_checkpoint, 1 log signature", |b| {
        b.iter(|| verify_checkpoint(black_box(&signed), &log_only).unwrap())
    });
    let three = policy(3);
    c.bench_function("verify_checkpoint, log + 3 cosignatures (quorum 3)", |b| {
        b.iter(|| verify_checkpoint(black_box(&cosigned), &three).unwrap())
    });

    let rekor = Verifiers::new(vec![note::parse_verifier_key(REKOR_VKEY).unwrap()]);
    c.bench_function("open ECDSA P-256 note (Rekor)", |b| {
        b.iter(|| note::open(black_box(REKOR_NOTE.as_bytes()), &rekor).unwrap())
    });

    let text = cp.to_text();
    c.bench_function("Checkpoint::parse", |b| {
        b.iter(|| Checkpoint::parse(black_box(&text)).unwrap())
    });
    c.bench_function("Note::parse, 4 signatures", |b| {
        b.iter(|| Note::parse(black_box(&cosigned)).unwrap())
    });
    c.bench_function("sign_checkpoint (Ed25519)", |b| {
        b.iter(|| sign_checkpoint(black_box(&cp), &log).unwrap())
    });
}

criterion_group!(benches, bench_notes);
criterion_main!(benches);
