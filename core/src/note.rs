//! Signed notes: [C2SP `signed-note`](https://c2sp.org/signed-note), the
//! envelope of every checkpoint and cosignature Sigil publishes.
//!
//! A note is UTF-8 text signed by one or more keys. Its text MUST be ignored
//! unless a signature from a trusted key has been verified (§Note), which is
//! what [`open`] enforces. This module is byte-compatible with Go's
//! `golang.org/x/mod/sumdb/note` and with `transparency-dev/formats/note`.
//!
//! # Wire format (§Format)
//!
//! ```text
//! note           = text LF 1*signature-line
//! text           = 1*( *char LF )       ; ends in LF, may contain empty lines
//! signature-line = U+2014 SP key-name SP base64( key-ID || signature ) LF
//! key-ID         = 4 bytes, big-endian uint32
//! ```
//!
//! - The whole note MUST be valid UTF-8 and MUST NOT contain any character
//!   below U+0020 other than LF (§Format). DEL and non-ASCII are allowed.
//! - The text includes its final LF but not the blank line after it; the text
//!   ends at the **last** empty line of the note, so the text itself may
//!   contain empty lines (§Format).
//! - The em dash U+2014 is the three bytes `E2 80 94`; it is followed by one
//!   space (`20`), the key name, one space and the base64 signature.
//! - Key names MUST be non-empty and contain neither Unicode white space nor
//!   `+` (§Format); Sigil also refuses ASCII control characters in names.
//! - base64 is the padded standard alphabet of RFC 4648 §4. Sigil decodes it
//!   canonically (a non-zero unused trailing bit is an error), which Go does
//!   not insist on; no signer produces such encodings, and rejecting them
//!   keeps one byte string per signature.
//! - A decoded signature is at least 5 bytes: the key ID and a non-empty
//!   signature (Go's `note.Open` rejects anything shorter too).
//!
//! **Limits.** A note is at most [`MAX_NOTE_SIZE`] bytes (1 MiB) with at most
//! [`MAX_SIGNATURES`] (100, Go's limit) signature lines. The spec requires
//! accepting at least 16 signatures of up to ~5 kB each (§Format).
//!
//! **Forward compatibility.** Signatures from keys the reader does not know
//! are kept in [`VerifiedNote::unverified`] and otherwise ignored, whatever
//! their type (§Signatures): a log may add a new key or a witness may cosign
//! without breaking old readers.
//!
//! # Keys (§Signatures)
//!
//! A signature line names its key by `(key name, key ID)`. The key ID is
//!
//! ```text
//! key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]   (big-endian)
//! ```
//!
//! computed by [`key_id`], with these signature types:
//!
//! | type | algorithm | public key | signature after the key ID |
//! |---|---|---|---|
//! | [`ALG_ED25519`] `0x01` | Ed25519 (RFC 8032) over the text | 32 bytes | 64 bytes |
//! | [`ALG_ECDSA`] `0x02` | ECDSA P-256 / SHA-256 over the text | DER `SubjectPublicKeyInfo` | ASN.1 DER `ECDSA-Sig-Value` |
//! | [`ALG_COSIGNATURE_V1`] `0x04` | [`crate::cosignature`] | 32 bytes | 8-byte timestamp ‖ 64 bytes |
//!
//! Type `0x02` is the exception to the formula: its key ID is
//! `SHA-256(SubjectPublicKeyInfo DER)[:4]`, without name or type byte, as
//! Sigstore's Rekor and transparency-dev implement it (§Signature types).
//!
//! Keys travel as text (the forms of Go's `sumdb/note`):
//!
//! ```text
//! verifier key:  <name>+<key ID as 8 hex digits>+<base64(type || public key)>
//! signer key:    PRIVATE+KEY+<name>+<key ID as 8 hex digits>+<base64(type || private key)>
//! ```
//!
//! The base64 part may itself contain `+`; the name may not. Sigil writes the
//! key ID in lower case and, like Go, reads either case. The key ID written
//! in the text is always checked against the one computed from the key.
//!
//! # Verification rules (§Signatures)
//!
//! [`open`] looks each signature up by `(name, key ID)` in the reader's
//! [`Verifiers`]:
//!
//! - unknown `(name, key ID)`: ignored, even if the name or the ID alone
//!   matches a known key (kept once in [`VerifiedNote::unverified`]);
//! - known key: the signature MUST verify, otherwise the whole note is
//!   rejected ([`NoteError::InvalidSignature`]); every such line is checked,
//!   including repeats of a key that already verified;
//! - no signature from a known key at all: rejected
//!   ([`NoteError::UnverifiedNote`]).
//!
//! # Worked example
//!
//! The note of Go's `sumdb/note` documentation, signed by the key
//! `PeterNeumann`. Its text is two lines; after the blank line comes one
//! signature line whose base64 decodes to the key ID `c7 4f 20 a3` followed by
//! the 64-byte Ed25519 signature of the text.
//!
//! ```text
//! If you think cryptography is the answer to your problem,
//! then you don't know what your problem is.
//!
//! — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=
//! ```
//!
//! ```
//! use sigil_core::note::{self, Ed25519Signer, NoteSigner, Verifiers};
//!
//! let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
//! let signer = Ed25519Signer::from_private_key(skey)?;
//! assert_eq!(signer.key_id(), 0xc74f20a3);
//! assert_eq!(
//!     signer.verifier().verifier_key(),
//!     "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
//! );
//!
//! let text = "If you think cryptography is the answer to your problem,\n\
//!             then you don't know what your problem is.\n";
//! let msg = note::sign(text, &[&signer])?;
//! assert_eq!(
//!     msg,
//!     "If you think cryptography is the answer to your problem,\n\
//!      then you don't know what your problem is.\n\
//!      \n\
//!      — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
//!         .as_bytes(),
//! );
//! // After the text: the blank line, then the em dash (E2 80 94) and a space.
//! assert_eq!(&msg[text.len()..text.len() + 5], b"\n\xe2\x80\x94 ");
//!
//! let known = Verifiers::new(vec![Box::new(signer.verifier())]);
//! let opened = note::open(&msg, &known)?;
//! assert_eq!(opened.text, text);
//! assert_eq!(opened.verified[0].key_id, 0xc74f20a3);
//! # Ok::<(), note::NoteError>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

