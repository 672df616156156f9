//! Revocation entries (kind 3), their CRLReason codes and the message
//! their signature covers (`docs/formats.md`, §1.4 "Revocation signature").

use p256::ecdsa::SigningKey;

use super::wire::{Reader, Vector, Writer};
use super::{EntryError, read_chain, write_chain};
use crate::statement;

/// Domain-separation prefix of the message a revocation's signature covers
/// (see [`revocation_signed_message`]). `v2`: the message names the log's
/// origin since issue #11 item 8; a `v1` signature (no origin) never
/// verifies as a `v2` one.
pub const REVOCATION_CONTEXT: &[u8] = b"sigil-revocation/v2\n";

/// The log origin in the signed message: the checkpoint origin line of the
/// log the revocation is for (c2sp.org/tlog-checkpoint), non-empty.
const ORIGIN: Vector = Vector {
    name: "origin",
    min: 1,
    max: 0xffff,
};

const SERIAL: Vector = Vector {
    name: "serial",
    min: 1,
    max: 20,
};
const SIGNATURE: Vector = Vector {
    name: "signature",
    min: 1,
    max: 255,
};
const SIGNER_CHAIN: Vector = Vector {
    name: "signer_chain",
    min: 1,
    max: 0xffff,
};

/// A revocation (kind 3): the CA declares a certificate void from log index
/// `from_index` on. Releases integrated before that index stay valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revocation {
    /// Serial number of the revoked certificate: the content octets of its
    /// DER `serialNumber` INTEGER (positive, minimal, 1 to 20 bytes; RFC
    /// 5280 §4.1.2.2). Unique per issuer, the CA in `signer_chain[0]`.
    pub serial: Vec<u8>,
    /// RFC 5280 §5.3.1 CRLReason code; see [`CrlReason`].
    pub reason: u8,
    /// First log index at which the certificate no longer counts.
    pub from_index: u64,
    /// When the CA revoked it: Unix time in milliseconds.
    pub revoked_at: u64,
    /// ECDSA P-256 / SHA-256 signature (ASN.1 DER) by the key of
    /// `signer_chain[0]` over [`revocation_signed_message`], which names the
    /// origin of the one log the revocation is for (not stored here: each
    /// verifier supplies its own log's origin).
    pub signature: Vec<u8>,
    /// DER certificates of the signing CA: the intermediate that issued the
    /// revoked certificate first; the root is not included.
    pub signer_chain: Vec<Vec<u8>>,
}

/// The RFC 5280 §5.3.1 CRLReason codes a Sigil revocation may carry.
///
/// Sigil revocations are permanent, so `certificateHold` (6) and
/// `removeFromCRL` (8), which exist to suspend a certificate and to lift the
/// suspension, are not accepted, and neither is the unassigned value 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum CrlReason {
    /// `unspecified` (0).
    Unspecified = 0,
    /// `keyCompromise` (1).
    KeyCompromise = 1,
    /// `cACompromise` (2).
    CaCompromise = 2,
    /// `affiliationChanged` (3).
    AffiliationChanged = 3,
    /// `superseded` (4).
    Superseded = 4,
    /// `cessationOfOperation` (5).
    CessationOfOperation = 5,
    /// `privilegeWithdrawn` (9).
    PrivilegeWithdrawn = 9,
    /// `aACompromise` (10).
    AaCompromise = 10,
}

impl CrlReason {
    /// Every accepted reason, in code order.
    pub const ALL: [CrlReason; 8] = [
        CrlReason::Unspecified,
        CrlReason::KeyCompromise,
        CrlReason::CaCompromise,
        CrlReason::AffiliationChanged,
        CrlReason::Superseded,
        CrlReason::CessationOfOperation,
        CrlReason::PrivilegeWithdrawn,
        CrlReason::AaCompromise,
    ];

    /// The reason with this code, if Sigil accepts it.
    pub fn from_code(code: u8) -> Option<CrlReason> {
        CrlReason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The RFC 5280 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The RFC 5280 ASN.1 name, e.g. `keyCompromise`.
    pub fn name(self) -> &'static str {
        match self {
            CrlReason::Unspecified => "unspecified",
            CrlReason::KeyCompromise => "keyCompromise",
            CrlReason::CaCompromise => "cACompromise",
            CrlReason::AffiliationChanged => "affiliationChanged",
            CrlReason::Superseded => "superseded",
            CrlReason::CessationOfOperation => "cessationOfOperation",
            CrlReason::PrivilegeWithdrawn => "privilegeWithdrawn",
            CrlReason::AaCompromise => "aACompromise",
        }
    }

    /// The reason whose RFC 5280 name is `name`, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<CrlReason> {
        CrlReason::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }
}

