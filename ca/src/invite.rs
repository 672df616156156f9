//! Enrollment tokens and the admin bearer token.
//!
//! An enrollment token is `sigil-enroll-` followed by 32 random octets in
//! unpadded base64url (RFC 4648 §5): 256 bits, drawn from the system
//! generator by aws-lc-rs. The CA stores only its SHA-256, so a copy of the
//! store does not let anyone enroll; a presented token is hashed and its
//! hash compared in constant time with the stored one (the lookup itself is
//! by hash, which reveals nothing about the token).
//!
//! The admin token guards the admin API (`Authorization: Bearer`, RFC 6750
//! §2.1). It is compared as SHA-256 digests in constant time, so neither its
//! content nor its length leaks through timing.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use crate::error::CaError;

/// The prefix of every enrollment token: it tells a person (and secret
/// scanners) what the string is.
pub const TOKEN_PREFIX: &str = "sigil-enroll-";

/// Random octets in a token.
pub const TOKEN_BYTES: usize = 32;

/// Why a presented token is not even a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the token is not a Sigil enrollment token: expected `sigil-enroll-` and 43 base64url \
     characters, as `sigil-ca invite` prints it"
)]
pub struct MalformedToken;

/// A new random enrollment token and its hash.
pub fn new_token() -> Result<(Zeroizing<String>, [u8; 32]), CaError> {
    let mut raw = Zeroizing::new([0u8; TOKEN_BYTES]);
    aws_lc_rs::rand::fill(raw.as_mut()).map_err(|_| CaError::Random)?;
    let token = Zeroizing::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(*raw)));
    let hash = token_hash(&token)
        .map_err(|_| CaError::Internal("a new token does not parse as a token"))?;
    Ok((token, hash))
}

/// The hash under which a token is stored, after checking its shape.
pub fn token_hash(token: &str) -> Result<[u8; 32], MalformedToken> {
    let body = token.strip_prefix(TOKEN_PREFIX).ok_or(MalformedToken)?;
    let raw = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).map_err(|_| MalformedToken)?);
    if raw.len() != TOKEN_BYTES {
        return Err(MalformedToken);
    }
    Ok(sha256(token.as_bytes()))
}

/// Whether two token hashes are equal, in constant time.
pub fn hashes_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    verify_slices_are_equal(a, b).is_ok()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// The admin bearer token, kept as its SHA-256 only.
#[derive(Clone)]
pub struct AdminToken {
    hash: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken([elided])")
    }
}

/// The shortest admin token accepted, in characters (128 bits of base64).
pub const MIN_ADMIN_TOKEN_LEN: usize = 22;

impl AdminToken {
    /// The admin token from the text of an admin token file: its first
    /// line, surrounding whitespace removed. Refuses one shorter than
    /// [`MIN_ADMIN_TOKEN_LEN`].
    pub fn from_file_text(text: &str) -> Result<AdminToken, CaError> {
        let token = text.lines().next().unwrap_or("").trim();
        if token.len() < MIN_ADMIN_TOKEN_LEN {
            return Err(CaError::WeakAdminToken {
                min: MIN_ADMIN_TOKEN_LEN,
            });
        }
        Ok(AdminToken {
            hash: sha256(token.as_bytes()),
        })
    }

    /// Whether `presented` is the admin token, in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        hashes_equal(&self.hash, &sha256(presented.as_bytes()))
    }
}

/// A new random admin token (32 octets, base64url), for `sigil-ca init`.
pub fn new_admin_token() -> Result<Zeroizing<String>, CaError> {
    let mut raw = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(raw.as_mut()).map_err(|_| CaError::Random)?;
    Ok(Zeroizing::new(URL_SAFE_NO_PAD.encode(*raw)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_round_trip_and_differ() {
        let (a, ha) = new_token().unwrap();
        let (b, hb) = new_token().unwrap();
        assert_ne!(*a, *b);
        assert_eq!(token_hash(&a).unwrap(), ha);
        assert_eq!(token_hash(&b).unwrap(), hb);
        assert!(hashes_equal(&ha, &ha) && !hashes_equal(&ha, &hb));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
    }

    #[test]
    fn malformed_tokens() {
        let (good, _) = new_token().unwrap();
        for bad in [
            "",
            "sigil-enroll-",
            &good[1..],
            &good[..good.len() - 1],
            &format!("{}A", &*good),
            &good.replace("sigil-enroll-", "sigil-enrol-"),
            &format!("{}=", &*good),
            "sigil-enroll-!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            assert_eq!(token_hash(bad), Err(MalformedToken), "{bad:?}");
        }
    }

    #[test]
    fn admin_token() {
        assert!(AdminToken::from_file_text("short\n").is_err());
        assert!(AdminToken::from_file_text("").is_err());
        let t = new_admin_token().unwrap();
        let admin = AdminToken::from_file_text(&format!("  {}\n\n", &*t)).unwrap();
        assert!(admin.matches(&t));
        assert!(!admin.matches(&t[1..]));
        assert!(!admin.matches(""));
        assert!(!format!("{admin:?}").contains(&*t));
    }

    proptest! {
        #[test]
        fn token_hash_never_panics(s in ".{0,80}") {
            let _ = token_hash(&s);
        }
    }
}
