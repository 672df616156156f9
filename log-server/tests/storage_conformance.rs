//! Conformance suite for the log's storage (STYLE.md §7, §8): one set of
//! checks written once over `S: Storage` and run against `RocksStore` (in a
//! temporary directory), `MemStore` and `BucketStore` (on a SeaweedFS of its
//! own; this file, instantiated by `conformance!`); then what only one of
//! them has (`rocks_store`: opening a directory, the byte layout, corrupt
//! rows; `mem_store`: fault injection; `bucket_store`: the S3 semantics,
//! racing sequencers, crash points, cache headers);
//! then a property test that random batches leave both stores answering
//! alike (`agreement`).
//!
//! Also the disk footprint measurement (`footprint`, ignored by default):
//! `cargo test -p sigil-log --test storage_conformance -- --ignored --nocapture footprint`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sigil_core::merkle::{HASH_SIZE, leaf_hash};
use sigil_core::tile::{
    Tile, TileError, TileKind, TileReader, append_leaves, encode_bundle, entry_tiles, hash_tiles,
    parse_bundle, partial_entry_tile, partial_tiles,
};
use sigil_log::storage::object::{Bucket, BucketConfig, LeaseConfig};
use sigil_log::storage::{
    Batch, BucketStore, Fault, MemStore, ReleaseRecord, RevocationRecord, RocksStore, Storage,
    StorageError, StoredCheckpoint, chain_hash,
};

const ORIGIN: &str = "example.com/sigil-test";

// ---------------------------------------------------------------------------
// Harness: a store under test and what only the test can do to it.

/// A store under test.
trait Harness: Sized {
    /// The implementation.
    type S: Storage;
    /// A new, empty store.
    fn new() -> Self;
    /// The store.
    fn store(&self) -> &Self::S;
    /// Closes the store and opens it again (RocksDB: drop, then `open` on the
    /// same directory; memory: the same value).
    fn reopen(&mut self);
    /// Stores `data` as the tile's latest version behind the store's back.
    fn corrupt_tile(&mut self, kind: TileKind, index: u64, data: &[u8]);
    /// Whether the store can run here (the bucket needs SeaweedFS, skipped
    /// only under `SIGIL_SKIP_EXTERNAL_TOOLS=1`).
    fn available() -> bool {
        true
    }
}

/// `RocksStore` in a temporary directory.
struct Rocks {
    dir: tempfile::TempDir,
    store: Option<RocksStore>,
}

impl Harness for Rocks {
    type S = RocksStore;
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Some(RocksStore::open(dir.path(), ORIGIN).unwrap());
        Rocks { dir, store }
    }
    fn store(&self) -> &RocksStore {
        self.store.as_ref().unwrap()
    }
    fn reopen(&mut self) {
        self.store = None;
        self.store = Some(RocksStore::open(self.dir.path(), ORIGIN).unwrap());
    }
    fn corrupt_tile(&mut self, kind: TileKind, index: u64, data: &[u8]) {
        self.store = None;
        raw_put(self.dir.path(), &tile_key(kind, index), data);
        self.reopen();
    }
}

/// `MemStore`.
struct Mem(MemStore);

impl Harness for Mem {
    type S = MemStore;
    fn new() -> Self {
        Mem(MemStore::new())
    }
    fn store(&self) -> &MemStore {
        &self.0
    }
    fn reopen(&mut self) {}
    fn corrupt_tile(&mut self, kind: TileKind, index: u64, data: &[u8]) {
        self.0.overwrite_tile_unchecked(kind, index, data.to_vec());
    }
}

/// `BucketStore` on a SeaweedFS of its own, with its local index in a
/// temporary directory.
struct InBucket {
    weed: sigil_e2e::seaweed::Seaweed,
    dir: tempfile::TempDir,
    store: Option<BucketStore>,
}

impl InBucket {
    /// A store on `weed`'s bucket, its index in `dir`, named `holder`.
    fn open_on(weed: &sigil_e2e::seaweed::Seaweed, dir: &Path, holder: &str) -> BucketStore {
        let bucket = Bucket::open(&BucketConfig {
            url: format!("s3://{}", weed.bucket()),
            endpoint: Some(weed.endpoint()),
            timeout: std::time::Duration::from_secs(10),
        })
        .unwrap();
        BucketStore::open(
            bucket,
            dir,
            ORIGIN,
            LeaseConfig {
                holder: holder.into(),
                lease: std::time::Duration::from_secs(10),
            },
        )
        .unwrap()
    }
}

