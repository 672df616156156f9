//! The checkpoint cache: every rule of `checkpoint_cache` (stored, same,
//! advanced, consistent older, unverified, fork), corrupt files, concurrent
//! writers, and random growth sequences against a real Merkle tree.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use proptest::prelude::*;
use sigil_client::{CacheError, CacheOutcome, CheckpointCache, ConsistencySource, FetchError};
use sigil_core::checkpoint::{self, Checkpoint, CheckpointPolicy};
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::merkle::{self, Hash, MemoryHashes};
use sigil_core::note::{self, Ed25519Signer, NoteSigner};

const ORIGIN: &str = "example.com/cache-test";

fn log_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, [11; 32]).unwrap()
}

fn witness() -> CosignatureSigner {
    CosignatureSigner::from_seed("witness.example", [12; 32]).unwrap()
}

fn policy(quorum: usize) -> CheckpointPolicy {
    CheckpointPolicy {
        origin: ORIGIN.into(),
        log: Box::new(log_key().verifier()),
        witnesses: vec![witness().verifier()],
        quorum,
    }
}

/// A log in memory: its tree, checkpoints and consistency proofs.
struct Log {
    tree: MemoryHashes,
}

impl Log {
    /// `n` leaves; `variant` changes every leaf from `fork_at` on.
    fn new(n: u64, variant: u8, fork_at: u64) -> Log {
        let leaves: Vec<Hash> = (0..n)
            .map(|i| {
                let v = if i >= fork_at { variant } else { 0 };
                merkle::leaf_hash(format!("leaf {i} {v}").as_bytes())
            })
            .collect();
        Log {
            tree: MemoryHashes::from_leaf_hashes(leaves),
        }
    }

    fn root(&self, size: u64) -> Hash {
        merkle::tree_hash(size, &self.tree).unwrap()
    }

    /// The signed checkpoint at `size`, cosigned if `cosign`.
    fn checkpoint(&self, size: u64, cosign: bool) -> Vec<u8> {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: self.root(size),
            extensions: vec![],
        };
        let signed = checkpoint::sign_checkpoint(&cp, &log_key()).unwrap();
        if !cosign {
            return signed;
        }
        let w = witness();
        note::add_signatures(
            &note::Note::parse(&signed).unwrap(),
            &[&w as &dyn NoteSigner],
        )
        .unwrap()
    }
}

impl ConsistencySource for Log {
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, FetchError> {
        merkle::prove_consistency(old_size, new_size, &self.tree)
            .map_err(|e| FetchError::unavailable("consistency proof", e))
    }
}

/// A log that cannot be reached.
struct Offline;

impl ConsistencySource for Offline {
    fn consistency_proof(&self, _: u64, _: u64) -> Result<Vec<Hash>, FetchError> {
        Err(FetchError::unavailable(
            "consistency proof",
            "connection refused",
        ))
    }
}

/// A log that answers with a proof of the right length but wrong hashes.
struct Liar(Log);

impl ConsistencySource for Liar {
    fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, FetchError> {
        let mut proof = self.0.consistency_proof(old_size, new_size)?;
        if let Some(h) = proof.first_mut() {
            h[0] ^= 1;
        }
        Ok(proof)
    }
}

fn cache() -> (tempfile::TempDir, CheckpointCache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = CheckpointCache::open(dir.path().join("nested").join("cache")).unwrap();
    (dir, cache)
}

fn cached_size(cache: &CheckpointCache, p: &CheckpointPolicy) -> Option<u64> {
    cache.cached(p).unwrap().map(|v| v.checkpoint.size)
}

