//! Sigil's C2SP formats read by a C2SP implementation nobody here wrote:
//! Cloudflare azul's `signed_note` and `tlog_tiles` crates, 0.2.0
//! (BSD-3-Clause; ports of Go's `golang.org/x/mod/sumdb/{note,tlog}`), as
//! `rs_merkle` is an oracle for the Merkle math.
//!
//! * **Signed notes and checkpoints** (c2sp.org/signed-note,
//!   c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature): a checkpoint
//!   Sigil signs and two witnesses cosign is parsed by azul's `Note` and
//!   `Checkpoint`; azul verifies the log's Ed25519 signature from Sigil's
//!   verifier key text and computes the same key IDs, including the
//!   type-`0x04` ones of the witnesses; azul 0.2.0 has no `cosignature/v1`
//!   verifier, so [`CosignatureV1`] plugs the spec's signed message into its
//!   `Verifier` trait. The other way, a note azul signs with Sigil's
//!   private key text verifies in Sigil.
//! * **Tiles** (c2sp.org/tlog-tiles): the hash tiles and entry bundles that
//!   `sigil_core::tile::append_leaves` grows, in batches, are read by
//!   azul's `TileHashReader`: its tree hash is Sigil's root at every size,
//!   its record and tree proofs check against that root and equal Sigil's,
//!   and every tile path is azul's. azul 0.2.0 writes Go sumdb tile paths,
//!   which carry the tile height (`tile/8/0/x001/234.p/17`,
//!   `tile/8/data/000`); C2SP drops it (`tile/0/x001/234.p/17`,
//!   `tile/entries/000`), so [`azul_path`] maps one to the other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, sign_checkpoint, verify_checkpoint};
use sigil_core::cosignature::CosignatureSigner;
use sigil_core::merkle::{
    self, Hash, MemoryHashes, leaf_hash, prove_consistency, prove_inclusion, tree_hash,
};
use sigil_core::note::{Ed25519Signer, Note, NoteSigner};
use sigil_core::tile::{Tile, TileKind, append_leaves, encode_bundle};
use signed_note::{Verifier as _, VerifierList};

const ORIGIN: &str = "oracle.sigil.example/log";

/// The tree height of every tile, which Go sumdb paths spell out.
const HEIGHT: u8 = 8;

/// A `cosignature/v1` (type `0x04`) verifier written from the spec
/// (c2sp.org/tlog-cosignature) for azul's `Verifier` trait: the signature
/// is an 8-byte big-endian timestamp and an Ed25519 signature over
/// `"cosignature/v1\ntime <timestamp>\n" || checkpoint text`.
struct CosignatureV1 {
    name: String,
    id: u32,
    public: [u8; 32],
}

impl CosignatureV1 {
    fn new(name: &str, public: [u8; 32]) -> CosignatureV1 {
        let mut typed = vec![0x04];
        typed.extend_from_slice(&public);
        CosignatureV1 {
            name: name.to_owned(),
            // azul's key ID: SHA-256(name || 0x0A || type || key)[:4].
            id: signed_note::key_id(name, &typed),
            public,
        }
    }
}

impl signed_note::Verifier for CosignatureV1 {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some((time, signature)) = sig.split_at_checked(8) else {
            return false;
        };
        let timestamp = u64::from_be_bytes(time.try_into().unwrap());
        let mut signed = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
        signed.extend_from_slice(msg);
        UnparsedPublicKey::new(&ED25519, self.public)
            .verify(&signed, signature)
            .is_ok()
    }
}

fn entry(i: u64) -> Vec<u8> {
    format!("sigil entry {i}").into_bytes()
}

