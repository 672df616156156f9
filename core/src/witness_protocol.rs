//! The witness protocol's message bodies:
//! [C2SP `tlog-witness`](https://c2sp.org/tlog-witness) §add-checkpoint.
//!
//! A log asks a witness to cosign a checkpoint with `POST <prefix>/add-checkpoint`.
//! This module encodes and parses the three bodies of that exchange, with no
//! I/O, so that the witness server and the log's witness client speak one
//! implementation of the wire format.
//!
//! # Request body (§add-checkpoint)
//!
//! Every line ends in U+000A:
//!
//! ```text
//! old <size>                  the size of the witness's latest cosigned checkpoint, as the
//!                             client believes it: ASCII decimal, no leading zeros ("0" alone)
//! <base64 hash>               zero to 63 lines: the RFC 6962 §2.1.2 consistency proof from
//!                             the old size to the checkpoint's size; none when old is 0
//! <empty line>
//! <signed checkpoint note>    c2sp.org/tlog-checkpoint, any number of signatures
//! ```
//!
//! [`parse_add_checkpoint`] is strict: the one canonical decimal
//! ([`crate::decimal`]), canonical padded base64 of exactly 32 bytes per proof
//! line, at most [`MAX_PROOF_LINES`] of them, none when the old size is 0
//! ("The proof MUST be empty if the old size is zero"), and a non-empty
//! note after the blank line. The note itself is checked by the witness
//! ([`crate::note::Note::parse`], [`crate::checkpoint::Checkpoint::parse`]).
//!
//! # Responses (§add-checkpoint)
//!
//! - `200`: one or more note signature lines, `— <name> <base64(key ID ‖
//!   signature)>\n`: the witness's cosignatures on the checkpoint
//!   ([`format_cosignature_response`], [`parse_cosignature_response`]).
//! - `409` with `Content-Type: text/x.tlog.size` ([`SIZE_CONTENT_TYPE`]): the
//!   size of the witness's latest cosigned checkpoint, in decimal, and a
//!   newline ([`format_size_response`], [`parse_size_response`]).
//!
//! # Worked example
//!
//! The spec's request, rebuilt from its parts (the note's signature lines are
//! shortened here; the parser does not check them):
//!
//! ```
//! use base64::Engine as _;
//! use sigil_core::witness_protocol::{encode_add_checkpoint, parse_add_checkpoint};
//!
//! let b64 = base64::engine::general_purpose::STANDARD;
//! let proof: Vec<[u8; 32]> = [
//!     "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
//!     "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
//! ]
//! .iter()
//! .map(|h| b64.decode(h).unwrap().try_into().unwrap())
//! .collect();
//! let note = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
//!              \xe2\x80\x94 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+Z\n";
//! let body = encode_add_checkpoint(20852014, &proof, note);
//! assert!(body.starts_with(
//!     b"old 20852014\n\
//!       PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
//!       jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
//!       \n\
//!       example.com/behind-the-sofa\n"
//! ));
//! let parsed = parse_add_checkpoint(&body)?;
//! assert_eq!(parsed.old_size, 20852014);
//! assert_eq!(parsed.proof, proof);
//! assert_eq!(parsed.note, note);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::merkle::Hash;
use crate::note::{NoteSignature, is_valid_key_name};

/// The most consistency proof lines a request may carry: "The client MUST NOT
/// send more than 63 consistency proof lines" (§add-checkpoint).
pub const MAX_PROOF_LINES: usize = 63;

/// `Content-Type` of a `409 Conflict` answer whose body is the witness's
/// latest cosigned size (§add-checkpoint).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// The path of the call, after the witness's submission prefix (§add-checkpoint).
pub const ADD_CHECKPOINT_PATH: &str = "/add-checkpoint";

/// The em dash (U+2014) and space that start a note signature line (c2sp.org/signed-note §Format).
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Fewest bytes in a decoded signature: the 4-byte key ID and at least one
/// byte (c2sp.org/signed-note §Format).
const MIN_SIGNATURE_LEN: usize = 5;

/// Most signature lines [`parse_cosignature_response`] accepts, as
/// [`crate::note::MAX_SIGNATURES`] for a whole note.
pub const MAX_RESPONSE_SIGNATURES: usize = crate::note::MAX_SIGNATURES;

/// A parsed `add-checkpoint` request body (§add-checkpoint). The note is not
/// parsed or verified here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The old size line: the size of the latest checkpoint the client
    /// believes the witness cosigned (0 if none).
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, byte for byte.
    pub note: Vec<u8>,
}

/// Why a `tlog-witness` body was refused (c2sp.org/tlog-witness §add-checkpoint).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessProtocolError {
    /// The first line is not `old <size>` with a canonical decimal, ending in a newline.
    #[error(
        "the first line must be \"old <size>\": a decimal without leading zeros, then a newline"
    )]
    BadOldSize,
    /// A consistency proof line is not canonical base64 of a 32-byte hash.
    #[error("line {line}: a consistency proof line must be the base64 of a 32-byte hash")]
    BadProofLine {
        /// 1-based line number in the body.
        line: usize,
    },
    /// More than [`MAX_PROOF_LINES`] consistency proof lines.
    #[error("more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    /// A consistency proof with an old size of 0: the proof MUST be empty then.
    #[error("the consistency proof must be empty when the old size is 0")]
    ProofFromEmptyTree,
    /// The body ends before the empty line that ends the proof.
    #[error("missing the empty line between the consistency proof and the checkpoint")]
    MissingBlankLine,
    /// Nothing follows the empty line.
    #[error("missing the checkpoint after the empty line")]
    MissingCheckpoint,
    /// A response line is not a note signature line `— <name> <base64>`.
    #[error("response line {line} is not a note signature line")]
    BadSignatureLine {
        /// 1-based line number in the response.
        line: usize,
    },
    /// A `200` response with no signature line: it MUST carry one or more.
    #[error("the response carries no cosignature")]
    NoSignatures,
    /// A `200` response with more than [`MAX_RESPONSE_SIGNATURES`] lines.
    #[error("the response carries more than {MAX_RESPONSE_SIGNATURES} signature lines")]
    TooManySignatures,
    /// A `409` body is not a decimal size followed by a newline.
    #[error("a text/x.tlog.size body must be a decimal size and a newline")]
    BadSizeBody,
}

