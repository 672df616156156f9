//! The trust root: the one file a Sigil client pins (`docs/formats.md` §4,
//! DESIGN.md "Trust root").
//!
//! It names the log (its checkpoint origin line and its C2SP signed-note
//! verifier key), the witnesses whose cosignatures count and how many of
//! them a checkpoint needs (C2SP `tlog-cosignature`), and the CA root
//! certificates that maintainers' chains must lead to. With it, and nothing
//! else, a client verifies a `.crate` and its `.tlog-proof` offline.
//!
//! # Format (`docs/formats.md` §4)
//!
//! UTF-8 JSON (RFC 8259), at most [`MAX_TRUST_ROOT_SIZE`] bytes, one object
//! with exactly these members, each required but `log.url`, no other
//! member allowed:
//!
//! ```text
//! {
//!   "version": 1,                           the format version; only 1 exists
//!   "log": {
//!     "origin": "<origin line>",            non-empty, no newline (tlog-checkpoint)
//!     "key": "<verifier key>",              name+keyid+base64(type||key), type 0x01 or 0x02
//!     "url": "https://log.example.org"      optional: where clients ask the log online
//!   },
//!   "witnesses": ["<verifier key>", ...],   cosignature/v1 keys (type 0x04), distinct keys
//!   "quorum": 0,                            0 <= quorum <= len(witnesses)
//!   "ca_roots": ["<PEM CERTIFICATE>", ...]  at least one; one PEM block each
//! }
//! ```
//!
//! Whether each PEM block is a usable Sigil root (DER X.509 v3 CA with an
//! ECDSA P-256 key) is checked by `sigil_verifier::TrustedRoots`, which
//! parses certificates; this crate has no X.509 parser.
//!
//! [`TrustRoot::to_json`] writes one canonical form (members in the order
//! above, two-space indentation, a final newline); [`TrustRoot::parse`]
//! accepts any JSON spelling of a valid value. A future version changes
//! `version`; a version-1 reader refuses it rather than guess.
//!
//! # Example
//!
//! ```
//! use sigil_core::note::{Ed25519Signer, NoteSigner};
//! use sigil_core::trust_root::TrustRoot;
//!
//! let log = Ed25519Signer::from_seed("example.com/sigil", [7; 32])?;
//! let root = TrustRoot {
//!     log_origin: "example.com/sigil".to_owned(),
//!     log_key: log.verifier().verifier_key(),
//!     log_url: Some("https://example.com/sigil".to_owned()),
//!     witnesses: vec![],
//!     quorum: 0,
//!     ca_roots_pem: vec![
//!         "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_owned(),
//!     ],
//! };
//! let json = root.to_json();
//! assert_eq!(TrustRoot::parse(json.as_bytes())?, root);
//! let policy = root.policy()?;
//! assert_eq!(policy.origin, "example.com/sigil");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::Deserialize;

use crate::checkpoint::CheckpointPolicy;
use crate::cosignature::CosignatureVerifier;
use crate::note::{self, NoteError, NoteVerifier};

/// The only trust root format version (`docs/formats.md` §4).
pub const TRUST_ROOT_VERSION: u64 = 1;

