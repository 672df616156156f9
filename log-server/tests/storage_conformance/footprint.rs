//! Measurement (ignored by default): bytes on disk per entry.

use super::*;

/// splitmix64: a small deterministic generator for incompressible entries.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Bytes on disk per entry beyond the entry bytes: writes
/// `SIGIL_FOOTPRINT_ENTRIES` (default 10^6) random 200-byte entries to a
/// `RocksStore` in batches of 256 (tiles from `append_leaves` and
/// `encode_bundle`, one synced batch each), compacts, and prints the
/// figures. Random entries do not compress: this is the worst case.
#[test]
#[ignore = "measurement: writes ~230 MB; run with --ignored --nocapture"]
fn footprint() {
    const ENTRY_LEN: usize = 200;
    let n: u64 = std::env::var("SIGIL_FOOTPRINT_ENTRIES")
        .map(|v| v.parse().unwrap())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = RocksStore::open(dir.path(), ORIGIN).unwrap();
    let mut random = 0x5EED_u64;
    let started = std::time::Instant::now();
    let mut size = 0;
    while size < n {
        let count = (n - size).min(256);
        let entries: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                (0..ENTRY_LEN / 8)
                    .flat_map(|_| next_random(&mut random).to_le_bytes())
                    .collect()
            })
            .collect();
        let batch = batch_for(&StoreReader(&store), size, &entries);
        store.append_batch(&batch).unwrap();
        size += count;
    }
    let written = started.elapsed();
    let before = store.disk_usage().unwrap();
    let started = std::time::Instant::now();
    store.compact().unwrap();
    let compacted = started.elapsed();
    let after = store.disk_usage().unwrap();
    let per_entry = |bytes: u64| bytes as f64 / n as f64 - ENTRY_LEN as f64;
    println!("entries: {n} x {ENTRY_LEN} B, batches of 256, written in {written:.1?}");
    println!("before compaction: {before:?}");
    println!("after compact() ({compacted:.1?}): {after:?}");
    println!(
        "per entry beyond the {ENTRY_LEN} entry bytes: SST+WAL {:.2} B, whole directory {:.2} B",
        per_entry(after.sst_bytes + after.wal_bytes),
        per_entry(after.total()),
    );
    // The data is all there.
    let last = Tile::at_size(TileKind::Entries, (n - 1) / 256, n).unwrap();
    let data = store.read_tiles(&[last]).unwrap().remove(0).unwrap();
    assert_eq!(parse_bundle(&data).unwrap().len(), usize::from(last.width));
}