#[test]
fn stored_same_advanced_older() {
    let (_d, cache) = cache();
    let p = policy(0);
    let log = Log::new(40, 0, 0);
    assert!(cache.cached(&p).unwrap().is_none());
    assert_eq!(
        cache.offer(&p, &log.checkpoint(10, false), None).unwrap(),
        CacheOutcome::Stored
    );
    assert_eq!(
        std::fs::read(cache.path_for(ORIGIN)).unwrap(),
        log.checkpoint(10, false)
    );
    // Same size and root, even with other signatures: Same.
    assert_eq!(
        cache.offer(&p, &log.checkpoint(10, true), None).unwrap(),
        CacheOutcome::Same
    );
    assert_eq!(
        cache
            .offer(&p, &log.checkpoint(25, false), Some(&log))
            .unwrap(),
        CacheOutcome::Advanced { from_size: 10 }
    );
    assert_eq!(cached_size(&cache, &p), Some(25));
    let older = cache
        .offer(&p, &log.checkpoint(3, false), Some(&log))
        .unwrap();
    assert_eq!(older, CacheOutcome::ConsistentOlder { cached_size: 25 });
    assert!(older.is_verified());
    assert_eq!(cached_size(&cache, &p), Some(25));
    // Another instance over the same directory sees the same state.
    let again = CheckpointCache::open(cache.dir()).unwrap();
    assert_eq!(cached_size(&again, &p), Some(25));
}

#[test]
fn without_a_source_sizes_are_not_compared() {
    let (_d, cache) = cache();
    let p = policy(0);
    let log = Log::new(40, 0, 0);
    cache.offer(&p, &log.checkpoint(10, false), None).unwrap();
    for size in [20, 5] {
        let outcome = cache.offer(&p, &log.checkpoint(size, false), None).unwrap();
        assert!(
            matches!(&outcome, CacheOutcome::Unverified { cached_size: 10, reason } if reason.contains("offline")),
            "{outcome:?}"
        );
        assert!(!outcome.is_verified());
        assert_eq!(cached_size(&cache, &p), Some(10));
    }
    assert_eq!(cached_size(&cache, &p), Some(10));
}