#[test]
fn azul_reads_sigils_signed_and_cosigned_checkpoints() {
    let log = Ed25519Signer::from_seed(ORIGIN, [3; 32]).unwrap();
    let witnesses = [
        CosignatureSigner::from_seed("w1.oracle.example", [4; 32]).unwrap(),
        CosignatureSigner::from_seed("w2.oracle.example", [5; 32]).unwrap(),
    ];
    let leaves: Vec<Hash> = (0..1000).map(|i| leaf_hash(&entry(i))).collect();
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 1000,
        root: merkle::root_from_leaf_hashes(&leaves),
        extensions: vec![],
    };
    let mut note = Note::parse(&sign_checkpoint(&cp, &log).unwrap()).unwrap();
    for (i, w) in witnesses.iter().enumerate() {
        note.signatures
            .push(w.cosign(&cp.to_text(), 1_767_225_600 + i as u64).unwrap());
    }
    let bytes = note.to_bytes();

    // azul parses the note and the checkpoint text.
    let parsed = signed_note::Note::from_bytes(&bytes).unwrap();
    assert_eq!(parsed.text(), cp.to_text().as_bytes());
    let azul_cp = tlog_tiles::Checkpoint::from_bytes(parsed.text()).unwrap();
    assert_eq!(azul_cp.origin(), ORIGIN);
    assert_eq!(azul_cp.size(), 1000);
    assert_eq!(azul_cp.hash().0, cp.root);
    assert_eq!(azul_cp.extension(), "");
    assert_eq!(azul_cp.to_bytes(), cp.to_text().into_bytes());

    // azul reads Sigil's verifier key text and computes the same key IDs.
    let log_vkey = log.verifier().verifier_key();
    let azul_log = signed_note::StandardVerifier::new(&log_vkey).unwrap();
    assert_eq!(azul_log.name(), ORIGIN);
    assert_eq!(azul_log.key_id(), log.key_id());
    let cosigners: Vec<CosignatureV1> = witnesses
        .iter()
        .map(|w| CosignatureV1::new(w.name(), w.public_key()))
        .collect();
    for (c, w) in cosigners.iter().zip(&witnesses) {
        assert_eq!(c.key_id(), w.key_id(), "{}", w.name());
    }

    // azul verifies every signature: the log's and both cosignatures.
    let mut known: Vec<Box<dyn signed_note::Verifier>> = vec![Box::new(azul_log)];
    known.extend(
        cosigners
            .into_iter()
            .map(|c| Box::new(c) as Box<dyn signed_note::Verifier>),
    );
    let (verified, unverified) = parsed.verify(&VerifierList::new(known)).unwrap();
    assert!(unverified.is_empty());
    let names: Vec<&str> = verified.iter().map(|s| s.name()).collect();
    assert_eq!(names, [ORIGIN, "w1.oracle.example", "w2.oracle.example"]);

    // A tampered cosignature is caught by azul too.
    let mut tampered = note.clone();
    tampered.signatures[2].signature[20] ^= 1;
    let witness_only: Vec<Box<dyn signed_note::Verifier>> = vec![Box::new(CosignatureV1::new(
        witnesses[1].name(),
        witnesses[1].public_key(),
    ))];
    assert!(
        signed_note::Note::from_bytes(&tampered.to_bytes())
            .unwrap()
            .verify(&VerifierList::new(witness_only))
            .is_err()
    );
}

#[test]
fn sigil_reads_a_checkpoint_azul_signs_with_sigils_key_text() {
    let log = Ed25519Signer::from_seed(ORIGIN, [6; 32]).unwrap();
    let signer = signed_note::StandardSigner::new(&log.private_key()).unwrap();
    let text = tlog_tiles::Checkpoint::new(ORIGIN, 7, tlog_tiles::Hash([9; 32]), "")
        .unwrap()
        .to_bytes();
    let mut note = signed_note::Note::new(&text, &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let policy = CheckpointPolicy {
        origin: ORIGIN.into(),
        log: Box::new(log.verifier()),
        witnesses: vec![],
        quorum: 0,
    };
    let verified = verify_checkpoint(&note.to_bytes(), &policy).unwrap();
    assert_eq!(verified.checkpoint.size, 7);
    assert_eq!(verified.checkpoint.root, [9; 32]);
    // Ed25519 is deterministic: the same note as Sigil signs.
    assert_eq!(
        note.to_bytes(),
        sign_checkpoint(&verified.checkpoint, &log).unwrap()
    );
}

/// The Go sumdb path azul writes for a Sigil tile: the C2SP path with the
/// tile height after `tile/`, and `data` for `entries`.
fn azul_path(tile: &Tile) -> String {
    let c2sp = tile.path();
    let rest = c2sp.strip_prefix("tile/").unwrap();
    match rest.strip_prefix("entries/") {
        Some(index) => format!("tile/{HEIGHT}/data/{index}"),
        None => format!("tile/{HEIGHT}/{rest}"),
    }
}

/// Every tile Sigil ever wrote, hash tiles and entry bundles, by path, as a
/// log keeps them (partial tiles of every size it published, and the full
/// ones).
struct Store(HashMap<String, Vec<u8>>);

impl tlog_tiles::TileReader for Store {
    fn height(&self) -> u8 {
        HEIGHT
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(&t.path())
                    .cloned()
                    .ok_or(tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }

    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

impl sigil_core::tile::TileReader for Store {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, sigil_core::tile::TileError> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(&azul_path(t))
                    .cloned()
                    .ok_or(sigil_core::tile::TileError::InvalidTile {
                        reason: "no such tile in the test store",
                    })
            })
            .collect()
    }
}

