//! `POST /api/v1/lookup` ([`LOOKUP_PATH`], `docs/log.md` "Looking up many
//! releases at once"): the `.tlog-proof`s of many crate@versions and the
//! revocation answers for every certificate on their signers' paths, in
//! one exchange, so that `sigil verify-lock` over a lockfile of thousands
//! of crates makes a few requests instead of one per crate and one per
//! certificate. Every item is an answer the single-item endpoints give
//! (`GET /api/v1/releases/{crate}/{version}`, `GET
//! /api/v1/revocations/{id}`), and a client checks each as it checks
//! those.
//!
//! # Request
//!
//! ```json
//! {"releases": [{"crate": "serde", "version": "1.0.219"},
//!               {"crate": "tokio", "version": "1.45.0"}]}
//! ```
//!
//! One to [`MAX_LOOKUP_RELEASES`] releases, each once; crate names and
//! versions by the rules of a release statement
//! ([`crate::statement::validate_crate_name`],
//! [`crate::statement::validate_version`]); no other members; at most
//! [`MAX_LOOKUP_BODY_BYTES`] bytes ([`parse_lookup`], [`LookupError`]).
//!
//! # Answer ([`LookupAnswer`])
//!
//! ```json
//! {"checkpoint": "e2e.sigil.test/log\n3\n…\n\n— e2e.sigil.test/log …\n",
//!  "releases": [
//!    {"status": "logged", "crate": "serde", "version": "1.0.219",
//!     "proof": "c2sp.org/tlog-proof@v1\nextra …\nindex 1\n…"},
//!    {"status": "not_logged", "crate": "tokio", "version": "1.45.0"}],
//!  "revocations": [
//!    {"status": "not_revoked", "certificate_id": "<64 hex>"},
//!    {"status": "revoked", "certificate_id": "<64 hex>", "from_index": 0,
//!     "index": 2, "proof": "c2sp.org/tlog-proof@v1\n…"}]}
//! ```
//!
//! * `checkpoint` is the published checkpoint every proof of the answer
//!   is against (one for the whole answer).
//! * `releases` has one item per release asked: `logged` with its
//!   `.tlog-proof` (the entry in `extra`), or `not_logged`.
//! * `revocations` has one item per certificate id on the validated path
//!   (leaf and intermediates) of a signer of a `logged` release:
//!   `not_revoked` (the log's claim, as `404 not_revoked` is), or
//!   `revoked` with a [`RevocationStatus`] whose proof is of the entry
//!   that sets `from_index`.
//!
//! A client accepts nothing it did not ask for and takes nothing missing
//! as "absent": an answer without an item for a release asked, or without
//! a revocation item for a certificate on a verified release's path,
//! fails closed.

use std::collections::BTreeSet;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::RevocationStatus;
use crate::statement::{StatementError, validate_crate_name, validate_version};

/// `POST`: look up many releases at once (module docs).
pub const LOOKUP_PATH: &str = "/api/v1/lookup";

/// The most releases one lookup may ask for; more is `413 too_many`: ask
/// in several requests.
pub const MAX_LOOKUP_RELEASES: usize = 1000;

/// The largest lookup body, bytes: [`MAX_LOOKUP_RELEASES`] of the longest
/// names and versions fit.
pub const MAX_LOOKUP_BODY_BYTES: usize = 512 * 1024;

/// The most bytes of proofs the log puts in one answer; an answer that
/// would be larger is `413 too_many` (ask for fewer releases). Half of
/// what a client reads (`sigil_client::http::MAX_ANSWER_BYTES`), leaving
/// room for the JSON around the proofs.
pub const MAX_LOOKUP_ANSWER_BYTES: usize = 16 << 20;

/// One crate@version, as a lookup names it: `{"crate", "version"}`, an
/// object with exactly those members (not an array: serde's derive would
/// take `["serde", "1.0.0"]` too).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ReleaseKey {
    /// The crate.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// The version.
    pub version: String,
}

