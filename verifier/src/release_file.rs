//! The whole offline check of one downloaded release: a `.crate` file and
//! its `.crate.tlog-proof` (`docs/formats.md` §3), against a client's trust
//! root (§4). This is what `sigil verify` runs; nothing here touches the
//! network or the disk.
//!
//! Order of the checks ([`verify_release`]):
//!
//! 1. the proof file parses, its checkpoint is signed by the log for the
//!    log's origin and cosigned by the witness quorum, and its inclusion
//!    proof leads from the entry in `extra` to the checkpoint's root
//!    (`sigil_core::proof::verify`, §3.2);
//! 2. the entry decodes (§1.3) and is a release entry;
//! 3. it is the release the caller expects (crate name and version from
//!    `Cargo.lock` or the file name), when the caller knows;
//! 4. SHA-256 of the `.crate` bytes equals the entry's `sha256`;
//! 5. [`crate::check_release`] at the entry's `integrated_at` and index:
//!    DSSE signatures, each chain to a trusted root at integration time,
//!    the crate in each signer's scope, no revocation of the path from an
//!    index at or before the entry's.
//!
//! The checkpoint it verified is returned, so the caller can offer it to
//! its checkpoint cache (`sigil_client::checkpoint_cache`). An offline
//! check passes [`RevocationSet::empty`]; an online client asks the log
//! about [`VerifiedRelease::certificate_ids`] and applies the answers with
//! [`RevocationSet::check_signers`].

use aws_lc_rs::digest::{SHA256, digest};
use sigil_core::checkpoint::{CheckpointError, CheckpointPolicy, VerifiedCheckpoint};
use sigil_core::entry::{Entry, EntryBody, EntryError};
use sigil_core::proof::{self, ProofError};

use crate::chain::{ChainCache, VerifiedSigner};
use crate::error::VerifyError;
use crate::release::check_release;
use crate::revocation::RevocationSet;
use crate::roots::TrustedRoots;

/// A release that passed [`verify_release`].
#[derive(Debug, Clone)]
pub struct VerifiedRelease {
    /// The crate's name, as logged.
    pub crate_name: String,
    /// The crate's version, as logged.
    pub version: String,
    /// SHA-256 of the `.crate` file (equal to the logged one).
    pub sha256: [u8; 32],
    /// The entry's index in the log.
    pub index: u64,
    /// When the log integrated the entry, Unix ms: the time the
    /// certificates were judged at.
    pub integrated_at: u64,
    /// The signers, in envelope order.
    pub signers: Vec<VerifiedSigner>,
    /// The checkpoint the proof leads to, verified under the policy: a
    /// client offers it to its checkpoint cache (`sigil_client`).
    pub checkpoint: VerifiedCheckpoint,
}

impl VerifiedRelease {
    /// The signers' identities (subjectAltName), in envelope order.
    pub fn identities(&self) -> Vec<&str> {
        self.signers.iter().map(|s| s.identity.as_str()).collect()
    }

    /// Every certificate id of every signer's validated path (leaves and
    /// intermediates), without repeats: what an online client asks the
    /// log's revocations about.
    pub fn certificate_ids(&self) -> Vec<[u8; 32]> {
        let mut ids: Vec<[u8; 32]> = Vec::new();
        for id in self.signers.iter().flat_map(VerifiedSigner::path_ids) {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        ids
    }
}

/// Why a release did not verify. [`ReleaseCheckError::code`] is a stable
/// machine code (for `--json`); the message is one line a person can act
/// on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseCheckError {
    /// The proof file is malformed, carries no entry, or its inclusion
    /// proof does not lead to the checkpoint (`docs/formats.md` §3).
    #[error(
        "the .tlog-proof does not prove this release is in the log ({0}); it was damaged or altered: download it again"
    )]
    BadProof(ProofError),
    /// The proof's checkpoint does not verify under the trust root: wrong
    /// log, bad signature, or too few witness cosignatures.
    #[error(
        "the checkpoint in the .tlog-proof is not trusted ({0}); the proof is from another log than your trust root names, or was altered"
    )]
    BadCheckpoint(CheckpointError),
    /// The logged entry does not decode (`docs/formats.md` §1.3).
    #[error(
        "the entry in the .tlog-proof cannot be read ({0}); update Sigil, or report it to the log operator"
    )]
    BadEntry(EntryError),
    /// The logged entry is not a release.
    #[error(
        "the .tlog-proof proves a {kind} entry, not a release: it is not the proof of a .crate"
    )]
    NotARelease {
        /// The entry's kind name.
        kind: &'static str,
    },
    /// The logged release is not the crate or version the caller expects.
    #[error(
        "the .tlog-proof is for {found_crate} {found_version}, not {expected_crate} {expected_version}: use the proof that was published with this crate"
    )]
    WrongCrate {
        /// Crate name the caller expects.
        expected_crate: String,
        /// Version the caller expects.
        expected_version: String,
        /// Crate name in the log.
        found_crate: String,
        /// Version in the log.
        found_version: String,
    },
    /// The `.crate` file is not the one that was signed and logged.
    #[error(
        "the .crate's SHA-256 is {} but the log recorded {} for {crate_name} {version}: the file was modified after signing; do not use it",
        hex::encode(actual),
        hex::encode(logged)
    )]
    DigestMismatch {
        /// The logged crate name.
        crate_name: String,
        /// The logged version.
        version: String,
        /// SHA-256 of the file given.
        actual: [u8; 32],
        /// SHA-256 in the log entry.
        logged: [u8; 32],
    },
    /// The release's signatures, certificates, scope or revocation status
    /// do not pass ([`crate::check_release`]).
    #[error("{crate_name} {version}: {source}")]
    Release {
        /// The logged crate name.
        crate_name: String,
        /// The logged version.
        version: String,
        /// What failed; its code is this error's code.
        source: VerifyError,
    },
}

