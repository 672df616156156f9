//! Witness cosignatures: [C2SP `tlog-cosignature`](https://c2sp.org/tlog-cosignature),
//! the Ed25519 `cosignature/v1` type, note signature type `0x04`.
//!
//! A cosignature is a note signature that a witness adds to a
//! [checkpoint](crate::checkpoint) (§Format). It states that, as of its
//! timestamp, this is the largest checkpoint consistent with everything the
//! witness has seen for the log named by the origin line (§Ed25519 signed
//! message). Readers require a quorum of them ([`crate::checkpoint::verify_checkpoint`])
//! so that a log cannot show them a fork.
//!
//! # Wire format
//!
//! The signature line is an ordinary note signature line (c2sp.org/signed-note):
//!
//! ```text
//! — <witness name> base64( key ID (4) || timestamp (8, big-endian u64) || Ed25519 signature (64) )
//! key ID = SHA-256(<witness name> || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]
//! ```
//!
//! so the signature after the key ID is the 72-byte `timestamped_signature`
//! (§Format). The Ed25519 signature covers this message (§Ed25519 signed
//! message), built by [`cosigned_message`]:
//!
//! ```text
//! cosignature/v1\n
//! time <timestamp in ASCII decimal, no leading zeros>\n
//! <the whole checkpoint text: origin, size, root hash, any extension lines, final newline>
//! ```
//!
//! Rules, from the spec:
//!
//! - the timestamp is POSIX seconds and MUST NOT exceed 2⁶³ − 1 (enforced
//!   when signing and when verifying); verifiers MAY reject timestamps in the
//!   future — [`CosignatureVerifier::verify_timestamp`] returns the timestamp
//!   so that the caller can;
//! - Ed25519 cosignatures are made over **checkpoints** (the ML-DSA-44 type,
//!   not implemented here, also signs subtrees): [`CosignatureSigner::cosign`]
//!   refuses a text that is not a valid [`Checkpoint`];
//! - extension lines are signed but no statement is made about them;
//! - the witness name is not part of the signed message, so an operator MUST
//!   use a distinct key per cosigner.
//!
//! A cosigner MUST also have checked that the checkpoint is consistent with
//! the last one it cosigned for that origin before cosigning (c2sp.org/tlog-witness);
//! that state lives in the witness server, not here.
//!
//! # Key text forms
//!
//! ```text
//! verifier key:  <name>+<key ID>+<base64(0x04 || 32-byte public key)>          (§Format "vkeys")
//! signer key:    PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || 32-byte seed)>
//! ```
//!
//! [`CosignatureSigner::from_private_key`] also reads the plain Ed25519 form
//! `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>` written by Go's
//! `note.GenerateKey`, which witnesses built on transparency-dev/formats
//! (`NewSignerForCosignatureV1`) use; the key ID in that form is the type-`0x01`
//! one. Either way the signer's key ID is the type-`0x04` one.
//!
//! # Worked example
//!
//! The spec's checkpoint, cosigned at `1679315147` by the witness
//! `witness.example.com/w1` whose seed is 32 bytes of `0x42`:
//!
//! ```
//! use sigil_core::cosignature::{CosignatureSigner, cosigned_message};
//! use sigil_core::note::NoteVerifier;
//!
//! let checkpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
//! assert_eq!(
//!     cosigned_message(checkpoint.as_bytes(), 1679315147),
//!     b"cosignature/v1\ntime 1679315147\n\
//!       example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
//! );
//!
//! let witness = CosignatureSigner::from_seed("witness.example.com/w1", [0x42; 32])?;
//! assert_eq!(
//!     witness.verifier().verifier_key(),
//!     "witness.example.com/w1+886a0481+BCFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS",
//! );
//! let cosignature = witness.cosign(checkpoint, 1679315147)?;
//! assert_eq!(cosignature.key_id, 0x886a0481);
//! assert_eq!(&cosignature.signature[..8], &1679315147u64.to_be_bytes());
//! assert_eq!(
//!     cosignature.to_line(),
//!     "— witness.example.com/w1 iGoEgQAAAABkGFDLEqgtDUsneMqeLcGMqk8Xx08OQIVxF72ZJmEtUU5sbo5WiTlj\
//!      N+UF1cQ+vSoh1gRQ0wV3Nz9m8DFvjwHDTDcQBA==\n",
//! );
//! assert_eq!(
//!     witness.verifier().verify_timestamp(checkpoint.as_bytes(), &cosignature.signature),
//!     Some(1679315147),
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::ParsedPublicKey;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{
    ALG_COSIGNATURE_V1, ALG_ED25519, Ed25519Key, NoteError, NoteSignature, NoteSigner,
    NoteVerifier, check_key_id, check_name, format_key_text, format_private_key_text, key_id,
    parse_ed25519_public_key, parse_key32_verifier_text, type_and_key, verify_ed25519,
};

