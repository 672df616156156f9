//! ECDSA P-256 note verifiers, signature type `0x02` (c2sp.org/signed-note
//! §Signature types: "ECDSA signatures as implemented by
//! github.com/transparency-dev/witness"), as Sigstore's Rekor signs its
//! checkpoints.
//!
//! - public key: the DER `SubjectPublicKeyInfo` of an uncompressed P-256
//!   point (91 bytes: `30 59 30 13 06 07 2a8648ce3d0201 06 08 2a8648ce3d030107
//!   03 42 00 04 ‖ X ‖ Y`);
//! - key ID: `SHA-256(SubjectPublicKeyInfo)[:4]`, with **no** name or type
//!   byte (the spec's stated exception);
//! - signature after the key ID: ASN.1 DER `ECDSA-Sig-Value` over
//!   SHA-256(note text), variable length.
//!
//! The spec also allows P-384 and P-521 (and says SHOULD P-256); Sigil
//! implements only P-256 and refuses other curves when the key is read.

use std::fmt;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ParsedPublicKey};

use super::ed25519::{check_key_id, check_name};
use super::{ALG_ECDSA, NoteError, NoteVerifier, first_four_bytes, format_key_text};

/// DER prefix of a P-256 `SubjectPublicKeyInfo` with an uncompressed point:
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 04 ... } }.
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// Length of that `SubjectPublicKeyInfo`: the prefix and two 32-byte coordinates.
const P256_SPKI_LEN: usize = P256_SPKI_PREFIX.len() + 64;

/// A note verifier for an ECDSA P-256 key, signature type `0x02`.
#[derive(Clone)]
pub struct EcdsaP256Verifier {
    name: String,
    key_id: u32,
    spki: Vec<u8>,
    parsed: ParsedPublicKey,
}

impl EcdsaP256Verifier {
    /// The verifier for a P-256 public key given as a DER
    /// `SubjectPublicKeyInfo`; its key ID is `SHA-256(spki_der)[:4]`.
    ///
    /// # Errors
    ///
    /// [`NoteError::InvalidKeyName`]; [`NoteError::InvalidPublicKey`] if the
    /// key is not an uncompressed P-256 point on the curve.
    pub fn new(name: &str, spki_der: &[u8]) -> Result<Self, NoteError> {
        check_name(name)?;
        if spki_der.len() != P256_SPKI_LEN || !spki_der.starts_with(&P256_SPKI_PREFIX) {
            return Err(NoteError::InvalidPublicKey {
                reason: "not the SubjectPublicKeyInfo of an uncompressed P-256 point",
            });
        }
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki_der).map_err(|_| {
            NoteError::InvalidPublicKey {
                reason: "not a point on P-256",
            }
        })?;
        Ok(Self {
            name: name.to_owned(),
            key_id: spki_key_id(spki_der),
            spki: spki_der.to_vec(),
            parsed,
        })
    }

    /// Reads a verifier key `<name>+<key ID>+<base64(0x02 || SubjectPublicKeyInfo DER)>`.
    ///
    /// # Errors
    ///
    /// Malformed text, a type other than `0x02`, a key that is not P-256, or
    /// a key ID other than `SHA-256(SubjectPublicKeyInfo)[:4]`.
    pub fn from_verifier_key(vkey: &str) -> Result<Self, NoteError> {
        let parsed = super::parse_verifier_key_text(vkey)?;
        if parsed.key_type != ALG_ECDSA {
            return Err(NoteError::WrongKeyType {
                expected: ALG_ECDSA,
                found: parsed.key_type,
            });
        }
        let verifier = Self::new(parsed.name, &parsed.key)?;
        check_key_id(verifier.key_id, parsed.key_id)?;
        Ok(verifier)
    }

    /// The verifier key text, `<name>+<key ID>+<base64(0x02 || SubjectPublicKeyInfo)>`.
    pub fn verifier_key(&self) -> String {
        format_key_text(&self.name, self.key_id, ALG_ECDSA, &self.spki)
    }

    /// The public key as a DER `SubjectPublicKeyInfo`.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }
}

/// Key ID of a type-`0x02` key: `SHA-256(SubjectPublicKeyInfo DER)[:4]`.
fn spki_key_id(spki_der: &[u8]) -> u32 {
    first_four_bytes(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki_der).as_ref())
}

impl NoteVerifier for EcdsaP256Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Checks an ASN.1 DER ECDSA signature over SHA-256(`text`).
    fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        self.parsed.verify_sig(text, signature).is_ok()
    }
}

impl fmt::Debug for EcdsaP256Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdsaP256Verifier")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("spki", &hex::encode(&self.spki))
            .finish()
    }
}
