//! Sigil log entries: the exact bytes the log hashes into its Merkle tree
//! (RFC 6962 §2.1 leaf hash `SHA-256(0x00 || entry)`), serves in C2SP
//! tlog-tiles entry bundles and carries in proof files.
//!
//! Specification: `docs/formats.md`, section "Log entries"; this
//! documentation repeats its normative parts.
//!
//! # Encoding
//!
//! The notation is the TLS presentation language (RFC 8446 §3), as RFC 6962
//! §3.4 uses it for `MerkleTreeLeaf`: integers are unsigned big-endian;
//! `opaque x[n]` is exactly `n` bytes; `T x<floor..ceiling>` is a
//! variable-length vector whose byte length comes first, in 1 byte when the
//! ceiling is at most 255 and in 2 bytes when it is at most 65,535, and must
//! lie within the bounds. A vector of structures holds whole elements
//! back to back, and its length counts bytes, not elements.
//!
//! ```text
//! struct {
//!     uint8   version;                  /* 1 (ENTRY_VERSION) */
//!     uint64  integrated_at;            /* Unix time, milliseconds */
//!     uint8   kind;                     /* 1 release, 2 certificate, 3 revocation */
//!     select (kind) {
//!         case 1: ReleaseEntry;
//!         case 2: CertificateEntry;
//!         case 3: Revocation;
//!     } body;
//! } Entry;                              /* at most 65,535 bytes in all */
//!
//! opaque Certificate<1..2^16-1>;        /* one DER X.509 certificate */
//!
//! struct {
//!     opaque  crate_name<1..64>;        /* crates.io name */
//!     opaque  version<1..255>;          /* SemVer 2.0 */
//!     opaque  sha256[32];               /* SHA-256 of the .crate file */
//!     opaque  payload_type<1..255>;     /* "application/vnd.in-toto+json" */
//!     opaque  payload<1..2^16-1>;       /* the DSSE payload: statement JSON */
//!     Signer  signers<1..2^16-1>;       /* one per DSSE signature, in order */
//! } ReleaseEntry;
//!
//! struct {
//!     opaque      keyid<0..255>;        /* DSSE keyid, UTF-8 */
//!     opaque      sig<1..255>;          /* DSSE sig: DER ECDSA P-256 */
//!     Certificate chain<1..2^16-1>;     /* leaf first, root excluded */
//! } Signer;
//!
//! struct {
//!     Certificate chain<1..2^16-1>;     /* the issued certificate first, root excluded */
//! } CertificateEntry;
//!
//! struct {
//!     opaque      serial<1..20>;        /* DER INTEGER content octets */
//!     uint8       reason;               /* RFC 5280 CRLReason */
//!     uint64      from_index;           /* first log index where void */
//!     uint64      revoked_at;           /* Unix time, milliseconds */
//!     opaque      signature<1..255>;    /* DER ECDSA P-256 by signer_chain[0] */
//!     Certificate signer_chain<1..2^16-1>;  /* issuing CA first, root excluded */
//! } Revocation;
//! ```
//!
//! Rules beyond the bounds, checked by both [`Entry::encode`] and
//! [`Entry::decode`]:
//!
//! * release: `crate_name` and `version` pass
//!   [`statement::validate_crate_name`] and [`statement::validate_version`];
//!   `payload_type` is [`PAYLOAD_TYPE`]; `payload` passes
//!   [`statement::parse_statement`] and names exactly this `crate_name`,
//!   `version` and `sha256` ([`EntryError::StatementMismatch`] otherwise);
//!   `keyid` is UTF-8. Signatures and certificates are not checked here.
//! * revocation: `serial` is a positive, minimally encoded DER INTEGER
//!   (no `0x00` before a byte below `0x80`, first byte below `0x80`, not
//!   zero); `reason` is one of the codes of [`CrlReason`] (0–5, 9, 10).
//! * certificates are opaque here: chain validation belongs to the verifier.
//!
//! The parser rejects trailing bytes and anything over [`MAX_ENTRY_SIZE`].
//! Every length is fixed by its field, so the encoding is canonical: each
//! entry has exactly one encoding, `decode(encode(e)) == e` and
//! `encode(decode(b)) == b`.
//!
//! # Revocation signature
//!
//! A revocation's `signature` is made by the CA key of `signer_chain[0]`
//! over [`revocation_signed_message`]: `"sigil-revocation/v2\n"` (20
//! bytes), the origin line of the log it is for as `opaque
//! origin<1..2^16-1>`, then the encoded `serial`, `reason`, `from_index`
//! and `revoked_at`, i.e. the revocation body up to, not including, its
//! `signature` field. The origin is not in the entry: each verifier
//! supplies its own log's, so a revocation signed for one log is refused
//! by every other.
//!
//! # Forward compatibility
//!
//! The first byte is the format version. A different layout is a new
//! version number, never a change to version 1; a version 1 parser rejects
//! any other version ([`EntryError::UnsupportedVersion`]). A new kind of
//! entry is also a new version: v1 parsers reject kinds other than 1, 2 and
//! 3 ([`EntryError::UnknownKind`]) rather than skipping them, because a
//! monitor must never silently ignore what the log recorded.
//!
//! # Example
//!
//! A revocation of certificate serial `0x0123456789abcdef` for key
//! compromise, void from log index 42, signed on 2025-12-31T23:50:00Z and
//! integrated on 2026-01-01T00:00:00Z (129 bytes; the certificate is a
//! stand-in, and `docs/formats.md` has a release and a certificate example):
//!
//! ```text
//! 01                                               # version = 1
//! 00 00 01 9b 76 da a8 00                          # integrated_at = 1767225600000
//! 03                                               # kind = 3 (revocation)
//! 08                                               # serial length = 8
//! 01 23 45 67 89 ab cd ef                          # serial = 0x0123456789abcdef
//! 01                                               # reason = 1 (keyCompromise)
//! 00 00 00 00 00 00 00 2a                          # from_index = 42
//! 00 00 01 9b 76 d1 80 40                          # revoked_at = 1767225000000
//! 47                                               # signature length = 71
//! 30 45 02 20 42 bb 5a f1 f9 67 4d f3 0d 41 76 72  # signature (DER ECDSA)
//! 16 70 f3 19 43 64 6a 64 a6 c5 6d 98 79 ac 83 43
//! f2 91 e9 81 02 21 00 b3 33 6d 3c 33 5e 1e 49 8e
//! 8d 7e 7d 7c 03 7c e9 2b 4f b9 14 f1 4a 8a bc 76
//! e6 84 93 e9 2a 8c 12
//! 00 13                                            # signer_chain length = 19
//! 00 11                                            #   certificate[0] length = 17
//! 69 6e 74 65 72 6d 65 64 69 61 74 65 2d 63 65 72  #   "intermediate-cert"
//! 74
//! ```
//!
//! ```
//! use sigil_core::entry::{Entry, EntryBody};
//!
//! let bytes = hex::decode(concat!(
//!     "010000019b76daa80003080123456789abcdef01000000000000002a0000019b76d180",
//!     "40473045022042bb5af1f9674df30d4176721670f31943646a64a6c56d9879ac8343f2",
//!     "91e981022100b3336d3c335e1e498e8d7e7d7c037ce92b4fb914f14a8abc76e68493e9",
//!     "2a8c1200130011696e7465726d6564696174652d63657274",
//! ))?;
//! let entry = Entry::decode(&bytes)?;
//! assert_eq!(entry.kind_name(), "revocation");
//! let EntryBody::Revocation(revocation) = &entry.body else { panic!() };
//! assert_eq!(revocation.from_index, 42);
//! assert_eq!(entry.encode()?, bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod revocation;
mod wire;

