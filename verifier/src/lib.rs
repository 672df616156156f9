//! sigil-verifier: every check a Sigil client makes, as pure functions over
//! `sigil-core` formats, so that the log's admission check and a client's
//! install-time check are one implementation.
//!
//! This crate is filled by the log and client issues; today it re-exports the
//! core formats it is built on.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use sigil_core as core;
