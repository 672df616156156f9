//! Sigil's X.509 certificate profile (RFC 5280) and its crate-scope
//! extension.
//!
//! Specifications: RFC 5280 (X.509 v3 certificates; section numbers below
//! are RFC 5280's unless marked otherwise), RFC 5480 and RFC 5758 §3.2
//! (ECDSA P-256 keys and `ecdsa-with-SHA256` signatures), ITU-T X.690 §10
//! (DER and OBJECT IDENTIFIER encoding), RFC 5612 (the documentation
//! enterprise number the scope OID sits under for now), and DESIGN.md
//! "Certificates". `sigil-ca` issues certificates to this profile and
//! `sigil-verifier` checks them; this module holds what both need: the
//! profile's constants and the encoder and decoder of the scope extension.
//!
//! # The hierarchy
//!
//! Every key is ECDSA P-256 (`id-ecPublicKey` with `prime256v1`, RFC 5480
//! §2.1.1), every certificate X.509 v3 signed with `ecdsa-with-SHA256`
//! (RFC 5758 §3.2). Serial numbers are positive, at most 20 bytes (§4.1.2.2;
//! [`validate_serial`]), random 16 bytes by default.
//!
//! | | root | intermediate | leaf (maintainer) |
//! |---|---|---|---|
//! | kept | offline | online, in the CA server | by the maintainer (`sigil keygen`) |
//! | subject (§4.1.2.6) | `CN=<name>` | `CN=<name>` | empty |
//! | issuer | itself | the root | the intermediate |
//! | basicConstraints (§4.2.1.9), critical | `cA TRUE, pathLen 1` | `cA TRUE, pathLen 0` | absent (an end entity) |
//! | keyUsage (§4.2.1.3), critical | `keyCertSign, cRLSign` | `digitalSignature, keyCertSign, cRLSign` | `digitalSignature` |
//! | extKeyUsage (§4.2.1.12), non-critical | absent | `codeSigning` | `codeSigning` |
//! | subjectAltName (§4.2.1.6) | absent | absent | the identity, critical (the subject is empty) |
//! | subjectKeyIdentifier (§4.2.1.2) | yes | yes | yes |
//! | authorityKeyIdentifier (§4.2.1.1) | yes (= its own SKI) | yes (= root SKI) | yes (= intermediate SKI) |
//! | Sigil scope ([`SCOPE_EXTENSION_OID`]), non-critical | absent | absent | the crates the holder may sign |
//! | lifetime | [`DEFAULT_ROOT_VALIDITY_DAYS`] | [`DEFAULT_INTERMEDIATE_VALIDITY_DAYS`] | [`DEFAULT_LEAF_VALIDITY_DAYS`] |
//!
//! Key identifiers are RFC 7093 §2 method 1: the leftmost 160 bits of the
//! SHA-256 of the subjectPublicKey BIT STRING's value (the 65-byte point).
//! Every certificate is DER (X.690 §10–11): in particular a BOOLEAN
//! `DEFAULT FALSE` (`critical`, `cA`) is omitted, never encoded as FALSE.
//!
//! Why the intermediate carries `codeSigning` and `digitalSignature`:
//! standard path validation as rustls-webpki does it requires the end
//! entity's extended key usage on every certificate of the path (the
//! intermediate included), and the intermediate's key signs revocation log
//! entries (`docs/formats.md` §1.4), data other than certificates and CRLs,
//! which is what `digitalSignature` covers (§4.2.1.3).
//!
//! ## The identity
//!
//! The leaf's subjectAltName holds exactly one name, the maintainer's
//! identity; [`classify_identity`] decides its form, so that one identity
//! string always has exactly one encoding:
//!
//! * a string that starts with a URI scheme (`ALPHA *( ALPHA / DIGIT / "+"
//!   / "-" / "." ) ":"`, RFC 3986 §3.1) is a `uniformResourceIdentifier`,
//!   e.g. `https://github.com/alice`;
//! * otherwise a string with an `@` is an `rfc822Name` (§4.2.1.6, the
//!   `Mailbox` syntax of RFC 5321 §4.1.2 without quoted local parts), e.g.
//!   `alice@example.com`;
//! * anything else is refused. Both are ASCII (`IA5String`), at most
//!   [`MAX_IDENTITY_LEN`] bytes, without spaces or control characters.
//!
//! ## Validity and time
//!
//! A release is judged at its integration time (the log's `integrated_at`),
//! so a release stays valid after its certificate expires. Certificate times
//! have one-second resolution; a verifier compares them with
//! `floor(at_ms / 1000)`, and `notAfter` is inclusive (§4.1.2.5: "the
//! certificate validity period includes both dates").
//!
//! # The scope extension
//!
//! The leaf lists the crates its holder may sign in a private extension
//! (§4.2: "Communities may elect to use additional extensions"). Its OID,
//! [`SCOPE_EXTENSION_OID`] (`1.3.6.1.4.1.32473.1.1`), sits under RFC 5612's
//! documentation enterprise number until the project's own IANA Private
//! Enterprise Number is assigned; it is written once, as
//! [`SCOPE_EXTENSION_OID_ARCS`]. Every arc fits in 31 bits, so parsers that
//! keep arcs in machine integers (Go's `crypto/x509`, pkilint's DER
//! decoder, Botan, RustCrypto's `const-oid`) read the certificate
//! (`docs/certificates.md`). It MUST be non-critical: a relying party that
//! does not know Sigil still validates the chain, and rustls-webpki refuses
//! certificates with unknown critical extensions. A Sigil verifier refuses
//! a leaf without it, and one where it is critical.
//!
//! ```text
//! SigilScope DEFINITIONS EXPLICIT TAGS ::= BEGIN
//!
//! -- 32473: RFC 5612's documentation enterprise number, a placeholder
//! -- for the project's own IANA Private Enterprise Number
//! id-sigil-scope OBJECT IDENTIFIER ::=
//!     { iso(1) identified-organization(3) dod(6) internet(1) private(4)
//!       enterprise(1) 32473 sigil(1) scope(1) }
//!
//! -- extnValue of the extension with extnID id-sigil-scope
//! CrateScope ::= SEQUENCE SIZE (1..256) OF CrateName
//!
//! -- a crates.io name: an ASCII letter, then ASCII letters, digits,
//! -- '-' or '_'; at most 64 characters (sigil_core::statement)
//! CrateName ::= UTF8String (SIZE (1..64))
//!
//! END
//! ```
//!
//! Further rules: no two names in one scope are the same crate by crates.io
//! rules (equal after ASCII lower-casing and mapping `-` to `_`); the order
//! is the issuer's and carries no meaning. A release is in scope when its
//! crate name equals one of the names exactly (byte for byte): the CA writes
//! each name as the crate is published.
//!
//! [`encode_scope`] writes DER (X.690 §10: definite, minimal lengths).
//! [`decode_scope`] accepts exactly the encodings `encode_scope` can
//! produce, so each scope has one encoding; it is hand-written (about 60
//! lines, no ASN.1 library) and total: it returns an error, never panics,
//! on any input.
//!
//! ## Worked example
//!
//! The scope `["hello", "sigil-core"]`, and the whole `Extension` (§4.1) that
//! carries it (non-critical, so the `critical` field is absent, X.690
//! §11.5):
//!
//! ```text
//! 30 23                                      Extension SEQUENCE, 35 bytes
//!    06 0a                                   extnID OBJECT IDENTIFIER, 10 bytes
//!       2b                                   1.3 (1 * 40 + 3)
//!       06 01 04 01                          6.1.4.1
//!       81 fd 59                             32473 in base 128
//!       01 01                                1.1 (sigil, scope)
//!    04 15                                   extnValue OCTET STRING, 21 bytes
//!       30 13                                CrateScope SEQUENCE, 19 bytes
//!          0c 05 68 65 6c 6c 6f              UTF8String "hello"
//!          0c 0a 73 69 67 69 6c 2d 63 6f 72 65   UTF8String "sigil-core"
//! ```
//!
//! ```
//! use sigil_core::certificate::{SCOPE_EXTENSION_OID_DER, decode_scope, encode_scope};
//!
//! let scope = vec!["hello".to_string(), "sigil-core".to_string()];
//! let der = encode_scope(&scope)?;
//! assert_eq!(hex::encode(&der), "30130c0568656c6c6f0c0a736967696c2d636f7265");
//! assert_eq!(decode_scope(&der)?, scope);
//! assert_eq!(hex::encode(SCOPE_EXTENSION_OID_DER), "2b0601040181fd590101");
//! # Ok::<(), sigil_core::certificate::CertificateError>(())
//! ```

