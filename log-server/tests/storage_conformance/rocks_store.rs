//! `RocksStore` only: opening directories, the byte layout, corrupt rows,
//! compaction.

use super::*;

#[test]
fn key_layout_is_as_documented() {
    let h = Rocks::new();
    let mut batch = grow(h.store(), 0, 300);
    batch.releases = vec![release("serde", "1.0.219", record(5, 0xAB))];
    batch.revocations = vec![revoked([0x11; 32], 7, 8)];
    batch.certificates = vec![([0x22; 32], 9)];
    h.store().append_batch(&batch).unwrap();
    drop(h.store);
    let db = raw_db(h.dir.path());
    let rows: Vec<(Vec<u8>, Vec<u8>)> = db
        .iterator(rocksdb::IteratorMode::Start)
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect();

    let mut expected: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (
            b"Mcheckpoint".to_vec(),
            [&300u64.to_be_bytes()[..], &note(300)].concat(),
        ),
        (b"Mformat".to_vec(), vec![0, 0, 0, 2]),
        (b"Morigin".to_vec(), ORIGIN.as_bytes().to_vec()),
        (
            b"Rserde\x001.0.219".to_vec(),
            [&5u64.to_be_bytes()[..], &[0xAB; 32]].concat(),
        ),
    ];
    for (tile, data) in tree_tiles(300) {
        expected.push((tile_key(tile.kind, tile.index), data));
    }
    expected.push((
        [&[b'V'][..], &[0x11; 32]].concat(),
        [7u64.to_be_bytes(), 8u64.to_be_bytes()].concat(),
    ));
    expected.push((
        [&[b'C'][..], &[0x22; 32]].concat(),
        9u64.to_be_bytes().to_vec(),
    ));
    expected.sort();
    assert_eq!(rows.len(), expected.len());
    for (got, want) in rows.iter().zip(&expected) {
        assert_eq!(got, want, "key {:02x?}", want.0);
    }
    // The documented example keys.
    assert_eq!(
        tile_key(TileKind::Hash { level: 0 }, 1_234_067),
        [0x54, 0, 0, 0, 0, 0, 0, 0x12, 0xD4, 0x93]
    );
    // Level 0, 1 and entries: tiles of one kind are contiguous, by index.
    let tile_keys: Vec<&[u8]> = rows
        .iter()
        .map(|(k, _)| k.as_slice())
        .filter(|k| k[0] == b'T')
        .collect();
    assert_eq!(
        tile_keys,
        [
            tile_key(TileKind::Hash { level: 0 }, 0),
            tile_key(TileKind::Hash { level: 0 }, 1),
            tile_key(TileKind::Hash { level: 1 }, 0),
            tile_key(TileKind::Entries, 0),
            tile_key(TileKind::Entries, 1),
        ]
    );
}

#[test]
fn refuses_another_origin() {
    let dir = tempfile::tempdir().unwrap();
    drop(RocksStore::open(dir.path(), ORIGIN).unwrap());
    let err = RocksStore::open(dir.path(), "example.com/other").unwrap_err();
    match &err {
        StorageError::OriginMismatch { stored, expected } => {
            assert_eq!(
                (stored.as_str(), expected.as_str()),
                (ORIGIN, "example.com/other")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("example.com/other"), "{err}");
    // Still fine for its own origin.
    RocksStore::open(dir.path(), ORIGIN).unwrap();
}

#[test]
fn refuses_invalid_origin() {
    let dir = tempfile::tempdir().unwrap();
    for origin in ["", "a\nb"] {
        let err = RocksStore::open(dir.path(), origin).unwrap_err();
        assert!(matches!(err, StorageError::InvalidOrigin(_)), "{err:?}");
    }
    // Nothing was created.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn refuses_a_foreign_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"my files").unwrap();
    let err = RocksStore::open(dir.path(), ORIGIN).unwrap_err();
    assert!(matches!(err, StorageError::NotAStore { .. }), "{err:?}");
    assert!(err.to_string().contains("not a Sigil log store"), "{err}");
    // Nothing was added to it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"]);
}

#[test]
fn refuses_a_foreign_rocksdb_database() {
    let dir = tempfile::tempdir().unwrap();
    raw_put(dir.path(), b"somebody", b"else's data");
    let err = RocksStore::open(dir.path(), ORIGIN).unwrap_err();
    assert!(matches!(err, StorageError::NotAStore { .. }), "{err:?}");
    assert_eq!(
        raw_db(dir.path()).get(b"somebody").unwrap().as_deref(),
        Some(&b"else's data"[..])
    );
}

#[test]
fn initialises_an_empty_rocksdb_database() {
    // What a crash between creating the database and writing the marker
    // leaves.
    let dir = tempfile::tempdir().unwrap();
    drop(raw_db(dir.path()));
    let store = RocksStore::open(dir.path(), ORIGIN).unwrap();
    append_to(&store, 3);
    drop(store);
    assert_tree(&RocksStore::open(dir.path(), ORIGIN).unwrap(), 3);
}

#[test]
fn creates_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/log");
    let store = RocksStore::open(&path, ORIGIN).unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(store.origin(), ORIGIN);
}

#[test]
fn refuses_another_format_version() {
    let dir = tempfile::tempdir().unwrap();
    drop(RocksStore::open(dir.path(), ORIGIN).unwrap());
    // A version-1 store (before certificate rows and revocation entry
    // indexes) and a store from a later build: refused, and left as found.
    for version in [1u32, 3] {
        raw_put(dir.path(), b"Mformat", &version.to_be_bytes());
        let err = RocksStore::open(dir.path(), ORIGIN).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::FormatVersion { found, supported: 2 } if found == version
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("left untouched"), "{err}");
        let marker = raw_db(dir.path()).get(b"Mformat").unwrap().unwrap();
        assert_eq!(marker, version.to_be_bytes());
    }
    raw_put(dir.path(), b"Mformat", b"v1");
    let err = RocksStore::open(dir.path(), ORIGIN).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err:?}");
}

