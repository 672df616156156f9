//! Ed25519 note keys, signature type `0x01` (c2sp.org/signed-note
//! §Ed25519 signatures): RFC 8032 Ed25519 over the note text, key ID
//! `SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]`.

use std::fmt;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair as _, ParsedPublicKey};

use super::{
    ALG_ED25519, NoteError, NoteSigner, NoteVerifier, format_key_text, format_private_key_text,
    is_valid_key_name, key_id, parse_key32_verifier_text, parse_private_key_text,
};

/// Length of an Ed25519 seed (the private key of RFC 8032 §5.1.5) and of a public key.
const KEY_LEN: usize = 32;

/// An Ed25519 private key: the RFC 8032 seed and its expanded key pair.
/// Shared by note signers and witness cosigners. Debug output is redacted.
pub(crate) struct Ed25519Key {
    seed: [u8; KEY_LEN],
    pair: Ed25519KeyPair,
    public: [u8; KEY_LEN],
}

impl Ed25519Key {
    /// The key pair of a 32-byte RFC 8032 seed.
    pub(crate) fn from_seed(seed: [u8; KEY_LEN]) -> Result<Self, NoteError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| NoteError::Crypto {
            context: "Ed25519 key from seed",
        })?;
        let public = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| NoteError::Crypto {
                context: "Ed25519 public key length",
            })?;
        Ok(Self { seed, pair, public })
    }

    /// A fresh key from the operating system's random number generator.
    pub(crate) fn generate() -> Result<Self, NoteError> {
        let mut seed = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut seed).map_err(|_| NoteError::Crypto {
            context: "random seed",
        })?;
        Self::from_seed(seed)
    }

    /// Reads the seed of a `PRIVATE+KEY+` text whose type byte is one of
    /// `accepted`; returns the name, declared key ID, type byte and key.
    pub(crate) fn from_private_key_text<'a>(
        skey: &'a str,
        accepted: &[u8],
    ) -> Result<(&'a str, u32, u8, Self), NoteError> {
        let parsed = parse_private_key_text(skey)?;
        if !accepted.contains(&parsed.key_type) {
            return Err(match accepted {
                [expected] => NoteError::WrongKeyType {
                    expected: *expected,
                    found: parsed.key_type,
                },
                _ => NoteError::UnsupportedKeyType {
                    key_type: parsed.key_type,
                },
            });
        }
        let seed: [u8; KEY_LEN] =
            parsed
                .key
                .as_slice()
                .try_into()
                .map_err(|_| NoteError::InvalidKeyLength {
                    key_type: parsed.key_type,
                    len: parsed.key.len(),
                })?;
        Ok((
            parsed.name,
            parsed.key_id,
            parsed.key_type,
            Self::from_seed(seed)?,
        ))
    }

    /// The RFC 8032 seed: the secret.
    pub(crate) fn seed(&self) -> &[u8; KEY_LEN] {
        &self.seed
    }

    /// The 32-byte public key.
    pub(crate) fn public_key(&self) -> [u8; KEY_LEN] {
        self.public
    }

    /// The 64-byte Ed25519 signature of `msg` (deterministic, RFC 8032).
    pub(crate) fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Key")
            .field("public", &hex::encode(self.public))
            .field("seed", &"<redacted>")
            .finish()
    }
}

/// Parses a 32-byte Ed25519 public key for repeated verification.
pub(crate) fn parse_public_key(public: &[u8; KEY_LEN]) -> Result<ParsedPublicKey, NoteError> {
    ParsedPublicKey::new(&ED25519, public).map_err(|_| NoteError::InvalidPublicKey {
        reason: "not an Ed25519 public key",
    })
}

/// Whether `signature` is an Ed25519 signature of `msg` by `key`.
pub(crate) fn verify(key: &ParsedPublicKey, msg: &[u8], signature: &[u8]) -> bool {
    signature.len() == 64 && key.verify_sig(msg, signature).is_ok()
}

/// A note signer with an Ed25519 key, signature type `0x01`
/// (c2sp.org/signed-note §Ed25519 signatures). Debug output never shows
/// the private key.
#[derive(Debug)]
pub struct Ed25519Signer {
    key: Ed25519Key,
    verifier: Ed25519Verifier,
}