use std::collections::HashSet;

use crate::statement::{StatementError, validate_crate_name};

/// The scope extension's OID, as its arcs: `1.3.6.1.4.1.32473.1.1`,
/// `{ iso(1) identified-organization(3) dod(6) internet(1) private(4)
/// enterprise(1) 32473 sigil(1) scope(1) }`.
///
/// `32473` is the Private Enterprise Number that RFC 5612 §2 reserves for
/// documentation, taken as a placeholder: every arc fits in 31 bits, so
/// every X.509 parser reads the certificate (Go's `crypto/x509`, pkilint,
/// Botan and RustCrypto's `const-oid` refuse arcs such as 128-bit `2.25`
/// UUIDs). **To be replaced by the project's own IANA Private Enterprise
/// Number once it is assigned** (`1.3.6.1.4.1.<PEN>.1.1`); this is the only
/// place the OID is written, everything else ([`SCOPE_EXTENSION_OID`],
/// [`SCOPE_EXTENSION_OID_DER`], the CA's rcgen calls) derives from it.
pub const SCOPE_EXTENSION_OID_ARCS: [u64; 9] = [1, 3, 6, 1, 4, 1, 32473, 1, 1];

/// The OID of [`SCOPE_EXTENSION_OID_ARCS`] in dotted form, computed from the
/// arcs at compile time.
pub const SCOPE_EXTENSION_OID: &str =
    match std::str::from_utf8(SCOPE_OID_TEXT.0.split_at(SCOPE_OID_TEXT.1).0) {
        Ok(text) => text,
        Err(_) => panic!("the dotted OID is ASCII"),
    };