/// Issue 11, item 1: online, a proof that cannot be had fails closed (a
/// withheld proof may hide a fork), without calling it a fork and without
/// touching the cache.
#[test]
fn online_a_withheld_consistency_proof_is_a_failure() {
    let (_d, cache) = cache();
    let p = policy(0);
    let log = Log::new(40, 0, 0);
    cache.offer(&p, &log.checkpoint(10, false), None).unwrap();
    for size in [20, 5] {
        match cache.offer(&p, &log.checkpoint(size, false), Some(&Offline)) {
            Err(e @ CacheError::NoConsistencyProof { .. }) => {
                let CacheError::NoConsistencyProof {
                    from_size, to_size, ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!((*from_size, *to_size), (size.min(10), size.max(10)));
                assert!(e.to_string().contains("connection refused"), "{e}");
                assert!(!e.to_string().contains("SECURITY"), "not a fork: {e}");
            }
            other => panic!("size {size}: expected NoConsistencyProof, got {other:?}"),
        }
    }
    assert_eq!(cached_size(&cache, &p), Some(10));
    // Same size needs no proof, so it still answers.
    assert_eq!(
        cache
            .offer(&p, &log.checkpoint(10, false), Some(&Offline))
            .unwrap(),
        CacheOutcome::Same
    );
}

#[test]
fn the_empty_tree_needs_no_proof() {
    let (_d, cache) = cache();
    let p = policy(0);
    let log = Log::new(8, 0, 0);
    cache.offer(&p, &log.checkpoint(0, false), None).unwrap();
    assert_eq!(
        cache.offer(&p, &log.checkpoint(8, false), None).unwrap(),
        CacheOutcome::Advanced { from_size: 0 }
    );
    assert_eq!(
        cache.offer(&p, &log.checkpoint(0, false), None).unwrap(),
        CacheOutcome::ConsistentOlder { cached_size: 8 }
    );
}

fn assert_fork(err: CacheError, cached: &[u8], offered: &[u8]) {
    let CacheError::Fork { .. } = &err else {
        panic!("expected a fork, got {err:?}");
    };
    let text = err.to_string();
    assert!(text.starts_with("SECURITY ERROR:"), "{text}");
    assert!(text.contains("two different histories"), "{text}");
    assert!(
        text.contains(std::str::from_utf8(cached).unwrap()),
        "{text}"
    );
    assert!(
        text.contains(std::str::from_utf8(offered).unwrap()),
        "{text}"
    );
}

#[test]
fn forks_fail_closed() {
    let (_d, cache) = cache();
    let p = policy(0);
    let honest = Log::new(40, 0, 0);
    let forked = Log::new(40, 1, 6);
    let cached = honest.checkpoint(10, false);
    cache.offer(&p, &cached, None).unwrap();

    // Same size, other root: no source needed to see it.
    let other = forked.checkpoint(10, false);
    assert_fork(cache.offer(&p, &other, None).unwrap_err(), &cached, &other);

    // Larger, but the honest log's proof does not lead to it.
    let larger = forked.checkpoint(20, false);
    assert_fork(
        cache.offer(&p, &larger, Some(&honest)).unwrap_err(),
        &cached,
        &larger,
    );
    // The forked log's proof does not start from the cached root either.
    assert_fork(
        cache.offer(&p, &larger, Some(&forked)).unwrap_err(),
        &cached,
        &larger,
    );
    // Smaller and forked.
    let smaller = forked.checkpoint(8, false);
    assert_fork(
        cache.offer(&p, &smaller, Some(&honest)).unwrap_err(),
        &cached,
        &smaller,
    );
    // A lying proof for an honest checkpoint is a fork too: the log vouched
    // for something that does not verify.
    let liar = Liar(Log::new(40, 0, 0));
    let next = honest.checkpoint(30, false);
    assert_fork(
        cache.offer(&p, &next, Some(&liar)).unwrap_err(),
        &cached,
        &next,
    );
    // Nothing of it reached the cache.
    assert_eq!(std::fs::read(cache.path_for(ORIGIN)).unwrap(), cached);
    // Below the fork point the histories agree.
    assert_eq!(
        cache
            .offer(&p, &forked.checkpoint(6, false), Some(&honest))
            .unwrap(),
        CacheOutcome::ConsistentOlder { cached_size: 10 }
    );
}

#[test]
fn offered_checkpoints_must_verify() {
    let (_d, cache) = cache();
    let log = Log::new(5, 0, 0);
    // Quorum 1 and no cosignature.
    let err = cache
        .offer(&policy(1), &log.checkpoint(5, false), None)
        .unwrap_err();
    assert!(matches!(err, CacheError::Offered(_)), "{err:?}");
    let mut bad = log.checkpoint(5, false);
    let n = bad.len();
    bad[n - 5] ^= 1;
    assert!(matches!(
        cache.offer(&policy(0), &bad, None),
        Err(CacheError::Offered(_))
    ));
    assert!(!cache.path_for(ORIGIN).exists());
}

#[test]
fn cached_checkpoints_need_not_meet_a_raised_quorum() {
    let (_d, cache) = cache();
    let log = Log::new(9, 0, 0);
    cache
        .offer(&policy(0), &log.checkpoint(4, false), None)
        .unwrap();
    let strict = policy(1);
    assert_eq!(cached_size(&cache, &strict), Some(4));
    assert_eq!(
        cache
            .offer(&strict, &log.checkpoint(9, true), Some(&log))
            .unwrap(),
        CacheOutcome::Advanced { from_size: 4 }
    );
}

#[test]
fn corrupt_cache_files_are_kept_and_reported() {
    let (_d, cache) = cache();
    let p = policy(0);
    let log = Log::new(9, 0, 0);
    let path = cache.path_for(ORIGIN);
    let other_log = Ed25519Signer::from_seed(ORIGIN, [99; 32]).unwrap();
    let foreign = checkpoint::sign_checkpoint(
        &Checkpoint {
            origin: ORIGIN.into(),
            size: 3,
            root: log.root(3),
            extensions: vec![],
        },
        &other_log,
    )
    .unwrap();
    let mut flipped = log.checkpoint(4, false);
    flipped[0] ^= 0x20;
    for garbage in [
        b"".to_vec(),
        b"not a note".to_vec(),
        log.checkpoint(4, false)[..30].to_vec(),
        flipped,
        foreign,
    ] {
        std::fs::write(&path, &garbage).unwrap();
        let err = cache.cached(&p).unwrap_err();
        assert!(matches!(err, CacheError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("not replaced"), "{err}");
        let err = cache
            .offer(&p, &log.checkpoint(9, false), Some(&log))
            .unwrap_err();
        assert!(matches!(err, CacheError::Corrupt { .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }
}

#[test]
fn an_unwritable_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = CheckpointCache::open(file.join("sub")).unwrap_err();
    assert!(matches!(err, CacheError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("SIGIL_HOME"), "{err}");
}

/// Several writers over one directory, each with its own cache instance,
/// offering increasing sizes while a reader watches: the final state is
/// the largest, and the reader never sees a torn or unverifiable file.
#[test]
fn concurrent_writers_never_tear_the_file() {
    let (_d, cache) = cache();
    let dir = cache.dir().to_path_buf();
    let log = Arc::new(Log::new(200, 0, 0));
    let notes: Arc<Vec<Vec<u8>>> = Arc::new((0..=200).map(|s| log.checkpoint(s, false)).collect());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let cache = CheckpointCache::open(dir).unwrap();
            let p = policy(0);
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Ok(None) before the first write; never Corrupt.
                cache.cached(&p).unwrap();
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (0..4u64)
        .map(|t| {
            let (dir, log, notes) = (dir.clone(), log.clone(), notes.clone());
            std::thread::spawn(move || {
                let cache = CheckpointCache::open(dir).unwrap();
                let p = policy(0);
                for size in (1 + t..=200).step_by(4) {
                    let outcome = cache.offer(&p, &notes[size as usize], Some(&*log)).unwrap();
                    assert!(outcome.is_verified(), "{outcome:?}");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert_eq!(
        std::fs::read(cache.path_for(ORIGIN)).unwrap(),
        notes[200],
        "the largest checkpoint wins"
    );
}

/// What the model expects of one offer.
#[derive(Debug, PartialEq)]
enum Expect {
    Outcome(CacheOutcome),
    Fork,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random sequences of checkpoints of an honest log, some replaced by
    /// checkpoints of a log that forked at `fork_at`. The consistency
    /// source is the honest log. The cache must hold the largest honest
    /// size offered, and refuse exactly the forked checkpoints past the
    /// fork point.
    #[test]
    fn random_growth_sequences(
        n in 2u64..120,
        fork_at in 0u64..120,
        offers in proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 1..25),
    ) {
        let fork_at = fork_at % n;
        let honest = Log::new(n, 0, 0);
        let forked = Log::new(n, 1, fork_at);
        let (_d, cache) = cache();
        let p = policy(0);
        let mut model: Option<u64> = None;
        for (k, (size, fork)) in offers.into_iter().enumerate() {
            // Size 0 is a prefix of every history; it has its own test.
            let size = 1 + size.index(n as usize) as u64;
            // The first offer is honest, so the cache starts on the honest history.
            let fork = fork && k > 0;
            let from_fork = fork && size > fork_at;
            let note = if fork { forked.checkpoint(size, false) } else { honest.checkpoint(size, false) };
            let expected = match model {
                _ if from_fork => Expect::Fork,
                None => Expect::Outcome(CacheOutcome::Stored),
                Some(m) if m == size => Expect::Outcome(CacheOutcome::Same),
                Some(m) if size > m => Expect::Outcome(CacheOutcome::Advanced { from_size: m }),
                Some(m) => Expect::Outcome(CacheOutcome::ConsistentOlder { cached_size: m }),
            };
            let got = match cache.offer(&p, &note, Some(&honest)) {
                Ok(outcome) => Expect::Outcome(outcome),
                Err(CacheError::Fork { .. }) => Expect::Fork,
                Err(e) => panic!("unexpected error {e}"),
            };
            prop_assert_eq!(&got, &expected, "offer {} of size {} (fork: {})", k, size, fork);
            if !from_fork {
                model = Some(model.map_or(size, |m| m.max(size)));
            }
            let cached = cache.cached(&p).unwrap().unwrap();
            prop_assert_eq!(Some(cached.checkpoint.size), model);
            prop_assert_eq!(cached.checkpoint.root, honest.root(cached.checkpoint.size));
        }
    }
}
