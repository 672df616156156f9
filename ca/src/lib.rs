//! sigil-ca: Sigil's certificate authority. It issues crate-scoped
//! code-signing certificates (DESIGN.md "Certificates"; the profile is
//! `sigil_core::certificate`) and logs every certificate before handing it
//! out.
//!
//! | module | what |
//! |---|---|
//! | [`issue`] | root, intermediate and leaf certificates (RFC 5280, rcgen), revocations (`docs/formats.md` §1.4) |
//! | [`csr`] | enrollment requests: PKCS#10 (RFC 2986) parsing and proof of possession, P-256 only |
//! | [`error`] | [`CaError`] |
//! | [`invite`] | enrollment tokens and the admin token |
//! | [`store`] | the CA's state in RocksDB: invitations, certificates, revocations |
//! | [`server`] | the HTTP API (`sigil_core::ca_api` bodies, `sigil_serve::HttpError` errors): enrollment, chain, admin endpoints; entries go to the log through `sigil_client::LogClient` |
//! | [`setup`] | the CA directory: `init`, loading certificates, keys (`sigil_keyfile::p256_key`) and the admin token |
//!
//! The `sigil-ca` binary (`src/main.rs`) is `init`, `serve`, `invite`,
//! `revoke` and `trust-root` over these.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod csr;
pub mod error;
pub mod invite;
pub mod issue;
#[cfg(feature = "server")]
pub mod server;
pub mod setup;
#[cfg(feature = "server")]
pub mod store;

pub use sigil_verifier as verifier;

pub use error::CaError;
pub use issue::{
    CaCertificate, RANDOM_SERIAL_LEN, issue_leaf, new_intermediate, new_root, random_serial,
    sign_revocation,
};
