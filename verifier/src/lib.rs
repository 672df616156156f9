//! sigil-verifier: every check a Sigil client makes, as pure functions over
//! bytes already in memory, so that the log's admission check, a monitor's
//! re-check and a client's install-time check are one implementation
//! (DESIGN.md "Workspace").
//!
//! | module | checks |
//! |---|---|
//! | [`roots`] | trust anchors: the CA roots a log or client trusts (RFC 5280 §6.1.1 (d)) |
//! | [`trust_root`] | the CA roots of a client's trust root file (`docs/formats.md` §4): [`TrustedRoots::from_trust_root`] |
//! | [`chain`] | RFC 5280 §6 path validation of a maintainer chain (rustls-webpki, aws-lc-rs) and Sigil's leaf profile (`sigil_core::certificate`); [`ChainCache`] |
//! | [`release`] | release entries: statement, chains, scope, revocation, DSSE signatures (`docs/formats.md` §1, §2.4) |
//! | [`certificate_entry`] | certificate entries (`docs/formats.md` §1) |
//! | [`revocation`] | revocation entries (`docs/formats.md` §1.4), certificate ids, and the revocation rules ([`RevocationSet`]) |
//! | [`entry`] | any entry, by kind |
//! | [`release_file`] | the whole offline check of a `.crate` and its `.tlog-proof` (`docs/formats.md` §3, §4): [`verify_release`] |
//! | [`x509`] | the certificate fields beyond rustls-webpki's reach (RFC 5280 §4.1, §4.2) |
//! | [`error`] | [`VerifyError`] and its machine codes |
//!
//! Every check here is pure: no file or network I/O, no clock (the caller
//! passes the time of judgement), no global state and no hidden cache. What
//! a check may remember is a value its caller owns and passes in: the
//! revocations it knows ([`RevocationSet`]) and, where wanted, the chains
//! already validated ([`ChainCache`]). Reading files, talking to the log
//! and keeping state on disk are `sigil-client`'s. Certificates come from
//! outside, so every parser returns a typed error and none panics.
//!
//! Cost: a release with one signer costs three ECDSA P-256 verifications
//! (the leaf by the intermediate, the intermediate by the root, the DSSE
//! signature by the leaf), each certificate parsed once by this crate and
//! once by rustls-webpki; the roots are parsed once, in [`TrustedRoots`].
//! With a [`ChainCache`], a chain seen before costs one verification (the
//! DSSE signature) and a hash of the chain.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod certificate_entry;
pub mod chain;
mod der;
pub mod entry;
pub mod error;
pub mod release;
pub mod release_file;
pub mod revocation;
pub mod roots;
pub mod trust_root;
pub mod x509;

pub use sigil_core as core;

pub use certificate_entry::check_certificate_entry;
pub use chain::{ChainCache, VerifiedSigner, expired_at, verify_chain};
pub use entry::{CheckedEntry, check_entry};
pub use error::VerifyError;
pub use release::check_release;
pub use release_file::{ReleaseCheckError, VerifiedRelease, verify_release};
pub use revocation::{RevocationSet, VerifiedRevocation, certificate_id, check_revocation};
pub use roots::TrustedRoots;

/// The log shares these across its worker threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<TrustedRoots>();
    send_sync::<ChainCache>();
    send_sync::<RevocationSet>();
    send_sync::<VerifyError>();
    send_sync::<VerifiedSigner>();
    send_sync::<CheckedEntry>();
    send_sync::<VerifiedRevocation>();
};