/// Encodes an `add-checkpoint` request body (§add-checkpoint): `old <size>`,
/// one base64 line per proof hash, an empty line, then the signed note.
///
/// The caller keeps to the spec's rules: at most [`MAX_PROOF_LINES`]
/// hashes, none if `old_size` is 0, a note that ends in a newline.
pub fn encode_add_checkpoint(old_size: u64, proof: &[Hash], checkpoint_note: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + proof.len() * 45 + checkpoint_note.len());
    out.extend_from_slice(format!("old {old_size}\n").as_bytes());
    for hash in proof {
        out.extend_from_slice(BASE64.encode(hash).as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(checkpoint_note);
    out
}

/// Parses an `add-checkpoint` request body strictly (see the module docs).
///
/// # Errors
///
/// The first problem found, as a [`WitnessProtocolError`]. Never panics.
pub fn parse_add_checkpoint(body: &[u8]) -> Result<AddCheckpoint, WitnessProtocolError> {
    let mut rest = body;
    let mut next_line = || -> Option<&[u8]> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let (line, tail) = rest.split_at(end);
        rest = tail.get(1..).unwrap_or_default();
        Some(line)
    };
    let old_size = next_line()
        .and_then(|l| l.strip_prefix(b"old "))
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(crate::decimal::parse)
        .ok_or(WitnessProtocolError::BadOldSize)?;
    let mut proof = Vec::new();
    loop {
        let line = next_line().ok_or(WitnessProtocolError::MissingBlankLine)?;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(WitnessProtocolError::TooManyProofLines);
        }
        let hash = BASE64
            .decode(line)
            .ok()
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or(WitnessProtocolError::BadProofLine {
                line: proof.len() + 2,
            })?;
        proof.push(hash);
    }
    if old_size == 0 && !proof.is_empty() {
        return Err(WitnessProtocolError::ProofFromEmptyTree);
    }
    if rest.is_empty() {
        return Err(WitnessProtocolError::MissingCheckpoint);
    }
    Ok(AddCheckpoint {
        old_size,
        proof,
        note: rest.to_vec(),
    })
}

/// The body of a `200` answer (§add-checkpoint): the signature lines, each
/// `— <name> <base64(key ID ‖ signature)>\n`.
pub fn format_cosignature_response(signatures: &[NoteSignature]) -> String {
    signatures.iter().map(NoteSignature::to_line).collect()
}

/// Parses the body of a `200` answer (§add-checkpoint): one or more note
/// signature lines, each ending in a newline. Signatures are not verified:
/// the client checks those from witness keys it trusts against the
/// checkpoint text and ignores the others (c2sp.org/tlog-cosignature).
///
/// # Errors
///
/// [`WitnessProtocolError::NoSignatures`] for an empty body,
/// [`WitnessProtocolError::BadSignatureLine`] for a line that is not
/// `— <name> <base64>` with a valid key name and at least 5 decoded bytes (or
/// that lacks its final newline), [`WitnessProtocolError::TooManySignatures`].
pub fn parse_cosignature_response(body: &[u8]) -> Result<Vec<NoteSignature>, WitnessProtocolError> {
    if body.is_empty() {
        return Err(WitnessProtocolError::NoSignatures);
    }
    let text = std::str::from_utf8(body).map_err(|e| WitnessProtocolError::BadSignatureLine {
        line: 1 + body
            .get(..e.valid_up_to())
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()),
    })?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.len() > MAX_RESPONSE_SIGNATURES {
        return Err(WitnessProtocolError::TooManySignatures);
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            parse_signature_line(line).ok_or(WitnessProtocolError::BadSignatureLine { line: i + 1 })
        })
        .collect()
}

/// One `— <name> <base64>\n` line (c2sp.org/signed-note §Format).
fn parse_signature_line(line: &str) -> Option<NoteSignature> {
    let rest = line.strip_suffix('\n')?.strip_prefix(SIGNATURE_PREFIX)?;
    let (name, b64) = rest.split_once(' ')?;
    if !is_valid_key_name(name) {
        return None;
    }
    let raw = BASE64.decode(b64).ok()?;
    if raw.len() < MIN_SIGNATURE_LEN {
        return None;
    }
    let (id, signature) = raw.split_at(4);
    Some(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes(id.try_into().ok()?),
        signature: signature.to_vec(),
    })
}

/// The body of a `409` answer (§add-checkpoint): the latest cosigned size
/// in decimal and a newline, served as [`SIZE_CONTENT_TYPE`].
pub fn format_size_response(size: u64) -> String {
    format!("{size}\n")
}

/// Parses the body of a `409` answer: a canonical decimal and a newline.
///
/// # Errors
///
/// [`WitnessProtocolError::BadSizeBody`] for anything else.
pub fn parse_size_response(body: &[u8]) -> Result<u64, WitnessProtocolError> {
    body.strip_suffix(b"\n")
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(crate::decimal::parse)
        .ok_or(WitnessProtocolError::BadSizeBody)
}
