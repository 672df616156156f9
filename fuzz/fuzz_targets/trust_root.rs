//! Fuzzes the trust root parser (`docs/formats.md` §4,
//! `sigil_core::trust_root`): no panic, every accepted file yields a
//! policy, and its canonical text parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::trust_root::TrustRoot;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = TrustRoot::parse(data) {
        assert!(root.policy().is_ok(), "an accepted trust root must give a policy");
        let again = TrustRoot::parse(root.to_json().as_bytes());
        assert_eq!(again.as_ref(), Ok(&root), "canonical text must parse back");
        let _ = std::hint::black_box(sigil_verifier::TrustedRoots::from_trust_root(&root));
    }
});
