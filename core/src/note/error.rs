//! The error type of [`crate::note`]: syntax (c2sp.org/signed-note §Format),
//! verification (§Signatures), signing, and key text forms.

/// Everything that can go wrong reading, verifying or signing a note, or
/// reading a key in its text form (c2sp.org/signed-note).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_SIZE`](super::MAX_NOTE_SIZE) (§Format: verifiers SHOULD limit size).
    #[error("note is {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// Size of the note in bytes.
        size: usize,
        /// The limit, [`MAX_NOTE_SIZE`](super::MAX_NOTE_SIZE).
        max: usize,
    },
    /// The note is not valid UTF-8 (§Format: MUST be valid UTF-8).
    #[error("note is not valid UTF-8 (at byte {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The note contains an ASCII control character other than newline (§Format).
    #[error("control character at byte {offset}; only newline is allowed")]
    ControlCharacter {
        /// Byte offset of the control character.
        offset: usize,
    },
    /// The note, or a text to sign, does not end in a newline (§Format).
    #[error("note does not end in a newline")]
    MissingFinalNewline,
    /// There is no empty line separating the text from the signatures (§Format).
    #[error("no blank line separating the text from the signatures")]
    MissingBlankLine,
    /// The text to sign is empty; a note text is at least one line (§Format).
    #[error("note text is empty")]
    EmptyText,
    /// Nothing follows the blank line: a note has one or more signatures (§Format).
    #[error("note has no signature lines")]
    NoSignatures,
    /// A line after the blank line does not start with an em dash and a space (§Format).
    #[error("line {line}: signature line does not start with \"\u{2014} \"")]
    MissingEmDash {
        /// 1-based line number in the note.
        line: usize,
    },
    /// The key name of a signature line is empty or contains white space or `+` (§Format).
    #[error("line {line}: invalid key name")]
    InvalidSignatureName {
        /// 1-based line number in the note.
        line: usize,
    },
    /// The signature of a signature line is not canonical padded base64 (§Format).
    #[error("line {line}: signature is not valid base64")]
    InvalidSignatureBase64 {
        /// 1-based line number in the note.
        line: usize,
    },
    /// A signature decodes to fewer than 5 bytes: a key ID and a signature (§Format).
    #[error("line {line}: signature is {len} bytes, need a 4-byte key ID and a signature")]
    SignatureTooShort {
        /// 1-based line number in the note.
        line: usize,
        /// Decoded length in bytes.
        len: usize,
    },
    /// The note has more than [`MAX_SIGNATURES`](super::MAX_SIGNATURES) signature lines (§Format).
    #[error("note has more than {max} signatures")]
    TooManySignatures {
        /// The limit, [`MAX_SIGNATURES`](super::MAX_SIGNATURES).
        max: usize,
    },
    /// No signature is from a known key: the note MUST be rejected (§Signatures).
    #[error("note has no verifiable signature from a trusted key")]
    UnverifiedNote,
    /// A signature from a known key does not verify: the note is rejected (§Signatures).
    #[error("invalid signature from known key {name}+{key_id:08x}")]
    InvalidSignature {
        /// Key name of the signature line.
        name: String,
        /// Key ID of the signature line.
        key_id: u32,
    },
    /// Several trusted keys share this name and key ID, so it is unclear which one
    /// must verify the signature (a misconfigured [`Verifiers`](super::Verifiers) or policy).
    #[error("several trusted keys are named {name}+{key_id:08x}")]
    AmbiguousKey {
        /// Key name shared by the keys.
        name: String,
        /// Key ID shared by the keys.
        key_id: u32,
    },
    /// [`sign`](super::sign) or [`add_signatures`](super::add_signatures) was given no signer.
    #[error("no signer given")]
    NoSigners,
    /// Two signers given to one [`sign`](super::sign) call have the same name and key ID.
    #[error("two signers are named {name}+{key_id:08x}")]
    DuplicateSigner {
        /// Key name shared by the signers.
        name: String,
        /// Key ID shared by the signers.
        key_id: u32,
    },
    /// A [`NoteSigner`](super::NoteSigner) failed or refused to sign.
    #[error("signer {name} failed: {reason}")]
    Signer {
        /// Key name of the signer.
        name: String,
        /// Why it failed.
        reason: String,
    },
    /// A key or signer name is empty or contains white space, `+` or a control character (§Format).
    #[error("invalid key name")]
    InvalidKeyName,
    /// A key text is not `[PRIVATE+KEY+]<name>+<8 hex digits>+<base64>`.
    #[error("malformed key: {reason}")]
    MalformedKey {
        /// What is wrong (never the key material itself).
        reason: &'static str,
    },
    /// The key ID written in a key text is not the one computed from the key (§Signatures).
    #[error("key ID {declared:08x} does not match the key, which has ID {computed:08x}")]
    KeyIdMismatch {
        /// The key ID computed from name, type and public key.
        computed: u32,
        /// The key ID written in the key text.
        declared: u32,
    },
    /// A key text has a signature type byte this reader does not implement (§Signature types).
    #[error("unsupported signature type 0x{key_type:02x}")]
    UnsupportedKeyType {
        /// The signature type byte.
        key_type: u8,
    },
    /// A key text has a different signature type than the one asked for.
    #[error("expected a key of signature type 0x{expected:02x}, found 0x{found:02x}")]
    WrongKeyType {
        /// The type the caller asked for.
        expected: u8,
        /// The type byte in the key text.
        found: u8,
    },
    /// The key after the type byte has the wrong length for its type.
    #[error("key of signature type 0x{key_type:02x} is {len} bytes long")]
    InvalidKeyLength {
        /// The signature type byte.
        key_type: u8,
        /// Length of the key material after the type byte.
        len: usize,
    },
    /// The public key is not a valid key of its type.
    #[error("invalid public key: {reason}")]
    InvalidPublicKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// The cryptographic library failed (for example, no randomness).
    #[error("cryptographic failure: {context}")]
    Crypto {
        /// The operation that failed.
        context: &'static str,
    },
}