pub use revocation::{CrlReason, REVOCATION_CONTEXT, Revocation, revocation_signed_message};

use crate::statement::{
    self, Envelope, PAYLOAD_TYPE, Release, Signature, StatementError, validate_crate_name,
    validate_version,
};
use wire::{Reader, Vector, Writer};

/// The entry format version this module reads and writes. Any other first
/// byte is a different format and is rejected.
pub const ENTRY_VERSION: u8 = 1;

/// Largest encoded entry, in bytes: C2SP tlog-tiles entry bundles prefix
/// each entry with a 2-byte length.
pub const MAX_ENTRY_SIZE: usize = 65_535;

/// `kind` byte of a release entry.
pub const KIND_RELEASE: u8 = 1;
/// `kind` byte of a certificate entry.
pub const KIND_CERTIFICATE: u8 = 2;
/// `kind` byte of a revocation entry.
pub const KIND_REVOCATION: u8 = 3;

const CRATE_NAME: Vector = Vector {
    name: "crate_name",
    min: 1,
    max: 64,
};
const VERSION: Vector = Vector {
    name: "version",
    min: 1,
    max: 255,
};
const PAYLOAD_TYPE_FIELD: Vector = Vector {
    name: "payload_type",
    min: 1,
    max: 255,
};
const PAYLOAD: Vector = Vector {
    name: "payload",
    min: 1,
    max: 0xffff,
};
const SIGNERS: Vector = Vector {
    name: "signers",
    min: 1,
    max: 0xffff,
};
const KEYID: Vector = Vector {
    name: "keyid",
    min: 0,
    max: 255,
};
const SIG: Vector = Vector {
    name: "sig",
    min: 1,
    max: 255,
};
const CHAIN: Vector = Vector {
    name: "chain",
    min: 1,
    max: 0xffff,
};
const CERTIFICATE: Vector = Vector {
    name: "certificate",
    min: 1,
    max: 0xffff,
};
/// Errors from encoding, decoding and building log entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The entry is (at least) `len` bytes, over [`MAX_ENTRY_SIZE`].
    #[error("entry is at least {len} bytes, over the 65535-byte limit")]
    TooLarge {
        /// Length seen so far, in bytes.
        len: usize,
    },
    /// The input ends inside this field.
    #[error("entry ends inside `{field}`")]
    Truncated {
        /// Name of the field.
        field: &'static str,
    },
    /// Bytes follow a complete entry.
    #[error("{count} bytes after the end of the entry")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// The first byte is not [`ENTRY_VERSION`].
    #[error("entry version {0} is not supported (this parser reads version 1)")]
    UnsupportedVersion(u8),
    /// The `kind` byte names no kind this version defines.
    #[error("unknown entry kind {0}")]
    UnknownKind(u8),
    /// A variable-length field is shorter than its floor or longer than its
    /// ceiling.
    #[error("field `{field}` is {len} bytes, outside {min}..={max}")]
    FieldLength {
        /// Name of the field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// Floor.
        min: usize,
        /// Ceiling.
        max: usize,
    },
    /// A text field is not UTF-8.
    #[error("field `{field}` is not UTF-8")]
    InvalidUtf8 {
        /// Name of the field.
        field: &'static str,
    },
    /// A release's name, version, payload type or statement is invalid.
    #[error("invalid release: {0}")]
    Statement(#[from] StatementError),
    /// The release fields differ from the release its signed statement names.
    #[error("crate_name, version or sha256 differ from the signed statement")]
    StatementMismatch,
    /// An envelope has a different number of signatures than chains given.
    #[error("envelope has {signatures} signatures but {chains} certificate chains were given")]
    ChainCountMismatch {
        /// Signatures in the envelope.
        signatures: usize,
        /// Chains given.
        chains: usize,
    },
    /// A revocation's serial is not a minimal, positive DER INTEGER.
    #[error("revocation serial is not a positive, minimally encoded integer: {reason}")]
    InvalidSerial {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A revocation reason is not one Sigil accepts (see [`CrlReason`]).
    #[error("revocation reason {0} is not accepted")]
    InvalidReason(u8),
}

/// One log entry (`docs/formats.md`, "Log entries"): the integration time
/// the log stamped, and what is logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// When the log sequenced the entry: Unix time in milliseconds.
    pub integrated_at: u64,
    /// What the entry records.
    pub body: EntryBody,
}

