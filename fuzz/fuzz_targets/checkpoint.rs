//! Fuzzes the C2SP tlog-checkpoint body parser: no panic, and every accepted
//! checkpoint formats back to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::checkpoint::Checkpoint;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cp) = std::hint::black_box(Checkpoint::parse(text)) {
        assert_eq!(cp.to_text(), text, "a parsed checkpoint must format to its text");
    }
});