impl Harness for InBucket {
    type S = BucketStore;
    fn new() -> Self {
        let weed = sigil_e2e::seaweed::Seaweed::start_or_skip().expect("available() said so");
        let dir = tempfile::tempdir().unwrap();
        let store = Some(InBucket::open_on(&weed, dir.path(), "test"));
        InBucket { weed, dir, store }
    }
    fn store(&self) -> &BucketStore {
        self.store.as_ref().unwrap()
    }
    fn reopen(&mut self) {
        self.store = None;
        self.store = Some(InBucket::open_on(&self.weed, self.dir.path(), "test"));
    }
    fn corrupt_tile(&mut self, kind: TileKind, index: u64, data: &[u8]) {
        // Reads are served from the local index.
        self.store = None;
        raw_put(self.dir.path(), &tile_key(kind, index), data);
        self.reopen();
    }
    fn available() -> bool {
        sigil_e2e::seaweed::weed().is_some()
    }
}

// ---------------------------------------------------------------------------
// Building batches the way the sequencer does.

/// The test log's entry `i`.
fn entry(i: u64) -> Vec<u8> {
    format!("sigil test entry {i}").into_bytes()
}

/// A stand-in for the signed checkpoint of `size` (storage does not parse it).
fn note(size: u64) -> Vec<u8> {
    format!("{ORIGIN}\n{size}\nroot-of-{size}\n\n\u{2014} test signature\n").into_bytes()
}

/// Reads tiles for `append_leaves` from a store, cutting a wider stored
/// version down to the width asked for: what the sequencer does.
struct StoreReader<'a, S>(&'a S);

impl<S: Storage> TileReader for StoreReader<'_, S> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        let data = self.0.read_tiles(tiles).map_err(TileError::storage)?;
        tiles
            .iter()
            .zip(data)
            .map(|(tile, data)| {
                let data = data.ok_or(TileError::MissingTile(*tile))?;
                Ok(truncate(tile, &data))
            })
            .collect()
    }
}

/// The first `tile.width` hashes (entries) of a stored tile version.
fn truncate(tile: &Tile, data: &[u8]) -> Vec<u8> {
    let width = usize::from(tile.width);
    match tile.kind {
        TileKind::Hash { .. } => data[..width * HASH_SIZE].to_vec(),
        TileKind::Entries => encode_bundle(&parse_bundle(data).unwrap()[..width]).unwrap(),
    }
}

/// The batch that appends `entries` to the tree of `old_size` held by
/// `reader`: the changed hash tiles, the changed bundles, a checkpoint.
fn batch_for(reader: &impl TileReader, old_size: u64, entries: &[Vec<u8>]) -> Batch {
    let new_size = old_size + entries.len() as u64;
    let hashes: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
    let mut tiles = append_leaves(old_size, reader, &hashes).unwrap();
    // The old partial bundle, then the new entries, in bundles of 256.
    let mut bundle: Vec<Vec<u8>> = match partial_entry_tile(old_size) {
        Some(tile) => {
            let data = reader.read_tiles(&[tile]).unwrap().remove(0);
            parse_bundle(&data)
                .unwrap()
                .iter()
                .map(|e| e.to_vec())
                .collect()
        }
        None => Vec::new(),
    };
    bundle.extend_from_slice(entries);
    for (index, chunk) in (old_size / 256..).zip(bundle.chunks(256)) {
        let tile = Tile::new(TileKind::Entries, index, chunk.len() as u16).unwrap();
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        tiles.push((tile, encode_bundle(&refs).unwrap()));
    }
    Batch {
        old_size,
        new_size,
        tiles,
        releases: Vec::new(),
        certificates: Vec::new(),
        revocations: Vec::new(),
        checkpoint: note(new_size),
    }
}

/// The batch that grows the store's tree from `old_size` to `new_size` with
/// the test entries.
fn grow<S: Storage>(store: &S, old_size: u64, new_size: u64) -> Batch {
    let entries: Vec<_> = (old_size..new_size).map(entry).collect();
    batch_for(&StoreReader(store), old_size, &entries)
}

/// Every tile of the tree of `size` test entries, computed from scratch.
fn tree_tiles(size: u64) -> Vec<(Tile, Vec<u8>)> {
    let entries: Vec<_> = (0..size).map(entry).collect();
    batch_for(&HashMap::<Tile, Vec<u8>>::new(), 0, &entries).tiles
}

