//! Tests of `sigil_core::tile`: the path table, path round trips, growing
//! tiles with `append_leaves`, the authenticated tile reader, entry bundles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use proptest::prelude::*;
use sigil_core::merkle::{
    Hash, HashReader, MemoryHashes, MerkleError, NodeId, leaf_hash, prove_consistency,
    prove_inclusion, root_from_leaf_hashes, tree_hash,
};
use sigil_core::tile::{
    MAX_ENTRY_SIZE, Tile, TileError, TileHashReader, TileKind, TileReader, append_leaves,
    encode_bundle, entry_tiles_for_size, hash_tiles, hash_tiles_for_size, parse_bundle,
    parse_bundle_for_tile, partial_entry_tile, partial_tiles, tile_for_node,
};

const fn hash_tile(level: u8, index: u64, width: u16) -> Tile {
    Tile {
        kind: TileKind::Hash { level },
        index,
        width,
    }
}

const fn entries(index: u64, width: u16) -> Tile {
    Tile {
        kind: TileKind::Entries,
        index,
        width,
    }
}

/// Path → expected parse. `Err` carries why the path is not canonical.
const PATHS: &[(&str, Result<Tile, &str>)] = &[
    ("tile/0/000", Ok(hash_tile(0, 0, 256))),
    ("/tile/0/000", Ok(hash_tile(0, 0, 256))),
    ("tile/0/001", Ok(hash_tile(0, 1, 256))),
    ("tile/0/999", Ok(hash_tile(0, 999, 256))),
    ("tile/0/x001/000", Ok(hash_tile(0, 1000, 256))),
    ("tile/0/x001/x234/067", Ok(hash_tile(0, 1_234_067, 256))),
    (
        "tile/0/x001/x234/067.p/112",
        Ok(hash_tile(0, 1_234_067, 112)),
    ),
    (
        "/tile/0/x001/x234/067.p/112",
        Ok(hash_tile(0, 1_234_067, 112)),
    ),
    ("tile/0/000.p/1", Ok(hash_tile(0, 0, 1))),
    ("tile/0/000.p/255", Ok(hash_tile(0, 0, 255))),
    ("tile/1/000.p/17", Ok(hash_tile(1, 0, 17))),
    ("tile/2/000.p/1", Ok(hash_tile(2, 0, 1))),
    ("tile/10/x999/999", Ok(hash_tile(10, 999_999, 256))),
    ("tile/63/000", Ok(hash_tile(63, 0, 256))),
    (
        "tile/0/x018/x446/x744/x073/x709/x551/615",
        Ok(hash_tile(0, u64::MAX, 256)),
    ),
    ("tile/entries/000", Ok(entries(0, 256))),
    ("tile/entries/x001/x234/067", Ok(entries(1_234_067, 256))),
    (
        "tile/entries/x001/x234/067.p/255",
        Ok(entries(1_234_067, 255)),
    ),
    ("/tile/entries/005.p/3", Ok(entries(5, 3))),
    // Shape of the path.
    ("", Err("empty")),
    ("/", Err("empty")),
    ("tile", Err("no level")),
    ("tile/", Err("empty level")),
    ("tile/0", Err("no index")),
    ("tile/0/", Err("empty index")),
    ("tile/0/000/", Err("trailing slash")),
    ("/tile/0/000/", Err("trailing slash")),
    ("//tile/0/000", Err("two leading slashes")),
    ("tile//0/000", Err("empty element")),
    (" tile/0/000", Err("leading space")),
    ("tile/0/000 ", Err("trailing space")),
    ("tile/0/000?x=1", Err("query string")),
    ("tiles/0/000", Err("not tile/")),
    ("Tile/0/000", Err("case")),
    ("tile/entries", Err("no index")),
    ("tile/Entries/000", Err("case")),
    ("tile/data/000", Err("sumdb's name for bundles")),
    // <L>
    ("tile/00/000", Err("leading zero in L")),
    ("tile/01/000", Err("leading zero in L")),
    ("tile/64/000", Err("L above 63")),
    ("tile/100/000", Err("L above 63")),
    ("tile/-1/000", Err("sign")),
    ("tile/+1/000", Err("sign")),
    ("tile/ 1/000", Err("space")),
    ("tile/a/000", Err("not a number")),
    ("tile/٣/000", Err("non-ASCII digit")),
    // <N>
    ("tile/0/0", Err("one digit")),
    ("tile/0/00", Err("two digits")),
    ("tile/0/0000", Err("four digits")),
    ("tile/0/1", Err("not zero-padded")),
    ("tile/0/+01", Err("sign")),
    ("tile/0/٠٠٠", Err("non-ASCII digits")),
    ("tile/0/x000", Err("x on the last element")),
    ("tile/0/x001", Err("x on the last element")),
    ("tile/0/x001/x234/x067", Err("x on the last element")),
    ("tile/0/001/000", Err("missing x")),
    ("tile/0/x001/234/067", Err("missing x")),
    ("tile/0/X001/000", Err("capital X")),
    ("tile/0/xx01/000", Err("extra x")),
    ("tile/0/x01/000", Err("two digits after x")),
    ("tile/0/x0001/000", Err("four digits after x")),
    ("tile/0/x000/001", Err("leading x000 element")),
    ("tile/0/x000/x001/000", Err("leading x000 element")),
    ("tile/0/x001//067", Err("empty element")),
    (
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        Err("above u64::MAX"),
    ),
    (
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        Err("above u64::MAX, 8 elements"),
    ),
    // .p/<W>
    ("tile/0/000.p/0", Err("W = 0")),
    ("tile/0/000.p/256", Err("W = 256: full tiles have no .p/")),
    ("tile/0/000.p/1000", Err("W above 255")),
    ("tile/0/000.p/012", Err("leading zero in W")),
    ("tile/0/000.p/00", Err("leading zero in W")),
    ("tile/0/000.p/", Err("empty W")),
    ("tile/0/000.p", Err("no W")),
    ("tile/0/000.p/1/", Err("trailing slash")),
    ("tile/0/000.p/+1", Err("sign")),
    ("tile/0/000.P/1", Err("capital P")),
    ("tile/0/000/p/1", Err("missing dot")),
    ("tile/0/000.q/1", Err("not .p")),
    ("tile/0/000.p/1.p/1", Err("two suffixes")),
    ("tile/0/000.p.p/1", Err("two suffixes")),
    ("tile/0/x001.p/000", Err(".p on a non-final element")),
    ("tile/0/x001.p/5", Err(".p on a non-final element")),
    ("tile/entries/000.p/256", Err("W = 256")),
    // Go sumdb paths carry the tile height: not C2SP paths.
    ("tile/8/0/001", Err("sumdb height element")),
    ("tile/4/0/001", Err("sumdb height element")),
    ("tile/3/5/x123/x456/078.p/2", Err("sumdb height element")),
    ("tile/1/data/x003/x057/500", Err("sumdb data tile")),
];

