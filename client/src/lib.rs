//! sigil-client: what a client machine does with Sigil, around the pure
//! checks of `sigil-verifier`: it reads `.crate` files and Cargo.lock and
//! finds cargo's downloads, keeps the newest checkpoint of each log so a
//! fork is caught, follows a log as a monitor, and talks to the log and
//! the CA over HTTP. The `sigil` command, `cargo sigil`, the CA (as the
//! log's client) and monitors use it; no RocksDB, no server.
//!
//! | module | what |
//! |---|---|
//! | [`crate_file`] | `.crate` files (gzip'd tar): layout, paths, size limits, `[package]` name and version |
//! | [`lockfile`] | `Cargo.lock` (versions 1 to 4) and the `.crate` files cargo downloaded for it |
//! | [`checkpoint_cache`] | the newest checkpoint seen of each log, advanced only by verified consistency proofs (RFC 9162 §2.1.4); forks fail closed |
//! | [`monitor`] | the engine of `sigil monitor`: every checkpoint, tile and entry of a log re-verified from its C2SP tlog-tiles |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint_cache;
pub mod crate_file;
pub mod lockfile;
pub mod monitor;

pub use checkpoint_cache::{CacheError, CacheOutcome, CheckpointCache, ConsistencySource};