impl ReleaseKey {
    /// The key of `crate_name`@`version`.
    pub fn new(crate_name: &str, version: &str) -> ReleaseKey {
        ReleaseKey {
            crate_name: crate_name.to_owned(),
            version: version.to_owned(),
        }
    }

    /// Checks the name and version by the rules of a release statement
    /// (module docs): a key that fails cannot be in the log.
    ///
    /// # Errors
    ///
    /// [`StatementError::InvalidCrateName`], [`StatementError::InvalidVersion`].
    pub fn validate(&self) -> Result<(), StatementError> {
        validate_crate_name(&self.crate_name)?;
        validate_version(&self.version)
    }
}

impl std::fmt::Display for ReleaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.crate_name, self.version)
    }
}

/// Why a lookup body is not one (each variant has a stable
/// [`LookupError::code`], the log's `4xx` code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The body is over [`MAX_LOOKUP_BODY_BYTES`].
    #[error(
        "the lookup is over the {MAX_LOOKUP_BODY_BYTES}-byte limit: split it into several requests"
    )]
    TooLarge,
    /// Not JSON, or not `{"releases": [{"crate", "version"}, …]}` with
    /// nothing else.
    #[error("request body is not a valid lookup: {0}")]
    Json(String),
    /// `releases` is empty.
    #[error("a lookup asks for at least one release")]
    Empty,
    /// More than [`MAX_LOOKUP_RELEASES`] releases.
    #[error(
        "the lookup asks for {count} releases, more than {MAX_LOOKUP_RELEASES}: split it into \
         several requests"
    )]
    TooMany {
        /// How many it asks for.
        count: usize,
    },
    /// A crate name or version that no release can have.
    #[error("release {position} ({key}): {source}")]
    InvalidRelease {
        /// Its position in `releases`, from 0.
        position: usize,
        /// The release.
        key: ReleaseKey,
        /// The rule it breaks.
        source: StatementError,
    },
    /// A release asked for twice.
    #[error("{0} is asked for twice")]
    Duplicate(ReleaseKey),
}

impl LookupError {
    /// The stable machine code: `too_many` (split the lookup: over the
    /// count or the size limit), `malformed_json`, `empty_lookup`,
    /// `malformed_release`, `duplicate_release`.
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::TooLarge | LookupError::TooMany { .. } => "too_many",
            LookupError::Json(_) => "malformed_json",
            LookupError::Empty => "empty_lookup",
            LookupError::InvalidRelease { .. } => "malformed_release",
            LookupError::Duplicate(_) => "duplicate_release",
        }
    }
}

/// The request body: an object whose one member is `releases`.
#[derive(Serialize)]
struct LookupJson {
    releases: Vec<ReleaseKey>,
}

/// Reads a JSON object with exactly the members `N` names, each once, and
/// nothing else: no array form, no unknown or repeated member (module
/// docs). `read` is given each member's name and reads its value.
fn strict_object<'de, A: MapAccess<'de>>(
    mut map: A,
    names: &'static [&'static str],
    mut read: impl FnMut(usize, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    let mut seen = vec![false; names.len()];
    while let Some(key) = map.next_key::<String>()? {
        let Some(i) = names.iter().position(|n| *n == key) else {
            return Err(de::Error::unknown_field(&key, names));
        };
        if seen.get(i).copied().unwrap_or(true) {
            return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
        }
        if let Some(s) = seen.get_mut(i) {
            *s = true;
        }
        read(i, &mut map)?;
    }
    match seen.iter().position(|s| !s) {
        Some(i) => Err(de::Error::missing_field(
            names.get(i).copied().unwrap_or(""),
        )),
        None => Ok(()),
    }
}

impl<'de> Deserialize<'de> for ReleaseKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Key;
        impl<'de> Visitor<'de> for Key {
            type Value = ReleaseKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"an object {"crate": "…", "version": "…"}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ReleaseKey, A::Error> {
                let mut key = ReleaseKey::new("", "");
                strict_object(map, &["crate", "version"], |i, map| {
                    let value = map.next_value::<String>()?;
                    match i {
                        0 => key.crate_name = value,
                        _ => key.version = value,
                    }
                    Ok(())
                })?;
                Ok(key)
            }
        }
        d.deserialize_map(Key)
    }
}