/// Checks that the store holds exactly the tree of `size` test entries.
fn assert_tree<S: Storage>(store: &S, size: u64) {
    let expected = tree_tiles(size);
    let tiles: Vec<Tile> = expected.iter().map(|(t, _)| *t).collect();
    let got = store.read_tiles(&tiles).unwrap();
    assert_eq!(got.len(), expected.len());
    for ((tile, want), got) in expected.iter().zip(got) {
        assert_eq!(got.as_ref(), Some(want), "tile {tile} at size {size}");
    }
    let checkpoint = store.load_checkpoint().unwrap().unwrap();
    assert_eq!(
        checkpoint,
        StoredCheckpoint {
            size,
            note: note(size)
        }
    );
}

/// Grows the store's tree to `new_size` (from its stored size).
fn append_to<S: Storage>(store: &S, new_size: u64) {
    let old = store.load_checkpoint().unwrap().map_or(0, |c| c.size);
    store.append_batch(&grow(store, old, new_size)).unwrap();
}

const CRATES: &[&str] = &["serde", "serde-json", "ser", "tokio"];
const IDS: &[[u8; 32]] = &[[1; 32], [2; 32], [3; 32], [4; 32]];
/// Chain hashes of certificate rows.
const CHAINS: &[[u8; 32]] = &[[0xC1; 32], [0xC2; 32], [0xC3; 32]];

/// Everything observable in a store whose tree is at most `limit` entries:
/// to check that a refused batch wrote nothing.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    checkpoint: Option<StoredCheckpoint>,
    tiles: Vec<Option<Vec<u8>>>,
    releases: Vec<Vec<(String, ReleaseRecord)>>,
    certificates: Vec<Option<u64>>,
    revocations: Vec<Option<RevocationRecord>>,
}

fn snapshot<S: Storage>(store: &S, limit: u64) -> Snapshot {
    let tiles: Vec<Tile> = hash_tiles(limit).chain(entry_tiles(limit)).collect();
    Snapshot {
        checkpoint: store.load_checkpoint().unwrap(),
        tiles: store.read_tiles(&tiles).unwrap(),
        releases: CRATES.iter().map(|c| store.releases(c).unwrap()).collect(),
        certificates: CHAINS
            .iter()
            .map(|h| store.certificate(h).unwrap())
            .collect(),
        revocations: IDS.iter().map(|id| store.revocation(id).unwrap()).collect(),
    }
}

/// A revocation of `id` from `from_index`, by the entry at `index`.
fn revoked(id: [u8; 32], from_index: u64, index: u64) -> ([u8; 32], RevocationRecord) {
    (id, RevocationRecord { from_index, index })
}

fn record(index: u64, byte: u8) -> ReleaseRecord {
    ReleaseRecord {
        index,
        sha256: [byte; 32],
    }
}

fn release(crate_name: &str, version: &str, rec: ReleaseRecord) -> (String, String, ReleaseRecord) {
    (crate_name.to_string(), version.to_string(), rec)
}

// ---------------------------------------------------------------------------
// The conformance checks, generic over the store.

fn empty_store<H: Harness>() {
    let h = H::new();
    let store = h.store();
    assert_eq!(store.load_checkpoint().unwrap(), None);
    assert_eq!(
        store.read_tiles(&[]).unwrap(),
        Vec::<Option<Vec<u8>>>::new()
    );
    let tiles = [
        Tile::new(TileKind::Hash { level: 0 }, 0, 256).unwrap(),
        Tile::new(TileKind::Entries, 0, 3).unwrap(),
    ];
    assert_eq!(store.read_tiles(&tiles).unwrap(), vec![None, None]);
    assert_eq!(store.release("serde", "1.0.0").unwrap(), None);
    assert!(store.releases("serde").unwrap().is_empty());
    assert_eq!(store.revocation(&[7; 32]).unwrap(), None);
    assert_eq!(store.certificate(&[7; 32]).unwrap(), None);
}

