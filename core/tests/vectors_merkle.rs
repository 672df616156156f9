//! Checks `sigil_core::merkle` and `sigil_core::tile` against the published
//! vectors in `core/testdata/tlog-vectors/tlog-vectors.txt`.
//!
//! The file is parsed section by section; every data line of the Merkle and
//! tile sections is checked, and the number of vectors checked is compared
//! with the number of data lines the file holds, so a line the parser skips
//! fails the test. `[signed notes]` belongs to `vectors_note.rs` and is only
//! counted here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use sigil_core::merkle::{
    Hash, MemoryHashes, MerkleError, NodeId, empty_root, leaf_hash, prove_consistency,
    prove_inclusion, root_from_leaf_hashes, tree_hash, verify_consistency, verify_inclusion,
};
use sigil_core::tile::{
    Tile, TileHashReader, TileKind, append_leaves, hash_tiles_for_size, partial_tiles,
};

const VECTORS: &str = "testdata/tlog-vectors/tlog-vectors.txt";

/// This package's directory, as cargo reports it when it runs the test (a
/// target directory shared between clones may hold a binary built in
/// another clone, so the compile-time path is only the fallback).
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn hash(hex_str: &str) -> Hash {
    let bytes = hex::decode(hex_str.trim()).unwrap_or_else(|e| panic!("bad hex {hex_str:?}: {e}"));
    bytes
        .try_into()
        .unwrap_or_else(|b: Vec<u8>| panic!("hash of {} bytes: {hex_str}", b.len()))
}

/// `[h1, h2, ...]` or `[]`.
fn hash_list(s: &str) -> Vec<Hash> {
    let inner = s
        .trim()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not a [list]: {s:?}"));
    if inner.trim().is_empty() {
        return Vec::new();
    }
    inner.split(',').map(hash).collect()
}

/// `key=value` → value.
fn field<'a>(s: &'a str, key: &str) -> &'a str {
    s.trim()
        .strip_prefix(key)
        .and_then(|s| s.strip_prefix('='))
        .unwrap_or_else(|| panic!("expected {key}=...: {s:?}"))
}

fn num(s: &str) -> u64 {
    s.trim()
        .parse()
        .unwrap_or_else(|e| panic!("bad number {s:?}: {e}"))
}

/// The file, split into sections: name (text of the `[...]` header) → data
/// lines (not blank, not `#` comments).
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let (name, _) = rest.split_once(']').expect("section header");
            out.push((name.to_string(), Vec::new()));
            continue;
        }
        let (_, lines) = out.last_mut().expect("data line before any section");
        lines.push(trimmed.to_string());
    }
    out
}

/// An independent count of the data lines of each section: every line that
/// is not blank, not a comment and not a header, attributed to the last
/// header seen.
fn data_lines_per_section(text: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            current = line[1..line.find(']').unwrap()].to_string();
            counts.entry(current.clone()).or_insert(0);
        } else {
            *counts.get_mut(&current).unwrap() += 1;
        }
    }
    counts
}

/// The log's tiles after appending the leaves one at a time, so that every
/// size 1..=n has its partial tiles, as when each size was published.
fn tiles_published_at_every_size(leaves: &[Hash]) -> HashMap<Tile, Vec<u8>> {
    let mut store = HashMap::new();
    for (size, leaf) in leaves.iter().enumerate() {
        for (tile, data) in append_leaves(size as u64, &store, std::slice::from_ref(leaf)).unwrap()
        {
            store.insert(tile, data);
        }
    }
    store
}

#[derive(Default)]
struct Checked {
    per_section: BTreeMap<String, usize>,
}

impl Checked {
    fn one(&mut self, section: &str) {
        *self.per_section.entry(section.to_string()).or_insert(0) += 1;
    }
}

