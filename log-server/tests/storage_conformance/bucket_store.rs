//! `BucketStore` only, against a real S3 server on loopback (SeaweedFS,
//! `sigil_e2e::seaweed`): create-only and compare-and-swap semantics, racing
//! sequencers, a crash between the swap and the tile writes, idempotent
//! and conflicting re-uploads, cache headers, and the bucket's objects as a
//! tlog-tiles log served by plain HTTP.

use std::sync::Barrier;

use sigil_e2e::seaweed::Seaweed;
use sigil_log::storage::object::{
    CHECKPOINT_KEY, FailAction, FailPoint, IMMUTABLE, NO_CACHE, ObjectError, RECORD_KEY, Record,
    Role,
};

use super::*;

/// A SeaweedFS, or `None` (the test returns) when skipping is allowed.
fn seaweed() -> Option<Seaweed> {
    Seaweed::start_or_skip()
}

/// A plain GET of `key` from the bucket over the S3 endpoint, as a CDN or
/// static host would make it: (status, Cache-Control, body).
fn get(weed: &Seaweed, key: &str) -> (u16, Option<String>, Vec<u8>) {
    let url = format!("{}/{}/{key}", weed.endpoint(), weed.bucket());
    let response = reqwest::blocking::get(url).unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, cache, response.bytes().unwrap().to_vec())
}

fn bucket(weed: &Seaweed) -> Bucket {
    Bucket::open(&BucketConfig {
        url: format!("s3://{}", weed.bucket()),
        endpoint: Some(weed.endpoint()),
        timeout: std::time::Duration::from_secs(10),
    })
    .unwrap()
}

#[test]
fn create_only_objects_compare_bytes_and_the_record_swaps_on_its_etag() {
    let Some(weed) = seaweed() else { return };
    let b = bucket(&weed);
    b.create_all(vec![("k".into(), b"one".to_vec())], IMMUTABLE)
        .unwrap();
    // The same bytes again: a retry, a success.
    b.create_all(vec![("k".into(), b"one".to_vec())], IMMUTABLE)
        .unwrap();
    // Other bytes: a stop, and the object keeps the first.
    let err = b
        .create_all(vec![("k".into(), b"two".to_vec())], IMMUTABLE)
        .unwrap_err();
    assert!(
        matches!(err, ObjectError::Different { ref key } if key == "k"),
        "{err}"
    );
    assert_eq!(b.get("k").unwrap().unwrap().bytes, b"one");

    // Compare-and-swap: create, update on the ETag, stale ETag loses.
    let first = match b.swap("r", None, b"v1".to_vec()).unwrap() {
        sigil_log::storage::object::bucket::Swap::Done(e) => e,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        b.swap("r", None, b"v1-again".to_vec()).unwrap(),
        sigil_log::storage::object::bucket::Swap::Lost
    ));
    assert!(matches!(
        b.swap("r", first.clone(), b"v2".to_vec()).unwrap(),
        sigil_log::storage::object::bucket::Swap::Done(_)
    ));
    assert!(matches!(
        b.swap("r", first, b"v3".to_vec()).unwrap(),
        sigil_log::storage::object::bucket::Swap::Lost
    ));
    assert_eq!(b.get("r").unwrap().unwrap().bytes, b"v2");
}

#[test]
fn racing_sequencers_one_winner_per_size_never_two_roots() {
    let Some(weed) = seaweed() else { return };
    const N: usize = 6;
    let dirs: Vec<_> = (0..N).map(|_| tempfile::tempdir().unwrap()).collect();
    let stores: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| InBucket::open_on(&weed, d.path(), &format!("seq-{i}")))
        .collect();
    // Every one of them sees a new log and believes it may sequence.
    for s in &stores {
        assert_eq!(s.acquire().unwrap(), Role::Active);
    }
    let barrier = Barrier::new(N);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut batch = Batch {
                        checkpoint: format!("{ORIGIN}\n0\nroot-of-seq-{i}\n\n- sig\n").into_bytes(),
                        ..Batch::default()
                    };
                    batch.old_size = 0;
                    barrier.wait();
                    s.append_batch(&batch).map(|()| i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<usize> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().copied())
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let winner = winners[0];
    for (i, o) in outcomes.iter().enumerate() {
        if i != winner {
            assert!(
                matches!(o, Err(StorageError::LeaseLost { holder }) if *holder == format!("seq-{winner}")),
                "{i}: {o:?}"
            );
        }
    }
    let record = Record::parse(&bucket(&weed).get(RECORD_KEY).unwrap().unwrap().bytes).unwrap();
    assert_eq!(record.holder, format!("seq-{winner}"));
    assert_eq!(
        record.checkpoint,
        format!("{ORIGIN}\n0\nroot-of-seq-{winner}\n\n- sig\n").into_bytes()
    );
    // The winner grows the log; a loser can never write again, even from
    // the winner's size: it stopped.
    append_to(&stores[winner], 300);
    let loser = (winner + 1) % N;
    let grown = grow(&stores[winner], 300, 310);
    assert!(matches!(
        stores[loser].append_batch(&grown),
        Err(StorageError::LeaseLost { .. })
    ));
    assert_tree(&stores[winner], 300);
}