/// First line of the signed message, for domain separation (§Ed25519 signed message).
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";

/// Length of the signature after the key ID: 8-byte timestamp and 64-byte
/// Ed25519 signature, the `timestamped_signature` (§Format).
pub const COSIGNATURE_V1_LEN: usize = 72;

/// Largest timestamp allowed: 2⁶³ − 1 (§Format).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Why a witness could not cosign (c2sp.org/tlog-cosignature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The text to cosign is not a checkpoint; Ed25519 cosignatures are over
    /// checkpoints (§Format).
    #[error("cannot cosign: not a checkpoint: {0}")]
    NotACheckpoint(#[from] CheckpointError),
    /// The timestamp is above 2⁶³ − 1 (§Format).
    #[error("timestamp {timestamp} is above 2^63-1")]
    TimestampOutOfRange {
        /// The refused timestamp.
        timestamp: u64,
    },
}

/// The message a `cosignature/v1` signs (§Ed25519 signed message):
/// `"cosignature/v1\ntime " || decimal(timestamp) || "\n" || checkpoint_text`.
pub fn cosigned_message(checkpoint_text: &[u8], timestamp: u64) -> Vec<u8> {
    let time_line = format!("time {timestamp}\n");
    let mut msg =
        Vec::with_capacity(COSIGNATURE_V1_HEADER.len() + time_line.len() + checkpoint_text.len());
    msg.extend_from_slice(COSIGNATURE_V1_HEADER.as_bytes());
    msg.extend_from_slice(time_line.as_bytes());
    msg.extend_from_slice(checkpoint_text);
    msg
}

/// A witness's Ed25519 key making `cosignature/v1` signatures (type `0x04`).
/// Debug output never shows the private key.
#[derive(Debug)]
pub struct CosignatureSigner {
    key: Ed25519Key,
    verifier: CosignatureVerifier,
}

impl CosignatureSigner {
    /// A new witness key named `name`, from the operating system's random
    /// number generator.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`], or [`NoteError::Crypto`] if there is no randomness.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        check_name(name)?;
        Self::with_key(name, Ed25519Key::generate()?)
    }

    /// The witness key named `name` with this RFC 8032 seed.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`].
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Self::with_key(name, Ed25519Key::from_seed(seed)?)
    }

    /// Reads a signer key: `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>`
    /// with the type-`0x04` key ID, or the plain Ed25519 form with type
    /// `0x01` and the type-`0x01` key ID (see the module docs).
    ///
    /// # Errors
    ///
    /// Malformed text, another type, a seed that is not 32 bytes, or a key ID
    /// that does not match the key for the type written.
    pub fn from_private_key(skey: &str) -> Result<Self, NoteError> {
        let (name, declared, key_type, key) =
            Ed25519Key::from_private_key_text(skey, &[ALG_COSIGNATURE_V1, ALG_ED25519])?;
        let signer = Self::with_key(name, key)?;
        let computed = match key_type {
            ALG_ED25519 => key_id(name, &type_and_key(ALG_ED25519, &signer.public_key())),
            _ => signer.verifier.key_id,
        };
        check_key_id(computed, declared)?;
        Ok(signer)
    }

    /// The signer key text, `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>`.
    /// It is secret: anyone holding it can cosign as this witness.
    pub fn private_key(&self) -> String {
        format_private_key_text(
            &self.verifier.name,
            self.verifier.key_id,
            ALG_COSIGNATURE_V1,
            self.key.seed(),
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        self.verifier.clone()
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    /// Cosigns a checkpoint text (note body, final newline included) at
    /// `timestamp` (POSIX seconds). The caller must first have checked that
    /// the checkpoint is consistent with the last one it cosigned.
    ///
    /// # Errors
    ///
    /// [`CosignatureError::NotACheckpoint`] if the text does not parse as a
    /// checkpoint; [`CosignatureError::TimestampOutOfRange`] above 2⁶³ − 1.
    pub fn cosign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignatureError> {
        Checkpoint::parse(checkpoint_text)?;
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampOutOfRange { timestamp });
        }
        let mut signature = Vec::with_capacity(COSIGNATURE_V1_LEN);
        signature.extend_from_slice(&timestamp.to_be_bytes());
        signature.extend_from_slice(
            &self
                .key
                .sign(&cosigned_message(checkpoint_text.as_bytes(), timestamp)),
        );
        Ok(NoteSignature {
            name: self.verifier.name.clone(),
            key_id: self.verifier.key_id,
            signature,
        })
    }

    fn with_key(name: &str, key: Ed25519Key) -> Result<Self, NoteError> {
        let verifier = CosignatureVerifier::new(name, key.public_key())?;
        Ok(Self { key, verifier })
    }
}

