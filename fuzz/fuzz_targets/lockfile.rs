//! Fuzzes the `Cargo.lock` parser: no panic, and an accepted lockfile
//! lists no (name, version, source) twice.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use sigil_client::lockfile::parse_lockfile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(packages) = std::hint::black_box(parse_lockfile(text)) {
        let mut seen = HashSet::new();
        for p in &packages {
            assert!(seen.insert((&p.name, &p.version, &p.source)), "duplicate {p:?}");
        }
    }
});
