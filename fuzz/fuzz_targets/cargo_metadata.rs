//! `cargo metadata`'s JSON as `verify-lock` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_client::cargo_metadata::registry_packages;

fuzz_target!(|data: &[u8]| {
    let _ = registry_packages(data);
});
