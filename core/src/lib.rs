//! sigil-core: the formats every part of Sigil speaks.
//!
//! Each module implements one specification and names it:
//!
//! | module | specification |
//! |---|---|
//! | [`merkle`] | RFC 6962 §2.1 / RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs |
//! | [`tile`] | C2SP `tlog-tiles`: tile paths, tile contents, entry bundles |
//! | [`note`] | C2SP `signed-note`: signed notes, Ed25519 and ECDSA P-256 verifiers |
//! | [`checkpoint`] | C2SP `tlog-checkpoint` |
//! | [`cosignature`] | C2SP `tlog-cosignature` (`cosignature/v1`) |
//! | [`decimal`] | the canonical unsigned decimals of the C2SP text formats |
//! | [`proof`] | C2SP `tlog-proof` (`c2sp.org/tlog-proof@v1`) |
//! | [`entry`] | Sigil log entries (`docs/formats.md`) |
//! | [`statement`] | DSSE envelopes carrying in-toto Statement v1 |
//! | [`certificate`] | RFC 5280 X.509 profile of Sigil's CA, and its crate-scope extension |
//! | [`trust_root`] | the trust root file a client pins (`docs/formats.md` §4) |
//! | [`witness_protocol`] | C2SP `tlog-witness`: the `add-checkpoint` request and response bodies |
//! | [`log_api`] | the log's HTTP API: every JSON request and response body (DESIGN.md "Interfaces") |
//! | [`ca_api`] | the CA's HTTP API: every JSON request and response body |
//! | [`api_error`] | the one error body of every Sigil server, `{"error": {"code", "message"}}` |
//! | [`pem`] | RFC 7468 PEM text of certificates |
//!
//! The crate does no I/O and has no async code: servers and clients bring
//! their own storage and transport and call into these pure functions. The
//! HTTP bodies live here so that a server and its clients share one
//! definition of each (STYLE.md §12).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api_error;
pub mod bucket;
pub mod ca_api;
pub mod certificate;
pub mod checkpoint;
pub mod cosignature;
pub mod decimal;
pub mod entry;
pub mod log_api;
pub mod merkle;
pub mod note;
pub mod pem;
pub mod proof;
pub mod statement;
pub mod tile;
pub mod trust_root;
pub mod witness_protocol;
