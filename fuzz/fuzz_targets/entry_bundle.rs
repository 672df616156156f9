//! Fuzzes the C2SP tlog-tiles entry bundle parser: no panic, and every
//! accepted bundle re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::tile;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = std::hint::black_box(tile::parse_bundle(data)) {
        let again = tile::encode_bundle(&entries);
        assert_eq!(again.as_deref().ok(), Some(data), "a parsed bundle must re-encode to its bytes");
    }
});
