//! The two objects of a log's bucket that are Sigil's own, not C2SP's
//! (`docs/object-storage.md`): the checkpoint record, the only object
//! swapped in place, and the staged batch each round writes before the
//! swap. Tiles, entry bundles and `checkpoint` are tlog-tiles' (see
//! [`crate::tile`]). Both parsers are fuzzed (`fuzz/fuzz_targets/bucket.rs`).

pub mod record;
pub mod staged;

pub use record::{Record, RecordError};
pub use staged::{StagedBatch, StagedError};
