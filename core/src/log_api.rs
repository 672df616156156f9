//! The log's HTTP API bodies (DESIGN.md "Interfaces"): one definition of
//! every JSON request and response of `sigil-log`, shared by the server and
//! every client, as [`crate::witness_protocol`] is for the witness. The
//! C2SP read path (`/checkpoint`, `/tile/...`) and the `.tlog-proof` of a
//! release are text and bytes in their own formats ([`crate::checkpoint`],
//! [`crate::tile`], [`crate::proof`]); errors are [`crate::api_error`].
//!
//! Conventions: hashes that name things (a `.crate`'s SHA-256, a
//! certificate id) are lowercase hex; proof hashes, entries and
//! certificates are standard padded base64 (RFC 4648 §4), as C2SP formats
//! write them. Readers refuse unknown members in requests (a typo is an
//! error) and ignore them in responses (a server may add members).
//!
//! # `POST /api/v1/entries` ([`ENTRIES_PATH`])
//!
//! The body is an entry to log without its integration time, which the log
//! stamps: one JSON object whose `kind` selects the shape
//! ([`encode_submission`], [`parse_submission`]). Certificates are DER,
//! leaf first, root excluded.
//!
//! ```json
//! {"kind": "release",
//!  "envelope": {"payload": "…", "payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": "…", "sig": "…"}]},
//!  "chains": [["<leaf>", "<intermediate>"]]}
//!
//! {"kind": "certificate", "chain": ["<leaf>", "<intermediate>"]}
//!
//! {"kind": "revocation", "serial": "<hex DER INTEGER content>", "reason": 1,
//!  "from_index": 120, "revoked_at": 1767225600000,
//!  "signature": "<base64 DER ECDSA>", "signer_chain": ["<intermediate>"]}
//! ```
//!
//! `envelope` is a DSSE envelope ([`crate::statement::Envelope`]); `chains`
//! holds one chain per envelope signature, in the same order. The answer,
//! once the entry is durable, is [`Submitted`]: `201` for a new entry, `200`
//! for a release already logged with the same SHA-256.
//!
//! # `POST /api/v1/lookup` ([`LOOKUP_PATH`])
//!
//! Many releases' `.tlog-proof`s and the revocation answers for their
//! signers' certificates in one exchange, against one checkpoint: the
//! [`lookup`] module ([`parse_lookup`], [`LookupAnswer`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub mod lookup;

pub use lookup::{
    LOOKUP_PATH, LookupAnswer, LookupError, MAX_LOOKUP_ANSWER_BYTES, MAX_LOOKUP_BODY_BYTES,
    MAX_LOOKUP_RELEASES, ReleaseKey, ReleaseLookup, RevocationLookup, encode_lookup, parse_lookup,
};

use crate::entry::{CertificateEntry, EntryBody, EntryError, ReleaseEntry, Revocation};
use crate::merkle::Hash;
use crate::statement::{Envelope, StatementError};

/// `POST`: submit an entry ([`parse_submission`]); `GET
/// {ENTRIES_PATH}/{index}`: one logged entry ([`EntryInfo`]).
pub const ENTRIES_PATH: &str = "/api/v1/entries";
/// `GET ?index=I&size=N`: an RFC 9162 §2.1.3 inclusion proof ([`InclusionProof`]).
pub const INCLUSION_PATH: &str = "/api/v1/proofs/inclusion";
/// `GET ?from=M&to=N`: an RFC 9162 §2.1.4 consistency proof ([`ConsistencyProof`]).
pub const CONSISTENCY_PATH: &str = "/api/v1/proofs/consistency";
/// `GET {RELEASES_PATH}/{crate}`: every logged version ([`ReleaseList`]);
/// `GET {RELEASES_PATH}/{crate}/{version}`: the release's `.tlog-proof`.
pub const RELEASES_PATH: &str = "/api/v1/releases";
/// `GET {REVOCATIONS_PATH}/{certificate_id}`: [`RevocationStatus`], or `404 not_revoked`.
pub const REVOCATIONS_PATH: &str = "/api/v1/revocations";
/// `GET`: liveness and tree size ([`Health`]).
pub const HEALTH_PATH: &str = "/healthz";
/// The C2SP tlog-checkpoint of the log, text.
pub const CHECKPOINT_PATH: &str = "/checkpoint";