impl NoteSigner for CosignatureSigner {
    fn name(&self) -> &str {
        &self.verifier.name
    }

    fn key_id(&self) -> u32 {
        self.verifier.key_id
    }

    /// Cosigns `text` with the current time of [`SystemTime`].
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError> {
        let refuse = |reason: String| NoteError::Signer {
            name: self.verifier.name.clone(),
            reason,
        };
        let text = std::str::from_utf8(text).map_err(|_| refuse("text is not UTF-8".to_owned()))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| refuse("system clock is before 1970".to_owned()))?
            .as_secs();
        let cosignature = self.cosign(text, now).map_err(|e| refuse(e.to_string()))?;
        Ok(cosignature.signature)
    }
}

/// Checks a witness's `cosignature/v1` signatures (type `0x04`).
#[derive(Clone)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    public: [u8; 32],
    parsed: ParsedPublicKey,
}

impl CosignatureVerifier {
    /// The verifier for the witness `name` with this Ed25519 public key; its
    /// key ID is `SHA-256(name || 0x0A || 0x04 || public_key)[:4]` (§Format).
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`], [`NoteError::InvalidPublicKey`].
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &type_and_key(ALG_COSIGNATURE_V1, &public_key)),
            public: public_key,
            parsed: parse_ed25519_public_key(&public_key)?,
        })
    }

    /// Reads a verifier key `<name>+<key ID>+<base64(0x04 || public key)>` (§Format).
    ///
    /// # Errors
    ///
    /// Malformed text, a type other than `0x04`, a key that is not 32 bytes,
    /// or a key ID that does not match ([`NoteError::KeyIdMismatch`]).
    pub fn from_verifier_key(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, public) = parse_key32_verifier_text(vkey, ALG_COSIGNATURE_V1)?;
        let verifier = Self::new(name, public)?;
        check_key_id(verifier.key_id, key_id)?;
        Ok(verifier)
    }

    /// The verifier key text, `<name>+<key ID>+<base64(0x04 || public key)>`.
    pub fn verifier_key(&self) -> String {
        format_key_text(&self.name, self.key_id, ALG_COSIGNATURE_V1, &self.public)
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// Checks a cosignature (`signature`: the 72 bytes after the key ID) over
    /// the note text `text`, and returns its timestamp if valid (§Format).
    ///
    /// Returns `None` for a wrong length, a timestamp above 2⁶³ − 1 or a bad
    /// Ed25519 signature. Whether the timestamp is acceptable (not in the
    /// future, recent enough) is the caller's policy.
    pub fn verify_timestamp(&self, text: &[u8], signature: &[u8]) -> Option<u64> {
        if signature.len() != COSIGNATURE_V1_LEN {
            return None;
        }
        let (time, ed25519) = signature.split_at(8);
        let timestamp = u64::from_be_bytes(time.try_into().ok()?);
        if timestamp > MAX_TIMESTAMP {
            return None;
        }
        verify_ed25519(&self.parsed, &cosigned_message(text, timestamp), ed25519)
            .then_some(timestamp)
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        self.verify_timestamp(text, signature).is_some()
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureVerifier")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("public", &hex::encode(self.public))
            .finish()
    }
}
