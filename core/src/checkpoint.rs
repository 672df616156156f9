//! Checkpoints: [C2SP `tlog-checkpoint`](https://c2sp.org/tlog-checkpoint),
//! the signed tree head of a transparency log.
//!
//! A checkpoint is a [signed note](crate::note) whose text is precisely
//! formatted (§Note text). Sigil's log signs it with Ed25519 (type `0x01`);
//! witnesses add [cosignatures](crate::cosignature).
//!
//! # Wire format (§Note text)
//!
//! At least three non-empty lines, each ending in a newline (U+000A):
//!
//! ```text
//! <origin>                    non-empty; unique name of the log, e.g. example.com/log42
//! <tree size>                 ASCII decimal, no sign, no leading zeros ("0" for the empty tree)
//! <root hash>                 base64 (RFC 4648 §4, padded) of the 32-byte RFC 6962 root
//! [<extension line>]*         optional, opaque, each non-empty (use is NOT RECOMMENDED)
//! ```
//!
//! then the note's blank line and signature lines. [`Checkpoint::parse`] is
//! strict: no empty line, no control character, no `+`/leading zeros in the
//! size, a size that fits `u64`, canonical base64 of exactly 32 bytes. The
//! origin SHOULD be a schema-less URL without spaces or `+`, but readers MUST
//! NOT assume it is, so any non-empty line is accepted. A future version
//! would change the first line's meaning, so the three-line prefix is fixed.
//!
//! # Verification (§Signatures)
//!
//! [`verify_checkpoint`] checks a signed checkpoint against a
//! [`CheckpointPolicy`]: a valid signature from the log's key (whose name
//! SHOULD, but need not, equal the origin), the expected origin, and
//! cosignatures from at least `quorum` distinct trusted witness keys (a key
//! listed under two names counts once). Unknown
//! signatures are ignored (they enable key rotation and witnessing); a bad
//! signature from any trusted key rejects the note.
//!
//! # Worked example
//!
//! The checkpoint of the spec, signed by an Ed25519 log key named after the
//! origin whose seed is 32 bytes of `0x01`:
//!
//! ```
//! use sigil_core::checkpoint::{Checkpoint, CheckpointPolicy, sign_checkpoint, verify_checkpoint};
//! use sigil_core::note::{Ed25519Signer, NoteSigner};
//!
//! let text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
//! let cp = Checkpoint::parse(text)?;
//! assert_eq!(cp.origin, "example.com/behind-the-sofa");
//! assert_eq!(cp.size, 20852163);
//! assert_eq!(&cp.root[..4], &[0x0a, 0xc5, 0x18, 0x6a]);
//! assert_eq!(cp.to_text(), text);
//!
//! let log = Ed25519Signer::from_seed("example.com/behind-the-sofa", [1; 32])?;
//! assert_eq!(
//!     log.verifier().verifier_key(),
//!     "example.com/behind-the-sofa+6ded73a9+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c",
//! );
//! let signed = sign_checkpoint(&cp, &log)?;
//! assert_eq!(
//!     String::from_utf8(signed.clone())?,
//!     "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
//!      \n\
//!      — example.com/behind-the-sofa be1zqQx8hYrJJIfiWfY39ShElJ74dPrOjXSgJJ2qG3vny2U7JyHN2kKCWb5H5e\
//!      2MfxP7My2OyDRrDvCH/RbVubiZ8AE=\n",
//! );
//!
//! let policy = CheckpointPolicy {
//!     origin: "example.com/behind-the-sofa".to_owned(),
//!     log: Box::new(log.verifier()),
//!     witnesses: vec![],
//!     quorum: 0,
//! };
//! let verified = verify_checkpoint(&signed, &policy)?;
//! assert_eq!(verified.checkpoint, cp);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::cosignature::CosignatureVerifier;
use crate::note::{self, Note, NoteError, NoteSigner, NoteVerifier};