/// The content octets of the DER encoding (X.690 §8.19) of
/// [`SCOPE_EXTENSION_OID_ARCS`]: what follows the `06` tag and the length
/// in a certificate. Computed from the arcs at compile time.
pub const SCOPE_EXTENSION_OID_DER: &[u8] = SCOPE_OID_DER.0.split_at(SCOPE_OID_DER.1).0;

/// Room for the encodings below; the OID needs far less.
const OID_BUFFER: usize = 64;
const SCOPE_OID_DER: ([u8; OID_BUFFER], usize) = oid_content_octets(&SCOPE_EXTENSION_OID_ARCS);
const SCOPE_OID_TEXT: ([u8; OID_BUFFER], usize) = oid_dotted(&SCOPE_EXTENSION_OID_ARCS);

/// X.690 §8.19: the first two arcs as one subidentifier `40 * X + Y`, then
/// each subidentifier in base 128, most significant group first, the high
/// bit set on every octet but the last. For arcs below 2.40 (every OID
/// this module encodes; a bad constant fails to compile).
const fn oid_content_octets(arcs: &[u64]) -> ([u8; OID_BUFFER], usize) {
    assert!(arcs.len() >= 2 && arcs[0] <= 2 && arcs[1] < 40);
    let mut out = [0u8; OID_BUFFER];
    let mut len = 0;
    let mut i = 1;
    while i < arcs.len() {
        let sub = if i == 1 {
            arcs[0] * 40 + arcs[1]
        } else {
            arcs[i]
        };
        let mut groups = 1;
        while groups < 10 && sub >> (7 * groups) != 0 {
            groups += 1;
        }
        let mut g = groups;
        while g > 0 {
            g -= 1;
            let septet = ((sub >> (7 * g)) & 0x7f) as u8;
            out[len] = if g > 0 { septet | 0x80 } else { septet };
            len += 1;
        }
        i += 1;
    }
    (out, len)
}