mod ecdsa;
mod ed25519;
mod error;
mod key_text;

pub use ecdsa::EcdsaP256Verifier;
pub(crate) use ed25519::{
    Ed25519Key, check_key_id, check_name, parse_public_key as parse_ed25519_public_key,
    type_and_key, verify as verify_ed25519,
};
pub use ed25519::{Ed25519Signer, Ed25519Verifier};
pub use error::NoteError;
pub(crate) use key_text::{
    format_key_text, format_private_key_text, parse_key32_verifier_text, parse_private_key_text,
    parse_verifier_key_text,
};

/// Signature type `0x01`: Ed25519 over the note text (§Ed25519 signatures).
pub const ALG_ED25519: u8 = 0x01;
/// Signature type `0x02`: ECDSA with SHA-256 as implemented by
/// transparency-dev and Rekor (§Signature types).
pub const ALG_ECDSA: u8 = 0x02;
/// Signature type `0x04`: timestamped Ed25519 witness cosignatures,
/// c2sp.org/tlog-cosignature (§Signature types).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Largest note [`Note::parse`] accepts, in bytes: 1 MiB. The spec asks
/// for a limit on signatures "or, equivalently, the overall size" (§Format).
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// Most signature lines [`Note::parse`] accepts: 100, as Go's `note.Open`.
/// The spec requires at least 16 (§Format).
pub const MAX_SIGNATURES: usize = 100;

/// Em dash (U+2014) and space: the start of every signature line (§Format).
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Fewest bytes in a decoded signature: a 4-byte key ID and at least one
/// byte of signature (the spec's "4+n bytes", with n > 0 as in Go).
const MIN_SIGNATURE_LEN: usize = 5;

/// One signature line of a note (§Format): `— <name> base64(key ID || signature)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoteSignature {
    /// Key name, the first field of the line.
    pub name: String,
    /// Key ID, the first four bytes of the decoded signature, big-endian (§Signatures).
    pub key_id: u32,
    /// The signature bytes after the 4-byte key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, em dash to final newline (§Format):
    /// `"— " || name || " " || base64(key ID || signature) || "\n"`.
    ///
    /// This is also the body of a C2SP `tlog-witness` `add-checkpoint` response.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(raw))
    }
}