/// The three kinds of entry (`docs/formats.md`, "Log entries").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryBody {
    /// A signed release (kind 1).
    Release(ReleaseEntry),
    /// A certificate the CA issued (kind 2).
    Certificate(CertificateEntry),
    /// A revocation by the CA (kind 3).
    Revocation(Revocation),
}

/// A signed crate release (kind 1): the release, its DSSE envelope taken
/// apart so that its bytes are canonical, and each signer's certificate
/// chain.
///
/// `crate_name`, `version` and `sha256` repeat what the signed statement in
/// `payload` says, so the log and monitors can index entries without parsing
/// JSON; encoding and decoding check that they agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReleaseEntry {
    /// Crate name (crates.io rules, [`statement::validate_crate_name`]).
    pub crate_name: String,
    /// Version (SemVer 2.0, [`statement::validate_version`]).
    pub version: String,
    /// SHA-256 of the `.crate` file.
    pub sha256: [u8; 32],
    /// DSSE `payloadType`; must be [`PAYLOAD_TYPE`].
    pub payload_type: String,
    /// DSSE `payload`: the in-toto statement bytes, exactly as signed.
    pub payload: Vec<u8>,
    /// One per DSSE signature, in envelope order; at least one.
    pub signers: Vec<Signer>,
}