/// The arcs in decimal, joined by `.`.
const fn oid_dotted(arcs: &[u64]) -> ([u8; OID_BUFFER], usize) {
    let mut out = [0u8; OID_BUFFER];
    let mut len = 0;
    let mut i = 0;
    while i < arcs.len() {
        if i > 0 {
            out[len] = b'.';
            len += 1;
        }
        let arc = arcs[i];
        let mut digits = 1;
        let mut rest = arc / 10;
        while rest > 0 {
            digits += 1;
            rest /= 10;
        }
        let mut d = digits;
        let mut value = arc;
        while d > 0 {
            d -= 1;
            out[len + d] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        len += digits;
        i += 1;
    }
    (out, len)
}

/// `id-kp-codeSigning` (RFC 5280 §4.2.1.12), the extended key usage of the
/// leaf and the intermediate.
pub const CODE_SIGNING_EKU_OID: &str = "1.3.6.1.5.5.7.3.3";

/// The content octets of the DER encoding of [`CODE_SIGNING_EKU_OID`], the
/// form rustls-webpki's `KeyUsage::required` takes.
pub const CODE_SIGNING_EKU_OID_DER: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// Most crate names one scope extension may hold.
pub const MAX_SCOPE_CRATES: usize = 256;

/// Longest identity (subjectAltName value) the profile allows, in bytes.
pub const MAX_IDENTITY_LEN: usize = 255;

/// Longest serial number, in content octets (RFC 5280 §4.1.2.2).
pub const MAX_SERIAL_LEN: usize = 20;

/// `pathLenConstraint` of the root (RFC 5280 §4.2.1.9): one intermediate
/// below it.
pub const ROOT_PATH_LEN: u8 = 1;

/// `pathLenConstraint` of the intermediate (RFC 5280 §4.2.1.9): it issues
/// leaves only.
pub const INTERMEDIATE_PATH_LEN: u8 = 0;

/// Default lifetime of a root, in days (about ten years).
pub const DEFAULT_ROOT_VALIDITY_DAYS: u32 = 3_653;

/// Default lifetime of an intermediate, in days (about three years).
pub const DEFAULT_INTERMEDIATE_VALIDITY_DAYS: u32 = 1_096;

/// Default lifetime of a maintainer's leaf, in days: short, since releases
/// stay valid after it ends (they are judged at integration time).
pub const DEFAULT_LEAF_VALIDITY_DAYS: u32 = 90;

/// Errors from encoding and decoding the scope extension and from the
/// profile's checks on identities and serial numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The DER ends inside an element.
    #[error("scope extension: DER ends inside {what}")]
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// An element has another tag than the one the grammar requires.
    #[error("scope extension: expected tag {expected:#04x} ({what}), found {found:#04x}")]
    WrongTag {
        /// What was being read.
        what: &'static str,
        /// The tag the grammar requires.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// A length is not in DER form: indefinite, long form where the short
    /// form fits, or with leading zero octets (X.690 §10.1).
    #[error("scope extension: length of {what} is not minimal definite DER")]
    NonMinimalLength {
        /// What was being read.
        what: &'static str,
    },
    /// Bytes follow the scope's SEQUENCE.
    #[error("scope extension: {count} bytes after the end of the SEQUENCE")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// The scope lists no crate (`SIZE (1..MAX)`).
    #[error("scope lists no crate; it must name at least one")]
    EmptyScope,
    /// The scope lists more than [`MAX_SCOPE_CRATES`] crates.
    #[error("scope lists {count} crates, more than the 256 allowed")]
    TooManyCrates {
        /// How many it lists.
        count: usize,
    },
    /// A crate name is not UTF-8.
    #[error("scope crate name {index} is not UTF-8")]
    NotUtf8 {
        /// Position in the scope, from 0.
        index: usize,
    },
    /// A crate name breaks the crates.io rules.
    #[error("scope crate name {index} is invalid: {source}")]
    InvalidCrateName {
        /// Position in the scope, from 0.
        index: usize,
        /// Which rule it breaks.
        source: StatementError,
    },
    /// Two names in the scope are the same crate by crates.io rules.
    #[error("scope names crate `{name}` twice")]
    DuplicateCrate {
        /// The second occurrence.
        name: String,
    },
    /// An identity is neither a URI nor an email address by the profile's
    /// rules ([`classify_identity`]).
    #[error("identity is invalid: {reason}")]
    InvalidIdentity {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A serial number is not a positive, minimal DER INTEGER of at most 20
    /// octets (RFC 5280 §4.1.2.2).
    #[error("serial number is invalid: {reason}")]
    InvalidSerial {
        /// Which rule it breaks.
        reason: &'static str,
    },
}

/// DER tags used by the scope extension (X.690 §8.1.2, universal class).
const TAG_SEQUENCE: u8 = 0x30;
const TAG_UTF8_STRING: u8 = 0x0c;

/// Encodes a scope as the DER `CrateScope` (module documentation): the
/// `extnValue` of the scope extension.
///
/// Refuses what [`decode_scope`] would refuse: no names, more than
/// [`MAX_SCOPE_CRATES`], an invalid crate name, or two names for the same
/// crate.
pub fn encode_scope(crates: &[String]) -> Result<Vec<u8>, CertificateError> {
    check_scope(crates)?;
    let mut body = Vec::with_capacity(crates.iter().map(|c| c.len() + 2).sum());
    for name in crates {
        body.push(TAG_UTF8_STRING);
        push_length(&mut body, name.len());
        body.extend_from_slice(name.as_bytes());
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(TAG_SEQUENCE);
    push_length(&mut out, body.len());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes the DER `CrateScope` of a scope extension's `extnValue`
/// strictly: DER tags and minimal definite lengths, 1 to
/// [`MAX_SCOPE_CRATES`] valid crate names, no two for the same crate, no
/// trailing bytes. Total: never panics, whatever the input.
pub fn decode_scope(der: &[u8]) -> Result<Vec<String>, CertificateError> {
    let mut outer = DerReader { input: der };
    let body = outer.read(TAG_SEQUENCE, "CrateScope SEQUENCE")?;
    if !outer.input.is_empty() {
        return Err(CertificateError::TrailingBytes {
            count: outer.input.len(),
        });
    }
    let mut elements = DerReader { input: body };
    let mut crates = Vec::new();
    while !elements.input.is_empty() {
        let index = crates.len();
        let bytes = elements.read(TAG_UTF8_STRING, "CrateName UTF8String")?;
        let name = std::str::from_utf8(bytes).map_err(|_| CertificateError::NotUtf8 { index })?;
        crates.push(name.to_owned());
    }
    check_scope(&crates)?;
    Ok(crates)
}

/// The scope rules shared by the encoder and the decoder.
fn check_scope(crates: &[String]) -> Result<(), CertificateError> {
    if crates.is_empty() {
        return Err(CertificateError::EmptyScope);
    }
    if crates.len() > MAX_SCOPE_CRATES {
        return Err(CertificateError::TooManyCrates {
            count: crates.len(),
        });
    }
    let mut seen = HashSet::with_capacity(crates.len());
    for (index, name) in crates.iter().enumerate() {
        validate_crate_name(name)
            .map_err(|source| CertificateError::InvalidCrateName { index, source })?;
        if !seen.insert(crates_io_canonical_name(name)) {
            return Err(CertificateError::DuplicateCrate { name: name.clone() });
        }
    }
    Ok(())
}

/// The form under which crates.io considers two names the same crate:
/// ASCII lower case, `-` read as `_`.
fn crates_io_canonical_name(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'-' => '_',
            b => char::from(b.to_ascii_lowercase()),
        })
        .collect()
}

/// Appends a DER definite length in minimal form (X.690 §10.1, §8.1.3).
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        // Short form: one octet. The cast cannot truncate: len < 0x80.
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    // At most size_of::<usize>() octets, so the count fits in the low 7 bits.
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// A strict DER reader for single-octet tags and minimal definite lengths:
/// just what `CrateScope` needs.
struct DerReader<'a> {
    input: &'a [u8],
}

impl<'a> DerReader<'a> {
    /// Reads one element with tag `tag` and returns its content octets.
    fn read(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], CertificateError> {
        let (&found, rest) = self
            .input
            .split_first()
            .ok_or(CertificateError::Truncated { what })?;
        if found != tag {
            return Err(CertificateError::WrongTag {
                what,
                expected: tag,
                found,
            });
        }
        let (&first, mut rest) = rest
            .split_first()
            .ok_or(CertificateError::Truncated { what })?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // 0x80 is the indefinite form, which DER forbids; more than four
            // length octets is more than any scope (or this reader) needs.
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(CertificateError::NonMinimalLength { what });
            }
            let (octets, after) = rest
                .split_at_checked(count)
                .ok_or(CertificateError::Truncated { what })?;
            rest = after;
            if octets.first() == Some(&0) {
                return Err(CertificateError::NonMinimalLength { what });
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(CertificateError::NonMinimalLength { what });
            }
            len
        };
        let (content, after) = rest
            .split_at_checked(len)
            .ok_or(CertificateError::Truncated { what })?;
        self.input = after;
        Ok(content)
    }
}

