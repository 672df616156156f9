//! The checkpoint record: the one object of a log's bucket that changes in
//! place, by compare-and-swap on its ETag, and the only state the log
//! trusts (`docs/object-storage.md`, "One trusted record";
//! `sigil_log::storage::object`).
//!
//! It holds the latest signed checkpoint, the key of the staged batch that
//! produced it, and the sequencer's lease. A JSON object, so an operator
//! can read it with `curl`:
//!
//! ```json
//! {"format":"sigil-log-record/v1","origin":"…","size":12,
//!  "checkpoint":"<base64 of the signed note>","staged":".sigil/staging/…",
//!  "holder":"host-1234-…","lease_ms":10000,"serial":41}
//! ```
//!
//! `serial` grows by one with every swap, a renewal of the lease included:
//! a standby that sees it unchanged for `lease_ms` (on its own monotonic
//! clock, so clock skew between machines does not matter) takes over.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The value of the `format` field.
pub const FORMAT: &str = "sigil-log-record/v1";

/// The largest record accepted: a checkpoint note with cosignatures is a
/// few KiB.
pub const MAX_RECORD: usize = 64 * 1024;

/// The checkpoint record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The log's origin (the first line of its checkpoints).
    pub origin: String,
    /// Tree size of `checkpoint`.
    pub size: u64,
    /// The signed checkpoint note for `size` (without cosignatures).
    pub checkpoint: Vec<u8>,
    /// Key of the staged batch that produced `checkpoint`.
    pub staged: String,
    /// Who holds the lease: the sequencer that may swap the record.
    pub holder: String,
    /// How long the lease lasts after each swap, in ms.
    pub lease_ms: u64,
    /// Grows by one with every swap.
    pub serial: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: String,
    origin: String,
    size: u64,
    checkpoint: String,
    staged: String,
    holder: String,
    lease_ms: u64,
    serial: u64,
}

/// Why stored bytes are not a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Larger than [`MAX_RECORD`].
    #[error("{0} bytes, more than the {MAX_RECORD} a record may have")]
    TooLarge(usize),
    /// Not the JSON object of the format.
    #[error("not a record: {0}")]
    Json(String),
    /// Another format.
    #[error("format {0:?}, this build reads {FORMAT:?}")]
    Format(String),
    /// The checkpoint is not base64, or empty.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

impl Record {
    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let wire = Wire {
            format: FORMAT.to_owned(),
            origin: self.origin.clone(),
            size: self.size,
            checkpoint: STANDARD.encode(&self.checkpoint),
            staged: self.staged.clone(),
            holder: self.holder.clone(),
            lease_ms: self.lease_ms,
            serial: self.serial,
        };
        // A struct of strings and integers always serializes.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Parses stored bytes.
    ///
    /// # Errors
    ///
    /// [`RecordError`].
    pub fn parse(bytes: &[u8]) -> Result<Record, RecordError> {
        if bytes.len() > MAX_RECORD {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| RecordError::Json(e.to_string()))?;
        if wire.format != FORMAT {
            return Err(RecordError::Format(wire.format));
        }
        let checkpoint = STANDARD
            .decode(&wire.checkpoint)
            .map_err(|e| RecordError::Checkpoint(e.to_string()))?;
        if checkpoint.is_empty() {
            return Err(RecordError::Checkpoint("empty".into()));
        }
        Ok(Record {
            origin: wire.origin,
            size: wire.size,
            checkpoint,
            staged: wire.staged,
            holder: wire.holder,
            lease_ms: wire.lease_ms,
            serial: wire.serial,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn record() -> Record {
        Record {
            origin: "example.com/log".into(),
            size: 7,
            checkpoint: b"example.com/log\n7\nroot\n\n- sig\n".to_vec(),
            staged: ".sigil/staging/7-ab".into(),
            holder: "a".into(),
            lease_ms: 10_000,
            serial: 3,
        }
    }

    #[test]
    fn round_trip() {
        let r = record();
        assert_eq!(Record::parse(&r.encode()).unwrap(), r);
    }

    #[test]
    fn malformed_records_are_errors() {
        let good = String::from_utf8(record().encode()).unwrap();
        for bad in [
            String::new(),
            "{}".into(),
            "null".into(),
            good.replace(FORMAT, "sigil-log-record/v2"),
            good.replace("\"serial\":3", "\"serial\":-3"),
            good.replace("\"serial\":3", "\"serial\":3,\"extra\":1"),
            good.replace(&STANDARD.encode(&record().checkpoint), "!!"),
            good.replace(&STANDARD.encode(&record().checkpoint), ""),
            good[..good.len() - 1].to_owned(),
        ] {
            assert!(Record::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(matches!(
            Record::parse(&vec![b' '; MAX_RECORD + 1]),
            Err(RecordError::TooLarge(_))
        ));
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Record::parse(&bytes);
        }

        #[test]
        fn any_record_round_trips(size in any::<u64>(), serial in any::<u64>(), lease in any::<u64>(),
                                  checkpoint in proptest::collection::vec(any::<u8>(), 1..256),
                                  holder in ".*", origin in ".*") {
            let r = Record { origin, size, checkpoint, staged: "k".into(), holder, lease_ms: lease, serial };
            prop_assert_eq!(Record::parse(&r.encode()).unwrap(), r);
        }
    }
}
