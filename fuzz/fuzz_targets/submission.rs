//! Fuzzes the log's `POST /api/v1/entries` body parser
//! (`log_api::parse_submission`): no input panics it, and every accepted
//! submission re-encodes (`encode_submission`) to a body that parses to the
//! same entry. Also feeds the bytes to the log's JSON response bodies and
//! the error body, which clients parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_core::api_error::ErrorBody;
use sigil_core::log_api::{
    ConsistencyProof, EntryInfo, InclusionProof, ReleaseList, RevocationStatus, Submitted,
    encode_submission, parse_submission,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::hint::black_box(parse_submission(data)) {
        let again = encode_submission(&body);
        assert_eq!(
            parse_submission(&again).ok().as_ref(),
            Some(&body),
            "an accepted submission must survive encode and parse"
        );
    }
    let _ = std::hint::black_box(serde_json::from_slice::<Submitted>(data));
    let _ = std::hint::black_box(serde_json::from_slice::<EntryInfo>(data));
    let _ = std::hint::black_box(serde_json::from_slice::<InclusionProof>(data));
    let _ = std::hint::black_box(serde_json::from_slice::<ConsistencyProof>(data));
    let _ = std::hint::black_box(serde_json::from_slice::<ReleaseList>(data));
    let _ = std::hint::black_box(serde_json::from_slice::<RevocationStatus>(data));
    let _ = std::hint::black_box(ErrorBody::parse(data));
});