#[test]
fn refuses_a_second_open_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let _store = RocksStore::open(dir.path(), ORIGIN).unwrap();
    let err = RocksStore::open(dir.path(), ORIGIN).unwrap_err();
    assert!(matches!(err, StorageError::RocksDb(_)), "{err:?}");
}

#[test]
fn corrupt_rows_are_errors() {
    let mut h = Rocks::new();
    let mut batch = grow(h.store(), 0, 10);
    batch.releases = vec![
        release("serde", "1.0.0", record(3, 1)),
        release("serde", "1.0.1", record(4, 1)),
    ];
    batch.revocations = vec![revoked(IDS[0], 1, 2)];
    batch.certificates = vec![(CHAINS[0], 5)];
    h.store().append_batch(&batch).unwrap();
    h.store = None;
    let dir = &h.dir.path().to_path_buf();
    raw_put(dir, b"Rserde\x001.0.1", &[0; 39]);
    // A version-1 revocation value (from_index only).
    raw_put(dir, &[&[b'V'][..], &IDS[0]].concat(), &[0; 8]);
    raw_put(dir, &[&[b'C'][..], &CHAINS[0]].concat(), &[0; 9]);
    h.reopen();
    let store = h.store();
    assert!(matches!(
        store.release("serde", "1.0.1"),
        Err(StorageError::Corrupt { .. })
    ));
    assert_eq!(store.release("serde", "1.0.0").unwrap(), Some(record(3, 1)));
    assert!(matches!(
        store.releases("serde"),
        Err(StorageError::Corrupt { .. })
    ));
    assert!(matches!(
        store.revocation(&IDS[0]),
        Err(StorageError::Corrupt { .. })
    ));
    assert!(matches!(
        store.certificate(&CHAINS[0]),
        Err(StorageError::Corrupt { .. })
    ));

    h.store = None;
    raw_put(dir, b"Rserde\x00\xff", &[0; 40]);
    raw_put(dir, b"Mcheckpoint", &[0; 7]);
    h.reopen();
    let store = h.store();
    let err = store.load_checkpoint().unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err:?}");
    // A batch cannot be checked against a corrupt checkpoint.
    let err = store.append_batch(&grow(store, 10, 11)).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err:?}");

    h.store = None;
    raw_db(dir).delete(b"Morigin").unwrap();
    let err = RocksStore::open(dir, ORIGIN).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err:?}");
}

#[test]
fn compaction_keeps_the_data_and_measures() {
    let h = Rocks::new();
    let store = h.store();
    // Partial tiles rewritten many times over.
    for size in (1..=20).map(|k| k * 150) {
        append_to(store, size);
    }
    let before = store.disk_usage().unwrap();
    assert!(before.total() > 0 && before.wal_bytes > 0, "{before:?}");
    store.compact().unwrap();
    let after = store.disk_usage().unwrap();
    assert!(after.sst_bytes > 0, "{after:?}");
    assert_tree(store, 3000);
}