/// The largest trust root file accepted, in bytes (`docs/formats.md` §4).
pub const MAX_TRUST_ROOT_SIZE: usize = 1024 * 1024;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// Why a trust root file was refused (`docs/formats.md` §4). Each message
/// says what to fix; regenerate the file with `sigil trust-root` when in
/// doubt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustRootError {
    /// The file is larger than [`MAX_TRUST_ROOT_SIZE`].
    #[error(
        "the trust root is {size} bytes; at most {MAX_TRUST_ROOT_SIZE} are accepted: this is not a Sigil trust root"
    )]
    TooLarge {
        /// Size of the file in bytes.
        size: usize,
    },
    /// Not JSON of the required shape: a syntax error, a missing, duplicate
    /// or unknown member, or a member of the wrong type.
    #[error("the trust root is not valid: {0}")]
    Json(String),
    /// `version` is not [`TRUST_ROOT_VERSION`].
    #[error(
        "the trust root has version {0}; this Sigil reads version 1 only: update Sigil or regenerate the file with `sigil trust-root`"
    )]
    UnsupportedVersion(u64),
    /// `log.origin` is empty or holds a newline, so it cannot be a
    /// checkpoint's origin line (c2sp.org/tlog-checkpoint).
    #[error(
        "the trust root's log.origin must be the log's checkpoint origin line: non-empty, without newline"
    )]
    BadOrigin,
    /// `log.key` is not a signed-note verifier key the log can sign with.
    #[error(
        "the trust root's log.key is not a log verifier key (name+keyid+base64, Ed25519 or ECDSA P-256): {0}"
    )]
    BadLogKey(String),
    /// A witness key is not a `cosignature/v1` verifier key.
    #[error(
        "witness {index} of the trust root is not a cosignature/v1 verifier key (name+keyid+base64, type 0x04): {reason}"
    )]
    BadWitnessKey {
        /// Position in `witnesses`, from 0.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two keys (witnesses, or a witness and the log) have the same name
    /// and key ID, so a signature line could not tell them apart.
    #[error(
        "witness {index} of the trust root has the same name and key ID as another key; list each witness once"
    )]
    DuplicateKey {
        /// Position in `witnesses` of the second occurrence, from 0.
        index: usize,
    },
    /// Two entries hold the same public key under different names (or key
    /// types): one witness would count twice toward the quorum, since a
    /// cosignature does not sign the witness's name and so can be
    /// repeated under the other name, or the log would witness itself.
    #[error(
        "{first} ({first_name}) and {second} ({second_name}) of the trust root hold the same public key; \
         a key counts once toward the quorum: list each witness once, under one name, and never the log's key"
    )]
    DuplicatePublicKey {
        /// The first entry holding the key.
        first: KeyEntry,
        /// Its key name.
        first_name: String,
        /// The later entry holding the same key.
        second: KeyEntry,
        /// Its key name.
        second_name: String,
    },
    /// `quorum` exceeds the number of witnesses: no checkpoint could meet it.
    #[error(
        "the trust root asks for {quorum} witness cosignatures but lists {witnesses} witnesses"
    )]
    QuorumTooLarge {
        /// The quorum asked for.
        quorum: usize,
        /// Number of witnesses listed.
        witnesses: usize,
    },
    /// `ca_roots` is empty.
    #[error(
        "the trust root lists no CA root certificate; add the PEM of the Sigil CA's root (`sigil trust-root --ca-root`)"
    )]
    NoCaRoots,
    /// `log.url` is not a base URL of an HTTP(S) API.
    #[error("the trust root's log.url {0}")]
    BadLogUrl(String),
    /// A `ca_roots` element is not one PEM `CERTIFICATE` block.
    #[error(
        "CA root {index} of the trust root is not one PEM certificate (\"-----BEGIN CERTIFICATE-----\" ... \"-----END CERTIFICATE-----\")"
    )]
    BadCaRoot {
        /// Position in `ca_roots`, from 0.
        index: usize,
    },
}

/// Which key of a trust root an error is about (`docs/formats.md` §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyEntry {
    /// `log.key`.
    Log,
    /// `witnesses[i]`, from 0.
    Witness(usize),
}

impl std::fmt::Display for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyEntry::Log => f.write_str("log.key"),
            KeyEntry::Witness(i) => write!(f, "witnesses[{i}]"),
        }
    }
}

/// A client's pinned trust: the log, its witnesses and quorum, and the CA
/// roots (`docs/formats.md` §4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrustRoot {
    /// The log's checkpoint origin line (`log.origin`).
    pub log_origin: String,
    /// The log's signed-note verifier key (`log.key`).
    pub log_key: String,
    /// Where clients ask the log online (`log.url`, optional): the base
    /// URL of its HTTP API. Not trust material: every answer is checked
    /// against `log_key`; it saves passing `--log`.
    pub log_url: Option<String>,
    /// Witness `cosignature/v1` verifier keys (`witnesses`).
    pub witnesses: Vec<String>,
    /// Distinct witnesses that must cosign a checkpoint (`quorum`).
    pub quorum: usize,
    /// CA root certificates, one PEM block each (`ca_roots`).
    pub ca_roots_pem: Vec<String>,
}

/// The JSON shape of §4, read strictly.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    version: u64,
    log: WireLog,
    witnesses: Vec<String>,
    quorum: usize,
    ca_roots: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLog {
    origin: String,
    key: String,
    #[serde(default)]
    url: Option<String>,
}

