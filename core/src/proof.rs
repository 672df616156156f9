//! Transparency log proofs: C2SP `tlog-proof` (<https://c2sp.org/tlog-proof>,
//! version `c2sp.org/tlog-proof@v1`).
//!
//! A proof file is everything a client needs, besides its trust policy, to
//! check offline that an entry is in the log: the entry itself, its index, an
//! RFC 6962 inclusion proof and the checkpoint (with any witness
//! cosignatures) that the inclusion proof leads to.
//!
//! # Format
//!
//! A sequence of lines, each ending in U+000A:
//!
//! ```text
//! c2sp.org/tlog-proof@v1            the header, exactly
//! extra <base64>                    optional: opaque extra data (RFC 4648 §4 base64)
//! index <decimal>                   zero-based index, no leading zeros
//! <base64 hash>                     zero or more: the inclusion proof, leaf sibling first
//! <empty line>
//! <checkpoint>                      the signed checkpoint note, verbatim (tlog-checkpoint)
//! ```
//!
//! Sigil puts the log entry's bytes (`docs/formats.md`, "Log entries") in the
//! `extra` line. The spec warns that `extra` is not authenticated; Sigil
//! authenticates it by hashing it into the leaf, `SHA-256(0x00 || extra)`, and
//! checking that leaf's inclusion proof against the signed checkpoint. So the
//! one standard file is the whole bundle a release ships next to its `.crate`
//! (`<name>-<version>.crate.tlog-proof`).
//!
//! `docs/formats.md` §3 gives the grammar and a worked example that the
//! tests rebuild byte for byte and verify.
//!
//! # Limits
//!
//! A proof file is at most [`MAX_PROOF_SIZE`] bytes and carries at most
//! [`MAX_PROOF_HASHES`] hashes (an inclusion proof in a tree of fewer than
//! 2^64 leaves has at most 64). The parser rejects anything that is not in
//! the one canonical form: non-canonical base64, leading zeros, `+` signs,
//! a missing blank line, CR characters.
//!
//! # Forward compatibility
//!
//! A different first line is a different format and is rejected, as the spec
//! requires of v1 parsers.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{self, CheckpointError, CheckpointPolicy, VerifiedCheckpoint};
use crate::merkle::{self, HASH_SIZE, Hash, MerkleError};

/// The first line of every v1 proof file.
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The largest proof file accepted: a 65,535-byte entry is 87,380 base64
/// characters, 64 hashes are 2,880 bytes of lines, and a checkpoint with a
/// generous number of cosignatures fits well within the rest.
pub const MAX_PROOF_SIZE: usize = 256 * 1024;

/// The most inclusion proof hashes a proof may carry: the height of a tree of
/// 2^64 leaves.
pub const MAX_PROOF_HASHES: usize = 64;

/// The recommended file extension, as `tlog-proof` says (without the dot).
pub const FILE_EXTENSION: &str = "tlog-proof";

/// Why a proof file was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The file is larger than [`MAX_PROOF_SIZE`].
    #[error("proof file is {0} bytes; at most {MAX_PROOF_SIZE} are accepted")]
    TooLarge(usize),
    /// The file is not UTF-8 text.
    #[error("proof file is not UTF-8 text")]
    NotText,
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    #[error("proof file does not start with the line {PROOF_HEADER:?}")]
    BadHeader,
    /// The `extra` line is malformed.
    #[error("malformed extra line: expected \"extra \" and standard padded base64")]
    BadExtra,
    /// The `index` line is missing or malformed.
    #[error("malformed index line: expected \"index \" and a decimal number without leading zeros")]
    BadIndex,
    /// An inclusion proof line is not the base64 of a 32-byte hash.
    #[error("inclusion proof line {line} is not the base64 of a 32-byte SHA-256 hash")]
    BadHash {
        /// The 1-based line number in the file.
        line: usize,
    },
    /// More inclusion proof hashes than any tree can need.
    #[error("inclusion proof has more than {MAX_PROOF_HASHES} hashes")]
    TooManyHashes,
    /// The blank line before the checkpoint is missing.
    #[error("missing the empty line between the inclusion proof and the checkpoint")]
    MissingBlankLine,
    /// There is no checkpoint after the blank line.
    #[error("missing the checkpoint after the inclusion proof")]
    MissingCheckpoint,
    /// A Sigil proof must carry the entry bytes in its `extra` line.
    #[error("proof file has no extra line: a Sigil proof carries the log entry there")]
    MissingEntry,
    /// The checkpoint did not satisfy the trust policy.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not lead from the entry to the checkpoint's root.
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] MerkleError),
}

/// A parsed `tlog-proof` file. Parsing checks syntax only; see [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// The opaque extra data; in Sigil, the log entry's bytes.
    pub extra: Option<Vec<u8>>,
    /// The zero-based index of the entry in the log.
    pub index: u64,
    /// The inclusion proof, leaf sibling first (RFC 6962 §2.1.1 `PATH`).
    pub hashes: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// A proof that passed [`verify`]: the entry is at `index` in the tree the