impl<'de> Deserialize<'de> for LookupJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Body;
        impl<'de> Visitor<'de> for Body {
            type Value = LookupJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"an object {"releases": […]}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LookupJson, A::Error> {
                let mut releases = Vec::new();
                strict_object(map, &["releases"], |_, map| {
                    releases = map.next_value()?;
                    Ok(())
                })?;
                Ok(LookupJson { releases })
            }
        }
        d.deserialize_map(Body)
    }
}

/// The `POST /api/v1/lookup` body asking for `releases` (module docs).
pub fn encode_lookup(releases: &[ReleaseKey]) -> Vec<u8> {
    // Strings in a struct always serialize.
    serde_json::to_vec(&LookupJson {
        releases: releases.to_vec(),
    })
    .unwrap_or_default()
}

/// Parses a `POST /api/v1/lookup` body (module docs): the releases asked,
/// in the order asked.
///
/// # Errors
///
/// [`LookupError`], whose [`code`](LookupError::code) the log answers
/// with.
pub fn parse_lookup(json: &[u8]) -> Result<Vec<ReleaseKey>, LookupError> {
    if json.len() > MAX_LOOKUP_BODY_BYTES {
        return Err(LookupError::TooLarge);
    }
    let req: LookupJson =
        serde_json::from_slice(json).map_err(|e| LookupError::Json(e.to_string()))?;
    if req.releases.is_empty() {
        return Err(LookupError::Empty);
    }
    if req.releases.len() > MAX_LOOKUP_RELEASES {
        return Err(LookupError::TooMany {
            count: req.releases.len(),
        });
    }
    let mut seen = BTreeSet::new();
    for (position, key) in req.releases.iter().enumerate() {
        key.validate()
            .map_err(|source| LookupError::InvalidRelease {
                position,
                key: key.clone(),
                source,
            })?;
        if !seen.insert(key) {
            return Err(LookupError::Duplicate(key.clone()));
        }
    }
    Ok(req.releases)
}

/// The answer to a lookup (module docs, "Answer").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupAnswer {
    /// The published checkpoint (C2SP tlog-checkpoint, signed note text)
    /// every proof of this answer is against.
    pub checkpoint: String,
    /// One item per release asked.
    pub releases: Vec<ReleaseLookup>,
    /// One item per certificate id on the signers' paths of the logged
    /// releases.
    pub revocations: Vec<RevocationLookup>,
}

/// What the log holds of one release asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReleaseLookup {
    /// Logged: its `.tlog-proof` against the answer's checkpoint.
    Logged {
        /// The crate.
        #[serde(rename = "crate")]
        crate_name: String,
        /// The version.
        version: String,
        /// The `.tlog-proof` text (C2SP tlog-proof, the entry in `extra`).
        proof: String,
    },
    /// Not in the published tree: nobody signed it.
    NotLogged {
        /// The crate.
        #[serde(rename = "crate")]
        crate_name: String,
        /// The version.
        version: String,
    },
}

impl ReleaseLookup {
    /// The release this item is about.
    pub fn key(&self) -> ReleaseKey {
        match self {
            ReleaseLookup::Logged {
                crate_name,
                version,
                ..
            }
            | ReleaseLookup::NotLogged {
                crate_name,
                version,
            } => ReleaseKey::new(crate_name, version),
        }
    }
}

/// What the log holds of revocations of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevocationLookup {
    /// The log holds no revocation of it: its claim, not a proof
    /// (`docs/log.md`, "Revocation status").
    NotRevoked {
        /// The certificate id (`sigil_verifier::certificate_id`), hex.
        #[serde(with = "super::hex32")]
        certificate_id: [u8; 32],
    },
    /// Revoked, with the proof of the entry that sets `from_index`.
    Revoked(RevocationStatus),
}