#[test]
fn published_vectors() {
    let text = std::fs::read_to_string(manifest_dir().join(VECTORS)).unwrap();
    let sections = sections(&text);
    let mut checked = Checked::default();

    // [leaves] — "0: '' -> 6e34…": also gives the tree the other sections use.
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut leaves: Vec<Hash> = Vec::new();
    let (name, lines) = sections
        .iter()
        .find(|(n, _)| n == "leaves")
        .expect("[leaves]");
    for line in lines {
        let (index, rest) = line.split_once(':').unwrap();
        let (input, expected) = rest.split_once("->").unwrap();
        assert_eq!(
            num(index),
            entries.len() as u64,
            "leaves out of order: {line}"
        );
        let input = input.trim().trim_matches('\'');
        let entry = hex::decode(input).unwrap();
        assert_eq!(leaf_hash(&entry), hash(expected), "leaf {line}");
        leaves.push(hash(expected));
        entries.push(entry);
        checked.one(name);
    }
    assert_eq!(leaves.len(), 8, "the vectors describe an 8-leaf tree");
    let memory = MemoryHashes::from_leaf_hashes(leaves.clone());
    let tiles = tiles_published_at_every_size(&leaves);

    let mut roots: BTreeMap<u64, Hash> = BTreeMap::new();
    for (name, lines) in &sections {
        for line in lines {
            match name.as_str() {
                "leaves" => continue, // done above
                "roots" => {
                    // n=3: aeb6…
                    let (n, expected) = line.split_once(':').unwrap();
                    let n = num(field(n, "n"));
                    let expected = hash(expected);
                    let size = usize::try_from(n).unwrap();
                    assert_eq!(root_from_leaf_hashes(&leaves[..size]), expected, "{line}");
                    assert_eq!(tree_hash(n, &memory).unwrap(), expected, "{line}");
                    let trusted = TileHashReader::trusted(n, &tiles);
                    assert_eq!(tree_hash(n, &trusted).unwrap(), expected, "tiles: {line}");
                    let auth = TileHashReader::authenticated(n, expected, &tiles);
                    assert_eq!(tree_hash(n, &auth).unwrap(), expected, "auth tiles: {line}");
                    roots.insert(n, expected);
                }
                n if n.starts_with("interior nodes") => {
                    // L1[0] = MTH(D[0:2]) = fac5…
                    let mut parts = line.split('=');
                    let node = parts.next().unwrap().trim();
                    let range = parts.next().unwrap().trim();
                    let expected = hash(parts.next().unwrap());
                    let (level, index) = node.strip_prefix('L').unwrap().split_once('[').unwrap();
                    let id = NodeId::new(
                        num(level).try_into().unwrap(),
                        num(index.strip_suffix(']').unwrap()),
                    );
                    let (start, end) = range
                        .strip_prefix("MTH(D[")
                        .and_then(|r| r.strip_suffix("])"))
                        .unwrap()
                        .split_once(':')
                        .unwrap();
                    let (start, end) = (num(start), num(end));
                    assert_eq!(start, id.index << id.level, "{line}");
                    assert_eq!(end, (id.index + 1) << id.level, "{line}");
                    let range = usize::try_from(start).unwrap()..usize::try_from(end).unwrap();
                    assert_eq!(root_from_leaf_hashes(&leaves[range]), expected, "{line}");
                    assert_eq!(memory.node(id), Some(expected), "{line}");
                    let trusted = TileHashReader::trusted(8, &tiles);
                    assert_eq!(
                        sigil_core::merkle::HashReader::read_hashes(&trusted, &[id]).unwrap(),
                        [expected],
                        "tiles: {line}"
                    );
                }
                "inclusion proofs" => {
                    // idx=5 size=8: [h, h, h]
                    let (params, proof) = line.split_once(':').unwrap();
                    let (idx, size) = params.trim().split_once(' ').unwrap();
                    let (index, size) = (num(field(idx, "idx")), num(field(size, "size")));
                    let expected = hash_list(proof);
                    let leaf = &leaves[usize::try_from(index).unwrap()];
                    let root = roots.get(&size).expect("roots come before proofs");
                    assert_eq!(
                        prove_inclusion(index, size, &memory).unwrap(),
                        expected,
                        "{line}"
                    );
                    let trusted = TileHashReader::trusted(size, &tiles);
                    assert_eq!(
                        prove_inclusion(index, size, &trusted).unwrap(),
                        expected,
                        "tiles: {line}"
                    );
                    let auth = TileHashReader::authenticated(size, *root, &tiles);
                    assert_eq!(
                        prove_inclusion(index, size, &auth).unwrap(),
                        expected,
                        "auth: {line}"
                    );
                    verify_inclusion(leaf, index, size, &expected, root).unwrap();
                }
                "consistency proofs" => {
                    // 6->8: [h, h, h]
                    let (sizes, proof) = line.split_once(':').unwrap();
                    let (old, new) = sizes.split_once("->").unwrap();
                    let (old, new) = (num(old), num(new));
                    let expected = hash_list(proof);
                    let (old_root, new_root) = (roots[&old], roots[&new]);
                    assert_eq!(
                        prove_consistency(old, new, &memory).unwrap(),
                        expected,
                        "{line}"
                    );
                    let trusted = TileHashReader::trusted(new, &tiles);
                    assert_eq!(
                        prove_consistency(old, new, &trusted).unwrap(),
                        expected,
                        "tiles: {line}"
                    );
                    let auth = TileHashReader::authenticated(new, new_root, &tiles);
                    assert_eq!(
                        prove_consistency(old, new, &auth).unwrap(),
                        expected,
                        "auth: {line}"
                    );
                    verify_consistency(old, new, &old_root, &new_root, &expected).unwrap();
                }
                "tile paths" => check_tile_path_line(line),
                "signed notes" => continue, // vectors_note.rs
                other => panic!("unknown section [{other}]"),
            }
            checked.one(name);
        }
    }

    // Every data line of every section this file checks was checked.
    let mut expected_counts = data_lines_per_section(&text);
    expected_counts.remove("signed notes");
    assert_eq!(checked.per_section, expected_counts);
    // And the file still holds what it held when this test was written.
    let total: usize = expected_counts.values().sum();
    assert!(
        total >= 8 + 9 + 7 + 8 + 9 + 3,
        "vectors went missing: {expected_counts:?}"
    );
    assert_eq!(
        roots.keys().copied().collect::<Vec<_>>(),
        (0..=8).collect::<Vec<_>>()
    );
    assert_eq!(roots[&0], empty_root());
}