/// A parsed, **not verified** note: text and signature lines (§Format).
///
/// Use [`open`] to check signatures; never act on the text of a `Note`
/// that did not come from [`open`] (§Note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, including its final newline, without the blank line.
    pub text: String,
    /// Every signature line, in order, including repeats.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses the syntax of a signed note (§Format), checking no signature.
    ///
    /// Enforces [`MAX_NOTE_SIZE`] and [`MAX_SIGNATURES`], UTF-8, no control
    /// characters but newline, the final newline, the blank line, and each
    /// signature line's em dash, key name, base64 and minimum length.
    ///
    /// # Errors
    ///
    /// The first syntax problem found, as a [`NoteError`]. Never panics.
    pub fn parse(msg: &[u8]) -> Result<Note, NoteError> {
        if msg.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: msg.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let msg = std::str::from_utf8(msg).map_err(|e| NoteError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_no_control_characters(msg)?;
        if !msg.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        // The text ends at the last empty line (§Format).
        let split = msg.rfind("\n\n").ok_or(NoteError::MissingBlankLine)?;
        let (text, rest) = msg
            .split_at_checked(split + 1)
            .ok_or(NoteError::MissingBlankLine)?;
        let block = rest.get(1..).unwrap_or_default();
        // `block` ends in '\n' because `msg` does, unless it is empty.
        let Some(block) = block.strip_suffix('\n') else {
            return Err(NoteError::NoSignatures);
        };
        let first_line = line_count(text) + 2;
        let mut signatures = Vec::new();
        for (i, line) in block.split('\n').enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(parse_signature_line(line, first_line + i)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Encodes the note (§Format): the text, a blank line, then one line per
    /// signature in order.
    ///
    /// This does not validate the fields; [`add_signatures`] does.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 1 + 100 * self.signatures.len());
        out.extend_from_slice(self.text.as_bytes());
        out.push(b'\n');
        for sig in &self.signatures {
            out.extend_from_slice(sig.to_line().as_bytes());
        }
        out
    }
}

/// Parses one signature line (without its newline), `line` being its
/// 1-based line number in the note for error messages.
fn parse_signature_line(line: &str, line_no: usize) -> Result<NoteSignature, NoteError> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(NoteError::MissingEmDash { line: line_no })?;
    // The name ends at the first space; the rest is base64 (which has no spaces).
    let (name, b64) = rest.split_once(' ').unwrap_or((rest, ""));
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidSignatureName { line: line_no });
    }
    let raw = BASE64
        .decode(b64)
        .map_err(|_| NoteError::InvalidSignatureBase64 { line: line_no })?;
    if raw.len() < MIN_SIGNATURE_LEN {
        return Err(NoteError::SignatureTooShort {
            line: line_no,
            len: raw.len(),
        });
    }
    let (id, signature) = raw.split_at(4);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        signature: signature.to_vec(),
    })
}

/// Number of newline-terminated lines in `text`.
fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// Rejects ASCII control characters other than newline (§Format). Scanning
/// bytes is exact for UTF-8: multi-byte sequences only use bytes ≥ 0x80.
fn check_no_control_characters(s: &str) -> Result<(), NoteError> {
    match s.bytes().position(|b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter { offset }),
        None => Ok(()),
    }
}

/// Checks a text before signing it: non-empty, valid characters, final
/// newline (§Format), so that every note we sign parses.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::EmptyText);
    }
    check_no_control_characters(text)?;
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    Ok(())
}

/// Whether `name` may be a key name (§Format): non-empty, no Unicode white
/// space (Go's `unicode.IsSpace`, the same set as [`char::is_whitespace`]),
/// no `+`. Sigil also refuses ASCII control characters, which could never
/// appear in a valid note.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_ascii_control())
}

/// The recommended key ID (§Signatures): the first four bytes, big-endian,
/// of `SHA-256(name || 0x0A || key_material)`, where `key_material` is the
/// signature type byte followed by the public key.
///
/// ```
/// use sigil_core::note::{key_id, ALG_ED25519};
/// // c2sp.org/signed-note example key `example.com/foo+530d903a+AekyeRrm...`
/// let mut material = vec![ALG_ED25519];
/// material.extend_from_slice(&[
///     0xe9, 0x32, 0x79, 0x1a, 0xe6, 0xe7, 0xa8, 0x40, 0xa4, 0x61, 0x64, 0xc9, 0x04, 0x78, 0x64, 0x26,
///     0xd5, 0xe7, 0x82, 0x1d, 0xd8, 0xb2, 0x9a, 0x00, 0xd6, 0x1c, 0xae, 0x72, 0xaf, 0xdd, 0x4d, 0xa4,
/// ]);
/// assert_eq!(key_id("example.com/foo", &material), 0x530d903a);
/// ```
pub fn key_id(name: &str, key_material: &[u8]) -> u32 {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(b"\n");
    ctx.update(key_material);
    first_four_bytes(ctx.finish().as_ref())
}

