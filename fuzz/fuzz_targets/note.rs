//! Fuzzes the C2SP signed-note parser and `note::open` against the trusted
//! Ed25519 example key of docs/formats.md: neither may panic, and every note
//! that parses re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::note::{self, Verifiers};
use std::sync::OnceLock;

const DOCS_LOG_VKEY: &str = "example.com/sigil+16c61d46+AZiCMTdemVvhBXK+/SIILrOeIelqLBnhVE2kJS5Ywf83";

fn verifiers() -> &'static Verifiers {
    static V: OnceLock<Verifiers> = OnceLock::new();
    V.get_or_init(|| {
        // The example log key of docs/formats.md §3.3, so that the seed
        // `seeds/note/docs-checkpoint.note` verifies and mutations of it
        // reach the signature checks.
        let key = note::parse_verifier_key(DOCS_LOG_VKEY).expect("valid example key");
        Verifiers::new(vec![key])
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = note::Note::parse(data) {
        assert_eq!(parsed.to_bytes(), data, "a parsed note must re-encode to its bytes");
    }
    let _ = std::hint::black_box(note::open(data, verifiers()));
});