impl RevocationLookup {
    /// The certificate this item is about.
    pub fn certificate_id(&self) -> [u8; 32] {
        match self {
            RevocationLookup::NotRevoked { certificate_id } => *certificate_id,
            RevocationLookup::Revoked(status) => status.certificate_id,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// (body, the releases parsed or the error's code)
    const BODIES: &[(&str, Result<usize, &str>)] = &[
        (
            r#"{"releases":[{"crate":"serde","version":"1.0.219"}]}"#,
            Ok(1),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":"1.0.219"},{"crate":"serde","version":"1.0.218"},{"crate":"tokio","version":"1.0.0-rc.1+b"}]}"#,
            Ok(3),
        ),
        // Not JSON, or not the shape.
        ("", Err("malformed_json")),
        ("not json", Err("malformed_json")),
        ("[]", Err("malformed_json")),
        ("{}", Err("malformed_json")),
        (r#"{"releases":null}"#, Err("malformed_json")),
        (r#"{"releases":{}}"#, Err("malformed_json")),
        (r#"{"releases":[["serde","1.0.0"]]}"#, Err("malformed_json")),
        (r#"{"releases":["serde@1.0.0"]}"#, Err("malformed_json")),
        (
            r#"[[{"crate":"serde","version":"1.0.0"}]]"#,
            Err("malformed_json"),
        ),
        (r#"{"releases":[{}]}"#, Err("malformed_json")),
        (r#"{"releases":[null]}"#, Err("malformed_json")),
        (r#"{"releases":[{"crate":"serde"}]}"#, Err("malformed_json")),
        (
            r#"{"releases":[{"version":"1.0.0"}]}"#,
            Err("malformed_json"),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":1}]}"#,
            Err("malformed_json"),
        ),
        // Unknown and repeated members are typos, not extensions.
        (
            r#"{"releases":[{"crate":"serde","version":"1.0.0"}],"more":1}"#,
            Err("malformed_json"),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":"1.0.0","sha256":"00"}]}"#,
            Err("malformed_json"),
        ),
        (
            r#"{"releases":[{"crate":"serde","crate":"tokio","version":"1.0.0"}]}"#,
            Err("malformed_json"),
        ),
        (
            r#"{"releases":[],"releases":[{"crate":"serde","version":"1.0.0"}]}"#,
            Err("malformed_json"),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":"1.0.0"}]} trailing"#,
            Err("malformed_json"),
        ),
        // Empty.
        (r#"{"releases":[]}"#, Err("empty_lookup")),
        // Names and versions no release can have.
        (
            r#"{"releases":[{"crate":"","version":"1.0.0"}]}"#,
            Err("malformed_release"),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":""}]}"#,
            Err("malformed_release"),
        ),
        (
            r#"{"releases":[{"crate":"../etc","version":"1.0.0"}]}"#,
            Err("malformed_release"),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":"1.0"}]}"#,
            Err("malformed_release"),
        ),
        (
            r#"{"releases":[{"crate":"serde","version":"01.0.0"}]}"#,
            Err("malformed_release"),
        ),
        (
            r#"{"releases":[{"crate":"se rde","version":"1.0.0"}]}"#,
            Err("malformed_release"),
        ),
        // Twice.
        (
            r#"{"releases":[{"crate":"serde","version":"1.0.0"},{"crate":"tokio","version":"1.0.0"},{"crate":"serde","version":"1.0.0"}]}"#,
            Err("duplicate_release"),
        ),
    ];

    #[test]
    fn lookup_bodies() {
        for (body, want) in BODIES {
            let got = parse_lookup(body.as_bytes())
                .map(|r| r.len())
                .map_err(|e| e.code());
            assert_eq!(got, *want, "body {body:?}");
        }
    }

    fn keys(n: usize) -> Vec<ReleaseKey> {
        (0..n)
            .map(|i| ReleaseKey::new(&format!("crate-{i}"), "1.0.0"))
            .collect()
    }

    #[test]
    fn the_count_and_the_size_are_bounded() {
        let most = keys(MAX_LOOKUP_RELEASES);
        assert_eq!(parse_lookup(&encode_lookup(&most)).unwrap(), most);
        let err = parse_lookup(&encode_lookup(&keys(MAX_LOOKUP_RELEASES + 1))).unwrap_err();
        assert_eq!(
            (err.code(), &err),
            (
                "too_many",
                &LookupError::TooMany {
                    count: MAX_LOOKUP_RELEASES + 1
                }
            )
        );
        // The longest names and versions still fit at the most releases.
        let longest: Vec<ReleaseKey> = (0..MAX_LOOKUP_RELEASES)
            .map(|i| {
                let name = format!("c{i:0>63}");
                let version = format!("1.0.0-{}", "a".repeat(249));
                ReleaseKey::new(&name, &version)
            })
            .collect();
        let body = encode_lookup(&longest);
        assert!(body.len() <= MAX_LOOKUP_BODY_BYTES, "{}", body.len());
        assert_eq!(parse_lookup(&body).unwrap().len(), MAX_LOOKUP_RELEASES);
        // A larger body is refused before it is parsed.
        let mut padded = body;
        padded.resize(MAX_LOOKUP_BODY_BYTES + 1, b' ');
        assert_eq!(parse_lookup(&padded).unwrap_err(), LookupError::TooLarge);
    }

    #[test]
    fn the_order_asked_is_kept_and_errors_name_the_release() {
        let asked = vec![ReleaseKey::new("b", "1.0.0"), ReleaseKey::new("a", "2.0.0")];
        assert_eq!(parse_lookup(&encode_lookup(&asked)).unwrap(), asked);
        let bad = [ReleaseKey::new("a", "1.0.0"), ReleaseKey::new("b", "x")];
        let err = parse_lookup(&encode_lookup(&bad)).unwrap_err();
        assert!(
            matches!(&err, LookupError::InvalidRelease { position: 1, key, .. } if key.crate_name == "b"),
            "{err:?}"
        );
        assert!(err.to_string().contains("b@x"), "{err}");
    }

    #[test]
    fn answers_round_trip_and_spell_their_status() {
        let answer = LookupAnswer {
            checkpoint: "origin\n1\nAAAA\n\n— origin sig\n".into(),
            releases: vec![
                ReleaseLookup::Logged {
                    crate_name: "serde".into(),
                    version: "1.0.0".into(),
                    proof: "c2sp.org/tlog-proof@v1\n".into(),
                },
                ReleaseLookup::NotLogged {
                    crate_name: "tokio".into(),
                    version: "1.0.0".into(),
                },
            ],
            revocations: vec![
                RevocationLookup::NotRevoked {
                    certificate_id: [1; 32],
                },
                RevocationLookup::Revoked(RevocationStatus {
                    certificate_id: [2; 32],
                    from_index: 3,
                    index: 4,
                    proof: "p".into(),
                }),
            ],
        };
        let json = serde_json::to_string(&answer).unwrap();
        assert!(
            json.contains(r#""status":"not_logged","crate":"tokio""#),
            "{json}"
        );
        assert!(
            json.contains(r#""status":"not_revoked","certificate_id":"0101"#),
            "{json}"
        );
        assert!(
            json.contains(r#""status":"revoked","certificate_id":"0202"#),
            "{json}"
        );
        let back: LookupAnswer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, answer);
        assert_eq!(back.releases[1].key(), ReleaseKey::new("tokio", "1.0.0"));
        assert_eq!(back.revocations[1].certificate_id(), [2; 32]);
        // No status is no answer: never read as "not revoked".
        for item in [
            r#"{"certificate_id":"0101010101010101010101010101010101010101010101010101010101010101"}"#,
            r#"{"status":"unknown","certificate_id":"0101010101010101010101010101010101010101010101010101010101010101"}"#,
            r#"{"status":"revoked","certificate_id":"0101010101010101010101010101010101010101010101010101010101010101"}"#,
            r#"{"status":"not_revoked","certificate_id":"01"}"#,
        ] {
            assert!(
                serde_json::from_str::<RevocationLookup>(item).is_err(),
                "{item}"
            );
        }
    }
}
