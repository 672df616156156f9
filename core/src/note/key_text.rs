//! The text forms of note keys (Go `sumdb/note`, used by every C2SP tool):
//!
//! ```text
//! verifier key:  <name>+<8 hex digits>+<base64(type || public key)>
//! signer key:    PRIVATE+KEY+<name>+<8 hex digits>+<base64(type || private key)>
//! ```
//!
//! The name ends at the first `+`, the key ID at the second; the base64 part
//! may contain `+`. This module only splits and decodes; each key type checks
//! its length and key ID. Errors never quote the key text, which for signer
//! keys is secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{NoteError, is_valid_key_name};

/// Prefix of a signer key, which keeps it from being mistaken for a public key.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// A key text split into its fields.
pub(crate) struct KeyText<'a> {
    /// Key name.
    pub(crate) name: &'a str,
    /// Key ID as written in the text.
    pub(crate) key_id: u32,
    /// The signature type byte.
    pub(crate) key_type: u8,
    /// The key bytes after the type byte.
    pub(crate) key: Vec<u8>,
}

/// Splits and decodes `<name>+<hex key ID>+<base64(type || key)>`.
pub(crate) fn parse_verifier_key_text(text: &str) -> Result<KeyText<'_>, NoteError> {
    const SHAPE: NoteError = NoteError::MalformedKey {
        reason: "expected <name>+<key ID>+<base64 key>",
    };
    let (name, rest) = text.split_once('+').ok_or(SHAPE)?;
    let (hex_id, b64) = rest.split_once('+').ok_or(SHAPE)?;
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName);
    }
    if hex_id.len() != 8 || !hex_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey {
            reason: "key ID is not 8 hexadecimal digits",
        });
    }
    let key_id = u32::from_str_radix(hex_id, 16).map_err(|_| NoteError::MalformedKey {
        reason: "key ID is not 8 hexadecimal digits",
    })?;
    let decoded = BASE64.decode(b64).map_err(|_| NoteError::MalformedKey {
        reason: "key is not valid base64",
    })?;
    let Some((&key_type, key)) = decoded.split_first() else {
        return Err(NoteError::MalformedKey {
            reason: "key is empty",
        });
    };
    Ok(KeyText {
        name,
        key_id,
        key_type,
        key: key.to_vec(),
    })
}

/// Splits and decodes `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || key)>`.
pub(crate) fn parse_private_key_text(text: &str) -> Result<KeyText<'_>, NoteError> {
    let rest = text
        .strip_prefix(PRIVATE_KEY_PREFIX)
        .ok_or(NoteError::MalformedKey {
            reason: "signer key does not start with PRIVATE+KEY+",
        })?;
    parse_verifier_key_text(rest)
}

/// Formats `<name>+<key ID, 8 lower-case hex digits>+<base64(type || key)>`.
pub(crate) fn format_key_text(name: &str, key_id: u32, key_type: u8, key: &[u8]) -> String {
    let mut material = Vec::with_capacity(1 + key.len());
    material.push(key_type);
    material.extend_from_slice(key);
    format!("{name}+{key_id:08x}+{}", BASE64.encode(material))
}

/// Formats a signer key: `PRIVATE+KEY+` and the [`format_key_text`] form.
pub(crate) fn format_private_key_text(name: &str, key_id: u32, key_type: u8, key: &[u8]) -> String {
    format!(
        "{PRIVATE_KEY_PREFIX}{}",
        format_key_text(name, key_id, key_type, key)
    )
}

/// Reads a verifier key text of `expected` type whose key is 32 bytes (the
/// Ed25519 forms, `0x01` and `0x04`): (name, key ID, public key). The caller
/// checks the key ID against the one it derives.
pub(crate) fn parse_key32_verifier_text(
    text: &str,
    expected: u8,
) -> Result<(&str, u32, [u8; 32]), NoteError> {
    let parsed = parse_verifier_key_text(text)?;
    if parsed.key_type != expected {
        return Err(NoteError::WrongKeyType {
            expected,
            found: parsed.key_type,
        });
    }
    let public = parsed
        .key
        .as_slice()
        .try_into()
        .map_err(|_| NoteError::InvalidKeyLength {
            key_type: parsed.key_type,
            len: parsed.key.len(),
        })?;
    Ok((parsed.name, parsed.key_id, public))
}
