//! Both stores agree on random batch sequences.

use super::*;
use proptest::collection::vec;
use proptest::prelude::*;

const VERSIONS: &[&str] = &["0.1.0", "1.0.0", "1.0.0-rc.1"];

#[derive(Clone, Debug)]
enum Op {
    /// Append `n` entries, with release rows (crate, version, sha byte,
    /// index seed), revocations (id, from_index, index seed) and
    /// certificate rows (chain, index seed).
    Grow {
        n: u64,
        releases: Vec<(usize, usize, u8, u64)>,
        revocations: Vec<(usize, u64, u64)>,
        certificates: Vec<(usize, u64)>,
    },
    /// A batch with the wrong old size.
    Stale { n: u64, off: u64 },
    /// A batch that shrinks the tree.
    Shrink,
    /// Close and reopen the RocksDB store.
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (
            0u64..600,
            vec((0..CRATES.len(), 0..VERSIONS.len(), 0..3u8, any::<u64>()), 0..4),
            vec((0..IDS.len(), 0u64..500, any::<u64>()), 0..3),
            vec((0..CHAINS.len(), any::<u64>()), 0..3),
        )
            .prop_map(|(n, releases, revocations, certificates)| Op::Grow {
                n,
                releases,
                revocations,
                certificates,
            }),
        1 => (1u64..300, 1u64..40).prop_map(|(n, off)| Op::Stale { n, off }),
        1 => Just(Op::Shrink),
        1 => Just(Op::Reopen),
    ]
}

fn batch_of(op: &Op, mem: &MemStore, size: u64) -> Option<Batch> {
    match op {
        Op::Grow {
            n,
            releases,
            revocations,
            certificates,
        } => {
            let mut batch = grow(mem, size, size + n);
            let new_size = size + n;
            if new_size > 0 {
                batch.releases = releases
                    .iter()
                    .map(|&(c, v, sha, seed)| {
                        release(CRATES[c], VERSIONS[v], record(seed % new_size, sha))
                    })
                    .collect();
            }
            if new_size > 0 {
                batch.revocations = revocations
                    .iter()
                    .map(|&(k, from, seed)| revoked(IDS[k], from, seed % new_size))
                    .collect();
                batch.certificates = certificates
                    .iter()
                    .map(|&(k, seed)| (CHAINS[k], seed % new_size))
                    .collect();
            }
            Some(batch)
        }
        Op::Stale { n, off } => {
            let mut batch = grow(mem, size, size + n);
            batch.old_size = size + off;
            batch.new_size = batch.new_size.max(batch.old_size);
            Some(batch)
        }
        Op::Shrink => Some(Batch {
            old_size: size,
            new_size: size.saturating_sub(1),
            checkpoint: note(size),
            ..Batch::default()
        }),
        Op::Reopen => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_batches_leave_both_stores_alike(ops in vec(op(), 1..12)) {
        let mem = MemStore::new();
        let mut rocks = Rocks::new();
        for op in &ops {
            let size = mem.load_checkpoint().unwrap().map_or(0, |c| c.size);
            let Some(batch) = batch_of(op, &mem, size) else {
                rocks.reopen();
                continue;
            };
            let from_mem = mem.append_batch(&batch);
            let from_rocks = rocks.store().append_batch(&batch);
            prop_assert_eq!(format!("{from_mem:?}"), format!("{from_rocks:?}"), "{:?}", op);
            prop_assert_eq!(snapshot(&mem, 8192), snapshot(rocks.store(), 8192));
        }
        let size = mem.load_checkpoint().unwrap().map_or(0, |c| c.size);
        if size > 0 {
            assert_tree(rocks.store(), size);
        }
    }
}
