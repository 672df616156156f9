//! Fuzzes the C2SP tlog-tiles path parser: no panic, and every accepted path
//! is canonical (formats back to the same string).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::tile::Tile;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tile) = std::hint::black_box(Tile::parse_path(path)) {
        assert_eq!(
            tile.path(),
            path.strip_prefix('/').unwrap_or(path),
            "an accepted tile path must be canonical"
        );
    }
});