/// The kinds a submission may have, as `kind` spells them.
pub const KINDS: &[&str] = &["release", "certificate", "revocation"];

/// Why a submission body is not one (each variant has a stable
/// [`SubmissionError::code`], the log's `400` code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmissionError {
    /// Not JSON, or not the shape its `kind` asks for.
    #[error("request body is not a valid submission: {0}")]
    Json(String),
    /// `kind` is none of [`KINDS`].
    #[error("unknown entry kind {0:?}; expected one of {KINDS:?}")]
    UnknownKind(String),
    /// A base64 member does not decode.
    #[error("{what} is not standard padded base64")]
    Base64 {
        /// The member.
        what: &'static str,
    },
    /// A certificate chain is empty.
    #[error("a certificate chain needs at least the leaf certificate")]
    EmptyChain,
    /// The DSSE envelope does not parse.
    #[error("envelope: {0}")]
    Envelope(StatementError),
    /// The release does not make a valid entry (statement, chain count,
    /// sizes).
    #[error("{0}")]
    Release(EntryError),
    /// A revocation member is malformed.
    #[error("revocation: {0}")]
    Revocation(&'static str),
}

impl SubmissionError {
    /// The stable machine code: `malformed_json`, `unknown_kind`,
    /// `malformed_base64`, `malformed_chain`, `malformed_envelope`,
    /// `malformed_release`, `malformed_revocation`.
    pub fn code(&self) -> &'static str {
        match self {
            SubmissionError::Json(_) => "malformed_json",
            SubmissionError::UnknownKind(_) => "unknown_kind",
            SubmissionError::Base64 { .. } => "malformed_base64",
            SubmissionError::EmptyChain => "malformed_chain",
            SubmissionError::Envelope(_) => "malformed_envelope",
            SubmissionError::Release(_) => "malformed_release",
            SubmissionError::Revocation(_) => "malformed_revocation",
        }
    }
}

