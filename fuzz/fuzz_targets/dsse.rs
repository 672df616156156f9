//! Fuzzes the DSSE envelope JSON parser and the in-toto statement parser: no
//! panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::statement::{self, Envelope};

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = std::hint::black_box(Envelope::from_json(data)) {
        let _ = std::hint::black_box(env.release());
        let _ = std::hint::black_box(statement::pae(&env.payload_type, &env.payload));
    }
    let _ = std::hint::black_box(statement::parse_statement(data));
});
