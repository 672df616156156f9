//! Fuzzes the C2SP tlog-witness bodies: the `add-checkpoint` request parser
//! (every accepted request encodes back to the same bytes) and the `200` and
//! `409` response parsers (round trips too). No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::witness_protocol::{
    encode_add_checkpoint, format_cosignature_response, format_size_response, parse_add_checkpoint,
    parse_cosignature_response, parse_size_response,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = std::hint::black_box(parse_add_checkpoint(data)) {
        assert_eq!(
            encode_add_checkpoint(req.old_size, &req.proof, &req.note),
            data,
            "an accepted request must encode to its bytes"
        );
    }
    if let Ok(sigs) = std::hint::black_box(parse_cosignature_response(data)) {
        assert_eq!(format_cosignature_response(&sigs).as_bytes(), data);
    }
    if let Ok(size) = std::hint::black_box(parse_size_response(data)) {
        assert_eq!(format_size_response(size).as_bytes(), data);
    }
});