fn append_and_read_back<H: Harness>() {
    let h = H::new();
    let store = h.store();
    // Across partial and full tiles, a partial bundle, a full level-1 tile
    // (65,536 entries) and the level-2 tile that then appears.
    let mut old = 0;
    let mut at_100 = Vec::new();
    for size in [1, 100, 256, 300, 513, 66_000] {
        store.append_batch(&grow(store, old, size)).unwrap();
        assert_tree(store, size);
        if size == 100 {
            at_100 = tree_tiles(100);
        }
        old = size;
    }
    // Tiles as they were at size 100, asked at their old widths: the store
    // answers with the latest (wider, here full) version, of which the old
    // one is a prefix.
    let tiles: Vec<Tile> = at_100.iter().map(|(t, _)| *t).collect();
    let got = store.read_tiles(&tiles).unwrap();
    for ((tile, old_data), got) in at_100.iter().zip(got) {
        let got = got.unwrap();
        assert!(got.len() > old_data.len(), "{tile} should be wider now");
        assert_eq!(&truncate(tile, &got), old_data, "{tile}");
        assert!(matches!(tile.kind, TileKind::Entries) || got.len() == 256 * HASH_SIZE);
    }
    // Order follows the request, repeats are answered, absent tiles are None.
    let l0 = Tile::new(TileKind::Hash { level: 0 }, 0, 256).unwrap();
    let l0_last = Tile::new(TileKind::Hash { level: 0 }, 257, 208).unwrap();
    let absent = Tile::new(TileKind::Hash { level: 0 }, 258, 1).unwrap();
    let absent_bundle = Tile::new(TileKind::Entries, 258, 1).unwrap();
    let absent_level = Tile::new(TileKind::Hash { level: 3 }, 0, 1).unwrap();
    let got = store
        .read_tiles(&[l0_last, absent, l0, absent_bundle, l0, absent_level])
        .unwrap();
    assert_eq!(got[0].as_ref().map(Vec::len), Some(208 * HASH_SIZE));
    assert_eq!(got[1], None);
    assert_eq!(got[2], got[4]);
    assert_eq!(got[2].as_ref().map(Vec::len), Some(256 * HASH_SIZE));
    assert_eq!(got[3], None);
    assert_eq!(got[5], None);
    // A batch that only replaces the checkpoint (same size).
    let mut same = grow(store, 66_000, 66_000);
    same.checkpoint = b"re-signed".to_vec();
    store.append_batch(&same).unwrap();
    let cp = store.load_checkpoint().unwrap().unwrap();
    assert_eq!((cp.size, cp.note), (66_000, b"re-signed".to_vec()));
}

fn conflict_writes_nothing<H: Harness>() {
    let h = H::new();
    let store = h.store();
    // On an empty store the stored size is 0.
    let mut batch = grow(store, 0, 10);
    batch.old_size = 5;
    batch.tiles.clear();
    assert!(matches!(
        store.append_batch(&batch),
        Err(StorageError::Conflict {
            stored: 0,
            expected: 5
        })
    ));
    assert_eq!(store.load_checkpoint().unwrap(), None);

    append_to(store, 100);
    let before = snapshot(store, 1000);
    // A stale sequencer: built for size 50, the store is at 100.
    let elsewhere = MemStore::new();
    elsewhere.append_batch(&grow(&elsewhere, 0, 50)).unwrap();
    let mut stale = grow(&elsewhere, 50, 400);
    stale
        .releases
        .push(release("tokio", "1.0.0", record(300, 9)));
    stale.revocations.push(revoked(IDS[0], 7, 200));
    stale.certificates.push((CHAINS[0], 201));
    let err = store.append_batch(&stale).unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Conflict {
                stored: 100,
                expected: 50
            }
        ),
        "{err:?}"
    );
    // Built from nothing, as if the log were new.
    let mut fresh = grow(&MemStore::new(), 0, 200);
    fresh
        .releases
        .push(release("tokio", "1.0.0", record(150, 9)));
    assert!(matches!(
        store.append_batch(&fresh),
        Err(StorageError::Conflict {
            stored: 100,
            expected: 0
        })
    ));
    assert_eq!(snapshot(store, 1000), before);
    // The right old size still works.
    append_to(store, 400);
    assert_tree(store, 400);
}

