//! sigil-cli: the `sigil` and `cargo-sigil` commands (DESIGN.md
//! "Interfaces").
//!
//! | module | what |
//! |---|---|
//! | [`app`] | the command lines and how results are printed |
//! | [`maintainer`] | `keygen`, `enroll` (PKCS#10 proof of possession), `sign` (DSSE, co-signatures) |
//! | [`client`] | `trust-root`, `verify`: offline checks, online revocations, the checkpoint cache |
//! | [`monitor`] | `sigil monitor`: follow a log by its tiles, re-check every entry, alert |
//! | [`verify_lock`] | `verify-lock` / `cargo sigil verify` over a Cargo.lock |
//! | [`package`] | packaging a small crate directory into a `.crate`, as `cargo package` does |
//! | [`quickstart`] | the whole flow on the embedded RocksDB default, with `sigil-ca` and `sigil-log` as child processes |
//! | [`server_process`] | a Sigil server binary run as a child process (listening line, logs, killed on drop) |
//! | [`error`] | [`CliError`]: one line for a person, a code for machines |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod client;
pub mod error;
pub mod maintainer;
pub mod monitor;
pub mod needed;
pub mod package;
pub mod proxy;
pub mod quickstart;
pub mod server_process;
pub mod verify_lock;

pub use error::CliError;
