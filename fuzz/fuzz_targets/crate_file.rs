//! Fuzzes the `.crate` reader (gzip, tar, paths, `Cargo.toml`): no panic,
//! bounded memory, and every accepted crate has a name and version that
//! pass the crates.io and SemVer rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::statement::{validate_crate_name, validate_version};
use sigil_client::crate_file::read_package_id;

fuzz_target!(|data: &[u8]| {
    if let Ok(id) = std::hint::black_box(read_package_id(data)) {
        assert!(validate_crate_name(&id.name).is_ok(), "accepted name {:?}", id.name);
        assert!(validate_version(&id.version).is_ok(), "accepted version {:?}", id.version);
    }
});
