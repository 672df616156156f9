//! Fuzzes the log's `POST /api/v1/lookup` body parser
//! (`log_api::parse_lookup`, `sigil_core::log_api::lookup`): no input
//! panics it, every accepted lookup is within the limits and re-encodes
//! (`encode_lookup`) to a body that parses to the same releases. Also
//! feeds the bytes to the answer's types and to the client's pairing of an
//! answer with a question (`sigil_client::lookup::match_answer`), which
//! read what a log sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_client::lookup::match_answer;
use sigil_core::log_api::{
    LookupAnswer, MAX_LOOKUP_RELEASES, ReleaseKey, ReleaseLookup, RevocationLookup,
    encode_lookup, parse_lookup,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(releases) = std::hint::black_box(parse_lookup(data)) {
        assert!(!releases.is_empty() && releases.len() <= MAX_LOOKUP_RELEASES);
        let again = encode_lookup(&releases);
        assert_eq!(
            parse_lookup(&again).ok().as_ref(),
            Some(&releases),
            "an accepted lookup must survive encode and parse"
        );
    }
    let _ = std::hint::black_box(serde_json::from_slice::<ReleaseLookup>(data));
    let _ = std::hint::black_box(serde_json::from_slice::<RevocationLookup>(data));
    if let Ok(answer) = serde_json::from_slice::<LookupAnswer>(data) {
        let asked = [
            ReleaseKey::new("serde", "1.0.0"),
            ReleaseKey::new("tokio", "1.0.0"),
        ];
        if let Ok(matched) = match_answer(&asked, answer) {
            for key in &asked {
                let _ = std::hint::black_box(matched.release(key));
            }
            let _ = std::hint::black_box(matched.revocation(&[0; 32]));
        }
    }
});