/// Checks that `serial` is the content of a positive DER INTEGER in minimal
/// form of at most 20 bytes (X.690 §8.3.2; RFC 5280 §4.1.2.2).
fn check_serial(serial: &[u8]) -> Result<(), EntryError> {
    // The certificate profile's rule for serial numbers (RFC 5280 §4.1.2.2,
    // DER INTEGER content octets), so a revocation names a serial exactly
    // as the certificate carries it.
    crate::certificate::validate_serial(serial).map_err(|e| match e {
        crate::certificate::CertificateError::InvalidSerial { reason } => {
            EntryError::InvalidSerial { reason }
        }
        _ => EntryError::InvalidSerial {
            reason: "not a certificate serial number",
        },
    })
}

/// The message a revocation's `signature` covers (`docs/formats.md` §1.4):
///
/// ```text
/// "sigil-revocation/v2\n" || opaque origin<1..2^16-1>
///                         || opaque serial<1..20> || uint8 reason
///                         || uint64 from_index || uint64 revoked_at
/// ```
///
/// that is, [`REVOCATION_CONTEXT`], the origin line of the log the
/// revocation is submitted to (UTF-8, no newline), then the first fields
/// of the revocation body exactly as they are encoded in the entry. The
/// origin binds the signature to one log: a revocation signed for log A
/// does not verify for log B, even if B trusts the same CA. Fails if the
/// origin is empty or the serial or reason would be rejected in an entry.
pub fn revocation_signed_message(
    origin: &str,
    serial: &[u8],
    reason: u8,
    from_index: u64,
    revoked_at: u64,
) -> Result<Vec<u8>, EntryError> {
    let mut w = Writer::default();
    w.fixed(REVOCATION_CONTEXT)?;
    w.opaque(ORIGIN, origin.as_bytes())?;
    write_revocation_head(&mut w, serial, reason, from_index, revoked_at)?;
    Ok(w.into_bytes())
}

/// `serial`, `reason`, `from_index`, `revoked_at`: the signed part of a
/// revocation body.
fn write_revocation_head(
    w: &mut Writer,
    serial: &[u8],
    reason: u8,
    from_index: u64,
    revoked_at: u64,
) -> Result<(), EntryError> {
    w.opaque(SERIAL, serial)?;
    check_serial(serial)?;
    if CrlReason::from_code(reason).is_none() {
        return Err(EntryError::InvalidReason(reason));
    }
    w.u8(reason)?;
    w.u64(from_index)?;
    w.u64(revoked_at)
}

impl Revocation {
    /// Builds a revocation for the log whose origin line is `origin`,
    /// signed by `key`, the private key of `signer_chain[0]` (the CA
    /// intermediate).
    pub fn sign(
        origin: &str,
        serial: Vec<u8>,
        reason: u8,
        from_index: u64,
        revoked_at: u64,
        signer_chain: Vec<Vec<u8>>,
        key: &SigningKey,
    ) -> Result<Revocation, EntryError> {
        let message = revocation_signed_message(origin, &serial, reason, from_index, revoked_at)?;
        let signature = statement::sign_p256_der(key, &message)?;
        Ok(Revocation {
            serial,
            reason,
            from_index,
            revoked_at,
            signature,
            signer_chain,
        })
    }

    /// [`revocation_signed_message`] for this revocation in the log whose
    /// origin line is `origin`.
    pub fn signed_message(&self, origin: &str) -> Result<Vec<u8>, EntryError> {
        revocation_signed_message(
            origin,
            &self.serial,
            self.reason,
            self.from_index,
            self.revoked_at,
        )
    }

    /// Verifies `signature` over [`Revocation::signed_message`] for the log
    /// whose origin line is `origin`, with aws-lc-rs, given the signing
    /// CA's public key as SubjectPublicKeyInfo DER or SEC1 point
    /// ([`statement::p256_public_key_point`]). A revocation signed for
    /// another log fails. Checks nothing about `signer_chain`.
    pub fn verify_signature(
        &self,
        origin: &str,
        spki_or_sec1_public_key: &[u8],
    ) -> Result<(), EntryError> {
        statement::verify_p256_der(
            spki_or_sec1_public_key,
            &self.signed_message(origin)?,
            &self.signature,
        )?;
        Ok(())
    }
}

impl Revocation {
    pub(super) fn write(&self, w: &mut Writer) -> Result<(), EntryError> {
        write_revocation_head(
            w,
            &self.serial,
            self.reason,
            self.from_index,
            self.revoked_at,
        )?;
        w.opaque(SIGNATURE, &self.signature)?;
        write_chain(w, SIGNER_CHAIN, &self.signer_chain)
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self, EntryError> {
        let serial = r.vector(SERIAL)?.to_vec();
        check_serial(&serial)?;
        let reason = r.u8("reason")?;
        if CrlReason::from_code(reason).is_none() {
            return Err(EntryError::InvalidReason(reason));
        }
        Ok(Revocation {
            serial,
            reason,
            from_index: r.u64("from_index")?,
            revoked_at: r.u64("revoked_at")?,
            signature: r.vector(SIGNATURE)?.to_vec(),
            signer_chain: read_chain(r, SIGNER_CHAIN)?,
        })
    }
}