/// checkpoint commits to, and the checkpoint satisfies the trust policy.
#[derive(Clone, Debug)]
pub struct VerifiedProof {
    /// The log entry's bytes, authenticated by the inclusion proof.
    pub entry: Vec<u8>,
    /// The entry's index in the log.
    pub index: u64,
    /// The verified checkpoint the proof leads to.
    pub checkpoint: VerifiedCheckpoint,
}

impl TlogProof {
    /// Parses a proof file (syntax only: signatures and hashes are checked by
    /// [`verify`]).
    pub fn parse(file: &[u8]) -> Result<TlogProof, ProofError> {
        if file.len() > MAX_PROOF_SIZE {
            return Err(ProofError::TooLarge(file.len()));
        }
        let text = std::str::from_utf8(file).map_err(|_| ProofError::NotText)?;
        let mut rest = text;
        let next_line = |rest: &mut &str| -> Option<String> {
            let (line, tail) = rest.split_once('\n')?;
            *rest = tail;
            Some(line.to_string())
        };

        if next_line(&mut rest).as_deref() != Some(PROOF_HEADER) {
            return Err(ProofError::BadHeader);
        }
        let mut line = next_line(&mut rest).ok_or(ProofError::BadIndex)?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            extra = Some(decode_canonical(b64).ok_or(ProofError::BadExtra)?);
            line = next_line(&mut rest).ok_or(ProofError::BadIndex)?;
        } else if line.starts_with("extra") {
            return Err(ProofError::BadExtra);
        }
        let index = line
            .strip_prefix("index ")
            .and_then(crate::decimal::parse)
            .ok_or(ProofError::BadIndex)?;

        let mut hashes = Vec::new();
        // The line number of the next line, for error messages: header,
        // optional extra, index.
        let mut number = if extra.is_some() { 4 } else { 3 };
        loop {
            let Some(line) = next_line(&mut rest) else {
                return Err(ProofError::MissingBlankLine);
            };
            if line.is_empty() {
                break;
            }
            if hashes.len() == MAX_PROOF_HASHES {
                return Err(ProofError::TooManyHashes);
            }
            let hash = decode_canonical(&line)
                .and_then(|b| <Hash>::try_from(b.as_slice()).ok())
                .ok_or(ProofError::BadHash { line: number })?;
            hashes.push(hash);
            number += 1;
        }
        if rest.is_empty() {
            return Err(ProofError::MissingCheckpoint);
        }
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: rest.as_bytes().to_vec(),
        })
    }

    /// Encodes the proof file. `parse(encode(p)) == p` for every proof whose
    /// checkpoint is a well-formed note.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::with_capacity(
            64 + self.extra.as_ref().map_or(0, |e| e.len() * 4 / 3 + 8) + self.hashes.len() * 45,
        );
        out.push_str(PROOF_HEADER);
        out.push('\n');
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&STANDARD.encode(extra));
            out.push('\n');
        }
        out.push_str("index ");
        out.push_str(&self.index.to_string());
        out.push('\n');
        for hash in &self.hashes {
            out.push_str(&STANDARD.encode(hash));
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }
}

/// Verifies a proof file against a trust policy and returns the entry it
/// proves.
///
/// The checks, in order: the file parses; it carries the entry in `extra`;
/// the checkpoint is signed by the policy's log key for the policy's origin
/// and cosigned by the policy's quorum of witnesses
/// ([`checkpoint::verify_checkpoint`]); and the RFC 9162 §2.1.3.2 inclusion
/// proof leads from `SHA-256(0x00 || entry)` at `index` to the checkpoint's
/// root for its size. The caller then interprets the entry (for a release:
/// [`crate::entry::Entry::decode`], then the certificate and scope checks).
pub fn verify(file: &[u8], policy: &CheckpointPolicy) -> Result<VerifiedProof, ProofError> {
    let proof = TlogProof::parse(file)?;
    let entry = proof.extra.ok_or(ProofError::MissingEntry)?;
    let checkpoint = checkpoint::verify_checkpoint(&proof.checkpoint, policy)?;
    merkle::verify_inclusion(
        &merkle::leaf_hash(&entry),
        proof.index,
        checkpoint.checkpoint.size,
        &proof.hashes,
        &checkpoint.checkpoint.root,
    )?;
    Ok(VerifiedProof {
        entry,
        index: proof.index,
        checkpoint,
    })
}

/// Decodes standard padded base64 (RFC 4648 §4). The engine requires
/// canonical padding and rejects non-zero trailing bits, so each value has
/// exactly one accepted encoding.
fn decode_canonical(b64: &str) -> Option<Vec<u8>> {
    STANDARD.decode(b64).ok()
}

// The hash width is fixed by RFC 6962 with SHA-256.
const _: () = assert!(HASH_SIZE == 32);