/// Why a checkpoint text or a signed checkpoint was refused (c2sp.org/tlog-checkpoint).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text does not end in a newline: every line ends in U+000A (§Note text).
    #[error("checkpoint does not end in a newline")]
    MissingFinalNewline,
    /// The text contains an ASCII control character other than newline (signed-note §Format).
    #[error("control character at byte {offset}")]
    ControlCharacter {
        /// Byte offset of the character.
        offset: usize,
    },
    /// Fewer than the three mandatory lines (§Note text).
    #[error("checkpoint has {found} lines, need origin, size and root hash")]
    TooFewLines {
        /// Number of lines found.
        found: usize,
    },
    /// A line is empty: the origin and every extension line MUST be non-empty (§Note text).
    #[error("line {line} is empty")]
    EmptyLine {
        /// 1-based line number.
        line: usize,
    },
    /// The tree size is not ASCII decimal without sign and leading zeros, or exceeds `u64` (§Note text).
    #[error("invalid tree size")]
    InvalidSize,
    /// The root hash is not canonical base64 of exactly 32 bytes (§Note text).
    #[error("invalid root hash")]
    InvalidRootHash,
    /// A field of the checkpoint to sign contains a newline, so its text
    /// would not parse back to it.
    #[error("a checkpoint field contains a newline")]
    NewlineInField,
    /// The signed note is malformed, or a trusted key's signature does not verify (c2sp.org/signed-note).
    #[error(transparent)]
    Note(#[from] NoteError),
    /// No valid signature from the log's key (§Signatures).
    #[error("no valid signature from the log key {name}+{key_id:08x}")]
    MissingLogSignature {
        /// The log key's name.
        name: String,
        /// The log key's ID.
        key_id: u32,
    },
    /// The origin line is not the log's origin (§Note text).
    #[error("checkpoint is for origin {found:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin the policy expects.
        expected: String,
        /// The origin line of the checkpoint.
        found: String,
    },
    /// Fewer distinct trusted witness keys cosigned than the quorum requires (c2sp.org/tlog-cosignature).
    #[error("{found} of the {required} required witness cosignatures")]
    InsufficientCosignatures {
        /// The policy's quorum.
        required: usize,
        /// Distinct trusted witness keys with a valid cosignature.
        found: usize,
    },
    /// The policy cannot be applied (quorum above the number of witnesses,
    /// or two trusted keys with one name and key ID).
    #[error("invalid checkpoint policy: {reason}")]
    InvalidPolicy {
        /// What is wrong.
        reason: &'static str,
    },
}

/// A log's tree head: the text of a checkpoint note (§Note text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The origin line: the log's unique identity.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root hash of the tree at `size`.
    pub root: [u8; 32],
    /// Extension lines, without newlines, in order (opaque; NOT RECOMMENDED).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parses a checkpoint text, the body of the note (§Note text), strictly.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`CheckpointError`]. Never panics.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if let Some(offset) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::ControlCharacter { offset });
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        if let Some(i) = lines.iter().position(|l| l.is_empty()) {
            return Err(CheckpointError::EmptyLine { line: i + 1 });
        }
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { found: lines.len() });
        };
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size: parse_size(size)?,
            root: parse_root(root)?,
            extensions: extensions.iter().map(|&l| l.to_owned()).collect(),
        })
    }

    /// Formats the checkpoint text (§Note text): origin, decimal size,
    /// base64 root and extension lines, each followed by a newline.
    ///
    /// The fields are not checked here; [`sign_checkpoint`] checks that the
    /// text parses back to the same checkpoint.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// Tree size: ASCII decimal, no sign, no leading zeros unless the size is 0 (§Note text).
fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    crate::decimal::parse(line).ok_or(CheckpointError::InvalidSize)
}

/// Root hash: canonical padded base64 of exactly 32 bytes (§Note text).
fn parse_root(line: &str) -> Result<[u8; 32], CheckpointError> {
    let bytes = BASE64
        .decode(line)
        .map_err(|_| CheckpointError::InvalidRootHash)?;
    bytes
        .try_into()
        .map_err(|_| CheckpointError::InvalidRootHash)
}

/// What a reader requires of a checkpoint: the log's origin and key, and
/// `quorum` of the trusted `witnesses` (c2sp.org/tlog-checkpoint §Signatures,
/// c2sp.org/tlog-cosignature).
pub struct CheckpointPolicy {
    /// The origin line the checkpoint must carry.
    pub origin: String,
    /// The log's public key; its name need not equal the origin.
    pub log: Box<dyn NoteVerifier>,
    /// Trusted witnesses, one entry per witness.
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many distinct witness keys must have cosigned (0 for none).
    pub quorum: usize,
}

impl fmt::Debug for CheckpointPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckpointPolicy")
            .field("origin", &self.origin)
            .field(
                "log",
                &format_args!("{}+{:08x}", self.log.name(), self.log.key_id()),
            )
            .field("witnesses", &self.witnesses)
            .field("quorum", &self.quorum)
            .finish()
    }
}

impl CheckpointPolicy {
    /// Refuses a policy that cannot be met or is ambiguous.
    fn check(&self) -> Result<(), CheckpointError> {
        if self.quorum > self.witnesses.len() {
            return Err(CheckpointError::InvalidPolicy {
                reason: "quorum is larger than the number of witnesses",
            });
        }
        let keys: Vec<(&str, u32)> = std::iter::once((self.log.name(), self.log.key_id()))
            .chain(self.witnesses.iter().map(|w| (w.name(), w.key_id())))
            .collect();
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].contains(key) {
                return Err(CheckpointError::InvalidPolicy {
                    reason: "two trusted keys have the same name and key ID",
                });
            }
        }
        Ok(())
    }
}