fn invalid_batches_write_nothing<H: Harness>() {
    let h = H::new();
    let store = h.store();
    append_to(store, 300);
    let before = snapshot(store, 2000);
    type Edit = fn(&mut Batch);
    let cases: &[(&str, Edit)] = &[
        ("shrink", |b| {
            b.old_size = 300;
            b.new_size = 200;
        }),
        ("empty checkpoint", |b| b.checkpoint.clear()),
        ("tile narrower than new_size gives", |b| {
            let (t, d) = &mut b.tiles[0];
            *t = Tile::new(t.kind, t.index, t.width - 1).unwrap();
            d.truncate(usize::from(t.width) * HASH_SIZE);
        }),
        ("tile beyond the tree", |b| {
            b.tiles.push((
                Tile::new(TileKind::Hash { level: 0 }, 9, 1).unwrap(),
                vec![0; 32],
            ));
        }),
        ("hash tile of the wrong length", |b| b.tiles[0].1.push(0)),
        ("bundle with the wrong entry count", |b| {
            let (_, d) = b
                .tiles
                .iter_mut()
                .find(|(t, _)| t.kind == TileKind::Entries)
                .unwrap();
            d.extend_from_slice(&[0, 1, b'x']);
        }),
        ("bundle that does not parse", |b| {
            let (_, d) = b
                .tiles
                .iter_mut()
                .find(|(t, _)| t.kind == TileKind::Entries)
                .unwrap();
            d.push(0);
        }),
        ("full tile rewritten", |b| {
            b.tiles.push((
                Tile::new(TileKind::Hash { level: 0 }, 0, 256).unwrap(),
                vec![0; 8192],
            ));
        }),
        ("tile twice", |b| {
            let first = b.tiles[0].clone();
            b.tiles.push(first);
        }),
        ("NUL in crate name", |b| {
            b.releases.push(release("a\0b", "1.0.0", record(301, 1)));
        }),
        ("NUL in version", |b| {
            b.releases.push(release("ab", "1.0.0\0", record(301, 1)));
        }),
        ("release beyond new_size", |b| {
            b.releases.push(release("tokio", "1.0.0", record(600, 1)));
        }),
        ("release twice with different records", |b| {
            b.releases.push(release("tokio", "1.0.0", record(301, 1)));
            b.releases.push(release("tokio", "1.0.0", record(302, 1)));
        }),
        ("certificate beyond new_size", |b| {
            b.certificates.push((CHAINS[1], 600));
        }),
        ("certificate twice with different indexes", |b| {
            b.certificates.push((CHAINS[1], 301));
            b.certificates.push((CHAINS[1], 302));
        }),
        ("revocation entry beyond new_size", |b| {
            b.revocations.push(revoked(IDS[2], 0, 600));
        }),
    ];
    for (name, edit) in cases {
        let mut batch = grow(store, 300, 600);
        batch
            .releases
            .push(release("serde", "1.0.0", record(400, 3)));
        batch.revocations.push(revoked(IDS[1], 10, 401));
        batch.certificates.push((CHAINS[0], 402));
        edit(&mut batch);
        let err = store
            .append_batch(&batch)
            .expect_err(&format!("{name}: accepted"));
        let expected_kind = match *name {
            "shrink" => matches!(
                err,
                StorageError::SizeDecrease {
                    old_size: 300,
                    new_size: 200
                }
            ),
            "release twice with different records" => {
                matches!(err, StorageError::ReleaseMismatch { ref existing, .. } if existing.index == 301)
            }
            "certificate twice with different indexes" => {
                matches!(err, StorageError::CertificateMismatch { existing: 301, .. })
            }
            _ => matches!(err, StorageError::InvalidBatch(_)),
        };
        assert!(expected_kind, "{name}: {err:?}");
        assert_eq!(snapshot(store, 2000), before, "{name}: wrote something");
    }
    // The unedited batch goes in.
    let mut batch = grow(store, 300, 600);
    batch
        .releases
        .push(release("serde", "1.0.0", record(400, 3)));
    store.append_batch(&batch).unwrap();
    assert_tree(store, 600);
}

