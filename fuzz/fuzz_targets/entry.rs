//! Fuzzes Sigil's log entry decoder: no panic, and the encoding is canonical
//! (every accepted input re-encodes to the same bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::entry::Entry;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = std::hint::black_box(Entry::decode(data)) {
        assert_eq!(entry.encode().ok().as_deref(), Some(data), "entry encoding must be canonical");
    }
});
