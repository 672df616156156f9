//! sigil-log: Sigil's transparency log. Submissions are admitted with the
//! verifier's checks, pooled, sequenced onto C2SP tiles stored in RocksDB, and
//! served over HTTP (DESIGN.md "Storage and the write path").
//!
//! Filled by the log-server issue.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod storage;

pub use sigil_verifier as verifier;
