//! What the witness tests share: a log key, trees, checkpoints and request bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use sigil_core::checkpoint::{Checkpoint, sign_checkpoint};
use sigil_core::merkle::{self, Hash, MemoryHashes};
use sigil_core::note::Ed25519Signer;
use sigil_core::witness_protocol::encode_add_checkpoint;

pub const ORIGIN: &str = "sigil.example/test-log";

/// The log's key (a second "instance" of the log with the same key can sign another history).
pub fn log_key() -> Ed25519Signer {
    Ed25519Signer::from_seed(ORIGIN, [7; 32]).unwrap()
}

/// The log list naming [`log_key`].
pub fn log_list() -> String {
    format!(
        "# test log list\nlogs/v0\n\nvkey {}\nqpd 1440\ncontact test@example\n",
        log_key().verifier().verifier_key()
    )
}

/// A history: `n` leaves; histories with different `fork_at` agree on the
/// leaves before it and differ from it on.
pub fn tree(n: u64, fork_at: u64) -> MemoryHashes {
    MemoryHashes::from_leaf_hashes(
        (0..n)
            .map(|i| {
                let history = if i < fork_at { "main" } else { "fork" };
                merkle::leaf_hash(format!("{history} entry {i}").as_bytes())
            })
            .collect(),
    )
}

pub fn root(t: &MemoryHashes, size: u64) -> Hash {
    if size == 0 {
        merkle::empty_root()
    } else {
        merkle::tree_hash(size, t).unwrap()
    }
}

pub fn proof(t: &MemoryHashes, old: u64, new: u64) -> Vec<Hash> {
    if old == 0 {
        Vec::new()
    } else {
        merkle::prove_consistency(old, new, t).unwrap()
    }
}

/// The log's signed checkpoint of `t` at `size`.
pub fn checkpoint_note(
    t: &MemoryHashes,
    size: u64,
    signer: &Ed25519Signer,
    origin: &str,
) -> Vec<u8> {
    let cp = Checkpoint {
        origin: origin.to_owned(),
        size,
        root: root(t, size),
        extensions: vec![],
    };
    sign_checkpoint(&cp, signer).unwrap()
}

/// A valid request taking the witness from `old` to `new` along history `t`.
pub fn request(t: &MemoryHashes, old: u64, new: u64) -> Vec<u8> {
    encode_add_checkpoint(
        old,
        &proof(t, old, new),
        &checkpoint_note(t, new, &log_key(), ORIGIN),
    )
}