/// The three lines of `[tile paths]`.
fn check_tile_path_line(line: &str) {
    if let Some(rest) = line.strip_prefix("index ") {
        // index 1234067 -> x001/x234/067 ; C2SP tlog-tiles: tile/0/x001/x234/067,
        //   tile/entries/x001/x234/067, partial: .../067.p/112
        let (index, rest) = rest.split_once("->").unwrap();
        let index = num(index);
        let (elements, rest) = rest.split_once(';').unwrap();
        let elements = elements.trim();
        let paths = rest.split_once(':').unwrap().1;
        let mut paths = paths.split(',').map(str::trim);
        let hash_tile = Tile::new(TileKind::Hash { level: 0 }, index, 256).unwrap();
        let entries = Tile::new(TileKind::Entries, index, 256).unwrap();
        let partial = Tile::new(TileKind::Hash { level: 0 }, index, 112).unwrap();
        assert_eq!(hash_tile.path(), format!("tile/0/{elements}"));
        assert_eq!(hash_tile.path(), paths.next().unwrap());
        assert_eq!(entries.path(), paths.next().unwrap());
        let suffix = paths.next().unwrap().strip_prefix("partial: ...").unwrap();
        assert!(
            partial.path().ends_with(suffix),
            "{} vs {suffix}",
            partial.path()
        );
        assert_eq!(partial.path(), "tile/0/x001/x234/067.p/112");
        for tile in [hash_tile, entries, partial] {
            assert_eq!(Tile::parse_path(&tile.path()).unwrap(), tile);
            assert_eq!(Tile::parse_path(&format!("/{tile}")).unwrap(), tile);
        }
        assert_eq!(paths.next(), None);
    } else if let Some(rest) = line.strip_prefix("golang sumdb (tile height in path):") {
        // Go's sumdb puts the tile height in the path: not a C2SP tile path.
        let mut seen = 0;
        for path in rest.split(';').map(|p| p.trim().split(' ').next().unwrap()) {
            assert!(
                Tile::parse_path(path).is_err(),
                "sumdb path accepted: {path}"
            );
            seen += 1;
        }
        assert_eq!(seen, 3);
    } else if let Some(rest) = line.strip_prefix("size ") {
        // size 70000 (C2SP example): 273 full L0 tiles + L0 partial w=112; 1 full L1 + ...
        let (size, facts) = rest.split_once(':').unwrap();
        let size = num(size.split(' ').next().unwrap());
        let tiles = hash_tiles_for_size(size);
        let mut facts_checked = 0;
        let mut described = 0;
        for fact in facts.split([';', '+']).map(str::trim) {
            let words: Vec<&str> = fact.split(' ').collect();
            let level_of = |w: &str| -> u8 { w.strip_prefix('L').unwrap().parse().unwrap() };
            match words.as_slice() {
                [count, "full", level, ..] => {
                    let level = level_of(level);
                    let full = tiles
                        .iter()
                        .filter(|t| t.kind == TileKind::Hash { level } && t.is_full())
                        .count();
                    assert_eq!(full as u64, num(count), "{fact}");
                    described += full;
                }
                [level, "partial", width] => {
                    let level = level_of(level);
                    let width: u16 = field(width, "w").parse().unwrap();
                    let partial: Vec<_> = tiles
                        .iter()
                        .filter(|t| t.kind == TileKind::Hash { level } && !t.is_full())
                        .collect();
                    assert_eq!(partial.len(), 1, "{fact}");
                    assert_eq!(partial[0].width, width, "{fact}");
                    assert!(partial_tiles(size).contains(partial[0]), "{fact}");
                    described += 1;
                }
                _ => panic!("unrecognised tile fact {fact:?}"),
            }
            facts_checked += 1;
        }
        assert_eq!(facts_checked, 5);
        assert_eq!(
            described,
            tiles.len(),
            "tiles beyond those described: {tiles:?}"
        );
    } else {
        panic!("unrecognised [tile paths] line: {line}");
    }
}

