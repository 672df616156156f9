//! What `sigil verify` pays for one downloaded release beyond hashing it:
//!
//! - `verify_release/100KB/warm`: [`verify_release`] on a 100 KB `.crate`
//!   and its proof (one signer, index 1000 of a 1,500-entry log, one
//!   witness cosignature, quorum 1), with the roots' chain cache warm, as
//!   when `verify-lock` meets one maintainer's second crate;
//! - `verify_release/100KB/cold`: the same with fresh roots each time, as
//!   the first crate of a `sigil verify` run (building the roots is not
//!   timed);
//! - `baseline/sha256/100KB`: SHA-256 of the same bytes (aws-lc-rs), which
//!   no verifier can skip.
//!
//! "Cost beyond hashing" is `verify_release` minus the baseline.
//!
//! Run: `cargo bench -p sigil-verifier --bench release_file`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/release_log/mod.rs"]
mod release_log;

use std::hint::black_box;
use std::time::Duration;

use common::NOW;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use release_log::Fixture;
use sigil_verifier::{ChainCache, RevocationSet, TrustedRoots, verify_release};

fn bench(c: &mut Criterion) {
    let f = Fixture::new(&["hello"]);
    let crate_bytes: Vec<u8> = (0..100 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let entry = f.entry("hello", "1.2.3", &crate_bytes, NOW);
    let proof = f.proof(&entry, 1000, 1500, 1);
    let policy = f.policy(1);
    let expected = Some(("hello", "1.2.3"));
    // Warm: the maintainer's chain validated once, as in a run over a
    // lockfile; cold: everything from scratch, roots parsed included.
    let chains = ChainCache::new();
    verify_release(
        &crate_bytes,
        &proof,
        &policy,
        &f.pki.roots,
        RevocationSet::empty(),
        expected,
        Some(&chains),
    )
    .unwrap();

    let mut group = c.benchmark_group("verify_release/100KB");
    group.bench_function("warm", |b| {
        b.iter(|| {
            verify_release(
                black_box(&crate_bytes),
                black_box(&proof),
                &policy,
                &f.pki.roots,
                RevocationSet::empty(),
                expected,
                Some(&chains),
            )
            .unwrap()
        })
    });
    let root_der = f.pki.roots.roots_der().to_vec();
    group.bench_function("cold", |b| {
        b.iter_batched(
            || TrustedRoots::from_der(root_der.clone()).unwrap(),
            |roots| {
                verify_release(
                    black_box(&crate_bytes),
                    black_box(&proof),
                    &policy,
                    &roots,
                    RevocationSet::empty(),
                    expected,
                    None,
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();

    c.bench_function("baseline/sha256/100KB", |b| {
        b.iter(|| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, black_box(&crate_bytes)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