impl TrustRoot {
    /// Parses and checks a trust root file (`docs/formats.md` §4): JSON of
    /// exactly the documented shape, `version` 1, and every field valid as
    /// [`TrustRoot::validate`] checks. Never panics.
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`TrustRootError`].
    pub fn parse(bytes: &[u8]) -> Result<TrustRoot, TrustRootError> {
        if bytes.len() > MAX_TRUST_ROOT_SIZE {
            return Err(TrustRootError::TooLarge { size: bytes.len() });
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| TrustRootError::Json(e.to_string()))?;
        if wire.version != TRUST_ROOT_VERSION {
            return Err(TrustRootError::UnsupportedVersion(wire.version));
        }
        let root = TrustRoot {
            log_origin: wire.log.origin,
            log_key: wire.log.key,
            log_url: wire.log.url,
            witnesses: wire.witnesses,
            quorum: wire.quorum,
            ca_roots_pem: wire.ca_roots,
        };
        root.validate()?;
        Ok(root)
    }

    /// Checks every field (`docs/formats.md` §4): the origin is a possible
    /// origin line, the log key is an Ed25519 or ECDSA P-256 signed-note
    /// verifier key, each witness a `cosignature/v1` key, no two keys share
    /// a name and key ID, no two hold the same public key (a witness under
    /// two names, or the log's own key as a witness), the quorum can be met, and there is at least one
    /// CA root, each one PEM `CERTIFICATE` block (its contents are checked
    /// by the verifier).
    ///
    /// # Errors
    ///
    /// The first problem found, as a [`TrustRootError`].
    pub fn validate(&self) -> Result<(), TrustRootError> {
        self.checked_policy().map(|_| ())
    }

    /// The [`CheckpointPolicy`] this trust root asks for, for
    /// [`crate::checkpoint::verify_checkpoint`] and [`crate::proof::verify`].
    ///
    /// # Errors
    ///
    /// As [`TrustRoot::validate`].
    pub fn policy(&self) -> Result<CheckpointPolicy, TrustRootError> {
        self.checked_policy()
    }

    /// Validates and builds the policy in one pass.
    fn checked_policy(&self) -> Result<CheckpointPolicy, TrustRootError> {
        if self.log_origin.is_empty() || self.log_origin.contains('\n') {
            return Err(TrustRootError::BadOrigin);
        }
        let log = parse_log_key(&self.log_key)?;
        if let Some(url) = &self.log_url {
            check_log_url(url)?;
        }
        let log_public = verifier_key_public_key(&self.log_key);
        let mut witnesses: Vec<CosignatureVerifier> = Vec::with_capacity(self.witnesses.len());
        for (index, vkey) in self.witnesses.iter().enumerate() {
            let w = CosignatureVerifier::from_verifier_key(vkey).map_err(|e| {
                TrustRootError::BadWitnessKey {
                    index,
                    reason: e.to_string(),
                }
            })?;
            let same = |name: &str, id: u32| name == w.name() && id == w.key_id();
            if same(log.name(), log.key_id())
                || witnesses.iter().any(|o| same(o.name(), o.key_id()))
            {
                return Err(TrustRootError::DuplicateKey { index });
            }
            let public = w.public_key();
            let earlier = if log_public.as_deref() == Some(&public[..]) {
                Some((KeyEntry::Log, log.name()))
            } else {
                witnesses
                    .iter()
                    .position(|o| o.public_key() == public)
                    .and_then(|i| Some((KeyEntry::Witness(i), witnesses.get(i)?.name())))
            };
            if let Some((first, first_name)) = earlier {
                return Err(TrustRootError::DuplicatePublicKey {
                    first,
                    first_name: first_name.to_owned(),
                    second: KeyEntry::Witness(index),
                    second_name: w.name().to_owned(),
                });
            }
            witnesses.push(w);
        }
        if self.quorum > witnesses.len() {
            return Err(TrustRootError::QuorumTooLarge {
                quorum: self.quorum,
                witnesses: witnesses.len(),
            });
        }
        if self.ca_roots_pem.is_empty() {
            return Err(TrustRootError::NoCaRoots);
        }
        for (index, pem) in self.ca_roots_pem.iter().enumerate() {
            if !is_one_pem_certificate(pem) {
                return Err(TrustRootError::BadCaRoot { index });
            }
        }
        Ok(CheckpointPolicy {
            origin: self.log_origin.clone(),
            log,
            witnesses,
            quorum: self.quorum,
        })
    }

    /// The file's canonical text (`docs/formats.md` §4): members in the
    /// documented order, two-space indentation as `serde_json`'s pretty
    /// printer writes it, and a final newline. The same value always gives
    /// the same bytes. Fields are not checked here (see
    /// [`TrustRoot::validate`]).
    pub fn to_json(&self) -> String {
        let s = |v: &str| serde_json::Value::String(v.to_owned()).to_string();
        let list = |items: &[String]| {
            if items.is_empty() {
                "[]".to_owned()
            } else {
                let lines: Vec<String> = items.iter().map(|i| format!("    {}", s(i))).collect();
                format!("[\n{}\n  ]", lines.join(",\n"))
            }
        };
        let url = self
            .log_url
            .as_ref()
            .map(|u| format!(",\n    \"url\": {}", s(u)))
            .unwrap_or_default();
        format!(
            "{{\n  \"version\": {TRUST_ROOT_VERSION},\n  \"log\": {{\n    \"origin\": {},\n    \"key\": {}{url}\n  }},\n  \"witnesses\": {},\n  \"quorum\": {},\n  \"ca_roots\": {}\n}}\n",
            s(&self.log_origin),
            s(&self.log_key),
            list(&self.witnesses),
            self.quorum,
            list(&self.ca_roots_pem),
        )
    }
}