impl Ed25519Signer {
    /// A new key named `name`, from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`], or [`NoteError::Crypto`] if there is no randomness.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        check_name(name)?;
        Self::with_key(name, Ed25519Key::generate()?)
    }

    /// The key named `name` with this RFC 8032 seed.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`].
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Self::with_key(name, Ed25519Key::from_seed(seed)?)
    }

    /// Reads a signer key `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>`,
    /// the form of Go's `note.GenerateKey`.
    ///
    /// # Errors
    ///
    /// Malformed text, a type other than `0x01`, a seed that is not 32 bytes,
    /// or a key ID that does not match the key ([`NoteError::KeyIdMismatch`]).
    pub fn from_private_key(skey: &str) -> Result<Self, NoteError> {
        let (name, declared, _, key) = Ed25519Key::from_private_key_text(skey, &[ALG_ED25519])?;
        let signer = Self::with_key(name, key)?;
        check_key_id(signer.verifier.key_id, declared)?;
        Ok(signer)
    }

    /// The signer key text, `PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>`.
    /// It is secret: anyone holding it can sign as this key.
    pub fn private_key(&self) -> String {
        format_private_key_text(
            &self.verifier.name,
            self.verifier.key_id,
            ALG_ED25519,
            self.key.seed(),
        )
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519Verifier {
        self.verifier.clone()
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    fn with_key(name: &str, key: Ed25519Key) -> Result<Self, NoteError> {
        let verifier = Ed25519Verifier::new(name, key.public_key())?;
        Ok(Self { key, verifier })
    }
}

impl NoteSigner for Ed25519Signer {
    fn name(&self) -> &str {
        &self.verifier.name
    }

    fn key_id(&self) -> u32 {
        self.verifier.key_id
    }

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(self.key.sign(text))
    }
}

/// A note verifier for an Ed25519 public key, signature type `0x01`
/// (c2sp.org/signed-note §Ed25519 signatures).
#[derive(Clone)]
pub struct Ed25519Verifier {
    name: String,
    key_id: u32,
    public: [u8; KEY_LEN],
    parsed: ParsedPublicKey,
}

impl Ed25519Verifier {
    /// The verifier for `public_key` under `name`; its key ID is
    /// `SHA-256(name || 0x0A || 0x01 || public_key)[:4]`.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`], [`NoteError::InvalidPublicKey`].
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &type_and_key(ALG_ED25519, &public_key)),
            public: public_key,
            parsed: parse_public_key(&public_key)?,
        })
    }

    /// Reads a verifier key `<name>+<key ID>+<base64(0x01 || public key)>`.
    ///
    /// # Errors
    ///
    /// Malformed text, a type other than `0x01`, a key that is not 32 bytes,
    /// or a key ID that does not match ([`NoteError::KeyIdMismatch`]).
    pub fn from_verifier_key(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, public) = parse_key32_verifier_text(vkey, ALG_ED25519)?;
        let verifier = Self::new(name, public)?;
        check_key_id(verifier.key_id, key_id)?;
        Ok(verifier)
    }

    /// The verifier key text, `<name>+<key ID>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        format_key_text(&self.name, self.key_id, ALG_ED25519, &self.public)
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        verify(&self.parsed, text, signature)
    }
}

impl fmt::Debug for Ed25519Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519Verifier")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("public", &hex::encode(self.public))
            .finish()
    }
}

/// `type || key`, the key material of a key ID and of a key text.
pub(crate) fn type_and_key(key_type: u8, key: &[u8]) -> Vec<u8> {
    let mut material = Vec::with_capacity(1 + key.len());
    material.push(key_type);
    material.extend_from_slice(key);
    material
}

/// Refuses a name that could not appear in a signature line (§Format).
pub(crate) fn check_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName)
    }
}

/// Checks the key ID written in a key text against the computed one.
pub(crate) fn check_key_id(computed: u32, declared: u32) -> Result<(), NoteError> {
    if computed == declared {
        Ok(())
    } else {
        Err(NoteError::KeyIdMismatch { computed, declared })
    }
}
