//! Benchmarks of the Merkle math and tile growth.
//!
//! - `leaf_hash/256B`: hashing one 256-byte entry.
//! - `verify_inclusion/2^20+12345` and `verify_consistency/...`: verifying
//!   proofs in a tree of about a million leaves (proofs made once, from
//!   `MemoryHashes`).
//! - `append_leaves/256`: growing the tiles of that tree by a 256-entry batch
//!   (reads the right-edge tiles, rewrites the changed ones).
//!
//! - `baseline/*`: a plain SHA-256 of the same bytes and one node hash, so
//!   the figures above can be read as ratios measured in the same run
//!   (an inclusion proof of length k costs at least k + 1 node hashes).
//!
//! Run: `cargo bench -p sigil-core --bench merkle` (add `-- --quick` for a
//! fast pass).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use sigil_core::merkle::{
    Hash, MemoryHashes, leaf_hash, node_hash, prove_consistency, prove_inclusion, tree_hash,
    verify_consistency, verify_inclusion,
};
use sigil_core::tile::{Tile, append_leaves};

/// About a million leaves, not a power of two, so proofs cross the ragged
/// right edge.
const SIZE: u64 = (1 << 20) + 12_345;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn hashing(c: &mut Criterion) {
    let entry = [0x5a_u8; 256];
    c.bench_function("leaf_hash/256B", |b| {
        b.iter(|| leaf_hash(black_box(&entry)))
    });
    // Baseline: one plain SHA-256 over the same 257 bytes (0x00 || entry),
    // the least any leaf hash can cost.
    let mut prefixed = vec![0u8];
    prefixed.extend_from_slice(&entry);
    c.bench_function("baseline/sha256/257B", |b| {
        b.iter(|| <sha2::Sha256 as sha2::Digest>::digest(black_box(&prefixed)))
    });
    // Baseline for proof verification: one interior node hash (65 bytes).
    let (l, r) = ([1u8; 32], [2u8; 32]);
    c.bench_function("baseline/node_hash", |b| {
        b.iter(|| node_hash(black_box(&l), black_box(&r)))
    });
}

fn verification(c: &mut Criterion) {
    let tree = MemoryHashes::from_leaf_hashes(leaves(SIZE));
    let root = tree_hash(SIZE, &tree).unwrap();
    let index = SIZE - 1_000;
    let leaf = tree.leaf_hashes()[index as usize];
    let proof = prove_inclusion(index, SIZE, &tree).unwrap();
    c.bench_function("verify_inclusion/2^20+12345", |b| {
        b.iter(|| {
            verify_inclusion(black_box(&leaf), index, SIZE, black_box(&proof), &root).unwrap()
        })
    });

    let old = SIZE - 54_321;
    let old_root = tree_hash(old, &tree).unwrap();
    let proof = prove_consistency(old, SIZE, &tree).unwrap();
    c.bench_function("verify_consistency/2^20-42k->2^20+12345", |b| {
        b.iter(|| verify_consistency(old, SIZE, &old_root, &root, black_box(&proof)).unwrap())
    });
}

fn appending(c: &mut Criterion) {
    let all = leaves(SIZE + 256);
    let mut tiles: HashMap<Tile, Vec<u8>> = HashMap::new();
    for (tile, data) in append_leaves(0, &tiles, &all[..SIZE as usize]).unwrap() {
        tiles.insert(tile, data);
    }
    let batch = &all[SIZE as usize..];
    c.bench_function("append_leaves/256", |b| {
        b.iter(|| append_leaves(SIZE, &tiles, black_box(batch)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hashing, verification, appending
}
criterion_main!(benches);