/// The SubjectAltName form of an identity (RFC 5280 §4.2.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityKind {
    /// `rfc822Name` (`[1] IA5String`): an email address.
    Rfc822Name,
    /// `uniformResourceIdentifier` (`[6] IA5String`): a URI.
    Uri,
}

/// Decides how an identity is written in a leaf's subjectAltName, by the
/// rules in the module documentation ("The identity"), and checks it: a URI
/// if it starts with a scheme (RFC 3986 §3.1), else an email address if it
/// has an `@` (RFC 5321 §4.1.2 `Mailbox`, unquoted local part); printable
/// ASCII without spaces; 1 to [`MAX_IDENTITY_LEN`] bytes.
pub fn classify_identity(identity: &str) -> Result<IdentityKind, CertificateError> {
    let bad = |reason| Err(CertificateError::InvalidIdentity { reason });
    if identity.is_empty() {
        return bad("empty");
    }
    if identity.len() > MAX_IDENTITY_LEN {
        return bad("longer than 255 bytes");
    }
    if !identity.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("has a character other than printable ASCII (no spaces)");
    }
    if let Some((scheme, rest)) = identity.split_once(':') {
        let mut chars = scheme.bytes();
        let scheme_ok = chars.next().is_some_and(|b| b.is_ascii_alphabetic())
            && chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if scheme_ok {
            if rest.is_empty() {
                return bad("URI has nothing after its scheme");
            }
            return Ok(IdentityKind::Uri);
        }
    }
    let Some((local, domain)) = identity.split_once('@') else {
        return bad("neither a URI (scheme:...) nor an email address (local@domain)");
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    if !local_ok {
        return bad("email local part is not a dot-atom (RFC 5321 §4.1.2)");
    }
    let domain_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !domain_ok {
        return bad("email domain is not a host name (RFC 5321 §4.1.2)");
    }
    Ok(IdentityKind::Rfc822Name)
}