fn releases_and_revocations<H: Harness>() {
    let h = H::new();
    let store = h.store();
    let mut b1 = grow(store, 0, 10);
    b1.releases = vec![
        release("serde", "1.0.0", record(3, 0xA1)),
        release("serde", "1.0.1", record(7, 0xA2)),
        release("serde-json", "1.0.0", record(5, 0xB1)),
    ];
    // Within a batch the earliest from_index wins; of two alike, the
    // earlier entry.
    b1.revocations = vec![
        revoked(IDS[0], 5, 1),
        revoked(IDS[1], 9, 2),
        revoked(IDS[1], 4, 6),
        revoked(IDS[3], 4, 9),
        revoked(IDS[3], 4, 8),
    ];
    b1.certificates = vec![(CHAINS[0], 0), (CHAINS[1], 4), (CHAINS[1], 4)];
    store.append_batch(&b1).unwrap();
    let mut b2 = grow(store, 10, 20);
    b2.releases = vec![
        release("serde", "0.9.0", record(12, 0xA3)),
        // Identical to a stored row: accepted, changes nothing.
        release("serde", "1.0.0", record(3, 0xA1)),
    ];
    // Later from_index: ignored. Earlier: replaces. New: stored. The same
    // from_index by a later entry: ignored.
    b2.revocations = vec![
        revoked(IDS[0], 8, 11),
        revoked(IDS[1], 2, 13),
        revoked(IDS[2], 0, 14),
        revoked(IDS[3], 4, 15),
    ];
    // Identical to a stored row: accepted, changes nothing.
    b2.certificates = vec![(CHAINS[1], 4), (CHAINS[2], 19)];
    store.append_batch(&b2).unwrap();

    assert_eq!(
        store.release("serde", "1.0.1").unwrap(),
        Some(record(7, 0xA2))
    );
    assert_eq!(store.release("serde", "1.0.2").unwrap(), None);
    assert_eq!(
        store.release("serde-json", "1.0.0").unwrap(),
        Some(record(5, 0xB1))
    );
    assert_eq!(store.release("serde\0json", "1.0.0").unwrap(), None);
    assert_eq!(store.release("serde", "").unwrap(), None);
    let versions: Vec<_> = store
        .releases("serde")
        .unwrap()
        .into_iter()
        .map(|(v, r)| (v, r.index))
        .collect();
    assert_eq!(
        versions,
        [
            ("1.0.0".into(), 3),
            ("1.0.1".into(), 7),
            ("0.9.0".into(), 12)
        ]
    );
    assert_eq!(
        store.releases("serde-json").unwrap(),
        [("1.0.0".to_string(), record(5, 0xB1))]
    );
    assert!(store.releases("ser").unwrap().is_empty());
    assert!(store.releases("serde\0").unwrap().is_empty());
    let revocations: Vec<_> = IDS.iter().map(|id| store.revocation(id).unwrap()).collect();
    assert_eq!(
        revocations,
        [
            Some(revoked(IDS[0], 5, 1).1),
            Some(revoked(IDS[1], 2, 13).1),
            Some(revoked(IDS[2], 0, 14).1),
            Some(revoked(IDS[3], 4, 8).1),
        ]
    );
    assert_eq!(store.certificate(&CHAINS[0]).unwrap(), Some(0));
    assert_eq!(store.certificate(&CHAINS[1]).unwrap(), Some(4));
    assert_eq!(store.certificate(&CHAINS[2]).unwrap(), Some(19));
    assert_eq!(store.certificate(&[0; 32]).unwrap(), None);
}

fn certificate_mismatch_is_atomic<H: Harness>() {
    let h = H::new();
    let store = h.store();
    let mut b1 = grow(store, 0, 10);
    b1.certificates = vec![(CHAINS[0], 2)];
    store.append_batch(&b1).unwrap();
    let before = snapshot(store, 1000);
    let mut b2 = grow(store, 10, 20);
    b2.releases = vec![release("tokio", "1.0.0", record(12, 0xC1))];
    b2.revocations = vec![revoked(IDS[0], 1, 13)];
    // The same chain at another index.
    b2.certificates = vec![(CHAINS[1], 14), (CHAINS[0], 15)];
    let err = store.append_batch(&b2).unwrap_err();
    assert!(
        matches!(err, StorageError::CertificateMismatch { chain_hash, existing: 2 } if chain_hash == CHAINS[0]),
        "{err:?}"
    );
    assert_eq!(snapshot(store, 1000), before);
}

/// The key of a certificate row is the chain's length-prefixed SHA-256
/// (`storage::chain_hash`): moving a byte between certificates changes it.
#[test]
fn chain_hash_is_length_prefixed() {
    let a = chain_hash(&[b"ab".to_vec(), b"c".to_vec()]);
    let b = chain_hash(&[b"a".to_vec(), b"bc".to_vec()]);
    assert_ne!(a, b);
    // SHA-256(00 00 00 01 'x'), from Python's hashlib.
    assert_eq!(
        hex::encode(chain_hash(&[b"x".to_vec()])),
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"\x00\x00\x00\x01x"))
    );
}

