//! Fuzzes certificate parsing and chain verification with untrusted DER.
//! The input is up to four certificates, each behind a 2-byte big-endian
//! length; the last one is taken as the trust root, the others as the chain
//! (leaf first). No input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_verifier::TrustedRoots;

fn split(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while out.len() < 4 && data.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let Some(item) = data.get(2..2 + len) else { break };
        out.push(item);
        data = &data[2 + len..];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let parts = split(data);
    for part in &parts {
        let _ = std::hint::black_box(sigil_verifier::x509::Certificate::parse(part));
    }
    let Some((root, chain)) = parts.split_last() else { return };
    let Ok(roots) = TrustedRoots::from_der(vec![root.to_vec()]) else { return };
    let chain: Vec<Vec<u8>> = chain.iter().map(|c| c.to_vec()).collect();
    let _ = std::hint::black_box(sigil_verifier::verify_chain(&chain, &roots, 1_767_225_600_000, None));
});