/// The longest `log.url` accepted.
pub const MAX_LOG_URL: usize = 2048;

/// `log.url`: `http://` or `https://`, a host, printable ASCII without
/// spaces, no query or fragment, at most [`MAX_LOG_URL`] bytes.
fn check_log_url(url: &str) -> Result<(), TrustRootError> {
    let bad = |why: &str| Err(TrustRootError::BadLogUrl(format!("{url:?}: {why}")));
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return bad("it must start with https:// or http://");
    };
    if url.len() > MAX_LOG_URL {
        return bad("it is too long");
    }
    if rest.is_empty() || rest.starts_with('/') {
        return bad("it names no host");
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("it holds a space or a character outside printable ASCII");
    }
    if url.contains(['?', '#']) {
        return bad("a base URL has no query or fragment");
    }
    Ok(())
}

/// A log key: any signed-note verifier key except a witness's
/// `cosignature/v1` key (a log signs checkpoints, it does not cosign them).
fn parse_log_key(vkey: &str) -> Result<Box<dyn NoteVerifier>, TrustRootError> {
    if CosignatureVerifier::from_verifier_key(vkey).is_ok() {
        return Err(TrustRootError::BadLogKey(
            "it is a witness (cosignature/v1) key".to_owned(),
        ));
    }
    note::parse_verifier_key(vkey).map_err(|e: NoteError| TrustRootError::BadLogKey(e.to_string()))
}

/// The public key of a signed-note verifier key `name+keyid+base64(type ||
/// key)` (c2sp.org/signed-note), without its type byte; `None` if the text
/// is not of that shape (the caller has parsed it already).
fn verifier_key_public_key(vkey: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let encoded = vkey.trim().rsplit('+').next()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    decoded.get(1..).map(<[u8]>::to_vec)
}

/// Exactly one PEM `CERTIFICATE` block (RFC 7468 §5), optionally
/// surrounded by whitespace. The base64 inside is checked with the
/// certificate, by the verifier.
fn is_one_pem_certificate(pem: &str) -> bool {
    let Some(inner) = pem
        .trim()
        .strip_prefix(PEM_BEGIN)
        .and_then(|rest| rest.strip_suffix(PEM_END))
    else {
        return false;
    };
    !inner.trim().is_empty() && !inner.contains("-----")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn pem_shape() {
        assert!(is_one_pem_certificate(
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        ));
        assert!(!is_one_pem_certificate(
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"
        ));
        assert!(!is_one_pem_certificate(
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        ));
        assert!(!is_one_pem_certificate(""));
        assert!(!is_one_pem_certificate(
            "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----"
        ));
    }
}