impl ReleaseCheckError {
    /// The stable, snake_case machine code: `bad_proof`, `bad_checkpoint`,
    /// `bad_entry`, `not_a_release`, `wrong_crate`, `digest_mismatch`, or,
    /// for [`ReleaseCheckError::Release`], the [`VerifyError::code`] of
    /// its source (`expired`, `out_of_scope`, `revoked`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            ReleaseCheckError::BadProof(_) => "bad_proof",
            ReleaseCheckError::BadCheckpoint(_) => "bad_checkpoint",
            ReleaseCheckError::BadEntry(_) => "bad_entry",
            ReleaseCheckError::NotARelease { .. } => "not_a_release",
            ReleaseCheckError::WrongCrate { .. } => "wrong_crate",
            ReleaseCheckError::DigestMismatch { .. } => "digest_mismatch",
            ReleaseCheckError::Release { source, .. } => source.code(),
        }
    }
}

/// Verifies one downloaded release offline (module docs for the order of
/// the checks). `expected` is the (crate name, version) the caller knows
/// the file to be, from `Cargo.lock` or the file name; `None` accepts
/// whatever release the proof names.
///
/// # Errors
///
/// The first check that fails, as a [`ReleaseCheckError`]. Never panics on
/// any input.
pub fn verify_release(
    crate_bytes: &[u8],
    proof_bytes: &[u8],
    policy: &CheckpointPolicy,
    roots: &TrustedRoots,
    revocations: &RevocationSet,
    expected: Option<(&str, &str)>,
    chains: Option<&ChainCache>,
) -> Result<VerifiedRelease, ReleaseCheckError> {
    let proved = proof::verify(proof_bytes, policy).map_err(|e| match e {
        ProofError::Checkpoint(e) => ReleaseCheckError::BadCheckpoint(e),
        other => ReleaseCheckError::BadProof(other),
    })?;
    let entry = Entry::decode(&proved.entry).map_err(ReleaseCheckError::BadEntry)?;
    let release = match &entry.body {
        EntryBody::Release(release) => release,
        _ => {
            return Err(ReleaseCheckError::NotARelease {
                kind: entry.kind_name(),
            });
        }
    };
    if let Some((name, version)) = expected
        && (release.crate_name != name || release.version != version)
    {
        return Err(ReleaseCheckError::WrongCrate {
            expected_crate: name.to_owned(),
            expected_version: version.to_owned(),
            found_crate: release.crate_name.clone(),
            found_version: release.version.clone(),
        });
    }
    let mut actual = [0u8; 32];
    actual.copy_from_slice(digest(&SHA256, crate_bytes).as_ref());
    if actual != release.sha256 {
        return Err(ReleaseCheckError::DigestMismatch {
            crate_name: release.crate_name.clone(),
            version: release.version.clone(),
            actual,
            logged: release.sha256,
        });
    }
    let signers = check_release(
        release,
        entry.integrated_at,
        proved.index,
        roots,
        revocations,
        chains,
    )
    .map_err(|source| ReleaseCheckError::Release {
        crate_name: release.crate_name.clone(),
        version: release.version.clone(),
        source,
    })?;
    Ok(VerifiedRelease {
        crate_name: release.crate_name.clone(),
        version: release.version.clone(),
        sha256: actual,
        index: proved.index,
        integrated_at: entry.integrated_at,
        signers,
        checkpoint: proved.checkpoint,
    })
}
