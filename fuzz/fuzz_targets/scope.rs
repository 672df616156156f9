//! Fuzzes the decoder of Sigil's crate-scope certificate extension: no
//! panic, and every accepted value re-encodes to the same DER.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::certificate::{decode_scope, encode_scope};

fuzz_target!(|data: &[u8]| {
    if let Ok(crates) = std::hint::black_box(decode_scope(data)) {
        assert_eq!(encode_scope(&crates).ok().as_deref(), Some(data), "scope DER must be canonical");
    }
});