/// Big-endian `u32` of the first four bytes of a SHA-256 digest.
pub(crate) fn first_four_bytes(digest: &[u8]) -> u32 {
    match digest {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// A public key that checks signatures of one `(name, key ID)` (§Signatures).
pub trait NoteVerifier: Send + Sync {
    /// The key name that signature lines carry.
    fn name(&self) -> &str;
    /// The key ID that signature lines carry.
    fn key_id(&self) -> u32;
    /// Whether `signature` (the bytes after the key ID) is valid for `text`
    /// (the note text, final newline included).
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool;
}

/// A private key that signs note texts (§Signatures).
pub trait NoteSigner: Send + Sync {
    /// The key name written in the signature line.
    fn name(&self) -> &str;
    /// The key ID written before the signature.
    fn key_id(&self) -> u32;
    /// Signs `text` (the note text, final newline included) and returns the
    /// signature bytes that follow the key ID.
    ///
    /// # Errors
    ///
    /// [`NoteError::Signer`] or [`NoteError::Crypto`] if the key cannot sign.
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError>;
}

/// The keys a reader trusts, looked up by `(name, key ID)` (§Signatures).
#[derive(Default)]
pub struct Verifiers {
    by_id: HashMap<u32, Vec<Box<dyn NoteVerifier>>>,
    len: usize,
}

impl Verifiers {
    /// A set of trusted keys.
    pub fn new(verifiers: Vec<Box<dyn NoteVerifier>>) -> Self {
        let mut set = Self::default();
        for v in verifiers {
            set.push(v);
        }
        set
    }

    /// Adds a trusted key. Adding two keys with the same name and key ID
    /// makes [`open`] reject notes signed under that pair
    /// ([`NoteError::AmbiguousKey`]), as Go's `VerifierList` does.
    pub fn push(&mut self, verifier: Box<dyn NoteVerifier>) {
        self.by_id
            .entry(verifier.key_id())
            .or_default()
            .push(verifier);
        self.len += 1;
    }

    /// The first key added with this name and key ID, if any.
    pub fn get(&self, name: &str, key_id: u32) -> Option<&dyn NoteVerifier> {
        self.by_id
            .get(&key_id)?
            .iter()
            .find(|v| v.name() == name)
            .map(|v| &**v)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The unique key for `(name, key ID)`, `None` if unknown.
    fn lookup(&self, name: &str, key_id: u32) -> Result<Option<&dyn NoteVerifier>, NoteError> {
        let Some(candidates) = self.by_id.get(&key_id) else {
            return Ok(None);
        };
        let mut found = candidates.iter().filter(|v| v.name() == name);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => Ok(Some(&**v)),
            (Some(_), Some(_)) => Err(NoteError::AmbiguousKey {
                name: name.to_owned(),
                key_id,
            }),
        }
    }
}

impl fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.by_id
                    .values()
                    .flatten()
                    .map(|v| format!("{}+{:08x}", v.name(), v.key_id())),
            )
            .finish()
    }
}

/// A note with at least one signature verified by a trusted key (§Signatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The text, including its final newline.
    pub text: String,
    /// Signatures from trusted keys, all verified; one per key, in note order.
    pub verified: Vec<NoteSignature>,
    /// Signatures from unknown keys, not checked; identical lines once.
    pub unverified: Vec<NoteSignature>,
}

/// Parses `msg` and verifies its signatures against `known` (§Signatures).
///
/// Signatures from unknown keys are ignored (returned in
/// [`VerifiedNote::unverified`]); every signature from a known key must
/// verify; at least one must be from a known key.
///
/// # Errors
///
/// Any [`Note::parse`] error; [`NoteError::InvalidSignature`] if a known key's
/// signature does not verify; [`NoteError::AmbiguousKey`] if `known` has two
/// keys for a signature's `(name, key ID)`; [`NoteError::UnverifiedNote`] if
/// no signature is from a known key.
pub fn open(msg: &[u8], known: &Verifiers) -> Result<VerifiedNote, NoteError> {
    let note = Note::parse(msg)?;
    let text = note.text.as_bytes();
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified: Vec<NoteSignature> = Vec::new();
    for sig in note.signatures {
        match known.lookup(&sig.name, sig.key_id)? {
            None => {
                if !unverified.contains(&sig) {
                    unverified.push(sig);
                }
            }
            Some(v) => {
                if !v.verify(text, &sig.signature) {
                    return Err(NoteError::InvalidSignature {
                        name: sig.name,
                        key_id: sig.key_id,
                    });
                }
                if !verified
                    .iter()
                    .any(|s| s.name == sig.name && s.key_id == sig.key_id)
                {
                    verified.push(sig);
                }
            }
        }
    }
    if verified.is_empty() {
        return Err(NoteError::UnverifiedNote);
    }
    Ok(VerifiedNote {
        text: note.text,
        verified,
        unverified,
    })
}