#[test]
fn a_standby_takes_over_only_after_the_lease_ran_out() {
    let Some(weed) = seaweed() else { return };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let open = |dir: &Path, holder: &str| {
        BucketStore::open(
            bucket(&weed),
            dir,
            ORIGIN,
            LeaseConfig {
                holder: holder.into(),
                lease: std::time::Duration::from_millis(600),
            },
        )
        .unwrap()
    };
    let active = open(d1.path(), "a");
    assert_eq!(active.acquire().unwrap(), Role::Active);
    append_to(&active, 0);
    append_to(&active, 40);
    let standby = open(d2.path(), "b");
    assert_eq!(
        standby.acquire().unwrap(),
        Role::Standby { holder: "a".into() }
    );
    // The standby follows: its index serves the active one's tree (from
    // the staged batch: the test's entries are not log entries, so they
    // cannot be replayed from the bundles).
    assert_eq!(standby.follow().unwrap(), 40);
    assert_tree(standby.local(), 40);
    // While the active one renews, the lease never runs out.
    for _ in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        active.renew().unwrap();
        assert!(matches!(standby.acquire().unwrap(), Role::Standby { .. }));
    }
    // The active one stops renewing (it died): the standby takes over.
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(standby.acquire().unwrap(), Role::Active);
    append_to(&standby, 50);
    assert_tree(&standby, 50);
    // The old one wakes up: it cannot renew nor write, and says who has it.
    assert!(matches!(active.renew(), Err(StorageError::LeaseLost { holder }) if holder == "b"));
    let stale = grow(&active, 40, 45);
    assert!(matches!(
        active.append_batch(&stale),
        Err(StorageError::LeaseLost { .. })
    ));
}

#[test]
fn a_crash_between_the_swap_and_the_tiles_is_recovered_at_the_next_start() {
    let Some(weed) = seaweed() else { return };
    for point in [
        FailPoint::AfterStage,
        FailPoint::AfterSwap,
        FailPoint::AfterTiles,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!("{point:?}");
        let open = || {
            let bucket = Bucket::open(&BucketConfig {
                url: format!("s3://{}/{prefix}", weed.bucket()),
                endpoint: Some(weed.endpoint()),
                timeout: std::time::Duration::from_secs(10),
            })
            .unwrap();
            BucketStore::open(
                bucket,
                dir.path(),
                ORIGIN,
                LeaseConfig {
                    holder: "a".into(),
                    lease: std::time::Duration::from_secs(10),
                },
            )
            .unwrap()
        };
        let store = open();
        append_to(&store, 0);
        append_to(&store, 300);
        store.set_fail_point(Some((point, FailAction::Error)));
        let batch = grow(&store, 300, 520);
        assert!(matches!(
            store.append_batch(&batch),
            Err(StorageError::InjectedPoint(p)) if p == point
        ));
        // The process dies here; a new one starts on the same bucket and
        // directory.
        drop(store);
        let store = open();
        let expected = if point == FailPoint::AfterStage {
            300
        } else {
            520
        };
        assert_eq!(store.acquire().unwrap(), Role::Active);
        assert_tree(&store, expected);
        store.verify_edge().unwrap();
        // Every tile of the tree is in the bucket, at its path.
        let b = store.bucket();
        for (tile, data) in tree_tiles(expected) {
            assert_eq!(
                b.get(&tile.path()).unwrap().map(|o| o.bytes),
                Some(data),
                "{point:?}: {tile}"
            );
        }
        // And the log goes on from there.
        append_to(&store, expected + 10);
        assert_tree(&store, expected + 10);
    }
}

#[test]
fn objects_carry_their_cache_headers_and_the_checkpoint_is_published() {
    let Some(weed) = seaweed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = InBucket::open_on(&weed, dir.path(), "a");
    append_to(&store, 0);
    append_to(&store, 300);
    for (tile, data) in tree_tiles(300) {
        let (status, cache, body) = get(&weed, &tile.path());
        assert_eq!(status, 200, "{tile}");
        assert_eq!(cache.as_deref(), Some(IMMUTABLE), "{tile}");
        assert_eq!(body, data, "{tile}");
    }
    store.publish_checkpoint(&note(300)).unwrap();
    let (status, cache, body) = get(&weed, CHECKPOINT_KEY);
    assert_eq!((status, cache.as_deref()), (200, Some(NO_CACHE)));
    assert_eq!(body, note(300));
    // A partial tile is a new object per width: the old one stays.
    append_to(&store, 310);
    let (status, _, _) = get(&weed, "tile/0/001.p/44");
    assert_eq!(status, 200);
    let (status, _, _) = get(&weed, "tile/0/001.p/54");
    assert_eq!(status, 200);
}

#[test]
fn a_bucket_with_another_tree_stops_the_store() {
    let Some(weed) = seaweed() else { return };
    let dir = tempfile::tempdir().unwrap();
    let store = InBucket::open_on(&weed, dir.path(), "a");
    append_to(&store, 0);
    // Someone wrote another tree's tile where this log's next one goes.
    bucket(&weed)
        .create_all(
            vec![("tile/0/000.p/5".into(), vec![0xEE; 5 * 32])],
            IMMUTABLE,
        )
        .unwrap();
    let err = store.append_batch(&grow(&store, 0, 5)).unwrap_err();
    assert!(
        matches!(err, StorageError::Object(ObjectError::Different { ref key }) if key == "tile/0/000.p/5"),
        "{err}"
    );
    // The record was swapped (the batch is in the log), so the store
    // refuses to go on until the bucket is repaired: recovery writes the
    // same tile again and meets the same foreign bytes.
    assert!(store.load_checkpoint().is_err());
}

#[test]
fn a_local_index_ahead_of_the_bucket_is_refused() {
    let Some(weed) = seaweed() else { return };
    let dir = tempfile::tempdir().unwrap();
    {
        let store = InBucket::open_on(&weed, dir.path(), "a");
        append_to(&store, 0);
        append_to(&store, 20);
    }
    // The same index against an empty bucket (another, or wiped).
    let other = Seaweed::start_or_skip().unwrap();
    let store = InBucket::open_on(&other, dir.path(), "a");
    let err = store.acquire().unwrap_err();
    assert!(
        matches!(err, StorageError::Corrupt { ref reason, .. } if reason.contains("no checkpoint record")),
        "{err}"
    );
}