/// The edge cases listed in the vector file's comments.
#[test]
fn edge_cases_from_the_vector_file() {
    let text = std::fs::read_to_string(manifest_dir().join(VECTORS)).unwrap();
    assert!(text.contains("size1==0 -> error (even 0->0)"));
    let leaves: Vec<Hash> = (0u8..8).map(|i| leaf_hash(&[i])).collect();
    let memory = MemoryHashes::from_leaf_hashes(leaves.clone());
    let root = |n: usize| root_from_leaf_hashes(&leaves[..n]);
    let empty = empty_root();

    // size1 == 0 -> error, even 0 -> 0.
    for new in [0, 1, 8] {
        assert!(matches!(
            verify_consistency(0, new, &empty, &root(new as usize), &[]),
            Err(MerkleError::ZeroOldSize)
        ));
        assert!(matches!(
            prove_consistency(0, new, &memory),
            Err(MerkleError::ZeroOldSize)
        ));
    }
    // size1 == size2 -> proof must be empty and roots equal.
    for n in 1..=8 {
        verify_consistency(n, n, &root(n as usize), &root(n as usize), &[]).unwrap();
        assert_eq!(
            prove_consistency(n, n, &memory).unwrap(),
            Vec::<Hash>::new()
        );
        assert!(matches!(
            verify_consistency(n, n, &root(n as usize), &root(n as usize), &[root(1)]),
            Err(MerkleError::WrongProofLength {
                expected: 0,
                got: 1
            })
        ));
        let other = root(n as usize % 8 + 1);
        assert!(matches!(
            verify_consistency(n, n, &root(n as usize), &other, &[]),
            Err(MerkleError::RootMismatch)
        ));
    }
    // size1 > size2 -> error.
    assert!(matches!(
        verify_consistency(5, 4, &root(5), &root(4), &[]),
        Err(MerkleError::InvalidSize {
            old_size: 5,
            new_size: 4
        })
    ));
    // A non-empty proof is needed between different sizes.
    assert!(matches!(
        verify_consistency(4, 8, &root(4), &root(8), &[]),
        Err(MerkleError::WrongProofLength { .. })
    ));
    // leafHash len != 32 -> error: a hash is a [u8; 32], so a 31- or 33-byte
    // value cannot be passed at all; converting one fails.
    assert!(Hash::try_from(&[0u8; 31][..]).is_err());
    assert!(Hash::try_from(&[0u8; 33][..]).is_err());
    // idx >= size -> error.
    for (index, size) in [(0, 0), (8, 8), (9, 8), (u64::MAX, u64::MAX)] {
        assert!(matches!(
            verify_inclusion(&leaves[0], index, size, &[], &root(1)),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
    }
    assert!(matches!(
        prove_inclusion(8, 8, &memory),
        Err(MerkleError::IndexOutOfRange { index: 8, size: 8 })
    ));
    // Proof length must equal inner + border exactly.
    let proof = prove_inclusion(5, 8, &memory).unwrap();
    for bad in [&proof[..2], &[proof.as_slice(), &[root(1)]].concat()[..]] {
        assert!(matches!(
            verify_inclusion(&leaves[5], 5, 8, bad, &root(8)),
            Err(MerkleError::WrongProofLength { expected: 3, .. })
        ));
    }
    let proof = prove_consistency(3, 7, &memory).unwrap();
    assert_eq!(proof.len(), 4);
    for bad in [&proof[..3], &[proof.as_slice(), &[root(1)]].concat()[..]] {
        assert!(matches!(
            verify_consistency(3, 7, &root(3), &root(7), bad),
            Err(MerkleError::WrongProofLength { expected: 4, .. })
        ));
    }
}

/// When the shared copy of the vectors sits beside the clone, the test copy
/// must be byte-identical to it.
#[test]
fn testdata_copy_matches_the_shared_vectors() {
    let ours = std::fs::read(manifest_dir().join(VECTORS)).unwrap();
    let workspace = std::fs::canonicalize(manifest_dir().join("..")).unwrap();
    // `<workspace>/../shared/vectors/` first (a clone beside `shared/`), then
    // further up (a clone one directory deeper, e.g. `h/<name>/`).
    let shared = workspace
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/vectors/tlog-vectors.txt"))
        .find(|p| p.is_file());
    match shared {
        Some(path) => {
            let theirs = std::fs::read(&path).unwrap();
            assert!(
                ours == theirs,
                "{} differs from {}",
                VECTORS,
                path.display()
            );
        }
        None => eprintln!("no shared/vectors/tlog-vectors.txt beside the workspace: not compared"),
    }
    assert!(Path::new(&manifest_dir().join(VECTORS)).is_file());
}