/// The entries of a C2SP entry bundle, read from the spec: each behind a
/// 2-byte big-endian length.
fn bundle_entries(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        out.push(data[2..2 + len].to_vec());
        data = &data[2 + len..];
    }
    out
}

#[test]
fn azul_reads_sigils_tiles() {
    // Batches that cross full tiles at level 0 and level 1 (65,536 leaves
    // would be needed to fill a level-1 tile; 70,000 fill one and start the
    // next), and leave partial tiles of several widths behind.
    let batches: &[u64] = &[1, 2, 253, 1, 255, 300, 65_000, 4_188];
    let mut store = Store(HashMap::new());
    let mut all: Vec<Vec<u8>> = Vec::new();
    let mut sizes = Vec::new();
    for &count in batches {
        let old = all.len() as u64;
        let new: Vec<Vec<u8>> = (old..old + count).map(entry).collect();
        let hashes: Vec<Hash> = new.iter().map(|e| leaf_hash(e)).collect();
        for (tile, data) in append_leaves(old, &store, &hashes).unwrap() {
            store.0.insert(azul_path(&tile), data);
        }
        all.extend(new);
        let size = all.len() as u64;
        // The entry bundles that changed: from the one holding `old` on.
        for index in old / 256..size.div_ceil(256) {
            let tile = Tile::at_size(TileKind::Entries, index, size).unwrap();
            let start = (index * 256) as usize;
            let entries: Vec<&[u8]> = all[start..start + usize::from(tile.width)]
                .iter()
                .map(Vec::as_slice)
                .collect();
            store
                .0
                .insert(azul_path(&tile), encode_bundle(&entries).unwrap());
        }
        sizes.push(size);
    }
    let memory = MemoryHashes::from_leaf_hashes(all.iter().map(|e| leaf_hash(e)).collect());

    // Every path is one azul parses and writes back the same, with the
    // width the bytes hold.
    for (path, data) in &store.0 {
        let tile = tlog_tiles::Tile::from_path(path).unwrap();
        assert_eq!(&tile.path(), path);
        assert_eq!(tile.height(), HEIGHT);
        if !tile.is_data() {
            assert_eq!(data.len(), tile.width() as usize * 32, "{path}");
        }
    }

    for (k, &size) in sizes.iter().enumerate() {
        let root = tree_hash(size, &memory).unwrap();
        let azul_root = tlog_tiles::Hash(root);
        let reader = tlog_tiles::TileHashReader::new(size, azul_root, &store);
        // azul recomputes the root from Sigil's tiles (and authenticates
        // every tile it reads against it).
        assert_eq!(
            tlog_tiles::tree_hash(size, &reader).unwrap().0,
            root,
            "size {size}"
        );
        // Record proofs at a spread of indexes, and the entry bundles.
        for index in [0, 1, size / 3, size / 2, size.saturating_sub(2), size - 1] {
            if index >= size {
                continue;
            }
            let proof = tlog_tiles::prove_record(size, index, &reader).unwrap();
            let ours = prove_inclusion(index, size, &memory).unwrap();
            assert_eq!(
                proof.iter().map(|h| h.0).collect::<Vec<_>>(),
                ours,
                "record proof {index} of {size}"
            );
            let bundle = Tile::at_size(TileKind::Entries, index / 256, size).unwrap();
            let data = &store.0[&azul_path(&bundle)];
            let logged = &bundle_entries(data)[(index % 256) as usize];
            assert_eq!(logged, &entry(index));
            let record = tlog_tiles::record_hash(logged);
            assert_eq!(record.0, leaf_hash(logged));
            tlog_tiles::check_record(&proof, size, azul_root, index, record).unwrap();
        }
        // Tree (consistency) proofs from every earlier published size.
        for &old in &sizes[..k] {
            let proof = tlog_tiles::prove_tree(size, old, &reader).unwrap();
            let ours = prove_consistency(old, size, &memory).unwrap();
            assert_eq!(
                proof.iter().map(|h| h.0).collect::<Vec<_>>(),
                ours,
                "tree proof {old} -> {size}"
            );
            let old_root = tlog_tiles::Hash(tree_hash(old, &memory).unwrap());
            tlog_tiles::check_tree(&proof, size, azul_root, old, old_root).unwrap();
        }
    }
}
