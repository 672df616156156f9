//! sigil-verifier: every check a Sigil client makes, as pure functions over
//! `sigil-core` formats, so that the log's admission check and a client's
//! install-time check are one implementation.
//!
//! This crate is filled by the log and client issues; today it re-exports the
//! core formats it is built on.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use sigil_core as core;

// TEMPORARY interface stub: replaced by the real verifier on merge.
#[allow(missing_docs, clippy::todo)]
mod stub {
    use sigil_core::entry::{CertificateEntry, ReleaseEntry, Revocation};
    pub struct TrustedRoots;
    impl TrustedRoots {
        pub fn from_pem(_: &[u8]) -> Result<Self, VerifyError> { Ok(TrustedRoots) }
    }
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum VerifyError { #[error("x")] X }
    impl VerifyError { pub fn code(&self) -> &'static str { "x" } }
    pub trait RevocationView { fn revoked_from(&self, id: &[u8; 32]) -> Option<u64>; }
    #[derive(Clone, Debug)]
    pub struct VerifiedSigner { pub identity: String, pub crates: Vec<String>, pub serial: Vec<u8>, pub certificate_id: [u8; 32], pub not_before_ms: u64, pub not_after_ms: u64, pub spki_der: Vec<u8> }
    pub fn check_release(_: &ReleaseEntry, _: u64, _: u64, _: &TrustedRoots, _: &dyn RevocationView) -> Result<Vec<VerifiedSigner>, VerifyError> { todo!() }
    pub fn check_certificate_entry(_: &CertificateEntry, _: u64, _: &TrustedRoots) -> Result<VerifiedSigner, VerifyError> { todo!() }
    pub fn check_revocation(_: &Revocation, _: u64, _: &TrustedRoots) -> Result<[u8; 32], VerifyError> { todo!() }
}
pub use stub::*;
