//! `MemStore` only: fault injection (STYLE.md §8).

use super::*;

#[test]
fn fault_not_persisted_applies_nothing() {
    let store = MemStore::new();
    append_to(&store, 100);
    let before = snapshot(&store, 1000);
    let mut batch = grow(&store, 100, 300);
    batch.releases = vec![release("serde", "1.0.0", record(150, 1))];
    store.fail_next_append(Fault::NotPersisted);
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::InjectedAppend(Fault::NotPersisted))
    ));
    assert_eq!(snapshot(&store, 1000), before);
    // The fault is used up: a retry goes in.
    store.append_batch(&batch).unwrap();
    assert_tree(&store, 300);
}

#[test]
fn fault_persisted_applies_the_batch() {
    let store = MemStore::new();
    append_to(&store, 100);
    let mut batch = grow(&store, 100, 300);
    batch.releases = vec![release("serde", "1.0.0", record(150, 1))];
    store.fail_next_append(Fault::Persisted);
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::InjectedAppend(Fault::Persisted))
    ));
    assert_tree(&store, 300);
    assert_eq!(
        store.release("serde", "1.0.0").unwrap(),
        Some(record(150, 1))
    );
    // A blind retry now meets the compare-and-swap: reload to learn it went in.
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::Conflict {
            stored: 300,
            expected: 100
        })
    ));
}

#[test]
fn fault_persisted_on_a_refused_batch_reports_the_refusal() {
    let store = MemStore::new();
    append_to(&store, 100);
    let before = snapshot(&store, 1000);
    store.fail_next_append(Fault::Persisted);
    let stale = grow(&MemStore::new(), 0, 50);
    assert!(matches!(
        store.append_batch(&stale),
        Err(StorageError::Conflict {
            stored: 100,
            expected: 0
        })
    ));
    assert_eq!(snapshot(&store, 1000), before);
    // Used up.
    append_to(&store, 200);
}

#[test]
fn faults_queue_up_in_order() {
    let store = MemStore::new();
    store.fail_next_append(Fault::NotPersisted);
    store.fail_next_append(Fault::Persisted);
    let batch = grow(&store, 0, 10);
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::InjectedAppend(Fault::NotPersisted))
    ));
    assert_eq!(store.load_checkpoint().unwrap(), None);
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::InjectedAppend(Fault::Persisted))
    ));
    assert_tree(&store, 10);
    append_to(&store, 20);
}

#[test]
fn append_hook_decides_per_batch() {
    let store = MemStore::new();
    store.set_append_hook(Some(Arc::new(|batch: &Batch| {
        (batch.new_size >= 300).then_some(Fault::NotPersisted)
    })));
    append_to(&store, 299);
    let batch = grow(&store, 299, 300);
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::InjectedAppend(Fault::NotPersisted))
    ));
    // A queued fault goes first.
    store.fail_next_append(Fault::Persisted);
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::InjectedAppend(Fault::Persisted))
    ));
    assert_tree(&store, 300);
    store.set_append_hook(None);
    append_to(&store, 400);
}

#[test]
fn read_faults_count_down() {
    let store = MemStore::new();
    append_to(&store, 10);
    store.fail_next_reads(3);
    // append_batch's own look-ups are not reads of the caller.
    append_to_without_reading(&store, 10, 20);
    assert!(matches!(
        store.load_checkpoint(),
        Err(StorageError::InjectedRead)
    ));
    assert!(matches!(
        store.release("a", "1"),
        Err(StorageError::InjectedRead)
    ));
    let tile = Tile::new(TileKind::Entries, 0, 20).unwrap();
    assert!(matches!(
        store.read_tiles(&[tile]),
        Err(StorageError::InjectedRead)
    ));
    assert_tree(&store, 20);
    store.fail_next_reads(1);
    assert!(matches!(
        store.revocation(&IDS[0]),
        Err(StorageError::InjectedRead)
    ));
    store.fail_next_reads(1);
    assert!(matches!(
        store.releases("a"),
        Err(StorageError::InjectedRead)
    ));
    assert_eq!(
        store.releases("a").unwrap(),
        [("1".to_string(), record(10, 1))]
    );
}

/// Appends with a batch built from a copy, so that no read of `store` is made.
fn append_to_without_reading(store: &MemStore, old: u64, new: u64) {
    let copy = MemStore::new();
    copy.append_batch(&grow(&copy, 0, old)).unwrap();
    let mut batch = grow(&copy, old, new);
    batch.releases = vec![release("a", "1", record(old, 1))];
    batch.revocations = vec![revoked(IDS[0], 3, old)];
    batch.certificates = vec![(CHAINS[0], old)];
    store.append_batch(&batch).unwrap();
}

#[test]
fn usable_as_a_shared_trait_object() {
    let store: Arc<dyn Storage> = Arc::new(MemStore::new());
    let boxed: Box<dyn Storage> = Box::new(Arc::clone(&store));
    append_to(&boxed, 300);
    assert_tree(&store, 300);
}
