//! `verify_release`: a real signed release, logged and proved, verifies
//! offline; each way it can be wrong is refused with its machine code and
//! a one-line message; nothing panics on mutated proofs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod release_log;

use common::{DAY, NOW, time};
use proptest::prelude::*;
use release_log::Fixture;
use sigil_core::entry::{CertificateEntry, Entry, EntryBody};
use sigil_core::proof::TlogProof;
use sigil_verifier::{ReleaseCheckError, RevocationSet, verify_release};

const CRATE: &[u8] = b"pretend this is a gzipped tarball of serde 1.0.0";

/// The good release: `serde` 1.0.0 at index 5 of 9, cosigned by one witness.
fn good(f: &Fixture) -> Vec<u8> {
    let entry = f.entry("serde", "1.0.0", CRATE, NOW);
    f.proof(&entry, 5, 9, 1)
}

fn check(
    f: &Fixture,
    crate_bytes: &[u8],
    proof: &[u8],
    quorum: usize,
    revocations: &RevocationSet,
    expected: Option<(&str, &str)>,
) -> Result<sigil_verifier::VerifiedRelease, ReleaseCheckError> {
    verify_release(
        crate_bytes,
        proof,
        &f.policy(quorum),
        &f.pki.roots,
        revocations,
        expected,
        None,
    )
}

/// Refused with `code`, on one line.
fn refused(
    result: Result<sigil_verifier::VerifiedRelease, ReleaseCheckError>,
    code: &str,
) -> String {
    let err = result.expect_err(code);
    assert_eq!(err.code(), code, "{err}");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn a_good_release_verifies() {
    let f = Fixture::new(&["serde"]);
    let proof = good(&f);
    let v = check(
        &f,
        CRATE,
        &proof,
        1,
        RevocationSet::empty(),
        Some(("serde", "1.0.0")),
    )
    .unwrap();
    assert_eq!(
        (v.crate_name.as_str(), v.version.as_str()),
        ("serde", "1.0.0")
    );
    assert_eq!(v.index, 5);
    assert_eq!(v.integrated_at, NOW);
    assert_eq!(v.identities(), ["alice@example.com"]);
    assert_eq!(
        v.sha256.as_slice(),
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, CRATE).as_ref()
    );
    assert_eq!(v.checkpoint.checkpoint.size, 9);
    assert_eq!(v.checkpoint.cosigners.len(), 1);
    let parsed = TlogProof::parse(&proof).unwrap();
    assert_eq!(v.checkpoint.note, parsed.checkpoint);
    // Without expectations, and with quorum 0.
    check(&f, CRATE, &proof, 0, RevocationSet::empty(), None).unwrap();
    // Every index of a small log.
    for size in 1..=6u64 {
        for index in 0..size {
            let entry = f.entry("serde", "1.0.0", CRATE, NOW);
            let proof = f.proof(&entry, index, size, 0);
            check(&f, CRATE, &proof, 0, RevocationSet::empty(), None).unwrap();
        }
    }
}

#[test]
fn tampered_crate_bytes() {
    let f = Fixture::new(&["serde"]);
    let mut tampered = CRATE.to_vec();
    tampered[3] ^= 1;
    let msg = refused(
        check(&f, &tampered, &good(&f), 1, RevocationSet::empty(), None),
        "digest_mismatch",
    );
    assert!(msg.contains("serde 1.0.0"), "{msg}");
    assert!(msg.contains("modified after signing"), "{msg}");
    assert!(msg.contains(&hex::encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, CRATE).as_ref()
    )));
    refused(
        check(&f, b"", &good(&f), 1, RevocationSet::empty(), None),
        "digest_mismatch",
    );
}

#[test]
fn tampered_proof_hash() {
    let f = Fixture::new(&["serde"]);
    let mut p = TlogProof::parse(&good(&f)).unwrap();
    for i in 0..p.hashes.len() {
        let mut q = p.clone();
        q.hashes[i][31] ^= 1;
        refused(
            check(&f, CRATE, &q.encode(), 1, RevocationSet::empty(), None),
            "bad_proof",
        );
    }
    // A wrong index, a missing or extra hash.
    let mut q = p.clone();
    q.index = 4;
    refused(
        check(&f, CRATE, &q.encode(), 1, RevocationSet::empty(), None),
        "bad_proof",
    );
    p.hashes.pop();
    refused(
        check(&f, CRATE, &p.encode(), 1, RevocationSet::empty(), None),
        "bad_proof",
    );
    // Not a proof at all; no entry in it.
    refused(
        check(&f, CRATE, b"hello", 1, RevocationSet::empty(), None),
        "bad_proof",
    );
    let mut q = TlogProof::parse(&good(&f)).unwrap();
    q.extra = None;
    refused(
        check(&f, CRATE, &q.encode(), 1, RevocationSet::empty(), None),
        "bad_proof",
    );
}

#[test]
fn tampered_checkpoint_signature() {
    let f = Fixture::new(&["serde"]);
    let mut p = TlogProof::parse(&good(&f)).unwrap();
    let text = String::from_utf8(p.checkpoint.clone()).unwrap();
    // The log's signature line is the first after the blank line; change
    // one base64 character of its signature ('A' <-> 'B' keeps the
    // encoding canonical unless it is the last character).
    let sig_line = text.split('\n').nth(4).unwrap();
    let pos = text.find(sig_line).unwrap() + sig_line.len() - 10;
    let mut bytes = p.checkpoint.clone();
    bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
    p.checkpoint = bytes;
    let msg = refused(
        check(&f, CRATE, &p.encode(), 1, RevocationSet::empty(), None),
        "bad_checkpoint",
    );
    assert!(msg.contains("not trusted"), "{msg}");

    // A checkpoint of another log (another key, same origin).
    let mut other = Fixture::new(&["serde"]);
    other.log = sigil_core::note::Ed25519Signer::from_seed(release_log::ORIGIN, [9; 32]).unwrap();
    let foreign = other.proof(&f.entry("serde", "1.0.0", CRATE, NOW), 5, 9, 1);
    refused(
        check(&f, CRATE, &foreign, 1, RevocationSet::empty(), None),
        "bad_checkpoint",
    );
}

