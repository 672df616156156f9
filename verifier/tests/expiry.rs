//! `VerifiedSigner::path_not_after` and `expired_at`, which the log uses to
//! judge an entry again at its `integrated_at` (issue #11 item 10), agree
//! with path validation itself around the notAfter of whichever
//! certificate of the path expires first, to the millisecond.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DAY, NOW, intermediate_params, issued_ca, leaf_params, p256_key, pki, time};
use sigil_verifier::{VerifyError, expired_at, verify_chain};

/// Checks `chain` at times around `not_after_ms`: valid exactly when
/// `expired_at` says it has not expired.
fn agrees(chain: &[Vec<u8>], roots: &sigil_verifier::TrustedRoots, not_after_ms: u64) {
    for at in [
        not_after_ms - 1_001,
        not_after_ms - 1,
        not_after_ms,
        not_after_ms + 1,
        not_after_ms + 999,
        not_after_ms + 1_000,
        not_after_ms + 1_001,
    ] {
        let verdict = verify_chain(chain, roots, at, None);
        match (expired_at(not_after_ms, at), &verdict) {
            (false, Ok(_)) | (true, Err(VerifyError::Expired { .. })) => {}
            (expired, verdict) => {
                panic!("at {at}: expired_at says {expired}, the check {verdict:?}")
            }
        }
    }
}

#[test]
fn the_earliest_not_after_of_the_path_is_where_validation_stops() {
    let p = pki("Expiry");
    // The leaf expires first.
    let mut leaf = leaf_params("alice@example.com", &["hello"]);
    leaf.not_after = time(NOW + 3 * DAY);
    let chain = p.chain(&leaf, &p256_key());
    let signer = verify_chain(&chain, &p.roots, NOW, None).unwrap();
    assert_eq!(signer.path_not_after(), (NOW + 3 * DAY, None));
    agrees(&chain, &p.roots, NOW + 3 * DAY);

    // The intermediate expires before the leaf it issued.
    let mut short = intermediate_params("Short Intermediate");
    short.not_after = time(NOW + 2 * DAY);
    let inter = issued_ca(&p.root, short, p256_key());
    let mut leaf = leaf_params("alice@example.com", &["hello"]);
    leaf.not_after = time(NOW + 5 * DAY);
    let chain = vec![inter.sign(&leaf, &p256_key()), inter.der.clone()];
    let signer = verify_chain(&chain, &p.roots, NOW, None).unwrap();
    assert_eq!(signer.issuer_not_after_ms, [NOW + 2 * DAY]);
    assert_eq!(signer.path_not_after(), (NOW + 2 * DAY, Some(0)));
    agrees(&chain, &p.roots, NOW + 2 * DAY);
}
