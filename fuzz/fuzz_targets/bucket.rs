//! Fuzzes the two objects of a log's bucket that are Sigil's own
//! (`sigil_core::bucket`): the checkpoint record (JSON) and the staged
//! batch (binary, length-prefixed). No input may panic; every accepted
//! input encodes back to itself (the staged batch) or to a record that
//! parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::bucket::{Record, staged};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = std::hint::black_box(Record::parse(data)) {
        assert_eq!(
            Record::parse(&record.encode()).ok(),
            Some(record),
            "a parsed record must survive its own encoding"
        );
    }
    if let Ok(batch) = std::hint::black_box(staged::decode(data)) {
        assert_eq!(
            staged::encode(&batch),
            data,
            "an accepted staged batch must encode to its bytes"
        );
    }
});