#[test]
fn tampered_entry() {
    let f = Fixture::new(&["serde"]);
    let mut p = TlogProof::parse(&good(&f)).unwrap();
    let mut entry = Entry::decode(p.extra.as_ref().unwrap()).unwrap();
    entry.integrated_at -= DAY;
    p.extra = Some(entry.encode().unwrap());
    refused(
        check(&f, CRATE, &p.encode(), 1, RevocationSet::empty(), None),
        "bad_proof",
    );

    // A logged entry that does not decode, or is not a release.
    for (extra, code) in [
        (b"\x09 not an entry".to_vec(), "bad_entry"),
        (
            Entry {
                integrated_at: NOW,
                body: EntryBody::Certificate(CertificateEntry {
                    chain: f.chain.clone(),
                }),
            }
            .encode()
            .unwrap(),
            "not_a_release",
        ),
    ] {
        let proof = f.proof(&extra, 2, 4, 1);
        refused(
            check(&f, CRATE, &proof, 1, RevocationSet::empty(), None),
            code,
        );
    }
}

#[test]
fn wrong_name_or_version() {
    let f = Fixture::new(&["serde"]);
    for expected in [
        ("serde", "1.0.1"),
        ("serde_json", "1.0.0"),
        ("Serde", "1.0.0"),
    ] {
        let msg = refused(
            check(
                &f,
                CRATE,
                &good(&f),
                1,
                RevocationSet::empty(),
                Some(expected),
            ),
            "wrong_crate",
        );
        assert!(msg.contains("is for serde 1.0.0, not"), "{msg}");
    }
}

#[test]
fn out_of_scope_signer() {
    let f = Fixture::new(&["serde_json", "serde_derive"]);
    let msg = refused(
        check(&f, CRATE, &good(&f), 1, RevocationSet::empty(), None),
        "out_of_scope",
    );
    assert!(
        msg.starts_with("serde 1.0.0: signer 0: alice@example.com may sign"),
        "{msg}"
    );
}

#[test]
fn certificates_are_judged_at_integration_time() {
    // The leaf is valid NOW - DAY .. NOW + DAY.
    let f = Fixture::new(&["serde"]);
    let late = f.proof(&f.entry("serde", "1.0.0", CRATE, NOW + 2 * DAY), 5, 9, 1);
    refused(
        check(&f, CRATE, &late, 1, RevocationSet::empty(), None),
        "expired",
    );
    let early = f.proof(&f.entry("serde", "1.0.0", CRATE, NOW - 2 * DAY), 5, 9, 1);
    refused(
        check(&f, CRATE, &early, 1, RevocationSet::empty(), None),
        "not_yet_valid",
    );
    // A short-lived certificate that expired long ago still vouches for
    // what the log integrated while it was valid: no clock is read.
    let f = Fixture::with_leaf(
        |p| {
            p.not_before = time(NOW - 300 * DAY);
            p.not_after = time(NOW - 299 * DAY);
        },
        &["serde"],
    );
    let old = f.proof(
        &f.entry("serde", "1.0.0", CRATE, NOW - 299 * DAY - 1000),
        5,
        9,
        1,
    );
    check(&f, CRATE, &old, 1, RevocationSet::empty(), None).unwrap();
}

#[test]
fn revocation_counts_from_its_index() {
    let f = Fixture::new(&["serde"]);
    let proof = good(&f);
    let v = check(&f, CRATE, &proof, 1, RevocationSet::empty(), None).unwrap();
    let leaf = v.signers[0].certificate_id;
    let intermediate = v.signers[0].issuer_ids[0];
    for id in [leaf, intermediate] {
        // Revoked from the release's index or before: refused.
        for from in [0, 5] {
            let revoked: RevocationSet = [(id, from)].into_iter().collect();
            let msg = refused(check(&f, CRATE, &proof, 1, &revoked, None), "revoked");
            assert!(msg.contains("revoked from log index"), "{msg}");
        }
        // Revoked only from a later index: the release stays valid.
        let later: RevocationSet = [(id, 6)].into_iter().collect();
        check(&f, CRATE, &proof, 1, &later, None).unwrap();
    }
}

#[test]
fn witness_quorum() {
    let f = Fixture::new(&["serde"]);
    let entry = f.entry("serde", "1.0.0", CRATE, NOW);
    for cosigners in 0..=3usize {
        let proof = f.proof(&entry, 5, 9, cosigners);
        for quorum in 0..=3usize {
            let result = check(&f, CRATE, &proof, quorum, RevocationSet::empty(), None);
            if cosigners >= quorum {
                result.unwrap();
            } else {
                let msg = refused(result, "bad_checkpoint");
                assert!(msg.contains("witness cosignatures"), "{msg}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any change to the proof file is refused or leaves the same verified
    /// release; nothing panics.
    #[test]
    fn mutated_proofs_never_pass_as_something_else(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let f = Fixture::new(&["serde"]);
        let original = good(&f);
        let mut proof = original.clone();
        for (i, b) in flips {
            let i = i.index(proof.len());
            proof[i] = b;
        }
        if let Ok(v) = check(&f, CRATE, &proof, 1, RevocationSet::empty(), None) {
            prop_assert_eq!(v.index, 5);
            prop_assert_eq!(&v.crate_name, "serde");
        }
        let _ = check(&f, &proof, &original, 1, RevocationSet::empty(), None);
    }
}