#[derive(Deserialize)]
struct KindOnly {
    kind: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseJson {
    kind: String,
    envelope: Box<RawValue>,
    chains: Vec<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateJson {
    kind: String,
    chain: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationJson {
    kind: String,
    serial: String,
    reason: u8,
    from_index: u64,
    revoked_at: u64,
    signature: String,
    signer_chain: Vec<String>,
}

/// The `POST /api/v1/entries` body for `body` (module docs). Release
/// envelopes are written by [`Envelope::to_json`].
pub fn encode_submission(body: &EntryBody) -> Vec<u8> {
    let chain = |c: &[Vec<u8>]| c.iter().map(|d| STANDARD.encode(d)).collect::<Vec<_>>();
    let json = match body {
        EntryBody::Release(release) => {
            let envelope = String::from_utf8(release.envelope().to_json())
                .ok()
                .and_then(|s| RawValue::from_string(s).ok());
            let Some(envelope) = envelope else {
                return Vec::new();
            };
            serde_json::to_vec(&ReleaseJson {
                kind: "release".into(),
                envelope,
                chains: release.signers.iter().map(|s| chain(&s.chain)).collect(),
            })
        }
        EntryBody::Certificate(c) => serde_json::to_vec(&CertificateJson {
            kind: "certificate".into(),
            chain: chain(&c.chain),
        }),
        EntryBody::Revocation(r) => serde_json::to_vec(&RevocationJson {
            kind: "revocation".into(),
            serial: hex::encode(&r.serial),
            reason: r.reason,
            from_index: r.from_index,
            revoked_at: r.revoked_at,
            signature: STANDARD.encode(&r.signature),
            signer_chain: chain(&r.signer_chain),
        }),
    };
    // Strings, numbers and arrays of them always serialize.
    json.unwrap_or_default()
}

/// Parses a `POST /api/v1/entries` body (module docs) into the entry body
/// to log. Checks the shape and the encodings, and that a release makes a
/// valid entry ([`ReleaseEntry::from_envelope`]); signatures, chains and
/// scope are the verifier's to check.
///
/// # Errors
///
/// [`SubmissionError`], whose [`code`](SubmissionError::code) the log
/// answers with.
pub fn parse_submission(json: &[u8]) -> Result<EntryBody, SubmissionError> {
    let bad_json = |e: serde_json::Error| SubmissionError::Json(e.to_string());
    let kind: KindOnly = serde_json::from_slice(json).map_err(bad_json)?;
    match kind.kind.as_str() {
        "release" => {
            let req: ReleaseJson = serde_json::from_slice(json).map_err(bad_json)?;
            let envelope = Envelope::from_json(req.envelope.get().as_bytes())
                .map_err(SubmissionError::Envelope)?;
            let chains = req
                .chains
                .iter()
                .map(|c| decode_chain(c))
                .collect::<Result<Vec<_>, _>>()?;
            ReleaseEntry::from_envelope(&envelope, chains)
                .map(EntryBody::Release)
                .map_err(SubmissionError::Release)
        }
        "certificate" => {
            let req: CertificateJson = serde_json::from_slice(json).map_err(bad_json)?;
            Ok(EntryBody::Certificate(CertificateEntry {
                chain: decode_chain(&req.chain)?,
            }))
        }
        "revocation" => {
            let req: RevocationJson = serde_json::from_slice(json).map_err(bad_json)?;
            Ok(EntryBody::Revocation(Revocation {
                serial: hex::decode(&req.serial)
                    .map_err(|_| SubmissionError::Revocation("serial is not hex"))?,
                reason: req.reason,
                from_index: req.from_index,
                revoked_at: req.revoked_at,
                signature: decode_b64("signature", &req.signature)?,
                signer_chain: decode_chain(&req.signer_chain)?,
            }))
        }
        other => Err(SubmissionError::UnknownKind(other.to_owned())),
    }
}

fn decode_b64(what: &'static str, s: &str) -> Result<Vec<u8>, SubmissionError> {
    STANDARD
        .decode(s)
        .map_err(|_| SubmissionError::Base64 { what })
}

fn decode_chain(chain: &[String]) -> Result<Vec<Vec<u8>>, SubmissionError> {
    if chain.is_empty() {
        return Err(SubmissionError::EmptyChain);
    }
    chain.iter().map(|c| decode_b64("certificate", c)).collect()
}

/// The answer to an accepted submission (`201 Created`, or `200 OK` for a
/// release already logged): the entry's index and its `.tlog-proof` (C2SP
/// `tlog-proof`) against the log's newest published checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// The entry's index.
    pub index: u64,
    /// The `.tlog-proof` text.
    pub proof: String,
}

/// `GET /api/v1/entries/{index}`: a logged entry, and what it says when it
/// decodes (the members after `entry` are absent for an entry this server
/// cannot decode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryInfo {
    /// The entry's index.
    pub index: u64,
    /// RFC 9162 §2.1.1 leaf hash `SHA-256(0x00 || entry)`, base64.
    #[serde(with = "b64_hash")]
    pub leaf_hash: Hash,
    /// The entry's bytes (`docs/formats.md` §1), base64.
    #[serde(with = "b64_bytes")]
    pub entry: Vec<u8>,
    /// `release`, `certificate` or `revocation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// When the log integrated it, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_at: Option<u64>,
    /// For a release: the crate.
    #[serde(default, rename = "crate", skip_serializing_if = "Option::is_none")]
    pub crate_name: Option<String>,
    /// For a release: the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// For a release: the `.crate`'s SHA-256, hex.
    #[serde(default, with = "opt_hex32", skip_serializing_if = "Option::is_none")]
    pub sha256: Option<[u8; 32]>,
}

/// `GET /api/v1/proofs/inclusion?index=I&size=N`: RFC 9162 §2.1.3.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The leaf's index.
    pub index: u64,
    /// The tree size the proof is for.
    pub size: u64,
    /// The audit path, base64.
    #[serde(with = "b64_hashes")]
    pub hashes: Vec<Hash>,
}