/// One DSSE signature of a release and the certificates of its signer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signer {
    /// DSSE `keyid` (a hint; may be empty).
    pub keyid: String,
    /// DSSE `sig`: ASN.1 DER ECDSA P-256 / SHA-256 over the PAE.
    pub sig: Vec<u8>,
    /// DER certificates: the signer's leaf first, then the intermediate(s);
    /// the root is not included.
    pub chain: Vec<Vec<u8>>,
}

/// A certificate the CA issued (kind 2), logged before it is handed out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateEntry {
    /// DER certificates: the issued certificate first, then its
    /// intermediate(s); the root is not included.
    pub chain: Vec<Vec<u8>>,
}

impl ReleaseEntry {
    /// Builds a release entry from a DSSE envelope and one certificate chain
    /// per envelope signature (same order). The release fields come from the
    /// statement ([`Envelope::release`]); every field is checked as
    /// [`Entry::encode`] would, including the size of the whole entry.
    /// Signatures are not verified here.
    pub fn from_envelope(env: &Envelope, chains: Vec<Vec<Vec<u8>>>) -> Result<Self, EntryError> {
        let release = env.release()?;
        if chains.len() != env.signatures.len() {
            return Err(EntryError::ChainCountMismatch {
                signatures: env.signatures.len(),
                chains: chains.len(),
            });
        }
        let signers = env
            .signatures
            .iter()
            .zip(chains)
            .map(|(s, chain)| Signer {
                keyid: s.keyid.clone(),
                sig: s.sig.clone(),
                chain,
            })
            .collect();
        let entry = ReleaseEntry {
            crate_name: release.crate_name,
            version: release.version,
            sha256: release.sha256,
            payload_type: env.payload_type.clone(),
            payload: env.payload.clone(),
            signers,
        };
        Entry {
            integrated_at: 0,
            body: EntryBody::Release(entry.clone()),
        }
        .encode()?;
        Ok(entry)
    }

    /// The DSSE envelope the entry was made from, byte for byte (payload,
    /// payload type and signatures; the JSON around them is not kept).
    pub fn envelope(&self) -> Envelope {
        Envelope {
            payload_type: self.payload_type.clone(),
            payload: self.payload.clone(),
            signatures: self
                .signers
                .iter()
                .map(|s| Signature {
                    keyid: s.keyid.clone(),
                    sig: s.sig.clone(),
                })
                .collect(),
        }
    }

    /// The release the entry records.
    pub fn release(&self) -> Release {
        Release {
            crate_name: self.crate_name.clone(),
            version: self.version.clone(),
            sha256: self.sha256,
        }
    }

    /// Checks what lengths alone do not: name and version syntax, payload
    /// type, and agreement with the signed statement.
    fn check(&self) -> Result<(), EntryError> {
        validate_crate_name(&self.crate_name)?;
        validate_version(&self.version)?;
        if self.payload_type != PAYLOAD_TYPE {
            return Err(StatementError::WrongPayloadType.into());
        }
        if statement::parse_statement(&self.payload)? != self.release() {
            return Err(EntryError::StatementMismatch);
        }
        Ok(())
    }

