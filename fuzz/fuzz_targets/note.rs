//! Fuzzes the C2SP signed-note parser and `note::open` against a trusted
//! Ed25519 key: neither may panic, and every note that parses re-encodes to
//! the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::note::{self, Ed25519Signer, Verifiers};
use std::sync::OnceLock;

fn verifiers() -> &'static Verifiers {
    static V: OnceLock<Verifiers> = OnceLock::new();
    V.get_or_init(|| {
        let signer = Ed25519Signer::from_seed("fuzz.example/log", [7u8; 32]).expect("fixed, valid key name");
        Verifiers::new(vec![Box::new(signer.verifier())])
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = note::Note::parse(data) {
        assert_eq!(parsed.to_bytes(), data, "a parsed note must re-encode to its bytes");
    }
    let _ = std::hint::black_box(note::open(data, verifiers()));
});
