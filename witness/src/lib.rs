//! sigil-witness: a transparency log witness,
//! [C2SP `tlog-witness`](https://c2sp.org/tlog-witness).
//!
//! A log sends the witness each new checkpoint with a consistency proof
//! from the last one the witness cosigned (`POST /add-checkpoint`). The
//! witness checks that the checkpoint is signed by a key it trusts for that
//! log, that it extends the checkpoint it cosigned before, stores it durably,
//! and answers with its `cosignature/v1` (c2sp.org/tlog-cosignature). It
//! never cosigns two checkpoints of one log that are not consistent, across
//! restarts included: clients that require its cosignature cannot be shown
//! a fork.
//!
//! | module | what |
//! |---|---|
//! | [`log_list`] | the `--logs` file: origins and log keys (witness-network `logs/v0`) |
//! | [`state`] | the latest cosigned checkpoint per log, on disk, written atomically and durably |
//! | [`witness`] | the checks of §add-checkpoint and the compare-and-swap |
//! | [`api`] | HTTP: `POST /add-checkpoint`, `GET /healthz` |
//!
//! The witness's key file is `sigil_keyfile::note_key`.
//!
//! The wire format of the bodies is [`sigil_core::witness_protocol`], shared
//! with the log's witness client.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod log_list;
pub mod state;
pub mod witness;

pub use witness::{AddCheckpointError, Witness};
