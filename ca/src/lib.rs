//! sigil-ca: Sigil's certificate authority. It issues crate-scoped
//! code-signing certificates (DESIGN.md "Certificates"; the profile is
//! `sigil_core::certificate`) and logs every certificate before handing it
//! out.
//!
//! | module | what |
//! |---|---|
//! | [`issue`] | root, intermediate and leaf certificates (RFC 5280, rcgen), revocations (`docs/formats.md` §1.4) |
//! | [`keyfile`] | CA private keys on disk: P-256 PKCS#8 PEM (RFC 5958, RFC 7468 §10), encrypted with a passphrase (RFC 5958 §3, PBES2 RFC 8018 §6.2), mode 0600 |
//! | [`csr`] | enrollment requests: PKCS#10 (RFC 2986) parsing and proof of possession, P-256 only |
//! | [`error`] | [`CaError`] |
//!
//! The CA server (enrollment, invitations, logging) comes later; this
//! crate holds keys in memory only.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod csr;
pub mod error;
pub mod issue;
pub mod keyfile;
pub mod pem;
mod scope_oid;

pub use sigil_verifier as verifier;

pub use error::CaError;
pub use issue::{
    CaCertificate, RANDOM_SERIAL_LEN, issue_leaf, new_intermediate, new_root, random_serial,
    sign_revocation,
};