fn release_mismatch_is_atomic<H: Harness>() {
    let h = H::new();
    let store = h.store();
    let mut b1 = grow(store, 0, 10);
    b1.releases = vec![release("serde", "1.0.0", record(3, 0xA1))];
    store.append_batch(&b1).unwrap();
    let before = snapshot(store, 1000);
    let mut b2 = grow(store, 10, 300);
    b2.releases = vec![
        release("tokio", "1.0.0", record(20, 0xC1)),
        // Same crate@version, another artifact.
        release("serde", "1.0.0", record(25, 0xA9)),
    ];
    b2.revocations = vec![revoked(IDS[0], 1, 21)];
    b2.certificates = vec![(CHAINS[0], 22)];
    let err = store.append_batch(&b2).unwrap_err();
    match err {
        StorageError::ReleaseMismatch {
            crate_name,
            version,
            existing,
            ..
        } => {
            assert_eq!((crate_name.as_str(), version.as_str()), ("serde", "1.0.0"));
            assert_eq!(existing, record(3, 0xA1));
        }
        other => panic!("expected ReleaseMismatch, got {other:?}"),
    }
    assert_eq!(snapshot(store, 1000), before);
    // Same index, another hash: refused too.
    let mut b3 = grow(store, 10, 11);
    b3.releases = vec![release("serde", "1.0.0", record(3, 0xA2))];
    assert!(matches!(
        store.append_batch(&b3),
        Err(StorageError::ReleaseMismatch { .. })
    ));
    assert_eq!(snapshot(store, 1000), before);
}

fn reopen_keeps_everything<H: Harness>() {
    let mut h = H::new();
    let mut b = grow(h.store(), 0, 700);
    b.releases = vec![release("serde", "1.0.0", record(3, 0xA1))];
    b.revocations = vec![revoked(IDS[3], 44, 45)];
    b.certificates = vec![(CHAINS[2], 46)];
    h.store().append_batch(&b).unwrap();
    let before = snapshot(h.store(), 2000);
    h.reopen();
    assert_eq!(snapshot(h.store(), 2000), before);
    assert_tree(h.store(), 700);
    // The compare-and-swap starts from the stored size.
    let stale = grow(&MemStore::new(), 0, 5);
    assert!(matches!(
        h.store().append_batch(&stale),
        Err(StorageError::Conflict {
            stored: 700,
            expected: 0
        })
    ));
    append_to(h.store(), 1000);
    h.reopen();
    assert_tree(h.store(), 1000);
}

fn corrupt_tile_is_an_error<H: Harness>() {
    let mut h = H::new();
    append_to(h.store(), 300);
    let l0 = |index, width| Tile::new(TileKind::Hash { level: 0 }, index, width).unwrap();
    let bundle = |index, width| Tile::new(TileKind::Entries, index, width).unwrap();
    let cases: &[(Tile, &[u8])] = &[
        (l0(0, 256), &[0; 33]),
        (l0(0, 256), &[]),
        (l0(1, 44), &[0; 257 * 32]),
        (bundle(0, 256), &[0, 5, b'a']),
        (bundle(1, 44), &[]),
    ];
    for (tile, garbage) in cases {
        h.corrupt_tile(tile.kind, tile.index, garbage);
        let err = h.store().read_tiles(&[*tile]).unwrap_err();
        assert!(
            matches!(err, StorageError::Corrupt { .. }),
            "{tile}: {err:?}"
        );
        // The error names the tile.
        let path = tile.path();
        let stem = path.split(".p/").next().unwrap();
        assert!(err.to_string().contains(stem), "{err}");
    }
    // Other tiles still read.
    let level1 = Tile::new(TileKind::Hash { level: 1 }, 0, 1).unwrap();
    assert_eq!(
        h.store().read_tiles(&[level1]).unwrap()[0]
            .as_ref()
            .map(Vec::len),
        Some(32)
    );
}

fn concurrent_reads_during_appends<H: Harness>() {
    let h = H::new();
    let store = h.store();
    let mut sizes = Vec::new();
    let mut size = 0;
    for step in [
        1u64, 254, 1, 44, 300, 255, 513, 2, 700, 17, 256, 256, 1000, 3,
    ] {
        size += step;
        sizes.push(size);
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut last = 0;
                loop {
                    // One more round after the writer is done: it sees the end.
                    let finished = done.load(Ordering::Acquire);
                    last = check_committed_state(store, &sizes, last);
                    if finished {
                        break;
                    }
                }
                assert_eq!(last, *sizes.last().unwrap());
            });
        }
        let mut old = 0;
        for (k, &new) in sizes.iter().enumerate() {
            let mut batch = grow(store, old, new);
            batch.releases = vec![release(&format!("crate-{k}"), "1.0.0", record(new - 1, 1))];
            store.append_batch(&batch).unwrap();
            old = new;
        }
        done.store(true, Ordering::Release);
    });
}

