//! Fuzzes the enrollment request check (`sigil_ca::csr::check_csr`, RFC
//! 2986) with untrusted PEM or DER: no panic, and every accepted request
//! yields a P-256 SubjectPublicKeyInfo that appears byte for byte in the
//! request and that `p256_public_key_point` accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_ca::csr::check_csr;
use sigil_core::statement::p256_public_key_point;

fuzz_target!(|data: &[u8]| {
    let Ok(checked) = std::hint::black_box(check_csr(data)) else { return };
    let spki = checked.spki_der();
    assert!(p256_public_key_point(spki).is_ok(), "accepted key must be P-256");
    if !data.trim_ascii_start().starts_with(b"-----BEGIN ") {
        assert!(data.windows(spki.len()).any(|w| w == spki), "SPKI must come from the DER");
    }
});