/// A checkpoint that passed [`verify_checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The parsed checkpoint text.
    pub checkpoint: Checkpoint,
    /// The signed note, byte for byte as given.
    pub note: Vec<u8>,
    /// Trusted witnesses with a valid cosignature, in note order, one per
    /// distinct public key (under the first name it signed with): witness
    /// key name and cosignature timestamp (POSIX seconds).
    pub cosigners: Vec<(String, u64)>,
}

/// Verifies a signed checkpoint against a policy (c2sp.org/tlog-checkpoint
/// §Signatures, c2sp.org/tlog-cosignature).
///
/// Requires a valid signature from `policy.log` (its name may differ from
/// the origin), the origin line equal to `policy.origin`, and valid
/// cosignatures from at least `policy.quorum` distinct witness keys of
/// `policy.witnesses`: a public key listed under two names counts once,
/// since a `cosignature/v1` does not sign the witness's name. Signatures from other keys are ignored. Every
/// signature from a trusted key is checked, and one that fails rejects the
/// note. Signatures are checked before the text is interpreted.
///
/// # Errors
///
/// [`CheckpointError::Note`] for a malformed note or a bad signature from a
/// trusted key; [`CheckpointError::MissingLogSignature`]; a checkpoint
/// syntax error; [`CheckpointError::WrongOrigin`];
/// [`CheckpointError::InsufficientCosignatures`];
/// [`CheckpointError::InvalidPolicy`].
pub fn verify_checkpoint(
    signed_note: &[u8],
    policy: &CheckpointPolicy,
) -> Result<VerifiedCheckpoint, CheckpointError> {
    policy.check()?;
    let note = Note::parse(signed_note)?;
    let text = note.text.as_bytes();
    let log = &*policy.log;
    let mut log_verified = false;
    let mut cosigners: Vec<(String, u64)> = Vec::new();
    let mut counted: Vec<[u8; 32]> = Vec::new();
    for sig in &note.signatures {
        let invalid = || NoteError::InvalidSignature {
            name: sig.name.clone(),
            key_id: sig.key_id,
        };
        if sig.name == log.name() && sig.key_id == log.key_id() {
            if !log.verify(text, &sig.signature) {
                return Err(invalid().into());
            }
            log_verified = true;
        } else if let Some(witness) = policy
            .witnesses
            .iter()
            .find(|w| w.name() == sig.name && w.key_id() == sig.key_id)
        {
            let timestamp = witness
                .verify_timestamp(text, &sig.signature)
                .ok_or_else(invalid)?;
            // A key counts once, whatever names it is listed under: the
            // cosigned message does not name the witness, so one witness's
            // cosignature verifies under every name its key is listed with.
            let key = witness.public_key();
            if !counted.contains(&key) {
                counted.push(key);
                cosigners.push((sig.name.clone(), timestamp));
            }
        }
    }
    if !log_verified {
        return Err(CheckpointError::MissingLogSignature {
            name: log.name().to_owned(),
            key_id: log.key_id(),
        });
    }
    let checkpoint = Checkpoint::parse(&note.text)?;
    if checkpoint.origin != policy.origin {
        return Err(CheckpointError::WrongOrigin {
            expected: policy.origin.clone(),
            found: checkpoint.origin,
        });
    }
    if cosigners.len() < policy.quorum {
        return Err(CheckpointError::InsufficientCosignatures {
            required: policy.quorum,
            found: cosigners.len(),
        });
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        note: signed_note.to_vec(),
        cosigners,
    })
}

/// Signs a checkpoint with the log's key: the note of [`Checkpoint::to_text`]
/// with one signature line (c2sp.org/tlog-checkpoint §Signatures).
///
/// # Errors
///
/// The checkpoint error if the text would not parse (an empty origin or
/// extension line, a control character) or [`CheckpointError::NewlineInField`]
/// if it would parse to another checkpoint;
/// [`CheckpointError::Note`] if signing fails.
pub fn sign_checkpoint(cp: &Checkpoint, log: &dyn NoteSigner) -> Result<Vec<u8>, CheckpointError> {
    let text = cp.to_text();
    if Checkpoint::parse(&text)? != *cp {
        // A field holds a newline, so lines shifted: refuse to sign what we did not mean.
        return Err(CheckpointError::NewlineInField);
    }
    Ok(note::sign(&text, &[log])?)
}
