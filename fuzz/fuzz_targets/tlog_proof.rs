//! Fuzzes the C2SP tlog-proof parser and verifier: no panic, and every
//! accepted proof file re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::checkpoint::CheckpointPolicy;
use sigil_core::note::Ed25519Signer;
use sigil_core::proof::{self, TlogProof};
use std::sync::OnceLock;

fn policy() -> &'static CheckpointPolicy {
    static P: OnceLock<CheckpointPolicy> = OnceLock::new();
    P.get_or_init(|| CheckpointPolicy {
        origin: "fuzz.example/log".to_string(),
        log: Box::new(Ed25519Signer::from_seed("fuzz.example/log", [7u8; 32])
                .expect("fixed, valid key name")
                .verifier()),
        witnesses: Vec::new(),
        quorum: 0,
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(p.encode(), data, "a parsed proof must re-encode to its bytes");
    }
    let _ = std::hint::black_box(proof::verify(data, policy()));
});