    fn write(&self, w: &mut Writer) -> Result<(), EntryError> {
        w.opaque(CRATE_NAME, self.crate_name.as_bytes())?;
        w.opaque(VERSION, self.version.as_bytes())?;
        w.fixed(&self.sha256)?;
        w.opaque(PAYLOAD_TYPE_FIELD, self.payload_type.as_bytes())?;
        w.opaque(PAYLOAD, &self.payload)?;
        w.vector(SIGNERS, |w| {
            self.signers.iter().try_for_each(|signer| {
                w.opaque(KEYID, signer.keyid.as_bytes())?;
                w.opaque(SIG, &signer.sig)?;
                write_chain(w, CHAIN, &signer.chain)
            })
        })?;
        self.check()
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, EntryError> {
        let crate_name = read_string(r, CRATE_NAME)?;
        let version = read_string(r, VERSION)?;
        let sha256 = r.fixed::<32>("sha256")?;
        let payload_type = read_string(r, PAYLOAD_TYPE_FIELD)?;
        let payload = r.vector(PAYLOAD)?.to_vec();
        let mut signers_reader = Reader::new(r.vector(SIGNERS)?);
        let mut signers = Vec::new();
        while !signers_reader.is_empty() {
            signers.push(Signer {
                keyid: read_string(&mut signers_reader, KEYID)?,
                sig: signers_reader.vector(SIG)?.to_vec(),
                chain: read_chain(&mut signers_reader, CHAIN)?,
            });
        }
        let entry = ReleaseEntry {
            crate_name,
            version,
            sha256,
            payload_type,
            payload,
            signers,
        };
        entry.check()?;
        Ok(entry)
    }
}

/// `Certificate chain<1..2^16-1>` where `Certificate = opaque<1..2^16-1>`.
fn write_chain(w: &mut Writer, field: Vector, chain: &[Vec<u8>]) -> Result<(), EntryError> {
    w.vector(field, |w| {
        chain
            .iter()
            .try_for_each(|cert| w.opaque(CERTIFICATE, cert))
    })
}

fn read_chain(r: &mut Reader<'_>, field: Vector) -> Result<Vec<Vec<u8>>, EntryError> {
    let mut certs = Reader::new(r.vector(field)?);
    let mut chain = Vec::new();
    while !certs.is_empty() {
        chain.push(certs.vector(CERTIFICATE)?.to_vec());
    }
    Ok(chain)
}

fn read_string(r: &mut Reader<'_>, field: Vector) -> Result<String, EntryError> {
    String::from_utf8(r.vector(field)?.to_vec())
        .map_err(|_| EntryError::InvalidUtf8 { field: field.name })
}

impl Entry {
    /// Encodes the entry (format in the module documentation). Fails if a
    /// field is out of bounds or invalid, or the result would exceed
    /// [`MAX_ENTRY_SIZE`]; whatever it returns, [`Entry::decode`] accepts
    /// and gives back `self`.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let mut w = Writer::default();
        w.u8(ENTRY_VERSION)?;
        w.u64(self.integrated_at)?;
        match &self.body {
            EntryBody::Release(release) => {
                w.u8(KIND_RELEASE)?;
                release.write(&mut w)?;
            }
            EntryBody::Certificate(cert) => {
                w.u8(KIND_CERTIFICATE)?;
                write_chain(&mut w, CHAIN, &cert.chain)?;
            }
            EntryBody::Revocation(revocation) => {
                w.u8(KIND_REVOCATION)?;
                revocation.write(&mut w)?;
            }
        }
        Ok(w.into_bytes())
    }

    /// Decodes an entry strictly: version [`ENTRY_VERSION`], a known kind,
    /// every length within bounds, every field valid, no trailing bytes, at
    /// most [`MAX_ENTRY_SIZE`] bytes. Exactly one byte string encodes each
    /// entry, so `decode(b)?.encode()? == b`.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge { len: bytes.len() });
        }
        let mut r = Reader::new(bytes);
        let version = r.u8("version")?;
        if version != ENTRY_VERSION {
            return Err(EntryError::UnsupportedVersion(version));
        }
        let integrated_at = r.u64("integrated_at")?;
        let body = match r.u8("kind")? {
            KIND_RELEASE => EntryBody::Release(ReleaseEntry::read(&mut r)?),
            KIND_CERTIFICATE => EntryBody::Certificate(CertificateEntry {
                chain: read_chain(&mut r, CHAIN)?,
            }),
            KIND_REVOCATION => EntryBody::Revocation(Revocation::read(&mut r)?),
            kind => return Err(EntryError::UnknownKind(kind)),
        };
        r.finish()?;
        Ok(Entry {
            integrated_at,
            body,
        })
    }

    /// The `kind` byte of the entry.
    pub fn kind(&self) -> u8 {
        match self.body {
            EntryBody::Release(_) => KIND_RELEASE,
            EntryBody::Certificate(_) => KIND_CERTIFICATE,
            EntryBody::Revocation(_) => KIND_REVOCATION,
        }
    }

    /// Lowercase name of the kind: `release`, `certificate` or `revocation`.
    pub fn kind_name(&self) -> &'static str {
        match self.body {
            EntryBody::Release(_) => "release",
            EntryBody::Certificate(_) => "certificate",
            EntryBody::Revocation(_) => "revocation",
        }
    }
}