#[test]
fn tile_path_table() {
    for (input, expected) in PATHS {
        match (Tile::parse_path(input), expected) {
            (Ok(got), Ok(want)) => {
                assert_eq!(got, *want, "parse {input:?}");
                assert_eq!(
                    got.path(),
                    input.trim_start_matches('/'),
                    "path of {input:?}"
                );
                assert_eq!(got.to_string(), got.path(), "{input:?}");
            }
            (Err(TileError::InvalidPath { .. }), Err(_)) => {}
            (got, want) => panic!("{input:?}: got {got:?}, expected {want:?}"),
        }
    }
    let rejected = PATHS.iter().filter(|(_, r)| r.is_err()).count();
    assert!(rejected > 60, "{rejected}");
}

#[test]
fn invalid_tiles_are_refused_by_new() {
    assert!(Tile::new(TileKind::Hash { level: 64 }, 0, 256).is_err());
    assert!(Tile::new(TileKind::Hash { level: 0 }, 0, 0).is_err());
    assert!(Tile::new(TileKind::Entries, 0, 257).is_err());
    assert_eq!(
        Tile::new(TileKind::Hash { level: 63 }, u64::MAX, 1)
            .unwrap()
            .width,
        1
    );
}

fn any_tile() -> impl Strategy<Value = Tile> {
    let kind = prop_oneof![
        Just(TileKind::Entries),
        (0u8..=63).prop_map(|level| TileKind::Hash { level }),
    ];
    let index = prop_oneof![0u64..2000, any::<u64>()];
    (kind, index, 1u16..=256).prop_map(|(kind, index, width)| Tile { kind, index, width })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn path_round_trip(tile in any_tile()) {
        let path = tile.path();
        prop_assert_eq!(Tile::parse_path(&path).unwrap(), tile);
        prop_assert_eq!(Tile::parse_path(&format!("/{path}")).unwrap(), tile);
        prop_assert_eq!(tile.to_string(), path);
    }

    /// Whatever parses is canonical: printing it gives the input back. And
    /// nothing panics.
    #[test]
    fn parsed_paths_are_canonical(
        s in "/?tile/(entries|[0-9+x-]{0,3})(/x?[0-9]{0,4}){0,8}(\\.p(/[0-9]{0,4})?)?/?"
    ) {
        if let Ok(tile) = Tile::parse_path(&s) {
            prop_assert_eq!(tile.path(), s.strip_prefix('/').unwrap_or(&s));
        }
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,80}") {
        let _ = Tile::parse_path(&s);
    }
}

