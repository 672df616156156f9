//! sigil-cli: the `sigil` and `cargo-sigil` commands (DESIGN.md "Interfaces").
//!
//! Filled by the client issue.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use sigil_ca as ca;
pub use sigil_log as log;