/// Signs `text` with each signer and returns the signed note (§Format): the
/// text, a blank line and one signature line per signer, in order.
///
/// # Errors
///
/// The text must be non-empty, end in a newline and hold no control
/// character but newline; signers must have valid, distinct
/// `(name, key ID)`s and succeed; the note must stay within
/// [`MAX_NOTE_SIZE`] and [`MAX_SIGNATURES`].
pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<Vec<u8>, NoteError> {
    add_signatures(
        &Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        },
        signers,
    )
}

/// Adds signatures to a note, keeping its existing ones: a witness adding
/// its cosignature, a log adding a second key's signature (§Signatures).
///
/// Existing signatures come first, in order, except those with the same
/// `(name, key ID)` as a new signer, which the new signature replaces (as Go's
/// `note.Sign` does). New signatures follow in `signers` order. Existing
/// signatures are copied, not verified.
///
/// # Errors
///
/// As [`sign`]; also an existing signature with an invalid name or an empty
/// signature.
pub fn add_signatures(note: &Note, signers: &[&dyn NoteSigner]) -> Result<Vec<u8>, NoteError> {
    check_text(&note.text)?;
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    let text = note.text.as_bytes();
    let mut new = Vec::with_capacity(signers.len());
    for (i, signer) in signers.iter().enumerate() {
        let (name, key_id) = (signer.name(), signer.key_id());
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        if signers[..i]
            .iter()
            .any(|s| s.name() == name && s.key_id() == key_id)
        {
            return Err(NoteError::DuplicateSigner {
                name: name.to_owned(),
                key_id,
            });
        }
        let signature = signer.sign(text)?;
        if signature.is_empty() {
            return Err(NoteError::Signer {
                name: name.to_owned(),
                reason: "empty signature".to_owned(),
            });
        }
        new.push(NoteSignature {
            name: name.to_owned(),
            key_id,
            signature,
        });
    }
    let kept: Vec<&NoteSignature> = note
        .signatures
        .iter()
        .filter(|old| {
            !new.iter()
                .any(|n| n.name == old.name && n.key_id == old.key_id)
        })
        .collect();
    let first_line = line_count(&note.text) + 2;
    for (i, old) in kept.iter().enumerate() {
        if !is_valid_key_name(&old.name) {
            return Err(NoteError::InvalidSignatureName {
                line: first_line + i,
            });
        }
        if old.signature.is_empty() {
            return Err(NoteError::SignatureTooShort {
                line: first_line + i,
                len: 4,
            });
        }
    }
    if kept.len() + new.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            max: MAX_SIGNATURES,
        });
    }
    let mut out = Vec::with_capacity(text.len() + 1 + 120 * (kept.len() + new.len()));
    out.extend_from_slice(text);
    out.push(b'\n');
    for sig in kept.into_iter().chain(&new) {
        out.extend_from_slice(sig.to_line().as_bytes());
    }
    if out.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge {
            size: out.len(),
            max: MAX_NOTE_SIZE,
        });
    }
    Ok(out)
}

/// Reads a verifier key of any supported type (§Signature types): `0x01`
/// [`Ed25519Verifier`], `0x02` [`EcdsaP256Verifier`], `0x04`
/// [`crate::cosignature::CosignatureVerifier`].
///
/// # Errors
///
/// [`NoteError::UnsupportedKeyType`] for other types; otherwise whatever the
/// type's `from_verifier_key` returns (malformed text, wrong length, key ID
/// mismatch, invalid key).
pub fn parse_verifier_key(vkey: &str) -> Result<Box<dyn NoteVerifier>, NoteError> {
    let parsed = parse_verifier_key_text(vkey)?;
    match parsed.key_type {
        ALG_ED25519 => Ok(Box::new(Ed25519Verifier::from_verifier_key(vkey)?)),
        ALG_ECDSA => Ok(Box::new(EcdsaP256Verifier::from_verifier_key(vkey)?)),
        ALG_COSIGNATURE_V1 => Ok(Box::new(
            crate::cosignature::CosignatureVerifier::from_verifier_key(vkey)?,
        )),
        key_type => Err(NoteError::UnsupportedKeyType { key_type }),
    }
}