// ---------------------------------------------------------------------------
// Tile listings and node locations.

/// Tiles of a size, from the definition: level `l` has
/// `floor(size / 256**l)` hashes, in full tiles and one partial.
fn tiles_by_definition(size: u64) -> Vec<Tile> {
    let mut out = Vec::new();
    for level in 0u8..8 {
        let count = size >> (8 * u32::from(level));
        for index in 0..count / 256 {
            out.push(hash_tile(level, index, 256));
        }
        if !count.is_multiple_of(256) {
            out.push(hash_tile(level, count / 256, (count % 256) as u16));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn listings_follow_the_definition(size in prop_oneof![0u64..70_000, 0u64..(1 << 20)]) {
        let all = hash_tiles_for_size(size);
        prop_assert_eq!(&all, &tiles_by_definition(size));
        let partial: Vec<Tile> = all.iter().copied().filter(|t| !t.is_full()).collect();
        prop_assert_eq!(partial_tiles(size), partial);
        let bundles = entry_tiles_for_size(size);
        prop_assert_eq!(bundles.len() as u64, size.div_ceil(256));
        prop_assert_eq!(bundles.last().copied().filter(|t| !t.is_full()), partial_entry_tile(size));
        prop_assert!(bundles.iter().all(|t| t.kind == TileKind::Entries));
        for t in &all {
            prop_assert_eq!(Tile::at_size(t.kind, t.index, size), Some(*t));
        }
    }

    #[test]
    fn nodes_are_located_in_the_tile_that_holds_them(size in any::<u64>(), level in 0u8..64, pick in any::<u64>()) {
        let count = size >> level;
        if count == 0 {
            prop_assert!(tile_for_node(NodeId::new(level, 0), size).is_err());
            return Ok(());
        }
        let node = NodeId::new(level, pick % count);
        let loc = tile_for_node(node, size).unwrap();
        let within = level % 8;
        prop_assert_eq!(loc.tile.kind, TileKind::Hash { level: level / 8 });
        prop_assert_eq!(loc.count, 1 << within);
        prop_assert!(loc.start + loc.count <= loc.tile.width);
        prop_assert_eq!(u128::from(loc.tile.index) * 256 + u128::from(loc.start), u128::from(node.index) << within);
        prop_assert_eq!(Tile::at_size(loc.tile.kind, loc.tile.index, size), Some(loc.tile));
        prop_assert!(tile_for_node(NodeId::new(level, count), size).is_err());
        prop_assert!(partial_tiles(size).len() <= 8);
    }
}

#[test]
fn lazy_listing_of_a_huge_tree() {
    let mut tiles = hash_tiles(u64::MAX);
    assert_eq!(tiles.next(), Some(hash_tile(0, 0, 256)));
    assert_eq!(tiles.nth(1000), Some(hash_tile(0, 1001, 256)));
    assert_eq!(partial_tiles(u64::MAX).len(), 8);
    assert!(hash_tiles(0).next().is_none());
    assert!(partial_tiles(0).is_empty());
    // A tree of 256 is a full level-0 tile and a level-1 tile of width 1.
    assert_eq!(
        hash_tiles_for_size(256),
        [hash_tile(0, 0, 256), hash_tile(1, 0, 1)]
    );
}

// ---------------------------------------------------------------------------
// Growing tiles with append_leaves.

/// What a tile holds, computed from all the stored hashes of the tree:
/// hash `i` of tile `n` at level `l` is the node at level `8l`, index `256n + i`.
fn tile_from_scratch(tree: &MemoryHashes, tile: &Tile) -> Vec<u8> {
    let TileKind::Hash { level } = tile.kind else {
        panic!("not a hash tile")
    };
    (0..u64::from(tile.width))
        .map(|i| {
            tree.node(NodeId::new(8 * level, tile.index * 256 + i))
                .unwrap()
        })
        .collect::<Vec<Hash>>()
        .concat()
}

/// A tile store that records what it is asked for.
#[derive(Default)]
struct Recording {
    tiles: HashMap<Tile, Vec<u8>>,
    calls: RefCell<Vec<Vec<Tile>>>,
}

impl TileReader for Recording {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, TileError> {
        self.calls.borrow_mut().push(tiles.to_vec());
        self.tiles.read_tiles(tiles)
    }
}

fn leaves(n: u64, seed: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

/// Appends `batches` (cycled) until all leaves are in, checking every step.
fn grow_and_check(l: &[Hash], batches: &[usize]) -> Recording {
    let tree = MemoryHashes::from_leaf_hashes(l.to_vec());
    let mut store = Recording::default();
    let mut size = 0u64;
    let mut batches = batches.iter().cycle();
    while size < l.len() as u64 {
        let take = (*batches.next().unwrap()).clamp(1, l.len() - size as usize);
        let new_size = size + take as u64;
        store.calls.borrow_mut().clear();
        let changed = append_leaves(size, &store, &l[size as usize..new_size as usize]).unwrap();
        // It read the old right edge, in one call, and nothing else.
        let calls = store.calls.borrow().clone();
        let edges = partial_tiles(size);
        if edges.is_empty() {
            assert!(calls.is_empty());
        } else {
            assert_eq!(calls, [edges], "reads for {size} -> {new_size}");
        }
        // It returned exactly the tiles the new size has and the old lacks,
        // each with the content the definition gives.
        let before: BTreeSet<Tile> = hash_tiles(size).collect();
        let expected: Vec<Tile> = hash_tiles(new_size)
            .filter(|t| !before.contains(t))
            .collect();
        let got: Vec<Tile> = changed.iter().map(|(t, _)| *t).collect();
        assert_eq!(got, expected, "{size} -> {new_size}");
        for (tile, data) in changed {
            assert_eq!(
                data,
                tile_from_scratch(&tree, &tile),
                "{tile} at {new_size}"
            );
            store.tiles.insert(tile, data);
        }
        size = new_size;
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn append_in_random_batches_equals_tiles_from_scratch(
        n in 1u64..3000,
        seed in any::<u64>(),
        batches in prop::collection::vec(prop_oneof![1usize..5, 1usize..300, 250usize..800], 1..10),
    ) {
        grow_and_check(&leaves(n, seed), &batches);
    }

    /// Every tile the authenticated reader reads for a proof is checked: a
    /// flipped byte in any of them fails the proof, whichever tile it is.
    #[test]
    fn authenticated_reader_rejects_any_tampered_tile(
        n in 1u64..2000,
        seed in any::<u64>(),
        pick in any::<prop::sample::Index>(),
        old_pick in any::<prop::sample::Index>(),
        which in any::<prop::sample::Index>(),
        byte in 0usize..8192,
    ) {
        let l = leaves(n, seed);
        let root = root_from_leaf_hashes(&l);
        let mut store = Recording::default();
        for (t, d) in append_leaves(0, &store, &l).unwrap() {
            store.tiles.insert(t, d);
        }
        let index = pick.index(n as usize) as u64;
        let old = old_pick.index(n as usize) as u64 + 1;
        let reader = TileHashReader::authenticated(n, root, &store);
        let proof = prove_inclusion(index, n, &reader).unwrap();
        let consistency = prove_consistency(old, n, &reader).unwrap();
        let read: BTreeSet<Tile> = store.calls.borrow().iter().flatten().copied().collect();
        if read.is_empty() {
            // Only a one-leaf tree needs no hash for either proof.
            prop_assert_eq!(n, 1);
            return Ok(());
        }
        let read: Vec<Tile> = read.into_iter().collect();
        let tile = read[which.index(read.len())];
        let data = store.tiles.get_mut(&tile).unwrap();
        let at = byte % data.len();
        data[at] ^= 0x01;
        let reader = TileHashReader::authenticated(n, root, &store);
        let a = prove_inclusion(index, n, &reader);
        let b = prove_consistency(old, n, &reader);
        // The inclusion and consistency proofs may not both read the tile;
        // the one that does must fail, and neither may return a wrong proof.
        prop_assert!(a.as_ref().map_or(true, |p| *p == proof), "{tile} byte {at}");
        prop_assert!(b.as_ref().map_or(true, |p| *p == consistency), "{tile} byte {at}");
        prop_assert!(a.is_err() || b.is_err(), "{tile} byte {at} went unnoticed");
        for err in [a.err(), b.err()].into_iter().flatten() {
            prop_assert!(matches!(tile_error(&err), Some(TileError::RootMismatch { .. } | TileError::TileMismatch { .. })), "{err}");
        }
    }
}

fn tile_error(err: &MerkleError) -> Option<&TileError> {
    match err {
        MerkleError::Storage(source) => source.downcast_ref::<TileError>(),
        _ => None,
    }
}

#[test]
fn append_edge_cases() {
    let store: HashMap<Tile, Vec<u8>> = HashMap::new();
    assert!(append_leaves(0, &store, &[]).unwrap().is_empty());
    assert!(append_leaves(12345, &store, &[]).unwrap().is_empty());
    assert!(matches!(
        append_leaves(u64::MAX, &store, &[[0; 32]]),
        Err(TileError::SizeOverflow { .. })
    ));
    // The old right edge must be there, and the right length.
    assert!(matches!(
        append_leaves(5, &store, &[[0; 32]]),
        Err(TileError::MissingTile(t)) if t == hash_tile(0, 0, 5)
    ));
    let mut short = HashMap::new();
    short.insert(hash_tile(0, 0, 5), vec![0; 5 * 32 - 1]);
    assert!(matches!(
        append_leaves(5, &short, &[[0; 32]]),
        Err(TileError::WrongTileLength {
            expected: 160,
            got: 159,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------
// A tree of 70,000 leaves: the spec's example, with three levels of tiles.

struct Big {
    leaves: Vec<Hash>,
    root: Hash,
    tree: MemoryHashes,
    tiles: HashMap<Tile, Vec<u8>>,
}

fn big() -> &'static Big {
    static BIG: OnceLock<Big> = OnceLock::new();
    BIG.get_or_init(|| {
        let l = leaves(70_000, 70);
        let store = grow_and_check(&l, &[1, 255, 256, 1000, 4093, 3, 20_000]);
        let tree = MemoryHashes::from_leaf_hashes(l.clone());
        let root = root_from_leaf_hashes(&l);
        Big {
            leaves: l,
            root,
            tree,
            tiles: store.tiles,
        }
    })
}

#[test]
fn big_tree_tiles_and_proofs() {
    let big = big();
    let size = 70_000;
    let root = big.root;
    for tile in hash_tiles(size) {
        assert_eq!(
            big.tiles[&tile],
            tile_from_scratch(&big.tree, &tile),
            "{tile}"
        );
    }
    let auth = TileHashReader::authenticated(size, root, &big.tiles);
    assert_eq!(tree_hash(size, &auth).unwrap(), root);
    for index in [0, 255, 256, 65_535, 65_536, 69_631, 69_632, 69_999] {
        let expected = prove_inclusion(index, size, &big.tree).unwrap();
        assert_eq!(
            prove_inclusion(index, size, &auth).unwrap(),
            expected,
            "{index}"
        );
    }
    for old in [1, 256, 65_536, 65_537, 69_999] {
        let expected = prove_consistency(old, size, &big.tree).unwrap();
        assert_eq!(
            prove_consistency(old, size, &auth).unwrap(),
            expected,
            "{old}"
        );
    }
}

/// Flips one byte of one tile and reads `node` through a fresh
/// authenticated reader.
fn read_tampered(tile: Tile, node: NodeId) -> Result<Vec<Hash>, MerkleError> {
    let big = big();
    let mut tiles = big.tiles.clone();
    let data = tiles.get_mut(&tile).unwrap();
    let at = 40 % data.len();
    data[at] ^= 0x80;
    let root = big.root;
    TileHashReader::authenticated(70_000, root, &tiles).read_hashes(&[node])
}

#[test]
fn authenticated_reader_rejects_tampered_tiles() {
    let big = big();
    let root = big.root;
    let leaf = |i| NodeId::new(0, i);
    let l0_full = hash_tile(0, 5, 256);
    let l0_partial = hash_tile(0, 273, 112);
    let l1_full = hash_tile(1, 0, 256);
    let l1_partial = hash_tile(1, 1, 17);
    let l2_partial = hash_tile(2, 0, 1);

    // Sanity: untampered reads work, and the trusted reader does return a
    // tampered hash (so the tampering below is real).
    let auth = TileHashReader::authenticated(70_000, root, &big.tiles);
    assert_eq!(
        auth.read_hashes(&[leaf(5 * 256 + 1)]).unwrap(),
        [big.leaves[5 * 256 + 1]]
    );
    let mut tampered = big.tiles.clone();
    tampered.get_mut(&l0_full).unwrap()[40] ^= 0x80;
    let trusted = TileHashReader::trusted(70_000, &tampered);
    assert_ne!(
        trusted.read_hashes(&[leaf(5 * 256 + 1)]).unwrap(),
        [big.leaves[5 * 256 + 1]]
    );

    let mismatch = |r: Result<Vec<Hash>, MerkleError>| match r {
        Err(err) => match tile_error(&err) {
            Some(TileError::TileMismatch { tile }) => Some(*tile),
            Some(TileError::RootMismatch { .. }) => None,
            other => panic!("unexpected {other:?}"),
        },
        Ok(h) => panic!("tampered tile accepted: {h:?}"),
    };
    // A full tile: the tile itself is caught against its parent.
    assert_eq!(
        mismatch(read_tampered(l0_full, leaf(5 * 256 + 1))),
        Some(l0_full)
    );
    // Its neighbours do not depend on it.
    assert!(read_tampered(l0_full, leaf(6 * 256)).is_ok());
    // A full level-1 tile (byte 40 is in hash 1, the root of level-0 tile 1):
    // caught against the level-2 partial tile when read.
    assert_eq!(mismatch(read_tampered(l1_full, leaf(0))), Some(l1_full));
    // Partial tiles are checked against the root on every read.
    for tile in [l0_partial, l1_partial, l2_partial] {
        assert_eq!(mismatch(read_tampered(tile, leaf(3))), None, "{tile}");
        assert_eq!(mismatch(read_tampered(tile, leaf(69_999))), None, "{tile}");
    }
    // A wrong root.
    let wrong = TileHashReader::authenticated(70_000, big.leaves[0], &big.tiles);
    assert_eq!(mismatch(wrong.read_hashes(&[leaf(0)])), None);
    // A truncated tile.
    let mut short = big.tiles.clone();
    short.get_mut(&l0_full).unwrap().pop();
    let r = TileHashReader::authenticated(70_000, root, &short).read_hashes(&[leaf(5 * 256)]);
    assert!(matches!(
        tile_error(&r.unwrap_err()),
        Some(TileError::WrongTileLength { .. })
    ));
    // A node outside the tree.
    assert!(matches!(
        auth.read_hashes(&[leaf(70_000)]),
        Err(MerkleError::MissingNode(_))
    ));
    assert!(matches!(
        auth.read_hashes(&[NodeId::new(17, 0)]),
        Err(MerkleError::MissingNode(_))
    ));
}

// ---------------------------------------------------------------------------
// Entry bundles.

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..=256)) {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let bundle = encode_bundle(&refs).unwrap();
        prop_assert_eq!(bundle.len(), entries.iter().map(|e| e.len() + 2).sum::<usize>());
        prop_assert_eq!(parse_bundle(&bundle).unwrap(), refs.clone());
        let tile = entries_tile(refs.len());
        prop_assert_eq!(parse_bundle_for_tile(&tile, &bundle).unwrap(), refs);
    }

    /// Any bytes: an error or a canonical bundle, never a panic.
    #[test]
    fn bundle_parser_is_total(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(entries) = parse_bundle(&data) {
            prop_assert!(!entries.is_empty() && entries.len() <= 256);
            prop_assert_eq!(encode_bundle(&entries).unwrap(), data);
        }
    }
}

fn entries_tile(count: usize) -> Tile {
    entries(0, u16::try_from(count).unwrap())
}

#[test]
fn malformed_bundles() {
    let big = vec![7u8; MAX_ENTRY_SIZE];
    let bundle = encode_bundle(&[b"", b"ab", &big]).unwrap();
    assert_eq!(&bundle[..6], [0, 0, 0, 2, b'a', b'b']);
    assert_eq!(&bundle[6..8], [0xff, 0xff]);
    assert_eq!(parse_bundle(&bundle).unwrap(), [&b""[..], b"ab", &big]);

    assert!(matches!(parse_bundle(&[]), Err(TileError::EmptyBundle)));
    assert!(matches!(
        parse_bundle(&[0]),
        Err(TileError::TruncatedLength {
            index: 0,
            offset: 0
        })
    ));
    assert!(matches!(
        parse_bundle(&[0, 1, 9, 0]),
        Err(TileError::TruncatedLength {
            index: 1,
            offset: 3
        })
    ));
    assert!(matches!(
        parse_bundle(&[0, 3, 1, 2]),
        Err(TileError::TruncatedEntry {
            index: 0,
            len: 3,
            available: 2
        })
    ));
    assert!(matches!(
        parse_bundle(&bundle[..bundle.len() - 1]),
        Err(TileError::TruncatedEntry {
            index: 2,
            len: 65_535,
            available: 65_534
        })
    ));
    let many = vec![0u8; 2 * 257];
    assert!(matches!(
        parse_bundle(&many),
        Err(TileError::TooManyEntries { count: 257 })
    ));
    assert_eq!(parse_bundle(&many[..2 * 256]).unwrap().len(), 256);

    let too_big = vec![0u8; MAX_ENTRY_SIZE + 1];
    assert!(matches!(
        encode_bundle(&[b"x", &too_big]),
        Err(TileError::EntryTooLarge {
            index: 1,
            len: 65_536
        })
    ));
    let empties: Vec<&[u8]> = vec![b""; 257];
    assert!(matches!(
        encode_bundle(&empties),
        Err(TileError::TooManyEntries { count: 257 })
    ));
    assert!(matches!(encode_bundle(&[]), Err(TileError::EmptyBundle)));

    let two = encode_bundle(&[b"a", b"b"]).unwrap();
    assert!(matches!(
        parse_bundle_for_tile(&entries(0, 3), &two),
        Err(TileError::BundleWidthMismatch {
            expected: 3,
            got: 2
        })
    ));
    assert!(matches!(
        parse_bundle_for_tile(&hash_tile(0, 0, 2), &two),
        Err(TileError::InvalidTile { .. })
    ));
}