/// What a reader may rely on at any moment: once the checkpoint says `s`,
/// every row committed with it and every tile of the tree of `s` is there
/// (at least as wide), and the size never goes back.
fn check_committed_state<S: Storage>(store: &S, sizes: &[u64], last: u64) -> u64 {
    let Some(checkpoint) = store.load_checkpoint().unwrap() else {
        return last;
    };
    let size = checkpoint.size;
    assert!(size >= last, "size went back from {last} to {size}");
    assert!(sizes.contains(&size));
    for (k, _) in sizes.iter().enumerate().filter(|(_, s)| **s <= size) {
        let row = store.release(&format!("crate-{k}"), "1.0.0").unwrap();
        assert!(row.is_some(), "row of batch {k} missing at size {size}");
    }
    let mut tiles = partial_tiles(size);
    tiles.extend(partial_entry_tile(size));
    if size >= 256 {
        let last_full = size / 256 - 1;
        tiles.push(Tile::new(TileKind::Hash { level: 0 }, last_full, 256).unwrap());
        tiles.push(Tile::new(TileKind::Entries, last_full, 256).unwrap());
    }
    let data = store.read_tiles(&tiles).unwrap();
    for (tile, data) in tiles.iter().zip(data) {
        let data = data.unwrap_or_else(|| panic!("{tile} missing at size {size}"));
        let first = tile.index * 256;
        match tile.kind {
            TileKind::Hash { level: 0 } => {
                assert!(data.len() >= usize::from(tile.width) * HASH_SIZE);
                for (j, hash) in data.chunks(HASH_SIZE).take(tile.width.into()).enumerate() {
                    assert_eq!(hash, leaf_hash(&entry(first + j as u64)), "{tile}");
                }
            }
            TileKind::Hash { .. } => assert!(data.len() >= usize::from(tile.width) * HASH_SIZE),
            TileKind::Entries => {
                let entries = parse_bundle(&data).unwrap();
                assert!(entries.len() >= tile.width.into(), "{tile}");
                for (j, e) in entries.iter().take(tile.width.into()).enumerate() {
                    assert_eq!(*e, entry(first + j as u64).as_slice());
                }
            }
        }
    }
    size
}

macro_rules! conformance {
    ($module:ident, $harness:ty) => {
        mod $module {
            use super::*;
            #[test]
            fn empty_store() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::empty_store::<$harness>();
            }
            #[test]
            fn append_and_read_back() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::append_and_read_back::<$harness>();
            }
            #[test]
            fn conflict_writes_nothing() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::conflict_writes_nothing::<$harness>();
            }
            #[test]
            fn invalid_batches_write_nothing() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::invalid_batches_write_nothing::<$harness>();
            }
            #[test]
            fn releases_and_revocations() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::releases_and_revocations::<$harness>();
            }
            #[test]
            fn certificate_mismatch_is_atomic() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::certificate_mismatch_is_atomic::<$harness>();
            }
            #[test]
            fn release_mismatch_is_atomic() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::release_mismatch_is_atomic::<$harness>();
            }
            #[test]
            fn reopen_keeps_everything() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::reopen_keeps_everything::<$harness>();
            }
            #[test]
            fn corrupt_tile_is_an_error() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::corrupt_tile_is_an_error::<$harness>();
            }
            #[test]
            fn concurrent_reads_during_appends() {
                if !<$harness as Harness>::available() {
                    return;
                }
                super::concurrent_reads_during_appends::<$harness>();
            }
        }
    };
}

conformance!(rocks, Rocks);
conformance!(mem, Mem);
conformance!(bucket, InBucket);

// ---------------------------------------------------------------------------
// Raw access to a RocksDB store's directory, behind the store's back.

/// A tile's key, as `storage::rocks` documents it.
fn tile_key(kind: TileKind, index: u64) -> Vec<u8> {
    let kind = match kind {
        TileKind::Hash { level } => level,
        TileKind::Entries => 0xFF,
    };
    let mut key = vec![b'T', kind];
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Opens the directory as a plain RocksDB database, behind the store's back.
fn raw_db(dir: &Path) -> rocksdb::DB {
    let mut opts = rocksdb::Options::default();
    opts.create_if_missing(true);
    opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
    rocksdb::DB::open(&opts, dir).unwrap()
}

fn raw_put(dir: &Path, key: &[u8], value: &[u8]) {
    raw_db(dir).put(key, value).unwrap();
}

// A test crate's root resolves `mod` next to itself: name the files.
#[path = "storage_conformance/agreement.rs"]
mod agreement;
#[path = "storage_conformance/bucket_store.rs"]
mod bucket_store;
#[path = "storage_conformance/footprint.rs"]
mod footprint;
#[path = "storage_conformance/mem_store.rs"]
mod mem_store;
#[path = "storage_conformance/rocks_store.rs"]
mod rocks_store;
