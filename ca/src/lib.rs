//! sigil-ca: Sigil's certificate authority. It issues crate-scoped
//! code-signing certificates (DESIGN.md "Certificates") and logs every
//! certificate before handing it out.
//!
//! Filled by the certificate-authority issue.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use sigil_verifier as verifier;
