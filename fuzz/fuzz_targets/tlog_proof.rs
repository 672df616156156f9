//! Fuzzes the C2SP tlog-proof parser and verifier: no panic, and every
//! accepted proof file re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::checkpoint::CheckpointPolicy;
use sigil_core::note;
use sigil_core::proof::{self, TlogProof};
use std::sync::OnceLock;

const DOCS_LOG_VKEY: &str = "example.com/sigil+16c61d46+AZiCMTdemVvhBXK+/SIILrOeIelqLBnhVE2kJS5Ywf83";

fn policy() -> &'static CheckpointPolicy {
    static P: OnceLock<CheckpointPolicy> = OnceLock::new();
    P.get_or_init(|| CheckpointPolicy {
        // The example log of docs/formats.md §3.3: the seed
        // `seeds/tlog_proof/docs-example.tlog-proof` verifies in full.
        origin: "example.com/sigil".to_string(),
        log: note::parse_verifier_key(DOCS_LOG_VKEY).expect("valid example key"),
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