/// Checks that `serial` is the content of a positive DER INTEGER in minimal
/// form (X.690 §8.3.2) of at most [`MAX_SERIAL_LEN`] octets (RFC 5280
/// §4.1.2.2): what a certificate's `serialNumber` and a revocation's
/// `serial` hold.
pub fn validate_serial(serial: &[u8]) -> Result<(), CertificateError> {
    let bad = |reason| Err(CertificateError::InvalidSerial { reason });
    match serial {
        [] => bad("empty"),
        s if s.len() > MAX_SERIAL_LEN => bad("longer than 20 octets"),
        [first, ..] if first & 0x80 != 0 => bad("negative"),
        [0] => bad("zero"),
        [0, second, ..] if second & 0x80 == 0 => bad("leading zero byte"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// The derived forms of the one OID constant, checked against values
    /// written out by hand (X.690 §8.19.4: 1.3 is 0x2b; 32473 is
    /// 1·128² + 125·128 + 89, so 81 fd 59).
    #[test]
    fn scope_oid_forms_follow_from_its_arcs() {
        assert_eq!(SCOPE_EXTENSION_OID, "1.3.6.1.4.1.32473.1.1");
        assert_eq!(
            SCOPE_EXTENSION_OID_DER,
            [0x2b, 0x06, 0x01, 0x04, 0x01, 0x81, 0xfd, 0x59, 0x01, 0x01]
        );
        assert_eq!(CODE_SIGNING_EKU_OID_DER, {
            let (buf, len) = oid_content_octets(&[1, 3, 6, 1, 5, 5, 7, 3, 3]);
            <[u8; 8]>::try_from(&buf[..len]).unwrap()
        });
        let (buf, len) = oid_dotted(&[1, 3, 6, 1, 5, 5, 7, 3, 3]);
        assert_eq!(&buf[..len], CODE_SIGNING_EKU_OID.as_bytes());
        // Every arc fits in 31 bits (Go's crypto/x509 reads arcs as int).
        assert!(SCOPE_EXTENSION_OID_ARCS.iter().all(|&a| a < 1 << 31));
        // Multi-octet and large arcs.
        let (buf, len) = oid_content_octets(&[2, 25, 128, u64::MAX]);
        assert_eq!(
            &buf[..len],
            [
                0x69, 0x81, 0x00, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ]
        );
        let (buf, len) = oid_dotted(&[2, 0, 10, u64::MAX]);
        assert_eq!(&buf[..len], b"2.0.10.18446744073709551615");
    }

    #[test]
    fn push_length_is_minimal() {
        for (len, want) in [
            (0usize, &[0x00][..]),
            (0x7f, &[0x7f]),
            (0x80, &[0x81, 0x80]),
            (0xff, &[0x81, 0xff]),
            (0x100, &[0x82, 0x01, 0x00]),
            (0x4200, &[0x82, 0x42, 0x00]),
        ] {
            let mut out = Vec::new();
            push_length(&mut out, len);
            assert_eq!(out, want, "length {len}");
        }
    }
}
