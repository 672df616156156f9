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
//! | [`log_source`] | the traits the cache and the monitor read a log through, and [`FetchError`] (not found vs unavailable) |
//! | [`log_client`] | [`LogClient`]: one async method per endpoint of the log (`sigil_core::log_api`) |
//! | [`lookup`] | the answer to a lookup of many releases, matched to the question; what is missing fails closed |
//! | [`ca_client`] | [`CaClient`]: enrollment, chain and admin endpoints of the CA (`sigil_core::ca_api`) |
//! | [`webhook`] | [`Webhook`]: one JSON `POST` per monitor alert |
//! | [`http`] | one HTTP exchange: timeouts, bounded answers, [`ClientError`] |
//! | [`blocking`] | the same clients for synchronous programs, on a runtime of their own |
//!
//! The HTTP modules are the default feature `http`; without it (the fuzz
//! targets) the crate has no reqwest and no tokio.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "http")]
pub mod blocking;
#[cfg(feature = "http")]
pub mod ca_client;
pub mod cargo_metadata;
pub mod checkpoint_cache;
pub mod crate_file;
#[cfg(feature = "http")]
pub mod http;
pub mod lockfile;
#[cfg(feature = "http")]
pub mod log_client;
pub mod log_source;
pub mod lookup;
pub mod monitor;
pub mod proxy_policy;
pub mod sparse_index;
#[cfg(feature = "http")]
pub mod webhook;

#[cfg(feature = "http")]
pub use ca_client::CaClient;
pub use checkpoint_cache::{CacheError, CacheOutcome, CheckpointCache, ConsistencySource};
#[cfg(feature = "http")]
pub use http::{CaBundle, ClientError, ClientOptions};
#[cfg(feature = "http")]
pub use log_client::LogClient;
pub use log_source::{FetchError, TileSource};
#[cfg(feature = "http")]
pub use webhook::Webhook;