/// `GET /api/v1/proofs/consistency?from=M&to=N`: RFC 9162 §2.1.4.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size.
    pub to: u64,
    /// The proof, base64.
    #[serde(with = "b64_hashes")]
    pub hashes: Vec<Hash>,
}

/// `GET /api/v1/releases/{crate}`: every logged version of a crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseList {
    /// The crate.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Its versions, by index.
    pub releases: Vec<ReleaseInfo>,
}

/// One logged version, in a [`ReleaseList`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseInfo {
    /// The version.
    pub version: String,
    /// Its entry's index.
    pub index: u64,
    /// The `.crate`'s SHA-256, hex.
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
}

/// `GET /api/v1/revocations/{certificate_id}`: the log holds a revocation
/// of this certificate (`docs/formats.md` §1.4), and proves it: `proof` is
/// the `.tlog-proof` of the revocation entry that sets `from_index`, at
/// `index`, against the published checkpoint, so a client checks the
/// entry, its inclusion and the checkpoint as it checks a release. Absent
/// ones are `404 not_revoked`: the log's claim, not a proof (a log cannot
/// prove non-membership; monitors audit it, `docs/log.md`).
///
/// ```json
/// {"certificate_id": "<64 hex>", "from_index": 120, "index": 131,
///  "proof": "c2sp.org/tlog-proof@v1\nextra <base64 entry>\nindex 131\n…"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationStatus {
    /// The certificate id (`sigil_verifier::certificate_id`), hex.
    #[serde(with = "hex32")]
    pub certificate_id: [u8; 32],
    /// The first log index from which the certificate no longer counts (the earliest, RevocationSet's rule).
    pub from_index: u64,
    /// The index of the revocation entry that sets `from_index`.
    pub index: u64,
    /// That entry's `.tlog-proof` (C2SP tlog-proof, entry in `extra`) against the published checkpoint.
    pub proof: String,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The published tree size.
    pub size: u64,
}

/// Base64 bytes.
mod b64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text)
            .map_err(|_| serde::de::Error::custom("not standard padded base64"))
    }
}

/// One 32-byte hash, base64.
mod b64_hash {
    use serde::{Deserializer, Serializer};

    use crate::merkle::Hash;

    pub(super) fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        super::b64_bytes::serialize(hash, s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        Hash::try_from(super::b64_bytes::deserialize(d)?.as_slice())
            .map_err(|_| serde::de::Error::custom("a hash is 32 bytes"))
    }
}

/// A list of 32-byte hashes, base64.
mod b64_hashes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize as _, Deserializer, Serializer};

    use crate::merkle::Hash;

    pub(super) fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| STANDARD.encode(h)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|h| {
                STANDARD
                    .decode(h)
                    .ok()
                    .and_then(|raw| Hash::try_from(raw.as_slice()).ok())
                    .ok_or_else(|| serde::de::Error::custom("a hash is 32 bytes of base64"))
            })
            .collect()
    }
}

/// 32 bytes as hex (lowercase written, either case read).
mod hex32 {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out)
            .map_err(|_| serde::de::Error::custom("expected 64 hex digits"))?;
        Ok(out)
    }
}

/// An optional [`hex32`].
mod opt_hex32 {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        bytes: &Option<[u8; 32]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<[u8; 32]>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out)
            .map_err(|_| serde::de::Error::custom("expected 64 hex digits"))?;
        Ok(Some(out))
    }
}
