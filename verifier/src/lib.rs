//! sigil-verifier: every check a Sigil client makes, as pure functions over
//! `sigil-core` formats, so that the log's admission check and a client's
//! install-time check are one implementation (DESIGN.md "Workspace").
//!
//! | module | checks |
//! |---|---|
//! | [`roots`] | trust anchors: the CA roots a log or client trusts (RFC 5280 §6.1.1 (d)) |
//! | [`chain`] | RFC 5280 §6 path validation of a maintainer chain (rustls-webpki, aws-lc-rs) and Sigil's leaf profile (`sigil_core::certificate`) |
//! | [`release`] | release entries: statement, chains, scope, revocation, DSSE signatures (`docs/formats.md` §1, §2.4) |
//! | [`release_file`] | the whole offline check of a `.crate` and its `.tlog-proof` (`docs/formats.md` §3, §4): [`verify_release`] |
//! | [`certificate_entry`] | certificate entries (`docs/formats.md` §1) |
//! | [`revocation`] | revocation entries (`docs/formats.md` §1.4), certificate ids, the revocation view |
//! | [`entry`] | any entry, by kind |
//! | [`x509`] | the certificate fields beyond rustls-webpki's reach (RFC 5280 §4.1, §4.2) |
//! | [`error`] | [`VerifyError`] and its machine codes |
//! | [`trust_root`] | the CA roots of a client's trust root file (`docs/formats.md` §4): [`TrustedRoots::from_trust_root`] |
//! | [`checkpoint_cache`] | the newest checkpoint seen of each log, advanced only by verified consistency proofs (RFC 9162 §2.1.4); forks fail closed |
//! | [`crate_file`] | `.crate` files (gzip'd tar): layout, paths, size limits, `[package]` name and version; packaging a small crate directory |
//! | [`lockfile`] | `Cargo.lock` (versions 1 to 4) and the `.crate` files cargo downloaded for it |
//! | [`monitor`] | the engine of `sigil monitor`: every checkpoint, tile and entry of a log re-verified from its C2SP tlog-tiles, alerts on watched crates and identities and on anything the log should not have accepted |
//! | [`durable_file`] | replacing a state file atomically and durably (temp, fsync, rename, fsync dir) |
//! | [`secret_file`] | key files on disk: 0600 secrets, 0644 public files, never overwritten (POSIX `open(2)` `O_EXCL`) |
//!
//! Every check here is pure: no I/O, no clock (the caller passes the
//! time of judgement), no global state. The one exception is
//! [`secret_file`], which the CA and the log share for their key files.
//! (And [`checkpoint_cache`], a client's state on disk; its comparisons are
//! pure, its reads and writes are files and locks.)
//! (And [`monitor`], whose state is a file and a lock in its directory;
//! it reads the log only through the caller's `TileSource`.)
//! (The `sigil` CLI's file helpers also read files: [`crate_file::package_dir`]
//! reads a crate directory and [`lockfile::cached_crate_path`] searches
//! cargo's download cache; their parsers, [`crate_file::read_package_id`]
//! and [`lockfile::parse_lockfile`], are pure.)
//! Certificates come from outside, so every parser returns a typed error
//! and none panics.
//!
//! Cost: a release with one signer costs three ECDSA P-256 verifications
//! (the leaf by the intermediate, the intermediate by the root, the DSSE
//! signature by the leaf), each certificate parsed once by this crate and
//! once by rustls-webpki; the roots are parsed once, in [`TrustedRoots`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod certificate_entry;
pub mod chain;
pub mod checkpoint_cache;
pub mod crate_file;
mod der;
pub mod durable_file;
pub mod entry;
pub mod error;
pub mod lockfile;
pub mod monitor;
pub mod release;
pub mod release_file;
pub mod revocation;
pub mod roots;
pub mod secret_file;
pub mod trust_root;
pub mod x509;

pub use sigil_core as core;

pub use certificate_entry::check_certificate_entry;
pub use chain::{VerifiedSigner, verify_chain};
pub use checkpoint_cache::{CacheError, CacheOutcome, CheckpointCache, ConsistencySource};
pub use entry::{CheckedEntry, check_entry};
pub use error::VerifyError;
pub use release::check_release;
pub use release_file::{ReleaseCheckError, VerifiedRelease, verify_release};
pub use revocation::{NoRevocations, RevocationView, certificate_id, check_revocation};
pub use roots::TrustedRoots;

/// The log shares these across its worker threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<TrustedRoots>();
    send_sync::<VerifyError>();
    send_sync::<VerifiedSigner>();
    send_sync::<CheckedEntry>();
};
